/* SPDX-License-Identifier: MIT */
/* Network plan and netplan rendering: the nine seed hosts, the fallbacks, and bad answers. Every YAML
 * we render is handed to the real `netplan generate --root-dir` and its networkd output is checked. */
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
#include "skip.h"

#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "net-plan.h"
#include "net-apply.h"
#include "netplan.h"
#include "parse.h"
#include "util.h"

#define S(x) ((char *) (x))
#define IP(a, b, c, d) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

/* ---- the seed, by hand (the profile loader lands separately) ------------------------------------ */

struct role_case {
        const char *role, *host;
        unsigned n; /* last octet of the host's addresses */
        uint16_t vlans[3];
        size_t n_vlans;
        uint32_t speed;
};

static const struct role_case roles[] = {
        { "id", "lab-id1", 11, { 10, 20, 40 }, 3, 1000 },
        { "db", "lab-db1", 12, { 10, 20, 40 }, 3, 10000 },
        { "app", "lab-app1", 13, { 10, 20, 40 }, 3, 1000 },
        { "comm", "lab-comm1", 14, { 10, 20, 40 }, 3, 1000 },
        { "voip", "lab-voip1", 15, { 10, 20, 30 }, 3, 1000 },
        { "biz", "lab-biz1", 16, { 10, 20, 40 }, 3, 1000 },
        { "erp", "lab-erp1", 17, { 10, 20, 40 }, 3, 1000 },
        { "it", "lab-it1", 18, { 10, 20, 40 }, 3, 1000 },
        { "infra", "lab-infra1", 19, { 10, 20 }, 2, 10000 },
};
#define N_ROLES ELEMENTSOF(roles)

static struct vlan_spec site_vlans[] = {
        { .id = 10, .name = S("management"), .subnet = IP(10, 0, 10, 0), .prefix = 24, .gateway = IP(10, 0, 10, 1) },
        { .id = 20, .name = S("infrastructure"), .subnet = IP(10, 0, 50, 0), .prefix = 24, .gateway = IP(10, 0, 50, 1) },
        { .id = 30, .name = S("voip"), .subnet = IP(10, 0, 30, 0), .prefix = 24, .gateway = IP(10, 0, 30, 1) },
        { .id = 40, .name = S("database"), .subnet = IP(10, 0, 40, 0), .prefix = 24, .gateway = 0 },
        { .id = 50, .name = S("users"), .subnet = IP(10, 0, 100, 0), .prefix = 22, .gateway = IP(10, 0, 100, 1) },
};
static char *site_dns[] = { S("10.0.50.11"), NULL };
static struct host_address host_addrs[N_ROLES][3];
static struct host_spec hosts[N_ROLES];
static struct site site;
static struct profile profiles[N_ROLES];

static uint32_t vlan_addr(uint16_t vlan, unsigned n) {
        switch (vlan) {
        case 10: return IP(10, 0, 10, n);
        case 20: return IP(10, 0, 50, n);
        case 30: return IP(10, 0, 30, n);
        case 40: return IP(10, 0, 40, n);
        default: return 0;
        }
}

static void seed_init(void) {
        for (size_t i = 0; i < N_ROLES; i++) {
                const struct role_case *rc = &roles[i];
                for (size_t k = 0; k < rc->n_vlans; k++)
                        host_addrs[i][k] = (struct host_address) { .vlan = rc->vlans[k],
                                                                   .addr = vlan_addr(rc->vlans[k], rc->n) };
                hosts[i] = (struct host_spec) { .name = S(rc->host), .role = S(rc->role), .addresses = host_addrs[i],
                                                .n_addresses = rc->n_vlans };
                profiles[i] = (struct profile) {
                        .role = S(rc->role),
                        .bond = { .name = S("bond0"), .mode = BOND_MODE_8023AD, .miimon = 100,
                                  .lacp_rate = LACP_RATE_FAST, .xmit_hash_policy = XMIT_HASH_LAYER3_4,
                                  .members = 2, .speed_mbps = rc->speed },
                        .vlans = (uint16_t *) rc->vlans,
                        .n_vlans = rc->n_vlans,
                };
        }
        site = (struct site) {
                .domain = S("domain.com"), .default_vlan = 20, .dns = site_dns, .vlans = site_vlans,
                .n_vlans = ELEMENTSOF(site_vlans), .hosts = hosts, .n_hosts = N_ROLES,
        };
}

static struct nic two_nics_1g[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .driver = S("virtio_net"), .physical = true,
          .carrier = true, .speed_mbps = 1000 },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .driver = S("virtio_net"), .physical = true,
          .carrier = true, .speed_mbps = 1000 },
};
static struct nic two_nics_10g[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = true, .speed_mbps = 10000 },
};
/* Four NICs: the fastest two with carrier must win, not the first two by name. */
static struct nic four_nics[] = {
        { .name = S("eno1"), .mac = S("0c:c4:7a:00:00:01"), .physical = true, .carrier = true, .speed_mbps = 1000 },
        { .name = S("eno2"), .mac = S("0c:c4:7a:00:00:02"), .physical = true, .carrier = false, .speed_mbps = 0 },
        { .name = S("ens1f0"), .mac = S("3c:fd:fe:00:00:10"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("ens1f1"), .mac = S("3c:fd:fe:00:00:11"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("veth0"), .mac = S("02:00:00:00:00:99"), .physical = false, .carrier = true, .speed_mbps = 10000 },
};
static struct nic one_carrier[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = false },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = true, .speed_mbps = 1000 },
};
static struct nic no_carrier[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = false },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = false },
};
#define NICS(a) ((struct nic_list) { .nics = (a), .n = ELEMENTSOF(a) })

