/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>

#include "hmac.h"

int hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t n, char **ret_hex) {
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        /* An empty key is legal HMAC (zero-padded), but HMAC() wants a non-NULL pointer. */
        static const unsigned char empty = 0;
        if (!HMAC(EVP_sha256(), key_len ? key : &empty, (int) key_len, data ? data : &empty, n, md, &md_len))
                return -EIO;
        char *hex = malloc(md_len * 2 + 1);
        if (!hex) {
                OPENSSL_cleanse(md, sizeof md);
                return -ENOMEM;
        }
        static const char digits[] = "0123456789abcdef";
        for (unsigned i = 0; i < md_len; i++) {
                hex[2 * i] = digits[md[i] >> 4];
                hex[2 * i + 1] = digits[md[i] & 15];
        }
        hex[md_len * 2] = 0;
        OPENSSL_cleanse(md, sizeof md);
        *ret_hex = hex;
        return 0;
}
