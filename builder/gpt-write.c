/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>

#include "gpt-write.h"
#include "image-plan.h"
#include "lib-cleanup.h"
#include "log.h"
#include "util.h"

/* Rewrite the GUIDs of the table whose header is at header_lba; returns the other header's LBA. */
static int gpt_patch_table(int fd, uint64_t header_lba, const struct image_layout *l, uint64_t *ret_alternate) {
        _cleanup_(gpt_table_done) struct gpt_table t = {};
        int r;

        r = gpt_table_read(fd, IMAGE_SECTOR_SIZE, header_lba, true, &t);
        if (r < 0)
                return r;
        r = gpt_guid_from_string(l->disk_guid, t.header + GPT_HDR_DISK_GUID);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l->n_parts; i++) {
                const struct image_part *p = &l->parts[i];
                uint8_t *e = NULL;

                /* Match by start sector rather than trusting libparted's numbering. */
                for (uint32_t k = 0; k < t.h.n_entries && !e; k++) {
                        struct gpt_entry x;
                        if (gpt_entry_get(t.entries, t.h.entry_size, k, &x) &&
                            x.first_lba == p->offset / IMAGE_SECTOR_SIZE)
                                e = t.entries + (size_t) k * t.h.entry_size;
                }
                if (!e)
                        return -ENOENT;
                r = gpt_guid_from_string(part_type_guid(p->type), e + GPT_ENT_TYPE);
                if (r >= 0)
                        r = gpt_guid_from_string(p->part_uuid, e + GPT_ENT_UNIQUE);
                if (r < 0)
                        return r;
        }
        r = gpt_table_write(fd, &t);
        if (r < 0)
                return r;
        *ret_alternate = t.h.alternate_lba;
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
