/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* An initramfs written in-process: cpio "newc" compressed with zstd (gzip where libarchive has no
 * zstd), the formats the kernel unpacks (research/lab-boot.md §1). Every entry is root-owned with
 * one mtime; parent directories are added before their first child, as the kernel's unpacker
 * creates nothing implicitly. */

struct initrd_writer {
        struct archive *a;
        int64_t mtime;
        unsigned ino;
        char **dirs; /* directories already written */
        const char *filter; /* "zstd" or "gzip" */
};

int initrd_writer_open(const char *path, int64_t mtime, struct initrd_writer *ret);
int initrd_add_dir(struct initrd_writer *w, const char *name, mode_t mode);
int initrd_add_data(struct initrd_writer *w, const char *name, const void *data, size_t size, mode_t mode);
int initrd_add_symlink(struct initrd_writer *w, const char *name, const char *target);
int initrd_add_chrdev(struct initrd_writer *w, const char *name, mode_t mode, unsigned major, unsigned minor);
/* Finish the archive (trailer, compressor flush); the file is complete only when this returns 0. */
int initrd_writer_close(struct initrd_writer *w);
void initrd_writer_done(struct initrd_writer *w);

/* A whole file from fd, decompressed when it is xz, zstd or gzip (kernel modules shipped as
 * .ko.xz or .ko.zst are stored uncompressed in the initrd, so busybox insmod can load them). */
int read_fd_decompressed(int fd, size_t max_size, char **ret, size_t *ret_size);
