/* SPDX-License-Identifier: MIT */
#pragma once

#include "image.h"

/* mke2fs -d copies a whole directory and cannot leave subtrees out. When the OS disk has its own
 * ext4 partition for, say, /var, the tree's var/ is moved aside (a rename next to the tree, so no
 * data is copied) and an empty directory with the same owner, mode and times takes its place while
 * the root filesystem is made; /var's filesystem is then made from the moved directory, and
 * everything is put back. Deeper mount points are split first, so /var/tmp leaves /var before
 * /var leaves the tree. */

struct tree_split {
        const struct image_part *part;
        char *path;  /* TREE/var */
        char *aside; /* TREE.split-<partition name> */
};

struct tree_splits {
        struct tree_split *items;
        size_t n;
};

/* Split off every ext4 partition of l other than root that has a mount point. On failure nothing
 * is left moved. */
int tree_split(const char *tree, const struct image_layout *l, const struct image_part *root,
               struct tree_splits *ret);
/* The directory to populate part's filesystem from, NULL if it was not split off. */
const char *tree_split_source(const struct tree_splits *s, const struct image_part *part);
/* Put everything back; safe to call on an empty set and more than once. */
int tree_unsplit(struct tree_splits *s);
