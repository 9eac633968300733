/* SPDX-License-Identifier: MIT */
/* write_file_atomic() and open_tmpfile_for() in a directory others may write: a file or a symlink
 * prepared under the temporary name of the old scheme ("<path>.tmp.<pid>") must not see the secret. */
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
#include "fileio.h"
#include "util.h"
#include "walk.h"

static const char secret[] = "requirepass s3cret\n";

static void test_prepared_name_sees_nothing(void **state) {
        char dir[] = "/tmp/test-fileio.XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_int_equal(chmod(dir, 01777 & ~01000), 0); /* group- and world-writable, no sticky bit */
        _cleanup_free_ char *target = strprintf("%s/redis.conf", dir);
        _cleanup_free_ char *old_tmp = strprintf("%s.tmp.%d", target, (int) getpid());
        _cleanup_free_ char *elsewhere = strprintf("%s/elsewhere", dir);

        /* The other user's file, world-writable, held open for reading. */
        int spy = open(old_tmp, O_RDWR | O_CREAT | O_EXCL, 0666);
        assert_true(spy >= 0);
        assert_int_equal(fchmod(spy, 0666), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, target, secret, strlen(secret), 0600), 0);
        char buf[64];
        assert_int_equal(pread(spy, buf, sizeof buf, 0), 0); /* nothing was written through it */
        close(spy);

        struct stat st;
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        _cleanup_free_ char *got = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, target, 1024, &got, NULL), 0);
        assert_string_equal(got, secret);

        /* A symlink under the old name: neither followed nor in the way. */
        assert_int_equal(unlink(old_tmp), 0);
        assert_int_equal(symlink(elsewhere, old_tmp), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, target, secret, strlen(secret), 0640), 0);
        assert_int_equal(access(elsewhere, F_OK), -1);
        assert_int_equal(stat(target, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);

        /* open_tmpfile_for: a fresh 0600 file, never the prepared one. */
        _cleanup_free_ char *tmp = NULL;
        int fd = open_tmpfile_for(target, &tmp);
        assert_true(fd >= 0);
        assert_string_not_equal(tmp, old_tmp);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(write(fd, secret, strlen(secret)), (ssize_t) strlen(secret));
        close(fd);
        assert_int_equal(publish_tmpfile(tmp, target), 0);
        assert_int_equal(access(elsewhere, F_OK), -1);

        /* Nothing is left behind but the target and the prepared symlink. */
        _cleanup_free_ char *cmd = strprintf("test $(ls -A %s | wc -l) -eq 2", dir);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

static void test_open_beneath(void **state) {
        /* A fake medium: a symlinked file, a symlinked directory, a way out with "..". */
        char dir[] = "/tmp/test-fileio-medium.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *cmd = strprintf("cd %s && mkdir -p m/d && echo ok > m/d/ks.cfg && echo secret > outside && "
                                             "ln -s ../outside m/ks.cfg && ln -s /etc m/etc && ln -s d m/dd", dir);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *top = strprintf("%s/m", dir);
        int fd = open_beneath(top, "d/ks.cfg", O_RDONLY);
        assert_true(fd >= 0);
        close(fd);
        fd = open_beneath(top, "/./d//ks.cfg", O_RDONLY);
        assert_true(fd >= 0);
        close(fd);
        assert_int_equal(open_beneath(top, "ks.cfg", O_RDONLY), -ELOOP);
        assert_int_equal(open_beneath(top, "etc/passwd", O_RDONLY), -ELOOP);
        assert_int_equal(open_beneath(top, "dd/ks.cfg", O_RDONLY), -ELOOP);
        assert_int_equal(open_beneath(top, "../outside", O_RDONLY), -EXDEV);
        assert_int_equal(open_beneath(top, "d/missing", O_RDONLY), -ENOENT);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

/* copy_bytes: a file to a file (copy_file_range), and a pipe to a file (the read/write fallback). */
static void test_copy_bytes(void **state) {
        char a[] = "/tmp/test-fileio-a.XXXXXX", b[] = "/tmp/test-fileio-b.XXXXXX";
        int in = mkstemp(a), out = mkstemp(b);
        assert_true(in >= 0 && out >= 0);
        static char data[200000];
        for (size_t i = 0; i < sizeof data; i++)
                data[i] = (char) (i * 7);
        assert_int_equal(write(in, data, sizeof data), sizeof data);
        assert_int_equal(lseek(in, 0, SEEK_SET), 0);
        assert_int_equal(copy_bytes(in, out), 0);
        static char back[sizeof data];
        assert_int_equal(pread(out, back, sizeof back, 0), sizeof data);
        assert_memory_equal(back, data, sizeof data);

        int p[2];
        assert_int_equal(pipe(p), 0);
        assert_int_equal(write(p[1], "piped\n", 6), 6);
        close(p[1]);
        assert_int_equal(ftruncate(out, 0), 0);
        assert_int_equal(lseek(out, 0, SEEK_SET), 0);
        assert_int_equal(copy_bytes(p[0], out), 0);
        char small[8] = "";
        assert_int_equal(pread(out, small, sizeof small - 1, 0), 6);
        assert_string_equal(small, "piped\n");
        close(p[0]);
        close(in);
        close(out);
        unlink(a);
        unlink(b);
}

/* walk_tree: sorted with paths, directories entered before and left after their entries, a skipped
 * directory neither walked nor left, no symlink followed, the depth limit. */
static int record(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        struct buf *b = userdata;
        buf_printf(b, "%c%u:%s ", "FEL"[ev], e->depth, e->path);
        return ev == WALK_ENTER && streq(e->name, "skip") ? WALK_SKIP : 0;
}

static void test_walk_tree(void **state) {
        char dir[] = "/tmp/test-fileio-walk.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *cmd = strprintf("cd %s && mkdir -p b/c skip/x && touch a b/c/f b/e skip/x/y && "
                                             "ln -s b l && ln -s /etc m", dir);
        assert_int_equal(system(cmd), 0);
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct buf b = {};
        assert_int_equal(walk_tree(fd, WALK_SORTED | WALK_PATHS, 16, record, &b), 0);
        _cleanup_free_ char *s = buf_steal(&b);
        assert_string_equal(s, "F0:a E0:b E1:b/c F2:b/c/f L1:b/c F1:b/e L0:b F0:l F0:m E0:skip ");
        assert_int_equal(walk_tree(fd, WALK_SORTED | WALK_PATHS, 1, record, &b), -ELOOP);
        free(buf_steal(&b));
        /* mkdir_parents_of: the directories above the last component, none for a bare name */
        assert_int_equal(mkdir_parents_of(fd, "n/o/p", 0755), 0);
        assert_int_equal(mkdir_parents_of(fd, "q", 0755), 0);
        struct stat st;
        assert_int_equal(fstatat(fd, "n/o", &st, 0), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(fstatat(fd, "n/o/p", &st, 0), -1);
        assert_int_equal(fstatat(fd, "q", &st, 0), -1);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

/* walk_remove_tree: everything below goes, a symlink is removed and not followed (what it points at
 * stays), a path that is not there is not an error. */
static void test_walk_remove_tree(void **state) {
        char dir[] = "/tmp/test-fileio-rm.XXXXXX", keep[] = "/tmp/test-fileio-keep.XXXXXX";
        assert_non_null(mkdtemp(dir));
        assert_non_null(mkdtemp(keep));
        _cleanup_free_ char *cmd = strprintf("cd %s && mkdir -p b/c/d e && touch a b/c/f b/c/d/g && chmod 0 b/c/d/g && "
                                             "ln -s %s l && ln -s %s b/c/m && touch %s/k && mkfifo e/p", dir, keep, keep, keep);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(walk_remove_tree(dir), 0);
        assert_int_equal(access(dir, F_OK), -1);
        assert_int_equal(errno, ENOENT);
        _cleanup_free_ char *k = strprintf("%s/k", keep);
        assert_int_equal(access(k, F_OK), 0);
        assert_int_equal(walk_remove_tree(dir), 0);
        assert_int_equal(walk_remove_tree(k), 0); /* a file */
        assert_int_equal(walk_remove_tree(keep), 0);
        assert_int_equal(access(keep, F_OK), -1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_prepared_name_sees_nothing),
                cmocka_unit_test(test_open_beneath),
                cmocka_unit_test(test_copy_bytes),
                cmocka_unit_test(test_walk_tree),
                cmocka_unit_test(test_walk_remove_tree),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
