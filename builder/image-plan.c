/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "cleanup.h"
#include "image-plan.h"
#include "parse.h"
#include "util.h"

void image_layout_done(struct image_layout *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n_parts; i++) {
                free(l->parts[i].name);
                free(l->parts[i].mount);
                free(l->parts[i].part_uuid);
                free(l->parts[i].fs_uuid);
        }
        free(l->parts);
        free(l->disk_guid);
        *l = (struct image_layout) {};
}

static uint64_t align_up(uint64_t v) {
        return (v + IMAGE_ALIGN - 1) / IMAGE_ALIGN * IMAGE_ALIGN;
}

static uint64_t align_down(uint64_t v) {
        return v / IMAGE_ALIGN * IMAGE_ALIGN;
}

#define spec_error(d, s, ...) diag_error((d), (s)->src.file, (s)->src.line, (s)->src.col, __VA_ARGS__)

/* Sizes of everything but the grow partition; 0 marks the grow one. */
static int plan_sizes(const struct disk_spec *disk, uint64_t disk_size, uint64_t usable, struct diags *d,
                      uint64_t *sizes) {
        const struct partition_spec *grow = NULL;
        unsigned percent_total = 0;
        uint64_t fixed_total = 0;

        for (size_t i = 0; i < disk->n_parts; i++) {
                const struct partition_spec *p = &disk->parts[i];
                uint64_t sz;

                if (p->grow) {
                        if (grow) {
                                spec_error(d, p, "partition '%s': only one partition may grow (also '%s')",
                                           p->name, grow->name);
                                return -EINVAL;
                        }
                        grow = p;
                        sizes[i] = 0;
                        continue;
                }
                if (p->percent > 0) {
                        if (p->percent > 100) {
                                spec_error(d, p, "partition '%s': %u%% is more than the disk", p->name,
                                           p->percent);
                                return -EINVAL;
                        }
                        percent_total += p->percent;
                        sz = align_down(disk_size / 100 * p->percent + disk_size % 100 * p->percent / 100);
                } else if (p->size > 0) {
                        if (p->size > UINT64_MAX - IMAGE_ALIGN) {
                                spec_error(d, p, "partition '%s': size out of range", p->name);
                                return -EINVAL;
                        }
                        sz = align_up(p->size);
                } else {
                        spec_error(d, p, "partition '%s' has no size, percent or grow", p->name);
                        return -EINVAL;
                }
                if (p->max_size > 0 && sz > p->max_size)
                        sz = align_down(p->max_size);
                if (sz == 0)
                        sz = IMAGE_ALIGN;
                sizes[i] = sz;
                if (fixed_total > UINT64_MAX - sz)
                        fixed_total = UINT64_MAX;
                else
                        fixed_total += sz;
        }
        if (percent_total > 100) {
                spec_error(d, disk, "disk '%s': partitions ask for %u%% of the disk", disk->name, percent_total);
                return -EINVAL;
        }

        if (fixed_total > usable || (grow && usable - fixed_total < IMAGE_ALIGN)) {
                _cleanup_free_ char *have = format_size(usable);
                _cleanup_free_ char *need = format_size(fixed_total);
                _cleanup_free_ char *total = format_size(disk_size);
                spec_error(d, disk, "disk '%s': partitions need %s%s, but a %s image has only %s for partitions",
                           disk->name, strna(need), grow ? " plus at least 1M to grow" : "", strna(total),
                           strna(have));
                return -ENOSPC;
        }
        if (grow) {
                size_t gi = (size_t) (grow - disk->parts);
                uint64_t sz = usable - fixed_total;
                if (grow->max_size > 0 && sz > grow->max_size)
                        sz = align_down(grow->max_size);
                sizes[gi] = MAX(sz, IMAGE_ALIGN);
        }
        return 0;
}

static int part_fill(const struct partition_spec *p, uint64_t offset, uint64_t size, const char *seed,
                     struct image_part *ret) {
        _cleanup_free_ char *purpose = strprintf("part:%s", p->name);
        _cleanup_free_ char *fs_purpose = strprintf("fs:%s", p->name);
        if (!purpose || !fs_purpose)
                return -ENOMEM;

        struct image_part part = {
                .type = p->type,
                .fs = p->fs,
                .offset = offset,
                .size = size,
        };
        int r = 0;

        part.name = strdup(p->name);
        part.mount = p->mount ? strdup(p->mount) : NULL;
        if (!part.name || (p->mount && !part.mount))
                r = -ENOMEM;
        if (r >= 0)
                r = uuid_derive(seed, purpose, &part.part_uuid);
        if (r >= 0 && p->fs == FS_VFAT)
                r = fat_serial_derive(seed, fs_purpose, &part.fs_uuid);
        else if (r >= 0 && p->fs != FS_NONE)
                r = uuid_derive(seed, fs_purpose, &part.fs_uuid);
        if (r < 0) {
                free(part.name);
                free(part.mount);
                free(part.part_uuid);
                return r;
        }
        *ret = part;
        return 0;
}

int image_layout_plan(const struct disk_spec *disk, uint64_t disk_size, const char *seed, struct diags *d,
                      struct image_layout *ret) {
        int r;

        if (!disk || disk->n_parts == 0) {
                diag_error(d, disk ? disk->src.file : NULL, disk ? disk->src.line : 0, disk ? disk->src.col : 0,
                           "the OS disk has no partitions");
                return -EINVAL;
        }
        if (disk_size % IMAGE_SECTOR_SIZE != 0) {
                spec_error(d, disk, "disk image size %" PRIu64 " is not a multiple of 512 bytes", disk_size);
                return -EINVAL;
        }
        if (disk_size < IMAGE_ALIGN + IMAGE_GPT_BACKUP_BYTES) {
                spec_error(d, disk, "disk image size %" PRIu64 " bytes is too small for a GPT", disk_size);
                return -ENOSPC;
        }

        /* The first MiB holds the protective MBR and the primary GPT; the backup GPT sits in the
         * last 33 sectors, so the last partition ends on the MiB boundary below it. */
        uint64_t start = IMAGE_ALIGN;
        uint64_t end = align_down(disk_size - IMAGE_GPT_BACKUP_BYTES);
        uint64_t usable = end > start ? end - start : 0;

        _cleanup_free_ uint64_t *sizes = calloc(disk->n_parts, sizeof(uint64_t));
        if (!sizes)
                return -ENOMEM;
        r = plan_sizes(disk, disk_size, usable, d, sizes);
        if (r < 0)
                return r;

        _cleanup_(image_layout_done) struct image_layout l = { .disk_size = disk_size };
        l.parts = calloc(disk->n_parts, sizeof(struct image_part));
        if (!l.parts)
                return -ENOMEM;
        r = uuid_derive(seed, "disk", &l.disk_guid);
        if (r < 0)
                return r;

        uint64_t off = start;
        for (size_t i = 0; i < disk->n_parts; i++) {
                r = part_fill(&disk->parts[i], off, sizes[i], seed, &l.parts[i]);
                if (r < 0)
                        return r;
                l.n_parts++;
                off += sizes[i];
        }

        *ret = l;
        l = (struct image_layout) {};
        return 0;
}
