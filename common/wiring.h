/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "diag.h"
#include "profile.h"

/* How the site's hosts use each other. A role's service declares what it needs (needs:
 * [postgresql, redis, smtp, ldap, oidc, route]); the plan names, for every such need of every host
 * of the site, the providing host and both addresses. Pure: site + the roles' profiles in, a list
 * out. The builder writes each host's part into its credentials bundle (record "wiring"), so the
 * providing host creates exactly what its consumers need and nothing else, and the consumer knows
 * where to point.
 *
 * Which service provides a kind: postgresql -> "postgresql", mysql -> "mariadb", redis -> "redis", smtp -> "postfix",
 * ldap -> "freeipa-server", oidc -> "keycloak", route -> "traefik", backup -> "backup" (the backup host's
 * restic/SFTP account for the consumer host's job). A backup need without a provider is left out
 * (a site without a backup host still wires; the client's firstboot reports its job as not wired);
 * every other need without one is an error. PostgreSQL, MariaDB and Redis are reached
 * on the VLAN named "database" (both ends must have an address there: the database server listens
 * nowhere else); the others on the site's default VLAN. */

struct wiring_link {
        char *kind;          /* "postgresql" */
        char *service;       /* the consumer's service: "nextcloud" */
        char *consumer;      /* host name: "lab-app1" */
        uint32_t consumer_addr;
        char *provider;      /* "lab-db1" */
        uint32_t provider_addr;
};

struct wiring {
        struct wiring_link *links;
        size_t n;
};

/* The provider's service name for a kind, NULL for an unknown kind. */
const char *wiring_provider_service(const char *kind);

/* profiles: one per role the site uses (others are ignored). A need that no host of the site
 * provides, or an end without an address on the VLAN it is reached on, is an error in *ret_error
 * (-ENOENT / -EADDRNOTAVAIL). */
int wiring_plan(const struct site *site, const struct profile *const *profiles, size_t n_profiles,
                struct wiring *ret, char **ret_error);
void wiring_done(struct wiring *w);

/* The links one host takes part in, as text: one line per link,
 *   "KIND SERVICE CONSUMER CONSUMER-ADDR PROVIDER PROVIDER-ADDR"
 * (host may be NULL: every link). NULL on OOM. */
char *wiring_render(const struct wiring *w, const char *host);
/* Its inverse; '#' comments and blank lines are allowed. Errors are FILE:LINE:COL in d. */
int wiring_parse(const char *file, const char *text, struct diags *d, struct wiring *ret);

/* The PostgreSQL role and database name for a service: the name with '-' as '_' ("snipe-it" ->
 * "snipe_it"), so it needs no quoting. NULL on OOM. */
char *wiring_pg_name(const char *service);
