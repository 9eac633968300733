/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <yaml.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"
#include "yaml-tree.h"

/* Our inputs are small configuration files; anything beyond this is a mistake or an attack. */
#define YAML_MAX_SIZE (4 * MiB)
#define YAML_MAX_DEPTH 64

const char *ynode_type_name(enum ynode_type t) {
        switch (t) {
        case YNODE_SCALAR: return "a scalar";
        case YNODE_SEQ: return "a list";
        case YNODE_MAP: return "a mapping";
        }
        return "?";
}

static struct ynode *ynode_new(enum ynode_type type, const char *file, const yaml_mark_t *m) {
        struct ynode *n = calloc(1, sizeof *n);
        if (!n)
                return NULL;
        n->type = type;
        n->file = strdup(file);
        if (!n->file) {
                free(n);
                return NULL;
        }
        n->line = m->line + 1;
        n->col = m->column + 1;
        return n;
}

struct ynode *ynode_free(struct ynode *n) {
        if (!n)
                return NULL;
        free(n->file);
        free(n->scalar);
        for (size_t i = 0; n->type == YNODE_SEQ && i < n->n; i++)
                ynode_free(n->items[i]);
        for (size_t i = 0; n->type == YNODE_MAP && i < n->n; i++) {
                ynode_free(n->pairs[i].key);
                ynode_free(n->pairs[i].value);
        }
        free(n->items);
        free(n->pairs);
        free(n);
        return NULL;
}

static int seq_append(struct ynode *seq, struct ynode *item) {
        struct ynode **items = realloc(seq->items, (seq->n + 1) * sizeof(struct ynode *));
        if (!items)
                return -ENOMEM;
        seq->items = items;
        seq->items[seq->n++] = item;
        return 0;
}

static int map_append(struct ynode *map, struct ynode *key, struct ynode *value) {
        struct ypair *pairs = realloc(map->pairs, (map->n + 1) * sizeof(struct ypair));
        if (!pairs)
                return -ENOMEM;
        map->pairs = pairs;
        map->pairs[map->n++] = (struct ypair) { key, value };
        return 0;
}

struct loader {
        yaml_parser_t parser;
        const char *file;
        struct diags *diags;
};

static int next_event(struct loader *l, yaml_event_t *ev) {
        if (!yaml_parser_parse(&l->parser, ev)) {
                diag_error(l->diags, l->file, (unsigned) l->parser.problem_mark.line + 1,
                           (unsigned) l->parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
                           strna(l->parser.problem), l->parser.context ? " " : "", strempty(l->parser.context));
                return -EINVAL;
        }
        return 0;
}

static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth, struct ynode **ret);

static int load_children(struct loader *l, struct ynode *n, unsigned depth) {
        for (;;) {
                yaml_event_t ev;
                int r = next_event(l, &ev);
                if (r < 0)
                        return r;
                if (ev.type == YAML_SEQUENCE_END_EVENT || ev.type == YAML_MAPPING_END_EVENT) {
                        yaml_event_delete(&ev);
                        return 0;
                }
                struct ynode *child = NULL;
                r = load_node(l, &ev, depth + 1, &child);
                yaml_event_delete(&ev);
                if (r < 0)
                        return r;

                if (n->type == YNODE_SEQ) {
                        r = seq_append(n, child);
                        if (r < 0) {
                                ynode_free(child);
                                return r;
                        }
                        continue;
                }

                /* A mapping: child is the key; the value follows. */
                if (child->type != YNODE_SCALAR) {
                        diag_error(l->diags, l->file, child->line, child->col, "mapping keys must be plain scalars");
                        ynode_free(child);
                        return -EINVAL;
                }
                for (size_t i = 0; i < n->n; i++)
                        if (streq(n->pairs[i].key->scalar, child->scalar)) {
                                diag_error(l->diags, l->file, child->line, child->col,
                                           "duplicate key '%s' (first at line %u)", child->scalar,
                                           n->pairs[i].key->line);
                                ynode_free(child);
                                return -EINVAL;
                        }
                yaml_event_t vev;
                r = next_event(l, &vev);
                if (r < 0) {
                        ynode_free(child);
                        return r;
                }
                struct ynode *value = NULL;
                r = load_node(l, &vev, depth + 1, &value);
                yaml_event_delete(&vev);
                if (r < 0) {
                        ynode_free(child);
                        return r;
                }
                r = map_append(n, child, value);
                if (r < 0) {
                        ynode_free(child);
                        ynode_free(value);
                        return r;
                }
        }
}


/* Match s against a small anchored pattern language: the YAML 1.1 (yaml.org/type) and 1.2 core
 * schema differences we refuse are easier to read as code than as regexes. */
