/* SPDX-License-Identifier: MIT */
/* NIC discovery against a fake sysfs tree. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fileio.h"
#include "nic.h"
#include "util.h"

static char root[64];
static int root_fd = -1;

static void put(const char *path, const char *content) {
        _cleanup_free_ char *dir = strdup(path);
        *strrchr(dir, '/') = 0;
        assert_int_equal(mkdir_parents_at(root_fd, dir, 0755), 0);
        assert_int_equal(write_file_atomic(root_fd, path, content, strlen(content), 0644), 0);
}

static void fake_nic(const char *name, const char *type, const char *mac, const char *carrier, const char *speed,
                     const char *driver) {
        _cleanup_free_ char *p = NULL;
#define PUT(attr, val)                                                                     \
        do {                                                                               \
                if (val) {                                                                 \
                        free(p);                                                           \
                        p = strprintf("class/net/%s/%s", name, attr);                      \
                        put(p, val);                                                       \
                }                                                                          \
        } while (0)
        PUT("type", type);
        PUT("address", mac);
        PUT("carrier", carrier);
        PUT("speed", speed);
        PUT("mtu", "1500\n");
        PUT("ifindex", "7\n");
        if (driver) {
                _cleanup_free_ char *dev = strprintf("class/net/%s/device", name);
                assert_int_equal(mkdir_parents_at(root_fd, dev, 0755), 0);
                _cleanup_free_ char *target = strprintf("../../../../bus/pci/drivers/%s", driver);
                _cleanup_free_ char *link = strprintf("class/net/%s/device/driver", name);
                assert_int_equal(symlinkat(target, root_fd, link), 0);
        }
}

static int setup(void **state) {
        static const char tmpl[] = "/tmp/test-nic.XXXXXX";
        memcpy(root, tmpl, sizeof tmpl);
        assert_non_null(mkdtemp(root));
        root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root_fd >= 0);
        fake_nic("lo", "772\n", "00:00:00:00:00:00\n", "1\n", NULL, NULL);
        fake_nic("enp2s0", "1\n", "52:54:00:00:00:12\n", "1\n", "10000\n", "virtio_net");
        fake_nic("enp1s0", "1\n", "52:54:00:AB:00:11\n", "0\n", "-1\n", "ixgbe");
        fake_nic("wg0", "65534\n", NULL, "1\n", NULL, NULL);        /* not Ethernet */
        fake_nic("veth0", "1\n", "02:00:00:00:00:99\n", "1\n", "10000\n", NULL);
        fake_nic("enp3s0", "1\n", "52:54:00:00:00:13\n", NULL, NULL, "e1000e"); /* down: carrier unreadable */
        /* An enslaved NIC shows the bond's MAC in address; its own is in perm_hwaddr. */
        fake_nic("enp4s0", "1\n", "52:54:00:00:00:12\n", "1\n", "1000\n", "e1000e");
        put("class/net/enp4s0/bonding_slave/perm_hwaddr", "52:54:00:00:00:14\n");
        /* Not a link: the bonding module's control file sits among them. */
        put("class/net/bonding_masters", "bond0\n");
        return 0;
}

static int teardown(void **state) {
        close(root_fd);
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", root);
        assert_int_equal(system(cmd), 0);
        return 0;
}

static void test_discover(void **state) {
        struct nic_list l = {};
        assert_int_equal(nic_discover(root, &l), 0);
        assert_int_equal(l.n, 5);
        const char *names[] = { "enp1s0", "enp2s0", "enp3s0", "enp4s0", "veth0" };
        for (size_t i = 0; i < 5; i++)
                assert_string_equal(l.nics[i].name, names[i]);

        assert_string_equal(l.nics[0].mac, "52:54:00:ab:00:11");
        assert_false(l.nics[0].carrier);
        assert_int_equal(l.nics[0].speed_mbps, 0);
        assert_string_equal(l.nics[0].driver, "ixgbe");
        assert_true(l.nics[0].physical);

        assert_true(l.nics[1].carrier);
        assert_int_equal(l.nics[1].speed_mbps, 10000);
        assert_int_equal(l.nics[1].mtu, 1500);
        assert_int_equal(l.nics[1].ifindex, 7);
        assert_string_equal(l.nics[1].driver, "virtio_net");

        assert_false(l.nics[2].carrier);
        assert_string_equal(l.nics[3].mac, "52:54:00:00:00:14");
        assert_false(l.nics[4].physical);
        assert_null(l.nics[4].driver);

        assert_ptr_equal(nic_find(&l, "52:54:00:AB:00:11"), &l.nics[0]);
        assert_ptr_equal(nic_find(&l, "enp4s0"), &l.nics[3]);
        assert_null(nic_find(&l, "eno1"));
        assert_null(nic_find(&l, "52:54:00:00:00:99"));
        nic_list_done(&l);
}

static void test_missing_root(void **state) {
        struct nic_list l = { .n = 42 };
        assert_int_equal(nic_discover("/nonexistent-sysfs", &l), -ENOENT);
        assert_int_equal(l.n, 42); /* untouched on failure */
}

static void test_ifname(void **state) {
        assert_true(ifname_valid("bond0.20"));
        assert_true(ifname_valid("enp1s0f1"));
        assert_false(ifname_valid(""));
        assert_false(ifname_valid("abcdefghijklmnop")); /* 16 */
        assert_false(ifname_valid("a b"));
        assert_false(ifname_valid("a/b"));
        assert_false(ifname_valid(".."));
        assert_false(ifname_valid("x\"y"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_discover),
                cmocka_unit_test(test_missing_root),
                cmocka_unit_test(test_ifname),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
