/* SPDX-License-Identifier: MIT */
/* `validate [FILE...]`: profiles, the site and kickstarts; every error printed, exit 2 on any. */
#include <dirent.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "commands.h"
#include "log.h"
#include "profile.h"
#include "util.h"
#include "validate-ks.h"

static bool is_site_file(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        return copy && streq(basename(copy), "site.yaml");
}

static int list_dir(const char *dir, const char *suffix, char ***ret) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return -errno;
        struct dirent *de;
        char **l = NULL;
        while ((de = readdir(d)))
                if (endswith(de->d_name, suffix) && de->d_name[0] != '.')
                        if (strv_push(&l, strprintf("%s/%s", dir, de->d_name)) < 0) {
                                strv_free(l);
                                return -ENOMEM;
                        }
        /* Sorted, so the output is stable from run to run. */
        size_t n = strv_length(l);
        for (size_t i = 1; i < n; i++)
                for (size_t j = i; j > 0 && strcmp(l[j - 1], l[j]) > 0; j--) {
                        char *t = l[j];
                        l[j] = l[j - 1];
                        l[j - 1] = t;
                }
        *ret = l;
        return 0;
}

int cmd_validate(int argc, char **argv) {
        static const struct option options[] = {
                { "profiles", required_argument, NULL, 'p' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *override = NULL;
        bool quiet = false;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hq", options, NULL)) >= 0)
                switch (c) {
                case 'p': override = optarg; break;
                case 'q': quiet = true; break;
                case 'h': printf("rackstack-build validate [FILE...] [--profiles DIR]\n"); return 0;
                default: return -EINVAL;
                }

        _cleanup_free_ char *dir = profiles_dir(override);
        _cleanup_strv_free_ char **files = NULL;
        bool everything = optind >= argc;
        if (everything) {
                _cleanup_strv_free_ char **ks = NULL;
                _cleanup_free_ char *ksdir = strprintf("%s/kickstart", data_dir());
                int r = list_dir(dir, ".yaml", &files);
                if (r < 0)
                        return log_error_errno(r, "Cannot list '%s': %m", dir);
                if (ksdir && list_dir(ksdir, ".ks", &ks) >= 0)
                        for (char **k = ks; *k; k++)
                                if (strv_extend(&files, *k) < 0)
                                        return log_error_errno(-ENOMEM, "Out of memory");
        } else
                for (int i = optind; i < argc; i++)
                        if (strv_extend(&files, argv[i]) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory");

        struct diags d = {};
        _cleanup_(site_freep) struct site *site = NULL;
        /* The site first: profiles and kickstarts are checked against it. */
        for (char **f = files; f && *f; f++)
                if (is_site_file(*f))
                        (void) site_load_file(*f, &d, &site);
        if (!site) {
                _cleanup_free_ char *sp = strprintf("%s/site.yaml", dir);
                struct diags ignore = {};
                (void) site_load_file(sp, &ignore, &site);
                diags_done(&ignore);
        }

        size_t checked = 0;
        for (char **f = files; f && *f; f++) {
                checked++;
                if (is_site_file(*f))
                        continue;
                if (endswith(*f, ".ks")) {
                        validate_kickstart(*f, site, &d);
                        continue;
                }
                _cleanup_(profile_freep) struct profile *p = NULL;
                if (profile_load_file(*f, &d, &p) < 0)
                        continue;
                if (p->role && site)
                        profile_check_site(p, site, &d);
        }
        if (everything && site)
                site_check_roles(site, dir, &d);

        diags_print(&d, stderr);
        size_t errors = d.n_errors + d.oom;
        diags_done(&d);
        if (errors > 0) {
                fprintf(stderr, "%zu error%s in %zu file%s\n", errors, errors == 1 ? "" : "s", checked,
                        checked == 1 ? "" : "s");
                return -EINVAL;
        }
        if (!quiet)
                printf("%zu file%s valid\n", checked, checked == 1 ? "" : "s");
        return 0;
}
