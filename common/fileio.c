/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"

int read_file_full(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_close_ int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return -errno;
        return read_fd_full(fd, max_size, ret, ret_size);
}

int read_fd_full(int fd, size_t max_size, char **ret, size_t *ret_size) {
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

/* "<path>.tmp.<16 random hex digits>": a name nobody can have prepared in advance. */
static char *tmpname_for(const char *path) {
        uint64_t rnd;
        if (getrandom(&rnd, sizeof rnd, 0) != sizeof rnd)
                return NULL;
        return strprintf("%s.tmp.%016" PRIx64, path, rnd);
}

/* A new file for the content of path: an unnamed O_TMPFILE inode in path's directory where the
 * filesystem has them, else a random name created with O_EXCL. Either way the inode is ours alone
 * (no pre-created name, no symlink followed) and has its final mode before the caller writes. */
static int open_new_for(int dirfd, const char *path, mode_t mode, char **ret_tmpname) {
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return -ENOMEM;
        int fd = openat(dirfd, dirname(copy), O_TMPFILE | O_WRONLY | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return -errno;
        _cleanup_free_ char *tmp = NULL;
        if (fd < 0) {
                if (!(tmp = tmpname_for(path)))
                        return -ENOMEM;
                fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        return -errno;
        }
        if (fchmod(fd, mode) < 0) {
                int r = -errno;
                if (tmp)
                        (void) unlinkat(dirfd, tmp, 0);
                close(fd);
                return r;
        }
        *ret_tmpname = TAKE_PTR(tmp);
        return fd;
}

/* Give an O_TMPFILE inode a (random) name beside path, to be renamed over it. */
static int link_unnamed(int fd, int dirfd, const char *path, char **ret_tmpname) {
        _cleanup_free_ char *tmp = tmpname_for(path);
        if (!tmp)
                return -ENOMEM;
        if (linkat(fd, "", dirfd, tmp, AT_EMPTY_PATH) < 0) {
                /* AT_EMPTY_PATH wants CAP_DAC_READ_SEARCH; /proc/self/fd does not. */
                char proc[64];
                snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
                if (linkat(AT_FDCWD, proc, dirfd, tmp, AT_SYMLINK_FOLLOW) < 0)
                        return -errno;
        }
        *ret_tmpname = TAKE_PTR(tmp);
        return 0;
}

int write_file_atomic(int dirfd, const char *path, const void *data, size_t size, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = open_new_for(dirfd, path, mode, &tmp);
        if (fd < 0)
                return fd;
        int r = loop_write(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && !tmp)
                r = link_unnamed(fd, dirfd, path, &tmp);
        if (r >= 0 && renameat(dirfd, tmp, dirfd, path) < 0)
                r = -errno;
        if (r < 0) {
                if (tmp)
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

int mkdir_parents_of(int dirfd, const char *path, mode_t mode) {
        const char *slash = strrchr(path, '/');
        if (!slash || slash == path)
                return 0;
        _cleanup_free_ char *parent = strndup(path, slash - path);
        return parent ? mkdir_parents_at(dirfd, parent, mode) : -ENOMEM;
}

int open_tmpfile_for(const char *path, char **ret_tmppath) {
        /* A random name and O_EXCL, mode 0600: the caller sets owner and mode before writing. */
        _cleanup_free_ char *tmp = tmpname_for(path);
        if (!tmp)
                return -ENOMEM;
        int fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
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

int open_beneath(const char *top, const char *rel, int flags) {
        /* openat2(RESOLVE_BENEATH) does this in one call where the kernel has it; walking component
         * by component with O_NOFOLLOW does the same everywhere and is short enough. */
        _cleanup_close_ int dfd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_free_ char *copy = strdup(rel);
        if (!copy)
                return -ENOMEM;
        char *save = NULL, *next = NULL;
        for (char *c = strtok_r(copy, "/", &save); c; c = next) {
                next = strtok_r(NULL, "/", &save);
                if (streq(c, "."))
                        continue;
                if (streq(c, ".."))
                        return -EXDEV; /* would leave top */
                int fd = openat(dfd, c, next ? O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC :
                                               flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
                if (fd < 0)
                        return errno == ENOTDIR && next ? -ELOOP : -errno; /* O_DIRECTORY on a symlink */
                if (!next)
                        return fd;
                close(dfd);
                dfd = fd;
        }
        return -EISDIR; /* rel named top itself */
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

static int copy_rw(int in, int out) {
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n < 0 ? -errno : 0;
                for (ssize_t off = 0; off < n;) {
                        ssize_t w = write(out, buf + off, n - off);
                        if (w < 0 && errno == EINTR)
                                continue;
                        if (w <= 0)
                                return w < 0 ? -errno : -EIO;
                        off += w;
                }
        }
}

int copy_bytes(int in, int out) {
        for (;;) {
                ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
                if (n < 0 && errno == EINTR)
                        continue;
                /* Across filesystems on older kernels, or from a pipe or a special file. */
                if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP))
                        return copy_rw(in, out);
                if (n <= 0)
                        return n < 0 ? -errno : 0;
        }
}

int pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *ret_got) {
        size_t done = 0;
        while (done < n) {
                ssize_t k = pread(fd, (uint8_t *) buf + done, n - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        break;
                done += (size_t) k;
        }
        *ret_got = done;
        return 0;
}

int pread_exact(int fd, void *buf, size_t n, uint64_t off) {
        size_t got;
        int r = pread_full(fd, buf, n, off, &got);
        return r < 0 ? r : got < n ? -EIO : 0;
}

int pwrite_exact(int fd, const void *buf, size_t n, uint64_t off) {
        for (size_t done = 0; done < n;) {
                ssize_t k = pwrite(fd, (const uint8_t *) buf + done, n - done, (off_t) (off + done));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                done += (size_t) k;
        }
        return 0;
}

int fs_available(const char *path, uint64_t *ret) {
        struct statvfs sv;
        if (statvfs(path, &sv) < 0)
                return -errno;
        *ret = (uint64_t) sv.f_bavail * sv.f_frsize;
        return 0;
}
