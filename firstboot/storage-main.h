/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "status.h"

#define IMAGE_PROFILE "/usr/share/rackstack/profile.yaml"

/* Options every verb understands; a verb uses what it needs. */
struct options {
        const char *root;
        const char *role;
        const char *profile;
        const char *ks;
        const char *sysfs;
        bool json;
        bool no_mount;
        bool clear_all;
        bool dry_run;
        char **only_use;
        char **clear;
};

void options_done(struct options *o);

/* The verbs: 0 success, 1 failure, 2 bad usage or input. */
int verb_plan(const struct options *o);
int verb_storage(const struct options *o);

/* The storage step: plan, refuse or apply, read back. Records into st; the caller finishes it. */
int storage_step(const struct options *o, struct status *st);
/* Write status.json under o->root and print the console line. */
int options_finish(const struct options *o, struct status *st);
