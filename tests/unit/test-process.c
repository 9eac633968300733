/* SPDX-License-Identifier: MIT */
/* common/process.c, the one runner: real children (sh, cat, sleep), no mocks. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
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
#include "process.h"
#include "util.h"

static void test_exit_status(void **state) {
        const char *ok[] = { "true", NULL }, *three[] = { "sh", "-c", "exit 3", NULL };
        assert_int_equal(proc_run(ok, NULL, NULL, NULL), 0);
        assert_int_equal(proc_run(three, NULL, NULL, NULL), 3);
        assert_int_equal(PROC_KILLED_BY(3), 0);

        /* .program: that file runs, argv[0] stays what the caller said. */
        const char *named[] = { "not-a-program", "-c", "test \"$0\" = not-a-program", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.program = "/bin/sh";
        assert_int_equal(proc_run(named, &o, NULL, NULL), 0);
}

static void test_signal_death(void **state) {
        const char *argv[] = { "sh", "-c", "kill -TERM $$", NULL };
        int r = proc_run(argv, NULL, NULL, NULL);
        assert_int_equal(r, 128 + SIGTERM);
        assert_int_equal(PROC_KILLED_BY(r), SIGTERM);
}

static void test_missing(void **state) {
        const char *abs[] = { "/nonexistent/tool", NULL }, *rel[] = { "no-such-tool-rackstack", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = o.err = PROC_OUT_TAIL;
        char *tail = NULL;
        assert_int_equal(proc_run(abs, &o, &tail, NULL), -ENOENT);
        assert_null(tail); /* it never ran: nothing written */
        assert_int_equal(proc_run(rel, NULL, NULL, NULL), -ENOENT);
        assert_int_equal(proc_find_program("no-such-tool-rackstack", NULL), -ENOENT);
        _cleanup_free_ char *sh = NULL;
        assert_int_equal(proc_find_program("sh", &sh), 0);
        assert_true(sh[0] == '/' && endswith(sh, "/sh"));
        assert_true(proc_have_program("mkfs.ext4") ==
                    (access("/sbin/mkfs.ext4", X_OK) == 0 || access("/usr/sbin/mkfs.ext4", X_OK) == 0));

        /* An executable that exec refuses is its errno from the child, not an exit status. */
        char bad[] = "/tmp/test-process.XXXXXX";
        int fd = mkstemp(bad);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, "\x7f" "ELF garbage", 12), 12);
        close(fd);
        assert_int_equal(chmod(bad, 0755), 0);
        const char *garbage[] = { bad, NULL };
        assert_int_equal(proc_run(garbage, NULL, NULL, NULL), -ENOEXEC);
        unlink(bad);
}

