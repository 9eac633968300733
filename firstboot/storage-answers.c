/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "storage-answers.h"
#include "util.h"

static int copy_strv(char **from, char ***to) {
        if (!from)
                return 0;
        *to = strv_copy(from);
        return *to ? 0 : -ENOMEM;
}

int storage_answers_from_ks(const struct ks *ks, struct storage_answers *ret) {
        _cleanup_(storage_answers_done) struct storage_answers a = {};
        int r = copy_strv(ks->ignoredisk.only_use, &a.only_use);
        if (r >= 0)
                r = copy_strv(ks->ignoredisk.drives, &a.ignore);
        if (r >= 0)
                r = copy_strv(ks->clearpart.drives, &a.clear_drives);
        if (r < 0)
                return r;
        a.clear_all = ks->clearpart.mode == KS_CLEARPART_ALL;
        /* where the lines that let a disk be written are, for the plan's "allowed by" */
        const struct src *cs = ks_given(ks->clearpart.drives_src) ? &ks->clearpart.drives_src :
                               ks_given(ks->clearpart.mode_src) ? &ks->clearpart.mode_src : &ks->clearpart.src;
        if (ks_given(*cs) && !(a.clear_origin = strprintf("%s:%u", strna(cs->file), cs->line)))
                return -ENOMEM;
        const struct src *os = ks_given(ks->ignoredisk.only_use_src) ? &ks->ignoredisk.only_use_src : &ks->ignoredisk.src;
        if (ks_given(*os) && !(a.only_use_origin = strprintf("%s:%u", strna(os->file), os->line)))
                return -ENOMEM;

        if (ks->addon.n_disks) {
                a.aliases = calloc(ks->addon.n_disks, sizeof *a.aliases);
                if (!a.aliases)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < ks->addon.n_disks; i++) {
                const struct ks_disk *kd = &ks->addon.disks[i];
                struct disk_alias *al = &a.aliases[a.n_aliases++];
                *al = (struct disk_alias) {
                        .name = strdup(kd->name),
                        .classes = kd->classes,
                        .transports = kd->transports,
                        .count = kd->count,
                        .expect_empty = kd->expect == KS_DISK_EXPECT_EMPTY,
                };
                if (!al->name)
                        return -ENOMEM;
                if (kd->min_size && kd->min_size == kd->max_size) {
                        al->size_op = SIZE_OP_EQ;
                        al->size = kd->min_size;
                } else {
                        if (kd->min_size) {
                                al->size_op = SIZE_OP_GE;
                                al->size = kd->min_size;
                        }
                        al->size_max = kd->max_size;
                }
        }

        for (size_t i = 0; i < ks->n_parts; i++) {
                const struct ks_part *p = &ks->parts[i];
                if (p->kind != KS_PART_MOUNT || !p->mount || !p->ondisk)
                        continue;
                struct part_pin *n = realloc(a.pins, (a.n_pins + 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                a.pins = n;
                a.pins[a.n_pins] = (struct part_pin) { .mount = strdup(p->mount), .ondisk = strdup(p->ondisk) };
                a.n_pins++;
                if (!a.pins[a.n_pins - 1].mount || !a.pins[a.n_pins - 1].ondisk)
                        return -ENOMEM;
        }
        *ret = a;
        a = (struct storage_answers) {};
        return 0;
}

static int set_origin(char **to, const char *origin) {
        char *s = strdup(origin);
        if (!s)
                return -ENOMEM;
        free(*to);
        *to = s;
        return 0;
}

int storage_answers_override(struct storage_answers *a, char **only_use, const char *only_use_origin, char **clear,
                             bool clear_all, const char *clear_origin) {
        if (only_use) {
                char **l = strv_copy(only_use);
                if (!l || set_origin(&a->only_use_origin, only_use_origin) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
                strv_free(a->only_use);
                a->only_use = l;
        }
        if (clear) {
                char **l = strv_copy(clear);
                if (!l || set_origin(&a->clear_origin, clear_origin) < 0) {
                        strv_free(l);
                        return -ENOMEM;
                }
                strv_free(a->clear_drives);
                a->clear_drives = l;
        }
        if (clear_all) {
                a->clear_all = true;
                if (!clear && set_origin(&a->clear_origin, "--clear-all") < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* The kickstart's `part` lines refine the role's partitions they name by mount point: the
 * filesystem label, mount options and filesystem type. A mount point the role does not lay out
 * is an error: firstboot lays out what the role says, the answers only pin and refine it. */
int storage_apply_ks_parts(const struct ks *ks, struct disk_spec *specs, size_t n_specs, struct diags *d) {
        int ret = 0;
        for (size_t i = 0; i < ks->n_parts; i++) {
                const struct ks_part *kp = &ks->parts[i];
                if (kp->kind != KS_PART_MOUNT || !kp->mount)
                        continue;
                struct partition_spec *ps = NULL;
                for (size_t k = 0; k < n_specs && !ps; k++)
                        for (size_t j = 0; j < specs[k].n_parts; j++)
                                if (specs[k].parts[j].mount && streq(specs[k].parts[j].mount, kp->mount)) {
                                        ps = &specs[k].parts[j];
                                        break;
                                }
                if (!ps) {
                        diag_error(d, kp->mount_src.file, kp->mount_src.line, kp->mount_src.col,
                                   "the role lays out no partition mounted at '%s'", kp->mount);
                        ret = -EINVAL;
                        continue;
                }
                if (kp->label) {
                        char *l = strdup(kp->label);
                        if (!l)
                                return -ENOMEM;
                        free(ps->label);
                        ps->label = l;
                }
                if (kp->fsoptions) {
                        char *o = strdup(kp->fsoptions);
                        if (!o)
                                return -ENOMEM;
                        free(ps->options);
                        ps->options = o;
                }
                if (kp->fstype == KS_FSTYPE_XFS)
                        ps->fs = FS_XFS;
                else if (kp->fstype == KS_FSTYPE_EXT4)
                        ps->fs = FS_EXT4;
        }
        return ret;
}
