/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "diag.h"
#include "disk-plan.h"
#include "disk-probe.h"
#include "profile.h"
#include "sha256sums.h"

/* `rackstack-firstboot install`: the plan. A PURE function from the source's checksums, the role's
 * OS disk, the answers and the probed disks to the one disk the image will be written to (or the
 * reasons there is none). install-apply.c is the only code that writes.
 *
 * The disk is chosen by the storage planner itself (disk-plan.h), in its installer mode: every role
 * disk and the answers as they are (aliases, pins, ignoredisk, clearpart) go in, so which disks may
 * be touched is decided by the one code path the storage step uses, and `rackstack-firstboot plan
 * --install` prints the same decisions. The OS role disk is the target; the data role disks are
 * the storage step's after the reboot, and are only reported. */

/* ---- SHA256SUMS ---------------------------------------------------------------------------------- */

/* The list itself is parsed by sha256sums_parse() (common/sha256sums.h). */

/* The compressed image a SHA256SUMS offers: the first "*.raw.zst", else the first "*.raw.gz".
 * NULL if it lists neither. */
const char *sha256sums_pick_image(const struct sha256sums *s);

/* The decompressed size a zstd frame header declares (Frame_Content_Size), from the first bytes of
 * the stream: 0 and *ret set, -ENODATA if the frame does not say, -EBADMSG if it is not zstd,
 * -EAGAIN if more bytes are needed. */
int zstd_frame_content_size(const void *p, size_t n, uint64_t *ret);

/* ---- the boot medium ------------------------------------------------------------------------------ */

/* Mark the disks the installer must never write: the disk holding the source (by kernel name, as
 * resolved from the source filesystem's device number; NULL if the source is not on a disk), and
 * every removable or USB disk that carries an ISO 9660 filesystem, or any disk whose ISO 9660
 * label is medium_label or starts with "RACKSTACK". */
void install_mark_boot_media(struct disk_set *s, const char *source_disk, const char *medium_label);

/* ---- the plan --------------------------------------------------------------------------------------- */

struct install_input {
        const char *source;             /* directory or http:// URL prefix */
        const struct sha256sums *sums;  /* SHA256SUMS as read from the source */
        const char *image;              /* NULL: pick from sums */
        bool have_signature;            /* SHA256SUMS.sig exists at the source */
        bool have_pubkey;               /* the installer carries a signing key */
        uint64_t raw_size;              /* from the image's frame header; 0 = unknown */
        const struct disk_spec *specs;  /* the role's disks, the OS disk among them (none: any ssd of 50G) */
        size_t n_specs;
        const struct storage_answers *answers; /* NULL = none */
        const struct disk_set *disks;
        const char *ks;                 /* the kickstart to copy onto the installed system, or NULL */
};

struct install_plan {
        char *source;
        char *image;            /* name within the source */
        char *image_sha256;
        char *raw_name;         /* the raw image's SHA256SUMS name, if listed */
        char *raw_sha256;       /* NULL if not listed */
        bool verify_signature;
        uint64_t raw_size;      /* 0 = unknown until the stream ends */

        ssize_t target;         /* index into the disk set, -1 for none */
        char *target_devnode;
        char *target_id;        /* disk_info_id() */
        uint64_t target_size;
        uint32_t sector_size;
        char *wipe;             /* what the answers allow to be overwritten ("gpt, ext4 (part 1)"), NULL if empty */
        char *wipe_allowed_by;  /* the answer that allows it ("clearpart --drives=sdb (ks.cfg:31)") */
        char *installed;        /* what system the target holds now ("a rackstack system: role db, …"), NULL: not looked */
        char *ks;               /* copied to KS_INSTALLED_PATH on the installed root, NULL for none */

        struct disk_plan *disks; /* the storage planner's verdicts, for the report */
        char **errors;          /* non-empty: refuse; nothing is written */
        char **notes;
};

#define KS_INSTALLED_PATH "usr/share/rackstack/ks.cfg"

/* Build the plan. -ENOMEM only; everything else is a plan error. */
int install_plan_build(const struct install_input *in, struct install_plan **ret);
struct install_plan *install_plan_free(struct install_plan *p);
static inline void install_plan_freep(struct install_plan **p) {
        install_plan_free(*p);
}
static inline bool install_plan_ok(const struct install_plan *p) {
        return !p->errors || !p->errors[0];
}
/* What the target holds now, as install read it off the disk's root (disk: its image.json; NULL
 * with unknown saying why not, e.g. "no rackstack image.json on its root"): recorded for the
 * report, and with the image's identity (NULL: none to compare) an error when the disk holds
 * another role's system or a newer build, unless any_role / allow_downgrade. -ENOMEM only. Pure. */
struct image_identity;
int install_plan_check_installed(struct install_plan *p, const struct image_identity *image,
                                 const struct image_identity *disk, const char *unknown, bool any_role,
                                 bool allow_downgrade);
/* Human-readable: source, checks, target, then each disk's verdict with its reasons. */
void install_plan_render(const struct install_plan *p, const struct disk_set *s, struct buf *out);
