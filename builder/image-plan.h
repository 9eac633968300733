/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "diag.h"
#include "image.h"

/* The pure half of the image assembler: where each partition of the OS disk goes and which
 * GUIDs it gets. No I/O, so every rule is unit-tested (tests/unit/test-image-plan.c). */

#define IMAGE_SECTOR_SIZE UINT64_C(512)
#define IMAGE_ALIGN (UINT64_C(1) << 20)
/* The backup GPT: 32 sectors of entries and its header, at the very end of the disk. */
#define IMAGE_GPT_BACKUP_BYTES (UINT64_C(33) * IMAGE_SECTOR_SIZE)

/* Lay the disk's partitions out on a disk of disk_size bytes, in the spec's order, each starting
 * on a 1 MiB boundary: fixed sizes round up to whole MiB, percent is of the whole disk (rounded
 * down), the one grow partition takes what is left; max_size caps both. parts[i] of the result
 * is disk->parts[i]. GUIDs come from seed (see uuid_derive()) when it is non-NULL, else they are
 * random. Problems go to d (located at the spec) and give -EINVAL (bad spec) or -ENOSPC (does not
 * fit). */
int image_layout_plan(const struct disk_spec *disk, uint64_t disk_size, const char *seed, struct diags *d,
                      struct image_layout *ret);

/* A UUIDv4-shaped lower-case UUID: the first 16 bytes of sha256(seed "\n" purpose) when seed is
 * set, so that rebuilds from the same inputs give the same disk; random otherwise. */
int uuid_derive(const char *seed, const char *purpose, char **ret);
/* A FAT volume serial "XXXX-XXXX" (upper case, as blkid prints it), derived the same way. */
int fat_serial_derive(const char *seed, const char *purpose, char **ret);
