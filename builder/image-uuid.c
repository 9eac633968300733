/* SPDX-License-Identifier: MIT */
#include <sys/random.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "image-plan.h"
#include "util.h"

static int derive_bytes(const char *seed, const char *purpose, uint8_t out[static 16]) {
        if (!seed) {
                ssize_t n = getrandom(out, 16, 0);
                if (n < 0)
                        return -errno;
                return n == 16 ? 0 : -EIO;
        }

        uint8_t md[EVP_MAX_MD_SIZE];
        unsigned md_len = 0;
        _cleanup_free_ char *msg = strprintf("%s\n%s", seed, purpose);
        if (!msg)
                return -ENOMEM;
        if (!EVP_Digest(msg, strlen(msg), md, &md_len, EVP_sha256(), NULL) || md_len < 16)
                return -EIO;
        memcpy(out, md, 16);
        return 0;
}

int uuid_derive(const char *seed, const char *purpose, char **ret) {
        uint8_t b[16];
        int r = derive_bytes(seed, purpose, b);
        if (r < 0)
                return r;
        /* Version 4, RFC 4122 variant: tools that check the shape accept it either way. */
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        char *s = strprintf("%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                            b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                            b[15]);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int fat_serial_derive(const char *seed, const char *purpose, char **ret) {
        uint8_t b[16];
        int r = derive_bytes(seed, purpose, b);
        if (r < 0)
                return r;
        char *s = strprintf("%02X%02X-%02X%02X", b[0], b[1], b[2], b[3]);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
