/* SPDX-License-Identifier: MIT */
/* Unit tests for the trust features' pure parts: the debugfs script that pins ext4 inode times. */
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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ext4_times_script),
                cmocka_unit_test(test_ext4_times_script_bad),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
