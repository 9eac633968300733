/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "lib-cleanup.h"
#include "log.h"
#include "progress.h"
#include "spawn-run.h"
#include "unpack.h"
#include "util.h"

/* The read side hashes every byte it hands to libarchive, so the stored sum is checked in the
 * same pass that extracts. */
struct hashing_reader {
        int fd;
        EVP_MD_CTX *md;
        unsigned char *buf;
        size_t bufsz;
        uint64_t done, total;
        int error;
};

static ssize_t hr_read(struct archive *a, void *userdata, const void **ret_buf) {
        struct hashing_reader *h = userdata;
        if (interrupted()) {
                h->error = -EINTR;
                archive_set_error(a, EINTR, "interrupted");
                return -1;
        }
        for (;;) {
                ssize_t n = read(h->fd, h->buf, h->bufsz);
                if (n < 0 && errno == EINTR && !interrupted())
                        continue;
                if (n < 0) {
                        h->error = -errno;
                        archive_set_error(a, errno, "read failed");
                        return -1;
                }
                if (h->md && n > 0)
                        EVP_DigestUpdate(h->md, h->buf, n);
                h->done += n;
                progress_bar("unpack", h->done, h->total);
                *ret_buf = h->buf;
                return n;
        }
}

static int copy_data(struct archive *ar, struct archive *aw) {
        for (;;) {
                const void *buf;
                size_t size;
                la_int64_t off;
                int r = archive_read_data_block(ar, &buf, &size, &off);
                if (r == ARCHIVE_EOF)
                        return ARCHIVE_OK;
                if (r < ARCHIVE_OK)
                        return r;
                la_ssize_t w = archive_write_data_block(aw, buf, size, off);
                if (w < ARCHIVE_OK)
                        return (int) w;
        }
}

static int extract_failed(struct archive *ar, struct archive *aw, const struct hashing_reader *h, const char *name) {
        if (h->error)
                return h->error;
        int err = archive_errno(aw) ? archive_errno(aw) : archive_errno(ar);
        const char *msg = archive_error_string(aw) ? archive_error_string(aw) : archive_error_string(ar);
        return log_error_errno(err == ENOSPC ? -ENOSPC : -EIO, "Failed to extract %s: %s%s", name, strna(msg),
                               err == ENOSPC ? " (the disk is full)" : "");
}

/* Every entry of ar onto the disk (the working directory), then the directories' times and modes. */
static int extract_entries(struct archive *ar, struct archive *aw, const struct hashing_reader *h, const char *tar_path,
                           uint64_t *ret_bytes) {
        uint64_t bytes = 0;
        for (;;) {
                struct archive_entry *e;
                int a = archive_read_next_header(ar, &e);
                if (a == ARCHIVE_EOF)
                        break;
                if (a < ARCHIVE_WARN)
                        return h->error ? h->error
                                        : log_error_errno(-EIO, "Failed to read %s: %s", tar_path, archive_error_string(ar));
                const char *name = archive_entry_pathname(e);
                if (archive_write_header(aw, e) < ARCHIVE_WARN)
                        return extract_failed(ar, aw, &(struct hashing_reader) {}, name);
                if (archive_entry_size(e) > 0) {
                        if (copy_data(ar, aw) < ARCHIVE_WARN)
                                return extract_failed(ar, aw, h, name);
                        bytes += archive_entry_size(e);
                }
                if (archive_write_finish_entry(aw) < ARCHIVE_WARN)
                        return log_error_errno(-EIO, "Failed to finish %s: %s", name, archive_error_string(aw));
        }
        /* Directory times and modes are set here, after their contents. */
        if (archive_write_close(aw) != ARCHIVE_OK)
                return log_error_errno(-EIO, "Failed to finish extraction: %s", archive_error_string(aw));
        *ret_bytes = bytes;
        return 0;
}

/* Hash what follows the end-of-archive marker too (the sum covers the whole file), and compare. */
static int check_sum(int fd, EVP_MD_CTX *md, unsigned char *buf, size_t bufsz, const char *tar_path,
                     const char *expected_sha256) {
        for (;;) {
                ssize_t n = read(fd, buf, bufsz);
                if (n < 0 && errno == EINTR && !interrupted())
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        break;
                EVP_DigestUpdate(md, buf, n);
        }
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned dl = 0;
        EVP_DigestFinal_ex(md, d, &dl);
        char hex[2 * EVP_MAX_MD_SIZE + 1];
        hex_format(d, dl, hex);
        if (!streq(hex, expected_sha256))
                return log_error_errno(-EBADMSG, "%s is corrupt: sha256 %s, expected %s", tar_path, hex, expected_sha256);
        return 0;
}

