/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "build.h"

/* The base root filesystem: one mmdebstrap tarball per base, mirror and package set, shared by all
 * nine roles, kept in a content-addressed cache:
 *         CACHE/rootfs/KEY.tar          the tarball (published by rename when complete)
 *         CACHE/rootfs/KEY.tar.sha256   "HEX  KEY.tar", written before the tarball is published
 *         CACHE/rootfs/KEY.lock         flock: builds of the same key wait for each other
 * The role layer uses the same cache under CACHE/layer/. */

/* Bump when anything about how a cached tarball is made changes (hooks, options, layout), so old
 * entries are never taken for new ones. */
#define ROOTFS_FORMAT_VERSION "rackstack-rootfs-3"

extern const struct base_info base_infos[];
extern const size_t n_base_infos;
const struct base_info *base_find(const char *name);

/* The base's package list (kernel, systemd, networking, GRUB binaries, firstboot's runtime
 * libraries ...), sorted. */
int rootfs_packages(const struct base_info *base, char ***ret);

/* sha256 over everything that determines an entry: kind, format version, base, suite, mirror,
 * components, options and the package list (sorted and deduplicated, so order does not matter).
 * parent is the key of the entry this one builds on (NULL for none). Pure. */
char *cache_key(const char *kind, const char *parent, const struct base_info *base, const char *mirror,
                char *const *packages, const char *options);

struct cache_entry {
        char *path;      /* CACHE/KIND/KEY.tar */
        char *sum_path;  /* ...tar.sha256 */
        char *sha256;    /* the stored sum, once present */
        int lock_fd;
};
#define CACHE_ENTRY_INIT { .lock_fd = -1 }

/* Create CACHE/KIND and lock the entry: shared if it is present (any number of builds read it at
 * once), exclusive if not (the caller makes it; other builds wait, with a note, and then find it). */
int cache_entry_lock(const char *cache_dir, const char *kind, const char *key, struct cache_entry *ret);
/* Whether the entry is complete (tarball and sum present); loads e->sha256. */
bool cache_entry_present(struct cache_entry *e);
/* Publish tmp_path as the entry: hash it, write the sum file atomically, rename the tarball. */
int cache_entry_commit(struct cache_entry *e, const char *tmp_path);
/* Publish e as a hard link of the present entry from (the same bytes: a role layer that is its
 * base as it is), with from's sum. -errno without a message when the link cannot be made (the
 * caller writes the tarball instead). */
int cache_entry_link(struct cache_entry *e, const struct cache_entry *from);
/* Remove the entry KIND/KEY (its tarball and sum) and the copies made from it (layer_tree_remove), or
 * only the copies, under its lock taken exclusively without waiting: -EBUSY when a build holds it.
 * >0 when a tarball was removed. */
int cache_entry_remove(const char *cache_dir, const char *kind, const char *key, bool copies_only);
/* Drop a corrupt entry. */
void cache_entry_discard(struct cache_entry *e);
/* Let other builds in (the entry is immutable once published; they may read it concurrently). */
void cache_entry_share(struct cache_entry *e);
void cache_entry_done(struct cache_entry *e);

/* The default cache directory: /var/cache/rackstack as root, else $XDG_CACHE_HOME/rackstack or
 * ~/.cache/rackstack. */
char *cache_dir_default(void);

/* An entry's key: its family (cache_key(): what it is made of, parent left out) with the entry it
 * builds on and the archive state it was made at (NULL: unknown). Pure. */
char *cache_key_at(const char *family, const char *parent, const char *archive);

/* Record KEY as the newest entry of FAMILY (KIND/FAMILY.latest, with ctx->archive_used) and remove
 * the entry it replaces, unless a build holds that one's lock. */
void cache_latest_update(struct build_ctx *ctx, const char *kind, const char *family, const char *key);

/* Compute ctx->rootfs_family and ctx->rootfs_key, once (no network): the family at
 * ctx->archive_state, or with --pin-from or an unreadable archive at the state of the family's
 * newest cached entry (ctx->archive_used). */
int rootfs_ensure_key(struct build_ctx *ctx);

/* Make sure the base tarball for ctx exists in the cache (building it with mmdebstrap if not).
 * On success *e is locked (shared) and present and ctx->rootfs_key is set. With tree_dir (an empty
 * directory), a base built now is built there and its tarball packed from it: *ret_in_tree
 * (optional) says whether tree_dir holds the base (else the caller unpacks *e). */
int rootfs_ensure(struct build_ctx *ctx, const char *tree_dir, struct cache_entry *e, bool *ret_in_tree);

/* Check the mirror answers, once per build (before the first step that needs the network). */
int build_mirror_check(struct build_ctx *ctx);
