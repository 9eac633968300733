/* SPDX-License-Identifier: MIT */
#include <blkid/blkid.h>
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "disk-probe.h"
#include "gpt.h"
#include "fileio.h"
#include "lib-cleanup.h"
#include "profile.h"
#include "util.h"

/* ---- small sysfs helpers ------------------------------------------------------------------------- */

/* The first line of a sysfs attribute, whitespace-trimmed; NULL if absent or empty. */
static char *read_attr(const char *dir, const char *attr) {
        _cleanup_free_ char *p = strprintf("%s/%s", dir, attr);
        if (!p)
                return NULL;
        char *s = NULL;
        if (read_file_full(AT_FDCWD, p, 1 << 16, &s, NULL) < 0)
                return NULL;
        char *nl = strchr(s, '\n');
        if (nl)
                *nl = 0;
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char) s[n - 1]))
                s[--n] = 0;
        size_t lead = strspn(s, " \t");
        if (lead)
                memmove(s, s + lead, n - lead + 1);
        if (!*s) {
                free(s);
                return NULL;
        }
        return s;
}

static int read_attr_u64(const char *dir, const char *attr, uint64_t *ret) {
        _cleanup_free_ char *s = read_attr(dir, attr);
        if (!s)
                return -ENOENT;
        char *end;
        errno = 0;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

static bool attr_is_one(const char *dir, const char *attr) {
        uint64_t v;
        return read_attr_u64(dir, attr, &v) >= 0 && v == 1;
}

/* SCSI VPD page 0x80: 4 header bytes, then the serial (space padded). */
static char *read_vpd80_serial(const char *devdir) {
        _cleanup_free_ char *p = strprintf("%s/vpd_pg80", devdir);
        if (!p)
                return NULL;
        _cleanup_free_ char *raw = NULL;
        size_t n;
        if (read_file_full(AT_FDCWD, p, 4096, &raw, &n) < 0 || n <= 4)
                return NULL;
        size_t len = MIN((size_t) (unsigned char) raw[3], n - 4);
        const char *s = raw + 4;
        while (len > 0 && (s[0] == ' ' || s[0] == 0)) {
                s++;
                len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == 0))
                len--;
        return len > 0 ? strndup(s, len) : NULL;
}

/* ---- names and classes --------------------------------------------------------------------------- */

const char *transport_name(unsigned t) {
        switch (t) {
        case TRANSPORT_NVME: return "nvme";
        case TRANSPORT_SATA: return "sata";
        case TRANSPORT_SAS: return "sas";
        case TRANSPORT_USB: return "usb";
        case TRANSPORT_VIRTIO: return "virtio";
        case TRANSPORT_SCSI: return "scsi";
        default: return "none";
        }
}

const char *disk_class_name(unsigned c) {
        switch (c) {
        case DISK_CLASS_SSD: return "ssd";
        case DISK_CLASS_NVME: return "nvme";
        case DISK_CLASS_HDD: return "hdd";
        default: return "?";
        }
}

unsigned disk_info_class(const struct disk_info *d) {
        if (d->transport == TRANSPORT_NVME)
                return DISK_CLASS_NVME;
        return d->rotational ? DISK_CLASS_HDD : DISK_CLASS_SSD;
}

/* The transport from where the disk sits in the device tree (the link target of /sys/block/X). */
static unsigned transport_from_devpath(const char *name, const char *devpath) {
        if (startswith(name, "nvme") || strstr(devpath, "/nvme/") || strstr(devpath, "/nvme-subsystem/"))
                return TRANSPORT_NVME;
        if (strstr(devpath, "/usb"))
                return TRANSPORT_USB;
        if (strstr(devpath, "/ata"))
                return TRANSPORT_SATA;
        if (strstr(devpath, "/end_device-") || strstr(devpath, "/sas_"))
                return TRANSPORT_SAS;
        if (strstr(devpath, "/host"))
                return TRANSPORT_SCSI; /* parallel SCSI, RAID HBAs, virtio-scsi */
        if (strstr(devpath, "/virtio"))
                return TRANSPORT_VIRTIO;
        return 0;
}