static size_t role_index(const char *role) {
        for (size_t i = 0; i < N_ROLES; i++)
                if (streq(roles[i].role, role))
                        return i;
        fail_msg("no role %s", role);
        return 0;
}

static int plan_for(const char *role, const struct nic_list *nics, const struct net_answers *a, bool vm,
                    struct diags *d, struct net_plan **ret) {
        size_t i = role_index(role);
        struct net_plan_input in = {
                .profile = &profiles[i], .site = &site, .hostname = roles[i].host, .answers = a, .nics = nics,
                .virtual_machine = vm,
        };
        return net_plan_build(&in, d, ret);
}

/* ---- running netplan ---------------------------------------------------------------------------- */

struct tmp_root {
        char path[64];
        int fd;
};

static void tmp_root_new(struct tmp_root *t) {
        static const char tmpl[] = "/tmp/test-netplan.XXXXXX";
        memcpy(t->path, tmpl, sizeof tmpl);
        assert_non_null(mkdtemp(t->path));
        t->fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->fd >= 0);
}

static void tmp_root_done(struct tmp_root *t) {
        close(t->fd);
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", t->path);
        assert_int_equal(system(cmd), 0);
}

static char *read_rel(const struct tmp_root *t, const char *rel) {
        char *s = NULL;
        int r = read_file_full(t->fd, rel, 1 << 20, &s, NULL);
        if (r < 0)
                fail_msg("cannot read %s/%s: %s", t->path, rel, strerror(-r));
        return s;
}

#define assert_contains(hay, needle)                                                              \
        do {                                                                                       \
                const char *_h = (hay), *_n = (needle);                                            \
                if (!strstr(_h, _n))                                                               \
                        fail_msg("expected '%s' in:\n%s", _n, _h);                                 \
        } while (0)
#define assert_not_contains(hay, needle)                                                          \
        do {                                                                                       \
                const char *_h = (hay), *_n = (needle);                                            \
                if (strstr(_h, _n))                                                                \
                        fail_msg("did not expect '%s' in:\n%s", _n, _h);                           \
        } while (0)

