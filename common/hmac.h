/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* HMAC-SHA256 of data keyed by key, as lower-case hex (64 characters), the same digest as
 *         printf %s DATA | openssl dgst -sha256 -hmac KEY
 * prints. Used to sign status events with the join token. Returns 0, -ENOMEM or -EIO (OpenSSL
 * failed). */
int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n, char **ret_hex);
