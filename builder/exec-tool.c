/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "exec-tool.h"
#include "log.h"
#include "process.h"
#include "util.h"

int tool_run(const char *const *argv, const char *const *env_extra) {
        return tool_run_to(argv, env_extra, -1);
}

/* common/process.c runs it (killed with us through PR_SET_PDEATHSIG, so a build killed with
 * SIGKILL does not leave mke2fs or mcopy writing); this adds the build's log lines. */
int tool_run_to(const char *const *argv, const char *const *env_extra, int stdout_fd) {
        _cleanup_free_ char *cmdline = strv_join((char *const *) argv, " "), *output = NULL;
        if (!cmdline)
                return -ENOMEM;
        log_debug("Running %s", cmdline);

        struct proc_opts o = PROC_OPTS_INIT;
        o.env = env_extra;
        o.out = stdout_fd >= 0 ? PROC_OUT_FD : PROC_OUT_TAIL;
        o.out_fd = stdout_fd;
        o.err = PROC_OUT_TAIL;
        o.tail_lines = 200;
        double t0 = now_monotonic();
        int r = proc_run(argv, &o, &output, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to run %s: %m", argv[0]);
        if (r == 0) {
                log_debug("%s: done in %.2f s", argv[0], now_monotonic() - t0);
                return 0;
        }
        if (PROC_KILLED_BY(r))
                log_error("%s was killed by signal %d:\n%s", cmdline, PROC_KILLED_BY(r), strempty(output));
        else
                log_error("%s failed with exit status %d:\n%s", cmdline, r, strempty(output));
        return -EPROTO;
}
