/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* Formatted allocation; NULL on OOM. */
char *strprintf(const char *fmt, ...) _printf_(1, 2);
/* n bytes as 2n lower-case hex digits and a NUL, into out (2n+1 bytes). */
void hex_format(const void *p, size_t n, char *out);
char *strvprintf(const char *fmt, va_list ap) _printf_(1, 0);

bool startswith(const char *s, const char *prefix);
bool endswith(const char *s, const char *suffix);

/* NULL-terminated string vectors. */
size_t strv_length(char *const *l);
int strv_push(char ***l, char *value); /* takes ownership of value, even on failure */
int strv_extend(char ***l, const char *value);
bool strv_contains(char *const *l, const char *s);
char *strv_join(char *const *l, const char *sep);
char **strv_free(char **l);
char **strv_copy(char *const *l);
/* Split on any character of seps, dropping empty fields. */
int strv_split(const char *s, const char *seps, char ***ret);

/* Damerau-free Levenshtein distance, used for "did you mean" hints. */
size_t levenshtein(const char *a, const char *b);
/* Best near-miss of word among candidates (NULL-terminated), or NULL if none is close. */
const char *closest_match(const char *word, const char *const *candidates);

/* Growable byte buffer for text we build up, as git's strbuf. */
struct buf {
        char *data;
        size_t len, cap;
        bool oom;
};
void buf_putc(struct buf *b, char c);
void buf_puts(struct buf *b, const char *s);
void buf_put(struct buf *b, const void *p, size_t n);
void buf_printf(struct buf *b, const char *fmt, ...) _printf_(2, 3);
/* Takes the string out of the buffer; NULL (and buffer freed) if any append ran out of memory. */
char *buf_steal(struct buf *b);
void buf_done(struct buf *b);

/* A monotonic clock in seconds, for elapsed-time reports. */
double now_monotonic(void);