static bool all_of(const char *s, const char *set) {
        return *s && strspn(s, set) == strlen(s);
}

/* True for the plain scalars that YAML 1.1 tools (PyYAML, yq v3, Ansible) and YAML 1.2 tools
 * (libyaml-based readers that follow the core schema, yq v4, Go's yaml.v3) resolve to different
 * values. We read scalars as text, so a profile meaning one thing to us and another to a linter or
 * a templating tool is exactly the trap we refuse; quoting makes the text a string in both. */
static const char *yaml_version_trap(const char *s) {
        static const char *const bools11[] = { "y", "Y", "n", "N", "yes", "Yes", "YES", "no", "No", "NO",
                                               "on", "On", "ON", "off", "Off", "OFF", NULL };
        for (const char *const *b = bools11; *b; b++)
                if (streq(s, *b))
                        return "is a boolean in YAML 1.1 but a string in YAML 1.2: write true or false, or quote it";
        const char *d = s + (*s == '-' || *s == '+');
        if (d[0] == '0' && (d[1] == 'x' || d[1] == 'X') && d[2])
                return "is a hexadecimal number in one YAML version and not in the other: write it in decimal, or quote it";
        if (d[0] == '0' && (d[1] == 'o' || d[1] == 'b') && d[2] && all_of(d + 2, "0123456789_"))
                return "is an octal or binary number in one YAML version and a string in the other: write it in decimal, or quote it";
        if (d[0] == '0' && d[1] && all_of(d + 1, "0123456789_"))
                return "has a leading zero: YAML 1.1 reads it as octal, YAML 1.2 as decimal; write it without the zero, or quote it";
        if (all_of(d, "0123456789_") && strchr(d, '_') && d[0] != '_')
                return "has '_' digit separators, a number in YAML 1.1 but a string in YAML 1.2: write the digits alone, or quote it";
        /* Sexagesimal ints (1.1 only): 1:20, 190:20:30 — also catches MAC-like all-digit groups. */
        if (d[0] >= '1' && d[0] <= '9' && strchr(d, ':') && all_of(d, "0123456789_:")) {
                bool ok = true;
                for (const char *g = strchr(d, ':'); g && ok; g = strchr(g + 1, ':')) {
                        size_t n = strspn(g + 1, "0123456789");
                        ok = (n == 1 || n == 2) && (n == 1 || g[1] <= '5') && (g[1 + n] == ':' || !g[1 + n]);
                }
                if (ok)
                        return "is a base-60 number in YAML 1.1 but a string in YAML 1.2: quote it";
        }
        /* 1e3: a float in YAML 1.2's core schema, a string in 1.1 (whose floats need a dot). */
        const char *e = d + strspn(d, "0123456789");
        if (e > d && (*e == 'e' || *e == 'E')) {
                e++;
                e += (*e == '-' || *e == '+');
                if (all_of(e, "0123456789"))
                        return "is a number in YAML 1.2 but a string in YAML 1.1: quote it";
        }
        return NULL;
}

/* Control characters are in no value we write into a config or a script on purpose: a newline in a
 * VLAN name becomes a line of pg_hba.conf. Checked for every scalar, keys too, quoted or not. */
static const char *control_char(const char *s, size_t *ret_at) {
        for (size_t i = 0; s[i]; i++) {
                unsigned char c = (unsigned char) s[i];
                bool c1 = c == 0xc2 && (unsigned char) s[i + 1] >= 0x80 && (unsigned char) s[i + 1] <= 0x9f;
                if (c < 0x20 || c == 0x7f || c1) {
                        *ret_at = i;
                        return c == '\n' ? "a line break" : c == '\t' ? "a tab" : "a control character";
                }
        }
        return NULL;
}

/* The message for a scalar we refuse, or NULL. Thread-unsafe static buffer: the loader is not
 * shared between threads. */
static const char *yaml_scalar_refusal(const char *s, bool quoted_or_block) {
        static char msg[512];
        size_t at;
        const char *what = control_char(s, &at);
        if (what) {
                snprintf(msg, sizeof msg, "%s (byte 0x%02x) at character %zu of a value: control characters are refused in every value",
                         what, (unsigned char) s[at] == 0xc2 ? (unsigned char) s[at + 1] : (unsigned char) s[at], at + 1);
                return msg;
        }
        if (quoted_or_block)
                return NULL;
        const char *trap = yaml_version_trap(s);
        if (trap) {
                snprintf(msg, sizeof msg, "'%.64s' %s", s, trap);
                return msg;
        }
        return NULL;
}

