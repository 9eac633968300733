/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <dirent.h>
#include <sys/types.h>

/* Read a whole file (at most max_size bytes, -EFBIG beyond) into a NUL-terminated buffer. */
int read_file_full(int dirfd, const char *path, size_t max_size, char **ret, size_t *ret_size);
/* The same from an open fd, from its offset to its end (a pipe too). */
int read_fd_full(int fd, size_t max_size, char **ret, size_t *ret_size);

/* Write a file so that readers see the old content or the new, never a mix: a temporary file in
 * the same directory, fsync, rename over the target, fsync of the directory. The temporary is an
 * O_TMPFILE inode (or a random name made with O_EXCL) that has the final mode before the first byte
 * is written, so nobody who can write the directory can have prepared it and read the content. */
int write_file_atomic(int dirfd, const char *path, const void *data, size_t size, mode_t mode);

/* fsync the directory holding path (relative to dirfd). */
int fsync_parent_dir(int dirfd, const char *path);

/* mkdir -p relative to dirfd. */
int mkdir_parents_at(int dirfd, const char *path, mode_t mode);
/* mkdir -p of the directory that holds path (nothing when path has no '/'). */
int mkdir_parents_of(int dirfd, const char *path, mode_t mode);

/* Create a new file (O_EXCL, mode 0600) under "<path>.tmp.<random>", to be published with
 * publish_tmpfile(). */
int open_tmpfile_for(const char *path, char **ret_tmppath);
int publish_tmpfile(const char *tmppath, const char *path);

/* Open top/rel without following a symlink anywhere in rel and without leaving top (".." is
 * -EXDEV, a symlink -ELOOP): for files on a medium someone else wrote. flags as for open(2). */
int open_beneath(const char *top, const char *rel, int flags);

/* A DIR stream over a duplicate of dirfd, so the caller keeps (and still closes) its own fd. */
int opendir_dup(int dirfd, DIR **ret);

/* Copy everything from in (at its offset) to out, to the end of in: copy_file_range() where the
 * kernel and filesystems allow it, read/write otherwise. 0 or -errno. */
int copy_bytes(int in, int out);

/* pread of up to n bytes at off, stopping only at the end of the file (EINTR retried): *ret_got. */
int pread_full(int fd, void *buf, size_t n, uint64_t off, size_t *ret_got);
/* pread/pwrite of exactly n bytes at off (EINTR retried); a short read (end of file) is -EIO. */
int pread_exact(int fd, void *buf, size_t n, uint64_t off);
int pwrite_exact(int fd, const void *buf, size_t n, uint64_t off);

/* Bytes an unprivileged writer may still use on path's filesystem (statvfs f_bavail). */
int fs_available(const char *path, uint64_t *ret);
