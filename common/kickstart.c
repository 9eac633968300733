/* SPDX-License-Identifier: MIT */
/* Kickstart lexer and parser: shell-style words per logical line, table-driven options per command,
 * then a validation pass for the rules that span lines (kickstart-validate.c). */
#include <ctype.h>
#include <inttypes.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "kickstart-internal.h"
#include "password.h"
#include "parse.h"
#include "util.h"

/* ---- lexer ------------------------------------------------------------------------------------ */

struct token {
        char *text;
        unsigned line, col;
        bool has_eq;          /* the word holds '=' outside of nothing in particular: any '=' */
        unsigned vline, vcol; /* where the text after the first '=' starts in the source */
};

struct tokens {
        struct token *v;
        size_t n, cap;
};

static void tokens_clear(struct tokens *t) {
        for (size_t i = 0; i < t->n; i++)
                free(t->v[i].text);
        t->n = 0;
}

static void tokens_done(struct tokens *t) {
        tokens_clear(t);
        free(t->v);
        *t = (struct tokens) {};
}

struct cursor {
        size_t pos;
        unsigned line, col;
};

static bool at_eol(const struct ks_parser *p, size_t pos) {
        return pos >= p->size || p->data[pos] == '\n' || (p->data[pos] == '\r' && pos + 1 < p->size &&
                                                          p->data[pos + 1] == '\n');
}

/* Step over the line terminator at pos ("\n" or "\r\n"), if any. */
static void skip_eol(struct ks_parser *p) {
        if (p->pos < p->size && p->data[p->pos] == '\r')
                p->pos++;
        if (p->pos < p->size && p->data[p->pos] == '\n')
                p->pos++;
        p->line++;
        p->col = 1;
}

static size_t physical_line_length(const struct ks_parser *p) {
        const char *nl = memchr(p->data + p->pos, '\n', p->size - p->pos);
        return nl ? (size_t) (nl - (p->data + p->pos)) : p->size - p->pos;
}

/* A line longer than KS_LINE_MAX is reported once and skipped whole. */
static bool check_line_length(struct ks_parser *p) {
        size_t len = physical_line_length(p);
        if (len <= KS_LINE_MAX)
                return true;
        ks_err(p, p->line, 1, "line too long (%zu bytes; at most %u are allowed)", len, KS_LINE_MAX);
        p->pos += len;
        skip_eol(p);
        return false;
}

static void token_putc(struct ks_parser *p, struct buf *b, struct token *t, char c) {
        if (t->has_eq && t->vline == 0) {
                t->vline = p->line;
                t->vcol = p->col;
        }
        if (c == '=' && !t->has_eq) {
                t->has_eq = true;
                t->vline = 0;
        }
        buf_putc(b, c);
}

static void token_finish(struct ks_parser *p, struct tokens *toks, struct buf *b, struct token *t,
                         unsigned eq_line, unsigned eq_col) {
        if (t->has_eq && t->vline == 0) {
                /* Nothing after the '=': point just past it. */
                t->vline = eq_line;
                t->vcol = eq_col;
        }
        t->text = buf_steal(b);
        if (!t->text) {
                p->oom = true;
                return;
        }
        if (toks->n == toks->cap) {
                size_t cap = MAX(toks->cap * 2, (size_t) 8);
                struct token *v = realloc(toks->v, cap * sizeof(struct token));
                if (!v) {
                        free(t->text);
                        p->oom = true;
                        return;
                }
                toks->v = v;
                toks->cap = cap;
        }
        toks->v[toks->n++] = *t;
}

/* The state of read_logical_line between characters. */
struct lexer {
        struct buf b;
        struct token t;
        bool in_word, bad;
        char quote;
        unsigned qline, qcol, eq_line, eq_col;
};

static void lex_word_start(struct ks_parser *p, struct lexer *lx) {
        if (!lx->in_word) {
                lx->in_word = true;
                lx->t = (struct token) { .line = p->line, .col = p->col };
        }
}

static void lex_putc(struct ks_parser *p, struct lexer *lx, char c) {
        if (c == '=' && !lx->t.has_eq)
                lx->eq_line = p->line, lx->eq_col = p->col + 1;
        token_putc(p, &lx->b, &lx->t, c);
}

static void lex_stray_cr(struct ks_parser *p, struct lexer *lx, const char *what) {
        ks_err(p, p->line, p->col, "%s", what);
        lx->bad = true;
}

/* A backslash outside single quotes at p->pos. Returns 1 when it was consumed (a continuation or
 * an escape), 0 when it is an ordinary character here, -1 when the continued line is too long. */
static int lex_backslash(struct ks_parser *p, struct lexer *lx) {
        size_t n = p->pos + 1;
        if (n < p->size && at_eol(p, n)) {
                /* Continuation: the next physical line is part of this one. Anaconda does not join
                 * lines (pykickstart splits one physical line at a time and reports the rest as an
                 * unknown command), so the file would mean something else to it: read it, but say so. */
                ks_warn(p, p->line, p->col,
                        "line continued with '\\': Anaconda and ksvalidator read each line on its own; write the command on one line");
                p->pos = n;
                skip_eol(p);
                return p->pos < p->size && !check_line_length(p) ? -1 : 1;
        }
        if (n >= p->size || (lx->quote && p->data[n] != '"' && p->data[n] != '\\'))
                return 0;
        lex_word_start(p, lx);
        p->pos++, p->col++;
        char c = p->data[p->pos];
        if (c == '\r')
                lex_stray_cr(p, lx, "stray carriage return");
        token_putc(p, &lx->b, &lx->t, c);
        p->pos++, p->col++;
        return 1;
}

/* One character outside quotes that is not an escape. */
static void lex_plain(struct ks_parser *p, struct tokens *toks, struct lexer *lx, char c) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f') {
                if (c == '\r')
                        lex_stray_cr(p, lx, "stray carriage return (only CRLF line ends are accepted)");
                if (lx->in_word) {
                        token_finish(p, toks, &lx->b, &lx->t, lx->eq_line, lx->eq_col);
                        lx->in_word = false;
                }
        } else if (c == '#' && !lx->in_word) {
                while (!at_eol(p, p->pos))
                        p->pos++, p->col++;
                return;
        } else {
                lex_word_start(p, lx);
                if (c == '\'' || c == '"') {
                        lx->quote = c;
                        lx->qline = p->line;
                        lx->qcol = p->col;
                } else
                        lex_putc(p, lx, c);
        }
        p->pos++, p->col++;
}

/* The end of a physical line that is not continued: the last word, or an unterminated quote. */
static void lex_line_end(struct ks_parser *p, struct tokens *toks, struct lexer *lx) {
        if (lx->quote) {
                ks_err(p, lx->qline, lx->qcol, "unterminated %s quote", lx->quote == '"' ? "double" : "single");
                lx->bad = true;
                lx->in_word = false;
                buf_done(&lx->b);
        }
        if (lx->in_word)
                token_finish(p, toks, &lx->b, &lx->t, lx->eq_line, lx->eq_col);
        if (p->pos < p->size)
                skip_eol(p);
}

/* Read one logical line (physical lines joined by backslash-newline) into words, with shell
 * quoting as Python's shlex does it in POSIX mode: '…' is literal, "…" knows \" and \\, a
 * backslash outside quotes escapes the next character, '#' at the start of a word begins a
 * comment. Returns false at end of input. *ret_bad is set when the line had an error and must be
 * ignored (the error is reported). */
static bool read_logical_line(struct ks_parser *p, struct tokens *toks, bool *ret_bad) {
        tokens_clear(toks);
        *ret_bad = false;
        if (p->pos >= p->size)
                return false;
        if (!check_line_length(p)) {
                *ret_bad = true;
                return true;
        }
        struct lexer lx = {};
        while (!at_eol(p, p->pos)) {
                char c = p->data[p->pos];
                if (c == '\\' && lx.quote != '\'') {
                        int r = lex_backslash(p, &lx);
                        if (r < 0) {
                                *ret_bad = true;
                                buf_done(&lx.b);
                                return true;
                        }
                        if (r > 0)
                                continue;
                }
                if (!lx.quote) {
                        lex_plain(p, toks, &lx, c);
                        continue;
                }
                if (c == lx.quote)
                        lx.quote = 0;
                else {
                        if (c == '\r')
                                lex_stray_cr(p, &lx, "stray carriage return");
                        lex_putc(p, &lx, c);
                }
                p->pos++, p->col++;
        }
        lex_line_end(p, toks, &lx);
        buf_done(&lx.b);
        *ret_bad = lx.bad;
        return true;
}

/* One physical line, raw, for script bodies. The terminator ("\n" or "\r\n") is not included. */
static bool read_raw_line(struct ks_parser *p, const char **ret_s, size_t *ret_len, unsigned *ret_line) {
        if (p->pos >= p->size)
                return false;
        *ret_line = p->line;
        size_t len = physical_line_length(p);
        if (len > KS_LINE_MAX) {
                ks_err(p, p->line, 1, "line too long (%zu bytes; at most %u are allowed)", len, KS_LINE_MAX);
                *ret_s = NULL;
                *ret_len = 0;
                p->pos += len;
                skip_eol(p);
                return true;
        }
        *ret_s = p->data + p->pos;
        *ret_len = len;
        if (len > 0 && p->data[p->pos + len - 1] == '\r' && p->pos + len < p->size)
                (*ret_len)--;
        p->pos += len;
        skip_eol(p);
        return true;
}

/* ---- helpers ---------------------------------------------------------------------------------- */

char *ks_strdup(struct ks_parser *p, const char *s) {
        char *c = strdup(s);
        if (!c)
                p->oom = true;
        return c;
}

void *ks_grow(struct ks_parser *p, void **array, size_t *n, size_t size) {
        if (p->oom)
                return NULL;
        char *a = reallocarray(*array, *n + 1, size);
        if (!a) {
                p->oom = true;
                return NULL;
        }
        *array = a;
        memset(a + *n * size, 0, size);
        return a + (*n)++ * size;
}

struct src ks_mksrc(const struct ks_parser *p, unsigned line, unsigned col) {
        return (struct src) { .file = p->ks->file, .line = line, .col = col };
}

