/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Child processes for both programs: the one place that forks, execs and waits (in the spirit of
 * systemd's safe_fork_full() and wait_for_terminate_and_check()). argv only, never a shell; the
 * program is searched in PATH once, here, before the fork, so a missing one is -ENOENT and not an
 * exit status 127 that a script could also return. Nothing here prints: a failure to set up or
 * exec the child comes back as its errno through a close-on-exec pipe.
 *
 * Exit convention of proc_run() and proc_wait():
 *   >= 0     the program ran: its exit status 0..255, or 128 + the signal that killed it
 *            (PROC_KILLED_BY() tells which signal; the shell's convention, which every caller
 *            already used);
 *   -ENOENT  no such program (PATH search, in the chroot if one is given);
 *   -EINTR   opts->cancel became non-zero while it ran (it was then killed, see below);
 *   -ETIME   opts->timeout_ms passed (likewise killed);
 *   < 0      any other -errno: it could not be started (fork, pipes, chroot, exec). */

/* Where a child's stdin comes from. */
enum proc_in {
        PROC_IN_NULL = 0, /* /dev/null */
        PROC_IN_INHERIT,  /* ours */
        PROC_IN_FD,       /* in_fd */
        PROC_IN_BUFFER,   /* input/input_len, written through a pipe that is then closed */
};

/* Where a child's stdout or stderr goes. */
enum proc_out {
        PROC_OUT_INHERIT = 0, /* ours */
        PROC_OUT_NULL,        /* /dev/null */
        PROC_OUT_FD,          /* out_fd / err_fd */
        PROC_OUT_TAIL,        /* kept (the last KiBs) for ret_tail; stdout and stderr may share it */
        PROC_OUT_CAPTURE,     /* stdout only: all of it, into ret_stdout */
};

struct proc_opts {
        /* The file to exec, with argv[0] left as it is (our own /proc/self/exe); NULL = argv[0],
         * searched in PATH. */
        const char *program;

        enum proc_in in;
        int in_fd;
        const void *input;
        size_t input_len;

        enum proc_out out, err;
        int out_fd, err_fd;
        /* A copy of what goes to the tail or the capture, as it arrives (a build log, stderr with
         * --verbose); only when > 0. */
        int log_fd;
        size_t tail_lines; /* lines in ret_tail; 0 = 15 */

        /* Run chrooted into this directory, inside a private mount namespace with /proc, /sys and
         * /dev mounted: the mounts vanish with the namespace, so a crash or kill leaves none behind. */
        const char *chroot_dir;
        /* A private mount namespace without a chroot (implied by chroot_dir): what the program
         * mounts disappears with it. Both also give it a PID namespace (as root), so everything it
         * starts (apt, dpkg, daemons of maintainer scripts) dies when it exits or we die. */
        bool private_mounts;
        const char *cwd; /* after any chroot; NULL = ours */
        /* "K=V" entries added to (or overriding) our environment; with clean_env, to a minimal
         * one instead (PATH, LC_ALL=C, HOME=/root). */
        const char *const *env;
        bool clean_env;

        /* Its own process group: everything left in it is SIGKILLed when it exits, and the whole
         * group is stopped (SIGTERM, SIGKILL 5 s later) on cancel or timeout. */
        bool own_group;
        bool ignore_sigint;   /* cleanup work that must finish even after a ^C */
        int pdeath_signal;    /* sent to it if we die (PR_SET_PDEATHSIG); 0 = SIGKILL */
        /* Stop waiting, kill it and return -EINTR as soon as *cancel is non-zero (a flag a
         * signal handler sets; install that handler without SA_RESTART). */
        const volatile sig_atomic_t *cancel;
        uint64_t timeout_ms; /* 0 = none */
        /* Between the SIGTERM of a cancel or timeout and the SIGKILL; 0 = 5 s (a child that cleans
         * up after itself, such as a build, may need longer). */
        uint64_t stop_grace_ms;
};

#define PROC_OPTS_INIT { .in_fd = -1, .out_fd = -1, .err_fd = -1, .log_fd = -1 }

/* Which signal killed it, for a status of proc_run() or proc_wait(); 0 if it exited (the shell's
 * ambiguity: an exit(130) reads as SIGINT). */
#define PROC_KILLED_BY(status) ((status) > 128 && (status) < 128 + 65 ? (status) - 128 : 0)

/* Run argv and wait for it; see the convention above. ret_tail (with PROC_OUT_TAIL) gets the last
 * lines of that output, ret_stdout (with PROC_OUT_CAPTURE) all of stdout: both are written whenever
 * the program ran, also on a non-zero status, -EINTR or -ETIME. */
int proc_run(const char *const argv[], const struct proc_opts *opts, char **ret_tail, char **ret_stdout);

/* Start argv without waiting (stdio as opts says, but no TAIL, CAPTURE or BUFFER, no cancel or
 * timeout); *ret_pid for proc_wait(), which reaps it and returns its status as above. */
int proc_start(const char *const argv[], const struct proc_opts *opts, pid_t *ret_pid);
int proc_wait(pid_t pid);

/* The one PATH search: name (or a path with a '/') as an executable file, searched in $PATH plus
 * /usr/sbin and /sbin (mkfs.vfat and friends live there and a non-root PATH may lack them).
 * *ret_path (optional) is the path to exec. 0 or -ENOENT. (proc_run() searches the PATH of the
 * environment the child gets, and for a chroot, inside it.) */
int proc_find_program(const char *name, char **ret_path);
bool proc_have_program(const char *name);

/* The last n lines of text (trailing newlines dropped), newly allocated. */
char *proc_tail_lines(const char *text, size_t len, size_t n);
