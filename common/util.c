/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

char *strvprintf(const char *fmt, va_list ap) {
        char *s;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

void hex_format(const void *p, size_t n, char *out) {
        static const char digits[] = "0123456789abcdef";
        const unsigned char *b = p;
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[b[i] >> 4];
                out[2 * i + 1] = digits[b[i] & 0xf];
        }
        out[2 * n] = '\0';
}

char *strprintf(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = strvprintf(fmt, ap);
        va_end(ap);
        return s;
}

bool startswith(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

bool endswith(const char *s, const char *suffix) {
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && memcmp(s + a - b, suffix, b) == 0;
}

size_t strv_length(char *const *l) {
        size_t n = 0;
        for (; l && l[n]; n++)
                ;
        return n;
}

int strv_push(char ***l, char *value) {
        if (!value)
                return -ENOMEM;
        size_t n = strv_length(*l);
        char **m = realloc(*l, (n + 2) * sizeof(char *));
        if (!m) {
                free(value);
                return -ENOMEM;
        }
        m[n] = value;
        m[n + 1] = NULL;
        *l = m;
        return 0;
}

int strv_extend(char ***l, const char *value) {
        return strv_push(l, strdup(value));
}

bool strv_contains(char *const *l, const char *s) {
        for (; l && *l; l++)
                if (streq(*l, s))
                        return true;
        return false;
}

char *strv_join(char *const *l, const char *sep) {
        struct buf b = {};
        for (size_t i = 0; l && l[i]; i++) {
                if (i > 0)
                        buf_puts(&b, sep);
                buf_puts(&b, l[i]);
        }
        if (!b.data)
                return strdup("");
        return buf_steal(&b);
}

char **strv_free(char **l) {
        for (size_t i = 0; l && l[i]; i++)
                free(l[i]);
        free(l);
        return NULL;
}

char **strv_copy(char *const *l) {
        char **c = calloc(strv_length(l) + 1, sizeof(char *));
        if (!c)
                return NULL;
        for (size_t i = 0; l && l[i]; i++)
                if (!(c[i] = strdup(l[i])))
                        return strv_free(c);
        return c;
}

int strv_split(const char *s, const char *seps, char ***ret) {
        char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        while (*s) {
                size_t skip = strspn(s, seps);
                s += skip;
                if (!*s)
                        break;
                size_t n = strcspn(s, seps);
                int r = strv_push(&l, strndup(s, n));
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                s += n;
        }
        *ret = l;
        return 0;
}

size_t levenshtein(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        size_t row[65];
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t prev = row[0];
                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t cur = row[j];
                        size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
                        row[j] = MIN(MIN(row[j] + 1, row[j - 1] + 1), prev + cost);
                        prev = cur;
                }
        }
        return row[lb];
}

const char *closest_match(const char *word, const char *const *candidates) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (; candidates && *candidates; candidates++) {
                size_t d = levenshtein(word, *candidates);
                if (d < best_d) {
                        best_d = d;
                        best = *candidates;
                }
        }
        /* Only a near miss is a useful hint: a third of the word, at least one edit. */
        size_t limit = MAX((size_t) 1, strlen(word) / 3);
        if (best_d == 0 || best_d > limit)
                return NULL;
        return best;
}

static void buf_grow(struct buf *b, size_t extra) {
        if (b->oom)
                return;
        if (b->len + extra + 1 <= b->cap)
                return;
        size_t cap = MAX(b->cap * 2, b->len + extra + 1);
        cap = MAX(cap, (size_t) 64);
        char *d = realloc(b->data, cap);
        if (!d) {
                b->oom = true;
                return;
        }
        b->data = d;
        b->cap = cap;
        b->data[b->len] = 0;
}

void buf_put(struct buf *b, const void *p, size_t n) {
        buf_grow(b, n);
        if (b->oom)
                return;
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = 0;
}

void buf_putc(struct buf *b, char c) {
        buf_put(b, &c, 1);
}

void buf_puts(struct buf *b, const char *s) {
        buf_put(b, s, strlen(s));
}

void buf_printf(struct buf *b, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = strvprintf(fmt, ap);
        va_end(ap);
        if (!s) {
                b->oom = true;
                return;
        }
        buf_puts(b, s);
        free(s);
}

char *buf_steal(struct buf *b) {
        if (b->oom) {
                buf_done(b);
                return NULL;
        }
        if (!b->data)
                buf_grow(b, 0);
        char *d = b->data;
        *b = (struct buf) {};
        return d;
}

void buf_done(struct buf *b) {
        free(b->data);
        *b = (struct buf) {};
}

double now_monotonic(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}
