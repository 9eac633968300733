/* SPDX-License-Identifier: MIT */
/* The "services" and "render" verbs: the services step on its own (the run pipeline calls
 * services_step()), and the renderers from the command line, for tests and for operators who
 * want to see what a host would get. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "apps.h"
#include "kickstart.h"
#include "log.h"
#include "parse.h"
#include "render.h"
#include "run-steps.h"
#include "services-main.h"
#include "services.h"
#include "util.h"

/* This host in the site: the kickstart's --hostname (short or FQDN), else the role's host. */
/* As the answers step decides: the host the kickstart names (NULL if the site does not know it:
 * another host of the role, whose addresses are the kickstart's), else the site's host of the role. */
static const struct host_spec *find_host(const struct site *site, const struct profile *p, const struct ks *ks) {
        const struct ks_network *n = ks ? ks_hostname_network(ks) : NULL;
        if (n && n->hostname) {
                _cleanup_free_ char *shortname = strndup(n->hostname, strcspn(n->hostname, "."));
                return shortname ? site_find_host(site, shortname) : NULL;
        }
        return p->role ? site_find_host_by_role(site, p->role) : NULL;
}

int services_step(const char *root, const char *profile_path, const char *site_path, const char *ks_path,
                  bool dry_run, struct status *st) {
        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", root),
                            *def_site = strprintf("%s/usr/share/rackstack/site.yaml", root);
        if (!def_profile || !def_site)
                return -ENOMEM;
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *prof = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        int r = profile_load_file(profile_path ? profile_path : def_profile, &d, &prof);
        if (r >= 0)
                r = site_load_file(site_path ? site_path : def_site, &d, &site);
        if (r < 0 || diags_failed(&d)) {
                diags_print(&d, stderr);
                diags_done(&d);
                (void) status_fail(st, "services", "the image's profile or site does not load");
                return r < 0 ? r : -EINVAL;
        }
        diags_done(&d);
        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0) {
                r = -errno;
                (void) status_fail(st, "services", strerror(-r));
                return r;
        }
        _cleanup_(ks_freep) struct ks *ks = NULL;
        if (ks_path) {
                struct diags kd = {};
                if (ks_load_file(ks_path, &kd, &ks) < 0)
                        ks = NULL; /* as before: a kickstart that does not load names no host */
                diags_done(&kd);
        }
        struct services_ctx c = {
                .root = root, .root_fd = root_fd, .profile = prof, .site = site, .ks = ks,
                .host = find_host(site, prof, ks), .status = st, .dry_run = dry_run,
        };
        return services_run(&c);
}

int step_services(struct run_ctx *c) {
        if (!c->profile) {
                (void) status_step(c->status, "services", "skipped", "the image has no role profile");
                return RUN_SKIPPED;
        }
        struct services_ctx sc = {
                .root = c->root, .root_fd = c->root_fd, .profile = c->profile, .site = c->site, .host = c->host,
                .ks = c->ks,
                .status = c->status, .dry_run = c->dry_run,
        };
        fflush(stdout);
        return services_run(&sc);
}

