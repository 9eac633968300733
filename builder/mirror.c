/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "http.h"
#include "connect.h"
#include "mirror.h"
#include "url.h"
#include "outputs.h"
#include "util.h"

static char *mfree_str(char *p) {
        free(p);
        return NULL;
}

/* The value of KEY= in os-release text, unquoted; NULL if absent. */
static char *os_release_get(const char *text, const char *key) {
        size_t kl = strlen(key);
        for (const char *l = text; l && *l; ) {
                const char *e = strchrnul(l, '\n');
                if ((size_t) (e - l) > kl && strneq(l, key, kl) && l[kl] == '=') {
                        const char *v = l + kl + 1;
                        size_t n = e - v;
                        if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                                v++;
                                n -= 2;
                        }
                        return strndup(v, n);
                }
                l = *e ? e + 1 : e;
        }
        return NULL;
}

bool os_release_matches(const char *os_release, const struct base_info *base) {
        if (!os_release || !base)
                return false;
        _cleanup_free_ char *id = os_release_get(os_release, "ID");
        _cleanup_free_ char *codename = os_release_get(os_release, "VERSION_CODENAME");
        _cleanup_free_ char *version = os_release_get(os_release, "VERSION_ID");
        if (!id)
                return false;
        /* base->name is "<id>-<version>" */
        size_t il = strlen(id);
        if (!strneq(base->name, id, il) || base->name[il] != '-')
                return false;
        if (!isempty(codename))
                return streq(codename, base->suite);
        return version && streq(version, base->name + il + 1);
}

static bool word_in(const char *list, const char *word) {
        _cleanup_strv_free_ char **l = NULL;
        if (strv_split(list, " \t", &l) < 0)
                return false;
        return strv_contains(l, word);
}

static int find_deb822(const char *text, const char *suite, char **ret) {
        /* Stanzas are separated by blank lines; fields may continue on indented lines, which we
         * fold into the field's value. Comments start with '#'. */
        _cleanup_free_ char *types = NULL, *uris = NULL, *suites = NULL, *enabled = NULL;
        char **cur = NULL;
        const char *l = text;
        for (;;) {
                const char *e = strchrnul(l, '\n');
                _cleanup_free_ char *line = strndup(l, e - l);
                if (!line)
                        return -ENOMEM;
                bool blank = line[strspn(line, " \t\r")] == 0;
                bool end = *e == 0;
                if (line[0] == '#') {
                        /* comment: ignore */
                } else if (blank) {
                        /* end of stanza: handled below */
                } else if ((line[0] == ' ' || line[0] == '\t') && cur && *cur) {
                        char *n = strprintf("%s %s", *cur, line + strspn(line, " \t"));
                        if (!n)
                                return -ENOMEM;
                        free(*cur);
                        *cur = n;
                } else {
                        char *colon = strchr(line, ':');
                        cur = NULL;
                        if (colon) {
                                *colon = 0;
                                const char *v = colon + 1 + strspn(colon + 1, " \t");
                                size_t vl = strlen(v);
                                while (vl > 0 && strchr(" \t\r", v[vl - 1]))
                                        vl--;
                                char **slot = strcasecmp(line, "Types") == 0    ? &types
                                              : strcasecmp(line, "URIs") == 0   ? &uris
                                              : strcasecmp(line, "Suites") == 0 ? &suites
                                              : strcasecmp(line, "Enabled") == 0 ? &enabled
                                                                                 : NULL;
                                if (slot) {
                                        free(*slot);
                                        if (!(*slot = strndup(v, vl)))
                                                return -ENOMEM;
                                        cur = slot;
                                }
                        }
                }
                if (blank || end) {
                        if (types && uris && suites && word_in(types, "deb") && word_in(suites, suite) &&
                            !(enabled && strcasecmp(enabled, "no") == 0)) {
                                _cleanup_strv_free_ char **u = NULL;
                                if (strv_split(uris, " \t", &u) < 0)
                                        return -ENOMEM;
                                if (u[0]) {
                                        char *m = strdup(u[0]);
                                        if (!m)
                                                return -ENOMEM;
                                        *ret = m;
                                        return 0;
                                }
                        }
                        types = mfree_str(types);
                        uris = mfree_str(uris);
                        suites = mfree_str(suites);
                        enabled = mfree_str(enabled);
                        cur = NULL;
                }
                if (end)
                        break;
                l = e + 1;
        }
        return -ENOENT;
}

