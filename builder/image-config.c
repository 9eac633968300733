/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "image-config.h"
#include "log.h"
#include "util.h"

static const char *fstab_default_options(const struct image_part *p) {
        if (streq(p->mount, "/"))
                return "errors=remount-ro";
        if (p->fs == FS_VFAT)
                /* The ESP holds boot loaders only; nobody but root needs to read it. */
                return "umask=0077";
        return "defaults";
}

char *fstab_render(const struct disk_spec *disk, const struct image_layout *l) {
        struct buf b = {};

        buf_puts(&b, "# /etc/fstab: written by rackstack-build from the role's OS disk layout.\n"
                     "# Partitions on data disks are added by rackstack-firstboot.\n"
                     "# <file system>                              <mount point>  <type>  <options>  <dump>  <pass>\n");
        /* Root first, then by mount depth, so that the order is also a valid mount order. */
        for (unsigned depth = 0; depth < 64; depth++)
                for (size_t i = 0; i < l->n_parts && i < disk->n_parts; i++) {
                        const struct image_part *p = &l->parts[i];
                        const struct partition_spec *s = &disk->parts[i];
                        unsigned d = 0;

                        if (!p->fs_uuid || p->fs == FS_NONE)
                                continue;
                        if (p->fs == FS_SWAP) {
                                if (depth == 0)
                                        continue;
                                if (depth == 1)
                                        buf_printf(&b, "UUID=%s  none  swap  %s  0  0\n", p->fs_uuid,
                                                   s->options ? s->options : "sw");
                                continue;
                        }
                        if (!p->mount)
                                continue;
                        if (!streq(p->mount, "/"))
                                for (const char *c = p->mount; *c; c++)
                                        d += *c == '/';
                        if (d != depth)
                                continue;
                        /* The ESP is read by the firmware only: a slow or missing one must not stop the
                         * boot in emergency mode (a loaded TCG guest's udev took over systemd's 90 s to
                         * show it), so it is nofail whatever options the profile gives. nofail alone
                         * left /boot/efi unmounted for that whole boot (a kernel update then writes
                         * GRUB's files under the root instead): the device timeout lets the mount
                         * happen when the device does come, and with nofail nothing waits for it. */
                        const char *opts = s->options ? s->options : fstab_default_options(p);
                        bool nofail = p->fs == FS_VFAT && !strstr(opts, "nofail");
                        buf_printf(&b, "UUID=%-40s  %-13s  %-6s  %s%s  0  %d\n", p->fs_uuid, p->mount,
                                   fs_type_to_string(p->fs), opts, nofail ? ",nofail,x-systemd.device-timeout=15min" : "",
                                   streq(p->mount, "/") ? 1 : 2);
                }
        return buf_steal(&b);
}

static void grub_entry(struct buf *b, const char *title, const char *id, const struct grub_entry_spec *e,
                       const char *kernel, const char *initrd) {
        buf_printf(b, "menuentry '%s' --id %s {\n", title, id);
        buf_printf(b, "        search --no-floppy --fs-uuid --set=root %s\n", e->root_uuid);
        buf_printf(b, "        echo 'Loading %s ...'\n", kernel);
        buf_printf(b, "        linux %s root=UUID=%s rw console=tty0 console=ttyS0,115200n8\n", kernel, e->root_uuid);
        if (initrd)
                buf_printf(b, "        initrd %s\n", initrd);
        buf_puts(b, "}\n");
}

