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

/* What `render` was given. */
struct render_args {
        const char *argv0, *what;
        uint64_t ram;
        uint32_t cpus, conn;
        bool hdd, quadlet, env;
        const char *listen, *base, *service, *digest;
        char **creds;
        const struct profile *p; /* --profile, or NULL */
        const struct site *s;    /* --site, or NULL */
};

/* Each renderer returns an exit status (0, 1, or 2 for bad usage or input) and the text. */
static int render_postgresql(const struct render_args *a, char **ret_text) {
        if (!a->ram)
                return log_error("render %s needs --ram", a->what), 2;
        struct pg_tune t;
        struct pg_tune_input in = { .ram = a->ram, .cpus = a->cpus, .hdd = a->hdd, .max_connections = a->conn };
        if (pg_tune_compute(&in, &t) < 0)
                return log_error("cannot tune for %s bytes (at least 256M)", a->argv0), 2;
        *ret_text = pg_tune_render(&t, a->listen);
        return 0;
}

static int render_pg_budget(const struct render_args *a, char **ret_text) {
        if (!a->ram)
                return log_error("render %s needs --ram", a->what), 2;
        if (!a->p)
                return log_error("render pg-budget needs --profile"), 2;
        uint64_t reserved;
        uint64_t b = pg_budget(a->p, a->base, a->ram, &reserved);
        *ret_text = strprintf("%llu %llu\n", (unsigned long long) b, (unsigned long long) reserved);
        return 0;
}

static int render_nftables(const struct render_args *a, char **ret_text) {
        if (!a->p)
                return log_error("render nftables needs --profile (and --site for SSH from management)"), 2;
        const struct vlan_spec *mgmt = NULL;
        for (size_t i = 0; a->s && i < a->s->n_vlans; i++)
                if (a->s->vlans[i].name && streq(a->s->vlans[i].name, "management"))
                        mgmt = &a->s->vlans[i];
        *ret_text = nft_render(a->p, mgmt);
        return 0;
}

static int render_traefik(const struct render_args *a, char **ret_text) {
        if (!a->s)
                return log_error("render traefik needs --site"), 2;
        const struct route_spec *bad = NULL;
        int r = traefik_render(a->s, ret_text, &bad);
        if (r == -ENOENT)
                return log_error("route '%s' names host '%s', which the site does not have", bad->name, bad->backend), 2;
        if (r < 0)
                return log_error_errno(r, "render traefik: %m"), 1;
        return 0;
}

static int render_app(const struct render_args *a, char **ret_text) {
        const struct profile *p = a->p;
        if (!p || !a->service)
                return log_error("render app needs --profile and --service"), 2;
        const struct service_spec *sv = profile_find_service(p, a->service);
        if (!sv || sv->source == SERVICE_SOURCE_DISTRO)
                return log_error("render app: the profile has no vendor service '%s'", a->service), 2;
        struct vj_entry ve = { .name = sv->name, .source = sv->source, .image = sv->image, .digest = (char *) a->digest };
        struct app_inputs in = { .profile = p, .site = a->s,
                                 .host = p->role && a->s ? site_find_host_by_role(a->s, p->role) : NULL,
                                 .service = sv, .vendor = &ve, .ram = a->ram ? a->ram : p->ram,
                                 .have_quadlet = a->quadlet, .credentials = a->creds };
        _cleanup_(app_plan_done) struct app_plan plan = {};
        _cleanup_free_ char *why = NULL;
        int r = app_plan_make(&in, &plan, &why);
        if (r == -EINVAL)
                return log_error("render app: %s", strna(why)), 2;
        if (r < 0)
                return log_error_errno(r, "render app: %m"), 1;
        *ret_text = a->env ? strdup(plan.env) : sv->source == SERVICE_SOURCE_APT ? app_dropin_render(&plan) :
                    a->quadlet ? app_quadlet_render(&plan) : app_podman_unit_render(&plan);
        return 0;
}

static const struct render_target {
        const char *name;
        int (*render)(const struct render_args *a, char **ret_text);
} render_targets[] = {
        { "postgresql", render_postgresql }, { "pg-budget", render_pg_budget }, { "nftables", render_nftables },
        { "traefik", render_traefik },       { "app", render_app },
};

/* The options into a; 0, or the exit status for bad usage (2) or no memory (1). */
static int render_parse(int argc, char **argv, struct render_args *a, const char **ret_profile, const char **ret_site) {
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
        int ch;
        optind = 2;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case ARG_RAM:
                        if (parse_size(optarg, &a->ram) < 0)
                                return log_error("--ram: '%s' is not a size", optarg), 2;
                        break;
                case ARG_CPUS:
                        if (parse_uint32_range(optarg, 0, 4096, &a->cpus) < 0)
                                return log_error("--cpus: '%s' is not a CPU count", optarg), 2;
                        break;
                case ARG_HDD: a->hdd = true; break;
                case ARG_CONN:
                        if (parse_uint32_range(optarg, 1, 100000, &a->conn) < 0)
                                return log_error("--connections: '%s' is not a count", optarg), 2;
                        break;
                case ARG_LISTEN: a->listen = optarg; break;
                case ARG_PROFILE: *ret_profile = optarg; break;
                case ARG_SITE: *ret_site = optarg; break;
                case ARG_BASE: a->base = optarg; break;
                case ARG_SERVICE: a->service = optarg; break;
                case ARG_DIGEST: a->digest = optarg; break;
                case ARG_QUADLET: a->quadlet = true; break;
                case ARG_ENV: a->env = true; break;
                case ARG_CREDENTIAL:
                        if (strv_extend(&a->creds, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory"), 1;
                        break;
                default: return 2;
                }
        return 0;
}

/* rackstack-firstboot render postgresql --ram SIZE [--cpus N] [--hdd] [--connections N] [--listen A]
 *                     render nftables --profile FILE --site FILE
 *                     render traefik --site FILE
 *                     render pg-budget --profile FILE --ram SIZE [--base B]
 *                     render app --profile FILE --site FILE --service NAME [--digest sha256:…] [--quadlet]
 *                                [--ram SIZE] [--credential NAME]… [--env] */
int verb_render(int argc, char **argv) {
        if (argc < 2)
                return log_error("render: what? postgresql, pg-budget, nftables or traefik"), 2;
        struct render_args a = { .argv0 = argv[0], .what = argv[1], .conn = 500 };
        const char *profile = NULL, *site_path = NULL;
        int r = render_parse(argc, argv, &a, &profile, &site_path);
        _cleanup_strv_free_ char **creds = a.creds;
        if (r != 0)
                return r;
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        if ((profile && profile_load_file(profile, &d, &p) < 0) || (site_path && site_load_file(site_path, &d, &s) < 0)) {
                diags_print(&d, stderr);
                diags_done(&d);
                return 2;
        }
        diags_done(&d);
        a.p = p;
        a.s = s;
        const struct render_target *t = NULL;
        for (size_t i = 0; i < ELEMENTSOF(render_targets); i++)
                if (streq(a.what, render_targets[i].name))
                        t = &render_targets[i];
        if (!t)
                return log_error("render: unknown '%s' (postgresql, pg-budget, nftables, traefik, app)", a.what), 2;
        _cleanup_free_ char *text = NULL;
        r = t->render(&a, &text);
        if (r != 0)
                return r;
        if (!text)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        fputs(text, stdout);
        return 0;
}
