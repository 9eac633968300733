/* SPDX-License-Identifier: MIT */
/* The two numbers the builder takes from a tree, pinned on a fixed tree: the apparent bytes that size
 * the disk image (every entry's size plus 4 KiB, every link counted, across mounts), and the 4 KiB
 * blocks the fit check counts (the top included, a hard-linked file once, a symlink shorter than 60
 * bytes as none: ext4 keeps it in the inode). A change to either changes every image's size or the
 * point at which a build refuses a tree: this test is there so that such a change is deliberate. */
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

#include "build.h"
#include "cleanup.h"
#include "mkfs.h"
#include "util.h"

#define LONG_TARGET "a-symlink-target-of-seventy-bytes-which-ext4-cannot-keep-in-the-inode"

static char *top;

static void file_at(const char *rel, size_t size) {
        _cleanup_free_ char *p = strprintf("%s/%s", top, rel);
        assert_non_null(p);
        _cleanup_close_ int fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        char buf[4096];
        memset(buf, 'x', sizeof buf);
        for (size_t done = 0; done < size;) {
                size_t n = MIN(sizeof buf, size - done);
                assert_int_equal(write(fd, buf, n), (ssize_t) n);
                done += n;
        }
}

static void dir_at(const char *rel) {
        _cleanup_free_ char *p = strprintf("%s/%s", top, rel);
        assert_non_null(p);
        assert_int_equal(mkdir(p, 0755), 0);
}

static uint64_t dir_size(const char *rel) {
        _cleanup_free_ char *p = *rel ? strprintf("%s/%s", top, rel) : strdup(top);
        assert_non_null(p);
        struct stat st;
        assert_int_equal(lstat(p, &st), 0);
        return (uint64_t) st.st_size;
}

static uint64_t blocks(uint64_t n) {
        return (n + 4095) / 4096 * 4096;
}

static int setup(void **state) {
        top = strdup("/var/tmp/test-tree-measure-XXXXXX");
        assert_non_null(top);
        assert_non_null(mkdtemp(top));
        file_at("a", 1);
        file_at("b", 4096);
        file_at("c", 5000);
        file_at("empty", 0);
        dir_at("sub");
        file_at("sub/d", 10000);
        dir_at("sub/deep");
        file_at("sub/deep/e", 1);
        _cleanup_free_ char *c = strprintf("%s/c", top), *hard = strprintf("%s/sub/hard", top);
        _cleanup_free_ char *shrt = strprintf("%s/sub/short", top), *lng = strprintf("%s/sub/long", top);
        _cleanup_free_ char *sparse = strprintf("%s/sparse", top);
        assert_true(c && hard && shrt && lng && sparse);
        assert_int_equal(link(c, hard), 0);
        assert_int_equal(symlink("a", shrt), 0);
        assert_int_equal(symlink(LONG_TARGET, lng), 0);
        _cleanup_close_ int fd = open(sparse, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 1 << 20), 0); /* a hole: apparent size counts */
        return 0;
}

static int teardown(void **state) {
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", top);
        assert_non_null(cmd);
        assert_int_equal(system(cmd), 0);
        free(top);
        return 0;
}

/* a b c empty sparse sub d deep e hard short long: 12 entries below the top. */
static uint64_t files_apparent(void) {
        return 1 + 4096 + 5000 + 0 + (1 << 20) + 10000 + 1 + 5000 /* hard */ + 1 /* short */ + strlen(LONG_TARGET);
}

static void test_image_bytes(void **state) {
        _cleanup_close_ int fd = open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct tree_measure tm;
        assert_int_equal(tree_measure(fd, &tm), 0);
        uint64_t bytes = tm.apparent;
        assert_int_equal(bytes, files_apparent() + dir_size("sub") + dir_size("sub/deep") + 12 * 4096);
        /* And the image that many bytes make, by build_image_size's rule. */
        assert_int_equal(build_image_size(bytes), 2ull << 30);
        assert_int_equal(build_image_size(3ull << 30), 4608ull << 20); /* +30%, +600 MiB, to 256 MiB */
}

static void test_fit_blocks(void **state) {
        struct tree_measure tm;
        assert_int_equal(tree_measure_path(top, &tm), 0);
        uint64_t used = tm.blocks;
        uint64_t want = blocks(dir_size("")) + 4096 /* a */ + 4096 /* b */ + 8192 /* c, and hard once */ +
                        0 /* empty */ + (1 << 20) /* sparse */ + blocks(dir_size("sub")) + 12288 /* d */ +
                        blocks(dir_size("sub/deep")) + 4096 /* e */ + 0 /* short */ + 4096 /* long */;
        assert_int_equal(used, want);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_image_bytes),
                cmocka_unit_test(test_fit_blocks),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
