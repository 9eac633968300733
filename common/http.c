/* SPDX-License-Identifier: MIT */
/* A minimal HTTP/1.1 client: one request per connection (Connection: close), bounded in time and
 * size, with an optional sha256 pin over the body. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "cleanup.h"
#include "connect.h"
#include "http.h"
#include "lib-cleanup.h"
#include "macro.h"
#include "url.h"
#include "util.h"

#define HEADER_MAX (16 * 1024)
#define REDIRECTS_MAX 5

/* http:// (and https:// when allowed) URLs only, through the one parser (common/url.c). */
static int parse_url(const char *url, bool allow_https, bool *ret_tls, char **ret_host, char **ret_port,
                     char **ret_path) {
        _cleanup_(url_done) struct url u = {};
        int r = url_parse(url, &u);
        if (r < 0)
                return r;
        bool tls = streq(u.scheme, "https");
        if ((tls && !allow_https) || (!tls && !streq(u.scheme, "http")))
                return -EPROTONOSUPPORT;
        *ret_host = TAKE_PTR(u.host);
        *ret_port = TAKE_PTR(u.port);
        *ret_path = TAKE_PTR(u.path);
        if (ret_tls)
                *ret_tls = tls;
        return 0;
}

int http_parse_url(const char *url, char **ret_host, char **ret_port, char **ret_path) {
        return parse_url(url, false, NULL, ret_host, ret_port, ret_path);
}

static int timeout_ms(const struct http_options *o) {
        uint64_t us = o && o->timeout_usec ? o->timeout_usec : 30ULL * 1000000;
        return us / 1000 > 0x7fffffff ? 0x7fffffff : (int) (us / 1000);
}

static int wait_fd(int fd, short events, int ms) {
        struct pollfd p = { .fd = fd, .events = events };
        for (;;) {
                int n = poll(&p, 1, ms);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                return n == 0 ? -ETIMEDOUT : 0;
        }
}


/* Wait for what OpenSSL asked for after a WANT_READ/WANT_WRITE; other errors end the connection. */
static int tls_wait(SSL *ssl, int fd, int ret, int ms) {
        int e = SSL_get_error(ssl, ret);
        if (e == SSL_ERROR_WANT_READ)
                return wait_fd(fd, POLLIN, ms);
        if (e == SSL_ERROR_WANT_WRITE)
                return wait_fd(fd, POLLOUT, ms);
        if (e == SSL_ERROR_ZERO_RETURN)
                return 1; /* clean close */
        ERR_clear_error();
        return -ECONNRESET;
}

