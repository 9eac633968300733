/* SPDX-License-Identifier: MIT */
/* The site: the seed's inventory of domain, VLANs, hosts and reverse-proxy routes. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "parse.h"
#include "profile.h"
#include "util.h"
#include "vendor.h"

#define ERR(d, n, ...) diag_error((d), (n)->file, (n)->line, (n)->col, __VA_ARGS__)
#define ERRS(d, s, ...) diag_error((d), (s).file, (s).line, (s).col, __VA_ARGS__)

/* "zone": FreeIPA's DNS table, read and checked by firstboot/ipa-dns-plan.c. */
static const char *const site_keys[] = { "domain", "default-vlan", "dns", "ntp", "timezone", "vlans", "hosts", "routes", "mirrors",
                                         "zone", NULL };
static const char *const mirror_keys[] = { "from", "to", NULL };
static const char *const vlan_keys[] = { "id", "name", "subnet", "gateway", NULL };
static const char *const host_keys[] = { "name", "role", "addresses", NULL };
static const char *const route_keys[] = { "name", "backend", "port", NULL };

static void src_from(struct src *s, const struct ynode *n) {
        *s = (struct src) { .file = n->file, .line = n->line, .col = n->col };
}

/* Unknown keys and wrong node types, checked once up front so the typed pass can assume shape. */
static bool check_keys(const struct ynode *map, const char *const *keys, const char *what, struct diags *d) {
        if (map->type != YNODE_MAP) {
                ERR(d, map, "expected %s to be a mapping, got %s", what, ynode_type_name(map->type));
                return false;
        }
        bool ok = true;
        for (size_t i = 0; i < map->n; i++) {
                const char *k = map->pairs[i].key->scalar;
                if (strv_contains((char *const *) keys, k))
                        continue;
                const char *hint = closest_match(k, keys);
                if (hint)
                        ERR(d, map->pairs[i].key, "unknown key '%s' in %s; did you mean '%s'?", k, what, hint);
                else
                        ERR(d, map->pairs[i].key, "unknown key '%s' in %s", k, what);
                ok = false;
        }
        return ok;
}

static const struct ynode *get_typed(const struct ynode *map, const char *key, enum ynode_type t, bool required,
                                     const char *what, struct diags *d) {
        const struct ynode *n = ynode_get(map, key);
        if (!n) {
                if (required)
                        ERR(d, map, "%s is missing required key '%s'", what, key);
                return NULL;
        }
        if (n->type != t) {
                ERR(d, n, "'%s' should be %s, got %s", key, ynode_type_name(t), ynode_type_name(n->type));
                return NULL;
        }
        return n;
}

static int ipv4_list(const struct ynode *seq, const char *what, struct diags *d, char ***ret) {
        int ret_r = 0;
        for (size_t i = 0; i < seq->n; i++) {
                const struct ynode *x = seq->items[i];
                uint32_t a;
                if (x->type != YNODE_SCALAR || parse_ipv4(x->scalar, &a) < 0) {
                        ERR(d, x, "%s entry is not an IPv4 address", what);
                        ret_r = -EINVAL;
                        continue;
                }
                if (strv_extend(ret, x->scalar) < 0)
                        return -ENOMEM;
        }
        return ret_r;
}

static uint16_t parse_vlan(const struct ynode *n, struct diags *d) {
        uint32_t v;
        if (n->type == YNODE_SCALAR && n->quoted) {
                ERR(d, n, "'%s' is quoted, so it is a string in YAML, not a VLAN id: write it without quotes", n->scalar);
                return 0;
        }
        if (n->type != YNODE_SCALAR || parse_uint32_range(n->scalar, 1, 4094, &v) < 0) {
                ERR(d, n, "VLAN id '%s' is outside 1..4094", n->type == YNODE_SCALAR ? n->scalar : "?");
                return 0;
        }
        return (uint16_t) v;
}

