/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

/* The console contract: the outcome of a run is written to /var/lib/rackstack/status.json (under
 * --root, atomically) as
 *         {"state": "finished"|"failed", "step": …, "reason": …, "steps": [{"step", "state", "reason"}]}
 * and the last line on the console is "rackstack-firstboot: finished" or
 * "rackstack-firstboot: FAILED at <step>: <reason>". */

#define STATUS_PATH "var/lib/rackstack/status.json"

struct status_step {
        char *step;
        char *state; /* "done", "skipped", "failed" */
        char *reason;
};

struct status_attachment {
        char *key;
        char *json; /* a complete JSON value */
};

struct status {
        struct status_step *steps;
        size_t n;
        struct status_attachment *attachments; /* extra top-level keys of status.json, e.g. "network" */
        size_t n_attachments;
        char *failed_step; /* set by status_fail() */
        char *reason;
};

int status_step(struct status *s, const char *step, const char *state, const char *reason);
/* Record the failure (the first one wins). */
int status_fail(struct status *s, const char *step, const char *reason);
/* Put a structured result (a complete JSON value, e.g. from net_result_to_json) into status.json
 * under key; a second attach of the same key replaces the first. */
int status_attach(struct status *s, const char *key, const char *raw_json);
/* Write status.json under dirfd and print the console line to stdout. */
int status_finish(struct status *s, int dirfd);
void status_done(struct status *s);
