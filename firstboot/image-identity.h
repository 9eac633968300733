/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
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

/* Where the installed root keeps its identity (the builder writes the same image.json there). */
#define IMAGE_IDENTITY_INSTALLED "usr/lib/rackstack/image.json"

/* "role db, host lab-db1, ubuntu-24.04, rackstack 0.1.0, built 2026-12-06 04:00:00 UTC (1796…)". */
char *image_identity_describe(const struct image_identity *id);

/* Whether the image may replace the system on a disk that holds `disk`: 0; -EMEDIUMTYPE when the
 * disk's system is another role's (unless any_role); -ESTALE when the image was built before the
 * disk's build (unless allow_downgrade). *ret_reason says which, and what is on the disk. Pure. */
int image_identity_check_installed(const struct image_identity *image, const struct image_identity *disk,
                                   bool any_role, bool allow_downgrade, char **ret_reason);
