/* SPDX-License-Identifier: MIT */
#pragma once

#include "build.h"
#include "outputs.h"

/* Vendor services (profile services with source apt or oci) at build time.
 *
 *   vendor_plan()     before the role layer: for each vendor service decide in-image / deferred /
 *                     not-for-base; for an apt source fetch its key (through the mirror mapping),
 *                     check the key's fingerprint against the profile, fetch the repository's
 *                     InRelease and check its signature with that key alone (gpgv); for an OCI
 *                     image resolve the tag (or check the pinned digest) in the registry. Any
 *                     failure names the service, the source and what failed, and stops the build
 *                     before anything is built.
 *   layer            the apt services' keyrings and sources go into the tree before apt-get update,
 *                    their packages are installed with the role's, the repository states are part
 *                    of the layer's cache key (vendor_layer_key_part), and the sources are then
 *                    rewritten from the mirror to the upstream URL.
 *   vendor_images_install()  after the layer: skopeo copies each image by digest into the image's
 *                    read-only store /usr/lib/containers/storage, declared in
 *                    /etc/containers/storage.conf as an additional image store.
 *   vendor_record()  package versions from the tree, /usr/share/rackstack/vendor.json. */

/* The mirror mapping in use: --mirror FROM=TO entries first, then the site's. */
int vendor_maps_init(struct build_ctx *ctx, char **opt_maps);

int vendor_plan(struct build_ctx *ctx);
/* After vendor_plan(), for --vendor-check: one line per vendor service,
 *   NAME STATE SOURCE ORIGIN via=MIRROR|- pin=...
 * STATE in-image / deferred / not-for-base; pin= is digest:sha256:…:pinned|unpinned for an image,
 * key:FINGERPRINT for a repository (then also inrelease=SHA256), none for a service not checked
 * (then reason="…"). */
char *vendor_check_render(const struct build_ctx *ctx);
/* The apt services' packages to install into the layer (appended to *pkgs, no duplicates). */
int vendor_layer_packages(const struct build_ctx *ctx, char ***pkgs);
/* "repo|fingerprint|InRelease sha256" of each apt service in the image, for the layer's key; "" for none. */
char *vendor_layer_key_part(const struct build_ctx *ctx);
/* Keyrings and (mirror) sources into the tree, before apt-get update. */
int vendor_layer_sources(struct build_ctx *ctx, int treefd, bool mirrored);
/* Whether vendor_images_install() will copy any image (the layer's tree must then be a plain
 * directory: layer-tree.h). */
bool vendor_has_images(const struct build_ctx *ctx);
int vendor_images_install(struct build_ctx *ctx);
int vendor_record(struct build_ctx *ctx, const struct manifest *m);
void vendor_ctx_done(struct build_ctx *ctx);

/* Where the OCI images live in the image, and the podman config that names them. */
#define VENDOR_IMAGE_STORE "/usr/lib/containers/storage"
#define VENDOR_JSON_PATH "/usr/share/rackstack/vendor.json"
