/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "elf-deps.h"
#include "fileio.h"
#include "image-config.h"
#include "initrd-writer.h"
#include "installer.h"
#include "kmod-deps.h"
#include "log.h"
#include "progress.h"
#include "spawn-run.h"
#include "util.h"

/* Where the loader looks, in its order; the multiarch directories first. */
static const char *const lib_search_dirs[] = {
        "usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib/aarch64-linux-gnu", "lib/aarch64-linux-gnu",
        "usr/lib64", "lib64", "usr/lib", "lib",
};

void installer_plan_done(struct installer_plan *p) {
        free(p->kver);
        free(p->kernel);
        strv_free(p->modules);
        strv_free(p->modules_net);
        strv_free(p->modules_skipped);
        strv_free(p->live_files);
        strv_free(p->lib_dirs);
        *p = (struct installer_plan) {};
}

void installer_env_done(struct installer_env *e) {
        free(e->kver);
        free(e->kernel);
        free(e->initrd);
        free(e->squashfs);
        free(e->label);
        free(e->grub_iso_efi);
        free(e->grub_net_efi);
        *e = (struct installer_env) {};
}

char *installer_label(const char *host) {
        _cleanup_free_ char *l = strprintf("RACKSTACK_%s", host);
        if (!l)
                return NULL;
        if (strlen(l) > 32)
                l[32] = 0;
        for (char *c = l; *c; c++) {
                if (*c >= 'a' && *c <= 'z')
                        *c = *c - 'a' + 'A';
                else if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')))
                        *c = '_';
        }
        return TAKE_PTR(l);
}

