/* SPDX-License-Identifier: MIT */
#pragma once

#include "diag.h"
#include "kickstart.h"
#include "net-plan.h"

/* The adapter from a parsed kickstart's "network" lines (common/kickstart.h) to the network planner's
 * narrow answers. The kickstart parser has already checked each value on its own (VLAN range, mask
 * contiguity, addresses); the planner checks them against the role and the site. This adapter refuses
 * what the plan cannot express, each at its FILE:LINE:COL: DHCP, a device other than the role's bond,
 * an address outside a VLAN, custom VLAN interface names, two different host names or member lists.
 *
 * The answers point into strings the store owns; free it with net_answers_store_done(). */

struct net_answers_store {
        struct net_answers answers;
        char **strings;                 /* strv: every string the answers point at */
        const char **members;
        struct net_bond_option *options;
        struct net_vlan_answer *vlans;
        const char **nameservers;
};

/* bond_name is the role's bond ("bond0"). Returns -EINVAL with diagnostics when the kickstart asks for
 * something the plan cannot do, -ENOMEM, or 0 with *ret filled. */
int net_answers_from_ks(const struct ks *ks, const char *bond_name, struct diags *d, struct net_answers_store *ret);
void net_answers_store_done(struct net_answers_store *s);
