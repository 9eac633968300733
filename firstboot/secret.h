/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* Secrets (the join token, a one-time password, a PSK, password hashes) come from root-only files
 * the answers name. They never reach a log, the console or the status: callers print the path,
 * never the content.
 *
 * secret_read() refuses what an attacker on the box could have written or read: anything not a
 * regular file (O_NOFOLLOW: no symlink either), owned by another user than us, or readable or
 * writable by group or others (-EPERM). The content is returned without its trailing newline
 * (at most SECRET_MAX bytes, -EFBIG beyond; -ENODATA if empty). Free it with secret_free(), which
 * wipes it with OPENSSL_cleanse() first. */

#define SECRET_MAX 4096

struct secret {
        char *data; /* NUL-terminated */
        size_t len;
};

int secret_read(int dirfd, const char *path, struct secret *ret);
void secret_free(struct secret *s);

/* Remove a secret's file once it has served (after a successful join). A read-only store (systemd's
 * /run/credentials, which is gone at shutdown anyway) is not an error: returns -EROFS for the
 * caller to mention. */
int secret_remove(int dirfd, const char *path);
