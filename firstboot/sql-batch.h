/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Fewer round trips for a long SQL script fed to psql: Zabbix's schema is ~175,000 statements, and
 * psql sends each on its own and waits for its answer. Between two TCG guests that wait is what the
 * import costs (lab-comm1's import into lab-db1 ran over 33 min and did not finish; the same import
 * on the host takes 14 s). psql's "\;" appends a semicolon to its query buffer without sending, so
 * a terminator written as "\;" joins its statement to the next one; every per_batch-th statement
 * (or the first past max_bytes) keeps its plain ";" and psql sends the batch as one query.
 *
 * The text psql sends is the same either way, only cut in fewer messages: the one thing that can go
 * wrong is a ";" taken for a terminator where it is not one, so the scanner follows PostgreSQL's
 * lexical rules for everything that can hold a ";": '...' ('' inside), E'...' (backslash escapes
 * too), "...", $tag$...$tag$, -- comments and nested block comments. A ";" inside parentheses is
 * not psql's terminator either; it is left alone. The scanner is fed in pieces of any size and the
 * output does not depend on where the pieces are cut. */

struct sql_batch {
        unsigned per_batch;   /* statements per query sent (>= 1) */
        size_t max_bytes;     /* and a query ends once it is this long */
        /* scanner state, zero-initialised by sql_batch_init */
        int mode;
        unsigned comment_depth;
        unsigned paren_depth;
        char prev;            /* the previous character in normal text ('\0' at the start) */
        char prev2;           /* and the one before it: "E'" is an escape string, "xE'" is not */
        bool star_pending;    /* in a block comment, the last character was '*' */
        bool slash_pending;   /* in a block comment, the last character was '/' */
        char tag[64];         /* $tag$ being read or matched (without the dollars) */
        size_t tag_len, match;
        unsigned in_batch;    /* statements joined into the current query */
        size_t batch_bytes;
        size_t statements;    /* terminators seen */
};

void sql_batch_init(struct sql_batch *s, unsigned per_batch, size_t max_bytes);

/* Appends the rewritten text of in[0..n) to out. */
void sql_batch_feed(struct sql_batch *s, const char *in, size_t n, struct buf *out);

/* True when the input ended inside a quote or comment (psql then fails on it as it would on the
 * original: nothing of ours made that). */
bool sql_batch_unterminated(const struct sql_batch *s);

/* `rackstack-firstboot zabbix sql-batch`: standard input to standard output. */
int sql_batch_filter(int in_fd, int out_fd, unsigned per_batch, size_t max_bytes);
