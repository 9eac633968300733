/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

struct status;

/* What the network step works from and what it does: the verb's options, and the run's. */
struct net_step_options {
        const char *root;         /* to persist under, and where the image's profile and site are */
        const char *sysfs;        /* to discover NICs in */
        const char *profile_path; /* NULL: ROOT/usr/share/rackstack/profile.yaml */
        const char *profiles_dir; /* load the role from here instead (with role, or the kickstart's) */
        const char *role;
        const char *site_path;    /* NULL: ROOT/usr/share/rackstack/site.yaml, or PROFILES/site.yaml */
        const char *hostname;     /* NULL: the site's host of the role */
        const char *ks_path;      /* the kickstart whose network lines are the answers; NULL for none */
        bool apply;               /* bring it up, verify, persist; else print the plan */
        bool as_json;
        bool verify;              /* carrier, LACP and gateway checks */
        bool persist;             /* write netplan and resolv.conf */
        int vm;                   /* 1 a VM, 0 not, -1 ask /proc/cpuinfo */
};
#define NET_STEP_OPTIONS_DEFAULT                                                                             \
        ((struct net_step_options) { .root = "/", .sysfs = "/sys", .verify = true, .persist = true, .vm = -1 })

/* The network step: plan, and with apply bring the plan up, verify it, and persist it. With apply
 * the live result (links, members, addresses, routes, checks; also when it failed) is attached to
 * st as "network" for status.json (st may be NULL). Returns 0, -EINVAL for bad input, or another
 * -errno; on failure *ret_reason (when not NULL) is why, in one line, as logged. */
int network_step(const struct net_step_options *o, struct status *st, char **ret_reason);

/* `rackstack-firstboot network [--plan] [--json] [--apply] [--root DIR] [--sysfs DIR] ...`
 * Returns the exit status: 0 ok, 1 failure, 2 bad usage or bad input. */
int verb_network(int argc, char **argv);
