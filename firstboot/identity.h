/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kickstart.h"
#include "profile.h"

/* The host's identity: its names and address (/etc/hostname, /etc/hosts), its machine-id and its
 * SSH host keys, and the facts that tell this machine from a copy of it.
 *
 * The first identity records the firmware's DMI product_uuid and the permanent MACs of the
 * physical NICs in /var/lib/rackstack/identity.json. A later boot whose facts differ is a clone
 * (a VM cloned from a disk that already ran firstboot, so the done stamp is there too): it gets a
 * new machine-id and new host keys, its recorded join steps are invalidated, and firstboot runs
 * again to re-join, all before the network and sshd start (rackstack-identity.service, which the
 * first identity installs, runs `rackstack-firstboot identity --check-clone` on every boot).
 *
 * Clone rule: the product_uuid differs (when both are known), or none of the recorded MACs is
 * still present (when both lists are non-empty). One MAC in common is the same machine with a
 * replaced NIC: the record is updated, nothing is regenerated. A machine with a placeholder UUID
 * (all zeros, all ones, "03000200-0400-0500-0006-000700080009") is judged by its MACs alone. */

#define IDENTITY_PATH "var/lib/rackstack/identity.json"
#define IDENTITY_REJOIN_PATH "var/lib/rackstack/rejoin"
#define IDENTITY_UNIT "rackstack-identity.service"

struct identity_facts {
        char *product_uuid; /* lower case; NULL when the firmware has none or a placeholder */
        char **macs;        /* permanent MACs of physical NICs, lower case, sorted; NULL if none */
};

struct identity_record {
        char *product_uuid;
        char **macs;
        char *machine_id;
        char *hostname;
        unsigned generation; /* 1 for the first identity, +1 per clone */
};

enum identity_verdict { IDENTITY_FIRST, IDENTITY_SAME, IDENTITY_CLONE };

struct identity_plan {
        enum identity_verdict verdict;
        bool new_machine_id;
        bool new_host_keys;
        bool redo_join;
        bool record;         /* write identity.json */
        unsigned generation; /* what to record */
        char *reason;        /* for humans: what differed */
};

/* Facts from sysfs (normally "/sys"). */
int identity_probe(const char *sysfs, struct identity_facts *ret);
void identity_facts_done(struct identity_facts *f);

/* identity.json under root_fd; -ENOENT if there is none. */
int identity_record_load(int root_fd, struct identity_record *ret);
int identity_record_parse(const char *data, size_t n, struct identity_record *ret);
char *identity_record_render(const struct identity_record *r);
void identity_record_done(struct identity_record *r);

/* The pure decision. rec is NULL when nothing was recorded yet. machine_id_ok: /etc/machine-id
 * holds a valid id; host_keys: /etc/ssh has host keys. */
int identity_decide(const struct identity_record *rec, const struct identity_facts *now, bool machine_id_ok,
                    bool host_keys, struct identity_plan *ret);
void identity_plan_done(struct identity_plan *p);
const char *identity_verdict_to_string(enum identity_verdict v);

/* The host's names and address. The FQDN is the kickstart's --hostname (with the site's domain
 * appended to a short name), else the site host's name in the site's domain. The address is the
 * site host's on the site's default (infrastructure) VLAN, else the kickstart's --ip on the line
 * that carries --hostname; 0 when neither exists (then /etc/hosts names no address for us rather
 * than 127.0.1.1, which FreeIPA refuses). */
struct identity_names {
        char *fqdn;
        char *shortname;
        uint32_t addr;
        const char *source; /* "kickstart" or "site" */
};
int identity_names_resolve(const struct ks *ks, const struct site *site, const struct host_spec *host,
                           struct identity_names *ret);
void identity_names_done(struct identity_names *n);
char *identity_render_hosts(const struct identity_names *n);

bool machine_id_valid(const char *s);
/* A new random (v4) machine-id, 32 lower-case hex digits. */
int machine_id_generate(char **ret);

/* Apply a plan under root (root_fd): machine-id (and /var/lib/dbus/machine-id as a symlink to it),
 * SSH host keys (old ones removed, `ssh-keygen -A -f ROOT`), join invalidation (the journal's
 * join/ steps are marked started again and the rejoin marker written) and the record. */
int identity_apply(int root_fd, const char *root, const struct identity_plan *p, const struct identity_facts *f,
                   const char *hostname);

/* /etc/hostname, /etc/hosts; sethostname(2) when set_kernel (only on the live root). */
int identity_write_names(int root_fd, const struct identity_names *n, bool set_kernel);

bool identity_host_keys_present(int root_fd);
/* The image's TLS snakeoil pair (etc/ssl/{private,certs}/ssl-cert-snakeoil.*), made in the build,
 * replaced by one of this server's own for hostname, owner and modes kept; 0 when the image has none.
 * Part of identity_apply() whenever it makes new SSH host keys. */
int identity_new_snakeoil(int root_fd, const char *root, const char *hostname);
/* "SHA256:…" of the ed25519 host key, as `ssh-keygen -lf` prints it; -ENOENT if there is none. */
int identity_host_key_fingerprint(int root_fd, char **ret);
int identity_read_machine_id(int root_fd, char **ret);

/* The every-boot unit that runs the clone check, written to /etc/systemd/system and enabled. */
extern const char identity_unit_text[];
int identity_install_unit(int root_fd);