static bool skip_block_name(const char *name) {
        static const char *const prefixes[] = { "ram", "zram", "dm-", "md", "sr", "fd", "nbd", "drbd" };
        for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
                if (startswith(name, prefixes[i]))
                        return true;
        return false;
}

static char *disk_info_id_raw(const struct disk_info *d);

char *disk_info_id(const struct disk_info *d) {
        /* journal step ids are single words */
        char *s = disk_info_id_raw(d);
        for (char *p = s; p && *p; p++)
                if (isspace((unsigned char) *p) || *p == '/' || !isprint((unsigned char) *p))
                        *p = '_';
        return s;
}

static char *disk_info_id_raw(const struct disk_info *d) {
        if (d->wwn)
                return strprintf("wwn-%s", d->wwn);
        if (d->serial) {
                /* namespaces of one NVMe controller share its serial, as udev's by-id names say */
                const char *ns = d->transport == TRANSPORT_NVME && startswith(d->name, "nvme") ?
                        strrchr(d->name, 'n') : NULL;
                return strprintf("serial-%s%s%s%s%s", d->model ? d->model : "", d->model ? "_" : "", d->serial,
                                 ns && ns[1] ? "_" : "", ns && ns[1] ? ns + 1 : "");
        }
        if (d->by_path && d->by_path[0]) {
                const char *b = strrchr(d->by_path[0], '/');
                return strdup(b ? b + 1 : d->by_path[0]);
        }
        if (d->loop_backing_file)
                return strprintf("loop-%s", d->loop_backing_file);
        return strprintf("name-%s", d->name);
}

static bool match_one(const struct disk_info *d, const char *spec) {
        if (!strchr(spec, '/'))
                return fnmatch(spec, d->name, 0) == 0;
        if (startswith(spec, "/dev/disk/")) {
                for (char **p = d->by_id; p && *p; p++)
                        if (fnmatch(spec, *p, 0) == 0)
                                return true;
                for (char **p = d->by_path; p && *p; p++)
                        if (fnmatch(spec, *p, 0) == 0)
                                return true;
                return false;
        }
        if (startswith(spec, "/dev/")) {
                _cleanup_free_ char *n = strprintf("/dev/%s", d->name);
                return n && fnmatch(spec, n, 0) == 0;
        }
        return false;
}

bool disk_info_matches_spec(const struct disk_info *d, const char *spec) {
        _cleanup_strv_free_ char **alts = NULL;
        if (strv_split(spec, "|", &alts) < 0)
                return false;
        for (char **a = alts; a && *a; a++)
                if (match_one(d, *a))
                        return true;
        return false;
}

bool disk_info_has_signatures(const struct disk_info *d) {
        return d->n_sigs > 0 || d->pttype || d->pt_damaged || d->probe_error;
}

char *disk_info_signature_summary(const struct disk_info *d) {
        struct buf b = {};
        for (size_t i = 0; i < d->n_sigs; i++) {
                const struct disk_signature *s = &d->sigs[i];
                if (b.len)
                        buf_puts(&b, ", ");
                buf_puts(&b, s->type);
                if (s->where)
                        buf_printf(&b, " (%s)", s->where);
                else if (d->size && s->offset >= d->size / 2)
                        buf_printf(&b, " at end (offset %" PRIu64 ")", s->offset);
        }
        if (d->probe_error) {
                if (b.len)
                        buf_puts(&b, ", ");
                buf_printf(&b, "unreadable (%s)", d->probe_error);
        }
        if (!b.len)
                buf_puts(&b, "none");
        return buf_steal(&b);
}

/* ---- libblkid ------------------------------------------------------------------------------------ */

