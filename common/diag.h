/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdio.h>

#include "macro.h"

/* Diagnostics collected by the parsers and validators, so that every error in an input is
 * reported, not just the first, and so that library code never prints. Programs print them as
 *         FILE:LINE:COL: error: MESSAGE
 * Line and column are 1-based; 0 means "whole file" or "whole line". */

enum diag_severity { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag {
        enum diag_severity severity;
        char *file;
        unsigned line, col;
        char *message;
};

struct diags {
        struct diag *items;
        size_t n, n_errors;
        bool oom;
};

void diags_add(struct diags *d, enum diag_severity sev, const char *file, unsigned line, unsigned col,
               const char *fmt, ...) _printf_(6, 7);
#define diag_error(d, file, line, col, ...) diags_add((d), DIAG_ERROR, (file), (line), (col), __VA_ARGS__)
#define diag_warning(d, file, line, col, ...) diags_add((d), DIAG_WARNING, (file), (line), (col), __VA_ARGS__)

void diags_print(const struct diags *d, FILE *f);
/* What diags_print() prints, as one string (NULL: out of memory). */
char *diags_text(const struct diags *d);
void diags_done(struct diags *d);
static inline bool diags_failed(const struct diags *d) {
        return d->n_errors > 0 || d->oom;
}
