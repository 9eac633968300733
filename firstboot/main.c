/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "log.h"
#include "net-main.h"
#include "util.h"

static const struct {
        const char *name;
        int (*run)(int argc, char **argv);
} verbs[] = {
        { "network", verb_network },
};

int main(int argc, char **argv) {
        log_set_program("rackstack-firstboot");
        for (size_t i = 0; argc > 1 && i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        return verbs[i].run(argc - 1, argv + 1);
        fprintf(stderr, "usage: rackstack-firstboot [run|plan|storage|network|answers|install] ...\n");
        return 2;
}
