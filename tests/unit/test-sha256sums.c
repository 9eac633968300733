/* SPDX-License-Identifier: MIT */
/* The one SHA256SUMS grammar (common/sha256sums.h) that `verify`, the signed check and the
 * installer share: what it keeps (comments, blank lines, CRLF, upper-case hex, "./", " *"), what it
 * refuses (names outside the directory, escapes, duplicates, an empty list), and where it says so. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "macro.h"
#include "sha256sums.h"
#include "util.h"

#define HEX_A "6726d22c70d6b4c9729a4a22aa6175f02ff9e0e8a212179d7f37955cadc1ff86"
#define HEX_B "f95c51de1a725b4562e8e7d41dfb6e590782c40fcb73de53425b6dd6735858e8"
#define HEX_A_UPPER "6726D22C70D6B4C9729A4A22AA6175F02FF9E0E8A212179D7F37955CADC1FF86"

static void test_good(void **state) {
        static const char text[] = "# made by rackstack-build\n"
                                   HEX_A "  image.raw.zst\r\n"
                                   "\n"
                                   HEX_B " *lab-db1.raw\n"
                                   HEX_A_UPPER "  ./manifest.json\n"
                                   HEX_B "  proxmox/lab-db1.conf\n"
                                   HEX_A "  pxe/vmlinuz"; /* the last line without a newline */
        struct sha256sums s = {};
        struct diags d = {};
        assert_int_equal(sha256sums_parse(text, sizeof text - 1, "SHA256SUMS", &d, &s), 0);
        assert_int_equal(d.n, 0);
        assert_int_equal(s.n, 5);
        assert_string_equal(sha256sums_lookup(&s, "image.raw.zst"), HEX_A);
        assert_string_equal(sha256sums_lookup(&s, "lab-db1.raw"), HEX_B);
        assert_string_equal(sha256sums_lookup(&s, "manifest.json"), HEX_A); /* lower-cased, "./" gone */
        assert_string_equal(sha256sums_lookup(&s, "proxmox/lab-db1.conf"), HEX_B);
        assert_string_equal(sha256sums_lookup(&s, "pxe/vmlinuz"), HEX_A);
        assert_null(sha256sums_lookup(&s, "image.raw.gz"));
        sha256sums_done(&s);
        diags_done(&d);
}

static void test_bad(void **state) {
        static const struct {
                const char *text;
                unsigned line, col;
        } bad[] = {
                { "", 1, 0 },                                  /* lists no file */
                { "# only a comment\n\n", 1, 0 },
                { "6726d22c  image.raw.zst\n", 1, 9 },         /* short */
                { "g726d22c70d6b4c9729a4a22aa6175f02ff9e0e8a212179d7f37955cadc1ff86  a\n", 1, 1 },
                { HEX_A " image.raw.zst\n", 1, 65 },           /* one space */
                { HEX_A "  \n", 1, 67 },                       /* no name */
                { HEX_A "  ./\n", 1, 67 },
                { HEX_A "  ../etc/passwd\n", 1, 67 },
                { HEX_A "  a\n" HEX_B "  /abs\n", 2, 67 },
                { HEX_A "  a\n" HEX_B "  sub//x\n", 2, 71 },
                { HEX_A "  a\n" HEX_B "  sub/../x\n", 2, 71 },
                { HEX_A "  a\n" HEX_B "  sub/\n", 2, 71 },
                { HEX_A "  a\n" HEX_B "  .\n", 2, 67 },
                { HEX_A "  a\n" HEX_B "  a\n", 2, 67 },      /* listed twice */
                { HEX_A "  a\n" HEX_B "  ./a\n", 2, 67 },    /* the same name */
                { HEX_A "  a\\b\n", 1, 68 },                   /* sha256sum's escaped names */
                { HEX_A "  a\tb\n", 1, 68 },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct sha256sums s = {};
                struct diags d = {};
                int r = sha256sums_parse(bad[i].text, strlen(bad[i].text), "SHA256SUMS", &d, &s);
                if (r != -EINVAL || d.n_errors != 1 || d.items[0].line != bad[i].line || d.items[0].col != bad[i].col)
                        fail_msg("case %zu: r=%d errors=%zu at %u:%u, expected %u:%u", i, r, d.n_errors,
                                 d.n ? d.items[0].line : 0, d.n ? d.items[0].col : 0, bad[i].line, bad[i].col);
                assert_string_equal(d.items[0].file, "SHA256SUMS");
                assert_null(s.items);
                diags_done(&d);
        }
        /* Every bad line is reported, not only the first; a NUL inside a line too. */
        static const char many[] = HEX_A "  a\nxx\n" HEX_B "  ../b\n" HEX_A "  c\0d\n";
        struct sha256sums s = {};
        struct diags d = {};
        assert_int_equal(sha256sums_parse(many, sizeof many - 1, "S", &d, &s), -EINVAL);
        assert_int_equal(d.n_errors, 3);
        assert_int_equal(d.items[0].line, 2);
        assert_int_equal(d.items[1].line, 3);
        assert_int_equal(d.items[2].line, 4);
        assert_int_equal(d.items[2].col, 68);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_good),
                cmocka_unit_test(test_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
