/* SPDX-License-Identifier: MIT */
/* Password hashing shared by the console prompt and the kickstart reader: a plaintext password is
 * turned into a hash at once, so only the hash is ever kept, written or logged. */
#include <crypt.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "password.h"
#include "util.h"

int password_hash(const char *password, char **ret_hash) {
        _cleanup_free_ char *salt = crypt_gensalt_ra("$6$", 0, NULL, 0);
        if (!salt)
                return errno ? -errno : -EIO;
        struct crypt_data *cd = calloc(1, sizeof *cd);
        if (!cd)
                return -ENOMEM;
        const char *h = crypt_r(password, salt, cd);
        int r = 0;
        if (!h || h[0] == '*' || !startswith(h, "$6$"))
                r = -EIO;
        char *out = r >= 0 ? strdup(h) : NULL;
        explicit_bzero(cd, sizeof *cd);
        free(cd);
        if (r < 0)
                return r;
        if (!out)
                return -ENOMEM;
        *ret_hash = out;
        return 0;
}
