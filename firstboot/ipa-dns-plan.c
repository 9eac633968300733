/* SPDX-License-Identifier: MIT */
/* The records FreeIPA's DNS zone holds for the site (ipa-dns.h): pure, the site in, records out. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "ipa-dns.h"
#include "parse.h"
#include "util.h"

#define ERR(d, n, ...) diag_error((d), (n)->file, (n)->line, (n)->col, __VA_ARGS__)

static const char *const type_names[_IPA_DNS_TYPE_MAX] = { [IPA_DNS_A] = "A", [IPA_DNS_PTR] = "PTR", [IPA_DNS_MX] = "MX" };

const char *ipa_dns_type_to_string(enum ipa_dns_type t) {
        return t < _IPA_DNS_TYPE_MAX ? type_names[t] : NULL;
}

const char *ipa_dns_cli_option(enum ipa_dns_type t) {
        static const char *const opt[_IPA_DNS_TYPE_MAX] = { [IPA_DNS_A] = "--a-rec", [IPA_DNS_PTR] = "--ptr-rec",
                                                            [IPA_DNS_MX] = "--mx-rec" };
        return t < _IPA_DNS_TYPE_MAX ? opt[t] : NULL;
}

void ipa_dns_plan_done(struct ipa_dns_plan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->records[i].zone);
                free(p->records[i].name);
                free(p->records[i].value);
                free(p->records[i].why);
        }
        free(p->records);
        free(p->zone);
        strv_free(p->reverse_zones);
        *p = (struct ipa_dns_plan) {};
}

const struct ipa_dns_record *ipa_dns_plan_find(const struct ipa_dns_plan *p, const char *zone, const char *name,
                                               enum ipa_dns_type t) {
        for (size_t i = 0; i < p->n; i++)
                if (p->records[i].type == t && strcasecmp(p->records[i].zone, zone) == 0 &&
                    strcasecmp(p->records[i].name, name) == 0)
                        return &p->records[i];
        return NULL;
}

/* Takes ownership of value and why (freed on failure too). */
static int add(struct ipa_dns_plan *p, const char *zone, const char *name, enum ipa_dns_type t, char *value, char *why) {
        struct ipa_dns_record *n = realloc(p->records, (p->n + 1) * sizeof *n);
        if (n)
                p->records = n;
        struct ipa_dns_record rec = { .zone = strdup(zone), .name = strdup(name), .type = t, .value = value, .why = why };
        if (!n || !rec.zone || !rec.name || !value || !why) {
                free(rec.zone), free(rec.name), free(value), free(why);
                return -ENOMEM;
        }
        p->records[p->n++] = rec;
        return 0;
}

/* "10.0.50.12" -> zone "50.0.10.in-addr.arpa.", name "12": the /24 the address lies in. */
static int reverse_of(uint32_t a, char **ret_zone, char **ret_name) {
        char *z = strprintf("%u.%u.%u.in-addr.arpa.", (a >> 8) & 0xff, (a >> 16) & 0xff, a >> 24);
        char *n = strprintf("%u", a & 0xff);
        if (!z || !n) {
                free(z), free(n);
                return -ENOMEM;
        }
        *ret_zone = z, *ret_name = n;
        return 0;
}

static bool check_keys(const struct ynode *m, const char *const *keys, const char *what, struct diags *d) {
        if (m->type != YNODE_MAP) {
                ERR(d, m, "expected %s to be a mapping, got %s", what, ynode_type_name(m->type));
                return false;
        }
        bool ok = true;
        for (size_t i = 0; i < m->n; i++)
                if (!strv_contains((char *const *) keys, m->pairs[i].key->scalar)) {
                        _cleanup_free_ char *all = strv_join((char **) keys, ", ");
                        ERR(d, m->pairs[i].key, "unknown key '%s' in %s (it takes: %s)", m->pairs[i].key->scalar, what,
                            strna(all));
                        ok = false;
                }
        return ok;
}

static const struct ynode *scalar(const struct ynode *m, const char *key, bool required, const char *what,
                                  struct diags *d) {
        const struct ynode *n = ynode_get(m, key);
        if (!n) {
                if (required)
                        ERR(d, m, "%s is missing required key '%s'", what, key);
                return NULL;
        }
        if (n->type != YNODE_SCALAR) {
                ERR(d, n, "'%s' should be a scalar, got %s", key, ynode_type_name(n->type));
                return NULL;
        }
        return n;
}

static const struct host_spec *host_named(const struct site *s, const struct ynode *n, const char *what,
                                          struct diags *d) {
        const struct host_spec *h = site_find_host(s, n->scalar);
        if (!h)
                ERR(d, n, "%s names host '%s', which the site does not list under 'hosts:'", what, n->scalar);
        return h;
}

