/* SPDX-License-Identifier: MIT */
/* Ed25519 keys and signatures, cross-checked with the openssl command users verify with. */
#include <errno.h>
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

#include "cleanup.h"
#include "ed25519.h"
#include "fileio.h"
#include "util.h"

static char dir[] = "/tmp/test-ed25519-XXXXXX";

static char *p(const char *name) {
        return strprintf("%s/%s", dir, name);
}

_printf_(1, 2) static int sh(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *cmd = strvprintf(fmt, ap);
        va_end(ap);
        int st = system(cmd);
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_roundtrip(void **state) {
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *prefix = p("k"), *key = p("k.key"), *pub = p("k.pub"), *data = p("SHA256SUMS"),
                            *sig = p("SHA256SUMS.sig");
        assert_int_equal(ed25519_keygen(prefix, false), 0);
        struct stat st;
        assert_int_equal(stat(key, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(ed25519_keygen(prefix, false), -EEXIST); /* never replaced silently */

        static const char sums[] = "0123  lab-db1.raw\n";
        assert_int_equal(write_file_atomic(AT_FDCWD, data, sums, strlen(sums), 0644), 0);
        assert_int_equal(ed25519_sign_file(key, data, sig), 0);
        assert_int_equal(stat(sig, &st), 0);
        assert_int_equal(st.st_size, 64);
        assert_int_equal(ed25519_verify_file(pub, data, sig), 0);
        /* What users run must agree, both ways. */
        assert_int_equal(sh("openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null", pub, data, sig), 0);
        _cleanup_free_ char *sig2 = p("openssl.sig");
        assert_int_equal(sh("openssl pkeyutl -sign -inkey %s -rawin -in %s -out %s", key, data, sig2), 0);
        assert_int_equal(ed25519_verify_file(pub, data, sig2), 0);

        /* One changed byte in the signed file: refused by us and by openssl. */
        static const char tampered[] = "0124  lab-db1.raw\n";
        assert_int_equal(write_file_atomic(AT_FDCWD, data, tampered, strlen(tampered), 0644), 0);
        assert_int_equal(ed25519_verify_file(pub, data, sig), -EBADMSG);
        assert_int_not_equal(sh("openssl pkeyutl -verify -pubin -inkey %s -rawin -in %s -sigfile %s >/dev/null 2>&1", pub, data, sig), 0);
        /* Another key's signature. */
        _cleanup_free_ char *other = p("other"), *other_pub = p("other.pub");
        assert_int_equal(ed25519_keygen(other, false), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, data, sums, strlen(sums), 0644), 0);
        assert_int_equal(ed25519_verify_file(other_pub, data, sig), -EBADMSG);
        assert_int_equal(ed25519_verify(pub, sums, strlen(sums), "short", 5), -EBADMSG);

        /* A private key others can read is refused for signing. */
        assert_int_equal(chmod(key, 0644), 0);
        assert_int_equal(ed25519_sign_file(key, data, sig), -EPERM);
        /* A non-Ed25519 key is rejected. */
        _cleanup_free_ char *rsa = p("rsa.pub");
        assert_int_equal(sh("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 2>/dev/null | "
                            "openssl pkey -pubout -out %s", rsa), 0);
        assert_int_equal(ed25519_verify_file(rsa, data, sig), -EKEYREJECTED);
        assert_int_equal(ed25519_keygen(prefix, true), 0); /* force replaces */
        assert_int_equal(ed25519_verify_file(pub, data, sig), -EBADMSG);
        assert_int_equal(sh("rm -rf %s", dir), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_roundtrip) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
