/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "diag.h"

/* The kernel command line, as /proc/cmdline shows it, and the kickstart source it names. Pure
 * functions: no I/O; firstboot reads /proc/cmdline and fetches. */

struct kcmdline_entry {
        char *key;
        char *value; /* NULL for a bare word ("quiet"); "" for "key=" */
};

struct kcmdline {
        struct kcmdline_entry *entries; /* in order; repeated keys are all kept */
        size_t n;
};

/* Split as the kernel's next_arg() does: words separated by blanks, double quotes group blanks and
 * are removed, the first '=' outside nothing splits key from value. An unterminated quote runs to
 * the end (as in the kernel). A trailing newline is ignored. Returns -ENOMEM or 0. */
int kcmdline_parse(const char *s, struct kcmdline **ret);
struct kcmdline *kcmdline_free(struct kcmdline *c);
static inline void kcmdline_freep(struct kcmdline **c) {
        kcmdline_free(*c);
}

/* The last entry with that key (the kernel's and Anaconda's rule: last wins), or NULL. */
const struct kcmdline_entry *kcmdline_find(const struct kcmdline *c, const char *key);
/* Its value: NULL when absent or a bare word. */
const char *kcmdline_get(const struct kcmdline *c, const char *key);
bool kcmdline_has(const struct kcmdline *c, const char *key);

enum ks_source_kind {
        KS_SOURCE_PATH,  /* "/ks.cfg" or "file:/ks.cfg": a file in the running system */
        KS_SOURCE_HD,    /* "hd:DEVICE:/path" */
        KS_SOURCE_CDROM, /* "cdrom" (then path is "/ks.cfg") or "cdrom:/path" */
        KS_SOURCE_HTTP,
        KS_SOURCE_HTTPS,
};

enum ks_hd_by {
        KS_HD_BY_NAME,  /* "sdb1" or "/dev/sdb1" */
        KS_HD_BY_LABEL, /* "LABEL=OEMDRV" */
        KS_HD_BY_UUID,  /* "UUID=…" */
};

struct ks_source {
        enum ks_source_kind kind;
        enum ks_hd_by hd_by;  /* HD only */
        char *device;         /* HD: the name, label or UUID (without "LABEL="/"UUID=") */
        char *path;           /* the file; for HTTP(S) the path part of the URL ("/" at least) */
        char *host;           /* HTTP(S) */
        uint16_t port;        /* HTTP(S); 0 = the scheme's default */
        char *url;            /* HTTP(S): the whole URL, as given */
        bool has_sha256;
        uint8_t sha256[32];   /* from inst.ks.sha256= */
};

/* Parse a source spec (the value of inst.ks= or ks=). Problems are added to d (which may be NULL)
 * against the file name "kernel command line", with the column in the spec. -EINVAL on a malformed
 * spec, -EPROTONOSUPPORT on an unknown scheme (nfs:, ftp:, …), -ENOMEM. */
int ks_source_parse(const char *spec, struct diags *d, struct ks_source **ret);

/* The kickstart source of a command line: inst.ks= (or the older ks=; inst.ks wins), with
 * inst.ks.sha256= if given. -ENOENT when neither is given, -EINVAL when inst.ks is a bare word or
 * the checksum is not 64 hex digits, else as ks_source_parse(). */
int kcmdline_ks_source(const struct kcmdline *c, struct diags *d, struct ks_source **ret);

struct ks_source *ks_source_free(struct ks_source *s);
static inline void ks_source_freep(struct ks_source **s) {
        ks_source_free(*s);
}

/* 64 hex digits, either case. */
int parse_sha256_hex(const char *s, uint8_t ret[32]);

/* rackstack.prompt_timeout=SECONDS: how long the console prompt waits for a person before it fails
 * closed (1..86400). -ENOENT when absent, -EINVAL when not a number in range (a diagnostic names
 * it), else 0 with *ret_usec set. */
#define KCMDLINE_PROMPT_TIMEOUT_DEFAULT_SEC 300
int kcmdline_prompt_timeout(const struct kcmdline *c, struct diags *d, uint64_t *ret_usec);
/* rackstack.prompt (bare, or =1/yes/true): ask every question at the console, with what the other
 * sources said as defaults, even when nothing is missing. */
bool kcmdline_prompt_forced(const struct kcmdline *c);