static struct archive *disk_writer(void) {
        struct archive *aw = archive_write_disk_new();
        if (!aw)
                return NULL;
        /* Owners by number only: the names in a Debian tarball mean nothing on the build host. */
        int flags = ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_XATTR |
                    ARCHIVE_EXTRACT_ACL | ARCHIVE_EXTRACT_FFLAGS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                    ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
        archive_write_disk_set_options(aw, flags);
        return aw;
}

int unpack_tarball(const char *tar_path, const char *dest_dir, const char *expected_sha256, uint64_t *ret_bytes) {
        _cleanup_close_ int fd = open(tar_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", tar_path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        _cleanup_close_ int destfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (destfd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", dest_dir);

        _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = NULL;
        if (expected_sha256) {
                md = EVP_MD_CTX_new();
                if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
                        return -ENOMEM;
        }
        _cleanup_free_ unsigned char *buf = malloc(1 << 20);
        if (!buf)
                return -ENOMEM;
        struct hashing_reader h = { .fd = fd, .md = md, .buf = buf, .bufsz = 1 << 20, .total = st.st_size };

        _cleanup_(archive_read_freep) struct archive *ar = archive_read_new();
        _cleanup_(archive_write_freep) struct archive *aw = disk_writer();
        if (!ar || !aw)
                return -ENOMEM;
        archive_read_support_format_tar(ar);
        archive_read_support_filter_all(ar);
        if (archive_read_open(ar, &h, NULL, hr_read, NULL) != ARCHIVE_OK)
                return log_error_errno(-EIO, "Failed to read %s: %s", tar_path, archive_error_string(ar));

        /* archive_write_disk's SECURE_* checks work on relative names (absolute ones are refused, and
         * every symlink on the way is checked, including those above the tree): extract with the
         * tree as the working directory, and go back afterwards. */
        _cleanup_close_ int savedcwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (savedcwd < 0)
                return -errno;
        if (fchdir(destfd) < 0)
                return -errno;
        uint64_t bytes = 0;
        int r = extract_entries(ar, aw, &h, tar_path, &bytes);
        if (r >= 0 && md)
                r = check_sum(fd, md, buf, 1 << 20, tar_path, expected_sha256);
        progress_bar_end();
        if (fchdir(savedcwd) < 0 && r >= 0)
                r = -errno;
        if (r < 0)
                return r;
        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}

/* The entry's name in the tarball ("./REL", "." for the top) and no owner names. Returns the
 * path on disk it was read from (for its data), or NULL (out of memory). */
static char *pack_entry_name(struct archive_entry *e, const char *src_dir) {
        const char *p = archive_entry_sourcepath(e);
        if (!p)
                p = archive_entry_pathname(e);
        size_t plen = strlen(src_dir);
        const char *rel = p + (strneq(p, src_dir, plen) ? plen : 0);
        while (*rel == '/')
                rel++;
        _cleanup_free_ char *name = strprintf("./%s", rel);
        char *srcpath = strdup(p);
        if (!name || !srcpath) {
                free(srcpath);
                return NULL;
        }
        archive_entry_set_pathname(e, *rel ? name : ".");
        /* Names of the build host's users would be misleading; owners are numbers. */
        archive_entry_set_uname(e, NULL);
        archive_entry_set_gname(e, NULL);
        return srcpath;
}

