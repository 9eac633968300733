/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-tool.h"
#include "ext4-delta.h"
#include "ext4-times.h"
#include "fileio.h"
#include "log.h"
#include "mkfs.h"
#include "outputs.h"
#include "util.h"

struct delta {
        const char *lower, *upper, *merged, *xattr_dir;
        struct buf script;
        char *reason; /* set: the upper directory cannot be expressed */
        struct ext4_delta_stats *st;
};

/* debugfs splits its command lines at blanks and reads quotes: names are written as they are,
 * so only names that need no quoting are taken. */
static bool plain(const char *s) {
        if (!*s)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
                      strchr("._+,:=@~-/", *s)))
                        return false;
        return true;
}

/* why: "a hard link", what: the path it is about. */
static int unsupported(struct delta *d, const char *why, const char *what) {
        if (!d->reason)
                d->reason = strprintf("%s: %s", why, what);
        return d->reason ? -EOPNOTSUPP : -ENOMEM;
}

/* ROOT-relative path "/a/b" of child name under rel ("" for the root). */
static char *child_of(const char *rel, const char *name) {
        return strprintf("%s/%s", rel, name);
}

static char *under(const char *top, const char *rel) {
        return strprintf("%s%s", top, rel);
}

static int list_dir(const char *path, char ***ret) {
        struct dirent **ents = NULL;
        int n = scandir(path, &ents, NULL, alphasort);
        if (n < 0)
                return -errno;
        _cleanup_strv_free_ char **l = calloc(1, sizeof(char *));
        int r = l ? 0 : -ENOMEM;
        for (int i = 0; i < n; i++) {
                if (r >= 0 && !streq(ents[i]->d_name, ".") && !streq(ents[i]->d_name, ".."))
                        r = strv_extend(&l, ents[i]->d_name);
                free(ents[i]);
        }
        free(ents);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

static bool xattr_is(const char *path, const char *name, const char *value) {
        char v[16];
        ssize_t n = lgetxattr(path, name, v, sizeof v);
        return n >= 0 && (size_t) n == strlen(value) && memcmp(v, value, (size_t) n) == 0;
}

static bool has_xattr(const char *path, const char *name) {
        return lgetxattr(path, name, NULL, 0) >= 0;
}

static bool is_whiteout(const struct stat *st) {
        return S_ISCHR(st->st_mode) && st->st_rdev == makedev(0, 0);
}

/* Remove rel, as the lower tree has it, from the filesystem: depth first. */
static int remove_lower(struct delta *d, const char *rel) {
        _cleanup_free_ char *lp = under(d->lower, rel);
        struct stat st;
        if (!lp)
                return -ENOMEM;
        if (lstat(lp, &st) < 0)
                return errno == ENOENT ? 0 : -errno;
        if (!plain(rel))
                return unsupported(d, "a lower name that needs quoting", rel);
        if (S_ISDIR(st.st_mode)) {
                _cleanup_strv_free_ char **names = NULL;
                int r = list_dir(lp, &names);
                for (char **n = names; r >= 0 && *n; n++) {
                        _cleanup_free_ char *c = child_of(rel, *n);
                        r = c ? remove_lower(d, c) : -ENOMEM;
                }
                if (r < 0)
                        return r;
                buf_printf(&d->script, "rmdir %s\n", rel);
        } else
                buf_printf(&d->script, "rm %s\n", rel);
        d->st->removed++;
        return 0;
}

/* Extended attributes of the merged entry (overlayfs hides its own trusted.overlay.*), each
 * value in a file of xattr_dir for ea_set -f. */
static int put_xattrs(struct delta *d, const char *rel, const char *mp) {
        char names[4096];
        ssize_t n = llistxattr(mp, names, sizeof names);
        if (n < 0)
                return errno == ENOTSUP ? 0 : -errno;
        for (const char *x = names; x < names + n; x += strlen(x) + 1) {
                if (startswith(x, "trusted.overlay."))
                        continue;
                if (!d->xattr_dir || !plain(x))
                        return unsupported(d, "an extended attribute that cannot be passed", x);
                char v[65536];
                ssize_t vn = lgetxattr(mp, x, v, sizeof v);
                if (vn < 0)
                        return -errno;
                _cleanup_free_ char *f = strprintf("%s/%u", d->xattr_dir, d->st->xattrs++);
                if (!f)
                        return -ENOMEM;
                int r = write_file_atomic(AT_FDCWD, f, v, (size_t) vn, 0600);
                if (r < 0)
                        return r;
                buf_printf(&d->script, "ea_set -f %s %s %s\n", f, rel, x);
        }
        return 0;
}

static void put_meta(struct delta *d, const char *rel, const struct stat *st) {
        const char *p = *rel ? rel : "/";
        buf_printf(&d->script, "sif %s mode 0%o\n", p, (unsigned) st->st_mode);
        buf_printf(&d->script, "sif %s uid %u\nsif %s gid %u\n", p, (unsigned) st->st_uid, p, (unsigned) st->st_gid);
        buf_printf(&d->script, "sif %s atime @%lld\nsif %s mtime @%lld\nsif %s ctime @%lld\n", p,
                   (long long) st->st_atim.tv_sec, p, (long long) st->st_mtim.tv_sec, p,
                   (long long) st->st_ctim.tv_sec);
}

static int walk_upper(struct delta *d, const char *rel, bool fresh);

/* Write rel anew from the merged tree (a directory with everything the upper directory has in it). */
static int create(struct delta *d, const char *rel) {
        _cleanup_free_ char *mp = under(d->merged, rel), *up = under(d->upper, rel);
        struct stat st, ust;
        if (!mp || !up)
                return -ENOMEM;
        if (lstat(mp, &st) < 0 || lstat(up, &ust) < 0)
                return -errno;
        if (!plain(rel) || !plain(mp))
                return unsupported(d, "a name that needs quoting", mp);
        if (S_ISREG(st.st_mode)) {
                if (ust.st_nlink > 1)
                        return unsupported(d, "a hard link", rel);
                buf_printf(&d->script, "write %s %s\n", mp, rel);
        } else if (S_ISDIR(st.st_mode)) {
                if (has_xattr(up, "trusted.overlay.redirect"))
                        return unsupported(d, "a renamed lower directory", rel);
                buf_printf(&d->script, "mkdir %s\n", rel);
                int r = walk_upper(d, rel, true);
                if (r < 0)
                        return r;
        } else if (S_ISLNK(st.st_mode)) {
                char target[4096];
                ssize_t n = readlink(mp, target, sizeof target - 1);
                if (n < 0)
                        return -errno;
                target[n] = 0;
                if (!plain(target))
                        return unsupported(d, "a symbolic link target that needs quoting", rel);
                buf_printf(&d->script, "symlink %s %s\n", rel, target);
        } else if (S_ISFIFO(st.st_mode))
                buf_printf(&d->script, "mknod %s p\n", rel);
        else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
                buf_printf(&d->script, "mknod %s %c %u %u\n", rel, S_ISCHR(st.st_mode) ? 'c' : 'b',
                           major(st.st_rdev), minor(st.st_rdev));
        else
                return unsupported(d, "a socket", rel);
        /* A symlink's mode is its type and 0777 whatever the host says. */
        if (S_ISLNK(st.st_mode))
                st.st_mode = S_IFLNK | 0777;
        put_meta(d, rel, &st);
        d->st->written++;
        return put_xattrs(d, rel, mp);
}

/* The upper directory's entries under rel. fresh: the filesystem has nothing of the lower tree
 * below rel (a new or opaque directory), so nothing is merged. */
static int walk_upper(struct delta *d, const char *rel, bool fresh) {
        _cleanup_free_ char *up = under(d->upper, rel);
        _cleanup_strv_free_ char **names = NULL;
        if (!up)
                return -ENOMEM;
        int r = list_dir(up, &names);
        for (char **n = names; r >= 0 && *n; n++) {
                _cleanup_free_ char *c = child_of(rel, *n), *ucp = NULL, *lcp = NULL;
                struct stat ust, lst;
                if (!c || !(ucp = under(d->upper, c)) || !(lcp = under(d->lower, c)))
                        return -ENOMEM;
                if (lstat(ucp, &ust) < 0)
                        return -errno;
                bool in_lower = !fresh && lstat(lcp, &lst) == 0;
                if (is_whiteout(&ust)) {
                        if (in_lower)
                                r = remove_lower(d, c);
                        continue;
                }
                if (in_lower && S_ISDIR(ust.st_mode) && S_ISDIR(lst.st_mode) &&
                    !xattr_is(ucp, "trusted.overlay.opaque", "y")) {
                        if (has_xattr(ucp, "trusted.overlay.redirect"))
                                return unsupported(d, "a renamed lower directory", c);
                        r = walk_upper(d, c, false);
                        continue;
                }
                if (in_lower)
                        r = remove_lower(d, c);
                if (r >= 0)
                        r = create(d, c);
        }
        if (r < 0)
                return r;
        if (fresh)
                return 0; /* create() sets the directory's own metadata */
        /* A directory of both trees: its metadata as merged (set after its entries changed). */
        _cleanup_free_ char *mp = under(d->merged, rel);
        struct stat st;
        if (!mp)
                return -ENOMEM;
        if (lstat(mp, &st) < 0)
                return -errno;
        put_meta(d, rel, &st);
        return 0;
}

int ext4_delta_script(const char *lower, const char *upper, const char *merged, const char *xattr_dir,
                      char **ret_script, struct ext4_delta_stats *stats, char **ret_reason) {
        struct delta d = { .lower = lower, .upper = upper, .merged = merged, .xattr_dir = xattr_dir, .st = stats };
        *stats = (struct ext4_delta_stats) {};
        int r = xattr_is(upper, "trusted.overlay.opaque", "y") ? unsupported(&d, "an opaque root", upper)
                                                               : walk_upper(&d, "", false);
        if (r < 0) {
                buf_done(&d.script);
                if (r == -EOPNOTSUPP)
                        *ret_reason = TAKE_PTR(d.reason);
                free(d.reason);
                return r;
        }
        char *s = buf_steal(&d.script);
        if (!s)
                s = strdup("");
        if (!s)
                return -ENOMEM;
        *ret_script = s;
        return 0;
}

char *ext4_delta_cache_path(const char *lower, uint64_t size, const char *label) {
        _cleanup_free_ char *what = strprintf("ext4-delta-1\nsize=%" PRIu64 "\nlabel=%s\n", size, label);
        _cleanup_free_ char *h = what ? sha256_hex(what, strlen(what)) : NULL;
        if (!h)
                return NULL;
        size_t n = strlen(lower);
        if (endswith(lower, ".tree"))
                n -= strlen(".tree");
        return strprintf("%.*s.ext4-%.16s", (int) n, lower, h);
}

/* mke2fs -d of the lower tree into a file of its own in the work directory, published by rename (the
 * work directory is in the cache: one filesystem): an image that exists is complete, and what a killed
 * build leaves goes with its work directory. Two builds racing both make one; the last rename stays. */
static int cache_make(const char *path, const struct image_part *part, const char *label, const char *lower,
                      const char *work_dir) {
        const char *slash = strrchr(path, '/');
        _cleanup_free_ char *dir = slash ? strndup(path, (size_t) (slash - path + (slash == path))) : strdup(".");
        if (!dir)
                return -ENOMEM;
        struct stat ws, cs;
        bool one_fs = stat(work_dir, &ws) == 0 && stat(dir, &cs) == 0 && ws.st_dev == cs.st_dev;
        _cleanup_free_ char *tmp = one_fs ? strprintf("%s/layer.ext4", work_dir)
                                          : strprintf("%s.tmp.%d", path, (int) getpid());
        if (!tmp)
                return -ENOMEM;
        {
                _cleanup_close_ int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0 || ftruncate(fd, (off_t) part->size) < 0)
                        return -errno;
        }
        struct image_part p = *part;
        p.offset = 0;
        int r = mkfs_ext4_at(tmp, &p, label, lower, -1);
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0)
                (void) unlink(tmp);
        return r;
}