static int add_sig(struct disk_info *d, const char *type, const char *usage, uint64_t offset, const char *uuid,
                   const char *label, const char *where) {
        struct disk_signature *n = realloc(d->sigs, (d->n_sigs + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        d->sigs = n;
        struct disk_signature *s = &d->sigs[d->n_sigs];
        *s = (struct disk_signature) {
                .type = strdup(type),
                .usage = strdup(usage ? usage : "other"),
                .offset = offset,
                .uuid = uuid ? strdup(uuid) : NULL,
                .label = label ? strdup(label) : NULL,
                .where = where ? strdup(where) : NULL,
        };
        d->n_sigs++;
        if (!s->type || !s->usage)
                return -ENOMEM;
        return 0;
}

static const char *lookup(blkid_probe pr, const char *name) {
        const char *v = NULL;
        if (blkid_probe_lookup_value(pr, name, &v, NULL) < 0)
                return NULL;
        return v;
}

/* libblkid reads a GPT from its backup when the primary is gone; say so, since a relabel must
 * clear both and a "damaged" disk is never assumed empty. */
static void check_gpt_headers(int fd, struct disk_info *d, uint64_t size, uint32_t lss) {
        bool primary = gpt_signature_at(fd, lss);
        bool backup = size >= 2 * lss && gpt_signature_at(fd, size - lss);
        if (primary != backup)
                d->pt_damaged = true;
        if (backup && !primary)
                (void) add_sig(d, "gpt", "partition_table", size - lss, NULL, NULL, "backup header only");
}

static int probe_partition_content(int fd, struct disk_part *p) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, (blkid_loff_t) p->start, (blkid_loff_t) p->size) < 0)
                return -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_USAGE);
        blkid_probe_enable_partitions(pr, 0);
        if (blkid_do_safeprobe(pr) != 0)
                return 0;
        const char *t = lookup(pr, "TYPE"), *u = lookup(pr, "UUID");
        if (t && !(p->fstype = strdup(t)))
                return -ENOMEM;
        if (u && !(p->uuid = strdup(u)))
                return -ENOMEM;
        return 0;
}

static int probe_partitions(int fd, struct disk_info *d);

/* Where partitions usually start: 63 sectors (DOS, 512 and 4096 bytes), 1 MiB (2048 sectors, what
 * parted, sfdisk and the installers align to), 2048 4K sectors, and the alignments of some RAID
 * controllers and appliances. A wiped or overwritten partition table leaves the filesystem behind
 * at one of these; it is data all the same. */
static const uint64_t usual_offsets[] = {
        63 * 512, 63 * 4096, 1 * MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 32 * MiB, 64 * MiB,
};

static bool has_sig_at(const struct disk_info *d, const char *type, uint64_t offset) {
        for (size_t i = 0; i < d->n_sigs; i++)
                if (streq(d->sigs[i].type, type) && d->sigs[i].offset == offset)
                        return true;
        return false;
}

/* Filesystems, RAID members, LVM PVs and LUKS headers at the usual partition offsets, outside the
 * partitions of the table (those are probed as partitions). */
