/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "yaml-tree.h"

/* The role profile and the site, as the builder and firstboot both use them.
 *
 * A role profile (profiles/<role>.yaml, "inherits: base") says what every server of that kind
 * shares: hardware, disk classes and their GPT layouts, bond and VLAN membership, packages,
 * services and ports. The site (profiles/site.yaml) is the seed's inventory: domain, VLAN plan,
 * DNS/NTP, the hosts with their addresses, and the reverse proxy's routes.
 *
 * Loading is two passes: the YAML is read into a located tree (yaml-tree.h), inheritance merges
 * the trees, a table-driven pass fills these structs, and a separate validation pass checks the
 * cross-field rules. Every problem becomes a FILE:LINE:COL diagnostic. */

/* Where a value came from, for `show` and for error messages. */
struct src {
        const char *file; /* points into the resolved tree; valid while the profile lives */
        unsigned line, col;
};

enum disk_class {
        DISK_CLASS_SSD = 1 << 0,  /* non-rotational SATA/SAS/virtio */
        DISK_CLASS_NVME = 1 << 1, /* NVMe namespace */
        DISK_CLASS_HDD = 1 << 2,  /* rotational */
};

enum transport {
        TRANSPORT_NVME = 1 << 0,
        TRANSPORT_SATA = 1 << 1,
        TRANSPORT_SAS = 1 << 2,
        TRANSPORT_USB = 1 << 3,
        TRANSPORT_VIRTIO = 1 << 4,
        TRANSPORT_SCSI = 1 << 5,
};

enum fs_type {
        FS_NONE,
        FS_EXT4,
        FS_XFS,
        FS_VFAT,
        FS_SWAP,
        _FS_MAX,
};

/* GPT partition types: the Discoverable Partitions Specification where one fits. */
enum part_type {
        PART_ESP,
        PART_BIOS_BOOT,
        PART_ROOT,  /* root-x86-64 */
        PART_VAR,
        PART_SRV,
        PART_HOME,
        PART_TMP,   /* /var/tmp */
        PART_SWAP,
        PART_LINUX, /* generic Linux data */
        _PART_TYPE_MAX,
};

struct partition_spec {
        char *name;        /* GPT partition name, e.g. "root", "pgdata" */
        enum part_type type;
        uint64_t size;     /* bytes; 0 when percent or grow */
        unsigned percent;  /* of the disk, 1..100; 0 if unused */
        bool grow;         /* take what is left (at most one per disk) */
        uint64_t max_size; /* cap for grow/percent; 0 = none */
        enum fs_type fs;
        char *mount;       /* NULL for none (bios-boot, raw) */
        char *options;     /* mount options, NULL = "defaults" */
        char *label;       /* filesystem label, NULL = name */
        struct src src;
};

struct disk_spec {
        char *name;          /* "os", "database", "backups" ... */
        unsigned classes;    /* mask of enum disk_class the disk may be */
        unsigned transports; /* mask of enum transport; 0 = any */
        uint64_t min_size;
        unsigned count;      /* how many identical disks of this kind (default 1) */
        bool os;             /* the disk the image is written to */
        struct partition_spec *parts;
        size_t n_parts;
        struct src src;
};

enum bond_mode {
        BOND_MODE_BALANCE_RR,
        BOND_MODE_ACTIVE_BACKUP,
        BOND_MODE_BALANCE_XOR,
        BOND_MODE_BROADCAST,
        BOND_MODE_8023AD,
        BOND_MODE_BALANCE_TLB,
        BOND_MODE_BALANCE_ALB,
        _BOND_MODE_MAX,
};

enum lacp_rate { LACP_RATE_SLOW, LACP_RATE_FAST };
enum xmit_hash {
        XMIT_HASH_LAYER2,
        XMIT_HASH_LAYER2_3,
        XMIT_HASH_LAYER3_4,
        XMIT_HASH_ENCAP2_3,
        XMIT_HASH_ENCAP3_4,
        _XMIT_HASH_MAX,
};

struct bond_spec {
        char *name;                 /* "bond0" */
        enum bond_mode mode;        /* on bare metal; firstboot falls back to active-backup */
        uint32_t miimon;            /* ms */
        enum lacp_rate lacp_rate;
        enum xmit_hash xmit_hash_policy;
        unsigned members;           /* how many NICs form it (2 in the seed) */
        uint32_t speed_mbps;        /* expected link speed of each member */
        uint32_t mtu;               /* 0 = default */
        struct src src;
};