static int send_all(int fd, SSL *ssl, const void *p, size_t n, int ms) {
        const char *c = p;
        while (ssl && n > 0) {
                int k = SSL_write(ssl, c, n > INT32_MAX ? INT32_MAX : (int) n);
                if (k <= 0) {
                        int r = tls_wait(ssl, fd, k, ms);
                        if (r != 0)
                                return r < 0 ? r : -ECONNRESET;
                        continue;
                }
                c += k;
                n -= k;
        }
        while (n > 0) {
                ssize_t k = send(fd, c, n, MSG_NOSIGNAL);
                if (k < 0 && errno == EAGAIN) {
                        int r = wait_fd(fd, POLLOUT, ms);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                c += k;
                n -= k;
        }
        return 0;
}

/* Buffered reads over the socket, each bounded by the timeout. */
struct conn {
        int fd, ms;
        SSL *ssl; /* NULL for plain HTTP */
        char buf[64 * 1024];
        size_t pos, len;
};

static int conn_fill(struct conn *c) {
        if (c->pos < c->len)
                return 1;
        while (c->ssl) {
                int k = SSL_read(c->ssl, c->buf, sizeof(c->buf));
                if (k > 0) {
                        c->pos = 0;
                        c->len = k;
                        return 1;
                }
                int r = tls_wait(c->ssl, c->fd, k, c->ms);
                if (r == 1 || (r == -ECONNRESET && SSL_get_error(c->ssl, k) == SSL_ERROR_SYSCALL && errno == 0)) {
                        /* end of the stream (close_notify, or a peer that just closes) */
                        c->pos = c->len = 0;
                        return 0;
                }
                if (r < 0)
                        return r;
        }
        for (;;) {
                ssize_t k = recv(c->fd, c->buf, sizeof(c->buf), 0);
                if (k >= 0) {
                        c->pos = 0;
                        c->len = k;
                        return k > 0;
                }
                if (errno == EINTR)
                        continue;
                if (errno != EAGAIN)
                        return -errno;
                int r = wait_fd(c->fd, POLLIN, c->ms);
                if (r < 0)
                        return r;
        }
}

/* One line (CRLF or LF stripped) of at most max bytes. */
static int conn_line(struct conn *c, struct buf *line, size_t max) {
        line->len = 0;
        for (;;) {
                int r = conn_fill(c);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -EBADMSG;
                char *nl = memchr(c->buf + c->pos, '\n', c->len - c->pos);
                size_t take = nl ? (size_t) (nl - (c->buf + c->pos)) + 1 : c->len - c->pos;
                if (line->len + take > max)
                        return -EBADMSG;
                buf_put(line, c->buf + c->pos, take);
                c->pos += take;
                if (line->oom)
                        return -ENOMEM;
                if (nl) {
                        while (line->len > 0 && (line->data[line->len - 1] == '\n' || line->data[line->len - 1] == '\r'))
                                line->len--;
                        line->data[line->len] = '\0';
                        return 0;
                }
        }
}

struct body {
        http_sink_t sink;
        void *userdata;
        uint64_t max_size, got;
        EVP_MD_CTX *md;
        bool started;
};

static int body_put(struct body *b, const void *p, size_t n) {
        if (n == 0)
                return 0;
        if (b->max_size && b->got + n > b->max_size)
                return -EFBIG;
        b->got += n;
        b->started = true;
        if (b->md && !EVP_DigestUpdate(b->md, p, n))
                return -ENOMEM;
        return b->sink ? b->sink(p, n, b->userdata) : 0;
}

static int read_exact_into(struct conn *c, struct body *b, uint64_t n) {
        while (n > 0) {
                int r = conn_fill(c);
                if (r < 0)
                        return r;
                if (r == 0)
                        return -ECONNRESET; /* closed before Content-Length bytes */
                size_t take = MIN((uint64_t) (c->len - c->pos), n);
                r = body_put(b, c->buf + c->pos, take);
                if (r < 0)
                        return r;
                c->pos += take;
                n -= take;
        }
        return 0;
}

static int read_chunked(struct conn *c, struct body *b) {
        _cleanup_(buf_done) struct buf line = {};
        for (;;) {
                int r = conn_line(c, &line, 1024);
                if (r < 0)
                        return r;
                char *end;
                errno = 0;
                unsigned long long size = strtoull(line.data ? line.data : "", &end, 16);
                if (errno || end == line.data || (*end && *end != ';' && *end != ' '))
                        return -EBADMSG;
                if (size == 0)
                        break;
                if ((r = read_exact_into(c, b, size)) < 0)
                        return r;
                if ((r = conn_line(c, &line, 2)) < 0) /* the CRLF after the chunk */
                        return r;
                if (line.len != 0)
                        return -EBADMSG;
        }
        for (;;) { /* trailers, up to the empty line */
                int r = conn_line(c, &line, HEADER_MAX);
                if (r < 0)
                        return r;
                if (line.len == 0)
                        return 0;
        }
}

static int read_to_close(struct conn *c, struct body *b) {
        for (;;) {
                int r = conn_fill(c);
                if (r < 0)
                        return r;
                if (r == 0)
                        return 0;
                r = body_put(b, c->buf + c->pos, c->len - c->pos);
                if (r < 0)
                        return r;
                c->pos = c->len;
        }
}

struct request {
        const char *method, *content_type;
        char **extra_headers;
        const void *body;
        size_t body_n;
};

/* The status line, headers and body of one response on fd. */
static int read_response(int fd, SSL *ssl, int ms, const struct request *rq, struct body *b, int *ret_status,
                         char **ret_location) {
        int r;
        _cleanup_free_ struct conn *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->fd = fd;
        c->ssl = ssl;
        c->ms = ms;
        _cleanup_(buf_done) struct buf line = {};
        if ((r = conn_line(c, &line, HEADER_MAX)) < 0)
                return r;
        int major, minor, status;
        if (sscanf(line.data ? line.data : "", "HTTP/%d.%d %3d", &major, &minor, &status) != 3 || status < 100)
                return -EBADMSG;
        *ret_status = status;

        int64_t length = -1;
        bool chunked = false;
        _cleanup_free_ char *location = NULL;
        size_t total = 0;
        for (;;) {
                if ((r = conn_line(c, &line, HEADER_MAX)) < 0)
                        return r;
                total += line.len;
                if (total > HEADER_MAX)
                        return -EBADMSG;
                if (line.len == 0)
                        break;
                char *colon = strchr(line.data, ':');
                if (!colon)
                        return -EBADMSG;
                *colon = '\0';
                const char *v = colon + 1 + strspn(colon + 1, " \t");
                if (strcasecmp(line.data, "Content-Length") == 0) {
                        char *end;
                        errno = 0;
                        long long l = strtoll(v, &end, 10);
                        if (errno || end == v || *end || l < 0)
                                return -EBADMSG;
                        length = l;
                } else if (strcasecmp(line.data, "Transfer-Encoding") == 0)
                        chunked = strcasestr(v, "chunked") != NULL;
                else if (strcasecmp(line.data, "Location") == 0) {
                        free(location);
                        if (!(location = strdup(v)))
                                return -ENOMEM;
                }
        }

        if (status >= 300 && status < 400 && location && ret_location) {
                *ret_location = TAKE_PTR(location);
                return 0;
        }
        if (status == 404 || status == 410)
                return -ENOENT;
        if (status < 200 || status >= 300)
                return -EIO;
        if (b->max_size && length > 0 && (uint64_t) length > b->max_size)
                return -EFBIG;
        if (streq(rq->method, "HEAD") || status == 204)
                return 0;
        if (chunked)
                return read_chunked(c, b);
        if (length >= 0)
                return read_exact_into(c, b, length);
        return read_to_close(c, b);
}

static int resolve_location(const char *base, const char *location, bool allow_https, char **ret) {
        /* RFC 3986 §5.2, reduced to what a redirect carries: an absolute http:// URL, a
         * network-path "//host/…", an absolute path "/…", or a path relative to the directory of the
         * URL that was answered (the current one, not the first of the chain). Dot segments are left
         * to the server. */
        _cleanup_free_ char *h = NULL, *p = NULL, *path = NULL;
        bool tls = false;
        int r = parse_url(base, allow_https, &tls, &h, &p, &path);
        if (r < 0)
                return r;
        if (!location || !*location || strpbrk(location, "\r\n"))
                return -EINVAL;
        char *u;
        bool v6 = strchr(h, ':');
        if (strstr(location, "://") && strcspn(location, "/?#") > strcspn(location, ":"))
                u = strdup(location);
        else if (strncmp(location, "//", 2) == 0)
                u = strprintf("%s:%s", tls ? "https" : "http", location);
        else if (location[0] == '/')
                u = strprintf("%s://%s%s%s:%s%s", tls ? "https" : "http", v6 ? "[" : "", h, v6 ? "]" : "", p, location);
        else {
                path[strcspn(path, "?")] = '\0';
                if (location[0] != '?')
                        strrchr(path, '/')[1] = '\0'; /* http_parse_url's path always starts with '/' */
                u = strprintf("%s://%s%s%s:%s%s%s", tls ? "https" : "http", v6 ? "[" : "", h, v6 ? "]" : "", p, path, location);
        }
        if (!u)
                return -ENOMEM;
        _cleanup_free_ char *ch = NULL, *cp = NULL, *cpath = NULL;
        bool next_tls = false;
        if ((r = parse_url(u, allow_https, &next_tls, &ch, &cp, &cpath)) < 0) {
                free(u);
                return r;
        }
        if (tls && !next_tls) { /* a redirect never takes a request out of TLS */
                free(u);
                return -EPROTO;
        }
        *ret = u;
        return 0;
}

int http_resolve_location(const char *base, const char *location, char **ret) {
        return resolve_location(base, location, false, ret);
}

static void ssl_freep(SSL **s) {
        if (*s)
                SSL_free(*s);
}
static void ssl_ctx_freep(SSL_CTX **c) {
        if (*c)
                SSL_CTX_free(*c);
}

/* TLS 1.2 or later, the peer's certificate verified against the system's CA store (OpenSSL's
 * default paths; SSL_CERT_FILE/SSL_CERT_DIR override them) and its name against host. A
 * certificate that does not verify is -EKEYREJECTED. */
static int tls_start(int fd, const char *host, int ms, SSL_CTX **ret_ctx, SSL **ret_ssl) {
        _cleanup_(ssl_ctx_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx)
                return -ENOMEM;
        if (!SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) || SSL_CTX_set_default_verify_paths(ctx) != 1)
                return -EIO;
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        _cleanup_(ssl_freep) SSL *ssl = SSL_new(ctx);
        if (!ssl)
                return -ENOMEM;
        if (!SSL_set_fd(ssl, fd))
                return -EIO;
        /* SNI for a name (not for an address), and the name or address checked in the certificate. */
        bool is_ip = strspn(host, "0123456789.") == strlen(host) || strchr(host, ':');
        if (!is_ip && !SSL_set_tlsext_host_name(ssl, host))
                return -EIO;
        X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        if (is_ip ? !X509_VERIFY_PARAM_set1_ip_asc(param, host) : !X509_VERIFY_PARAM_set1_host(param, host, 0))
                return -EINVAL;
        for (;;) {
                int k = SSL_connect(ssl);
                if (k == 1)
                        break;
                if (SSL_get_verify_result(ssl) != X509_V_OK) {
                        ERR_clear_error();
                        return -EKEYREJECTED;
                }
                int r = tls_wait(ssl, fd, k, ms);
                if (r != 0)
                        return r < 0 ? r : -ECONNRESET;
        }
        *ret_ctx = TAKE_PTR(ctx);
        *ret_ssl = TAKE_PTR(ssl);
        return 0;
}

