/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "diag.h"

/* A signed output directory, as `rackstack-build build --sign` writes it: SHA256SUMS (in the
 * grammar of sha256sums.h, the one the installer reads too), SHA256SUMS.sig (a raw Ed25519 signature over SHA256SUMS' bytes) and the files listed.
 * Checked by `rackstack-build verify` and, with the key baked into the image at
 * SIGNING_PUB_IN_IMAGE, by an installer before it writes an image to a disk. */

#define SIGNING_PUB_IN_IMAGE "/usr/share/rackstack/signing.pub"
#define SHA256SUMS_SIG "SHA256SUMS.sig"

enum sums_status {
        SUMS_UNCHECKED,
        SUMS_OK,
        SUMS_MISMATCH,   /* the file's sha256 is not the listed one */
        SUMS_MISSING,
        SUMS_UNREADABLE, /* error holds the errno */
};

struct sums_entry {
        char *name;   /* a plain file name in the directory */
        char *sha256; /* 64 lower-case hex digits, as listed */
        enum sums_status status;
        char *actual; /* the file's sha256 once hashed */
        int error;
};

void sums_entries_free(struct sums_entry *e, size_t n);

/* sha256 of a file (holes read as zeros) as hex. */
int sha256_path_hex(const char *path, char **ret_hex);
/* sha256 of a buffer as hex. */
int sha256_buf_hex(const void *p, size_t n, char **ret_hex);

/* Whether pub_path holds an Ed25519 public key in PEM: 0, -ENOENT, -EBADMSG (not a PEM public
 * key) or -EKEYREJECTED (another algorithm). Tells a bad key from a bad signature, which
 * ed25519_verify() reports alike. */
int signing_pub_check(const char *pub_path);

/* Verify dir against pub_path: the signature first (-EBADMSG if it does not match SHA256SUMS;
 * -ENOENT with *ret_missing naming SHA256SUMS or SHA256SUMS.sig when one is absent; -EUCLEAN
 * with the diagnostics in d for a signed but malformed list), then the sha256 of every listed file, or only
 * of `only` when it is non-NULL (-ENOENT with *ret_missing = only when the list lacks it). On a
 * good signature *ret and *ret_n get the entries with their status, and the result is the number of
 * checked files that do not match (0: all good). */
int signed_sums_verify(const char *dir, const char *pub_path, const char *only, struct sums_entry **ret,
                       size_t *ret_n, const char **ret_missing, struct diags *d);
