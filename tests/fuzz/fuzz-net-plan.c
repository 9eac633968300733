/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as a host's network answers (one field per line: host name, two
 * members, a bond option key and value, VLAN id, address, netmask, gateway, name server, MTU), planned
 * against the db role and the seed's site, then rendered as netplan, JSON and text. The same bytes
 * are also read as /proc/net/bonding text. */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net-apply.h"
#include "net-plan.h"
#include "netplan.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define S(x) ((char *) (x))
#define IP(a, b, c, d) (((uint32_t) (a) << 24) | ((uint32_t) (b) << 16) | ((uint32_t) (c) << 8) | (uint32_t) (d))

static uint16_t db_vlans[] = { 10, 20, 40 };
static struct vlan_spec vlans[] = {
        { .id = 10, .name = S("management"), .subnet = IP(10, 0, 10, 0), .prefix = 24, .gateway = IP(10, 0, 10, 1) },
        { .id = 20, .name = S("infrastructure"), .subnet = IP(10, 0, 50, 0), .prefix = 24, .gateway = IP(10, 0, 50, 1) },
        { .id = 40, .name = S("database"), .subnet = IP(10, 0, 40, 0), .prefix = 24 },
};
static struct host_address addrs[] = {
        { .vlan = 10, .addr = IP(10, 0, 10, 12) }, { .vlan = 20, .addr = IP(10, 0, 50, 12) },
        { .vlan = 40, .addr = IP(10, 0, 40, 12) },
};
static struct host_spec host = { .name = S("lab-db1"), .role = S("db"), .addresses = addrs, .n_addresses = 3 };
static char *dns[] = { S("10.0.50.11"), NULL };
static struct site site = { .domain = S("domain.com"), .default_vlan = 20, .dns = dns, .vlans = vlans, .n_vlans = 3,
                            .hosts = &host, .n_hosts = 1 };
static struct profile profile = {
        .role = S("db"),
        .bond = { .name = S("bond0"), .mode = BOND_MODE_8023AD, .miimon = 100, .lacp_rate = LACP_RATE_FAST,
                  .xmit_hash_policy = XMIT_HASH_LAYER3_4, .members = 2, .speed_mbps = 10000 },
        .vlans = db_vlans, .n_vlans = 3,
};
static struct nic nic_arr[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("enp3s0"), .mac = S("52:54:00:00:00:13"), .physical = true, .carrier = false },
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *text = strndup((const char *) data, size);
        if (!text)
                return 0;

        struct bond_proc_info info;
        if (bond_proc_parse(text, &info) >= 0)
                bond_proc_info_done(&info);

        /* Fields, one a line; a missing or empty line leaves the field unset. */
        const char *f[11] = {};
        char *save = NULL, *line = strtok_r(text, "\n", &save);
        for (size_t i = 0; line && i < ELEMENTSOF(f); i++, line = strtok_r(NULL, "\n", &save))
                f[i] = *line ? line : NULL;

        const char *members[2] = { f[1], f[2] };
        struct net_bond_option opt = { .key = f[3] ? f[3] : "mode", .value = f[4] };
        struct net_vlan_answer v = {
                .id = f[5] ? strtoll(f[5], NULL, 10) : 20, .address = f[6], .netmask = f[7], .gateway = f[8],
                .nodefroute = f[5] && strchr(f[5], 'n'),
        };
        const char *ns[1] = { f[9] };
        struct net_answers a = {
                .hostname = f[0], .bond_members = members, .n_bond_members = f[1] && f[2] ? 2 : 0,
                .bond_options = &opt, .n_bond_options = f[4] ? 1 : 0, .vlans = &v, .n_vlans = 1,
                .nameservers = ns, .n_nameservers = f[9] ? 1 : 0, .mtu = f[10] ? (uint32_t) strtoul(f[10], NULL, 10) : 0,
        };
        struct nic_list nics = { nic_arr, ELEMENTSOF(nic_arr) };
        for (int vm = 0; vm < 2; vm++) {
                struct net_plan_input in = { .profile = &profile, .site = &site, .answers = &a, .nics = &nics,
                                             .virtual_machine = vm };
                struct diags d = {};
                struct net_plan *p = NULL;
                if (net_plan_build(&in, &d, &p) >= 0) {
                        free(netplan_render(p));
                        free(net_plan_to_text(p));
                        struct json j = {};
                        net_plan_to_json(p, &j);
                        buf_done(&j.out);
                        struct net_plan *ab = NULL;
                        if (net_plan_to_active_backup(p, &ab) >= 0)
                                free(netplan_render(ab));
                        net_plan_free(ab);
                        net_plan_free(p);
                }
                diags_done(&d);
        }
        free(text);
        return 0;
}
