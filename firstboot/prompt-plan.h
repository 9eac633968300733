/* SPDX-License-Identifier: MIT */
#pragma once

#include "password.h" /* password_hash(), which the prompt uses */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "answer-set.h"
#include "nic.h"
#include "profile.h"

/* The console prompt as a pure plan: which answers are still missing after the kickstart, the site
 * and the role, in what order to ask, with which default and which validator. The I/O loop (prompt.c)
 * only shows a question, reads a line, and hands it to prompt_check(); everything it decides is here
 * and unit-tested. The validators are the kickstart path's (common/parse.h, the site's subnets, the
 * NICs sysfs shows), so a value refused in a kickstart is refused at the prompt, with the reason. */

enum question_kind {
        QUESTION_TEXT,    /* echoed; Enter takes the default */
        QUESTION_SECRET,  /* not echoed, asked twice; Enter takes the default */
        QUESTION_CONFIRM, /* the exact word must be typed; there is no default */
};

struct question {
        char *key;     /* the answer it fills: "hostname", "vlan.20.address", ... */
        char *text;    /* "Host name and domain" */
        char *def;     /* shown in brackets and taken on Enter; NULL = none (an answer is needed) */
        char *help;    /* shown once above the question (the NIC table, the disks to wipe); NULL = none */
        enum question_kind kind;
        char *word;    /* QUESTION_CONFIRM: what to type ("wipe") */
        uint16_t vlan; /* vlan.* questions */
};

struct prompt_input {
        const struct answer_set *known; /* answers_collect()'s result */
        const struct profile *profile;  /* the image's role and VLANs */
        const struct site *site;        /* subnets for the address checks */
        const struct nic_list *nics;    /* for the bond question */
        char **wipe;                    /* devices the disk plan would wipe ("/dev/sdb: ext4 data"), or NULL */
        bool all;                       /* ask every question, not only the missing ones */
        bool host_asked;                /* the host was asked already (prompt_plan_host): not again */
};

struct prompt_plan {
        struct question *q;
        size_t n;
};

/* Build the list. Missing means no source gave a value; disk wiping always needs the word typed; the
 * role is confirmed whenever anything is asked. An empty plan means there is nothing to ask. */
int prompt_plan_build(const struct prompt_input *in, struct prompt_plan *ret);
void prompt_plan_done(struct prompt_plan *p);

/* The first question on its own, when no source names the host: which host this is decides which
 * of the site's values apply, so it is asked before the rest is planned (answers_collect() again
 * with it, then prompt_plan_build() with host_asked). No default (a guess could make a second
 * lab-db1); the help lists the site's hosts of the image's role. An empty plan when the host is
 * known. */
int prompt_plan_host(const struct prompt_input *in, struct prompt_plan *ret);

/* Check a typed line (without its newline) against q. "" takes q->def. Returns 0 with *ret_value
 * (normalised: "10.0.50.12/24", "enp1s0,enp2s0", ...), or -EINVAL with *ret_reason saying why, or
 * -ENOMEM. For QUESTION_SECRET the value is the plain text (the loop hashes it); "" with no default
 * means "lock the account". */
int prompt_check(const struct prompt_input *in, const struct question *q, const char *typed, char **ret_value,
                 char **ret_reason);

/* A NIC table for the bond question: name, MAC, driver, carrier, speed. */
char *prompt_nic_table(const struct nic_list *nics);
/* The NICs the plan would take by default: the two fastest with carrier (ties by name), as a list. */
char *prompt_default_members(const struct nic_list *nics, unsigned count);

