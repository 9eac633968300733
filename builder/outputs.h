/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "build.h"
#include "image.h"

/* Hashing and the build's published outputs: the raw image (sparse), the qcow2, the ISO, pxe/,
 * proxmox/, manifest.json and SHA256SUMS in DIR/<host>/. Each is written unpublished and all are
 * published together at the end (outputs_publish). */

/* sha256 of a file, computed in-process (OpenSSL EVP), as 64 lower-case hex digits. Holes in a
 * sparse file are read as zeros, as sha256sum would see them. `what` labels the progress bar
 * (NULL for none). */
int sha256_file(const char *path, const char *what, char **ret_hex, uint64_t *ret_size);
/* sha256 of a buffer as hex. */
char *sha256_hex(const void *data, size_t size);

struct artifact {
        char *name;   /* file name inside the host's output directory */
        uint64_t size;
        char *sha256;
};

struct input_file {
        char *label;  /* "profile", "site", "overlay:common/etc/foo" */
        char *path;
        char *sha256;
};

struct pkg_version {
        char *name, *version, *arch;
};

struct manifest {
        const char *tool_version;
        const char *role, *host, *base, *suite, *mirror;
        const char *rootfs_key, *layer_key;
        const char *security_mirror, *archive_state; /* NULL: not recorded */
        int64_t source_date_epoch; /* -1 if unset */
        struct input_file *inputs;
        size_t n_inputs;
        struct pkg_version *pkgs;
        size_t n_pkgs;
        const struct image_layout *layout; /* NULL if not built */
        struct artifact *artifacts;
        size_t n_artifacts;
        /* The role's services and what the build did with each: "installed" (the distribution's
         * packages are in the image), "deferred" (a vendor source: first boot fetches it or reports
         * it skipped), "not-for-base". NULL: no "services" key. */
        const struct profile *profile;
        /* What the build did with each vendor service (vendor-stage.h); NULL/0: the profile alone
         * says (everything vendor "deferred"). */
        const struct vendor_entry *vendor;
        size_t n_vendor;
};

void manifest_done(struct manifest *m);

/* "PKG\tVERSION\tARCH\n" lines (dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\n') into
 * a sorted array. */
int parse_dpkg_query(const char *text, struct pkg_version **ret, size_t *ret_n);
/* dpkg-query --admindir=TREE/var/lib/dpkg, parsed. */
int query_packages(const char *tree, struct pkg_version **ret, size_t *ret_n);

/* The manifest as pretty JSON text. */
char *manifest_to_json(const struct manifest *m);
/* "HEX  NAME\n" lines, as `sha256sum -c` reads them. */
char *sha256sums_text(const struct artifact *a, size_t n);

/* qemu-img convert -c -O qcow2 RAW DEST, zstd-compressed where qemu-img can (via a temporary name
 * in DEST's directory). */
int write_qcow2(const char *raw_path, const char *dest_path);
/* The same, written straight into dest_path (an unpublished temporary the caller owns). */
int write_qcow2_into(const char *raw_path, const char *dest_path);

/* Outputs are written into unnamed files in the output directory (O_TMPFILE), which the tools reach
 * by our /proc/PID/fd/N path, and linked into place together at the end. Killed at any point,
 * even by SIGKILL, the build leaves nothing there: the kernel frees an unlinked file with its last
 * fd. Where the filesystem has no O_TMPFILE, "<final>.tmp.<pid>" files are used instead, and
 * removed on failure or interrupt (not after SIGKILL). */
struct pending {
        char *tmp, *final;
        int fd;       /* the O_TMPFILE fd, or -1 for a named temporary */
        bool publish; /* false: made only as another output's input (the raw image of a qcow2-only build) */
};

/* One build's unpublished outputs: files in the order they are published (whoever sees the last,
 * SHA256SUMS, sees a complete set), and at most one directory staged whole (pxe/). */
struct outputs {
        struct pending *pending;
        size_t n_pending;
        char *dir_tmp, *dir_final; /* the staged directory and its final name; NULL for none */
};

/* A new unpublished file NAME in DIR; *ret_tmp (owned by o) is the path to write it through. */
int outputs_add(struct outputs *o, const char *dir, const char *name, bool publish, char **ret_tmp);
/* The staged directory first (it replaces an older one whole), then each file to publish in order.
 * Logs what failed. */
int outputs_publish(struct outputs *o);
/* Removes whatever is not published. */
void outputs_done(struct outputs *o);
/* Outputs that cannot be unnamed files are staged as NAME.tmp.PID (outputs on a filesystem without
 * O_TMPFILE; the PXE directory when the work directory is on another filesystem) and a replaced
 * PXE directory is NAME.old.PID for a moment: a build killed with SIGKILL leaves them, and the next
 * build removes those of processes that are gone. */
void outputs_remove_dead_staging(const char *out_dir);
/* Replace directory `final` by `tmp`: the old one is moved aside and removed after the rename. */
int publish_dir(const char *tmp, const char *final);
/* Write an unpublished output (a path from outputs_add, or a plain one) and fsync it. */
int write_tmp_data(const char *tmp, const void *data, size_t len);
int write_tmp_text(const char *tmp, const char *text);

/* List an output in the manifest (and so in SHA256SUMS): hashed here, or with its sha256 known
 * already (hex is taken over, also on failure). */
int manifest_add_artifact(struct manifest *m, const char *name, const char *path);
int manifest_add_artifact_hashed(struct manifest *m, const char *name, char *hex, uint64_t size);
