/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "install-plan.h"

/* Where the installer reads from: a directory (the mounted medium) or an http:// URL prefix. */
struct install_source {
        const char *base;
        bool http;
};

/* A small file off the source (SHA256SUMS, its signature, ks.cfg): -ENOENT if it is not there. */
int install_source_read(const struct install_source *s, const char *name, size_t max, char **ret, size_t *ret_size);
/* The first bytes of the image (for its zstd frame header); a file source only, -EOPNOTSUPP else. */
int install_source_peek(const struct install_source *s, const char *name, void *buf, size_t n, size_t *ret_n);

struct install_stats {
        uint64_t compressed;  /* bytes read from the source */
        uint64_t written;     /* raw bytes that reached the disk: data + zeroed */
        uint64_t zeroed;      /* of those, ranges zeroed with BLKZEROOUT/fallocate instead of written */
        double seconds;       /* from the first byte read to the final fsync */
        const char *filter;   /* "zstd", "gzip", "none" (static) */
};

/* Stream the plan's image from s onto the open target fd (its size target_size): hash the
 * compressed bytes (and the raw ones when SHA256SUMS lists them), decompress with libarchive,
 * write. Progress lines go to stdout when progress is set. On any failure after the first write
 * (a hash mismatch included, -EBADMSG), the disk is made unbootable: its first and last MiB and the
 * MiB where the image ended are zeroed. */
int install_stream(const struct install_plan *p, const struct install_source *s, int fd, uint64_t target_size,
                   bool progress, struct install_stats *ret);

/* Zero the first and last MiB of the disk, and the MiB before end_hint if non-zero. */
int install_wipe_ends(int fd, uint64_t size, uint64_t end_hint);

/* Copy the kickstart to KS_INSTALLED_PATH (0600) inside the installed root filesystem: the GPT's
 * root partition (root-x86-64 type, or named "root") is attached through a loop device at its
 * offset, mounted under a temporary directory, written, unmounted. */
int install_copy_ks(const char *devnode, uint32_t ss, const char *ks_path);

/* The image.json (IMAGE_IDENTITY_INSTALLED) of the system already installed on the GPT disk at
 * devnode, read from its root partition mounted read-only: -ENXIO when the disk has no GPT root
 * partition, -ENOENT when that root carries no image.json (a build from before images carried
 * their identity, or not ours), another negative errno when it cannot be read. */
int install_read_installed(const char *devnode, uint32_t ss, char **ret, size_t *ret_size);

/* What system the disk at devnode holds: *ret_id from its root's image.json, or (role NULL)
 * *ret_unknown saying why there is none to compare. -ENOMEM only. */
struct image_identity;
int install_identify_installed(const char *devnode, uint32_t ss, struct image_identity *ret_id, char **ret_unknown);
