/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "shadow.h"
#include "util.h"

#define SHADOW_MAX (16 * 1024 * 1024)

int shadow_set_password(const char *text, const char *user, const char *hash, uint64_t day, char **ret) {
        if (!hash || hash[0] != '$' || strpbrk(hash, ":\n\r") || !*user || strpbrk(user, ":\n"))
                return -EINVAL;
        struct buf b = {};
        bool found = false;
        size_t ulen = strlen(user);
        for (const char *l = text; l && *l;) {
                size_t n = strcspn(l, "\n");
                bool nl = l[n] == '\n';
                if (!found && n > ulen && strncmp(l, user, ulen) == 0 && l[ulen] == ':') {
                        /* name:password:lastchg:rest */
                        const char *pw = l + ulen + 1, *end = l + n;
                        const char *after_pw = memchr(pw, ':', (size_t) (end - pw));
                        const char *after_chg = after_pw ? memchr(after_pw + 1, ':', (size_t) (end - after_pw - 1)) : NULL;
                        buf_printf(&b, "%s:%s:%" PRIu64, user, hash, day);
                        if (after_chg)
                                buf_put(&b, after_chg, (size_t) (end - after_chg));
                        else
                                buf_puts(&b, "::::::");
                        found = true;
                } else
                        buf_put(&b, l, n);
                if (nl)
                        buf_putc(&b, '\n');
                l += n + nl;
        }
        if (!found) {
                buf_done(&b);
                return -ENOENT;
        }
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}

int shadow_apply(const char *root, const char *user, const char *hash) {
        _cleanup_free_ char *path = strprintf("%s/etc/shadow", root);
        if (!path)
                return -ENOMEM;
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        _cleanup_free_ char *text = NULL, *out = NULL;
        int r = read_file_full(AT_FDCWD, path, SHADOW_MAX, &text, NULL);
        if (r < 0)
                return r;
        r = shadow_set_password(text, user, hash, (uint64_t) time(NULL) / 86400, &out);
        explicit_bzero(text, strlen(text));
        if (r < 0)
                return r;
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = open_tmpfile_for(path, &tmp);
        if (fd < 0)
                return fd;
        /* owner and mode first: the hash must never sit in a file others can read */
        if (fchmod(fd, st.st_mode & 07777) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0) {
                r = -errno;
                (void) unlink(tmp);
                return r;
        }
        size_t len = strlen(out);
        for (size_t off = 0; off < len;) {
                ssize_t k = write(fd, out + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        (void) unlink(tmp);
                        return r;
                }
                off += (size_t) k;
        }
        explicit_bzero(out, len);
        r = publish_tmpfile(tmp, path);
        if (r < 0)
                (void) unlink(tmp);
        return r;
}
