/* SPDX-License-Identifier: MIT */
/* Status events and their report: the event JSON, the HMAC-SHA256 signature checked against
 * `openssl dgst -sha256 -hmac KEY` (run from the test), delivery in order with a queue that
 * survives failures, secrets that never reach the console or status.json, and secret files. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include "skip.h"

#include "cleanup.h"
#include "fileio.h"
#include "hmac.h"
#include "secret.h"
#include "status.h"
#include "util.h"

/* What `printf %s DATA | openssl dgst -sha256 -hmac KEY` prints, as hex. DATA and KEY go through
 * files so that no shell quoting is involved. */
static char *openssl_hmac(const char *key, const char *data, size_t n) {
        char dir[] = "/tmp/test-report-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *df = strprintf("%s/data", dir), *kf = strprintf("%s/key", dir);
        assert_int_equal(write_file_atomic(AT_FDCWD, df, data, n, 0600), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, kf, key, strlen(key), 0600), 0);
        _cleanup_free_ char *cmd = strprintf("openssl dgst -sha256 -hmac \"$(cat %s)\" -r < %s", kf, df);
        FILE *p = popen(cmd, "r");
        assert_non_null(p);
        char line[256] = {};
        assert_non_null(fgets(line, sizeof line, p));
        assert_int_equal(pclose(p), 0);
        line[strcspn(line, " \n")] = 0;
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
        return strdup(line);
}

