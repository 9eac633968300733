/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "outputs.h"

/* --pin-from MANIFEST: the packages of an earlier build's manifest.json are the versions this build
 * must have. The cache key of the base and the role layer holds the package names, not their
 * versions, so a warm cache repeats the versions it was built with; a cold cache takes what the
 * mirror has now. The pin makes that visible: a build whose tree does not hold exactly the
 * manifest's packages (name, version, architecture) stops before the image is made. */

/* The "packages" of a manifest.json, sorted by name. -EINVAL (with a message logged) when the
 * file is not a rackstack manifest. */
int pins_load(const char *manifest_path, struct pkg_version **ret, size_t *ret_n);
void pkg_versions_free(struct pkg_version *p, size_t n);

/* Differences between the pinned packages and the tree's (both sorted by name), one line each,
 * at most max_lines (then "... and N more"). Pure. Returns the number of differences. */
int pins_compare(const struct pkg_version *want, size_t n_want, const struct pkg_version *have, size_t n_have,
                 size_t max_lines, char **ret_report);

/* The OCI services' digests of a manifest.json ("services": name, source oci, digest) as
 * name/version pairs: they pin images whose profile names no digest. */
int pins_load_digests(const char *manifest_path, struct pkg_version **ret, size_t *ret_n);
