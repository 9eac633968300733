/* SPDX-License-Identifier: MIT */
#pragma once

#include "image.h"

/* The configuration the image's own boot needs, written into the tree before it is copied:
 * /etc/fstab and /boot/grub/grub.cfg. The renderers are pure; tree_write_boot_config() does the
 * I/O. */

/* /etc/fstab by filesystem UUID for every partition of l that has a filesystem and a mount point
 * (l->parts[i] is disk->parts[i]). NULL on OOM. */
char *fstab_render(const struct disk_spec *disk, const struct image_layout *l);

struct grub_entry_spec {
        const char *title;       /* "Debian GNU/Linux" */
        const char *root_uuid;   /* the root filesystem */
        const char *kernel;      /* path on the root filesystem: "/vmlinuz" or "/boot/vmlinuz-VER" */
        const char *initrd;      /* likewise, NULL for none */
        const char *version;     /* kernel version for the fallback entry, NULL for none */
        bool has_initrd_version; /* /boot/initrd.img-VERSION exists */
};

/* grub.cfg: serial and console terminals, a one-second menu, an entry through the kernel
 * package's /vmlinuz symlink (which survives kernel upgrades) and one naming the version found. */
char *grub_cfg_render(const struct grub_entry_spec *e);

/* The early configuration built into the GRUB images: find the root filesystem by UUID, read
 * its grub.cfg. */
char *grub_early_cfg_render(const char *root_uuid);

/* openat2(RESOLVE_IN_ROOT) beneath treefd; O_CLOEXEC added. fd or -errno. */
int tree_open(int treefd, const char *path, int flags);
/* The newest /boot/vmlinuz-VERSION in the tree (by version order) that has
 * lib/modules/VERSION/modules.dep: the one rule for the image's boot entry and the installer;
 * -ENOENT if there is none. */
int tree_find_kernel(int tree_fd, char **ret_version);

/* Write etc/fstab and boot/grub/grub.cfg into the tree, and make the mount points. */
int tree_write_boot_config(const char *tree, const struct build_ctx *ctx, const struct disk_spec *disk,
                           const struct image_layout *l, const struct image_part *root);