/* Persist the plan under a fresh root, run netplan generate there, and return the root for checks. */
static void persist_and_generate(const struct net_plan *p, struct tmp_root *t) {
        tmp_root_new(t);
        assert_int_equal(netplan_persist(t->fd, p, NULL), 0);
        struct stat st;
        assert_int_equal(fstatat(t->fd, NETPLAN_FILE, &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        int r = netplan_generate(t->path);
        if (r == -ENOENT)
                skip_because("netplan is not installed");
        assert_int_equal(r, 0);
}

/* ---- the nine hosts ----------------------------------------------------------------------------- */

static void check_seed_host(size_t i) {
        const struct role_case *rc = &roles[i];
        const struct nic_list nics = rc->speed == 10000 ? NICS(two_nics_10g) : NICS(two_nics_1g);
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        assert_int_equal(plan_for(rc->role, &nics, NULL, false, &d, &p), 0);
        assert_int_equal(d.n, 0);
        diags_done(&d);

        _cleanup_free_ char *fqdn = strprintf("%s.domain.com", rc->host);
        assert_string_equal(p->hostname, fqdn);
        assert_int_equal(p->n_links, 2 + 1 + rc->n_vlans);
        assert_true(p->lacp_fallback);
        const struct net_link *b = net_plan_bond(p);
        assert_non_null(b);
        assert_string_equal(b->name, "bond0");
        assert_int_equal(b->bond.mode, BOND_MODE_8023AD);
        assert_string_equal(b->mac, "52:54:00:00:00:11");
        assert_int_equal(p->links[0].kind, NET_LINK_ETHER);
        assert_string_equal(p->links[0].master, "bond0");
        assert_string_equal(p->dns[0], "10.0.50.11");
        assert_null(p->dns[1]);
        assert_string_equal(p->search[0], "domain.com");

        size_t n_default = 0;
        for (size_t k = 0; k < rc->n_vlans; k++) {
                _cleanup_free_ char *name = strprintf("bond0.%u", rc->vlans[k]);
                const struct net_link *v = net_plan_find_link(p, name);
                assert_non_null(v);
                assert_int_equal(v->kind, NET_LINK_VLAN);
                assert_int_equal(v->vlan_id, rc->vlans[k]);
                assert_string_equal(v->parent, "bond0");
                assert_int_equal(v->n_addrs, 1);
                assert_int_equal(v->addrs[0].addr, vlan_addr(rc->vlans[k], rc->n));
                assert_int_equal(v->addrs[0].prefix, 24);
                if (v->default_route) {
                        n_default++;
                        assert_int_equal(v->vlan_id, 20);
                        assert_int_equal(v->gateway, IP(10, 0, 50, 1));
                }
        }
        assert_int_equal(n_default, 1);

        /* Rendering is deterministic. */
        _cleanup_free_ char *y1 = netplan_render(p), *y2 = netplan_render(p);
        assert_string_equal(y1, y2);

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *netdev = read_rel(&t, "run/systemd/network/10-netplan-bond0.netdev");
        assert_contains(netdev, "Kind=bond");
        assert_contains(netdev, "Mode=802.3ad");
        assert_contains(netdev, "LACPTransmitRate=fast");
        assert_contains(netdev, "MIIMonitorSec=100ms");
        assert_contains(netdev, "TransmitHashPolicy=layer3+4");
        assert_contains(netdev, "MACAddress=52:54:00:00:00:11");
        _cleanup_free_ char *m1 = read_rel(&t, "run/systemd/network/10-netplan-enp1s0.network");
        assert_contains(m1, "PermanentMACAddress=52:54:00:00:00:11");
        assert_contains(m1, "Bond=bond0");
        assert_contains(m1, "RequiredForOnline=no");
        _cleanup_free_ char *m2 = read_rel(&t, "run/systemd/network/10-netplan-enp2s0.network");
        assert_contains(m2, "PermanentMACAddress=52:54:00:00:00:12");
        _cleanup_free_ char *bn = read_rel(&t, "run/systemd/network/10-netplan-bond0.network");
        for (size_t k = 0; k < rc->n_vlans; k++) {
                _cleanup_free_ char *vl = strprintf("VLAN=bond0.%u", rc->vlans[k]);
                assert_contains(bn, vl);
                _cleanup_free_ char *nd = strprintf("run/systemd/network/10-netplan-bond0.%u.netdev", rc->vlans[k]);
                _cleanup_free_ char *nw = strprintf("run/systemd/network/10-netplan-bond0.%u.network", rc->vlans[k]);
                _cleanup_free_ char *vnd = read_rel(&t, nd), *vnw = read_rel(&t, nw);
                _cleanup_free_ char *id = strprintf("Id=%u", rc->vlans[k]);
                assert_contains(vnd, "Kind=vlan");
                assert_contains(vnd, id);
                _cleanup_free_ char *a = format_ipv4(vlan_addr(rc->vlans[k], rc->n));
                _cleanup_free_ char *al = strprintf("Address=%s/24", a);
                assert_contains(vnw, al);
                if (rc->vlans[k] == 20) {
                        assert_contains(vnw, "Gateway=10.0.50.1");
                        assert_contains(vnw, "DNS=10.0.50.11");
                        assert_contains(vnw, "Domains=domain.com");
                } else {
                        assert_not_contains(vnw, "Gateway=");
                        assert_not_contains(vnw, "DNS=");
                }
        }
        tmp_root_done(&t);
}

static void test_seed_hosts(void **state) {
        for (size_t i = 0; i < N_ROLES; i++)
                check_seed_host(i);
}

/* The exact YAML for one host, so that format changes are deliberate. */
static const char db_yaml[] =
        "# Written by rackstack-firstboot. This is the only network configuration of this host:\n"
        "# other netplan files were renamed *.disabled-by-rackstack and cloud-init's network\n"
        "# configuration is disabled. Ethernets are matched by MAC, so kernel renames do not matter.\n"
        "# Host: lab-db1.domain.com\n"
        "network:\n"
        "  version: 2\n"
        "  renderer: networkd\n"
        "  ethernets:\n"
        "    enp1s0:\n"
        "      match:\n"
        "        macaddress: \"52:54:00:00:00:11\"\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      link-local: []\n"
        "      optional: true\n"
        "    enp2s0:\n"
        "      match:\n"
        "        macaddress: \"52:54:00:00:00:12\"\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      link-local: []\n"
        "      optional: true\n"
        "  bonds:\n"
        "    bond0:\n"
        "      interfaces:\n"
        "        - enp1s0\n"
        "        - enp2s0\n"
        "      macaddress: \"52:54:00:00:00:11\"\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      link-local: []\n"
        "      parameters:\n"
        "        mode: 802.3ad\n"
        "        mii-monitor-interval: 100\n"
        "        lacp-rate: fast\n"
        "        transmit-hash-policy: layer3+4\n"
        "  vlans:\n"
        "    bond0.10:\n"
        "      id: 10\n"
        "      link: bond0\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      addresses:\n"
        "        - \"10.0.10.12/24\"\n"
        "    bond0.20:\n"
        "      id: 20\n"
        "      link: bond0\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      addresses:\n"
        "        - \"10.0.50.12/24\"\n"
        "      routes:\n"
        "        - to: default\n"
        "          via: \"10.0.50.1\"\n"
        "      nameservers:\n"
        "        addresses:\n"
        "          - \"10.0.50.11\"\n"
        "        search:\n"
        "          - \"domain.com\"\n"
        "    bond0.40:\n"
        "      id: 40\n"
        "      link: bond0\n"
        "      dhcp4: false\n"
        "      dhcp6: false\n"
        "      addresses:\n"
        "        - \"10.0.40.12/24\"\n";

static void test_db_golden(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_10g);
        assert_int_equal(plan_for("db", &nics, NULL, false, &d, &p), 0);
        diags_done(&d);
        _cleanup_free_ char *y = netplan_render(p);
        assert_string_equal(y, db_yaml);
}

/* ---- fallbacks and choices ---------------------------------------------------------------------- */

static void test_vm_active_backup(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_1g);
        assert_int_equal(plan_for("app", &nics, NULL, true, &d, &p), 0);
        diags_done(&d);
        const struct net_link *b = net_plan_bond(p);
        assert_int_equal(b->bond.mode, BOND_MODE_ACTIVE_BACKUP);
        assert_string_equal(b->bond.primary, "enp1s0");
        assert_false(p->lacp_fallback);

        _cleanup_free_ char *y = netplan_render(p);
        assert_contains(y, "mode: active-backup");
        assert_contains(y, "primary: enp1s0");
        assert_not_contains(y, "lacp-rate");
        assert_not_contains(y, "transmit-hash-policy");

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *netdev = read_rel(&t, "run/systemd/network/10-netplan-bond0.netdev");
        assert_contains(netdev, "Mode=active-backup");
        assert_not_contains(netdev, "LACPTransmitRate");
        _cleanup_free_ char *m1 = read_rel(&t, "run/systemd/network/10-netplan-enp1s0.network");
        assert_contains(m1, "PrimarySlave=true");
        tmp_root_done(&t);
}

