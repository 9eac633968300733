/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "disk-probe.h"
#include "profile.h"
#include "util.h"

/* The storage planner: a PURE function from the role's disk specs, the host's answers and the
 * probed disks to a plan. It reads nothing and writes nothing, so every decision is unit-tested;
 * disk-apply.c is the only code that acts on a plan.
 *
 * Every probed disk gets a verdict with the reasons behind it (why it matched a role disk, or why
 * not), and every problem that forbids applying the plan is an error string. A plan with errors
 * must not be applied: nothing is written to any disk in that run. */

/* ---- answers: the narrow subset of kickstart the planner needs ------------------------------------
 * The kickstart parser fills its own structs; a small adapter maps them onto these, so the planner
 * never depends on the parser. */

enum size_op { SIZE_OP_ANY, SIZE_OP_GE, SIZE_OP_GT, SIZE_OP_LE, SIZE_OP_LT, SIZE_OP_EQ };

/* %addon "disk NAME key=value…": an alias usable as "part … --ondisk=@NAME", and an assertion.
 * An alias applies to the role disk of the same name, or to the role disk whose partition a
 * "part MOUNT --ondisk=@NAME" line names. */
struct disk_alias {
        char *name;
        unsigned classes;    /* enum disk_class mask; 0 = any */
        unsigned transports; /* enum transport mask; 0 = any */
        enum size_op size_op;
        uint64_t size;       /* bytes */
        uint64_t size_max;   /* bytes; 0 = no upper bound (besides size_op) */
        unsigned count;      /* 0 = not asserted, else exactly this many disks must match */
        bool expect_empty;   /* refuse a disk carrying any signature, even when clearpart names it */
        char *device;        /* pin to a device spec (name, /dev/disk/by-id/…, by-path glob); NULL = match */
};

/* "part MOUNT --ondisk=X": X is "@alias" or a device spec. Device specs in only_use, ignore and
 * clear_drives may be "@alias" too: the disks that fit the alias. */
struct part_pin {
        char *mount;
        char *ondisk;
};

struct storage_answers {
        char **only_use;     /* ignoredisk --only-use: nothing else is visible */
        char **ignore;       /* ignoredisk --drives: these are invisible */
        bool clear_all;      /* clearpart --all: needs clear_drives or only_use */
        char **clear_drives; /* clearpart --drives=…: these may be wiped when the plan uses them */
        struct disk_alias *aliases;
        size_t n_aliases;
        struct part_pin *pins;
        size_t n_pins;
        /* Where the answers that let a disk be written came from, for the plan's "allowed by" line:
         * "ks.cfg:31" for a kickstart line, "--clear" for the command line, "the console" for a
         * confirmation. NULL: not known (tests). */
        char *clear_origin;    /* clearpart --drives / --all */
        char *only_use_origin; /* ignoredisk --only-use (bounds clearpart --all) */
};

void storage_answers_done(struct storage_answers *a);

/* What an earlier run's journal says it did to a disk: such a disk carries our own signatures and
 * is taken again (never relabelled once finished). */
struct storage_claim {
        char *disk_id;  /* disk_info_id() */
        char *ptuuid;   /* the label it wrote, NULL if the label step never finished */
        bool finished;  /* every step on the disk is done */
};

struct plan_input {
        const struct disk_spec *specs;
        size_t n_specs;
        const struct storage_answers *answers; /* NULL = no answers */
        const struct disk_set *disks;
        const struct storage_claim *claims;
        size_t n_claims;
        /* The installer's plan: no disk holds the system yet. The OS role disk is chosen among the
         * disks by the same scope, clear and alias rules as the data role disks, and receives the
         * image (PLAN_DISK_IMAGE); the data role disks are planned as the storage step will plan
         * them after the reboot, and what would refuse them there is a note, not an error, since
         * the installer does not write them. */
        bool install;
};

/* ---- the plan -------------------------------------------------------------------------------------- */

enum plan_disk_mode {
        PLAN_DISK_PARTITION, /* new GPT with the spec's partitions, mkfs, fstab, mount */
        PLAN_DISK_GROW_ROOT, /* the running root's disk: grow its last partition and filesystem */
        PLAN_DISK_KEEP,      /* the running root's disk, nothing to do */
        PLAN_DISK_IMAGE,     /* install: the role's image is written over the whole disk */
};

struct plan_part {
        unsigned number;
        char *name;            /* GPT partition name */
        enum part_type type;
        const char *type_guid; /* static */
        uint64_t start, size;  /* bytes, 1 MiB aligned */
        enum fs_type fs;
        char *mount;           /* NULL for none */
        char *options;         /* mount options */
        char *label;           /* filesystem label */
};

struct plan_disk {
        size_t disk;           /* index into the disk set */
        char *id;              /* disk_info_id(): names the journal's steps */
        char *devnode;
        char *spec;            /* the role disk it serves */
        enum plan_disk_mode mode;
        bool wipe;             /* carries signatures and the answers name it for clearing */
        char *carries;         /* wipe: what is on it ("gpt, ext4 (part 1)") */
        char *allowed_by;      /* wipe: the answer that allows it ("clearpart --drives=sdb (ks.cfg:31)") */
        bool resume;           /* an earlier run's journal owns it */
        uint64_t size;
        uint32_t sector_size;
        struct plan_part *parts;
        size_t n_parts;
        /* PLAN_DISK_GROW_ROOT */
        unsigned grow_partno;
        uint64_t grow_from, grow_to; /* partition size in bytes */
        char *grow_fs;
};

struct disk_verdict {
        const char *state; /* "chosen", "os", "unused", "out-of-scope", "refused", "boot-medium" (static) */
        char *spec;        /* the role disk it serves, or NULL */
        char **reasons;    /* one line per reason, in decision order */
};

struct disk_plan {
        struct plan_disk *disks;
        size_t n_disks;
        struct disk_verdict *verdicts; /* parallel to the disk set */
        size_t n_verdicts;
        char **errors; /* non-empty: refuse to apply */
        char **notes;
};

/* Build the plan. Returns -ENOMEM only; problems with the inputs are plan errors. */
int disk_plan_build(const struct plan_input *in, struct disk_plan **ret);
struct disk_plan *disk_plan_free(struct disk_plan *p);
static inline void disk_plan_freep(struct disk_plan **p) {
        disk_plan_free(*p);
}
static inline bool disk_plan_ok(const struct disk_plan *p) {
        return !p->errors || !p->errors[0];
}

/* Renderers: a human table with the reasons, and JSON (disk → identity → signatures → actions). */
void disk_plan_render_table(const struct disk_plan *p, const struct disk_set *s, struct buf *out);
void disk_plan_render_json(const struct disk_plan *p, const struct disk_set *s, struct buf *out);

/* 1 MiB: partition alignment, and the first usable byte. */
#define PLAN_ALIGN MiB
/* The end (exclusive) of the space a GPT leaves usable on a disk, 1 MiB aligned down. */
uint64_t plan_usable_end(uint64_t disk_size, uint32_t sector_size);

/* Local string tables (the profile loader owns the shared ones; these keep the planner
 * self-contained until it lands). */
const char *plan_part_type_guid(enum part_type t);
const char *plan_fs_name(enum fs_type f);
const char *plan_part_type_name(enum part_type t);
/* Parse "ssd|hdd" / "sas|sata" style masks; -EINVAL on an unknown word. */
int plan_parse_classes(const char *s, unsigned *ret);
int plan_parse_transports(const char *s, unsigned *ret);
