/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <blkid/blkid.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cleanup.h"
#include "disk-apply.h"
#include "fileio.h"
#include "http.h"
#include "install-apply.h"
#include "gpt.h"
#include "lib-cleanup.h"
#include "log.h"
#include "util.h"

#define IN_CHUNK (1024 * 1024)
#define OUT_CHUNK (4 * 1024 * 1024)
#define ZERO_GRAIN (64 * 1024)

/* ---- the source ---------------------------------------------------------------------------------- */

static char *source_path(const struct install_source *s, const char *name) {
        return strprintf("%s%s%s", s->base, endswith(s->base, "/") ? "" : "/", name);
}

int install_source_read(const struct install_source *s, const char *name, size_t max, char **ret, size_t *ret_size) {
        _cleanup_free_ char *path = source_path(s, name);
        if (!path)
                return -ENOMEM;
        if (s->http) {
                struct http_options o = { .timeout_usec = 30 * 1000000ULL, .retries = 3, .max_size = max };
                return http_get_buffer(path, &o, ret, ret_size);
        }
        return read_file_full(AT_FDCWD, path, max, ret, ret_size);
}

int install_source_peek(const struct install_source *s, const char *name, void *buf, size_t n, size_t *ret_n) {
        if (s->http)
                return -EOPNOTSUPP;
        _cleanup_free_ char *path = source_path(s, name);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        ssize_t k = pread(fd, buf, n, 0);
        if (k < 0)
                return -errno;
        *ret_n = (size_t) k;
        return 0;
}

/* ---- HTTP: a thread pushes the body into a pipe that libarchive's read callback pulls from ------ */

struct producer {
        char *url;
        int wfd;
        int r;
};

static int pipe_sink(const void *p, size_t n, void *userdata) {
        struct producer *pr = userdata;
        for (size_t done = 0; done < n;) {
                ssize_t k = write(pr->wfd, (const uint8_t *) p + done, n - done);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno; /* EPIPE: the reader gave up */
                done += (size_t) k;
        }
        return 0;
}

static void *producer_main(void *userdata) {
        struct producer *pr = userdata;
        struct http_options o = { .timeout_usec = 60 * 1000000ULL, .retries = 3 };
        pr->r = http_get(pr->url, &o, pipe_sink, pr);
        close(pr->wfd);
        pr->wfd = -1;
        return NULL;
}

/* ---- the stream ---------------------------------------------------------------------------------- */

struct stream {
        int fd;
        EVP_MD_CTX *md;
        uint8_t *buf;
        uint64_t bytes;
        uint64_t raw_size; /* from the first frame's header (HTTP: not known before) */
        int err;
};

static la_ssize_t stream_read(struct archive *a, void *userdata, const void **ret_buf) {
        struct stream *st = userdata;
        for (;;) {
                ssize_t k = read(st->fd, st->buf, IN_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        st->err = -errno;
                        archive_set_error(a, errno, "read failed");
                        return -1;
                }
                if (k > 0 && !EVP_DigestUpdate(st->md, st->buf, (size_t) k)) {
                        st->err = -EIO;
                        archive_set_error(a, EIO, "sha256 failed");
                        return -1;
                }
                if (st->bytes == 0 && k > 0)
                        (void) zstd_frame_content_size(st->buf, (size_t) k, &st->raw_size);
                st->bytes += (uint64_t) k;
                *ret_buf = st->buf;
                return k;
        }
}

/* The bytes libarchive did not ask for (a trailer after the last frame) are part of the file the
 * checksum covers. */
static int stream_drain(struct stream *st) {
        for (;;) {
                ssize_t k = read(st->fd, st->buf, IN_CHUNK);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return 0;
                if (!EVP_DigestUpdate(st->md, st->buf, (size_t) k))
                        return -EIO;
                st->bytes += (uint64_t) k;
        }
}

static char *digest_hex(EVP_MD_CTX *md) {
        unsigned char d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (!EVP_DigestFinal_ex(md, d, &n))
                return NULL;
        char *hex = malloc(2 * n + 1);
        if (!hex)
                return NULL;
        hex_format(d, n, hex);
        return hex;
}

