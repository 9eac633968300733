/* SPDX-License-Identifier: MIT */
#pragma once

#include <blkid/blkid.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

/* Facts about the whole disks of this machine, read-only: sysfs for identity and topology, libblkid
 * for what is written on them. The planner (disk-plan.h) is a pure function of these facts, so the
 * structs below are also what the unit tests build by hand.
 *
 * The sysfs root and the /dev root are parameters so that tests can point the probe at a fake tree. */

/* One signature libblkid found. Whole-disk signatures only: a partition table, or a filesystem,
 * RAID superblock, LVM PV, LUKS header or swap written on the raw disk (possibly at its end, where
 * md 0.90/1.0 and the GPT backup live). Content inside partitions is listed per partition. */
struct disk_signature {
        char *type;      /* libblkid TYPE / PTTYPE: "gpt", "dos", "xfs", "linux_raid_member", "LVM2_member" ... */
        char *usage;     /* "partition_table", "filesystem", "raid", "crypto", "other" */
        uint64_t offset; /* byte offset of the magic on the disk */
        char *uuid;      /* may be NULL */
        char *label;     /* may be NULL */
        char *where;     /* NULL for the whole disk, else the partition ("part 1") it was found in */
};

struct disk_part {
        unsigned number;
        uint64_t start, size; /* bytes */
        char *fstype;         /* blkid TYPE of its content, may be NULL */
        char *uuid;           /* filesystem UUID, may be NULL */
        char *partuuid;       /* GPT partition GUID, may be NULL */
        char *type_guid;      /* GPT type GUID, may be NULL */
        char *name;           /* GPT partition name, may be NULL */
};

struct disk_info {
        char *name;              /* kernel name: "sda", "nvme0n1", "loop3" */
        char *devnode;           /* "/dev/sda" (under the probe's /dev root) */
        uint64_t size;           /* bytes */
        uint32_t logical_sector_size, physical_sector_size;
        bool rotational, removable, readonly;
        unsigned transport;      /* one enum transport bit (common/profile.h), 0 if unknown */
        bool is_loop;
        char *loop_backing_file; /* loop devices: the file behind it */
        char *model, *serial, *wwn;
        char **by_id, **by_path; /* full /dev/disk/by-{id,path}/ names pointing at this disk */
        bool boot_medium;        /* the disk the system was booted from (ESP, /boot, live medium) */
        bool holds_root;         /* a partition (or the disk) is the running root filesystem */
        unsigned root_partno;    /* the partition holding root, 0 for none or the whole disk */
        char *root_fstype;
        char **busy;             /* why it is in use: "sda1 mounted at /srv", "holder md0", "swap on sda2" */

        char *pttype;            /* "gpt", "dos" or NULL */
        char *ptuuid;
        bool pt_damaged;         /* a partition table is there but libblkid/libparted could not read it whole */
        struct disk_part *parts;
        size_t n_parts;
        struct disk_signature *sigs;
        size_t n_sigs;
        char *probe_error;       /* libblkid failed to read it; treated as "has unknown content" */
};

struct disk_set {
        struct disk_info *disks;
        size_t n_disks;
        /* What DMI says this machine runs on ("QEMU", "VMware", …), NULL for bare metal: a
         * hypervisor's disk class and bus are its configuration's, not the hardware's. */
        char *hypervisor;
};

struct disk_probe_options {
        const char *sysfs;     /* default "/sys" */
        const char *dev;       /* default "/dev" */
        const char *mountinfo; /* default "/proc/self/mountinfo" */
        const char *swaps;     /* default "/proc/swaps" */
        char **only;           /* probe only these kernel names (NULL = every whole disk) */
        bool no_signatures;    /* skip libblkid (sysfs-only tests) */
};

/* Every whole disk: sysfs block devices that are not partitions, RAM disks, zram, device-mapper,
 * md or optical drives. Loop devices are included only when attached to a file. Sorted by name. */
int disk_probe_all(const struct disk_probe_options *o, struct disk_set **ret);
/* Read libblkid's view of one block device (or image file) into d: partition table, partitions
 * and every signature on the raw disk, at both ends. */
int disk_probe_signatures(const char *path, struct disk_info *d);
/* A libblkid probe over fd that lists every signature in turn, as wipefs does: superblocks (with
 * sb_flags, at both ends) and partition tables (GPT even under a protective MBR), each with its
 * magic's offset. */
int signature_probe_new(int fd, int sb_flags, blkid_probe *ret);

void disk_info_done(struct disk_info *d);
struct disk_set *disk_set_free(struct disk_set *s);
static inline void disk_set_freep(struct disk_set **s) {
        disk_set_free(*s);
}

/* The class a disk falls in: nvme by transport, else ssd/hdd by rotational (enum disk_class bit). */
unsigned disk_info_class(const struct disk_info *d);
/* A stable identity for journals and logs: "wwn-0x…", "nvme-eui…"/by-id name, "serial-<serial>",
 * by-path name, "loop-<backing file>", or the kernel name as a last resort. */
char *disk_info_id(const struct disk_info *d);
/* Does a device spec name this disk? Specs: "sda", "/dev/sda", "/dev/disk/by-id/…",
 * "/dev/disk/by-path/…" (globs allowed), "a|b" alternatives. */
bool disk_info_matches_spec(const struct disk_info *d, const char *spec);
bool disk_info_has_signatures(const struct disk_info *d);
/* Comma-separated summary of the signatures, e.g. "gpt, xfs (part 1), linux_raid_member@end". */
char *disk_info_signature_summary(const struct disk_info *d);

const char *transport_name(unsigned transport);
const char *disk_class_name(unsigned cls);