static const char *did_you_mean(const char *word, const char *const *candidates, char **ret_hint) {
        const char *m = closest_match(word, candidates);
        *ret_hint = m ? strprintf("; did you mean '%s'?", m) : NULL;
        return strempty(*ret_hint);
}

bool ks_ifname_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 15 || streq(s, ".") || streq(s, ".."))
                return false;
        for (const char *c = s; *c; c++)
                if (*c == '/' || *c == ':' || isspace((unsigned char) *c) || !isprint((unsigned char) *c))
                        return false;
        return true;
}

/* Split a comma list, reporting empty elements at their approximate column. */
static char **split_list(struct ks_parser *p, const struct ks_val *v, const char *what, bool *ret_ok) {
        char **l = NULL;
        *ret_ok = true;
        const char *s = v->s;
        for (;;) {
                size_t n = strcspn(s, ",");
                if (n == 0) {
                        ks_err(p, v->line, v->col + (unsigned) (s - v->s), "empty element in the list of %s",
                               what);
                        *ret_ok = false;
                } else {
                        char *e = strndup(s, n);
                        if (!e || strv_push(&l, e) < 0) {
                                p->oom = true;
                                *ret_ok = false;
                                break;
                        }
                }
                if (!s[n])
                        break;
                s += n + 1;
        }
        if (!*ret_ok)
                l = strv_free(l);
        return l;
}

/* ---- options ---------------------------------------------------------------------------------- */

struct opt;
typedef bool (*opt_parse_fn)(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj);

struct opt {
        const char *name;
        bool takes_value;
        opt_parse_fn parse;
        size_t offset, src_offset;
        const char *const *choices;
        uint64_t min, max;
};

#define FIELD(obj, o) ((void *) ((char *) (obj) + (o)->offset))

static bool opt_string(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (isempty(v->s)) {
                ks_err(p, v->line, v->col, "'%s' needs a value", o->name);
                return false;
        }
        char **f = FIELD(obj, o);
        free(*f);
        *f = ks_strdup(p, v->s);
        return *f;
}

static bool opt_path(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (v->s[0] != '/') {
                ks_err(p, v->line, v->col, "'%s' needs an absolute path, not '%s'", o->name, v->s);
                return false;
        }
        return opt_string(p, o, v, obj);
}

static bool opt_choice(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        for (const char *const *c = o->choices; *c; c++)
                if (streq(*c, v->s))
                        return opt_string(p, o, v, obj);
        _cleanup_free_ char *hint = NULL, *all = strv_join((char **) o->choices, ", ");
        ks_err(p, v->line, v->col, "invalid value '%s' for '%s' (one of: %s)%s", v->s, o->name, strempty(all),
               did_you_mean(v->s, o->choices, &hint));
        return false;
}

static bool opt_strv(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (isempty(v->s)) {
                ks_err(p, v->line, v->col, "'%s' needs a value", o->name);
                return false;
        }
        bool ok;
        char **l = split_list(p, v, o->name, &ok);
        if (!ok)
                return false;
        char ***f = FIELD(obj, o);
        strv_free(*f);
        *f = l;
        return true;
}

static bool opt_true(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        *(bool *) FIELD(obj, o) = true;
        return true;
}

static bool opt_false(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        *(bool *) FIELD(obj, o) = false;
        return true;
}

static bool opt_yesno(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (parse_bool(v->s, FIELD(obj, o)) < 0) {
                ks_err(p, v->line, v->col, "invalid value '%s' for '%s' (yes or no)", v->s, o->name);
                return false;
        }
        return true;
}

static bool opt_uint32(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        uint32_t x;
        if (parse_uint32_range(v->s, (uint32_t) o->min, (uint32_t) o->max, &x) < 0) {
                ks_err(p, v->line, v->col, "invalid value '%s' for '%s' (a whole number from %" PRIu64 " to %" PRIu64 ")",
                       v->s, o->name, o->min, o->max);
                return false;
        }
        *(uint32_t *) FIELD(obj, o) = x;
        return true;
}

static bool opt_vlanid(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        uint32_t x;
        int r = parse_uint32_range(v->s, 1, 4094, &x);
        if (r < 0) {
                if (streq(v->s, "0") || streq(v->s, "4095"))
                        ks_err(p, v->line, v->col, "VLAN id %s is reserved (use 1..4094)", v->s);
                else
                        ks_err(p, v->line, v->col, "invalid VLAN id '%s' (a number from 1 to 4094)", v->s);
                return false;
        }
        *(uint16_t *) FIELD(obj, o) = (uint16_t) x;
        return true;
}

/* Anaconda sizes are MiB integers; "10G" is a common mistake we name, with the number to write. */
static bool opt_mib(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        uint64_t x, bytes;
        int r = parse_uint64(v->s, &x);
        if (r < 0 || x == 0 || x > (UINT64_C(1) << 40)) {
                if (r < 0 && parse_size(v->s, &bytes) >= 0 && bytes % MiB == 0 && bytes > 0)
                        ks_err(p, v->line, v->col,
                               "'%s' is in MiB and takes a whole number without a unit: write %" PRIu64 ", not '%s'",
                               o->name, bytes / MiB, v->s);
                else
                        ks_err(p, v->line, v->col, "invalid size '%s' for '%s' (a whole number of MiB, at least 1)",
                               v->s, o->name);
                return false;
        }
        *(uint64_t *) FIELD(obj, o) = x;
        return true;
}

static bool opt_ipv4(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        uint32_t a;
        if (parse_ipv4(v->s, &a) < 0) {
                ks_err(p, v->line, v->col, "invalid IPv4 address '%s' for '%s'", v->s, o->name);
                return false;
        }
        if (a == 0) {
                ks_err(p, v->line, v->col, "'%s' may not be 0.0.0.0", o->name);
                return false;
        }
        *(uint32_t *) FIELD(obj, o) = a;
        return true;
}

static bool opt_netmask(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        unsigned prefix;
        uint32_t a;
        if (parse_netmask(v->s, &prefix) < 0) {
                if (parse_ipv4(v->s, &a) >= 0)
                        ks_err(p, v->line, v->col, "netmask '%s' is not contiguous (its one bits must come first)",
                               v->s);
                else
                        ks_err(p, v->line, v->col, "invalid netmask '%s' (dotted, as 255.255.255.0)", v->s);
                return false;
        }
        if (prefix == 0 || prefix > 31) {
                ks_err(p, v->line, v->col, "netmask '%s' leaves no room for hosts on a subnet", v->s);
                return false;
        }
        *(unsigned *) FIELD(obj, o) = prefix;
        return true;
}

static bool opt_hostname(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        const char *why = hostname_invalid_reason(v->s);
        if (why) {
                ks_err(p, v->line, v->col, "invalid host name '%s': %s", v->s, why);
                return false;
        }
        return opt_string(p, o, v, obj);
}

/* A host we talk to: an IPv4 address or a host name. */
static bool opt_server(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        uint32_t a;
        if (parse_ipv4(v->s, &a) >= 0)
                return opt_string(p, o, v, obj);
        bool digits_and_dots = v->s[0] && strspn(v->s, "0123456789.") == strlen(v->s);
        const char *why = digits_and_dots ? "not a valid IPv4 address" : hostname_invalid_reason(v->s);
        if (why) {
                ks_err(p, v->line, v->col, "invalid server '%s' for '%s': %s", v->s, o->name, why);
                return false;
        }
        return opt_string(p, o, v, obj);
}

static bool opt_device(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (!is_mac_address(v->s) && !ks_ifname_valid(v->s)) {
                ks_err(p, v->line, v->col,
                       "invalid device '%s': an interface name (at most 15 characters), a MAC, 'link' or 'bootif'",
                       v->s);
                return false;
        }
        return opt_string(p, o, v, obj);
}

static bool opt_bondslaves(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (!opt_strv(p, o, v, obj))
                return false;
        char **l = *(char ***) FIELD(obj, o);
        bool ok = true;
        for (char **s = l; s && *s; s++) {
                if (is_mac_address(*s) || ks_ifname_valid(*s))
                        continue;
                ks_err(p, v->line, v->col, "invalid bond member '%s' (an interface name or a MAC)", *s);
                ok = false;
        }
        for (char **s = l; s && *s; s++)
                for (char **t = s + 1; *t; t++)
                        if (strcasecmp(*s, *t) == 0) {
                                ks_err(p, v->line, v->col, "bond member '%s' is listed twice", *s);
                                ok = false;
                        }
        return ok;
}

static bool opt_nameserver(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        struct ks_network *n = obj;
        if (isempty(v->s)) {
                ks_err(p, v->line, v->col, "'%s' needs a value", o->name);
                return false;
        }
        bool ok = true;
        const char *s = v->s;
        for (;;) {
                size_t len = strcspn(s, ",");
                _cleanup_free_ char *e = strndup(s, len);
                uint32_t a;
                if (!e) {
                        p->oom = true;
                        return false;
                }
                if (parse_ipv4(e, &a) < 0 || a == 0) {
                        ks_err(p, v->line, v->col + (unsigned) (s - v->s), "invalid name server '%s' (an IPv4 address)",
                               e);
                        ok = false;
                } else {
                        uint32_t *slot = ks_grow(p, (void **) &n->nameservers, &n->n_nameservers, sizeof(uint32_t));
                        if (!slot)
                                return false;
                        *slot = a;
                }
                if (!s[len])
                        break;
                s += len + 1;
        }
        return ok;
}

static bool opt_bootproto(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        struct ks_network *n = obj;
        if (streq(v->s, "dhcp"))
                n->bootproto = KS_BOOTPROTO_DHCP;
        else if (streq(v->s, "static"))
                n->bootproto = KS_BOOTPROTO_STATIC;
        else {
                static const char *const names[] = { "dhcp", "static", NULL };
                _cleanup_free_ char *hint = NULL;
                ks_err(p, v->line, v->col, "invalid --bootproto '%s' (dhcp or static)%s", v->s,
                       did_you_mean(v->s, names, &hint));
                return false;
        }
        return true;
}

static const char *const fstype_names[_KS_FSTYPE_MAX + 1] = {
        [KS_FSTYPE_UNSET] = "", [KS_FSTYPE_EXT4] = "ext4", [KS_FSTYPE_XFS] = "xfs", [KS_FSTYPE_VFAT] = "vfat",
        [KS_FSTYPE_EFI] = "efi", [KS_FSTYPE_SWAP] = "swap", [KS_FSTYPE_BIOSBOOT] = "biosboot",
};