static void test_lacp_fallback(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL, *ab = NULL;
        const struct nic_list nics = NICS(two_nics_10g);
        assert_int_equal(plan_for("infra", &nics, NULL, false, &d, &p), 0);
        diags_done(&d);
        assert_true(p->lacp_fallback);
        assert_int_equal(net_plan_to_active_backup(p, &ab), 0);
        assert_false(ab->lacp_fallback);
        assert_int_equal(ab->n_links, p->n_links);
        assert_int_equal(net_plan_bond(ab)->bond.mode, BOND_MODE_ACTIVE_BACKUP);
        assert_string_equal(net_plan_bond(ab)->bond.primary, "enp1s0");
        assert_int_equal(net_plan_bond(p)->bond.mode, BOND_MODE_8023AD); /* the original is untouched */
        assert_string_equal(net_plan_find_link(ab, "bond0.20")->parent, "bond0");

        struct tmp_root t;
        persist_and_generate(ab, &t);
        _cleanup_free_ char *netdev = read_rel(&t, "run/systemd/network/10-netplan-bond0.netdev");
        assert_contains(netdev, "Mode=active-backup");
        tmp_root_done(&t);
}

static void test_fastest_with_carrier(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(four_nics);
        assert_int_equal(plan_for("db", &nics, NULL, false, &d, &p), 0);
        assert_int_equal(d.n_errors, 0);
        diags_done(&d);
        assert_string_equal(p->links[0].name, "ens1f0");
        assert_string_equal(p->links[1].name, "ens1f1");
        assert_int_equal(p->links[2].kind, NET_LINK_BOND);
        assert_string_equal(p->links[2].mac, "3c:fd:fe:00:00:10");
}

