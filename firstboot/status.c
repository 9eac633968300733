/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "hmac.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "status.h"
#include "util.h"

static const char *result_of(const char *state) {
        if (streq(state, "done"))
                return "SUCCESS";
        if (streq(state, "skipped"))
                return "SKIPPED";
        return "FAIL";
}

static double now_realtime(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

char *status_event_json(const char *event_type, const char *name, const char *description, const char *result,
                        double timestamp, unsigned seq, const char *host) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "origin", STATUS_ORIGIN);
        json_kv_string(&j, "event_type", event_type);
        json_kv_string(&j, "name", name);
        json_kv_string(&j, "description", strempty(description));
        json_kv_double(&j, "timestamp", timestamp);
        json_kv_uint(&j, "seq", seq);
        if (host)
                json_kv_string(&j, "host", host);
        if (result)
                json_kv_string(&j, "result", result);
        json_end_object(&j);
        return buf_steal(&j.out);
}

int status_signature_header(const struct secret *key, const char *body, size_t n, char **ret) {
        _cleanup_free_ char *hex = NULL;
        int r = hmac_sha256_hex(key->data, key->len, body, n, &hex);
        if (r < 0)
                return r;
        char *h = strprintf("X-Rackstack-Signature: sha256=%s", hex);
        if (!h)
                return -ENOMEM;
        *ret = h;
        return 0;
}

static int default_post(const char *url, char **headers, const char *body, size_t n, void *userdata) {
        /* Short: a report must not hold up the run; the queue retries later. */
        struct http_options o = { .timeout_usec = 5 * 1000000ULL, .retries = 0, .max_size = 64 * 1024 };
        int status = 0;
        return http_post(url, &o, "application/json", headers, body, n, &status);
}

/* One attempt at the oldest pending event. */
static int deliver_one(struct status_reporter *rep) {
        const char *body = rep->pending[0];
        size_t n = strlen(body);
        _cleanup_free_ char *sig = NULL;
        int r = status_signature_header(&rep->key, body, n, &sig);
        if (r < 0)
                return r;
        char *headers[] = { sig, NULL };
        return rep->post(rep->url, headers, body, n, rep->userdata);
}

static void free_pending(struct status_reporter *rep) {
        for (size_t i = 0; i < rep->n_pending; i++)
                free(rep->pending[i]);
        free(rep->pending);
        rep->pending = NULL;
        rep->n_pending = 0;
}

static void pop_pending(struct status_reporter *rep) {
        free(rep->pending[0]);
        memmove(rep->pending, rep->pending + 1, (rep->n_pending - 1) * sizeof *rep->pending);
        rep->n_pending--;
}

/* Send what is queued, oldest first, until one fails; then back off. */
static void deliver(struct status_reporter *rep) {
        if (!rep || rep->n_pending == 0 || now_monotonic() < rep->next_try)
                return;
        while (rep->n_pending > 0) {
                int r = deliver_one(rep);
                if (r < 0) {
                        if (rep->failures++ == 0)
                                log_warning_errno(r, "Cannot deliver the status report to %s: %m; %zu event(s) queued, "
                                                  "retrying with backoff", rep->url, rep->n_pending);
                        rep->backoff = rep->backoff > 0 ? MIN(rep->backoff * 2, rep->max_backoff) : 1;
                        rep->next_try = now_monotonic() + rep->backoff;
                        return;
                }
                if (rep->failures > 0)
                        log_info("status report to %s delivered again after %u failed attempt(s)", rep->url,
                                 rep->failures);
                rep->failures = 0;
                rep->backoff = 0;
                rep->delivered++;
                pop_pending(rep);
        }
}

static int enqueue(struct status_reporter *rep, const char *body) {
        if (rep->n_pending >= STATUS_PENDING_MAX) {
                pop_pending(rep);
                rep->dropped++;
        }
        char *copy = strdup(body);
        if (!copy)
                return -ENOMEM;
        char **n = realloc(rep->pending, (rep->n_pending + 1) * sizeof *n);
        if (!n) {
                free(copy);
                return -ENOMEM;
        }
        rep->pending = n;
        rep->pending[rep->n_pending++] = copy;
        return 0;
}

