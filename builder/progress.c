/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "json.h"
#include "progress.h"
#include "util.h"

static struct {
        bool json;
        bool tty;
        bool bar_shown;
        double t0;
        double last_bar;
} P = { .t0 = -1 };

void progress_init(bool json) {
        P.json = json;
        P.tty = isatty(STDERR_FILENO) == 1;
        P.t0 = now_monotonic();
}

double progress_elapsed(void) {
        if (P.t0 < 0)
                P.t0 = now_monotonic();
        return now_monotonic() - P.t0;
}

char *progress_event_json(const char *stage, const char *state, uint64_t bytes, double elapsed,
                          const char *message) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "stage", stage);
        json_kv_string(&j, "state", state);
        json_kv_uint(&j, "bytes", bytes);
        json_kv_double(&j, "elapsed", elapsed);
        if (message)
                json_kv_string(&j, "message", message);
        json_end_object(&j);
        return buf_steal(&j.out);
}

static void emit(const char *stage, const char *state, uint64_t bytes, const char *msg) {
        double t = progress_elapsed();
        progress_bar_end();
        if (msg)
                fprintf(stderr, "[%6.1fs] %s: %s\n", t, stage, msg);
        if (P.json) {
                _cleanup_free_ char *line = progress_event_json(stage, state, bytes, t, msg);
                if (line) {
                        fputs(line, stdout);
                        fputc('\n', stdout);
                        fflush(stdout);
                }
        }
}

void stage_start(const char *stage, const char *fmt, ...) {
        _cleanup_free_ char *msg = NULL;
        if (fmt) {
                va_list ap;
                va_start(ap, fmt);
                msg = strvprintf(fmt, ap);
                va_end(ap);
        }
        emit(stage, "start", 0, msg);
}

void stage_done(const char *stage, uint64_t bytes, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = strvprintf(fmt, ap);
        va_end(ap);
        emit(stage, "done", bytes, msg ? msg : "done");
}

void stage_fail(const char *stage, int error, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = strvprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *full = error < 0 ? strprintf("failed: %s (%s)", msg ? msg : "", strerror(-error))
                                              : strprintf("failed: %s", msg ? msg : "");
        emit(stage, "fail", 0, full ? full : "failed");
}

void stage_note(const char *stage, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = strvprintf(fmt, ap);
        va_end(ap);
        progress_bar_end();
        fprintf(stderr, "[%6.1fs] %s: %s\n", progress_elapsed(), stage, msg ? msg : "");
}

void progress_bar(const char *what, uint64_t done, uint64_t total) {
        if (!P.tty || P.json || total == 0)
                return;
        double t = now_monotonic();
        /* Redrawing more than ~10 times a second only costs time. */
        if (done < total && t - P.last_bar < 0.1)
                return;
        P.last_bar = t;
        unsigned pct = (unsigned) (done * 100 / total);
        unsigned width = 30, fill = pct * width / 100;
        char bar[31];
        memset(bar, '#', fill);
        memset(bar + fill, '.', width - fill);
        bar[width] = 0;
        fprintf(stderr, "\r[%6.1fs] %s [%s] %3u%% %4" PRIu64 "/%" PRIu64 " MiB", progress_elapsed(), what, bar,
                pct, done >> 20, total >> 20);
        P.bar_shown = true;
        if (done >= total)
                progress_bar_end();
}

void progress_bar_end(void) {
        if (!P.bar_shown)
                return;
        fputs("\r\033[K", stderr);
        P.bar_shown = false;
}
