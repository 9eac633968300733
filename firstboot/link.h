/* SPDX-License-Identifier: MIT */
#pragma once

/* One file per link kind behind this table, as iproute2's ip/iplink_*.c: link-ether.c, link-bond.c,
 * link-vlan.c. Private to net-apply.c and the tests. */

#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>

#include "net-apply.h"
#include "net-plan.h"

struct net_apply_ctx {
        struct nl_sock *sock;
        const struct net_plan *plan;
        const struct net_apply_options *opts;
        struct net_result *res;
        bool lacp_missing; /* the one failure that falls back rather than rolls back */
};

struct link_ops {
        enum net_link_kind kind;
        /* Make the link exist (bond, vlan). NULL for links that are there already (ethernets). */
        int (*create)(struct net_apply_ctx *c, const struct net_link *l);
        /* Bring it to the planned state: master, MTU, up. Called after every link was created. */
        int (*apply)(struct net_apply_ctx *c, const struct net_link *l);
        /* Kind-specific checks, recorded in c->res; returns <0 when a fatal check failed. */
        int (*verify)(struct net_apply_ctx *c, const struct net_link *l);
        /* Undo create and apply, best effort. */
        int (*rollback)(struct net_apply_ctx *c, const struct net_link *l);
};

extern const struct link_ops link_ether_ops;
extern const struct link_ops link_bond_ops;
extern const struct link_ops link_vlan_ops;
const struct link_ops *link_ops_for(enum net_link_kind kind);

/* Message builders, separate from sending so that tests can check the attributes without a kernel
 * that has bonding or 8021q. */
int link_bond_build_msg(const struct net_link *l, int primary_ifindex, struct nl_msg **ret);
int link_vlan_build(const struct net_link *l, int parent_ifindex, struct rtnl_link **ret);
/* The kernel's numbering of xmit_hash_policy (include/uapi/linux/if_bonding.h), which is not ours. */
int link_bond_xmit_hash_kernel(enum xmit_hash h);

/* Helpers shared by the link kinds (net-apply.c). */
int nl_to_errno(int nlerr);
/* Remember the failing step and libnl's words in the result; returns r. */
int net_fail(struct net_apply_ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
int net_link_ifindex(struct net_apply_ctx *c, const char *name);
int net_link_set_up(struct net_apply_ctx *c, const char *name, bool up, uint32_t mtu);
/* Delete a link if it exists; 0 also when it did not. */
int net_link_delete(struct net_apply_ctx *c, const char *name);
void net_check_add(struct net_result *r, const char *name, const char *subject, bool passed, bool fatal,
                   const char *fmt, ...) _printf_(6, 7);
/* Carrier on one link, recorded as a check. Returns 1 carrier, 0 none. */
int net_check_carrier(struct net_apply_ctx *c, const char *ifname, bool fatal);