static int load_node(struct loader *l, yaml_event_t *ev, unsigned depth, struct ynode **ret) {
        if (depth > YAML_MAX_DEPTH) {
                diag_error(l->diags, l->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
                           "nesting deeper than %d levels", YAML_MAX_DEPTH);
                return -EINVAL;
        }

        const char *anchor = NULL, *tag = NULL;
        switch (ev->type) {
        case YAML_ALIAS_EVENT:
                diag_error(l->diags, l->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
                           "YAML aliases are not supported; write the value out");
                return -EINVAL;
        case YAML_SCALAR_EVENT:
                anchor = (const char *) ev->data.scalar.anchor;
                tag = (const char *) ev->data.scalar.tag;
                break;
        case YAML_SEQUENCE_START_EVENT:
                anchor = (const char *) ev->data.sequence_start.anchor;
                tag = (const char *) ev->data.sequence_start.tag;
                break;
        case YAML_MAPPING_START_EVENT:
                anchor = (const char *) ev->data.mapping_start.anchor;
                tag = (const char *) ev->data.mapping_start.tag;
                break;
        default:
                diag_error(l->diags, l->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
                           "unexpected YAML event");
                return -EINVAL;
        }
        if (anchor || tag) {
                diag_error(l->diags, l->file, ev->start_mark.line + 1, ev->start_mark.column + 1,
                           "YAML %s are not supported", anchor ? "anchors" : "tags");
                return -EINVAL;
        }

        struct ynode *n;
        if (ev->type == YAML_SCALAR_EVENT) {
                n = ynode_new(YNODE_SCALAR, l->file, &ev->start_mark);
                if (!n)
                        return -ENOMEM;
                n->scalar = strndup((const char *) ev->data.scalar.value, ev->data.scalar.length);
                if (!n->scalar) {
                        ynode_free(n);
                        return -ENOMEM;
                }
                if (strlen(n->scalar) != ev->data.scalar.length) {
                        diag_error(l->diags, l->file, n->line, n->col, "NUL byte in a value");
                        ynode_free(n);
                        return -EINVAL;
                }
                n->quoted = ev->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
                            ev->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
                const char *why = yaml_scalar_refusal(n->scalar, n->quoted || ev->data.scalar.style !=
                                                                                   YAML_PLAIN_SCALAR_STYLE);
                if (why) {
                        diag_error(l->diags, l->file, n->line, n->col, "%s", why);
                        ynode_free(n);
                        return -EINVAL;
                }
                *ret = n;
                return 0;
        }

        n = ynode_new(ev->type == YAML_SEQUENCE_START_EVENT ? YNODE_SEQ : YNODE_MAP, l->file, &ev->start_mark);
        if (!n)
                return -ENOMEM;
        int r = load_children(l, n, depth);
        if (r < 0) {
                ynode_free(n);
                return r;
        }
        *ret = n;
        return 0;
}

int yaml_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct ynode **ret) {
        if (size > YAML_MAX_SIZE) {
                diag_error(d, name, 0, 0, "file is larger than %llu bytes", (unsigned long long) YAML_MAX_SIZE);
                return -EFBIG;
        }
        if (memchr(data, 0, size)) {
                const char *z = memchr(data, 0, size);
                unsigned line = 1, col = 1;
                for (const char *p = data; p < z; p++)
                        if (*p == '\n') {
                                line++;
                                col = 1;
                        } else
                                col++;
                diag_error(d, name, line, col, "NUL byte in file");
                return -EINVAL;
        }

        struct loader l = { .file = name, .diags = d };
        if (!yaml_parser_initialize(&l.parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&l.parser, (const unsigned char *) data, size);

        struct ynode *root = NULL;
        int r = 0;
        bool in_doc = false;
        for (;;) {
                yaml_event_t ev;
                r = next_event(&l, &ev);
                if (r < 0)
                        break;
                yaml_event_type_t t = ev.type;
                if (t == YAML_STREAM_END_EVENT) {
                        yaml_event_delete(&ev);
                        break;
                }
                if (t == YAML_STREAM_START_EVENT || t == YAML_DOCUMENT_END_EVENT) {
                        yaml_event_delete(&ev);
                        continue;
                }
                if (t == YAML_DOCUMENT_START_EVENT) {
                        if (in_doc || root) {
                                diag_error(d, name, ev.start_mark.line + 1, ev.start_mark.column + 1,
                                           "only one YAML document per file");
                                yaml_event_delete(&ev);
                                r = -EINVAL;
                                break;
                        }
                        in_doc = true;
                        yaml_event_delete(&ev);
                        continue;
                }
                r = load_node(&l, &ev, 0, &root);
                yaml_event_delete(&ev);
                if (r < 0)
                        break;
                in_doc = false;
        }
        yaml_parser_delete(&l.parser);

        if (r < 0) {
                ynode_free(root);
                return r;
        }
        if (!root) {
                yaml_mark_t m = {};
                root = ynode_new(YNODE_MAP, name, &m);
                if (!root)
                        return -ENOMEM;
        }
        *ret = root;
        return 0;
}

int yaml_load_file(const char *path, struct diags *d, struct ynode **ret) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_full(AT_FDCWD, path, YAML_MAX_SIZE, &data, &size);
        if (r == -EFBIG) {
                diag_error(d, path, 0, 0, "file is larger than %llu bytes", (unsigned long long) YAML_MAX_SIZE);
                return r;
        }
        if (r < 0) {
                diag_error(d, path, 0, 0, "cannot read: %s", strerror(-r));
                return r;
        }
        return yaml_load_buffer(path, data, size, d, ret);
}

