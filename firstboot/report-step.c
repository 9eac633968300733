/* SPDX-License-Identifier: MIT */
/* The report step of a run: where events go besides the console, the journal and status.json. */
#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "run-steps.h"
#include "secret.h"
#include "util.h"

static const char *secret_error(int r) {
        switch (r) {
        case -EPERM: return "not a regular file owned by root with mode 0600 or stricter; refused";
        case -ENODATA: return "empty";
        case -EFBIG: return "too large for a secret";
        default: return strerror(-r);
        }
}

int step_report(struct run_ctx *c) {
        (void) status_set_root(c->status, c->root_fd);
        const char *url = c->ks ? c->ks->addon.status_url : NULL;
        if (!url) {
                (void) status_step(c->status, "report", "skipped", "no status-url in the answers; events go to the console, "
                                                                     "the journal and status.json");
                return RUN_SKIPPED;
        }
        if (c->dry_run) {
                (void) status_step(c->status, "report", "skipped", "dry run: nothing is sent");
                return RUN_SKIPPED;
        }
        const char *tf = c->ks->addon.token_file;
        _cleanup_free_ char *why = NULL;
        if (startswith(url, "https://"))
                why = strdup("status-url is https://, which the HTTP client refuses; events are signed, so use http://");
        else if (!tf)
                why = strdup("status-url without token-file: events are never sent unsigned");
        if (!why) {
                struct secret key = {};
                int r = secret_read(c->root_fd, tf, &key);
                if (r < 0)
                        why = strprintf("the token file %s: %s", tf, secret_error(r));
                else if ((r = status_set_reporter(c->status, url, &key)) < 0) {
                        secret_free(&key);
                        why = strprintf("cannot set up the report: %s", strerror(-r));
                }
        }
        if (why) {
                /* a report that cannot be made never fails the run */
                log_warning("status report: %s", why);
                (void) status_step(c->status, "report", "skipped", why);
                return RUN_SKIPPED;
        }
        _cleanup_free_ char *reason = strprintf("events POSTed to %s, signed with the token from %s", url, tf);
        (void) status_step(c->status, "report", "done", reason);
        return 0;
}
