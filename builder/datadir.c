/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <unistd.h>

#include "commands.h"
#include "util.h"

const char *data_dir(void) {
        const char *e = getenv("RACKSTACK_DATADIR");
        if (!isempty(e))
                return e;
        /* Run from a checkout (make demo, make check): use the tree's own files. */
        if (access("profiles/base.yaml", F_OK) == 0 && access("GNUmakefile", F_OK) == 0)
                return ".";
        return RACKSTACK_DATADIR;
}

char *profiles_dir(const char *override) {
        if (override)
                return strdup(override);
        const char *d = data_dir();
        return streq(d, ".") ? strdup("profiles") : strprintf("%s/profiles", d);
}
