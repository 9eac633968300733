/* SPDX-License-Identifier: MIT */
#pragma once

#include "image.h"

/* GRUB for UEFI and BIOS, built with grub-mkimage from the image's own GRUB modules when the tree
 * has them (so the boot loader matches the grub packages in the image), else the build host's.
 * Both images carry the same early configuration: find the root filesystem by UUID and read
 * /boot/grub/grub.cfg from it. */

struct grub_images {
        char *efi;      /* x86_64-efi image, NULL if not built */
        char *core;     /* i386-pc core image */
        char *boot_img; /* i386-pc boot.img (the MBR boot code) it goes with */
};

void grub_images_done(struct grub_images *g);

/* One GRUB image (format x86_64-efi or i386-pc) from the tree's own GRUB when it has one: its
 * grub-mkimage run chrooted into the tree on its modules; else the tree's modules with the host's
 * grub-mkimage of the same version; else the host's. early (a host path) may be NULL; prefix is
 * grub-mkimage's -p. ret_dir (optional) gets the module directory used, as a host path. */
int grub_mkimage_from(const char *tree, const char *format, const char *early, const char *prefix, const char *out,
                      const char *const *modules, char **ret_dir);

/* Build the images into workdir for the root filesystem root_uuid. */
int grub_images_build(const char *workdir, const char *tree, const char *root_uuid, bool efi, bool bios,
                      struct grub_images *ret);

/* Put the EFI image on the ESP at the removable-media path EFI/BOOT/BOOTX64.EFI (firmware finds it
 * without an NVRAM entry) and at EFI/<distro>/grubx64.efi. */
int grub_efi_install(const char *image, const struct image_part *esp, const struct grub_images *g,
                     const char *distro, int64_t sde);

/* What grub-bios-setup does for a GPT disk with a BIOS boot partition, done on the image file:
 * the core image goes into the partition with its own blocklist pointing at its second sector,
 * and boot.img goes into the protective MBR's code area (partition table kept) with the core's
 * first sector patched in. */
int grub_bios_install(const char *image, const struct image_part *bios, const struct grub_images *g);
