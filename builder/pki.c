/* SPDX-License-Identifier: MIT */
/* The site CA and the hosts' certificates, with OpenSSL 3's API. ECDSA P-256: every TLS stack the
 * seed's services use (Go's, OpenSSL, GnuTLS, Java) takes it, and it is quick to make. */
#include <errno.h>
#include <openssl/bn.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "secrets.h"
#include "util.h"

#define CA_DAYS (10 * 365)
/* 825 days: the longest validity clients that follow the CA/Browser Forum's old rule accept. */
#define HOST_DAYS 825

static int ssl_error(const char *what) {
        unsigned long e = ERR_get_error();
        char buf[256] = "unknown error";
        if (e)
                ERR_error_string_n(e, buf, sizeof buf);
        ERR_clear_error();
        log_debug("OpenSSL: %s: %s", what, buf);
        return -EIO;
}

static char *bio_take(BIO *b) {
        char *p = NULL;
        long n = BIO_get_mem_data(b, &p);
        return n >= 0 ? strndup(p, (size_t) n) : NULL;
}

int pki_make_key(char **ret_pem) {
        EVP_PKEY *k = EVP_EC_gen("P-256");
        if (!k)
                return ssl_error("EC key generation");
        BIO *b = BIO_new(BIO_s_mem());
        int r = b && PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL) == 1 ? 0 : ssl_error("PEM key");
        char *pem = r >= 0 ? bio_take(b) : NULL;
        BIO_free(b);
        EVP_PKEY_free(k);
        if (r < 0)
                return r;
        if (!pem)
                return -ENOMEM;
        *ret_pem = pem;
        return 0;
}

static EVP_PKEY *read_key(const char *pem) {
        BIO *b = BIO_new_mem_buf(pem, -1);
        EVP_PKEY *k = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return k;
}

static X509 *read_cert(const char *pem) {
        BIO *b = BIO_new_mem_buf(pem, -1);
        X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        return x;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!e)
                return ssl_error(value);
        int ok = X509_add_ext(x, e, -1);
        X509_EXTENSION_free(e);
        return ok ? 0 : ssl_error("add extension");
}

struct ext {
        int nid;
        const char *value;
};

static int add_exts(X509 *x, X509 *issuer, const struct ext *e, size_t n) {
        for (size_t i = 0; i < n; i++) {
                int r = add_ext(x, issuer, e[i].nid, e[i].value);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A new certificate for key, with a random 128-bit serial, valid from an hour ago (clock skew) for
 * days. Issuer and signing are the caller's. */
static X509 *new_cert(EVP_PKEY *key, const char *cn, unsigned days) {
        X509 *x = X509_new();
        unsigned char raw[16];
        if (!x || RAND_bytes(raw, sizeof raw) != 1)
                goto fail;
        raw[0] &= 0x7f; /* positive */
        BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
        bool ok = bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
        BN_free(bn);
        if (!ok || !X509_set_version(x, 2) || !X509_gmtime_adj(X509_getm_notBefore(x), -3600) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), (long) days * 24 * 3600) || !X509_set_pubkey(x, key))
                goto fail;
        X509_NAME *name = X509_get_subject_name(x);
        if (!X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, (const unsigned char *) "rackstack site", -1, -1, 0) ||
            !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0))
                goto fail;
        return x;
fail:
        X509_free(x);
        return NULL;
}

static int write_cert(X509 *x, char **ret) {
        BIO *b = BIO_new(BIO_s_mem());
        int r = b && PEM_write_bio_X509(b, x) == 1 ? 0 : ssl_error("PEM certificate");
        char *pem = r >= 0 ? bio_take(b) : NULL;
        BIO_free(b);
        if (r < 0)
                return r;
        if (!pem)
                return -ENOMEM;
        *ret = pem;
        return 0;
}

int pki_make_ca(const char *key_pem, const char *domain, char **ret_cert_pem) {
        EVP_PKEY *key = read_key(key_pem);
        if (!key)
                return ssl_error("CA key");
        _cleanup_free_ char *cn = strprintf("rackstack site CA %s", domain);
        X509 *x = cn ? new_cert(key, cn, CA_DAYS) : NULL;
        int r = x ? 0 : ssl_error("CA certificate");
        if (r >= 0 && !X509_set_issuer_name(x, X509_get_subject_name(x)))
                r = ssl_error("issuer");
        /* The CA signs host certificates only, and only for names in the site's domain: a stolen site
         * CA key cannot vouch for anyone else's names to the hosts that trust it. */
        _cleanup_free_ char *nc = strprintf("permitted;DNS:%s", domain);
        if (r >= 0 && !nc)
                r = -ENOMEM;
        const struct ext ca_exts[] = {
                { NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
                { NID_key_usage, "critical,keyCertSign,cRLSign" },
                { NID_subject_key_identifier, "hash" },
                { NID_name_constraints, nc },
        };
        if (r >= 0)
                r = add_exts(x, x, ca_exts, ELEMENTSOF(ca_exts));
        if (r >= 0 && !X509_sign(x, key, EVP_sha256()))
                r = ssl_error("sign CA");
        if (r >= 0)
                r = write_cert(x, ret_cert_pem);
        X509_free(x);
        EVP_PKEY_free(key);
        return r;
}

int pki_issue(const char *ca_key_pem, const char *ca_cert_pem, const char *key_pem, const char *cn,
              char *const *sans, char **ret_cert_pem) {
        EVP_PKEY *cakey = read_key(ca_key_pem), *key = read_key(key_pem);
        X509 *ca = read_cert(ca_cert_pem), *x = NULL;
        struct buf san = {};
        int r = cakey && key && ca ? 0 : ssl_error("CA or host key");
        for (char *const *s = sans; s && *s; s++)
                buf_printf(&san, "%s%s%s", san.len ? "," : "", startswith(*s, "IP:") ? "" : "DNS:", *s);
        _cleanup_free_ char *san_s = buf_steal(&san);
        if (r >= 0 && !san_s)
                r = -ENOMEM;
        if (r >= 0 && !(x = new_cert(key, cn, HOST_DAYS)))
                r = ssl_error("host certificate");
        if (r >= 0 && !X509_set_issuer_name(x, X509_get_subject_name(ca)))
                r = ssl_error("issuer");
        const struct ext host_exts[] = {
                { NID_basic_constraints, "critical,CA:FALSE" },
                { NID_key_usage, "critical,digitalSignature,keyEncipherment" },
                { NID_ext_key_usage, "serverAuth,clientAuth" },
                { NID_subject_key_identifier, "hash" },
                { NID_authority_key_identifier, "keyid:always" },
                { NID_subject_alt_name, san_s },
        };
        if (r >= 0)
                r = add_exts(x, ca, host_exts, ELEMENTSOF(host_exts));
        if (r >= 0 && !X509_sign(x, cakey, EVP_sha256()))
                r = ssl_error("sign host certificate");
        if (r >= 0)
                r = write_cert(x, ret_cert_pem);
        X509_free(x);
        X509_free(ca);
        EVP_PKEY_free(cakey);
        EVP_PKEY_free(key);
        return r;
}

int pki_signed_by(const char *cert_pem, const char *ca_cert_pem) {
        X509 *x = read_cert(cert_pem), *ca = read_cert(ca_cert_pem);
        EVP_PKEY *k = ca ? X509_get0_pubkey(ca) : NULL;
        int r = x && k ? (X509_verify(x, k) == 1 ? 1 : 0) : ssl_error("certificate");
        ERR_clear_error();
        X509_free(x);
        X509_free(ca);
        return r;
}
