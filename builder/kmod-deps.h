/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

/* The kernel modules an installer initrd needs: the names it asks for plus everything they
 * depend on, read from the kernel's own modules.dep ("kernel/fs/isofs/isofs.ko: dep.ko ..."), in
 * an order insmod can load them one by one (each module after its dependencies). */

struct kmod_entry {
        char *name;  /* normalised: basename without .ko[.xz|.zst|.gz], '-' as '_' */
        char *path;  /* as in modules.dep, relative to /lib/modules/KVER */
        char **deps; /* paths */
};

struct kmod_table {
        struct kmod_entry *v;
        size_t n;
};

void kmod_table_done(struct kmod_table *t);
/* Parse modules.dep text; -EBADMSG (with *ret_line set to the 1-based line) for a malformed line. */
int kmod_table_parse(const char *text, struct kmod_table *ret, unsigned *ret_line);
/* "ehci-pci" -> "ehci_pci"; "kernel/x/ehci-pci.ko.zst" -> "ehci_pci". NULL on OOM. */
char *kmod_name_normalize(const char *name_or_path);
/* The load order for `names` (strv): dependency paths first, each once. Names not in the table go
 * to *ret_missing (built into the kernel, or not built at all: the caller decides, e.g. with
 * modules.builtin). -ELOOP for a dependency cycle. */
int kmod_closure(const struct kmod_table *t, char *const *names, char ***ret_paths, char ***ret_missing);
