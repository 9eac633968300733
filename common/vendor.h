/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "profile.h"

/* Vendor sources (services with source apt or oci): the pure parts the builder and firstboot share.
 *
 *  - the trust anchors a profile names: an OpenPGP fingerprint for an apt repository's key, a
 *    sha256 digest for an OCI image;
 *  - the site's mirror mapping (site.yaml "mirrors:", --mirror FROM=TO): a vendor registry or
 *    repository URL prefix -> where this site mirrors it;
 *  - the one-line apt source a profile names, split into its parts;
 *  - /usr/share/rackstack/vendor.json, what the image carries (see docs/services.md). */

/* "4D64 390C 0A1B ..." (spaces anywhere, either case) -> 40 upper-case hex digits. -EINVAL for
 * anything but exactly 40 hex digits (a 16-digit key ID is refused: it can be forged). */
int openpgp_fingerprint_normalize(const char *s, char **ret);
/* The primary keys' fingerprints in `gpg --with-colons --show-keys` output: each "fpr" record that
 * follows a "pub" record (a subkey's "fpr" after "sub" is not a key anyone pins). *ret is a
 * NULL-terminated list, empty when the text holds no key. Shared by the builder and firstboot, so
 * both trust exactly the same thing. */
int gpg_colons_fingerprints(const char *out, char ***ret);
/* "sha256:" + 64 lower-case hex digits. */
bool oci_digest_valid(const char *s);

/* --mirror FROM=TO. -EINVAL when there is no '=' or either side is empty or holds whitespace. */
int mirror_map_parse_arg(const char *arg, struct mirror_map *ret);
/* A mapping's FROM and TO are plausible (no whitespace; TO an http(s) URL or host[:port]); NULL when
 * fine, else what is wrong (static text). */
const char *mirror_map_check(const char *from, const char *to);
void mirror_map_done(struct mirror_map *m);

/* Rewrite an apt repository URL through the mappings: the longest FROM that is a prefix of url, at a
 * path boundary, wins (ties: the earlier entry, so put --mirror entries first). *ret is the
 * rewritten URL (a copy of url when nothing matched); *ret_used the entry used, NULL if none. */
int mirror_map_url(const struct mirror_map *maps, size_t n, const char *url, char **ret,
                   const struct mirror_map **ret_used);

/* Where to copy an OCI image from: "docker.io/library/nextcloud:28-fpm" with docker.io mapped to
 * "http://127.0.0.1:5000" gives "127.0.0.1:5000/library/nextcloud:28-fpm" and *ret_tls false (an
 * http:// mirror is plain HTTP; https:// or a bare host is TLS, verified). FROM matches the
 * registry host ("docker.io") or a longer prefix ending at a path boundary
 * ("docker.io/library"). Unmapped: a copy of image, TLS. */
int mirror_map_image(const struct mirror_map *maps, size_t n, const char *image, char **ret_ref, bool *ret_tls,
                     const struct mirror_map **ret_used);

/* "deb [signed-by=/usr/share/keyrings/x.gpg] URL SUITE [COMPONENT...]" */
struct apt_source {
        char *signed_by; /* the keyring path the line names */
        char *options;   /* everything between [ ], as written */
        char *url;       /* without a trailing '/' */
        char *suite;     /* "stable/" for a flat repository (ends with '/'), else "noble" */
        char **components; /* empty for a flat repository */
};
int apt_source_parse(const char *line, struct apt_source *ret);
void apt_source_done(struct apt_source *s);
/* Where the repository's InRelease is, under base_url (the source's URL or its mirror):
 * BASE/dists/SUITE/InRelease, or BASE/SUITE/InRelease for a flat repository. */
char *apt_source_inrelease_url(const struct apt_source *s, const char *base_url);
/* The same line with another URL (the mirror, used while building) and the same options. */
char *apt_source_line(const struct apt_source *s, const char *url);

/* What the image holds of one vendor service: written as /usr/share/rackstack/vendor.json by the
 * builder, read by firstboot. */
enum vendor_state {
        VENDOR_IN_IMAGE, /* fetched, verified and in the image */
        VENDOR_DEFERRED, /* fetch: firstboot or --defer-vendor: firstboot fetches it */
        VENDOR_NOT_FOR_BASE, /* the service's "bases" leave this base out */
};

struct vendor_pkg {
        char *name, *version;
};

struct vendor_entry {
        const struct service_spec *service;
        enum vendor_state state;
        const char *reason; /* why deferred (static text), NULL otherwise */
        /* OCI */
        char *image;  /* the profile's reference (registry/path:tag) */
        char *digest; /* sha256:…: the profile's, or what the tag resolved to */
        bool pinned;  /* the digest came from the profile (or --pin-from), not from the registry */
        uint64_t size; /* bytes the image takes in the image's store, unpacked (du --apparent-size) */
        /* APT */
        char *repo;        /* the upstream source line, as the image's sources.list.d has it */
        char *fingerprint; /* the key's, as checked */
        char *keyring;     /* /usr/share/keyrings/… */
        char *release_sha256; /* sha256 of the InRelease the build used */
        struct vendor_pkg *pkgs;
        size_t n_pkgs;
        /* either */
        char *mirror; /* the mirror it came through; NULL = the vendor itself */
};

void vendor_entry_done(struct vendor_entry *e);
const char *vendor_state_to_string(enum vendor_state s);

/* {"services":[…]} per docs/services.md, pretty or one line. */
char *vendor_json_render(const struct vendor_entry *e, size_t n, bool pretty);