int installer_read_list(const char *path, char ***ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(AT_FDCWD, path, 1 << 20, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (char *line = text; line && *line; ) {
                char *e = strchrnul(line, '\n');
                char *next = *e ? e + 1 : e;
                *e = 0;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = 0;
                _cleanup_strv_free_ char **words = NULL;
                if (strv_split(line, " \t\r", &words) < 0)
                        return -ENOMEM;
                for (char **w = words; w && *w; w++)
                        if (!strv_contains(l, *w) && strv_extend(&l, *w) < 0)
                                return -ENOMEM;
                line = next;
        }
        *ret = TAKE_PTR(l);
        return 0;
}


/* Add `path` (tree-relative) and, for an ELF file, its loader and libraries to *files. */
static int add_live_file(int treefd, const char *path, bool optional, char ***files, char ***lib_dirs,
                         unsigned depth) {
        while (*path == '/')
                path++;
        if (strv_contains(*files, path))
                return 0;
        if (depth > 32)
                return -ELOOP;
        _cleanup_close_ int fd = tree_open(treefd, path, O_RDONLY | O_NOCTTY);
        if (fd < 0) {
                if (optional && fd == -ENOENT)
                        return 0;
                return log_error_errno(fd, "installer: cannot open /%s in the role's tree: %m", path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return log_error_errno(-EINVAL, "installer: /%s in the role's tree is not a regular file", path);
        int r = strv_extend(files, path);
        if (r < 0)
                return r;
        if (st.st_size < 4)
                return 0;
        void *map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED)
                return -errno;
        struct elf_deps deps = {};
        r = memcmp(map, "\177ELF", 4) == 0 ? elf_deps_parse(map, st.st_size, &deps) : 1;
        munmap(map, st.st_size);
        if (r < 0)
                return log_error_errno(r, "installer: cannot read the ELF headers of /%s: %m", path);
        if (r > 0)
                return 0; /* not ELF: data, a script */
        if (deps.interp)
                r = add_live_file(treefd, deps.interp, false, files, lib_dirs, depth + 1);
        for (char **n = deps.needed; r >= 0 && *n; n++) {
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(lib_search_dirs) && !found; i++) {
                        _cleanup_free_ char *p = strprintf("%s/%s", lib_search_dirs[i], *n);
                        if (!p) {
                                r = -ENOMEM;
                                break;
                        }
                        _cleanup_close_ int lfd = tree_open(treefd, p, O_RDONLY | O_NOCTTY);
                        if (lfd < 0)
                                continue;
                        found = true;
                        r = add_live_file(treefd, p, false, files, lib_dirs, depth + 1);
                        if (r >= 0 && !strv_contains(*lib_dirs, lib_search_dirs[i]))
                                r = strv_extend(lib_dirs, lib_search_dirs[i]);
                }
                if (r >= 0 && !found)
                        r = log_error_errno(-ENOENT, "installer: /%s needs %s, which is not in the role's tree", path, *n);
        }
        elf_deps_done(&deps);
        return r;
}

int installer_plan_make(const char *tree_dir, char *const *module_names, char *const *net_module_names,
                        char *const *files, struct installer_plan *ret) {
        _cleanup_close_ int treefd = open(tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return log_error_errno(-errno, "installer: cannot open %s: %m", tree_dir);
        _cleanup_(installer_plan_done) struct installer_plan p = {};
        int r = tree_find_kernel(treefd, &p.kver);
        if (r < 0)
                return log_error_errno(r, "installer: no boot/vmlinuz-VERSION with lib/modules/VERSION/modules.dep in "
                                       "the role's tree: %m");
        p.kernel = strprintf("boot/vmlinuz-%s", p.kver);
        _cleanup_free_ char *moddir = strprintf("%s/lib/modules/%s", tree_dir, p.kver);
        if (!p.kernel || !moddir)
                return -ENOMEM;
        _cleanup_(kmod_resolution_done) struct kmod_resolution base = {}, net = {};
        r = kmod_resolve(moddir, module_names, &base);
        if (r >= 0)
                r = kmod_resolve(moddir, net_module_names, &net);
        if (r < 0)
                return log_error_errno(r, "installer: module dependencies in /lib/modules/%s: %m", p.kver);
        p.modules = TAKE_PTR(base.paths);
        p.modules_net = calloc(1, sizeof(char *));
        p.modules_skipped = calloc(1, sizeof(char *));
        if (!p.modules_net || !p.modules_skipped)
                return -ENOMEM;
        for (char **m = net.paths; *m; m++)
                if (!strv_contains(p.modules, *m) && strv_extend(&p.modules_net, *m) < 0)
                        return -ENOMEM;
        /* Built-in modules need nothing; the others are worth a note (a kernel without a NIC
         * driver cannot PXE-install on that NIC). */
        char **missing[] = { base.missing, net.missing };
        for (size_t k = 0; k < ELEMENTSOF(missing); k++)
                for (char **m = missing[k]; *m; m++)
                        if (!strv_contains(p.modules_skipped, *m) && strv_extend(&p.modules_skipped, *m) < 0)
                                return -ENOMEM;

        p.live_files = calloc(1, sizeof(char *));
        p.lib_dirs = calloc(1, sizeof(char *));
        if (!p.live_files || !p.lib_dirs)
                return -ENOMEM;
        for (char *const *f = files; f && *f; f++) {
                bool optional = (*f)[0] == '?';
                r = add_live_file(treefd, *f + optional, optional, &p.live_files, &p.lib_dirs, 0);
                if (r < 0)
                        return r;
        }
        *ret = p;
        p = (struct installer_plan) {};
        return 0;
}

/* ---- apply ---------------------------------------------------------------------------------------------- */

static int copy_fd_to(int in, int dirfd, const char *rel, mode_t mode) {
        int r = mkdir_parents_of(dirfd, rel, 0755);
        if (r < 0)
                return r;
        _cleanup_close_ int out = openat(dirfd, rel, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
        if (out < 0)
                return -errno;
        r = copy_bytes(in, out);
        if (r < 0)
                return r;
        return RET_NERRNO(fchmod(out, mode));
}

static int tree_copy(int treefd, const char *src, int dirfd, const char *dst) {
        _cleanup_close_ int in = tree_open(treefd, src, O_RDONLY | O_NOCTTY);
        if (in < 0)
                return in;
        struct stat st;
        if (fstat(in, &st) < 0)
                return -errno;
        return copy_fd_to(in, dirfd, dst, st.st_mode & 0755);
}

/* Applet names of the build host's busybox-static, which goes into the initrd and the live root. */
static int busybox_applets(const char *busybox, char ***ret) {
        const char *argv[] = { busybox, "--list", NULL };
        _cleanup_free_ char *out = NULL;
        int r = spawn_stdout(argv, &out, "%s --list", busybox);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **all = NULL, **l = calloc(1, sizeof(char *));
        if (!l || strv_split(strempty(out), "\n", &all) < 0)
                return -ENOMEM;
        for (char **a = all; a && *a; a++) {
                if (strchr(*a, '/') || streq(*a, "."))
                        return log_error_errno(-EBADMSG, "%s --list printed an odd applet name '%s'", busybox, *a);
                if (!streq(*a, "busybox") && strv_extend(&l, *a) < 0)
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

/* /bin/busybox must be static: it runs in an initrd with no libraries. */
static int check_busybox(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "%s is missing: install busybox-static", path);
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = read_fd_full(fd, 16 << 20, &data, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", path);
        struct elf_deps d = {};
        r = elf_deps_parse(data, n, &d);
        if (r < 0)
                return log_error_errno(r, "%s is not an ELF executable: %m", path);
        bool dynamic = d.interp || d.needed[0];
        elf_deps_done(&d);
        if (dynamic)
                return log_error_errno(-ENOEXEC, "%s is dynamically linked: install busybox-static, which replaces it",
                                       path);
        return 0;
}

static char *shell_quote_or_null(const char *s) {
        return strchr(s, '\'') ? NULL : strprintf("'%s'", s);
}

/* The modules of `list` into the initrd, uncompressed, and their load order as text. */
static int add_modules(struct initrd_writer *w, int treefd, const char *kver, char *const *list, char **ret_load,
                       uint64_t *bytes) {
        struct buf load = {};
        int r = 0;
        for (char *const *m = list; r >= 0 && *m; m++) {
                _cleanup_free_ char *src = strprintf("lib/modules/%s/%s", kver, *m);
                _cleanup_free_ char *plain = strdup(*m);
                if (!src || !plain) {
                        r = -ENOMEM;
                        break;
                }
                /* busybox insmod hands the kernel the bytes it read: store them uncompressed. */
                char *ext = strstr(plain, ".ko");
                if (ext)
                        ext[3] = 0;
                _cleanup_close_ int fd = tree_open(treefd, src, O_RDONLY | O_NOCTTY);
                if (fd < 0) {
                        r = log_error_errno(fd, "installer: cannot open /%s: %m", src);
                        break;
                }
                _cleanup_free_ char *data = NULL;
                size_t n = 0;
                r = read_fd_decompressed(fd, 256 << 20, &data, &n);
                if (r < 0) {
                        log_error_errno(r, "installer: cannot read /%s: %m", src);
                        break;
                }
                _cleanup_free_ char *dst = strprintf("lib/modules/%s/%s", kver, plain);
                r = dst ? initrd_add_data(w, dst, data, n, 0644) : -ENOMEM;
                buf_printf(&load, "%s\n", plain);
                *bytes += n;
        }
        if (r < 0) {
                buf_done(&load);
                return r;
        }
        char *text = load.data ? buf_steal(&load) : strdup("");
        if (!text)
                return -ENOMEM;
        *ret_load = text;
        return 0;
}

static int write_initrd(struct build_ctx *ctx, int treefd, const struct installer_plan *p, const char *busybox,
                        char *const *applets, const char *conf, const char *path) {
        _cleanup_free_ char *iso_dir = strprintf("%s/iso/installer", ctx->data_dir);
        _cleanup_free_ char *init_path = strprintf("%s/init", iso_dir);
        _cleanup_free_ char *dhcp_path = strprintf("%s/udhcpc.script", iso_dir);
        if (!iso_dir || !init_path || !dhcp_path)
                return -ENOMEM;
        _cleanup_free_ char *init = NULL, *dhcp = NULL, *bb = NULL;
        size_t init_n = 0, dhcp_n = 0, bb_n = 0;
        int r = read_file_full(AT_FDCWD, init_path, 1 << 20, &init, &init_n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", init_path);
        r = read_file_full(AT_FDCWD, dhcp_path, 1 << 20, &dhcp, &dhcp_n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", dhcp_path);
        r = read_file_full(AT_FDCWD, busybox, 16 << 20, &bb, &bb_n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", busybox);

        struct initrd_writer w = {};
        r = initrd_writer_open(path, ctx->source_date_epoch >= 0 ? ctx->source_date_epoch : 0, &w);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", path);
        static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp", "mnt", "newroot", "etc", "sbin" };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(dirs); i++)
                r = initrd_add_dir(&w, dirs[i], 0755);
        if (r >= 0)
                r = initrd_add_chrdev(&w, "dev/console", 0600, 5, 1);
        if (r >= 0)
                r = initrd_add_chrdev(&w, "dev/null", 0666, 1, 3);
        if (r >= 0)
                r = initrd_add_data(&w, "init", init, init_n, 0755);
        if (r >= 0)
                r = initrd_add_data(&w, "etc/udhcpc.script", dhcp, dhcp_n, 0755);
        if (r >= 0)
                r = initrd_add_data(&w, "etc/rackstack-installer.conf", conf, strlen(conf), 0644);
        if (r >= 0)
                r = initrd_add_data(&w, "bin/busybox", bb, bb_n, 0755);
        for (char *const *a = applets; r >= 0 && *a; a++) {
                _cleanup_free_ char *name = strprintf("bin/%s", *a);
                r = name ? initrd_add_symlink(&w, name, "busybox") : -ENOMEM;
        }

        uint64_t mod_bytes = 0;
        char *const *lists[] = { p->modules, p->modules_net };
        static const char *const load_names[] = { "rackstack.load", "rackstack-net.load" };
        for (size_t l = 0; r >= 0 && l < ELEMENTSOF(lists); l++) {
                _cleanup_free_ char *load_text = NULL;
                r = add_modules(&w, treefd, p->kver, lists[l], &load_text, &mod_bytes);
                if (r < 0)
                        break;
                _cleanup_free_ char *load_path = strprintf("lib/modules/%s/%s", p->kver, load_names[l]);
                r = load_path ? initrd_add_data(&w, load_path, load_text, strlen(load_text), 0644) : -ENOMEM;
        }
        if (r >= 0)
                r = initrd_writer_close(&w);
        const char *filter = w.filter;
        initrd_writer_done(&w);
        if (r < 0) {
                (void) unlink(path);
                return log_error_errno(r, "Failed to write the installer initrd %s: %m", path);
        }
        stage_note("installer", "initrd: busybox, %zu + %zu (network) kernel modules (%.1f MiB), cpio newc + %s",
                   strv_length(p->modules), strv_length(p->modules_net), mod_bytes / 1048576.0, filter);
        return 0;
}

static int write_live_root(struct build_ctx *ctx, int treefd, const struct installer_plan *p, const char *busybox,
                           char *const *applets, const char *live_dir, const char *squashfs) {
        if (mkdir(live_dir, 0755) < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", live_dir);
        _cleanup_close_ int livefd = open(live_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (livefd < 0)
                return -errno;
        int r = 0;
        for (char **f = p->live_files; r >= 0 && *f; f++) {
                r = tree_copy(treefd, *f, livefd, *f);
                if (r < 0)
                        return log_error_errno(r, "installer: cannot copy /%s into the live root: %m", *f);
        }
        static const char *const dirs[] = { "dev", "proc", "sys", "run", "tmp", "root", "etc", "mnt", "bin", "usr/sbin" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++)
                if ((r = mkdir_parents_at(livefd, dirs[i], 0755)) < 0)
                        return r;
        _cleanup_close_ int bbfd = open(busybox, O_RDONLY | O_CLOEXEC);
        if (bbfd < 0)
                return -errno;
        r = copy_fd_to(bbfd, livefd, "bin/busybox", 0755);
        for (char *const *a = applets; r >= 0 && *a; a++) {
                _cleanup_free_ char *name = strprintf("bin/%s", *a);
                if (!name)
                        return -ENOMEM;
                if (symlinkat("busybox", livefd, name) < 0 && errno != EEXIST)
                        r = -errno;
        }
        if (r >= 0 && faccessat(livefd, "usr/bin/rackstack-firstboot", F_OK, 0) == 0 &&
            symlinkat("../bin/rackstack-firstboot", livefd, "usr/sbin/rackstack-firstboot") < 0 && errno != EEXIST)
                r = -errno;
        if (r < 0)
                return log_error_errno(r, "Failed to fill the live root %s: %m", live_dir);

        const char *argv[] = { "mksquashfs", live_dir, squashfs, "-noappend", "-quiet", "-no-progress", "-all-root",
                               "-comp", "zstd", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
        _cleanup_free_ char *tail = NULL;
        r = spawn_run(argv, &o, &tail, NULL);
        if (r != 0) {
                (void) unlink(squashfs);
                return r < 0 ? r : log_error_errno(-EIO, "mksquashfs failed (exit %d):\n%s", r, strempty(tail));
        }
        return 0;
}

int installer_build(struct build_ctx *ctx, struct installer_env *ret) {
        static const char busybox[] = "/bin/busybox";
        _cleanup_free_ char *modules_list = strprintf("%s/iso/installer/modules", ctx->data_dir);
        _cleanup_free_ char *net_list = strprintf("%s/iso/installer/modules-net", ctx->data_dir);
        _cleanup_free_ char *files_list = strprintf("%s/iso/installer/files", ctx->data_dir);
        _cleanup_free_ char *dir = strprintf("%s/installer", ctx->work_dir);
        if (!modules_list || !net_list || !files_list || !dir)
                return -ENOMEM;
        _cleanup_strv_free_ char **module_names = NULL, **net_names = NULL, **files = NULL, **applets = NULL;
        int r = installer_read_list(modules_list, &module_names);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", modules_list);
        r = installer_read_list(net_list, &net_names);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", net_list);
        r = installer_read_list(files_list, &files);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", files_list);
        r = check_busybox(busybox);
        if (r < 0)
                return r;
        r = busybox_applets(busybox, &applets);
        if (r < 0)
                return r;

        _cleanup_(installer_plan_done) struct installer_plan p = {};
        r = installer_plan_make(ctx->tree_dir, module_names, net_names, files, &p);
        if (r < 0)
                return r;
        if (p.modules_skipped[0]) {
                _cleanup_free_ char *s = strv_join(p.modules_skipped, " ");
                stage_note("installer", "not modules of kernel %s (skipped): %s", p.kver, strna(s));
        }

        _cleanup_(installer_env_done) struct installer_env env = {
                .kver = strdup(p.kver),
                .kernel = strprintf("%s/vmlinuz", dir),
                .initrd = strprintf("%s/initrd.img", dir),
                .squashfs = strprintf("%s/installer.squashfs", dir),
                .label = installer_label(ctx->host->name),
        };
        _cleanup_free_ char *live_dir = strprintf("%s/live", dir);
        if (!env.kver || !env.kernel || !env.initrd || !env.squashfs || !env.label || !live_dir)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", dir);
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0 || dirfd < 0)
                return -errno;
        r = tree_copy(treefd, p.kernel, dirfd, "vmlinuz");
        if (r < 0)
                return log_error_errno(r, "Failed to copy the kernel /%s: %m", p.kernel);

        struct buf libpath = {};
        for (char **d = p.lib_dirs; *d; d++)
                buf_printf(&libpath, "%s/%s", d == p.lib_dirs ? "" : ":", *d);
        _cleanup_free_ char *lp = libpath.data ? buf_steal(&libpath) : strdup("");
        _cleanup_free_ char *q_role = shell_quote_or_null(ctx->profile->role);
        _cleanup_free_ char *q_host = shell_quote_or_null(ctx->host->name);
        _cleanup_free_ char *q_lp = lp ? shell_quote_or_null(lp) : NULL;
        if (!q_role || !q_host || !q_lp)
                return log_error_errno(-EINVAL, "installer: role, host or library path with a quote in it");
        _cleanup_free_ char *conf = strprintf("# written by rackstack-build\nROLE=%s\nHOST=%s\nLABEL='%s'\nKVER='%s'\n"
                                              "FIRSTBOOT=/usr/bin/rackstack-firstboot\nLIBPATH=%s\n",
                                              q_role, q_host, env.label, p.kver, q_lp);
        if (!conf)
                return -ENOMEM;
        r = write_initrd(ctx, treefd, &p, busybox, applets, conf, env.initrd);
        if (r < 0)
                return r;
        r = write_live_root(ctx, treefd, &p, busybox, applets, live_dir, env.squashfs);
        if (r < 0)
                return r;
        *ret = env;
        env = (struct installer_env) {};
        return 0;
}
