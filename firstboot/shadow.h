/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* The root password the answers give (a crypt(3) hash typed at the prompt or from "rootpw
 * --iscrypted"), written into <root>/etc/shadow. Locking is left to the image: its build decides
 * whether root has a password at all. */

/* Pure: text of a shadow file with user's password field set to hash and its last-change field to
 * day (days since 1970-01-01). -ENOENT when user has no line, -EINVAL when hash could break the file
 * (':' or a newline) or is not a crypt hash. */
int shadow_set_password(const char *text, const char *user, const char *hash, uint64_t day, char **ret);

/* Apply it to <root>/etc/shadow atomically, keeping the file's owner, group and mode; the temporary
 * file has them before any byte is written. */
int shadow_apply(const char *root, const char *user, const char *hash);
