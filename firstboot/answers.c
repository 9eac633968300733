/* SPDX-License-Identifier: MIT */
#include <blkid/blkid.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "answers.h"
#include "cleanup.h"
#include "creds-place.h"
#include "creds.h"
#include "fileio.h"
#include "http.h"
#include "kcmdline.h"
#include "kickstart.h"
#include "log.h"
#include "signed-sums.h"
#include "util.h"

int answers_check_exposure(const char *label, const char *data, size_t size, unsigned mode, bool over_network,
                           char **ret_reason) {
        _cleanup_(ks_freep) struct ks *ks = NULL;
        _cleanup_(diags_done) struct diags d = {};
        /* A file that does not parse is reported by the loader with its FILE:LINE:COL; here we only
         * need to know whether a valid one carries secrets. */
        if (ks_parse_buffer(label, data, size, &d, &ks) < 0 || !ks_has_secrets(ks))
                return 0;
        const struct src *s = ks->rootpw.password ? &ks->rootpw.password_src : NULL;
        for (size_t i = 0; !s && i < ks->n_users; i++)
                if (ks->users[i].password)
                        s = &ks->users[i].password_src;
        char *reason = NULL;
        if (over_network)
                reason = strprintf("%s line %u holds a password hash, and a kickstart fetched over plain HTTP is "
                                   "readable by anyone on the network; give secrets as systemd credentials or on "
                                   "a root-only medium",
                                   label, s ? s->line : 0);
        else if (mode & 077)
                reason = strprintf("%s line %u holds a password hash, but the file has mode %04o (readable by group "
                                   "or others); chmod 0600 it (on an ISO, keep the mode with Rock Ridge)",
                                   label, s ? s->line : 0, mode & 07777);
        else
                return 0;
        if (!reason)
                return -ENOMEM;
        *ret_reason = reason;
        return -EACCES;
}

struct find_ctx {
        const char *root;
        const char *copy_name; /* under <root>/run/rackstack */
        char *how;             /* how the kept answers were verified */
};

int answers_keep_copy(const char *root, const char *name, const char *data, size_t size, char **ret_path) {
        _cleanup_free_ char *dir = strprintf("%s/run/rackstack", root);
        _cleanup_free_ char *to = strprintf("%s/run/rackstack/%s", root, name);
        if (!dir || !to)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, dir, 0700);
        if (r < 0)
                return r;
        /* Answers may hold secrets: root-only, whatever the source's mode was. */
        r = write_file_atomic(AT_FDCWD, to, data, size, 0600);
        if (r < 0)
                return r;
        *ret_path = TAKE_PTR(to);
        return 0;
}

int answers_accept(const struct answers_origin *o, const char *data, size_t size, const char *root,
                   const char *copy_name, char **ret_path, char **ret_how) {
        if (o->sha256) {
                _cleanup_free_ char *have = NULL;
                int r = sha256_buf_hex(data, size, &have);
                if (r < 0)
                        return r;
                if (strcasecmp(have, o->sha256) != 0) {
                        log_error("Refusing the kickstart: %s has sha256 %s, but %s says %s", o->label, have,
                                  o->sha256_signed ? "the signed SHA256SUMS" : "its pin", o->sha256);
                        return -EBADMSG;
                }
        }
        _cleanup_free_ char *reason = NULL;
        int r = answers_check_exposure(o->label, data, size, o->mode, o->over_network, &reason);
        if (r < 0) {
                if (reason)
                        log_error("Refusing the kickstart: %s", reason);
                return r;
        }
        if (o->over_network && !o->sha256) {
                log_error("Refusing the kickstart: %s came over plain HTTP unpinned; anyone on the path could choose "
                          "the disks to wipe. Give inst.ks.sha256=HEX (rackstack-build writes it into the PXE "
                          "configs), or list it in a signed SHA256SUMS", o->label);
                return -EPERM;
        }
        _cleanup_free_ char *how = o->sha256_signed ? strdup("signed SHA256SUMS") :
                                   o->sha256 ? strdup("sha256 pinned") :
                                   strprintf("local file mode %04o", o->mode & 07777);
        if (!how)
                return -ENOMEM;
        if ((r = answers_keep_copy(root, copy_name, data, size, ret_path)) < 0)
                return r;
        if (ret_how)
                *ret_how = TAKE_PTR(how);
        return 0;
}