static int find_one_line(const char *text, const char *suite, char **ret) {
        for (const char *l = text; *l; ) {
                const char *e = strchrnul(l, '\n');
                _cleanup_free_ char *line = strndup(l, e - l);
                if (!line)
                        return -ENOMEM;
                char *hash = strchr(line, '#');
                if (hash)
                        *hash = 0;
                _cleanup_strv_free_ char **w = NULL;
                if (strv_split(line, " \t\r", &w) < 0)
                        return -ENOMEM;
                /* deb [options] URI SUITE COMPONENT... ; the options may contain spaces inside [] */
                if (w[0] && streq(w[0], "deb")) {
                        size_t i = 1;
                        if (w[i] && w[i][0] == '[') {
                                while (w[i] && !endswith(w[i], "]"))
                                        i++;
                                if (w[i])
                                        i++;
                        }
                        if (w[i] && w[i + 1] && streq(w[i + 1], suite)) {
                                char *m = strdup(w[i]);
                                if (!m)
                                        return -ENOMEM;
                                *ret = m;
                                return 0;
                        }
                }
                l = *e ? e + 1 : e;
        }
        return -ENOENT;
}

int sources_find_mirror(const char *text, bool deb822, const char *suite, char **ret) {
        return deb822 ? find_deb822(text, suite, ret) : find_one_line(text, suite, ret);
}

static int try_file(int rootfd, const char *path, bool deb822, const char *suite, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(rootfd, path, 1 << 20, &text, NULL);
        if (r < 0)
                return r;
        return sources_find_mirror(text, deb822, suite, ret);
}

static int host_mirror(const char *root, const struct base_info *base, const char *suite, char **ret) {
        _cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return -errno;
        _cleanup_free_ char *osr = NULL;
        int r = read_file_full(rootfd, "etc/os-release", 1 << 16, &osr, NULL);
        if (r == -ENOENT)
                r = read_file_full(rootfd, "usr/lib/os-release", 1 << 16, &osr, NULL);
        if (r < 0)
                return r;
        if (!os_release_matches(osr, base))
                return -ENOENT;

        /* sources.list.d in name order, as apt reads it; then sources.list. */
        _cleanup_close_ int dfd = openat(rootfd, "etc/apt/sources.list.d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                struct dirent **names = NULL;
                _cleanup_free_ char *dpath = strprintf("%s/etc/apt/sources.list.d", root);
                int n = dpath ? scandir(dpath, &names, NULL, alphasort) : -1;
                int found = -ENOENT;
                for (int i = 0; i < n; i++) {
                        const char *nm = names[i]->d_name;
                        if (found < 0 && (endswith(nm, ".sources") || endswith(nm, ".list")))
                                found = try_file(dfd, nm, endswith(nm, ".sources"), suite, ret);
                        free(names[i]);
                }
                free(names);
                if (found == 0)
                        return 0;
        }
        return try_file(rootfd, "etc/apt/sources.list", false, suite, ret);
}

static void strip_slashes(char *m) {
        size_t l = strlen(m);
        while (l > 1 && m[l - 1] == '/')
                m[--l] = 0;
}

/* The chosen mirror m (NULL: out of memory) without trailing slashes, so "URL/dists/..." joins
 * cleanly, and where it came from. */
static int mirror_chosen(char *m, const char *origin, char **ret_mirror, const char **ret_origin) {
        if (!m)
                return -ENOMEM;
        strip_slashes(m);
        *ret_mirror = m;
        if (ret_origin)
                *ret_origin = origin;
        return 0;
}

