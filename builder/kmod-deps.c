/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "kmod-deps.h"
#include "util.h"

void kmod_table_done(struct kmod_table *t) {
        for (size_t i = 0; i < t->n; i++) {
                free(t->v[i].name);
                free(t->v[i].path);
                strv_free(t->v[i].deps);
        }
        free(t->v);
        *t = (struct kmod_table) {};
}

char *kmod_name_normalize(const char *s) {
        const char *base = strrchr(s, '/');
        base = base ? base + 1 : s;
        size_t n = strlen(base);
        static const char *const suffixes[] = { ".ko.zst", ".ko.xz", ".ko.gz", ".ko" };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(base, suffixes[i])) {
                        n -= strlen(suffixes[i]);
                        break;
                }
        char *r = strndup(base, n);
        if (!r)
                return NULL;
        for (char *c = r; *c; c++)
                if (*c == '-')
                        *c = '_';
        return r;
}

int kmod_table_parse(const char *text, struct kmod_table *ret, unsigned *ret_line) {
        _cleanup_(kmod_table_done) struct kmod_table t = {};
        unsigned line = 0;
        for (const char *l = text; *l; ) {
                const char *e = strchrnul(l, '\n');
                line++;
                _cleanup_free_ char *s = strndup(l, e - l);
                if (!s)
                        return -ENOMEM;
                l = *e ? e + 1 : e;
                if (isempty(s) || s[0] == '#')
                        continue;
                char *colon = strchr(s, ':');
                if (!colon || colon == s) {
                        if (ret_line)
                                *ret_line = line;
                        return -EBADMSG;
                }
                *colon = 0;
                struct kmod_entry en = {};
                en.path = strdup(s);
                en.name = kmod_name_normalize(s);
                int r = strv_split(colon + 1, " \t", &en.deps);
                if (!en.path || !en.name || r < 0 || (!en.deps && !(en.deps = calloc(1, sizeof(char *))))) {
                        free(en.path);
                        free(en.name);
                        strv_free(en.deps);
                        return -ENOMEM;
                }
                struct kmod_entry *m = realloc(t.v, (t.n + 1) * sizeof *m);
                if (!m) {
                        free(en.path);
                        free(en.name);
                        strv_free(en.deps);
                        return -ENOMEM;
                }
                t.v = m;
                t.v[t.n++] = en;
        }
        *ret = t;
        t = (struct kmod_table) {};
        return 0;
}

static const struct kmod_entry *find_by(const struct kmod_table *t, const char *key, bool by_path) {
        for (size_t i = 0; i < t->n; i++)
                if (streq(by_path ? t->v[i].path : t->v[i].name, key))
                        return &t->v[i];
        return NULL;
}

/* Depth-first, dependencies before the module; `visiting` catches cycles. */
static int visit(const struct kmod_table *t, const struct kmod_entry *e, char ***out, char ***visiting,
                 unsigned depth) {
        if (strv_contains(*out, e->path))
                return 0;
        if (strv_contains(*visiting, e->path) || depth > 64)
                return -ELOOP;
        int r = strv_extend(visiting, e->path);
        if (r < 0)
                return r;
        for (char **d = e->deps; d && *d; d++) {
                const struct kmod_entry *de = find_by(t, *d, true);
                if (!de)
                        return -EBADMSG; /* modules.dep names a dependency it does not list */
                r = visit(t, de, out, visiting, depth + 1);
                if (r < 0)
                        return r;
        }
        return strv_extend(out, e->path);
}

int kmod_closure(const struct kmod_table *t, char *const *names, char ***ret_paths, char ***ret_missing) {
        _cleanup_strv_free_ char **out = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **missing = calloc(1, sizeof(char *));
        if (!out || !missing)
                return -ENOMEM;
        for (char *const *n = names; n && *n; n++) {
                _cleanup_free_ char *norm = kmod_name_normalize(*n);
                if (!norm)
                        return -ENOMEM;
                const struct kmod_entry *e = find_by(t, norm, false);
                if (!e) {
                        if (!strv_contains(missing, norm) && strv_extend(&missing, norm) < 0)
                                return -ENOMEM;
                        continue;
                }
                _cleanup_strv_free_ char **visiting = NULL;
                int r = visit(t, e, &out, &visiting, 0);
                if (r < 0)
                        return r;
        }
        *ret_paths = TAKE_PTR(out);
        *ret_missing = TAKE_PTR(missing);
        return 0;
}
