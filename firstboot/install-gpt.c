/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "install-gpt.h"

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
};

uint32_t install_crc32(const void *data, size_t size) {
        const uint8_t *p = data;
        uint32_t crc = 0xffffffff;
        for (size_t i = 0; i < size; i++) {
                crc ^= p[i];
                for (int k = 0; k < 8; k++)
                        crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
        }
        return ~crc;
}

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

static void reseal(uint8_t *hdr, uint32_t hdr_size) {
        put_le32(hdr + HDR_CRC, 0);
        put_le32(hdr + HDR_CRC, install_crc32(hdr, hdr_size));
}

int gpt_relocate_backup(uint8_t *primary, uint32_t ss, const uint8_t *entries, size_t entries_size, uint64_t n_lbas,
                        uint8_t *backup, uint64_t *ret_backup_entries_lba, uint64_t *ret_old_alternate) {
        if (ss < 512 || memcmp(primary + HDR_SIG, "EFI PART", 8) != 0)
                return -EBADMSG;
        uint32_t hdr_size = le32(primary + HDR_SIZE);
        if (hdr_size < 92 || hdr_size > ss)
                return -EBADMSG;
        uint32_t crc = le32(primary + HDR_CRC);
        put_le32(primary + HDR_CRC, 0);
        bool good = install_crc32(primary, hdr_size) == crc;
        put_le32(primary + HDR_CRC, crc);
        if (!good || le64(primary + HDR_MY_LBA) != 1)
                return -EBADMSG;
        uint64_t n = le32(primary + HDR_N_ENTRIES), esz = le32(primary + HDR_ENTRY_SIZE);
        if (esz < 128 || n == 0 || n * esz != entries_size || install_crc32(entries, entries_size) != le32(primary + HDR_ENTRIES_CRC))
                return -EBADMSG;

        uint64_t entry_lbas = (entries_size + ss - 1) / ss;
        if (n_lbas < 2 + 2 * entry_lbas + 2)
                return -ENOSPC;
        uint64_t last = n_lbas - 1, backup_entries = last - entry_lbas, last_usable = backup_entries - 1;
        /* every partition must end inside the new usable area (it always does when the disk is at
         * least as large as the image) */
        for (uint64_t i = 0; i < n; i++) {
                const uint8_t *e = entries + i * esz;
                static const uint8_t zero[16];
                if (memcmp(e, zero, 16) == 0)
                        continue;
                if (le64(e + 40) > last_usable)
                        return -ENOSPC;
        }
        if (le64(primary + HDR_FIRST_USABLE) > last_usable)
                return -ENOSPC;

        *ret_old_alternate = le64(primary + HDR_ALT_LBA);
        put_le64(primary + HDR_ALT_LBA, last);
        put_le64(primary + HDR_LAST_USABLE, last_usable);
        reseal(primary, hdr_size);

        memcpy(backup, primary, ss);
        put_le64(backup + HDR_MY_LBA, last);
        put_le64(backup + HDR_ALT_LBA, 1);
        put_le64(backup + HDR_ENTRIES_LBA, backup_entries);
        reseal(backup, hdr_size);
        *ret_backup_entries_lba = backup_entries;
        return 0;
}

static int pread_full(int fd, void *buf, size_t n, uint64_t off) {
        for (size_t done = 0; done < n;) {
                ssize_t k = pread(fd, (uint8_t *) buf + done, n - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EIO;
                done += (size_t) k;
        }
        return 0;
}

static int pwrite_full(int fd, const void *buf, size_t n, uint64_t off) {
        for (size_t done = 0; done < n;) {
                ssize_t k = pwrite(fd, (const uint8_t *) buf + done, n - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                done += (size_t) k;
        }
        return 0;
}

int gpt_move_backup_to_end(int fd, uint32_t ss, uint64_t disk_size) {
        _cleanup_free_ uint8_t *mbr = malloc(ss), *primary = malloc(ss), *backup = malloc(ss), *zero = calloc(1, ss);
        if (!mbr || !primary || !backup || !zero)
                return -ENOMEM;
        int r = pread_full(fd, mbr, ss, 0);
        if (r >= 0)
                r = pread_full(fd, primary, ss, ss);
        if (r < 0)
                return r;
        if (memcmp(primary, "EFI PART", 8) != 0)
                return -EBADMSG;
        uint64_t n = le32(primary + HDR_N_ENTRIES), esz = le32(primary + HDR_ENTRY_SIZE);
        if (n == 0 || esz == 0 || n * esz > 4 * 1024 * 1024)
                return -EBADMSG;
        size_t entries_size = (size_t) (n * esz);
        size_t entries_alloc = (entries_size + ss - 1) / ss * ss;
        _cleanup_free_ uint8_t *entries = calloc(1, entries_alloc);
        if (!entries)
                return -ENOMEM;
        r = pread_full(fd, entries, entries_size, le64(primary + HDR_ENTRIES_LBA) * ss);
        if (r < 0)
                return r;

        uint64_t backup_entries, old_alt;
        r = gpt_relocate_backup(primary, ss, entries, entries_size, disk_size / ss, backup, &backup_entries, &old_alt);
        if (r < 0)
                return r;
        uint64_t last = disk_size / ss - 1;

        /* backup first: while it is written the old one still matches the old primary */
        r = pwrite_full(fd, entries, entries_alloc, backup_entries * ss);
        if (r >= 0)
                r = pwrite_full(fd, backup, ss, last * ss);
        if (r >= 0)
                r = RET_NERRNO(fdatasync(fd));
        if (r >= 0)
                r = pwrite_full(fd, primary, ss, ss);
        /* the protective MBR's single 0xEE partition covers the disk (capped at 2^32-1 sectors) */
        if (r >= 0 && mbr[510] == 0x55 && mbr[511] == 0xaa && mbr[446 + 4] == 0xee) {
                put_le32(mbr + 446 + 12, last > 0xffffffffu ? 0xffffffffu : (uint32_t) last);
                r = pwrite_full(fd, mbr, ss, 0);
        }
        /* the stale backup header where the image ended: a tool looking there must not find it */
        if (r >= 0 && old_alt != last && old_alt > 1 && old_alt < last)
                r = pwrite_full(fd, zero, ss, old_alt * ss);
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        return r;
}
