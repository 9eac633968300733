/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The host's credentials bundle (common/creds.h) on its way in:
 *   1. found beside the kickstart (the same directory of the OEMDRV volume or CD, or of --ks FILE),
 *      or named on the kernel command line: rackstack.creds=http://…|/path, with
 *      rackstack.creds.sha256=HEX required for http (the content is pinned, as inst.ks.sha256=
 *      pins the kickstart);
 *   2. copied to <root>/run/rackstack/rackstack.creds (0600; /run is a tmpfs: never on a disk);
 *   3. placed: each record as <root>/run/credentials/rackstack/<name> (directory 0700, files 0400,
 *      root), after checking the bundle is for this host; the copy is then removed;
 *   4. removed after a successful join (join/report), all of them: what a service needs later it
 *      took into its own configuration while the run lasted.
 * None of it is in the image; the image is shared by every host of a role and signed. */

#define CREDS_COPY "run/rackstack/rackstack.creds"
#define CREDS_DIR "run/credentials/rackstack"

/* Step 1-2 for a file on a mounted medium or a local path: copy it if it exists (0: copied,
 * -ENOENT: none there). */
int creds_copy_in(const char *root, const char *from);
/* The same, with from relative to top (a mounted medium), opened without following a symlink. */
int creds_copy_in_beneath(const char *root, const char *top, const char *from);
/* Step 1-2 for rackstack.creds= on the kernel command line (NULL: read /proc/cmdline). 0 copied,
 * -ENOENT when the command line names none, -EBADMSG on a pin mismatch, -EPERM for http without
 * a pin. */
int creds_copy_from_cmdline(const char *root, const char *cmdline);

/* Step 3. host: this host's short name (NULL: not checked). *ret_names: "ca.crt, db.nextcloud, …"
 * (names only). -ENOENT when there is no bundle, -EXDEV when it is for another host. */
int creds_place(int root_fd, const char *host, char **ret_names, char **ret_error);

/* The wiring record of the placed bundle (CREDS_DIR/wiring), parsed. On a parse error *ret_error
 * is its first diagnostic ("FILE:LINE: MESSAGE"). Shared by the db-wiring and backup steps.
 *
 * The wiring is not secret (who connects from which address to what: kinds, service and host
 * names, addresses; no password or key), and the join removes the bundle. So that a later rerun
 * of firstboot without a bundle renders the same firewall rules, pg_hba lines and consumer
 * accounts (and not fewer: an app host cut off its database, a db host off its backups), the
 * services step keeps a copy of the bundle's wiring in WIRING_KEPT (root, 0644) with
 * creds_wiring_keep(). creds_wiring_load() with ret_kept reads the bundle's wiring when there is
 * one (the credentials always win) and that copy otherwise, and says which (*ret_kept); without
 * ret_kept, the bundle's only. -ENOENT when neither is there. */
#define WIRING_KEPT "var/lib/rackstack/wiring"
struct wiring;
int creds_wiring_load(int root_fd, struct wiring *ret, bool *ret_kept, char **ret_error);

enum wiring_source {
        WIRING_SOURCE_NONE,  /* no bundle's wiring and no kept copy: nothing is wired */
        WIRING_SOURCE_CREDS, /* the bundle's, now also in WIRING_KEPT */
        WIRING_SOURCE_KEPT,  /* no bundle: the copy an earlier run kept */
};
/* Refresh WIRING_KEPT from the bundle's wiring (written only when it differs; never with dry_run),
 * and say which one a load will use. A bundle's wiring that does not parse is not kept (the load
 * reports it). */
int creds_wiring_keep(int root_fd, bool dry_run, enum wiring_source *ret_source);
const char *wiring_source_name(enum wiring_source s);

/* Step 4: every file in CREDS_DIR; *ret_count how many. */
int creds_remove_all(int root_fd, size_t *ret_count);
