/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootloader.h"
#include "cleanup.h"
#include "ed25519.h"
#include "escape.h"
#include "exec-tool.h"
#include "fileio.h"
#include "json.h"
#include "log.h"
#include "media.h"
#include "outputs.h"
#include "progress.h"
#include "spawn-run.h"
#include "template.h"
#include "util.h"

#define ISOLINUX_DIR "/usr/lib/ISOLINUX"
#define PXELINUX_DIR "/usr/lib/PXELINUX"
#define SYSLINUX_BIOS_DIR "/usr/lib/syslinux/modules/bios"
#define ESP_GUID "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

/* GRUB modules for the ISO's EFI loader (a medium found by a tag file, a Linux kernel) and for
 * the UEFI netboot image. Only these are embedded: all of them make a 10 MiB loader. */
static const char *const grub_iso_modules[] = { "part_gpt", "part_msdos", "iso9660", "fat", "search",
                                                "search_fs_file", "search_label", "linux", "normal", "configfile",
                                                "echo", "serial", "terminal", "test", "all_video", "efi_gop" };
static const char *const grub_net_modules[] = { "efinet", "tftp", "http", "net", "linux", "normal", "configfile",
                                                "echo", "serial", "terminal", "test", "search", "part_gpt", "fat",
                                                "all_video", "efi_gop" };

/* A UEFI GRUB image by the host's grub-mkimage (when media_prepare_loaders() made none): early is
 * its embedded config (NULL: none), prefix where it finds grub.cfg. */
static int host_grub_efi(const char *out, const char *early, const char *prefix, const char *const *modules,
                         size_t n_modules) {
        const char *argv[9 + MAX(ELEMENTSOF(grub_iso_modules), ELEMENTSOF(grub_net_modules)) + 1] = {
                "grub-mkimage", "-O", "x86_64-efi", "-o", out, "-p", prefix
        };
        size_t n = 7;
        if (early) {
                argv[n++] = "-c";
                argv[n++] = early;
        }
        for (size_t i = 0; i < n_modules && n < ELEMENTSOF(argv) - 1; i++)
                argv[n++] = modules[i];
        argv[n] = NULL;
        return tool_run(argv, NULL);
}

void media_source_done(struct media_source *s) {
        free(s->image);
        free(s->image_sha256);
        free(s->sums);
        free(s->sig);
        free(s->ks_sha256);
        free(s->identity);
        *s = (struct media_source) {};
}

char *media_default_pxe_url(const char *host) {
        return strprintf("http://next-server/rackstack/%s", host);
}

static const char *const *sde_env(const struct build_ctx *ctx, char **storage) {
        static const char *env[2];
        if (ctx->source_date_epoch < 0)
                return NULL;
        *storage = strprintf("SOURCE_DATE_EPOCH=%lld", (long long) ctx->source_date_epoch);
        env[0] = *storage;
        env[1] = NULL;
        return *storage ? env : NULL;
}

/* image.json: role, host, base, version and build time, for the installer's checks. */
static int identity_text_write(struct build_ctx *ctx, const char *path) {
        int64_t when = ctx->source_date_epoch >= 0 ? ctx->source_date_epoch : (int64_t) time(NULL);
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_string(&j, "role", ctx->profile->role);
        json_kv_string(&j, "host", ctx->host ? ctx->host->name : "any");
        json_kv_string(&j, "base", ctx->base ? ctx->base->name : NULL);
        json_kv_string(&j, "version", RACKSTACK_VERSION);
        json_kv_int(&j, "build_time", when);
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        _cleanup_free_ char *text = buf_steal(&j.out);
        if (!text)
                return -ENOMEM;
        int r = write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        return 0;
}

int media_identity_write(struct build_ctx *ctx, char **ret_path, char **ret_hex) {
        _cleanup_free_ char *path = strprintf("%s/%s", ctx->work_dir, MEDIA_IDENTITY_NAME);
        if (!path)
                return -ENOMEM;
        /* written once per build: the image's root carries the same bytes the media list */
        int r = access(path, F_OK) == 0 ? 0 : identity_text_write(ctx, path);
        if (r < 0)
                return r;
        if (ret_hex && (r = sha256_file(path, "sha256 " MEDIA_IDENTITY_NAME, ret_hex, NULL)) < 0)
                return r;
        *ret_path = TAKE_PTR(path);
        return 0;
}

