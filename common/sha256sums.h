/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "diag.h"

/* SHA256SUMS, the one grammar that `rackstack-build verify`, the signed-directory check and the
 * installer read (what `sha256sum` writes, with the leniencies a hand-kept list on a PXE server
 * needs and none that could name a file outside the directory):
 *
 *   file    = *line                      ; lines end in LF or CRLF; the last may end in neither
 *   line    = entry / comment / blank
 *   entry   = 64HEXDIG ( "  " / " *" ) name   ; either case, kept lower-case; " *" is binary mode
 *   comment = "#" *CHAR
 *   name    = [ "./" ] part *( "/" part ) ; a path below the directory: no empty, "." or ".." part,
 *                                         ; no control character, no backslash (sha256sum's
 *                                         ; escaped names are refused, not decoded)
 *
 * Each name is listed once and at least one entry is there. Kept: comments, blank lines, CRLF,
 * upper-case hex, "./" (all harmless: a signature covers the bytes, and names stay below the
 * directory). Every bad line is a diagnostic origin:LINE:COL; -EINVAL if there was any. Pure. */

struct sha256sum {
        char *name; /* as listed, without "./" */
        char *hex;  /* 64 lower-case hex digits */
};

struct sha256sums {
        struct sha256sum *items;
        size_t n;
};

int sha256sums_parse(const char *text, size_t size, const char *origin, struct diags *d, struct sha256sums *ret);
void sha256sums_done(struct sha256sums *s);
/* The hex digest listed for name, or NULL. */
const char *sha256sums_lookup(const struct sha256sums *s, const char *name);
