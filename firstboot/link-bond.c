/* SPDX-License-Identifier: MIT */
/* Bonds. libnl 3.7 can allocate a bond and enslave to it, but has no setters for mode, miimon, lacp_rate
 * or xmit_hash_policy. Rather than writing the bond's sysfs bonding files between steps (racy, needs
 * sysfs and the bond down for lacp_rate), we send one RTM_NEWLINK carrying IFLA_BOND_* in
 * IFLA_INFO_DATA, as `ip link add type bond ...` does: the bond is born with its options. */
#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <sys/socket.h>

#include <netlink/route/link/bonding.h>

#include "cleanup.h"
#include "link.h"
#include "util.h"

int link_bond_xmit_hash_kernel(enum xmit_hash h) {
        switch (h) {
        case XMIT_HASH_LAYER2: return 0;   /* BOND_XMIT_POLICY_LAYER2 */
        case XMIT_HASH_LAYER3_4: return 1; /* BOND_XMIT_POLICY_LAYER34 */
        case XMIT_HASH_LAYER2_3: return 2; /* BOND_XMIT_POLICY_LAYER23 */
        case XMIT_HASH_ENCAP2_3: return 3;
        case XMIT_HASH_ENCAP3_4: return 4;
        default: return -EINVAL;
        }
}

static int parse_mac(const char *s, uint8_t ret[6]) {
        unsigned v[6];
        if (!s || sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5]) != 6)
                return -EINVAL;
        for (size_t i = 0; i < 6; i++)
                ret[i] = (uint8_t) v[i];
        return 0;
}

