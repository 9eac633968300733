/* SPDX-License-Identifier: MIT */
/* `secrets init SITE-DIR [--force]` and `secrets bundle SITE-DIR HOST --out DIR`: the site's
 * secrets, and one host's share of them (builder/secrets.h). */
#include <fcntl.h>
#include <getopt.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "commands.h"
#include "fileio.h"
#include "log.h"
#include "process.h"
#include "secrets.h"
#include "util.h"

static void secrets_usage(FILE *f) {
        fputs("usage: rackstack-build secrets init SITE-DIR [--force] [--site FILE] [--profiles DIR]\n"
              "       rackstack-build secrets bundle SITE-DIR HOST --out DIR [--site FILE] [--profiles DIR]\n"
              "       rackstack-build secrets wiring [--site FILE] [--profiles DIR]\n"
              "\n"
              "init makes every secret the site's hosts need under SITE-DIR/secrets/ (0700 directories,\n"
              "0600 files): database, Redis and admin passwords, the Zabbix PSK, FreeIPA one-time\n"
              "passwords, event tokens, a site CA and each host's TLS certificate. An existing secret is\n"
              "kept unless --force is given.\n"
              "bundle writes DIR/" CREDS_FILE " (0600) with exactly HOST's secrets, to go beside its kickstart\n"
              "(OEMDRV, or HTTP pinned by rackstack.creds.sha256=), and prints its sha256.\n"
              "wiring prints which host's service needs what from which other host.\n"
              "The site is SITE-DIR/site.yaml when it exists, else the profiles' site.yaml.\n",
              f);
}

struct site_set {
        struct site *site;
        struct profile *profiles[16];
        size_t n;
};

static void site_set_done(struct site_set *s) {
        for (size_t i = 0; i < s->n; i++)
                profile_free(s->profiles[i]);
        site_free(s->site);
        *s = (struct site_set) {};
}

static int load_site(const char *site_dir, const char *site_file, const char *profiles, struct site_set *ret) {
        _cleanup_free_ char *dir = profiles_dir(profiles), *in_dir = site_dir ? strprintf("%s/site.yaml", site_dir) : NULL,
                            *def = dir ? strprintf("%s/site.yaml", dir) : NULL;
        if (!dir || !def || (site_dir && !in_dir))
                return log_error_errno(-ENOMEM, "Out of memory");
        const char *path = site_file ? site_file : in_dir && access(in_dir, F_OK) == 0 ? in_dir : def;
        _cleanup_(diags_done) struct diags d = {};
        struct site_set s = {};
        int r = site_load_file(path, &d, &s.site);
        for (size_t i = 0; r >= 0 && i < n_role_names && s.n < ELEMENTSOF(s.profiles); i++) {
                if (!site_find_host_by_role(s.site, role_names[i]))
                        continue;
                r = profile_load(dir, role_names[i], &d, &s.profiles[s.n]);
                if (r >= 0)
                        s.n++;
        }
        diags_print(&d, stderr);
        if (r < 0) {
                site_set_done(&s);
                return -EINVAL;
        }
        *ret = s;
        return 0;
}

static int make_plan(struct site_set *s, struct secrets_plan *ret) {
        _cleanup_free_ char *err = NULL;
        int r = secrets_plan_make(s->site, (const struct profile *const *) s->profiles, s->n, ret, &err);
        if (r < 0 && err)
                return log_error_errno(-EINVAL, "The site's wiring does not close: %s", err);
        if (r < 0)
                return log_error_errno(r, "Cannot plan the site's secrets: %m");
        return 0;
}

static int do_init(const char *dir, struct site_set *s, bool force) {
        _cleanup_(secrets_plan_done) struct secrets_plan p = {};
        int r = make_plan(s, &p);
        if (r < 0)
                return r;
        /* Before anything is made: the backup keys are ssh-keygen's. */
        if (secrets_plan_has_ssh(&p) && !proc_have_program("ssh-keygen"))
                return log_error_errno(-ENOENT, "ssh-keygen is not installed (package openssh-client): "
                                                "it makes the backup clients' SSH keys; nothing was made");
        /* Nobody else may read what is made here, not even for the time a file is being written. */
        mode_t old = umask(077);
        size_t made = 0, kept = 0;
        r = secrets_init(dir, &p, force, &made, &kept);
        umask(old);
        if (r < 0)
                return log_error_errno(r, "Failed to make the secrets in %s/secrets: %m", dir);
        log_info("%s/secrets: %zu made, %zu kept%s", dir, made, kept,
                 kept && !force ? " (existing secrets are never replaced without --force)" : "");
        return 0;
}

