/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

/* The state of one `rackstack-build build` run, shared by its stages:
 *   rootfs (mmdebstrap, cached) -> role layer (packages, overlays, firstboot) -> hygiene
 *   -> disk image (GPT, filesystems, GRUB) -> outputs (raw, qcow2, manifest, SHA256SUMS). */

struct pkg_version;
struct vendor_entry;
struct mirror_map;

struct base_info {
        const char *name;        /* "debian-12", "ubuntu-24.04" */
        const char *suite;       /* "bookworm", "noble" */
        const char *kernel_pkg;  /* "linux-image-amd64", "linux-image-generic" */
        const char *components;  /* "main", "main universe" */
        const char *keyring;     /* archive keyring file on the build host */
        const char *default_mirror;
        /* Where SUITE-security lives when the mirror is not the host's: NULL for "on the mirror"
         * (Ubuntu's archive carries noble-security), Debian's is an archive of its own. */
        const char *default_security_mirror;
        /* dpkg path-excludes for an appliance (see rootfs.c): Ubuntu's kernel metapackage pulls
         * linux-firmware and linux-modules-extra, two thirds of the image, mostly for hardware no
         * rack server has. Debian's kernel pulls no firmware, but its modules (sound, media,
         * wireless, desktop GPUs), documentation, man pages and translations are a fifth of a
         * Debian image: both bases leave out the same list. */
        bool appliance_excludes;
};

struct build_ctx {
        const struct profile *profile;
        const struct site *site;
        const struct host_spec *host; /* the site's host for this role */
        const struct base_info *base;
        char *mirror;       /* resolved: --mirror > $RACKSTACK_MIRROR > host's source > official */
        char *cache_dir;    /* /var/cache/rackstack or ~/.cache/rackstack */
        char *out_dir;      /* DIR/<host>/ */
        char *work_dir;     /* scratch, removed at the end */
        char *tree_dir;     /* the root tree being assembled */
        char *firstboot_bin;/* the rackstack-firstboot binary to install into the image */
        char *data_dir;     /* where profiles/, overlays/, iso/ live */
        char *pxe_url;      /* --pxe-url: base URL of the PXE set's HTTP files, no trailing '/' */
        const char *ks_path;/* --ks: the host's kickstart, put on the ISO and in the PXE set; NULL for none */
        unsigned formats;   /* enum build_format mask */
        bool json;          /* progress as JSON lines */
        int64_t source_date_epoch; /* -1 if unset */
        uint64_t image_size; /* size of the raw OS disk image (bytes) */
        uint64_t cache_keep_free; /* --cache-keep-free: bytes a build keeps free in the cache (0: none) */
        double t_start;

        /* Filled in by the stages (rootfs, layer) for the manifest and later stages. */
        const char *mirror_origin; /* which rule chose the mirror, for messages */
        char *security_mirror;     /* where SUITE-security comes from */
        const char *security_origin;
        /* sha256 over the Release files of SUITE, SUITE-updates and SUITE-security as the mirrors
         * serve them now; NULL when they could not be read (offline, https, file:). */
        char *archive_state;
        char *archive_used; /* the state the cache keys are made with (see rootfs_ensure_key) */
        bool mirror_probed;
        char *rootfs_key;   /* cache key of the base tarball */
        char *rootfs_family;/* what the base is made of, without the archive state (rootfs.h) */
        char *layer_key;    /* cache key of the role layer tarball */
        /* While tree_dir is an overlay on the cached layer tree (layer-tree.h): its lower and upper
         * directories, for the root filesystem's delta (ext4-delta.h); NULL otherwise. */
        char *layer_lower, *layer_upper;
        char *profiles_dir; /* --profiles, default data_dir/profiles */
        char *overlays_dir; /* data_dir/overlays */
        int log_fd;         /* build log in work_dir: all child output; -1 for none */
        bool verbose;       /* also copy child output to stderr */
        char *sign_key;     /* --sign: Ed25519 private key signing SHA256SUMS, NULL for none */
        char *sign_pub;     /* its public key, baked into the image */
        struct pkg_version *pins; /* --pin-from: the packages the tree must hold, sorted; NULL for none */
        size_t n_pins;
        const char *pin_from;

        /* Vendor services (vendor-stage.h): the mirror mapping (--mirror FROM=TO first, then the
         * site's), --defer-vendor, what became of each, and the image digests --pin-from holds
         * (name = service, version = digest). */
        struct mirror_map *vendor_maps;
        size_t n_vendor_maps;
        bool defer_vendor;
        struct vendor_entry *vendor;
        size_t n_vendor;
        struct pkg_version *digest_pins;
        size_t n_digest_pins;
};

enum build_format {
        BUILD_FORMAT_RAW = 1 << 0,
        BUILD_FORMAT_QCOW2 = 1 << 1,
        BUILD_FORMAT_ISO = 1 << 2,
        BUILD_FORMAT_PXE = 1 << 3,
        BUILD_FORMAT_PROXMOX = 1 << 4,
};

/* Size of the raw OS disk image for a tree of tree_bytes (apparent): +30% headroom, +600 MiB for
 * the ESP, BIOS boot partition and filesystem overhead, rounded up to 256 MiB, at least 2 GiB. */
uint64_t build_image_size(uint64_t tree_bytes);
/* What `build` makes without --format. (proxmox joins when it is implemented.) */
#define BUILD_FORMATS_DEFAULT "raw,qcow2,iso,pxe,proxmox"
/* --pxe-url: NULL (the default) or an http:// URL the installer's busybox wget and the boot menus
 * can carry: no whitespace, quotes, '@' or trailing '/'. -EINVAL otherwise. */
int build_check_pxe_url(const char *url);
/* "raw,qcow2" -> mask of enum build_format; -EINVAL for an unknown or empty list. */
int build_parse_formats(const char *s, unsigned *ret);

/* `rackstack-build build ...` entry point, called from main with the verb's arguments. Returns
 * 0, or a negative errno after logging; -EINVAL for bad usage or input (exit status 2). */
int build_main(int argc, char **argv);