const char *ks_fstype_to_string(enum ks_fstype t) {
        return t < _KS_FSTYPE_MAX ? fstype_names[t] : NULL;
}

static bool opt_fstype(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        for (size_t i = 1; i < _KS_FSTYPE_MAX; i++)
                if (streq(fstype_names[i], v->s)) {
                        *(enum ks_fstype *) FIELD(obj, o) = (enum ks_fstype) i;
                        return true;
                }
        /* File systems Anaconda knows that rackstack does not make: refused by name, not "unknown". */
        static const char *const anaconda_fstypes[] = { "ext2", "ext3", "btrfs", "lvmpv", "raid", "hfs+",
                                                        "prepboot", "appleboot", "ntfs", "iso9660", "mdmember",
                                                        "tmpfs", NULL };
        for (const char *const *a = anaconda_fstypes; *a; a++)
                if (streq(*a, v->s)) {
                        ks_err(p, v->line, v->col,
                               "'--fstype=%s' is refused: rackstack makes ext4, xfs, vfat, efi, swap and biosboot only%s", v->s,
                               (streq(v->s, "lvmpv") || streq(v->s, "raid") || streq(v->s, "btrfs") || streq(v->s, "mdmember")) ? " (LVM, RAID and btrfs layouts are not created)" : "");
                        return false;
                }
        _cleanup_free_ char *hint = NULL;
        ks_err(p, v->line, v->col, "unknown --fstype '%s' (one of: ext4, xfs, vfat, efi, swap, biosboot)%s", v->s,
               did_you_mean(v->s, fstype_names + 1, &hint));
        return false;
}

/* Bond options as Anaconda writes them: "k=v,k=v", or "k=v;k=v" when a value holds a comma. */
static const char *const bondopt_names[] = {
        "mode", "miimon", "lacp_rate", "xmit_hash_policy", "primary", "updelay", "downdelay", "arp_interval",
        "arp_ip_target", "ad_select", "min_links", NULL,
};

/* The kernel's other bonding options (Documentation/networking/bonding.rst): valid in an Anaconda
 * kickstart, which hands them to NetworkManager, but not set by rackstack-firstboot. */
static const char *const bondopt_kernel_only[] = {
        "active_slave", "ad_actor_sys_prio", "ad_actor_system", "ad_user_port_key", "all_slaves_active",
        "arp_all_targets", "arp_missed_max", "arp_validate", "fail_over_mac", "lp_interval", "max_bonds",
        "num_grat_arp", "num_unsol_na", "packets_per_slave", "peer_notif_delay", "primary_reselect",
        "resend_igmp", "tlb_dynamic_lb", "use_carrier", "ns_ip6_target", "coupled_control", NULL,
};

static bool bondopt_value(struct ks_parser *p, struct ks_bondopts *b, size_t key, const char *val, unsigned line,
                          unsigned col) {
        static const char *const modes[] = { "balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad",
                                             "balance-tlb", "balance-alb", NULL };
        static const char *const lacp[] = { "slow", "fast", NULL };
        static const char *const hashes[] = { "layer2", "layer2+3", "layer3+4", "encap2+3", "encap3+4", NULL };
        static const char *const adsel[] = { "stable", "bandwidth", "count", NULL };
        const char *const *names = NULL;
        uint32_t x;
        int i;

        switch (key) {
        case 0: names = modes; break;
        case 2: names = lacp; break;
        case 3: names = hashes; break;
        case 9: names = adsel; break;
        case 1: case 5: case 6: case 7: case 10:
                if (parse_uint32_range(val, 0, key == 10 ? 16 : 600000, &x) < 0) {
                        ks_err(p, line, col, "invalid value '%s' for bond option '%s' (a whole number%s)", val,
                               bondopt_names[key], key == 10 ? " from 0 to 16" : " of milliseconds");
                        return false;
                }
                if (key == 1) b->miimon = x;
                else if (key == 5) b->updelay = x;
                else if (key == 6) b->downdelay = x;
                else if (key == 7) b->arp_interval = x;
                else b->min_links = x;
                return true;
        case 4:
                if (!ks_ifname_valid(val)) {
                        ks_err(p, line, col, "invalid interface name '%s' for bond option 'primary'", val);
                        return false;
                }
                free(b->primary);
                b->primary = ks_strdup(p, val);
                return b->primary;
        case 8: {
                const char *s = val;
                for (;;) {
                        size_t len = strcspn(s, ",");
                        _cleanup_free_ char *e = strndup(s, len);
                        uint32_t a;
                        if (!e) {
                                p->oom = true;
                                return false;
                        }
                        if (parse_ipv4(e, &a) < 0) {
                                ks_err(p, line, col + (unsigned) (s - val), "invalid arp_ip_target '%s' (an IPv4 address)",
                                       e);
                                return false;
                        }
                        uint32_t *slot = ks_grow(p, (void **) &b->arp_ip_targets, &b->n_arp_ip_targets,
                                                 sizeof(uint32_t));
                        if (!slot)
                                return false;
                        *slot = a;
                        if (!s[len])
                                break;
                        s += len + 1;
                }
                if (b->n_arp_ip_targets > 16) {
                        ks_err(p, line, col, "at most 16 arp_ip_target addresses are allowed");
                        return false;
                }
                return true;
        }
        default:
                return false;
        }

        for (i = 0; names[i]; i++)
                if (streq(names[i], val))
                        break;
        /* The kernel also takes the numbers; so do we, but only in range. */
        if (!names[i] && parse_uint32_range(val, 0, 6, &x) >= 0) {
                size_t count = 0;
                while (names[count])
                        count++;
                if (x < count)
                        i = (int) x;
        }
        if (!names[i]) {
                _cleanup_free_ char *hint = NULL, *all = strv_join((char **) names, ", ");
                ks_err(p, line, col, "invalid value '%s' for bond option '%s' (one of: %s, or 0-%zu)%s", val,
                       bondopt_names[key], strempty(all), strv_length((char **) names) - 1,
                       did_you_mean(val, names, &hint));
                return false;
        }
        if (key == 0) b->mode = (enum bond_mode) i;
        else if (key == 2) b->lacp_rate = (enum lacp_rate) i;
        else if (key == 3) b->xmit_hash_policy = (enum xmit_hash) i;
        else b->ad_select = (enum ks_ad_select) i;
        return true;
}

static bool opt_bondopts(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        struct ks_bondopts *b = FIELD(obj, o);
        if (isempty(v->s)) {
                ks_err(p, v->line, v->col, "'%s' needs a value", o->name);
                return false;
        }
        char sep = strchr(v->s, ';') ? ';' : ',';
        bool ok = true;
        const char *s = v->s;
        for (;;) {
                size_t len = strcspn(s, sep == ';' ? ";" : ",");
                unsigned col = v->col + (unsigned) (s - v->s);
                _cleanup_free_ char *item = strndup(s, len);
                if (!item) {
                        p->oom = true;
                        return false;
                }
                char *eq = strchr(item, '=');
                if (len == 0) {
                        ks_err(p, v->line, col, "empty bond option");
                        ok = false;
                } else if (!eq) {
                        if (sep == ',')
                                ks_err(p, v->line, col,
                                       "bond option '%s' is not KEY=VALUE (when a value holds a comma, separate "
                                       "the options with ';')", item);
                        else
                                ks_err(p, v->line, col, "bond option '%s' is not KEY=VALUE", item);
                        ok = false;
                } else {
                        *eq = 0;
                        size_t k;
                        for (k = 0; bondopt_names[k]; k++)
                                if (streq(bondopt_names[k], item))
                                        break;
                        if (!bondopt_names[k] && strv_contains((char **) bondopt_kernel_only, item))
                                ks_warn(p, v->line, col, "bond option '%s' is ignored: rackstack-firstboot does not "
                                        "set it (the kernel's default stays)", item);
                        else if (!bondopt_names[k]) {
                                _cleanup_free_ char *hint = NULL;
                                ks_err(p, v->line, col, "unknown bond option '%s'%s", item,
                                       did_you_mean(item, bondopt_names, &hint));
                                ok = false;
                        } else if (b->set & (1u << k)) {
                                ks_err(p, v->line, col, "bond option '%s' given twice", item);
                                ok = false;
                        } else if (!bondopt_value(p, b, k, eq + 1, v->line, col + (unsigned) (eq + 1 - item)))
                                ok = false;
                        else
                                b->set |= 1u << k;
                }
                if (!s[len])
                        break;
                s += len + 1;
        }
        return ok;
}

