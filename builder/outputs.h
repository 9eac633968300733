/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

#include "build.h"
#include "image.h"

/* Hashing and the build's published outputs: the raw image (sparse), the qcow2, manifest.json and
 * SHA256SUMS in DIR/<host>/. Each is written under a temporary name and renamed when complete. */

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
