/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "options.h"
#include "role-profile.h"
#include "status.h"

/* The verbs: 0 success, 1 failure, 2 bad usage or input. */
int verb_plan(const struct options *o);
int verb_storage(const struct options *o);

/* The storage step: plan, refuse or apply, read back. Records into st; the caller finishes it. */
int storage_step(const struct options *o, struct status *st);

/* Asks a person to confirm that the listed disks ("/dev/sdb for 'backups': carries ext4 …") may be
 * wiped: 0 confirmed, negative errno (with *ret_reason) otherwise. */
typedef int (*storage_confirm_t)(char **wipe, void *userdata, char **ret_reason);
/* storage_step, but when the plan is refused only because disks carry data the answers do not name
 * for clearing, confirm() is asked about exactly those disks; on confirmation they are cleared as if
 * clearpart --drives named them. confirm NULL: as storage_step. */
int storage_step_confirm(const struct options *o, struct status *st, storage_confirm_t confirm, void *userdata);
/* Write status.json under o->root and print the console line. */
int options_finish(const struct options *o, struct status *st);
