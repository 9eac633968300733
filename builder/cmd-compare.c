/* SPDX-License-Identifier: MIT */
/* `compare DIR1 DIR2`: are two builds' outputs bit-identical, and if not, where do they differ. */
#include <getopt.h>
#include <stdio.h>

#include "commands.h"
#include "log.h"
#include "repro.h"
#include "util.h"

int cmd_compare(int argc, char **argv) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                {},
        };
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        printf("usage: rackstack-build compare DIR1 DIR2\n\nCompares the files of two output "
                               "directories byte by byte; exit status 0 if identical, 1 if not.\n");
                        return 0;
                default:
                        return log_error_errno(-EINVAL, "compare: unknown option: %s", argv[optind - 1]);
                }
        if (optind != argc - 2)
                return log_error_errno(-EINVAL, "usage: rackstack-build compare DIR1 DIR2");
        struct file_diff *d = NULL;
        size_t n = 0;
        int r = repro_compare_dirs(argv[optind], argv[optind + 1], &d, &n);
        if (r == -ENOENT || r == -ENOTDIR)
                return log_error_errno(-EINVAL, "compare: %s or %s is not a directory", argv[optind], argv[optind + 1]);
        if (r < 0)
                return log_error_errno(r, "Failed to compare %s and %s: %m", argv[optind], argv[optind + 1]);
        if (n == 0) {
                printf("identical\n");
                return 0;
        }
        log_error("%zu file%s differ%s:", n, n == 1 ? "" : "s", n == 1 ? "s" : "");
        repro_report(argv[optind], d, n);
        file_diffs_free(d, n);
        return -EBADMSG;
}
