/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "image.h"

/* The root filesystem of a warm build without copying the whole tree again.
 *
 * A warm build's tree is an overlay: the cached layer tree (lower, read-only) and what this build
 * changed (upper: overlays, firstboot, the boot configuration, hygiene's removals as whiteouts).
 * `mke2fs -d` of the merged tree reads and writes the whole ~1 GiB every build. Instead:
 *
 *   1. CACHE/layer/KEY.ext4-<H>: `mke2fs -d` of the lower tree alone, made once per layer entry,
 *      partition size and label (H), next to KEY.tree and removed with it;
 *   2. its data extents are copied into the partition (the raw is a fresh sparse file: holes stay);
 *   3. `tune2fs -U` gives it this image's filesystem UUID (metadata checksums rewritten);
 *   4. one `debugfs -w` script applies the upper directory: whiteouts and opaque directories
 *      remove what the lower tree had, every entry of the upper directory is written anew with
 *      the merged tree's mode, owner, times and extended attributes;
 *   5. `e2fsck -f -p -E discard` checks the result and punches the blocks the removals freed (no
 *      byte of a removed file, e.g. a host key hygiene dropped, stays in the image).
 *
 * Not used, and the caller makes the filesystem with `mke2fs -d` as before, when: a build sets
 * SOURCE_DATE_EPOCH (its bytes must depend on the tree alone), the tree is split into partitions,
 * or the upper directory holds what the script does not express (a renamed lower directory, a
 * hard link, a socket, a name outside [A-Za-z0-9._+,:=@~-]). */

struct ext4_delta_stats {
        unsigned written, removed, xattrs;
        bool cache_made; /* the lower tree's image was made by this build */
        double seconds;
};

/* The debugfs script that turns an ext4 made from `lower` into one of `merged` (the overlay of
 * `upper` on `lower`). xattr_dir: where values for ea_set -f are written (NULL: none may be
 * needed). -EOPNOTSUPP with *ret_reason when the upper directory cannot be expressed. */
int ext4_delta_script(const char *lower, const char *upper, const char *merged, const char *xattr_dir,
                      char **ret_script, struct ext4_delta_stats *stats, char **ret_reason);

/* CACHE/layer/KEY.tree -> CACHE/layer/KEY.ext4-<H> for a partition of this size and label. */
char *ext4_delta_cache_path(const char *lower, uint64_t size, const char *label);

/* Steps 1-5 above into part of raw. -EOPNOTSUPP (*ret_reason says why) before anything is
 * written; any other error may leave the partition written: the caller clears it before making
 * the filesystem another way. */
int ext4_from_layer(const char *raw, const struct image_part *part, const char *label, const char *lower,
                    const char *upper, const char *merged, const char *work_dir, struct ext4_delta_stats *stats,
                    char **ret_reason);
