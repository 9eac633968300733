/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "secret.h"

/* The console contract: the outcome of a run is written to /var/lib/rackstack/status.json (under
 * --root, atomically) as
 *         {"state": "finished"|"failed", "step": …, "reason": …, "steps": [{"step", "state", "reason"}],
 *          "events": [ … ], <attachments> }
 * and the last line on the console is "rackstack-firstboot: finished" or
 * "rackstack-firstboot: FAILED at <step>: <reason>". While a run goes on (status_set_root() was
 * called), the file is rewritten after every event with "state": "running".
 *
 * Events, in the manner of curtin's reporting events: every step has a "start" and a "finish"
 * (status_step() and status_fail() emit the finish; status_start() the start), names nest with
 * '/' ("join/time"), and the whole run is the event "rackstack-firstboot" whose finish carries
 * the outcome. One event is one compact JSON object:
 *         {"origin": "rackstack-firstboot", "event_type": "start"|"finish", "name": "join/time",
 *          "description": "…", "timestamp": 1764170000.123, "seq": 7, "host": "lab-db1.domain.com",
 *          "result": "SUCCESS"|"SKIPPED"|"FAIL"}        ("result" on finish events only; "host" once known)
 * Each event is printed to stdout ("rackstack-firstboot: start: NAME: …", "… finish: NAME: RESULT: …"),
 * which the unit sends to the journal and the console, kept for status.json, and, when a reporter
 * is set (the %addon's status-url), POSTed there as application/json with the header
 *         X-Rackstack-Signature: sha256=<hex HMAC-SHA256 of the exact body, keyed by the join token>
 * (docs/rackstack-firstboot.8.md, STATUS EVENTS). A report that cannot be delivered never fails
 * the run: events queue (oldest first, at most STATUS_PENDING_MAX), are retried with backoff at
 * the next events, and a last bounded flush happens in status_finish(); what is still undelivered
 * then is logged and dropped. Descriptions must never hold a secret. */

#define STATUS_PATH "var/lib/rackstack/status.json"
#define STATUS_ORIGIN "rackstack-firstboot"
#define STATUS_PENDING_MAX 512

struct status_step {
        char *step;
        char *state; /* "done", "skipped", "failed" */
        char *reason;
};

struct status_attachment {
        char *key;
        char *json; /* a complete JSON value */
};

/* How an event reaches the report URL; the default is http_post(). Tests substitute their own.
 * headers is a NULL-terminated strv of "Name: value". Returns 0 or a negative errno. */
typedef int (*status_post_t)(const char *url, char **headers, const char *body, size_t n, void *userdata);

struct status_reporter {
        char *url;
        struct secret key;       /* the join token */
        char **pending;          /* event bodies not yet delivered, oldest first */
        size_t n_pending;
        unsigned delivered, dropped, failures; /* failures: consecutive failed attempts */
        double next_try;         /* monotonic seconds; no attempt before it */
        double backoff;          /* seconds; doubles per failure up to max_backoff */
        double max_backoff;
        unsigned final_tries;    /* attempts of the last flush in status_finish() */
        double final_pause;      /* seconds between them */
        status_post_t post;
        void *userdata;
};

struct status {
        struct status_step *steps;
        size_t n;
        char *failed_step; /* set by status_fail() */
        char *reason;

        char **events;     /* compact JSON, in order */
        size_t n_events;
        unsigned seq;
        bool started;      /* the run's own start event went out */
        char *host;
        struct status_attachment *attachments;
        size_t n_attachments;
        bool live;         /* status_set_root() was called: rewrite status.json per event */
        int live_fd;
        bool quiet;        /* no console lines for events (tests) */
        struct status_reporter *reporter;
};

/* A step begins; description may be NULL. */
int status_start(struct status *s, const char *step, const char *description);
/* A step ended: state "done" (result SUCCESS), "skipped" (SKIPPED) or "failed" (FAIL). */
int status_step(struct status *s, const char *step, const char *state, const char *reason);
/* Record the failure (the first one wins). */
int status_fail(struct status *s, const char *step, const char *reason);

/* Structured results of a step, as a top-level key of status.json (the network step's result,
 * the join's summary). raw_json must be one valid JSON value; it is inserted as is. A key given
 * again replaces the earlier value; the contract's own keys (state, step, reason, steps, events)
 * are refused with -EINVAL. */
int status_attach(struct status *s, const char *key, const char *raw_json);

/* The host name events carry from now on. */
int status_set_host(struct status *s, const char *host);
/* Keep status.json under dirfd current after each event ("state": "running"). dirfd is duplicated. */
int status_set_root(struct status *s, int dirfd);
/* Report every event (those already recorded too) to url, signed with key. Takes over key (the
 * caller's struct is emptied). */
int status_set_reporter(struct status *s, const char *url, struct secret *key);

/* The event object for one event, compact JSON (exposed for tests). */
char *status_event_json(const char *event_type, const char *name, const char *description, const char *result,
                        double timestamp, unsigned seq, const char *host);
/* The signature header for body: "X-Rackstack-Signature: sha256=<hex>". */
int status_signature_header(const struct secret *key, const char *body, size_t n, char **ret);

/* Emit the run's finish event, flush the reporter (bounded), write status.json under dirfd and
 * print the console line to stdout, last. */
int status_finish(struct status *s, int dirfd);
void status_done(struct status *s);
