/* SPDX-License-Identifier: MIT */
/* The parts of the live network step that need no kernel: the netlink messages we would send for a bond
 * and a VLAN (this host has neither module), /proc/net/bonding parsing, ARP frames, the result JSON. */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <netlink/attr.h>
#include <netlink/msg.h>

#include "cleanup.h"
#include "link.h"
#include "net-apply.h"
#include "util.h"

#define S(x) ((char *) (x))

static struct nlattr *parse_linkinfo(struct nl_msg *msg, struct nlattr **tb, const char *kind,
                                     struct nlattr **data, int data_max) {
        struct nlmsghdr *nlh = nlmsg_hdr(msg);
        assert_int_equal(nlh->nlmsg_type, RTM_NEWLINK);
        assert_true(nlh->nlmsg_flags & NLM_F_CREATE);
        assert_int_equal(nlmsg_parse(nlh, sizeof(struct ifinfomsg), tb, IFLA_MAX, NULL), 0);
        assert_non_null(tb[IFLA_LINKINFO]);
        struct nlattr *li[IFLA_INFO_MAX + 1];
        assert_int_equal(nla_parse_nested(li, IFLA_INFO_MAX, tb[IFLA_LINKINFO], NULL), 0);
        assert_string_equal(nla_get_string(li[IFLA_INFO_KIND]), kind);
        assert_non_null(li[IFLA_INFO_DATA]);
        assert_int_equal(nla_parse_nested(data, data_max, li[IFLA_INFO_DATA], NULL), 0);
        return li[IFLA_INFO_DATA];
}

static void test_bond_msg_8023ad(void **state) {
        struct net_link l = {
                .kind = NET_LINK_BOND, .name = S("bond0"), .mac = S("52:54:00:00:00:11"), .mtu = 9000,
                .bond = { .mode = BOND_MODE_8023AD, .miimon = 100, .lacp_rate = LACP_RATE_FAST,
                          .xmit_hash_policy = XMIT_HASH_LAYER3_4, .min_links = 1 },
        };
        struct nl_msg *msg = NULL;
        assert_int_equal(link_bond_build_msg(&l, 0, &msg), 0);
        struct nlattr *tb[IFLA_MAX + 1], *bd[IFLA_BOND_MAX + 1];
        parse_linkinfo(msg, tb, "bond", bd, IFLA_BOND_MAX);
        assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "bond0");
        assert_int_equal(nla_get_u32(tb[IFLA_MTU]), 9000);
        assert_int_equal(nla_len(tb[IFLA_ADDRESS]), 6);
        assert_memory_equal(nla_data(tb[IFLA_ADDRESS]), "\x52\x54\x00\x00\x00\x11", 6);
        assert_int_equal(nla_get_u8(bd[IFLA_BOND_MODE]), 4);            /* BOND_MODE_8023AD */
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_MIIMON]), 100);
        assert_int_equal(nla_get_u8(bd[IFLA_BOND_AD_LACP_RATE]), 1);     /* fast */
        assert_int_equal(nla_get_u8(bd[IFLA_BOND_XMIT_HASH_POLICY]), 1); /* kernel's LAYER34 */
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_MIN_LINKS]), 1);
        assert_null(bd[IFLA_BOND_PRIMARY]);
        assert_null(bd[IFLA_BOND_UPDELAY]);
        nlmsg_free(msg);
}

static void test_bond_msg_active_backup(void **state) {
        struct net_link l = {
                .kind = NET_LINK_BOND, .name = S("bond0"),
                .bond = { .mode = BOND_MODE_ACTIVE_BACKUP, .miimon = 100, .lacp_rate = LACP_RATE_FAST,
                          .xmit_hash_policy = XMIT_HASH_LAYER2_3, .primary = S("enp1s0"), .updelay = 200 },
        };
        struct nl_msg *msg = NULL;
        assert_int_equal(link_bond_build_msg(&l, 7, &msg), 0);
        struct nlattr *tb[IFLA_MAX + 1], *bd[IFLA_BOND_MAX + 1];
        parse_linkinfo(msg, tb, "bond", bd, IFLA_BOND_MAX);
        assert_null(tb[IFLA_MTU]);
        assert_null(tb[IFLA_ADDRESS]);
        assert_int_equal(nla_get_u8(bd[IFLA_BOND_MODE]), 1);
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_PRIMARY]), 7);
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_UPDELAY]), 200);
        /* Options the kernel rejects outside 802.3ad / hashing modes are not sent. */
        assert_null(bd[IFLA_BOND_AD_LACP_RATE]);
        assert_null(bd[IFLA_BOND_XMIT_HASH_POLICY]);
        nlmsg_free(msg);
}

