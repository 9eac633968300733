/* SPDX-License-Identifier: MIT */
/* The Proxmox output: plan from the real profiles and site, the qemu-server config and import.sh
 * rendered from it. (import.sh is also run through bash -n and shellcheck by the build test.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>
#include <string.h>

#include "cleanup.h"
#include "proxmox.h"
#include "util.h"

struct loaded {
        struct profile *p;
        struct site *s;
        struct proxmox_plan plan;
};

static void loaded_done(struct loaded *l) {
        proxmox_plan_done(&l->plan);
        profile_free(l->p);
        site_free(l->s);
}

static void load(struct loaded *l, const char *role) {
        *l = (struct loaded) {};
        struct diags d = {};
        assert_int_equal(profile_load("profiles", role, &d, &l->p), 0);
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &l->s), 0);
        diags_done(&d);
        const struct host_spec *h = site_find_host_by_role(l->s, role);
        assert_non_null(h);
        assert_int_equal(proxmox_plan_build(l->p, h, &l->plan), 0);
}

static bool has_line(const char *text, const char *line) {
        size_t n = strlen(line);
        for (const char *p = text; (p = strstr(p, line)); p++)
                if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == 0))
                        return true;
        return false;
}

static void test_db_plan(void **state) {
        _cleanup_(loaded_done) struct loaded l;
        load(&l, "db");
        assert_string_equal(l.plan.host, "lab-db1");
        assert_int_equal(l.plan.vmid, 9012);
        assert_int_equal(l.plan.cores, 8);
        assert_int_equal(l.plan.memory, 32 * GiB);
        assert_int_equal(l.plan.os_size, 50 * GiB);
        assert_true(l.plan.os_ssd);
        assert_int_equal(l.plan.nics, 2);
        assert_int_equal(l.plan.n_vlans, 3);
        assert_int_equal(l.plan.vlans[0], 10);
        assert_int_equal(l.plan.vlans[1], 20);
        assert_int_equal(l.plan.vlans[2], 40);
        assert_int_equal(l.plan.n_disks, 2);
        /* the NVMe database disk: virtio-scsi, ssd=1; the backups HDD that may be SATA: on SATA, rotational */
        assert_string_equal(l.plan.disks[0].name, "database");
        assert_string_equal(l.plan.disks[0].slot, "scsi1");
        assert_true(l.plan.disks[0].ssd);
        assert_int_equal(l.plan.disks[0].size, 500 * GiB);
        assert_string_equal(l.plan.disks[1].name, "backups");
        assert_string_equal(l.plan.disks[1].slot, "sata0");
        assert_false(l.plan.disks[1].ssd);
        assert_int_equal(l.plan.disks[1].size, 1024 * GiB);
}

static void test_db_conf(void **state) {
        _cleanup_(loaded_done) struct loaded l;
        load(&l, "db");
        _cleanup_free_ char *conf = proxmox_conf_render(&l.plan);
        assert_non_null(conf);
        static const char *const want[] = {
                "agent: enabled=1,fstrim_cloned_disks=1",
                "bios: ovmf",
                "boot: order=scsi0",
                "cores: 8",
                "efidisk0: local-lvm:base-9012-disk-0,efitype=4m,pre-enrolled-keys=0,size=4M",
                "ide2: local-lvm:vm-9012-cloudinit,media=cdrom",
                "machine: q35",
                "memory: 32768",
                "name: lab-db1",
                "net0: virtio,bridge=vmbr0,trunks=10;20;40",
                "net1: virtio,bridge=vmbr0,trunks=10;20;40",
                "ostype: l26",
                "sata0: local-lvm:base-9012-disk-3,discard=on,size=1024G",
                "scsi0: local-lvm:base-9012-disk-1,discard=on,iothread=1,ssd=1,size=50G",
                "scsi1: local-lvm:base-9012-disk-2,discard=on,iothread=1,ssd=1,size=500G",
                "scsihw: virtio-scsi-single",
                "serial0: socket",
                "template: 1",
                "vga: serial0",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                if (!has_line(conf, want[i]))
                        fail_msg("missing '%s' in:\n%s", want[i], conf);
        }
        /* what it is: qm template's base-* names, and the MACs Proxmox adds said, not invented */
        assert_null(strstr(conf, ":vm-9012-disk-"));
        assert_non_null(strstr(conf, "macaddr="));
        /* keys sorted as PVE writes them, the description first */
        assert_true(strncmp(conf, "#rackstack lab-db1 (role db)", 28) == 0);
        _cleanup_free_ char *prev = NULL;
        for (const char *line = conf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
                if (*line == '#')
                        continue;
                const char *colon = strchr(line, ':');
                assert_non_null(colon);
                char *key = strndup(line, (size_t) (colon - line));
                if (prev && strcmp(prev, key) >= 0)
                        fail_msg("'%s' after '%s'", key, prev);
                free(prev);
                prev = key;
        }
}

