/* SPDX-License-Identifier: MIT */
/* The storage planner over tables of probed disk sets: the nine roles of the seed, and the cases
 * that go wrong (missing, too small, two candidates, NVMe namespaces, 4Kn, identical disks without
 * serials, signatures, clearpart, the boot medium, busy disks, the journal, answers' pins). */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "cleanup.h"
#include "disk-plan.h"
#include "profile.h"
#include "disk-probe.h"
#include "fileio.h"

#define STRV(...) ((char **) (const char *[]) { __VA_ARGS__, NULL })

/* ---- building probed disks by hand --------------------------------------------------------------- */

struct fake {
        const char *name;
        uint64_t size;
        unsigned cls;       /* DISK_CLASS_* */
        unsigned transport;
        const char *serial, *wwn, *by_path;
        uint32_t lss;
        const char *sigs;   /* comma-separated signature types on the raw disk, NULL for none */
        bool root, boot, busy;
};

static void add_disk(struct disk_set *s, const struct fake *f) {
        s->disks = realloc(s->disks, (s->n_disks + 1) * sizeof *s->disks);
        assert_non_null(s->disks);
        struct disk_info *d = &s->disks[s->n_disks++];
        *d = (struct disk_info) {
                .name = strdup(f->name),
                .devnode = strprintf("/dev/%s", f->name),
                .size = f->size,
                .logical_sector_size = f->lss ?: 512,
                .physical_sector_size = f->lss ?: 512,
                .rotational = f->cls == DISK_CLASS_HDD,
                .transport = f->cls == DISK_CLASS_NVME ? TRANSPORT_NVME : f->transport,
                .serial = f->serial ? strdup(f->serial) : NULL,
                .wwn = f->wwn ? strdup(f->wwn) : NULL,
                .boot_medium = f->boot || f->root,
                .holds_root = f->root,
        };
        if (f->by_path) {
                char *bp = strprintf("/dev/disk/by-path/%s", f->by_path);
                assert_int_equal(strv_push(&d->by_path, bp), 0);
        }
        if (f->busy)
                assert_int_equal(strv_extend(&d->busy, "sdz1 mounted at /mnt"), 0);
        if (f->sigs) {
                _cleanup_strv_free_ char **l = NULL;
                assert_int_equal(strv_split(f->sigs, ",", &l), 0);
                for (char **t = l; *t; t++) {
                        d->sigs = realloc(d->sigs, (d->n_sigs + 1) * sizeof *d->sigs);
                        bool end = startswith(*t, "@end:");
                        d->sigs[d->n_sigs++] = (struct disk_signature) {
                                .type = strdup(end ? *t + 5 : *t), .usage = strdup("other"),
                                .offset = end ? f->size - 8192 : 0,
                        };
                        if (streq(*t, "gpt") && !d->pttype) {
                                d->pttype = strdup("gpt");
                                d->ptuuid = strdup("11111111-2222-3333-4444-555555555555");
                        }
                }
        }
        if (f->root) {
                /* an image written to the disk: ESP, BIOS boot, root (2 GiB), rest free */
                d->pttype = d->pttype ?: strdup("gpt");
                d->root_partno = 3;
                d->root_fstype = strdup("ext4");
                d->parts = calloc(3, sizeof *d->parts);
                d->n_parts = 3;
                d->parts[0] = (struct disk_part) { .number = 1, .start = 1 * MiB, .size = 512 * MiB };
                d->parts[1] = (struct disk_part) { .number = 2, .start = 513 * MiB, .size = 1 * MiB };
                d->parts[2] = (struct disk_part) { .number = 3, .start = 514 * MiB, .size = 2 * GiB };
                d->sigs = realloc(d->sigs, (d->n_sigs + 1) * sizeof *d->sigs);
                d->sigs[d->n_sigs++] = (struct disk_signature) { .type = strdup("gpt"), .usage = strdup("partition_table") };
        }
}

static struct disk_set *make_set(const struct fake *f, size_t n) {
        struct disk_set *s = calloc(1, sizeof *s);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
                add_disk(s, &f[i]);
        return s;
}

#define OSDISK { "sda", 240 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "OS-1", "0x5000c500000000a1", \
                 "pci-0000:00:1f.2-ata-1", 0, NULL, true }

struct result {
        struct disk_set *set;
        struct profile *prof;
        struct disk_spec *specs; /* the profile's */
        size_t n_specs;
        struct disk_plan *plan;
};

static void result_done(struct result *r) {
        disk_plan_free(r->plan);
        disk_set_free(r->set);
        profile_free(r->prof);
}

/* The role's disks as profiles/ROLE.yaml lays them out (the tests run from the top directory). */
static void load_role(struct result *res, const char *role) {
        struct diags d = {};
        int r = profile_load("profiles", role, &d, &res->prof);
        diags_print(&d, stderr);
        diags_done(&d);
        assert_int_equal(r, 0);
        res->specs = res->prof->disks;
        res->n_specs = res->prof->n_disks;
}

static void plan_role(struct result *res, const char *role, const struct fake *f, size_t n,
                      const struct storage_answers *a, const struct storage_claim *claims, size_t n_claims) {
        *res = (struct result) { .set = make_set(f, n) };
        load_role(res, role);
        struct plan_input in = {
                .specs = res->specs, .n_specs = res->n_specs, .answers = a, .disks = res->set,
                .claims = claims, .n_claims = n_claims,
        };
        assert_int_equal(disk_plan_build(&in, &res->plan), 0);
}

static ssize_t disk_index(const struct disk_set *s, const char *name) {
        for (size_t i = 0; i < s->n_disks; i++)
                if (streq(s->disks[i].name, name))
                        return (ssize_t) i;
        return -1;
}

static const struct plan_disk *planned(const struct result *r, const char *name) {
        ssize_t i = disk_index(r->set, name);
        for (size_t k = 0; i >= 0 && k < r->plan->n_disks; k++)
                if (r->plan->disks[k].disk == (size_t) i)
                        return &r->plan->disks[k];
        return NULL;
}

static const char *verdict(const struct result *r, const char *name) {
        ssize_t i = disk_index(r->set, name);
        assert_true(i >= 0);
        return r->plan->verdicts[i].state;
}

static bool strv_has_substr(char **l, const char *sub) {
        for (char **s = l; s && *s; s++)
                if (strstr(*s, sub))
                        return true;
        return false;
}

static bool reasons_have(const struct result *r, const char *name, const char *sub) {
        ssize_t i = disk_index(r->set, name);
        assert_true(i >= 0);
        return strv_has_substr(r->plan->verdicts[i].reasons, sub);
}

static void dump(const struct result *r) {
        struct buf b = {};
        disk_plan_render_table(r->plan, r->set, &b);
        _cleanup_free_ char *t = buf_steal(&b);
        fputs(t ? t : "", stderr); /* print_message() cuts long text */
}

