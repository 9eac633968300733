/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The step journal (/var/lib/rackstack/journal under --root): every step that changes a disk or a
 * file is recorded before it runs ("started") and after ("done"), and each record is made durable
 * before the step goes on: the whole journal is rewritten to a temporary file, fsync'd, renamed
 * over the old one and its directory fsync'd. A power loss therefore leaves either the old journal
 * or the new, never half a record.
 *
 * Step ids are single words: "label:<disk-id>", "part:<disk-id>:<n>", "mkfs:<partuuid>", "fstab",
 * "mount:<path>", "disk:<disk-id>" (every step on that disk done), "grow:<disk-id>:<n>".
 * A record's detail is free text of key=value words ("ptuuid=…", "uuid=…"). */

#define JOURNAL_PATH "var/lib/rackstack/journal"

enum journal_state { JOURNAL_STARTED, JOURNAL_DONE };

struct journal_rec {
        enum journal_state state;
        char *step;
        char *detail; /* may be NULL */
};

struct journal {
        int dirfd;  /* the root directory; borrowed */
        char *path; /* relative to dirfd */
        struct journal_rec *recs;
        size_t n;
};

/* Load the journal at path (relative to dirfd; JOURNAL_PATH if NULL), creating nothing yet. A
 * missing journal is an empty one; a malformed line is -EBADMSG. */
int journal_open(int dirfd, const char *path, struct journal **ret);
struct journal *journal_free(struct journal *j);
static inline void journal_freep(struct journal **j) {
        journal_free(*j);
}

int journal_begin(struct journal *j, const char *step, const char *detail);
int journal_done(struct journal *j, const char *step, const char *detail);

/* The latest record of a step, or NULL if it never started. */
const struct journal_rec *journal_find(const struct journal *j, const char *step);
bool journal_is_done(const struct journal *j, const char *step);
/* The value of key in the latest record of step ("ptuuid" in "ptuuid=… x=y"), newly allocated, or
 * NULL if absent. Looks at the done record first, then the started one. */
char *journal_get(const struct journal *j, const char *step, const char *key);

/* Test-only fault switch: RACKSTACK_FAULT="<when>:<step-prefix>" with when one of before (started
 * recorded, step not run), after (step run, done not recorded) or done (done recorded) kills the
 * process with SIGKILL at that point, as a power loss would. */
void journal_fault_point(const char *when, const char *step);