static void test_bond_msg_arp(void **state) {
        struct net_link l = {
                .kind = NET_LINK_BOND, .name = S("bond0"),
                .bond = { .mode = BOND_MODE_ACTIVE_BACKUP, .arp_interval = 200,
                          .arp_ip_targets = { 0x0a003201, 0x0a00320b }, .n_arp_ip_targets = 2, .ad_select = 1 },
        };
        struct nl_msg *msg = NULL;
        assert_int_equal(link_bond_build_msg(&l, 0, &msg), 0);
        struct nlattr *tb[IFLA_MAX + 1], *bd[IFLA_BOND_MAX + 1];
        parse_linkinfo(msg, tb, "bond", bd, IFLA_BOND_MAX);
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_ARP_INTERVAL]), 200);
        assert_int_equal(nla_get_u32(bd[IFLA_BOND_MIIMON]), 0);
        assert_null(bd[IFLA_BOND_AD_SELECT]); /* 802.3ad only */
        struct nlattr *t;
        int rem, n = 0;
        uint32_t want[] = { htonl(0x0a003201), htonl(0x0a00320b) };
        nla_for_each_nested(t, bd[IFLA_BOND_ARP_IP_TARGET], rem) {
                assert_true(n < 2);
                assert_int_equal(nla_get_u32(t), want[n]);
                n++;
        }
        assert_int_equal(n, 2);
        nlmsg_free(msg);
}

static void test_bond_msg_bad(void **state) {
        struct net_link l = { .kind = NET_LINK_VLAN, .name = S("bond0") };
        struct nl_msg *msg = NULL;
        assert_int_equal(link_bond_build_msg(&l, 0, &msg), -EINVAL);
        l.kind = NET_LINK_BOND;
        l.bond.mode = _BOND_MODE_MAX;
        assert_int_equal(link_bond_build_msg(&l, 0, &msg), -EINVAL);
        assert_null(msg);
}

static void test_xmit_hash_numbers(void **state) {
        /* include/uapi/linux/if_bonding.h: LAYER2 0, LAYER34 1, LAYER23 2, ENCAP23 3, ENCAP34 4. */
        assert_int_equal(link_bond_xmit_hash_kernel(XMIT_HASH_LAYER2), 0);
        assert_int_equal(link_bond_xmit_hash_kernel(XMIT_HASH_LAYER3_4), 1);
        assert_int_equal(link_bond_xmit_hash_kernel(XMIT_HASH_LAYER2_3), 2);
        assert_int_equal(link_bond_xmit_hash_kernel(XMIT_HASH_ENCAP2_3), 3);
        assert_int_equal(link_bond_xmit_hash_kernel(XMIT_HASH_ENCAP3_4), 4);
        assert_int_equal(link_bond_xmit_hash_kernel(_XMIT_HASH_MAX), -EINVAL);
}

static void test_vlan_msg(void **state) {
        struct net_link l = { .kind = NET_LINK_VLAN, .name = S("bond0.20"), .parent = S("bond0"), .vlan_id = 20,
                              .mtu = 1500 };
        struct rtnl_link *link = NULL;
        assert_int_equal(link_vlan_build(&l, 5, &link), 0);
        struct nl_msg *msg = NULL;
        assert_int_equal(rtnl_link_build_add_request(link, NLM_F_CREATE | NLM_F_EXCL, &msg), 0);
        struct nlattr *tb[IFLA_MAX + 1], *vd[IFLA_VLAN_MAX + 1];
        parse_linkinfo(msg, tb, "vlan", vd, IFLA_VLAN_MAX);
        assert_string_equal(nla_get_string(tb[IFLA_IFNAME]), "bond0.20");
        assert_int_equal(nla_get_u32(tb[IFLA_LINK]), 5);
        assert_int_equal(nla_get_u32(tb[IFLA_MTU]), 1500);
        assert_int_equal(nla_get_u16(vd[IFLA_VLAN_ID]), 20);
        nlmsg_free(msg);
        rtnl_link_put(link);

        l.vlan_id = 4095;
        assert_int_equal(link_vlan_build(&l, 5, &link), -EINVAL);
        l.vlan_id = 20;
        assert_int_equal(link_vlan_build(&l, 0, &link), -EINVAL);
}