char *grub_cfg_render(const struct grub_entry_spec *e) {
        struct buf b = {};

        buf_puts(&b, "# Written by rackstack-build. The first entry boots through the /vmlinuz and /initrd.img\n"
                     "# symlinks the kernel package keeps, so it survives kernel upgrades without grub-mkconfig.\n"
                     "serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1\n"
                     "terminal_input serial console\n"
                     "terminal_output serial console\n"
                     "set default=0\n"
                     "set timeout_style=menu\n"
                     "set timeout=1\n\n");
        grub_entry(&b, e->title, "rackstack", e, e->kernel, e->initrd);
        if (e->version) {
                _cleanup_free_ char *title = strprintf("%s, kernel %s", e->title, e->version);
                _cleanup_free_ char *kernel = strprintf("/boot/vmlinuz-%s", e->version);
                _cleanup_free_ char *initrd = e->has_initrd_version ? strprintf("/boot/initrd.img-%s", e->version)
                                                                    : NULL;
                if (!title || !kernel || (e->has_initrd_version && !initrd)) {
                        buf_done(&b);
                        return NULL;
                }
                buf_puts(&b, "\n");
                grub_entry(&b, title, "rackstack-versioned", e, kernel, initrd);
        }
        return buf_steal(&b);
}

char *grub_early_cfg_render(const char *root_uuid) {
        return strprintf("search --no-floppy --fs-uuid --set=root %s\n"
                         "set prefix=($root)/boot/grub\n"
                         "configfile $prefix/grub.cfg\n",
                         root_uuid);
}

/* Open a path of the tree as if chrooted into it: absolute symlinks (common in an image's /lib)
 * resolve inside the tree, never on the build host. */
int tree_open(int treefd, const char *path, int flags) {
        while (*path == '/')
                path++;
        struct open_how how = { .flags = (uint64_t) (flags | O_CLOEXEC), .resolve = RESOLVE_IN_ROOT };
        long fd = syscall(SYS_openat2, treefd, path, &how, sizeof how);
        return fd < 0 ? -errno : (int) fd;
}

/* The one rule for both the image's boot entry and the installer: a kernel counts only with its
 * modules (without lib/modules/VERSION it cannot mount a root that needs one, and depmod never
 * ran for it), and the newest such one wins. */
int tree_find_kernel(int treefd, char **ret_version) {
        _cleanup_close_ int bootfd = tree_open(treefd, "boot", O_RDONLY | O_DIRECTORY);
        if (bootfd < 0)
                return bootfd;
        _cleanup_closedir_ DIR *d = NULL;
        int r = opendir_dup(bootfd, &d);
        if (r < 0)
                return r;
        _cleanup_free_ char *best = NULL;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, "vmlinuz-") || !de->d_name[8])
                        continue;
                const char *v = de->d_name + 8;
                if (best && strverscmp(v, best) <= 0)
                        continue;
                _cleanup_free_ char *dep = strprintf("lib/modules/%s/modules.dep", v);
                if (!dep)
                        return -ENOMEM;
                _cleanup_close_ int fd = tree_open(treefd, dep, O_RDONLY);
                if (fd < 0)
                        continue;
                free(best);
                if (!(best = strdup(v)))
                        return -ENOMEM;
        }
        if (!best)
                return -ENOENT;
        *ret_version = TAKE_PTR(best);
        return 0;
}

