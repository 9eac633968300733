/* SPDX-License-Identifier: MIT */
/* `rackstack-firstboot fetch-deferred`: the deferred apt services installed now (deferred-apt.h). */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "deferred-apt.h"
#include "diag.h"
#include "log.h"
#include "profile.h"
#include "util.h"
#include "vendor.h"

struct maps {
        struct mirror_map *m;
        size_t n;
};

static void maps_done(struct maps *m) {
        for (size_t i = 0; i < m->n; i++)
                mirror_map_done(&m->m[i]);
        free(m->m);
}

static int maps_add(struct maps *m, const char *from, const char *to) {
        struct mirror_map *n = realloc(m->m, (m->n + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        m->m = n;
        n[m->n] = (struct mirror_map) { .from = strdup(from), .to = strdup(to) };
        if (!n[m->n].from || !n[m->n].to) {
                mirror_map_done(&n[m->n]);
                return -ENOMEM;
        }
        m->n++;
        return 0;
}

static int one(const struct service_spec *s, const struct maps *m, const char *root, int root_fd, bool plan_only,
               unsigned probe_timeout) {
        _cleanup_(deferred_apt_plan_done) struct deferred_apt_plan p = {};
        _cleanup_free_ char *why = NULL, *done = NULL;
        int r = deferred_apt_plan_make(s, m->m, m->n, root, &p, &why);
        if (r < 0)
                return log_error_errno(r, "%s", why ? why : strerror(-r)), 2;
        if (plan_only) {
                _cleanup_free_ char *j = deferred_apt_plan_json(&p);
                fputs(strempty(j), stdout);
                return 0;
        }
        r = deferred_apt_apply(&p, root_fd, root, probe_timeout, &done, &why);
        printf("%s: %s%s%s\n", s->name, r == 0 ? "done" : r == 1 ? "skipped" : "failed", ": ",
               r == 0 ? strna(done) : why ? why : strerror(-r));
        return r == 0 ? 0 : 1;
}

int verb_fetch_deferred(int argc, char **argv) {
        enum { ARG_ROOT = 256, ARG_PROFILE, ARG_SITE, ARG_MIRROR, ARG_PLAN, ARG_PROBE_TIMEOUT };
        static const struct option opts[] = {
                { "root", required_argument, NULL, ARG_ROOT },       { "profile", required_argument, NULL, ARG_PROFILE },
                { "site", required_argument, NULL, ARG_SITE },       { "mirror", required_argument, NULL, ARG_MIRROR },
                { "plan", no_argument, NULL, ARG_PLAN },             { "probe-timeout", required_argument, NULL, ARG_PROBE_TIMEOUT },
                { "help", no_argument, NULL, 'h' },                  {},
        };
        const char *root = "/", *profile = NULL, *site_path = NULL;
        bool plan_only = false;
        unsigned probe_timeout = 3;
        _cleanup_(maps_done) struct maps m = {};
        int ch, r;
        optind = 1;
        while ((ch = getopt_long(argc, argv, "h", opts, NULL)) >= 0)
                switch (ch) {
                case ARG_ROOT: root = optarg; break;
                case ARG_PROFILE: profile = optarg; break;
                case ARG_SITE: site_path = optarg; break;
                case ARG_PLAN: plan_only = true; break;
                case ARG_PROBE_TIMEOUT:
                        probe_timeout = (unsigned) strtoul(optarg, NULL, 10);
                        if (probe_timeout == 0 || probe_timeout > 600)
                                return log_error("--probe-timeout: 1..600 seconds"), 2;
                        break;
                case ARG_MIRROR: {
                        struct mirror_map x = {};
                        if (mirror_map_parse_arg(optarg, &x) < 0)
                                return log_error("--mirror %s: expected FROM=TO", optarg), 2;
                        r = maps_add(&m, x.from, x.to);
                        mirror_map_done(&x);
                        if (r < 0)
                                return 1;
                        break;
                }
                case 'h':
                        printf("usage: rackstack-firstboot fetch-deferred [--root DIR] [--profile FILE] [--site FILE] "
                               "[--mirror FROM=TO]... [--probe-timeout SEC] [--plan] SERVICE...\n");
                        return 0;
                default: return 2;
                }
        if (optind >= argc)
                return log_error("fetch-deferred: name the services"), 2;
        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", root),
                            *def_site = strprintf("%s/usr/share/rackstack/site.yaml", root);
        if (!def_profile || !def_site)
                return 1;
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *prof = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        r = profile_load_file(profile ? profile : def_profile, &d, &prof);
        if (r >= 0 && (site_path || access(def_site, F_OK) == 0))
                r = site_load_file(site_path ? site_path : def_site, &d, &site);
        if (r < 0 || diags_failed(&d)) {
                diags_print(&d, stderr);
                diags_done(&d);
                return 2;
        }
        diags_done(&d);
        /* --mirror entries first: they win a tie, as in the builder */
        for (size_t i = 0; site && i < site->n_mirrors; i++)
                if (maps_add(&m, site->mirrors[i].from, site->mirrors[i].to) < 0)
                        return 1;
        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(-errno, "%s: %m", root), 1;
        int ret = 0;
        for (int i = optind; i < argc; i++) {
                const struct service_spec *s = profile_find_service(prof, argv[i]);
                if (!s)
                        return log_error("the profile has no service '%s'", argv[i]), 2;
                int k = one(s, &m, root, root_fd, plan_only, probe_timeout);
                ret = k > ret ? k : ret;
        }
        return ret;
}