int mirror_resolve(const char *opt_mirror, const char *env_mirror, const struct base_info *base, const char *root,
                   char **ret_mirror, const char **ret_origin) {
        const char *origin;
        char *m = NULL;
        if (!isempty(opt_mirror)) {
                m = strdup(opt_mirror);
                origin = "--mirror";
        } else if (!isempty(env_mirror)) {
                m = strdup(env_mirror);
                origin = "$RACKSTACK_MIRROR";
        } else if (host_mirror(root, base, base->suite, &m) == 0) {
                origin = "host apt source";
        } else {
                m = strdup(base->default_mirror);
                origin = "official archive";
        }
        return mirror_chosen(m, origin, ret_mirror, ret_origin);
}

int security_mirror_resolve(const char *env_security, const struct base_info *base, const char *mirror,
                            const char *mirror_origin, const char *root, char **ret_mirror, const char **ret_origin) {
        _cleanup_free_ char *suite = strprintf("%s-security", base->suite);
        if (!suite)
                return -ENOMEM;
        const char *origin;
        char *m = NULL;
        if (!isempty(env_security)) {
                m = strdup(env_security);
                origin = "$RACKSTACK_SECURITY_MIRROR";
        } else if (mirror_origin && streq(mirror_origin, "host apt source") && host_mirror(root, base, suite, &m) == 0) {
                origin = "host apt source";
        } else if (!base->default_security_mirror) {
                m = strdup(mirror);
                origin = "the mirror";
        } else if (endswith(mirror, "/debian")) {
                m = strprintf("%s-security", mirror);
                origin = "next to the mirror";
        } else {
                m = strdup(base->default_security_mirror);
                origin = "official archive";
        }
        return mirror_chosen(m, origin, ret_mirror, ret_origin);
}

int archive_state_read(const char *const *mirrors, const char *const *suites, size_t n, int timeout_ms,
                       char **ret_hex, char **ret_reason) {
        struct buf text = {};
        for (size_t i = 0; i < n; i++) {
                if (!startswith(mirrors[i], "http://")) {
                        buf_done(&text);
                        if (ret_reason)
                                *ret_reason = strprintf("%s is not an http:// mirror", mirrors[i]);
                        return -EPROTONOSUPPORT;
                }
                _cleanup_free_ char *body = NULL;
                size_t size = 0;
                int r = -ENOENT;
                const struct http_options ho = { .timeout_usec = (uint64_t) timeout_ms * 1000, .max_size = 16 << 20 };
                for (const char *name = "InRelease"; name; name = streq(name, "InRelease") ? "Release" : NULL) {
                        _cleanup_free_ char *url = strprintf("%s/dists/%s/%s", mirrors[i], suites[i], name);
                        if (!url) {
                                buf_done(&text);
                                return -ENOMEM;
                        }
                        r = http_get_buffer(url, &ho, &body, &size);
                        if (r != -ENOENT)
                                break;
                }
                if (r < 0) {
                        buf_done(&text);
                        if (ret_reason)
                                *ret_reason = strprintf("%s %s: %s", mirrors[i], suites[i], strerror(-r));
                        return r;
                }
                _cleanup_free_ char *hex = sha256_hex(body, size);
                if (!hex) {
                        buf_done(&text);
                        return -ENOMEM;
                }
                buf_printf(&text, "%s %s\n", suites[i], hex);
        }
        if (text.oom) {
                buf_done(&text);
                return -ENOMEM;
        }
        char *hex = sha256_hex(text.data ? text.data : "", text.len);
        buf_done(&text);
        if (!hex)
                return -ENOMEM;
        *ret_hex = hex;
        return 0;
}

int url_split(const char *url, char **ret_scheme, char **ret_host, char **ret_port, char **ret_path) {
        _cleanup_(url_done) struct url u = {};
        int r = url_parse(url, &u);
        if (r < 0)
                return r;
        *ret_scheme = TAKE_PTR(u.scheme);
        *ret_host = TAKE_PTR(u.host);
        *ret_port = TAKE_PTR(u.port);
        *ret_path = TAKE_PTR(u.path);
        return 0;
}

