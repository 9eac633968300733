/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "build.h"

/* The OS disk image: the role's OS-disk layout as a sparse raw file, GPT written with libparted,
 * filesystems made without mounts or loop devices, GRUB for UEFI and BIOS. */

struct image_part {
        char *name;       /* GPT partition name */
        enum part_type type;
        enum fs_type fs;
        char *mount;
        uint64_t offset;  /* bytes from the start of the disk */
        uint64_t size;    /* bytes */
        char *part_uuid;  /* GPT partition GUID */
        char *fs_uuid;    /* filesystem UUID (or FAT serial "XXXX-XXXX"), NULL for none */
};

struct image_layout {
        uint64_t disk_size;
        char *disk_guid;
        struct image_part *parts;
        size_t n_parts;
};

void image_layout_done(struct image_layout *l);

/* Lay ctx->tree_dir onto a new raw disk at raw_path (created, sparse, ctx->image_size bytes) per
 * the profile's OS disk. Writes /etc/fstab (by UUID) and the GRUB configuration into the tree
 * before it is copied into the root filesystem. On success fills *ret_layout.
 *
 * Needs: ctx->profile (its OS disk: an ext4 "/" and an ESP and/or a BIOS boot partition),
 * ctx->tree_dir with a /boot/vmlinuz-VERSION, ctx->work_dir (scratch: GRUB images go into
 * work_dir/image-boot), ctx->image_size; ctx->base->name picks EFI/debian or EFI/ubuntu. With
 * ctx->source_date_epoch >= 0 every GUID is derived from role + epoch and the tools are asked for
 * reproducible output. Runs mke2fs, mkfs.vfat, mtools and grub-mkimage; no mounts or loop
 * devices. On failure raw_path is removed. Details: image-plan.h, gpt.h, mkfs.h, bootloader.h. */
int image_assemble(struct build_ctx *ctx, const char *raw_path, struct image_layout *ret_layout);
