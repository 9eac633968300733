/* SPDX-License-Identifier: MIT */
#pragma once

#include "signed-sums.h"

/* The builder's side of signing (checking a signed directory is common/signed-sums.h). */

/* The public key that belongs to a private key path: "PREFIX.key" -> "PREFIX.pub". NULL on OOM. */
char *signing_pub_for_key(const char *key_path);
/* Check that key_path can sign and that pub_path verifies what it signs (a key pair), before a
 * build spends minutes. Logs the reason; -EINVAL for a key that is not usable. */
int signing_check_pair(const char *key_path, const char *pub_path);
