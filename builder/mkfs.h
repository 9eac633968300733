/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "image.h"

/* Filesystems made inside a disk image file at a byte offset, with no mount and no loop device.
 * sde is SOURCE_DATE_EPOCH, or -1: when set, the tools are asked for reproducible output. */

/* ext4 of part->size bytes at part->offset, populated from tree (NULL for an empty one). */
int mkfs_ext4_at(const char *image, const struct image_part *part, const char *label, const char *tree,
                 int64_t sde);
/* FAT32 (one sector per cluster, which mtools needs: lab-disk.md §6.2) with serial part->fs_uuid. */
int mkfs_vfat_at(const char *image, const struct image_part *part, const char *label, int64_t sde);
/* mtools on the FAT at part->offset: make directories (parents first) and copy one file in. */
int fat_mkdirs(const char *image, const struct image_part *part, const char *const *dirs, int64_t sde);
int fat_copy(const char *image, const struct image_part *part, const char *src, const char *dest, int64_t sde);

/* What a tree takes, measured in one walk (both rules are pinned by tests/unit/test-tree-measure.c;
 * changing either changes every image's size or when a build refuses a tree):
 *   apparent  every entry below the top: its apparent size plus 4 KiB (metadata, directories, tiny
 *             files), each link counted, across mount points: what sizes the disk image;
 *   blocks    the top and what is below it on the top's filesystem, in 4 KiB blocks, each inode
 *             once, a symlink under 60 bytes none (ext4 keeps it in the inode): what must fit in a
 *             partition with ext4's metadata. */
struct tree_measure {
        uint64_t apparent;
        uint64_t blocks;
};
int tree_measure(int dirfd, struct tree_measure *ret);
int tree_measure_path(const char *tree, struct tree_measure *ret);