static void parse_vlans(struct site *s, const struct ynode *seq, struct diags *d) {
        s->vlans = calloc(seq->n ? seq->n : 1, sizeof(struct vlan_spec));
        if (!s->vlans) {
                d->oom = true;
                return;
        }
        for (size_t i = 0; i < seq->n; i++) {
                const struct ynode *m = seq->items[i];
                if (!check_keys(m, vlan_keys, "a VLAN", d))
                        continue;
                struct vlan_spec *v = &s->vlans[s->n_vlans];
                src_from(&v->src, m);
                const struct ynode *id = get_typed(m, "id", YNODE_SCALAR, true, "a VLAN", d);
                const struct ynode *name = get_typed(m, "name", YNODE_SCALAR, true, "a VLAN", d);
                const struct ynode *subnet = get_typed(m, "subnet", YNODE_SCALAR, true, "a VLAN", d);
                const struct ynode *gw = get_typed(m, "gateway", YNODE_SCALAR, false, "a VLAN", d);
                if (!id || !name || !subnet)
                        continue;
                v->id = parse_vlan(id, d);
                if (parse_cidr(subnet->scalar, &v->subnet, &v->prefix) < 0) {
                        ERR(d, subnet, "'%s' is not a subnet in CIDR form (10.0.50.0/24)", subnet->scalar);
                        continue;
                }
                if ((v->subnet & ~prefix_to_mask(v->prefix)) != 0) {
                        ERR(d, subnet, "'%s' has host bits set; the network address is expected", subnet->scalar);
                        continue;
                }
                if (gw) {
                        if (parse_ipv4(gw->scalar, &v->gateway) < 0) {
                                ERR(d, gw, "gateway '%s' is not an IPv4 address", gw->scalar);
                                continue;
                        }
                        if (!ipv4_in_subnet(v->gateway, v->subnet, v->prefix)) {
                                ERR(d, gw, "gateway %s is outside VLAN %u's subnet %s", gw->scalar, v->id, subnet->scalar);
                                continue;
                        }
                }
                v->name = strdup(name->scalar);
                if (!v->name) {
                        d->oom = true;
                        return;
                }
                for (size_t j = 0; j < s->n_vlans; j++)
                        if (s->vlans[j].id == v->id)
                                ERR(d, id, "VLAN %u is defined twice", v->id);
                s->n_vlans++;
        }
}

static void parse_hosts(struct site *s, const struct ynode *seq, struct diags *d) {
        s->hosts = calloc(seq->n ? seq->n : 1, sizeof(struct host_spec));
        if (!s->hosts) {
                d->oom = true;
                return;
        }
        for (size_t i = 0; i < seq->n; i++) {
                const struct ynode *m = seq->items[i];
                if (!check_keys(m, host_keys, "a host", d))
                        continue;
                const struct ynode *name = get_typed(m, "name", YNODE_SCALAR, true, "a host", d);
                const struct ynode *role = get_typed(m, "role", YNODE_SCALAR, true, "a host", d);
                const struct ynode *addrs = get_typed(m, "addresses", YNODE_MAP, true, "a host", d);
                if (!name || !role || !addrs)
                        continue;
                const char *why = hostname_invalid_reason(name->scalar);
                if (why || strchr(name->scalar, '.')) {
                        ERR(d, name, "'%s': %s", name->scalar, why ? why : "give the short host name; the domain comes from 'domain'");
                        continue;
                }
                struct host_spec *h = &s->hosts[s->n_hosts++];
                src_from(&h->src, m);
                h->name = strdup(name->scalar);
                h->role = strdup(role->scalar);
                h->addresses = calloc(addrs->n ? addrs->n : 1, sizeof(struct host_address));
                if (!h->name || !h->role || !h->addresses) {
                        d->oom = true;
                        return;
                }
                for (size_t j = 0; j < addrs->n; j++) {
                        const struct ypair *p = &addrs->pairs[j];
                        uint16_t vlan = parse_vlan(p->key, d);
                        uint32_t a;
                        if (!vlan)
                                continue;
                        if (p->value->type != YNODE_SCALAR || parse_ipv4(p->value->scalar, &a) < 0) {
                                ERR(d, p->value, "address on VLAN %u is not an IPv4 address", vlan);
                                continue;
                        }
                        struct host_address *ha = &h->addresses[h->n_addresses++];
                        ha->vlan = vlan;
                        ha->addr = a;
                        src_from(&ha->src, p->value);
                }
        }
}

