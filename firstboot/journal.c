/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "journal.h"
#include "log.h"
#include "util.h"

static const char *state_name(enum journal_state s) {
        return s == JOURNAL_DONE ? "done" : "started";
}

static int parse_line(char *line, struct journal_rec *ret) {
        /* "<state> <step>[ <detail>]" */
        char *sp = strchr(line, ' ');
        if (!sp)
                return -EBADMSG;
        *sp = 0;
        enum journal_state st;
        if (streq(line, "done"))
                st = JOURNAL_DONE;
        else if (streq(line, "started"))
                st = JOURNAL_STARTED;
        else
                return -EBADMSG;
        char *step = sp + 1, *detail = strchr(step, ' ');
        if (detail)
                *detail++ = 0;
        if (!*step)
                return -EBADMSG;
        *ret = (struct journal_rec) { .state = st, .step = strdup(step), .detail = detail ? strdup(detail) : NULL };
        if (!ret->step || (detail && !ret->detail)) {
                free(ret->step);
                free(ret->detail);
                return -ENOMEM;
        }
        return 0;
}

static int push(struct journal *j, enum journal_state st, const char *step, const char *detail) {
        struct journal_rec *n = realloc(j->recs, (j->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        j->recs = n;
        struct journal_rec r = { .state = st, .step = strdup(step), .detail = detail ? strdup(detail) : NULL };
        if (!r.step || (detail && !r.detail)) {
                free(r.step);
                free(r.detail);
                return -ENOMEM;
        }
        j->recs[j->n++] = r;
        return 0;
}

int journal_open(int dirfd, const char *path, struct journal **ret) {
        _cleanup_(journal_freep) struct journal *j = calloc(1, sizeof *j);
        if (!j)
                return -ENOMEM;
        j->dirfd = dirfd;
        j->path = strdup(path ? path : JOURNAL_PATH);
        if (!j->path)
                return -ENOMEM;

        _cleanup_free_ char *data = NULL;
        int r = read_file_full(dirfd, j->path, 16 << 20, &data, NULL);
        if (r == -ENOENT) {
                *ret = TAKE_PTR(j);
                return 0;
        }
        if (r < 0)
                return r;
        char *save = NULL;
        for (char *line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (line[0] == '#')
                        continue;
                struct journal_rec rec;
                r = parse_line(line, &rec);
                if (r < 0)
                        return r;
                struct journal_rec *n = realloc(j->recs, (j->n + 1) * sizeof *n);
                if (!n) {
                        free(rec.step);
                        free(rec.detail);
                        return -ENOMEM;
                }
                j->recs = n;
                j->recs[j->n++] = rec;
        }
        *ret = TAKE_PTR(j);
        return 0;
}

struct journal *journal_free(struct journal *j) {
        if (!j)
                return NULL;
        for (size_t i = 0; i < j->n; i++) {
                free(j->recs[i].step);
                free(j->recs[i].detail);
        }
        free(j->recs);
        free(j->path);
        free(j);
        return NULL;
}

static int journal_flush(struct journal *j) {
        struct buf b = {};
        buf_puts(&b, "# rackstack-firstboot step journal: <state> <step> [detail]\n");
        for (size_t i = 0; i < j->n; i++)
                buf_printf(&b, "%s %s%s%s\n", state_name(j->recs[i].state), j->recs[i].step,
                           j->recs[i].detail ? " " : "", strempty(j->recs[i].detail));
        size_t len = b.len;
        _cleanup_free_ char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        int r = mkdir_parents_at(j->dirfd, "var/lib/rackstack", 0755);
        if (r < 0)
                return r;
        return write_file_atomic(j->dirfd, j->path, data, len, 0644);
}

static int record(struct journal *j, enum journal_state st, const char *step, const char *detail) {
        if (!step || !*step || strpbrk(step, " \n") || (detail && strchr(detail, '\n')))
                return -EINVAL;
        int r = push(j, st, step, detail);
        if (r < 0)
                return r;
        r = journal_flush(j);
        if (r < 0) {
                /* keep memory and disk in step: what is not durable did not happen */
                j->n--;
                free(j->recs[j->n].step);
                free(j->recs[j->n].detail);
        }
        return r;
}

int journal_begin(struct journal *j, const char *step, const char *detail) {
        int r = record(j, JOURNAL_STARTED, step, detail);
        if (r >= 0)
                journal_fault_point("before", step);
        return r;
}

int journal_done(struct journal *j, const char *step, const char *detail) {
        journal_fault_point("after", step);
        int r = record(j, JOURNAL_DONE, step, detail);
        if (r >= 0)
                journal_fault_point("done", step);
        return r;
}

const struct journal_rec *journal_find(const struct journal *j, const char *step) {
        for (size_t i = j->n; i > 0; i--)
                if (streq(j->recs[i - 1].step, step))
                        return &j->recs[i - 1];
        return NULL;
}

bool journal_is_done(const struct journal *j, const char *step) {
        const struct journal_rec *r = journal_find(j, step);
        return r && r->state == JOURNAL_DONE;
}

static char *detail_get(const char *detail, const char *key) {
        if (!detail)
                return NULL;
        size_t kl = strlen(key);
        for (const char *p = detail; p && *p;) {
                p += strspn(p, " ");
                size_t wl = strcspn(p, " ");
                if (wl > kl && strneq(p, key, kl) && p[kl] == '=')
                        return strndup(p + kl + 1, wl - kl - 1);
                p += wl;
        }
        return NULL;
}

char *journal_get(const struct journal *j, const char *step, const char *key) {
        /* the done record has the final word; a started record may carry what the step was about to use */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = j->n; i > 0; i--) {
                        const struct journal_rec *r = &j->recs[i - 1];
                        if (!streq(r->step, step) || (pass == 0) != (r->state == JOURNAL_DONE))
                                continue;
                        char *v = detail_get(r->detail, key);
                        if (v)
                                return v;
                }
        return NULL;
}

void journal_fault_point(const char *when, const char *step) {
        const char *f = secure_getenv("RACKSTACK_FAULT");
        if (!f)
                return;
        size_t wl = strlen(when);
        if (!strneq(f, when, wl) || f[wl] != ':' || !startswith(step, f + wl + 1))
                return;
        fprintf(stderr, "rackstack-firstboot: FAULT INJECTED %s %s\n", when, step);
        fflush(stderr);
        raise(SIGKILL);
}
