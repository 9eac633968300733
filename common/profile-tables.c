/* SPDX-License-Identifier: MIT */
#include "profile.h"

/* Lookups the image assembler needs from the profile model. The loader (profile.c) owns parsing;
 * these are the plain tables both sides read. */

static const char *const fs_type_table[_FS_MAX] = {
        [FS_NONE] = "none",
        [FS_EXT4] = "ext4",
        [FS_XFS] = "xfs",
        [FS_VFAT] = "vfat",
        [FS_SWAP] = "swap",
};

const char *fs_type_to_string(enum fs_type f) {
        if ((unsigned) f >= ELEMENTSOF(fs_type_table))
                return NULL;
        return fs_type_table[f];
}

static const char *const part_type_table[_PART_TYPE_MAX] = {
        [PART_ESP] = "esp",
        [PART_BIOS_BOOT] = "bios-boot",
        [PART_ROOT] = "root",
        [PART_VAR] = "var",
        [PART_SRV] = "srv",
        [PART_HOME] = "home",
        [PART_TMP] = "tmp",
        [PART_SWAP] = "swap",
        [PART_LINUX] = "linux-generic",
};

const char *part_type_to_string(enum part_type t) {
        if ((unsigned) t >= ELEMENTSOF(part_type_table))
                return NULL;
        return part_type_table[t];
}

/* The Discoverable Partitions Specification's x86-64 types, so systemd-gpt-auto-generator and
 * friends recognise the partitions without an fstab. */
static const char *const part_type_guid_table[_PART_TYPE_MAX] = {
        [PART_ESP] = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B",
        [PART_BIOS_BOOT] = "21686148-6449-6E6F-744E-656564454649",
        [PART_ROOT] = "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709",
        [PART_VAR] = "4D21B016-B534-45C2-A9FB-5C16E091FD2D",
        [PART_SRV] = "3B8F8425-20E0-4F3B-907F-1A25A76F98E8",
        [PART_HOME] = "933AC7E1-2EB4-4F13-B844-0E14E2AEF915",
        [PART_TMP] = "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1",
        [PART_SWAP] = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F",
        [PART_LINUX] = "0FC63DAF-8483-4772-8E79-3D69D8477DE4",
};

const char *part_type_guid(enum part_type t) {
        if ((unsigned) t >= ELEMENTSOF(part_type_guid_table))
                return NULL;
        return part_type_guid_table[t];
}

const struct disk_spec *profile_os_disk(const struct profile *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_disks; i++)
                if (p->disks[i].os)
                        return &p->disks[i];
        return NULL;
}
