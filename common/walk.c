/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"
#include "walk.h"

struct walk {
        unsigned flags, max_depth;
        walk_fn fn;
        void *userdata;
};

static int name_cmp(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The names in dirfd but . and .., read in full before any is visited: a callback may remove
 * entries, or add some, without upsetting readdir. */
static int read_names(int dirfd, bool sorted, char ***ret) {
        _cleanup_closedir_ DIR *d = NULL;
        int r = opendir_dup(dirfd, &d);
        if (r < 0)
                return r;
        rewinddir(d); /* the duplicate shares the offset of a caller's fd that was read before */
        _cleanup_strv_free_ char **names = NULL;
        size_t n = 0, allocated = 0;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (n + 2 > allocated) {
                        size_t want = MAX(allocated * 2, (size_t) 16);
                        char **l = realloc(names, want * sizeof(char *));
                        if (!l)
                                return -ENOMEM;
                        names = l;
                        allocated = want;
                }
                names[n] = strdup(de->d_name);
                if (!names[n])
                        return -ENOMEM;
                names[++n] = NULL;
        }
        if (errno)
                return -errno;
        if (sorted && n > 1)
                qsort(names, n, sizeof(char *), name_cmp);
        *ret = TAKE_PTR(names);
        return 0;
}

static int walk_dir(const struct walk *w, int dirfd, const char *prefix, unsigned depth);

static int walk_one(const struct walk *w, int dirfd, const char *prefix, const char *name, unsigned depth) {
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return (w->flags & WALK_STAT_SKIP) ? 0 : -errno;
        _cleanup_free_ char *path = NULL;
        if (w->flags & WALK_PATHS) {
                path = prefix ? strprintf("%s/%s", prefix, name) : strdup(name);
                if (!path)
                        return -ENOMEM;
        }
        struct walk_entry e = { .dirfd = dirfd, .name = name, .path = path, .st = &st, .depth = depth };
        if (!S_ISDIR(st.st_mode))
                return w->fn(WALK_FILE, &e, w->userdata);
        int r = w->fn(WALK_ENTER, &e, w->userdata);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_close_ int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (sub < 0)
                return -errno;
        r = walk_dir(w, sub, path, depth + 1);
        if (r < 0)
                return r;
        return w->fn(WALK_LEAVE, &e, w->userdata);
}

static int walk_dir(const struct walk *w, int dirfd, const char *prefix, unsigned depth) {
        if (depth > w->max_depth)
                return -ELOOP;
        _cleanup_strv_free_ char **names = NULL;
        int r = read_names(dirfd, w->flags & WALK_SORTED, &names);
        if (r < 0)
                return r;
        for (char **n = names; n && *n; n++) {
                r = walk_one(w, dirfd, prefix, *n, depth);
                if (r < 0)
                        return r;
        }
        return 0;
}

int walk_tree(int dirfd, unsigned flags, unsigned max_depth, walk_fn fn, void *userdata) {
        const struct walk w = { .flags = flags, .max_depth = max_depth, .fn = fn, .userdata = userdata };
        return walk_dir(&w, dirfd, NULL, 0);
}

/* Each entry after what it holds (a directory on WALK_LEAVE); the first error is kept, the walk goes on. */
static int remove_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        int *first = userdata;
        if (ev != WALK_ENTER && unlinkat(e->dirfd, e->name, ev == WALK_LEAVE ? AT_REMOVEDIR : 0) < 0 && *first == 0)
                *first = -errno;
        return 0;
}

int walk_remove_tree(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                if (errno != ENOTDIR && errno != ELOOP)
                        return -errno;
                return unlink(path) < 0 ? -errno : 0;
        }
        int first = 0;
        int r = walk_tree(fd, WALK_STAT_SKIP, 256, remove_visit, &first);
        if (r < 0 && first == 0)
                first = r;
        if (rmdir(path) < 0 && first == 0)
                first = -errno;
        return first;
}
