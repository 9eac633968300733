/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "secret.h"

/* Paths in the answers are absolute; under --root they are taken relative to it. */
static const char *rel(const char *path) {
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

int secret_read(int dirfd, const char *path, struct secret *ret) {
        _cleanup_close_ int fd = openat(dirfd, rel(path), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EPERM;
        if ((st.st_mode & 077) || st.st_uid != geteuid())
                return -EPERM;
        if (st.st_size > SECRET_MAX)
                return -EFBIG;

        char *data = malloc(SECRET_MAX + 1);
        if (!data)
                return -ENOMEM;
        size_t len = 0;
        for (;;) {
                ssize_t k = read(fd, data + len, SECRET_MAX + 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        int r = -errno;
                        OPENSSL_cleanse(data, SECRET_MAX + 1);
                        free(data);
                        return r;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > SECRET_MAX) {
                        OPENSSL_cleanse(data, SECRET_MAX + 1);
                        free(data);
                        return -EFBIG;
                }
        }
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
                len--;
        data[len] = 0;
        if (len == 0) {
                free(data);
                return -ENODATA;
        }
        *ret = (struct secret) { .data = data, .len = len };
        return 0;
}

void secret_free(struct secret *s) {
        if (s->data) {
                OPENSSL_cleanse(s->data, s->len);
                free(s->data);
        }
        *s = (struct secret) {};
}

int secret_remove(int dirfd, const char *path) {
        if (unlinkat(dirfd, rel(path), 0) < 0 && errno != ENOENT)
                return -errno;
        return 0;
}
