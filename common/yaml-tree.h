/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

/* A YAML document as a tree of nodes that remember where they came from (file, line, column), so
 * that every later error and every value shown by `rackstack-build show` can point at its source.
 * Anchors, aliases, tags, duplicate keys, non-scalar keys and multi-document streams are refused:
 * our files are configuration, not a serialisation format. */

enum ynode_type { YNODE_SCALAR, YNODE_SEQ, YNODE_MAP };

struct ynode;
struct ypair {
        struct ynode *key; /* always a scalar */
        struct ynode *value;
};

struct ynode {
        enum ynode_type type;
        char *file;
        unsigned line, col; /* 1-based */
        char *scalar;       /* SCALAR: the text */
        bool quoted;        /* SCALAR: written in quotes, so it is a string whatever it looks like */
        struct ynode **items; /* SEQ */
        struct ypair *pairs;  /* MAP */
        size_t n;
};

/* Parse; on a syntax error adds a diagnostic and returns -EINVAL. An empty document yields an
 * empty mapping. */
int yaml_load_file(const char *path, struct diags *d, struct ynode **ret);
int yaml_load_buffer(const char *name, const char *data, size_t size, struct diags *d, struct ynode **ret);

struct ynode *ynode_free(struct ynode *n);
struct ynode *ynode_copy(const struct ynode *n);
static inline void ynode_freep(struct ynode **n) {
        ynode_free(*n);
}

/* MAP lookup; NULL if absent or n is not a map. */
struct ynode *ynode_get(const struct ynode *n, const char *key);
/* Scalar text of a map entry, or NULL. */
const char *ynode_get_scalar(const struct ynode *n, const char *key);

/* Inheritance: a new tree of base with overlay laid on. Maps merge key by key; sequences whose
 * items are all maps with a "name" merge item by item on that name; other sequences append;
 * anything else is replaced by the overlay. Nodes keep the location they came from. */
struct ynode *ynode_merge(const struct ynode *base, const struct ynode *overlay);

const char *ynode_type_name(enum ynode_type t);

/* Write the tree back as block-style YAML that yaml_load_* reads to the same tree (locations
 * aside). Top-level keys listed in skip_keys (NULL-terminated, may be NULL) are left out. */
int yaml_dump(const struct ynode *n, const char *const *skip_keys, char **ret);