struct ynode *ynode_copy(const struct ynode *n) {
        struct ynode *c = calloc(1, sizeof *c);
        if (!c)
                return NULL;
        *c = (struct ynode) { .type = n->type, .line = n->line, .col = n->col, .quoted = n->quoted };
        c->file = strdup(n->file);
        if (!c->file)
                return ynode_free(c);
        if (n->scalar && !(c->scalar = strdup(n->scalar)))
                return ynode_free(c);
        for (size_t i = 0; n->type == YNODE_SEQ && i < n->n; i++) {
                struct ynode *x = ynode_copy(n->items[i]);
                if (!x || seq_append(c, x) < 0) {
                        ynode_free(x);
                        return ynode_free(c);
                }
        }
        for (size_t i = 0; n->type == YNODE_MAP && i < n->n; i++) {
                struct ynode *k = ynode_copy(n->pairs[i].key), *v = ynode_copy(n->pairs[i].value);
                if (!k || !v || map_append(c, k, v) < 0) {
                        ynode_free(k);
                        ynode_free(v);
                        return ynode_free(c);
                }
        }
        return c;
}

struct ynode *ynode_get(const struct ynode *n, const char *key) {
        if (!n || n->type != YNODE_MAP)
                return NULL;
        for (size_t i = 0; i < n->n; i++)
                if (streq(n->pairs[i].key->scalar, key))
                        return n->pairs[i].value;
        return NULL;
}

const char *ynode_get_scalar(const struct ynode *n, const char *key) {
        struct ynode *v = ynode_get(n, key);
        return v && v->type == YNODE_SCALAR ? v->scalar : NULL;
}

static int relocate(struct ynode *n, const struct ynode *to) {
        char *f = strdup(to->file);
        if (!f)
                return -ENOMEM;
        free(n->file);
        n->file = f;
        n->line = to->line;
        n->col = to->col;
        return 0;
}

static bool seq_is_named(const struct ynode *s) {
        for (size_t i = 0; i < s->n; i++)
                if (!ynode_get_scalar(s->items[i], "name"))
                        return false;
        return true;
}

struct ynode *ynode_merge(const struct ynode *base, const struct ynode *overlay) {
        if (!base)
                return ynode_copy(overlay);
        if (!overlay)
                return ynode_copy(base);

        if (base->type == YNODE_MAP && overlay->type == YNODE_MAP) {
                struct ynode *m = ynode_copy(base);
                if (!m)
                        return NULL;
                /* The merged node belongs to the more derived file: errors about it point there. */
                if (relocate(m, overlay) < 0)
                        return ynode_free(m);
                for (size_t i = 0; i < overlay->n; i++) {
                        const struct ypair *op = &overlay->pairs[i];
                        size_t j;
                        for (j = 0; j < m->n; j++)
                                if (streq(m->pairs[j].key->scalar, op->key->scalar))
                                        break;
                        if (j < m->n) {
                                struct ynode *merged = ynode_merge(m->pairs[j].value, op->value);
                                if (!merged)
                                        return ynode_free(m);
                                ynode_free(m->pairs[j].value);
                                m->pairs[j].value = merged;
                        } else {
                                struct ynode *k = ynode_copy(op->key), *v = ynode_copy(op->value);
                                if (!k || !v || map_append(m, k, v) < 0) {
                                        ynode_free(k);
                                        ynode_free(v);
                                        return ynode_free(m);
                                }
                        }
                }
                return m;
        }

