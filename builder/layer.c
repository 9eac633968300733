/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "layer-tree.h"
#include "layer.h"
#include "log.h"
#include "progress.h"
#include "rootfs.h"
#include "spawn-run.h"
#include "unpack.h"
#include "util.h"
#include "vendor.h"
#include "walk.h"
#include "vendor-stage.h"
#include "yaml-tree.h"

const char firstboot_unit_name[] = "rackstack-firstboot.service";

int layer_packages(const struct profile *p, const char *base, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; p->packages && p->packages[i]; i++)
                if (!strv_contains(l, p->packages[i]) && strv_extend(&l, p->packages[i]) < 0)
                        return -ENOMEM;
        for (size_t s = 0; s < p->n_services; s++) {
                const struct service_spec *sv = &p->services[s];
                /* Vendor repositories and OCI images are fetched on first boot or by their own
                 * step; the distribution's packages go into the image. */
                if (sv->source != SERVICE_SOURCE_DISTRO || sv->fetch != SERVICE_FETCH_BUILD)
                        continue;
                /* A service limited to other bases is skipped (firstboot reports it). */
                if (sv->bases && base && !strv_contains(sv->bases, base))
                        continue;
                for (size_t i = 0; sv->packages && sv->packages[i]; i++)
                        if (!strv_contains(l, sv->packages[i]) && strv_extend(&l, sv->packages[i]) < 0)
                                return -ENOMEM;
        }
        size_t n = strv_length(l);
        for (size_t i = 1; i < n; i++) /* insertion sort: a handful of names */
                for (size_t j = i; j > 0 && strcmp(l[j - 1], l[j]) > 0; j--) {
                        char *t = l[j];
                        l[j] = l[j - 1];
                        l[j - 1] = t;
                }
        *ret = TAKE_PTR(l);
        return 0;
}

