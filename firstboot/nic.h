/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Network interfaces as sysfs shows them. Discovery only reads; the sysfs root is a parameter so that
 * tests can point it at a fake tree ("/sys" on a live host). */

struct nic {
        char *name;       /* kernel name now: "enp1s0" */
        char *mac;        /* permanent MAC, lower case "52:54:00:00:00:11" */
        char *driver;     /* "virtio_net", "ixgbe"; NULL when sysfs has no device/driver link */
        int ifindex;
        bool physical;    /* backed by a device (has device/), i.e. not a bond/vlan/veth/bridge */
        bool carrier;     /* link detected; false also when the link is down and the kernel cannot tell */
        uint32_t speed_mbps; /* 0 = unknown (sysfs says -1 or the link is down) */
        uint32_t mtu;
};

struct nic_list {
        struct nic *nics;
        size_t n;
};

/* Every Ethernet interface (ARPHRD_ETHER) under <sysfs_root>/class/net, sorted by name. Loopback,
 * non-Ethernet links and names that are not plain kernel names are skipped. */
int nic_discover(const char *sysfs_root, struct nic_list *ret);
void nic_list_done(struct nic_list *l);

/* Lookup by kernel name or by MAC (case-insensitive), NULL if none. */
const struct nic *nic_find(const struct nic_list *l, const char *name_or_mac);

/* A kernel interface name: 1..15 characters, no '/', ':', whitespace or quotes. We also insist on
 * [A-Za-z0-9._-] so that names can go into YAML and file names without quoting. */
bool ifname_valid(const char *s);
