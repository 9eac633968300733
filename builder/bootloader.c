/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>

#include "bootloader.h"
#include "cleanup.h"
#include "exec-tool.h"
#include "fileio.h"
#include "image-config.h"
#include "image-plan.h"
#include "log.h"
#include "mkfs.h"
#include "spawn-run.h"
#include "util.h"

/* Offsets in boot.img and diskboot.img (grub-core/boot/i386/pc/boot.S, diskboot.S; include/grub/
 * i386/pc/boot.h): what util/setup.c patches when it installs to a disk. */
#define BOOT_BPB_START 0x03
#define BOOT_BPB_END 0x5a
#define BOOT_KERNEL_SECTOR 0x5c
#define BOOT_DRIVE_CHECK 0x66
#define BOOT_PART_START 0x1b8
#define BOOT_PART_END 0x1fe
/* diskboot's blocklist sits at the end of the core image's first sector: start (8), len (2),
 * segment (2). */
#define DISKBOOT_BLOCKLIST (512 - 12)

#define GRUB_COMMON_MODULES \
        "part_gpt", "ext2", "search", "search_fs_uuid", "linux", "normal", "configfile", "echo", "serial", \
                "terminal", "gzio", "test", "ls", "cat", "reboot", "halt"

void grub_images_done(struct grub_images *g) {
        free(g->efi);
        free(g->core);
        free(g->boot_img);
        *g = (struct grub_images) {};
}

