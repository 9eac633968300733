/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "kickstart.h"
#include "profile.h"
#include "status.h"
#include "options.h"

/* What the steps of a first-boot run share. The answers step fills ks_path/ks; the image's
 * profile and site are loaded before the first step (NULL when the image has none, as in tests
 * that pass --role). */
struct run_ctx {
        const struct options *o;   /* the command line */
        const char *root;          /* "/" on a real boot */
        int root_fd;
        char *ks_path;             /* this boot's answers file, or NULL */
        char *ks_origin;           /* where it came from, for humans */
        struct ks *ks;             /* parsed ks_path, or NULL */
        struct profile *profile;   /* ROOT/usr/share/rackstack/profile.yaml, or NULL */
        struct site *site;         /* ROOT/usr/share/rackstack/site.yaml, or NULL */
        const struct host_spec *host; /* this host in the site: the kickstart's --hostname, else the role's */
        struct status *status;
        bool dry_run;
};

/* A step returns 0 (done), RUN_SKIPPED (it recorded why with status_step(..., "skipped", reason)),
 * or a negative errno after recording the failure with status_fail(c->status, name, reason). The
 * run stops at the first failure; the journal lets a rerun resume. */
#define RUN_SKIPPED 1

struct run_step {
        const char *name;
        int (*run)(struct run_ctx *c);
};

/* The whole run as `rackstack-firstboot run` does it; returns the exit status (0 or 1). */
int run_firstboot(const struct options *o);
