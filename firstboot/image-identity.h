/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "diag.h"

/* What an image says it is (image.json beside it, listed in the signed SHA256SUMS; rackstack-build
 * writes it): the role, the host (or "any"), the base, the builder's version and the build time. */
struct image_identity {
        char *role, *host, *base, *version;
        int64_t build_time; /* seconds since the epoch */
};

/* Parse image.json. -EINVAL with diagnostics (origin:LINE:COL) when it is not an object with a
 * string role and an integer build_time. Pure. */
int image_identity_parse(const char *text, size_t size, const char *origin, struct diags *d,
                         struct image_identity *ret);
void image_identity_done(struct image_identity *id);

/* Whether the image may be installed for answers of role want_role (NULL: nothing to compare):
 * 0, or -EMEDIUMTYPE with *ret_reason saying whose image it is. */
int image_identity_check_role(const struct image_identity *id, const char *want_role, char **ret_reason);
