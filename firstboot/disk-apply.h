/* SPDX-License-Identifier: MIT */
#pragma once

#include "disk-plan.h"
#include "journal.h"
#include "status.h"

/* The only code that writes disks: it carries out a plan that disk_plan_ok() accepted.
 *
 * Every step is journalled before and after it runs and is verify-or-do: a step the journal says is
 * done is skipped (a finished label is never rewritten, a finished mkfs never redone); a step that
 * started but did not finish is checked against the disk and finished. Labels and partitions are
 * written with libparted, filesystems by mkfs.* run with an argv (no shell), fstab entries by UUID
 * through write_file_atomic(), mounts with mount(2). Afterwards the disks are read back and compared
 * with the plan. */

struct apply_context {
        int root_fd;          /* --root, for fstab (and the journal) */
        const char *root;     /* the same as a path, for mount targets */
        struct journal *journal;
        struct status *status;
        bool no_mount;        /* write fstab but mount nothing */
};

/* A loop device over [offset, offset+size) of backing_fd, detaching itself when its last user closes
 * it (LO_FLAGS_AUTOCLEAR): how a partition is reached on hosts that make no partition nodes. */
int loop_attach_fd(int backing_fd, uint64_t offset, uint64_t size, int *ret_fd, char **ret_node);

int disk_apply(const struct disk_plan *p, const struct disk_set *s, struct apply_context *c);

/* Read the planned disks back and list every difference from the plan (empty list: they match). */
int disk_verify(const struct disk_plan *p, const struct disk_set *s, char ***ret_problems);

/* What the journal says earlier runs did to which disk, for the planner. */
int storage_claims_from_journal(const struct journal *j, struct storage_claim **ret, size_t *ret_n);
void storage_claims_free(struct storage_claim *c, size_t n);