static void test_ops_table(void **state) {
        assert_ptr_equal(link_ops_for(NET_LINK_ETHER), &link_ether_ops);
        assert_ptr_equal(link_ops_for(NET_LINK_BOND), &link_bond_ops);
        assert_ptr_equal(link_ops_for(NET_LINK_VLAN), &link_vlan_ops);
        assert_null(link_ops_for(_NET_LINK_KIND_MAX));
        for (int k = 0; k < _NET_LINK_KIND_MAX; k++) {
                const struct link_ops *o = link_ops_for(k);
                assert_int_equal(o->kind, k);
                assert_non_null(o->apply);
                assert_non_null(o->rollback);
        }
        assert_null(link_ether_ops.create);
        assert_non_null(link_bond_ops.create);
        assert_non_null(link_bond_ops.verify);
}

/* As the kernel's bond_procfs.c prints it: with a partner (both ports in aggregator 1), and without. */
static const char proc_lacp[] =
        "Ethernet Channel Bonding Driver: v6.1.0-28-amd64\n\n"
        "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n"
        "Transmit Hash Policy: layer3+4 (1)\n"
        "MII Status: up\n"
        "MII Polling Interval (ms): 100\n"
        "Up Delay (ms): 0\nDown Delay (ms): 0\nPeer Notification Delay (ms): 0\n\n"
        "802.3ad info\nLACP active: on\nLACP rate: fast\nMin links: 0\n"
        "Aggregator selection policy (ad_select): stable\n"
        "System priority: 65535\nSystem MAC address: 52:54:00:00:00:11\n"
        "Active Aggregator Info:\n"
        "\tAggregator ID: 1\n\tNumber of ports: 2\n\tActor Key: 15\n\tPartner Key: 15\n"
        "\tPartner Mac Address: 52:54:00:00:00:13\n\n"
        "Slave Interface: enp0s2\nMII Status: up\nSpeed: 10000 Mbps\nDuplex: full\nLink Failure Count: 0\n"
        "Permanent HW addr: 52:54:00:00:00:11\nSlave queue ID: 0\nAggregator ID: 1\n"
        "details partner lacp pdu:\n    system priority: 65535\n    system mac address: 52:54:00:00:00:13\n\n"
        "Slave Interface: enp0s3\nMII Status: down\nSpeed: 10000 Mbps\nDuplex: full\n"
        "Permanent HW addr: 52:54:00:00:00:12\nAggregator ID: 1\n";
static const char proc_nopartner[] =
        "Ethernet Channel Bonding Driver: v6.1.0\n\n"
        "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n"
        "MII Status: up\n\n802.3ad info\nLACP rate: fast\n"
        "Active Aggregator Info:\n\tAggregator ID: 1\n\tNumber of ports: 1\n\tActor Key: 0\n\tPartner Key: 1\n"
        "\tPartner Mac Address: 00:00:00:00:00:00\n\n"
        "Slave Interface: enp0s2\nMII Status: up\n\nSlave Interface: enp0s3\nMII Status: up\n"
        "details partner lacp pdu:\n    system mac address: 00:00:00:00:00:00\n";

static void test_bond_proc(void **state) {
        struct bond_proc_info i;
        assert_int_equal(bond_proc_parse(proc_lacp, &i), 0);
        assert_string_equal(i.mode, "IEEE 802.3ad Dynamic link aggregation");
        assert_string_equal(i.mii_status, "up");
        assert_string_equal(i.partner_mac, "52:54:00:00:00:13");
        assert_int_equal(i.n_slaves, 2);
        assert_int_equal(i.n_slaves_up, 1);
        bond_proc_info_done(&i);

        assert_int_equal(bond_proc_parse(proc_nopartner, &i), 0);
        assert_null(i.partner_mac);
        assert_int_equal(i.n_slaves, 2);
        assert_int_equal(i.n_slaves_up, 2);
        bond_proc_info_done(&i);

        assert_int_equal(bond_proc_parse("garbage\n", &i), -EINVAL);
}

