/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "creds-place.h"
#include "db-wiring.h"
#include "log.h"
#include "util.h"

int verb_db_wiring(int argc, char **argv) {
        static const struct option opts[] = {
                { "root", required_argument, NULL, 'r' }, { "host", required_argument, NULL, 'H' },
                { "out", required_argument, NULL, 'o' },  { "listen", required_argument, NULL, 'l' },
                { "creds", required_argument, NULL, 'c' },
                {},
        };
        const char *root = "/", *host = NULL, *out = NULL, *listen = "127.0.0.1", *creds = NULL;
        int ch;
        optind = 1;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case 'r': root = optarg; break;
                case 'H': host = optarg; break;
                case 'o': out = optarg; break;
                case 'l': listen = optarg; break;
                case 'c': creds = optarg; break;
                default: return 2;
                }
        if (!host || !out || optind != argc)
                return log_error("usage: rackstack-firstboot db-wiring --host NAME --out DIR [--root DIR] [--listen ADDRS] [--creds BUNDLE]"), 2;
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open %s: %m", root), 2;
        _cleanup_(db_wiring_set_done) struct db_wiring_set s = {};
        _cleanup_free_ char *why = NULL;
        int r;
        /* --creds BUNDLE: placed first, as the answers step does on a real boot */
        if (creds) {
                _cleanup_free_ char *names = NULL;
                if ((r = creds_copy_in(root, creds)) < 0)
                        return log_error_errno(r, "Cannot read %s: %m", creds), 1;
                if ((r = creds_place(fd, host, &names, &why)) < 0)
                        return log_error("%s", why ? why : strerror(-r)), 1;
                printf("credentials placed in %s/" CREDS_DIR ": %s\n", root, strna(names));
        }
        r = db_wiring_load(fd, host, false, &s, &why);
        if (r == -ENOENT && !why)
                return log_error("%s provides nothing to other hosts (no wiring lines with it as provider)", host), 1;
        if (r < 0)
                return log_error("%s", why ? why : strerror(-r)), 1;
        r = db_wiring_write_dir(&s, out, listen);
        if (r < 0)
                return log_error_errno(r, "Cannot write into %s: %m", out), 1;
        printf("%zu databases, %zu Redis users, %zu MariaDB databases for %s's consumers in %s\n", s.plan.n_pg,
               s.plan.n_redis, s.plan.n_mysql, host, out);
        return 0;
}
