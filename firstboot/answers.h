/* SPDX-License-Identifier: MIT */
#pragma once

/* Where this boot's kickstart comes from, in order: the kernel command line (inst.ks= or ks=, a
 * path or hd:LABEL=…:/path), a volume labelled OEMDRV holding ks.cfg (as Anaconda finds it, with
 * libblkid), then the kickstart baked into the image. The chosen file is copied to
 * <root>/run/rackstack/ks.cfg (mode 0600) so later steps read one place; *ret_origin says where it
 * came from. Returns -ENOENT when no source has one. */
int answers_find(const char *root, char **ret_path, char **ret_origin);
