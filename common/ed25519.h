/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Ed25519 keys and detached signatures through OpenSSL, in the formats `openssl pkeyutl -rawin`
 * reads: PEM PKCS#8 private key, PEM SubjectPublicKeyInfo public key, a raw 64-byte signature.
 *
 * ed25519_keygen writes PREFIX.key (0600) and PREFIX.pub (0644), each temp+rename; it refuses
 * (-EEXIST) to replace an existing key unless force, because a lost signing key cannot be undone.
 * Verification returns 0, or -EBADMSG when the signature does not match; other errors mean the
 * key or the signature could not be read. */
int ed25519_keygen(const char *prefix, bool force);
int ed25519_sign(const char *key_path, const void *data, size_t n, unsigned char ret_sig[64]);
int ed25519_sign_file(const char *key_path, const char *data_path, const char *sig_path);
int ed25519_verify(const char *pub_path, const void *data, size_t n, const void *sig, size_t sig_n);
int ed25519_verify_file(const char *pub_path, const char *data_path, const char *sig_path);
