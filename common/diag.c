/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdlib.h>

#include "diag.h"
#include "util.h"

void diags_add(struct diags *d, enum diag_severity sev, const char *file, unsigned line, unsigned col,
               const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = strvprintf(fmt, ap);
        va_end(ap);
        char *f = strdup(file ? file : "<input>");
        struct diag *items = realloc(d->items, (d->n + 1) * sizeof(struct diag));
        if (!msg || !f || !items) {
                free(msg);
                free(f);
                if (items)
                        d->items = items;
                d->oom = true;
                return;
        }
        d->items = items;
        d->items[d->n++] = (struct diag) {
                .severity = sev, .file = f, .line = line, .col = col, .message = msg,
        };
        if (sev == DIAG_ERROR)
                d->n_errors++;
}

void diags_print(const struct diags *d, FILE *f) {
        static const char *const names[] = { "error", "warning", "note" };
        for (size_t i = 0; i < d->n; i++) {
                const struct diag *x = &d->items[i];
                if (x->line > 0 && x->col > 0)
                        fprintf(f, "%s:%u:%u: %s: %s\n", x->file, x->line, x->col, names[x->severity], x->message);
                else if (x->line > 0)
                        fprintf(f, "%s:%u: %s: %s\n", x->file, x->line, names[x->severity], x->message);
                else
                        fprintf(f, "%s: %s: %s\n", x->file, names[x->severity], x->message);
        }
        if (d->oom)
                fprintf(f, "error: out of memory while collecting diagnostics\n");
}

char *diags_text(const struct diags *d) {
        char *text = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&text, &n);
        if (!f)
                return NULL;
        diags_print(d, f);
        fclose(f);
        return text;
}

void diags_done(struct diags *d) {
        for (size_t i = 0; i < d->n; i++) {
                free(d->items[i].file);
                free(d->items[i].message);
        }
        free(d->items);
        *d = (struct diags) {};
}
