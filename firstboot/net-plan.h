/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "json.h"
#include "nic.h"
#include "profile.h"

/* The network plan: a pure function from the role profile, the site, this host's answers (kickstart or
 * prompt), the NICs discovered in sysfs and a "virtual machine?" fact, to the links to bring up. It
 * touches nothing; net-apply brings the plan up, netplan.c persists it. Every choice it makes is
 * written into plan->explain so that `network --plan` says why. */

/* ---- answers ------------------------------------------------------------------------------------ */

/* What one host's answers say about the network. A borrowed view: the kickstart adapter (or a test)
 * owns the strings. Values stay strings where the plan must judge them (addresses, masks, VLAN ids as
 * given), so that every bad value becomes a diagnostic at the answer's FILE:LINE:COL. A src with
 * file == NULL means "no location" (typed at a prompt, or built by a test). */

struct net_bond_option {
        const char *key;   /* "mode", "miimon", "lacp_rate", "xmit_hash_policy", "primary", ... */
        const char *value;
        struct src src;
};

struct net_vlan_answer {
        int64_t id;          /* as given; the plan checks 1..4094 */
        const char *address; /* "10.0.50.12" or "10.0.50.12/24"; NULL = the site's address for this host */
        const char *netmask; /* "255.255.255.0"; NULL = from address or the site's subnet */
        const char *gateway; /* NULL = the site's gateway */
        bool nodefroute;     /* never put the default route here */
        uint32_t mtu;        /* 0 = unset */
        struct src src, address_src, netmask_src, gateway_src;
};

struct net_answers {
        const char *hostname;
        struct src hostname_src;
        const char *const *bond_members; /* kernel names or MACs */
        size_t n_bond_members;
        struct src bond_members_src;
        const struct net_bond_option *bond_options;
        size_t n_bond_options;
        const struct net_vlan_answer *vlans;
        size_t n_vlans;
        const char *const *nameservers;
        size_t n_nameservers;
        struct src nameservers_src;
        const char *const *search;       /* DNS search domains; none = the site's domain */
        size_t n_search;
        uint32_t mtu;                    /* bond MTU; 0 = the profile's */
        struct src mtu_src;
};

/* ---- plan --------------------------------------------------------------------------------------- */

enum net_link_kind { NET_LINK_ETHER, NET_LINK_BOND, NET_LINK_VLAN, _NET_LINK_KIND_MAX };

struct net_addr {
        uint32_t addr; /* host byte order */
        unsigned prefix;
};

struct net_bond_params {
        enum bond_mode mode;
        uint32_t miimon;            /* ms */
        enum lacp_rate lacp_rate;   /* 802.3ad only */
        enum xmit_hash xmit_hash_policy; /* 802.3ad, balance-xor, balance-tlb */
        char *primary;              /* active-backup: preferred member, NULL = none */
        uint32_t updelay, downdelay;
        uint32_t min_links;
        uint8_t ad_select;          /* 802.3ad: 0 stable (the kernel's default), 1 bandwidth, 2 count */
        uint32_t arp_interval;      /* ms; ARP monitoring instead of MII (not with 802.3ad/tlb/alb) */
        uint32_t arp_ip_targets[16]; /* host byte order; the kernel's BOND_MAX_ARP_TARGETS */
        size_t n_arp_ip_targets;
};

struct net_link {
        enum net_link_kind kind;
        char *name;           /* kernel name: "enp1s0", "bond0", "bond0.20" */
        char *mac;            /* ether: its permanent MAC (what netplan matches); bond: the MAC it takes */
        char *master;         /* ether: the bond it joins; NULL when it stands alone */
        char *parent;         /* vlan: the link it rides on */
        uint16_t vlan_id;
        uint32_t mtu;         /* 0 = the kernel's default */
        struct net_addr *addrs;
        size_t n_addrs;
        uint32_t gateway;     /* the subnet's router, 0 = none; verified by ARP when it is the default */
        bool default_route;   /* a default route via gateway lives on this link */
        bool optional;        /* boot need not wait for it (bond members: systemd/systemd#29506) */
        struct net_bond_params bond; /* kind == NET_LINK_BOND */
};

struct net_plan {
        char *hostname;
        /* In the order they must come up: members, then the bond, then VLANs by id. */
        struct net_link *links;
        size_t n_links;
        /* 802.3ad chosen: when no LACP partner answers, apply may retry as active-backup. */
        bool lacp_fallback;
        char **dns;           /* strv of IPv4 addresses */
        char **search;        /* strv of domains */
        char **explain;       /* strv: why each choice was made, for --plan */
};

struct net_plan_input {
        const struct profile *profile;  /* bond spec and VLAN membership */
        const struct site *site;        /* VLAN subnets, hosts, DNS, domain, default VLAN */
        const char *hostname;           /* this host when answers give none; NULL = by role */
        const struct net_answers *answers; /* NULL = none */
        const struct nic_list *nics;
        bool virtual_machine;           /* systemd-detect-virt says so: no LACP partner to expect */
};

/* Build the plan. Every problem is a diagnostic (at the answer's location where there is one); if any
 * is an error, -EINVAL is returned and nothing is planned. Warnings (a degraded one-NIC bond, a slow
 * member) leave the plan valid. */
int net_plan_build(const struct net_plan_input *in, struct diags *d, struct net_plan **ret);

struct net_plan *net_plan_free(struct net_plan *p);
static inline void net_plan_freep(struct net_plan **p) {
        net_plan_free(*p);
}

/* The same plan with the bond switched to active-backup (the LACP fallback). */
int net_plan_to_active_backup(const struct net_plan *p, struct net_plan **ret);

const struct net_link *net_plan_find_link(const struct net_plan *p, const char *name);
const struct net_link *net_plan_bond(const struct net_plan *p);

void net_plan_to_json(const struct net_plan *p, struct json *j);
/* Human-readable plan: one line per link, then the explanations. */
char *net_plan_to_text(const struct net_plan *p);

const char *net_ad_select_name(unsigned a);
/* Names as the kernel and netplan spell them ("802.3ad", "fast", "layer3+4"). Our own small tables,
 * so that firstboot's network step does not depend on the profile loader's string tables. */
const char *net_bond_mode_name(enum bond_mode m);
const char *net_lacp_rate_name(enum lacp_rate r);
const char *net_xmit_hash_name(enum xmit_hash h);
const char *net_link_kind_name(enum net_link_kind k);