static int probe_usual_offsets(int fd, struct disk_info *d, uint64_t size) {
        for (size_t k = 0; k < ELEMENTSOF(usual_offsets); k++) {
                uint64_t at = usual_offsets[k];
                bool in_part = false;
                for (size_t i = 0; i < d->n_parts; i++)
                        in_part = in_part || (at >= d->parts[i].start && at < d->parts[i].start + d->parts[i].size);
                if (in_part || at + 64 * KiB > size)
                        continue;
                _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
                if (!pr)
                        return -ENOMEM;
                if (blkid_probe_set_device(pr, fd, (blkid_loff_t) at, (blkid_loff_t) (size - at)) < 0)
                        return -EIO;
                blkid_probe_enable_partitions(pr, 0);
                blkid_probe_enable_superblocks(pr, 1);
                blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_UUID |
                                                              BLKID_SUBLKS_LABEL | BLKID_SUBLKS_MAGIC);
                while (blkid_do_probe(pr) == 0) {
                        const char *type = lookup(pr, "TYPE"), *off = lookup(pr, "SBMAGIC_OFFSET");
                        if (!type)
                                continue;
                        uint64_t o = at + (off ? strtoull(off, NULL, 10) : 0);
                        /* a superblock at the disk's end (md 0.90/1.0) is seen from every offset */
                        if (has_sig_at(d, type, o))
                                continue;
                        _cleanup_free_ char *w = NULL;
                        if (at % MiB == 0)
                                w = strprintf("at %" PRIu64 " MiB, in no partition", at / MiB);
                        else
                                w = strprintf("at sector %" PRIu64 ", in no partition", at / 512);
                        if (!w || add_sig(d, type, lookup(pr, "USAGE"), o, lookup(pr, "UUID"), lookup(pr, "LABEL"), w) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

int signature_probe_new(int fd, int sb_flags, blkid_probe *ret) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe();
        if (!pr)
                return -ENOMEM;
        if (blkid_probe_set_device(pr, fd, 0, 0) < 0)
                return -EIO;
        blkid_probe_enable_superblocks(pr, 1);
        blkid_probe_set_superblocks_flags(pr, sb_flags | BLKID_SUBLKS_MAGIC | BLKID_SUBLKS_BADCSUM);
        blkid_probe_enable_partitions(pr, 1);
        blkid_probe_set_partitions_flags(pr, BLKID_PARTS_MAGIC | BLKID_PARTS_FORCE_GPT);
        *ret = TAKE_PTR(pr);
        return 0;
}

int disk_probe_signatures(const char *path, struct disk_info *d) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0)
                return -errno;

        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        int r = signature_probe_new(fd, BLKID_SUBLKS_TYPE | BLKID_SUBLKS_USAGE | BLKID_SUBLKS_UUID | BLKID_SUBLKS_LABEL,
                                    &pr);
        if (r < 0)
                return r;
        uint64_t size = (uint64_t) blkid_probe_get_size(pr);
        uint32_t lss = d->logical_sector_size ? d->logical_sector_size : blkid_probe_get_sectorsize(pr);
        if (!d->size)
                d->size = size;
        if (!d->logical_sector_size)
                d->logical_sector_size = lss;

        /* Every signature in turn (md 0.90/1.0 live at the end), each with its magic's offset. */
        while ((r = blkid_do_probe(pr)) == 0) {
                const char *type = lookup(pr, "TYPE"), *usage = lookup(pr, "USAGE"), *off;
                if (type) {
                        off = lookup(pr, "SBMAGIC_OFFSET");
                } else {
                        type = lookup(pr, "PTTYPE");
                        usage = "partition_table";
                        off = lookup(pr, "PTMAGIC_OFFSET");
                }
                if (!type)
                        continue;
                uint64_t o = off ? strtoull(off, NULL, 10) : 0;
                if (add_sig(d, type, usage, o, lookup(pr, "UUID") ?: lookup(pr, "PTUUID"), lookup(pr, "LABEL"), NULL) < 0)
                        return -ENOMEM;
        }
        if (r < 0) {
                d->probe_error = strdup("libblkid could not read the disk");
                return 0;
        }

        check_gpt_headers(fd, d, size, lss);

        r = probe_partitions(fd, d);
        if (r < 0)
                return r;
        /* a disk that carries anything is data already; one that looks empty is looked at closer */
        if (d->n_sigs > 0 || d->pttype)
                return 0;
        return probe_usual_offsets(fd, d, size);
}

/* The partition table and what is inside each partition (found by offset, so this works where the
 * kernel made no partition nodes, as for loop devices here). */
