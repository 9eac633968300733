/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "build.h"
#include "commands.h"
#include "log.h"

static const struct verb {
        const char *name;
        int (*run)(int argc, char **argv);
        const char *help;
} verbs[] = {
        { "build", build_main, "build ROLE [--base B] [--format F] [--out DIR] ...  assemble a role image" },
        { "cache", cmd_cache, "cache list|prune [--keep-free SIZE|--max-size SIZE|--all]  the build cache; room back" },
        { "compare", cmd_compare, "compare DIR1 DIR2                                 are two builds bit-identical; where not" },
        { "keygen", cmd_keygen, "keygen --out PREFIX [--force]                     an Ed25519 key pair for build --sign" },
        { "list", cmd_list, "list                                              the roles, a line each" },
        { "secrets", cmd_secrets, "secrets init|bundle SITE-DIR [HOST --out DIR]      the site's secrets; one host's share" },
        { "show", cmd_show, "show ROLE [--json]                                the resolved profile, with sources" },
        { "validate", cmd_validate, "validate [FILE...]                                check profiles, site, kickstarts" },
        { "verify", cmd_verify, "verify DIR --key PREFIX.pub                       check SHA256SUMS.sig and every checksum" },
};

static void usage(FILE *f) {
        fprintf(f, "usage: rackstack-build VERB [OPTIONS]\n\nverbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %s\n", verbs[i].help);
        fprintf(f, "\nSee rackstack-build(1).\n");
}

int main(int argc, char **argv) {
        log_set_program("rackstack-build");
        if (argc < 2) {
                usage(stderr);
                return 2;
        }
        if (streq(argv[1], "--help") || streq(argv[1], "-h") || streq(argv[1], "help")) {
                usage(stdout);
                return 0;
        }
        if (streq(argv[1], "--version")) {
                printf("rackstack-build %s\n", RACKSTACK_VERSION);
                return 0;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name)) {
                        int r = verbs[i].run(argc - 1, argv + 1);
                        return r == -EINVAL ? 2 : r < 0 ? 1 : 0;
                }
        log_error("unknown verb '%s'", argv[1]);
        usage(stderr);
        return 2;
}