static int do_bundle(const char *dir, const char *host, const char *out, struct site_set *s) {
        if (!site_find_host(s->site, host))
                return log_error_errno(-EINVAL, "The site has no host '%s'", host);
        _cleanup_(secrets_plan_done) struct secrets_plan p = {};
        int r = make_plan(s, &p);
        if (r < 0)
                return r;
        _cleanup_(creds_done) struct creds c = {};
        _cleanup_free_ char *missing = NULL;
        r = secrets_bundle(dir, &p, host, &c, &missing);
        if (r == -ENOENT)
                return log_error_errno(-EINVAL, "%s is missing in %s/secrets: run 'rackstack-build secrets init %s' first",
                                       strna(missing), dir, dir);
        if (r < 0)
                return log_error_errno(r, "Cannot collect %s's secrets: %m", host);
        size_t len = 0;
        char *data = creds_render(&c, &len);
        if (!data)
                return log_error_errno(-ENOMEM, "Out of memory");
        _cleanup_free_ char *path = strprintf("%s/" CREDS_FILE, out);
        mode_t old = umask(077);
        r = path ? mkdir_parents_at(AT_FDCWD, out, 0700) : -ENOMEM;
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, path, data, len, 0600);
        umask(old);
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdlen = 0;
        bool hashed = r >= 0 && EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) == 1;
        creds_wipe_free(data, len);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", strna(path));
        if (!hashed)
                return log_error_errno(-EIO, "sha256 of %s failed", path);
        printf("%s: %zu credentials for %s\nrackstack.creds.sha256=", path, c.n, host);
        for (unsigned i = 0; i < mdlen; i++)
                printf("%02x", md[i]);
        printf("\n");
        return 0;
}

static int do_wiring(struct site_set *s) {
        _cleanup_(secrets_plan_done) struct secrets_plan p = {};
        int r = make_plan(s, &p);
        if (r < 0)
                return r;
        _cleanup_free_ char *t = wiring_render(&p.wiring, NULL);
        if (!t)
                return log_error_errno(-ENOMEM, "Out of memory");
        fputs(t, stdout);
        return 0;
}

int cmd_secrets(int argc, char **argv) {
        static const struct option options[] = {
                { "force", no_argument, NULL, 'f' },
                { "out", required_argument, NULL, 'o' },
                { "site", required_argument, NULL, 's' },
                { "profiles", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *out = NULL, *site = NULL, *profiles = NULL;
        bool force = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "fo:h", options, NULL)) >= 0)
                switch (c) {
                case 'f': force = true; break;
                case 'o': out = optarg; break;
                case 's': site = optarg; break;
                case 'p': profiles = optarg; break;
                case 'h': secrets_usage(stdout); return 0;
                default:
                        secrets_usage(stderr);
                        return log_error_errno(-EINVAL, "secrets: unknown option or missing argument: %s", argv[optind - 1]);
                }
        /* argv[0] is "secrets"; getopt moved the operands to the end */
        char **args = argv + optind;
        int n = argc - optind;
        const char *verb = n >= 1 ? args[0] : NULL;
        bool ok = verb && ((streq(verb, "init") && n == 2 && !out) || (streq(verb, "bundle") && n == 3 && out && !force) ||
                           (streq(verb, "wiring") && n == 1 && !out && !force));
        if (!ok) {
                secrets_usage(stderr);
                return log_error_errno(-EINVAL, "secrets: expected init SITE-DIR, bundle SITE-DIR HOST --out DIR, or wiring");
        }
        _cleanup_(site_set_done) struct site_set s = {};
        int r = load_site(n >= 2 ? args[1] : NULL, site, profiles, &s);
        if (r < 0)
                return r;
        if (streq(verb, "init"))
                return do_init(args[1], &s, force);
        if (streq(verb, "bundle"))
                return do_bundle(args[1], args[2], out, &s);
        return do_wiring(&s);
}