/* A name of the zone: a valid label, not a host's name, not given twice in names:. */
static bool name_ok(const struct site *s, const struct ynode *n, char **seen, struct diags *d) {
        const char *why = hostname_invalid_reason(n->scalar);
        if (why || strchr(n->scalar, '.')) {
                ERR(d, n, "zone name '%s': %s", n->scalar, why ? why : "give one label; the domain comes from 'domain'");
                return false;
        }
        if (site_find_host(s, n->scalar)) {
                ERR(d, n, "zone name '%s' is also a host's name; the host's own record has it", n->scalar);
                return false;
        }
        if (strv_contains(seen, n->scalar)) {
                ERR(d, n, "zone name '%s' is given twice", n->scalar);
                return false;
        }
        return true;
}

int ipa_dns_plan_make(const struct site *s, struct diags *d, struct ipa_dns_plan *ret) {
        static const char *const zone_keys[] = { "web", "names", "mx", NULL };
        static const char *const name_keys[] = { "name", "host", "vlan", NULL };
        static const char *const mx_keys[] = { "host", "priority", NULL };
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        _cleanup_(strv_freep) char **names = NULL;
        size_t before = d->n_errors;
        int r;

        const struct ynode *zone = ynode_get(s->tree, "zone");
        if (!zone) {
                ERR(d, s->tree, "the site has no 'zone:' table: FreeIPA's DNS needs 'web:' (the host whose Traefik "
                                "serves the routes) and may have 'names:' and 'mx:'");
                return -EINVAL;
        }
        if (!s->domain || !s->default_vlan) {
                ERR(d, s->tree, "the site has no domain or default VLAN to build the zone from");
                return -EINVAL;
        }
        if (!check_keys(zone, zone_keys, "the zone table", d))
                return -EINVAL;
        if (!(p.zone = strprintf("%s.", s->domain)))
                return -ENOMEM;

        /* 1. every host's name on the default VLAN, and its PTR */
        for (size_t i = 0; i < s->n_hosts; i++) {
                const struct host_spec *h = &s->hosts[i];
                uint32_t a = host_address_on(h, s->default_vlan);
                if (!a) {
                        diag_error(d, h->src.file, h->src.line, h->src.col,
                                   "host '%s' has no address on the default VLAN %u for its DNS record", h->name,
                                   s->default_vlan);
                        continue;
                }
                _cleanup_free_ char *rz = NULL, *rn = NULL;
                if ((r = add(&p, p.zone, h->name, IPA_DNS_A, format_ipv4(a), strprintf("host %s", h->name))) < 0 ||
                    (r = reverse_of(a, &rz, &rn)) < 0 ||
                    (r = add(&p, rz, rn, IPA_DNS_PTR, strprintf("%s.%s", h->name, p.zone), strprintf("host %s", h->name))) < 0)
                        return r;
                if (!strv_contains(p.reverse_zones, rz) && strv_extend(&p.reverse_zones, rz) < 0)
                        return -ENOMEM;
        }

        /* 2. names straight to a host (they win over a route of the same name) */
        const struct ynode *nl = ynode_get(zone, "names");
        if (nl && nl->type != YNODE_SEQ)
                ERR(d, nl, "'names' should be a sequence, got %s", ynode_type_name(nl->type));
        for (size_t i = 0; nl && nl->type == YNODE_SEQ && i < nl->n; i++) {
                const struct ynode *m = nl->items[i];
                if (!check_keys(m, name_keys, "a zone name", d))
                        continue;
                const struct ynode *name = scalar(m, "name", true, "a zone name", d);
                const struct ynode *host = scalar(m, "host", true, "a zone name", d);
                const struct ynode *vlan = scalar(m, "vlan", false, "a zone name", d);
                if (!name || !host || !name_ok(s, name, names, d))
                        continue;
                const struct host_spec *h = host_named(s, host, "zone name", d);
                if (!h)
                        continue;
                uint32_t v = s->default_vlan, a;
                if (vlan && parse_uint32_range(vlan->scalar, 1, 4094, &v) < 0) {
                        ERR(d, vlan, "VLAN id '%s' is outside 1..4094", vlan->scalar);
                        continue;
                }
                if (!(a = host_address_on(h, (uint16_t) v))) {
                        ERR(d, vlan ? vlan : host, "host '%s' has no address on VLAN %u", h->name, v);
                        continue;
                }
                if (strv_extend(&names, name->scalar) < 0 ||
                    (r = add(&p, p.zone, name->scalar, IPA_DNS_A, format_ipv4(a),
                             strprintf("service name to %s (VLAN %u)", h->name, v))) < 0)
                        return -ENOMEM;
        }

        /* 3. the routes: to the host whose Traefik serves them */
        const struct ynode *web = scalar(zone, "web", true, "the zone table", d);
        const struct host_spec *wh = web ? host_named(s, web, "the zone's 'web:'", d) : NULL;
        uint32_t wa = wh ? host_address_on(wh, s->default_vlan) : 0;
        for (size_t i = 0; wa && i < s->n_routes; i++) {
                const struct route_spec *rt = &s->routes[i];
                if (strv_contains(names, rt->name))
                        continue;
                if (site_find_host(s, rt->name)) {
                        diag_error(d, rt->src.file, rt->src.line, rt->src.col,
                                   "route '%s' has a host's name; its DNS record would clash with the host's", rt->name);
                        continue;
                }
                if ((r = add(&p, p.zone, rt->name, IPA_DNS_A, format_ipv4(wa),
                             strprintf("route %s via Traefik on %s (backend %s:%u)", rt->name, wh->name, rt->backend,
                                       rt->port))) < 0)
                        return r;
        }

        /* 4. where mail for the domain goes */
        const struct ynode *mx = ynode_get(zone, "mx");
        if (mx && check_keys(mx, mx_keys, "the zone's 'mx:'", d)) {
                const struct ynode *host = scalar(mx, "host", true, "the zone's 'mx:'", d);
                const struct ynode *prio = scalar(mx, "priority", true, "the zone's 'mx:'", d);
                const struct host_spec *h = host ? host_named(s, host, "the zone's 'mx:'", d) : NULL;
                uint32_t pv = 0;
                if (prio && parse_uint32_range(prio->scalar, 0, 65535, &pv) < 0)
                        ERR(d, prio, "MX priority '%s' is outside 0..65535", prio->scalar);
                else if (h && prio &&
                         (r = add(&p, p.zone, "@", IPA_DNS_MX, strprintf("%u %s.%s", pv, h->name, p.zone),
                                  strprintf("mail for %s is delivered to %s", s->domain, h->name))) < 0)
                        return r;
        }

        if (d->n_errors > before)
                return -EINVAL;
        *ret = p;
        p = (struct ipa_dns_plan) {};
        return 0;
}

