/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Room in the build cache, taken back from what no build is using.
 *
 * An entry (CACHE/rootfs/KEY or CACHE/layer/KEY) is its tarball and sum, and for a layer the copies
 * made from the tarball to speed up later builds: KEY.tree (the unpacked tree the overlay mounts)
 * and KEY.ext4-H (the layer's filesystem, ext4-delta.h). Those copies are remade from the tarball
 * in a minute; the tarball takes a cold build (mmdebstrap and apt: ten minutes). So room is taken
 * back in that order: every copy first, least recently used first, then whole entries, least
 * recently used first. An entry a build holds (its lock taken shared) is never touched: the apply
 * step takes each entry's lock exclusively without waiting, and passes over it when it cannot. */

enum reclaim_kind {
        RECLAIM_COPIES, /* KEY.tree and KEY.ext4-*: the tarball stays */
        RECLAIM_ENTRY,  /* the tarball and its sum, with its copies */
};

struct cache_item {
        char *kind;             /* "rootfs" or "layer" */
        char *key;              /* 64 hex digits */
        uint64_t tar_bytes;     /* allocated: KEY.tar and its sum, 0 when the tarball's bytes are
                                 * shared with another entry (a layer that is its base: a hard link) */
        uint64_t copy_bytes;    /* allocated: KEY.tree and KEY.ext4-* */
        bool has_tar, has_copies;
        bool busy;              /* a build held it when the cache was scanned: never planned */
        time_t last_used;       /* KEY.lock's mtime: a build touches it when it takes the entry */
};

struct reclaim_step {
        size_t item;            /* index into the items */
        enum reclaim_kind what;
        uint64_t bytes;         /* what it frees, as measured */
};

struct reclaim_plan {
        struct reclaim_step *steps;
        size_t n_steps;
        uint64_t bytes;         /* the steps' sum */
};

/* The steps, in the order above, until they free at least `want` bytes (all candidates when they
 * free less); busy items are passed over. copies_only: whole entries are never planned. Ties in last use go to the larger
 * first, then by kind and key, so a plan is the same for the same cache. Pure. */
int reclaim_plan_make(const struct cache_item *items, size_t n, uint64_t want, bool copies_only,
                      struct reclaim_plan *ret);
void reclaim_plan_done(struct reclaim_plan *p);

/* Every entry under CACHE/rootfs and CACHE/layer, measured (a tree walk per unpacked tree), and
 * whether a build holds it now, sorted by kind and key. A cache directory that does not exist has
 * none. */
int cache_scan(const char *cache_dir, struct cache_item **ret_items, size_t *ret_n);
void cache_items_free(struct cache_item *items, size_t n);

/* Carry the plan out: each step under the entry's exclusive lock, taken without waiting (an entry a
 * build took since the scan is passed over, and named in the notes). With stop_when_free > 0 it stops as soon as the
 * cache's filesystem has that many bytes available. Each removal is a stage note. The bytes the
 * steps done freed (as measured by the scan) go to *ret_freed, the steps passed over to *ret_busy. */
int reclaim_apply(const char *cache_dir, const struct cache_item *items, const struct reclaim_plan *p,
                  uint64_t stop_when_free, uint64_t *ret_freed, size_t *ret_busy);

/* A build's automatic reclaim: when fewer than keep_free bytes are available in the cache, copies
 * and then whole entries no build is using go, least recently used first, until keep_free are (or
 * nothing more can go). 0: nothing was needed or done; >0: something was removed. */
int cache_reclaim_for_build(const char *cache_dir, uint64_t keep_free);
