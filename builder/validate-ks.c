/* SPDX-License-Identifier: MIT */
#include "validate-ks.h"

/* Until the kickstart parser lands, kickstarts are reported, not silently passed. */
void validate_kickstart(const char *path, const struct site *site, struct diags *d) {
        diag_error(d, path, 0, 0, "kickstart validation is not available in this build");
}