/* One exchange. Sets *ret_status when a status line was read, *ret_location on a redirect. */
static int exchange(const char *url, const struct http_options *o, const struct request *rq, struct body *b,
                    int *ret_status, char **ret_location) {
        _cleanup_free_ char *host = NULL, *port = NULL, *path = NULL;
        bool tls = false;
        int r = parse_url(url, o && o->allow_https, &tls, &host, &port, &path);
        if (r < 0)
                return r;
        int ms = timeout_ms(o);
        _cleanup_close_ int fd = -EBADF;
        if ((r = net_connect(host, port, AF_UNSPEC, ms, &fd)) < 0)
                return r;
        _cleanup_(ssl_ctx_freep) SSL_CTX *ctx = NULL;
        _cleanup_(ssl_freep) SSL *ssl = NULL;
        if (tls && (r = tls_start(fd, host, ms, &ctx, &ssl)) < 0)
                return r;
        const char *dflt = tls ? "443" : "80";

        struct buf req = {};
        bool v6 = strchr(host, ':');
        buf_printf(&req, "%s %s HTTP/1.1\r\nHost: %s%s%s%s%s\r\nUser-Agent: rackstack\r\n"
                         "Accept-Encoding: identity\r\nConnection: close\r\n",
                   rq->method, path, v6 ? "[" : "", host, v6 ? "]" : "", streq(port, dflt) ? "" : ":",
                   streq(port, dflt) ? "" : port);
        if (rq->body) {
                buf_printf(&req, "Content-Type: %s\r\nContent-Length: %zu\r\n",
                           rq->content_type ? rq->content_type : "application/octet-stream", rq->body_n);
        }
        for (char **h = rq->extra_headers; h && *h; h++) {
                if (strpbrk(*h, "\r\n")) {
                        buf_done(&req);
                        return -EINVAL;
                }
                buf_printf(&req, "%s\r\n", *h);
        }
        buf_puts(&req, "\r\n");
        _cleanup_free_ char *reqs = buf_steal(&req);
        if (!reqs)
                return -ENOMEM;
        if ((r = send_all(fd, ssl, reqs, strlen(reqs), ms)) < 0)
                return r;
        if (rq->body && (r = send_all(fd, ssl, rq->body, rq->body_n, ms)) < 0)
                return r;

        return read_response(fd, ssl, ms, rq, b, ret_status, ret_location);
}

