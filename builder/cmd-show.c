/* SPDX-License-Identifier: MIT */
/* `show ROLE`: the resolved profile after inheritance, each value with the FILE:LINE it came from,
 * followed by the site's facts for the role's host. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "profile.h"
#include "util.h"

static void print_src(FILE *f, size_t used, const struct ynode *n) {
        const size_t column = 56;
        fprintf(f, "%*s# %s:%u\n", (int) (used < column ? column - used : 1), "", n->file, n->line);
}

static void show_node(FILE *f, const struct ynode *n, unsigned indent, const char *lead);

static void show_scalar_line(FILE *f, unsigned indent, const char *lead, const char *key, const struct ynode *v) {
        int used = fprintf(f, "%*s%s%s%s%s", (int) indent, "", lead, key ? key : "", key ? ": " : "", v->scalar);
        print_src(f, used < 0 ? 0 : (size_t) used, v);
}

static void show_node(FILE *f, const struct ynode *n, unsigned indent, const char *lead) {
        switch (n->type) {
        case YNODE_SCALAR:
                show_scalar_line(f, indent, lead, NULL, n);
                return;
        case YNODE_SEQ:
                for (size_t i = 0; i < n->n; i++)
                        show_node(f, n->items[i], indent, "- ");
                return;
        case YNODE_MAP:
                for (size_t i = 0; i < n->n; i++) {
                        const struct ypair *p = &n->pairs[i];
                        const char *l = i == 0 ? lead : (*lead ? "  " : "");
                        if (p->value->type == YNODE_SCALAR) {
                                show_scalar_line(f, indent, l, p->key->scalar, p->value);
                                continue;
                        }
                        int used = fprintf(f, "%*s%s%s:", (int) indent, "", l, p->key->scalar);
                        print_src(f, used < 0 ? 0 : (size_t) used, p->key);
                        show_node(f, p->value, indent + (unsigned) strlen(lead) + 2, "");
                }
                return;
        }
}

static void json_node(struct json *j, const struct ynode *n) {
        switch (n->type) {
        case YNODE_SCALAR: {
                _cleanup_free_ char *from = strprintf("%s:%u", n->file, n->line);
                json_begin_object(j);
                json_kv_string(j, "value", n->scalar);
                json_kv_string(j, "from", from);
                json_end_object(j);
                return;
        }
        case YNODE_SEQ:
                json_begin_array(j);
                for (size_t i = 0; i < n->n; i++)
                        json_node(j, n->items[i]);
                json_end_array(j);
                return;
        case YNODE_MAP:
                json_begin_object(j);
                for (size_t i = 0; i < n->n; i++) {
                        json_key(j, n->pairs[i].key->scalar);
                        json_node(j, n->pairs[i].value);
                }
                json_end_object(j);
                return;
        }
}

static void json_host(struct json *j, const struct site *s, const struct host_spec *h) {
        _cleanup_free_ char *fqdn = strprintf("%s.%s", h->name, s->domain);
        _cleanup_free_ char *from = strprintf("%s:%u", h->src.file, h->src.line);
        json_begin_object(j);
        json_kv_string(j, "name", h->name);
        json_kv_string(j, "fqdn", fqdn);
        json_kv_string(j, "from", from);
        json_key(j, "addresses");
        json_begin_array(j);
        for (size_t i = 0; i < h->n_addresses; i++) {
                const struct vlan_spec *v = site_find_vlan(s, h->addresses[i].vlan);
                _cleanup_free_ char *a = format_ipv4(h->addresses[i].addr);
                _cleanup_free_ char *at = strprintf("%s:%u", h->addresses[i].src.file, h->addresses[i].src.line);
                json_begin_object(j);
                json_kv_uint(j, "vlan", h->addresses[i].vlan);
                json_kv_string(j, "name", v ? v->name : NULL);
                json_kv_string(j, "address", a);
                json_kv_uint(j, "prefix", v ? v->prefix : 0);
                json_kv_bool(j, "default_route", h->addresses[i].vlan == s->default_vlan);
                json_kv_string(j, "from", at);
                json_end_object(j);
        }
        json_end_array(j);
        json_end_object(j);
}

static void json_routes(struct json *j, const struct site *site) {
        json_key(j, "routes");
        json_begin_array(j);
        for (size_t i = 0; i < site->n_routes; i++) {
                const struct route_spec *rt = &site->routes[i];
                _cleanup_free_ char *fqdn = strprintf("%s.%s", rt->name, site->domain);
                _cleanup_free_ char *from = strprintf("%s:%u", rt->src.file, rt->src.line);
                json_begin_object(j);
                json_kv_string(j, "name", rt->name);
                json_kv_string(j, "fqdn", fqdn);
                json_kv_string(j, "backend", rt->backend);
                json_kv_uint(j, "port", rt->port);
                json_kv_string(j, "from", from);
                json_end_object(j);
        }
        json_end_array(j);
}

/* The reverse proxy's routes are shown on the role that runs it. */
static bool show_routes(const struct profile *p, const struct site *site) {
        return streq(p->role, "infra") && site->n_routes > 0;
}