static void write_json(struct status *s, struct json *j, const char *state) {
        json_begin_object(j);
        json_kv_string(j, "state", state);
        json_kv_string(j, "step", s->failed_step);
        json_kv_string(j, "reason", s->reason);
        json_key(j, "steps");
        json_begin_array(j);
        for (size_t i = 0; i < s->n; i++) {
                json_begin_object(j);
                json_kv_string(j, "step", s->steps[i].step);
                json_kv_string(j, "state", s->steps[i].state);
                json_kv_string(j, "reason", s->steps[i].reason);
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "events");
        json_begin_array(j);
        for (size_t i = 0; i < s->n_events; i++)
                json_raw(j, s->events[i]);
        json_end_array(j);
        for (size_t i = 0; i < s->n_attachments; i++) {
                json_key(j, s->attachments[i].key);
                json_raw(j, s->attachments[i].json);
        }
        json_end_object(j);
        buf_putc(&j->out, '\n');
}

static int write_status(struct status *s, int dirfd, const char *state) {
        struct json j = { .pretty = true };
        write_json(s, &j, state);
        size_t len = j.out.len;
        _cleanup_free_ char *data = buf_steal(&j.out);
        int r = data ? mkdir_parents_at(dirfd, "var/lib/rackstack", 0755) : -ENOMEM;
        if (r >= 0)
                r = write_file_atomic(dirfd, STATUS_PATH, data, len, 0644);
        return r;
}

static int emit(struct status *s, const char *type, const char *name, const char *description, const char *result,
                bool console);

static int ensure_started(struct status *s) {
        if (s->started)
                return 0;
        s->started = true;
        return emit(s, "start", STATUS_ORIGIN, "first boot", NULL, false);
}

