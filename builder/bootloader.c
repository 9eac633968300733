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

/* The tree's GRUB modules when it has them, so the boot loader matches the image's grub packages;
 * but grub-mkimage runs on the host and only builds images from modules of its own version, so
 * a tree with another GRUB (an Ubuntu base on a Debian host) gets the host's modules. "" if
 * neither has the platform. */
static char *grub_moddir(const char *tree, const char *platform, const char *probe) {
        _cleanup_free_ char *in_tree = strprintf("%s/usr/lib/grub/%s", tree, platform);
        _cleanup_free_ char *host = strprintf("/usr/lib/grub/%s", platform);
        _cleanup_free_ char *p1 = strprintf("%s/%s", strempty(in_tree), probe);
        _cleanup_free_ char *p2 = strprintf("%s/%s", strempty(host), probe);
        if (!in_tree || !host || !p1 || !p2)
                return NULL;
        bool tree_ok = access(p1, R_OK) == 0, host_ok = access(p2, R_OK) == 0;
        if (tree_ok && host_ok) {
                _cleanup_free_ char *tv = grub_moddir_version(in_tree), *hv = grub_moddir_version(host);
                if (!tv || !hv || !streq(tv, hv)) {
                        log_warning("The tree has GRUB %s for %s, the host's grub-mkimage is %s: using the host's "
                                    "modules", strna(tv), platform, strna(hv));
                        tree_ok = false;
                }
        }
        if (tree_ok)
                return TAKE_PTR(in_tree);
        if (host_ok)
                return TAKE_PTR(host);
        return strdup("");
}

static int grub_mkimage(const char *dir, const char *format, const char *early, const char *out,
                        const char *const *modules) {
        _cleanup_strv_free_ char **argv = NULL;
        const char *head[] = { "grub-mkimage", "-O", format, "-d", dir, "-c", early, "-p", "/boot/grub", "-o", out };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                if (strv_extend(&argv, head[i]) < 0)
                        return -ENOMEM;
        for (const char *const *m = modules; *m; m++)
                if (strv_extend(&argv, *m) < 0)
                        return -ENOMEM;
        return tool_run((const char *const *) argv, NULL);
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
                _cleanup_free_ char *dir = grub_moddir(tree, "x86_64-efi", "normal.mod");
                if (!dir)
                        return -ENOMEM;
                if (!*dir)
                        return log_error_errno(-ENOENT, "No GRUB x86_64-efi modules in the tree or on the host "
                                                        "(install grub-efi-amd64-bin)");
                g.efi = strprintf("%s/grubx64.efi", workdir);
                if (!g.efi)
                        return -ENOMEM;
                const char *mods[] = { GRUB_COMMON_MODULES, "fat", "all_video", NULL };
                log_debug("GRUB x86_64-efi from %s", dir);
                r = grub_mkimage(dir, "x86_64-efi", early_path, g.efi, mods);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the GRUB EFI image: %m");
        }
        if (bios) {
                _cleanup_free_ char *dir = grub_moddir(tree, "i386-pc", "boot.img");
                if (!dir)
                        return -ENOMEM;
                if (!*dir)
                        return log_error_errno(-ENOENT, "No GRUB i386-pc modules in the tree or on the host "
                                                        "(install grub-pc-bin)");
                g.core = strprintf("%s/core.img", workdir);
                g.boot_img = strprintf("%s/boot.img", dir);
                if (!g.core || !g.boot_img)
                        return -ENOMEM;
                const char *mods[] = { "biosdisk", GRUB_COMMON_MODULES, NULL };
                log_debug("GRUB i386-pc from %s", dir);
                r = grub_mkimage(dir, "i386-pc", early_path, g.core, mods);
                if (r < 0)
                        return log_error_errno(r, "Failed to build the GRUB BIOS core image: %m");
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

static int pread_exact(int fd, void *buf, size_t n, uint64_t off) {
        ssize_t k = pread(fd, buf, n, (off_t) off);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
}

static int pwrite_exact(int fd, const void *buf, size_t n, uint64_t off) {
        ssize_t k = pwrite(fd, buf, n, (off_t) off);
        if (k < 0)
                return -errno;
        return (size_t) k == n ? 0 : -EIO;
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