/* ---- writing -------------------------------------------------------------------------------------- */

struct writer {
        int fd;
        bool is_blockdev;
        bool no_zeroout; /* the target cannot zero a range cheaply: write the zeros */
        bool tail_cleared;
        uint64_t size;
        uint64_t written, zeroed, end;
};

static const uint8_t zeros[OUT_CHUNK];

/* Zeros reach the disk either way: a cheap zeroing command where the device has one, else written. */
static int zero_range(struct writer *w, uint64_t off, uint64_t len) {
        if (!w->no_zeroout && off % 512 == 0 && len % 512 == 0) {
                int r;
                if (w->is_blockdev) {
                        uint64_t range[2] = { off, len };
                        r = RET_NERRNO(ioctl(w->fd, BLKZEROOUT, range));
                } else
                        r = RET_NERRNO(fallocate(w->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) off, (off_t) len));
                if (r >= 0) {
                        w->zeroed += len;
                        return 0;
                }
                if (r != -EOPNOTSUPP && r != -ENOTTY && r != -EINVAL)
                        return r;
                log_debug("zeroing ranges is not supported on the target (%s); writing zeros", strerror(-r));
                w->no_zeroout = true;
        }
        for (uint64_t done = 0; done < len;) {
                size_t n = (size_t) MIN(len - done, (uint64_t) OUT_CHUNK);
                int r = pwrite_exact(w->fd, zeros, n, off + done);
                if (r < 0)
                        return r;
                done += n;
        }
        return 0;
}

static bool all_zero(const uint8_t *p, size_t n) {
        return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

static bool zero_grain(const uint8_t *p, size_t n, size_t at) {
        return n - at >= ZERO_GRAIN && all_zero(p + at, ZERO_GRAIN);
}

/* Runs of data are written, runs of whole zero grains are zeroed. */
static int writer_put(struct writer *w, const uint8_t *p, size_t n) {
        if (w->end + n > w->size)
                return -ENOSPC;
        if (!w->tail_cleared) {
                /* what was at the disk's end (an old backup GPT, an md 0.90/1.0 superblock) must not
                 * outlive the install: the image does not reach there */
                uint64_t at = w->size > MiB ? w->size - MiB : 0, zeroed = w->zeroed;
                int r = zero_range(w, at, w->size - at);
                if (r < 0)
                        return r;
                w->zeroed = zeroed; /* counts the image's bytes only */
                w->tail_cleared = true;
        }
        for (size_t at = 0; at < n;) {
                bool z = zero_grain(p, n, at);
                size_t end = at + MIN((size_t) ZERO_GRAIN, n - at);
                while (end < n && zero_grain(p, n, end) == z)
                        end += MIN((size_t) ZERO_GRAIN, n - end);
                int r = z ? zero_range(w, w->end + at, end - at) : pwrite_exact(w->fd, p + at, end - at, w->end + at);
                if (r < 0)
                        return r;
                at = end;
        }
        w->end += n;
        w->written += n;
        return 0;
}

int install_wipe_ends(int fd, uint64_t size, uint64_t end_hint) {
        uint64_t offs[3] = { 0, size > MiB ? size - MiB : 0, end_hint > MiB ? end_hint - MiB : 0 };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(offs); i++) {
                if (i == 2 && !end_hint)
                        continue;
                size_t n = (size_t) MIN((uint64_t) MiB, size - MIN(offs[i], size));
                int k = pwrite_exact(fd, zeros, n, offs[i]);
                if (k < 0 && r == 0)
                        r = k;
        }
        int k = RET_NERRNO(fsync(fd));
        return r < 0 ? r : k;
}

/* ---- progress ------------------------------------------------------------------------------------- */

struct progress {
        bool on;
        double t0, last_t;
        int last_pct;
        uint64_t total; /* raw bytes, 0 = unknown */
};

