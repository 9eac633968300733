/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "log.h"
#include "exec-tool.h"
#include "util.h"

extern char **environ;

static char **env_build(const char *const *extra) {
        _cleanup_strv_free_ char **env = NULL;
        for (char **e = environ; e && *e; e++) {
                bool overridden = false;
                for (const char *const *x = extra; x && *x; x++) {
                        size_t n = strcspn(*x, "=");
                        if (strneq(*e, *x, n) && (*e)[n] == '=')
                                overridden = true;
                }
                if (!overridden && strv_extend(&env, *e) < 0)
                        return NULL;
        }
        for (const char *const *x = extra; x && *x; x++)
                if (strv_extend(&env, *x) < 0)
                        return NULL;
        if (!env)
                env = calloc(1, sizeof(char *));
        return TAKE_PTR(env);
}

static char *output_read(int fd) {
        struct buf b = {};
        char chunk[4096];
        ssize_t n;

        if (lseek(fd, 0, SEEK_SET) < 0)
                return NULL;
        while ((n = read(fd, chunk, sizeof(chunk))) > 0 && b.len < 64 * 1024)
                buf_put(&b, chunk, (size_t) n);
        buf_putc(&b, '\0');
        return buf_steal(&b);
}

int tool_run(const char *const *argv, const char *const *env_extra) {
        return tool_run_to(argv, env_extra, -1);
}

int tool_run_to(const char *const *argv, const char *const *env_extra, int stdout_fd) {
        _cleanup_close_ int out = -EBADF, devnull = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *cmdline = NULL;
        pid_t pid;
        int status;

        cmdline = strv_join((char *const *) argv, " ");
        if (!cmdline)
                return -ENOMEM;
        log_debug("Running %s", cmdline);

        out = memfd_create("spawn-output", MFD_CLOEXEC);
        if (out < 0)
                return -errno;
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0)
                return -errno;
        env = env_build(env_extra);
        if (!env)
                return -ENOMEM;

        /* fork rather than posix_spawn: the child asks to be killed with us (PR_SET_PDEATHSIG), so
         * a build killed with SIGKILL does not leave mke2fs or mcopy writing. dup2 clears O_CLOEXEC
         * on the targets, so only 0, 1 and 2 reach the tool. */
        pid_t parent = getpid();
        pid = fork();
        if (pid < 0)
                return log_error_errno(-errno, "Failed to run %s: %m", argv[0]);
        if (pid == 0) {
                (void) prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (getppid() != parent)
                        _exit(127);
                if (dup2(devnull, STDIN_FILENO) < 0 || dup2(stdout_fd >= 0 ? stdout_fd : out, STDOUT_FILENO) < 0 ||
                    dup2(out, STDERR_FILENO) < 0)
                        _exit(127);
                execvpe(argv[0], (char *const *) argv, env);
                dprintf(STDERR_FILENO, "Failed to execute %s: %s\n", argv[0], strerror(errno));
                _exit(127);
        }

        double t0 = now_monotonic();
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;

        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
                log_debug("%s: done in %.2f s", argv[0], now_monotonic() - t0);
                return 0;
        }

        _cleanup_free_ char *output = output_read(out);
        if (WIFEXITED(status))
                log_error("%s failed with exit status %d:\n%s", cmdline, WEXITSTATUS(status), strempty(output));
        else
                log_error("%s was killed by signal %d:\n%s", cmdline, WTERMSIG(status), strempty(output));
        return -EPROTO;
}