/* ---- the nine roles ------------------------------------------------------------------------------ */

struct role_case {
        const char *role;
        struct fake disks[6];
        size_t n;
        /* expected: kernel name -> role disk */
        const char *expect[4][2];
};

static const struct role_case roles[] = {
        { "id", { OSDISK, { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "ID-D", NULL, "pci-0000:00:1f.2-ata-2" } },
          2, { { "sdb", "data" } } },
        { "db",
          { OSDISK,
            { "nvme0n1", 800 * GiB, DISK_CLASS_NVME, 0, "NV1", "eui.0011", "pci-0000:00:02.0-nvme-1" },
            { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "BK1", "0x5000c500000000b1", "pci-0000:00:06.0-sas-phy0-lun-0" },
            /* a SATA SSD must not be taken for either */
            { "sdc", 1 * TiB, DISK_CLASS_SSD, TRANSPORT_SATA, "SSD9", NULL, "pci-0000:00:1f.2-ata-3" } },
          4, { { "nvme0n1", "database" }, { "sdb", "backups" } } },
        { "app",
          { OSDISK,
            { "sdb", 2200 * GiB, DISK_CLASS_HDD, TRANSPORT_SATA, "NC1", NULL, "pci-0000:00:1f.2-ata-2" },
            { "sdc", 250 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "AP1", NULL, "pci-0000:00:1f.2-ata-3" } },
          3, { { "sdb", "nextcloud" }, { "sdc", "appdata" } } },
        { "comm",
          { OSDISK,
            { "sdb", 600 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "ML1", NULL, "pci-0000:00:1f.2-ata-2" },
            { "sdc", 600 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "AT1", NULL, "pci-0000:00:06.0-sas-phy0-lun-0" } },
          3, { { "sdb", "mail" }, { "sdc", "attachments" } } },
        { "voip",
          { OSDISK,
            /* a SATA HDD does not do for "hdd on sas" */
            { "sdb", 1 * TiB, DISK_CLASS_HDD, TRANSPORT_SATA, "REC0", NULL, "pci-0000:00:1f.2-ata-2" },
            { "sdc", 600 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "REC1", NULL, "pci-0000:00:06.0-sas-phy0-lun-0" } },
          3, { { "sdc", "recordings" } } },
        { "biz",
          { OSDISK,
            { "sdb", 400 * GiB, DISK_CLASS_SSD, TRANSPORT_SAS, "AP2", NULL, "pci-0000:00:06.0-sas-phy1-lun-0" },
            { "sdc", 1200 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "DOC", NULL, "pci-0000:00:06.0-sas-phy0-lun-0" } },
          3, { { "sdb", "appdata" }, { "sdc", "documents" } } },
        { "erp",
          { OSDISK,
            { "sdb", 256 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "OD1", NULL, "pci-0000:00:1f.2-ata-2" },
            { "sdc", 512 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "AT2", NULL, "pci-0000:00:06.0-sas-phy0-lun-0" } },
          3, { { "sdb", "appdata" }, { "sdc", "attachments" } } },
        { "it", { OSDISK, { "vdb", 200 * GiB, DISK_CLASS_SSD, TRANSPORT_VIRTIO, "IT1", NULL, "pci-0000:00:08.0" } },
          2, { { "vdb", "appdata" } } },
        { "infra",
          { OSDISK,
            { "sdb", 3 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "BK2", NULL, "pci-0000:00:06.0-sas-phy1-lun-0" },
            { "sdc", 600 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "LG1", NULL, "pci-0000:00:06.0-sas-phy0-lun-0" } },
          3, { { "sdc", "logs" }, { "sdb", "backups" } } },
};

static void test_nine_roles(void **state) {
        for (size_t t = 0; t < ELEMENTSOF(roles); t++) {
                const struct role_case *rc = &roles[t];
                struct result r;
                plan_role(&r, rc->role, rc->disks, rc->n, NULL, NULL, 0);
                if (!disk_plan_ok(r.plan))
                        dump(&r);
                assert_true(disk_plan_ok(r.plan));

                /* the OS disk: never repartitioned, root grown to the end */
                const struct plan_disk *os = planned(&r, "sda");
                assert_non_null(os);
                assert_int_equal(os->mode, PLAN_DISK_GROW_ROOT);
                assert_int_equal(os->grow_partno, 3);
                assert_int_equal(os->grow_to, plan_usable_end(240 * GiB, 512) - 514 * MiB);
                assert_string_equal(verdict(&r, "sda"), "os");

                size_t n_expect = 0;
                for (size_t k = 0; k < 4 && rc->expect[k][0]; k++, n_expect++) {
                        const struct plan_disk *pd = planned(&r, rc->expect[k][0]);
                        if (!pd)
                                print_message("role %s: %s not planned\n", rc->role, rc->expect[k][0]);
                        assert_non_null(pd);
                        assert_string_equal(pd->spec, rc->expect[k][1]);
                        assert_int_equal(pd->mode, PLAN_DISK_PARTITION);
                        assert_false(pd->wipe);
                        assert_int_equal(pd->n_parts, 1);
                        const struct plan_part *pp = &pd->parts[0];
                        assert_int_equal(pp->number, 1);
                        assert_int_equal(pp->start, 1 * MiB);
                        assert_int_equal(pp->start + pp->size, plan_usable_end(pd->size, 512));
                        assert_int_equal(pp->fs, FS_XFS);
                        assert_non_null(pp->mount);
                        assert_string_equal(pp->type_guid, "0FC63DAF-8483-4772-8E79-3D69D8477DE4");
                        assert_string_equal(verdict(&r, rc->expect[k][0]), "chosen");
                }
                assert_int_equal(r.plan->n_disks, n_expect + 1);
                result_done(&r);
        }
}

static void test_db_mount_options(void **state) {
        struct result r;
        plan_role(&r, "db", roles[1].disks, roles[1].n, NULL, NULL, 0);
        const struct plan_disk *pd = planned(&r, "nvme0n1");
        assert_non_null(pd);
        assert_string_equal(pd->parts[0].mount, "/var/lib/postgresql");
        assert_string_equal(pd->parts[0].options, "noatime");
        /* the backups disk as profiles/db.yaml lays it out (the seed's copy in code had drifted to
         * /var/backups) */
        const struct plan_disk *bk = NULL;
        for (size_t i = 0; i < r.plan->n_disks; i++)
                if (streq(r.plan->disks[i].spec, "backups"))
                        bk = &r.plan->disks[i];
        assert_non_null(bk);
        assert_string_equal(bk->parts[0].mount, "/var/backups/postgresql");
        assert_string_equal(bk->parts[0].name, "backups");
        /* the SATA SSD was considered and turned down, with the reason */
        assert_true(reasons_have(&r, "sdc", "not 'database': it is ssd"));
        assert_true(reasons_have(&r, "sdc", "not 'backups': it is ssd"));
        assert_string_equal(verdict(&r, "sdc"), "unused");
        result_done(&r);
}