static void progress_update(struct progress *pg, uint64_t done, bool final) {
        if (!pg->on)
                return;
        double now = now_monotonic(), dt = now - pg->t0;
        int pct = pg->total ? (int) (done * 100 / pg->total) : -1;
        /* every 10 %, and at least every 5 s */
        if (!final && now - pg->last_t < 5 && (pct < 0 || pct / 10 == pg->last_pct / 10))
                return;
        if (final && pct == 100 && pg->last_pct == 100)
                return;
        pg->last_t = now;
        pg->last_pct = pct;
        double mbs = dt > 0 ? done / 1e6 / dt : 0;
        if (pct >= 0)
                printf("rackstack-firstboot: install: %3d%% %.2f GiB of %.2f GiB, %.1f MB/s\n", pct, (double) done / GiB,
                       (double) pg->total / GiB, mbs);
        else
                printf("rackstack-firstboot: install: %.2f GiB, %.1f MB/s\n", (double) done / GiB, mbs);
        fflush(stdout);
}

/* ---- install_stream -------------------------------------------------------------------------------- */

static const char *filter_name(struct archive *a) {
        switch (archive_filter_code(a, 0)) {
        case ARCHIVE_FILTER_ZSTD: return "zstd";
        case ARCHIVE_FILTER_GZIP: return "gzip";
        case ARCHIVE_FILTER_NONE: return "none";
        default: return "other";
        }
}

static void evp_md_ctx_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}

static int stream_into(const struct install_plan *p, struct stream *st, struct writer *w, struct progress *pg,
                       EVP_MD_CTX *raw_md, const char **ret_filter) {
        _cleanup_(archive_read_freep) struct archive *a = archive_read_new();
        if (!a)
                return -ENOMEM;
        archive_read_support_filter_zstd(a);
        archive_read_support_filter_gzip(a);
        archive_read_support_format_raw(a);
        if (archive_read_open(a, st, NULL, stream_read, NULL) != ARCHIVE_OK)
                return log_error_errno(st->err ?: -EBADMSG, "%s: cannot open the compressed stream: %s", p->image,
                                       archive_error_string(a));
        struct archive_entry *e;
        if (archive_read_next_header(a, &e) != ARCHIVE_OK)
                return log_error_errno(st->err ?: -EBADMSG, "%s: cannot read the compressed stream: %s", p->image,
                                       archive_error_string(a));
        *ret_filter = filter_name(a);
        if (!pg->total)
                pg->total = st->raw_size;
        if (st->raw_size > w->size)
                return log_error_errno(-ENOSPC, "%s: the image is %" PRIu64 " bytes, larger than the disk (%" PRIu64 ")",
                                       p->image, st->raw_size, w->size);
        _cleanup_free_ uint8_t *out = NULL;
        if (posix_memalign((void **) &out, 4096, OUT_CHUNK) != 0)
                return -ENOMEM;
        for (bool eof = false; !eof;) {
                size_t fill = 0;
                while (fill < OUT_CHUNK) {
                        la_ssize_t k = archive_read_data(a, out + fill, OUT_CHUNK - fill);
                        if (k < 0)
                                return log_error_errno(st->err ?: -EBADMSG, "%s: decompression failed after %" PRIu64
                                                       " bytes: %s", p->image, w->written + fill, archive_error_string(a));
                        if (k == 0) {
                                eof = true;
                                break;
                        }
                        fill += (size_t) k;
                }
                if (raw_md && fill && !EVP_DigestUpdate(raw_md, out, fill))
                        return -EIO;
                int r = writer_put(w, out, fill);
                if (r == -ENOSPC)
                        return log_error_errno(r, "%s: the image is larger than the disk (%" PRIu64 " bytes)", p->image,
                                               w->size);
                if (r < 0)
                        return log_error_errno(r, "Failed to write to %s at offset %" PRIu64 ": %m", p->target_devnode,
                                               w->end);
                progress_update(pg, w->written, false);
        }
        return stream_drain(st);
}

