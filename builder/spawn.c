/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdarg.h>
#include <string.h>

#include "cleanup.h"
#include "log.h"
#include "process.h"
#include "spawn-run.h"
#include "util.h"

volatile sig_atomic_t build_interrupted;

static void on_signal(int sig) {
        build_interrupted = sig;
}

void interrupt_install(void) {
        struct sigaction sa = { .sa_handler = on_signal };
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, NULL);
        (void) sigaction(SIGTERM, &sa, NULL);
        (void) sigaction(SIGHUP, &sa, NULL);
}

char *tail_lines(const char *text, size_t len, size_t n) {
        return proc_tail_lines(text, len, n);
}

char *argv_to_string(const char *const argv[]) {
        struct buf b = {};
        for (size_t i = 0; argv[i]; i++) {
                if (i > 0)
                        buf_putc(&b, ' ');
                bool plain = argv[i][0] && strspn(argv[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_=./:,+@%") == strlen(argv[i]);
                if (plain)
                        buf_puts(&b, argv[i]);
                else
                        buf_printf(&b, "'%s'", argv[i]);
        }
        return buf_steal(&b);
}

bool find_executable(const char *name) {
        return proc_have_program(name);
}

int spawn_stdout(const char *const argv[], char **ret_stdout, const char *fmt, ...) {
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        _cleanup_free_ char *tail = NULL, *out = NULL;
        int r = spawn_run(argv, &o, &tail, &out);
        if (r < 0)
                return r;
        if (r != 0) {
                va_list ap;
                va_start(ap, fmt);
                _cleanup_free_ char *what = strvprintf(fmt, ap);
                va_end(ap);
                return log_error_errno(-EIO, "%s failed:\n%s", strna(what), strempty(tail));
        }
        *ret_stdout = TAKE_PTR(out);
        return 0;
}

/* The build's way of running a tool: output into the tail (stdout apart with capture_stdout), own
 * process group, stopped on an interrupt. */
void spawn_proc_opts(const struct spawn_opts *o, struct proc_opts *ret) {
        struct proc_opts p = PROC_OPTS_INIT;
        p.out = o->capture_stdout ? PROC_OUT_CAPTURE : PROC_OUT_TAIL;
        p.err = PROC_OUT_TAIL;
        p.log_fd = o->log_fd;
        p.tail_lines = o->tail_lines;
        p.chroot_dir = o->chroot_dir;
        p.private_mounts = o->private_mounts;
        p.cwd = o->cwd;
        p.env = o->env;
        p.clean_env = o->clean_env;
        p.own_group = true;
        p.cancel = o->uninterruptible ? NULL : &build_interrupted;
        *ret = p;
}

int spawn_run(const char *const argv[], const struct spawn_opts *opts, char **ret_tail, char **ret_stdout) {
        static const struct spawn_opts defaults = SPAWN_OPTS_INIT;
        struct proc_opts p;
        spawn_proc_opts(opts ? opts : &defaults, &p);
        return proc_run(argv, &p, ret_tail, ret_stdout);
}

int spawn_start(const char *const argv[]) {
        /* Killed with the build like every other tool (the next build removes what a killed one
         * left in its work directory), but a ^C must not stop the cleanup. */
        struct proc_opts p = PROC_OPTS_INIT;
        p.out = p.err = PROC_OUT_NULL;
        p.own_group = true;
        p.ignore_sigint = true;
        pid_t pid;
        int r = proc_start(argv, &p, &pid);
        return r < 0 ? r : pid;
}

int spawn_wait(int pid) {
        return proc_wait(pid);
}

int remove_tree(const char *path) {
        if (!path)
                return 0;
        const char *argv[] = { "rm", "-rf", "--one-file-system", "--", path, NULL };
        /* Cleanup must run even after an interrupt. */
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.uninterruptible = true;
        int r = spawn_run(argv, &o, NULL, NULL);
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}
