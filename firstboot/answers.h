/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where this boot's kickstart comes from, in order: the kernel command line (inst.ks= or ks=: a
 * path, hd:LABEL=…:/path, cdrom[:/path] or http://…, with an optional inst.ks.sha256= pin), a volume
 * labelled OEMDRV holding ks.cfg (as Anaconda finds it, with libblkid), then the kickstart baked into
 * the image. The first source that exists wins; a source the command line names but that cannot be
 * read fails rather than falling through (the operator asked for that one).
 *
 * A kickstart that holds secrets (a rootpw or user password hash) is refused when it was readable by
 * anyone but root where it came from: a file or medium with group/other read bits, or plain HTTP.
 *
 * The chosen file is copied to <root>/run/rackstack/ks.cfg (mode 0600) so later steps read one place;
 * *ret_label names the source as --explain prints it: "kernel cmdline inst.ks=http://…",
 * "OEMDRV:/ks.cfg", "image ks.cfg". Returns -ENOENT when no source has one, -ENXIO when the source
 * the command line names has none (a missing file, a 404, no CD with that path), -EACCES for exposed
 * secrets, -EBADMSG for a sha256 pin mismatch, -EFBIG over KS_FILE_MAX, else the source's errno. */

struct answers_find_options {
        const char *cmdline;       /* the kernel command line; NULL = read /proc/cmdline */
        uint64_t http_timeout_usec; /* per connect/read; 0 = 10 s */
        unsigned http_retries;     /* further attempts; the default options use 3 */
        bool no_devices;           /* do not look for OEMDRV or a CD (tests on a host with disks) */
        const char *copy_name;     /* the copy's name in <root>/run/rackstack; NULL = "ks.cfg" (the run's) */
};
#define ANSWERS_FIND_OPTIONS_DEFAULT ((struct answers_find_options) { .http_retries = 3 })

/* ret_how (may be NULL) gets how the answers were verified (see answers_accept). */
int answers_find(const char *root, const struct answers_find_options *o, char **ret_path, char **ret_label,
                 char **ret_how);

/* How a kickstart arrived, for the one function every source goes through. */
struct answers_origin {
        const char *label;   /* where from, as --explain and status.json name it */
        bool over_network;   /* fetched over plain HTTP (by us, or by the installer's init) */
        unsigned mode;       /* st_mode where it lay (ignored over the network) */
        const char *sha256;  /* the sha256 it must have: inst.ks.sha256=, or its SHA256SUMS entry; NULL: none */
        bool sha256_signed;  /* ... and that entry is in a SHA256SUMS whose signature is checked */
};

/* The one trust path for answers, whichever way they came (kernel command line, OEMDRV, CD, HTTP,
 * the install source's ks.cfg, the copy in the installed root): the content must match o->sha256
 * when one is given (-EBADMSG); a kickstart holding a password hash must not have been readable by
 * others where it came from (-EACCES, the exposure rule below); one fetched over the network must
 * be pinned or signed (-EPERM). Then the 0600 copy <root>/run/rackstack/<copy_name> is written.
 * *ret_how says how it was verified ("signed SHA256SUMS", "sha256 pinned", "local file mode
 * 0600"), as status.json records it. */
int answers_accept(const struct answers_origin *o, const char *data, size_t size, const char *root,
                   const char *copy_name, char **ret_path, char **ret_how);

/* The root-only copy of answers at <root>/run/rackstack/<name>: every kept kickstart (found,
 * fetched, completed at the console) is written here and only here. */
int answers_keep_copy(const char *root, const char *name, const char *data, size_t size, char **ret_path);

/* The refusal rule on its own, for tests: 0, or -EACCES with *ret_reason saying why. mode is the
 * source's st_mode (ignored when over_network). */
int answers_check_exposure(const char *label, const char *data, size_t size, unsigned mode, bool over_network,
                           char **ret_reason);
