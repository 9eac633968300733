/* SPDX-License-Identifier: MIT */
#pragma once

#include "build.h"
#include "outputs.h"

/* The role layer on top of the shared base: the role's packages installed with apt-get in a chroot
 * of the unpacked base (cached as its own tarball under the base's key plus the package list), the
 * overlays (overlays/common/, then overlays/<role>/), the rackstack-firstboot binary and unit, and
 * the profile and site the image was built from. */

/* The role's distribution packages: profile->packages and the packages of its DISTRO-sourced
 * services fetched at build time and meant for this base (service "bases", NULL = all), sorted
 * and deduplicated. */
int layer_packages(const struct profile *p, const char *base, char ***ret);

/* What the layer's cache key holds besides its packages and base (cache_key()'s options): apt in
 * a chroot without recommends, the vendor repositories' part (vendor_layer_key_part(), "" or NULL
 * for none) and the hash of the profile's debconf selections (NULL or empty: none). Without
 * either it is the text it always was, so a role that gives no selections keeps its layer's key
 * (and its warm cache). NULL when out of memory. */
char *layer_options_text(const char *vendor_part, char *const *debconf);

/* 1 if every name in pkgs is installed in the tree at treefd (its dpkg status) and not marked as
 * installed automatically (apt's extended_states), else 0 (also for a name with a version, release
 * or architecture); -errno if a file could not be read. */
int tree_has_packages(int treefd, char *const *pkgs);

/* Fill ctx->tree_dir (an empty directory) with the base plus the role's packages, from the layer
 * cache or by building it. Sets ctx->rootfs_key and ctx->layer_key. */
int layer_stage(struct build_ctx *ctx);

/* Copy ctx->overlays_dir/common/ then ctx->overlays_dir/<role>/ into the tree, keeping modes
 * (owners become root, as an overlay in the source tree belongs to whoever checked it out).
 * Each copied file is added to m's inputs with its sha256. Missing overlay directories are fine. */
int overlays_apply(struct build_ctx *ctx, struct manifest *m);

/* The firstboot binary (/usr/bin/rackstack-firstboot), its unit (enabled through a
 * multi-user.target.wants symlink), and /usr/share/rackstack/{profile,site}.yaml. */
int firstboot_install(struct build_ctx *ctx, const char *unit_path, struct manifest *m);

/* The unit file text installed into the image (also firstboot/rackstack-firstboot.service). */
extern const char firstboot_unit_name[];

/* Record path (hashed) in m's inputs under label; m may be NULL. */
int manifest_add_input(struct manifest *m, const char *label, const char *path);
/* Copy a file (mode kept unless mode != 0), creating parents; root-owned. */
int copy_file_into(const char *src, int dst_dirfd, const char *dst_rel, mode_t mode);
