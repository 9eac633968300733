/* SPDX-License-Identifier: MIT */
/* The HTTP client against a real server on loopback: a forked child that answers each path with a
 * canned response (Content-Length, chunked, to-close, 404, 500-then-200, a stall, a redirect). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "http.h"
#include "util.h"

static int port;
static pid_t server;
static int fails_left = 3; /* /flaky answers 503 this many times (counted in the server process) */

static void reply(int c, const char *s) {
        (void) !write(c, s, strlen(s));
}

static void serve(int ls) {
        char *last_post = NULL;
        for (;;) {
                int c = accept(ls, NULL, NULL);
                if (c < 0)
                        continue;
                char req[8192];
                size_t n = 0;
                ssize_t k;
                while (n < sizeof(req) - 1 && (k = read(c, req + n, sizeof(req) - 1 - n)) > 0) {
                        n += k;
                        req[n] = '\0';
                        char *end = strstr(req, "\r\n\r\n");
                        if (!end)
                                continue;
                        const char *cl = strcasestr(req, "Content-Length: ");
                        size_t want = cl ? (size_t) atol(cl + 16) : 0;
                        if (n >= (size_t) (end + 4 - req) + want)
                                break;
                }
                req[n] = '\0';
                char path[256] = "";
                (void) sscanf(req, "%*s %255s", path);
                if (strcmp(path, "/ks.cfg") == 0)
                        reply(c, "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\nhello world\n");
                else if (strcmp(path, "/chunked") == 0)
                        reply(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                                 "7;ext=1\r\n world\n\r\n0\r\nX-Trailer: y\r\n\r\n");
                else if (strcmp(path, "/close") == 0)
                        reply(c, "HTTP/1.0 200 OK\r\n\r\nhello world\n");
                else if (strcmp(path, "/flaky") == 0 && fails_left-- > 0)
                        reply(c, "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\n\r\n");
                else if (strcmp(path, "/flaky") == 0)
                        reply(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                else if (strcmp(path, "/redirect") == 0)
                        reply(c, "HTTP/1.1 302 Found\r\nLocation: /ks.cfg\r\nContent-Length: 0\r\n\r\n");
                else if (strcmp(path, "/stall") == 0) {
                        reply(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial");
                        sleep(2);
                } else if (strcmp(path, "/short") == 0)
                        reply(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort");
                else if (strcmp(path, "/post") == 0) {
                        free(last_post);
                        last_post = strdup(req);
                        reply(c, "HTTP/1.1 204 No Content\r\n\r\n");
                } else if (strcmp(path, "/last-post") == 0) {
                        char *s = strprintf("HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s",
                                            last_post ? strlen(last_post) : 0, last_post ? last_post : "");
                        reply(c, s);
                        free(s);
                } else
                        reply(c, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
                close(c);
        }
}

static int setup(void **state) {
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        if (ls < 0 || bind(ls, (struct sockaddr *) &a, sizeof(a)) < 0 || listen(ls, 16) < 0 ||
            getsockname(ls, (struct sockaddr *) &a, &len) < 0)
                return -1;
        port = ntohs(a.sin_port);
        server = fork();
        if (server < 0)
                return -1;
        if (server == 0) {
                serve(ls);
                _exit(0);
        }
        close(ls);
        return 0;
}

static int teardown(void **state) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
        return 0;
}

static char *url(const char *path) {
        return strprintf("http://127.0.0.1:%d%s", port, path);
}

static void test_parse_url(void **state) {
        static const struct {
                const char *url, *host, *port, *path;
                int r;
        } t[] = {
                { "http://10.0.2.2:8000/ks/db.cfg", "10.0.2.2", "8000", "/ks/db.cfg", 0 },
                { "http://boot.domain.com", "boot.domain.com", "80", "/", 0 },
                { "HTTP://h/x?y=1#frag", "h", "80", "/x?y=1", 0 },
                { "http://[fd00::1]:81/a", "fd00::1", "81", "/a", 0 },
                { "http://h?q", "h", "80", "/?q", 0 },
                { "https://h/x", NULL, NULL, NULL, -EPROTONOSUPPORT },
                { "ftp://h/x", NULL, NULL, NULL, -EPROTONOSUPPORT },
                { "h/x", NULL, NULL, NULL, -EINVAL },
                { "http:///x", NULL, NULL, NULL, -EINVAL },
                { "http://h:0/", NULL, NULL, NULL, -EINVAL },
                { "http://h:65536/", NULL, NULL, NULL, -EINVAL },
                { "http://h:8x/", NULL, NULL, NULL, -EINVAL },
                { "http://user:pw@h/", NULL, NULL, NULL, -EINVAL },
                { "http://h/a b", NULL, NULL, NULL, -EINVAL },
                { "http://[fd00::1/", NULL, NULL, NULL, -EINVAL },
        };
        for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
                char *h = (char *) "untouched", *p = h, *path = h;
                int r = http_parse_url(t[i].url, &h, &p, &path);
                if (r != t[i].r)
                        fail_msg("%s: %d, expected %d", t[i].url, r, t[i].r);
                if (r < 0) {
                        assert_string_equal(h, "untouched");
                        continue;
                }
                assert_string_equal(h, t[i].host);
                assert_string_equal(p, t[i].port);
                assert_string_equal(path, t[i].path);
                free(h), free(p), free(path);
        }
}

static void get_ok(const char *path, const struct http_options *o, const char *want) {
        _cleanup_free_ char *u = url(path), *data = NULL;
        size_t n = 0;
        int r = http_get_buffer(u, o, &data, &n);
        if (r < 0)
                fail_msg("%s: %s", path, strerror(-r));
        assert_int_equal(n, strlen(want));
        assert_string_equal(data, want);
}

static int get_err(const char *path, const struct http_options *o) {
        _cleanup_free_ char *u = url(path), *data = NULL;
        int r = http_get_buffer(u, o, &data, NULL);
        assert_null(data);
        return r;
}

static void test_get(void **state) {
        struct http_options o = { .timeout_usec = 5000000 };
        get_ok("/ks.cfg", &o, "hello world\n");
        get_ok("/chunked", &o, "hello world\n");
        get_ok("/close", &o, "hello world\n");
        get_ok("/redirect", &o, "hello world\n");
        assert_int_equal(get_err("/missing", &o), -ENOENT);
        assert_int_equal(get_err("/short", &o), -ECONNRESET);
}

static void test_pin_and_limit(void **state) {
        /* printf 'hello world\n' | sha256sum */
        struct http_options o = { .timeout_usec = 5000000,
                                  .sha256_hex = "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447" };
        get_ok("/ks.cfg", &o, "hello world\n");
        get_ok("/chunked", &o, "hello world\n");
        o.sha256_hex = "A948904F2F0F479B8F8197694B30184B0D2ED1C1CD2A1EC0FB85D299A192A447";
        get_ok("/ks.cfg", &o, "hello world\n");
        o.sha256_hex = "0000000000000000000000000000000000000000000000000000000000000000";
        assert_int_equal(get_err("/ks.cfg", &o), -EBADMSG);
        o.sha256_hex = NULL;
        o.max_size = 12;
        get_ok("/ks.cfg", &o, "hello world\n");
        o.max_size = 11;
        assert_int_equal(get_err("/ks.cfg", &o), -EFBIG);   /* refused from Content-Length */
        assert_int_equal(get_err("/chunked", &o), -EFBIG);  /* refused while reading */
        assert_int_equal(get_err("/close", &o), -EFBIG);
}

static void test_timeout_and_retry(void **state) {
        struct http_options o = { .timeout_usec = 300000 };
        double t0 = now_monotonic();
        assert_int_equal(get_err("/stall", &o), -ETIMEDOUT);
        assert_true(now_monotonic() - t0 < 1.9); /* bounded by the timeout, not the server's 2 s */

        o.timeout_usec = 5000000;
        assert_int_equal(get_err("/flaky", &o), -EIO); /* no retries: the 503 is the answer */
        o.retries = 2;
        get_ok("/flaky", &o, "ok"); /* 503, 503, then 200 on the second retry */

        /* Nothing listens: refused, retried, then refused. */
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        assert_int_equal(bind(s, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(getsockname(s, (struct sockaddr *) &a, &len), 0);
        close(s);
        _cleanup_free_ char *u = strprintf("http://127.0.0.1:%d/ks.cfg", ntohs(a.sin_port));
        char *data = NULL;
        o.retries = 1;
        t0 = now_monotonic();
        assert_int_equal(http_get_buffer(u, &o, &data, NULL), -ECONNREFUSED);
        assert_true(now_monotonic() - t0 >= 0.4); /* one backoff happened */
        assert_int_equal(http_get_buffer("https://127.0.0.1/x", &o, &data, NULL), -EPROTONOSUPPORT);
        assert_null(data);
}

static void test_post(void **state) {
        struct http_options o = { .timeout_usec = 5000000 };
        _cleanup_free_ char *u = url("/post");
        char *headers[] = { (char *) "X-Rackstack-Signature: sha256=abc", NULL };
        int status = 0;
        assert_int_equal(http_post(u, &o, "application/json", headers, "{\"a\":1}", 7, &status), 0);
        assert_int_equal(status, 204);
        _cleanup_free_ char *lu = url("/last-post"), *seen = NULL;
        assert_int_equal(http_get_buffer(lu, &o, &seen, NULL), 0);
        assert_non_null(strstr(seen, "POST /post HTTP/1.1\r\n"));
        assert_non_null(strstr(seen, "Content-Type: application/json\r\n"));
        assert_non_null(strstr(seen, "Content-Length: 7\r\n"));
        assert_non_null(strstr(seen, "X-Rackstack-Signature: sha256=abc\r\n"));
        assert_non_null(strstr(seen, "\r\n\r\n{\"a\":1}"));
        /* A header that would smuggle another header is refused before anything is sent. */
        char *bad[] = { (char *) "X-A: b\r\nX-Evil: 1", NULL };
        assert_int_equal(http_post(u, &o, "application/json", bad, "{}", 2, &status), -EINVAL);
        _cleanup_free_ char *missing = url("/nowhere");
        status = 0;
        assert_int_equal(http_post(missing, &o, "application/json", NULL, "{}", 2, &status), -ENOENT);
        assert_int_equal(status, 404);
}

/* https://, against a real TLS server (openssl s_server) whose certificate a CA made here signs,
 * for 127.0.0.1 only: refused unless allowed; refused when the CA is not trusted (the system store)
 * or the name differs; fetched when SSL_CERT_FILE names the CA. */
static int sh(const char *cmd) {
        int r = system(cmd);
        return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static void test_https(void **state) {
        if (sh("command -v openssl >/dev/null") != 0)
                skip();
        char dir[] = "/tmp/rackstack-test-https-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *gen = strprintf(
                "cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=test-ca "
                "-keyout ca.key -out ca.pem 2>/dev/null && "
                "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 -keyout srv.key "
                "-out srv.csr 2>/dev/null && printf 'subjectAltName=IP:127.0.0.1\n' >ext && "
                "openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile ext "
                "-out srv.pem 2>/dev/null && echo tls-body >file.txt", dir);
        assert_int_equal(sh(gen), 0);
        int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof(a);
        assert_int_equal(bind(ls, (struct sockaddr *) &a, sizeof(a)), 0);
        assert_int_equal(getsockname(ls, (struct sockaddr *) &a, &len), 0);
        int tport = ntohs(a.sin_port);
        close(ls);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                if (chdir(dir) < 0)
                        _exit(1);
                char acc[32];
                snprintf(acc, sizeof(acc), "127.0.0.1:%d", tport);
                int null = open("/dev/null", O_RDWR);
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
                execlp("openssl", "openssl", "s_server", "-quiet", "-accept", acc, "-cert", "srv.pem", "-key", "srv.key",
                       "-WWW", (char *) NULL);
                _exit(127);
        }
        _cleanup_free_ char *u = strprintf("https://127.0.0.1:%d/file.txt", tport);
        _cleanup_free_ char *byname = strprintf("https://localhost:%d/file.txt", tport);
        _cleanup_free_ char *ca = strprintf("%s/ca.pem", dir);
        struct http_options plain = { .timeout_usec = 5000000 };
        struct http_options o = { .timeout_usec = 5000000, .allow_https = true, .retries = 8 };
        char *data = NULL;
        assert_int_equal(http_get_buffer(u, &plain, &data, NULL), -EPROTONOSUPPORT);
        /* the system's CA store does not know this CA (retries wait for s_server to listen) */
        unsetenv("SSL_CERT_FILE");
        assert_int_equal(http_get_buffer(u, &o, &data, NULL), -EKEYREJECTED);
        setenv("SSL_CERT_FILE", ca, 1);
        assert_int_equal(http_get_buffer(u, &o, &data, NULL), 0);
        assert_string_equal(data, "tls-body\n");
        free(data);
        data = NULL;
        /* the certificate is for 127.0.0.1, not for localhost */
        assert_int_equal(http_get_buffer(byname, &o, &data, NULL), -EKEYREJECTED);
        unsetenv("SSL_CERT_FILE");
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        (void) sh(rm);
}

int main(void) {
        signal(SIGPIPE, SIG_IGN);
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_url),
                cmocka_unit_test(test_get),
                cmocka_unit_test(test_pin_and_limit),
                cmocka_unit_test(test_timeout_and_retry),
                cmocka_unit_test(test_post),
                cmocka_unit_test(test_https),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
