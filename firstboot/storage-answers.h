/* SPDX-License-Identifier: MIT */
#pragma once

#include "disk-plan.h"
#include "kickstart.h"

/* The adapter from a parsed kickstart (common/kickstart.h) to the planner's narrow answers:
 * ignoredisk, clearpart --all/--drives, %addon disk aliases and part --ondisk pins. Fills *ret
 * (which the caller frees with storage_answers_done()) only on success. */
int storage_answers_from_ks(const struct ks *ks, struct storage_answers *ret);

/* The command line narrows or overrides the kickstart: only_use replaces ignoredisk --only-use,
 * clear replaces clearpart --drives, clear_all sets clearpart --all; each records the option as
 * where the answer came from. */
int storage_answers_override(struct storage_answers *a, char **only_use, const char *only_use_origin, char **clear,
                             bool clear_all, const char *clear_origin);

struct diags;
/* Refine the role's partitions from the kickstart's part lines (label, options, fs type), matched
 * by mount point; -EINVAL (with diagnostics) for a mount point the role does not lay out. */
int storage_apply_ks_parts(const struct ks *ks, struct disk_spec *specs, size_t n_specs, struct diags *d);