/* Copy top/rel in. A medium (OEMDRV, a CD, the image) is someone else's tree: a symlink on it
 * could point the copy at any file of the host, so nothing in rel is followed and nothing leaves
 * top. A path the kernel command line names (top "/") is the operator's own: only its last
 * component must not be a symlink. */
static int copy_in(struct find_ctx *fc, const char *label, const char *top, const char *rel, char **ret_path) {
        int opened = top ? open_beneath(top, rel, O_RDONLY) : open(rel, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW);
        if (!top && opened < 0)
                opened = -errno;
        _cleanup_close_ int fd = opened;
        if (fd == -ELOOP)
                log_error("%s: a symlink on the way to the kickstart; refusing to follow it", label);
        if (fd < 0)
                return fd;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        if (st.st_size > KS_FILE_MAX)
                return -EFBIG;
        /* Read the fd we stat()ed, so that the mode we judge is the content's. */
        struct buf b = {};
        char chunk[16384];
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof chunk);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        buf_done(&b);
                        return -errno;
                }
                if (n == 0)
                        break;
                if (b.len + (size_t) n > KS_FILE_MAX) {
                        buf_done(&b);
                        return -EFBIG;
                }
                buf_put(&b, chunk, (size_t) n);
        }
        size_t size = b.len;
        _cleanup_free_ char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        struct answers_origin ao = { .label = label, .mode = st.st_mode };
        return answers_accept(&ao, data, size, fc->root, fc->copy_name, ret_path, &fc->how);
}

