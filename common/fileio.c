/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"

int read_file_full(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;

        struct buf b = {};
        char chunk[65536];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int r = -errno;
                        buf_done(&b);
                        return r;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > max_size) {
                        buf_done(&b);
                        return -EFBIG;
                }
                buf_put(&b, chunk, n);
        }
        size_t len = b.len;
        char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        *ret = data;
        if (ret_size)
                *ret_size = len;
        return 0;
}

static int loop_write(int fd, const void *data, size_t size) {
        const char *p = data;
        while (size > 0) {
                ssize_t n = write(fd, p, size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += n;
                size -= n;
        }
        return 0;
}

int fsync_parent_dir(int dirfd, const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        _cleanup_close_ int dfd = openat(dirfd, dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (fsync(dfd) < 0)
                return -errno;
        return 0;
}

int write_file_atomic(int dirfd, const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp.%d", path, (int) getpid());
        if (!tmp)
                return -ENOMEM;

        _cleanup_close_ int fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return -errno;
        int r = loop_write(fd, data, size);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && renameat(dirfd, tmp, dirfd, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlinkat(dirfd, tmp, 0);
                return r;
        }
        return fsync_parent_dir(dirfd, path);
}

int mkdir_parents_at(int dirfd, const char *path, mode_t mode) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return -ENOMEM;
        for (char *s = p + 1; ; s++) {
                if (*s == '/' || *s == 0) {
                        char c = *s;
                        *s = 0;
                        if (mkdirat(dirfd, p, mode) < 0 && errno != EEXIST)
                                return -errno;
                        *s = c;
                        if (!c)
                                break;
                }
        }
        return 0;
}

int open_tmpfile_for(const char *path, char **ret_tmppath) {
        _cleanup_free_ char *tmp = strprintf("%s.tmp.%d", path, (int) getpid());
        if (!tmp)
                return -ENOMEM;
        int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        *ret_tmppath = TAKE_PTR(tmp);
        return fd;
}

int publish_tmpfile(const char *tmppath, const char *path) {
        _cleanup_close_ int fd = open(tmppath, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        if (rename(tmppath, path) < 0)
                return -errno;
        return fsync_parent_dir(AT_FDCWD, path);
}

int opendir_dup(int dirfd, DIR **ret) {
        int dupfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 3);
        if (dupfd < 0)
                return -errno;
        DIR *d = fdopendir(dupfd);
        if (!d) {
                int r = -errno;
                close(dupfd);
                return r;
        }
        *ret = d;
        return 0;
}