enum port_proto { PROTO_TCP = 1 << 0, PROTO_UDP = 1 << 1 };

struct port_spec {
        uint16_t port, port_end; /* port_end == port for a single port */
        unsigned protos;         /* enum port_proto mask */
        char *service;           /* what listens: "PostgreSQL" */
        struct src src;
};

enum service_source {
        SERVICE_SOURCE_DISTRO, /* the distribution's package */
        SERVICE_SOURCE_APT,    /* a vendor apt repository */
        SERVICE_SOURCE_OCI,    /* an OCI image run by podman through a systemd unit */
        _SERVICE_SOURCE_MAX,
};

enum service_fetch { SERVICE_FETCH_BUILD, SERVICE_FETCH_FIRSTBOOT };

struct service_spec {
        char *name;        /* "postgresql" */
        char *description;
        enum service_source source;
        enum service_fetch fetch;
        char **packages;   /* DISTRO/APT: packages to install */
        char *unit;        /* systemd unit that runs it */
        char *repo;        /* APT: "deb [signed-by=…] URL SUITE COMPONENT" source line */
        char *key_url;     /* APT: where the vendor's signing key is published */
        char *key_fingerprint; /* APT: its full OpenPGP fingerprint, 40 upper-case hex digits: the trust */
        char *image;       /* OCI: image reference, registry/path:tag */
        char *digest;      /* OCI: "sha256:<64 hex>" the tag must resolve to; NULL = resolved at build
                            * time and recorded (not pinned) in manifest.json, see --pin-from */
        char *version;     /* what the seed asks for: "16" */
        char **bases;      /* only on these bases ("ubuntu-24.04"); NULL = every base. Elsewhere it is
                            * reported as skipped, never faked. */
        uint16_t *ports;   /* the ports it answers on, for the "does it answer" check */
        size_t n_ports;
        /* RAM it needs, set aside before PostgreSQL's budget is computed (services-step): a size,
         * or a share of the host's RAM. Both 0 = nothing set aside. */
        uint64_t memory;
        unsigned memory_percent;
        /* What it needs from other roles (common/wiring.h): "postgresql", "redis", "smtp", "ldap",
         * "oidc", "route". The providing host makes exactly that for this service on this host. */
        char **needs;
        struct src src;
};

/* The kinds a service may name in needs:, NULL-terminated. */
extern const char *const service_need_kinds[];

struct profile {
        char *role;        /* "db" */
        char *description;
        unsigned cores;
        uint64_t ram;
        struct disk_spec *disks;
        size_t n_disks;
        struct bond_spec bond;
        uint16_t *vlans;   /* VLAN ids the host sits on */
        size_t n_vlans;
        char **packages;   /* distribution packages for the role layer */
        /* debconf selections given before those packages are installed, one per line as
         * debconf-set-selections reads them: "OWNER QUESTION TYPE VALUE", normalised (single spaces),
         * one per question, in the profile's order; NULL when the profile has none. */
        char **debconf;
        struct service_spec *services;
        size_t n_services;
        struct port_spec *ports;
        size_t n_ports;

        struct ynode *tree; /* the resolved tree (after inheritance), for `show` */
        char **chain;       /* files read, most derived first */
};

struct vlan_spec {
        uint16_t id;
        char *name;
        uint32_t subnet; /* network address, host byte order */
        unsigned prefix;
        uint32_t gateway; /* 0 = none */
        struct src src;
};

struct host_address {
        uint16_t vlan;
        uint32_t addr;
        struct src src;
};

struct host_spec {
        char *name;  /* "lab-db1" */
        char *role;  /* "db" */
        struct host_address *addresses;
        size_t n_addresses;
        struct src src;
};

struct route_spec {
        char *name;    /* "cloud" -> cloud.<domain> */
        char *backend; /* host name */
        uint16_t port;
        struct src src;
};

