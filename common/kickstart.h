/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "profile.h"

/* The kickstart subset rackstack accepts (docs/rackstack-kickstart.5.md is the reference).
 *
 * A kickstart is one host's answers: names, addresses, which disks, secrets. We keep to commands
 * and options that pykickstart's RHEL9 handler knows, so files stay checkable with ksvalidator, and
 * put what kickstart has no words for in "%addon com_rackstack". We are stricter than Anaconda:
 * every unknown command, option or value is an error, with FILE:LINE:COL and a "did you mean".
 *
 * Every command and every option remembers where it was written (struct src from profile.h; its
 * file points at ks->file). An option that was not given has src.line == 0: use ks_given(). Sizes
 * in "part" are MiB as in Anaconda; sizes in %addon "disk" lines are bytes (parsed with binary
 * units, "50G" = 50 GiB). IPv4 addresses are in host byte order; 0 means "not given". */

#define ks_given(s) ((s).line > 0)

enum ks_bootproto {
        KS_BOOTPROTO_DHCP, /* Anaconda's default when --bootproto is absent */
        KS_BOOTPROTO_STATIC,
};

/* Which bond options --bondopts set: bits of ks_bondopts.set. */
enum {
        KS_BONDOPT_MODE = 1 << 0,
        KS_BONDOPT_MIIMON = 1 << 1,
        KS_BONDOPT_LACP_RATE = 1 << 2,
        KS_BONDOPT_XMIT_HASH_POLICY = 1 << 3,
        KS_BONDOPT_PRIMARY = 1 << 4,
        KS_BONDOPT_UPDELAY = 1 << 5,
        KS_BONDOPT_DOWNDELAY = 1 << 6,
        KS_BONDOPT_ARP_INTERVAL = 1 << 7,
        KS_BONDOPT_ARP_IP_TARGET = 1 << 8,
        KS_BONDOPT_AD_SELECT = 1 << 9,
        KS_BONDOPT_MIN_LINKS = 1 << 10,
};

enum ks_ad_select { KS_AD_SELECT_STABLE, KS_AD_SELECT_BANDWIDTH, KS_AD_SELECT_COUNT };

struct ks_bondopts {
        unsigned set; /* KS_BONDOPT_* given */
        enum bond_mode mode;
        uint32_t miimon, updelay, downdelay, arp_interval, min_links; /* ms, except min_links */
        enum lacp_rate lacp_rate;
        enum xmit_hash xmit_hash_policy;
        char *primary;
        uint32_t *arp_ip_targets;
        size_t n_arp_ip_targets;
        enum ks_ad_select ad_select;
};

/* One "network" line. Several lines may name the same --device with different --vlanid: the
 * key for duplicates is device+vlanid. A device is a bond when any of its lines has --bondslaves
 * or --bondopts; without --bondslaves, firstboot picks the two fastest NICs with carrier. */
struct ks_network {
        struct src src;
        char *device;            /* interface name, MAC, "link" or "bootif" */
        struct src device_src;
        char **bondslaves;       /* names or MACs; NULL if not given */
        struct src bondslaves_src;
        struct ks_bondopts bondopts;
        struct src bondopts_src;
        uint16_t vlanid;         /* 1..4094; 0 = no VLAN */
        struct src vlanid_src;
        char *interfacename;     /* name for the VLAN device; NULL = "<device>.<vlanid>" */
        struct src interfacename_src;
        enum ks_bootproto bootproto;
        struct src bootproto_src;
        uint32_t ip;
        struct src ip_src;
        unsigned prefix;         /* from --netmask */
        struct src netmask_src;
        uint32_t gateway;
        struct src gateway_src;
        uint32_t *nameservers;
        size_t n_nameservers;
        struct src nameserver_src;
        char *hostname;
        struct src hostname_src;
        uint32_t mtu;            /* 0 = default */
        struct src mtu_src;
        bool nodefroute;
        struct src nodefroute_src;
        bool activate;           /* --activate (true) / --no-activate (false); default true */
        struct src activate_src;
        bool onboot;             /* default true */
        struct src onboot_src;
};

struct ks_ignoredisk {
        struct src src;
        char **only_use;         /* whitelist, or NULL */
        struct src only_use_src;
        char **drives;           /* blacklist, or NULL */
        struct src drives_src;
};

enum ks_clearpart_mode { KS_CLEARPART_NONE, KS_CLEARPART_ALL, KS_CLEARPART_LIST };

struct ks_clearpart {
        struct src src;
        enum ks_clearpart_mode mode; /* default none */
        struct src mode_src;         /* of --none/--all/--list */
        char **list;                 /* --list= partitions */
        char **drives;
        struct src drives_src;
        bool initlabel;
        struct src initlabel_src;
        char *disklabel;             /* "gpt" or "msdos"; NULL = gpt */
        struct src disklabel_src;
};

enum ks_part_kind { KS_PART_MOUNT, KS_PART_SWAP, KS_PART_BIOSBOOT };