static void parse_routes(struct site *s, const struct ynode *seq, struct diags *d) {
        s->routes = calloc(seq->n ? seq->n : 1, sizeof(struct route_spec));
        if (!s->routes) {
                d->oom = true;
                return;
        }
        for (size_t i = 0; i < seq->n; i++) {
                const struct ynode *m = seq->items[i];
                if (!check_keys(m, route_keys, "a route", d))
                        continue;
                const struct ynode *name = get_typed(m, "name", YNODE_SCALAR, true, "a route", d);
                const struct ynode *backend = get_typed(m, "backend", YNODE_SCALAR, true, "a route", d);
                const struct ynode *port = get_typed(m, "port", YNODE_SCALAR, true, "a route", d);
                uint32_t pv;
                if (!name || !backend || !port)
                        continue;
                if (port->quoted) {
                        ERR(d, port, "'%s' is quoted, so it is a string in YAML, not a port: write it without quotes",
                            port->scalar);
                        continue;
                }
                if (parse_uint32_range(port->scalar, 1, 65535, &pv) < 0) {
                        ERR(d, port, "port '%s' is outside 1..65535", port->scalar);
                        continue;
                }
                const char *why = hostname_invalid_reason(name->scalar);
                if (why) {
                        ERR(d, name, "route name '%s': %s", name->scalar, why);
                        continue;
                }
                struct route_spec *r = &s->routes[s->n_routes++];
                src_from(&r->src, m);
                r->name = strdup(name->scalar);
                r->backend = strdup(backend->scalar);
                r->port = (uint16_t) pv;
                if (!r->name || !r->backend) {
                        d->oom = true;
                        return;
                }
        }
}

/* mirrors: [{ from: docker.io, to: "http://127.0.0.1:5000" }, …]: vendor sources and this site's
 * mirrors of them (common/vendor.h says how they are matched). */
static void parse_mirrors(struct site *s, const struct ynode *seq, struct diags *d) {
        s->mirrors = calloc(seq->n ? seq->n : 1, sizeof(struct mirror_map));
        if (!s->mirrors) {
                diag_error(d, seq->file, seq->line, seq->col, "out of memory");
                return;
        }
        for (size_t i = 0; i < seq->n; i++) {
                const struct ynode *m = seq->items[i];
                if (!check_keys(m, mirror_keys, "a mirror", d))
                        continue;
                const struct ynode *from = get_typed(m, "from", YNODE_SCALAR, true, "a mirror", d);
                const struct ynode *to = get_typed(m, "to", YNODE_SCALAR, true, "a mirror", d);
                if (!from || !to)
                        continue;
                const char *why = mirror_map_check(from->scalar, to->scalar);
                if (why) {
                        ERR(d, m, "mirror '%s' -> '%s': %s", from->scalar, to->scalar, why);
                        continue;
                }
                for (size_t k = 0; k < s->n_mirrors; k++)
                        if (streq(s->mirrors[k].from, from->scalar))
                                ERR(d, from, "mirror for '%s' given twice (first at line %u)", from->scalar,
                                    s->mirrors[k].src.line);
                struct mirror_map *x = &s->mirrors[s->n_mirrors];
                x->from = strdup(from->scalar);
                x->to = strdup(to->scalar);
                if (!x->from || !x->to) {
                        mirror_map_done(x);
                        diag_error(d, m->file, m->line, m->col, "out of memory");
                        return;
                }
                src_from(&x->src, m);
                s->n_mirrors++;
        }
}

