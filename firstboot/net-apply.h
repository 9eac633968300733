/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "json.h"
#include "net-plan.h"

/* Bringing a network plan up live through libnl-route-3, verifying it, and falling back or rolling
 * back. This is the only network code that changes links. Persisting is netplan.c's job and happens
 * only after a live configuration passed its checks. */

struct net_apply_options {
        const char *sysfs_root;      /* "/sys": carrier of members */
        const char *proc_root;       /* "/proc": net/bonding/<bond> for the LACP partner */
        unsigned carrier_timeout_ms; /* per link, after it is set up */
        unsigned lacp_timeout_ms;    /* LACP negotiation (fast rate: a PDU a second) */
        unsigned arp_timeout_ms;     /* the gateway's answer to our ARP probe */
        bool verify;                 /* false: apply only (tests of the netlink path) */
};
#define NET_APPLY_OPTIONS_DEFAULT                                                                          \
        ((struct net_apply_options) { .sysfs_root = "/sys", .proc_root = "/proc", .carrier_timeout_ms = 10000, \
                                      .lacp_timeout_ms = 15000, .arp_timeout_ms = 3000, .verify = true })

/* One verification: what was checked, on what, and whether it passed. */
struct net_check {
        char *name;    /* "carrier", "lacp-partner", "gateway-arp" */
        char *subject; /* "enp1s0", "bond0", "bond0.20 -> 10.0.50.1" */
        bool passed;
        bool fatal;    /* its failure made the configuration fail */
        char *detail;  /* "partner 52:54:00:00:00:13", "no answer in 3000 ms" */
};

/* A link as the kernel reports it after apply. */
struct net_live_link {
        char *name;
        char *kind;     /* "bond", "vlan", "veth", NULL for plain hardware */
        int ifindex;
        bool up;
        bool lower_up;  /* carrier */
        uint32_t mtu;
        char *master;   /* NULL = none */
        char **addrs;   /* strv "10.0.50.12/24" */
};

struct net_live_route {
        char *dst;      /* "default" or "10.0.50.0/24" */
        char *gateway;  /* NULL = on-link */
        char *dev;
};

struct net_result {
        bool applied;          /* the final configuration is up and passed its fatal checks */
        bool rolled_back;      /* a failure undid what we did */
        bool fell_back;        /* 802.3ad found no LACP partner and we retried as active-backup */
        char *bond_mode;       /* the mode finally running, NULL without a bond */
        char *failed_step;     /* what went wrong: "create bond0", "check gateway-arp bond0.20" */
        int error;             /* its negative errno, 0 if none */
        char *error_detail;    /* libnl's or the check's words */
        struct net_check *checks;
        size_t n_checks;
        struct net_live_link *links;
        size_t n_links;
        struct net_live_route *routes;
        size_t n_routes;
        char **dns;
};

void net_result_done(struct net_result *r);

/* Bring the plan up, verify it (if opts->verify), fall back from 802.3ad to active-backup when no LACP
 * partner answers, roll back on any other failure. Fills *result in every case (it says which step or
 * check failed); returns 0 when the configuration is up, else the failing step's negative errno. */
int net_apply(const struct net_plan *plan, const struct net_apply_options *opts, struct net_result *result);

/* Undo what net_apply would create for this plan: delete its bond and VLAN links, remove its
 * addresses from standalone links. Best effort; returns the first error. */
int net_rollback(const struct net_plan *plan);

/* Write <root>/etc/resolv.conf from the plan unless it is a symlink (systemd-resolved owns it then, and
 * gets the servers from netplan). Returns 1 if written, 0 if left alone. */
int net_write_resolv_conf(int root_fd, const struct net_plan *plan);

/* The status fragment for /var/lib/rackstack/status.json: one object. */
void net_result_to_json(const struct net_result *r, struct json *j);

/* ---- verification primitives (net-verify.c), exposed for tests ---------------------------------- */

struct bond_proc_info {
        char *mode;           /* "IEEE 802.3ad Dynamic link aggregation", "fault-tolerance (active-backup)" */
        char *mii_status;     /* of the bond: "up" / "down" */
        char *partner_mac;    /* 802.3ad: the partner's system MAC, NULL if none or all zeros */
        unsigned n_slaves;
        unsigned n_slaves_up;
};
void bond_proc_info_done(struct bond_proc_info *i);
/* Parse the text of /proc/net/bonding/<bond>. */
int bond_proc_parse(const char *text, struct bond_proc_info *ret);

/* Poll <sysfs>/class/net/<ifname>/carrier until 1 or the timeout: 1 carrier, 0 none, <0 error. */
int net_wait_carrier(const char *sysfs_root, const char *ifname, unsigned timeout_ms);
/* Poll /proc/net/bonding/<bond> until a partner shows or the timeout: 1 partner (MAC in *ret_partner),
 * 0 none, <0 error. */
int net_wait_lacp_partner(const char *proc_root, const char *bond, unsigned timeout_ms, char **ret_partner);

/* An ARP request "who has target, tell src" as the 28-byte payload of an Ethernet frame, and the check
 * that a received payload is target's reply to it. */
#define ARP_PAYLOAD_SIZE 28
void arp_build_request(const uint8_t src_mac[6], uint32_t src_ip, uint32_t target_ip, uint8_t ret[ARP_PAYLOAD_SIZE]);
bool arp_is_reply(const uint8_t *pkt, size_t len, uint32_t src_ip, uint32_t target_ip, uint8_t ret_mac[6]);
/* Probe target over ifname via AF_PACKET: 1 answered (its MAC in ret_mac if non-NULL), 0 no answer within
 * the timeout, <0 error. src_ip is our address on that link (host byte order). */
int arp_probe(const char *ifname, uint32_t src_ip, uint32_t target_ip, unsigned timeout_ms, uint8_t ret_mac[6]);

/* Set every physical NIC that is down up, so that its carrier can be read, and wait up to settle_ms for
 * carrier on them (a freshly booted host has all NICs down and carrier unknown). Returns how many NICs
 * were set up. */
int net_nics_wake(const struct nic_list *nics, unsigned settle_ms);