/* ---- what goes wrong ----------------------------------------------------------------------------- */

static void test_missing_disk(void **state) {
        const struct fake f[] = { OSDISK, { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "BK1" } };
        struct result r;
        plan_role(&r, "db", f, 2, NULL, NULL, 0);
        assert_false(disk_plan_ok(&*r.plan));
        assert_true(strv_has_substr(r.plan->errors, "role disk 'database' needs 1 nvme disk"));
        assert_true(strv_has_substr(r.plan->errors, "0 usable found"));
        result_done(&r);
}

/* A Proxmox VM of the db role, as import.sh makes it: the OS and database disks virtio-scsi with
 * ssd=1 (Proxmox has no NVMe), the backups disk a rotational SATA disk. */
static void plan_on(struct result *res, const char *role, const struct fake *f, size_t n, const char *hypervisor) {
        *res = (struct result) { .set = make_set(f, n) };
        res->set->hypervisor = hypervisor ? strdup(hypervisor) : NULL;
        load_role(res, role);
        struct plan_input in = { .specs = res->specs, .n_specs = res->n_specs, .disks = res->set };
        assert_int_equal(disk_plan_build(&in, &res->plan), 0);
}

static void test_virtual_machine(void **state) {
        const struct fake vm[] = {
                { "sda", 50 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi0", NULL, NULL, 0, NULL, true },
                { "sdb", 500 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi1" },
                { "sdc", 1 * TiB, DISK_CLASS_HDD, TRANSPORT_SATA, "drive-sata0" },
        };
        struct result r;
        /* bare metal with these disks: no NVMe, refused */
        plan_on(&r, "db", vm, 3, NULL);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "role disk 'database' needs 1 nvme disk on nvme of at least 500 GiB"));
        result_done(&r);

        /* the same disks under a hypervisor: the SSD stands for NVMe, on any bus; the hard disk
         * (bigger, and first by name) is still not the database disk */
        plan_on(&r, "db", vm, 3, "QEMU");
        if (!disk_plan_ok(r.plan))
                dump(&r);
        assert_true(disk_plan_ok(r.plan));
        assert_string_equal(planned(&r, "sdb")->spec, "database");
        assert_string_equal(planned(&r, "sdc")->spec, "backups");
        assert_true(strv_has_substr(r.plan->notes, "role disk 'database': no nvme disk on nvme here; on QEMU"));
        assert_true(reasons_have(&r, "sdc", "not 'database': it is hdd, 'database' asks for ssd|nvme"));
        result_done(&r);

        /* the kickstart's %addon alias (lab-db1.ks: disk database class=nvme ... count=1) is a
         * physical host's answer too: relaxed alike */
        struct storage_answers a = {};
        struct disk_alias al = { .name = (char *) "database", .classes = DISK_CLASS_NVME, .count = 1 };
        a.aliases = &al;
        a.n_aliases = 1;
        r = (struct result) { .set = make_set(vm, 3) };
        r.set->hypervisor = strdup("QEMU");
        load_role(&r, "db");
        struct plan_input in = { .specs = r.specs, .n_specs = r.n_specs, .disks = r.set, .answers = &a };
        assert_int_equal(disk_plan_build(&in, &r.plan), 0);
        if (!disk_plan_ok(r.plan))
                dump(&r);
        assert_true(disk_plan_ok(r.plan));
        assert_string_equal(planned(&r, "sdb")->spec, "database");
        result_done(&r);

        /* a hypervisor that does offer NVMe (QEMU's -device nvme): the NVMe, not the larger SSD */
        const struct fake nv[] = {
                vm[0], { "nvme0n1", 500 * GiB, DISK_CLASS_NVME, 0, "NV1" },
                { "sdb", 900 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi1" }, vm[2],
        };
        plan_on(&r, "db", nv, 4, "QEMU");
        assert_true(disk_plan_ok(r.plan));
        assert_string_equal(planned(&r, "nvme0n1")->spec, "database");
        assert_null(planned(&r, "sdb"));
        assert_null(strv_has_substr(r.plan->notes, "on QEMU") ? "relaxed" : NULL);
        result_done(&r);

        /* SAS-only hard disks are virtio-scsi in a VM (comm: attachments) */
        const struct fake comm[] = {
                vm[0], { "sdb", 600 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi1" },
                { "sdc", 600 * GiB, DISK_CLASS_HDD, TRANSPORT_SCSI, "drive-scsi2" },
        };
        plan_on(&r, "comm", comm, 3, NULL);
        assert_false(disk_plan_ok(r.plan));
        result_done(&r);
        plan_on(&r, "comm", comm, 3, "VMware");
        assert_true(disk_plan_ok(r.plan));
        assert_string_equal(planned(&r, "sdc")->spec, "attachments");
        result_done(&r);
}

/* The probe names the hypervisor from DMI (a fake sysfs: no block devices, only the DMI ids). */
static char *probe_dmi(const char *vendor, const char *product) {
        char tmpl[] = "/tmp/test-dmi-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        _cleanup_free_ char *block = strprintf("%s/block", tmpl), *dmi = strprintf("%s/class/dmi/id", tmpl);
        assert_int_equal(mkdir_parents_at(AT_FDCWD, block, 0755), 0);
        assert_int_equal(mkdir_parents_at(AT_FDCWD, dmi, 0755), 0);
        _cleanup_free_ char *v = strprintf("%s/sys_vendor", dmi), *p = strprintf("%s/product_name", dmi);
        assert_int_equal(write_file_atomic(AT_FDCWD, v, vendor, strlen(vendor), 0644), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, p, product, strlen(product), 0644), 0);
        struct disk_probe_options o = { .sysfs = tmpl, .no_signatures = true };
        struct disk_set *set = NULL;
        assert_int_equal(disk_probe_all(&o, &set), 0);
        char *h = set->hypervisor ? strdup(set->hypervisor) : NULL;
        disk_set_free(set);
        _cleanup_free_ char *rm = strprintf("rm -rf '%s'", tmpl);
        assert_int_equal(system(rm), 0);
        return h;
}

static void test_probe_hypervisor(void **state) {
        _cleanup_free_ char *q = probe_dmi("QEMU\n", "Standard PC (Q35 + ICH9, 2009)\n");
        _cleanup_free_ char *hv = probe_dmi("Microsoft Corporation\n", "Virtual Machine\n");
        _cleanup_free_ char *metal = probe_dmi("Dell Inc.\n", "PowerEdge R650\n");
        _cleanup_free_ char *ms = probe_dmi("Microsoft Corporation\n", "Surface Pro\n");
        assert_string_equal(q, "QEMU");
        assert_string_equal(hv, "Microsoft Corporation Virtual Machine");
        assert_null(metal);
        assert_null(ms);
}

static void test_too_small(void **state) {
        const struct fake f[] = { OSDISK, { "sdb", 80 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "S80" } };
        struct result r;
        plan_role(&r, "id", f, 2, NULL, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_true(reasons_have(&r, "sdb", "not 'data': too small, 80 GiB < 100 GiB"));
        result_done(&r);
}

static void test_two_candidates(void **state) {
        /* listed in the "wrong" order: the by-path tie-break decides, not the kernel name */
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "B", NULL, "pci-0000:00:1f.2-ata-3" },
                { "sdc", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "A", NULL, "pci-0000:00:1f.2-ata-2" },
        };
        struct result r;
        plan_role(&r, "id", f, 3, NULL, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "sdc"));
        assert_null(planned(&r, "sdb"));
        assert_true(reasons_have(&r, "sdb", "not taken for 'data': sdc came first"));
        assert_true(strv_has_substr(r.plan->notes, "2 candidates"));
        result_done(&r);
}

