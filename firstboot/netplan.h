/* SPDX-License-Identifier: MIT */
#pragma once

#include "net-plan.h"

/* Persisting a network plan as netplan YAML: the one network configuration the host boots with.
 *
 * Ethernets are matched by MAC, not by name: kernel names can change between boots (a new card, a
 * firmware update reordering PCI), the MAC does not. Bond members need no set-name, because the bond
 * refers to them by netplan ID and netplan renders a member's match as PermanentMACAddress=, which the
 * bond and its VLANs (sharing the member's MAC) do not have (the overmatch of canonical/netplan#278). */

#define NETPLAN_FILE "etc/netplan/60-rackstack.yaml"
#define NETPLAN_CLOUD_INIT_DISABLE "etc/cloud/cloud.cfg.d/99-disable-network-config.cfg"
/* Other netplan files are renamed to NAME + this suffix: netplan reads only *.yaml. */
#define NETPLAN_ASIDE_SUFFIX ".disabled-by-rackstack"

/* The YAML text, deterministic (links sorted by name, VLANs by id). NULL on OOM. */
char *netplan_render(const struct net_plan *p);

struct netplan_persist_result {
        char **moved_aside;       /* strv: other etc/netplan files we renamed out of netplan's way */
        bool cloud_init_disabled; /* we wrote NETPLAN_CLOUD_INIT_DISABLE */
};
void netplan_persist_result_done(struct netplan_persist_result *r);

/* Under the root directory root_fd: write NETPLAN_FILE (mode 0600, atomically), rename every other
 * other etc/netplan YAML files aside, and, where cloud-init is installed (etc/cloud exists), turn off its
 * network configuration, so that ours is the only writer. */
int netplan_persist(int root_fd, const struct net_plan *p, struct netplan_persist_result *ret);

/* Run `netplan generate --root-dir root_dir` (stdout/stderr inherited). Returns its exit status
 * (0 = accepted), or a negative errno if it could not be run. */
int netplan_generate(const char *root_dir);
