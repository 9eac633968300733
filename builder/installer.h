/* SPDX-License-Identifier: MIT */
#pragma once

#include "build.h"

/* The installer environment that the ISO and the PXE set boot: the role image's own kernel, an
 * initrd written in-process (cpio newc + zstd through libarchive) holding busybox, /init
 * (iso/installer/init) and the kernel modules for disks, CD, USB, NICs, squashfs and iso9660, and
 * a small live root as squashfs (mksquashfs) holding rackstack-firstboot, the files listed in
 * iso/installer/files and the shared libraries they load, all taken from the role's tree. */

struct installer_plan {
        char *kver;          /* "6.1.0-50-amd64" */
        char *kernel;        /* tree-relative: "boot/vmlinuz-6.1.0-50-amd64" */
        char **modules;      /* relative to lib/modules/KVER, dependencies first */
        char **modules_net;  /* the same for a network install, loaded after `modules`, none of them */
        char **modules_skipped; /* asked for in iso/installer/modules, not a module of this kernel */
        char **live_files;   /* tree-relative paths copied into the live root (files, libraries, loader) */
        char **lib_dirs;     /* the library directories used, for LD_LIBRARY_PATH */
};

void installer_plan_done(struct installer_plan *p);

/* Read what the installer needs from tree_dir (read only): the newest kernel in boot/, the
 * closure of module_names over its modules.dep, and the closure of `files` (paths in the tree, a
 * leading '?' for optional ones) over DT_NEEDED. Symlinks resolve inside the tree. */
int installer_plan_make(const char *tree_dir, char *const *module_names, char *const *net_module_names,
                        char *const *files, struct installer_plan *ret);

struct installer_env {
        char *kver;
        char *kernel;   /* paths in the work directory */
        char *initrd;
        char *squashfs;
        char *label;    /* the ISO volume label the initrd looks for */
        /* The ISO's and the PXE set's UEFI loaders, made by media_prepare_loaders() from the role
         * tree's own GRUB while the tree is there (NULL: made from the host's at write time). */
        char *grub_iso_efi;
        char *grub_net_efi;
};

void installer_env_done(struct installer_env *e);

/* ISO volume label for a host: "RACKSTACK_" + host, upper case, '-' and '.' as '_', at most 32
 * characters (ISO 9660). */
char *installer_label(const char *host);

/* Build the environment into ctx->work_dir/installer/ from ctx->tree_dir (before the tree is
 * removed) and the templates in ctx->data_dir/iso/. */
int installer_build(struct build_ctx *ctx, struct installer_env *ret);

/* Read a list file (iso/installer/modules, modules-net, files): one or more words a line, '#' comments. */
int installer_read_list(const char *path, char ***ret);