static void validate_site(struct site *s, struct diags *d) {
        if (s->default_vlan && !site_find_vlan(s, s->default_vlan))
                ERR(d, ynode_get(s->tree, "default-vlan"), "default-vlan %u is not among the VLANs", s->default_vlan);
        for (size_t i = 0; i < s->n_hosts; i++) {
                const struct host_spec *h = &s->hosts[i];
                for (size_t j = 0; j < i; j++)
                        if (streq(h->name, s->hosts[j].name))
                                ERRS(d, h->src, "host '%s' is listed twice", h->name);
                bool known_role = strv_contains((char *const *) role_names, h->role);
                if (!known_role) {
                        const char *hint = closest_match(h->role, role_names);
                        if (hint)
                                ERRS(d, h->src, "host '%s' has unknown role '%s'; did you mean '%s'?", h->name, h->role,
                                     hint);
                        else
                                ERRS(d, h->src, "host '%s' has unknown role '%s'", h->name, h->role);
                }
                for (size_t k = 0; k < h->n_addresses; k++) {
                        const struct host_address *a = &h->addresses[k];
                        const struct vlan_spec *v = site_find_vlan(s, a->vlan);
                        _cleanup_free_ char *txt = format_ipv4(a->addr);
                        if (!v) {
                                ERRS(d, a->src, "host '%s' has an address on VLAN %u, which the site does not define",
                                     h->name, a->vlan);
                                continue;
                        }
                        if (!ipv4_in_subnet(a->addr, v->subnet, v->prefix)) {
                                _cleanup_free_ char *net = format_ipv4(v->subnet);
                                ERRS(d, a->src, "address %s of host '%s' is outside VLAN %u's subnet %s/%u", strna(txt),
                                     h->name, a->vlan, strna(net), v->prefix);
                                continue;
                        }
                        uint32_t hostbits = a->addr & ~prefix_to_mask(v->prefix);
                        if (v->prefix < 31 && (hostbits == 0 || hostbits == ~prefix_to_mask(v->prefix)))
                                ERRS(d, a->src, "address %s of host '%s' is the network or broadcast address",
                                     strna(txt), h->name);
                        if (a->addr == v->gateway)
                                ERRS(d, a->src, "address %s of host '%s' is VLAN %u's gateway", strna(txt), h->name,
                                     a->vlan);
                        for (size_t j = 0; j < i; j++)
                                for (size_t l = 0; l < s->hosts[j].n_addresses; l++)
                                        if (s->hosts[j].addresses[l].addr == a->addr)
                                                ERRS(d, a->src, "address %s of host '%s' is also host '%s''s",
                                                     strna(txt), h->name, s->hosts[j].name);
                }
                if (s->default_vlan && !host_address_on(h, s->default_vlan))
                        ERRS(d, h->src, "host '%s' has no address on the default VLAN %u", h->name, s->default_vlan);
        }
        for (size_t i = 0; i < s->n_routes; i++) {
                const struct route_spec *r = &s->routes[i];
                if (!site_find_host(s, r->backend))
                        ERRS(d, r->src, "route '%s' points at unknown host '%s'", r->name, r->backend);
                for (size_t j = 0; j < i; j++)
                        if (streq(r->name, s->routes[j].name))
                                ERRS(d, r->src, "route '%s' is listed twice", r->name);
        }
}