static void test_mac_named_members(void **state) {
        static const char *const members[] = { "52:54:00:00:00:12", "52:54:00:00:00:11" };
        static const struct net_bond_option opts[] = {
                { "mode", "active-backup" }, { "miimon", "200" }, { "primary", "52:54:00:00:00:12" },
        };
        struct net_answers a = { .bond_members = members, .n_bond_members = 2, .bond_options = opts,
                                 .n_bond_options = ELEMENTSOF(opts) };
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        /* Renamed NICs: the kickstart's MACs still find them. */
        struct nic renamed[] = {
                { .name = S("eth0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = true },
                { .name = S("eth1"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = true },
        };
        const struct nic_list nics = NICS(renamed);
        assert_int_equal(plan_for("comm", &nics, &a, false, &d, &p), 0);
        diags_done(&d);
        assert_string_equal(p->links[0].name, "eth1");
        assert_string_equal(p->links[1].name, "eth0");
        const struct net_link *b = net_plan_bond(p);
        assert_int_equal(b->bond.mode, BOND_MODE_ACTIVE_BACKUP);
        assert_int_equal(b->bond.miimon, 200);
        assert_string_equal(b->bond.primary, "eth1");
        assert_string_equal(b->mac, "52:54:00:00:00:12");
        _cleanup_free_ char *y = netplan_render(p);
        /* Sorted, whatever order the answers gave. */
        assert_contains(y, "      interfaces:\n        - eth0\n        - eth1\n");
        assert_contains(y, "mii-monitor-interval: 200");

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *m = read_rel(&t, "run/systemd/network/10-netplan-eth1.network");
        assert_contains(m, "PermanentMACAddress=52:54:00:00:00:12");
        assert_contains(m, "PrimarySlave=true");
        tmp_root_done(&t);
}

/* ARP monitoring instead of MII, as a kickstart may ask for active-backup behind dumb switches. */
static void test_arp_monitoring(void **state) {
        static const struct net_bond_option opts[] = {
                { "mode", "active-backup" }, { "arp_interval", "200" }, { "arp_ip_target", "10.0.50.1,10.0.50.11" },
        };
        struct net_answers a = { .bond_options = opts, .n_bond_options = ELEMENTSOF(opts) };
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_1g);
        assert_int_equal(plan_for("biz", &nics, &a, false, &d, &p), 0);
        assert_int_equal(d.n, 0);
        diags_done(&d);
        const struct net_link *b = net_plan_bond(p);
        assert_int_equal(b->bond.miimon, 0); /* the profile's miimon gives way */
        assert_int_equal(b->bond.arp_interval, 200);
        assert_int_equal(b->bond.n_arp_ip_targets, 2);
        assert_int_equal(b->bond.arp_ip_targets[1], IP(10, 0, 50, 11));

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *netdev = read_rel(&t, "run/systemd/network/10-netplan-bond0.netdev");
        assert_contains(netdev, "Mode=active-backup");
        assert_contains(netdev, "ARPIntervalSec=200ms");
        assert_contains(netdev, "ARPIPTargets=10.0.50.1 10.0.50.11");
        assert_not_contains(netdev, "MIIMonitorSec");
        tmp_root_done(&t);
}

static void test_ad_select(void **state) {
        static const struct net_bond_option opts[] = { { "ad_select", "bandwidth" }, { "min_links", "1" } };
        struct net_answers a = { .bond_options = opts, .n_bond_options = ELEMENTSOF(opts) };
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_10g);
        assert_int_equal(plan_for("db", &nics, &a, false, &d, &p), 0);
        diags_done(&d);
        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *netdev = read_rel(&t, "run/systemd/network/10-netplan-bond0.netdev");
        assert_contains(netdev, "Mode=802.3ad");
        assert_contains(netdev, "AdSelect=bandwidth");
        assert_contains(netdev, "MinLinks=1");
        tmp_root_done(&t);
}

static void test_single_nic_degrade(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(one_carrier);
        assert_int_equal(plan_for("voip", &nics, NULL, false, &d, &p), 0);
        assert_int_equal(d.n_errors, 0);
        _cleanup_free_ char *txt = diags_text(&d);
        assert_contains(txt, "warning: only 1 of 2 NICs have carrier: bond0 runs degraded on enp2s0 alone");
        diags_done(&d);
        assert_int_equal(p->n_links, 1 + 1 + 3);
        assert_string_equal(p->links[0].name, "enp2s0");
        assert_non_null(net_plan_find_link(p, "bond0.30"));
        assert_int_equal(net_plan_find_link(p, "bond0.30")->addrs[0].addr, IP(10, 0, 30, 15));

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *m = read_rel(&t, "run/systemd/network/10-netplan-enp2s0.network");
        assert_contains(m, "Bond=bond0");
        tmp_root_done(&t);
}

static void test_answers_override(void **state) {
        /* An address with a netmask and its own gateway on VLAN 10: the default route moves there. */
        static const struct net_vlan_answer vl[] = {
                { .id = 10, .address = "10.0.10.99", .netmask = "255.255.255.0", .gateway = "10.0.10.1" },
                { .id = 20, .nodefroute = true, .mtu = 1400 },
        };
        static const char *const ns[] = { "10.0.10.53", "10.0.50.11" };
        struct net_answers a = { .hostname = "lab-it1.domain.com", .vlans = vl, .n_vlans = 2, .nameservers = ns,
                                 .n_nameservers = 2, .mtu = 9000 };
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_1g);
        assert_int_equal(plan_for("it", &nics, &a, false, &d, &p), 0);
        assert_int_equal(d.n, 0);
        diags_done(&d);
        const struct net_link *v10 = net_plan_find_link(p, "bond0.10"), *v20 = net_plan_find_link(p, "bond0.20");
        assert_int_equal(v10->addrs[0].addr, IP(10, 0, 10, 99));
        assert_true(v10->default_route);
        assert_false(v20->default_route);
        assert_int_equal(v20->mtu, 1400);
        assert_int_equal(net_plan_bond(p)->mtu, 9000);
        assert_string_equal(p->dns[0], "10.0.10.53");
        assert_string_equal(p->hostname, "lab-it1.domain.com");

        struct tmp_root t;
        persist_and_generate(p, &t);
        _cleanup_free_ char *n10 = read_rel(&t, "run/systemd/network/10-netplan-bond0.10.network");
        assert_contains(n10, "Gateway=10.0.10.1");
        assert_contains(n10, "DNS=10.0.10.53");
        _cleanup_free_ char *n20 = read_rel(&t, "run/systemd/network/10-netplan-bond0.20.network");
        assert_not_contains(n20, "Gateway=");
        assert_contains(n20, "MTUBytes=1400");
        tmp_root_done(&t);
}

static void test_persist_single_writer(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_1g);
        assert_int_equal(plan_for("erp", &nics, NULL, false, &d, &p), 0);
        diags_done(&d);

        struct tmp_root t;
        tmp_root_new(&t);
        assert_int_equal(mkdir_parents_at(t.fd, "etc/netplan", 0755), 0);
        assert_int_equal(mkdir_parents_at(t.fd, "etc/cloud", 0755), 0);
        static const char ci[] = "network:\n  version: 2\n  ethernets:\n    enp1s0: {dhcp4: true}\n";
        assert_int_equal(write_file_atomic(t.fd, "etc/netplan/50-cloud-init.yaml", ci, sizeof ci - 1, 0600), 0);
        assert_int_equal(write_file_atomic(t.fd, "etc/netplan/01-netcfg.yml", ci, sizeof ci - 1, 0600), 0);

        struct netplan_persist_result res = {};
        assert_int_equal(netplan_persist(t.fd, p, &res), 0);
        assert_true(res.cloud_init_disabled);
        assert_int_equal(strv_length(res.moved_aside), 2);
        assert_true(strv_contains(res.moved_aside, "etc/netplan/50-cloud-init.yaml"));
        netplan_persist_result_done(&res);

        struct stat st;
        assert_int_equal(fstatat(t.fd, "etc/netplan/50-cloud-init.yaml", &st, 0), -1);
        assert_int_equal(fstatat(t.fd, "etc/netplan/50-cloud-init.yaml" NETPLAN_ASIDE_SUFFIX, &st, 0), 0);
        _cleanup_free_ char *cfg = read_rel(&t, NETPLAN_CLOUD_INIT_DISABLE);
        assert_contains(cfg, "network: {config: disabled}");

        /* A second run is idempotent: nothing else to move, same file. */
        assert_int_equal(netplan_persist(t.fd, p, &res), 0);
        assert_int_equal(strv_length(res.moved_aside), 0);
        netplan_persist_result_done(&res);

        int r = netplan_generate(t.path);
        if (r != -ENOENT) {
                assert_int_equal(r, 0);
                /* cloud-init's DHCP stanza is gone: enp1s0 is a bond member, nothing else. */
                _cleanup_free_ char *m = read_rel(&t, "run/systemd/network/10-netplan-enp1s0.network");
                assert_not_contains(m, "DHCP=");
        }
        tmp_root_done(&t);
}

