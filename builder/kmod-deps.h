/* SPDX-License-Identifier: MIT */
#pragma once

/* The kernel modules an installer initrd needs, resolved as modprobe resolves them, by libkmod over
 * the kernel's own indexes in /lib/modules/KVER: a name may be an alias (modules.alias:
 * "crypto-crc32c"); each module comes after its dependencies (modules.dep) and after its soft
 * "pre:" dependencies (modules.softdep: ext4 asks the crypto API for crc32c when it mounts,
 * which modules.dep does not say), its "post:" ones after it. The result is an order insmod can
 * load one by one. */

struct kmod_resolution {
        char **paths;   /* module files relative to the module directory, in load order */
        char **builtin; /* names asked for that are built into the kernel */
        char **missing; /* names nothing in this kernel provides */
};

void kmod_resolution_done(struct kmod_resolution *r);
/* moddir: a tree's lib/modules/KVER (with depmod's indexes). -ELOOP for a cycle of hard
 * dependencies, -EBADMSG for a module whose file is not there. */
int kmod_resolve(const char *moddir, char *const *names, struct kmod_resolution *ret);
/* "ehci-pci" -> "ehci_pci"; "kernel/x/ehci-pci.ko.zst" -> "ehci_pci". NULL on OOM. */
char *kmod_name_normalize(const char *name_or_path);