int install_stream(const struct install_plan *p, const struct install_source *s, int fd, uint64_t target_size,
                   bool progress, struct install_stats *ret) {
        struct stat stt;
        if (fstat(fd, &stt) < 0)
                return -errno;
        struct writer w = { .fd = fd, .is_blockdev = S_ISBLK(stt.st_mode), .size = target_size };
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new(), *raw_md = p->raw_sha256 ? EVP_MD_CTX_new() : NULL;
        _cleanup_free_ uint8_t *inbuf = malloc(IN_CHUNK);
        if (!md || (p->raw_sha256 && !raw_md) || !inbuf)
                return -ENOMEM;
        if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL) || (raw_md && !EVP_DigestInit_ex(raw_md, EVP_sha256(), NULL)))
                return -EIO;

        _cleanup_free_ char *path = source_path(s, p->image);
        if (!path)
                return -ENOMEM;
        struct stream st = { .fd = -1, .md = md, .buf = inbuf };
        struct producer pr = { .url = path, .wfd = -1 };
        pthread_t thread;
        bool have_thread = false;
        int r;
        if (s->http) {
                int pfd[2];
                if (pipe2(pfd, O_CLOEXEC) < 0)
                        return -errno;
                (void) fcntl(pfd[1], F_SETPIPE_SZ, IN_CHUNK);
                st.fd = pfd[0];
                pr.wfd = pfd[1];
                r = -pthread_create(&thread, NULL, producer_main, &pr);
                if (r < 0) {
                        close(pfd[0]);
                        close(pfd[1]);
                        return r;
                }
                have_thread = true;
        } else {
                st.fd = open(path, O_RDONLY | O_CLOEXEC);
                if (st.fd < 0)
                        return log_error_errno(-errno, "Failed to open %s: %m", path);
                (void) posix_fadvise(st.fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        }

        struct progress pg = { .on = progress, .t0 = now_monotonic(), .total = p->raw_size, .last_pct = -10 };
        pg.last_t = pg.t0;
        const char *filter = "none";
        r = stream_into(p, &st, &w, &pg, raw_md, &filter);
        /* the reader is done: a producer still writing gets EPIPE and stops */
        close(st.fd);
        if (have_thread) {
                pthread_join(thread, NULL);
                if (r >= 0 && pr.r < 0)
                        r = log_error_errno(pr.r, "Failed to fetch %s: %m", path);
        }
        if (r >= 0)
                r = RET_NERRNO(fsync(fd));
        double seconds = now_monotonic() - pg.t0;

        _cleanup_free_ char *hex = r >= 0 ? digest_hex(md) : NULL;
        _cleanup_free_ char *raw_hex = r >= 0 && raw_md ? digest_hex(raw_md) : NULL;
        if (r >= 0 && (!hex || (raw_md && !raw_hex)))
                r = -ENOMEM;
        if (r >= 0 && !streq(hex, p->image_sha256))
                r = log_error_errno(-EBADMSG, "%s: sha256 mismatch: SHA256SUMS says %s, the stream hashed to %s", p->image,
                                    p->image_sha256, hex);
        if (r >= 0 && raw_hex && !streq(raw_hex, p->raw_sha256))
                r = log_error_errno(-EBADMSG, "%s: sha256 mismatch: SHA256SUMS says %s, the decompressed image hashed to %s",
                                    p->raw_name, p->raw_sha256, raw_hex);
        if (r < 0) {
                if (w.written > 0) {
                        log_error("%s: wiping its first and last MiB so that it cannot boot a partial or corrupt image",
                                  p->target_devnode);
                        int k = install_wipe_ends(fd, target_size, w.end);
                        if (k < 0)
                                log_error_errno(k, "Failed to wipe %s: %m", p->target_devnode);
                }
                return r;
        }
        progress_update(&pg, w.written, true);
        *ret = (struct install_stats) {
                .compressed = st.bytes, .written = w.written, .zeroed = w.zeroed, .seconds = seconds, .filter = filter,
        };
        return 0;
}

/* ---- the kickstart onto the installed root ---------------------------------------------------------- */

/* root-x86-64 (Discoverable Partitions), in the GPT's mixed-endian byte order */
static const uint8_t root_x86_64[16] = { 0xe3, 0xbc, 0x68, 0x4f, 0xcd, 0xe8, 0xb1, 0x4d,
                                         0x96, 0xe7, 0xfb, 0xca, 0xf9, 0x84, 0xb7, 0x09 };

