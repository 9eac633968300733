/* SPDX-License-Identifier: MIT */
#pragma once

#include "run.h"

/* The steps of a first-boot run, in the order firstboot/run.c runs them. */
int step_answers(struct run_ctx *c);
int step_storage(struct run_ctx *c);
int step_network(struct run_ctx *c);
