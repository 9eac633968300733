/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>

#include "gpt.h"
#include "image-plan.h"
#include "lib-cleanup.h"
#include "log.h"
#include "util.h"

/* GPT header fields (UEFI spec 5.3.2) we read or rewrite. */
#define GPT_HDR_SIGNATURE 0
#define GPT_HDR_SIZE 12
#define GPT_HDR_CRC 16
#define GPT_HDR_ALTERNATE_LBA 32
#define GPT_HDR_DISK_GUID 56
#define GPT_HDR_ENTRIES_LBA 72
#define GPT_HDR_N_ENTRIES 80
#define GPT_HDR_ENTRY_SIZE 84
#define GPT_HDR_ENTRIES_CRC 88
#define GPT_ENTRY_TYPE 0
#define GPT_ENTRY_UNIQUE 16
#define GPT_ENTRY_FIRST_LBA 32

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
        const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
        for (size_t i = 0; i < 16; i++)
                ret[i] = b[order[i]];
        return 0;
}

static uint64_t le64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

static uint32_t le32(const uint8_t *p) {
        return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static int pread_full(int fd, void *buf, size_t size, uint64_t off) {
        ssize_t n = pread(fd, buf, size, (off_t) off);
        if (n < 0)
                return -errno;
        return (size_t) n == size ? 0 : -EIO;
}

static int pwrite_full(int fd, const void *buf, size_t size, uint64_t off) {
        ssize_t n = pwrite(fd, buf, size, (off_t) off);
        if (n < 0)
                return -errno;
        return (size_t) n == size ? 0 : -EIO;
}

/* Rewrite the GUIDs of the table whose header is at header_lba; returns the other header's LBA. */
static int gpt_patch_table(int fd, uint64_t header_lba, const struct image_layout *l, uint64_t *ret_alternate) {
        uint8_t hdr[IMAGE_SECTOR_SIZE];
        int r;

        r = pread_full(fd, hdr, sizeof(hdr), header_lba * IMAGE_SECTOR_SIZE);
        if (r < 0)
                return r;
        if (memcmp(hdr + GPT_HDR_SIGNATURE, "EFI PART", 8) != 0)
                return -EBADMSG;
        uint32_t hdr_size = le32(hdr + GPT_HDR_SIZE);
        uint64_t entries_lba = le64(hdr + GPT_HDR_ENTRIES_LBA);
        uint32_t n_entries = le32(hdr + GPT_HDR_N_ENTRIES), entry_size = le32(hdr + GPT_HDR_ENTRY_SIZE);
        if (hdr_size < 92 || hdr_size > sizeof(hdr) || entry_size < 128 || entry_size > 4096 ||
            n_entries == 0 || n_entries > 1024)
                return -EBADMSG;

        size_t entries_size = (size_t) n_entries * entry_size;
        _cleanup_free_ uint8_t *entries = malloc(entries_size);
        if (!entries)
                return -ENOMEM;
        r = pread_full(fd, entries, entries_size, entries_lba * IMAGE_SECTOR_SIZE);
        if (r < 0)
                return r;

        r = gpt_guid_from_string(l->disk_guid, hdr + GPT_HDR_DISK_GUID);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_parts; i++) {
                const struct image_part *p = &l->parts[i];
                uint8_t *e = NULL;

                /* Match by start sector rather than trusting libparted's numbering. */
                for (uint32_t k = 0; k < n_entries; k++)
                        if (le64(entries + (size_t) k * entry_size + GPT_ENTRY_FIRST_LBA) ==
                            p->offset / IMAGE_SECTOR_SIZE) {
                                e = entries + (size_t) k * entry_size;
                                break;
                        }
                if (!e)
                        return -ENOENT;
                r = gpt_guid_from_string(part_type_guid(p->type), e + GPT_ENTRY_TYPE);
                if (r >= 0)
                        r = gpt_guid_from_string(p->part_uuid, e + GPT_ENTRY_UNIQUE);
                if (r < 0)
                        return r;
        }

        put_le32(hdr + GPT_HDR_ENTRIES_CRC, gpt_crc32(entries, entries_size));
        put_le32(hdr + GPT_HDR_CRC, 0);
        put_le32(hdr + GPT_HDR_CRC, gpt_crc32(hdr, hdr_size));

        r = pwrite_full(fd, entries, entries_size, entries_lba * IMAGE_SECTOR_SIZE);
        if (r >= 0)
                r = pwrite_full(fd, hdr, sizeof(hdr), header_lba * IMAGE_SECTOR_SIZE);
        if (r < 0)
                return r;
        *ret_alternate = le64(hdr + GPT_HDR_ALTERNATE_LBA);
        return 0;
}

