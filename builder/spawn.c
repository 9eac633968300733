/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
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
        if (!text)
                return strdup("");
        while (len > 0 && text[len - 1] == '\n')
                len--;
        size_t start = len, seen = 0;
        while (start > 0) {
                if (text[start - 1] == '\n' && ++seen == n)
                        break;
                start--;
        }
        return strndup(text + start, len - start);
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
        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        const char *path = getenv("PATH");
        _cleanup_strv_free_ char **dirs = NULL;
        if (strv_split(path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ":", &dirs) < 0)
                return false;
        /* Tools such as mkfs.vfat live in sbin, which a non-root PATH may lack. */
        (void) strv_extend(&dirs, "/usr/sbin");
        (void) strv_extend(&dirs, "/sbin");
        for (char **d = dirs; d && *d; d++) {
                _cleanup_free_ char *p = strprintf("%s/%s", *d, name);
                if (p && access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

/* Keep at most this much output in memory; the tail is all we show. */
#define KEEP_MAX (256 * 1024)

static void keep_append(struct buf *b, const char *p, size_t n) {
        buf_put(b, p, n);
        if (b->len > KEEP_MAX && !b->oom) {
                size_t drop = b->len - KEEP_MAX / 2;
                memmove(b->data, b->data + drop, b->len - drop);
                b->len -= drop;
                b->data[b->len] = 0;
        }
}

static int child_private_mounts(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        return 0;
}

static int child_setup_chroot(const char *root) {
        int r = child_private_mounts();
        if (r < 0)
                return r;
        _cleanup_free_ char *proc = strprintf("%s/proc", root);
        _cleanup_free_ char *sys = strprintf("%s/sys", root);
        _cleanup_free_ char *dev = strprintf("%s/dev", root);
        if (!proc || !sys || !dev)
                return -ENOMEM;
        (void) mkdir(proc, 0555);
        (void) mkdir(sys, 0555);
        (void) mkdir(dev, 0755);
        if (mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
                return -errno;
        if (mount("/sys", sys, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (mount("/dev", dev, NULL, MS_BIND | MS_REC, NULL) < 0)
                return -errno;
        if (chroot(root) < 0 || chdir("/") < 0)
                return -errno;
        return 0;
}

/* A build killed with SIGKILL cannot stop its tools: have the kernel do it, so that no mke2fs or
 * qemu-img goes on writing (a command's own children: see child_pid_namespace()). */
static void die_with_parent(pid_t parent) {
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
                _exit(127);
}

static int exit_code(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

/* PR_SET_PDEATHSIG reaches the tool only, not what it starts: apt, dpkg and the daemons of
 * maintainer scripts outlived a build killed with SIGKILL. So a tool that runs apt gets a PID
 * namespace of its own, and its kernel-enforced end: this process (outside) waits; its child is
 * the namespace's init, which starts the tool, reaps orphans and exits with the tool's status; the
 * kernel then kills everything left in the namespace. A SIGKILL of the build kills this process
 * (PDEATHSIG), which kills the init (PDEATHSIG), which ends the namespace. Returns in the process
 * that is to exec the tool; 0 if the namespace could not be made (not root): then without one. */
static int child_pid_namespace(void) {
        if (unshare(CLONE_NEWPID) < 0)
                return 0;
        /* The init cannot see its parent's PID (getppid() is 0 across namespaces): it learns
         * whether the parent died before its PDEATHSIG was set from this pipe's write end, which
         * only the parent holds. */
        int alive[2];
        if (pipe2(alive, O_CLOEXEC) < 0)
                _exit(127);
        pid_t init = fork();
        if (init < 0)
                _exit(127);
        if (init > 0) {
                close(alive[0]);
                int status;
                while (waitpid(init, &status, 0) < 0)
                        if (errno != EINTR)
                                _exit(127);
                _exit(exit_code(status));
        }
        close(alive[1]);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct pollfd hup = { .fd = alive[0] };
        if (poll(&hup, 1, 0) != 0)
                _exit(127);
        close(alive[0]);
        pid_t tool = fork();
        if (tool < 0)
                _exit(127);
        if (tool == 0) {
                die_with_parent(1);
                return 0;
        }
        for (;;) {
                int status;
                pid_t w = wait(&status);
                if (w == tool)
                        _exit(exit_code(status));
                if (w < 0 && errno != EINTR)
                        _exit(127);
        }
}

_Noreturn static void child(const char *const argv[], const struct spawn_opts *o, int out_w, int err_w,
                            pid_t parent) {
        die_with_parent(parent);
        (void) setpgid(0, 0);
        if (o->private_mounts || o->chroot_dir)
                (void) child_pid_namespace();
        sigset_t ss;
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        signal(SIGPIPE, SIG_DFL);

        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(out_w, STDOUT_FILENO) < 0 ||
            dup2(err_w, STDERR_FILENO) < 0)
                _exit(127);

        if (o->private_mounts && !o->chroot_dir) {
                int r = child_private_mounts();
                if (r < 0) {
                        dprintf(STDERR_FILENO, "Failed to make a private mount namespace: %s\n", strerror(-r));
                        _exit(127);
                }
        }
        if (o->chroot_dir) {
                int r = child_setup_chroot(o->chroot_dir);
                if (r < 0) {
                        dprintf(STDERR_FILENO, "Failed to set up chroot %s: %s\n", o->chroot_dir, strerror(-r));
                        _exit(127);
                }
        }

        if (o->cwd && chdir(o->cwd) < 0) {
                dprintf(STDERR_FILENO, "Failed to change to %s: %s\n", o->cwd, strerror(errno));
                _exit(127);
        }

        char **envp = NULL;
        if (o->clean_env) {
                static const char *const base[] = { "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                                              "LC_ALL=C", "HOME=/root", NULL };
                for (size_t i = 0; base[i]; i++)
                        (void) strv_extend(&envp, base[i]);
                for (size_t i = 0; o->env && o->env[i]; i++)
                        (void) strv_extend(&envp, o->env[i]);
        } else {
                for (size_t i = 0; o->env && o->env[i]; i++)
                        (void) putenv((char *) o->env[i]);
        }
        if (envp)
                execvpe(argv[0], (char *const *) argv, envp);
        else
                execvp(argv[0], (char *const *) argv);
        dprintf(STDERR_FILENO, "Failed to execute %s: %s\n", argv[0], strerror(errno));
        _exit(127);
}

static void kill_group(pid_t pid) {
        (void) kill(-pid, SIGTERM);
        for (int i = 0; i < 50; i++) {
                if (waitpid(pid, NULL, WNOHANG) == pid)
                        goto reaped;
                nanosleep(&(struct timespec) { .tv_nsec = 100 * 1000 * 1000 }, NULL);
        }
        (void) kill(-pid, SIGKILL);
        (void) waitpid(pid, NULL, 0);
        return;
reaped:
        /* The leader is gone; make sure nothing it started outlives it. */
        (void) kill(-pid, SIGKILL);
}

int spawn_run(const char *const argv[], const struct spawn_opts *opts, char **ret_tail, char **ret_stdout) {
        static const struct spawn_opts defaults = SPAWN_OPTS_INIT;
        const struct spawn_opts *o = opts ? opts : &defaults;
        int merged[2] = { -1, -1 }, out[2] = { -1, -1 };

        if (pipe2(merged, O_CLOEXEC) < 0)
                return -errno;
        if (o->capture_stdout && pipe2(out, O_CLOEXEC) < 0) {
                int r = -errno;
                close(merged[0]);
                close(merged[1]);
                return r;
        }

        fflush(NULL);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                close(merged[0]);
                close(merged[1]);
                if (out[0] >= 0) {
                        close(out[0]);
                        close(out[1]);
                }
                return r;
        }
        if (pid == 0)
                child(argv, o, o->capture_stdout ? out[1] : merged[1], merged[1], parent);

        (void) setpgid(pid, pid); /* also here, so kill_group() cannot race the child's own call */
        close(merged[1]);
        if (out[1] >= 0)
                close(out[1]);

        struct buf keep = {}, sout = {};
        struct pollfd pfd[2] = { { .fd = merged[0], .events = POLLIN }, { .fd = out[0], .events = POLLIN } };
        size_t npfd = out[0] >= 0 ? 2 : 1;
        int status = 0, r = 0;
        bool exited = false;

        for (;;) {
                if (interrupted()) {
                        kill_group(pid);
                        r = -EINTR;
                        break;
                }
                if (!exited) {
                        pid_t w = waitpid(pid, &status, WNOHANG);
                        if (w == pid)
                                exited = true;
                }
                bool open_fds = false;
                for (size_t i = 0; i < npfd; i++)
                        open_fds = open_fds || pfd[i].fd >= 0;
                if (!open_fds)
                        break;
                /* After the child exits, a daemon it left behind may still hold the pipe: drain what
                 * is there, then stop waiting. */
                int n = poll(pfd, npfd, exited ? 0 : 200);
                if (n < 0 && errno != EINTR) {
                        r = -errno;
                        kill_group(pid);
                        break;
                }
                if (n <= 0) {
                        if (exited)
                                break;
                        continue;
                }
                for (size_t i = 0; i < npfd; i++) {
                        if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                                continue;
                        char chunk[16384];
                        ssize_t k = read(pfd[i].fd, chunk, sizeof chunk);
                        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                                continue;
                        if (k <= 0) {
                                close(pfd[i].fd);
                                pfd[i].fd = -1;
                                continue;
                        }
                        if (i == 1)
                                buf_put(&sout, chunk, k);
                        else
                                keep_append(&keep, chunk, k);
                        if (o->log_fd >= 0)
                                (void) !write(o->log_fd, chunk, k);
                }
        }
        for (size_t i = 0; i < npfd; i++)
                if (pfd[i].fd >= 0)
                        close(pfd[i].fd);

        if (r == 0 && !exited) {
                while (waitpid(pid, &status, 0) < 0) {
                        if (errno != EINTR) {
                                r = -errno;
                                break;
                        }
                        if (interrupted()) {
                                kill_group(pid);
                                r = -EINTR;
                                break;
                        }
                }
        }
        if (r == 0)
                /* Anything it left running in its group (a daemon started by a maintainer script)
                 * must not outlive the step. */
                (void) kill(-pid, SIGKILL);

        if (r < 0 && r != -EINTR) {
                buf_done(&keep);
                buf_done(&sout);
                return r;
        }
        if (ret_tail)
                *ret_tail = tail_lines(keep.data, keep.len, o->tail_lines ? o->tail_lines : 15);
        buf_done(&keep);
        if (ret_stdout && o->capture_stdout) {
                *ret_stdout = buf_steal(&sout);
        } else
                buf_done(&sout);
        if (r < 0)
                return r;
        return exit_code(status);
}

int spawn_start(const char *const argv[]) {
        fflush(NULL);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                return -errno;
        if (pid == 0) {
                /* Killed with the build like every other tool: the next build removes what a
                 * killed one left in its work directory. */
                die_with_parent(parent);
                (void) setpgid(0, 0);
                sigset_t ss;
                sigemptyset(&ss);
                (void) sigprocmask(SIG_SETMASK, &ss, NULL);
                /* Cleanup must finish even when the build is interrupted from the terminal. */
                signal(SIGINT, SIG_IGN);
                int null = open("/dev/null", O_RDWR | O_CLOEXEC);
                if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
                    dup2(null, STDERR_FILENO) < 0)
                        _exit(127);
                execvp(argv[0], (char *const *) argv);
                _exit(127);
        }
        (void) setpgid(pid, pid);
        return pid;
}

int spawn_wait(int pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

int remove_tree(const char *path) {
        if (!path)
                return 0;
        const char *argv[] = { "rm", "-rf", "--one-file-system", "--", path, NULL };
        /* Cleanup must run even after an interrupt: spawn_run would refuse, so clear the flag for
         * the duration. */
        sig_atomic_t saved = build_interrupted;
        build_interrupted = 0;
        int r = spawn_run(argv, NULL, NULL, NULL);
        build_interrupted = saved;
        return r == 0 ? 0 : r < 0 ? r : -EIO;
}