/* grub_version="2.06" from a module directory's modinfo.sh; NULL if unreadable. */
static char *grub_moddir_version(const char *dir) {
        _cleanup_free_ char *path = strprintf("%s/modinfo.sh", dir), *text = NULL;
        if (!path || read_file_full(AT_FDCWD, path, 64 * 1024, &text, NULL) < 0)
                return NULL;
        const char *key = "grub_version=\"";
        char *p = text;
        while (p && !startswith(p, key)) {
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        if (!p)
                return NULL;
        p += strlen(key);
        return strndup(p, strcspn(p, "\"\n"));
}

/* Where a boot loader for platform (x86_64-efi, i386-pc) is made from, best first:
 *  - the tree's own GRUB: its grub-mkimage run in the tree (chroot) on its modules, so the loader is
 *    the image's grub packages whatever GRUB the build host has (an Ubuntu 24.04 image built on
 *    Debian 12 gets GRUB 2.12, not the host's 2.06);
 *  - the tree's modules with the host's grub-mkimage, when their versions agree (a tree without
 *    grub-mkimage: grub-mkimage only takes modules of its own version);
 *  - the host's modules. */
enum grub_source { GRUB_NONE, GRUB_TREE_CHROOT, GRUB_TREE_MODULES, GRUB_HOST };

static int grub_source_find(const char *tree, const char *platform, const char *probe, enum grub_source *ret,
                            char **ret_dir) {
        _cleanup_free_ char *in_tree = strprintf("%s/usr/lib/grub/%s", tree, platform);
        _cleanup_free_ char *host = strprintf("/usr/lib/grub/%s", platform);
        _cleanup_free_ char *p1 = strprintf("%s/%s", strempty(in_tree), probe);
        _cleanup_free_ char *p2 = strprintf("%s/%s", strempty(host), probe);
        _cleanup_free_ char *mk = strprintf("%s/usr/bin/grub-mkimage", tree);
        if (!in_tree || !host || !p1 || !p2 || !mk)
                return -ENOMEM;
        bool tree_ok = access(p1, R_OK) == 0, host_ok = access(p2, R_OK) == 0;
        if (tree_ok && access(mk, X_OK) == 0 && geteuid() == 0) {
                *ret = GRUB_TREE_CHROOT;
                *ret_dir = TAKE_PTR(in_tree);
                return 0;
        }
        if (tree_ok && host_ok) {
                _cleanup_free_ char *tv = grub_moddir_version(in_tree), *hv = grub_moddir_version(host);
                if (!tv || !hv || !streq(tv, hv)) {
                        log_warning("The tree has GRUB %s for %s but no grub-mkimage, the host's is %s: using the "
                                    "host's modules", strna(tv), platform, strna(hv));
                        tree_ok = false;
                }
        }
        *ret = tree_ok ? GRUB_TREE_MODULES : host_ok ? GRUB_HOST : GRUB_NONE;
        *ret_dir = tree_ok ? TAKE_PTR(in_tree) : host_ok ? TAKE_PTR(host) : NULL;
        return 0;
}

static int grub_mkimage_argv(const char *dir, const char *format, const char *early, const char *prefix,
                             const char *out, const char *const *modules, char ***ret) {
        _cleanup_strv_free_ char **argv = NULL;
        const char *head[] = { "grub-mkimage", "-O", format, "-d", dir, "-p", prefix, "-o", out };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                if (strv_extend(&argv, head[i]) < 0)
                        return -ENOMEM;
        if (early && (strv_extend(&argv, "-c") < 0 || strv_extend(&argv, early) < 0))
                return -ENOMEM;
        for (const char *const *m = modules; *m; m++)
                if (strv_extend(&argv, *m) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(argv);
        return 0;
}

/* The tree's grub-mkimage, chrooted into the tree: the early config goes in and the image comes out
 * through a temporary directory in the tree's /tmp, removed again before the tree is copied. */
static int grub_mkimage_in_tree(const char *tree, const char *format, const char *early, const char *prefix,
                                const char *out, const char *const *modules) {
        _cleanup_free_ char *tmp = strprintf("%s/tmp/rackstack-grub.XXXXXX", tree);
        if (!tmp)
                return -ENOMEM;
        if (!mkdtemp(tmp))
                return log_error_errno(-errno, "Failed to make a directory in the tree's /tmp: %m");
        const char *rel = tmp + strlen(tree);
        _cleanup_free_ char *early_in = strprintf("%s/early.cfg", tmp), *early_rel = strprintf("%s/early.cfg", rel);
        _cleanup_free_ char *out_in = strprintf("%s/loader.img", tmp), *out_rel = strprintf("%s/loader.img", rel);
        _cleanup_free_ char *dir_rel = strprintf("/usr/lib/grub/%s", format);
        _cleanup_free_ char *text = NULL, *img = NULL, *tail = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        size_t n = 0;
        int r;
        if (!early_in || !early_rel || !out_in || !out_rel || !dir_rel) {
                r = -ENOMEM;
                goto out;
        }
        if (early && ((r = read_file_full(AT_FDCWD, early, 64 * 1024, &text, &n)) < 0 ||
                      (r = write_file_atomic(AT_FDCWD, early_in, text, n, 0644)) < 0))
                goto out;
        if ((r = grub_mkimage_argv(dir_rel, format, early ? early_rel : NULL, prefix, out_rel, modules, &argv)) < 0)
                goto out;
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.chroot_dir = tree;
        o.clean_env = true;
        log_debug("GRUB %s from %s/usr/lib/grub/%s, by the tree's grub-mkimage in the tree", format, tree, format);
        r = spawn_run((const char *const *) argv, &o, &tail, NULL);
        if (r > 0) {
                _cleanup_free_ char *cmd = argv_to_string((const char *const *) argv);
                r = log_error_errno(-EPROTO, "The tree's grub-mkimage failed (exit %d): %s\n%s", r, strna(cmd),
                                    strempty(tail));
                goto out;
        }
        if (r < 0)
                goto out;
        if ((r = read_file_full(AT_FDCWD, out_in, 16 * MiB, &img, &n)) < 0 ||
            (r = write_file_atomic(AT_FDCWD, out, img, n, 0644)) < 0)
                goto out;
out:;
        int k = remove_tree(tmp);
        if (r >= 0 && k < 0)
                r = log_error_errno(k, "Failed to remove %s from the tree: %m", tmp);
        return r;
}

int grub_mkimage_from(const char *tree, const char *format, const char *early, const char *prefix, const char *out,
                      const char *const *modules, char **ret_dir) {
        enum grub_source src;
        _cleanup_free_ char *dir = NULL;
        const char *probe = streq(format, "i386-pc") ? "boot.img" : "normal.mod";
        int r = grub_source_find(tree, format, probe, &src, &dir);
        if (r < 0)
                return r;
        if (src == GRUB_NONE)
                return log_error_errno(-ENOENT, "No GRUB %s modules in the tree or on the host (install %s)", format,
                                       streq(format, "i386-pc") ? "grub-pc-bin" : "grub-efi-amd64-bin");
        if (src == GRUB_TREE_CHROOT)
                r = grub_mkimage_in_tree(tree, format, early, prefix, out, modules);
        else {
                _cleanup_strv_free_ char **argv = NULL;
                log_debug("GRUB %s from %s, by the host's grub-mkimage", format, dir);
                r = grub_mkimage_argv(dir, format, early, prefix, out, modules, &argv);
                if (r >= 0)
                        r = tool_run((const char *const *) argv, NULL);
        }
        if (r >= 0 && ret_dir)
                *ret_dir = TAKE_PTR(dir);
        return r;
}

int grub_images_build(const char *workdir, const char *tree, const char *root_uuid, bool efi, bool bios,
                      struct grub_images *ret) {
        _cleanup_(grub_images_done) struct grub_images g = {};
        _cleanup_free_ char *early = grub_early_cfg_render(root_uuid);
        _cleanup_free_ char *early_path = strprintf("%s/grub-early.cfg", workdir);
        int r;

        if (!early || !early_path)
                return -ENOMEM;
        r = write_file_atomic(AT_FDCWD, early_path, early, strlen(early), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", early_path);

        if (efi) {
                g.efi = strprintf("%s/grubx64.efi", workdir);
                if (!g.efi)
                        return -ENOMEM;
                const char *mods[] = { GRUB_COMMON_MODULES, "fat", "all_video", NULL };
                r = grub_mkimage_from(tree, "x86_64-efi", early_path, "/boot/grub", g.efi, mods, NULL);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the GRUB EFI image: %m");
        }
        if (bios) {
                _cleanup_free_ char *dir = NULL;
                g.core = strprintf("%s/core.img", workdir);
                if (!g.core)
                        return -ENOMEM;
                const char *mods[] = { "biosdisk", GRUB_COMMON_MODULES, NULL };
                r = grub_mkimage_from(tree, "i386-pc", early_path, "/boot/grub", g.core, mods, &dir);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the GRUB BIOS core image: %m");
                /* boot.img from the same GRUB as the core image. */
                g.boot_img = strprintf("%s/boot.img", dir);
                if (!g.boot_img)
                        return -ENOMEM;
        }
        *ret = g;
        g = (struct grub_images) {};
        return 0;
}

int grub_efi_install(const char *image, const struct image_part *esp, const struct grub_images *g,
                     const char *distro, int64_t sde) {
        _cleanup_free_ char *ddir = strprintf("/EFI/%s", distro);
        _cleanup_free_ char *dpath = strprintf("/EFI/%s/grubx64.efi", distro);
        int r;

        if (!ddir || !dpath)
                return -ENOMEM;
        const char *dirs[] = { "/EFI", "/EFI/BOOT", ddir, NULL };
        r = fat_mkdirs(image, esp, dirs, sde);
        if (r >= 0)
                r = fat_copy(image, esp, g->efi, "/EFI/BOOT/BOOTX64.EFI", sde);
        if (r >= 0)
                r = fat_copy(image, esp, g->efi, dpath, sde);
        if (r < 0)
                return log_error_errno(r, "Failed to install GRUB on the ESP: %m");
        return 0;
}

static void put_le(uint8_t *p, uint64_t v, int bytes) {
        for (int i = 0; i < bytes; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

int grub_bios_install(const char *image, const struct image_part *bios, const struct grub_images *g) {
        _cleanup_free_ char *core = NULL, *boot = NULL;
        size_t core_size = 0, boot_size = 0;
        uint8_t mbr[512];
        int r;

        r = read_file_full(AT_FDCWD, g->core, 4 * MiB, &core, &core_size);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", g->core);
        r = read_file_full(AT_FDCWD, g->boot_img, 512, &boot, &boot_size);
        if (r < 0 || boot_size != 512)
                return log_error_errno(r < 0 ? r : -EBADMSG, "Failed to read a 512-byte '%s'", g->boot_img);
        if (core_size < 1024 || core_size > bios->size)
                return log_error_errno(-ENOSPC, "GRUB core image (%zu bytes) does not fit the BIOS boot partition "
                                                "'%s' (%" PRIu64 " bytes)", core_size, bios->name, bios->size);

        uint64_t first = bios->offset / IMAGE_SECTOR_SIZE;
        uint64_t n_sectors = (core_size + IMAGE_SECTOR_SIZE - 1) / IMAGE_SECTOR_SIZE;
        /* The whole core is contiguous in the partition: one blocklist entry for sectors 2..n. */
        uint8_t *bl = (uint8_t *) core + DISKBOOT_BLOCKLIST;
        put_le(bl, first + 1, 8);
        put_le(bl + 8, n_sectors - 1, 2);

        _cleanup_close_ int fd = open(image, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open '%s': %m", image);
        r = pwrite_exact(fd, core, core_size, bios->offset);
        if (r < 0)
                return log_error_errno(r, "Failed to write the GRUB core image: %m");

        r = pread_exact(fd, mbr, sizeof(mbr), 0);
        if (r < 0)
                return log_error_errno(r, "Failed to read the protective MBR: %m");
        uint8_t *b = (uint8_t *) boot;
        memcpy(b + BOOT_BPB_START, mbr + BOOT_BPB_START, BOOT_BPB_END - BOOT_BPB_START);
        /* A hard disk: nop out the jump that skips forcing the boot drive to 0x80, as
         * grub-bios-setup does for buggy BIOSes that pass a wrong drive number. */
        b[BOOT_DRIVE_CHECK] = 0x90;
        b[BOOT_DRIVE_CHECK + 1] = 0x90;
        put_le(b + BOOT_KERNEL_SECTOR, first, 8);
        memcpy(b + BOOT_PART_START, mbr + BOOT_PART_START, BOOT_PART_END - BOOT_PART_START);
        r = pwrite_exact(fd, b, 512, 0);
        if (r < 0)
                return log_error_errno(r, "Failed to write the MBR boot code: %m");
        return RET_NERRNO(fsync(fd));
}