static int site_from_tree(struct ynode *tree, struct diags *d, struct site **ret) {
        struct site *s = calloc(1, sizeof *s);
        if (!s) {
                ynode_free(tree);
                return -ENOMEM;
        }
        s->tree = tree;
        size_t before = d->n_errors;

        if (check_keys(tree, site_keys, "the site", d)) {
                const struct ynode *n;
                if ((n = get_typed(tree, "domain", YNODE_SCALAR, true, "the site", d))) {
                        const char *why = hostname_invalid_reason(n->scalar);
                        if (why)
                                ERR(d, n, "domain '%s': %s", n->scalar, why);
                        else
                                s->domain = strdup(n->scalar);
                }
                if ((n = get_typed(tree, "timezone", YNODE_SCALAR, false, "the site", d)))
                        s->timezone = strdup(n->scalar);
                if ((n = get_typed(tree, "default-vlan", YNODE_SCALAR, true, "the site", d)))
                        s->default_vlan = parse_vlan(n, d);
                if ((n = get_typed(tree, "dns", YNODE_SEQ, false, "the site", d)) && ipv4_list(n, "dns", d, &s->dns) == -ENOMEM)
                        d->oom = true;
                if ((n = get_typed(tree, "ntp", YNODE_SEQ, false, "the site", d)))
                        for (size_t i = 0; i < n->n; i++) {
                                if (n->items[i]->type != YNODE_SCALAR || hostname_invalid_reason(n->items[i]->scalar))
                                        ERR(d, n->items[i], "ntp entry is not a host name or address");
                                else if (strv_extend(&s->ntp, n->items[i]->scalar) < 0)
                                        d->oom = true;
                        }
                if ((n = get_typed(tree, "vlans", YNODE_SEQ, true, "the site", d)))
                        parse_vlans(s, n, d);
                if ((n = get_typed(tree, "hosts", YNODE_SEQ, true, "the site", d)))
                        parse_hosts(s, n, d);
                if ((n = get_typed(tree, "mirrors", YNODE_SEQ, false, "the site", d)))
                        parse_mirrors(s, n, d);
                if ((n = get_typed(tree, "routes", YNODE_SEQ, false, "the site", d)))
                        parse_routes(s, n, d);
        }
        if (d->n_errors == before)
                validate_site(s, d);
        if (d->n_errors > before || d->oom) {
                site_free(s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

int site_load_file(const char *path, struct diags *d, struct site **ret) {
        struct ynode *tree = NULL;
        int r = yaml_load_file(path, d, &tree);
        if (r < 0)
                return r;
        return site_from_tree(tree, d, ret);
}

int site_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct site **ret) {
        struct ynode *tree = NULL;
        int r = yaml_load_buffer(name, data, size, d, &tree);
        if (r < 0)
                return r;
        return site_from_tree(tree, d, ret);
}

struct site *site_free(struct site *s) {
        if (!s)
                return NULL;
        free(s->domain);
        free(s->timezone);
        strv_free(s->dns);
        strv_free(s->ntp);
        for (size_t i = 0; i < s->n_vlans; i++)
                free(s->vlans[i].name);
        free(s->vlans);
        for (size_t i = 0; i < s->n_hosts; i++) {
                free(s->hosts[i].name);
                free(s->hosts[i].role);
                free(s->hosts[i].addresses);
        }
        free(s->hosts);
        for (size_t i = 0; i < s->n_routes; i++) {
                free(s->routes[i].name);
                free(s->routes[i].backend);
        }
        free(s->routes);
        for (size_t i = 0; i < s->n_mirrors; i++)
                mirror_map_done(&s->mirrors[i]);
        free(s->mirrors);
        ynode_free(s->tree);
        free(s);
        return NULL;
}

const struct host_spec *site_find_host_by_role(const struct site *s, const char *role) {
        for (size_t i = 0; i < s->n_hosts; i++)
                if (streq(s->hosts[i].role, role))
                        return &s->hosts[i];
        return NULL;
}

const struct host_spec *site_find_host(const struct site *s, const char *name) {
        for (size_t i = 0; i < s->n_hosts; i++)
                if (streq(s->hosts[i].name, name))
                        return &s->hosts[i];
        return NULL;
}

const struct vlan_spec *site_find_vlan(const struct site *s, uint16_t id) {
        for (size_t i = 0; i < s->n_vlans; i++)
                if (s->vlans[i].id == id)
                        return &s->vlans[i];
        return NULL;
}

uint32_t host_address_on(const struct host_spec *h, uint16_t vlan) {
        for (size_t i = 0; i < h->n_addresses; i++)
                if (h->addresses[i].vlan == vlan)
                        return h->addresses[i].addr;
        return 0;
}

void profile_check_site(const struct profile *p, const struct site *s, struct diags *d) {
        const struct host_spec *h = site_find_host_by_role(s, p->role);
        const struct ynode *vl = ynode_get(ynode_get(p->tree, "network"), "vlans");
        for (size_t i = 0; i < p->n_vlans; i++) {
                const struct ynode *at = vl && vl->type == YNODE_SEQ && i < vl->n ? vl->items[i] : p->tree;
                if (!site_find_vlan(s, p->vlans[i])) {
                        ERR(d, at, "role '%s' sits on VLAN %u, which the site does not define", p->role, p->vlans[i]);
                        continue;
                }
                if (h && !host_address_on(h, p->vlans[i]))
                        ERRS(d, h->src, "host '%s' (role %s) has no address on VLAN %u, which its role sits on",
                             h->name, p->role, p->vlans[i]);
        }
        if (!h)
                return;
        for (size_t k = 0; k < h->n_addresses; k++) {
                bool listed = false;
                for (size_t i = 0; i < p->n_vlans; i++)
                        listed = listed || p->vlans[i] == h->addresses[k].vlan;
                if (!listed)
                        ERRS(d, h->addresses[k].src, "host '%s' has an address on VLAN %u, but role '%s' is not on it",
                             h->name, h->addresses[k].vlan, p->role);
        }
}

void site_check_roles(const struct site *s, const char *dir, struct diags *d) {
        for (size_t i = 0; i < n_role_names; i++)
                if (!site_find_host_by_role(s, role_names[i]))
                        diag_error(d, s->tree->file, 0, 0, "no host for role '%s'", role_names[i]);
        for (size_t i = 0; i < s->n_hosts; i++) {
                const struct host_spec *h = &s->hosts[i];
                _cleanup_free_ char *path = strprintf("%s/%s.yaml", dir, h->role);
                if (path && access(path, F_OK) < 0)
                        ERRS(d, h->src, "host '%s' has role '%s', but %s does not exist", h->name, h->role, path);
        }
}