static int pack_file_data(struct archive *aw, const char *srcpath, char *buf, size_t bufsz, uint64_t *bytes) {
        _cleanup_close_ int in = open(srcpath, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (in < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", srcpath);
        for (;;) {
                ssize_t n = read(in, buf, bufsz);
                if (n < 0 && errno == EINTR && !interrupted())
                        continue;
                if (n < 0)
                        return log_error_errno(-errno, "Failed to read %s: %m", srcpath);
                if (n == 0)
                        return 0;
                if (archive_write_data(aw, buf, n) < 0) {
                        int err = archive_errno(aw);
                        return log_error_errno(err == ENOSPC ? -ENOSPC : -EIO, "Failed to write tarball: %s",
                                               archive_error_string(aw));
                }
                *bytes += n;
        }
}

/* One entry read from disk into the tarball: hard links resolved (the first one carries the data). */
static int pack_one(struct archive *aw, struct archive_entry_linkresolver *lr, struct archive_entry *e,
                    const char *src_dir, char *buf, size_t bufsz, uint64_t *bytes) {
        _cleanup_free_ char *srcpath = pack_entry_name(e, src_dir);
        if (!srcpath) {
                archive_entry_free(e);
                return -ENOMEM;
        }
        struct archive_entry *spare = NULL;
        archive_entry_linkify(lr, &e, &spare);
        int r = 0;
        if (e) {
                if (archive_write_header(aw, e) < ARCHIVE_WARN)
                        r = log_error_errno(-EIO, "Failed to write %s: %s", archive_entry_pathname(e),
                                            archive_error_string(aw));
                else if (archive_entry_filetype(e) == AE_IFREG && archive_entry_size(e) > 0)
                        r = pack_file_data(aw, srcpath, buf, bufsz, bytes);
        }
        /* linkify may hand e back or keep it; free only what we still own. */
        if (e)
                archive_entry_free(e);
        if (spare)
                archive_entry_free(spare);
        return r;
}

static int pack_entries(struct archive *disk, struct archive *aw, struct archive_entry_linkresolver *lr,
                        const char *src_dir, uint64_t *bytes) {
        _cleanup_free_ char *buf = malloc(1 << 20);
        if (!buf)
                return -ENOMEM;
        for (;;) {
                if (interrupted())
                        return -EINTR;
                struct archive_entry *e = archive_entry_new();
                if (!e)
                        return -ENOMEM;
                int a = archive_read_next_header2(disk, e);
                if (a == ARCHIVE_EOF) {
                        archive_entry_free(e);
                        return 0;
                }
                if (a < ARCHIVE_WARN) {
                        archive_entry_free(e);
                        return log_error_errno(-EIO, "Failed to read %s: %s", src_dir, archive_error_string(disk));
                }
                archive_read_disk_descend(disk);
                /* A socket a package's postinst left behind (gpg-agent's, say) is a runtime
                 * artifact, not content: tar skips them too, and no image should carry one. */
                if (archive_entry_filetype(e) == AE_IFSOCK) {
                        archive_entry_free(e);
                        continue;
                }
                int r = pack_one(aw, lr, e, src_dir, buf, 1 << 20, bytes);
                if (r < 0)
                        return r;
        }
}

int pack_tree(const char *src_dir, int fd, uint64_t *ret_bytes) {
        _cleanup_(archive_read_freep) struct archive *disk = archive_read_disk_new();
        _cleanup_(archive_write_freep) struct archive *aw = archive_write_new();
        if (!disk || !aw)
                return -ENOMEM;
        archive_read_disk_set_symlink_physical(disk);
        archive_read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_TRAVERSE_MOUNTS);
        archive_write_set_format_pax_restricted(aw);
        archive_write_set_bytes_per_block(aw, 64 * 1024);
        if (archive_write_open_fd(aw, fd) != ARCHIVE_OK)
                return log_error_errno(-EIO, "Failed to start tarball: %s", archive_error_string(aw));
        if (archive_read_disk_open(disk, src_dir) != ARCHIVE_OK)
                return log_error_errno(-EIO, "Failed to read %s: %s", src_dir, archive_error_string(disk));

        struct archive_entry_linkresolver *lr = archive_entry_linkresolver_new();
        if (!lr)
                return -ENOMEM;
        archive_entry_linkresolver_set_strategy(lr, ARCHIVE_FORMAT_TAR_PAX_RESTRICTED);
        uint64_t bytes = 0;
        int r = pack_entries(disk, aw, lr, src_dir, &bytes);
        if (r >= 0 && archive_write_close(aw) != ARCHIVE_OK) {
                int err = archive_errno(aw);
                r = log_error_errno(err == ENOSPC ? -ENOSPC : -EIO, "Failed to finish tarball: %s",
                                    archive_error_string(aw));
        }
        archive_entry_linkresolver_free(lr);
        if (r < 0)
                return r;
        if (ret_bytes)
                *ret_bytes = bytes;
        return 0;
}
