/* SPDX-License-Identifier: MIT */
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "http.h"
#include "fileio.h"
#include "keyring.h"
#include "lib-cleanup.h"
#include "log.h"
#include "mirror.h"
#include "outputs.h"
#include "progress.h"
#include "util.h"

struct pinned_keyring {
        const char *base;
        const char *deb_path;   /* relative to the mirror */
        const char *deb_sha256; /* from noble's main/binary-amd64/Packages */
        const char *member;
};

static const struct pinned_keyring pinned[] = {
        {
                .base = "ubuntu-24.04",
                .deb_path = "pool/main/u/ubuntu-keyring/ubuntu-keyring_2023.11.28.1_all.deb",
                .deb_sha256 = "36de43b15853ccae0028e9a767613770c704833f82586f28eb262f0311adb8a8",
                .member = "usr/share/keyrings/ubuntu-archive-keyring.gpg",
        },
};

static int read_member(struct archive *a, char **ret, size_t *ret_size) {
        struct buf b = {};
        char chunk[65536];
        for (;;) {
                la_ssize_t n = archive_read_data(a, chunk, sizeof chunk);
                if (n < 0) {
                        buf_done(&b);
                        return -EBADMSG;
                }
                if (n == 0)
                        break;
                buf_put(&b, chunk, n);
                if (b.len > 256 * 1024 * 1024) {
                        buf_done(&b);
                        return -EFBIG;
                }
        }
        size_t len = b.len;
        char *d = buf_steal(&b);
        if (!d)
                return -ENOMEM;
        *ret = d;
        *ret_size = len;
        return 0;
}

static const char *strip_dot(const char *p) {
        while (p[0] == '.' && p[1] == '/')
                p += 2;
        return p;
}

int deb_extract_member(const void *deb, size_t size, const char *member, char **ret, size_t *ret_size) {
        /* A .deb is an ar archive; the files are in its data.tar.{xz,zst,gz}. */
        _cleanup_(archive_read_freep) struct archive *outer = archive_read_new();
        if (!outer)
                return -ENOMEM;
        archive_read_support_format_ar(outer);
        if (archive_read_open_memory(outer, deb, size) != ARCHIVE_OK)
                return -EBADMSG;
        _cleanup_free_ char *data = NULL;
        size_t data_size = 0;
        struct archive_entry *e;
        int a;
        while ((a = archive_read_next_header(outer, &e)) == ARCHIVE_OK) {
                if (startswith(archive_entry_pathname(e), "data.tar")) {
                        int r = read_member(outer, &data, &data_size);
                        if (r < 0)
                                return r;
                        break;
                }
        }
        if (!data)
                return -EBADMSG;

        _cleanup_(archive_read_freep) struct archive *inner = archive_read_new();
        if (!inner)
                return -ENOMEM;
        archive_read_support_format_tar(inner);
        archive_read_support_filter_all(inner);
        if (archive_read_open_memory(inner, data, data_size) != ARCHIVE_OK)
                return -EBADMSG;
        while ((a = archive_read_next_header(inner, &e)) == ARCHIVE_OK)
                if (streq(strip_dot(archive_entry_pathname(e)), member) && archive_entry_filetype(e) == AE_IFREG)
                        return read_member(inner, ret, ret_size);
        return a == ARCHIVE_EOF ? -ENOENT : -EBADMSG;
}

int keyring_ensure(struct build_ctx *ctx, char **ret) {
        if (access(ctx->base->keyring, R_OK) == 0) {
                char *k = strdup(ctx->base->keyring);
                if (!k)
                        return -ENOMEM;
                *ret = k;
                return 0;
        }
        const struct pinned_keyring *pin = NULL;
        for (size_t i = 0; i < ELEMENTSOF(pinned); i++)
                if (streq(pinned[i].base, ctx->base->name))
                        pin = &pinned[i];
        if (!pin)
                return log_error_errno(-ENOENT, "%s is missing: install the %s archive keyring", ctx->base->keyring,
                                       ctx->base->name);

        const char *name = strrchr(pin->member, '/') + 1;
        _cleanup_free_ char *dir = strprintf("%s/keyrings", ctx->cache_dir);
        _cleanup_free_ char *path = strprintf("%s/keyrings/%s", ctx->cache_dir, name);
        _cleanup_free_ char *url = strprintf("%s/%s", ctx->mirror, pin->deb_path);
        if (!dir || !path || !url)
                return -ENOMEM;
        if (access(path, R_OK) == 0) {
                *ret = TAKE_PTR(path);
                return 0;
        }

        _cleanup_free_ char *deb = NULL;
        size_t deb_size = 0;
        const struct http_options ho = { .timeout_usec = 15000000, .retries = 2, .max_size = 16 << 20 };
        int r = http_get_buffer(url, &ho, &deb, &deb_size);
        if (r < 0)
                return log_error_errno(r, "%s is missing and fetching it from %s failed: %m", ctx->base->keyring, url);
        _cleanup_free_ char *sum = sha256_hex(deb, deb_size);
        if (!sum)
                return -ENOMEM;
        if (!streq(sum, pin->deb_sha256))
                return log_error_errno(-EBADMSG, "%s has sha256 %s, not the pinned %s: refusing its keyring", url, sum,
                                       pin->deb_sha256);
        _cleanup_free_ char *key = NULL;
        size_t key_size = 0;
        r = deb_extract_member(deb, deb_size, pin->member, &key, &key_size);
        if (r < 0)
                return log_error_errno(r, "Failed to take %s out of %s: %m", pin->member, url);
        r = mkdir_parents_at(AT_FDCWD, dir, 0755);
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, path, key, key_size, 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", path);
        stage_note("rootfs", "%s keyring taken from the pinned %s", ctx->base->name, pin->deb_path);
        *ret = TAKE_PTR(path);
        return 0;
}
