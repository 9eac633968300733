/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "cmd.h"
#include "util.h"

bool cmd_exists(const char *name) {
        if (strchr(name, '/'))
                return access(name, X_OK) == 0;
        _cleanup_free_ char *path = strdup(getenv("PATH") ?: "/usr/sbin:/usr/bin:/sbin:/bin");
        if (!path)
                return false;
        char *save = NULL;
        for (char *d = strtok_r(path, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                _cleanup_free_ char *p = strprintf("%s/%s", d, name);
                if (p && access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

int cmd_run(char *const argv[], const void *input, size_t input_len, int *ret_status) {
        if (!cmd_exists(argv[0]))
                return -ENOENT;
        int pfd[2] = { -1, -1 };
        if (input && pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                if (input) {
                        close(pfd[0]);
                        close(pfd[1]);
                }
                return r;
        }
        if (pid == 0) {
                int in = input ? pfd[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (in < 0 || dup2(in, STDIN_FILENO) < 0)
                        _exit(126);
                execvp(argv[0], argv);
                _exit(127);
        }
        if (input) {
                close(pfd[0]);
                /* A child that exits without reading must not kill us with SIGPIPE. */
                struct sigaction sa = { .sa_handler = SIG_IGN }, old;
                sigaction(SIGPIPE, &sa, &old);
                const char *p = input;
                size_t left = input_len;
                while (left > 0) {
                        ssize_t k = write(pfd[1], p, left);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k <= 0)
                                break;
                        p += k;
                        left -= (size_t) k;
                }
                close(pfd[1]);
                sigaction(SIGPIPE, &old, NULL);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
                return -ENOENT;
        *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}
