/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cleanup.h"
#include "ed25519.h"
#include "fileio.h"
#include "lib-cleanup.h"
#include "signed-sums.h"
#include "util.h"

void sums_entries_free(struct sums_entry *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(e[i].name);
                free(e[i].sha256);
                free(e[i].actual);
        }
        free(e);
}

/* A path below the directory: components separated by single '/', none empty, "." or "..", so a
 * list cannot point outside its directory (the build lists pxe/ and proxmox/ files this way). */
static bool plain_name(const char *s, size_t n) {
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '/') {
                        if (s[i] == '\\' || (unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                                return false;
                        continue;
                }
                size_t len = i - start;
                if (len == 0 || (len == 1 && s[start] == '.') || (len == 2 && s[start] == '.' && s[start + 1] == '.'))
                        return false;
                start = i + 1;
        }
        return true;
}

int signed_sums_parse(const char *text, struct sums_entry **ret, size_t *ret_n, unsigned *ret_line) {
        struct sums_entry *a = NULL;
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
                struct sums_entry *m = realloc(a, (n + 1) * sizeof *a);
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                a = m;
                a[n] = (struct sums_entry) { .name = strndup(l + 66, len - 66), .sha256 = strndup(l, 64) };
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
                sums_entries_free(a, n);
                if (ret_line)
                        *ret_line = line;
                return r;
        }
        *ret = a;
        *ret_n = n;
        return 0;
}

int sha256_path_hex(const char *path, char **ret_hex) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
                return -ENOMEM;
        (void) posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        const size_t bufsz = 1 << 20;
        _cleanup_free_ unsigned char *buf = malloc(bufsz);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                ssize_t k = read(fd, buf, bufsz);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                if (!EVP_DigestUpdate(ctx, buf, (size_t) k))
                        return -EIO;
        }
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdn = 0;
        if (!EVP_DigestFinal_ex(ctx, md, &mdn))
                return -EIO;
        char *hex = malloc(2 * mdn + 1);
        if (!hex)
                return -ENOMEM;
        for (unsigned i = 0; i < mdn; i++)
                snprintf(hex + 2 * i, 3, "%02x", md[i]);
        *ret_hex = hex;
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

int signed_sums_verify(const char *dir, const char *pub_path, const char *only, struct sums_entry **ret,
                       size_t *ret_n, const char **ret_missing, unsigned *ret_line) {
        _cleanup_free_ char *sums_path = strprintf("%s/SHA256SUMS", dir);
        _cleanup_free_ char *sig_path = strprintf("%s/" SHA256SUMS_SIG, dir);
        _cleanup_free_ char *sums = NULL, *sig = NULL;
        size_t sums_n = 0, sig_n = 0;
        if (!sums_path || !sig_path)
                return -ENOMEM;
        int r = read_file_full(AT_FDCWD, sums_path, 1 << 20, &sums, &sums_n);
        if (r < 0) {
                if (r == -ENOENT && ret_missing)
                        *ret_missing = "SHA256SUMS";
                return r;
        }
        r = read_file_full(AT_FDCWD, sig_path, 4096, &sig, &sig_n);
        if (r < 0) {
                if (r == -ENOENT && ret_missing)
                        *ret_missing = SHA256SUMS_SIG;
                return r;
        }
        r = ed25519_verify(pub_path, sums, sums_n, sig, sig_n);
        if (r < 0)
                return r;

        struct sums_entry *e = NULL;
        size_t n = 0;
        unsigned line = 0;
        r = signed_sums_parse(sums, &e, &n, &line);
        if (r < 0) {
                if (ret_line)
                        *ret_line = line;
                return r == -EBADMSG ? -EUCLEAN : r;
        }
        bool found = !only;
        int failed = 0;
        for (size_t i = 0; i < n; i++) {
                if (only && !streq(e[i].name, only))
                        continue;
                found = true;
                _cleanup_free_ char *path = strprintf("%s/%s", dir, e[i].name);
                if (!path) {
                        sums_entries_free(e, n);
                        return -ENOMEM;
                }
                r = sha256_path_hex(path, &e[i].actual);
                if (r == -ENOENT)
                        e[i].status = SUMS_MISSING;
                else if (r < 0) {
                        e[i].status = SUMS_UNREADABLE;
                        e[i].error = -r;
                } else
                        e[i].status = streq(e[i].actual, e[i].sha256) ? SUMS_OK : SUMS_MISMATCH;
                if (e[i].status != SUMS_OK)
                        failed++;
        }
        if (!found) {
                sums_entries_free(e, n);
                if (ret_missing)
                        *ret_missing = only;
                return -ENOENT;
        }
        *ret = e;
        *ret_n = n;
        return failed;
}