char *ipa_dns_plan_text(const struct ipa_dns_plan *p) {
        struct buf b = {};
        for (size_t i = 0; i < p->n; i++) {
                const struct ipa_dns_record *x = &p->records[i];
                buf_printf(&b, "%s %s %s %s  ; %s\n", x->zone, x->name, type_names[x->type], x->value, x->why);
        }
        if (!p->n)
                buf_puts(&b, "");
        return buf_steal(&b);
}

char *ipa_dns_zone_file(const struct ipa_dns_plan *p, const char *zone, const char *ns_host, uint32_t serial) {
        if (!streq(zone, p->zone) && !strv_contains(p->reverse_zones, zone))
                return NULL;
        struct buf b = {};
        buf_printf(&b,
                   "; %s as FreeIPA's DNS holds it for this site (rackstack-firstboot ipa-dns --zone-file)\n"
                   "$ORIGIN %s\n$TTL 3600\n"
                   "@ IN SOA %s.%s hostmaster.%s %u 3600 900 1209600 3600\n"
                   "@ IN NS %s.%s\n",
                   zone, zone, ns_host, p->zone, p->zone, serial, ns_host, p->zone);
        for (size_t i = 0; i < p->n; i++) {
                const struct ipa_dns_record *x = &p->records[i];
                if (streq(x->zone, zone))
                        buf_printf(&b, "%-12s IN %-3s %s\n", x->name, type_names[x->type], x->value);
        }
        return buf_steal(&b);
}

/* ---- reading `ipa dnsrecord-show ZONE NAME --raw` ---- */

static bool same_value(const char *a, size_t na, const char *b) {
        size_t nb = strlen(b);
        while (na && a[na - 1] == '.')
                na--;
        while (nb && b[nb - 1] == '.')
                nb--;
        return na == nb && strncasecmp(a, b, na) == 0;
}

bool ipa_dns_show_has(const char *out, enum ipa_dns_type t, const char *value) {
        static const char *const attr[_IPA_DNS_TYPE_MAX] = { [IPA_DNS_A] = "arecord", [IPA_DNS_PTR] = "ptrrecord",
                                                             [IPA_DNS_MX] = "mxrecord" };
        if (!out || t >= _IPA_DNS_TYPE_MAX)
                return false;
        size_t na = strlen(attr[t]);
        for (const char *l = out; *l;) {
                const char *e = strchrnul(l, '\n');
                const char *x = l;
                while (x < e && isspace((unsigned char) *x))
                        x++;
                /* "  arecord: 10.0.50.19" (--raw: one line per value) */
                if ((size_t) (e - x) > na && strncasecmp(x, attr[t], na) == 0 && x[na] == ':') {
                        const char *v = x + na + 1, *ve = e;
                        while (v < ve && isspace((unsigned char) *v))
                                v++;
                        while (ve > v && isspace((unsigned char) ve[-1]))
                                ve--;
                        if (same_value(v, (size_t) (ve - v), value))
                                return true;
                }
                l = *e ? e + 1 : e;
        }
        return false;
}