static int gpt_patch_guids(const char *path, const struct image_layout *l) {
        _cleanup_close_ int fd = open(path, O_RDWR | O_CLOEXEC);
        uint64_t alternate, dummy;
        int r;

        if (fd < 0)
                return -errno;
        r = gpt_patch_table(fd, 1, l, &alternate);
        if (r < 0)
                return r;
        if (alternate != l->disk_size / IMAGE_SECTOR_SIZE - 1)
                return -EBADMSG;
        r = gpt_patch_table(fd, alternate, l, &dummy);
        if (r < 0)
                return r;
        return RET_NERRNO(fsync(fd));
}

/* libparted reports problems through a global handler; keep the last message for our log line
 * and never let it prompt. */
static char *ped_last_message;

static PedExceptionOption ped_handler(PedException *ex) {
        free(ped_last_message);
        ped_last_message = ex->message ? strdup(ex->message) : NULL;
        if (ex->type < PED_EXCEPTION_ERROR && (ex->options & PED_EXCEPTION_IGNORE))
                return PED_EXCEPTION_IGNORE;
        return (ex->options & PED_EXCEPTION_CANCEL) ? PED_EXCEPTION_CANCEL : PED_EXCEPTION_UNHANDLED;
}

static int ped_fail(const char *what) {
        int r = log_error_errno(-EIO, "libparted: %s: %s", what, strna(ped_last_message));
        free(ped_last_message);
        ped_last_message = NULL;
        return r;
}

int gpt_write(const char *path, const struct image_layout *l) {
        _cleanup_(ped_device_destroyp) PedDevice *dev = NULL;
        _cleanup_(ped_disk_destroyp) PedDisk *disk = NULL;
        int r;

        ped_exception_set_handler(ped_handler);

        dev = ped_device_get(path);
        if (!dev)
                return ped_fail("cannot open the image");
        if (dev->sector_size != IMAGE_SECTOR_SIZE || (uint64_t) dev->length * IMAGE_SECTOR_SIZE != l->disk_size)
                return log_error_errno(-EINVAL, "%s: unexpected geometry (%lld sectors of %lld bytes)", path,
                                       (long long) dev->length, (long long) dev->sector_size);

        disk = ped_disk_new_fresh(dev, ped_disk_type_get("gpt"));
        if (!disk)
                return ped_fail("cannot create a GPT");

        for (size_t i = 0; i < l->n_parts; i++) {
                const struct image_part *p = &l->parts[i];
                PedSector start = (PedSector) (p->offset / IMAGE_SECTOR_SIZE);
                PedSector end = start + (PedSector) (p->size / IMAGE_SECTOR_SIZE) - 1;

                PedPartition *part = ped_partition_new(disk, PED_PARTITION_NORMAL, NULL, start, end);
                if (!part)
                        return ped_fail("cannot create a partition");
                _cleanup_(ped_constraint_destroyp) PedConstraint *c = ped_constraint_exact(&part->geom);
                if (!c || !ped_disk_add_partition(disk, part, c)) {
                        ped_partition_destroy(part);
                        return ped_fail("cannot add a partition");
                }
                if (!ped_partition_set_name(part, p->name))
                        return ped_fail("cannot name a partition");
                /* The flags set the right type GUID for these two even before we patch them, and
                 * keep `parted print` showing what they are. */
                if (p->type == PART_ESP && !ped_partition_set_flag(part, PED_PARTITION_ESP, 1))
                        return ped_fail("cannot set the esp flag");
                if (p->type == PART_BIOS_BOOT && !ped_partition_set_flag(part, PED_PARTITION_BIOS_GRUB, 1))
                        return ped_fail("cannot set the bios_grub flag");
        }

        if (!ped_disk_commit_to_dev(disk))
                return ped_fail("cannot write the partition table");

        free(ped_last_message); /* warnings libparted handled itself */
        ped_last_message = NULL;

        r = gpt_patch_guids(path, l);
        if (r < 0)
                return log_error_errno(r, "%s: failed to set the partition type and unique GUIDs: %m", path);
        return 0;
}