static void test_nvme_namespaces(void **state) {
        /* two namespaces of one controller: same serial, one by-path each */
        const struct fake f[] = {
                OSDISK,
                { "nvme0n2", 600 * GiB, DISK_CLASS_NVME, 0, "NVC", NULL, "pci-0000:00:02.0-nvme-2" },
                { "nvme0n1", 600 * GiB, DISK_CLASS_NVME, 0, "NVC", NULL, "pci-0000:00:02.0-nvme-1" },
                { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SATA, "BK1" },
        };
        struct result r;
        plan_role(&r, "db", f, 4, NULL, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        const struct plan_disk *pd = planned(&r, "nvme0n1");
        assert_non_null(pd);
        assert_null(planned(&r, "nvme0n2"));
        /* distinct journal ids although they share a serial */
        _cleanup_free_ char *a = disk_info_id(&r.set->disks[disk_index(r.set, "nvme0n1")]);
        _cleanup_free_ char *b = disk_info_id(&r.set->disks[disk_index(r.set, "nvme0n2")]);
        assert_string_not_equal(a, b);
        assert_string_equal(pd->id, "serial-NVC_1");
        result_done(&r);
}

static void test_4kn(void **state) {
        const struct fake f[] = { OSDISK, { "sdb", 120 * GiB + 12288, DISK_CLASS_SSD, TRANSPORT_SAS, "K4", NULL, NULL, 4096 } };
        struct result r;
        plan_role(&r, "id", f, 2, NULL, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        const struct plan_disk *pd = planned(&r, "sdb");
        assert_non_null(pd);
        assert_int_equal(pd->sector_size, 4096);
        const struct plan_part *pp = &pd->parts[0];
        assert_int_equal(pp->start % 4096, 0);
        assert_int_equal((pp->start + pp->size) % MiB, 0);
        /* room for the backup GPT at 4 KiB sectors: 16 KiB of entries + a header sector */
        assert_true(pp->start + pp->size <= pd->size - 16 * KiB - 4096);
        assert_int_equal(pp->start + pp->size, 120 * GiB - MiB);
        result_done(&r);
}

static void test_identical_no_serial(void **state) {
        const struct fake f1[] = {
                OSDISK,
                { "sdc", 150 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, NULL, NULL, "pci-0000:00:03.0-scsi-0:0:1:0" },
                { "sdb", 150 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, NULL, NULL, "pci-0000:00:03.0-scsi-0:0:0:0" },
        };
        /* the same machine after sdb/sdc swapped names between boots */
        const struct fake f2[] = {
                OSDISK,
                { "sdb", 150 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, NULL, NULL, "pci-0000:00:03.0-scsi-0:0:1:0" },
                { "sdc", 150 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, NULL, NULL, "pci-0000:00:03.0-scsi-0:0:0:0" },
        };
        struct result r1, r2;
        plan_role(&r1, "id", f1, 3, NULL, NULL, 0);
        plan_role(&r2, "id", f2, 3, NULL, NULL, 0);
        assert_true(disk_plan_ok(r1.plan) && disk_plan_ok(r2.plan));
        const struct plan_disk *a = planned(&r1, "sdb"), *b = planned(&r2, "sdc");
        assert_non_null(a);
        assert_non_null(b);
        assert_string_equal(a->id, "pci-0000:00:03.0-scsi-0:0:0:0");
        assert_string_equal(a->id, b->id);
        result_done(&r1);
        result_done(&r2);
}

/* ---- data safety ---------------------------------------------------------------------------------- */

static const struct fake data_disk_sigs[] = {
        OSDISK, { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "D1", NULL, "pci-0000:00:1f.2-ata-2", 0, "gpt,xfs" },
};

static void test_signatures_no_clearpart(void **state) {
        struct result r;
        plan_role(&r, "id", data_disk_sigs, 2, NULL, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_string_equal(verdict(&r, "sdb"), "refused");
        assert_true(strv_has_substr(r.plan->errors, "sdb refused: matches 'data' but carries gpt, xfs, and clearpart "
                                                    "does not name it"));
        assert_null(planned(&r, "sdb"));
        result_done(&r);
}

static void test_signatures_clearpart_drives(void **state) {
        struct storage_answers a = { .clear_drives = STRV("sdb") };
        struct result r;
        plan_role(&r, "id", data_disk_sigs, 2, &a, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        const struct plan_disk *pd = planned(&r, "sdb");
        assert_non_null(pd);
        assert_true(pd->wipe);
        result_done(&r);
}

static void test_clearpart_by_id_glob(void **state) {
        struct fake f[2];
        memcpy(f, data_disk_sigs, sizeof f);
        struct storage_answers a = { .clear_drives = STRV("/dev/disk/by-path/pci-0000:00:1f.2-ata-*") };
        /* the glob also names sda, which holds the running root: refused */
        struct result r;
        plan_role(&r, "id", f, 2, &a, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "names sda, which holds the running root filesystem"));
        result_done(&r);
}

/* clearpart --all with no --drives and no ignoredisk --only-use (what nearly every Anaconda
 * kickstart says): bounded by the role's disk layout. It clears the disk the plan assigns, never the
 * running root's disk, the boot medium or a disk no role disk takes; the plan names both. */
static void test_clearpart_all_without_drives(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "D1", NULL, "pci-0000:00:1f.2-ata-2", 0, "gpt,xfs" },
                { "sdc", 40 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "D2", NULL, "pci-0000:00:1f.2-ata-3", 0, "ext4" },
                { "sdd", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "USB", NULL, "pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
                  0, "iso9660", false, true },
        };
        struct storage_answers a = { .clear_all = true, .clear_origin = (char *) "ks.cfg:4" };
        struct result r;
        plan_role(&r, "id", f, 4, &a, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        const struct plan_disk *pd = planned(&r, "sdb");
        assert_non_null(pd);
        assert_true(pd->wipe);
        assert_string_equal(pd->allowed_by, "clearpart --all (ks.cfg:4), bounded by the role's disk layout");
        assert_true(!planned(&r, "sda") || !planned(&r, "sda")->wipe); /* the running root's: grown, never cleared */
        assert_null(planned(&r, "sdc"));
        assert_null(planned(&r, "sdd"));
        assert_string_equal(verdict(&r, "sdc"), "unused");
        assert_true(reasons_have(&r, "sdc", "left alone"));
        assert_string_equal(verdict(&r, "sdd"), "boot-medium");
        assert_true(strv_has_substr(r.plan->notes, "warning: clearpart --all (ks.cfg:4) names no disks: bounded by the "
                                                   "role's disk layout, it clears sdb; never a disk outside the plan"));
        assert_true(strv_has_substr(r.plan->notes, "the running root's disk; left alone: sdc (ext4)"));
        result_done(&r);

        /* an empty disk that fits as well is taken first: the one with data is left alone */
        const struct fake g[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "D1", NULL, "pci-0000:00:1f.2-ata-2", 0, "gpt,xfs" },
                { "sde", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "D3", NULL, "pci-0000:00:1f.2-ata-4", 0, NULL },
        };
        plan_role(&r, "id", g, 3, &a, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "sde"));
        assert_false(planned(&r, "sde")->wipe);
        assert_null(planned(&r, "sdb"));
        assert_true(reasons_have(&r, "sdb", "left alone"));
        assert_true(strv_has_substr(r.plan->notes, "it clears no disk that holds data; never a disk outside the plan, "
                                                   "the boot medium or the running root's disk; left alone: sdb (gpt, xfs)"));
        result_done(&r);

        /* with ignoredisk --only-use it is bounded, and allowed */
        struct storage_answers b = { .clear_all = true, .only_use = STRV("sda", "sdb") };
        plan_role(&r, "id", data_disk_sigs, 2, &b, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_true(planned(&r, "sdb")->wipe);
        result_done(&r);
}

static void test_md_at_end_and_luks(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "M1", NULL, "pci-0000:00:1f.2-ata-2", 0,
                  "@end:linux_raid_member" },
                { "sdc", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "L1", NULL, "pci-0000:00:1f.2-ata-3", 0, "crypto_LUKS" },
        };
        struct result r;
        plan_role(&r, "id", f, 3, NULL, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "sdb refused: matches 'data' but carries linux_raid_member at end"));
        assert_true(strv_has_substr(r.plan->errors, "sdc refused: matches 'data' but carries crypto_LUKS"));
        result_done(&r);
}

