/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* Options every verb understands; a verb uses what it needs. */
struct options {
        const char *root;
        const char *role;
        const char *profile;
        const char *profiles; /* with role: the profiles directory (default DEFAULT_PROFILES) */
        const char *ks;
        const char *sysfs;
        bool json;
        bool install;       /* plan: as `install` would (the OS disk is chosen to receive the image) */
        bool no_mount;
        bool clear_all;
        bool dry_run;
        bool confirm_wipe;  /* storage: offer at the console to wipe disks the answers did not name */
        char **only_use;
        char **clear;
};

/* Frees the lists (the strings are argv's). */
void options_done(struct options *o);