int media_source_make(struct build_ctx *ctx, const char *raw_path, const char *raw_name, const char *raw_sha256,
                      const char *ks, struct media_source *ret) {
        _cleanup_(media_source_done) struct media_source s = {
                .image = strprintf("%s/%s", ctx->work_dir, MEDIA_IMAGE_NAME),
                .sums = strprintf("%s/%s", ctx->work_dir, MEDIA_SUMS_NAME),
                .ks = ks,
        };
        if (!s.image || !s.sums)
                return -ENOMEM;
        /* zstd -3 on both cores: 12 s and 350 MB for the 2.25 GiB db image here (-9: 40 s, 309 MB).
         * libarchive's raw reader streams it back on Debian 12 and Ubuntu 24.04 alike. */
        const char *argv[] = { "zstd", "-q", "-T0", "-3", "--no-progress", "-f", "-o", s.image, raw_path, NULL };
        int r = tool_run(argv, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to compress the image for the install media: %m");
        _cleanup_free_ char *hex = NULL;
        uint64_t size = 0;
        r = sha256_file(s.image, "sha256 " MEDIA_IMAGE_NAME, &hex, &size);
        if (r < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to hash %s: %m", s.image);
        _cleanup_free_ char *raw_hex = raw_sha256 ? strdup(raw_sha256) : NULL;
        if (!raw_hex) {
                r = sha256_file(raw_path, "sha256 raw image", &raw_hex, NULL);
                if (r < 0)
                        return r == -EINTR ? r : log_error_errno(r, "Failed to hash %s: %m", raw_path);
        }
        s.image_size = size;
        /* The kickstart is listed too: the installer takes answers from the source only when the
         * (signed) list names them, so whoever serves the files cannot choose the disk to wipe. */
        if (ks && (r = sha256_file(ks, "sha256 " MEDIA_KS_NAME, &s.ks_sha256, NULL)) < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to hash %s: %m", ks);
        _cleanup_free_ char *id_hex = NULL;
        if ((r = media_identity_write(ctx, &s.identity, &id_hex)) < 0)
                return r;
        _cleanup_free_ char *text = strprintf("%s  %s\n%s  %s\n%s  %s\n%s%s%s", hex, MEDIA_IMAGE_NAME, raw_hex, raw_name,
                                              id_hex, MEDIA_IDENTITY_NAME, strempty(s.ks_sha256),
                                              ks ? "  " MEDIA_KS_NAME : "", ks ? "\n" : "");
        if (!text)
                return -ENOMEM;
        r = write_file_atomic(AT_FDCWD, s.sums, text, strlen(text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", s.sums);
        if (ctx->sign_key) {
                /* The installer carries the public key (iso/installer/files) and refuses a medium
                 * whose SHA256SUMS this does not sign. */
                if (!(s.sig = strprintf("%s/%s", ctx->work_dir, MEDIA_SIG_NAME)))
                        return -ENOMEM;
                r = ed25519_sign_file(ctx->sign_key, s.sums, s.sig);
                if (r < 0)
                        return log_error_errno(r, "Failed to sign the media's SHA256SUMS with %s: %m", ctx->sign_key);
        }
        stage_note("media", "%s: %.0f MiB", MEDIA_IMAGE_NAME, size / 1048576.0);
        s.image_sha256 = TAKE_PTR(hex);
        *ret = s;
        s = (struct media_source) {};
        return 0;
}

int media_render(const struct build_ctx *ctx, const char *label, const char *pxe_url, const struct media_pins *pins,
                 const char *name, char **ret) {
        _cleanup_free_ char *path = strprintf("%s/iso/%s", ctx->data_dir, name);
        _cleanup_free_ char *ks_arg = pins && pins->ks_sha256 && pxe_url ?
                strprintf("inst.ks=%s/%s inst.ks.sha256=%s", pxe_url, MEDIA_KS_NAME, pins->ks_sha256) : strdup("");
        _cleanup_free_ char *live_pin = pins && pins->live_sha256 ?
                strprintf("rackstack.live.sha256=%s", pins->live_sha256) : strdup("");
        if (!path || !ks_arg || !live_pin)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(AT_FDCWD, path, 1 << 20, &text, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to read the template %s: %m", path);
        /* grub.cfg, isolinux.cfg and iPXE share no quoting: what goes onto their kernel command
         * lines must be a plain word, or the profile could add a boot argument (or a command). */
        const char *words[] = { ctx->profile->role, ctx->host->name, label, pxe_url };
        for (size_t i = 0; i < ELEMENTSOF(words); i++)
                if (words[i] && !boot_word_ok(words[i]))
                        return log_error_errno(-EINVAL, "%s: '%s' cannot go onto a boot loader's kernel command line "
                                               "(letters, digits and . _ - : / = , @ only)", name, words[i]);
        const char *vars[] = {
                "ROLE", ctx->profile->role, "HOST", ctx->host->name, "LABEL", label, "CONSOLE", MEDIA_CONSOLE,
                "PXE_URL", strempty(pxe_url), "KS_ARG", ks_arg, "LIVE_PIN", live_pin, NULL,
        };
        _cleanup_free_ char *unknown = NULL;
        r = template_expand(text, vars, ret, &unknown);
        if (r == -ENOKEY)
                return log_error_errno(-EINVAL, "%s: unknown template variable @%s@ (known: ROLE HOST LABEL CONSOLE "
                                       "PXE_URL KS_ARG LIVE_PIN)", path, strna(unknown));
        return r;
}

/* n bytes into dirfd/dst (0644, its parents made). */
static int put_bytes(int dirfd, const char *dst, const char *data, size_t n) {
        int r = mkdir_parents_of(dirfd, dst, 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(dirfd, dst, data, n, 0644);
        return r < 0 ? log_error_errno(r, "Failed to write %s: %m", dst) : 0;
}

static int render_to(const struct build_ctx *ctx, const char *label, const char *pxe_url,
                     const struct media_pins *pins, const char *name, int dirfd, const char *dst) {
        _cleanup_free_ char *text = NULL;
        int r = media_render(ctx, label, pxe_url, pins, name, &text);
        return r < 0 ? r : put_bytes(dirfd, dst, text, strlen(text));
}

/* Copy a host file into dirfd/dst (creating parents). */
static int put_file(const char *src, int dirfd, const char *dst) {
        _cleanup_free_ char *text = NULL;
        size_t n = 0;
        int r = read_file_full(AT_FDCWD, src, 64 << 20, &text, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", src);
        return put_bytes(dirfd, dst, text, n);
}

/* A big file into the PXE set: a hard link when the work dir shares the file system, else a copy.
 * A TFTP or HTTP server that is not root must be able to hand every file out, so each is 0644: a
 * source that is not (Ubuntu's /boot/vmlinuz-* is 0600) is copied, since a link shares its mode and
 * a chmod would change the source too. */
static int link_or_copy(const char *src, int dirfd, const char *dst) {
        struct stat st;
        if (stat(src, &st) < 0)
                return log_error_errno(-errno, "Failed to stat %s: %m", src);
        if ((st.st_mode & 07777) == 0644) {
                if (linkat(AT_FDCWD, src, dirfd, dst, 0) == 0)
                        return 0;
                if (errno != EXDEV && errno != EPERM)
                        return log_error_errno(-errno, "Failed to link %s: %m", src);
        }
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = openat(dirfd, dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (out < 0)
                return -errno;
        /* 0644 whatever the umask. */
        if (fchmod(out, 0644) < 0)
                return -errno;
        int r = copy_bytes(in, out);
        return r < 0 ? log_error_errno(r, "Failed to copy %s: %m", src) : 0;
}

static int copy_small(const char *src, const char *dst) {
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = read_file_full(AT_FDCWD, src, 64 << 20, &data, &n);
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, dst, data, n, 0644);
        return r < 0 ? log_error_errno(r, "Failed to copy %s to %s: %m", src, dst) : 0;
}

static int modules_strv(const char *const *mods, size_t n, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (strv_extend(&l, mods[i]) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

int media_prepare_loaders(struct build_ctx *ctx, struct installer_env *env) {
        _cleanup_free_ char *dir = strprintf("%s/media-loaders", ctx->work_dir);
        if (!dir)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create %s: %m", dir);
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        int r = render_to(ctx, env->label, NULL, false, "grub-embed.cfg", dirfd, "grub-embed.cfg");
        if (r < 0)
                return r;
        _cleanup_free_ char *embed = strprintf("%s/grub-embed.cfg", dir);
        _cleanup_free_ char *iso = strprintf("%s/BOOTX64.EFI", dir), *net = strprintf("%s/grubnetx64.efi", dir);
        _cleanup_strv_free_ char **iso_mods = NULL, **net_mods = NULL;
        if (!embed || !iso || !net)
                return -ENOMEM;
        if ((r = modules_strv(grub_iso_modules, ELEMENTSOF(grub_iso_modules), &iso_mods)) < 0 ||
            (r = modules_strv(grub_net_modules, ELEMENTSOF(grub_net_modules), &net_mods)) < 0)
                return r;
        r = grub_mkimage_from(ctx->tree_dir, "x86_64-efi", embed, "/boot/grub", iso,
                              (const char *const *) iso_mods, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to make the ISO's EFI loader: %m");
        /* Its prefix is the TFTP server's grub/: grub.cfg is read from there. */
        r = grub_mkimage_from(ctx->tree_dir, "x86_64-efi", NULL, "(tftp)/grub", net, (const char *const *) net_mods,
                              NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to make the UEFI netboot loader grubnetx64.efi: %m");
        env->grub_iso_efi = TAKE_PTR(iso);
        env->grub_net_efi = TAKE_PTR(net);
        return 0;
}

static int make_efi_image(struct build_ctx *ctx, const char *label, const char *prebuilt, const char *dir,
                          char **ret_img) {
        _cleanup_free_ char *embed = strprintf("%s/grub-embed.cfg", dir);
        _cleanup_free_ char *efi = strprintf("%s/BOOTX64.EFI", dir);
        _cleanup_free_ char *img = strprintf("%s/efi.img", dir);
        if (!embed || !efi || !img)
                return -ENOMEM;
        _cleanup_close_ int dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return -errno;
        int r = render_to(ctx, label, NULL, NULL, "grub-embed.cfg", dirfd, "grub-embed.cfg");
        if (r < 0)
                return r;
        /* grub-mkimage with the search as its early config, not grub-mkstandalone: the latter packs
         * grub.cfg into a memdisk tar stamped with the time of the copy, so no two ISOs were alike.
         * Every module is built in; nothing is loaded from the medium. Made from the role tree's
         * GRUB beforehand (media_prepare_loaders()) when the build could. */
        if (prebuilt)
                r = copy_small(prebuilt, efi);
        else {
                r = host_grub_efi(efi, embed, "/boot/grub", grub_iso_modules, ELEMENTSOF(grub_iso_modules));
        }
        if (r < 0)
                return log_error_errno(r, "Failed to make the ISO's EFI loader: %m");
        struct stat st;
        if (stat(efi, &st) < 0)
                return -errno;
        /* FAT12 with room for the loader and its directories, in KiB blocks. */
        _cleanup_free_ char *blocks = strprintf("%llu", (unsigned long long) ((st.st_size / 1024 + 512 + 1023) / 1024 * 1024));
        if (!blocks)
                return -ENOMEM;
        (void) unlink(img);
        /* With SOURCE_DATE_EPOCH: mkfs.vfat --invariant (no clock in the boot sector or FAT), mtools
         * stamp directories and files with the epoch. */
        bool sde = ctx->source_date_epoch >= 0;
        const char *mkfs[] = { "mkfs.vfat", "-n", "RS-EFI", "-i", "52534546", "-C", img, blocks,
                               sde ? "--invariant" : NULL, NULL };
        const char *mmd[] = { "mmd", "-i", img, "::/EFI", "::/EFI/BOOT", NULL };
        const char *mcopy[] = { "mcopy", "-i", img, efi, "::/EFI/BOOT/BOOTX64.EFI", NULL };
        _cleanup_free_ char *sde_s = NULL;
        const char *const *env = sde_env(ctx, &sde_s);
        if ((r = tool_run(mkfs, NULL)) < 0 || (r = tool_run(mmd, env)) < 0 || (r = tool_run(mcopy, env)) < 0)
                return log_error_errno(r, "Failed to make the ISO's EFI system partition: %m");
        *ret_img = TAKE_PTR(img);
        return 0;
}

int media_write_iso(struct build_ctx *ctx, const struct installer_env *env, const struct media_source *src,
                    const char *dest) {
        _cleanup_free_ char *dir = strprintf("%s/iso", ctx->work_dir);
        _cleanup_free_ char *tree = strprintf("%s/iso/tree", ctx->work_dir);
        if (!dir || !tree)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, tree, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", tree);
        _cleanup_close_ int treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        _cleanup_free_ char *id_name = strprintf("rackstack/%s.id", env->label);
        _cleanup_free_ char *id_text = strprintf("%s %s\n", ctx->profile->role, ctx->host->name);
        if (!id_name || !id_text)
                return -ENOMEM;
        if ((r = put_file(ISOLINUX_DIR "/isolinux.bin", treefd, "isolinux/isolinux.bin")) < 0 ||
            (r = put_file(SYSLINUX_BIOS_DIR "/ldlinux.c32", treefd, "isolinux/ldlinux.c32")) < 0 ||
            (r = render_to(ctx, env->label, NULL, NULL, "isolinux.cfg", treefd, "isolinux/isolinux.cfg")) < 0 ||
            (r = render_to(ctx, env->label, NULL, NULL, "grub.cfg", treefd, "boot/grub/grub.cfg")) < 0 ||
            (r = put_file(src->sums, treefd, "rackstack/" MEDIA_SUMS_NAME)) < 0 ||
            (r = put_file(src->identity, treefd, "rackstack/" MEDIA_IDENTITY_NAME)) < 0 ||
            (r = (src->sig ? put_file(src->sig, treefd, "rackstack/" MEDIA_SIG_NAME) : 0)) < 0 ||
            (r = (src->ks ? put_file(src->ks, treefd, "rackstack/" MEDIA_KS_NAME) : 0)) < 0)
                return r;
        r = write_file_atomic(treefd, id_name, id_text, strlen(id_text), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", id_name);
        _cleanup_free_ char *efi_img = NULL;
        r = make_efi_image(ctx, env->label, env->grub_iso_efi, dir, &efi_img);
        if (r < 0)
                return r;

        /* The big files are grafted in where they are, not copied into the tree. */
        _cleanup_free_ char *g_kernel = strprintf("boot/vmlinuz=%s", env->kernel);
        _cleanup_free_ char *g_initrd = strprintf("boot/initrd.img=%s", env->initrd);
        _cleanup_free_ char *g_live = strprintf("live/installer.squashfs=%s", env->squashfs);
        _cleanup_free_ char *g_image = strprintf("rackstack/%s=%s", MEDIA_IMAGE_NAME, src->image);
        _cleanup_free_ char *g_tree = strprintf("/=%s", tree);
        if (!g_kernel || !g_initrd || !g_live || !g_image || !g_tree)
                return -ENOMEM;
        /* Layout "C" of research/lab-boot.md: isolinux in the protective MBR and El Torito for BIOS;
         * the ESP appended as a real GPT partition (what UEFI firmware boots from a stick) and also
         * the El Torito EFI entry (what it boots from a CD). -iso-level 3 for an image over 4 GiB. */
        _cleanup_free_ char *dates = NULL;
        if (ctx->source_date_epoch >= 0) {
                time_t t = (time_t) ctx->source_date_epoch;
                struct tm tm;
                char b[32];
                if (!gmtime_r(&t, &tm) || strftime(b, sizeof b, "%Y%m%d%H%M%S00", &tm) == 0)
                        return -EINVAL;
                dates = strdup(b);
                if (!dates)
                        return -ENOMEM;
        }
        /* Written to stdout, i.e. into dest opened here: dest is the build's unnamed output file
         * (/proc/PID/fd/N), which xorriso will not take as -o (a symbolic link). */
        _cleanup_close_ int out = open(dest, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (out < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", dest);
        const char *argv[] = {
                "xorriso", "-as", "mkisofs", "-o", "-", "-iso-level", "3", "-r", "-J", "-joliet-long",
                "-V", env->label, "-graft-points",
                "-isohybrid-mbr", ISOLINUX_DIR "/isohdpfx.bin", "-partition_offset", "16",
                "-b", "isolinux/isolinux.bin", "-c", "isolinux/boot.cat", "-no-emul-boot", "-boot-load-size", "4",
                "-boot-info-table",
                "-eltorito-alt-boot", "-e", "--interval:appended_partition_2:all::", "-no-emul-boot",
                "-append_partition", "2", ESP_GUID, efi_img, "-appended_part_as_gpt",
                g_tree, g_kernel, g_initrd, g_live, g_image,
                /* xorriso 1.5.4 takes the volume dates from SOURCE_DATE_EPOCH but still records each
                 * file's mtime (the work tree's, made now): pin those too. */
                dates ? "--set_all_file_dates" : NULL, dates, NULL,
        };
        _cleanup_free_ char *sde = NULL;
        r = tool_run_to(argv, sde_env(ctx, &sde), out);
        if (r < 0)
                return log_error_errno(r, "xorriso could not write the ISO: %m");
        return 0;
}

int media_write_pxe(struct build_ctx *ctx, const struct installer_env *env, const struct media_source *src,
                    const char *pxe_url, const char *dest_dir, char ***ret_files) {
        _cleanup_close_ int dirfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", dest_dir);
        bool ks = src->ks;
        _cleanup_free_ char *live_hex = NULL;
        int r = sha256_file(env->squashfs, "sha256 installer.squashfs", &live_hex, NULL);
        if (r < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to hash %s: %m", env->squashfs);
        const struct media_pins pins = { .live_sha256 = live_hex, .ks_sha256 = src->ks_sha256 };
        if ((r = link_or_copy(env->kernel, dirfd, "vmlinuz")) < 0 || (r = link_or_copy(env->initrd, dirfd, "initrd.img")) < 0 ||
            (r = link_or_copy(env->squashfs, dirfd, "installer.squashfs")) < 0 ||
            (r = link_or_copy(src->image, dirfd, MEDIA_IMAGE_NAME)) < 0 ||
            (r = put_file(src->sums, dirfd, MEDIA_SUMS_NAME)) < 0 ||
            (r = put_file(src->identity, dirfd, MEDIA_IDENTITY_NAME)) < 0 ||
            (r = (src->sig ? put_file(src->sig, dirfd, MEDIA_SIG_NAME) : 0)) < 0 ||
            (r = (ks ? put_file(src->ks, dirfd, MEDIA_KS_NAME) : 0)) < 0 ||
            (r = put_file(PXELINUX_DIR "/pxelinux.0", dirfd, "pxelinux.0")) < 0 ||
            (r = put_file(PXELINUX_DIR "/lpxelinux.0", dirfd, "lpxelinux.0")) < 0 ||
            (r = put_file(SYSLINUX_BIOS_DIR "/ldlinux.c32", dirfd, "ldlinux.c32")) < 0 ||
            (r = render_to(ctx, env->label, pxe_url, &pins, "boot.ipxe", dirfd, "boot.ipxe")) < 0 ||
            (r = render_to(ctx, env->label, pxe_url, &pins, "pxelinux.cfg/default", dirfd, "pxelinux.cfg/default")) < 0 ||
            (r = render_to(ctx, env->label, pxe_url, &pins, "grub-net.cfg", dirfd, "grub/grub.cfg")) < 0)
                return r;
        _cleanup_free_ char *grubnet = strprintf("%s/grubnetx64.efi", dest_dir);
        if (!grubnet)
                return -ENOMEM;
        if (env->grub_net_efi)
                r = copy_small(env->grub_net_efi, grubnet);
        else {
                /* Its prefix is the TFTP server's grub/: grub.cfg is read from there. */
                r = host_grub_efi(grubnet, NULL, "(tftp)/grub", grub_net_modules, ELEMENTSOF(grub_net_modules));
        }
        if (r < 0)
                return log_error_errno(r, "Failed to make the UEFI netboot loader grubnetx64.efi: %m");
        static const char *const names[] = {
                "vmlinuz", "initrd.img", "installer.squashfs", MEDIA_IMAGE_NAME, MEDIA_SUMS_NAME, MEDIA_SIG_NAME,
                MEDIA_IDENTITY_NAME,
                MEDIA_KS_NAME, "pxelinux.0", "lpxelinux.0", "ldlinux.c32", "boot.ipxe", "pxelinux.cfg/default",
                "grub/grub.cfg", "grubnetx64.efi",
        };
        _cleanup_strv_free_ char **files = calloc(1, sizeof(char *));
        if (!files)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (faccessat(dirfd, names[i], F_OK, 0) == 0 && strv_extend(&files, names[i]) < 0)
                        return -ENOMEM;
        *ret_files = TAKE_PTR(files);
        return 0;
}