/* ---- bad answers -------------------------------------------------------------------------------- */

#define AT(l, c) { .file = "ks.cfg", .line = (l), .col = (c) }

struct bad_case {
        const char *name;
        const char *role;
        struct net_answers answers;
        const struct nic *nics; /* NULL: two 1G NICs */
        size_t n_nics;
        const char *expect; /* substring of the printed diagnostics */
};

static const struct net_vlan_answer vlan0[] = { { .id = 0, .src = AT(3, 32) } };
static const struct net_vlan_answer vlan4095[] = { { .id = 4095, .src = AT(4, 32) } };
static const struct net_vlan_answer vlan70[] = { { .id = 70, .src = AT(4, 32) } };
static const struct net_vlan_answer badmask[] = {
        { .id = 20, .address = "10.0.50.12", .netmask = "255.0.255.0", .netmask_src = AT(5, 60) },
};
static const struct net_vlan_answer badgw[] = {
        { .id = 20, .address = "10.0.50.12/24", .gateway = "10.0.60.1", .gateway_src = AT(6, 70) },
};
static const struct net_vlan_answer badip[] = { { .id = 10, .address = "256.1.1.1", .address_src = AT(7, 20) } };
static const struct net_vlan_answer outside[] = { { .id = 10, .address = "10.0.11.5", .address_src = AT(8, 20) } };
static const struct net_vlan_answer bcast[] = { { .id = 10, .address = "10.0.10.255", .address_src = AT(8, 20) } };
static const struct net_vlan_answer twodef[] = {
        { .id = 10, .gateway = "10.0.10.1", .src = AT(1, 1) }, { .id = 20, .gateway = "10.0.50.1", .src = AT(2, 1) },
};
static const char *const unknown_nic[] = { "enp1s0", "eno9" };
static const char *const twice_nic[] = { "enp1s0", "52:54:00:00:00:11" };
static const struct net_bond_option unknown_opt[] = { { "lacp_rat", "fast", AT(9, 40) } };
static const struct net_bond_option weird_opt[] = { { "fail_over_mac", "active", AT(9, 40) } };
static const struct net_bond_option bad_mode[] = { { "mode", "9", AT(9, 20) } };
static const struct net_bond_option bad_miimon[] = { { "miimon", "fast", AT(9, 30) } };
static const struct net_bond_option bad_primary[] = { { "primary", "enp3s0", AT(9, 50) } };
static const char *const bad_ns[] = { "10.0.50.300" };
static const struct net_bond_option arp_with_lacp[] = { { "arp_interval", "100", AT(9, 10) }, { "arp_ip_target", "10.0.50.1" } };
static const struct net_bond_option arp_and_mii[] = {
        { "mode", "active-backup" }, { "miimon", "100" }, { "arp_interval", "100", AT(9, 11) },
        { "arp_ip_target", "10.0.50.1" },
};
static const struct net_bond_option arp_no_target[] = { { "mode", "active-backup" }, { "arp_interval", "100", AT(9, 12) } };
static const struct net_bond_option arp_bad_target[] = { { "arp_ip_target", "10.0.50", AT(9, 13) } };
static const struct net_bond_option bad_ad_select[] = { { "ad_select", "fastest", AT(9, 14) } };

