/* SPDX-License-Identifier: MIT */
/* Drives net_apply() for a standalone Ethernet link inside a network namespace made by
 * test-net-netns.sh (the host kernel has no bonding or 8021q, so that is the live path it can prove).
 *   net-live-helper ether IFNAME ADDR/PREFIX GATEWAY MTU ARP_TIMEOUT_MS
 * Prints the result JSON; exits 0 when the configuration is up, 1 when it failed (rolled back), 2 on
 * bad usage. It refuses to run outside a namespace named in RACKSTACK_NETNS. */
#include <stdio.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "net-apply.h"
#include "parse.h"
#include "util.h"

static int in_test_netns(void) {
        const char *ns = getenv("RACKSTACK_NETNS");
        if (!ns)
                return 0;
        _cleanup_free_ char *p = strprintf("/run/netns/%s", ns);
        struct stat a, b;
        if (!p || stat(p, &a) < 0 || stat("/proc/self/ns/net", &b) < 0)
                return 0;
        return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

int main(int argc, char **argv) {
        if (argc != 7 || !streq(argv[1], "ether")) {
                fprintf(stderr, "usage: net-live-helper ether IFNAME ADDR/PREFIX GATEWAY MTU ARP_TIMEOUT_MS\n");
                return 2;
        }
        if (!in_test_netns()) {
                fprintf(stderr, "refusing to touch links outside the test's network namespace\n");
                return 2;
        }
        struct net_addr addr;
        uint32_t gw, mtu, timeout;
        if (parse_cidr(argv[3], &addr.addr, &addr.prefix) < 0 || parse_ipv4(argv[4], &gw) < 0 ||
            parse_uint32_range(argv[5], 68, 65535, &mtu) < 0 || parse_uint32_range(argv[6], 1, 60000, &timeout) < 0) {
                fprintf(stderr, "bad arguments\n");
                return 2;
        }
        struct net_link link = {
                .kind = NET_LINK_ETHER, .name = argv[2], .mtu = mtu, .addrs = &addr, .n_addrs = 1, .gateway = gw,
                .default_route = true,
        };
        char *dns[] = { (char *) "10.0.50.11", NULL };
        struct net_plan plan = { .links = &link, .n_links = 1, .dns = dns };
        struct net_apply_options opts = NET_APPLY_OPTIONS_DEFAULT;
        opts.carrier_timeout_ms = 3000;
        opts.arp_timeout_ms = timeout;
        struct net_result res = {};
        int r = net_apply(&plan, &opts, &res);
        struct json j = { .pretty = true };
        net_result_to_json(&res, &j);
        _cleanup_free_ char *s = buf_steal(&j.out);
        printf("%s\n", strempty(s));
        net_result_done(&res);
        return r < 0 ? 1 : 0;
}