static void test_tail_and_capture(void **state) {
        const char *argv[] = { "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2; exit 3", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = o.err = PROC_OUT_TAIL;
        o.tail_lines = 2;
        _cleanup_free_ char *tail = NULL;
        assert_int_equal(proc_run(argv, &o, &tail, NULL), 3);
        assert_string_equal(tail, "line5\nerr");

        const char *split[] = { "sh", "-c", "echo out; echo err >&2", NULL };
        o = (struct proc_opts) PROC_OPTS_INIT;
        o.out = PROC_OUT_CAPTURE;
        o.err = PROC_OUT_TAIL;
        _cleanup_free_ char *t2 = NULL, *so = NULL;
        assert_int_equal(proc_run(split, &o, &t2, &so), 0);
        assert_string_equal(so, "out\n");
        assert_string_equal(t2, "err");

        /* Much more than is kept: the tail is still the last lines. */
        const char *lots[] = { "seq", "1", "200000", NULL };
        o = (struct proc_opts) PROC_OPTS_INIT;
        o.out = PROC_OUT_TAIL;
        o.tail_lines = 1;
        _cleanup_free_ char *t3 = NULL;
        assert_int_equal(proc_run(lots, &o, &t3, NULL), 0);
        assert_string_equal(t3, "200000");
}

static void test_stdin_buffer(void **state) {
        /* 1 MiB in and out at once: the feed and the read must not wait on each other. */
        size_t n = 1024 * 1024;
        _cleanup_free_ char *in = malloc(n + 1);
        assert_non_null(in);
        for (size_t i = 0; i < n; i++)
                in[i] = (char) ('a' + i % 26);
        in[n] = 0;
        const char *cat[] = { "cat", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.in = PROC_IN_BUFFER;
        o.input = in;
        o.input_len = n;
        o.out = PROC_OUT_CAPTURE;
        _cleanup_free_ char *out = NULL;
        assert_int_equal(proc_run(cat, &o, NULL, &out), 0);
        assert_int_equal(strlen(out), n);
        assert_memory_equal(out, in, n);

        /* A child that reads nothing: no SIGPIPE for us, its status comes back. */
        const char *early[] = { "sh", "-c", "exit 4", NULL };
        assert_int_equal(proc_run(early, &o, NULL, NULL), 4);

        /* Without a buffer, stdin is /dev/null. */
        const char *empty[] = { "sh", "-c", "test -z \"$(cat)\"", NULL };
        assert_int_equal(proc_run(empty, NULL, NULL, NULL), 0);
}

static void test_env_cwd_fd(void **state) {
        const char *argv[] = { "sh", "-c", "test \"$FOO\" = bar && test -z \"$LEAK\" && pwd", NULL };
        const char *env[] = { "FOO=bar", NULL };
        char path[] = "/tmp/test-process.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        struct proc_opts o = PROC_OPTS_INIT;
        o.env = env;
        o.clean_env = true;
        o.cwd = "/tmp";
        o.out = PROC_OUT_FD;
        o.out_fd = fd;
        setenv("LEAK", "x", 1);
        assert_int_equal(proc_run(argv, &o, NULL, NULL), 0);
        char b[16] = "";
        assert_int_equal(pread(fd, b, sizeof b - 1, 0), 5);
        assert_string_equal(b, "/tmp\n");
        close(fd);
        unlink(path);

        /* Without clean_env: ours, with the entries overriding. */
        const char *env2[] = { "LEAK=y", NULL };
        const char *check[] = { "sh", "-c", "test \"$LEAK\" = y", NULL };
        o = (struct proc_opts) PROC_OPTS_INIT;
        o.env = env2;
        assert_int_equal(proc_run(check, &o, NULL, NULL), 0);
        unsetenv("LEAK");
}

static volatile sig_atomic_t cancel_flag;

/* Gone, or a zombie that whoever adopted it has not reaped yet. */
static bool process_alive(pid_t pid) {
        _cleanup_free_ char *p = strprintf("/proc/%d/stat", (int) pid);
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        char state = 0;
        if (!f || fscanf(f, "%*d (%*[^)]) %c", &state) != 1)
                return false;
        return state != 'Z' && state != 'X';
}

static void test_cancel_and_timeout(void **state) {
        /* A cancel stops the child and what it started quickly. */
        const char *slow[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.own_group = true;
        o.cancel = &cancel_flag;
        cancel_flag = 1;
        double t = now_monotonic();
        assert_int_equal(proc_run(slow, &o, NULL, NULL), -EINTR);
        assert_true(now_monotonic() - t < 6);
        cancel_flag = 0;

        /* A timeout likewise, and the output so far still comes back. */
        const char *chatty[] = { "sh", "-c", "echo started; exec sleep 30", NULL };
        o = (struct proc_opts) PROC_OPTS_INIT;
        o.timeout_ms = 300;
        o.out = PROC_OUT_TAIL;
        _cleanup_free_ char *tail = NULL;
        t = now_monotonic();
        assert_int_equal(proc_run(chatty, &o, &tail, NULL), -ETIME);
        assert_true(now_monotonic() - t < 6);
        assert_string_equal(tail, "started");

        /* A daemon left in its group holding the pipe neither hangs us nor outlives the run. */
        const char *daemon[] = { "sh", "-c", "sleep 30 & echo $!", NULL };
        o = (struct proc_opts) PROC_OPTS_INIT;
        o.own_group = true;
        o.out = PROC_OUT_CAPTURE;
        _cleanup_free_ char *pid = NULL;
        t = now_monotonic();
        assert_int_equal(proc_run(daemon, &o, NULL, &pid), 0);
        assert_true(now_monotonic() - t < 6);
        usleep(100 * 1000);
        assert_false(process_alive((pid_t) strtol(pid, NULL, 10)));
}

static void test_start_wait(void **state) {
        const char *argv[] = { "sh", "-c", "exit 7", NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = o.err = PROC_OUT_NULL;
        pid_t pid;
        assert_int_equal(proc_start(argv, &o, &pid), 0);
        assert_int_equal(proc_wait(pid), 7);
        o.out = PROC_OUT_TAIL;
        assert_int_equal(proc_start(argv, &o, &pid), -EINVAL);

        _cleanup_free_ char *t = proc_tail_lines("a\nb\nc\n", 6, 2);
        assert_string_equal(t, "b\nc");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_exit_status),        cmocka_unit_test(test_signal_death),
                cmocka_unit_test(test_missing),            cmocka_unit_test(test_tail_and_capture),
                cmocka_unit_test(test_stdin_buffer),       cmocka_unit_test(test_env_cwd_fd),
                cmocka_unit_test(test_cancel_and_timeout), cmocka_unit_test(test_start_wait),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
