/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "process.h"
#include "util.h"

extern char **environ;

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
/* Keep at most this much of the tail's output in memory: only its last lines are shown. */
#define KEEP_MAX (256 * 1024)

char *proc_tail_lines(const char *text, size_t len, size_t n) {
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

/* ---- the PATH search ---------------------------------------------------------------------------- */

/* Every place name may be, in order: itself if it has a '/', else each PATH directory, then the sbins. */
static int program_candidates(const char *name, const char *path, char ***ret) {
        _cleanup_strv_free_ char **dirs = NULL, **out = NULL;
        if (strchr(name, '/')) {
                if (strv_extend(&out, name) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(out);
                return 0;
        }
        if (strv_split(path ? path : DEFAULT_PATH, ":", &dirs) < 0 || strv_extend(&dirs, "/usr/sbin") < 0 ||
            strv_extend(&dirs, "/sbin") < 0)
                return -ENOMEM;
        for (char **d = dirs; *d; d++)
                if (strv_push(&out, strprintf("%s/%s", *d, name)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

static bool is_executable(const char *p) {
        struct stat st;
        return access(p, X_OK) == 0 && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int proc_find_program(const char *name, char **ret_path) {
        _cleanup_strv_free_ char **cand = NULL;
        int r = program_candidates(name, getenv("PATH"), &cand);
        if (r < 0)
                return r;
        for (char **c = cand; *c; c++)
                if (is_executable(*c)) {
                        if (ret_path && !(*ret_path = strdup(*c)))
                                return -ENOMEM;
                        return 0;
                }
        return -ENOENT;
}

bool proc_have_program(const char *name) {
        return proc_find_program(name, NULL) == 0;
}

/* ---- what the child gets ------------------------------------------------------------------------ */

/* Prepared before the fork: the child only makes system calls (no allocation after fork). */
struct launch {
        const char *const *argv;
        char **candidates; /* where to find argv[0]: searched in the child only when chrooted */
        char **envp;
        int in, out, err; /* to dup onto 0, 1, 2; -1 = leave */
        int errpipe;      /* write end: the child's errno if it cannot exec */
        pid_t parent;
};

static void launch_done(struct launch *l) {
        strv_free(l->candidates);
        strv_free(l->envp);
}

static bool env_overridden(const char *entry, const char *const *extra) {
        for (const char *const *x = extra; x && *x; x++) {
                size_t n = strcspn(*x, "=");
                if (strneq(entry, *x, n) && entry[n] == '=')
                        return true;
        }
        return false;
}

static int env_build(const struct proc_opts *o, char ***ret) {
        static const char *const base[] = { "PATH=" DEFAULT_PATH, "LC_ALL=C", "HOME=/root", NULL };
        _cleanup_strv_free_ char **env = NULL;
        const char *const *from = o->clean_env ? base : (const char *const *) environ;
        for (const char *const *e = from; e && *e; e++)
                if (!env_overridden(*e, o->env) && strv_extend(&env, *e) < 0)
                        return -ENOMEM;
        for (const char *const *x = o->env; x && *x; x++)
                if (strv_extend(&env, *x) < 0)
                        return -ENOMEM;
        if (!env && !(env = calloc(1, sizeof(char *))))
                return -ENOMEM;
        *ret = TAKE_PTR(env);
        return 0;
}

static const char *env_path(char **envp) {
        for (char **e = envp; *e; e++)
                if (startswith(*e, "PATH="))
                        return *e + 5;
        return NULL;
}

/* The argv[0] to exec: found here unless the child is chrooted (then it looks in its new root for
 * itself: an absolute symlink in the tree must not resolve against ours). */
static int launch_program(const char *const argv[], const struct proc_opts *o, struct launch *l) {
        int r = program_candidates(o->program ?: argv[0], env_path(l->envp), &l->candidates);
        if (r < 0 || o->chroot_dir)
                return r;
        for (char **c = l->candidates; *c; c++)
                if (is_executable(*c)) {
                        char *keep = strdup(*c);
                        if (!keep)
                                return -ENOMEM;
                        strv_free(l->candidates);
                        l->candidates = NULL;
                        return strv_push(&l->candidates, keep);
                }
        return -ENOENT;
}

_Noreturn static void child_fail(const struct launch *l, int r) {
        int e = -r;
        (void) !write(l->errpipe, &e, sizeof e);
        _exit(127);
}

static int child_private_mounts(void) {
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        return 0;
}

/* Paths under root without allocating: the child must not call malloc. */
static int child_mount_under(const char *root, const char *sub, const char *src, const char *type,
                             unsigned long flags, mode_t mode) {
        char p[4096];
        if ((size_t) snprintf(p, sizeof p, "%s/%s", root, sub) >= sizeof p)
                return -ENAMETOOLONG;
        (void) mkdir(p, mode);
        return mount(src, p, type, flags, NULL) < 0 ? -errno : 0;
}

static int child_setup_chroot(const char *root) {
        int r = child_private_mounts();
        if (r >= 0)
                r = child_mount_under(root, "proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, 0555);
        if (r >= 0)
                r = child_mount_under(root, "sys", "/sys", NULL, MS_BIND | MS_REC, 0555);
        if (r >= 0)
                r = child_mount_under(root, "dev", "/dev", NULL, MS_BIND | MS_REC, 0755);
        if (r < 0)
                return r;
        if (chroot(root) < 0 || chdir("/") < 0)
                return -errno;
        return 0;
}

/* A parent killed with SIGKILL cannot stop its children: have the kernel do it. */
static void die_with_parent(const struct launch *l, int sig) {
        (void) prctl(PR_SET_PDEATHSIG, sig);
        if (getppid() != l->parent)
                _exit(127);
}

static int status_code(int status) {
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 255;
}

static void wait_exit(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        _exit(127);
        _exit(status_code(status));
}

/* PR_SET_PDEATHSIG reaches the program only, not what it starts: apt, dpkg and the daemons of
 * maintainer scripts outlived a build killed with SIGKILL. So it gets a PID namespace of its own:
 * this process (outside) waits; its child is the namespace's init, which starts the program,
 * reaps orphans and exits with its status; the kernel then kills everything left in the
 * namespace. Our death kills this process (PDEATHSIG), which kills the init (PDEATHSIG), which
 * ends the namespace. Returns in the process that is to exec; without a namespace when it cannot
 * be made (not root). Only the process that execs keeps the error pipe. */
static void child_pid_namespace(const struct launch *l) {
        if (unshare(CLONE_NEWPID) < 0)
                return;
        /* The init cannot see its parent's PID (getppid() is 0 across namespaces): it learns whether
         * the parent died before its PDEATHSIG was set from this pipe's write end, which only the
         * parent holds. */
        int alive[2];
        if (pipe2(alive, O_CLOEXEC) < 0)
                child_fail(l, -errno);
        pid_t init = fork();
        if (init < 0)
                child_fail(l, -errno);
        if (init > 0) {
                close(alive[0]);
                close(l->errpipe);
                wait_exit(init);
        }
        close(alive[1]);
        (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
        struct pollfd hup = { .fd = alive[0] };
        if (poll(&hup, 1, 0) != 0)
                _exit(127);
        close(alive[0]);
        pid_t prog = fork();
        if (prog < 0)
                child_fail(l, -errno);
        if (prog == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != 1)
                        _exit(127);
                return;
        }
        close(l->errpipe);
        for (;;) {
                int status;
                pid_t w = wait(&status);
                if (w == prog)
                        _exit(status_code(status));
                if (w < 0 && errno != EINTR)
                        _exit(127);
        }
}

static void child_stdio(const struct launch *l) {
        if ((l->in >= 0 && dup2(l->in, STDIN_FILENO) < 0) || (l->out >= 0 && dup2(l->out, STDOUT_FILENO) < 0) ||
            (l->err >= 0 && dup2(l->err, STDERR_FILENO) < 0))
                child_fail(l, -errno);
}

_Noreturn static void child(const struct launch *l, const struct proc_opts *o) {
        die_with_parent(l, o->pdeath_signal ? o->pdeath_signal : SIGKILL);
        if (o->own_group)
                (void) setpgid(0, 0);
        if (o->private_mounts || o->chroot_dir)
                child_pid_namespace(l);
        sigset_t ss;
        sigemptyset(&ss);
        (void) sigprocmask(SIG_SETMASK, &ss, NULL);
        signal(SIGPIPE, SIG_DFL);
        if (o->ignore_sigint)
                signal(SIGINT, SIG_IGN);
        child_stdio(l);

        int r = 0;
        if (o->chroot_dir)
                r = child_setup_chroot(o->chroot_dir);
        else if (o->private_mounts)
                r = child_private_mounts();
        if (r < 0)
                child_fail(l, r);
        if (o->cwd && chdir(o->cwd) < 0)
                child_fail(l, -errno);
        for (char **c = l->candidates; *c; c++)
                if (!o->chroot_dir || is_executable(*c)) {
                        execve(*c, (char *const *) l->argv, l->envp);
                        child_fail(l, -errno);
                }
        child_fail(l, -ENOENT);
}

/* ---- the parent's side ---------------------------------------------------------------------------- */

/* The pipes of one run; -1 where unused. */
struct pipes {
        int devnull;
        int in[2], tail[2], cap[2], err[2];
};

static void fd_close(int *fd) {
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void pipes_done(struct pipes *p) {
        fd_close(&p->devnull);
        for (int i = 0; i < 2; i++) {
                fd_close(&p->in[i]);
                fd_close(&p->tail[i]);
                fd_close(&p->cap[i]);
                fd_close(&p->err[i]);
        }
}

static int out_fd(enum proc_out mode, int fd, struct pipes *p) {
        switch (mode) {
        case PROC_OUT_NULL:
                return p->devnull;
        case PROC_OUT_FD:
                return fd;
        case PROC_OUT_TAIL:
                return p->tail[1];
        case PROC_OUT_CAPTURE:
                return p->cap[1];
        default:
                return -1;
        }
}

static int pipes_open(const struct proc_opts *o, struct pipes *p, struct launch *l) {
        if ((o->in == PROC_IN_NULL || o->out == PROC_OUT_NULL || o->err == PROC_OUT_NULL) &&
            (p->devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) < 0)
                return -errno;
        if (o->in == PROC_IN_BUFFER && pipe2(p->in, O_CLOEXEC) < 0)
                return -errno;
        if ((o->out == PROC_OUT_TAIL || o->err == PROC_OUT_TAIL) && pipe2(p->tail, O_CLOEXEC) < 0)
                return -errno;
        if (o->out == PROC_OUT_CAPTURE && pipe2(p->cap, O_CLOEXEC) < 0)
                return -errno;
        if (pipe2(p->err, O_CLOEXEC) < 0)
                return -errno;
        l->in = o->in == PROC_IN_NULL ? p->devnull : o->in == PROC_IN_FD ? o->in_fd :
                o->in == PROC_IN_BUFFER ? p->in[0] : -1;
        l->out = out_fd(o->out, o->out_fd, p);
        l->err = out_fd(o->err, o->err_fd, p);
        l->errpipe = p->err[1];
        return 0;
}

/* Fork and exec; after it the child's ends are closed here. 0 with *ret_pid, or -errno (the child's
 * own, if it could not exec; it is then reaped). */
static int launch(const char *const argv[], const struct proc_opts *o, struct pipes *p, pid_t *ret_pid) {
        struct launch l = { .argv = argv, .parent = getpid() };
        *p = (struct pipes) { -1, { -1, -1 }, { -1, -1 }, { -1, -1 }, { -1, -1 } };
        int r = env_build(o, &l.envp);
        if (r >= 0)
                r = launch_program(argv, o, &l);
        if (r >= 0)
                r = pipes_open(o, p, &l);
        if (r < 0) {
                launch_done(&l);
                return r;
        }
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0) {
                launch_done(&l);
                return -errno;
        }
        if (pid == 0)
                child(&l, o);
        launch_done(&l);
        if (o->own_group)
                (void) setpgid(pid, pid); /* also here, so a kill of the group cannot race the child's call */
        fd_close(&p->err[1]);
        fd_close(&p->in[0]);
        fd_close(&p->tail[1]);
        fd_close(&p->cap[1]);
        int e = 0;
        ssize_t n;
        while ((n = read(p->err[0], &e, sizeof e)) < 0 && errno == EINTR)
                ;
        if (n == sizeof e && e > 0) {
                (void) proc_wait(pid);
                return -e;
        }
        *ret_pid = pid;
        return 0;
}

int proc_wait(pid_t pid) {
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return status_code(status);
}

int proc_start(const char *const argv[], const struct proc_opts *opts, pid_t *ret_pid) {
        static const struct proc_opts defaults = PROC_OPTS_INIT;
        const struct proc_opts *o = opts ?: &defaults;
        if (o->in == PROC_IN_BUFFER || o->out >= PROC_OUT_TAIL || o->err >= PROC_OUT_TAIL)
                return -EINVAL;
        struct pipes p;
        pid_t pid;
        int r = launch(argv, o, &p, &pid);
        pipes_done(&p);
        if (r < 0)
                return r;
        *ret_pid = pid;
        return 0;
}

/* ---- waiting, feeding and reading ---------------------------------------------------------------- */

struct run {
        const struct proc_opts *o;
        pid_t pid;
        int pidfd;
        const char *input;
        size_t input_left;
        struct buf keep, cap;
        bool exited;
        int status;
};

static void keep_append(struct buf *b, const char *p, size_t n) {
        buf_put(b, p, n);
        if (b->len > KEEP_MAX && !b->oom) {
                size_t drop = b->len - KEEP_MAX / 2;
                memmove(b->data, b->data + drop, b->len - drop);
                b->len -= drop;
                b->data[b->len] = 0;
        }
}

static void sleep_ms(long ms) {
        (void) nanosleep(&(struct timespec) { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L }, NULL);
}

/* Stop it (its whole group if it has one): SIGTERM, then SIGKILL after 5 s, and reap it. */
static void run_stop(struct run *x) {
        pid_t target = x->o->own_group ? -x->pid : x->pid;
        if (!x->exited) {
                (void) kill(target, SIGTERM);
                uint64_t slices = (x->o->stop_grace_ms ?: 5000) / 100;
                for (uint64_t i = 0; i < slices && !x->exited; i++) {
                        if (waitpid(x->pid, &x->status, WNOHANG) == x->pid)
                                x->exited = true;
                        else
                                sleep_ms(100);
                }
                if (!x->exited) {
                        (void) kill(target, SIGKILL);
                        (void) proc_wait(x->pid);
                        x->exited = true;
                }
        }
        /* The leader is gone; nothing it started may outlive it. */
        if (x->o->own_group)
                (void) kill(-x->pid, SIGKILL);
}

static void run_feed(struct run *x, int *fd) {
        while (x->input_left > 0) {
                ssize_t k = write(*fd, x->input, x->input_left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EAGAIN)
                        return;
                if (k <= 0)
                        break; /* it closed its stdin: what it did not read, it did not want */
                x->input += k;
                x->input_left -= (size_t) k;
        }
        fd_close(fd);
}

static void run_read(struct run *x, int *fd, bool capture) {
        char chunk[16384];
        ssize_t k = read(*fd, chunk, sizeof chunk);
        if (k < 0 && (errno == EINTR || errno == EAGAIN))
                return;
        if (k <= 0) {
                fd_close(fd);
                return;
        }
        if (capture)
                buf_put(&x->cap, chunk, (size_t) k);
        else
                keep_append(&x->keep, chunk, (size_t) k);
        if (x->o->log_fd > 0)
                (void) !write(x->o->log_fd, chunk, (size_t) k);
}

/* How long poll may sleep: until the deadline, and in slices when it must look at a flag or
 * cannot be woken by the child's exit (no pidfd). */
static int run_poll_timeout(const struct run *x, double deadline) {
        if (x->exited)
                return 0;
        int ms = x->o->cancel || x->pidfd < 0 ? 200 : -1;
        if (deadline > 0) {
                double left = (deadline - now_monotonic()) * 1000;
                int l = left < 0 ? 0 : left > 200 ? 200 : (int) left + 1;
                ms = ms < 0 || l < ms ? l : ms;
        }
        return ms;
}

/* Until it exited and its pipes are drained: 0, or -EINTR/-ETIME/-errno (it is then stopped). */
static int run_loop(struct run *x, struct pipes *p) {
        double deadline = x->o->timeout_ms ? now_monotonic() + x->o->timeout_ms / 1000.0 : 0;
        for (;;) {
                if (x->o->cancel && *x->o->cancel)
                        return -EINTR;
                if (deadline > 0 && now_monotonic() >= deadline)
                        return -ETIME;
                if (!x->exited && waitpid(x->pid, &x->status, WNOHANG) == x->pid)
                        x->exited = true;
                if (x->exited)
                        fd_close(&p->in[1]);
                struct pollfd pfd[4] = { { .fd = p->in[1], .events = POLLOUT },
                                         { .fd = p->tail[0], .events = POLLIN },
                                         { .fd = p->cap[0], .events = POLLIN },
                                         { .fd = x->exited ? -1 : x->pidfd, .events = POLLIN } };
                if (x->exited && pfd[1].fd < 0 && pfd[2].fd < 0)
                        return 0;
                int n = poll(pfd, 4, run_poll_timeout(x, deadline));
                if (n < 0 && errno != EINTR)
                        return -errno;
                /* After it exited, a daemon it left behind may still hold a pipe: drain what is
                 * there, then stop waiting. */
                if (n == 0 && x->exited)
                        return 0;
                if (n <= 0)
                        continue;
                if (pfd[0].revents)
                        run_feed(x, &p->in[1]);
                if (pfd[1].revents)
                        run_read(x, &p->tail[0], false);
                if (pfd[2].revents)
                        run_read(x, &p->cap[0], true);
        }
}

static int pidfd_for(pid_t pid) {
#ifdef SYS_pidfd_open
        return (int) syscall(SYS_pidfd_open, pid, 0);
#else
        return -1;
#endif
}

static int run_results(struct run *x, int r, char **ret_tail, char **ret_stdout) {
        const struct proc_opts *o = x->o;
        if (ret_tail && (o->out == PROC_OUT_TAIL || o->err == PROC_OUT_TAIL) &&
            !(*ret_tail = proc_tail_lines(x->keep.data, x->keep.len, o->tail_lines ?: 15)))
                r = r < 0 ? r : -ENOMEM;
        if (ret_stdout && o->out == PROC_OUT_CAPTURE) {
                if (!x->cap.data)
                        buf_puts(&x->cap, "");
                if (!(*ret_stdout = buf_steal(&x->cap)))
                        r = r < 0 ? r : -ENOMEM;
        }
        return r < 0 ? r : status_code(x->status);
}

int proc_run(const char *const argv[], const struct proc_opts *opts, char **ret_tail, char **ret_stdout) {
        static const struct proc_opts defaults = PROC_OPTS_INIT;
        struct run x = { .o = opts ?: &defaults, .pidfd = -1 };
        struct pipes p;
        struct sigaction ign = { .sa_handler = SIG_IGN }, old;

        if (x.o->in == PROC_IN_BUFFER) {
                x.input = x.o->input;
                x.input_left = x.o->input_len;
                /* A child that exits without reading must not kill us with SIGPIPE. */
                (void) sigaction(SIGPIPE, &ign, &old);
        }
        int r = launch(argv, x.o, &p, &x.pid);
        if (r >= 0) {
                x.pidfd = pidfd_for(x.pid);
                if (p.in[1] >= 0)
                        (void) fcntl(p.in[1], F_SETFL, O_NONBLOCK);
                r = run_loop(&x, &p);
                run_stop(&x);
                fd_close(&x.pidfd);
                r = run_results(&x, r, ret_tail, ret_stdout);
        }
        if (x.o->in == PROC_IN_BUFFER)
                (void) sigaction(SIGPIPE, &old, NULL);
        pipes_done(&p);
        buf_done(&x.keep);
        buf_done(&x.cap);
        return r;
}
