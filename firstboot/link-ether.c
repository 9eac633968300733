/* SPDX-License-Identifier: MIT */
/* Ethernet NICs: they exist already. A bond member is taken down, enslaved and brought up again (the
 * kernel refuses to enslave a running NIC on older releases); a standalone NIC gets its MTU and goes up. */
#include <net/if.h>

#include <netlink/route/link/bonding.h>

#include "link.h"
#include "util.h"

static int ether_apply(struct net_apply_ctx *c, const struct net_link *l) {
        int ifindex = net_link_ifindex(c, l->name);
        if (ifindex < 0)
                return net_fail(c, ifindex, "find NIC %s", l->name);
        if (!l->master) {
                int r = net_link_set_up(c, l->name, true, l->mtu);
                return r < 0 ? net_fail(c, r, "set %s up", l->name) : 0;
        }

        int master = net_link_ifindex(c, l->master);
        if (master < 0)
                return net_fail(c, master, "find %s's bond %s", l->name, l->master);
        int r = net_link_set_up(c, l->name, false, 0);
        if (r < 0)
                return net_fail(c, r, "set %s down to enslave it", l->name);
        r = rtnl_link_bond_enslave_ifindex(c->sock, master, ifindex);
        if (r < 0)
                return net_fail(c, nl_to_errno(r), "enslave %s to %s: %s", l->name, l->master, nl_geterror(r));
        r = net_link_set_up(c, l->name, true, 0);
        return r < 0 ? net_fail(c, r, "set %s up", l->name) : 0;
}

static int ether_verify(struct net_apply_ctx *c, const struct net_link *l) {
        /* A member without carrier leaves a degraded bond that still works; the bond's own check and the
         * gateway probe decide. A standalone NIC without carrier is a failure. */
        int r = net_check_carrier(c, l->name, !l->master);
        if (r == 0 && !l->master)
                return net_fail(c, -ENOLINK, "check carrier %s", l->name);
        return 0;
}

static int ether_rollback(struct net_apply_ctx *c, const struct net_link *l) {
        /* Members are released when their bond is deleted; addresses are removed by net-apply. */
        return 0;
}

const struct link_ops link_ether_ops = {
        .kind = NET_LINK_ETHER,
        .apply = ether_apply,
        .verify = ether_verify,
        .rollback = ether_rollback,
};
