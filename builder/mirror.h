/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "build.h"

/* Which archive mirror a build uses:
 *   --mirror URL  >  $RACKSTACK_MIRROR  >  the build host's own apt source, when the host runs the
 *   same distribution and release as the base  >  the base's official archive.
 * The chosen mirror is probed (dists/SUITE/Release, short timeouts) before anything is built, so an
 * unreachable one is an error within seconds, never a hang. */

/* Whether /etc/os-release text describes the base's distribution and release (ID and
 * VERSION_CODENAME, or VERSION_ID when there is no codename). */
bool os_release_matches(const char *os_release, const struct base_info *base);

/* The first URI of a "deb" source for `suite` (exactly, not SUITE-security) in apt sources text,
 * deb822 (.sources) or one-line (sources.list) format. -ENOENT if none. */
int sources_find_mirror(const char *text, bool deb822, const char *suite, char **ret);

/* Resolve the mirror. root is "/" normally (a test tree in the unit tests): its etc/os-release and
 * etc/apt/sources.list and sources.list.d (.sources, .list) are read. ret_origin says which rule chose it
 * ("--mirror", "$RACKSTACK_MIRROR", "host apt source", "official archive"). */
int mirror_resolve(const char *opt_mirror, const char *env_mirror, const struct base_info *base, const char *root,
                   char **ret_mirror, const char **ret_origin);

/* Where SUITE-security comes from: $RACKSTACK_SECURITY_MIRROR (env_security) > the host's apt
 * source for SUITE-security when the mirror is the host's > the mirror itself when the base keeps
 * its security suite there (Ubuntu) > MIRROR-security next to a mirror ending in /debian (the
 * usual mirror layout) > the official security archive. */
int security_mirror_resolve(const char *env_security, const struct base_info *base, const char *mirror,
                            const char *mirror_origin, const char *root, char **ret_mirror, const char **ret_origin);

/* The archive's state: sha256 over "SUITE sha256(InRelease)" lines for each (mirror, suite) pair,
 * InRelease read over http:// (Release when there is none). -EPROTONOSUPPORT for another scheme;
 * other errors with *ret_reason (optional). A cached base made at another state is out of date. */
int archive_state_read(const char *const *mirrors, const char *const *suites, size_t n, int timeout_ms,
                       char **ret_hex, char **ret_reason);

/* Fetch MIRROR/dists/SUITE/Release (http: a tiny GET over a socket; https: a TCP connect;
 * file: a stat), giving up after timeout_ms per step. 0 if it answered 200, else a negative errno
 * and *ret_reason (optional) says what happened ("connection refused", "HTTP 404"). */
int mirror_probe(const char *mirror, const char *suite, int timeout_ms, char **ret_reason);

/* Split "http://host:port/path" into its parts. Pure, for the unit tests. */
int url_split(const char *url, char **ret_scheme, char **ret_host, char **ret_port, char **ret_path);
