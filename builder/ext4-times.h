/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* e2fsprogs 1.47.0 (Debian 12) copies each source file's ctime (and atime) into the inodes it makes
 * with `mke2fs -d`, and no program can set a ctime. Two builds of the same tree therefore differ in
 * every inode. 1.47.1 clamps to SOURCE_DATE_EPOCH itself; for 1.47.0 a debugfs pass sets ctime,
 * atime and crtime of every inode in use to the epoch after mke2fs ran (measured: ~0.3 s for a
 * 26 000-inode root). */

/* The debugfs script ("sif <INO> ctime @EPOCH" ...) for every inode in use, from the text of
 * `dumpe2fs` (its "Inodes per group:" header and the "Free inodes:" line of each group). Pure.
 * -EBADMSG if the text is not dumpe2fs output. *ret_n gets the number of inodes. */
int ext4_times_script(const char *dumpe2fs_text, int64_t epoch, char **ret_script, unsigned *ret_n);

/* Run that pass on the ext4 at byte offset `offset` of `image` (dumpe2fs, then debugfs -w). */
int ext4_pin_times(const char *image, uint64_t offset, int64_t epoch);

/* Run a debugfs -w script on dev ("IMAGE?offset=N"), with env ("K=V", NULL-terminated, or NULL)
 * added. debugfs exits 0 when a command fails: any line on its stderr besides its banner is a
 * failure (logged with those lines): -EPROTO. */
int ext4_debugfs_run(const char *dev, const char *script, const char *const *env);
