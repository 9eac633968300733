/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "log.h"
#include "tree-split.h"
#include "util.h"

static unsigned mount_depth(const char *m) {
        unsigned d = 0;
        for (; *m; m++)
                d += *m == '/';
        return d;
}

static int copy_times(const char *path, const struct stat *st) {
        const struct timespec ts[2] = { st->st_atim, st->st_mtim };
        return RET_NERRNO(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW));
}

/* Move path aside and leave an empty directory like it; the parent keeps its times, so the
 * root filesystem sees the tree as it was. */
static int split_one(const char *path, const char *aside) {
        _cleanup_free_ char *parent = strdup(path);
        struct stat st, pst;

        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0;
        if (lstat(path, &st) < 0)
                return -errno;
        if (!S_ISDIR(st.st_mode))
                return -ENOTDIR;
        if (lstat(parent, &pst) < 0)
                return -errno;
        if (rename(path, aside) < 0)
                return -errno;
        if (mkdir(path, st.st_mode & 07777) < 0 || lchown(path, st.st_uid, st.st_gid) < 0 ||
            chmod(path, st.st_mode & 07777) < 0 || copy_times(path, &st) < 0 || copy_times(parent, &pst) < 0) {
                int r = -errno;
                (void) rmdir(path);
                (void) rename(aside, path);
                return r;
        }
        return 0;
}

static int unsplit_one(const struct tree_split *s) {
        _cleanup_free_ char *parent = strdup(s->path);
        struct stat pst;

        if (!parent)
                return -ENOMEM;
        *strrchr(parent, '/') = 0;
        bool have_times = lstat(parent, &pst) == 0;
        if (rmdir(s->path) < 0 && errno != ENOENT)
                return -errno;
        if (rename(s->aside, s->path) < 0)
                return -errno;
        if (have_times)
                (void) copy_times(parent, &pst);
        return 0;
}

int tree_unsplit(struct tree_splits *s) {
        int r = 0;
        /* Shallowest last in, first out: /var comes back before /var/tmp goes into it. */
        for (size_t i = s->n; i > 0; i--) {
                struct tree_split *t = &s->items[i - 1];
                int k = unsplit_one(t);
                if (k < 0 && r == 0) {
                        log_error_errno(k, "Failed to move '%s' back to '%s': %m", t->aside, t->path);
                        r = k;
                }
                free(t->path);
                free(t->aside);
        }
        free(s->items);
        *s = (struct tree_splits) {};
        return r;
}

const char *tree_split_source(const struct tree_splits *s, const struct image_part *part) {
        for (size_t i = 0; i < s->n; i++)
                if (s->items[i].part == part)
                        return s->items[i].aside;
        return NULL;
}

int tree_split(const char *tree, const struct image_layout *l, const struct image_part *root,
               struct tree_splits *ret) {
        _cleanup_(tree_unsplit) struct tree_splits s = {};
        int r;

        s.items = calloc(l->n_parts, sizeof(struct tree_split));
        if (!s.items)
                return -ENOMEM;
        for (unsigned depth = 64; depth > 0; depth--)
                for (size_t i = 0; i < l->n_parts; i++) {
                        const struct image_part *p = &l->parts[i];
                        if (p == root || p->fs != FS_EXT4 || !p->mount || streq(p->mount, "/") ||
                            mount_depth(p->mount) != depth)
                                continue;
                        _cleanup_free_ char *path = strprintf("%s%s", tree, p->mount);
                        _cleanup_free_ char *aside = strprintf("%s.split-%s", tree, p->name);
                        if (!path || !aside)
                                return -ENOMEM;
                        r = split_one(path, aside);
                        if (r < 0)
                                return log_error_errno(r, "Failed to move '%s' aside for its own partition: %m",
                                                       path);
                        s.items[s.n++] = (struct tree_split) { p, TAKE_PTR(path), TAKE_PTR(aside) };
                }
        *ret = s;
        s = (struct tree_splits) {};
        return 0;
}
