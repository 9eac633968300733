/* SPDX-License-Identifier: MIT */
#include <blkid/blkid.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "cleanup.h"
#include "fileio.h"
#include "kcmdline.h"
#include "log.h"
#include "util.h"

#define KS_MAX (4 * 1024 * 1024)

static int copy_in(const char *root, const char *from, char **ret_path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_full(AT_FDCWD, from, KS_MAX, &data, &size);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = strprintf("%s/run/rackstack", root);
        _cleanup_free_ char *to = strprintf("%s/run/rackstack/ks.cfg", root);
        if (!dir || !to)
                return -ENOMEM;
        r = mkdir_parents_at(AT_FDCWD, dir, 0700);
        if (r < 0)
                return r;
        /* Answers may hold secrets: root-only, whatever the medium's mode was. */
        r = write_file_atomic(AT_FDCWD, to, data, size, 0600);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(to);
        return 0;
}

/* Mount a labelled volume read-only, copy PATH off it, unmount. */
static int from_label(const char *root, const char *label, const char *path, char **ret_path) {
        _cleanup_free_ char *dev = blkid_evaluate_tag("LABEL", label, NULL);
        if (!dev)
                return -ENOENT;
        _cleanup_free_ char *type = NULL;
        {
                blkid_probe pr = blkid_new_probe_from_filename(dev);
                if (pr) {
                        const char *t = NULL;
                        if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &t, NULL) == 0)
                                type = strdup(t);
                        blkid_free_probe(pr);
                }
        }
        _cleanup_free_ char *mnt = strprintf("%s/run/rackstack/oemdrv", root);
        if (!mnt || mkdir_parents_at(AT_FDCWD, mnt, 0700) < 0)
                return -ENOMEM;
        if (mount(dev, mnt, type ? type : "auto", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return log_warning_errno(-errno, "Cannot mount %s (LABEL=%s): %m", dev, label);
        _cleanup_free_ char *src = strprintf("%s/%s", mnt, path[0] == '/' ? path + 1 : path);
        int r = src ? copy_in(root, src, ret_path) : -ENOMEM;
        (void) umount(mnt);
        return r;
}

int answers_find(const char *root, char **ret_path, char **ret_origin) {
        _cleanup_free_ char *cmdline = NULL;
        int r;

        if (read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &cmdline, NULL) >= 0) {
                _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
                _cleanup_(ks_source_freep) struct ks_source *src = NULL;
                if (kcmdline_parse(cmdline, &kc) >= 0 && kcmdline_ks_source(kc, NULL, &src) >= 0) {
                        const char *spec = kcmdline_get(kc, "inst.ks") ?: kcmdline_get(kc, "ks");
                        _cleanup_free_ char *origin = strprintf("kernel command line (%s)", strna(spec));
                        if (src->kind == KS_SOURCE_PATH)
                                r = copy_in(root, src->path, ret_path);
                        else if (src->kind == KS_SOURCE_HD && src->hd_by == KS_HD_BY_LABEL)
                                r = from_label(root, src->device, src->path, ret_path);
                        else
                                r = log_warning_errno(-EOPNOTSUPP, "kickstart source '%s' is not supported yet",
                                                      strna(spec));
                        if (r < 0)
                                return r; /* asked for, not found: never fall back silently */
                        *ret_origin = TAKE_PTR(origin);
                        return origin || *ret_origin ? 0 : -ENOMEM;
                }
        }

        r = from_label(root, "OEMDRV", "ks.cfg", ret_path);
        if (r >= 0) {
                *ret_origin = strdup("OEMDRV volume");
                return *ret_origin ? 0 : -ENOMEM;
        }

        _cleanup_free_ char *baked = strprintf("%s/usr/share/rackstack/ks.cfg", root);
        if (baked && access(baked, R_OK) == 0) {
                r = copy_in(root, baked, ret_path);
                if (r < 0)
                        return r;
                *ret_origin = strdup("the image (/usr/share/rackstack/ks.cfg)");
                return *ret_origin ? 0 : -ENOMEM;
        }
        return -ENOENT;
}