static void test_db_import(void **state) {
        _cleanup_(loaded_done) struct loaded l;
        load(&l, "db");
        _cleanup_free_ char *sh = proxmox_import_render(&l.plan);
        assert_non_null(sh);
        assert_true(strncmp(sh, "#!/bin/bash\n", 12) == 0);
        assert_true(has_line(sh, "VMID=9012"));
        assert_true(has_line(sh, "NAME='lab-db1'"));
        assert_true(has_line(sh, "IMAGE='lab-db1.qcow2'"));
        assert_non_null(strstr(sh, "--scsi0 \"$STORAGE:0,import-from=$img,discard=on,iothread=1,ssd=1\""));
        assert_non_null(strstr(sh, "--machine q35 --bios ovmf --efidisk0 \"$STORAGE:1,efitype=4m,pre-enrolled-keys=0\""));
        assert_non_null(strstr(sh, "--cores 8 --memory 32768"));
        /* x86-64-v2-AES exists only from qemu-server 8.0.4: the script checks before qm create */
        const char *check = strstr(sh, "dpkg --compare-versions \"$qs\" ge 8.0.4");
        assert_non_null(check);
        assert_true(check < strstr(sh, "qm create"));
        assert_null(strstr(sh, "7.2 or later"));
        /* the script parses, and shellcheck (where installed) has nothing to say */
        char path[] = "/tmp/test-proxmox-import-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, sh, strlen(sh)), (ssize_t) strlen(sh));
        close(fd);
        _cleanup_free_ char *cmd = strprintf("bash -n %s && { ! command -v shellcheck >/dev/null || shellcheck -s bash %s; }",
                                             path, path);
        int rc = system(cmd);
        unlink(path);
        assert_int_equal(rc, 0);
        assert_non_null(strstr(sh, "--net0 \"virtio,bridge=$BRIDGE,trunks=10;20;40\""));
        assert_non_null(strstr(sh, "--net1 \"virtio,bridge=$BRIDGE,trunks=10;20;40\""));
        assert_true(has_line(sh, "qm resize \"$VMID\" scsi0 50G"));
        assert_true(has_line(sh, "qm set \"$VMID\" --scsi1 \"$STORAGE:500,discard=on,iothread=1,ssd=1\""));
        assert_true(has_line(sh, "qm set \"$VMID\" --sata0 \"$STORAGE:1024,discard=on\""));
        assert_true(has_line(sh, "qm set \"$VMID\" --ide2 \"$STORAGE:cloudinit\""));
        assert_true(has_line(sh, "qm template \"$VMID\""));
        /* an existing VMID: refused unless --force, which destroys it first */
        const char *exists = strstr(sh, "if qm status \"$VMID\"");
        const char *create = strstr(sh, "qm create \"$VMID\"");
        assert_non_null(exists);
        assert_non_null(create);
        assert_true(exists < create);
        assert_non_null(strstr(exists, "[ \"$FORCE\" = 1 ] || die"));
        /* the description's quote is escaped for the shell */
        assert_non_null(strstr(sh, "DESCRIPTION='rackstack lab-db1 (role db): "));
}

static void test_all_roles(void **state) {
        /* every role renders; SAS-only hard disks stay on virtio-scsi, no role loses a disk */
        for (size_t i = 0; i < n_role_names; i++) {
                _cleanup_(loaded_done) struct loaded l;
                load(&l, role_names[i]);
                size_t want = 0;
                for (size_t k = 0; k < l.p->n_disks; k++)
                        if (!l.p->disks[k].os)
                                want += l.p->disks[k].count ? l.p->disks[k].count : 1;
                assert_int_equal(l.plan.n_disks, want);
                assert_int_equal(l.plan.cores, l.p->cores);
                _cleanup_free_ char *conf = proxmox_conf_render(&l.plan), *sh = proxmox_import_render(&l.plan);
                assert_non_null(conf);
                assert_non_null(sh);
                for (size_t k = 0; k < l.plan.n_disks; k++)
                        assert_non_null(strstr(conf, l.plan.disks[k].slot));
        }
}

static void test_quote(void **state) {
        _cleanup_(loaded_done) struct loaded l;
        load(&l, "it");
        free(l.plan.description);
        l.plan.description = strdup("it's $(rm -rf /) `x`");
        _cleanup_free_ char *sh = proxmox_import_render(&l.plan);
        assert_non_null(strstr(sh, "DESCRIPTION='rackstack lab-it1 (role it): it'\\''s $(rm -rf /) `x`'"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_db_plan),
                cmocka_unit_test(test_db_conf),
                cmocka_unit_test(test_db_import),
                cmocka_unit_test(test_all_roles),
                cmocka_unit_test(test_quote),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