/* Mount dev read-only on <root>/run/rackstack/media, copy PATH off it, unmount. */
static int from_device(struct find_ctx *fc, const char *dev, const char *fstype, const char *label, const char *path,
                       char **ret_path) {
        _cleanup_free_ char *mnt = strprintf("%s/run/rackstack/media", fc->root);
        if (!mnt)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, mnt, 0700);
        if (r < 0)
                return r;
        if (mount(dev, mnt, fstype, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return log_warning_errno(-errno, "Cannot mount %s (%s) read-only: %m", dev, strna(fstype));
        r = copy_in(fc, label, mnt, path, ret_path);
        if (r >= 0) {
                /* The host's credentials bundle travels beside its kickstart (creds-place.h). */
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *creds = strprintf("%.*s" CREDS_FILE, slash ? (int) (slash - path + 1) : 0, path);
                int k = creds ? creds_copy_in_beneath(fc->root, mnt, creds) : -ENOMEM;
                if (k < 0 && k != -ENOENT)
                        log_warning_errno(k, "Cannot take in %s: %m", strna(creds));
        }
        (void) umount(mnt);
        return r;
}

static char *probe_type(const char *dev) {
        blkid_probe pr = blkid_new_probe_from_filename(dev);
        char *type = NULL;
        if (pr) {
                const char *t = NULL;
                if (blkid_do_safeprobe(pr) == 0 && blkid_probe_lookup_value(pr, "TYPE", &t, NULL) == 0)
                        type = strdup(t);
                blkid_free_probe(pr);
        }
        return type;
}

static int from_tag(struct find_ctx *fc, const char *tag, const char *value, const char *label, const char *path,
                    char **ret_path) {
        _cleanup_free_ char *dev = blkid_evaluate_tag(tag, value, NULL);
        if (!dev)
                return -ENOENT;
        _cleanup_free_ char *type = probe_type(dev);
        return from_device(fc, dev, type ? type : "auto", label, path, ret_path);
}

/* The optical drives (/dev/sr*) and anything else that carries an ISO 9660 filesystem (a USB stick
 * written with an ISO image, a virtual CD on some BMCs that shows up as a disk). */
static int cdrom_candidates(char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r;
        DIR *dir = opendir("/sys/class/block");
        if (dir) {
                struct dirent *de;
                while ((de = readdir(dir)))
                        if (startswith(de->d_name, "sr")) {
                                char *dev = strprintf("/dev/%s", de->d_name);
                                if (!dev || (r = strv_push(&l, dev)) < 0) {
                                        closedir(dir);
                                        return -ENOMEM;
                                }
                        }
                closedir(dir);
        }
        blkid_cache cache = NULL;
        if (blkid_get_cache(&cache, "/dev/null") == 0) {
                (void) blkid_probe_all(cache);
                blkid_dev_iterate it = blkid_dev_iterate_begin(cache);
                blkid_dev dev;
                if (it && blkid_dev_set_search(it, "TYPE", "iso9660") == 0)
                        while (blkid_dev_next(it, &dev) == 0) {
                                const char *name = blkid_dev_devname(dev);
                                if (!strv_contains(l, name) && strv_extend(&l, name) < 0) {
                                        blkid_dev_iterate_end(it);
                                        blkid_put_cache(cache);
                                        return -ENOMEM;
                                }
                        }
                blkid_dev_iterate_end(it);
                blkid_put_cache(cache);
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int from_cdrom(struct find_ctx *fc, const char *label, const char *path, char **ret_path) {
        _cleanup_strv_free_ char **devs = NULL;
        int r = cdrom_candidates(&devs);
        if (r < 0)
                return r;
        int last = -ENOENT;
        for (char **d = devs; d && *d; d++) {
                _cleanup_free_ char *type = probe_type(*d);
                if (!type)
                        continue; /* an empty drive */
                r = from_device(fc, *d, type, label, path, ret_path);
                if (r >= 0) {
                        log_info("kickstart %s found on %s", path, *d);
                        return 0;
                }
                if (r == -EACCES)
                        return r;
                last = r;
        }
        return log_error_errno(last, "No CD or ISO 9660 volume holds %s (tried %zu): %m", path, strv_length(devs));
}

static int from_http(struct find_ctx *fc, const struct answers_find_options *o, const struct ks_source *src,
                     const char *label, char **ret_path) {
        char hex[65] = {};
        if (src->has_sha256)
                hex_format(src->sha256, 32, hex);
        struct http_options ho = {
                .timeout_usec = o->http_timeout_usec ? o->http_timeout_usec : 10 * 1000000ull,
                .retries = o->http_retries,
                .max_size = KS_FILE_MAX,
                .sha256_hex = src->has_sha256 ? hex : NULL,
        };
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = http_get_buffer(src->url, &ho, &data, &size);
        if (r == -EBADMSG && src->has_sha256)
                return log_error_errno(r, "%s does not match inst.ks.sha256=%s (or the response was malformed)",
                                       src->url, hex);
        if (r == -EFBIG)
                return log_error_errno(r, "%s is larger than %u bytes: not a kickstart", src->url, KS_FILE_MAX);
        if (r < 0)
                return log_error_errno(r, "Failed to fetch %s: %m", src->url);
        /* The client checked the pin already; answers_accept checks it again, as for every source. */
        struct answers_origin ao = { .label = label, .over_network = true, .sha256 = src->has_sha256 ? hex : NULL };
        return answers_accept(&ao, data, size, fc->root, fc->copy_name, ret_path, &fc->how);
}

static int from_cmdline(struct find_ctx *fc, const struct answers_find_options *o, const struct kcmdline *kc,
                        const struct ks_source *src, char **ret_path, char **ret_label) {
        const char *key = kcmdline_find(kc, "inst.ks") ? "inst.ks" : "ks";
        _cleanup_free_ char *label = strprintf("kernel cmdline %s=%s", key, strna(kcmdline_get(kc, key)));
        if (!label)
                return -ENOMEM;
        int r;
        switch (src->kind) {
        case KS_SOURCE_PATH:
                r = copy_in(fc, label, NULL, src->path, ret_path);
                break;
        case KS_SOURCE_HD:
                if (src->hd_by == KS_HD_BY_NAME) {
                        _cleanup_free_ char *dev = startswith(src->device, "/dev/") ? strdup(src->device) :
                                                                                      strprintf("/dev/%s", src->device);
                        _cleanup_free_ char *type = dev ? probe_type(dev) : NULL;
                        r = dev ? from_device(fc, dev, type ? type : "auto", label, src->path, ret_path) : -ENOMEM;
                } else
                        r = from_tag(fc, src->hd_by == KS_HD_BY_LABEL ? "LABEL" : "UUID", src->device, label,
                                     src->path, ret_path);
                break;
        case KS_SOURCE_CDROM:
                r = from_cdrom(fc, label, src->path, ret_path);
                break;
        case KS_SOURCE_HTTP:
                r = from_http(fc, o, src, label, ret_path);
                break;
        default:
                r = log_error_errno(-EPROTONOSUPPORT, "%s: https is not supported (plain http with inst.ks.sha256= "
                                    "pins the content)", label);
        }
        /* Asked for, not found: never fall back to OEMDRV or the image silently. -ENOENT would read
         * as "no kickstart anywhere" to the caller. */
        if (r == -ENOENT)
                return log_error_errno(-ENXIO, "%s: no kickstart there", label);
        if (r < 0)
                return r;
        *ret_label = TAKE_PTR(label);
        return 0;
}

static int find(struct find_ctx *fc, const struct answers_find_options *o, char **ret_path, char **ret_label);

int answers_find(const char *root, const struct answers_find_options *o, char **ret_path, char **ret_label,
                 char **ret_how) {
        struct answers_find_options def = ANSWERS_FIND_OPTIONS_DEFAULT;
        if (!o)
                o = &def;
        struct find_ctx fc = { .root = root, .copy_name = o->copy_name ? o->copy_name : "ks.cfg" };
        int r = find(&fc, o, ret_path, ret_label);
        if (r >= 0 && ret_how)
                *ret_how = TAKE_PTR(fc.how);
        free(fc.how);
        return r;
}

static int find(struct find_ctx *fc, const struct answers_find_options *o, char **ret_path, char **ret_label) {
        const char *root = fc->root;
        _cleanup_free_ char *cmdline = NULL;
        int r;

        const char *line = o->cmdline;
        if (!line && read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &cmdline, NULL) >= 0)
                line = cmdline;
        _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
        r = kcmdline_parse(line, &kc);
        if (r < 0)
                return r;
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ks_source_freep) struct ks_source *src = NULL;
        r = kcmdline_ks_source(kc, &d, &src);
        if (r != -ENOENT) {
                diags_print(&d, stderr);
                if (r < 0)
                        return r;
                return from_cmdline(fc, o, kc, src, ret_path, ret_label);
        }

        if (!o->no_devices) {
                r = from_tag(fc, "LABEL", "OEMDRV", "OEMDRV:/ks.cfg", "ks.cfg", ret_path);
                if (r >= 0 || r == -EACCES) {
                        if (r < 0)
                                return r;
                        *ret_label = strdup("OEMDRV:/ks.cfg");
                        return *ret_label ? 0 : -ENOMEM;
                }
        }

        _cleanup_free_ char *baked = strprintf("%s/usr/share/rackstack/ks.cfg", root);
        if (!baked)
                return -ENOMEM;
        if (faccessat(AT_FDCWD, baked, F_OK, AT_SYMLINK_NOFOLLOW) == 0) {
                r = copy_in(fc, "image ks.cfg", root, "usr/share/rackstack/ks.cfg", ret_path);
                if (r < 0)
                        return r;
                *ret_label = strdup("image ks.cfg");
                return *ret_label ? 0 : -ENOMEM;
        }
        return -ENOENT;
}
