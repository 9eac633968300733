/* SPDX-License-Identifier: MIT */
/* 802.1Q VLAN links on the bond (or on a NIC). libnl has everything needed here. */
#include <netlink/route/link/vlan.h>

#include "link.h"
#include "util.h"

int link_vlan_build(const struct net_link *l, int parent_ifindex, struct rtnl_link **ret) {
        if (l->kind != NET_LINK_VLAN || l->vlan_id < 1 || l->vlan_id > 4094 || parent_ifindex <= 0)
                return -EINVAL;
        struct rtnl_link *link = rtnl_link_vlan_alloc();
        if (!link)
                return -ENOMEM;
        rtnl_link_set_name(link, l->name);
        rtnl_link_set_link(link, parent_ifindex);
        int r = rtnl_link_vlan_set_id(link, l->vlan_id);
        if (r < 0) {
                rtnl_link_put(link);
                return nl_to_errno(r);
        }
        if (l->mtu)
                rtnl_link_set_mtu(link, l->mtu);
        *ret = link;
        return 0;
}

static int vlan_create(struct net_apply_ctx *c, const struct net_link *l) {
        int r = net_link_delete(c, l->name);
        if (r < 0)
                return net_fail(c, r, "delete stale %s", l->name);
        int parent = net_link_ifindex(c, l->parent);
        if (parent < 0)
                return net_fail(c, parent, "find %s's parent %s", l->name, l->parent);
        struct rtnl_link *link;
        r = link_vlan_build(l, parent, &link);
        if (r < 0)
                return net_fail(c, r, "build %s", l->name);
        r = rtnl_link_add(c->sock, link, NLM_F_CREATE | NLM_F_EXCL);
        rtnl_link_put(link);
        if (r < 0)
                return net_fail(c, nl_to_errno(r), "create %s (VLAN %u on %s): %s", l->name, l->vlan_id, l->parent,
                                nl_geterror(r));
        return 0;
}

static int vlan_apply(struct net_apply_ctx *c, const struct net_link *l) {
        int r = net_link_set_up(c, l->name, true, 0);
        return r < 0 ? net_fail(c, r, "set %s up", l->name) : 0;
}

static int vlan_rollback(struct net_apply_ctx *c, const struct net_link *l) {
        return net_link_delete(c, l->name);
}

const struct link_ops link_vlan_ops = {
        .kind = NET_LINK_VLAN,
        .create = vlan_create,
        .apply = vlan_apply,
        .rollback = vlan_rollback,
};
