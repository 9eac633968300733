/* SPDX-License-Identifier: MIT */
#pragma once

#include "build.h"

/* The archive keyring an Ubuntu base is verified with, on a build host that lacks it (Debian has
 * no ubuntu-keyring package). It is taken from the noble release pocket's ubuntu-keyring .deb,
 * which never changes, and accepted only if the .deb's sha256 is the one pinned here: trust comes
 * from this source file, not from the mirror. Cached as CACHE/keyrings/<name>. */

/* Returns the keyring path to use for ctx->base in *ret: the host's file when it has one, else
 * the cached or freshly fetched copy. -ENOENT (logged) if neither works. */
int keyring_ensure(struct build_ctx *ctx, char **ret);

/* Pull the file `member` (e.g. "usr/share/keyrings/x.gpg") out of a .deb held in memory. */
int deb_extract_member(const void *deb, size_t size, const char *member, char **ret, size_t *ret_size);