/* A vendor source and where this site mirrors it (site.yaml "mirrors:", or --mirror FROM=TO).
 * from is an apt repository URL prefix ("https://download.jitsi.org") or an OCI registry host
 * ("docker.io", "docker.elastic.co"); to is the mirror's URL ("http://127.0.0.1:5000",
 * "http://apt-cache.example/jitsi") or, for a registry, a bare host[:port] (reached over https). */
struct mirror_map {
        char *from, *to;
        struct src src; /* file == NULL for a command-line entry */
};

struct site {
        char *domain;
        uint16_t default_vlan; /* the VLAN that carries the default route */
        char **dns;
        char **ntp;
        char *timezone;
        struct vlan_spec *vlans;
        size_t n_vlans;
        struct host_spec *hosts;
        size_t n_hosts;
        struct route_spec *routes;
        size_t n_routes;
        struct mirror_map *mirrors;
        size_t n_mirrors;

        struct ynode *tree;
};

/* Load profiles/<role>.yaml from dir (following "inherits"), fill and validate it. On any
 * problem, the diagnostics say what and where, and -EINVAL is returned. */
int profile_load(const char *dir, const char *role, struct diags *d, struct profile **ret);
/* Load a profile from an explicit file path; "inherits" is resolved in the same directory. */
int profile_load_file(const char *path, struct diags *d, struct profile **ret);
struct profile *profile_free(struct profile *p);
static inline void profile_freep(struct profile **p) {
        profile_free(*p);
}

int site_load_file(const char *path, struct diags *d, struct site **ret);
/* Same from memory, for the fuzzer. */
int site_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct site **ret);
int profile_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct profile **ret);
struct site *site_free(struct site *s);
static inline void site_freep(struct site **s) {
        site_free(*s);
}

/* Cross-checks between a profile and the site: its VLANs exist, its hosts' addresses lie in those
 * VLANs' subnets, and so on. */
void profile_check_site(const struct profile *p, const struct site *s, struct diags *d);
/* Every role named by the site exists in dir and agrees with it. */
void site_check_roles(const struct site *s, const char *dir, struct diags *d);

const struct host_spec *site_find_host_by_role(const struct site *s, const char *role);
const struct host_spec *site_find_host(const struct site *s, const char *name);
const struct vlan_spec *site_find_vlan(const struct site *s, uint16_t id);
/* The host's address on a VLAN, 0 if it has none. */
uint32_t host_address_on(const struct host_spec *h, uint16_t vlan);

/* The disk the image is written to (os: true), or NULL. */
const struct disk_spec *profile_os_disk(const struct profile *p);
/* The profile's service of that name, or NULL (also for a NULL profile). */
const struct service_spec *profile_find_service(const struct profile *p, const char *name);

/* debconf's types a profile's selection may have, NULL-terminated: every one but "password". */
extern const char *const debconf_types[];
/* One debconf selection, "OWNER QUESTION TYPE VALUE" (fields separated by spaces, the value the
 * rest of the line), checked and normalised (one space between fields, none after the value) into
 * *ret. -EINVAL (-EPERM for a password) with *ret_error saying why, in words for a diagnostic. */
int debconf_line_parse(const char *line, char **ret, const char **ret_error);

/* The role names, in the seed's order. */
extern const char *const role_names[];
extern const size_t n_role_names;

/* String tables. *_from_string return -EINVAL for unknown names. */
const char *disk_class_to_string(enum disk_class c);
int disk_class_from_string(const char *s);
const char *transport_to_string(enum transport t);
int transport_from_string(const char *s);
const char *fs_type_to_string(enum fs_type f);
int fs_type_from_string(const char *s);
const char *part_type_to_string(enum part_type t);
int part_type_from_string(const char *s);
/* GPT type GUID (upper case, as sfdisk prints it). */
const char *part_type_guid(enum part_type t);
const char *bond_mode_to_string(enum bond_mode m);
int bond_mode_from_string(const char *s);
const char *lacp_rate_to_string(enum lacp_rate r);
int lacp_rate_from_string(const char *s);
const char *xmit_hash_to_string(enum xmit_hash h);
int xmit_hash_from_string(const char *s);
const char *service_source_to_string(enum service_source s);
int service_source_from_string(const char *s);
const char *service_fetch_to_string(enum service_fetch f);
/* Partition type implied by a mount point ("/" -> root, "/boot/efi" -> esp ...). */
enum part_type part_type_for_mount(const char *mount);