static int find_root_partition(int fd, uint32_t ss, uint64_t *ret_start, uint64_t *ret_size) {
        _cleanup_(gpt_table_done) struct gpt_table t = {};
        int r = gpt_table_read(fd, ss, 1, false, &t);
        if (r < 0)
                return r;
        /* the Discoverable Partitions type first; a partition named "root" otherwise */
        const struct gpt_entry *by_name = NULL;
        struct gpt_entry e, named;
        for (uint32_t i = 0; i < t.h.n_entries; i++) {
                if (!gpt_entry_get(t.entries, t.h.entry_size, i, &e))
                        continue;
                bool typed = memcmp(e.type, root_x86_64, 16) == 0;
                if (!typed && (by_name || !streq(e.name, "root")))
                        continue;
                if (e.last_lba < e.first_lba)
                        return -EBADMSG;
                if (!typed) {
                        named = e;
                        by_name = &named;
                        continue;
                }
                *ret_start = e.first_lba * ss;
                *ret_size = (e.last_lba - e.first_lba + 1) * ss;
                return 0;
        }
        if (!by_name)
                return -ENOENT;
        *ret_start = by_name->first_lba * ss;
        *ret_size = (by_name->last_lba - by_name->first_lba + 1) * ss;
        return 0;
}

static char *probe_fstype(const char *node) {
        _cleanup_(blkid_free_probep) blkid_probe pr = blkid_new_probe_from_filename(node);
        const char *t = NULL;
        if (!pr || blkid_do_safeprobe(pr) != 0 || blkid_probe_lookup_value(pr, "TYPE", &t, NULL) != 0)
                return NULL;
        return strdup(t);
}

int install_copy_ks(const char *devnode, uint32_t ss, const char *ks_path) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int r = read_file_full(AT_FDCWD, ks_path, 4 * MiB, &data, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s: %m", ks_path);
        _cleanup_close_ int fd = open(devnode, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", devnode);
        uint64_t start, psize;
        r = find_root_partition(fd, ss, &start, &psize);
        if (r < 0)
                return log_error_errno(r, "%s: no root partition in the GPT: %m", devnode);
        _cleanup_free_ char *loop = NULL;
        _cleanup_close_ int loop_fd = -EBADF;
        r = loop_attach_fd(fd, start, psize, &loop_fd, &loop);
        if (r < 0)
                return log_error_errno(r, "Failed to attach a loop device to %s's root partition: %m", devnode);
        _cleanup_free_ char *fstype = probe_fstype(loop);
        char dir[] = "/tmp/rackstack-install-root.XXXXXX";
        if (!mkdtemp(dir)) {
                r = log_error_errno(-errno, "Failed to create a mount point: %m");
                (void) ioctl(loop_fd, LOOP_CLR_FD);
                return r;
        }
        if (mount(loop, dir, fstype ? fstype : "ext4", MS_NOSUID | MS_NODEV, NULL) < 0) {
                r = log_error_errno(-errno, "Failed to mount %s's root partition (%s): %m", devnode, strna(fstype));
                (void) rmdir(dir);
                (void) ioctl(loop_fd, LOOP_CLR_FD);
                return r;
        }
        _cleanup_free_ char *target = strprintf("%s/%s", dir, KS_INSTALLED_PATH);
        _cleanup_free_ char *parent = strprintf("%s/usr/share/rackstack", dir);
        r = target && parent ? 0 : -ENOMEM;
        if (r >= 0)
                r = mkdir_parents_at(AT_FDCWD, parent, 0755);
        /* answers may hold secrets */
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, target, data, size, 0600);
        if (r < 0)
                log_error_errno(r, "Failed to write /%s on the installed root: %m", KS_INSTALLED_PATH);
        if (umount(dir) < 0 && r >= 0)
                r = log_error_errno(-errno, "Failed to unmount %s: %m", dir);
        (void) rmdir(dir);
        (void) ioctl(loop_fd, LOOP_CLR_FD);
        return r;
}
