/* SPDX-License-Identifier: MIT */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

/* (Named spawn-run.h, not spawn.h, so that <spawn.h> still finds libc's header under -Ibuilder.)
 *
 * Child processes for the build: argv only (never a shell), output captured so that a failure can
 * show its last lines, and killed (process group) when the build is interrupted. */

/* Set by SIGINT/SIGTERM once interrupt_install() ran. Stages check it between steps; spawn_run()
 * checks it while waiting and kills its child. */
extern volatile sig_atomic_t build_interrupted;
/* Install SIGINT/SIGTERM handlers that only set the flag (no SA_RESTART, so blocking calls return
 * EINTR and the code notices). */
void interrupt_install(void);
static inline bool interrupted(void) {
        return build_interrupted != 0;
}

struct spawn_opts {
        /* Run the command chrooted into this directory, inside a private mount namespace with /proc,
         * /sys and /dev mounted: the mounts vanish with the namespace, so a crash or kill leaves none
         * behind on the host. */
        const char *chroot_dir;
        /* Run in a private mount namespace (implied by chroot_dir): whatever the command mounts
         * (mmdebstrap's /proc, /sys, /dev in its chroot) disappears with it, even if killed.
         * Both also give it a PID namespace (as root): everything it starts (apt, dpkg, daemons
         * of maintainer scripts) is killed when it exits or the build dies. */
        bool private_mounts;
        /* Replace the environment with a minimal one (PATH, LC_ALL=C, HOME=/root) plus these
         * "K=V" entries; NULL keeps the inherited environment plus these. */
        const char *const *env;
        bool clean_env;
        /* Keep stdout apart and hand it back whole (for dpkg-query and the like); stderr goes to
         * the tail. Otherwise stdout and stderr are merged into the tail. */
        bool capture_stdout;
        /* Also copy all output to this fd as it arrives (a build log, or stderr with --verbose);
         * -1 for none. */
        int log_fd;
        size_t tail_lines; /* default 15 */
        const char *cwd;   /* working directory of the child (after any chroot); NULL = ours */
        bool uninterruptible; /* cleanup: runs to its end even after an interrupt */
};

#define SPAWN_OPTS_INIT { .log_fd = -1 }

/* Run argv[0] (searched in PATH) with common/process.c and wait for it. Returns the exit status
 * (0..255, 128+signal if it was killed), -ENOENT if there is no such program, another negative
 * errno if it could not be run, and -EINTR if the build was interrupted (the child's process group
 * then gets SIGTERM, then SIGKILL after 5 s).
 * ret_tail (optional) gets the last lines of its output; ret_stdout (with capture_stdout) gets
 * its stdout. Both are written whenever the child ran, also on a non-zero exit. */
int spawn_run(const char *const argv[], const struct spawn_opts *opts, char **ret_tail, char **ret_stdout);

/* The common/process.c options spawn_run() runs with, for a caller that hands them on (the vendor
 * stage's apt key check in common/apt-trust.c). */
struct proc_opts;
void spawn_proc_opts(const struct spawn_opts *o, struct proc_opts *ret);

/* Run argv for its stdout (stderr kept for the message): a tool that exits non-zero is -EIO, logged
 * as "<what> failed:" and its last lines, what made from fmt. */
int spawn_stdout(const char *const argv[], char **ret_stdout, const char *fmt, ...) _printf_(3, 4);

/* Start argv in the background (own process group, output discarded, killed if the build dies),
 * for cleanup work that can overlap later stages. Returns its pid; spawn_wait() reaps it and
 * returns its exit status. */
int spawn_start(const char *const argv[]);

/* rm -rf --one-file-system PATH (NULL: nothing), also while the build is being interrupted.
 * 0, or a negative errno (-EIO if rm failed). */
int remove_tree(const char *path);
int spawn_wait(int pid);

/* The last `n` lines of text, as a newly allocated string. */
char *tail_lines(const char *text, size_t len, size_t n);

/* argv as one printable line, for error messages. */
char *argv_to_string(const char *const argv[]);

/* Whether an executable named `name` is on PATH (or is an absolute executable path). */
bool find_executable(const char *name);
