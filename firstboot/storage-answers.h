/* SPDX-License-Identifier: MIT */
#pragma once

#include "disk-plan.h"
#include "kickstart.h"

/* The adapter from a parsed kickstart (common/kickstart.h) to the planner's narrow answers:
 * ignoredisk, clearpart --all/--drives, %addon disk aliases and part --ondisk pins. Fills *ret
 * (which the caller frees with storage_answers_done()) only on success. */
int storage_answers_from_ks(const struct ks *ks, struct storage_answers *ret);
