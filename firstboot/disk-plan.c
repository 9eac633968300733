/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "disk-plan.h"
#include "json.h"
#include "parse.h"

/* ---- string tables -------------------------------------------------------------------------------- */

static const char *const part_type_guids[_PART_TYPE_MAX] = {
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

static const char *const part_type_names[_PART_TYPE_MAX] = {
        [PART_ESP] = "esp", [PART_BIOS_BOOT] = "bios-boot", [PART_ROOT] = "root", [PART_VAR] = "var",
        [PART_SRV] = "srv", [PART_HOME] = "home", [PART_TMP] = "tmp", [PART_SWAP] = "swap", [PART_LINUX] = "linux",
};

static const char *const fs_names[_FS_MAX] = {
        [FS_NONE] = "none", [FS_EXT4] = "ext4", [FS_XFS] = "xfs", [FS_VFAT] = "vfat", [FS_SWAP] = "swap",
};

const char *plan_part_type_guid(enum part_type t) {
        return t < _PART_TYPE_MAX ? part_type_guids[t] : part_type_guids[PART_LINUX];
}
const char *plan_part_type_name(enum part_type t) {
        return t < _PART_TYPE_MAX ? part_type_names[t] : "?";
}
const char *plan_fs_name(enum fs_type f) {
        return f < _FS_MAX ? fs_names[f] : "?";
}

static int parse_mask(const char *s, const char *const *names, const unsigned *bits, size_t n, unsigned *ret) {
        _cleanup_strv_free_ char **w = NULL;
        int r = strv_split(s, "|,", &w);
        if (r < 0)
                return r;
        unsigned m = 0;
        for (char **p = w; p && *p; p++) {
                size_t i;
                for (i = 0; i < n; i++)
                        if (streq(*p, names[i]))
                                break;
                if (i == n)
                        return -EINVAL;
                m |= bits[i];
        }
        if (!m)
                return -EINVAL;
        *ret = m;
        return 0;
}

int plan_parse_classes(const char *s, unsigned *ret) {
        static const char *const names[] = { "ssd", "nvme", "hdd" };
        static const unsigned bits[] = { DISK_CLASS_SSD, DISK_CLASS_NVME, DISK_CLASS_HDD };
        return parse_mask(s, names, bits, ELEMENTSOF(names), ret);
}

int plan_parse_transports(const char *s, unsigned *ret) {
        static const char *const names[] = { "nvme", "sata", "sas", "usb", "virtio", "scsi" };
        static const unsigned bits[] = { TRANSPORT_NVME, TRANSPORT_SATA, TRANSPORT_SAS,
                                         TRANSPORT_USB, TRANSPORT_VIRTIO, TRANSPORT_SCSI };
        return parse_mask(s, names, bits, ELEMENTSOF(names), ret);
}

static void mask_to_buf(struct buf *b, unsigned mask, const char *(*name)(unsigned)) {
        bool first = true;
        for (unsigned bit = 1; bit && bit <= mask; bit <<= 1)
                if (mask & bit) {
                        if (!first)
                                buf_putc(b, '|');
                        buf_puts(b, name(bit));
                        first = false;
                }
}

uint64_t plan_usable_end(uint64_t disk_size, uint32_t sector_size) {
        uint64_t lss = sector_size ? sector_size : 512;
        /* the backup GPT: 16 KiB of entries and one header sector */
        uint64_t reserve = 16 * KiB + lss;
        if (disk_size <= reserve)
                return 0;
        return (disk_size - reserve) / PLAN_ALIGN * PLAN_ALIGN;
}

/* ---- context ---------------------------------------------------------------------------------------- */

struct ctx {
        const struct plan_input *in;
        const struct disk_set *set;
        const struct storage_answers *a;
        struct disk_plan *p;
        bool oom;
        bool *in_scope, *taken, *claimed, *cleared, *cleared_explicit;
        const char **cleared_by; /* per disk: the answer that allows wiping it */
        bool *alias_relaxed; /* per alias: on a hypervisor, no disk fits it as written */
        char **scratch; /* formatted sizes and masks, freed at the end */
        bool virtual_relaxed; /* this role disk: class nvme takes an SSD, any bus (see plan_data_disk) */
        bool demote; /* install: this role disk is laid out after the reboot; its refusals are notes */
};

/* What a class mask or bus mask asks for once the hypervisor relaxation applies. */
static unsigned relaxed_classes(bool relaxed, unsigned m) {
        return relaxed && (m & DISK_CLASS_NVME) ? m | DISK_CLASS_SSD : m;
}
static unsigned relaxed_transports(bool relaxed, unsigned m) {
        return relaxed ? 0 : m;
}
static unsigned eff_classes(const struct ctx *c, unsigned m) {
        return relaxed_classes(c->virtual_relaxed, m);
}
static unsigned eff_transports(const struct ctx *c, unsigned m) {
        return relaxed_transports(c->virtual_relaxed, m);
}

static const char *keep(struct ctx *c, char *s) {
        if (!s || strv_push(&c->scratch, s) < 0) {
                c->oom = true;
                return "?";
        }
        return s;
}

static const char *hsize(struct ctx *c, uint64_t v) {
        return keep(c, format_size_human(v));
}

static const char *classes_str(struct ctx *c, unsigned m) {
        struct buf b = {};
        mask_to_buf(&b, m, disk_class_name);
        return keep(c, buf_steal(&b));
}

static const char *transports_str(struct ctx *c, unsigned m) {
        struct buf b = {};
        mask_to_buf(&b, m, transport_name);
        return keep(c, buf_steal(&b));
}

static void vpush(struct ctx *c, char ***l, const char *fmt, va_list ap) {
        char *s = strvprintf(fmt, ap);
        if (!s || strv_push(l, s) < 0)
                c->oom = true;
}

_printf_(2, 3) static void plan_error(struct ctx *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (c->demote) {
                /* the installer does not write this role disk: what would refuse it after the reboot
                 * is said, and refuses nothing now */
                _cleanup_free_ char *s = strvprintf(fmt, ap);
                char *n = s ? strprintf("after the reboot, the storage step would refuse: %s", s) : NULL;
                if (!n || strv_push(&c->p->notes, n) < 0)
                        c->oom = true;
        } else
                vpush(c, &c->p->errors, fmt, ap);
        va_end(ap);
}

_printf_(2, 3) static void plan_note(struct ctx *c, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vpush(c, &c->p->notes, fmt, ap);
        va_end(ap);
}

_printf_(3, 4) static void reason(struct ctx *c, size_t i, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vpush(c, &c->p->verdicts[i].reasons, fmt, ap);
        va_end(ap);
}

static void set_verdict(struct ctx *c, size_t i, const char *state, const char *spec) {
        c->p->verdicts[i].state = state;
        free(c->p->verdicts[i].spec);
        c->p->verdicts[i].spec = spec ? strdup(spec) : NULL;
        if (spec && !c->p->verdicts[i].spec)
                c->oom = true;
}

static const struct disk_info *D(struct ctx *c, size_t i) {
        return &c->set->disks[i];
}

static bool is_foreign_boot(const struct disk_info *d) {
        return d->boot_medium && !d->holds_root;
}

/* ---- scope: ignoredisk, clearpart, the boot medium and the journal ------------------------------- */

static const struct disk_alias *find_alias(const struct storage_answers *a, const char *name);
static const char *alias_mismatch(struct ctx *c, const struct disk_alias *al, const struct disk_info *d);

/* A device spec, or "@alias": the disks that fit the %addon alias. */
static bool matches(struct ctx *c, const struct disk_info *d, const char *spec) {
        if (spec[0] == '@') {
                /* an alias describes a data disk: never the running root's, never the boot medium */
                if (d->holds_root || is_foreign_boot(d))
                        return false;
                const struct disk_alias *al = find_alias(c->a, spec + 1);
                return al && !alias_mismatch(c, al, d);
        }
        return disk_info_matches_spec(d, spec);
}

static size_t spec_matches(struct ctx *c, const char *spec, ssize_t *ret_first) {
        size_t n = 0;
        *ret_first = -1;
        for (size_t i = 0; i < c->set->n_disks; i++)
                if (matches(c, D(c, i), spec)) {
                        if (*ret_first < 0)
                                *ret_first = (ssize_t) i;
                        n++;
                }
        return n;
}

/* How many disks an alias stands for when it is counted: neither the boot medium nor the running root. */
static size_t alias_count_matches(struct ctx *c, const char *spec) {
        size_t n = 0;
        for (size_t i = 0; i < c->set->n_disks; i++)
                if (!is_foreign_boot(D(c, i)) && !D(c, i)->holds_root && matches(c, D(c, i), spec))
                        n++;
        return n;
}

/* Every "@alias" the answers use must be defined: an alias that cannot be resolved names no disk,
 * and an empty list would widen what ignoredisk and clearpart let through. */
static void check_alias_refs(struct ctx *c, char **specs, const char *what) {
        for (char **s = specs; s && *s; s++)
                if ((*s)[0] == '@' && !find_alias(c->a, *s + 1))
                        plan_error(c, "%s=%s: no %%addon disk alias of that name", what, *s);
}

enum named_as { NAMED_ONLY_USE, NAMED_IGNORE, NAMED_CLEAR };

static void check_named(struct ctx *c, char **specs, const char *what, enum named_as as) {
        bool clearing = as == NAMED_CLEAR;
        for (char **s = specs; s && *s; s++) {
                ssize_t first;
                if ((*s)[0] == '@' && !find_alias(c->a, *s + 1))
                        continue; /* check_alias_refs() said so */
                if (spec_matches(c, *s, &first) == 0) {
                        plan_error(c, "%s=%s matches no disk", what, *s);
                        continue;
                }
                if ((*s)[0] == '@') {
                        const struct disk_alias *al = find_alias(c->a, *s + 1);
                        size_t n = alias_count_matches(c, *s);
                        if (al->count && n != al->count)
                                plan_error(c, "%s=%s: %%addon disk %s count=%u, but %zu disk%s", what, *s, al->name,
                                           al->count, n, n == 1 ? " fits it" : "s fit it");
                }
                if (as == NAMED_IGNORE)
                        continue; /* hiding a disk is never harmful */
                for (size_t i = 0; i < c->set->n_disks; i++) {
                        const struct disk_info *d = D(c, i);
                        if (!matches(c, d, *s))
                                continue;
                        if (is_foreign_boot(d))
                                plan_error(c, "%s=%s names %s, the boot medium; it is never a candidate", what, *s,
                                           d->name);
                        else if (clearing && d->holds_root)
                                plan_error(c, "%s=%s names %s, which holds the running root filesystem; it is never "
                                           "cleared", what, *s, d->name);
                        else if (clearing && !c->in_scope[i])
                                plan_error(c, "%s=%s names %s, which ignoredisk hides", what, *s, d->name);
                }
        }
}

static const char *origin_suffix(struct ctx *c, const char *origin) {
        return origin ? keep(c, strprintf(" (%s)", origin)) : "";
}

/* On a hypervisor an alias that no disk fits as written (class nvme, a bus) is relaxed as a role
 * disk is (see plan_data_disk): ignoredisk and clearpart then name the disks the storage step
 * would take for it. */
static void decide_alias_relaxation(struct ctx *c) {
        for (size_t k = 0; c->set->hypervisor && c->a && k < c->a->n_aliases; k++) {
                const struct disk_alias *al = &c->a->aliases[k];
                _cleanup_free_ char *spec = strprintf("@%s", al->name);
                if (!spec) {
                        c->oom = true;
                        return;
                }
                if (relaxed_classes(true, al->classes) == al->classes && !al->transports)
                        continue; /* nothing to relax */
                if (alias_count_matches(c, spec) >= (al->count ? al->count : 1))
                        continue;
                c->alias_relaxed[k] = true;
                plan_note(c, "@%s: no disk fits it as written; on %s a virtual disk's class and bus are its "
                          "configuration's, so %s on any bus will do", al->name, c->set->hypervisor,
                          classes_str(c, relaxed_classes(true, al->classes ? al->classes : DISK_CLASS_SSD)));
        }
}

static void decide_scope(struct ctx *c) {
        const struct storage_answers *a = c->a;
        if (a) {
                check_alias_refs(c, a->only_use, "ignoredisk --only-use");
                check_alias_refs(c, a->ignore, "ignoredisk --drives");
                check_alias_refs(c, a->clear_drives, "clearpart --drives");
                for (size_t k = 0; k < a->n_pins; k++)
                        if (a->pins[k].ondisk[0] == '@' && !find_alias(a, a->pins[k].ondisk + 1))
                                plan_error(c, "part %s --ondisk=%s: no %%addon disk alias of that name",
                                           a->pins[k].mount, a->pins[k].ondisk);
        }
        decide_alias_relaxation(c);
        for (size_t i = 0; i < c->set->n_disks; i++) {
                const struct disk_info *d = D(c, i);
                c->in_scope[i] = true;
                bool only_listed = false;
                if (a && a->only_use) {
                        for (char **s = a->only_use; *s; s++)
                                if (matches(c, d, *s))
                                        only_listed = true;
                        if (!only_listed) {
                                c->in_scope[i] = false;
                                set_verdict(c, i, "out-of-scope", NULL);
                                reason(c, i, "not named by ignoredisk --only-use");
                                continue;
                        }
                }
                for (char **s = a ? a->ignore : NULL; s && *s; s++)
                        if (matches(c, d, *s)) {
                                c->in_scope[i] = false;
                                set_verdict(c, i, "out-of-scope", NULL);
                                reason(c, i, "hidden by ignoredisk --drives=%s", *s);
                                break;
                        }
                if (!c->in_scope[i])
                        continue;
                if (is_foreign_boot(d)) {
                        c->in_scope[i] = false;
                        set_verdict(c, i, "boot-medium", NULL);
                        reason(c, i, "the boot medium: never a candidate");
                        continue;
                }
                if (a && !d->holds_root) {
                        for (char **s = a->clear_drives; s && *s; s++)
                                if (matches(c, d, *s)) {
                                        if (!c->cleared_by[i])
                                                c->cleared_by[i] = keep(c, strprintf("clearpart --drives=%s%s", *s,
                                                                                     origin_suffix(c, a->clear_origin)));
                                        c->cleared[i] = c->cleared_explicit[i] = true;
                                }
                        if (a->clear_all && !a->clear_drives && a->only_use) {
                                c->cleared[i] = true;
                                c->cleared_by[i] = keep(c, strprintf("clearpart --all%s within ignoredisk --only-use%s",
                                                                     origin_suffix(c, a->clear_origin),
                                                                     origin_suffix(c, a->only_use_origin)));
                        } else if (a->clear_all && !a->clear_drives) {
                                /* Unbounded (what nearly every Anaconda kickstart says): bounded here by
                                 * the role's disk layout. "cleared" only lets a disk the plan assigns to a
                                 * role disk be wiped; the boot medium and the running root's disk never
                                 * get here, and a disk no role disk takes is left alone. */
                                c->cleared[i] = true;
                                c->cleared_by[i] = keep(c, strprintf("clearpart --all%s, bounded by the role's disk "
                                                                     "layout", origin_suffix(c, a->clear_origin)));
                        }
                }
        }

        if (a) {
                check_named(c, a->only_use, "ignoredisk --only-use", NAMED_ONLY_USE);
                check_named(c, a->ignore, "ignoredisk --drives", NAMED_IGNORE);
                check_named(c, a->clear_drives, "clearpart --drives", NAMED_CLEAR);
        }

        /* The journal: disks an earlier run labelled are ours, as long as the label is still the one
         * it wrote. */
        for (size_t i = 0; i < c->set->n_disks; i++) {
                const struct disk_info *d = D(c, i);
                _cleanup_free_ char *id = disk_info_id(d);
                if (!id) {
                        c->oom = true;
                        return;
                }
                for (size_t k = 0; k < c->in->n_claims; k++) {
                        const struct storage_claim *cl = &c->in->claims[k];
                        if (!streq(cl->disk_id, id))
                                continue;
                        if (cl->ptuuid && (!d->ptuuid || strcasecmp(cl->ptuuid, d->ptuuid) != 0)) {
                                reason(c, i, "the journal says an earlier run labelled it %s, but it now carries %s: "
                                       "not treated as ours", cl->ptuuid, d->ptuuid ? d->ptuuid : "no label");
                                continue;
                        }
                        c->claimed[i] = true;
                        reason(c, i, "the journal says an earlier run %s it%s%s", cl->finished ? "finished" : "started on",
                               cl->ptuuid ? ": label " : "", cl->ptuuid ? cl->ptuuid : "");
                }
        }
}

/* clearpart --all with no --drives and no ignoredisk --only-use: accepted, bounded by the role's
 * disk layout. The plan says so, with the disks it wipes and those with data it leaves alone. */
static void note_unbounded_clear(struct ctx *c) {
        const struct storage_answers *a = c->a;
        if (!a || !a->clear_all || a->clear_drives || a->only_use)
                return;
        _cleanup_strv_free_ char **wiped = NULL, **alone = NULL;
        for (size_t k = 0; k < c->p->n_disks; k++)
                if (c->p->disks[k].wipe &&
                    strv_extend(&wiped, D(c, c->p->disks[k].disk)->name) < 0)
                        c->oom = true;
        for (size_t i = 0; i < c->set->n_disks; i++) {
                const struct disk_info *d = D(c, i);
                const char *st = c->p->verdicts[i].state;
                if (!disk_info_has_signatures(d) || d->holds_root ||
                    (st && (streq(st, "chosen") || streq(st, "boot-medium"))))
                        continue;
                _cleanup_free_ char *sum = disk_info_signature_summary(d);
                if (strv_push(&alone, strprintf("%s (%s)", d->name, strna(sum))) < 0)
                        c->oom = true;
        }
        _cleanup_free_ char *w = wiped ? strv_join(wiped, ", ") : NULL, *l = alone ? strv_join(alone, ", ") : NULL;
        plan_note(c, "warning: clearpart --all%s names no disks: bounded by the role's disk layout, it clears %s; "
                  "never a disk outside the plan, the boot medium or the running root's disk%s%s",
                  origin_suffix(c, a->clear_origin), w ? w : "no disk that holds data", l ? "; left alone: " : "",
                  strempty(l));
}

/* ---- partition layout ------------------------------------------------------------------------------- */

static uint64_t align_up(uint64_t v) {
        return (v + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
}
static uint64_t align_down(uint64_t v) {
        return v / PLAN_ALIGN * PLAN_ALIGN;
}

static int layout(struct ctx *c, const struct disk_spec *s, const struct disk_info *d, struct plan_disk *pd) {
        uint64_t end = plan_usable_end(d->size, d->logical_sector_size);
        uint64_t avail = end > PLAN_ALIGN ? end - PLAN_ALIGN : 0;
        _cleanup_free_ uint64_t *sizes = calloc(s->n_parts ?: 1, sizeof *sizes);
        if (!sizes)
                return -ENOMEM;
        uint64_t fixed = 0;
        ssize_t grow = -1;
        for (size_t i = 0; i < s->n_parts; i++) {
                const struct partition_spec *ps = &s->parts[i];
                if (ps->grow) {
                        if (grow >= 0) {
                                plan_error(c, "role disk '%s': partitions '%s' and '%s' both grow", s->name,
                                           s->parts[grow].name, ps->name);
                                return 0;
                        }
                        grow = (ssize_t) i;
                        continue;
                }
                uint64_t sz;
                if (ps->percent) {
                        sz = align_down(avail / 100 * MIN(ps->percent, 100u));
                        if (ps->max_size && sz > ps->max_size)
                                sz = align_down(ps->max_size);
                } else
                        sz = align_up(ps->size);
                if (sz == 0) {
                        plan_error(c, "role disk '%s': partition '%s' has no size", s->name, ps->name);
                        return 0;
                }
                sizes[i] = sz;
                fixed += sz;
        }
        if (fixed > avail || (grow >= 0 && avail - fixed < PLAN_ALIGN)) {
                plan_error(c, "%s is too small for role disk '%s': its partitions need %s%s, %s usable", d->name,
                           s->name, hsize(c, fixed), grow >= 0 ? " and room to grow" : "", hsize(c, avail));
                return 0;
        }
        if (grow >= 0) {
                uint64_t rest = avail - fixed;
                const struct partition_spec *ps = &s->parts[grow];
                if (ps->max_size && rest > ps->max_size)
                        rest = align_down(ps->max_size);
                sizes[grow] = rest;
        }

        pd->parts = calloc(s->n_parts ?: 1, sizeof *pd->parts);
        if (!pd->parts)
                return -ENOMEM;
        uint64_t at = PLAN_ALIGN;
        for (size_t i = 0; i < s->n_parts; i++) {
                const struct partition_spec *ps = &s->parts[i];
                struct plan_part *pp = &pd->parts[pd->n_parts++];
                enum fs_type fs = ps->fs;
                if (fs == FS_NONE && ps->mount)
                        fs = FS_XFS; /* data volumes are xfs unless the role says otherwise */
                *pp = (struct plan_part) {
                        .number = (unsigned) i + 1,
                        .name = strdup(ps->name ? ps->name : s->name),
                        .type = ps->type,
                        .type_guid = plan_part_type_guid(ps->type),
                        .start = at,
                        .size = sizes[i],
                        .fs = fs,
                        .mount = ps->mount ? strdup(ps->mount) : NULL,
                        .options = strdup(ps->options ? ps->options : "defaults"),
                        .label = strdup(ps->label ? ps->label : ps->name ? ps->name : s->name),
                };
                if (!pp->name || (ps->mount && !pp->mount) || !pp->options || !pp->label)
                        return -ENOMEM;
                at += sizes[i];
        }
        return 0;
}

/* ---- the OS disk ------------------------------------------------------------------------------------ */

static int plan_os_disk(struct ctx *c, const struct disk_spec *os) {
        ssize_t root = -1;
        for (size_t i = 0; i < c->set->n_disks; i++)
                if (D(c, i)->holds_root) {
                        root = (ssize_t) i;
                        break;
                }
        if (root < 0) {
                if (os)
                        plan_note(c, "role disk '%s': the running root is on no probed disk; nothing to grow", os->name);
                return 0;
        }
        const struct disk_info *d = D(c, root);
        c->taken[root] = true;
        set_verdict(c, root, "os", os ? os->name : NULL);
        reason(c, root, "holds the running root filesystem: never repartitioned, at most its root partition grown");
        if (!c->in_scope[root]) {
                reason(c, root, "out of scope (ignoredisk): not grown");
                return 0;
        }
        if (os) {
                if (!(os->classes & disk_info_class(d)))
                        reason(c, root, "warning: it is %s, role disk '%s' asks for %s", disk_class_name(disk_info_class(d)),
                               os->name, classes_str(c, os->classes));
                if (d->size < os->min_size)
                        reason(c, root, "warning: %s is less than the %s role disk '%s' asks for", hsize(c, d->size),
                               hsize(c, os->min_size), os->name);
        }

        struct plan_disk pd = {
                .disk = (size_t) root, .id = disk_info_id(d), .devnode = strdup(d->devnode),
                .spec = strdup(os ? os->name : "os"), .mode = PLAN_DISK_KEEP, .size = d->size,
                .sector_size = d->logical_sector_size,
        };
        const struct disk_part *rp = NULL, *last = NULL;
        for (size_t k = 0; k < d->n_parts; k++) {
                if (d->parts[k].number == d->root_partno)
                        rp = &d->parts[k];
                if (!last || d->parts[k].start > last->start)
                        last = &d->parts[k];
        }
        uint64_t end = plan_usable_end(d->size, d->logical_sector_size);
        if (d->root_partno == 0)
                reason(c, root, "the root filesystem is on the whole disk: nothing to grow");
        else if (!rp)
                reason(c, root, "root partition %u is not in the partition table: not grown", d->root_partno);
        else if (!d->pttype || !streq(d->pttype, "gpt"))
                reason(c, root, "the partition table is %s, not gpt: not grown", d->pttype ? d->pttype : "unknown");
        else if (rp != last)
                reason(c, root, "root partition %u is not the last one: not grown", rp->number);
        else if (rp->start + rp->size + PLAN_ALIGN > end)
                reason(c, root, "root partition %u already reaches the end of the disk", rp->number);
        else if (!d->root_fstype || !(streq(d->root_fstype, "ext4") || streq(d->root_fstype, "xfs")))
                reason(c, root, "root filesystem %s cannot be grown online: not grown", strna(d->root_fstype));
        else {
                pd.mode = PLAN_DISK_GROW_ROOT;
                pd.grow_partno = rp->number;
                pd.grow_from = rp->size;
                pd.grow_to = end - rp->start;
                pd.grow_fs = strdup(d->root_fstype);
                reason(c, root, "grow root partition %u from %s to %s and its %s filesystem", rp->number,
                       hsize(c, rp->size), hsize(c, pd.grow_to), d->root_fstype);
        }

        struct plan_disk *n = realloc(c->p->disks, (c->p->n_disks + 1) * sizeof *n);
        if (!n || !pd.id || !pd.devnode || !pd.spec || (pd.mode == PLAN_DISK_GROW_ROOT && !pd.grow_fs)) {
                if (n)
                        c->p->disks = n;
                free(pd.id);
                free(pd.devnode);
                free(pd.spec);
                free(pd.grow_fs);
                return -ENOMEM;
        }
        c->p->disks = n;
        c->p->disks[c->p->n_disks++] = pd;
        return 0;
}

/* ---- data disks --------------------------------------------------------------------------------------- */

static const struct disk_alias *find_alias(const struct storage_answers *a, const char *name) {
        for (size_t i = 0; a && i < a->n_aliases; i++)
                if (streq(a->aliases[i].name, name))
                        return &a->aliases[i];
        return NULL;
}

static bool spec_has_mount(const struct disk_spec *s, const char *mount) {
        for (size_t i = 0; i < s->n_parts; i++)
                if (s->parts[i].mount && streq(s->parts[i].mount, mount))
                        return true;
        return false;
}

static bool size_ok(enum size_op op, uint64_t have, uint64_t want) {
        switch (op) {
        case SIZE_OP_ANY: return true;
        case SIZE_OP_GE: return have >= want;
        case SIZE_OP_GT: return have > want;
        case SIZE_OP_LE: return have <= want;
        case SIZE_OP_LT: return have < want;
        case SIZE_OP_EQ: /* a disk is never exactly its marketing size: 1% either way */
                return have >= want - want / 100 && have <= want + want / 100;
        }
        return false;
}

static const char *size_op_str(enum size_op op) {
        static const char *const s[] = { "", ">=", ">", "<=", "<", "=" };
        return op <= SIZE_OP_EQ ? s[op] : "?";
}

/* Why d does not fit the alias, or NULL if it does. */
static const char *alias_mismatch(struct ctx *c, const struct disk_alias *al, const struct disk_info *d) {
        bool relaxed = c->virtual_relaxed || (c->alias_relaxed && c->alias_relaxed[al - c->a->aliases]);
        unsigned classes = relaxed_classes(relaxed, al->classes), transports = relaxed_transports(relaxed, al->transports);
        if (classes && !(classes & disk_info_class(d)))
                return keep(c, strprintf("it is %s, @%s asks for %s", disk_class_name(disk_info_class(d)), al->name,
                                         classes_str(c, classes)));
        if (transports && !(transports & d->transport))
                return keep(c, strprintf("transport %s, @%s asks for %s", transport_name(d->transport), al->name,
                                         transports_str(c, transports)));
        if (!size_ok(al->size_op, d->size, al->size))
                return keep(c, strprintf("%s, @%s asks for size%s%s", hsize(c, d->size), al->name,
                                         size_op_str(al->size_op), hsize(c, al->size)));
        if (al->size_max && d->size > al->size_max)
                return keep(c, strprintf("%s, @%s asks for size<=%s", hsize(c, d->size), al->name,
                                         hsize(c, al->size_max)));
        if (al->device && !disk_info_matches_spec(d, al->device))
                return keep(c, strprintf("@%s is pinned to %s", al->name, al->device));
        return NULL;
}

struct cand {
        size_t i;
        bool claimed, explicit_clear, holds_data;
};

static int cmp_str_null_last(const char *a, const char *b) {
        if (a && b)
                return strcmp(a, b);
        return a ? -1 : b ? 1 : 0;
}

static const struct disk_set *sort_set; /* qsort has no context argument */

static int cmp_cand(const void *x, const void *y) {
        const struct cand *a = x, *b = y;
        if (a->claimed != b->claimed)
                return a->claimed ? -1 : 1;
        if (a->explicit_clear != b->explicit_clear)
                return a->explicit_clear ? -1 : 1;
        /* a blanket clearpart --all allows wiping; an empty disk that fits as well is taken first */
        if (a->holds_data != b->holds_data)
                return a->holds_data ? 1 : -1;
        const struct disk_info *da = &sort_set->disks[a->i], *db = &sort_set->disks[b->i];
        int r = cmp_str_null_last(da->by_path ? da->by_path[0] : NULL, db->by_path ? db->by_path[0] : NULL);
        if (r)
                return r;
        r = cmp_str_null_last(da->serial, db->serial);
        if (r)
                return r;
        return strcmp(da->name, db->name);
}

static size_t count_fits(struct ctx *c, const struct disk_spec *s);

static int plan_data_disk_relaxing(struct ctx *c, const struct disk_spec *s);

/* The hypervisor relaxation holds for one role disk only (aliases are matched elsewhere too). In
 * the installer's plan, a data role disk's refusals are the storage step's, after the reboot. */
static int plan_data_disk(struct ctx *c, const struct disk_spec *s) {
        c->demote = c->in->install && !s->os;
        int r = plan_data_disk_relaxing(c, s);
        c->virtual_relaxed = false;
        c->demote = false;
        return r;
}

enum { FIT_NO, FIT_REFUSED, FIT_YES };

/* What one role disk asks for, with the answers' alias and --ondisk pin applied. */
struct want {
        const struct disk_spec *s;
        const struct disk_alias *al;
        const char *pin, *pin_mount;
        unsigned classes, transports, count;
};

/* Whether disk i fits role disk w->s: FIT_YES (eligible), FIT_REFUSED (fits, but what it holds or
 * its use forbids it), FIT_NO; the reason is recorded on the disk. -ENOMEM. */
static int judge_disk(struct ctx *c, const struct want *w, size_t i, size_t *n_alias_match) {
        const struct disk_spec *s = w->s;
        const struct disk_alias *al = w->al;
        const char *pin = w->pin, *pin_mount = w->pin_mount;
        unsigned classes = w->classes, transports = w->transports;
        const struct disk_info *d = D(c, i);
        if (!c->in_scope[i] || d->holds_root)
                return FIT_NO;
        /* count=N counts the disks left for this one: a disk a more constrained role disk
         * already took is accounted for (infra's "logs sas size>=500G count=1" beside its
         * "backups sas size>=2T": the 2T disk matches both, and is backups'). */
        if (c->taken[i])
                return FIT_NO;
        if (al && !alias_mismatch(c, al, d))
                (*n_alias_match)++;
        unsigned cls = disk_info_class(d);
        const char *why;
        if (!(classes & cls)) {
                reason(c, i, "not '%s': it is %s, '%s' asks for %s", s->name, disk_class_name(cls), s->name,
                       classes_str(c, classes));
                return FIT_NO;
        }
        if (transports && !(transports & d->transport)) {
                reason(c, i, "not '%s': transport %s, '%s' asks for %s", s->name, transport_name(d->transport),
                       s->name, transports_str(c, transports));
                return FIT_NO;
        }
        if (d->size < s->min_size) {
                reason(c, i, "not '%s': too small, %s < %s", s->name, hsize(c, d->size), hsize(c, s->min_size));
                return FIT_NO;
        }
        if (al && (why = alias_mismatch(c, al, d))) {
                reason(c, i, "not '%s': %s", s->name, why);
                return FIT_NO;
        }
        if (pin && !disk_info_matches_spec(d, pin)) {
                reason(c, i, "not '%s': part %s --ondisk=%s names another disk", s->name, pin_mount, pin);
                return FIT_NO;
        }
        /* a disk an earlier run finished is busy with our own mounts */
        if (d->busy && !c->claimed[i]) {
                _cleanup_free_ char *b = strv_join(d->busy, "; ");
                reason(c, i, "matches '%s' but is busy (%s): never forced", s->name, b ? b : "?");
                return FIT_REFUSED;
        }
        if (disk_info_has_signatures(d) && !c->claimed[i]) {
                _cleanup_free_ char *sum = disk_info_signature_summary(d);
                if (!sum)
                        return -ENOMEM;
                if (al && al->expect_empty) {
                        reason(c, i, "matches '%s' but carries %s, and @%s expects an empty disk", s->name, sum,
                               al->name);
                        return FIT_REFUSED;
                }
                if (!c->cleared[i]) {
                        reason(c, i, "matches '%s' but carries %s, and clearpart does not name it", s->name, sum);
                        return FIT_REFUSED;
                }
                reason(c, i, "matches '%s'; carries %s, which %s allows to be wiped", s->name, sum,
                       c->cleared_by[i] ? c->cleared_by[i] : "clearpart");
        } else
                reason(c, i, "matches '%s': %s %s%s%s, %s >= %s", s->name, disk_class_name(cls),
                       transport_name(d->transport), d->serial ? ", serial " : "", strempty(d->serial),
                       hsize(c, d->size), hsize(c, s->min_size));
        return FIT_YES;
}

/* The role disk's alias and pin from the answers' part --ondisk lines. */
static void want_pins(struct ctx *c, struct want *w) {
        const struct storage_answers *a = c->a;
        w->al = find_alias(a, w->s->name);
        for (size_t k = 0; a && k < a->n_pins; k++) {
                const struct part_pin *pp = &a->pins[k];
                if (!spec_has_mount(w->s, pp->mount))
                        continue;
                if (pp->ondisk[0] == '@') {
                        const struct disk_alias *x = find_alias(a, pp->ondisk + 1);
                        if (x) /* else decide_scope() said so */
                                w->al = x;
                } else {
                        w->pin = pp->ondisk;
                        w->pin_mount = pp->mount;
                }
        }
}

/* Take the first count candidates for role disk s, in the tie-break's order; lay out each. */
static int take_disks(struct ctx *c, const struct disk_spec *s, const struct cand *elig, size_t n_elig, unsigned count) {
        for (size_t k = 0; k < n_elig; k++) {
                size_t i = elig[k].i;
                const struct disk_info *d = D(c, i);
                if (k >= count) {
                        reason(c, i, "not taken for '%s': %s came first in the tie-break", s->name,
                               D(c, elig[count - 1].i)->name);
                        continue;
                }
                c->taken[i] = true;
                set_verdict(c, i, "chosen", s->name);
                bool wipe = disk_info_has_signatures(d) && !c->claimed[i];
                struct plan_disk pd = {
                        .disk = i, .id = disk_info_id(d), .devnode = strdup(d->devnode), .spec = strdup(s->name),
                        .mode = s->os ? PLAN_DISK_IMAGE : PLAN_DISK_PARTITION, .wipe = wipe,
                        .carries = wipe ? disk_info_signature_summary(d) : NULL,
                        .allowed_by = wipe ? strdup(c->cleared_by[i] ? c->cleared_by[i] : "clearpart") : NULL,
                        .resume = c->claimed[i], .size = d->size, .sector_size = d->logical_sector_size,
                };
                struct plan_disk *n = realloc(c->p->disks, (c->p->n_disks + 1) * sizeof *n);
                if (n)
                        c->p->disks = n;
                if (!n || !pd.id || !pd.devnode || !pd.spec || (wipe && (!pd.carries || !pd.allowed_by))) {
                        free(pd.id);
                        free(pd.devnode);
                        free(pd.spec);
                        free(pd.carries);
                        free(pd.allowed_by);
                        return -ENOMEM;
                }
                c->p->disks[c->p->n_disks++] = pd;
                if (pd.mode == PLAN_DISK_IMAGE)
                        continue; /* the image carries its own partitions */
                int r = layout(c, s, d, &c->p->disks[c->p->n_disks - 1]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_data_disk_relaxing(struct ctx *c, const struct disk_spec *s) {
        struct want w = { .s = s, .count = s->count ? s->count : 1 };
        want_pins(c, &w);
        const struct disk_alias *al = w.al;
        unsigned count = w.count;

        /* On a hypervisor, class and bus are what its configuration says: Proxmox has no NVMe and
         * shows SAS as virtio-scsi. Only when the role's disk is not there as asked does an SSD
         * stand for NVMe and any bus do; size, answers and the rotational flag (ssd=1 in the VM's
         * config) still decide, so the hard disk never becomes the database disk. */
        c->virtual_relaxed = c->set->hypervisor && count_fits(c, s) < count;
        unsigned classes = w.classes = eff_classes(c, s->classes), transports = w.transports = eff_transports(c, s->transports);
        if (c->virtual_relaxed) {
                if (classes != s->classes || transports != s->transports)
                        plan_note(c, "role disk '%s': no %s disk%s%s%s here; on %s a virtual disk's class and bus are "
                                  "its configuration's, so %s on any bus will do",
                                  s->name, classes_str(c, s->classes), count == 1 ? "" : "s", s->transports ? " on " : "",
                                  s->transports ? transports_str(c, s->transports) : "", c->set->hypervisor,
                                  classes_str(c, classes));
        }

        _cleanup_free_ struct cand *elig = calloc(c->set->n_disks + 1, sizeof *elig);
        _cleanup_free_ size_t *refused = calloc(c->set->n_disks + 1, sizeof *refused);
        if (!elig || !refused)
                return -ENOMEM;
        size_t n_elig = 0, n_refused = 0, n_alias_match = 0;

        for (size_t i = 0; i < c->set->n_disks; i++) {
                int r = judge_disk(c, &w, i, &n_alias_match);
                if (r < 0)
                        return r;
                if (r == FIT_REFUSED)
                        refused[n_refused++] = i;
                else if (r == FIT_YES)
                        elig[n_elig++] = (struct cand) { .i = i, .claimed = c->claimed[i],
                                                         .explicit_clear = c->cleared_explicit[i],
                                                         .holds_data = disk_info_has_signatures(D(c, i)) && !c->claimed[i] };
        }

        if (al && al->count && n_alias_match != al->count)
                plan_error(c, "%%addon disk %s count=%u: %zu disk%s match%s", al->name, al->count, n_alias_match,
                           n_alias_match == 1 ? "" : "s", n_alias_match == 1 ? "es" : "");

        sort_set = c->set;
        qsort(elig, n_elig, sizeof *elig, cmp_cand);

        if (n_elig < count) {
                plan_error(c, "role disk '%s' needs %u %s disk%s%s%s of at least %s: %zu usable found", s->name, count,
                           classes_str(c, classes), count == 1 ? "" : "s", transports ? " on " : "",
                           transports ? transports_str(c, transports) : "", hsize(c, s->min_size), n_elig);
                for (size_t k = 0; k < n_refused; k++) {
                        size_t i = refused[k];
                        set_verdict(c, i, "refused", s->name);
                        char **r = c->p->verdicts[i].reasons;
                        plan_error(c, "%s refused: %s", D(c, i)->name, r ? r[strv_length(r) - 1] : "?");
                }
                return 0;
        }
        for (size_t k = 0; k < n_refused; k++) {
                size_t i = refused[k];
                if (!c->p->verdicts[i].state)
                        plan_note(c, "%s left alone: matches '%s' but cannot be used, and was not needed", D(c, i)->name,
                                  s->name);
        }
        if (n_elig > count)
                plan_note(c, "role disk '%s': %zu candidates for %u; chose by journal, clearpart, empty before data, by-path, serial",
                          s->name, n_elig, count);

        return take_disks(c, s, elig, n_elig, count);
}

static size_t count_fits(struct ctx *c, const struct disk_spec *s) {
        size_t n = 0;
        for (size_t i = 0; i < c->set->n_disks; i++) {
                const struct disk_info *d = D(c, i);
                if (c->in_scope[i] && !d->holds_root && (s->classes & disk_info_class(d)) &&
                    (!s->transports || (s->transports & d->transport)) && d->size >= s->min_size)
                        n++;
        }
        return n;
}

int disk_plan_build(const struct plan_input *in, struct disk_plan **ret) {
        _cleanup_(disk_plan_freep) struct disk_plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        size_t n = in->disks ? in->disks->n_disks : 0;
        static const struct disk_set empty = {};
        struct ctx c = { .in = in, .set = in->disks ?: &empty, .a = in->answers, .p = p };
        p->verdicts = calloc(n + 1, sizeof *p->verdicts);
        p->n_verdicts = n;
        c.in_scope = calloc(n + 1, sizeof(bool));
        c.taken = calloc(n + 1, sizeof(bool));
        c.claimed = calloc(n + 1, sizeof(bool));
        c.cleared = calloc(n + 1, sizeof(bool));
        c.cleared_explicit = calloc(n + 1, sizeof(bool));
        c.cleared_by = calloc(n + 1, sizeof(char *));
        c.alias_relaxed = calloc((in->answers ? in->answers->n_aliases : 0) + 1, sizeof(bool));
        int r = 0;
        if (!p->verdicts || !c.in_scope || !c.taken || !c.claimed || !c.cleared || !c.cleared_explicit ||
            !c.cleared_by || !c.alias_relaxed)
                r = -ENOMEM;

        if (r >= 0) {
                decide_scope(&c);
                const struct disk_spec *os = NULL;
                for (size_t i = 0; i < in->n_specs; i++)
                        if (in->specs[i].os && !os)
                                os = &in->specs[i];
                /* On an installed system the OS disk is the one the running root is on; the
                 * installer chooses it among the disks, with the data role disks. */
                if (!in->install)
                        r = plan_os_disk(&c, os);
                /* Most constrained role disk first, so that a greedy choice does not take the only disk
                 * another role disk could use (a 2T "ssd|hdd" before a "ssd" one). */
                size_t *order = calloc(in->n_specs + 1, sizeof *order), n_order = 0;
                if (!order && r >= 0)
                        r = -ENOMEM;
                for (size_t i = 0; r >= 0 && i < in->n_specs; i++)
                        if (!in->specs[i].os || in->install)
                                order[n_order++] = i;
                for (size_t x = 1; r >= 0 && x < n_order; x++)
                        for (size_t y = x; y > 0 && count_fits(&c, &in->specs[order[y]]) <
                                                            count_fits(&c, &in->specs[order[y - 1]]); y--) {
                                size_t t = order[y];
                                order[y] = order[y - 1];
                                order[y - 1] = t;
                        }
                for (size_t x = 0; r >= 0 && x < n_order; x++)
                        r = plan_data_disk(&c, &in->specs[order[x]]);
                free(order);
                /* pins whose mount no role disk has */
                for (size_t k = 0; r >= 0 && c.a && k < c.a->n_pins; k++) {
                        bool found = false;
                        for (size_t i = 0; i < in->n_specs; i++)
                                found = found || spec_has_mount(&in->specs[i], c.a->pins[k].mount);
                        if (!found)
                                plan_error(&c, "part %s --ondisk=%s: the role has no partition mounted there",
                                           c.a->pins[k].mount, c.a->pins[k].ondisk);
                }
                for (size_t k = 0; r >= 0 && c.a && k < c.a->n_aliases; k++) {
                        const struct disk_alias *al = &c.a->aliases[k];
                        bool used = false;
                        for (size_t i = 0; i < in->n_specs; i++)
                                used = used || streq(in->specs[i].name, al->name);
                        for (size_t i = 0; i < c.a->n_pins; i++)
                                used = used || (c.a->pins[i].ondisk[0] == '@' && streq(c.a->pins[i].ondisk + 1, al->name));
                        char **lists[] = { c.a->only_use, c.a->ignore, c.a->clear_drives };
                        for (size_t l = 0; l < ELEMENTSOF(lists); l++)
                                for (char **x = lists[l]; x && *x; x++)
                                        used = used || ((*x)[0] == '@' && streq(*x + 1, al->name));
                        if (!used)
                                plan_error(&c, "%%addon disk %s: no role disk or part --ondisk=@%s uses it", al->name,
                                           al->name);
                }
                for (size_t i = 0; r >= 0 && i < n; i++)
                        if (!p->verdicts[i].state) {
                                p->verdicts[i].state = "unused";
                                if (disk_info_has_signatures(D(&c, i)))
                                        reason(&c, i, "not used by the plan; its content is left alone");
                        }
                if (r >= 0)
                        note_unbounded_clear(&c);
        }

        free(c.in_scope);
        free(c.taken);
        free(c.claimed);
        free(c.cleared);
        free(c.cleared_explicit);
        free(c.cleared_by);
        free(c.alias_relaxed);
        strv_free(c.scratch);
        if (r < 0)
                return r;
        if (c.oom)
                return -ENOMEM;
        *ret = TAKE_PTR(p);
        return 0;
}

struct disk_plan *disk_plan_free(struct disk_plan *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n_disks; i++) {
                struct plan_disk *d = &p->disks[i];
                free(d->id);
                free(d->devnode);
                free(d->spec);
                free(d->grow_fs);
                free(d->carries);
                free(d->allowed_by);
                for (size_t k = 0; k < d->n_parts; k++) {
                        free(d->parts[k].name);
                        free(d->parts[k].mount);
                        free(d->parts[k].options);
                        free(d->parts[k].label);
                }
                free(d->parts);
        }
        free(p->disks);
        for (size_t i = 0; i < p->n_verdicts; i++) {
                free(p->verdicts[i].spec);
                strv_free(p->verdicts[i].reasons);
        }
        free(p->verdicts);
        strv_free(p->errors);
        strv_free(p->notes);
        free(p);
        return NULL;
}

void storage_answers_done(struct storage_answers *a) {
        if (!a)
                return;
        strv_free(a->only_use);
        strv_free(a->ignore);
        strv_free(a->clear_drives);
        free(a->clear_origin);
        free(a->only_use_origin);
        for (size_t i = 0; i < a->n_aliases; i++) {
                free(a->aliases[i].name);
                free(a->aliases[i].device);
        }
        free(a->aliases);
        for (size_t i = 0; i < a->n_pins; i++) {
                free(a->pins[i].mount);
                free(a->pins[i].ondisk);
        }
        free(a->pins);
        *a = (struct storage_answers) {};
}

/* ---- rendering ------------------------------------------------------------------------------------------ */

static const struct plan_disk *plan_for(const struct disk_plan *p, size_t i) {
        for (size_t k = 0; k < p->n_disks; k++)
                if (p->disks[k].disk == i)
                        return &p->disks[k];
        return NULL;
}

static const char *mode_name(enum plan_disk_mode m) {
        return m == PLAN_DISK_PARTITION ? "partition" : m == PLAN_DISK_GROW_ROOT ? "grow-root" :
               m == PLAN_DISK_IMAGE ? "image" : "keep";
}

static void table_size(struct buf *b, uint64_t v) {
        _cleanup_free_ char *s = format_size_human(v);
        buf_puts(b, s ? s : "?");
}

void disk_plan_render_table(const struct disk_plan *p, const struct disk_set *s, struct buf *b) {
        buf_printf(b, "%-10s %-10s %-5s %-6s %-24s %-12s %s\n", "DISK", "SIZE", "CLASS", "TRAN", "MODEL/SERIAL",
                   "VERDICT", "SIGNATURES");
        for (size_t i = 0; i < s->n_disks; i++) {
                const struct disk_info *d = &s->disks[i];
                const struct disk_verdict *v = &p->verdicts[i];
                _cleanup_free_ char *sz = format_size_human(d->size);
                _cleanup_free_ char *ms = strprintf("%s%s%s", strempty(d->model), d->model && d->serial ? "/" : "",
                                                    strempty(d->serial));
                _cleanup_free_ char *sig = disk_info_signature_summary(d);
                _cleanup_free_ char *vs = v->spec ? strprintf("%s:%s", v->state, v->spec) : strdup(strna(v->state));
                buf_printf(b, "%-10s %-10s %-5s %-6s %-24s %-12s %s\n", d->name, strna(sz),
                           disk_class_name(disk_info_class(d)), transport_name(d->transport),
                           ms && *ms ? ms : "-", strna(vs), strna(sig));
                for (char **r = v->reasons; r && *r; r++)
                        buf_printf(b, "    why: %s\n", *r);
                const struct plan_disk *pd = plan_for(p, i);
                if (!pd)
                        continue;
                if (pd->mode == PLAN_DISK_GROW_ROOT) {
                        buf_printf(b, "    do:  grow partition %u to ", pd->grow_partno);
                        table_size(b, pd->grow_to);
                        buf_printf(b, ", then %s\n", streq(pd->grow_fs, "xfs") ? "xfs_growfs" : "resize2fs");
                }
                if (pd->wipe)
                        buf_printf(b, "    do:  %s what it carries (%s): allowed by %s\n",
                                   pd->mode == PLAN_DISK_IMAGE ? "overwrite" : "wipe every signature (both ends) of",
                                   strna(pd->carries), strna(pd->allowed_by));
                if (pd->mode == PLAN_DISK_IMAGE)
                        buf_puts(b, "    do:  write the role's image over the whole disk (install)\n");
                if (pd->mode != PLAN_DISK_PARTITION)
                        continue;
                if (pd->resume)
                        buf_puts(b, "    do:  resume the journalled steps\n");
                buf_puts(b, "    do:  new GPT label\n");
                for (size_t k = 0; k < pd->n_parts; k++) {
                        const struct plan_part *pp = &pd->parts[k];
                        buf_printf(b, "    do:  part %u %-10s %-9s at %" PRIu64 " MiB, ", pp->number, pp->name,
                                   plan_part_type_name(pp->type), pp->start / MiB);
                        table_size(b, pp->size);
                        if (pp->fs != FS_NONE)
                                buf_printf(b, ", mkfs.%s", plan_fs_name(pp->fs));
                        if (pp->mount)
                                buf_printf(b, ", mount %s (%s)", pp->mount, pp->options);
                        buf_putc(b, '\n');
                }
        }
        for (char **n = p->notes; n && *n; n++)
                buf_printf(b, "note: %s\n", *n);
        for (char **e = p->errors; e && *e; e++)
                buf_printf(b, "error: %s\n", *e);
        buf_printf(b, "%s\n", disk_plan_ok(p) ? "plan: ok" : "plan: REFUSED, nothing will be written");
}

static void json_strv(struct json *j, const char *key, char **l) {
        json_key(j, key);
        json_begin_array(j);
        for (char **s = l; s && *s; s++)
                json_string(j, *s);
        json_end_array(j);
}

/* What the probe saw of one disk. */
static void json_disk_info(struct json *jp, const struct disk_info *d, const char *id) {
        json_kv_string(jp, "name", d->name);
        json_kv_string(jp, "devnode", d->devnode);
        json_kv_string(jp, "id", id);
        json_kv_uint(jp, "size", d->size);
        json_kv_uint(jp, "logical_sector_size", d->logical_sector_size);
        json_kv_uint(jp, "physical_sector_size", d->physical_sector_size);
        json_kv_bool(jp, "rotational", d->rotational);
        json_kv_bool(jp, "removable", d->removable);
        json_kv_string(jp, "transport", transport_name(d->transport));
        json_kv_string(jp, "class", disk_class_name(disk_info_class(d)));
        json_kv_string(jp, "model", d->model);
        json_kv_string(jp, "serial", d->serial);
        json_kv_string(jp, "wwn", d->wwn);
        json_strv(jp, "by_id", d->by_id);
        json_strv(jp, "by_path", d->by_path);
        json_kv_bool(jp, "boot_medium", d->boot_medium);
        json_kv_bool(jp, "holds_root", d->holds_root);
        json_strv(jp, "busy", d->busy);
        json_kv_string(jp, "pttype", d->pttype);
        json_kv_string(jp, "ptuuid", d->ptuuid);
        json_kv_bool(jp, "pt_damaged", d->pt_damaged);
        json_key(jp, "signatures");
        json_begin_array(jp);
        for (size_t k = 0; k < d->n_sigs; k++) {
                const struct disk_signature *g = &d->sigs[k];
                json_begin_object(jp);
                json_kv_string(jp, "type", g->type);
                json_kv_string(jp, "usage", g->usage);
                json_kv_uint(jp, "offset", g->offset);
                json_kv_string(jp, "uuid", g->uuid);
                json_kv_string(jp, "label", g->label);
                json_kv_string(jp, "where", g->where);
                json_end_object(jp);
        }
        json_end_array(jp);
}

/* The plan's actions on one disk (pd NULL: none). */
static void json_disk_actions(struct json *jp, const struct plan_disk *pd) {
        if (pd && pd->mode == PLAN_DISK_GROW_ROOT) {
                json_begin_object(jp);
                json_kv_string(jp, "action", "grow-partition");
                json_kv_uint(jp, "number", pd->grow_partno);
                json_kv_uint(jp, "from", pd->grow_from);
                json_kv_uint(jp, "to", pd->grow_to);
                json_end_object(jp);
                json_begin_object(jp);
                json_kv_string(jp, "action", "grow-filesystem");
                json_kv_string(jp, "fs", pd->grow_fs);
                json_end_object(jp);
        }
        if (pd && pd->wipe) {
                json_begin_object(jp);
                json_kv_string(jp, "action", "wipe");
                json_kv_string(jp, "carries", pd->carries);
                json_kv_string(jp, "allowed_by", pd->allowed_by);
                json_end_object(jp);
        }
        if (pd && pd->mode == PLAN_DISK_IMAGE) {
                json_begin_object(jp);
                json_kv_string(jp, "action", "image");
                json_end_object(jp);
        }
        if (pd && pd->mode == PLAN_DISK_PARTITION) {
                json_begin_object(jp);
                json_kv_string(jp, "action", "label");
                json_kv_string(jp, "type", "gpt");
                json_end_object(jp);
                for (size_t k = 0; k < pd->n_parts; k++) {
                        const struct plan_part *pp = &pd->parts[k];
                        json_begin_object(jp);
                        json_kv_string(jp, "action", "partition");
                        json_kv_uint(jp, "number", pp->number);
                        json_kv_string(jp, "name", pp->name);
                        json_kv_string(jp, "type", plan_part_type_name(pp->type));
                        json_kv_string(jp, "type_guid", pp->type_guid);
                        json_kv_uint(jp, "start", pp->start);
                        json_kv_uint(jp, "size", pp->size);
                        json_kv_string(jp, "fs", plan_fs_name(pp->fs));
                        json_kv_string(jp, "label", pp->label);
                        json_kv_string(jp, "mount", pp->mount);
                        json_kv_string(jp, "options", pp->options);
                        json_end_object(jp);
                }
        }
}

void disk_plan_render_json(const struct disk_plan *p, const struct disk_set *s, struct buf *out) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_bool(&j, "ok", disk_plan_ok(p));
        json_strv(&j, "errors", p->errors);
        json_strv(&j, "notes", p->notes);
        json_key(&j, "disks");
        json_begin_array(&j);
        for (size_t i = 0; i < s->n_disks; i++) {
                const struct disk_verdict *v = &p->verdicts[i];
                _cleanup_free_ char *id = disk_info_id(&s->disks[i]);
                json_begin_object(&j);
                json_disk_info(&j, &s->disks[i], id);
                json_kv_string(&j, "verdict", v->state);
                json_kv_string(&j, "spec", v->spec);
                json_strv(&j, "reasons", v->reasons);
                json_key(&j, "actions");
                json_begin_array(&j);
                const struct plan_disk *pd = plan_for(p, i);
                json_disk_actions(&j, pd);
                json_end_array(&j);
                json_kv_string(&j, "mode", pd ? mode_name(pd->mode) : NULL);
                json_end_object(&j);
        }
        json_end_array(&j);
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        _cleanup_free_ char *txt = buf_steal(&j.out);
        buf_puts(out, txt ? txt : "");
}