int link_bond_build_msg(const struct net_link *l, int primary_ifindex, struct nl_msg **ret) {
        const struct net_bond_params *b = &l->bond;
        int hash = link_bond_xmit_hash_kernel(b->xmit_hash_policy);
        if (l->kind != NET_LINK_BOND || hash < 0 || (unsigned) b->mode >= _BOND_MODE_MAX)
                return -EINVAL;

        struct nl_msg *msg = nlmsg_alloc_simple(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
        if (!msg)
                return -ENOMEM;
        struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
        uint8_t mac[6];
        struct nlattr *info, *data;
        if (nlmsg_append(msg, &ifi, sizeof ifi, NLMSG_ALIGNTO) < 0 || nla_put_string(msg, IFLA_IFNAME, l->name) < 0)
                goto oom;
        if (l->mtu && nla_put_u32(msg, IFLA_MTU, l->mtu) < 0)
                goto oom;
        if (l->mac && parse_mac(l->mac, mac) >= 0 && nla_put(msg, IFLA_ADDRESS, 6, mac) < 0)
                goto oom;
        if (!(info = nla_nest_start(msg, IFLA_LINKINFO)) || nla_put_string(msg, IFLA_INFO_KIND, "bond") < 0 ||
            !(data = nla_nest_start(msg, IFLA_INFO_DATA)))
                goto oom;
        if (nla_put_u8(msg, IFLA_BOND_MODE, (uint8_t) b->mode) < 0 || nla_put_u32(msg, IFLA_BOND_MIIMON, b->miimon) < 0)
                goto oom;
        if (b->mode == BOND_MODE_8023AD && nla_put_u8(msg, IFLA_BOND_AD_LACP_RATE, (uint8_t) b->lacp_rate) < 0)
                goto oom;
        if ((b->mode == BOND_MODE_8023AD || b->mode == BOND_MODE_BALANCE_XOR || b->mode == BOND_MODE_BALANCE_TLB) &&
            nla_put_u8(msg, IFLA_BOND_XMIT_HASH_POLICY, (uint8_t) hash) < 0)
                goto oom;
        if (b->updelay && nla_put_u32(msg, IFLA_BOND_UPDELAY, b->updelay) < 0)
                goto oom;
        if (b->downdelay && nla_put_u32(msg, IFLA_BOND_DOWNDELAY, b->downdelay) < 0)
                goto oom;
        if (b->min_links && nla_put_u32(msg, IFLA_BOND_MIN_LINKS, b->min_links) < 0)
                goto oom;
        if (b->mode == BOND_MODE_8023AD && b->ad_select && nla_put_u8(msg, IFLA_BOND_AD_SELECT, b->ad_select) < 0)
                goto oom;
        if (b->arp_interval) {
                struct nlattr *targets;
                if (nla_put_u32(msg, IFLA_BOND_ARP_INTERVAL, b->arp_interval) < 0 ||
                    !(targets = nla_nest_start(msg, IFLA_BOND_ARP_IP_TARGET)))
                        goto oom;
                /* The kernel reads the nest's entries as network-order addresses, whatever their type. */
                for (size_t i = 0; i < b->n_arp_ip_targets; i++)
                        if (nla_put_u32(msg, (int) i, htonl(b->arp_ip_targets[i])) < 0)
                                goto oom;
                nla_nest_end(msg, targets);
        }
        /* The kernel keeps the primary's name and applies it when that NIC is enslaved. */
        if (primary_ifindex > 0 && nla_put_u32(msg, IFLA_BOND_PRIMARY, (uint32_t) primary_ifindex) < 0)
                goto oom;
        nla_nest_end(msg, data);
        nla_nest_end(msg, info);
        *ret = msg;
        return 0;
oom:
        nlmsg_free(msg);
        return -ENOMEM;
}

static int bond_create(struct net_apply_ctx *c, const struct net_link *l) {
        /* A rerun after a partial apply: the bond is ours, make it again from scratch. */
        int r = net_link_delete(c, l->name);
        if (r < 0)
                return net_fail(c, r, "delete stale %s", l->name);
        int primary = 0;
        if (l->bond.primary) {
                primary = net_link_ifindex(c, l->bond.primary);
                if (primary < 0)
                        return net_fail(c, primary, "find bond primary %s", l->bond.primary);
        }
        /* Twice at most: when our request autoloads bonding, the module may make its own "bond0" first
         * (max_bonds defaults to 1; systemd's modprobe.d sets 0, a bare initramfs may not). */
        for (int attempt = 0;; attempt++) {
                struct nl_msg *msg;
                r = link_bond_build_msg(l, primary, &msg);
                if (r < 0)
                        return net_fail(c, r, "build bond %s", l->name);
                r = nl_send_sync(c->sock, msg); /* frees msg */
                if (r >= 0 || nl_to_errno(r) != -EEXIST || attempt > 0)
                        break;
                int k = net_link_delete(c, l->name);
                if (k < 0)
                        return net_fail(c, k, "delete %s made by the bonding module", l->name);
        }
        if (r < 0)
                return net_fail(c, nl_to_errno(r), "create bond %s (%s): %s", l->name,
                                strna(net_bond_mode_name(l->bond.mode)), nl_geterror(r));
        return 0;
}

static int bond_apply(struct net_apply_ctx *c, const struct net_link *l) {
        /* Members were enslaved by link-ether while the bond was down; now the bond comes up. */
        int r = net_link_set_up(c, l->name, true, 0);
        return r < 0 ? net_fail(c, r, "set %s up", l->name) : 0;
}

static int bond_verify(struct net_apply_ctx *c, const struct net_link *l) {
        if (l->bond.mode != BOND_MODE_8023AD)
                return 0;
        _cleanup_free_ char *partner = NULL;
        int r = net_wait_lacp_partner(c->opts->proc_root, l->name, c->opts->lacp_timeout_ms, &partner);
        if (r > 0) {
                net_check_add(c->res, "lacp-partner", l->name, true, false, "partner %s", partner);
                return 0;
        }
        if (r < 0)
                net_check_add(c->res, "lacp-partner", l->name, false, true, "cannot read bonding state: %s",
                              strerror(-r));
        else
                net_check_add(c->res, "lacp-partner", l->name, false, true,
                              "no LACP partner within %u ms (switch port not in an 802.3ad group?)",
                              c->opts->lacp_timeout_ms);
        c->lacp_missing = true;
        return net_fail(c, -ENOLINK, "check lacp-partner %s", l->name);
}

static int bond_rollback(struct net_apply_ctx *c, const struct net_link *l) {
        return net_link_delete(c, l->name);
}

const struct link_ops link_bond_ops = {
        .kind = NET_LINK_BOND,
        .create = bond_create,
        .apply = bond_apply,
        .verify = bond_verify,
        .rollback = bond_rollback,
};
