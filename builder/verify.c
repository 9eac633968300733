/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <openssl/pem.h>

#include "cleanup.h"
#include "ed25519.h"
#include "lib-cleanup.h"
#include "log.h"
#include "util.h"
#include "verify.h"

void artifacts_free(struct artifact *a, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(a[i].name);
                free(a[i].sha256);
        }
        free(a);
}

static bool plain_name(const char *s, size_t n) {
        if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '/' || s[i] == '\\' || s[i] == '\0' || (unsigned char) s[i] < 0x20)
                        return false;
        return true;
}

int sha256sums_parse(const char *text, struct artifact **ret, size_t *ret_n, unsigned *ret_line) {
        struct artifact *a = NULL;
        size_t n = 0;
        unsigned line = 0;
        int r = 0;

        for (const char *l = text; *l;) {
                size_t len = strcspn(l, "\n");
                line++;
                /* 64 lower-case hex digits, two spaces (or space and '*'), a name. */
                if (len < 67 || strspn(l, "0123456789abcdef") != 64 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*') ||
                    !plain_name(l + 66, len - 66)) {
                        r = -EBADMSG;
                        break;
                }
                for (size_t i = 0; i < n; i++)
                        if (strlen(a[i].name) == len - 66 && strneq(a[i].name, l + 66, len - 66))
                                r = -EBADMSG; /* listed twice */
                if (r < 0)
                        break;
                struct artifact *m = realloc(a, (n + 1) * sizeof *a);
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                a = m;
                a[n] = (struct artifact) { .name = strndup(l + 66, len - 66), .sha256 = strndup(l, 64) };
                n++;
                if (!a[n - 1].name || !a[n - 1].sha256) {
                        r = -ENOMEM;
                        break;
                }
                l += len;
                if (*l == '\n')
                        l++;
        }
        if (r == 0 && n == 0)
                r = -EBADMSG, line = 1;
        if (r < 0) {
                artifacts_free(a, n);
                if (ret_line)
                        *ret_line = line;
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

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

int signing_pub_check(const char *pub_path) {
        _cleanup_fclose_ FILE *f = fopen(pub_path, "re");
        if (!f)
                return -errno;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = PEM_read_PUBKEY(f, NULL, NULL, NULL);
        if (!k)
                return -EBADMSG;
        return EVP_PKEY_get_id(k) == EVP_PKEY_ED25519 ? 0 : -EKEYREJECTED;
}
