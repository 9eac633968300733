/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "initrd-writer.h"
#include "lib-cleanup.h"
#include "util.h"

static int archive_errno_of(struct archive *a) {
        int e = archive_errno(a);
        return e > 0 ? -e : -EIO;
}

void initrd_writer_done(struct initrd_writer *w) {
        if (w->a)
                archive_write_free(w->a);
        strv_free(w->dirs);
        *w = (struct initrd_writer) {};
}

int initrd_writer_open(const char *path, int64_t mtime, struct initrd_writer *ret) {
        struct initrd_writer w = { .mtime = mtime, .filter = "zstd" };
        w.a = archive_write_new();
        if (!w.a)
                return -ENOMEM;
        int r = 0;
        if (archive_write_set_format_cpio_newc(w.a) != ARCHIVE_OK)
                r = archive_errno_of(w.a);
        if (r >= 0 && archive_write_add_filter_zstd(w.a) != ARCHIVE_OK) {
                /* libarchive built without libzstd: gzip boots just as well, 20% larger. */
                w.filter = "gzip";
                if (archive_write_add_filter_gzip(w.a) != ARCHIVE_OK)
                        r = archive_errno_of(w.a);
                else
                        (void) archive_write_set_filter_option(w.a, "gzip", "compression-level", "9");
        } else if (r >= 0)
                (void) archive_write_set_filter_option(w.a, "zstd", "compression-level", "15");
        /* newc needs no padding to a block size: the kernel reads to the end of the compressed
         * stream. */
        if (r >= 0 && archive_write_set_bytes_in_last_block(w.a, 1) != ARCHIVE_OK)
                r = archive_errno_of(w.a);
        if (r >= 0 && archive_write_open_filename(w.a, path) != ARCHIVE_OK)
                r = archive_errno_of(w.a);
        if (r < 0) {
                initrd_writer_done(&w);
                return r;
        }
        *ret = w;
        return 0;
}

static struct archive_entry *entry_new(struct initrd_writer *w, const char *name, mode_t type, mode_t mode) {
        struct archive_entry *e = archive_entry_new();
        if (!e)
                return NULL;
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, type);
        archive_entry_set_perm(e, mode & 07777);
        archive_entry_set_uid(e, 0);
        archive_entry_set_gid(e, 0);
        archive_entry_set_mtime(e, w->mtime, 0);
        archive_entry_set_nlink(e, type == AE_IFDIR ? 2 : 1);
        archive_entry_set_ino(e, ++w->ino);
        /* The cpio writer insists on a size, also for entries without data. */
        archive_entry_set_size(e, 0);
        return e;
}

static int write_entry(struct initrd_writer *w, struct archive_entry *e, const void *data, size_t size) {
        int r = 0;
        if (archive_write_header(w->a, e) != ARCHIVE_OK)
                r = archive_errno_of(w->a);
        if (r >= 0 && size > 0 && archive_write_data(w->a, data, size) != (la_ssize_t) size)
                r = archive_errno_of(w->a);
        archive_entry_free(e);
        return r;
}

static int add_dir_raw(struct initrd_writer *w, const char *name, mode_t mode) {
        if (strv_contains(w->dirs, name))
                return 0;
        struct archive_entry *e = entry_new(w, name, AE_IFDIR, mode);
        if (!e)
                return -ENOMEM;
        int r = write_entry(w, e, NULL, 0);
        if (r >= 0)
                r = strv_extend(&w->dirs, name);
        return r;
}

/* "a/b/c" -> directories "a", "a/b" (mode 0755) unless written already. */
static int add_parents(struct initrd_writer *w, const char *name) {
        _cleanup_free_ char *p = strdup(name);
        if (!p)
                return -ENOMEM;
        for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                *s = 0;
                int r = isempty(p) ? 0 : add_dir_raw(w, p, 0755);
                *s = '/';
                if (r < 0)
                        return r;
        }
        return 0;
}

int initrd_add_dir(struct initrd_writer *w, const char *name, mode_t mode) {
        int r = add_parents(w, name);
        return r < 0 ? r : add_dir_raw(w, name, mode);
}

int initrd_add_data(struct initrd_writer *w, const char *name, const void *data, size_t size, mode_t mode) {
        int r = add_parents(w, name);
        if (r < 0)
                return r;
        struct archive_entry *e = entry_new(w, name, AE_IFREG, mode);
        if (!e)
                return -ENOMEM;
        archive_entry_set_size(e, size);
        return write_entry(w, e, data, size);
}

int initrd_add_symlink(struct initrd_writer *w, const char *name, const char *target) {
        int r = add_parents(w, name);
        if (r < 0)
                return r;
        struct archive_entry *e = entry_new(w, name, AE_IFLNK, 0777);
        if (!e)
                return -ENOMEM;
        archive_entry_set_symlink(e, target);
        return write_entry(w, e, NULL, 0);
}

int initrd_add_chrdev(struct initrd_writer *w, const char *name, mode_t mode, unsigned major, unsigned minor) {
        int r = add_parents(w, name);
        if (r < 0)
                return r;
        struct archive_entry *e = entry_new(w, name, AE_IFCHR, mode);
        if (!e)
                return -ENOMEM;
        archive_entry_set_rdevmajor(e, major);
        archive_entry_set_rdevminor(e, minor);
        return write_entry(w, e, NULL, 0);
}

int initrd_writer_close(struct initrd_writer *w) {
        if (archive_write_close(w->a) != ARCHIVE_OK)
                return archive_errno_of(w->a);
        return 0;
}

int read_fd_decompressed(int fd, size_t max_size, char **ret, size_t *ret_size) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        if (archive_read_open_fd(a, fd, 64 * 1024) != ARCHIVE_OK)
                return archive_errno_of(a);
        struct archive_entry *e;
        if (archive_read_next_header(a, &e) != ARCHIVE_OK)
                return archive_errno_of(a);
        struct buf b = {};
        for (;;) {
                char chunk[64 * 1024];
                la_ssize_t n = archive_read_data(a, chunk, sizeof chunk);
                if (n < 0) {
                        buf_done(&b);
                        return archive_errno_of(a);
                }
                if (n == 0)
                        break;
                if (b.len + n > max_size) {
                        buf_done(&b);
                        return -EFBIG;
                }
                buf_put(&b, chunk, n);
        }
        size_t n = b.len;
        char *data = b.data ? buf_steal(&b) : strdup("");
        if (!data)
                return -ENOMEM;
        *ret = data;
        *ret_size = n;
        return 0;
}
