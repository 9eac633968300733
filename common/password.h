/* SPDX-License-Identifier: MIT */
#pragma once

/* SHA-512 crypt ("$6$…") of a password, with a random 16-character salt (crypt_gensalt_ra). */
int password_hash(const char *password, char **ret_hash);