/* Run argv in the tree (chroot in a private mount namespace), showing the last lines on failure. */
static int chroot_run(struct build_ctx *ctx, const char *what, const char *const argv[]) {
        static const char *const env[] = { "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.chroot_dir = ctx->tree_dir;
        o.clean_env = true;
        o.env = env;
        o.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
        o.tail_lines = 20;
        _cleanup_free_ char *tail = NULL;
        int r = spawn_run(argv, &o, &tail, NULL);
        if (r < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to run %s: %m", what);
        if (r != 0) {
                _cleanup_free_ char *cmd = argv_to_string(argv);
                return log_error_errno(-EIO, "%s failed (exit %d): %s\n--- last lines ---\n%s", what, r, strna(cmd),
                                       strempty(tail));
        }
        return 0;
}

/* While apt runs in the tree: no service may start (policy-rc.d says 101), and names must resolve
 * (the host's resolv.conf). Both are put back as they were afterwards. */
struct chroot_prep {
        int treefd;
        bool resolv_saved, resolv_written, policy_written;
};

static int chroot_prepare(struct build_ctx *ctx, int treefd, struct chroot_prep *p) {
        *p = (struct chroot_prep) { .treefd = treefd };
        static const char policy[] = "#!/bin/sh\n# rackstack-build: no daemons while building\nexit 101\n";
        int r = mkdir_parents_at(treefd, "usr/sbin", 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(treefd, "usr/sbin/policy-rc.d", policy, strlen(policy), 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to write policy-rc.d: %m");
        p->policy_written = true;

        struct stat st;
        if (fstatat(treefd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW) == 0) {
                if (renameat(treefd, "etc/resolv.conf", treefd, "etc/resolv.conf.rackstack-saved") < 0)
                        return log_error_errno(-errno, "Failed to move the tree's resolv.conf aside: %m");
                p->resolv_saved = true;
        }
        _cleanup_free_ char *resolv = NULL;
        size_t sz = 0;
        r = read_file_full(AT_FDCWD, "/etc/resolv.conf", 1 << 16, &resolv, &sz);
        if (r < 0)
                return log_error_errno(r, "Failed to read the host's /etc/resolv.conf: %m");
        r = write_file_atomic(treefd, "etc/resolv.conf", resolv, sz, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write resolv.conf into the tree: %m");
        p->resolv_written = true;
        return 0;
}

static void chroot_restore(struct chroot_prep *p) {
        if (p->policy_written)
                (void) unlinkat(p->treefd, "usr/sbin/policy-rc.d", 0);
        if (p->resolv_written)
                (void) unlinkat(p->treefd, "etc/resolv.conf", 0);
        if (p->resolv_saved)
                (void) renameat(p->treefd, "etc/resolv.conf.rackstack-saved", p->treefd, "etc/resolv.conf");
        *p = (struct chroot_prep) {};
}

#define DEBCONF_SELECTIONS "tmp/rackstack-debconf.selections"

/* The profile's debconf selections into debconf's database in the tree, before apt installs what
 * asks those questions: a package's config script then finds its answer (dbconfig-common reads
 * Roundcube's database type from it at the package's first configuration). The file is removed
 * again, the answers stay in debconf's database as any installer's would. */
static int preseed_debconf(struct build_ctx *ctx, int treefd) {
        char **lines = ctx->profile->debconf;
        if (!lines || !lines[0])
                return 0;
        _cleanup_free_ char *joined = strv_join(lines, "\n");
        _cleanup_free_ char *text = joined ? strprintf("%s\n", joined) : NULL;
        if (!text)
                return -ENOMEM;
        int r = write_file_atomic(treefd, DEBCONF_SELECTIONS, text, strlen(text), 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to write /%s: %m", DEBCONF_SELECTIONS);
        const char *argv[] = { "debconf-set-selections", "/" DEBCONF_SELECTIONS, NULL };
        r = chroot_run(ctx, "debconf-set-selections", argv);
        if (unlinkat(treefd, DEBCONF_SELECTIONS, 0) < 0 && r >= 0)
                r = log_error_errno(-errno, "Failed to remove /%s: %m", DEBCONF_SELECTIONS);
        if (r >= 0)
                stage_note("layer", "debconf: %zu selection%s given before apt runs", strv_length(lines),
                           strv_length(lines) == 1 ? "" : "s");
        return r;
}

static int install_role_packages(struct build_ctx *ctx, char **pkgs) {
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        struct chroot_prep prep;
        int r = chroot_prepare(ctx, treefd, &prep);
        if (r >= 0)
                r = preseed_debconf(ctx, treefd);
        /* Vendor repositories: their keyrings, and sources pointing at the mirror while apt runs. */
        if (r >= 0)
                r = vendor_layer_sources(ctx, treefd, true);
        if (r >= 0) {
                const char *update[] = { "apt-get", "-q", "-o", "Acquire::Retries=3", "update", NULL };
                r = chroot_run(ctx, "apt-get update", update);
        }
        if (r >= 0) {
                size_t n = strv_length(pkgs);
                _cleanup_free_ const char **argv = calloc(n + 16, sizeof(char *));
                if (!argv)
                        r = -ENOMEM;
                else {
                        size_t k = 0;
                        argv[k++] = "apt-get";
                        argv[k++] = "-q";
                        argv[k++] = "-y";
                        argv[k++] = "--no-install-recommends";
                        argv[k++] = "-o";
                        argv[k++] = "Dpkg::Options::=--force-confold";
                        argv[k++] = "-o";
                        argv[k++] = "Dpkg::Options::=--force-unsafe-io";
                        argv[k++] = "install";
                        for (size_t i = 0; i < n; i++)
                                argv[k++] = pkgs[i];
                        argv[k] = NULL;
                        r = chroot_run(ctx, "apt-get install", argv);
                }
        }
        if (r >= 0) {
                const char *clean[] = { "apt-get", "clean", NULL };
                r = chroot_run(ctx, "apt-get clean", clean);
        }
        /* The image keeps the upstream source lines, whatever mirror the build used. */
        if (r >= 0)
                r = vendor_layer_sources(ctx, treefd, false);
        chroot_restore(&prep);
        return r;
}

/* Calls fn(paragraph fields, userdata) for each paragraph of a deb822 file (dpkg's status, apt's
 * extended_states): the values of Package, Architecture and the field named by want (NULL if absent). */
static void deb822_paragraphs(char *text, const char *want, void (*fn)(const char *pkg, const char *value, void *u),
                              void *userdata) {
        const char *pkg = NULL, *value = NULL;
        size_t wl = strlen(want);
        for (char *line = text, *next; line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!*line) {
                        if (pkg)
                                fn(pkg, value, userdata);
                        pkg = value = NULL;
                } else if (startswith(line, "Package:"))
                        pkg = line + strspn(line + 8, " \t") + 8;
                else if (strncmp(line, want, wl) == 0 && line[wl] == ':')
                        value = line + wl + 1 + strspn(line + wl + 1, " \t");
        }
        if (pkg)
                fn(pkg, value, userdata);
}

struct pkg_check {
        char *const *pkgs;
        bool *installed, *auto_installed;
};

static ssize_t pkg_index(char *const *pkgs, const char *name) {
        for (size_t i = 0; pkgs[i]; i++)
                if (streq(pkgs[i], name))
                        return (ssize_t) i;
        return -1;
}

static void status_paragraph(const char *pkg, const char *status, void *u) {
        struct pkg_check *c = u;
        ssize_t i = pkg_index(c->pkgs, pkg);
        if (i >= 0 && status && streq(status, "install ok installed"))
                c->installed[i] = true;
}

static void extended_paragraph(const char *pkg, const char *autoflag, void *u) {
        struct pkg_check *c = u;
        ssize_t i = pkg_index(c->pkgs, pkg);
        if (i >= 0 && autoflag && !streq(autoflag, "0"))
                c->auto_installed[i] = true;
}

int tree_has_packages(int treefd, char *const *pkgs) {
        size_t n = strv_length(pkgs);
        for (size_t i = 0; i < n; i++)
                /* A version, release or architecture in the request, or a virtual name: let apt decide. */
                if (strpbrk(pkgs[i], "=/:"))
                        return 0;
        _cleanup_free_ bool *installed = calloc(n + 1, sizeof(bool)), *auto_installed = calloc(n + 1, sizeof(bool));
        if (!installed || !auto_installed)
                return -ENOMEM;
        struct pkg_check c = { .pkgs = pkgs, .installed = installed, .auto_installed = auto_installed };
        _cleanup_free_ char *status = NULL, *ext = NULL;
        int r = read_file_full(treefd, "var/lib/dpkg/status", 256u << 20, &status, NULL);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        deb822_paragraphs(status, "Status", status_paragraph, &c);
        r = read_file_full(treefd, "var/lib/apt/extended_states", 64u << 20, &ext, NULL);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0)
                deb822_paragraphs(ext, "Auto-Installed", extended_paragraph, &c);
        for (size_t i = 0; i < n; i++)
                if (!installed[i] || auto_installed[i])
                        return 0;
        return 1;
}

/* apt-get update and install would change nothing in the tree: every package the role asks for
 * is in the base already, installed on request (not as a dependency: apt-get install would mark it
 * manual), the base was made from the archive as it is now (so apt has no newer version to
 * upgrade to: not with --pin-from or an unreadable archive), no vendor repository goes into
 * the image (its sources and keyring are written by the apt run), and the profile gives debconf
 * no selections. */
static int layer_is_base(struct build_ctx *ctx, char **pkgs) {
        /* debconf selections change debconf's database: the tree is not the base's */
        if (strv_length(ctx->profile->debconf) > 0)
                return 0;
        if (!ctx->archive_state || !ctx->archive_used || !streq(ctx->archive_state, ctx->archive_used))
                return 0;
        for (size_t i = 0; i < ctx->n_vendor; i++)
                if (ctx->vendor[i].state == VENDOR_IN_IMAGE && ctx->vendor[i].service->source == SERVICE_SOURCE_APT)
                        return 0;
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        return tree_has_packages(treefd, pkgs);
}

static int write_layer_tarball(struct build_ctx *ctx, struct cache_entry *e) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp.%d", e->path, (int) getpid());
        if (!tmp)
                return -ENOMEM;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", tmp);
        uint64_t bytes = 0;
        int r = pack_tree(ctx->tree_dir, fd, &bytes);
        if (r >= 0 && fsync(fd) < 0)
                r = log_error_errno(-errno, "Failed to write %s: %m", tmp);
        if (r >= 0)
                r = cache_entry_commit(e, tmp);
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

static int unpack_entry(struct build_ctx *ctx, struct cache_entry *e, const char *stage, uint64_t *ret_bytes) {
        int r = unpack_tarball(e->path, ctx->tree_dir, e->sha256, ret_bytes);
        if (r == -EBADMSG) {
                /* A corrupt entry is dropped so the next build makes it afresh. */
                stage_note(stage, "dropping corrupt cache entry %s", e->path);
                cache_entry_discard(e);
        }
        return r;
}

static int empty_tree(struct build_ctx *ctx) {
        /* After a failed unpack, start from an empty directory again. */
        int r = remove_tree(ctx->tree_dir);
        if (r < 0)
                return r;
        return RET_NERRNO(mkdir(ctx->tree_dir, 0755));
}

char *layer_options_text(const char *vendor_part, char *const *debconf) {
        struct buf b = {};
        buf_puts(&b, "apt-get-chroot;no-recommends");
        if (vendor_part && *vendor_part)
                buf_printf(&b, ";vendor=%s", vendor_part);
        if (debconf && debconf[0]) {
                /* the selections hashed: a line holds ';' and '=' as it likes, the hash cannot */
                _cleanup_free_ char *lines = strv_join(debconf, "\n");
                _cleanup_free_ char *hex = lines ? sha256_hex(lines, strlen(lines)) : NULL;
                if (!hex)
                        b.oom = true;
                else
                        buf_printf(&b, ";debconf=%s", hex);
        }
        return buf_steal(&b);
}

/* What the layer is made with besides its packages. Vendor repositories: which ones (and their
 * keys) are part of the family, their signed state (InRelease) part of the key, as the archive's
 * state is the base's. The profile's debconf selections: part of the family. */
static char *layer_options(struct build_ctx *ctx) {
        _cleanup_free_ char *vendor_part = vendor_layer_key_part(ctx);
        if (!vendor_part)
                return NULL;
        return layer_options_text(vendor_part, ctx->profile->debconf);
}

/* Sets ctx->rootfs_key and ctx->layer_key. The base key is what rootfs_ensure() computes, got
 * without building (no network needed); the layer's family is the role's packages, its key adds
 * the base it is made on (and so the archive state). */
static int layer_key(struct build_ctx *ctx, char **pkgs, const char *options, char **ret_family) {
        int r = rootfs_ensure_key(ctx);
        if (r < 0)
                return r;
        _cleanup_free_ char *family = cache_key("layer", NULL, ctx->base, ctx->mirror, pkgs, options);
        char *key = family ? cache_key_at(family, ctx->rootfs_key, NULL) : NULL;
        if (!key)
                return -ENOMEM;
        free(ctx->layer_key);
        ctx->layer_key = key;
        *ret_family = TAKE_PTR(family);
        return 0;
}

/* The cached layer into the tree: its unpacked tree mounted under an overlay where that works
 * (layer-tree.h), else the tarball unpacked. -EAGAIN: it was corrupt and is gone; try again. */
static int layer_from_cache(struct build_ctx *ctx, struct cache_entry *layer, const char *family, size_t n_pkgs) {
        uint64_t bytes = 0;
        cache_entry_share(layer);
        stage_start("layer", NULL);
        int r = layer_tree_mount(ctx, layer);
        bool mounted = r >= 0;
        if (r == -EOPNOTSUPP)
                r = unpack_entry(ctx, layer, "layer", &bytes);
        else if (r == -EBADMSG) {
                stage_note("layer", "dropping corrupt cache entry %s", layer->path);
                cache_entry_discard(layer);
        }
        cache_entry_done(layer);
        if (r == -EBADMSG)
                return (r = empty_tree(ctx)) < 0 ? r : -EAGAIN;
        if (r < 0)
                return r;
        cache_latest_update(ctx, "layer", family, ctx->layer_key);
        /* The base's newest entry too, although it was not needed: an offline build finds the
         * archive state there (and the base it replaces goes). */
        cache_latest_update(ctx, "rootfs", ctx->rootfs_family, ctx->rootfs_key);
        if (mounted)
                stage_done("layer", 0, "cached %s layer (key %.12s, %zu packages), its tree mounted", ctx->profile->role,
                           ctx->layer_key, n_pkgs);
        else
                stage_done("layer", bytes, "cached %s layer (key %.12s, %zu packages), %.0f MiB unpacked",
                           ctx->profile->role, ctx->layer_key, n_pkgs, bytes / 1048576.0);
        return 0;
}

/* The base in the tree: built there now, or its cached tarball unpacked. *ret_base is its entry,
 * still locked (shared), for the caller to release. -EAGAIN: it was corrupt and is gone. */
static int base_unpack(struct build_ctx *ctx, struct cache_entry *ret_base) {
        struct cache_entry base = CACHE_ENTRY_INIT;
        uint64_t bytes = 0;
        bool in_tree = false;
        int r = rootfs_ensure(ctx, ctx->tree_dir, &base, &in_tree);
        if (r < 0)
                return r;
        if (!in_tree) {
                stage_start("unpack", NULL);
                r = unpack_entry(ctx, &base, "unpack", &bytes);
                if (r < 0) {
                        cache_entry_done(&base);
                        if (r == -EBADMSG)
                                return (r = empty_tree(ctx)) < 0 ? r : -EAGAIN;
                        return r;
                }
                stage_done("rootfs", bytes, "base %s unpacked (key %.12s), %.0f MiB", ctx->base->name,
                           ctx->rootfs_key, bytes / 1048576.0);
        }
        *ret_base = base;
        return 0;
}

/* apt's lists are dropped before caching: hygiene would anyway. */
static void drop_apt_lists(struct build_ctx *ctx) {
        _cleanup_free_ char *lists = strprintf("%s/var/lib/apt/lists", ctx->tree_dir);
        _cleanup_free_ char *partial = strprintf("%s/var/lib/apt/lists/partial", ctx->tree_dir);
        if (!lists || !partial)
                return;
        const char *rm[] = { "rm", "-rf", "--one-file-system", lists, NULL };
        (void) spawn_run(rm, NULL, NULL, NULL);
        (void) mkdir_parents_at(AT_FDCWD, lists, 0755);
        (void) mkdir(partial, 0700);
}

/* Not cached: the base, then apt on top, cached as a tarball. The caller holds the layer's lock
 * (exclusive) throughout, so a concurrent build of the same role waits and reuses it. */
static int layer_build(struct build_ctx *ctx, struct cache_entry *layer, char **pkgs, const char *family) {
        _cleanup_(cache_entry_done) struct cache_entry base = CACHE_ENTRY_INIT;
        int r = base_unpack(ctx, &base);
        if (r < 0)
                return r;
        if (!pkgs[0]) {
                stage_done("layer", 0, "no role packages");
                return 0;
        }
        _cleanup_free_ char *list = strv_join(pkgs, " ");
        r = layer_is_base(ctx, pkgs);
        if (r < 0)
                return r;
        bool as_base = r > 0, linked = false;
        if (as_base) {
                /* The tree is the base's, untouched: so is the tarball. */
                stage_start("layer", "%s: all in the base already (no apt run)", strna(list));
                r = cache_entry_link(layer, &base);
                linked = r >= 0;
                if (!linked)
                        stage_note("layer", "writing the layer's tarball (no hard link of the base's: %s)",
                                   strerror(-r));
        } else {
                stage_start("layer", "installing %s", strna(list));
                r = build_mirror_check(ctx);
                if (r >= 0)
                        r = install_role_packages(ctx, pkgs);
                if (r >= 0 && interrupted())
                        r = -EINTR;
                if (r < 0)
                        return r;
                drop_apt_lists(ctx);
        }
        cache_entry_done(&base);
        if (!linked) {
                r = write_layer_tarball(ctx, layer);
                if (r < 0)
                        return r;
        }
        struct stat st;
        uint64_t size = stat(layer->path, &st) == 0 ? (uint64_t) st.st_size : 0;
        /* The tree just made is the layer's tree: kept in the cache, the next build starts warm. */
        r = layer_tree_adopt(ctx, layer);
        if (r < 0 && r != -EOPNOTSUPP)
                return r;
        cache_latest_update(ctx, "layer", family, ctx->layer_key);
        stage_done("layer", size, "%s layer %s and cached (key %.12s, %.0f MiB tarball%s)", ctx->profile->role,
                   as_base ? "is the base" : "built", ctx->layer_key, size / 1048576.0,
                   linked ? ", a link of the base's" : "");
        return 0;
}

int layer_stage(struct build_ctx *ctx) {
        _cleanup_strv_free_ char **pkgs = NULL;
        int r = layer_packages(ctx->profile, ctx->base->name, &pkgs);
        if (r >= 0)
                r = vendor_layer_packages(ctx, &pkgs);
        if (r < 0)
                return r;
        _cleanup_free_ char *options = layer_options(ctx);
        if (!options)
                return -ENOMEM;

        for (int attempt = 0; attempt < 2; attempt++) {
                struct cache_entry layer = CACHE_ENTRY_INIT;
                _cleanup_free_ char *family = NULL;
                r = layer_key(ctx, pkgs, options, &family);
                if (r >= 0)
                        r = cache_entry_lock(ctx->cache_dir, "layer", ctx->layer_key, &layer);
                if (r < 0)
                        return r;
                if (cache_entry_present(&layer))
                        r = layer_from_cache(ctx, &layer, family, strv_length(pkgs));
                else {
                        r = layer_build(ctx, &layer, pkgs, family);
                        cache_entry_done(&layer);
                }
                if (r != -EAGAIN)
                        return r;
        }
        return log_error_errno(-EBADMSG, "The cache keeps yielding corrupt tarballs; remove %s", ctx->cache_dir);
}

/* ---- files into the tree ----------------------------------------------------------------------- */

int copy_file_into(const char *src, int dst_dirfd, const char *dst_rel, mode_t mode) {
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (in < 0)
                return -errno;
        struct stat st;
        if (fstat(in, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        int r = mkdir_parents_of(dst_dirfd, dst_rel, 0755);
        if (r < 0)
                return r;
        mode_t m = mode ? mode : (st.st_mode & 07777);
        _cleanup_free_ char *tmp = strprintf("%s.rackstack-tmp", dst_rel);
        if (!tmp)
                return -ENOMEM;
        (void) unlinkat(dst_dirfd, tmp, 0);
        _cleanup_close_ int out = openat(dst_dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (out < 0)
                return -errno;
        r = copy_bytes(in, out);
        if (r >= 0 && fchown(out, 0, 0) < 0 && geteuid() == 0)
                r = -errno;
        if (r >= 0 && fchmod(out, m) < 0)
                r = -errno;
        /* rename replaces a symlink or file at the target, never writes through a symlink */
        if (r >= 0 && renameat(dst_dirfd, tmp, dst_dirfd, dst_rel) < 0)
                r = -errno;
        if (r < 0)
                (void) unlinkat(dst_dirfd, tmp, 0);
        return r;
}

/* An input below the working directory is recorded as ./REL, as the defaults name them: the same
 * build from two checkouts then writes the same manifest (and so the same SHA256SUMS). */
static char *manifest_path(const char *path) {
        _cleanup_free_ char *cwd = path[0] == '/' ? get_current_dir_name() : NULL;
        size_t n = cwd ? strlen(cwd) : 0;
        if (n > 1 && strncmp(path, cwd, n) == 0 && path[n] == '/' && path[n + 1])
                return strprintf(".%s", path + n);
        return strdup(path);
}

int manifest_add_input(struct manifest *m, const char *label, const char *path) {
        if (!m)
                return 0;
        _cleanup_free_ char *hex = NULL;
        int r = sha256_file(path, NULL, &hex, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ char *shown = manifest_path(path);
        if (!shown)
                return -ENOMEM;
        struct input_file *n = realloc(m->inputs, (m->n_inputs + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        m->inputs = n;
        n[m->n_inputs] = (struct input_file) { .label = strdup(label), .path = TAKE_PTR(shown), .sha256 = TAKE_PTR(hex) };
        if (!n[m->n_inputs].label) {
                free(n[m->n_inputs].label);
                free(n[m->n_inputs].path);
                free(n[m->n_inputs].sha256);
                return -ENOMEM;
        }
        m->n_inputs++;
        return 0;
}

struct overlay_copy {
        const char *src, *label_prefix;
        int treefd;
        struct manifest *m;
        size_t count;
};

/* A directory of the overlay: the image's own is kept (owner, mode), a missing one is made. */
static int overlay_dir(const struct overlay_copy *c, const char *sp, const char *dp, const struct stat *st) {
        struct stat dst;
        if (fstatat(c->treefd, dp, &dst, AT_SYMLINK_NOFOLLOW) < 0) {
                if (mkdirat(c->treefd, dp, st->st_mode & 07777) < 0)
                        return log_error_errno(-errno, "Failed to create /%s: %m", dp);
                if (fchownat(c->treefd, dp, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 && geteuid() == 0)
                        return -errno;
        } else if (!S_ISDIR(dst.st_mode))
                /* an overlay directory over a symlink (e.g. /lib -> usr/lib) would write outside
                 * where it means to */
                return log_error_errno(-ENOTDIR, "Overlay %s is a directory but /%s in the image is not", sp, dp);
        return 0;
}

static int overlay_symlink(struct overlay_copy *c, const struct walk_entry *e) {
        _cleanup_free_ char *target = calloc(1, e->st->st_size + 1);
        if (!target)
                return -ENOMEM;
        if (readlinkat(e->dirfd, e->name, target, e->st->st_size + 1) != e->st->st_size)
                return -EIO;
        (void) unlinkat(c->treefd, e->path, 0);
        if (symlinkat(target, c->treefd, e->path) < 0 ||
            (fchownat(c->treefd, e->path, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 && geteuid() == 0))
                return -errno;
        c->count++;
        return 0;
}

static int overlay_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        struct overlay_copy *c = userdata;
        if (ev == WALK_LEAVE)
                return 0;
        _cleanup_free_ char *sp = strprintf("%s/%s", c->src, e->path);
        _cleanup_free_ char *label = strprintf("%s/%s", c->label_prefix, e->path);
        if (!sp || !label)
                return -ENOMEM;
        int r;
        if (ev == WALK_ENTER)
                r = overlay_dir(c, sp, e->path, e->st);
        else if (S_ISREG(e->st->st_mode)) {
                r = copy_file_into(sp, c->treefd, e->path, 0);
                if (r >= 0)
                        r = manifest_add_input(c->m, label, sp);
                if (r >= 0)
                        c->count++;
        } else if (S_ISLNK(e->st->st_mode))
                r = overlay_symlink(c, e);
        else
                r = log_error_errno(-EINVAL, "Overlay %s: only files, directories and symlinks are allowed", sp);
        if (r < 0)
                return r == -ENOMEM || r == -ENOTDIR || r == -EINVAL ? r
                                                                       : log_error_errno(r, "Failed to copy overlay %s: %m", sp);
        return 0;
}

/* Copy the directory src (absolute) into treefd, recursively, in name order so that the manifest
 * lists inputs stably. */
static int copy_tree(const char *src, int treefd, const char *label_prefix, struct manifest *m, size_t *count) {
        _cleanup_close_ int fd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct overlay_copy c = { .src = src, .label_prefix = label_prefix, .treefd = treefd, .m = m };
        int r = walk_tree(fd, WALK_SORTED | WALK_PATHS, 256, overlay_visit, &c);
        *count += c.count;
        return r;
}

int overlays_apply(struct build_ctx *ctx, struct manifest *m) {
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        const char *which[] = { "common", ctx->profile->role };
        size_t count = 0;
        for (size_t i = 0; i < ELEMENTSOF(which); i++) {
                _cleanup_free_ char *dir = strprintf("%s/%s", ctx->overlays_dir, which[i]);
                _cleanup_free_ char *label = strprintf("overlay:%s", which[i]);
                if (!dir || !label)
                        return -ENOMEM;
                struct stat st;
                if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                int r = copy_tree(dir, treefd, label, m, &count);
                if (r < 0)
                        return r;
        }
        stage_done("overlays", 0, "%zu entries from %s/{common,%s}", count, ctx->overlays_dir, ctx->profile->role);
        return 0;
}

/* The image carries the role's profile resolved (inheritance applied, so it needs no base.yaml)
 * and the site, as firstboot reads them: /usr/share/rackstack/{profile,site}.yaml. */
static int profile_files_install(struct build_ctx *ctx, int treefd, struct manifest *m) {
        static const char *const skip[] = { "inherits", NULL };
        _cleanup_free_ char *resolved = NULL;
        int r = yaml_dump(ctx->profile->tree, skip, &resolved);
        if (r < 0)
                return log_error_errno(r, "Failed to write the resolved profile: %m");
        _cleanup_free_ char *text = strprintf("# The %s role's profile as rackstack-build resolved it from:\n# %s\n%s",
                                              ctx->profile->role, strna(ctx->profile->chain ? ctx->profile->chain[0] : NULL),
                                              resolved);
        if (!text)
                return -ENOMEM;
        r = mkdir_parents_at(treefd, "usr/share/rackstack", 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(treefd, "usr/share/rackstack/profile.yaml", text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to install the resolved profile: %m");
        for (char **f = ctx->profile->chain; f && *f; f++) {
                r = manifest_add_input(m, f == ctx->profile->chain ? "profile" : "profile:inherited", *f);
                if (r < 0)
                        return r;
        }

        struct {
                const char *src_name, *dst, *label;
        } files[] = {
                { "site.yaml", "usr/share/rackstack/site.yaml", "site" },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *src = strprintf("%s/%s", ctx->profiles_dir, files[i].src_name);
                if (!src)
                        return -ENOMEM;
                r = copy_file_into(src, treefd, files[i].dst, 0644);
                if (r < 0)
                        return log_error_errno(r, "Failed to install %s as /%s: %m", src, files[i].dst);
                r = manifest_add_input(m, files[i].label, src);
                if (r < 0)
                        return r;
        }

        /* The host's kickstart, baked in: the answers firstboot falls back to when neither the kernel
         * command line nor an OEMDRV volume gives any. The shipped ones hold no secrets. */
        if (ctx->host && ctx->data_dir) {
                _cleanup_free_ char *ks = strprintf("%s/kickstart/%s.ks", ctx->data_dir, ctx->host->name);
                if (!ks)
                        return -ENOMEM;
                if (access(ks, R_OK) == 0) {
                        r = copy_file_into(ks, treefd, "usr/share/rackstack/ks.cfg", 0600);
                        if (r < 0)
                                return log_error_errno(r, "Failed to install %s: %m", ks);
                        r = manifest_add_input(m, "kickstart", ks);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int firstboot_install(struct build_ctx *ctx, const char *unit_path, struct manifest *m) {
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        int r = copy_file_into(ctx->firstboot_bin, treefd, "usr/bin/rackstack-firstboot", 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to install %s: %m (build it with make, or pass --firstboot PATH)",
                                       ctx->firstboot_bin);
        r = manifest_add_input(m, "firstboot", ctx->firstboot_bin);
        if (r < 0)
                return r;

        _cleanup_free_ char *unit_dst = strprintf("usr/lib/systemd/system/%s", firstboot_unit_name);
        _cleanup_free_ char *wants = strprintf("etc/systemd/system/multi-user.target.wants/%s", firstboot_unit_name);
        _cleanup_free_ char *target = strprintf("/usr/lib/systemd/system/%s", firstboot_unit_name);
        if (!unit_dst || !wants || !target)
                return -ENOMEM;
        r = copy_file_into(unit_path, treefd, unit_dst, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to install %s: %m", unit_path);
        r = manifest_add_input(m, "firstboot-unit", unit_path);
        if (r < 0)
                return r;
        r = mkdir_parents_at(treefd, "etc/systemd/system/multi-user.target.wants", 0755);
        if (r < 0)
                return r;
        (void) unlinkat(treefd, wants, 0);
        if (symlinkat(target, treefd, wants) < 0)
                return log_error_errno(-errno, "Failed to enable %s: %m", firstboot_unit_name);

        /* Host keys are made on the first boot (none are in the image): Debian's and Ubuntu's
         * ssh.service do not generate missing ones, and their "sshd -t" check fails without them,
         * so the key generation must come first (a drop-in's ExecStartPre= would run after it:
         * reset the list). Measured: without this, ssh.service fails on the first boot. Making an
         * RSA key can outlast the default 90 s start timeout on a slow or busy machine (measured:
         * twice under TCG while firstboot ran, leaving no host keys at all), hence the longer one. */
        static const char ssh_dropin[] = "# rackstack: the image ships without host keys\n[Service]\n"
                                         "ExecStartPre=\n"
                                         "ExecStartPre=/usr/bin/ssh-keygen -A\n"
                                         "ExecStartPre=/usr/sbin/sshd -t\n"
                                         "TimeoutStartSec=15min\n";
        r = mkdir_parents_at(treefd, "etc/systemd/system/ssh.service.d", 0755);
        if (r >= 0)
                r = write_file_atomic(treefd, "etc/systemd/system/ssh.service.d/rackstack-host-keys.conf", ssh_dropin,
                                      strlen(ssh_dropin), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write the ssh host key drop-in: %m");
        r = mkdir_parents_at(treefd, "var/lib/rackstack", 0755);
        if (r < 0)
                return r;

        r = profile_files_install(ctx, treefd, m);
        if (r < 0)
                return r;
        stage_done("firstboot", 0, "installed %s, %s (enabled), /usr/share/rackstack/{profile,site}.yaml",
                   ctx->firstboot_bin, firstboot_unit_name);
        return 0;
}
