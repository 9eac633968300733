/* SPDX-License-Identifier: MIT */
/* A kickstart is one host's answers: it must parse, agree with the site (names, addresses, role),
 * and its data partitions must be the ones its role's profile lays out. */
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "kickstart.h"
#include "util.h"
#include "validate-ks.h"

static const struct partition_spec *profile_find_mount(const struct profile *p, const char *mount,
                                                       const struct disk_spec **ret_disk) {
        for (size_t i = 0; i < p->n_disks; i++)
                for (size_t j = 0; j < p->disks[i].n_parts; j++)
                        if (p->disks[i].parts[j].mount && streq(p->disks[i].parts[j].mount, mount)) {
                                *ret_disk = &p->disks[i];
                                return &p->disks[i].parts[j];
                        }
        return NULL;
}

static void check_against_profile(const struct ks *ks, const struct profile *p, struct diags *d) {
        for (size_t i = 0; i < ks->n_parts; i++) {
                const struct ks_part *part = &ks->parts[i];
                if (!part->mount || part->mount[0] != '/')
                        continue;
                const struct disk_spec *disk = NULL;
                if (!profile_find_mount(p, part->mount, &disk)) {
                        diag_error(d, part->mount_src.file, part->mount_src.line, part->mount_src.col,
                                   "role '%s' has no partition mounted at '%s'", p->role, part->mount);
                        continue;
                }
                const char *alias = ks_part_disk_alias(part);
                if (alias && !streq(alias, disk->name))
                        diag_error(d, part->ondisk_src.file, part->ondisk_src.line, part->ondisk_src.col,
                                   "'%s' lives on role '%s''s disk '%s', not '@%s'", part->mount, p->role, disk->name,
                                   alias);
        }
        for (size_t i = 0; i < ks->addon.n_disks; i++) {
                const struct ks_disk *kd = &ks->addon.disks[i];
                bool known = false;
                for (size_t j = 0; j < p->n_disks; j++)
                        known = known || streq(p->disks[j].name, kd->name);
                if (!known)
                        diag_error(d, kd->src.file, kd->src.line, kd->src.col, "role '%s' has no disk named '%s'",
                                   p->role, kd->name);
        }
}

void validate_kickstart(const char *path, const struct site *site, struct diags *d) {
        _cleanup_(ks_freep) struct ks *ks = NULL;
        if (ks_load_file(path, d, &ks) < 0)
                return;
        if (site)
                ks_check_site(ks, site, d);
        if (!ks->addon.role)
                return;
        _cleanup_free_ char *dir = profiles_dir(NULL);
        _cleanup_(profile_freep) struct profile *p = NULL;
        if (dir && profile_load(dir, ks->addon.role, d, &p) >= 0)
                check_against_profile(ks, p, d);
}