enum ks_fstype {
        KS_FSTYPE_UNSET,
        KS_FSTYPE_EXT4,
        KS_FSTYPE_XFS,
        KS_FSTYPE_VFAT,
        KS_FSTYPE_EFI, /* vfat on an EFI System Partition */
        KS_FSTYPE_SWAP,
        KS_FSTYPE_BIOSBOOT,
        _KS_FSTYPE_MAX,
};

struct ks_part {
        struct src src;
        enum ks_part_kind kind;
        char *mount;             /* "/srv/data"; NULL for swap and biosboot */
        struct src mount_src;    /* of the positional word */
        uint64_t size_mib;
        struct src size_src;
        bool grow;
        struct src grow_src;
        uint64_t maxsize_mib;
        struct src maxsize_src;
        char *ondisk;            /* device spec or "@alias" (see ks_part_disk_alias) */
        struct src ondisk_src;
        enum ks_fstype fstype;   /* implied swap/biosboot for those kinds */
        struct src fstype_src;
        char *label, *fsoptions, *mkfsoptions, *onpart;
        struct src label_src, fsoptions_src, mkfsoptions_src, onpart_src;
        bool noformat;
        struct src noformat_src;
};

struct ks_bootloader {
        struct src src;
        char *location;          /* "mbr" or "none"; NULL = mbr */
        struct src location_src;
        char *boot_drive;
        struct src boot_drive_src;
        char *append;
        struct src append_src;
        uint32_t timeout;
        struct src timeout_src;
};

struct ks_rootpw {
        struct src src;
        char *password;          /* a crypt(3) hash, or NULL */
        struct src password_src;
        bool iscrypted;
        struct src iscrypted_src;
        bool lock;
        struct src lock_src;
};

struct ks_user {
        struct src src;
        char *name;
        struct src name_src;
        char **groups;
        struct src groups_src;
        char *password;          /* a crypt(3) hash, or NULL */
        struct src password_src;
        bool iscrypted;
        struct src iscrypted_src;
        uint32_t uid, gid;       /* given when uid_src/gid_src are */
        struct src uid_src, gid_src;
        char *homedir;
        struct src homedir_src;
        char *shell;
        struct src shell_src;
        char *gecos;
        struct src gecos_src;
};

/* lang LOCALE: the system locale (LANG=). */
struct ks_lang {
        struct src src;
        char *locale;            /* "en_US.UTF-8" */
        struct src locale_src;
        char **addsupport;       /* read, not applied (warned) */
        struct src addsupport_src;
};

/* keyboard: the console keymap and the X layouts (Anaconda writes both; we write
 * /etc/default/keyboard and /etc/vconsole.conf). */
struct ks_keyboard {
        struct src src;
        char *vckeymap;          /* --vckeymap=, or the old positional form */
        struct src vckeymap_src;
        char **xlayouts;         /* --xlayouts=us,de; a "(variant)" suffix is kept */
        struct src xlayouts_src;
};

struct ks_services {
        struct src src;
        char **enabled, **disabled;
        struct src enabled_src, disabled_src;
};

/* firewall: merged with the role's nftables rules by the system step (the role's rules stay). */
struct ks_firewall {
        struct src src;
        bool enabled, disabled, ssh, http, smtp, ftp, system_defaults;
        struct src enabled_src, disabled_src, ssh_src, http_src, smtp_src, ftp_src, system_defaults_src;
        char **ports;            /* "8080:tcp", "1234:udp" as given (checked) */
        struct src ports_src;
        char **services;         /* firewalld service names: "http", "https", … */
        struct src services_src;
        char **remove_services, **trust;
        struct src remove_services_src, trust_src;
};

/* What happens once the first boot has finished (reboot, poweroff, shutdown, halt). */
enum ks_power { KS_POWER_NONE, KS_POWER_REBOOT, KS_POWER_POWEROFF, KS_POWER_HALT };

struct ks_sshkey {
        struct src src;
        char *username;
        struct src username_src;
        char *key;               /* "ssh-ed25519 AAAA… comment" */
        struct src key_src;
};

struct ks_timezone {
        struct src src;
        char *zone;              /* "Etc/UTC" */
        struct src zone_src;
        bool utc;
        struct src utc_src;
};

struct ks_timesource {
        struct src src;
        char *server;            /* host name or IPv4 */
        bool pool;               /* --ntp-pool rather than --ntp-server */
        struct src server_src;
        bool nts;
        struct src nts_src;
};

enum ks_script_kind { KS_SCRIPT_PRE, KS_SCRIPT_POST };

struct ks_script {
        struct src src;          /* of the %pre/%post word */
        enum ks_script_kind kind;
        char *interpreter;       /* NULL = /bin/sh */
        struct src interpreter_src;
        char *log;
        struct src log_src;
        bool erroronfail;
        struct src erroronfail_src;
        char *body;              /* the lines between the header and %end, LF-terminated */
        unsigned body_line;      /* line of the first body line */
};

/* %addon com_rackstack: "disk NAME key=value…" declares @NAME for --ondisk and asserts what the
 * disk must be. */
enum ks_disk_expect { KS_DISK_EXPECT_ANY, KS_DISK_EXPECT_EMPTY };

