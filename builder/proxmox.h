/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

/* The Proxmox VE output (research/proxmox-join.md §1): out/<host>/proxmox/ holds <host>.qcow2, a
 * qemu-server config <host>.conf describing the VM the template becomes, and import.sh, which
 * makes that template on a Proxmox VE (>= 7.2) host in one command:
 *         qm create VMID ... --scsi0 STORAGE:0,import-from=<host>.qcow2 ...; data disks; cloud-init; qm template
 * The plan is a pure function of the profile and the site's host; the renderers are pure too. */

enum proxmox_bus { PROXMOX_BUS_SCSI, PROXMOX_BUS_SATA };

struct proxmox_disk {
        char *name;           /* the role disk: "database" */
        char *slot;           /* "scsi1", "sata0" */
        enum proxmox_bus bus;
        uint64_t size;        /* bytes */
        bool ssd;             /* ssd=1: the guest sees it non-rotational (class ssd or nvme) */
        char *note;           /* what the role asked for: "nvme, >= 500G" */
};

struct proxmox_plan {
        char *host, *role, *description;
        unsigned vmid;        /* default: 9000 + the host's last address octet */
        unsigned cores;
        uint64_t memory;      /* bytes */
        uint64_t os_size;     /* the OS disk the image is grown to (the role's OS disk minimum) */
        bool os_ssd;
        struct proxmox_disk *disks;
        size_t n_disks;
        uint16_t *vlans;      /* the NICs' trunk: every VLAN the host sits on, sorted */
        size_t n_vlans;
        unsigned nics;        /* the bond's members */
        char *qcow2;          /* "<host>.qcow2" */
};

/* -EINVAL if the profile has no cores, RAM or OS disk; -ENOMEM. */
int proxmox_plan_build(const struct profile *p, const struct host_spec *h, struct proxmox_plan *ret);
void proxmox_plan_done(struct proxmox_plan *p);

/* /etc/pve/qemu-server/<VMID>.conf as import.sh leaves it with its defaults (storage local-lvm). */
char *proxmox_conf_render(const struct proxmox_plan *p);
/* import.sh: bash, shellcheck-clean; refuses an existing VMID unless --force. */
char *proxmox_import_render(const struct proxmox_plan *p);
