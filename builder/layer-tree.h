/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "build.h"
#include "rootfs.h"

/* A cached layer in unpacked form, next to its tarball:
 *         CACHE/layer/KEY.tree          the tarball's tree (published by rename when complete)
 * A warm build mounts it read-only as the lower directory of an overlay at ctx->tree_dir; what
 * the build changes (overlays, firstboot, hygiene, boot config) goes to an upper directory in the
 * work directory, so the cached tree is never written and a warm build no longer unpacks 1 GiB.
 * The overlay lives in the build's own mount namespace: it goes with the process, however that
 * ends. Where it cannot be used (not root, no overlayfs, RACKSTACK_KEEP_WORK=1, which keeps the
 * tree for inspection after the process), the callers unpack the tarball as before. */

/* Mount e's tree (made from e's tarball first if missing) at ctx->tree_dir. On success the
 * entry's shared lock is kept until layer_tree_release() (a newer entry cannot remove the tree
 * while it is mounted) and *e is emptied. -EOPNOTSUPP: not usable here, e untouched. */
int layer_tree_mount(struct build_ctx *ctx, struct cache_entry *e);

/* After a cold layer build: move the finished tree (ctx->tree_dir) into the cache as e's tree
 * and mount it as above, so the next build of the role starts warm. Same return convention. */
int layer_tree_adopt(struct build_ctx *ctx, struct cache_entry *e);

/* Unmount the overlay (if any) and let go of the entry: before the work tree is removed. Safe to
 * call more than once. */
void layer_tree_release(struct build_ctx *ctx);

/* Remove KEY.tree of an entry being dropped (the caller holds its lock exclusively). */
void layer_tree_remove(const char *tar_path);
