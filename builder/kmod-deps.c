/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "kmod-deps.h"
#include "log.h"
#include "util.h"

static inline void kmod_unrefp(struct kmod_ctx **c) {
        if (*c)
                kmod_unref(*c);
}
static inline void kmod_module_unref_listp(struct kmod_list **l) {
        if (*l)
                kmod_module_unref_list(*l);
}

void kmod_resolution_done(struct kmod_resolution *r) {
        strv_free(r->paths);
        strv_free(r->builtin);
        strv_free(r->missing);
        *r = (struct kmod_resolution) {};
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

/* libkmod's messages are about the tree, and ours says what failed. An error is counted: libkmod
 * drops a dependency whose file is missing from the tree and carries on without it. */
static void kmod_log(void *data, int priority, const char *file, int line, const char *fn, const char *fmt,
                     va_list args) {
        _cleanup_free_ char *msg = strvprintf(fmt, args);
        log_debug("libkmod: %s", strna(msg));
        if (priority <= 3 /* LOG_ERR */)
                (*(unsigned *) data)++;
}

struct walk {
        const char *moddir;
        char **done;     /* names placed in paths (or built in) */
        char **visiting; /* names on the current path of hard dependencies */
        struct kmod_resolution *res;
};

static int visit(struct walk *w, struct kmod_module *m, bool soft);

static int visit_list(struct walk *w, struct kmod_list *l, bool soft) {
        struct kmod_list *it;
        kmod_list_foreach(it, l) {
                struct kmod_module *d = kmod_module_get_module(it);
                int r = visit(w, d, soft);
                kmod_module_unref(d);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* As libkmod's own probe list: pre softdeps, dependencies, the module, post softdeps. A soft
 * dependency met again on the way is not a cycle (modprobe skips it too); a hard one is. */
static int visit(struct walk *w, struct kmod_module *m, bool soft) {
        const char *name = kmod_module_get_name(m);
        if (strv_contains(w->done, name))
                return 0;
        if (strv_contains(w->visiting, name))
                return soft ? 0 : -ELOOP;
        int r = strv_extend(&w->visiting, name);
        if (r < 0)
                return r;
        const char *path = kmod_module_get_path(m);
        _cleanup_(kmod_module_unref_listp) struct kmod_list *pre = NULL, *post = NULL, *deps = NULL;
        if (path) {
                if (kmod_module_get_softdeps(m, &pre, &post) < 0)
                        pre = post = NULL;
                deps = kmod_module_get_dependencies(m);
        }
        r = visit_list(w, pre, true);
        if (r >= 0)
                r = visit_list(w, deps, false);
        /* off the path before the post softdeps: they load after this module, not within it */
        free(w->visiting[strv_length(w->visiting) - 1]);
        w->visiting[strv_length(w->visiting) - 1] = NULL;
        if (r < 0)
                return r;
        if (path) {
                size_t n = strlen(w->moddir);
                if (!startswith(path, w->moddir) || path[n] != '/')
                        return -EBADMSG;
                if (access(path, F_OK) < 0)
                        return log_debug_errno(-EBADMSG, "module %s: %s is not in the tree", name, path);
                r = strv_extend(&w->res->paths, path + n + 1);
        }
        if (r >= 0)
                r = strv_extend(&w->done, name);
        if (r >= 0)
                r = visit_list(w, post, true);
        return r;
}

static int resolve_one(struct kmod_ctx *ctx, struct walk *w, const char *name) {
        _cleanup_(kmod_module_unref_listp) struct kmod_list *l = NULL;
        int r = kmod_module_new_from_lookup(ctx, name, &l);
        if (r < 0)
                return r;
        if (!l)
                return strv_extend(&w->res->missing, name);
        struct kmod_list *it;
        kmod_list_foreach(it, l) {
                struct kmod_module *m = kmod_module_get_module(it);
                bool builtin = !kmod_module_get_path(m);
                r = builtin ? strv_extend(&w->res->builtin, kmod_module_get_name(m)) : visit(w, m, false);
                kmod_module_unref(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

int kmod_resolve(const char *dir, char *const *names, struct kmod_resolution *ret) {
        /* the paths libkmod gives are under the directory it was given: one spelling of it */
        _cleanup_free_ char *moddir = realpath(dir, NULL);
        if (!moddir)
                return -errno;
        /* No configuration directories: the host's /etc/modprobe.d is not the tree's, and the
         * initrd loads exactly what is listed here. modules.softdep is read all the same. */
        static const char *const no_config[] = { NULL };
        _cleanup_(kmod_unrefp) struct kmod_ctx *ctx = kmod_new(moddir, no_config);
        if (!ctx)
                return -ENOMEM;
        unsigned errors = 0;
        kmod_set_log_fn(ctx, kmod_log, &errors);
        int r = kmod_load_resources(ctx);
        if (r < 0)
                return r;
        _cleanup_(kmod_resolution_done) struct kmod_resolution res = {
                .paths = calloc(1, sizeof(char *)),
                .builtin = calloc(1, sizeof(char *)),
                .missing = calloc(1, sizeof(char *)),
        };
        if (!res.paths || !res.builtin || !res.missing)
                return -ENOMEM;
        struct walk w = { .moddir = moddir, .res = &res };
        for (char *const *n = names; r >= 0 && n && *n; n++)
                r = resolve_one(ctx, &w, *n);
        strv_free(w.done);
        strv_free(w.visiting);
        if (r >= 0 && errors > 0)
                r = log_debug_errno(-EBADMSG, "libkmod reported %u error(s) in %s", errors, moddir);
        if (r < 0)
                return r;
        *ret = res;
        res = (struct kmod_resolution) {};
        return 0;
}