static void test_hmac_matches_openssl(void **state) {
        if (system("command -v openssl >/dev/null 2>&1") != 0)
                skip_because("openssl missing");
        static const struct {
                const char *key, *data;
        } cases[] = {
                { "s3cret-join-token", "{\"event_type\":\"start\",\"name\":\"join/time\"}" },
                { "k", "" },
                /* longer than the SHA-256 block: HMAC hashes the key first */
                { "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "payload\nwith lines\n" },
                { "token with spaces", "ünïcödé ✓" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *ours = NULL;
                assert_int_equal(hmac_sha256_hex(cases[i].key, strlen(cases[i].key), cases[i].data, strlen(cases[i].data),
                                                 &ours), 0);
                _cleanup_free_ char *theirs = openssl_hmac(cases[i].key, cases[i].data, strlen(cases[i].data));
                assert_int_equal(strlen(ours), 64);
                assert_string_equal(ours, theirs);
        }
        /* RFC 4231 test case 2, so the vector stands even without openssl */
        _cleanup_free_ char *rfc = NULL;
        assert_int_equal(hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, &rfc), 0);
        assert_string_equal(rfc, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

static void test_event_json(void **state) {
        _cleanup_free_ char *s = status_event_json("finish", "join/time", "time server \"x\" answered", "SUCCESS",
                                                   1764170000.125, 7, "lab-db1.domain.com");
        assert_string_equal(s, "{\"origin\":\"rackstack-firstboot\",\"event_type\":\"finish\",\"name\":\"join/time\","
                               "\"description\":\"time server \\\"x\\\" answered\",\"timestamp\":1764170000.125,\"seq\":7,"
                               "\"host\":\"lab-db1.domain.com\",\"result\":\"SUCCESS\"}");
        _cleanup_free_ char *st = status_event_json("start", "storage", NULL, NULL, 1.5, 1, NULL);
        assert_string_equal(st, "{\"origin\":\"rackstack-firstboot\",\"event_type\":\"start\",\"name\":\"storage\","
                                "\"description\":\"\",\"timestamp\":1.500,\"seq\":1}");
}

struct sink {
        char **bodies;
        char **sigs;
        int fail_first; /* fail this many attempts, then accept */
        int fail_always;
        unsigned attempts;
};

static int fake_post(const char *url, char **headers, const char *body, size_t n, void *userdata) {
        struct sink *k = userdata;
        k->attempts++;
        assert_string_equal(url, "http://10.0.2.2:8080/events");
        assert_non_null(headers[0]);
        assert_null(headers[1]);
        if (k->fail_always || k->fail_first > 0) {
                k->fail_first--;
                return -ECONNREFUSED;
        }
        assert_int_equal(strlen(body), n);
        assert_int_equal(strv_extend(&k->bodies, body), 0);
        assert_int_equal(strv_extend(&k->sigs, headers[0]), 0);
        return 0;
}

static struct secret token(const char *t) {
        struct secret s = { .data = strdup(t), .len = strlen(t) };
        assert_non_null(s.data);
        return s;
}

static char *finish_quietly(struct status *st, char **ret_console) {
        char dir[] = "/tmp/test-report-root-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *cpath = strprintf("%s/console", dir);
        fflush(stdout);
        int saved = dup(1), cfd = open(cpath, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        dup2(cfd, 1);
        assert_int_equal(status_finish(st, fd), 0);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        close(cfd);
        char *json = NULL;
        assert_int_equal(read_file_full(fd, STATUS_PATH, 1 << 20, &json, NULL), 0);
        assert_int_equal(read_file_full(AT_FDCWD, cpath, 1 << 20, ret_console, NULL), 0);
        close(fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
        return json;
}

static void test_reporter_delivers_in_order(void **state) {
        _cleanup_(status_done) struct status st = { .quiet = true };
        struct sink k = {};
        /* events before the reporter is known are reported too */
        assert_int_equal(status_start(&st, "answers", NULL), 0);
        assert_int_equal(status_step(&st, "answers", "done", "OEMDRV volume"), 0);
        struct secret key = token("the-join-token");
        assert_int_equal(status_set_reporter(&st, "http://10.0.2.2:8080/events", &key), 0);
        assert_null(key.data); /* taken over */
        st.reporter->post = fake_post;
        st.reporter->userdata = &k;
        st.reporter->final_pause = 0;
        /* the reporter's first attempt used the real client, which had nothing listening: it is
         * queued, not lost; let the next event retry at once */
        st.reporter->next_try = 0;
        assert_int_equal(status_set_host(&st, "lab-db1.domain.com"), 0);
        assert_int_equal(status_start(&st, "join/time", "chrony"), 0);
        st.reporter->next_try = 0;
        assert_int_equal(status_step(&st, "join/time", "skipped", "no 'join ipa' in the answers"), 0);
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_quietly(&st, &console);
        assert_string_equal(console, "rackstack-firstboot: finished\n");

        /* run start, answers start+finish, join/time start+finish, run finish */
        assert_int_equal(strv_length(k.bodies), 6);
        static const char *const want[] = {
                "\"event_type\":\"start\",\"name\":\"rackstack-firstboot\"",
                "\"event_type\":\"start\",\"name\":\"answers\"",
                "\"event_type\":\"finish\",\"name\":\"answers\",\"description\":\"OEMDRV volume\"",
                "\"event_type\":\"start\",\"name\":\"join/time\"",
                "\"event_type\":\"finish\",\"name\":\"join/time\"",
                "\"event_type\":\"finish\",\"name\":\"rackstack-firstboot\",\"description\":\"finished\"",
        };
        for (size_t i = 0; i < 6; i++) {
                if (!strstr(k.bodies[i], want[i]))
                        fail_msg("event %zu: %s lacks %s", i, k.bodies[i], want[i]);
                _cleanup_free_ char *seq = strprintf("\"seq\":%zu", i + 1);
                const char *at = strstr(k.bodies[i], seq);
                assert_non_null(at);
                assert_true(at[strlen(seq)] == ',' || at[strlen(seq)] == '}');
                /* every signature is HMAC-SHA256 of the exact body, keyed by the token */
                _cleanup_free_ char *hex = NULL;
                assert_int_equal(hmac_sha256_hex("the-join-token", 14, k.bodies[i], strlen(k.bodies[i]), &hex), 0);
                _cleanup_free_ char *hdr = strprintf("X-Rackstack-Signature: sha256=%s", hex);
                assert_string_equal(k.sigs[i], hdr);
        }
        assert_non_null(strstr(k.bodies[4], "\"result\":\"SKIPPED\""));
        assert_non_null(strstr(k.bodies[4], "\"host\":\"lab-db1.domain.com\""));
        assert_non_null(strstr(k.bodies[5], "\"result\":\"SUCCESS\""));
        /* status.json keeps the contract and has the events; the token appears nowhere */
        assert_non_null(strstr(json, "\"state\": \"finished\""));
        assert_non_null(strstr(json, "\"events\": ["));
        assert_null(strstr(json, "the-join-token"));
        assert_null(strstr(console, "the-join-token"));
        strv_free(k.bodies);
        strv_free(k.sigs);
}

static void test_reporter_failures_never_fail_the_run(void **state) {
        _cleanup_(status_done) struct status st = { .quiet = true };
        struct sink k = { .fail_first = 3 };
        struct secret key = token("t");
        assert_int_equal(status_set_reporter(&st, "http://10.0.2.2:8080/events", &key), 0);
        st.reporter->post = fake_post;
        st.reporter->userdata = &k;
        st.reporter->final_pause = 0;
        st.reporter->final_tries = 5;
        for (int i = 0; i < 3; i++) {
                st.reporter->next_try = 0;
                assert_int_equal(status_step(&st, "storage", "done", NULL), 0);
        }
        /* three failed attempts, backing off: 1, 2, 4 s */
        assert_int_equal(st.reporter->failures, 3);
        assert_true(st.reporter->backoff >= 4);
        assert_int_equal(st.reporter->n_pending, 4); /* run start + 3 */
        /* while backing off, a new event is queued without an attempt */
        unsigned before = k.attempts;
        assert_int_equal(status_fail(&st, "network", "no gateway"), 0);
        assert_int_equal(k.attempts, before);
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_quietly(&st, &console);
        assert_string_equal(console, "rackstack-firstboot: FAILED at network: no gateway\n");
        /* the final flush delivered everything, in order */
        assert_int_equal(strv_length(k.bodies), 6);
        assert_non_null(strstr(k.bodies[0], "\"seq\":1}"));
        assert_non_null(strstr(k.bodies[5], "\"seq\":6,"));
        assert_non_null(strstr(k.bodies[5], "\"result\":\"FAIL\""));
        assert_non_null(strstr(k.bodies[5], "FAILED at network: no gateway"));
        strv_free(k.bodies);
        strv_free(k.sigs);

        /* a URL that never answers: status_finish still succeeds and the status is written */
        _cleanup_(status_done) struct status s2 = { .quiet = true };
        struct sink dead = { .fail_always = 1 };
        struct secret key2 = token("t");
        assert_int_equal(status_set_reporter(&s2, "http://10.0.2.2:8080/events", &key2), 0);
        s2.reporter->post = fake_post;
        s2.reporter->userdata = &dead;
        s2.reporter->final_pause = 0;
        assert_int_equal(status_step(&s2, "answers", "done", NULL), 0);
        _cleanup_free_ char *c2 = NULL;
        _cleanup_free_ char *j2 = finish_quietly(&s2, &c2);
        assert_string_equal(c2, "rackstack-firstboot: finished\n");
        assert_true(dead.attempts <= 1 + 3); /* bounded: at most the final tries after the backoff */
}

static void test_attach(void **state) {
        _cleanup_(status_done) struct status st = { .quiet = true };
        assert_int_equal(status_attach(&st, "join", "{\"done\": []}"), 0);
        assert_int_equal(status_attach(&st, "state", "1"), -EINVAL);
        assert_int_equal(status_attach(&st, "events", "[]"), -EINVAL);
        assert_int_equal(status_attach(&st, "x", ""), -EINVAL);
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_quietly(&st, &console);
        assert_non_null(strstr(json, "\"join\": {\"done\": []}"));
}

static void test_secret_files(void **state) {
        char dir[] = "/tmp/test-report-secret-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_int_equal(write_file_atomic(fd, "ok", "tok3n\n", 6, 0600), 0);
        assert_int_equal(write_file_atomic(fd, "open", "tok3n\n", 6, 0644), 0);
        assert_int_equal(write_file_atomic(fd, "group", "tok3n\n", 6, 0640), 0);
        assert_int_equal(write_file_atomic(fd, "empty", "\n", 1, 0600), 0);
        assert_int_equal(symlinkat("ok", fd, "link"), 0);
        struct secret s = {};
        assert_int_equal(secret_read(fd, "/ok", &s), 0); /* absolute paths are under the root */
        assert_string_equal(s.data, "tok3n");
        assert_int_equal(s.len, 5);
        secret_free(&s);
        assert_null(s.data);
        assert_int_equal(secret_read(fd, "open", &s), -EPERM);
        assert_int_equal(secret_read(fd, "group", &s), -EPERM);
        assert_int_equal(secret_read(fd, "empty", &s), -ENODATA);
        assert_int_equal(secret_read(fd, "link", &s), -ELOOP);
        assert_int_equal(secret_read(fd, "missing", &s), -ENOENT);
        assert_int_equal(secret_remove(fd, "/ok"), 0);
        assert_int_equal(faccessat(fd, "ok", F_OK, 0), -1);
        assert_int_equal(secret_remove(fd, "/ok"), 0); /* gone already is fine */
        close(fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hmac_matches_openssl),
                cmocka_unit_test(test_event_json),
                cmocka_unit_test(test_reporter_delivers_in_order),
                cmocka_unit_test(test_reporter_failures_never_fail_the_run),
                cmocka_unit_test(test_attach),
                cmocka_unit_test(test_secret_files),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