static void test_dirty_disk_not_needed(void **state) {
        /* an empty disk serves; the one with an LVM PV is left alone and said so */
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "P1", NULL, "pci-0000:00:1f.2-ata-2", 0, "LVM2_member" },
                { "sdc", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "E1", NULL, "pci-0000:00:1f.2-ata-3" },
        };
        struct result r;
        plan_role(&r, "id", f, 3, NULL, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "sdc"));
        assert_null(planned(&r, "sdb"));
        assert_true(strv_has_substr(r.plan->notes, "sdb left alone"));
        result_done(&r);
}

static void test_boot_medium(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "USB", NULL, "pci-0000:00:14.0-usb-0:1:1.0-scsi-0:0:0:0",
                  0, "iso9660", false, true },
        };
        struct result r;
        plan_role(&r, "id", f, 2, NULL, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_string_equal(verdict(&r, "sdb"), "boot-medium");
        result_done(&r);

        /* naming it is an error, wherever */
        struct storage_answers a = { .only_use = STRV("sdb") };
        plan_role(&r, "id", f, 2, &a, NULL, 0);
        assert_true(strv_has_substr(r.plan->errors, "names sdb, the boot medium"));
        result_done(&r);
        struct storage_answers b = { .clear_drives = STRV("/dev/sdb") };
        plan_role(&r, "id", f, 2, &b, NULL, 0);
        assert_true(strv_has_substr(r.plan->errors, "clearpart --drives=/dev/sdb names sdb, the boot medium"));
        result_done(&r);
}

static void test_busy(void **state) {
        const struct fake f[] = {
                OSDISK, { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "B1", NULL, NULL, 0, "xfs", false, false, true },
        };
        struct storage_answers a = { .clear_drives = STRV("sdb") };
        struct result r;
        plan_role(&r, "id", f, 2, &a, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "is busy (sdz1 mounted at /mnt): never forced"));
        result_done(&r);

        /* busy with the mounts of the run that finished it: a rerun takes it and changes nothing */
        struct storage_claim ours = { .disk_id = (char *) "serial-B1", .finished = true };
        plan_role(&r, "id", f, 2, NULL, &ours, 1);
        assert_true(disk_plan_ok(r.plan));
        assert_true(planned(&r, "sdb")->resume);
        assert_false(planned(&r, "sdb")->wipe);
        result_done(&r);
}

static void test_only_use(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "A", NULL, "pci-0000:00:1f.2-ata-2" },
                { "sdc", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "B", NULL, "pci-0000:00:1f.2-ata-3" },
        };
        struct storage_answers a = { .only_use = STRV("sdc") };
        struct result r;
        plan_role(&r, "id", f, 3, &a, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "sdc"));
        assert_string_equal(verdict(&r, "sdb"), "out-of-scope");
        /* the root disk is out of scope too: no growing behind the answers' back */
        assert_string_equal(verdict(&r, "sda"), "os");
        assert_null(planned(&r, "sda"));
        assert_true(reasons_have(&r, "sda", "out of scope (ignoredisk): not grown"));
        result_done(&r);

        struct storage_answers b = { .only_use = STRV("/dev/disk/by-id/wwn-0xnothing") };
        plan_role(&r, "id", f, 3, &b, NULL, 0);
        assert_true(strv_has_substr(r.plan->errors, "ignoredisk --only-use=/dev/disk/by-id/wwn-0xnothing matches no disk"));
        result_done(&r);
}

