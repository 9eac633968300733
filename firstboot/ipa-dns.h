/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "profile.h"

/* FreeIPA's DNS zone on the identity host holds the site's names (issue 14).
 *
 * The plan (ipa-dns-plan.c, pure: the site in, records out), from profiles/site.yaml:
 *   - every host: NAME.<domain> A its address on the default VLAN, and the PTR of that address in
 *     its reverse zone (the /24 it lies in: "50.0.10.in-addr.arpa."). Only the default VLAN: one
 *     name with addresses on three VLANs would round-robin clients onto networks they cannot reach
 *     (the database VLAN is reached by address, through the wiring, never by name);
 *   - every route of the Traefik table: NAME.<domain> A the address of the host that runs Traefik
 *     ("zone: web:"), as the seed's DNS table has cloud … monitor "via Traefik";
 *   - "zone: names:": names that go straight to a host (the seed's ipa, sso and db; they win over a
 *     route of the same name), optionally on another of the host's VLANs;
 *   - "zone: mx:": "@ MX PRIORITY HOST.<domain>.": mail for the domain goes to the host that runs
 *     Postfix, not to mail.<domain> (that is the webmail behind Traefik, which takes no SMTP).
 * Missing data (no zone table, a host the table names that the site lacks, a name given twice)
 * is an error at the site's FILE:LINE:COL.
 *
 * The apply (ipa-dns-step.c) runs on the identity host after ipa-server-install --setup-dns:
 * kinit as admin (the password on kinit's stdin), then per record `ipa dnsrecord-show` and
 * `ipa dnsrecord-add` only for a value not there yet, so a rerun adds nothing twice. */

#define RACKSTACK_SITE_DEFAULT "/usr/share/rackstack/site.yaml"

enum ipa_dns_type { IPA_DNS_A, IPA_DNS_PTR, IPA_DNS_MX, _IPA_DNS_TYPE_MAX };

struct ipa_dns_record {
        char *zone;  /* "domain.com." or "50.0.10.in-addr.arpa." */
        char *name;  /* relative to the zone: "lab-db1", "cloud", "12", "@" */
        enum ipa_dns_type type;
        char *value; /* "10.0.50.12", "lab-db1.domain.com.", "10 lab-comm1.domain.com." */
        char *why;   /* "host lab-db1", "route cloud via Traefik on lab-infra1" */
};

struct ipa_dns_plan {
        char *zone;            /* "domain.com." */
        char **reverse_zones;  /* each once, in first-use order */
        struct ipa_dns_record *records;
        size_t n;
};

/* Errors go to d at the site's positions; -EINVAL then. -ENOMEM on OOM. */
int ipa_dns_plan_make(const struct site *s, struct diags *d, struct ipa_dns_plan *ret);
void ipa_dns_plan_done(struct ipa_dns_plan *p);

const char *ipa_dns_type_to_string(enum ipa_dns_type t);
/* The record whose zone-relative name and type match, or NULL. */
const struct ipa_dns_record *ipa_dns_plan_find(const struct ipa_dns_plan *p, const char *zone, const char *name,
                                               enum ipa_dns_type t);

/* The plan as lines, "ZONE NAME TYPE VALUE  ; why" (--plan). NULL on OOM. */
char *ipa_dns_plan_text(const struct ipa_dns_plan *p);
/* One zone of the plan as a BIND zone file (what FreeIPA's BIND would serve for these records),
 * with the SOA and NS that ipa-server-install makes: NS ns_host.<domain>. (for checks with
 * named-checkzone and serving with named in the tests). NULL on OOM or an unknown zone. */
char *ipa_dns_zone_file(const struct ipa_dns_plan *p, const char *zone, const char *ns_host, uint32_t serial);

/* The option ipa's CLI takes for a type's value: "--a-rec", "--ptr-rec", "--mx-rec". */
const char *ipa_dns_cli_option(enum ipa_dns_type t);
/* Whether the output of `ipa dnsrecord-show ZONE NAME --raw` lists value for the type (names
 * compared without case, a trailing dot optional). Pure, for the tests. */
bool ipa_dns_show_has(const char *show_output, enum ipa_dns_type t, const char *value);

/* ---- on the identity host (ipa-dns-step.c) ---- */

struct ipa_dns_ctx {
        const char *admin_password_file; /* the host's credential (join ipa-server admin-password-file=) */
        int root_fd;
        const char *realm;               /* NULL: kinit's default realm */
        const char *ipa_prog, *kinit_prog; /* NULL: "ipa", "kinit" (tests give stand-ins) */
};

/* Reverse zones made when missing, then every record of the plan not there yet added. On success
 * *ret_done says how many were added and how many were there; on failure *ret_reason says which
 * record or command failed. */
int ipa_dns_apply(const struct ipa_dns_ctx *c, const struct ipa_dns_plan *p, char **ret_done, char **ret_reason);

/* `rackstack-firstboot ipa-dns [--site FILE] [--plan | --zone-file ZONE] …` */
int verb_ipa_dns(int argc, char **argv);
