/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "creds-place.h"
#include "creds.h"
#include "fileio.h"
#include "http.h"
#include "kcmdline.h"
#include "log.h"
#include "util.h"
#include "wiring.h"

static int keep_copy(const char *root, const char *data, size_t len) {
        _cleanup_free_ char *dir = strprintf("%s/run/rackstack", root), *to = strprintf("%s/" CREDS_COPY, root);
        if (!dir || !to)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, dir, 0700);
        if (r < 0)
                return r;
        return write_file_atomic(AT_FDCWD, to, data, len, 0600);
}

int creds_copy_in(const char *root, const char *from) {
        return creds_copy_in_beneath(root, NULL, from);
}

int creds_copy_in_beneath(const char *root, const char *top, const char *from) {
        char *data = NULL;
        size_t len = 0;
        int r;
        if (top) {
                /* On a medium, as the kickstart beside it: no symlink followed, nothing outside it. */
                _cleanup_close_ int fd = open_beneath(top, from, O_RDONLY);
                if (fd < 0)
                        return fd;
                _cleanup_free_ char *self = strprintf("/proc/self/fd/%d", fd);
                r = self ? read_file_full(AT_FDCWD, self, CREDS_MAX, &data, &len) : -ENOMEM;
        } else
                r = read_file_full(AT_FDCWD, from, CREDS_MAX, &data, &len);
        if (r < 0)
                return r;
        r = keep_copy(root, data, len);
        creds_wipe_free(data, len);
        if (r >= 0)
                log_info("credentials bundle %s taken in", from);
        return r;
}

int creds_copy_from_cmdline(const char *root, const char *cmdline) {
        _cleanup_free_ char *own = NULL;
        if (!cmdline && read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &own, NULL) >= 0)
                cmdline = own;
        _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
        int r = kcmdline_parse(cmdline ? cmdline : "", &kc);
        if (r < 0)
                return r;
        const char *src = kcmdline_get(kc, "rackstack.creds"), *pin = kcmdline_get(kc, "rackstack.creds.sha256");
        if (!src)
                return -ENOENT;
        if (!startswith(src, "http://"))
                return creds_copy_in(root, startswith(src, "file:") ? src + 5 : src);
        uint8_t sum[32];
        if (!pin || parse_sha256_hex(pin, sum) < 0)
                return log_error_errno(-EPERM, "rackstack.creds=%s: over http the bundle must be pinned by "
                                       "rackstack.creds.sha256=<64 hex digits>", src);
        struct http_options ho = { .timeout_usec = 10 * 1000000ull, .retries = 3, .max_size = CREDS_MAX, .sha256_hex = pin };
        char *data = NULL;
        size_t len = 0;
        r = http_get_buffer(src, &ho, &data, &len);
        if (r == -EBADMSG)
                return log_error_errno(r, "%s does not match rackstack.creds.sha256=%s", src, pin);
        if (r < 0)
                return log_error_errno(r, "Failed to fetch the credentials bundle %s: %m", src);
        r = keep_copy(root, data, len);
        creds_wipe_free(data, len);
        if (r >= 0)
                log_info("credentials bundle %s taken in (sha256 pinned)", src);
        return r;
}

int creds_place(int root_fd, const char *host, char **ret_names, char **ret_error) {
        char *data = NULL;
        size_t len = 0;
        int r = read_file_full(root_fd, CREDS_COPY, CREDS_MAX, &data, &len);
        if (r < 0)
                return r;
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(creds_done) struct creds c = {};
        r = creds_parse("rackstack.creds", data, len, &d, &c);
        creds_wipe_free(data, len);
        if (r < 0) {
                _cleanup_free_ char *msg = diags_text(&d);
                *ret_error = msg && *msg ? strndup(msg, strcspn(msg, "\n")) : strdup("the bundle does not parse");
                return r;
        }
        if (host && !streq(c.host, host)) {
                *ret_error = strprintf("the credentials bundle is for %s, this host is %s; refused", c.host, host);
                return -EXDEV;
        }
        if ((r = mkdir_parents_at(root_fd, CREDS_DIR, 0700)) < 0) {
                *ret_error = strprintf("cannot make /" CREDS_DIR ": %s", strerror(-r));
                return r;
        }
        /* the directory may have been there with a looser mode */
        (void) fchmodat(root_fd, CREDS_DIR, 0700, 0);
        struct buf names = {};
        for (size_t i = 0; i < c.n; i++) {
                _cleanup_free_ char *path = strprintf(CREDS_DIR "/%s", c.v[i].name);
                /* 0400, as systemd hands credentials to services: nobody edits them in place */
                r = path ? write_file_atomic(root_fd, path, c.v[i].data, c.v[i].len, 0400) : -ENOMEM;
                if (r < 0) {
                        buf_done(&names);
                        *ret_error = strprintf("cannot write /" CREDS_DIR "/%s: %s", c.v[i].name, strerror(-r));
                        return r;
                }
                buf_printf(&names, "%s%s", i ? ", " : "", c.v[i].name);
        }
        (void) unlinkat(root_fd, CREDS_COPY, 0);
        *ret_names = buf_steal(&names);
        return *ret_names ? 0 : -ENOMEM;
}