#define OPT(n, fn, type, member, ...)                                                                  \
        { .name = n, .takes_value = true, .parse = fn, .offset = offsetof(type, member),              \
          .src_offset = offsetof(type, member##_src), __VA_ARGS__ }
#define OPT2(n, fn, type, member, srcmember, ...)                                                      \
        { .name = n, .takes_value = true, .parse = fn, .offset = offsetof(type, member),              \
          .src_offset = offsetof(type, srcmember), __VA_ARGS__ }
#define FLAG(n, fn, type, member, srcmember)                                                           \
        { .name = n, .takes_value = false, .parse = fn, .offset = offsetof(type, member),             \
          .src_offset = offsetof(type, srcmember) }

/* An option the command's table does not have, at toks->v[*i]. A valid Anaconda option is never
 * "unknown": say what we do with it (refused or ignored) and step over its value; anything else is
 * unknown, with a hint. false where that is an error. */
static bool other_option(struct ks_parser *p, const struct tokens *toks, size_t *i, const char *name,
                         const char *const *names) {
        const struct token *t = &toks->v[*i];
        const struct ks_foreign *f = ks_foreign_option(toks->v[0].text, name);
        if (!f) {
                _cleanup_free_ char *hint = NULL;
                ks_err(p, t->line, t->col, "unknown option '%s' for '%s'%s", name, toks->v[0].text,
                       did_you_mean(name, names, &hint));
                return false;
        }
        bool ok = f->kind != KS_REFUSED;
        if (!ok)
                ks_err(p, t->line, t->col, "'%s %s' is refused: %s", toks->v[0].text, name, f->why);
        else
                ks_warn(p, t->line, t->col, "'%s %s' is ignored: %s", toks->v[0].text, name, f->why);
        if (f->takes_value && !t->has_eq && *i + 1 < toks->n && !startswith(toks->v[*i + 1].text, "--"))
                (*i)++;
        return ok;
}

/* Parse the options of one command line into obj; words that are not options are handed back in
 * order in *ret_pos (indices into toks). */
static bool parse_options(struct ks_parser *p, const struct opt *opts, size_t n_opts, const struct tokens *toks,
                          void *obj, size_t *pos, size_t max_pos, size_t *ret_n_pos) {
        size_t n_pos = 0;
        bool ok = true;
        /* Which token set each option, to name the first one when an option repeats or contradicts. */
        const struct token *seen[32] = {};
        const char *names[33];
        for (size_t i = 0; i < n_opts && i < 32; i++)
                names[i] = opts[i].name;
        names[MIN(n_opts, (size_t) 32)] = NULL;

        for (size_t i = 1; i < toks->n; i++) {
                const struct token *t = &toks->v[i];
                if (!startswith(t->text, "--")) {
                        if (n_pos < max_pos)
                                pos[n_pos] = i;
                        n_pos++;
                        continue;
                }
                size_t nlen = strcspn(t->text, "=");
                _cleanup_free_ char *name = strndup(t->text, nlen);
                if (!name) {
                        p->oom = true;
                        return false;
                }
                size_t k;
                for (k = 0; k < n_opts; k++)
                        if (streq(opts[k].name, name))
                                break;
                if (k == n_opts) {
                        if (!other_option(p, toks, &i, name, names))
                                ok = false;
                        continue;
                }
                const struct opt *o = &opts[k];
                struct ks_val v;
                if (!o->takes_value) {
                        if (t->has_eq) {
                                ks_err(p, t->line, t->col, "option '%s' takes no value", name);
                                ok = false;
                                continue;
                        }
                        v = (struct ks_val) { .s = "", .line = t->line, .col = t->col };
                } else if (t->has_eq)
                        v = (struct ks_val) { .s = t->text + nlen + 1, .line = t->vline, .col = t->vcol };
                else if (i + 1 < toks->n && !startswith(toks->v[i + 1].text, "--")) {
                        i++;
                        v = (struct ks_val) { .s = toks->v[i].text, .line = toks->v[i].line, .col = toks->v[i].col };
                } else {
                        ks_err(p, t->line, t->col, "option '%s' needs a value", name);
                        ok = false;
                        continue;
                }

                const struct token *first = NULL;
                const char *first_name = NULL;
                for (size_t j = 0; j < n_opts && j < 32; j++)
                        if (seen[j] && opts[j].src_offset == o->src_offset) {
                                first = seen[j];
                                first_name = opts[j].name;
                        }
                if (first && !o->takes_value && streq(first_name, o->name)) {
                        /* a flag said twice means it once (Anaconda's argparse takes it) */
                        ks_warn(p, t->line, t->col, "option '%s' given twice (first at %u:%u); once is enough", name,
                                first->line, first->col);
                        continue;
                }
                if (first) {
                        if (streq(first_name, o->name))
                                ks_err(p, t->line, t->col, "option '%s' given twice (first at %u:%u)", name,
                                       first->line, first->col);
                        else
                                ks_err(p, t->line, t->col, "option '%s' contradicts '%s' given at %u:%u", name,
                                       first_name, first->line, first->col);
                        ok = false;
                        continue;
                }
                if (k < 32)
                        seen[k] = t;
                if (!o->parse(p, o, &v, obj)) {
                        ok = false;
                        continue;
                }
                *(struct src *) ((char *) obj + o->src_offset) = ks_mksrc(p, t->line, t->col);
        }
        *ret_n_pos = n_pos;
        return ok;
}

static bool positional(struct ks_parser *p, const struct tokens *toks, const size_t *pos, size_t n_pos,
                       size_t min, size_t max, const char *what) {
        const struct token *cmd = &toks->v[0];
        if (n_pos < min) {
                ks_err(p, cmd->line, cmd->col, "'%s' needs %s", cmd->text, what);
                return false;
        }
        if (n_pos > max) {
                size_t i = max < 8 ? pos[max] : 0;
                const struct token *t = i ? &toks->v[i] : cmd;
                if (max == 0)
                        ks_err(p, t->line, t->col, "unexpected argument '%s' to '%s' (it takes only options)", t->text,
                               cmd->text);
                else
                        ks_err(p, t->line, t->col, "unexpected argument '%s' to '%s'", t->text, cmd->text);
                return false;
        }
        return true;
}

#define MAX_POS 8
#define PARSE_OPTS(opts, obj, min, max, what)                                                               \
        ({                                                                                                   \
                bool _ok = parse_options(p, opts, ELEMENTSOF(opts), toks, obj, pos, MAX_POS, &n_pos);        \
                _ok = positional(p, toks, pos, n_pos, min, max, what) && _ok;                                \
                _ok;                                                                                         \
        })

/* A new entry of a command that may repeat (part, user, sshkey, …), its src set to the line. */
#define NEW_ENTRY(array, n)                                                                                  \
        ({                                                                                                   \
                typeof(*(array)) *_x = ks_grow(p, (void **) &(array), &(n), sizeof(*_x));                   \
                if (_x)                                                                                      \
                        _x->src = ks_mksrc(p, toks->v[0].line, toks->v[0].col);                              \
                _x;                                                                                          \
        })

/* A command that may appear once (its src records where), then its options: the opening of most
 * cmd_* functions. */
#define PARSE_SINGLE(opts, obj, min, max, what) (singleton(p, toks, &(obj)->src) && PARSE_OPTS(opts, obj, min, max, what))

/* ---- commands --------------------------------------------------------------------------------- */

static void network_done(struct ks_network *n) {
        free(n->device);
        strv_free(n->bondslaves);
        free(n->bondopts.primary);
        free(n->bondopts.arp_ip_targets);
        free(n->interfacename);
        free(n->nameservers);
        free(n->hostname);
}

static void part_done(struct ks_part *x) {
        free(x->mount);
        free(x->ondisk);
        free(x->label);
        free(x->fsoptions);
        free(x->mkfsoptions);
        free(x->onpart);
}

static const struct opt network_opts[] = {
        OPT("--device", opt_device, struct ks_network, device),
        OPT("--bondslaves", opt_bondslaves, struct ks_network, bondslaves),
        OPT("--bondopts", opt_bondopts, struct ks_network, bondopts),
        OPT("--vlanid", opt_vlanid, struct ks_network, vlanid),
        OPT("--interfacename", opt_device, struct ks_network, interfacename),
        OPT("--bootproto", opt_bootproto, struct ks_network, bootproto),
        OPT("--ip", opt_ipv4, struct ks_network, ip),
        { .name = "--netmask", .takes_value = true, .parse = opt_netmask, .offset = offsetof(struct ks_network, prefix),
          .src_offset = offsetof(struct ks_network, netmask_src) },
        OPT("--gateway", opt_ipv4, struct ks_network, gateway),
        { .name = "--nameserver", .takes_value = true, .parse = opt_nameserver, .offset = 0,
          .src_offset = offsetof(struct ks_network, nameserver_src) },
        OPT("--hostname", opt_hostname, struct ks_network, hostname),
        OPT("--mtu", opt_uint32, struct ks_network, mtu, .min = 576, .max = 9216),
        FLAG("--nodefroute", opt_true, struct ks_network, nodefroute, nodefroute_src),
        FLAG("--activate", opt_true, struct ks_network, activate, activate_src),
        FLAG("--no-activate", opt_false, struct ks_network, activate, activate_src),
        OPT("--onboot", opt_yesno, struct ks_network, onboot),
};

static void cmd_network(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_network *n = NEW_ENTRY(p->ks->networks, p->ks->n_networks);
        if (!n)
                return;
        n->activate = n->onboot = true;
        /* A line with errors is dropped, so the cross-line checks do not report its echoes. */
        if (!PARSE_OPTS(network_opts, n, 0, 0, "")) {
                network_done(n);
                p->ks->n_networks--;
                return;
        }
        bool hostname_only = !ks_given(n->device_src) && n->hostname && toks->n == 2;
        for (size_t i = 0; hostname_only && i + 1 < p->ks->n_networks; i++)
                if (!p->ks->networks[i].hostname) {
                        /* "network --hostname=X" alone names the host, as in Anaconda: give the name
                         * to the first line that has none. */
                        p->ks->networks[i].hostname = TAKE_PTR(n->hostname);
                        p->ks->networks[i].hostname_src = n->hostname_src;
                        network_done(n);
                        p->ks->n_networks--;
                        return;
                }
        if (!ks_given(n->device_src)) {
                /* Anaconda's default without --device (and without ksdevice=): the first
                 * interface with a link. */
                ks_warn(p, n->src.line, n->src.col,
                        "'network' without --device: the first interface with a link is used, as Anaconda does (--device=link)");
                n->device = ks_strdup(p, "link");
                n->device_src = n->src;
        }
}

static const struct opt ignoredisk_opts[] = {
        OPT("--only-use", opt_strv, struct ks_ignoredisk, only_use),
        OPT("--drives", opt_strv, struct ks_ignoredisk, drives),
};

static bool singleton(struct ks_parser *p, const struct tokens *toks, struct src *src) {
        const struct token *t = &toks->v[0];
        if (ks_given(*src)) {
                ks_err(p, t->line, t->col, "'%s' given twice (first at %u:%u)", t->text, src->line, src->col);
                return false;
        }
        *src = ks_mksrc(p, t->line, t->col);
        return true;
}

static void cmd_ignoredisk(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_ignoredisk *x = &p->ks->ignoredisk;
        if (!PARSE_SINGLE(ignoredisk_opts, x, 0, 0, ""))
                return;
        if (ks_given(x->only_use_src) && ks_given(x->drives_src))
                ks_err(p, x->drives_src.line, x->drives_src.col,
                       "'ignoredisk' takes --only-use or --drives, not both");
        else if (!ks_given(x->only_use_src) && !ks_given(x->drives_src))
                ks_err(p, x->src.line, x->src.col, "'ignoredisk' needs --only-use= or --drives=");
}

static bool opt_clear_none(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        ((struct ks_clearpart *) obj)->mode = KS_CLEARPART_NONE;
        return true;
}

static bool opt_clear_all(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        ((struct ks_clearpart *) obj)->mode = KS_CLEARPART_ALL;
        return true;
}

static bool opt_clear_list(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (!opt_strv(p, o, v, obj))
                return false;
        ((struct ks_clearpart *) obj)->mode = KS_CLEARPART_LIST;
        return true;
}

static const struct opt clearpart_opts[] = {
        FLAG("--none", opt_clear_none, struct ks_clearpart, mode, mode_src),
        FLAG("--all", opt_clear_all, struct ks_clearpart, mode, mode_src),
        OPT2("--list", opt_clear_list, struct ks_clearpart, list, mode_src),
        OPT("--drives", opt_strv, struct ks_clearpart, drives),
        FLAG("--initlabel", opt_true, struct ks_clearpart, initlabel, initlabel_src),
        OPT("--disklabel", opt_choice, struct ks_clearpart, disklabel,
            .choices = (const char *const[]) { "gpt", "msdos", NULL }),
};

static void cmd_clearpart(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_clearpart *x = &p->ks->clearpart;
        (void) PARSE_SINGLE(clearpart_opts, x, 0, 0, "");
}

static void cmd_zerombr(struct ks_parser *p, const struct tokens *toks) {
        if (!singleton(p, toks, &p->ks->zerombr_src))
                return;
        if (toks->n > 1)
                ks_err(p, toks->v[1].line, toks->v[1].col, "'zerombr' takes no arguments");
}

static const struct opt part_opts[] = {
        OPT2("--size", opt_mib, struct ks_part, size_mib, size_src),
        FLAG("--grow", opt_true, struct ks_part, grow, grow_src),
        OPT2("--maxsize", opt_mib, struct ks_part, maxsize_mib, maxsize_src),
        OPT("--ondisk", opt_string, struct ks_part, ondisk),
        OPT2("--ondrive", opt_string, struct ks_part, ondisk, ondisk_src),
        OPT("--fstype", opt_fstype, struct ks_part, fstype),
        OPT("--label", opt_string, struct ks_part, label),
        OPT("--fsoptions", opt_string, struct ks_part, fsoptions),
        OPT("--mkfsoptions", opt_string, struct ks_part, mkfsoptions),
        FLAG("--noformat", opt_true, struct ks_part, noformat, noformat_src),
        OPT("--onpart", opt_string, struct ks_part, onpart),
};

static void cmd_part(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_part *x = NEW_ENTRY(p->ks->parts, p->ks->n_parts);
        if (!x)
                return;
        if (!PARSE_OPTS(part_opts, x, 1, 1, "a mount point, 'swap' or 'biosboot'")) {
                part_done(x);
                p->ks->n_parts--;
                return;
        }
        const struct token *t = &toks->v[pos[0]];
        x->mount_src = ks_mksrc(p, t->line, t->col);
        if (streq(t->text, "swap")) {
                x->kind = KS_PART_SWAP;
                if (x->fstype == KS_FSTYPE_UNSET)
                        x->fstype = KS_FSTYPE_SWAP;
        } else if (streq(t->text, "biosboot")) {
                x->kind = KS_PART_BIOSBOOT;
                if (x->fstype == KS_FSTYPE_UNSET)
                        x->fstype = KS_FSTYPE_BIOSBOOT;
        } else if (t->text[0] == '/') {
                x->kind = KS_PART_MOUNT;
                x->mount = ks_strdup(p, t->text);
                if (strstr(t->text, "//") || strstr(t->text, "/./") || strstr(t->text, "/../") ||
                    endswith(t->text, "/..") || endswith(t->text, "/.") || (t->text[1] && endswith(t->text, "/")))
                        ks_err(p, t->line, t->col, "mount point '%s' is not a normalised absolute path", t->text);
                return;
        } else {
                if (startswith(t->text, "raid.") || startswith(t->text, "pv."))
                        ks_err(p, t->line, t->col, "'%s': RAID and LVM members are not supported", t->text);
                else
                        ks_err(p, t->line, t->col,
                               "'part' needs a mount point (starting with '/'), 'swap' or 'biosboot', not '%s'", t->text);
                part_done(x);
                p->ks->n_parts--;
        }
}

static const struct opt bootloader_opts[] = {
        OPT("--location", opt_choice, struct ks_bootloader, location,
            .choices = (const char *const[]) { "mbr", "none", NULL }),
        OPT("--boot-drive", opt_string, struct ks_bootloader, boot_drive),
        OPT("--append", opt_string, struct ks_bootloader, append),
        OPT("--timeout", opt_uint32, struct ks_bootloader, timeout, .min = 0, .max = 3600),
};

static void cmd_bootloader(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        if (!singleton(p, toks, &p->ks->bootloader.src))
                return;
        PARSE_OPTS(bootloader_opts, &p->ks->bootloader, 0, 0, "");
}

/* A crypt(3) hash as mkpasswd makes them: "$id$…" (yescrypt, sha512, …). */
static bool looks_crypted(const char *s) {
        return s[0] == '$' && strlen(s) >= 4 && strchr(s + 1, '$');
}

/* The password of 'rootpw' or 'user': with --iscrypted a crypt(3) hash, kept as given. Without, it
 * is plaintext, as in most of Anaconda's own tests: hashed here at once (SHA-512 crypt, random
 * salt) with a warning, and the plaintext wiped from text, so no later step, file or log sees it.
 * Returns the hash, or NULL after an error. */
static char *take_password(struct ks_parser *p, char *text, bool iscrypted, unsigned line, unsigned col) {
        if (iscrypted) {
                if (looks_crypted(text))
                        return ks_strdup(p, text);
                ks_err(p, line, col, "the --iscrypted password is not a crypt(3) hash ($id$…)");
                return NULL;
        }
        char *hash = NULL;
        int r = password_hash(text, &hash);
        explicit_bzero(text, strlen(text));
        if (r == -ENOMEM)
                p->oom = true;
        else if (r < 0)
                ks_err(p, line, col, "cannot hash the plaintext password: %s", strerror(-r));
        else
                ks_warn(p, line, col,
                        "a plaintext password: it is hashed at once (SHA-512 crypt) and only the hash is kept; "
                        "the file itself still holds it, so prefer --iscrypted with a crypt(3) hash (mkpasswd -m yescrypt)");
        return hash;
}

static const struct opt rootpw_opts[] = {
        FLAG("--iscrypted", opt_true, struct ks_rootpw, iscrypted, iscrypted_src),
        FLAG("--lock", opt_true, struct ks_rootpw, lock, lock_src),
        FLAG("--plaintext", opt_false, struct ks_rootpw, iscrypted, iscrypted_src),
};

static void cmd_rootpw(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_rootpw *x = &p->ks->rootpw;
        if (!PARSE_SINGLE(rootpw_opts, x, 0, 1, ""))
                return;
        if (n_pos == 0) {
                if (!x->lock)
                        ks_err(p, x->src.line, x->src.col, "'rootpw' needs a password (a hash with --iscrypted), or --lock");
                else if (x->iscrypted)
                        ks_err(p, x->iscrypted_src.line, x->iscrypted_src.col, "'--iscrypted' given without a password");
                return;
        }
        const struct token *t = &toks->v[pos[0]];
        x->password = take_password(p, t->text, x->iscrypted, t->line, t->col);
        if (x->password)
                x->password_src = ks_mksrc(p, t->line, t->col);
}

/* Debian's default NAME_REGEX for users and groups, without the trailing '$' of machine accounts. */
static bool user_name_valid(const char *s) {
        size_t n = strlen(s);
        bool ok = n > 0 && n <= 32 && (islower((unsigned char) s[0]) || s[0] == '_');
        for (const char *c = s; ok && *c; c++)
                ok = islower((unsigned char) *c) || isdigit((unsigned char) *c) || *c == '_' || *c == '-';
        return ok;
}

static bool opt_username(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        if (!user_name_valid(v->s)) {
                ks_err(p, v->line, v->col, "invalid user name '%s' ([a-z_][a-z0-9_-]*, at most 32 characters)", v->s);
                return false;
        }
        return opt_string(p, o, v, obj);
}

static bool opt_password(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        /* Whether it must be a hash is known only after all options are read; the token's copy
         * goes now (cmd_user hashes or checks the kept one). */
        bool ok = opt_string(p, o, v, obj);
        explicit_bzero((char *) v->s, strlen(v->s));
        return ok;
}

/* An absolute path without '..', '//' or anything that is not printable: a home or a shell. */
static bool opt_abspath(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        bool ok = v->s[0] == '/' && !strstr(v->s, "/../") && !endswith(v->s, "/..") && !strstr(v->s, "//") &&
                  strlen(v->s) < 256;
        for (const char *c = v->s; ok && *c; c++)
                ok = isgraph((unsigned char) *c) && *c != ':';
        if (!ok) {
                ks_err(p, v->line, v->col, "'%s' needs an absolute path without '..' or ':', not '%s'", o->name, v->s);
                return false;
        }
        return opt_string(p, o, v, obj);
}

/* The GECOS field of /etc/passwd: no ':' and no line break, or the file would change shape. */
static bool opt_gecos(struct ks_parser *p, const struct opt *o, const struct ks_val *v, void *obj) {
        for (const char *c = v->s; *c; c++)
                if (*c == ':' || iscntrl((unsigned char) *c)) {
                        ks_err(p, v->line, v->col, "'--gecos' may not hold ':' or control characters");
                        return false;
                }
        return opt_string(p, o, v, obj);
}

static const struct opt user_opts[] = {
        OPT("--name", opt_username, struct ks_user, name),
        OPT("--groups", opt_strv, struct ks_user, groups),
        OPT("--password", opt_password, struct ks_user, password),
        OPT("--uid", opt_uint32, struct ks_user, uid, .min = 1000, .max = 59999),
        OPT("--gid", opt_uint32, struct ks_user, gid, .min = 1000, .max = 59999),
        OPT("--homedir", opt_abspath, struct ks_user, homedir),
        OPT("--shell", opt_abspath, struct ks_user, shell),
        OPT("--gecos", opt_gecos, struct ks_user, gecos),
        FLAG("--iscrypted", opt_true, struct ks_user, iscrypted, iscrypted_src),
        FLAG("--plaintext", opt_false, struct ks_user, iscrypted, iscrypted_src),
};

static void cmd_user(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_user *x = NEW_ENTRY(p->ks->users, p->ks->n_users);
        if (!x || !PARSE_OPTS(user_opts, x, 0, 0, ""))
                return;
        if (!x->name)
                ks_err(p, x->src.line, x->src.col, "'user' needs --name=");
        for (size_t i = 1; x->password && i < toks->n; i++)
                if (streq(toks->v[i].text, "--lock"))
                        ks_err(p, toks->v[i].line, toks->v[i].col,
                               "'user --lock' with --password is refused: rackstack would set the password and leave the account open");
        if (x->password) {
                _cleanup_free_ char *given = TAKE_PTR(x->password);
                x->password = take_password(p, given, x->iscrypted, x->password_src.line, x->password_src.col);
                explicit_bzero(given, strlen(given));
        } else if (x->iscrypted)
                ks_err(p, x->iscrypted_src.line, x->iscrypted_src.col, "'--iscrypted' given without --password");
        for (char **g = x->groups; g && *g; g++)
                if (!user_name_valid(*g))
                        ks_err(p, x->groups_src.line, x->groups_src.col, "invalid group name '%s'", *g);
}

static const struct opt sshkey_opts[] = {
        OPT("--username", opt_username, struct ks_sshkey, username),
};

static void cmd_sshkey(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_sshkey *x = NEW_ENTRY(p->ks->sshkeys, p->ks->n_sshkeys);
        if (!x || !PARSE_OPTS(sshkey_opts, x, 1, 1, "a public key (quoted)"))
                return;
        if (!x->username)
                ks_err(p, x->src.line, x->src.col, "'sshkey' needs --username=");
        const struct token *t = &toks->v[pos[0]];
        static const char *const prefixes[] = { "ssh-", "ecdsa-", "sk-ssh-", "sk-ecdsa-" };
        bool ok = false;
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                ok = ok || startswith(t->text, prefixes[i]);
        if (!ok || !strchr(t->text, ' ') || strchr(t->text, '\n')) {
                ks_err(p, t->line, t->col, "not an OpenSSH public key: expected \"TYPE BASE64 [COMMENT]\" in quotes");
                return;
        }
        x->key = ks_strdup(p, t->text);
        x->key_src = ks_mksrc(p, t->line, t->col);
}

static bool timezone_valid(const char *z) {
        if (!*z || z[0] == '/' || strstr(z, "..") || strstr(z, "//") || endswith(z, "/") || strlen(z) > 64)
                return false;
        for (const char *c = z; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr("/_+-", *c))
                        return false;
        return true;
}

/* A command's one positional word, checked: kept with its place, or "invalid WHAT 'WORD'HINT". */
static bool take_word(struct ks_parser *p, const struct token *t, bool (*valid)(const char *), const char *what,
                      const char *hint, char **ret, struct src *ret_src) {
        if (!valid(t->text)) {
                ks_err(p, t->line, t->col, "invalid %s '%s'%s", what, t->text, hint);
                return false;
        }
        *ret = ks_strdup(p, t->text);
        *ret_src = ks_mksrc(p, t->line, t->col);
        return true;
}

static const struct opt timezone_opts[] = {
        FLAG("--utc", opt_true, struct ks_timezone, utc, utc_src),
        FLAG("--isUtc", opt_true, struct ks_timezone, utc, utc_src),
};

static void cmd_timezone(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_timezone *x = &p->ks->timezone;
        if (!PARSE_SINGLE(timezone_opts, x, 1, 1, "a time zone such as Europe/Paris or Etc/UTC"))
                return;
        (void) take_word(p, &toks->v[pos[0]], timezone_valid, "time zone", " (Area/City, as in /usr/share/zoneinfo)",
                         &x->zone, &x->zone_src);
}

static const struct opt timesource_opts[] = {
        OPT("--ntp-server", opt_server, struct ks_timesource, server),
        OPT("--ntp-pool", opt_server, struct ks_timesource, server),
        FLAG("--nts", opt_true, struct ks_timesource, nts, nts_src),
};

static void cmd_timesource(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_timesource *x = NEW_ENTRY(p->ks->timesources, p->ks->n_timesources);
        if (!x || !PARSE_OPTS(timesource_opts, x, 0, 0, ""))
                return;
        if (!x->server) {
                bool disable = false;
                for (size_t i = 1; i < toks->n; i++)
                        disable = disable || streq(toks->v[i].text, "--ntp-disable");
                if (disable) { /* warned about as ignored; nothing else on the line */
                        p->ks->n_timesources--;
                        return;
                }
                ks_err(p, x->src.line, x->src.col, "'timesource' needs --ntp-server= or --ntp-pool=");
                return;
        }
        for (size_t i = 1; i < toks->n; i++)
                if (startswith(toks->v[i].text, "--ntp-pool"))
                        x->pool = true;
}

struct command {
        const char *name;
        void (*parse)(struct ks_parser *p, const struct tokens *toks);
};

/* A name of 1 to max bytes, each a letter, a digit or one of extra: the shape of locales, keymaps
 * and unit names alike. */
static bool word_valid(const char *s, size_t max, const char *extra) {
        if (!*s || strlen(s) > max)
                return false;
        for (const char *c = s; *c; c++)
                if (!isalnum((unsigned char) *c) && !strchr(extra, *c))
                        return false;
        return true;
}

/* A locale as in /usr/share/i18n/SUPPORTED: ll[_CC][.CHARSET][@modifier], or C / C.UTF-8 / POSIX. */
static bool locale_valid(const char *s) {
        return word_valid(s, 64, "_.-@");
}

static const struct opt lang_opts[] = {
        /* more locales to generate: the image's locales package decides what is there */
        OPT("--addsupport", opt_strv, struct ks_lang, addsupport),
};

static void cmd_lang(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_lang *x = &p->ks->lang;
        if (!PARSE_SINGLE(lang_opts, x, 1, 1, "a locale such as en_US.UTF-8"))
                return;
        if (!take_word(p, &toks->v[pos[0]], locale_valid, "locale", " (as en_US.UTF-8)", &x->locale, &x->locale_src))
                return;
        if (x->addsupport)
                ks_warn(p, x->addsupport_src.line, x->addsupport_src.col,
                        "'--addsupport' is ignored: only the system locale is generated (if the image has the locales package)");
}

/* A keymap or X layout name: letters, digits, '-', '_', and for a layout a "LAYOUT (VARIANT)"
 * suffix as Anaconda writes it. */
static bool keymap_valid(const char *s, bool layout) {
        return word_valid(s, 64, layout ? "-_() " : "-_");
}

static const struct opt keyboard_opts[] = {
        OPT("--vckeymap", opt_string, struct ks_keyboard, vckeymap),
        OPT("--xlayouts", opt_strv, struct ks_keyboard, xlayouts),
};

static void cmd_keyboard(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_keyboard *x = &p->ks->keyboard;
        if (!PARSE_SINGLE(keyboard_opts, x, 0, 1, "a keymap (the old form; prefer --vckeymap=)"))
                return;
        if (n_pos == 1 && !x->vckeymap) {
                const struct token *t = &toks->v[pos[0]];
                x->vckeymap = ks_strdup(p, t->text);
                x->vckeymap_src = ks_mksrc(p, t->line, t->col);
        }
        if (x->vckeymap && !keymap_valid(x->vckeymap, false))
                ks_err(p, x->vckeymap_src.line, x->vckeymap_src.col, "invalid keymap '%s'", x->vckeymap);
        for (char **l = x->xlayouts; l && *l; l++)
                if (!keymap_valid(*l, true))
                        ks_err(p, x->xlayouts_src.line, x->xlayouts_src.col, "invalid X layout '%s'", *l);
        if (!x->vckeymap && !x->xlayouts)
                ks_err(p, x->src.line, x->src.col, "'keyboard' needs --vckeymap= or --xlayouts=");
}

static bool unit_name_valid(const char *s) {
        return word_valid(s, 255, ":-_.\\@");
}

static const struct opt services_opts[] = {
        OPT("--enabled", opt_strv, struct ks_services, enabled),
        OPT("--disabled", opt_strv, struct ks_services, disabled),
};

static void cmd_services(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_services *x = &p->ks->services;
        if (!PARSE_SINGLE(services_opts, x, 0, 0, ""))
                return;
        for (char **u = x->enabled; u && *u; u++)
                if (!unit_name_valid(*u))
                        ks_err(p, x->enabled_src.line, x->enabled_src.col, "invalid unit name '%s'", *u);
        for (char **u = x->disabled; u && *u; u++)
                if (!unit_name_valid(*u))
                        ks_err(p, x->disabled_src.line, x->disabled_src.col, "invalid unit name '%s'", *u);
        if (!x->enabled && !x->disabled)
                ks_err(p, x->src.line, x->src.col, "'services' needs --enabled= or --disabled=");
}

static const struct opt firewall_opts[] = {
        FLAG("--enabled", opt_true, struct ks_firewall, enabled, enabled_src),
        FLAG("--enable", opt_true, struct ks_firewall, enabled, enabled_src),
        FLAG("--disabled", opt_true, struct ks_firewall, disabled, disabled_src),
        FLAG("--disable", opt_true, struct ks_firewall, disabled, disabled_src),
        FLAG("--ssh", opt_true, struct ks_firewall, ssh, ssh_src),
        FLAG("--http", opt_true, struct ks_firewall, http, http_src),
        FLAG("--smtp", opt_true, struct ks_firewall, smtp, smtp_src),
        FLAG("--ftp", opt_true, struct ks_firewall, ftp, ftp_src),
        FLAG("--use-system-defaults", opt_true, struct ks_firewall, system_defaults, system_defaults_src),
        OPT("--port", opt_strv, struct ks_firewall, ports),
        OPT("--service", opt_strv, struct ks_firewall, services),
        OPT("--remove-service", opt_strv, struct ks_firewall, remove_services),
        OPT("--trust", opt_strv, struct ks_firewall, trust),
};

/* "8080:tcp", "1000-1010:udp": what --port takes. */
bool ks_firewall_port_parse(const char *s, unsigned *ret_from, unsigned *ret_to, bool *ret_udp) {
        const char *colon = strchr(s, ':');
        if (!colon || (!streq(colon + 1, "tcp") && !streq(colon + 1, "udp")))
                return false;
        _cleanup_free_ char *num = strndup(s, colon - s);
        if (!num)
                return false;
        char *dash = strchr(num, '-');
        if (dash)
                *dash++ = 0;
        uint32_t a, b;
        if (parse_uint32_range(num, 1, 65535, &a) < 0 || parse_uint32_range(dash ? dash : num, 1, 65535, &b) < 0 || b < a)
                return false;
        *ret_from = a, *ret_to = b, *ret_udp = streq(colon + 1, "udp");
        return true;
}

static void cmd_firewall(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        struct ks_firewall *x = &p->ks->firewall;
        if (!PARSE_SINGLE(firewall_opts, x, 0, 0, ""))
                return;
        unsigned a, b;
        bool udp;
        for (char **q = x->ports; q && *q; q++)
                if (!ks_firewall_port_parse(*q, &a, &b, &udp))
                        ks_err(p, x->ports_src.line, x->ports_src.col, "invalid --port '%s' (PORT:tcp, PORT:udp or FROM-TO:tcp)", *q);
        for (char **q = x->services; q && *q; q++)
                if (!unit_name_valid(*q))
                        ks_err(p, x->services_src.line, x->services_src.col, "invalid service name '%s'", *q);
        if (x->enabled && x->disabled)
                ks_err(p, x->disabled_src.line, x->disabled_src.col, "'firewall' is given both --enabled and --disabled");
}

/* reboot, poweroff, shutdown, halt: one of them, what happens once the first boot has finished.
 * Their options (--eject, --kexec) are about the installer's medium and kernel: ignored. */
static void cmd_power(struct ks_parser *p, const struct tokens *toks) {
        const char *w = toks->v[0].text;
        /* As in Anaconda (one handler for the four), the last one wins; a kickstart assembled
         * from parts often has two. */
        if (ks_given(p->ks->power_src))
                ks_warn(p, toks->v[0].line, toks->v[0].col, "'%s' replaces '%s' at %u:%u (the last one applies)", w,
                        p->ks->power == KS_POWER_REBOOT ? "reboot" : p->ks->power == KS_POWER_HALT ? "halt" : "poweroff",
                        p->ks->power_src.line, p->ks->power_src.col);
        for (size_t i = 1; i < toks->n; i++) {
                if (streq(toks->v[i].text, "--eject") || streq(toks->v[i].text, "--kexec"))
                        ks_warn(p, toks->v[i].line, toks->v[i].col,
                                "'%s' is ignored: there is no installer medium or kernel to leave", toks->v[i].text);
                else
                        ks_err(p, toks->v[i].line, toks->v[i].col, "unknown option '%s' for '%s'", toks->v[i].text, w);
        }
        p->ks->power = streq(w, "reboot") ? KS_POWER_REBOOT : streq(w, "halt") ? KS_POWER_HALT : KS_POWER_POWEROFF;
        p->ks->power_src = ks_mksrc(p, toks->v[0].line, toks->v[0].col);
}

static const struct command commands[] = {
        { "network", cmd_network },       { "ignoredisk", cmd_ignoredisk }, { "clearpart", cmd_clearpart },
        { "zerombr", cmd_zerombr },       { "part", cmd_part },             { "partition", cmd_part },
        { "bootloader", cmd_bootloader }, { "rootpw", cmd_rootpw },         { "user", cmd_user },
        { "sshkey", cmd_sshkey },         { "timezone", cmd_timezone },     { "timesource", cmd_timesource },
        { "lang", cmd_lang },             { "keyboard", cmd_keyboard },     { "services", cmd_services },
        { "reboot", cmd_power },          { "poweroff", cmd_power },        { "shutdown", cmd_power },
        { "halt", cmd_power },            { "firewall", cmd_firewall },
};

static const char *const command_names[] = {
        "network", "ignoredisk", "clearpart", "zerombr", "part", "partition", "bootloader", "rootpw", "user",
        "sshkey", "timezone", "timesource", "lang", "keyboard", "services", "reboot", "poweroff", "shutdown",
        "halt", "firewall", "%pre", "%post", "%addon", "%end", NULL,
};


/* ---- sections --------------------------------------------------------------------------------- */

static const struct opt script_opts[] = {
        OPT("--interpreter", opt_path, struct ks_script, interpreter),
        OPT("--log", opt_path, struct ks_script, log),
        FLAG("--erroronfail", opt_true, struct ks_script, erroronfail, erroronfail_src),
};

static bool is_section_header(const char *s, size_t len) {
        /* Only a section header ends a script body; %include and %ksappend in a body are the
         * script's own text, as Anaconda reads them. */
        static const char *const heads[] = { "%pre", "%post", "%addon", "%packages", "%onerror", "%traceback",
                                             "%anaconda", "%pre-install", "%certificate" };
        while (len > 0 && isspace((unsigned char) *s))
                s++, len--;
        for (size_t i = 0; i < ELEMENTSOF(heads); i++) {
                size_t n = strlen(heads[i]);
                if (len >= n && strneq(s, heads[i], n) && (len == n || isspace((unsigned char) s[n])))
                        return true;
        }
        return false;
}

static bool is_end(const char *s, size_t len) {
        while (len > 0 && isspace((unsigned char) *s))
                s++, len--;
        while (len > 0 && isspace((unsigned char) s[len - 1]))
                len--;
        return len == 4 && strneq(s, "%end", 4);
}

/* Skip to the %end of a section we do not read; false if the input ended first. */
static bool skip_section(struct ks_parser *p) {
        const char *s;
        size_t len;
        unsigned line;
        while (read_raw_line(p, &s, &len, &line))
                if (s && is_end(s, len))
                        return true;
        return false;
}

static void section_script(struct ks_parser *p, const struct tokens *toks) {
        size_t pos[MAX_POS], n_pos = 0;
        const struct token *h = &toks->v[0];
        for (size_t i = 1; i < toks->n; i++)
                if (streq(toks->v[i].text, "--nochroot")) {
                        ks_warn(p, toks->v[i].line, toks->v[i].col,
                                "'%s --nochroot' is ignored (the script is not run): it runs in Anaconda's installer environment, outside the installed system, which an image-based first boot does not have",
                                h->text);
                        if (!skip_section(p))
                                ks_err(p, h->line, h->col, "'%s' without '%%end'", h->text);
                        return;
                }
        struct ks_script *x = ks_grow(p, (void **) &p->ks->scripts, &p->ks->n_scripts, sizeof(*x));
        if (!x)
                return;
        x->src = ks_mksrc(p, h->line, h->col);
        x->kind = streq(h->text, "%pre") ? KS_SCRIPT_PRE : KS_SCRIPT_POST;
        PARSE_OPTS(script_opts, x, 0, 0, "");
        x->body_line = p->line;

        struct buf body = {};
        const char *s;
        size_t len;
        unsigned line;
        for (;;) {
                struct cursor save = { p->pos, p->line, p->col };
                if (!read_raw_line(p, &s, &len, &line)) {
                        ks_err(p, h->line, h->col, "'%s' without '%%end'", h->text);
                        break;
                }
                if (s && is_end(s, len))
                        break;
                if (s && is_section_header(s, len)) {
                        /* A forgotten %end: say so, and read the next section as one. */
                        ks_err(p, h->line, h->col, "'%s' without '%%end' (before the section at line %u)", h->text,
                               line);
                        p->pos = save.pos, p->line = save.line, p->col = save.col;
                        break;
                }
                if (s) {
                        const char *cr = memchr(s, '\r', len);
                        if (cr)
                                ks_err(p, line, (unsigned) (cr - s) + 1,
                                       "stray carriage return (only CRLF line ends are accepted)");
                        buf_put(&body, s, len);
                }
                buf_putc(&body, '\n');
        }
        if (body.oom)
                p->oom = true;
        x->body = buf_steal(&body);
        if (!x->body)
                x->body = ks_strdup(p, "");
}

static void section_addon(struct ks_parser *p, const struct tokens *toks) {
        const struct token *h = &toks->v[0];
        if (toks->n < 2) {
                ks_err(p, h->line, h->col, "'%%addon' needs a name (com_rackstack)");
                if (!skip_section(p))
                        ks_err(p, h->line, h->col, "'%%addon' without '%%end'");
                return;
        }
        const struct token *name = &toks->v[1];
        if (!streq(name->text, "com_rackstack")) {
                static const char *const names[] = { "com_rackstack", NULL };
                _cleanup_free_ char *hint = NULL;
                const char *dym = did_you_mean(name->text, names, &hint);
                /* another installer add-on's section (Anaconda skips one it does not have); a near
                 * miss of ours is a typo */
                if (isempty(dym))
                        ks_warn(p, name->line, name->col, "%%addon '%s' is ignored: only com_rackstack is read "
                                "(another add-on's section)", name->text);
                else
                        ks_err(p, name->line, name->col, "unknown %%addon '%s'; only com_rackstack is read%s",
                               name->text, dym);
                if (!skip_section(p))
                        ks_err(p, h->line, h->col, "'%%addon' without '%%end'");
                return;
        }
        if (ks_given(p->ks->addon.src)) {
                ks_err(p, h->line, h->col, "'%%addon com_rackstack' given twice (first at %u:%u)", p->ks->addon.src.line,
                       p->ks->addon.src.col);
                if (!skip_section(p))
                        ks_err(p, h->line, h->col, "'%%addon' without '%%end'");
                return;
        }
        p->ks->addon.src = ks_mksrc(p, h->line, h->col);
        for (size_t i = 2; i < toks->n; i++)
                ks_err(p, toks->v[i].line, toks->v[i].col, "unexpected argument '%s' to '%%addon com_rackstack'",
                       toks->v[i].text);
        unsigned hline = h->line, hcol = h->col;

        struct tokens body = {};
        for (;;) {
                struct cursor save = { p->pos, p->line, p->col };
                bool bad;
                if (!read_logical_line(p, &body, &bad)) {
                        ks_err(p, hline, hcol, "'%%addon' without '%%end'");
                        break;
                }
                if (bad || body.n == 0)
                        continue;
                if (streq(body.v[0].text, "%end")) {
                        if (body.n > 1)
                                ks_err(p, body.v[1].line, body.v[1].col, "unexpected argument after '%%end'");
                        break;
                }
                if (body.v[0].text[0] == '%') {
                        ks_err(p, hline, hcol, "'%%addon' without '%%end' (before '%s' at line %u)", body.v[0].text,
                               body.v[0].line);
                        p->pos = save.pos, p->line = save.line, p->col = save.col;
                        break;
                }
                _cleanup_free_ struct ks_val *words = calloc(body.n, sizeof(struct ks_val));
                if (!words) {
                        p->oom = true;
                        break;
                }
                for (size_t i = 0; i < body.n; i++)
                        words[i] = (struct ks_val) { body.v[i].text, body.v[i].line, body.v[i].col };
                ks_addon_line(p, words, body.n);
        }
        tokens_done(&body);
}

/* ---- driver ----------------------------------------------------------------------------------- */

static void parse_line(struct ks_parser *p, const struct tokens *toks) {
        const struct token *t = &toks->v[0];
        p->n_commands++;

        if (t->text[0] == '%') {
                if (streq(t->text, "%pre") || streq(t->text, "%post"))
                        section_script(p, toks);
                else if (streq(t->text, "%addon"))
                        section_addon(p, toks);
                else if (streq(t->text, "%end"))
                        ks_err(p, t->line, t->col, "'%%end' without a section to end");
                else if (streq(t->text, "%packages") || streq(t->text, "%onerror") ||
                         streq(t->text, "%traceback") || streq(t->text, "%anaconda") ||
                         streq(t->text, "%pre-install") || streq(t->text, "%certificate")) {
                        ks_warn(p, t->line, t->col, "section '%s' is ignored: %s", t->text,
                                streq(t->text, "%packages") ? "the image already holds its packages (the role decides them)" :
                                streq(t->text, "%pre-install") ? "there is no installation step to run it before" :
                                streq(t->text, "%anaconda") ? "it configures Anaconda's installer session" :
                                streq(t->text, "%certificate") ? "rackstack-firstboot does not install certificates yet: the image's trust store stays" :
                                "it runs when Anaconda fails, which an image-based first boot has no part of");
                        if (!skip_section(p))
                                ks_err(p, t->line, t->col, "'%s' without '%%end'", t->text);
                } else if (streq(t->text, "%include") || streq(t->text, "%ksappend"))
                        ks_err(p, t->line, t->col, "'%s' is not supported: a rackstack kickstart is one self-contained file",
                               t->text);
                else {
                        _cleanup_free_ char *hint = NULL;
                        ks_err(p, t->line, t->col, "unknown section '%s' (rackstack reads %%pre, %%post and %%addon)%s",
                               t->text, did_you_mean(t->text, command_names, &hint));
                        if (!skip_section(p))
                                ks_err(p, t->line, t->col, "'%s' without '%%end'", t->text);
                }
                return;
        }

        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, t->text)) {
                        commands[i].parse(p, toks);
                        return;
                }
        const struct ks_foreign *f = ks_foreign_command(t->text);
        if (f) {
                if (f->kind == KS_REFUSED)
                        ks_err(p, t->line, t->col, "'%s' is refused: %s", t->text, f->why);
                else
                        ks_warn(p, t->line, t->col, "'%s' is ignored: %s", t->text, f->why);
                return;
        }
        _cleanup_free_ char *hint = NULL;
        ks_err(p, t->line, t->col, "unknown command '%s'%s", t->text, did_you_mean(t->text, command_names, &hint));
}

