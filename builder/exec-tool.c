/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <spawn.h>
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
        _cleanup_close_ int out = -EBADF, devnull = -EBADF;
        _cleanup_strv_free_ char **env = NULL;
        _cleanup_free_ char *cmdline = NULL;
        posix_spawn_file_actions_t fa;
        pid_t pid;
        int r, status;

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

        r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        /* dup2 clears O_CLOEXEC on the targets, so only 0, 1 and 2 reach the tool. */
        r = posix_spawn_file_actions_adddup2(&fa, devnull, STDIN_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, out, STDERR_FILENO);
        if (r == 0)
                r = posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *) argv, env);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return log_error_errno(-r, "Failed to run %s: %m", argv[0]);

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
