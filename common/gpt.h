/* SPDX-License-Identifier: MIT */
#pragma once

/* The GPT bytes both programs read or patch (UEFI 2.10 §5.3), at any logical sector size. libparted
 * writes and edits tables; this module does what libparted 3.5 cannot: set the Discoverable
 * Partitions type GUIDs and fixed unique GUIDs (the builder), move the backup table to a larger
 * disk's end as `sgdisk -e` does (install), and find a partition in a table without a kernel
 * partition node (install, the builder's reproducibility report). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GPT_SIGNATURE "EFI PART"
#define GPT_ENTRY_NAME_CHARS 36
/* Offsets of the GUIDs the builder rewrites in place. */
#define GPT_HDR_DISK_GUID 56
#define GPT_ENT_TYPE 0
#define GPT_ENT_UNIQUE 16

/* The header fields we read, host order. */
struct gpt_header {
        uint32_t header_size;
        uint64_t my_lba;
        uint64_t alternate_lba;
        uint64_t first_usable_lba;
        uint64_t last_usable_lba;
        uint8_t disk_guid[16];
        uint64_t entries_lba;
        uint32_t n_entries;
        uint32_t entry_size;
        uint32_t entries_crc;
};

/* One entry, host order; name is the UTF-16LE name reduced to printable ASCII ('?' otherwise). */
struct gpt_entry {
        uint8_t type[16];
        uint8_t unique[16];
        uint64_t first_lba;
        uint64_t last_lba;
        char name[GPT_ENTRY_NAME_CHARS + 1];
};

/* A table read from a disk: its header sector (ss bytes) and its entry array, both as on disk. */
struct gpt_table {
        uint32_t ss;
        struct gpt_header h;
        uint8_t *header; /* ss bytes */
        uint8_t *entries; /* entries_alloc bytes: n_entries * entry_size, rounded up to ss */
        size_t entries_size;
        size_t entries_alloc;
};

uint32_t gpt_crc32(const void *data, size_t size);

/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" to the GPT's mixed-endian bytes. */
int gpt_guid_from_string(const char *s, uint8_t ret[static 16]);

/* Parse and check one header sector: signature, header size (92..ss), entry size (128..4096, a
 * multiple of 8), an entry array of at most 4 MiB, and (check_crc) the header's CRC. -EBADMSG
 * otherwise. */
int gpt_header_parse(const uint8_t *sector, uint32_t ss, bool check_crc, struct gpt_header *ret);

/* Recompute a header's CRC after its fields changed. */
void gpt_header_reseal(uint8_t *sector, uint32_t header_size);

/* Decode entry i of an entry array; false when the slot is unused (zero type GUID). */
bool gpt_entry_get(const uint8_t *entries, uint32_t entry_size, uint32_t i, struct gpt_entry *ret);

/* Read the table whose header is at header_lba through fd, checking both CRCs when check_crc.
 * -EBADMSG for no or a damaged table, -EIO for a short read. Free with gpt_table_done(). */
int gpt_table_read(int fd, uint32_t ss, uint64_t header_lba, bool check_crc, struct gpt_table *ret);
void gpt_table_done(struct gpt_table *t);

/* Recompute the entry array's CRC into the header, reseal it, and write entries and header back. */
int gpt_table_write(int fd, struct gpt_table *t);

/* Whether the sector at byte offset off starts with the GPT signature. */
bool gpt_signature_at(int fd, uint64_t off);

/* The partition (1-based number, 0 if none) of an in-memory disk head (at least the MBR, the
 * primary header and as many entries as fit) that holds byte offset; its start in bytes and name. */
int gpt_find_partition(const void *head, size_t head_size, uint32_t ss, uint64_t offset, uint64_t *ret_start,
                       char **ret_name);

/* Pure: check the primary header (one sector, ss bytes, with its CRC) and the entry array against
 * it, then rewrite the header for a disk of n_lbas sectors and fill backup (ss bytes) with the
 * matching backup header. ret_backup_entries_lba: where the backup entries go; ret_old_alternate:
 * where the backup header was. -EBADMSG for a missing or damaged table, -ENOSPC if the
 * partitions do not fit the disk. */
int gpt_relocate_backup(uint8_t *primary, uint32_t ss, const uint8_t *entries, size_t entries_size, uint64_t n_lbas,
                        uint8_t *backup, uint64_t *ret_backup_entries_lba, uint64_t *ret_old_alternate);

/* The image's GPT after it is written to a disk larger than the image: its backup header and
 * entries sit where the image ended. Move them to the disk's end (and the last usable LBA with
 * them, as `sgdisk -e` does): backup entries, backup header, primary header and the protective
 * MBR's size, zero the old backup header, fsync. */
int gpt_move_backup_to_end(int fd, uint32_t ss, uint64_t disk_size);