static int show_json(const struct profile *p, const struct site *site, const struct host_spec *h) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_string(&j, "role", p->role);
        json_key(&j, "files");
        json_begin_array(&j);
        for (char **f = p->chain; f && *f; f++)
                json_string(&j, *f);
        json_end_array(&j);
        json_key(&j, "profile");
        json_node(&j, p->tree);
        json_key(&j, "host");
        if (h)
                json_host(&j, site, h);
        else
                json_null(&j);
        json_kv_string(&j, "domain", site->domain);
        /* The same data as the text. */
        if (show_routes(p, site))
                json_routes(&j, site);
        json_end_object(&j);
        _cleanup_free_ char *out = buf_steal(&j.out);
        if (!out)
                return log_error_errno(-ENOMEM, "Out of memory");
        puts(out);
        return 0;
}

static void print_src_at(FILE *f, int used, const char *file, unsigned line) {
        print_src(f, used < 0 ? 0 : (size_t) used, &(struct ynode) { .file = (char *) file, .line = line });
}

static void show_text(const struct profile *p, const struct site *site, const struct host_spec *h) {
        _cleanup_free_ char *files = strv_join(p->chain, " <- ");
        printf("# role %s, resolved from %s\n", p->role, strna(files));
        show_node(stdout, p->tree, 0, "");
        if (h) {
                print_src_at(stdout, printf("host:"), h->src.file, h->src.line);
                printf("  name: %s\n  fqdn: %s.%s\n  addresses:\n", h->name, h->name, site->domain);
                for (size_t i = 0; i < h->n_addresses; i++) {
                        const struct vlan_spec *v = site_find_vlan(site, h->addresses[i].vlan);
                        _cleanup_free_ char *a = format_ipv4(h->addresses[i].addr);
                        int used = printf("    - { vlan: %u, name: %s, address: %s/%u, default_route: %s }",
                                          h->addresses[i].vlan, v ? v->name : "?", strna(a), v ? v->prefix : 0,
                                          h->addresses[i].vlan == site->default_vlan ? "true" : "false");
                        print_src_at(stdout, used, h->addresses[i].src.file, h->addresses[i].src.line);
                }
        }
        if (show_routes(p, site)) {
                printf("routes:\n");
                for (size_t i = 0; i < site->n_routes; i++) {
                        const struct route_spec *rt = &site->routes[i];
                        int used = printf("  - { name: %s, fqdn: %s.%s, backend: %s, port: %u }", rt->name, rt->name,
                                          site->domain, rt->backend, rt->port);
                        print_src_at(stdout, used, rt->src.file, rt->src.line);
                }
        }
}

int cmd_show(int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, 'j' },
                { "profiles", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        bool as_json = false;
        const char *override = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'j': as_json = true; break;
                case 'p': override = optarg; break;
                case 'h': printf("rackstack-build show ROLE [--json] [--profiles DIR]\n"); return 0;
                default: return -EINVAL;
                }
        if (optind + 1 != argc)
                return log_error_errno(-EINVAL, "show takes exactly one ROLE (one of: id db app comm voip biz erp it infra)");
        const char *role = argv[optind];

        _cleanup_free_ char *dir = profiles_dir(override);
        _cleanup_free_ char *site_path = strprintf("%s/site.yaml", dir);
        if (!dir || !site_path)
                return log_error_errno(-ENOMEM, "Out of memory");

        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        int r1 = profile_load(dir, role, &d, &p);
        int r2 = site_load_file(site_path, &d, &site);
        if (r1 >= 0 && r2 >= 0)
                profile_check_site(p, site, &d);
        diags_print(&d, stderr);
        bool failed = diags_failed(&d);
        diags_done(&d);
        if (failed)
                return -EINVAL;

        const struct host_spec *h = site_find_host_by_role(site, p->role);
        if (as_json)
                return show_json(p, site, h);
        show_text(p, site, h);
        return 0;
}