static void test_journal_claims(void **state) {
        /* our own label from an earlier run: taken again, no clearpart needed, never wiped */
        struct storage_claim ok = { .disk_id = (char *) "serial-D1", .ptuuid = (char *) "11111111-2222-3333-4444-555555555555" };
        struct result r;
        plan_role(&r, "id", data_disk_sigs, 2, NULL, &ok, 1);
        assert_true(disk_plan_ok(r.plan));
        const struct plan_disk *pd = planned(&r, "sdb");
        assert_non_null(pd);
        assert_true(pd->resume);
        assert_false(pd->wipe);
        result_done(&r);

        /* someone relabelled it since: not ours any more */
        struct storage_claim stale = { .disk_id = (char *) "serial-D1", .ptuuid = (char *) "99999999-0000-0000-0000-000000000000" };
        plan_role(&r, "id", data_disk_sigs, 2, NULL, &stale, 1);
        assert_false(disk_plan_ok(r.plan));
        assert_true(reasons_have(&r, "sdb", "not treated as ours"));
        result_done(&r);
}

static void test_alias_and_pins(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "nvme0n1", 800 * GiB, DISK_CLASS_NVME, 0, "NV1", "eui.01", "pci-0000:00:02.0-nvme-1" },
                { "nvme1n1", 2 * TiB, DISK_CLASS_NVME, 0, "NV2", "eui.02", "pci-0000:00:03.0-nvme-1" },
                { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "BK1" },
        };
        /* %addon disk pgdata transport=nvme size>=1.5T count=1 expect=empty; part /var/lib/postgresql --ondisk=@pgdata */
        struct disk_alias al = { .name = (char *) "pgdata", .transports = TRANSPORT_NVME, .size_op = SIZE_OP_GE,
                                 .size = 1536 * GiB, .count = 1, .expect_empty = true };
        struct part_pin pin = { .mount = (char *) "/var/lib/postgresql", .ondisk = (char *) "@pgdata" };
        struct storage_answers a = { .aliases = &al, .n_aliases = 1, .pins = &pin, .n_pins = 1 };
        struct result r;
        plan_role(&r, "db", f, 4, &a, NULL, 0);
        if (!disk_plan_ok(r.plan))
                dump(&r);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "nvme1n1"));
        assert_true(reasons_have(&r, "nvme0n1", "@pgdata asks for size>=1.5 TiB"));
        result_done(&r);

        /* infra: "logs sas size>=500G count=1" and "backups sas size>=2T count=1"; the 2T disk matches
         * both aliases but is backups' (planned first, the more constrained): logs' count is 1. */
        {
                const struct fake fi[] = {
                        OSDISK,
                        { "sdb", 500 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS, "L1" },
                        { "sdc", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "B1" },
                };
                struct disk_alias ia[] = {
                        { .name = (char *) "logs", .classes = DISK_CLASS_HDD, .transports = TRANSPORT_SAS,
                          .size_op = SIZE_OP_GE, .size = 500 * GiB, .count = 1, .expect_empty = true },
                        { .name = (char *) "backups", .classes = DISK_CLASS_HDD, .transports = TRANSPORT_SAS,
                          .size_op = SIZE_OP_GE, .size = 2 * TiB, .count = 1, .expect_empty = true },
                };
                struct part_pin ip[] = {
                        { .mount = (char *) "/var/lib/graylog", .ondisk = (char *) "@logs" },
                        { .mount = (char *) "/srv/backups", .ondisk = (char *) "@backups" },
                };
                struct storage_answers ai = { .aliases = ia, .n_aliases = 2, .pins = ip, .n_pins = 2 };
                plan_role(&r, "infra", fi, 3, &ai, NULL, 0);
                if (!disk_plan_ok(r.plan))
                        dump(&r);
                assert_true(disk_plan_ok(r.plan));
                assert_non_null(planned(&r, "sdb"));
                assert_non_null(planned(&r, "sdc"));
                result_done(&r);
        }

        /* count=2 but one disk matches */
        al.count = 2;
        plan_role(&r, "db", f, 4, &a, NULL, 0);
        assert_true(strv_has_substr(r.plan->errors, "%addon disk pgdata count=2: 1 disk matches"));
        result_done(&r);

        /* pin by device beats the tie-break */
        struct part_pin dev = { .mount = (char *) "/var/lib/postgresql", .ondisk = (char *) "/dev/disk/by-path/pci-0000:00:02.0-nvme-1" };
        struct storage_answers b = { .pins = &dev, .n_pins = 1 };
        plan_role(&r, "db", f, 4, &b, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "nvme0n1"));
        assert_true(reasons_have(&r, "nvme1n1", "names another disk"));
        result_done(&r);

        /* a pin for a mount the role does not have */
        struct part_pin bad = { .mount = (char *) "/nope", .ondisk = (char *) "nvme0n1" };
        struct storage_answers c = { .pins = &bad, .n_pins = 1 };
        plan_role(&r, "db", f, 4, &c, NULL, 0);
        assert_true(strv_has_substr(r.plan->errors, "part /nope --ondisk=nvme0n1: the role has no partition mounted there"));
        result_done(&r);

        /* expect=empty refuses a disk clearpart would allow */
        const struct fake g[] = {
                OSDISK,
                { "nvme1n1", 2 * TiB, DISK_CLASS_NVME, 0, "NV2", "eui.02", "pci-0000:00:03.0-nvme-1", 0, "gpt" },
                { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "BK1" },
        };
        al.count = 1;
        struct storage_answers d = { .aliases = &al, .n_aliases = 1, .pins = &pin, .n_pins = 1,
                                     .clear_drives = STRV("nvme1n1") };
        plan_role(&r, "db", g, 3, &d, NULL, 0);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "@pgdata expects an empty disk"));
        result_done(&r);
}

static void test_greedy_order(void **state) {
        /* app: nextcloud (ssd|hdd >= 2T) and appdata (ssd >= 200G). With a 2T SSD and a 2T HDD, nextcloud
         * must take the HDD so that appdata gets the SSD, whatever the tie-break says. */
        const struct fake f[] = {
                OSDISK,
                { "sdb", 2 * TiB, DISK_CLASS_SSD, TRANSPORT_SATA, "S", NULL, "pci-0000:00:1f.2-ata-2" },
                { "sdc", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SATA, "H", NULL, "pci-0000:00:1f.2-ata-3" },
        };
        struct result r;
        plan_role(&r, "app", f, 3, NULL, NULL, 0);
        assert_true(disk_plan_ok(r.plan));
        assert_string_equal(planned(&r, "sdb")->spec, "appdata");
        assert_string_equal(planned(&r, "sdc")->spec, "nextcloud");
        result_done(&r);
}

/* ---- layout ---------------------------------------------------------------------------------------- */

