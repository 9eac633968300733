/* SPDX-License-Identifier: MIT */
/* Unit tests for the trust features' pure parts: the debugfs script that pins ext4 inode times,
 * SHA256SUMS parsing for verify, key path naming. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "ext4-times.h"
#include "util.h"
#include "verify.h"

static unsigned count(const char *s, const char *needle) {
        unsigned n = 0;
        for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void test_ext4_times_script(void **state) {
        /* Shaped like dumpe2fs 1.47.0: group 0 full, group 1 with holes, group 2 empty (all free). */
        static const char text[] = "Filesystem volume name:   root\n"
                                   "Inodes per group:         16\n"
                                   "Group 0: (Blocks 0-32767) csum 0x62ce [ITABLE_ZEROED]\n"
                                   "  Free inodes: \n"
                                   "Group 1: (Blocks 32768-65535) csum 0xbb8c [ITABLE_ZEROED]\n"
                                   "  Free blocks: 40000-40010\n"
                                   "  Free inodes: 19-20, 22, 25-32\n"
                                   "Group 2: (Blocks 65536-98303) csum 0x150d [INODE_UNINIT, ITABLE_ZEROED]\n"
                                   "  Free inodes: 33-48\n";
        _cleanup_free_ char *s = NULL;
        unsigned n = 0;
        assert_int_equal(ext4_times_script(text, 1700000000, &s, &n), 0);
        /* 1..16, then 17, 18, 21, 23, 24. */
        assert_int_equal(n, 16 + 5);
        assert_int_equal(count(s, "\n"), 3 * n);
        assert_non_null(strstr(s, "sif <1> ctime @1700000000\nsif <1> atime @1700000000\nsif <1> crtime @1700000000\n"));
        assert_non_null(strstr(s, "sif <16> ctime"));
        assert_non_null(strstr(s, "sif <17> ctime"));
        assert_non_null(strstr(s, "sif <18> ctime"));
        assert_null(strstr(s, "sif <19> "));
        assert_null(strstr(s, "sif <20> "));
        assert_non_null(strstr(s, "sif <21> ctime"));
        assert_null(strstr(s, "sif <22> "));
        assert_non_null(strstr(s, "sif <24> crtime"));
        assert_null(strstr(s, "sif <25> "));
        assert_null(strstr(s, "sif <33> "));
}

static void test_ext4_times_script_bad(void **state) {
        static const char *const bad[] = {
                "not dumpe2fs at all\n",
                "Inodes per group:         16\n", /* no groups */
                "Inodes per group:         0\nGroup 0: (Blocks 0-1)\n  Free inodes: \n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 5-x\n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 9-3\n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 12-40\n", /* beyond the group */
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 12-14, 13\n", /* not ascending */
                "Filesystem volume name: x\nInodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 17\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = NULL;
                unsigned n = 0;
                int r = ext4_times_script(bad[i], 1, &s, &n);
                if (r != -EBADMSG)
                        fail_msg("case %zu: %d", i, r);
                assert_null(s);
        }
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_sha256sums_parse(void **state) {
        struct artifact *a = NULL;
        size_t n = 0;
        unsigned line = 0;
        assert_int_equal(sha256sums_parse(H64 "  lab-db1.raw\n" H64 " *manifest.json\n", &a, &n, &line), 0);
        assert_int_equal(n, 2);
        assert_string_equal(a[0].name, "lab-db1.raw");
        assert_string_equal(a[0].sha256, H64);
        assert_string_equal(a[1].name, "manifest.json");
        artifacts_free(a, n);

        /* Last line without a newline. */
        assert_int_equal(sha256sums_parse(H64 "  x", &a, &n, &line), 0);
        assert_int_equal(n, 1);
        artifacts_free(a, n);

        static const struct {
                const char *text;
                unsigned line;
        } bad[] = {
                { "", 1 },
                { H64 "  ../etc/passwd\n", 1 },
                { H64 "  a\n" H64 "  sub/dir\n", 2 },
                { H64 "  a\n" H64 "  ..\n", 2 },
                { H64 "  a\n" H64 "  .\n", 2 },
                { H64 "  a\n" H64 "  a\n", 2 },              /* listed twice */
                { H64 "  a\n\n", 2 },                           /* empty line */
                { "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef  a\n", 1 },
                { "0123456789abcdef  a\n", 1 },                  /* short hash */
                { H64 " a\n", 1 },                               /* one space */
                { H64 "  \n", 1 },                               /* no name */
                { H64 "  a\\b\n", 1 },                          /* escapes */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                a = NULL;
                line = 0;
                int r = sha256sums_parse(bad[i].text, &a, &n, &line);
                if (r != -EBADMSG || line != bad[i].line)
                        fail_msg("case %zu: r=%d line=%u", i, r, line);
                assert_null(a);
        }
}

static void test_signing_pub_for_key(void **state) {
        _cleanup_free_ char *a = signing_pub_for_key("/k/site.key"), *b = signing_pub_for_key("/k/site");
        assert_string_equal(a, "/k/site.pub");
        assert_string_equal(b, "/k/site.pub");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ext4_times_script),
                cmocka_unit_test(test_ext4_times_script_bad),
                cmocka_unit_test(test_sha256sums_parse),
                cmocka_unit_test(test_signing_pub_for_key),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
