/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "gpt.h"

/* Header and entry field offsets (UEFI 2.10 tables 5-5 and 5-6). */
enum {
        HDR_SIG = 0,
        HDR_SIZE = 12,
        HDR_CRC = 16,
        HDR_MY_LBA = 24,
        HDR_ALT_LBA = 32,
        HDR_FIRST_USABLE = 40,
        HDR_LAST_USABLE = 48,
        HDR_ENTRIES_LBA = 72,
        HDR_N_ENTRIES = 80,
        HDR_ENTRY_SIZE = 84,
        HDR_ENTRIES_CRC = 88,
        HDR_MIN_SIZE = 92,
        ENT_FIRST = 32,
        ENT_LAST = 40,
        ENT_NAME = 56,
        ENTRIES_MAX_BYTES = 4 * 1024 * 1024,
};

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}
static uint64_t le64(const uint8_t *p) {
        return (uint64_t) le32(p) | (uint64_t) le32(p + 4) << 32;
}
static void put_le32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static void put_le64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

uint32_t gpt_crc32(const void *data, size_t size) {
        const uint8_t *p = data;
        uint32_t crc = 0xffffffff;
        for (size_t i = 0; i < size; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
        }
        return ~crc;
}

static int hexval(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int gpt_guid_from_string(const char *s, uint8_t ret[static 16]) {
        uint8_t b[16];
        size_t n = 0;

        if (!s || strlen(s) != 36)
                return -EINVAL;
        for (size_t i = 0; i < 36;) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (s[i] != '-')
                                return -EINVAL;
                        i++;
                        continue;
                }
                int hi = hexval(s[i]), lo = hexval(s[i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                b[n++] = (uint8_t) (hi << 4 | lo);
                i += 2;
        }
        /* The first three fields are stored little-endian. */
        static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        for (size_t i = 0; i < 16; i++)
                ret[i] = b[order[i]];
        return 0;
}

static bool header_crc_ok(const uint8_t *sector, uint32_t header_size) {
        uint8_t copy[512];
        if (header_size > sizeof copy)
                return false;
        memcpy(copy, sector, header_size);
        put_le32(copy + HDR_CRC, 0);
        return gpt_crc32(copy, header_size) == le32(sector + HDR_CRC);
}

int gpt_header_parse(const uint8_t *sector, uint32_t ss, bool check_crc, struct gpt_header *ret) {
        if (ss < 512 || memcmp(sector + HDR_SIG, GPT_SIGNATURE, 8) != 0)
                return -EBADMSG;
        struct gpt_header h = {
                .header_size = le32(sector + HDR_SIZE),
                .my_lba = le64(sector + HDR_MY_LBA),
                .alternate_lba = le64(sector + HDR_ALT_LBA),
                .first_usable_lba = le64(sector + HDR_FIRST_USABLE),
                .last_usable_lba = le64(sector + HDR_LAST_USABLE),
                .entries_lba = le64(sector + HDR_ENTRIES_LBA),
                .n_entries = le32(sector + HDR_N_ENTRIES),
                .entry_size = le32(sector + HDR_ENTRY_SIZE),
                .entries_crc = le32(sector + HDR_ENTRIES_CRC),
        };
        memcpy(h.disk_guid, sector + GPT_HDR_DISK_GUID, 16);
        /* The header's defined part is 92 bytes; anything past 512 would be reserved space no
         * implementation writes, so a larger size is as suspect as a smaller one. */
        if (h.header_size < HDR_MIN_SIZE || h.header_size > 512 || h.entry_size < 128 || h.entry_size > 4096 ||
            h.entry_size % 8 != 0 || h.n_entries == 0 || (uint64_t) h.n_entries * h.entry_size > ENTRIES_MAX_BYTES)
                return -EBADMSG;
        if (check_crc && !header_crc_ok(sector, h.header_size))
                return -EBADMSG;
        *ret = h;
        return 0;
}

void gpt_header_reseal(uint8_t *sector, uint32_t header_size) {
        put_le32(sector + HDR_CRC, 0);
        put_le32(sector + HDR_CRC, gpt_crc32(sector, header_size));
}

bool gpt_entry_get(const uint8_t *entries, uint32_t entry_size, uint32_t i, struct gpt_entry *ret) {
        static const uint8_t zero[16];
        const uint8_t *e = entries + (size_t) i * entry_size;
        if (memcmp(e + GPT_ENT_TYPE, zero, 16) == 0)
                return false;
        struct gpt_entry x = { .first_lba = le64(e + ENT_FIRST), .last_lba = le64(e + ENT_LAST) };
        memcpy(x.type, e + GPT_ENT_TYPE, 16);
        memcpy(x.unique, e + GPT_ENT_UNIQUE, 16);
        for (size_t c = 0; c < GPT_ENTRY_NAME_CHARS; c++) {
                uint8_t lo = e[ENT_NAME + 2 * c], hi = e[ENT_NAME + 2 * c + 1];
                if (!lo && !hi)
                        break;
                x.name[c] = hi == 0 && lo >= 0x20 && lo < 0x7f ? (char) lo : '?';
        }
        *ret = x;
        return true;
}

void gpt_table_done(struct gpt_table *t) {
        free(t->header);
        free(t->entries);
        *t = (struct gpt_table) {};
}

int gpt_table_read(int fd, uint32_t ss, uint64_t header_lba, bool check_crc, struct gpt_table *ret) {
        _cleanup_free_ uint8_t *header = malloc(ss);
        if (!header)
                return -ENOMEM;
        int r = pread_exact(fd, header, ss, header_lba * ss);
        if (r < 0)
                return r;
        struct gpt_header h;
        r = gpt_header_parse(header, ss, check_crc, &h);
        if (r < 0)
                return r;
        size_t size = (size_t) h.n_entries * h.entry_size, alloc = (size + ss - 1) / ss * ss;
        _cleanup_free_ uint8_t *entries = calloc(1, alloc);
        if (!entries)
                return -ENOMEM;
        r = pread_exact(fd, entries, size, h.entries_lba * ss);
        if (r < 0)
                return r;
        if (check_crc && gpt_crc32(entries, size) != h.entries_crc)
                return -EBADMSG;
        *ret = (struct gpt_table) {
                .ss = ss, .h = h, .header = TAKE_PTR(header), .entries = TAKE_PTR(entries),
                .entries_size = size, .entries_alloc = alloc,
        };
        return 0;
}

int gpt_table_write(int fd, struct gpt_table *t) {
        t->h.entries_crc = gpt_crc32(t->entries, t->entries_size);
        put_le32(t->header + HDR_ENTRIES_CRC, t->h.entries_crc);
        gpt_header_reseal(t->header, t->h.header_size);
        int r = pwrite_exact(fd, t->entries, t->entries_size, t->h.entries_lba * t->ss);
        if (r < 0)
                return r;
        return pwrite_exact(fd, t->header, t->ss, t->h.my_lba * t->ss);
}

bool gpt_signature_at(int fd, uint64_t off) {
        char m[8];
        return pread_exact(fd, m, sizeof m, off) >= 0 && memcmp(m, GPT_SIGNATURE, 8) == 0;
}

int gpt_find_partition(const void *head, size_t head_size, uint32_t ss, uint64_t offset, uint64_t *ret_start,
                       char **ret_name) {
        const uint8_t *h = head;
        struct gpt_header hdr;
        if (head_size < 2 * (size_t) ss || gpt_header_parse(h + ss, ss, false, &hdr) < 0)
                return -EBADMSG;
        for (uint32_t i = 0; i < hdr.n_entries; i++) {
                uint64_t at = hdr.entries_lba * ss + (uint64_t) i * hdr.entry_size;
                if (at + hdr.entry_size > head_size)
                        break;
                struct gpt_entry e;
                if (!gpt_entry_get(h + hdr.entries_lba * ss, hdr.entry_size, i, &e))
                        continue;
                uint64_t first = e.first_lba * ss, last = e.last_lba * ss + ss - 1;
                if (offset < first || offset > last)
                        continue;
                char *s = strdup(e.name);
                if (!s)
                        return -ENOMEM;
                *ret_start = first;
                *ret_name = s;
                return (int) i + 1;
        }
        return 0;
}

int gpt_relocate_backup(uint8_t *primary, uint32_t ss, const uint8_t *entries, size_t entries_size, uint64_t n_lbas,
                        uint8_t *backup, uint64_t *ret_backup_entries_lba, uint64_t *ret_old_alternate) {
        struct gpt_header h;
        if (gpt_header_parse(primary, ss, true, &h) < 0 || h.my_lba != 1)
                return -EBADMSG;
        if ((uint64_t) h.n_entries * h.entry_size != entries_size || gpt_crc32(entries, entries_size) != h.entries_crc)
                return -EBADMSG;

        uint64_t entry_lbas = (entries_size + ss - 1) / ss;
        if (n_lbas < 2 + 2 * entry_lbas + 2)
                return -ENOSPC;
        uint64_t last = n_lbas - 1, backup_entries = last - entry_lbas, last_usable = backup_entries - 1;
        /* every partition must end inside the new usable area (it always does when the disk is at
         * least as large as the image) */
        for (uint32_t i = 0; i < h.n_entries; i++) {
                struct gpt_entry e;
                if (gpt_entry_get(entries, h.entry_size, i, &e) && e.last_lba > last_usable)
                        return -ENOSPC;
        }
        if (h.first_usable_lba > last_usable)
                return -ENOSPC;

        *ret_old_alternate = h.alternate_lba;
        put_le64(primary + HDR_ALT_LBA, last);
        put_le64(primary + HDR_LAST_USABLE, last_usable);
        gpt_header_reseal(primary, h.header_size);

        memcpy(backup, primary, ss);
        put_le64(backup + HDR_MY_LBA, last);
        put_le64(backup + HDR_ALT_LBA, 1);
        put_le64(backup + HDR_ENTRIES_LBA, backup_entries);
        gpt_header_reseal(backup, h.header_size);
        *ret_backup_entries_lba = backup_entries;
        return 0;
}

/* The protective MBR's single 0xEE partition covers the disk (capped at 2^32-1 sectors). */
static int protective_mbr_resize(int fd, uint32_t ss, uint64_t last) {
        _cleanup_free_ uint8_t *mbr = malloc(ss);
        if (!mbr)
                return -ENOMEM;
        int r = pread_exact(fd, mbr, ss, 0);
        if (r < 0)
                return r;
        if (mbr[510] != 0x55 || mbr[511] != 0xaa || mbr[446 + 4] != 0xee)
                return 0;
        put_le32(mbr + 446 + 12, last > 0xffffffffu ? 0xffffffffu : (uint32_t) last);
        return pwrite_exact(fd, mbr, ss, 0);
}

int gpt_move_backup_to_end(int fd, uint32_t ss, uint64_t disk_size) {
        _cleanup_(gpt_table_done) struct gpt_table t = {};
        _cleanup_free_ uint8_t *backup = malloc(ss), *zero = calloc(1, ss);
        if (!backup || !zero)
                return -ENOMEM;
        int r = gpt_table_read(fd, ss, 1, false, &t);
        if (r < 0)
                return r;

        uint64_t backup_entries, old_alt;
        r = gpt_relocate_backup(t.header, ss, t.entries, t.entries_size, disk_size / ss, backup, &backup_entries,
                                &old_alt);
        if (r < 0)
                return r;
        uint64_t last = disk_size / ss - 1;

        /* backup first: while it is written the old one still matches the old primary */
        r = pwrite_exact(fd, t.entries, t.entries_alloc, backup_entries * ss);
        if (r >= 0)
                r = pwrite_exact(fd, backup, ss, last * ss);
        if (r >= 0)
                r = fdatasync(fd) < 0 ? -errno : 0;
        if (r >= 0)
                r = pwrite_exact(fd, t.header, ss, ss);
        if (r >= 0)
                r = protective_mbr_resize(fd, ss, last);
        /* the stale backup header where the image ended: a tool looking there must not find it */
        if (r >= 0 && old_alt != last && old_alt > 1 && old_alt < last)
                r = pwrite_exact(fd, zero, ss, old_alt * ss);
        if (r >= 0)
                r = fsync(fd) < 0 ? -errno : 0;
        return r;
}