static int probe_partitions(int fd, struct disk_info *d) {
        int r;
        _cleanup_(blkid_free_probep) blkid_probe pp = blkid_new_probe();
        if (!pp)
                return -ENOMEM;
        if (blkid_probe_set_device(pp, fd, 0, 0) < 0)
                return -EIO;
        blkid_probe_enable_superblocks(pp, 0);
        blkid_probe_enable_partitions(pp, 1);
        blkid_probe_set_partitions_flags(pp, BLKID_PARTS_ENTRY_DETAILS | BLKID_PARTS_FORCE_GPT);
        if (blkid_do_fullprobe(pp) != 0)
                return 0;
        const char *pt = lookup(pp, "PTTYPE"), *ptu = lookup(pp, "PTUUID");
        if (pt && !(d->pttype = strdup(pt)))
                return -ENOMEM;
        if (ptu && !(d->ptuuid = strdup(ptu)))
                return -ENOMEM;

        blkid_partlist pl = blkid_probe_get_partitions(pp);
        int n = pl ? blkid_partlist_numof_partitions(pl) : 0;
        if (n <= 0)
                return 0;
        struct disk_part *parts = calloc(n, sizeof *parts);
        if (!parts)
                return -ENOMEM;
        free(d->parts);
        d->parts = parts;
        d->n_parts = n;
        uint64_t sector = 512; /* libblkid reports partition geometry in 512-byte sectors */
        for (int i = 0; i < n; i++) {
                blkid_partition bp = blkid_partlist_get_partition(pl, i);
                struct disk_part *p = &parts[i];
                p->number = blkid_partition_get_partno(bp);
                p->start = (uint64_t) blkid_partition_get_start(bp) * sector;
                p->size = (uint64_t) blkid_partition_get_size(bp) * sector;
                const char *s;
                if ((s = blkid_partition_get_uuid(bp)) && !(p->partuuid = strdup(s)))
                        return -ENOMEM;
                if ((s = blkid_partition_get_type_string(bp)) && !(p->type_guid = strdup(s)))
                        return -ENOMEM;
                if ((s = blkid_partition_get_name(bp)) && !(p->name = strdup(s)))
                        return -ENOMEM;
                r = probe_partition_content(fd, p);
                if (r < 0)
                        return r;
                if (p->fstype) {
                        _cleanup_free_ char *w = strprintf("part %u", p->number);
                        if (!w || add_sig(d, p->fstype, "filesystem", p->start, p->uuid, NULL, w) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

/* ---- sysfs topology, mounts, holders ------------------------------------------------------------- */

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

struct devnum {
        char *name; /* "sda" or "sda1" */
        char *dev;  /* "8:1" */
        unsigned partno;
};

static void collect_by_links(const char *devroot, const char *sub, const char *name, char ***ret) {
        _cleanup_free_ char *dir = strprintf("%s/disk/%s", devroot, sub);
        if (!dir)
                return;
        _cleanup_closedir_ DIR *dp = opendir(dir);
        if (!dp)
                return;
        _cleanup_strv_free_ char **out = NULL;
        struct dirent *de;
        while ((de = readdir(dp))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *link = strprintf("%s/%s", dir, de->d_name);
                if (!link)
                        return;
                char target[4096];
                ssize_t k = readlink(link, target, sizeof target - 1);
                if (k <= 0)
                        continue;
                target[k] = 0;
                const char *base = strrchr(target, '/');
                base = base ? base + 1 : target;
                if (!streq(base, name))
                        continue;
                _cleanup_free_ char *full = strprintf("/dev/disk/%s/%s", sub, de->d_name);
                if (!full || strv_push(&out, TAKE_PTR(full)) < 0)
                        return;
        }
        /* readdir order is arbitrary; the plan must not be */
        if (out)
                qsort(out, strv_length(out), sizeof(char *), strcmp_ptr);
        *ret = TAKE_PTR(out);
}

static const char *const boot_mounts[] = {
        "/boot/efi", "/efi", "/boot", "/run/live/medium", "/run/initramfs/live", "/lib/live/mount/medium", "/cdrom",
};

static int apply_mounts(const char *mountinfo, struct disk_info *d, struct devnum *nums, size_t n_nums) {
        _cleanup_fclose_ FILE *f = fopen(mountinfo, "re");
        if (!f)
                return 0;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                /* id parent maj:min root mountpoint opts ... - fstype source superopts */
                _cleanup_strv_free_ char **w = NULL;
                if (strv_split(line, " \n", &w) < 0 || strv_length(w) < 5)
                        continue;
                const char *fstype = NULL;
                for (size_t i = 5; w[i]; i++)
                        if (streq(w[i], "-") && w[i + 1]) {
                                fstype = w[i + 1];
                                break;
                        }
                for (size_t i = 0; i < n_nums; i++) {
                        if (!streq(w[2], nums[i].dev))
                                continue;
                        const char *mp = w[4];
                        _cleanup_free_ char *why = strprintf("%s mounted at %s", nums[i].name, mp);
                        if (why && !strv_contains(d->busy, why) && strv_push(&d->busy, TAKE_PTR(why)) < 0)
                                return -ENOMEM;
                        if (streq(mp, "/")) {
                                d->holds_root = true;
                                d->root_partno = nums[i].partno;
                                free(d->root_fstype);
                                d->root_fstype = fstype ? strdup(fstype) : NULL;
                        }
                        for (size_t k = 0; k < ELEMENTSOF(boot_mounts); k++)
                                if (streq(mp, boot_mounts[k]))
                                        d->boot_medium = true;
                }
        }
        return 0;
}

static int apply_swaps(const char *swaps, struct disk_info *d, struct devnum *nums, size_t n_nums) {
        _cleanup_fclose_ FILE *f = fopen(swaps, "re");
        if (!f)
                return 0;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                char *sp = strpbrk(line, " \t");
                if (!sp || !startswith(line, "/dev/"))
                        continue;
                *sp = 0;
                const char *base = strrchr(line, '/') + 1;
                for (size_t i = 0; i < n_nums; i++)
                        if (streq(base, nums[i].name)) {
                                char *why = strprintf("swap on %s", nums[i].name);
                                if (!why || strv_push(&d->busy, why) < 0)
                                        return -ENOMEM;
                        }
        }
        return 0;
}

static int add_holders(const char *dir, const char *who, struct disk_info *d) {
        _cleanup_free_ char *hd = strprintf("%s/holders", dir);
        if (!hd)
                return -ENOMEM;
        _cleanup_closedir_ DIR *dp = opendir(hd);
        if (!dp)
                return 0;
        struct dirent *de;
        while ((de = readdir(dp))) {
                if (de->d_name[0] == '.')
                        continue;
                char *why = strprintf("%s held by %s", who, de->d_name);
                if (!why || strv_push(&d->busy, why) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static void devnums_free(struct devnum *n, size_t k) {
        for (size_t i = 0; i < k; i++) {
                free(n[i].name);
                free(n[i].dev);
        }
        free(n);
}

/* Size, sector sizes, flags, transport, model, serial, WWN, loop backing, by-id/by-path links. */
static int probe_attrs(const char *devroot, const char *dir, const char *name, struct disk_info *d) {
        uint64_t v;
        if (read_attr_u64(dir, "size", &v) >= 0)
                d->size = v * 512; /* sysfs counts 512-byte units whatever the sector size */
        if (read_attr_u64(dir, "queue/logical_block_size", &v) >= 0)
                d->logical_sector_size = (uint32_t) v;
        if (read_attr_u64(dir, "queue/physical_block_size", &v) >= 0)
                d->physical_sector_size = (uint32_t) v;
        d->rotational = attr_is_one(dir, "queue/rotational");
        d->removable = attr_is_one(dir, "removable");
        d->readonly = attr_is_one(dir, "ro");

        char target[4096];
        ssize_t k = readlink(dir, target, sizeof target - 1);
        if (k > 0) {
                target[k] = 0;
                d->transport = transport_from_devpath(name, target);
        }

        _cleanup_free_ char *devdir = strprintf("%s/device", dir);
        if (!devdir)
                return -ENOMEM;
        d->model = read_attr(devdir, "model");
        d->serial = read_attr(devdir, "serial") ?: read_attr(dir, "serial") ?: read_vpd80_serial(devdir);
        char *wwid = read_attr(dir, "wwid") ?: read_attr(devdir, "wwid");
        if (wwid && startswith(wwid, "naa.")) {
                d->wwn = strprintf("0x%s", wwid + 4);
                free(wwid);
        } else
                d->wwn = wwid;

        d->is_loop = startswith(name, "loop");
        if (d->is_loop)
                d->loop_backing_file = read_attr(dir, "loop/backing_file");

        collect_by_links(devroot, "by-id", name, &d->by_id);
        collect_by_links(devroot, "by-path", name, &d->by_path);

        return 0;
}

/* The disk and its partitions as the kernel knows them: mounts, swaps and holders on any of them. */
static int probe_use(const struct disk_probe_options *o, const char *dir, const char *name, struct disk_info *d) {
        struct devnum *nums = NULL;
        size_t n_nums = 0;
        int r = 0;
        {
                char *dev = read_attr(dir, "dev");
                nums = calloc(1, sizeof *nums);
                if (!nums) {
                        free(dev);
                        return -ENOMEM;
                }
                nums[0] = (struct devnum) { .name = strdup(name), .dev = dev };
                n_nums = 1;
        }
        r = add_holders(dir, name, d);
        _cleanup_closedir_ DIR *dp = opendir(dir);
        struct dirent *de;
        while (r >= 0 && dp && (de = readdir(dp))) {
                if (!startswith(de->d_name, name))
                        continue;
                _cleanup_free_ char *pdir = strprintf("%s/%s", dir, de->d_name);
                if (!pdir) {
                        r = -ENOMEM;
                        break;
                }
                uint64_t partno;
                if (read_attr_u64(pdir, "partition", &partno) < 0)
                        continue;
                struct devnum *nn = realloc(nums, (n_nums + 1) * sizeof *nn);
                if (!nn) {
                        r = -ENOMEM;
                        break;
                }
                nums = nn;
                nums[n_nums++] = (struct devnum) {
                        .name = strdup(de->d_name), .dev = read_attr(pdir, "dev"), .partno = (unsigned) partno,
                };
                r = add_holders(pdir, de->d_name, d);
        }
        /* entries with no dev number cannot match a mount; drop them */
        for (size_t i = 0; i < n_nums; i++)
                if (!nums[i].dev || !nums[i].name) {
                        free(nums[i].dev);
                        free(nums[i].name);
                        nums[i] = (struct devnum) { .name = strdup(""), .dev = strdup("-") };
                }
        if (r >= 0)
                r = apply_mounts(o->mountinfo ?: "/proc/self/mountinfo", d, nums, n_nums);
        if (r >= 0)
                r = apply_swaps(o->swaps ?: "/proc/swaps", d, nums, n_nums);
        devnums_free(nums, n_nums);
        return r;
}

static int probe_one(const struct disk_probe_options *o, const char *name, struct disk_info *d) {
        const char *sysfs = o->sysfs ?: "/sys", *devroot = o->dev ?: "/dev";
        _cleanup_free_ char *dir = strprintf("%s/block/%s", sysfs, name);
        if (!dir)
                return -ENOMEM;

        *d = (struct disk_info) { .name = strdup(name), .devnode = strprintf("%s/%s", devroot, name) };
        if (!d->name || !d->devnode)
                return -ENOMEM;
        int r = probe_attrs(devroot, dir, name, d);
        if (r >= 0)
                r = probe_use(o, dir, name, d);
        if (r < 0)
                return r;

        /* A test seam: a loop device stands in for the boot USB stick. */
        const char *tb = secure_getenv("RACKSTACK_TEST_BOOT_DEV");
        if (tb && streq(tb, name))
                d->boot_medium = true;
        if (d->holds_root)
                d->boot_medium = true; /* booted from the image: the root disk is the boot disk */

        if (!o->no_signatures) {
                r = disk_probe_signatures(d->devnode, d);
                if (r < 0 && r != -ENOMEDIUM) {
                        _cleanup_free_ char *e = strprintf("cannot open: %s", strerror(-r));
                        d->probe_error = TAKE_PTR(e);
                }
        }
        return 0;
}

static int cmp_disk(const void *a, const void *b) {
        const struct disk_info *x = a, *y = b;
        return strcmp(x->name, y->name);
}

/* What DMI says the machine is, when a hypervisor made it: a vendor, product, board or BIOS
 * field starting with one of these names. Hyper-V says only "Microsoft Corporation" / "Virtual
 * Machine", so vendor and product are also tried together. */
static char *probe_hypervisor(const char *sysfs) {
        static const char *const names[] = { "QEMU", "KVM", "VMware", "VMW", "innotek GmbH", "VirtualBox", "Xen",
                                             "Bochs", "Parallels", "BHYVE", "OpenStack", "Amazon EC2",
                                             "Google Compute Engine", "Microsoft Corporation Virtual Machine" };
        _cleanup_free_ char *dir = strprintf("%s/class/dmi/id", sysfs);
        if (!dir)
                return NULL;
        char *f[5] = { read_attr(dir, "sys_vendor"), read_attr(dir, "product_name"), read_attr(dir, "board_vendor"),
                       read_attr(dir, "bios_vendor") };
        f[4] = f[0] && f[1] ? strprintf("%s %s", f[0], f[1]) : NULL;
        const char *found = NULL;
        for (size_t k = 0; !found && k < ELEMENTSOF(f); k++)
                for (size_t i = 0; f[k] && !found && i < ELEMENTSOF(names); i++)
                        if (startswith(f[k], names[i]))
                                found = names[i];
        for (size_t k = 0; k < ELEMENTSOF(f); k++)
                free(f[k]);
        return found ? strdup(found) : NULL;
}

int disk_probe_all(const struct disk_probe_options *o, struct disk_set **ret) {
        const char *sysfs = o->sysfs ?: "/sys";
        _cleanup_free_ char *bdir = strprintf("%s/block", sysfs);
        if (!bdir)
                return -ENOMEM;
        _cleanup_closedir_ DIR *dp = opendir(bdir);
        if (!dp)
                return -errno;

        _cleanup_(disk_set_freep) struct disk_set *set = calloc(1, sizeof *set);
        if (!set)
                return -ENOMEM;
        struct dirent *de;
        while ((de = readdir(dp))) {
                const char *name = de->d_name;
                if (name[0] == '.' || skip_block_name(name))
                        continue;
                if (o->only && !strv_contains(o->only, name))
                        continue;
                _cleanup_free_ char *dir = strprintf("%s/%s", bdir, name);
                if (!dir)
                        return -ENOMEM;
                uint64_t size;
                if (read_attr_u64(dir, "size", &size) < 0 || size == 0)
                        continue; /* empty card readers, detached loop devices */
                if (startswith(name, "loop")) {
                        _cleanup_free_ char *bf = read_attr(dir, "loop/backing_file");
                        if (!bf)
                                continue;
                }
                struct disk_info *n = realloc(set->disks, (set->n_disks + 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                set->disks = n;
                int r = probe_one(o, name, &set->disks[set->n_disks]);
                set->n_disks++;
                if (r < 0)
                        return r;
        }
        if (set->n_disks)
                qsort(set->disks, set->n_disks, sizeof(struct disk_info), cmp_disk);
        set->hypervisor = probe_hypervisor(sysfs);
        *ret = TAKE_PTR(set);
        return 0;
}

void disk_info_done(struct disk_info *d) {
        if (!d)
                return;
        free(d->name);
        free(d->devnode);
        free(d->loop_backing_file);
        free(d->model);
        free(d->serial);
        free(d->wwn);
        strv_free(d->by_id);
        strv_free(d->by_path);
        free(d->root_fstype);
        strv_free(d->busy);
        free(d->pttype);
        free(d->ptuuid);
        for (size_t i = 0; i < d->n_parts; i++) {
                free(d->parts[i].fstype);
                free(d->parts[i].uuid);
                free(d->parts[i].partuuid);
                free(d->parts[i].type_guid);
                free(d->parts[i].name);
        }
        free(d->parts);
        for (size_t i = 0; i < d->n_sigs; i++) {
                free(d->sigs[i].type);
                free(d->sigs[i].usage);
                free(d->sigs[i].uuid);
                free(d->sigs[i].label);
                free(d->sigs[i].where);
        }
        free(d->sigs);
        free(d->probe_error);
        *d = (struct disk_info) {};
}

struct disk_set *disk_set_free(struct disk_set *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < s->n_disks; i++)
                disk_info_done(&s->disks[i]);
        free(s->disks);
        free(s->hypervisor);
        free(s);
        return NULL;
}
