/* SPDX-License-Identifier: MIT */
/* `keygen --out PREFIX [--force]`: an Ed25519 signing key pair, PREFIX.key (0600) and PREFIX.pub. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "ed25519.h"
#include "log.h"
#include "util.h"

static void keygen_usage(FILE *f) {
        fputs("usage: rackstack-build keygen --out PREFIX [--force]\n"
              "\n"
              "Makes an Ed25519 key pair for build --sign: PREFIX.key (private, mode 0600) and PREFIX.pub.\n"
              "An existing key is never replaced unless --force is given.\n",
              f);
}

int cmd_keygen(int argc, char **argv) {
        static const struct option options[] = {
                { "out", required_argument, NULL, 'o' },
                { "force", no_argument, NULL, 'f' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *prefix = NULL;
        bool force = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "o:fh", options, NULL)) >= 0)
                switch (c) {
                case 'o': prefix = optarg; break;
                case 'f': force = true; break;
                case 'h': keygen_usage(stdout); return 0;
                default:
                        keygen_usage(stderr);
                        return log_error_errno(-EINVAL, "keygen: unknown option or missing argument: %s",
                                               argv[optind - 1]);
                }
        if (!prefix || optind != argc) {
                keygen_usage(stderr);
                return log_error_errno(-EINVAL, "keygen: expected --out PREFIX and no other arguments");
        }
        if (isempty(prefix) || endswith(prefix, "/"))
                return log_error_errno(-EINVAL, "keygen: --out wants a file prefix (PREFIX.key, PREFIX.pub), not '%s'",
                                       prefix);

        double t0 = now_monotonic();
        int r = ed25519_keygen(prefix, force);
        if (r == -EEXIST)
                return log_error_errno(r, "%s.key or %s.pub exists already; a lost signing key cannot be undone, so it is "
                                       "kept (--force replaces it)", prefix, prefix);
        if (r < 0)
                return log_error_errno(r, "Failed to write the key pair %s.{key,pub}: %m", prefix);
        log_info("Wrote %s.key (private, 0600) and %s.pub in %.3f s", prefix, prefix, now_monotonic() - t0);
        return 0;
}
