/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
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

/* Keep the last bytes of what the child writes: the end of an error message is what explains it. */
static void tail_keep(char *tail, size_t size, size_t *len, const char *b, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (*len == size) {
                        memmove(tail, tail + size / 2, size / 2);
                        *len = size / 2;
                }
                tail[(*len)++] = b[i];
        }
}

static int cmd_spawn(char *const argv[], const void *input, size_t input_len, int *ret_status, char **ret_tail) {
        if (!cmd_exists(argv[0]))
                return -ENOENT;
        int pfd[2] = { -1, -1 }, ofd[2] = { -1, -1 };
        if (input && pipe2(pfd, O_CLOEXEC) < 0)
                return -errno;
        if (ret_tail && pipe2(ofd, O_CLOEXEC) < 0) {
                int r = -errno;
                if (input) {
                        close(pfd[0]);
                        close(pfd[1]);
                }
                return r;
        }
        fflush(stdout);
        fflush(stderr);
        pid_t pid = fork();
        if (pid < 0) {
                int r = -errno;
                for (int i = 0; i < 2; i++) {
                        if (pfd[i] >= 0)
                                close(pfd[i]);
                        if (ofd[i] >= 0)
                                close(ofd[i]);
                }
                return r;
        }
        if (pid == 0) {
                int in = input ? pfd[0] : open("/dev/null", O_RDONLY | O_CLOEXEC);
                if (in < 0 || dup2(in, STDIN_FILENO) < 0)
                        _exit(126);
                if (ret_tail && (dup2(ofd[1], STDOUT_FILENO) < 0 || dup2(ofd[1], STDERR_FILENO) < 0))
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
        char tail[2048];
        size_t len = 0;
        if (ret_tail) {
                close(ofd[1]);
                for (;;) {
                        char b[512];
                        ssize_t n = read(ofd[0], b, sizeof b);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        tail_keep(tail, sizeof tail, &len, b, (size_t) n);
                }
                close(ofd[0]);
        }
        int st;
        while (waitpid(pid, &st, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
                return -ENOENT;
        if (ret_tail) {
                /* One line, for a status reason. */
                while (len > 0 && (tail[len - 1] == '\n' || tail[len - 1] == ' '))
                        len--;
                for (size_t i = 0; i < len; i++)
                        if (tail[i] == '\n')
                                tail[i] = ' ';
                if (!(*ret_tail = strndup(tail, len)))
                        return -ENOMEM;
        }
        *ret_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return 0;
}

int cmd_run(char *const argv[], const void *input, size_t input_len, int *ret_status) {
        return cmd_spawn(argv, input, input_len, ret_status, NULL);
}

int cmd_run_tail(char *const argv[], int *ret_status, char **ret_tail) {
        return cmd_spawn(argv, NULL, 0, ret_status, ret_tail);
}