/* Bytes that make the input not a text file stop the parse: we would only report noise after them. */
static bool check_binary(struct ks_parser *p) {
        unsigned line = 1, col = 1;
        for (size_t i = p->pos; i < p->size; i++) {
                if (p->data[i] == 0) {
                        ks_err(p, line, col, "NUL byte in the kickstart (is this a text file?)");
                        return false;
                }
                if (p->data[i] == '\n')
                        line++, col = 1;
                else
                        col++;
        }
        return true;
}

int ks_parse_buffer(const char *name, const char *data, size_t size, struct diags *d, struct ks **ret) {
        _cleanup_(ks_freep) struct ks *ks = calloc(1, sizeof(struct ks));
        if (!ks)
                return -ENOMEM;
        ks->file = strdup(name ? name : "<kickstart>");
        if (!ks->file)
                return -ENOMEM;
        struct ks_parser p = { .ks = ks, .d = d, .data = data ? data : "", .size = data ? size : 0, .line = 1,
                               .col = 1 };
        size_t errors_before = d->n_errors;
        p.errors_at_start = errors_before;

        /* A UTF-8 byte order mark, as Windows editors write it, carries no meaning: skip it. */
        if (p.size >= 3 && memcmp(p.data, "\xef\xbb\xbf", 3) == 0)
                p.pos = 3;

        if (check_binary(&p)) {
                struct tokens toks = {};
                for (;;) {
                        bool bad;
                        if (!read_logical_line(&p, &toks, &bad))
                                break;
                        if (p.oom)
                                break;
                        if (!bad && toks.n > 0)
                                parse_line(&p, &toks);
                }
                tokens_done(&toks);
                if (!p.oom)
                        ks_validate(&p);
        }
        if (p.oom || d->oom)
                return -ENOMEM;
        if (d->n_errors > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(ks);
        return 0;
}

bool ks_has_secrets(const struct ks *ks) {
        if (ks->rootpw.password)
                return true;
        for (size_t i = 0; i < ks->n_users; i++)
                if (ks->users[i].password)
                        return true;
        return false;
}

static const struct src *first_secret(const struct ks *ks) {
        if (ks->rootpw.password)
                return &ks->rootpw.password_src;
        for (size_t i = 0; i < ks->n_users; i++)
                if (ks->users[i].password)
                        return &ks->users[i].password_src;
        return NULL;
}

int ks_load_file(const char *path, struct diags *d, struct ks **ret) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0) {
                int r = -errno;
                diag_error(d, path, 0, 0, "cannot open: %s", strerror(-r));
                return r;
        }
        struct stat st;
        if (fstat(fd, &st) < 0) {
                int r = -errno;
                diag_error(d, path, 0, 0, "cannot stat: %s", strerror(-r));
                return r;
        }
        if (!S_ISREG(st.st_mode)) {
                diag_error(d, path, 0, 0, "not a regular file");
                return -EINVAL;
        }
        if (st.st_size > KS_FILE_MAX) {
                diag_error(d, path, 0, 0, "file too large (%lld bytes; at most %u)", (long long) st.st_size,
                           KS_FILE_MAX);
                return -EFBIG;
        }
        struct buf b = {};
        char chunk[16384];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        buf_done(&b);
                        diag_error(d, path, 0, 0, "read failed: %s", strerror(-r));
                        return r;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > KS_FILE_MAX) {
                        buf_done(&b);
                        diag_error(d, path, 0, 0, "file too large (at most %u bytes)", KS_FILE_MAX);
                        return -EFBIG;
                }
                buf_put(&b, chunk, (size_t) n);
        }
        size_t size = b.len;
        _cleanup_free_ char *data = buf_steal(&b);
        if (!data && size > 0)
                return -ENOMEM;

        _cleanup_(ks_freep) struct ks *ks = NULL;
        int r = ks_parse_buffer(path, data, size, d, &ks);
        if (data)
                explicit_bzero(data, size); /* it may hold password hashes */
        if (r < 0)
                return r;
        const struct src *s = first_secret(ks);
        if (s && (st.st_mode & 077)) {
                diag_error(d, path, s->line, s->col,
                           "the file holds a password hash but has mode %04o (readable by group or others); "
                           "chmod 0600 it",
                           (unsigned) (st.st_mode & 07777));
                return -EACCES;
        }
        *ret = TAKE_PTR(ks);
        return 0;
}

