/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>

/* One recursive directory walk for both programs, in the spirit of systemd's recurse_dir(): the
 * entries below a directory fd, depth-first, each lstat()ed and handed to a callback. No symlink is
 * followed; mount points are crossed (a callback that must not cross compares st_dev). */

enum walk_event {
        WALK_FILE,  /* an entry that is not a directory */
        WALK_ENTER, /* a directory, before its entries: the callback may return WALK_SKIP */
        WALK_LEAVE, /* a directory, after its entries (not after a WALK_SKIP) */
};

/* Returned by a callback on WALK_ENTER: neither the directory's entries nor its WALK_LEAVE. */
#define WALK_SKIP 1

enum walk_flags {
        WALK_PATHS = 1 << 0,     /* fill in walk_entry.path */
        WALK_SORTED = 1 << 1,    /* a directory's entries in strcmp() order (else the order readdir gives) */
        WALK_STAT_SKIP = 1 << 2, /* pass over an entry that cannot be stat'ed (else that ends the walk) */
};

struct walk_entry {
        int dirfd;             /* the directory that holds the entry */
        const char *name;      /* the entry's name in dirfd */
        const char *path;      /* relative to the top ("etc/ssh/sshd_config"), with WALK_PATHS; else NULL */
        const struct stat *st; /* its lstat() */
        unsigned depth;        /* 0 for the top's own entries */
};

/* < 0 ends the walk with that value; 0 goes on; WALK_SKIP (on WALK_ENTER) leaves the directory out. */
typedef int (*walk_fn)(enum walk_event ev, const struct walk_entry *e, void *userdata);

/* Walks everything below dirfd (not dirfd itself), at most max_depth directories down from it
 * (deeper is -ELOOP). 0, a callback's negative return, or -errno. */
int walk_tree(int dirfd, unsigned flags, unsigned max_depth, walk_fn fn, void *userdata);

/* rm -rf without the fork: path and everything below it, no symlink followed (a link is removed,
 * not what it points at), mount points crossed. Goes on past an entry it cannot remove and returns
 * the first error, 0 when all is gone (also when path did not exist). For scratch directories. */
int walk_remove_tree(const char *path);