static bool exists_at(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/* What we write into the tree gets SOURCE_DATE_EPOCH as its time, as do the directories whose
 * mtime the writing changed, so that mke2fs -d copies the same tree on every rebuild. */
static int clamp_times(int tfd, const struct image_layout *l, int64_t sde) {
        static const char *const fixed[] = { "etc", "etc/fstab", "boot", "boot/grub", "boot/grub/grub.cfg" };
        const struct timespec ts[2] = { { .tv_sec = sde }, { .tv_sec = sde } };

        if (sde < 0)
                return 0;
        for (size_t i = 0; i < ELEMENTSOF(fixed); i++)
                if (utimensat(tfd, fixed[i], ts, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
        for (size_t i = 0; i < l->n_parts; i++) {
                const char *m = l->parts[i].mount;
                if (!m || streq(m, "/") || l->parts[i].fs == FS_SWAP)
                        continue;
                _cleanup_free_ char *p = strdup(m + 1);
                if (!p)
                        return -ENOMEM;
                /* The mount point and each parent, as mkdir_parents_at may have made them. */
                for (char *slash; *p; ) {
                        if (utimensat(tfd, p, ts, AT_SYMLINK_NOFOLLOW) < 0)
                                return -errno;
                        slash = strrchr(p, '/');
                        if (!slash)
                                break;
                        *slash = 0;
                }
        }
        /* The tree's top: a new mount point there changed it too. */
        if (futimens(tfd, ts) < 0)
                return -errno;
        return 0;
}

static const char *base_title(const struct build_ctx *ctx) {
        if (ctx->base && ctx->base->name && startswith(ctx->base->name, "ubuntu"))
                return "Ubuntu";
        return "Debian GNU/Linux";
}

int tree_write_boot_config(const char *tree, const struct build_ctx *ctx, const struct disk_spec *disk,
                           const struct image_layout *l, const struct image_part *root) {
        _cleanup_close_ int tfd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *version = NULL, *fstab = NULL, *cfg = NULL, *kpath = NULL, *ipath = NULL;
        int r;

        if (tfd < 0)
                return log_error_errno(-errno, "Failed to open tree '%s': %m", tree);

        r = tree_find_kernel(tfd, &version);
        if (r == -ENOENT)
                return log_error_errno(r, "No kernel (/boot/vmlinuz-VERSION with lib/modules/VERSION/modules.dep) in '%s'", tree);
        if (r < 0)
                return log_error_errno(r, "Failed to look for a kernel in '%s/boot': %m", tree);

        kpath = strprintf("boot/vmlinuz-%s", version);
        ipath = strprintf("boot/initrd.img-%s", version);
        if (!kpath || !ipath)
                return -ENOMEM;
        bool has_initrd = exists_at(tfd, ipath);
        if (!has_initrd)
                log_warning("No /%s in the tree: booting without an initramfs", ipath);

        /* Prefer the symlinks only when both are there (or the initrd is absent anyway). */
        bool links = exists_at(tfd, "vmlinuz") && (exists_at(tfd, "initrd.img") || !has_initrd);
        struct grub_entry_spec e = {
                .title = base_title(ctx),
                .root_uuid = root->fs_uuid,
                .version = links ? version : NULL,
                .has_initrd_version = has_initrd,
        };
        _cleanup_free_ char *kabs = strprintf("/%s", kpath), *iabs = strprintf("/%s", ipath);
        if (!kabs || !iabs)
                return -ENOMEM;
        if (links) {
                e.kernel = "/vmlinuz";
                e.initrd = exists_at(tfd, "initrd.img") ? "/initrd.img" : NULL;
        } else {
                e.kernel = kabs;
                e.initrd = has_initrd ? iabs : NULL;
        }

        cfg = grub_cfg_render(&e);
        fstab = fstab_render(disk, l);
        if (!cfg || !fstab)
                return -ENOMEM;

        r = mkdir_parents_at(tfd, "boot/grub", 0755);
        if (r >= 0)
                r = write_file_atomic(tfd, "boot/grub/grub.cfg", cfg, strlen(cfg), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s/boot/grub/grub.cfg': %m", tree);
        r = mkdir_parents_at(tfd, "etc", 0755);
        if (r >= 0)
                r = write_file_atomic(tfd, "etc/fstab", fstab, strlen(fstab), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s/etc/fstab': %m", tree);

        for (size_t i = 0; i < l->n_parts; i++) {
                const char *m = l->parts[i].mount;
                if (!m || streq(m, "/") || l->parts[i].fs == FS_SWAP)
                        continue;
                r = mkdir_parents_at(tfd, m + 1, 0755);
                if (r < 0)
                        return log_error_errno(r, "Failed to make mount point '%s' in the tree: %m", m);
        }
        r = clamp_times(tfd, l, ctx->source_date_epoch);
        if (r < 0)
                return log_error_errno(r, "Failed to set file times in the tree: %m");
        return 0;
}
