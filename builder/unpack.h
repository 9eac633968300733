/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Tarballs in and out of a root tree with libarchive, keeping what a root filesystem needs:
 * numeric owners (never the build host's names), modes with setuid bits, times, xattrs
 * (security.capability), ACLs, file flags, device nodes and hard links. */

/* Extract tar_path into dest_dir (which must exist). If expected_sha256 is given, the tarball is
 * hashed as it is read and -EBADMSG returned when it does not match (the tree is then partial:
 * the caller removes it). ret_bytes (optional) gets the sum of the file sizes extracted. */
int unpack_tarball(const char *tar_path, const char *dest_dir, const char *expected_sha256, uint64_t *ret_bytes);

/* Write src_dir as an uncompressed pax tarball to fd, entries named "./PATH". Mount points
 * below src_dir are not crossed. */
int pack_tree(const char *src_dir, int fd, uint64_t *ret_bytes);
