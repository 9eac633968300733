/* SPDX-License-Identifier: MIT */
/* `verify DIR --key PREFIX.pub`: the signature over SHA256SUMS, then every file it lists. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "commands.h"
#include "ed25519.h"
#include "log.h"
#include "util.h"
#include "verify.h"

static void verify_usage(FILE *f) {
        fputs("usage: rackstack-build verify DIR --key PREFIX.pub [--quiet]\n"
              "\n"
              "Checks DIR/SHA256SUMS.sig against DIR/SHA256SUMS with the Ed25519 public key, then every file\n"
              "SHA256SUMS lists. Exit status 0 if all match, 1 if anything is missing or does not match.\n",
              f);
}

static void print_entry(const struct sums_entry *e, bool quiet) {
        switch (e->status) {
        case SUMS_OK:
                if (!quiet)
                        printf("%s: OK\n", e->name);
                break;
        case SUMS_MISSING:
                printf("%s: FAILED, missing\n", e->name);
                break;
        case SUMS_UNREADABLE:
                printf("%s: FAILED, cannot read: %s\n", e->name, strerror(e->error));
                break;
        case SUMS_MISMATCH:
                printf("%s: FAILED, sha256 %s, SHA256SUMS says %s\n", e->name, e->actual, e->sha256);
                break;
        case SUMS_UNCHECKED:
                break;
        }
}

int cmd_verify(int argc, char **argv) {
        static const struct option options[] = {
                { "key", required_argument, NULL, 'k' },
                { "quiet", no_argument, NULL, 'q' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *key = NULL;
        bool quiet = false;
        int c, r;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "k:qh", options, NULL)) >= 0)
                switch (c) {
                case 'k': key = optarg; break;
                case 'q': quiet = true; break;
                case 'h': verify_usage(stdout); return 0;
                default:
                        verify_usage(stderr);
                        return log_error_errno(-EINVAL, "verify: unknown option or missing argument: %s",
                                               argv[optind - 1]);
                }
        if (!key || optind != argc - 1) {
                verify_usage(stderr);
                return log_error_errno(-EINVAL, "verify: expected one DIR and --key PREFIX.pub");
        }
        const char *dir = argv[optind];
        struct stat st;
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
                return log_error_errno(-EINVAL, "verify: %s is not a directory", dir);
        r = signing_pub_check(key);
        if (r == -ENOENT)
                return log_error_errno(-EINVAL, "verify: the public key %s does not exist", key);
        if (r < 0)
                return log_error_errno(-EINVAL, "verify: %s is not an Ed25519 public key in PEM (%s)", key,
                                       r == -EKEYREJECTED ? "another algorithm" : "unreadable");

        double t0 = now_monotonic();
        struct sums_entry *e = NULL;
        size_t n = 0;
        const char *missing = NULL;
        _cleanup_(diags_done) struct diags d = {};
        r = signed_sums_verify(dir, key, NULL, &e, &n, &missing, &d);
        if (r == -ENOENT && missing)
                return log_error_errno(r, "%s: FAILED, %s/%s is missing%s", missing, dir, missing,
                                       streq(missing, SHA256SUMS_SIG) ? " (is the directory signed?)" : "");
        if (r == -EBADMSG)
                return log_error_errno(r, SHA256SUMS_SIG ": FAILED, the signature does not match SHA256SUMS with key %s: "
                                       "SHA256SUMS or the signature was changed, or another key signed it", key);
        if (r == -EUCLEAN) {
                diags_print(&d, stderr);
                return log_error_errno(r, "%s/SHA256SUMS: FAILED, signed, yet malformed (see above)", dir);
        }
        if (r < 0)
                return log_error_errno(r, "Failed to verify %s with %s: %m", dir, key);
        if (!quiet)
                printf("SHA256SUMS: OK, signature by %s\n", key);
        for (size_t i = 0; i < n; i++)
                print_entry(&e[i], quiet);
        sums_entries_free(e, n);
        if (r > 0)
                return log_error_errno(-EBADMSG, "%s: %d of %zu files do not match SHA256SUMS", dir, r, n);
        log_info("%s: signature and %zu files verified in %.1f s", dir, n, now_monotonic() - t0);
        return 0;
}
