/* SPDX-License-Identifier: MIT */
#pragma once

#include "build.h"
#include "installer.h"

/* The install media built around the installer environment (installer.h):
 *   <host>.iso  one hybrid ISO 9660 file (xorriso): a CD and, written raw to a stick, a disk; BIOS
 *               boots isolinux, UEFI boots GRUB from an ESP appended as a GPT partition (the
 *               layout research/lab-boot.md §2 "C" proved with OVMF as CD and as USB stick);
 *   pxe/        kernel, initrd, live root, image and the network boot files (iPXE, pxelinux,
 *               GRUB for UEFI), for a TFTP and an HTTP server.
 * Both carry the install source: image.raw.zst (the raw OS disk, zstd) and SHA256SUMS (its
 * sha256), plus ks.cfg when the build was given a kickstart. docs/boot-media.md. */

/* Names in the install source (the ISO's /rackstack/, the PXE set's root): the contract with
 * `rackstack-firstboot install --source`. */
#define MEDIA_IMAGE_NAME "image.raw.zst"
#define MEDIA_SUMS_NAME "SHA256SUMS"
/* What the image is (role, host, base, version, build time), listed in the signed SHA256SUMS so
 * that `install` can refuse an image for another role or an older build. */
#define MEDIA_IDENTITY_NAME "image.json"
/* ... and where the image's root carries the same file (firstboot's IMAGE_IDENTITY_INSTALLED) */
#define IMAGE_IDENTITY_DIR "usr/lib/rackstack"
#define IMAGE_IDENTITY_IN_ROOT IMAGE_IDENTITY_DIR "/" MEDIA_IDENTITY_NAME
#define MEDIA_SIG_NAME "SHA256SUMS.sig"
#define MEDIA_KS_NAME "ks.cfg"

/* What goes on the medium besides the installer. */
struct media_source {
        char *image;   /* the compressed image (work dir) */
        char *image_sha256; /* ... hashed once, for its SHA256SUMS here and the PXE set's entry */
        uint64_t image_size;
        char *sums;    /* SHA256SUMS naming MEDIA_IMAGE_NAME (work dir) */
        char *sig;     /* its signature, NULL when unsigned */
        const char *ks;/* the build's --ks, NULL for none */
        char *identity; /* MEDIA_IDENTITY_NAME (work dir) */
        char *ks_sha256; /* ... listed in SHA256SUMS (so the signature covers it) and pinned in the PXE configs */
};

/* What a PXE boot configuration pins: the installer's squashfs (it holds rackstack-firstboot and
 * the signing key) and the kickstart, each by sha256 on the kernel command line. */
struct media_pins {
        const char *live_sha256;
        const char *ks_sha256; /* NULL: no kickstart in the set */
};

void media_source_done(struct media_source *s);

/* Compress raw_path into ctx->work_dir/MEDIA_IMAGE_NAME (zstd, as a program) and write the
 * SHA256SUMS for it: the compressed image first (what the installer streams), then the raw image
 * under raw_name (so the installer checks what it wrote, too). raw_sha256 is the raw image's hash
 * when the caller has it already, else NULL. */
/* work_dir/image.json (MEDIA_IDENTITY_NAME): role, host, base, version, build time; written on the
 * first call of a build, so the image's root (image.c) and the media carry the same bytes. Its
 * path, and its sha256 when ret_hex is not NULL. */
int media_identity_write(struct build_ctx *ctx, char **ret_path, char **ret_hex);

int media_source_make(struct build_ctx *ctx, const char *raw_path, const char *raw_name, const char *raw_sha256,
                      const char *ks, struct media_source *ret);

/* The kernel command line's console part: serial last, so /dev/console (what the installer
 * talks on) is ttyS0, while the kernel logs to the screen too. */
#define MEDIA_CONSOLE "console=tty0 console=ttyS0,115200n8"

/* Expand template iso/NAME for this build (@ROLE@ @HOST@ @LABEL@ @CONSOLE@ @PXE_URL@ @KS_ARG@
 * @LIVE_PIN@). pins is NULL on a medium (the ISO's files are checked by the installer from its
 * signed SHA256SUMS); for a PXE set KS_ARG is "inst.ks=URL inst.ks.sha256=HEX" and LIVE_PIN
 * "rackstack.live.sha256=HEX". */
int media_render(const struct build_ctx *ctx, const char *label, const char *pxe_url, const struct media_pins *pins,
                 const char *name, char **ret);

/* Write the hybrid ISO to dest (a temporary name; the caller publishes it). */
/* The ISO's and the PXE set's UEFI GRUB images, from the role tree's own GRUB (grub_mkimage_from()),
 * into ctx->work_dir/media-loaders/: called while ctx->tree_dir still exists. Sets
 * env->grub_iso_efi and env->grub_net_efi. */
int media_prepare_loaders(struct build_ctx *ctx, struct installer_env *env);

int media_write_iso(struct build_ctx *ctx, const struct installer_env *env, const struct media_source *src,
                    const char *dest);

/* Fill dest_dir (an empty directory) with the PXE set for base URL pxe_url (no trailing '/');
 * *ret_files lists what it wrote, relative to dest_dir. */
int media_write_pxe(struct build_ctx *ctx, const struct installer_env *env, const struct media_source *src,
                    const char *pxe_url, const char *dest_dir, char ***ret_files);

/* The default --pxe-url: "http://next-server/rackstack/<host>"; the installer replaces the host
 * "next-server" with the DHCP boot server. */
char *media_default_pxe_url(const char *host);