/* rackstack-firstboot services [--root DIR] [--profile FILE] [--site FILE] [--ks FILE] [--dry-run] */
int verb_services(int argc, char **argv) {
        enum { ARG_ROOT = 256, ARG_PROFILE, ARG_SITE, ARG_KS, ARG_DRY_RUN };
        static const struct option opts[] = {
                { "root", required_argument, NULL, ARG_ROOT },     { "profile", required_argument, NULL, ARG_PROFILE },
                { "site", required_argument, NULL, ARG_SITE },     { "ks", required_argument, NULL, ARG_KS },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },     { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *root = "/", *profile = NULL, *site = NULL, *ks = NULL;
        bool dry = false;
        int ch;
        optind = 1;
        while ((ch = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (ch) {
                case ARG_ROOT: root = optarg; break;
                case ARG_PROFILE: profile = optarg; break;
                case ARG_SITE: site = optarg; break;
                case ARG_KS: ks = optarg; break;
                case ARG_DRY_RUN: dry = true; break;
                case 'h':
                        printf("usage: rackstack-firstboot services [--root DIR] [--profile FILE] [--site FILE] "
                               "[--ks FILE] [--dry-run]\n");
                        return 0;
                default: return 2;
                }
        if (optind < argc)
                return log_error("unexpected argument '%s'", argv[optind]), 2;
        _cleanup_(status_done) struct status st = {};
        int r = services_step(root, profile, site, ks, dry, &st);
        return r == -EINVAL ? 2 : r < 0 ? 1 : 0;
}

/* rackstack-firstboot render postgresql --ram SIZE [--cpus N] [--hdd] [--connections N] [--listen A]
 *                     render nftables --profile FILE --site FILE
 *                     render traefik --site FILE
 *                     render pg-budget --profile FILE --ram SIZE [--base B]
 *                     render app --profile FILE --site FILE --service NAME [--digest sha256:…] [--quadlet]
 *                                [--ram SIZE] [--credential NAME]… [--env] */
int verb_render(int argc, char **argv) {
        enum { ARG_RAM = 256, ARG_CPUS, ARG_HDD, ARG_CONN, ARG_LISTEN, ARG_PROFILE, ARG_SITE, ARG_BASE, ARG_SERVICE,
               ARG_DIGEST, ARG_QUADLET, ARG_CREDENTIAL, ARG_ENV };
        static const struct option opts[] = {
                { "ram", required_argument, NULL, ARG_RAM },         { "cpus", required_argument, NULL, ARG_CPUS },
                { "hdd", no_argument, NULL, ARG_HDD },               { "connections", required_argument, NULL, ARG_CONN },
                { "listen", required_argument, NULL, ARG_LISTEN },   { "profile", required_argument, NULL, ARG_PROFILE },
                { "site", required_argument, NULL, ARG_SITE },       { "base", required_argument, NULL, ARG_BASE },
                { "service", required_argument, NULL, ARG_SERVICE }, { "digest", required_argument, NULL, ARG_DIGEST },
                { "quadlet", no_argument, NULL, ARG_QUADLET },       { "credential", required_argument, NULL, ARG_CREDENTIAL },
                { "env", no_argument, NULL, ARG_ENV },
                {},
        };
        if (argc < 2)
                return log_error("render: what? postgresql, pg-budget, nftables or traefik"), 2;
        const char *what = argv[1];
        uint64_t ram = 0;
        uint32_t cpus = 0, conn = 500;
        bool hdd = false;
        const char *listen = NULL, *profile = NULL, *site_path = NULL, *base = NULL, *service = NULL, *digest = NULL;
        bool quadlet = false, env = false;
        _cleanup_strv_free_ char **creds = NULL;
        int ch;
        optind = 2;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case ARG_RAM:
                        if (parse_size(optarg, &ram) < 0)
                                return log_error("--ram: '%s' is not a size", optarg), 2;
                        break;
                case ARG_CPUS:
                        if (parse_uint32_range(optarg, 0, 4096, &cpus) < 0)
                                return log_error("--cpus: '%s' is not a CPU count", optarg), 2;
                        break;
                case ARG_HDD: hdd = true; break;
                case ARG_CONN:
                        if (parse_uint32_range(optarg, 1, 100000, &conn) < 0)
                                return log_error("--connections: '%s' is not a count", optarg), 2;
                        break;
                case ARG_LISTEN: listen = optarg; break;
                case ARG_PROFILE: profile = optarg; break;
                case ARG_SITE: site_path = optarg; break;
                case ARG_BASE: base = optarg; break;
                case ARG_SERVICE: service = optarg; break;
                case ARG_DIGEST: digest = optarg; break;
                case ARG_QUADLET: quadlet = true; break;
                case ARG_ENV: env = true; break;
                case ARG_CREDENTIAL:
                        if (strv_extend(&creds, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory"), 1;
                        break;
                default: return 2;
                }
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        if ((profile && profile_load_file(profile, &d, &p) < 0) || (site_path && site_load_file(site_path, &d, &s) < 0)) {
                diags_print(&d, stderr);
                diags_done(&d);
                return 2;
        }
        diags_done(&d);
        _cleanup_free_ char *text = NULL;
        if (streq(what, "postgresql") || streq(what, "pg-budget")) {
                if (!ram)
                        return log_error("render %s needs --ram", what), 2;
                if (streq(what, "pg-budget")) {
                        if (!p)
                                return log_error("render pg-budget needs --profile"), 2;
                        uint64_t reserved;
                        uint64_t b = pg_budget(p, base, ram, &reserved);
                        printf("%llu %llu\n", (unsigned long long) b, (unsigned long long) reserved);
                        return 0;
                }
                struct pg_tune t;
                struct pg_tune_input in = { .ram = ram, .cpus = cpus, .hdd = hdd, .max_connections = conn };
                if (pg_tune_compute(&in, &t) < 0)
                        return log_error("cannot tune for %s bytes (at least 256M)", argv[0]), 2;
                text = pg_tune_render(&t, listen);
        } else if (streq(what, "nftables")) {
                if (!p)
                        return log_error("render nftables needs --profile (and --site for SSH from management)"), 2;
                const struct vlan_spec *mgmt = NULL;
                for (size_t i = 0; s && i < s->n_vlans; i++)
                        if (s->vlans[i].name && streq(s->vlans[i].name, "management"))
                                mgmt = &s->vlans[i];
                text = nft_render(p, mgmt);
        } else if (streq(what, "traefik")) {
                if (!s)
                        return log_error("render traefik needs --site"), 2;
                const struct route_spec *bad = NULL;
                int r = traefik_render(s, &text, &bad);
                if (r == -ENOENT)
                        return log_error("route '%s' names host '%s', which the site does not have", bad->name,
                                         bad->backend), 2;
                if (r < 0)
                        return log_error_errno(r, "render traefik: %m"), 1;
        } else if (streq(what, "app")) {
                if (!p || !service)
                        return log_error("render app needs --profile and --service"), 2;
                const struct service_spec *sv = NULL;
                for (size_t i = 0; i < p->n_services; i++)
                        if (streq(p->services[i].name, service))
                                sv = &p->services[i];
                if (!sv || sv->source == SERVICE_SOURCE_DISTRO)
                        return log_error("render app: the profile has no vendor service '%s'", service), 2;
                struct vj_entry ve = { .name = sv->name, .source = sv->source, .image = sv->image,
                                           .digest = (char *) digest };
                struct app_inputs in = { .profile = p, .site = s, .host = p->role && s ? site_find_host_by_role(s, p->role) : NULL,
                                         .service = sv, .vendor = &ve, .ram = ram ? ram : p->ram,
                                         .have_quadlet = quadlet, .credentials = creds };
                _cleanup_(app_plan_done) struct app_plan plan = {};
                _cleanup_free_ char *why = NULL;
                int r = app_plan_make(&in, &plan, &why);
                if (r == -EINVAL)
                        return log_error("render app: %s", strna(why)), 2;
                if (r < 0)
                        return log_error_errno(r, "render app: %m"), 1;
                text = env ? strdup(plan.env) : sv->source == SERVICE_SOURCE_APT ? app_dropin_render(&plan) :
                       quadlet ? app_quadlet_render(&plan) : app_podman_unit_render(&plan);
        } else
                return log_error("render: unknown '%s' (postgresql, pg-budget, nftables, traefik, app)", what), 2;
        if (!text)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        fputs(text, stdout);
        return 0;
}
