/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache-reclaim.h"
#include "cleanup.h"
#include "fileio.h"
#include "layer-tree.h"
#include "mkfs.h"
#include "parse.h"
#include "progress.h"
#include "util.h"

static const char *const kinds[] = { "rootfs", "layer" };

void cache_items_free(struct cache_item *items, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(items[i].kind);
                free(items[i].key);
        }
        free(items);
}

void reclaim_plan_done(struct reclaim_plan *p) {
        free(p->steps);
        *p = (struct reclaim_plan) {};
}

/* Oldest use first; among equals the larger first, then kind and key: the same cache, the same plan. */
static const struct cache_item *sort_items;
static enum reclaim_kind sort_what;

static uint64_t step_bytes(const struct cache_item *it, enum reclaim_kind what) {
        return what == RECLAIM_COPIES ? it->copy_bytes : it->tar_bytes;
}

static int step_cmp(const void *a, const void *b) {
        const struct cache_item *x = &sort_items[*(const size_t *) a], *y = &sort_items[*(const size_t *) b];
        if (x->last_used != y->last_used)
                return x->last_used < y->last_used ? -1 : 1;
        uint64_t bx = step_bytes(x, sort_what), by = step_bytes(y, sort_what);
        if (bx != by)
                return bx > by ? -1 : 1;
        int c = strcmp(x->kind, y->kind);
        return c ? c : strcmp(x->key, y->key);
}

int reclaim_plan_make(const struct cache_item *items, size_t n, uint64_t want, bool copies_only,
                      struct reclaim_plan *ret) {
        _cleanup_free_ size_t *order = n ? calloc(n, sizeof *order) : NULL;
        _cleanup_free_ struct reclaim_step *steps = n ? calloc(2 * n, sizeof *steps) : NULL;
        if (n && (!order || !steps))
                return -ENOMEM;
        size_t n_steps = 0;
        uint64_t sum = 0;
        for (enum reclaim_kind what = RECLAIM_COPIES; what <= RECLAIM_ENTRY && sum < want; what++) {
                if (what == RECLAIM_ENTRY && copies_only)
                        break;
                size_t m = 0;
                for (size_t i = 0; i < n; i++)
                        if (!items[i].busy && (what == RECLAIM_COPIES ? items[i].has_copies : items[i].has_tar))
                                order[m++] = i;
                sort_items = items;
                sort_what = what;
                if (m)
                        qsort(order, m, sizeof *order, step_cmp);
                for (size_t j = 0; j < m && sum < want; j++) {
                        uint64_t b = step_bytes(&items[order[j]], what);
                        steps[n_steps++] = (struct reclaim_step) { .item = order[j], .what = what, .bytes = b };
                        sum += b;
                }
        }
        *ret = (struct reclaim_plan) { .steps = TAKE_PTR(steps), .n_steps = n_steps, .bytes = sum };
        return 0;
}

/* ---- the cache as it is on disk ---------------------------------------------------------------- */

static bool is_key(const char *s) {
        return strspn(s, "0123456789abcdef") >= 64;
}

/* Allocated bytes of a file, shared evenly among its links: a layer that is its base as it is (one
 * tarball, two names) is counted once across the two. */
static uint64_t file_bytes(const struct stat *st) {
        return (uint64_t) st->st_blocks * 512 / (st->st_nlink ? st->st_nlink : 1);
}

static struct cache_item *item_get(struct cache_item **items, size_t *n, const char *kind, const char *key) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*items)[i].kind, kind) && strneq((*items)[i].key, key, 64))
                        return &(*items)[i];
        struct cache_item *a = realloc(*items, (*n + 1) * sizeof **items);
        if (!a)
                return NULL;
        *items = a;
        struct cache_item *it = &a[*n];
        *it = (struct cache_item) { .kind = strdup(kind), .key = strndup(key, 64) };
        if (!it->kind || !it->key) {
                free(it->kind);
                free(it->key);
                return NULL;
        }
        (*n)++;
        return it;
}

static int scan_kind(const char *cache_dir, const char *kind, struct cache_item **items, size_t *n) {
        _cleanup_free_ char *dir = strprintf("%s/%s", cache_dir, kind);
        if (!dir)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return errno == ENOENT ? 0 : -errno;
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *name = de->d_name, *suffix = name + 64;
                if (!is_key(name) || *suffix != '.')
                        continue;
                bool tar = streq(suffix, ".tar"), sum = streq(suffix, ".tar.sha256"), tree = streq(suffix, ".tree"),
                     ext4 = startswith(suffix, ".ext4-");
                if (!tar && !sum && !tree && !ext4)
                        continue; /* .lock (read below), .latest, a killed build's KEY.tar.tmp.PID */
                struct stat st;
                if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue; /* removed meanwhile */
                struct cache_item *it = item_get(items, n, kind, name);
                if (!it)
                        return -ENOMEM;
                if (tar) {
                        it->has_tar = true;
                        it->tar_bytes += file_bytes(&st);
                        if (!it->last_used)
                                it->last_used = st.st_mtime;
                } else if (sum)
                        it->tar_bytes += file_bytes(&st);
                else if (ext4) {
                        it->has_copies = true;
                        it->copy_bytes += file_bytes(&st);
                } else if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *p = strprintf("%s/%s", dir, name);
                        struct tree_measure m;
                        if (!p)
                                return -ENOMEM;
                        it->has_copies = true;
                        if (tree_measure_path(p, &m) >= 0)
                                it->copy_bytes += m.blocks; /* bytes, 4 KiB rounded */
                }
        }
        /* A build touches the entry's lock when it takes it (cache_entry_lock): its time is the last
         * use, unless the tarball is newer (made after the lock was taken). */
        for (size_t i = 0; i < *n; i++) {
                struct cache_item *it = &(*items)[i];
                _cleanup_free_ char *lock = strprintf("%s.lock", it->key);
                struct stat st;
                if (!lock)
                        return -ENOMEM;
                if (streq(it->kind, kind) && fstatat(dirfd(d), lock, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                    st.st_mtime > it->last_used)
                        it->last_used = st.st_mtime;
        }
        return 0;
}