static void test_layout_percent_grow_max(void **state) {
        struct partition_spec parts[] = {
                { .name = (char *) "a", .type = PART_LINUX, .size = 1000 * 1000 }, /* rounded up to 1 MiB */
                { .name = (char *) "b", .type = PART_LINUX, .percent = 50, .fs = FS_EXT4, .mount = (char *) "/b" },
                { .name = (char *) "c", .type = PART_SWAP, .grow = true, .max_size = 4 * GiB, .fs = FS_SWAP },
        };
        struct disk_spec spec = { .name = (char *) "x", .classes = DISK_CLASS_SSD, .min_size = 10 * GiB,
                                  .count = 1, .parts = parts, .n_parts = 3 };
        const struct fake f[] = { { "sdb", 100 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "X" } };
        struct disk_set *set = make_set(f, 1);
        struct plan_input in = { .specs = &spec, .n_specs = 1, .disks = set };
        struct disk_plan *p = NULL;
        assert_int_equal(disk_plan_build(&in, &p), 0);
        assert_true(disk_plan_ok(p));
        assert_int_equal(p->n_disks, 1);
        const struct plan_disk *pd = &p->disks[0];
        uint64_t avail = plan_usable_end(100 * GiB, 512) - MiB;
        assert_int_equal(pd->parts[0].start, MiB);
        assert_int_equal(pd->parts[0].size, MiB);
        assert_int_equal(pd->parts[1].start, 2 * MiB);
        assert_int_equal(pd->parts[1].size, avail / 100 * 50 / MiB * MiB);
        assert_int_equal(pd->parts[1].fs, FS_EXT4);
        assert_int_equal(pd->parts[2].size, 4 * GiB);
        assert_int_equal(pd->parts[2].start, pd->parts[1].start + pd->parts[1].size);
        assert_string_equal(pd->parts[2].type_guid, "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F");
        disk_plan_free(p);

        /* two growers */
        parts[1].percent = 0;
        parts[1].grow = true;
        assert_int_equal(disk_plan_build(&in, &p), 0);
        assert_true(strv_has_substr(p->errors, "partitions 'b' and 'c' both grow"));
        disk_plan_free(p);
        disk_set_free(set);
}

