/* SPDX-License-Identifier: MIT */
/* String tables for the profile model: names as they are written in profiles and shown to users. */
#include <string.h>

#include "profile.h"
#include "util.h"

const char *const role_names[] = { "id", "db", "app", "comm", "voip", "biz", "erp", "it", "infra", NULL };
const size_t n_role_names = ELEMENTSOF(role_names) - 1;

static int lookup(const char *const *table, size_t n, const char *s) {
        if (!s)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (table[i] && streq(table[i], s))
                        return (int) i;
        return -EINVAL;
}

static const char *const disk_class_names[] = { "ssd", "nvme", "hdd" };
const char *disk_class_to_string(enum disk_class c) {
        for (size_t i = 0; i < ELEMENTSOF(disk_class_names); i++)
                if (c == 1u << i)
                        return disk_class_names[i];
        return NULL;
}
int disk_class_from_string(const char *s) {
        int i = lookup(disk_class_names, ELEMENTSOF(disk_class_names), s);
        return i < 0 ? i : 1 << i;
}

static const char *const transport_names[] = { "nvme", "sata", "sas", "usb", "virtio", "scsi" };
const char *transport_to_string(enum transport t) {
        for (size_t i = 0; i < ELEMENTSOF(transport_names); i++)
                if (t == 1u << i)
                        return transport_names[i];
        return NULL;
}
int transport_from_string(const char *s) {
        int i = lookup(transport_names, ELEMENTSOF(transport_names), s);
        return i < 0 ? i : 1 << i;
}

static const char *const fs_names[_FS_MAX] = {
        [FS_NONE] = "none", [FS_EXT4] = "ext4", [FS_XFS] = "xfs", [FS_VFAT] = "vfat", [FS_SWAP] = "swap",
};
const char *fs_type_to_string(enum fs_type f) {
        return f < _FS_MAX ? fs_names[f] : NULL;
}
int fs_type_from_string(const char *s) {
        return lookup(fs_names, _FS_MAX, s);
}

static const struct {
        const char *name;
        const char *guid;
        const char *mount;
} part_types[_PART_TYPE_MAX] = {
        [PART_ESP] = { "esp", "C12A7328-F81F-11D2-BA4B-00A0C93EC93B", "/boot/efi" },
        [PART_BIOS_BOOT] = { "bios-boot", "21686148-6449-6E6F-744E-656564454649", NULL },
        [PART_ROOT] = { "root", "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709", "/" },
        [PART_VAR] = { "var", "4D21B016-B534-45C2-A9FB-5C16E091FD2D", "/var" },
        [PART_SRV] = { "srv", "3B8F8425-20E0-4F3B-907F-1A25A76F98E8", "/srv" },
        [PART_HOME] = { "home", "933AC7E1-2EB4-4F13-B844-0E14E2AEF915", "/home" },
        [PART_TMP] = { "tmp", "7EC6F557-3BC5-4ACA-B293-16EF5DF639D1", "/var/tmp" },
        [PART_SWAP] = { "swap", "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F", NULL },
        [PART_LINUX] = { "linux", "0FC63DAF-8483-4772-8E79-3D69D8477DE4", NULL },
};

const char *part_type_to_string(enum part_type t) {
        return t < _PART_TYPE_MAX ? part_types[t].name : NULL;
}
int part_type_from_string(const char *s) {
        for (size_t i = 0; i < _PART_TYPE_MAX; i++)
                if (s && streq(part_types[i].name, s))
                        return (int) i;
        return -EINVAL;
}
const char *part_type_guid(enum part_type t) {
        return t < _PART_TYPE_MAX ? part_types[t].guid : NULL;
}
enum part_type part_type_for_mount(const char *mount) {
        for (size_t i = 0; mount && i < _PART_TYPE_MAX; i++)
                if (part_types[i].mount && streq(part_types[i].mount, mount))
                        return (enum part_type) i;
        return PART_LINUX;
}

/* The kernel's own names, as /sys/class/net/bond0/bonding/mode shows them. */
static const char *const bond_mode_names[_BOND_MODE_MAX] = {
        [BOND_MODE_BALANCE_RR] = "balance-rr",     [BOND_MODE_ACTIVE_BACKUP] = "active-backup",
        [BOND_MODE_BALANCE_XOR] = "balance-xor",   [BOND_MODE_BROADCAST] = "broadcast",
        [BOND_MODE_8023AD] = "802.3ad",            [BOND_MODE_BALANCE_TLB] = "balance-tlb",
        [BOND_MODE_BALANCE_ALB] = "balance-alb",
};
const char *bond_mode_to_string(enum bond_mode m) {
        return m < _BOND_MODE_MAX ? bond_mode_names[m] : NULL;
}
int bond_mode_from_string(const char *s) {
        return lookup(bond_mode_names, _BOND_MODE_MAX, s);
}

static const char *const lacp_rate_names[] = { "slow", "fast" };
const char *lacp_rate_to_string(enum lacp_rate r) {
        return r <= LACP_RATE_FAST ? lacp_rate_names[r] : NULL;
}
int lacp_rate_from_string(const char *s) {
        return lookup(lacp_rate_names, ELEMENTSOF(lacp_rate_names), s);
}

static const char *const xmit_hash_names[_XMIT_HASH_MAX] = {
        [XMIT_HASH_LAYER2] = "layer2",     [XMIT_HASH_LAYER2_3] = "layer2+3", [XMIT_HASH_LAYER3_4] = "layer3+4",
        [XMIT_HASH_ENCAP2_3] = "encap2+3", [XMIT_HASH_ENCAP3_4] = "encap3+4",
};
const char *xmit_hash_to_string(enum xmit_hash h) {
        return h < _XMIT_HASH_MAX ? xmit_hash_names[h] : NULL;
}
int xmit_hash_from_string(const char *s) {
        return lookup(xmit_hash_names, _XMIT_HASH_MAX, s);
}

static const char *const service_source_names[_SERVICE_SOURCE_MAX] = {
        [SERVICE_SOURCE_DISTRO] = "distro", [SERVICE_SOURCE_APT] = "apt", [SERVICE_SOURCE_OCI] = "oci",
};
const char *service_source_to_string(enum service_source s) {
        return s < _SERVICE_SOURCE_MAX ? service_source_names[s] : NULL;
}
int service_source_from_string(const char *s) {
        return lookup(service_source_names, _SERVICE_SOURCE_MAX, s);
}
const char *service_fetch_to_string(enum service_fetch f) {
        return f == SERVICE_FETCH_BUILD ? "build" : f == SERVICE_FETCH_FIRSTBOOT ? "firstboot" : NULL;
}
