/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse.h"
#include "util.h"
#include "wiring.h"

static const struct {
        const char *kind, *service;
        bool database_vlan;
} providers[] = {
        { "postgresql", "postgresql", true },
        /* MySQL/MariaDB, for the applications that support nothing else (SuiteCRM, Snipe-IT, GLPI) */
        { "mysql", "mariadb", true },
        { "redis", "redis", true },
        { "smtp", "postfix", false },
        { "ldap", "freeipa-server", false },
        { "oidc", "keycloak", false },
        { "route", "traefik", false },
        /* a host's backup job to the backup host's disk (restic over SFTP), on the default VLAN */
        { "backup", "backup", false },
};

const char *wiring_provider_service(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(providers); i++)
                if (streq(providers[i].kind, kind))
                        return providers[i].service;
        return NULL;
}

static bool on_database_vlan(const char *kind) {
        for (size_t i = 0; i < ELEMENTSOF(providers); i++)
                if (streq(providers[i].kind, kind))
                        return providers[i].database_vlan;
        return false;
}

static const struct profile *profile_of(const struct profile *const *p, size_t n, const char *role) {
        for (size_t i = 0; i < n; i++)
                if (p[i] && p[i]->role && streq(p[i]->role, role))
                        return p[i];
        return NULL;
}

static bool has_service(const struct profile *p, const char *name) {
        return profile_find_service(p, name);
}

static const struct vlan_spec *vlan_named(const struct site *s, const char *name) {
        for (size_t i = 0; i < s->n_vlans; i++)
                if (s->vlans[i].name && streq(s->vlans[i].name, name))
                        return &s->vlans[i];
        return NULL;
}

static void link_done(struct wiring_link *l) {
        free(l->kind);
        free(l->service);
        free(l->consumer);
        free(l->provider);
}

void wiring_done(struct wiring *w) {
        for (size_t i = 0; i < w->n; i++)
                link_done(&w->links[i]);
        free(w->links);
        *w = (struct wiring) {};
}

