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
#include "sha256sums.h"
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

static int digest_hex(const unsigned char *md, unsigned n, char **ret_hex) {
        char *hex = malloc(2 * n + 1);
        if (!hex)
                return -ENOMEM;
        hex_format(md, n, hex);
        *ret_hex = hex;
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
        return digest_hex(md, mdn, ret_hex);
}

int sha256_buf_hex(const void *p, size_t n, char **ret_hex) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned mdn = 0;
        if (!EVP_Digest(p, n, md, &mdn, EVP_sha256(), NULL))
                return -EIO;
        return digest_hex(md, mdn, ret_hex);
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

/* The parsed list as entries that carry each file's check. */
static int entries_from(const struct sha256sums *s, struct sums_entry **ret) {
        struct sums_entry *e = calloc(s->n, sizeof *e);
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < s->n; i++) {
                e[i] = (struct sums_entry) { .name = strdup(s->items[i].name), .sha256 = strdup(s->items[i].hex) };
                if (!e[i].name || !e[i].sha256) {
                        sums_entries_free(e, s->n);
                        return -ENOMEM;
                }
        }
        *ret = e;
        return 0;
}

int signed_sums_verify(const char *dir, const char *pub_path, const char *only, struct sums_entry **ret,
                       size_t *ret_n, const char **ret_missing, struct diags *d) {
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

        _cleanup_(sha256sums_done) struct sha256sums list = {};
        r = sha256sums_parse(sums, sums_n, sums_path, d, &list);
        if (r < 0)
                return r == -EINVAL ? -EUCLEAN : r;
        struct sums_entry *e = NULL;
        size_t n = list.n;
        if ((r = entries_from(&list, &e)) < 0)
                return r;
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
