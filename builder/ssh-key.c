/* SPDX-License-Identifier: MIT */
/* Ed25519 SSH keys for the site's secrets (the db host's backup key): made with OpenSSL, written
 * in OpenSSH's own private key format ("openssh-key-v1", unencrypted: the file is root's only, as
 * ssh-keygen -N '' writes it) and the authorized_keys public form. Nothing here prints. */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include "secrets.h"
#include "util.h"

#define OPENSSH_MAGIC "openssh-key-v1"
#define KEY_TYPE "ssh-ed25519"

static void put_u32(struct buf *b, uint32_t v) {
        unsigned char x[4] = { (unsigned char) (v >> 24), (unsigned char) (v >> 16), (unsigned char) (v >> 8),
                               (unsigned char) v };
        buf_put(b, x, 4);
}

static void put_string(struct buf *b, const void *p, size_t n) {
        put_u32(b, (uint32_t) n);
        buf_put(b, p, n);
}

static void put_cstring(struct buf *b, const char *s) {
        put_string(b, s, strlen(s));
}

/* string "ssh-ed25519", string pk: the public key blob of both files */
static void put_public_blob(struct buf *b, const unsigned char pk[32]) {
        put_cstring(b, KEY_TYPE);
        put_string(b, pk, 32);
}

static char *base64(const unsigned char *p, size_t n) {
        char *s = malloc(4 * ((n + 2) / 3) + 1);
        if (s)
                EVP_EncodeBlock((unsigned char *) s, p, (int) n);
        return s;
}

static char *public_line(const unsigned char pk[32], const char *comment) {
        struct buf blob = {};
        put_public_blob(&blob, pk);
        if (!blob.data) {
                buf_done(&blob);
                return NULL;
        }
        _cleanup_free_ char *b64 = base64((const unsigned char *) blob.data, blob.len);
        buf_done(&blob);
        return b64 ? strprintf(KEY_TYPE " %s %s\n", b64, comment) : NULL;
}

int ssh_key_make(const char *comment, char **ret_private) {
        unsigned char seed[32], pk[32];
        size_t sl = sizeof seed, pl = sizeof pk;
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        if (!k)
                return -EIO;
        int ok = EVP_PKEY_get_raw_private_key(k, seed, &sl) == 1 && EVP_PKEY_get_raw_public_key(k, pk, &pl) == 1 &&
                 sl == 32 && pl == 32;
        EVP_PKEY_free(k);
        uint32_t check = 0;
        if (!ok || RAND_bytes((unsigned char *) &check, sizeof check) != 1) {
                OPENSSL_cleanse(seed, sizeof seed);
                return -EIO;
        }
        /* the private section: checkint twice, the key, its comment, padding 1 2 3 … to a multiple of 8 */
        struct buf priv = {}, out = {};
        unsigned char both[64];
        memcpy(both, seed, 32);
        memcpy(both + 32, pk, 32);
        put_u32(&priv, check);
        put_u32(&priv, check);
        put_cstring(&priv, KEY_TYPE);
        put_string(&priv, pk, 32);
        put_string(&priv, both, 64);
        put_cstring(&priv, comment);
        for (unsigned char pad = 1; priv.len % 8; pad++)
                buf_put(&priv, &pad, 1);
        OPENSSL_cleanse(seed, sizeof seed);
        OPENSSL_cleanse(both, sizeof both);

        struct buf pub = {};
        put_public_blob(&pub, pk);
        buf_put(&out, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC); /* with its NUL */
        put_cstring(&out, "none");                          /* cipher */
        put_cstring(&out, "none");                          /* kdf */
        put_string(&out, "", 0);                            /* kdf options */
        put_u32(&out, 1);                                   /* one key */
        put_string(&out, pub.data, pub.len);
        put_string(&out, priv.data, priv.len);
        buf_done(&pub);
        if (priv.data)
                OPENSSL_cleanse(priv.data, priv.len);
        buf_done(&priv);
        char *b64 = out.data ? base64((const unsigned char *) out.data, out.len) : NULL;
        if (out.data)
                OPENSSL_cleanse(out.data, out.len);
        buf_done(&out);
        if (!b64)
                return -ENOMEM;
        struct buf pem = {};
        buf_puts(&pem, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
        size_t n = strlen(b64);
        for (size_t i = 0; i < n; i += 70)
                buf_printf(&pem, "%.*s\n", (int) (n - i < 70 ? n - i : 70), b64 + i);
        buf_puts(&pem, "-----END OPENSSH PRIVATE KEY-----\n");
        OPENSSL_cleanse(b64, n);
        free(b64);
        char *s = buf_steal(&pem);
        if (!s)
                return -ENOMEM;
        *ret_private = s;
        return 0;
}

static int get_u32(const unsigned char **p, const unsigned char *end, uint32_t *ret) {
        if (end - *p < 4)
                return -EBADMSG;
        *ret = (uint32_t) (*p)[0] << 24 | (uint32_t) (*p)[1] << 16 | (uint32_t) (*p)[2] << 8 | (*p)[3];
        *p += 4;
        return 0;
}

static int get_string(const unsigned char **p, const unsigned char *end, const unsigned char **ret, uint32_t *ret_len) {
        uint32_t n;
        if (get_u32(p, end, &n) < 0 || (size_t) (end - *p) < n)
                return -EBADMSG;
        *ret = *p;
        *ret_len = n;
        *p += n;
        return 0;
}

int ssh_key_public(const char *private_text, const char *comment, char **ret_line) {
        const char *b = strstr(private_text, "-----BEGIN OPENSSH PRIVATE KEY-----\n"),
                   *e = b ? strstr(b, "-----END OPENSSH PRIVATE KEY-----") : NULL;
        if (!b || !e)
                return -EBADMSG;
        b += strlen("-----BEGIN OPENSSH PRIVATE KEY-----\n");
        struct buf clean = {};
        for (const char *c = b; c < e; c++)
                if (*c != '\n' && *c != '\r')
                        buf_put(&clean, c, 1);
        if (!clean.data) {
                buf_done(&clean);
                return -EBADMSG;
        }
        _cleanup_free_ unsigned char *raw = malloc(clean.len);
        int n = raw ? EVP_DecodeBlock(raw, (const unsigned char *) clean.data, (int) clean.len) : -1;
        buf_done(&clean);
        if (n < (int) sizeof OPENSSH_MAGIC || memcmp(raw, OPENSSH_MAGIC, sizeof OPENSSH_MAGIC) != 0)
                return -EBADMSG;
        const unsigned char *p = raw + sizeof OPENSSH_MAGIC, *end = raw + n, *s, *ks, *kp;
        uint32_t len, nkeys, kl, pl;
        for (int i = 0; i < 3; i++) /* cipher, kdf, kdf options */
                if (get_string(&p, end, &s, &len) < 0)
                        return -EBADMSG;
        if (get_u32(&p, end, &nkeys) < 0 || nkeys != 1 || get_string(&p, end, &s, &len) < 0)
                return -EBADMSG;
        const unsigned char *q = s, *qe = s + len;
        if (get_string(&q, qe, &ks, &kl) < 0 || kl != strlen(KEY_TYPE) || memcmp(ks, KEY_TYPE, kl) != 0 ||
            get_string(&q, qe, &kp, &pl) < 0 || pl != 32)
                return -EBADMSG;
        char *line = public_line(kp, comment);
        if (!line)
                return -ENOMEM;
        *ret_line = line;
        return 0;
}