struct ks_disk {
        struct src src;
        char *name;
        unsigned classes;        /* enum disk_class mask; 0 = any */
        struct src class_src;
        unsigned transports;     /* enum transport mask; 0 = any */
        struct src transport_src;
        uint64_t min_size, max_size; /* bytes; 0 = no bound ("size=X" sets both) */
        struct src size_src;
        unsigned count;          /* default 1 */
        struct src count_src;
        enum ks_disk_expect expect;
        struct src expect_src;
};

enum ks_join_kind {
        KS_JOIN_IPA,        /* enrol as an IPA client: otp-file= server= [domain=] [realm=] */
        KS_JOIN_IPA_SERVER, /* become the IPA server: domain= admin-password-file= [realm=] [dm-password-file=] */
        KS_JOIN_ZABBIX,     /* psk-file= server= [psk-identity=] */
        KS_JOIN_GRAYLOG,    /* server= [port=] */
        _KS_JOIN_MAX,
};

struct ks_join {
        struct src src;
        enum ks_join_kind kind;
        char *server;
        struct src server_src;
        char *domain, *realm;
        struct src domain_src, realm_src;
        char *otp_file;            /* ipa: single-use enrolment password, deleted after use */
        struct src otp_file_src;
        char *admin_password_file, *dm_password_file; /* ipa-server */
        struct src admin_password_file_src, dm_password_file_src;
        char *psk_file, *psk_identity; /* zabbix */
        struct src psk_file_src, psk_identity_src;
        uint16_t port;             /* graylog; 0 = default (12201) */
        struct src port_src;
};

struct ks_addon {
        struct src src;            /* of "%addon"; line 0 if the file has no %addon com_rackstack */
        char *role;
        struct src role_src;
        struct ks_disk *disks;
        size_t n_disks;
        struct ks_join *joins;
        size_t n_joins;
        char *status_url;
        struct src status_url_src;
        char *token_file;
        struct src token_file_src;
};

struct ks {
        char *file;                /* the name given to the parser; every src.file points here */

        struct ks_network *networks;
        size_t n_networks;
        struct ks_ignoredisk ignoredisk; /* src.line == 0 if absent (so for the other singletons) */
        struct ks_clearpart clearpart;
        struct src zerombr_src;
        struct ks_part *parts;
        size_t n_parts;
        struct ks_bootloader bootloader;
        struct ks_rootpw rootpw;
        struct ks_user *users;
        size_t n_users;
        struct ks_sshkey *sshkeys;
        size_t n_sshkeys;
        struct ks_timezone timezone;
        struct ks_lang lang;
        struct ks_keyboard keyboard;
        struct ks_services services;
        struct ks_firewall firewall;
        enum ks_power power;
        struct src power_src;
        struct ks_timesource *timesources;
        size_t n_timesources;
        struct ks_script *scripts;
        size_t n_scripts;
        struct ks_addon addon;
};

/* Longest physical line we read; a longer one is an error (it is not a kickstart). */
#define KS_LINE_MAX (64 * 1024)
/* Largest file ks_load_file() reads. */
#define KS_FILE_MAX (4 * 1024 * 1024)

/* A 'firewall --port' item: "8080:tcp" or "1000-1010:udp". */
bool ks_firewall_port_parse(const char *s, unsigned *ret_from, unsigned *ret_to, bool *ret_udp);

/* Parse and validate a kickstart held in memory. name is used in diagnostics and src.file. Every
 * problem is added to d; returns -EINVAL if any error was found (warnings alone do not fail),
 * -ENOMEM on allocation failure, 0 with *ret set otherwise. */
int ks_parse_buffer(const char *name, const char *data, size_t size, struct diags *d, struct ks **ret);

/* Same from a file. Also refuses a file that holds password hashes (ks_has_secrets()) but is
 * readable by group or others, and anything that is not a regular file or is over KS_FILE_MAX.
 * I/O failures return their negative errno (with a diagnostic). */
int ks_load_file(const char *path, struct diags *d, struct ks **ret);

struct ks *ks_free(struct ks *ks);
static inline void ks_freep(struct ks **ks) {
        ks_free(*ks);
}

/* Whether the kickstart holds password hashes (rootpw or user --password). */
bool ks_has_secrets(const struct ks *ks);

/* Cross-check against the site: the --hostname names a site host (short name, or FQDN in the
 * site's domain), the %addon role is that host's role, there is one VLAN line for each of the
 * host's VLANs with the site's address, prefix and gateway (the gateway only on the site's
 * default VLAN), and the name servers are the site's. */
void ks_check_site(const struct ks *ks, const struct site *s, struct diags *d);

/* Lookups for the planners. */
const struct ks_disk *ks_find_disk(const struct ks *ks, const char *name);
/* "@data" -> "data"; NULL if --ondisk is not an alias. */
const char *ks_part_disk_alias(const struct ks_part *p);
/* The network line that carries --hostname, or NULL. */
const struct ks_network *ks_hostname_network(const struct ks *ks);
const struct ks_join *ks_find_join(const struct ks *ks, enum ks_join_kind kind);

const char *ks_fstype_to_string(enum ks_fstype t);
const char *ks_join_kind_to_string(enum ks_join_kind k);