static bool transient(int r, int status) {
        return r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ECONNRESET || r == -EHOSTUNREACH ||
               r == -ENETUNREACH || r == -EPIPE || (r == -EIO && status >= 500);
}

static void backoff(unsigned attempt) {
        /* 0.5 s, 1 s, 2 s, then 4 s: enough for a web server that is still starting. */
        uint64_t ms = attempt >= 3 ? 4000 : 500ULL << attempt;
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

static int request(const char *url, const struct http_options *o, const struct request *rq,
                   http_sink_t sink, void *userdata, int *ret_status) {
        _cleanup_free_ char *cur = strdup(url ? url : "");
        if (!cur)
                return -ENOMEM;
        unsigned attempts = 0, redirects = 0;
        for (;;) {
                _cleanup_(EVP_MD_CTX_freep) EVP_MD_CTX *md = NULL;
                if (o && o->sha256_hex) {
                        md = EVP_MD_CTX_new();
                        if (!md || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
                                return -ENOMEM;
                }
                struct body b = { .sink = sink, .userdata = userdata, .max_size = o ? o->max_size : 0, .md = md };
                int status = 0;
                _cleanup_free_ char *location = NULL;
                int r = exchange(cur, o, rq, &b, &status, &location);
                if (r == 0 && location) {
                        /* A POST is not repeated anywhere: the status event is signed for one
                         * receiver, and a redirect must not carry it (and its signature) to another. */
                        if (rq->body) {
                                if (ret_status)
                                        *ret_status = status;
                                return -EIO;
                        }
                        if (++redirects > REDIRECTS_MAX)
                                return -ELOOP;
                        char *next = NULL;
                        if ((r = resolve_location(cur, location, o && o->allow_https, &next)) < 0)
                                return r;
                        free(cur);
                        cur = next;
                        continue;
                }
                if (r == 0 && md) {
                        unsigned char d[32];
                        unsigned len = 0;
                        if (!EVP_DigestFinal_ex(md, d, &len))
                                return -ENOMEM;
                        char hex[65];
                        hex_format(d, 32, hex);
                        if (strcasecmp(hex, o->sha256_hex) != 0)
                                return -EBADMSG;
                }
                if (status && ret_status)
                        *ret_status = status;
                if (r >= 0 || b.started || !transient(r, status) || !o || attempts >= o->retries)
                        return r;
                backoff(attempts++);
        }
}

int http_get(const char *url, const struct http_options *o, http_sink_t sink, void *userdata) {
        struct request rq = { .method = "GET" };
        return request(url, o, &rq, sink, userdata, NULL);
}

static int buf_sink(const void *p, size_t n, void *userdata) {
        struct buf *b = userdata;
        buf_put(b, p, n);
        return b->oom ? -ENOMEM : 0;
}

int http_get_buffer(const char *url, const struct http_options *o, char **ret_data, size_t *ret_size) {
        _cleanup_(buf_done) struct buf b = {};
        int r = http_get(url, o, buf_sink, &b);
        if (r < 0)
                return r;
        size_t n = b.len;
        buf_putc(&b, '\0'); /* callers parse text; the NUL is not counted */
        char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        *ret_data = data;
        if (ret_size)
                *ret_size = n;
        return 0;
}

int http_read_response(int fd, const struct http_options *o, http_sink_t sink, void *userdata, int *ret_status) {
        struct request rq = { .method = "GET" };
        struct body b = { .sink = sink, .userdata = userdata, .max_size = o ? o->max_size : 0 };
        int status = 0;
        _cleanup_free_ char *location = NULL;
        int r = read_response(fd, NULL, timeout_ms(o), &rq, &b, &status, &location);
        if (status && ret_status)
                *ret_status = status;
        return r;
}

int http_post(const char *url, const struct http_options *o, const char *content_type, char **extra_headers,
              const void *body, size_t n, int *ret_status) {
        struct request rq = { .method = "POST", .content_type = content_type, .extra_headers = extra_headers,
                              .body = body ? body : "", .body_n = body ? n : 0 };
        return request(url, o, &rq, NULL, NULL, ret_status);
}

int http_post_buffer(const char *url, const struct http_options *o, const char *content_type, char **extra_headers,
                     const void *body, size_t n, int *ret_status, char **ret_data, size_t *ret_size) {
        struct request rq = { .method = "POST", .content_type = content_type, .extra_headers = extra_headers,
                              .body = body ? body : "", .body_n = body ? n : 0 };
        _cleanup_(buf_done) struct buf b = {};
        int r = request(url, o, &rq, buf_sink, &b, ret_status);
        if (r < 0)
                return r;
        size_t len = b.len;
        buf_putc(&b, '\0');
        char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        *ret_data = data;
        if (ret_size)
                *ret_size = len;
        return 0;
}

const char *http_strerror(int r) {
        return r == -ENOENT ? "HTTP 404 (not found)" : r == -ECONNREFUSED ? "connection refused" :
               r == -ETIMEDOUT ? "timed out" : r == -EKEYREJECTED ? "its TLS certificate does not verify" :
               r == -EHOSTUNREACH ? "host name did not resolve" : strerror(-r);
}
