/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "diag.h"
#include "log.h"
#include "pin.h"
#include "util.h"
#include "yaml-tree.h"

void pkg_versions_free(struct pkg_version *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(p[i].name);
                free(p[i].version);
                free(p[i].arch);
        }
        free(p);
}

static int pkg_cmp(const void *a, const void *b) {
        return strcmp(((const struct pkg_version *) a)->name, ((const struct pkg_version *) b)->name);
}

int pins_load(const char *path, struct pkg_version **ret, size_t *ret_n) {
        struct diags d = {};
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        /* JSON as we write it is YAML: one loader for both. */
        int r = yaml_load_file(path, &d, &root);
        if (r < 0) {
                diags_print(&d, stderr);
                diags_done(&d);
                return r == -ENOENT ? log_error_errno(-EINVAL, "--pin-from: %s does not exist", path)
                                    : log_error_errno(-EINVAL, "--pin-from: cannot read %s as JSON", path);
        }
        diags_done(&d);
        const struct ynode *pk = ynode_get(root, "packages");
        if (!pk || pk->type != YNODE_SEQ || pk->n == 0)
                return log_error_errno(-EINVAL, "--pin-from: %s has no \"packages\" list: not a rackstack manifest.json",
                                       path);
        struct pkg_version *p = calloc(pk->n, sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < pk->n; i++) {
                const char *name = ynode_get_scalar(pk->items[i], "name");
                const char *version = ynode_get_scalar(pk->items[i], "version");
                const char *arch = ynode_get_scalar(pk->items[i], "arch");
                if (!name || !version || !arch) {
                        pkg_versions_free(p, pk->n);
                        return log_error_errno(-EINVAL, "%s:%u:%u: error: a package needs name, version and arch",
                                               path, pk->items[i]->line, pk->items[i]->col);
                }
                p[i] = (struct pkg_version) { .name = strdup(name), .version = strdup(version), .arch = strdup(arch) };
                if (!p[i].name || !p[i].version || !p[i].arch) {
                        pkg_versions_free(p, pk->n);
                        return -ENOMEM;
                }
        }
        qsort(p, pk->n, sizeof *p, pkg_cmp);
        *ret = p;
        *ret_n = pk->n;
        return 0;
}

int pins_compare(const struct pkg_version *want, size_t n_want, const struct pkg_version *have, size_t n_have,
                 size_t max_lines, char **ret_report) {
        struct buf b = {};
        size_t i = 0, j = 0;
        int n = 0;
        while (i < n_want || j < n_have) {
                int c = i >= n_want ? 1 : j >= n_have ? -1 : strcmp(want[i].name, have[j].name);
                bool shown = (size_t) n < max_lines;
                if (c < 0) {
                        if (shown)
                                buf_printf(&b, "  %s %s (%s): pinned, not in this build\n", want[i].name,
                                           want[i].version, want[i].arch);
                        i++;
                } else if (c > 0) {
                        if (shown)
                                buf_printf(&b, "  %s %s (%s): in this build, not pinned\n", have[j].name,
                                           have[j].version, have[j].arch);
                        j++;
                } else {
                        bool same = streq(want[i].version, have[j].version) && streq(want[i].arch, have[j].arch);
                        if (!same && shown)
                                buf_printf(&b, "  %s: pinned %s (%s), this build has %s (%s)\n", want[i].name,
                                           want[i].version, want[i].arch, have[j].version, have[j].arch);
                        i++, j++;
                        if (same)
                                continue;
                }
                n++;
        }
        if ((size_t) n > max_lines)
                buf_printf(&b, "  ... and %zu more\n", (size_t) n - max_lines);
        char *s = b.data ? buf_steal(&b) : strdup("");
        if (!s)
                return -ENOMEM;
        *ret_report = s;
        return n;
}

int pins_load_digests(const char *path, struct pkg_version **ret, size_t *ret_n) {
        struct diags d = {};
        _cleanup_(ynode_freep) struct ynode *root = NULL;
        int r = yaml_load_file(path, &d, &root);
        diags_done(&d);
        if (r < 0)
                return log_error_errno(-EINVAL, "--pin-from: cannot read %s as JSON", path);
        const struct ynode *sv = ynode_get(root, "services");
        size_t n = sv && sv->type == YNODE_SEQ ? sv->n : 0, k = 0;
        struct pkg_version *p = calloc(n ? n : 1, sizeof *p);
        if (!p)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *name = ynode_get_scalar(sv->items[i], "name");
                const char *digest = ynode_get_scalar(sv->items[i], "digest");
                const char *source = ynode_get_scalar(sv->items[i], "source");
                if (!name || !digest || !source || !streq(source, "oci"))
                        continue;
                p[k] = (struct pkg_version) { .name = strdup(name), .version = strdup(digest) };
                if (!p[k].name || !p[k].version) {
                        pkg_versions_free(p, k + 1);
                        return -ENOMEM;
                }
                k++;
        }
        *ret = p;
        *ret_n = k;
        return 0;
}