static int emit(struct status *s, const char *type, const char *name, const char *description, const char *result,
                bool console) {
        int r = ensure_started(s);
        if (r < 0)
                return r;
        _cleanup_free_ char *ev = status_event_json(type, name, description, result, now_realtime(), ++s->seq, s->host);
        if (!ev)
                return -ENOMEM;
        if (console && !s->quiet) {
                if (result)
                        printf("rackstack-firstboot: %s: %s: %s%s%s\n", type, name, result, description ? ": " : "",
                               strempty(description));
                else
                        printf("rackstack-firstboot: %s: %s%s%s\n", type, name, description ? ": " : "",
                               strempty(description));
                fflush(stdout);
        }
        char **n = realloc(s->events, (s->n_events + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        s->events = n;
        s->events[s->n_events++] = TAKE_PTR(ev);
        if (s->reporter) {
                r = enqueue(s->reporter, s->events[s->n_events - 1]);
                if (r < 0)
                        return r;
                deliver(s->reporter);
        }
        if (s->live)
                (void) write_status(s, s->live_fd, "running");
        return 0;
}

int status_start(struct status *s, const char *step, const char *description) {
        return emit(s, "start", step, description, NULL, true);
}

int status_step(struct status *s, const char *step, const char *state, const char *reason) {
        struct status_step *n = realloc(s->steps, (s->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        s->steps = n;
        struct status_step st = { .step = strdup(step), .state = strdup(state), .reason = reason ? strdup(reason) : NULL };
        if (!st.step || !st.state || (reason && !st.reason)) {
                free(st.step);
                free(st.state);
                free(st.reason);
                return -ENOMEM;
        }
        s->steps[s->n++] = st;
        return emit(s, "finish", step, reason, result_of(state), true);
}

int status_fail(struct status *s, const char *step, const char *reason) {
        if (s->failed_step)
                return 0;
        s->failed_step = strdup(step);
        s->reason = strdup(reason ? reason : "unknown error");
        if (!s->failed_step || !s->reason)
                return -ENOMEM;
        return status_step(s, step, "failed", reason);
}

int status_attach(struct status *s, const char *key, const char *raw_json) {
        static const char *const reserved[] = { "state", "step", "reason", "steps", "events" };
        if (isempty(key) || isempty(raw_json))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(reserved); i++)
                if (streq(key, reserved[i]))
                        return -EINVAL;
        char *raw = strdup(raw_json);
        if (!raw)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_attachments; i++)
                if (streq(s->attachments[i].key, key)) {
                        free(s->attachments[i].json);
                        s->attachments[i].json = raw;
                        return 0;
                }
        struct status_attachment *n = realloc(s->attachments, (s->n_attachments + 1) * sizeof *n);
        if (!n) {
                free(raw);
                return -ENOMEM;
        }
        s->attachments = n;
        s->attachments[s->n_attachments] = (struct status_attachment) { .key = strdup(key), .json = raw };
        if (!s->attachments[s->n_attachments].key) {
                free(raw);
                return -ENOMEM;
        }
        s->n_attachments++;
        return 0;
}

int status_set_host(struct status *s, const char *host) {
        char *h = strdup(host);
        if (!h)
                return -ENOMEM;
        free(s->host);
        s->host = h;
        return 0;
}

int status_set_root(struct status *s, int dirfd) {
        int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return -errno;
        if (s->live)
                close(s->live_fd);
        s->live_fd = fd;
        s->live = true;
        return 0;
}

int status_set_reporter(struct status *s, const char *url, struct secret *key) {
        if (s->reporter)
                return -EBUSY;
        _cleanup_free_ struct status_reporter *rep = calloc(1, sizeof *rep);
        if (!rep)
                return -ENOMEM;
        *rep = (struct status_reporter) {
                .url = strdup(url), .max_backoff = 60, .final_tries = 3, .final_pause = 2, .post = default_post,
        };
        if (!rep->url)
                return -ENOMEM;
        /* What happened before the reporter was known (the answers step) is reported too. */
        for (size_t i = 0; i < s->n_events; i++) {
                int r = enqueue(rep, s->events[i]);
                if (r < 0) {
                        free_pending(rep);
                        free(rep->url);
                        return r;
                }
        }
        rep->key = *key;
        *key = (struct secret) {};
        /* the first attempt comes with the next event */
        s->reporter = TAKE_PTR(rep);
        return 0;
}

int status_finish(struct status *s, int dirfd) {
        _cleanup_free_ char *line = s->failed_step ? strprintf("FAILED at %s: %s", s->failed_step, s->reason)
                                                   : strdup("finished");
        (void) emit(s, "finish", STATUS_ORIGIN, line, s->failed_step ? "FAIL" : "SUCCESS", false);

        struct status_reporter *rep = s->reporter;
        for (unsigned i = 0; rep && rep->n_pending > 0 && i < rep->final_tries; i++) {
                if (i > 0 && rep->final_pause > 0) {
                        struct timespec ts = { .tv_sec = (time_t) rep->final_pause,
                                               .tv_nsec = (long) ((rep->final_pause - (double) (time_t) rep->final_pause) * 1e9) };
                        nanosleep(&ts, NULL);
                }
                rep->next_try = 0;
                deliver(rep);
        }
        if (rep && rep->n_pending + rep->dropped > 0)
                log_warning("status report: %zu event(s) not delivered to %s (%u delivered, %u dropped from a full queue)",
                            rep->n_pending + rep->dropped, rep->url, rep->delivered, rep->dropped);

        int r = write_status(s, dirfd, s->failed_step ? "failed" : "finished");

        /* the console line comes last, whatever happened to the file */
        if (s->failed_step)
                printf("rackstack-firstboot: FAILED at %s: %s\n", s->failed_step, s->reason);
        else
                printf("rackstack-firstboot: finished\n");
        fflush(stdout);
        return r;
}

void status_done(struct status *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->steps[i].step);
                free(s->steps[i].state);
                free(s->steps[i].reason);
        }
        free(s->steps);
        free(s->failed_step);
        free(s->reason);
        for (size_t i = 0; i < s->n_events; i++)
                free(s->events[i]);
        free(s->events);
        for (size_t i = 0; i < s->n_attachments; i++) {
                free(s->attachments[i].key);
                free(s->attachments[i].json);
        }
        free(s->attachments);
        free(s->host);
        if (s->live)
                close(s->live_fd);
        if (s->reporter) {
                free_pending(s->reporter);
                free(s->reporter->url);
                secret_free(&s->reporter->key);
                free(s->reporter);
        }
        *s = (struct status) {};
}
