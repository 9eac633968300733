/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* What the dynamic loader needs for one ELF file: its interpreter (PT_INTERP) and the libraries
 * it names (DT_NEEDED), read from the file's own headers, so the installer's live root can be
 * filled from the role's tree without running anything in it. 64-bit little-endian only (x86-64,
 * aarch64); anything else is -EPROTONOSUPPORT, a truncated or inconsistent file -EBADMSG. */

struct elf_deps {
        char *interp;   /* "/lib64/ld-linux-x86-64.so.2", NULL for a static binary or a library */
        char **needed;  /* strv of sonames, in file order; never NULL on success */
};

int elf_deps_parse(const void *data, size_t size, struct elf_deps *ret);
void elf_deps_done(struct elf_deps *d);