static const struct bad_case bad_cases[] = {
        { "vlan 0", "db", { .vlans = vlan0, .n_vlans = 1 }, .expect = "ks.cfg:3:32: error: VLAN id 0 is out of range 1..4094" },
        { "vlan 4095", "db", { .vlans = vlan4095, .n_vlans = 1 },
          .expect = "ks.cfg:4:32: error: VLAN id 4095 is out of range 1..4094" },
        { "vlan not in role", "infra", { .vlans = vlan70, .n_vlans = 1 },
          .expect = "ks.cfg:4:32: error: VLAN 70 is not one of role infra's VLANs (10, 20)" },
        { "non-contiguous mask", "db", { .vlans = badmask, .n_vlans = 1 },
          .expect = "ks.cfg:5:60: error: netmask 255.0.255.0 is not contiguous" },
        { "gateway outside subnet", "db", { .vlans = badgw, .n_vlans = 1 },
          .expect = "ks.cfg:6:70: error: gateway 10.0.60.1 is outside the subnet 10.0.50.0/24 of VLAN 20" },
        { "bad address", "db", { .vlans = badip, .n_vlans = 1 }, .expect = "ks.cfg:7:20: error: invalid IPv4 address '256.1.1.1'" },
        { "address outside site subnet", "db", { .vlans = outside, .n_vlans = 1 },
          .expect = "ks.cfg:8:20: error: address 10.0.11.5 is outside VLAN 10's subnet 10.0.10.0/24" },
        { "broadcast address", "db", { .vlans = bcast, .n_vlans = 1 },
          .expect = "ks.cfg:8:20: error: address 10.0.10.255/24 is the subnet's network or broadcast address" },
        { "two default routes", "db", { .vlans = twodef, .n_vlans = 2 },
          .expect = "ks.cfg:2:1: error: VLAN 20 also claims the default route (VLAN 10 has it already)" },
        { "unknown NIC", "db", { .bond_members = unknown_nic, .n_bond_members = 2, .bond_members_src = AT(2, 45) },
          .expect = "ks.cfg:2:45: error: bond member 'eno9': no such NIC (have: enp1s0 (52:54:00:00:00:11), "
                    "enp2s0 (52:54:00:00:00:12))" },
        { "same NIC twice", "db", { .bond_members = twice_nic, .n_bond_members = 2, .bond_members_src = AT(2, 45) },
          .expect = "ks.cfg:2:45: error: bond member '52:54:00:00:00:11' names NIC enp1s0 a second time" },
        { "unknown bond option", "db", { .bond_options = unknown_opt, .n_bond_options = 1 },
          .expect = "ks.cfg:9:40: error: unknown bond option 'lacp_rat' (did you mean 'lacp_rate'?)" },
        { "unsupported bond option", "db", { .bond_options = weird_opt, .n_bond_options = 1 },
          .expect = "ks.cfg:9:40: error: unknown bond option 'fail_over_mac' (known: mode," },
        { "bond mode 9", "db", { .bond_options = bad_mode, .n_bond_options = 1 },
          .expect = "ks.cfg:9:20: error: unknown bond mode '9'" },
        { "miimon not a number", "db", { .bond_options = bad_miimon, .n_bond_options = 1 },
          .expect = "ks.cfg:9:30: error: bond option miimon wants a number of milliseconds, not 'fast'" },
        { "primary not a member", "db", { .bond_options = bad_primary, .n_bond_options = 1 },
          .expect = "ks.cfg:9:50: error: bond primary 'enp3s0' is not a bond member" },
        { "bad hostname", "db", { .hostname = "lab_db1", .hostname_src = AT(1, 60) },
          .expect = "ks.cfg:1:60: error: invalid host name 'lab_db1': host names may not contain '_'" },
        { "host of another role", "db", { .hostname = "lab-voip1", .hostname_src = AT(1, 60) },
          .expect = "ks.cfg:1:60: error: host 'lab-voip1' has role 'voip' in the site, but this image is role 'db'" },
        { "bad name server", "db", { .nameservers = bad_ns, .n_nameservers = 1, .nameservers_src = AT(1, 80) },
          .expect = "ks.cfg:1:80: error: invalid name server '10.0.50.300'" },
        { "mtu out of range", "db", { .mtu = 40, .mtu_src = AT(1, 90) },
          .expect = "ks.cfg:1:90: error: MTU 40 is out of range 68..65535" },
        { "ARP monitoring with 802.3ad", "db", { .bond_options = arp_with_lacp, .n_bond_options = 2 },
          .expect = "error: ARP monitoring (arp_interval) does not work with bond mode 802.3ad" },
        { "arp_interval and miimon", "db", { .bond_options = arp_and_mii, .n_bond_options = 4 },
          .expect = "ks.cfg:9:11: error: arp_interval and miimon exclude each other" },
        { "arp_interval without target", "db", { .bond_options = arp_no_target, .n_bond_options = 2 },
          .expect = "ks.cfg:9:12: error: arp_interval without arp_ip_target monitors nothing" },
        { "bad arp_ip_target", "db", { .bond_options = arp_bad_target, .n_bond_options = 1 },
          .expect = "ks.cfg:9:13: error: arp_ip_target '10.0.50' is not an IPv4 address" },
        { "bad ad_select", "db", { .bond_options = bad_ad_select, .n_bond_options = 1 },
          .expect = "ks.cfg:9:14: error: unknown ad_select 'fastest' (stable, bandwidth or count)" },
        { "no carrier anywhere", "db", {}, no_carrier, ELEMENTSOF(no_carrier),
          .expect = "error: no physical NIC has carrier, so there is nothing to bond" },
};

static void test_bad_answers(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                struct nic_list nics = c->nics ? (struct nic_list) { (struct nic *) c->nics, c->n_nics } : NICS(two_nics_1g);
                struct diags d = {};
                struct net_plan *p = NULL;
                int r = plan_for(c->role, &nics, &c->answers, false, &d, &p);
                _cleanup_free_ char *txt = diags_text(&d);
                if (r != -EINVAL || p)
                        fail_msg("case '%s': expected -EINVAL and no plan, got %d\n%s", c->name, r, txt);
                if (!strstr(txt, c->expect))
                        fail_msg("case '%s': expected '%s' in:\n%s", c->name, c->expect, txt);
                diags_done(&d);
        }
}

/* The shipped profiles and site, through the real loader: every host plans, and its addresses are the
 * ones the hand-built seed above says (so the two cannot drift apart unnoticed). */