static int connect_timeout(const char *host, const char *port, int timeout_ms, char **ret_reason) {
        struct addrinfo *ai = NULL;
        int fd = -1, r = net_resolve(host, port, AF_UNSPEC, SOCK_STREAM, &ai);
        if (r < 0) {
                *ret_reason = strprintf("cannot resolve %s: %s", host, strerror(-r));
                return r;
        }
        r = net_connect_addrinfo(ai, timeout_ms, &fd);
        freeaddrinfo(ai);
        if (r < 0) {
                *ret_reason = strprintf("cannot connect to %s port %s: %s", host, port, strerror(-r));
                return r;
        }
        return fd;
}

int mirror_probe(const char *mirror, const char *suite, int timeout_ms, char **ret_reason) {
        _cleanup_free_ char *reason = NULL;
        _cleanup_free_ char *scheme = NULL, *host = NULL, *port = NULL, *path = NULL;
        int r = url_split(mirror, &scheme, &host, &port, &path);
        if (r < 0) {
                if (ret_reason)
                        *ret_reason = strdup("not a URL of the form http://HOST[:PORT]/PATH");
                return r;
        }
        _cleanup_free_ char *rel = strprintf("%s%sdists/%s/Release", path, endswith(path, "/") ? "" : "/", suite);
        if (!rel)
                return -ENOMEM;

        if (streq(scheme, "file") || streq(scheme, "copy")) {
                struct stat st;
                if (stat(rel, &st) < 0) {
                        r = -errno;
                        if (ret_reason)
                                *ret_reason = strprintf("%s: %s", rel, strerror(errno));
                        return r;
                }
                return 0;
        }
        if (!streq(scheme, "http") && !streq(scheme, "https")) {
                if (ret_reason)
                        *ret_reason = strprintf("unsupported URL scheme '%s'", scheme);
                return -EPROTONOSUPPORT;
        }

        _cleanup_close_ int fd = connect_timeout(host, port, timeout_ms, &reason);
        if (fd < 0) {
                if (ret_reason)
                        *ret_reason = TAKE_PTR(reason);
                return fd;
        }
        if (streq(scheme, "https"))
                return 0; /* reachable; apt checks the rest */

        _cleanup_free_ char *req = strprintf("HEAD %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rackstack-build\r\n"
                                             "Connection: close\r\n\r\n", rel, host);
        if (!req)
                return -ENOMEM;
        size_t off = 0, len = strlen(req);
        char resp[512];
        size_t got = 0;
        double deadline = now_monotonic() + timeout_ms / 1000.0;
        while (off < len || !memchr(resp, '\n', got)) {
                int left = (int) ((deadline - now_monotonic()) * 1000);
                if (left <= 0) {
                        if (ret_reason)
                                *ret_reason = strprintf("no answer from %s within %d ms", host, timeout_ms);
                        return -ETIMEDOUT;
                }
                struct pollfd p = { .fd = fd, .events = off < len ? POLLOUT : POLLIN };
                int n = poll(&p, 1, left);
                if (n < 0 && errno != EINTR)
                        return -errno;
                if (n <= 0)
                        continue;
                if (off < len) {
                        ssize_t k = send(fd, req + off, len - off, MSG_NOSIGNAL);
                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return -errno;
                        if (k > 0)
                                off += k;
                } else {
                        ssize_t k = recv(fd, resp + got, sizeof resp - 1 - got, 0);
                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return -errno;
                        if (k == 0 || got + k >= sizeof resp - 1) {
                                got += k > 0 ? k : 0;
                                break;
                        }
                        if (k > 0)
                                got += k;
                }
                resp[got] = 0;
        }
        resp[got] = 0;
        unsigned code = 0;
        if (sscanf(resp, "HTTP/%*u.%*u %u", &code) != 1) {
                if (ret_reason)
                        *ret_reason = strprintf("%s did not answer as an HTTP server", host);
                return -EPROTO;
        }
        /* A redirect still says the mirror is there; apt follows it. */
        if (code < 200 || code >= 400) {
                if (ret_reason)
                        *ret_reason = strprintf("HTTP %u for %s", code, rel);
                return code == 404 ? -ENOENT : -EPROTO;
        }
        return 0;
}