static void test_lacp_wait_from_fake_proc(void **state) {
        char dir[] = "/tmp/test-net-apply.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *bdir = strprintf("%s/net/bonding", dir), *cmd = strprintf("mkdir -p %s", bdir);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *f = strprintf("%s/bond0", bdir);
        FILE *fp = fopen(f, "we");
        fputs(proc_nopartner, fp);
        fclose(fp);
        char *partner = NULL;
        double t0 = now_monotonic();
        assert_int_equal(net_wait_lacp_partner(dir, "bond0", 300, &partner), 0);
        assert_true(now_monotonic() - t0 >= 0.29);
        assert_null(partner);
        fp = fopen(f, "we");
        fputs(proc_lacp, fp);
        fclose(fp);
        assert_int_equal(net_wait_lacp_partner(dir, "bond0", 300, &partner), 1);
        assert_string_equal(partner, "52:54:00:00:00:13");
        free(partner);
        assert_int_equal(net_wait_lacp_partner(dir, "bond1", 300, &partner), -ENOENT);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

static void test_arp_frames(void **state) {
        static const uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, 0x11 };
        uint32_t me = 0x0a00320c, gw = 0x0a003201; /* 10.0.50.12, 10.0.50.1 */
        uint8_t req[ARP_PAYLOAD_SIZE];
        arp_build_request(mac, me, gw, req);
        static const uint8_t want[ARP_PAYLOAD_SIZE] = {
                0, 1, 8, 0, 6, 4, 0, 1, 0x52, 0x54, 0, 0, 0, 0x11, 10, 0, 50, 12, 0, 0, 0, 0, 0, 0, 10, 0, 50, 1,
        };
        assert_memory_equal(req, want, sizeof want);

        /* The gateway's reply: op 2, sender gw with its MAC, target us. */
        uint8_t rep[ARP_PAYLOAD_SIZE] = {
                0, 1, 8, 0, 6, 4, 0, 2, 0xaa, 0xbb, 0xcc, 0, 0, 1, 10, 0, 50, 1, 0x52, 0x54, 0, 0, 0, 0x11, 10, 0, 50, 12,
        };
        uint8_t got[6];
        assert_true(arp_is_reply(rep, sizeof rep, me, gw, got));
        assert_memory_equal(got, "\xaa\xbb\xcc\x00\x00\x01", 6);
        assert_false(arp_is_reply(rep, sizeof rep - 1, me, gw, got)); /* short */
        assert_false(arp_is_reply(req, sizeof req, me, gw, got));     /* our own request */
        assert_false(arp_is_reply(rep, sizeof rep, me, 0x0a003202, got)); /* someone else */
        rep[7] = 1;
        assert_false(arp_is_reply(rep, sizeof rep, me, gw, got));
}

static void test_result_json(void **state) {
        struct net_result r = { .applied = true, .fell_back = true, .bond_mode = S("active-backup") };
        net_check_add(&r, "lacp-partner", "bond0", false, true, "no LACP partner within %u ms", 15000u);
        net_check_add(&r, "gateway-arp", "bond0.20 -> 10.0.50.1", true, true, "answered");
        assert_true(r.checks[0].fatal);
        assert_false(r.checks[1].fatal); /* passed checks are never fatal */
        char *addrs[] = { S("10.0.50.12/24"), NULL };
        struct net_live_link link = { .name = S("bond0.20"), .kind = S("vlan"), .ifindex = 9, .up = true, .mtu = 1500,
                                      .addrs = addrs };
        struct net_live_route route = { .dst = S("default"), .gateway = S("10.0.50.1"), .dev = S("bond0.20") };
        r.links = &link;
        r.n_links = 1;
        r.routes = &route;
        r.n_routes = 1;
        struct json j = {};
        net_result_to_json(&r, &j);
        _cleanup_free_ char *s = buf_steal(&j.out);
        assert_string_equal(s,
                "{\"applied\":true,\"rolled_back\":false,\"fell_back\":true,\"bond_mode\":\"active-backup\","
                "\"failed_step\":null,\"checks\":[{\"check\":\"lacp-partner\",\"subject\":\"bond0\",\"passed\":false,"
                "\"fatal\":true,\"detail\":\"no LACP partner within 15000 ms\"},{\"check\":\"gateway-arp\","
                "\"subject\":\"bond0.20 -> 10.0.50.1\",\"passed\":true,\"fatal\":false,\"detail\":\"answered\"}],"
                "\"links\":[{\"name\":\"bond0.20\",\"kind\":\"vlan\",\"ifindex\":9,\"up\":true,\"carrier\":false,"
                "\"mtu\":1500,\"master\":null,\"addresses\":[\"10.0.50.12/24\"]}],\"routes\":[{\"dst\":\"default\","
                "\"gateway\":\"10.0.50.1\",\"dev\":\"bond0.20\"}],\"dns\":[]}");
        r.links = NULL;
        r.n_links = 0;
        r.routes = NULL;
        r.n_routes = 0;
        r.bond_mode = NULL;
        net_result_done(&r);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bond_msg_8023ad),
                cmocka_unit_test(test_bond_msg_active_backup),
                cmocka_unit_test(test_bond_msg_arp),
                cmocka_unit_test(test_bond_msg_bad),
                cmocka_unit_test(test_xmit_hash_numbers),
                cmocka_unit_test(test_vlan_msg),
                cmocka_unit_test(test_ops_table),
                cmocka_unit_test(test_bond_proc),
                cmocka_unit_test(test_lacp_wait_from_fake_proc),
                cmocka_unit_test(test_arp_frames),
                cmocka_unit_test(test_result_json),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