        if (base->type == YNODE_SEQ && overlay->type == YNODE_SEQ) {
                bool named = seq_is_named(base) && seq_is_named(overlay);
                struct ynode *s = ynode_copy(base);
                if (!s)
                        return NULL;
                if (relocate(s, overlay) < 0)
                        return ynode_free(s);
                for (size_t i = 0; i < overlay->n; i++) {
                        const struct ynode *item = overlay->items[i];
                        size_t j = s->n;
                        if (named)
                                for (j = 0; j < s->n; j++)
                                        if (streq(ynode_get_scalar(s->items[j], "name"),
                                                  ynode_get_scalar(item, "name")))
                                                break;
                        if (j < s->n) {
                                struct ynode *merged = ynode_merge(s->items[j], item);
                                if (!merged)
                                        return ynode_free(s);
                                ynode_free(s->items[j]);
                                s->items[j] = merged;
                        } else {
                                struct ynode *x = ynode_copy(item);
                                if (!x || seq_append(s, x) < 0) {
                                        ynode_free(x);
                                        return ynode_free(s);
                                }
                        }
                }
                return s;
        }

        return ynode_copy(overlay);
}

static bool needs_quotes(const struct ynode *n) {
        const char *s = n->scalar;
        if (n->quoted || !*s || isspace((unsigned char) s[0]) || isspace((unsigned char) s[strlen(s) - 1]))
                return true;
        if (strchr("-?:,[]{}#&*!|>'\"%@`", s[0]))
                return !(s[0] == '-' && s[1] && !isspace((unsigned char) s[1])) || strchr(s, '#');
        return strstr(s, ": ") || strstr(s, " #") || strchr(s, '\n') || endswith(s, ":");
}

static void dump_scalar(const struct ynode *n, struct buf *b) {
        if (!needs_quotes(n)) {
                buf_puts(b, n->scalar);
                return;
        }
        buf_putc(b, '"');
        for (const char *p = n->scalar; *p; p++) {
                if (*p == '"' || *p == '\\')
                        buf_putc(b, '\\');
                if (*p == '\n') {
                        buf_puts(b, "\\n");
                        continue;
                }
                buf_putc(b, *p);
        }
        buf_putc(b, '"');
}

static void dump_node(const struct ynode *n, unsigned indent, struct buf *b);

static void dump_map_entries(const struct ynode *n, unsigned indent, bool first_inline, struct buf *b) {
        for (size_t i = 0; i < n->n; i++) {
                if (i > 0 || !first_inline)
                        buf_printf(b, "%*s", (int) indent, "");
                dump_scalar(n->pairs[i].key, b);
                const struct ynode *v = n->pairs[i].value;
                if (v->type == YNODE_SCALAR) {
                        buf_puts(b, ": ");
                        dump_scalar(v, b);
                        buf_putc(b, '\n');
                } else if (v->n == 0)
                        buf_puts(b, v->type == YNODE_SEQ ? ": []\n" : ": {}\n");
                else {
                        buf_puts(b, ":\n");
                        dump_node(v, indent + 2, b);
                }
        }
}

static void dump_node(const struct ynode *n, unsigned indent, struct buf *b) {
        switch (n->type) {
        case YNODE_SCALAR:
                buf_printf(b, "%*s", (int) indent, "");
                dump_scalar(n, b);
                buf_putc(b, '\n');
                return;
        case YNODE_MAP:
                dump_map_entries(n, indent, false, b);
                return;
        case YNODE_SEQ:
                for (size_t i = 0; i < n->n; i++) {
                        const struct ynode *it = n->items[i];
                        buf_printf(b, "%*s- ", (int) indent, "");
                        if (it->type == YNODE_SCALAR) {
                                dump_scalar(it, b);
                                buf_putc(b, '\n');
                        } else if (it->type == YNODE_MAP && it->n > 0)
                                dump_map_entries(it, indent + 2, true, b);
                        else if (it->n == 0)
                                buf_puts(b, it->type == YNODE_SEQ ? "[]\n" : "{}\n");
                        else {
                                buf_putc(b, '\n');
                                dump_node(it, indent + 2, b);
                        }
                }
                return;
        }
}

int yaml_dump(const struct ynode *n, const char *const *skip_keys, char **ret) {
        struct buf b = {};
        if (n->type == YNODE_MAP) {
                for (size_t i = 0; i < n->n; i++) {
                        if (skip_keys && strv_contains((char *const *) skip_keys, n->pairs[i].key->scalar))
                                continue;
                        struct ynode one = { .type = YNODE_MAP, .pairs = &n->pairs[i], .n = 1 };
                        dump_map_entries(&one, 0, false, &b);
                }
        } else
                dump_node(n, 0, &b);
        char *s = buf_steal(&b);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