struct ks *ks_free(struct ks *ks) {
        if (!ks)
                return NULL;
        for (size_t i = 0; i < ks->n_networks; i++)
                network_done(&ks->networks[i]);
        free(ks->networks);
        strv_free(ks->ignoredisk.only_use);
        strv_free(ks->ignoredisk.drives);
        strv_free(ks->clearpart.list);
        strv_free(ks->clearpart.drives);
        free(ks->clearpart.disklabel);
        for (size_t i = 0; i < ks->n_parts; i++)
                part_done(&ks->parts[i]);
        free(ks->parts);
        free(ks->bootloader.location);
        free(ks->bootloader.boot_drive);
        free(ks->bootloader.append);
        if (ks->rootpw.password) {
                explicit_bzero(ks->rootpw.password, strlen(ks->rootpw.password));
                free(ks->rootpw.password);
        }
        for (size_t i = 0; i < ks->n_users; i++) {
                struct ks_user *u = &ks->users[i];
                free(u->name);
                strv_free(u->groups);
                free(u->homedir);
                free(u->shell);
                free(u->gecos);
                if (u->password) {
                        explicit_bzero(u->password, strlen(u->password));
                        free(u->password);
                }
        }
        free(ks->users);
        for (size_t i = 0; i < ks->n_sshkeys; i++) {
                free(ks->sshkeys[i].username);
                free(ks->sshkeys[i].key);
        }
        free(ks->sshkeys);
        free(ks->timezone.zone);
        free(ks->lang.locale);
        strv_free(ks->lang.addsupport);
        free(ks->keyboard.vckeymap);
        strv_free(ks->keyboard.xlayouts);
        strv_free(ks->services.enabled);
        strv_free(ks->services.disabled);
        strv_free(ks->firewall.ports);
        strv_free(ks->firewall.services);
        strv_free(ks->firewall.remove_services);
        strv_free(ks->firewall.trust);
        for (size_t i = 0; i < ks->n_timesources; i++)
                free(ks->timesources[i].server);
        free(ks->timesources);
        for (size_t i = 0; i < ks->n_scripts; i++) {
                free(ks->scripts[i].interpreter);
                free(ks->scripts[i].log);
                free(ks->scripts[i].body);
        }
        free(ks->scripts);
        ks_addon_done(&ks->addon);
        free(ks->file);
        free(ks);
        return NULL;
}
