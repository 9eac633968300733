/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "build.h"
#include "log.h"

int main(int argc, char **argv) {
        log_set_program("rackstack-build");
        if (argc > 1 && streq(argv[1], "build")) {
                int r = build_main(argc - 1, argv + 1);
                return r == -EINVAL ? 2 : r < 0 ? 1 : 0;
        }
        fprintf(stderr, "usage: rackstack-build build|list|show|validate ...\n");
        return 2;
}