static int add_link(struct wiring *w, const char *kind, const char *service, const char *consumer, uint32_t ca,
                    const char *provider, uint32_t pa) {
        struct wiring_link *n = realloc(w->links, (w->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        w->links = n;
        struct wiring_link l = { .kind = strdup(kind), .service = strdup(service), .consumer = strdup(consumer),
                                 .consumer_addr = ca, .provider = strdup(provider), .provider_addr = pa };
        if (!l.kind || !l.service || !l.consumer || !l.provider) {
                link_done(&l);
                return -ENOMEM;
        }
        w->links[w->n++] = l;
        return 0;
}

int wiring_plan(const struct site *site, const struct profile *const *profiles, size_t n_profiles,
                struct wiring *ret, char **ret_error) {
        struct wiring w = {};
        int r = 0;
        char *err = NULL;
        const struct vlan_spec *dbv = vlan_named(site, "database");
        for (size_t h = 0; h < site->n_hosts && r >= 0; h++) {
                const struct host_spec *host = &site->hosts[h];
                const struct profile *p = profile_of(profiles, n_profiles, host->role);
                for (size_t i = 0; p && i < p->n_services && r >= 0; i++) {
                        const struct service_spec *s = &p->services[i];
                        for (char **k = s->needs; k && *k && r >= 0; k++) {
                                const char *psvc = wiring_provider_service(*k);
                                const struct host_spec *prov = NULL;
                                for (size_t j = 0; psvc && j < site->n_hosts && !prov; j++)
                                        if (has_service(profile_of(profiles, n_profiles, site->hosts[j].role), psvc))
                                                prov = &site->hosts[j];
                                /* a site without a backup host: the job is not wired (firstboot says so
                                 * in the service's status), the rest of the site still is */
                                if (!prov && streq(*k, "backup"))
                                        continue;
                                if (!prov) {
                                        err = strprintf("%s on %s needs %s, but no host of the site runs %s", s->name,
                                                        host->name, *k, strna(psvc));
                                        r = -ENOENT;
                                        break;
                                }
                                uint16_t vid = on_database_vlan(*k) ? (dbv ? dbv->id : 0) : site->default_vlan;
                                uint32_t ca = vid ? host_address_on(host, vid) : 0,
                                         pa = vid ? host_address_on(prov, vid) : 0;
                                if (!ca || !pa) {
                                        err = strprintf("%s on %s reaches %s on %s over VLAN %u, but %s has no address "
                                                        "there",
                                                        s->name, host->name, *k, prov->name, vid,
                                                        !ca ? host->name : prov->name);
                                        r = -EADDRNOTAVAIL;
                                        break;
                                }
                                r = add_link(&w, *k, s->name, host->name, ca, prov->name, pa);
                        }
                }
        }
        if (r < 0) {
                wiring_done(&w);
                if (ret_error)
                        *ret_error = err;
                else
                        free(err);
                return r;
        }
        *ret = w;
        return 0;
}

char *wiring_render(const struct wiring *w, const char *host) {
        struct buf b = {};
        buf_puts(&b, "# kind service consumer consumer-address provider provider-address\n");
        for (size_t i = 0; i < w->n; i++) {
                const struct wiring_link *l = &w->links[i];
                if (host && !streq(host, l->consumer) && !streq(host, l->provider))
                        continue;
                _cleanup_free_ char *ca = format_ipv4(l->consumer_addr), *pa = format_ipv4(l->provider_addr);
                if (!ca || !pa) {
                        buf_done(&b);
                        return NULL;
                }
                buf_printf(&b, "%s %s %s %s %s %s\n", l->kind, l->service, l->consumer, ca, l->provider, pa);
        }
        return buf_steal(&b);
}

static bool word_valid(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

int wiring_parse(const char *file, const char *text, struct diags *d, struct wiring *ret) {
        struct wiring w = {};
        int r = 0;
        unsigned lineno = 0;
        for (const char *p = text; p && *p && r >= 0;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t) (nl - p) : strlen(p);
                lineno++;
                _cleanup_free_ char *line = strndup(p, len);
                p = nl ? nl + 1 : NULL;
                if (!line) {
                        r = -ENOMEM;
                        break;
                }
                if (!line[0] || line[0] == '#')
                        continue;
                _cleanup_strv_free_ char **f = NULL;
                if (strv_split(line, " ", &f) < 0) {
                        r = -ENOMEM;
                        break;
                }
                uint32_t ca = 0, pa = 0;
                if (strv_length(f) != 6) {
                        diag_error(d, file, lineno, 1, "expected 6 fields (kind service consumer address provider "
                                   "address), got %zu", strv_length(f));
                        r = -EINVAL;
                } else if (!wiring_provider_service(f[0])) {
                        diag_error(d, file, lineno, 1, "unknown kind '%s'", f[0]);
                        r = -EINVAL;
                } else if (!word_valid(f[1]) || !word_valid(f[2]) || !word_valid(f[4])) {
                        diag_error(d, file, lineno, 1, "a service or host name with characters outside [a-z0-9._-]");
                        r = -EINVAL;
                } else if (parse_ipv4(f[3], &ca) < 0 || parse_ipv4(f[5], &pa) < 0 || !ca || !pa) {
                        diag_error(d, file, lineno, 1, "'%s' or '%s' is not an IPv4 address", f[3], f[5]);
                        r = -EINVAL;
                } else
                        r = add_link(&w, f[0], f[1], f[2], ca, f[4], pa);
        }
        if (r < 0) {
                wiring_done(&w);
                return r;
        }
        *ret = w;
        return 0;
}

char *wiring_pg_name(const char *service) {
        char *s = strdup(service);
        for (char *c = s; c && *c; c++)
                if (*c == '-' || *c == '.')
                        *c = '_';
        return s;
}
