/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "status.h"
#include "util.h"

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
        return 0;
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
        _cleanup_free_ char *k = strdup(key), *v = strdup(raw_json);
        if (!k || !v)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_attachments; i++)
                if (streq(s->attachments[i].key, key)) {
                        free(s->attachments[i].json);
                        s->attachments[i].json = TAKE_PTR(v);
                        return 0;
                }
        struct status_attachment *n = realloc(s->attachments, (s->n_attachments + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        s->attachments = n;
        s->attachments[s->n_attachments++] = (struct status_attachment) { TAKE_PTR(k), TAKE_PTR(v) };
        return 0;
}

int status_finish(struct status *s, int dirfd) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_string(&j, "state", s->failed_step ? "failed" : "finished");
        json_kv_string(&j, "step", s->failed_step);
        json_kv_string(&j, "reason", s->reason);
        json_key(&j, "steps");
        json_begin_array(&j);
        for (size_t i = 0; i < s->n; i++) {
                json_begin_object(&j);
                json_kv_string(&j, "step", s->steps[i].step);
                json_kv_string(&j, "state", s->steps[i].state);
                json_kv_string(&j, "reason", s->steps[i].reason);
                json_end_object(&j);
        }
        json_end_array(&j);
        for (size_t i = 0; i < s->n_attachments; i++) {
                json_key(&j, s->attachments[i].key);
                json_raw(&j, s->attachments[i].json);
        }
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        size_t len = j.out.len;
        _cleanup_free_ char *data = buf_steal(&j.out);
        int r = data ? mkdir_parents_at(dirfd, "var/lib/rackstack", 0755) : -ENOMEM;
        if (r >= 0)
                r = write_file_atomic(dirfd, STATUS_PATH, data, len, 0644);

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
        for (size_t i = 0; i < s->n_attachments; i++) {
                free(s->attachments[i].key);
                free(s->attachments[i].json);
        }
        free(s->attachments);
        free(s->failed_step);
        free(s->reason);
        *s = (struct status) {};
}
