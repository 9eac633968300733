/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "ed25519.h"
#include "log.h"
#include "util.h"
#include "verify.h"

char *signing_pub_for_key(const char *key_path) {
        size_t n = strlen(key_path);
        if (endswith(key_path, ".key"))
                return strprintf("%.*s.pub", (int) (n - 4), key_path);
        return strprintf("%s.pub", key_path);
}

int signing_check_pair(const char *key_path, const char *pub_path) {
        static const char probe[] = "rackstack signing key check";
        unsigned char sig[64];
        int r = ed25519_sign(key_path, probe, sizeof probe - 1, sig);
        if (r == -EPERM)
                return log_error_errno(-EINVAL, "The signing key %s is readable by others (chmod 600 it, or make a new "
                                       "one with rackstack-build keygen)", key_path);
        if (r == -EBADMSG || r == -EKEYREJECTED)
                return log_error_errno(-EINVAL, "%s is not an Ed25519 private key in PEM (make one with "
                                       "rackstack-build keygen --out PREFIX)", key_path);
        if (r == -ENOENT)
                return log_error_errno(-EINVAL, "The signing key %s does not exist (make one with rackstack-build "
                                       "keygen --out PREFIX)", key_path);
        if (r < 0)
                return log_error_errno(r, "Cannot use the signing key %s: %m", key_path);
        r = ed25519_verify(pub_path, probe, sizeof probe - 1, sig, sizeof sig);
        if (r == -ENOENT)
                return log_error_errno(-EINVAL, "The public key %s is missing: --sign PREFIX.key needs PREFIX.pub next "
                                       "to it (baked into the image so the installer can verify)", pub_path);
        if (r == -EBADMSG)
                return log_error_errno(-EINVAL, "%s does not belong to %s: its signatures do not verify", pub_path,
                                       key_path);
        if (r < 0)
                return log_error_errno(r == -EKEYREJECTED ? -EINVAL : r, "Cannot use the public key %s: %m", pub_path);
        return 0;
}
