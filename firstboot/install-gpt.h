/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* The image's GPT after it is written to a disk larger than the image: its backup header and
 * entries sit where the image ended, and the primary header says the disk ends there. Moving them
 * to the disk's end (and the last usable LBA with them, as `sgdisk -e` does) grows nothing; it
 * lets firstboot grow root and lets every tool read the table without "backup not at the end". */

uint32_t install_crc32(const void *data, size_t size);

/* Pure: check the primary header (one sector, ss bytes, with its CRC) and the entry array against
 * it, then rewrite the header for a disk of n_lbas sectors and fill backup (ss bytes) with the
 * matching backup header. ret_backup_entries_lba: where the backup entries go; ret_old_alternate:
 * where the backup header was. -EBADMSG for a missing or damaged table, -ENOSPC if the
 * partitions do not fit the disk. */
int gpt_relocate_backup(uint8_t *primary, uint32_t ss, const uint8_t *entries, size_t entries_size, uint64_t n_lbas,
                        uint8_t *backup, uint64_t *ret_backup_entries_lba, uint64_t *ret_old_alternate);

/* Do it on a disk (or image file) through fd: read, relocate, write backup entries, backup header,
 * primary header and the protective MBR's size, zero the old backup header, fsync. */
int gpt_move_backup_to_end(int fd, uint32_t ss, uint64_t disk_size);
