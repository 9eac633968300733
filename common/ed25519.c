/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "cleanup.h"
#include "ed25519.h"
#include "fileio.h"
#include "lib-cleanup.h"
#include "util.h"

/* Signed files are checksum lists and small; anything bigger is not what we sign. */
#define SIGNED_MAX (64u << 20)

static int pem_out(EVP_PKEY *k, bool private, char **ret, size_t *ret_n) {
        _cleanup_(BIO_free_allp) BIO *b = BIO_new(BIO_s_mem());
        if (!b)
                return -ENOMEM;
        int ok = private ? PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PUBKEY(b, k);
        if (!ok)
                return -EIO;
        char *p;
        long n = BIO_get_mem_data(b, &p);
        char *copy = malloc(n > 0 ? n : 1);
        if (!copy)
                return -ENOMEM;
        memcpy(copy, p, n);
        *ret = copy;
        *ret_n = n;
        return 0;
}

int ed25519_keygen(const char *prefix, bool force) {
        _cleanup_free_ char *key_path = strprintf("%s.key", prefix), *pub_path = strprintf("%s.pub", prefix);
        if (!key_path || !pub_path)
                return -ENOMEM;
        if (!force && (access(key_path, F_OK) == 0 || access(pub_path, F_OK) == 0))
                return -EEXIST;
        _cleanup_(EVP_PKEY_CTX_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0)
                return -EIO;
        char *priv = NULL, *pub = NULL;
        size_t priv_n = 0, pub_n = 0;
        int r = pem_out(k, true, &priv, &priv_n);
        if (r >= 0)
                r = pem_out(k, false, &pub, &pub_n);
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, key_path, priv, priv_n, 0600);
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, pub_path, pub, pub_n, 0644);
        if (priv)
                OPENSSL_cleanse(priv, priv_n);
        free(priv);
        free(pub);
        return r;
}

static int load_key(const char *path, bool private, EVP_PKEY **ret) {
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        if (private) {
                struct stat st;
                /* A signing key others can read is a key others may have: refuse it as ssh does. */
                if (fstat(fileno(f), &st) < 0)
                        return -errno;
                if (st.st_mode & 0077)
                        return -EPERM;
        }
        EVP_PKEY *k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
        if (!k)
                return -EBADMSG;
        if (EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
                EVP_PKEY_free(k);
                return -EKEYREJECTED;
        }
        *ret = k;
        return 0;
}

int ed25519_sign(const char *key_path, const void *data, size_t n, unsigned char ret_sig[64]) {
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        int r = load_key(key_path, true, &k);
        if (r < 0)
                return r;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        unsigned char sig[64];
        size_t sig_n = sizeof(sig);
        if (!md || EVP_DigestSignInit(md, NULL, NULL, NULL, k) <= 0 ||
            EVP_DigestSign(md, sig, &sig_n, data, n) <= 0 || sig_n != 64)
                return -EIO;
        memcpy(ret_sig, sig, 64);
        return 0;
}

int ed25519_sign_file(const char *key_path, const char *data_path, const char *sig_path) {
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        int r = read_file_full(AT_FDCWD, data_path, SIGNED_MAX, &data, &n);
        if (r < 0)
                return r;
        unsigned char sig[64];
        if ((r = ed25519_sign(key_path, data, n, sig)) < 0)
                return r;
        return write_file_atomic(AT_FDCWD, sig_path, sig, sizeof(sig), 0644);
}

int ed25519_verify(const char *pub_path, const void *data, size_t n, const void *sig, size_t sig_n) {
        if (sig_n != 64)
                return -EBADMSG;
        _cleanup_(EVP_PKEY_freep) EVP_PKEY *k = NULL;
        int r = load_key(pub_path, false, &k);
        if (r < 0)
                return r;
        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!md || EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) <= 0)
                return -EIO;
        return EVP_DigestVerify(md, sig, sig_n, data, n) == 1 ? 0 : -EBADMSG;
}

int ed25519_verify_file(const char *pub_path, const char *data_path, const char *sig_path) {
        _cleanup_free_ char *data = NULL, *sig = NULL;
        size_t n = 0, sig_n = 0;
        int r = read_file_full(AT_FDCWD, data_path, SIGNED_MAX, &data, &n);
        if (r < 0)
                return r;
        if ((r = read_file_full(AT_FDCWD, sig_path, 4096, &sig, &sig_n)) < 0)
                return r;
        return ed25519_verify(pub_path, data, n, sig, sig_n);
}
