/* SPDX-License-Identifier: MIT */
/* `verify DIR --key PREFIX.pub`: the signature over SHA256SUMS, then every file it lists. */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "commands.h"
#include "ed25519.h"
#include "fileio.h"
#include "log.h"
#include "outputs.h"
#include "util.h"
#include "verify.h"

static void verify_usage(FILE *f) {
        fputs("usage: rackstack-build verify DIR --key PREFIX.pub [--quiet]\n"
              "\n"
              "Checks DIR/SHA256SUMS.sig against DIR/SHA256SUMS with the Ed25519 public key, then every file\n"
              "SHA256SUMS lists. Exit status 0 if all match, 1 if anything is missing or does not match.\n",
              f);
}

static int check_files(const char *dir, const struct artifact *a, size_t n, bool quiet) {
        unsigned failed = 0;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *path = strprintf("%s/%s", dir, a[i].name);
                _cleanup_free_ char *hex = NULL;
                if (!path)
                        return -ENOMEM;
                int r = sha256_file(path, NULL, &hex, NULL);
                if (r == -ENOENT) {
                        printf("%s: FAILED, missing\n", a[i].name);
                        failed++;
                } else if (r < 0) {
                        printf("%s: FAILED, cannot read: %s\n", a[i].name, strerror(-r));
                        failed++;
                } else if (!streq(hex, a[i].sha256)) {
                        printf("%s: FAILED, sha256 %s, SHA256SUMS says %s\n", a[i].name, hex, a[i].sha256);
                        failed++;
                } else if (!quiet)
                        printf("%s: OK\n", a[i].name);
        }
        return failed;
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
        _cleanup_free_ char *sums_path = strprintf("%s/SHA256SUMS", dir);
        _cleanup_free_ char *sig_path = strprintf("%s/" SHA256SUMS_SIG, dir);
        _cleanup_free_ char *sums = NULL, *sig = NULL;
        size_t sums_n = 0, sig_n = 0;
        if (!sums_path || !sig_path)
                return -ENOMEM;
        r = read_file_full(AT_FDCWD, sums_path, 1 << 20, &sums, &sums_n);
        if (r < 0)
                return log_error_errno(r, "SHA256SUMS: FAILED, cannot read %s: %m", sums_path);
        r = read_file_full(AT_FDCWD, sig_path, 4096, &sig, &sig_n);
        if (r < 0)
                return log_error_errno(r, SHA256SUMS_SIG ": FAILED, cannot read %s (is %s signed?): %m", sig_path, dir);
        r = ed25519_verify(key, sums, sums_n, sig, sig_n);
        if (r == -EBADMSG)
                return log_error_errno(r, SHA256SUMS_SIG ": FAILED, the signature does not match SHA256SUMS with key %s: "
                                       "SHA256SUMS or the signature was changed, or another key signed it", key);
        if (r < 0)
                return log_error_errno(r, "Failed to check %s with %s: %m", sig_path, key);
        if (!quiet)
                printf("SHA256SUMS: OK, signature by %s\n", key);
        double t_sig = now_monotonic() - t0;

        struct artifact *a = NULL;
        size_t n = 0;
        unsigned line = 0;
        r = sha256sums_parse(sums, &a, &n, &line);
        if (r < 0)
                return log_error_errno(r, "%s:%u: FAILED, not a \"SHA256  NAME\" line (signed, yet malformed)", sums_path,
                                       line);
        r = check_files(dir, a, n, quiet);
        artifacts_free(a, n);
        if (r < 0)
                return log_error_errno(r, "Out of memory");
        if (r > 0)
                return log_error_errno(-EBADMSG, "%s: %d of %zu files do not match SHA256SUMS", dir, r, n);
        log_info("%s: signature and %zu files verified (signature %.3f s, all %.1f s)", dir, n, t_sig,
                 now_monotonic() - t0);
        return 0;
}
