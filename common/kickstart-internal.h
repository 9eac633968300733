/* SPDX-License-Identifier: MIT */
#pragma once

/* Shared between the kickstart parser files; not an API. */

#include "kickstart.h"

struct ks_parser {
        struct ks *ks;
        struct diags *d;
        const char *data;
        size_t size, pos;
        unsigned line, col; /* of data[pos] */
        size_t n_commands;  /* lines that held a command or section, for "empty file" */
        size_t errors_at_start;
        bool oom;
};

/* A word or option value and where it starts in the file. */
struct ks_val {
        const char *s;
        unsigned line, col;
};

#define ks_err(p, line, col, ...) diag_error((p)->d, (p)->ks->file, (line), (col), __VA_ARGS__)
#define ks_warn(p, line, col, ...) diag_warning((p)->d, (p)->ks->file, (line), (col), __VA_ARGS__)

char *ks_strdup(struct ks_parser *p, const char *s);
/* Append a zeroed element to *array; NULL (and p->oom) on allocation failure. */
void *ks_grow(struct ks_parser *p, void **array, size_t *n, size_t size);
struct src ks_mksrc(const struct ks_parser *p, unsigned line, unsigned col);
/* Linux interface name rules: 1..15 printable characters, no '/', ':' or blanks. */
bool ks_ifname_valid(const char *s);

/* kickstart-addon.c: one line of %addon com_rackstack, words[0] being the keyword. */
void ks_addon_line(struct ks_parser *p, const struct ks_val *words, size_t n);
void ks_addon_done(struct ks_addon *a);

/* kickstart-grammar.c: Anaconda's commands and options that kickstart.c does not parse, and what
 * to do with each. */
enum ks_foreign_kind { KS_IGNORED, KS_REFUSED };
struct ks_foreign {
        const char *command, *option; /* option NULL for a command */
        bool takes_value;             /* options: whether a separate next word is its value */
        enum ks_foreign_kind kind;
        const char *why;
};
const struct ks_foreign *ks_foreign_command(const char *name);
const struct ks_foreign *ks_foreign_option(const char *command, const char *option);

/* kickstart-validate.c: the rules that span lines, run once everything is read. */
void ks_validate(struct ks_parser *p);
