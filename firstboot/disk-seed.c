/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "disk-seed.h"

struct seed_disk {
        const char *role, *name;
        unsigned classes, transports;
        uint64_t min_size;
        const char *mount, *options;
};

#define SSD DISK_CLASS_SSD
#define HDD DISK_CLASS_HDD
#define NVME DISK_CLASS_NVME

static const struct seed_disk seed[] = {
        { "id", "data", SSD, 0, 100 * GiB, "/var/lib/dirsrv", NULL },
        { "db", "database", NVME, 0, 500 * GiB, "/var/lib/postgresql", "noatime" },
        { "db", "backups", HDD, TRANSPORT_SAS | TRANSPORT_SATA, 1 * TiB, "/var/backups", NULL },
        { "app", "nextcloud", SSD | HDD, 0, 2 * TiB, "/srv/nextcloud", NULL },
        { "app", "appdata", SSD, 0, 200 * GiB, "/srv/apps", NULL },
        { "comm", "mail", SSD, 0, 500 * GiB, "/var/vmail", NULL },
        { "comm", "attachments", HDD, TRANSPORT_SAS, 500 * GiB, "/srv/attachments", NULL },
        { "voip", "recordings", HDD, TRANSPORT_SAS, 500 * GiB, "/var/spool/asterisk/monitor", NULL },
        { "biz", "appdata", SSD, 0, 300 * GiB, "/srv/apps", NULL },
        { "biz", "documents", HDD, TRANSPORT_SAS, 1 * TiB, "/srv/documents", NULL },
        { "erp", "appdata", SSD, 0, 200 * GiB, "/var/lib/odoo", NULL },
        { "erp", "attachments", HDD, TRANSPORT_SAS, 500 * GiB, "/srv/attachments", NULL },
        { "it", "appdata", SSD, 0, 200 * GiB, "/srv/apps", NULL },
        { "infra", "logs", HDD, TRANSPORT_SAS, 500 * GiB, "/var/lib/graylog", NULL },
        { "infra", "backups", HDD, TRANSPORT_SAS, 2 * TiB, "/srv/backups", NULL },
};

static const char *const roles[] = { "id", "db", "app", "comm", "voip", "biz", "erp", "it", "infra" };

static int set_part(struct partition_spec *p, const char *name, enum part_type type, uint64_t size, bool grow,
                    enum fs_type fs, const char *mount, const char *options) {
        *p = (struct partition_spec) {
                .name = strdup(name), .type = type, .size = size, .grow = grow, .fs = fs,
                .mount = mount ? strdup(mount) : NULL, .options = options ? strdup(options) : NULL,
        };
        if (!p->name || (mount && !p->mount) || (options && !p->options))
                return -ENOMEM;
        return 0;
}

int seed_disk_specs(const char *role, struct disk_spec **ret, size_t *ret_n) {
        bool known = false;
        for (size_t i = 0; i < ELEMENTSOF(roles); i++)
                known = known || streq(roles[i], role);
        if (!known)
                return -ENOENT;

        size_t n = 1;
        for (size_t i = 0; i < ELEMENTSOF(seed); i++)
                n += streq(seed[i].role, role);
        struct disk_spec *specs = calloc(n, sizeof *specs);
        if (!specs)
                return -ENOMEM;

        /* base.yaml: the OS disk, root last so it can grow */
        struct disk_spec *os = &specs[0];
        *os = (struct disk_spec) { .name = strdup("os"), .classes = SSD, .min_size = 50 * GiB, .count = 1, .os = true };
        os->parts = calloc(3, sizeof *os->parts);
        int r = (!os->name || !os->parts) ? -ENOMEM : 0;
        if (r >= 0) {
                os->n_parts = 3;
                r = set_part(&os->parts[0], "esp", PART_ESP, 512 * MiB, false, FS_VFAT, "/boot/efi", "umask=0077");
        }
        if (r >= 0)
                r = set_part(&os->parts[1], "bios-boot", PART_BIOS_BOOT, 1 * MiB, false, FS_NONE, NULL, NULL);
        if (r >= 0)
                r = set_part(&os->parts[2], "root", PART_ROOT, 0, true, FS_EXT4, "/", NULL);

        size_t k = 1;
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(seed); i++) {
                if (!streq(seed[i].role, role))
                        continue;
                struct disk_spec *s = &specs[k++];
                *s = (struct disk_spec) {
                        .name = strdup(seed[i].name), .classes = seed[i].classes, .transports = seed[i].transports,
                        .min_size = seed[i].min_size, .count = 1, .parts = calloc(1, sizeof(struct partition_spec)),
                };
                if (!s->name || !s->parts) {
                        r = -ENOMEM;
                        break;
                }
                s->n_parts = 1;
                r = set_part(&s->parts[0], seed[i].name, PART_LINUX, 0, true, FS_XFS, seed[i].mount, seed[i].options);
        }
        if (r < 0) {
                disk_specs_free(specs, n);
                return r;
        }
        *ret = specs;
        *ret_n = n;
        return 0;
}

void disk_specs_free(struct disk_spec *specs, size_t n) {
        for (size_t i = 0; specs && i < n; i++) {
                for (size_t k = 0; k < specs[i].n_parts; k++) {
                        free(specs[i].parts[k].name);
                        free(specs[i].parts[k].mount);
                        free(specs[i].parts[k].options);
                        free(specs[i].parts[k].label);
                }
                free(specs[i].parts);
                free(specs[i].name);
        }
        free(specs);
}