static void test_shipped_profiles(void **state) {
        struct diags d = {};
        _cleanup_(site_freep) struct site *s = NULL;
        if (site_load_file("profiles/site.yaml", &d, &s) < 0) {
                diags_print(&d, stderr);
                fail_msg("cannot load profiles/site.yaml (run from the source tree)");
        }
        for (size_t i = 0; i < N_ROLES; i++) {
                const struct role_case *rc = &roles[i];
                _cleanup_(profile_freep) struct profile *prof = NULL;
                assert_int_equal(profile_load("profiles", rc->role, &d, &prof), 0);
                const struct nic_list nics = rc->speed == 10000 ? NICS(two_nics_10g) : NICS(two_nics_1g);
                struct net_plan_input in = { .profile = prof, .site = s, .nics = &nics };
                _cleanup_(net_plan_freep) struct net_plan *p = NULL;
                if (net_plan_build(&in, &d, &p) < 0) {
                        diags_print(&d, stderr);
                        fail_msg("role %s does not plan", rc->role);
                }
                assert_int_equal(d.n, 0);
                _cleanup_free_ char *fqdn = strprintf("%s.domain.com", rc->host);
                assert_string_equal(p->hostname, fqdn);
                assert_int_equal(prof->bond.speed_mbps, rc->speed);
                const struct net_link *b = net_plan_bond(p);
                assert_int_equal(b->bond.mode, BOND_MODE_8023AD);
                assert_int_equal(b->bond.miimon, 100);
                assert_int_equal(b->bond.lacp_rate, LACP_RATE_FAST);
                assert_int_equal(b->bond.xmit_hash_policy, XMIT_HASH_LAYER3_4);
                assert_int_equal(p->n_links, 3 + rc->n_vlans);
                for (size_t k = 0; k < rc->n_vlans; k++) {
                        _cleanup_free_ char *name = strprintf("bond0.%u", rc->vlans[k]);
                        const struct net_link *v = net_plan_find_link(p, name);
                        assert_non_null(v);
                        assert_int_equal(v->addrs[0].addr, vlan_addr(rc->vlans[k], rc->n));
                        assert_int_equal(v->default_route, rc->vlans[k] == 20);
                }
                /* Same plan as from the hand-built seed: same YAML. */
                struct net_plan_input hand = { .profile = &profiles[i], .site = &site, .nics = &nics };
                _cleanup_(net_plan_freep) struct net_plan *q = NULL;
                assert_int_equal(net_plan_build(&hand, &d, &q), 0);
                _cleanup_free_ char *y1 = netplan_render(p), *y2 = netplan_render(q);
                assert_string_equal(y1, y2);
                diags_done(&d);
        }
}

static void test_resolv_conf(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_1g);
        assert_int_equal(plan_for("id", &nics, NULL, false, &d, &p), 0);
        diags_done(&d);
        struct tmp_root t;
        tmp_root_new(&t);
        assert_int_equal(net_write_resolv_conf(t.fd, p), 1);
        _cleanup_free_ char *rc = read_rel(&t, "etc/resolv.conf");
        assert_contains(rc, "\nnameserver 10.0.50.11\nsearch domain.com\n");
        /* systemd-resolved's stub: left alone, netplan's nameservers reach resolved instead. */
        assert_int_equal(unlinkat(t.fd, "etc/resolv.conf", 0), 0);
        assert_int_equal(symlinkat("../run/systemd/resolve/stub-resolv.conf", t.fd, "etc/resolv.conf"), 0);
        assert_int_equal(net_write_resolv_conf(t.fd, p), 0);
        struct stat st;
        assert_int_equal(fstatat(t.fd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISLNK(st.st_mode));
        tmp_root_done(&t);
}

/* All the errors of one answer file at once, each at its place. */
static void test_all_errors_reported(void **state) {
        struct net_answers a = { .bond_members = unknown_nic, .n_bond_members = 2, .bond_members_src = AT(2, 45),
                                 .bond_options = unknown_opt, .n_bond_options = 1, .vlans = badmask, .n_vlans = 1 };
        struct nic_list nics = NICS(two_nics_1g);
        struct diags d = {};
        struct net_plan *p = NULL;
        assert_int_equal(plan_for("db", &nics, &a, false, &d, &p), -EINVAL);
        assert_null(p);
        _cleanup_free_ char *txt = diags_text(&d);
        assert_int_equal(d.n_errors, 3);
        assert_contains(txt, "ks.cfg:9:40: error: unknown bond option 'lacp_rat'");
        assert_contains(txt, "ks.cfg:2:45: error: bond member 'eno9': no such NIC");
        assert_contains(txt, "ks.cfg:5:60: error: netmask 255.0.255.0 is not contiguous");
        diags_done(&d);
}

/* A plan is JSON that names its links and explains itself. */
static void test_plan_json(void **state) {
        struct diags d = {};
        _cleanup_(net_plan_freep) struct net_plan *p = NULL;
        const struct nic_list nics = NICS(two_nics_10g);
        assert_int_equal(plan_for("db", &nics, NULL, true, &d, &p), 0);
        diags_done(&d);
        struct json j = {};
        net_plan_to_json(p, &j);
        _cleanup_free_ char *s = buf_steal(&j.out);
        assert_contains(s, "\"name\":\"bond0.20\"");
        assert_contains(s, "\"mode\":\"active-backup\"");
        assert_contains(s, "\"addresses\":[\"10.0.50.12/24\"]");
        assert_contains(s, "a virtual machine has no LACP partner");
        _cleanup_free_ char *txt = net_plan_to_text(p);
        assert_contains(txt, "vlan   bond0.20     id 20 on bond0 10.0.50.12/24 default via 10.0.50.1");
}

int main(void) {
        seed_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed_hosts),
                cmocka_unit_test(test_db_golden),
                cmocka_unit_test(test_vm_active_backup),
                cmocka_unit_test(test_lacp_fallback),
                cmocka_unit_test(test_fastest_with_carrier),
                cmocka_unit_test(test_mac_named_members),
                cmocka_unit_test(test_arp_monitoring),
                cmocka_unit_test(test_ad_select),
                cmocka_unit_test(test_single_nic_degrade),
                cmocka_unit_test(test_answers_override),
                cmocka_unit_test(test_persist_single_writer),
                cmocka_unit_test(test_bad_answers),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_plan_json),
                cmocka_unit_test(test_shipped_profiles),
                cmocka_unit_test(test_resolv_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