/* The cached image's data into the partition; its holes stay holes in the fresh raw. */
static int copy_extents(const char *from, const char *raw, const struct image_part *part) {
        _cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int out = open(raw, O_WRONLY | O_CLOEXEC);
        struct stat st;
        if (in < 0 || out < 0 || fstat(in, &st) < 0)
                return -errno;
        if ((uint64_t) st.st_size != part->size)
                return -EBADMSG;
        off_t pos = 0;
        for (;;) {
                off_t data = lseek(in, pos, SEEK_DATA);
                if (data < 0)
                        return errno == ENXIO ? 0 : -errno;
                off_t hole = lseek(in, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                loff_t a = data, b = (loff_t) (part->offset + (uint64_t) data);
                for (size_t left = (size_t) (hole - data); left > 0;) {
                        ssize_t k = copy_file_range(in, &a, out, &b, left, 0);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                return k < 0 ? -errno : -EIO;
                        left -= (size_t) k;
                }
                pos = hole;
        }
}

int ext4_from_layer(const char *raw, const struct image_part *part, const char *label, const char *lower,
                    const char *upper, const char *merged, const char *work_dir, struct ext4_delta_stats *stats,
                    char **ret_reason) {
        double t0 = now_monotonic();
        _cleanup_free_ char *xdir = strprintf("%s/ext4-delta-xattrs", work_dir);
        _cleanup_free_ char *cache = ext4_delta_cache_path(lower, part->size, label);
        _cleanup_free_ char *dev = strprintf("%s?offset=%" PRIu64, raw, part->offset);
        _cleanup_free_ char *script = NULL;
        if (!xdir || !cache || !dev)
                return -ENOMEM;
        if (!plain(xdir)) {
                *ret_reason = strprintf("the work directory's name needs quoting: %s", xdir);
                return *ret_reason ? -EOPNOTSUPP : -ENOMEM;
        }
        if (mkdir(xdir, 0700) < 0 && errno != EEXIST)
                return -errno;
        int r = ext4_delta_script(lower, upper, merged, xdir, &script, stats, ret_reason);
        if (r < 0)
                return r;

        if (access(cache, R_OK) < 0) {
                r = cache_make(cache, part, label, lower, work_dir);
                if (r < 0)
                        return log_error_errno(r, "Failed to make the layer's ext4 image %s: %m", cache);
                stats->cache_made = true;
        }
        r = copy_extents(cache, raw, part);
        if (r < 0)
                return log_error_errno(r, "Failed to copy %s into the image: %m", cache);
        const char *tune[] = { "tune2fs", "-U", part->fs_uuid, dev, NULL };
        r = tool_run(tune, NULL);
        if (r >= 0)
                r = ext4_debugfs_run(dev, script, NULL);
        if (r >= 0) {
                /* -p: exit 0 only when nothing needed fixing. */
                const char *fsck[] = { "e2fsck", "-f", "-p", "-E", "discard", dev, NULL };
                r = tool_run(fsck, NULL);
        }
        if (r < 0)
                return r;
        stats->seconds = now_monotonic() - t0;
        return 0;
}