static void test_os_layout_on_empty_disk(void **state) {
        /* the OS spec's layout, as install-to-disk would use it: esp, bios-boot, root last and growing */
        struct result res = {};
        load_role(&res, "it");
        struct disk_spec *specs = res.specs;
        specs[0].os = false; /* plan it as a data disk to get its layout */
        const struct fake f[] = { { "sda", 64 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "X" } };
        struct disk_set *set = make_set(f, 1);
        struct plan_input in = { .specs = specs, .n_specs = 1, .disks = set };
        struct disk_plan *p = NULL;
        assert_int_equal(disk_plan_build(&in, &p), 0);
        assert_true(disk_plan_ok(p));
        const struct plan_disk *pd = &p->disks[0];
        assert_int_equal(pd->n_parts, 3);
        assert_string_equal(pd->parts[0].type_guid, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B");
        assert_int_equal(pd->parts[0].size, 512 * MiB);
        assert_int_equal(pd->parts[0].fs, FS_VFAT);
        assert_string_equal(pd->parts[1].type_guid, "21686148-6449-6E6F-744E-656564454649");
        assert_int_equal(pd->parts[1].fs, FS_NONE);
        assert_null(pd->parts[1].mount);
        assert_string_equal(pd->parts[2].type_guid, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709");
        assert_int_equal(pd->parts[2].start, 514 * MiB);
        assert_int_equal(pd->parts[2].start + pd->parts[2].size, plan_usable_end(64 * GiB, 512));
        disk_plan_free(p);
        disk_set_free(set);
        result_done(&res);
}

static void test_render(void **state) {
        struct result r;
        plan_role(&r, "db", roles[1].disks, roles[1].n, NULL, NULL, 0);
        struct buf b = {};
        disk_plan_render_json(r.plan, r.set, &b);
        _cleanup_free_ char *json = buf_steal(&b);
        assert_non_null(strstr(json, "\"ok\": true"));
        assert_non_null(strstr(json, "\"verdict\": \"chosen\""));
        assert_non_null(strstr(json, "\"action\": \"grow-partition\""));
        assert_non_null(strstr(json, "\"type_guid\": \"0FC63DAF-8483-4772-8E79-3D69D8477DE4\""));
        struct buf t = {};
        disk_plan_render_table(r.plan, r.set, &t);
        _cleanup_free_ char *table = buf_steal(&t);
        assert_non_null(strstr(table, "why: matches 'database'"));
        assert_non_null(strstr(table, "plan: ok"));
        result_done(&r);
}

static void test_classes_parse(void **state) {
        unsigned m;
        assert_int_equal(plan_parse_classes("ssd|hdd", &m), 0);
        assert_int_equal(m, DISK_CLASS_SSD | DISK_CLASS_HDD);
        assert_int_equal(plan_parse_transports("sas|sata", &m), 0);
        assert_int_equal(m, TRANSPORT_SAS | TRANSPORT_SATA);
        assert_int_equal(plan_parse_classes("floppy", &m), -EINVAL);
        assert_int_equal(plan_parse_transports("", &m), -EINVAL);
}

/* ---- ignoredisk/clearpart with "@alias" names; the installer's plan ------------------------------------ */

static void plan_answers(struct result *res, const char *role, const struct fake *f, size_t n, const char *hypervisor,
                         const struct storage_answers *a, bool install) {
        *res = (struct result) { .set = make_set(f, n) };
        res->set->hypervisor = hypervisor ? strdup(hypervisor) : NULL;
        load_role(res, role);
        struct plan_input in = { .specs = res->specs, .n_specs = res->n_specs, .disks = res->set, .answers = a,
                                 .install = install };
        assert_int_equal(disk_plan_build(&in, &res->plan), 0);
}

/* A Proxmox VM of the db role: clearpart names the database disk by its alias (class=nvme), and
 * there is no NVMe under a hypervisor: relaxed as the role disk is, so the alias names the SSD. */
static void test_alias_scope_on_hypervisor(void **state) {
        const struct fake vm[] = {
                { "sda", 50 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi0", NULL, NULL, 0, NULL, true },
                { "sdb", 500 * GiB, DISK_CLASS_SSD, TRANSPORT_SCSI, "drive-scsi1", NULL, NULL, 0, "ext4" },
                { "sdc", 1 * TiB, DISK_CLASS_HDD, TRANSPORT_SATA, "drive-sata0" },
        };
        struct disk_alias al = { .name = (char *) "database", .classes = DISK_CLASS_NVME, .count = 1 };
        struct storage_answers a = { .aliases = &al, .n_aliases = 1, .clear_drives = STRV("@database"),
                                     .clear_origin = (char *) "ks.cfg:31" };
        struct result r;
        /* bare metal: the alias fits no disk, and clearpart must resolve it */
        plan_answers(&r, "db", vm, 3, NULL, &a, false);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "clearpart --drives=@database matches no disk"));
        assert_null(planned(&r, "sdb"));
        result_done(&r);

        /* QEMU: the SSD stands for the NVMe in clearpart too, and is wiped, saying which line allows it */
        plan_answers(&r, "db", vm, 3, "QEMU", &a, false);
        if (!disk_plan_ok(r.plan))
                dump(&r);
        assert_true(disk_plan_ok(r.plan));
        assert_non_null(planned(&r, "sdb"));
        assert_true(planned(&r, "sdb")->wipe);
        assert_string_equal(planned(&r, "sdb")->allowed_by, "clearpart --drives=@database (ks.cfg:31)");
        assert_string_equal(planned(&r, "sdb")->carries, "ext4");
        assert_true(strv_has_substr(r.plan->notes, "@database: no disk fits it as written; on QEMU"));
        struct buf b = {};
        disk_plan_render_table(r.plan, r.set, &b);
        _cleanup_free_ char *t = buf_steal(&b);
        assert_non_null(strstr(t, "(ext4): allowed by clearpart --drives=@database (ks.cfg:31)"));
        result_done(&r);

        /* ignoredisk --drives=@database under QEMU hides the SSD the alias stands for */
        struct storage_answers h = { .aliases = &al, .n_aliases = 1, .ignore = STRV("@database") };
        plan_answers(&r, "db", vm, 3, "QEMU", &h, false);
        assert_false(disk_plan_ok(r.plan)); /* no disk left for 'database' */
        assert_true(reasons_have(&r, "sdb", "hidden by ignoredisk --drives=@database"));
        result_done(&r);
}

static void test_alias_scope_errors(void **state) {
        const struct fake f[] = {
                OSDISK,
                { "nvme0n1", 1 * TiB, DISK_CLASS_NVME, 0, "NV-1" },
                { "nvme1n1", 1 * TiB, DISK_CLASS_NVME, 0, "NV-2", NULL, NULL, 0, "xfs" },
                { "sdb", 2 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "HDD-1" },
        };
        struct disk_alias al = { .name = (char *) "database", .classes = DISK_CLASS_NVME, .count = 1 };
        struct result r;
        /* an alias nothing defines, in each list: an error naming it, never "every disk" */
        static const char *const lists[] = { "only", "ignore", "clear" };
        for (size_t k = 0; k < ELEMENTSOF(lists); k++) {
                struct storage_answers a = { .aliases = &al, .n_aliases = 1, .clear_all = k == 2 };
                char **l = STRV("sdb", "@nosuch");
                if (k == 0)
                        a.only_use = l;
                else if (k == 1)
                        a.ignore = l;
                else
                        a.clear_drives = l;
                plan_answers(&r, "db", f, 4, NULL, &a, false);
                assert_false(disk_plan_ok(r.plan));
                assert_true(strv_has_substr(r.plan->errors, "=@nosuch: no %addon disk alias of that name"));
                for (size_t i = 0; i < r.plan->n_disks; i++)
                        assert_false(r.plan->disks[i].wipe);
                result_done(&r);
        }
        /* count=1 but two NVMe disks fit: clearpart --drives=@database would clear both; refused */
        struct storage_answers c = { .aliases = &al, .n_aliases = 1, .clear_drives = STRV("@database") };
        plan_answers(&r, "db", f, 4, NULL, &c, false);
        assert_false(disk_plan_ok(r.plan));
        assert_true(strv_has_substr(r.plan->errors, "clearpart --drives=@database: %addon disk database count=1, but 2 disks fit it"));
        result_done(&r);
}

/* The installer's plan: the OS disk is chosen among the disks with the data role disks, most
 * constrained first, so the small SSD takes the OS and the 250G one stays for 'appdata'. */
static void test_install_mode(void **state) {
        const struct fake f[] = {
                { "sda", 250 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "S-A", NULL, "pci-0000:00:1f.2-ata-1" },
                { "sdb", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "S-B", NULL, "pci-0000:00:1f.2-ata-2" },
                { "sdc", 3 * TiB, DISK_CLASS_HDD, TRANSPORT_SAS, "S-C", NULL, "pci-0000:00:1f.2-ata-3", 0, "ext4" },
        };
        struct result r;
        plan_answers(&r, "app", f, 3, NULL, NULL, true);
        if (!disk_plan_ok(r.plan))
                dump(&r);
        assert_true(disk_plan_ok(r.plan));
        assert_int_equal(planned(&r, "sdb")->mode, PLAN_DISK_IMAGE);
        assert_string_equal(planned(&r, "sdb")->spec, "os");
        assert_int_equal(planned(&r, "sda")->mode, PLAN_DISK_PARTITION);
        assert_string_equal(planned(&r, "sda")->spec, "appdata");
        /* nextcloud's disk carries ext4 and nothing clears it: after the reboot that refuses; the
         * installer says so and writes only the OS disk */
        assert_null(planned(&r, "sdc"));
        assert_true(strv_has_substr(r.plan->notes, "after the reboot, the storage step would refuse"));
        struct buf b = {};
        disk_plan_render_table(r.plan, r.set, &b);
        _cleanup_free_ char *t = buf_steal(&b);
        assert_non_null(strstr(t, "write the role's image over the whole disk"));
        result_done(&r);

        /* the same disks, not installing: the running root is elsewhere, nothing gets the image */
        plan_answers(&r, "app", f, 3, NULL, NULL, false);
        for (size_t i = 0; i < r.plan->n_disks; i++)
                assert_int_not_equal(r.plan->disks[i].mode, PLAN_DISK_IMAGE);
        result_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_alias_scope_on_hypervisor),
                cmocka_unit_test(test_alias_scope_errors),
                cmocka_unit_test(test_install_mode),
                cmocka_unit_test(test_nine_roles),
                cmocka_unit_test(test_db_mount_options),
                cmocka_unit_test(test_missing_disk),
                cmocka_unit_test(test_virtual_machine),
                cmocka_unit_test(test_probe_hypervisor),
                cmocka_unit_test(test_too_small),
                cmocka_unit_test(test_two_candidates),
                cmocka_unit_test(test_nvme_namespaces),
                cmocka_unit_test(test_4kn),
                cmocka_unit_test(test_identical_no_serial),
                cmocka_unit_test(test_signatures_no_clearpart),
                cmocka_unit_test(test_signatures_clearpart_drives),
                cmocka_unit_test(test_clearpart_by_id_glob),
                cmocka_unit_test(test_clearpart_all_without_drives),
                cmocka_unit_test(test_md_at_end_and_luks),
                cmocka_unit_test(test_dirty_disk_not_needed),
                cmocka_unit_test(test_boot_medium),
                cmocka_unit_test(test_busy),
                cmocka_unit_test(test_only_use),
                cmocka_unit_test(test_journal_claims),
                cmocka_unit_test(test_alias_and_pins),
                cmocka_unit_test(test_greedy_order),
                cmocka_unit_test(test_layout_percent_grow_max),
                cmocka_unit_test(test_os_layout_on_empty_disk),
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_classes_parse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
