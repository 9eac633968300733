/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "outputs.h"

/* Checking a published output directory: SHA256SUMS.sig against SHA256SUMS (Ed25519, the key
 * given), then every file SHA256SUMS lists against its sum. */

/* "HEX  NAME\n" (or "HEX *NAME", sha256sum's binary mark) lines into artifacts (size 0). Names must
 * be plain file names: no '/', not "." or "..", so a tampered list cannot point outside the
 * directory. Pure. Returns -EBADMSG with *ret_line (1-based) set to the first bad line. */
int sha256sums_parse(const char *text, struct artifact **ret, size_t *ret_n, unsigned *ret_line);
void artifacts_free(struct artifact *a, size_t n);

/* Where signing keys and signatures live in the image and next to the outputs. */
#define SIGNING_PUB_IN_IMAGE "/usr/share/rackstack/signing.pub"
#define SHA256SUMS_SIG "SHA256SUMS.sig"

/* The public key that belongs to a private key path: "PREFIX.key" -> "PREFIX.pub". NULL on OOM. */
char *signing_pub_for_key(const char *key_path);
/* Check that key_path can sign and that pub_path verifies what it signs (a key pair), before a
 * build spends minutes. Logs the reason; -EINVAL for a key that is not usable. */
int signing_check_pair(const char *key_path, const char *pub_path);
/* Whether pub_path holds an Ed25519 public key in PEM: 0, -ENOENT, -EBADMSG (not a PEM public
 * key) or -EKEYREJECTED (another algorithm). Tells a bad key from a bad signature, which
 * ed25519_verify() reports alike. */
int signing_pub_check(const char *pub_path);