int creds_remove_all(int root_fd, size_t *ret_count) {
        _cleanup_close_ int fd = openat(root_fd, CREDS_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        DIR *d = NULL;
        int r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
        size_t n = 0;
        r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                if (unlinkat(fd, de->d_name, 0) < 0) {
                        if (r == 0)
                                r = -errno;
                } else
                        n++;
        }
        closedir(d);
        if (ret_count)
                *ret_count = n;
        return r;
}

static int wiring_text(int root_fd, const char *rel, struct wiring *ret, char **ret_error) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(root_fd, rel, 1024 * 1024, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_free_ char *file = strprintf("/%s", rel);
        struct wiring w = {};
        if (!file)
                return -ENOMEM;
        if ((r = wiring_parse(file, text, &d, &w)) < 0) {
                wiring_done(&w);
                if (ret_error)
                        *ret_error = d.n ? strprintf("%s:%u: %s", d.items[0].file, d.items[0].line, d.items[0].message)
                                         : strdup("the wiring does not parse");
                return r;
        }
        *ret = w;
        return 0;
}

int creds_wiring_load(int root_fd, struct wiring *ret, bool *ret_kept, char **ret_error) {
        int r = wiring_text(root_fd, CREDS_DIR "/wiring", ret, ret_error);
        if (r != -ENOENT || !ret_kept) {
                if (r >= 0 && ret_kept)
                        *ret_kept = false;
                return r;
        }
        if ((r = wiring_text(root_fd, WIRING_KEPT, ret, ret_error)) >= 0)
                *ret_kept = true;
        return r;
}

int creds_wiring_keep(int root_fd, bool dry_run, enum wiring_source *ret_source) {
        _cleanup_free_ char *text = NULL, *old = NULL;
        int r = read_file_full(root_fd, CREDS_DIR "/wiring", 1024 * 1024, &text, NULL);
        if (r == -ENOENT) {
                *ret_source = faccessat(root_fd, WIRING_KEPT, F_OK, 0) == 0 ? WIRING_SOURCE_KEPT : WIRING_SOURCE_NONE;
                return 0;
        }
        if (r < 0)
                return r;
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(wiring_done) struct wiring w = {};
        /* not kept when it does not parse: the load says what is wrong with it */
        bool keep = !dry_run && wiring_parse("/" CREDS_DIR "/wiring", text, &d, &w) >= 0 &&
                    !(read_file_full(root_fd, WIRING_KEPT, 1024 * 1024, &old, NULL) >= 0 && streq(old, text));
        if (keep && ((r = mkdir_parents_of(root_fd, WIRING_KEPT, 0755)) < 0 ||
                     (r = write_file_atomic(root_fd, WIRING_KEPT, text, strlen(text), 0644)) < 0))
                return r;
        *ret_source = WIRING_SOURCE_CREDS;
        return 0;
}

const char *wiring_source_name(enum wiring_source s) {
        switch (s) {
        case WIRING_SOURCE_CREDS: return "the credentials bundle (/" CREDS_DIR "/wiring; kept in /" WIRING_KEPT ")";
        case WIRING_SOURCE_KEPT: return "/" WIRING_KEPT " (no credentials bundle: the wiring an earlier run kept)";
        default: return "none (no credentials bundle, none kept: nothing wired)";
        }
}