static int item_cmp(const void *a, const void *b) {
        const struct cache_item *x = a, *y = b;
        int c = strcmp(x->kind, y->kind);
        return c ? c : strcmp(x->key, y->key);
}

/* Whether a build holds the entry: its lock cannot be taken exclusively now (an entry without a
 * lock file has no build). */
static bool item_busy(const char *cache_dir, const struct cache_item *it) {
        _cleanup_free_ char *lock = strprintf("%s/%s/%s.lock", cache_dir, it->kind, it->key);
        _cleanup_close_ int fd = lock ? open(lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -EBADF;
        return fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

int cache_scan(const char *cache_dir, struct cache_item **ret_items, size_t *ret_n) {
        struct cache_item *items = NULL;
        size_t n = 0;
        for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                int r = scan_kind(cache_dir, kinds[k], &items, &n);
                if (r < 0) {
                        cache_items_free(items, n);
                        return r;
                }
        }
        for (size_t i = 0; i < n; i++)
                items[i].busy = item_busy(cache_dir, &items[i]);
        if (n)
                qsort(items, n, sizeof *items, item_cmp);
        *ret_items = items;
        *ret_n = n;
        return 0;
}

static char *ago(time_t t) {
        time_t d = time(NULL) - t;
        if (d < 0)
                d = 0;
        return d < 3600 ? strprintf("%ld min ago", (long) d / 60)
               : d < 2 * 86400 ? strprintf("%ld h ago", (long) d / 3600)
                               : strprintf("%ld days ago", (long) d / 86400);
}

int reclaim_apply(const char *cache_dir, const struct cache_item *items, const struct reclaim_plan *p,
                  uint64_t stop_when_free, uint64_t *ret_freed, size_t *ret_busy) {
        uint64_t freed = 0;
        size_t busy = 0;
        for (size_t i = 0; i < p->n_steps; i++) {
                uint64_t avail = 0;
                if (stop_when_free > 0 && fs_available(cache_dir, &avail) >= 0 && avail >= stop_when_free)
                        break;
                const struct reclaim_step *s = &p->steps[i];
                const struct cache_item *it = &items[s->item];
                int r = cache_entry_remove(cache_dir, it->kind, it->key, s->what == RECLAIM_COPIES);
                if (r == -EBUSY) {
                        stage_note("cache", "keeping the %s entry %.12s: a build is using it", it->kind, it->key);
                        busy++;
                        continue;
                }
                if (r < 0)
                        return r;
                _cleanup_free_ char *size = format_size_human(s->bytes), *when = ago(it->last_used);
                if (!size || !when)
                        return -ENOMEM;
                stage_note("cache", "removed %s of the %s entry %.12s (%s, last used %s)",
                           s->what == RECLAIM_ENTRY ? "the whole" : "the unpacked copies", it->kind, it->key, size, when);
                freed += s->bytes;
        }
        *ret_freed = freed;
        *ret_busy = busy;
        return 0;
}

int cache_reclaim_for_build(const char *cache_dir, uint64_t keep_free) {
        uint64_t avail = 0;
        if (keep_free == 0 || fs_available(cache_dir, &avail) < 0 || avail >= keep_free)
                return 0;
        _cleanup_free_ char *have = format_size_human(avail), *keep = format_size_human(keep_free);
        stage_note("cache", "%s free in %s, below the %s a build keeps free there (--cache-keep-free): removing "
                   "what no build is using, least recently used first", strna(have), cache_dir, strna(keep));
        struct cache_item *items = NULL;
        size_t n = 0;
        int r = cache_scan(cache_dir, &items, &n);
        if (r < 0)
                return r;
        struct reclaim_plan p = {};
        uint64_t freed = 0;
        size_t busy = 0, held = 0;
        for (size_t i = 0; i < n; i++)
                if (items[i].busy) {
                        stage_note("cache", "keeping the %s entry %.12s: a build is using it", items[i].kind, items[i].key);
                        held++;
                }
        r = reclaim_plan_make(items, n, keep_free - avail, false, &p);
        if (r >= 0)
                r = reclaim_apply(cache_dir, items, &p, keep_free, &freed, &busy);
        reclaim_plan_done(&p);
        cache_items_free(items, n);
        if (r < 0)
                return r;
        if (fs_available(cache_dir, &avail) >= 0) {
                _cleanup_free_ char *f = format_size_human(freed), *now = format_size_human(avail);
                stage_note("cache", "freed %s; %s free now%s", strna(f), strna(now),
                           busy + held ? " (entries in use by other builds were kept)" : "");
        }
        return freed > 0;
}
