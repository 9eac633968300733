/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleanup.h"
#include "exec-tool.h"
#include "ext4-times.h"
#include "log.h"
#include "parse.h"
#include "spawn-run.h"
#include "util.h"

/* Free inode ranges of one group: "12-8192, 8200, 8300-8400" (or empty: all in use). */
static int emit_group(struct buf *b, const char *ranges, uint64_t first, uint64_t ipg, int64_t epoch,
                      unsigned *n) {
        uint64_t next = first, end = first + ipg; /* [next, end) not yet emitted */
        const char *p = ranges;

        for (;;) {
                while (*p == ' ' || *p == ',')
                        p++;
                uint64_t lo = end, hi = end - 1;
                if (*p && *p != '\n') {
                        char *e;
                        errno = 0;
                        lo = strtoull(p, &e, 10);
                        if (errno || e == p)
                                return -EBADMSG;
                        hi = lo;
                        if (*e == '-') {
                                p = e + 1;
                                hi = strtoull(p, &e, 10);
                                if (errno || e == p)
                                        return -EBADMSG;
                        }
                        p = e;
                        if (lo < next || hi < lo || hi >= end)
                                return -EBADMSG;
                }
                for (uint64_t i = next; i < lo; i++) {
                        buf_printf(b, "sif <%" PRIu64 "> ctime @%" PRIi64 "\n", i, epoch);
                        buf_printf(b, "sif <%" PRIu64 "> atime @%" PRIi64 "\n", i, epoch);
                        buf_printf(b, "sif <%" PRIu64 "> crtime @%" PRIi64 "\n", i, epoch);
                        (*n)++;
                }
                if (lo == end)
                        return 0;
                next = hi + 1;
        }
}

int ext4_times_script(const char *text, int64_t epoch, char **ret_script, unsigned *ret_n) {
        const char *ipg_s = startswith(text, "Inodes per group:") ? text : strstr(text, "\nInodes per group:");
        uint64_t ipg = 0;
        if (!ipg_s || sscanf(ipg_s + (*ipg_s == '\n'), "Inodes per group: %" SCNu64, &ipg) != 1 || ipg == 0)
                return -EBADMSG;

        struct buf b = {};
        unsigned n = 0, groups = 0;
        int64_t group = -1;
        for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
                unsigned g;
                if (sscanf(l, "Group %u:", &g) == 1 && startswith(l, "Group ")) {
                        group = g;
                        continue;
                }
                const char *f = l + strspn(l, " ");
                if (f == l || !startswith(f, "Free inodes:") || group < 0)
                        continue;
                int r = emit_group(&b, f + strlen("Free inodes:"), (uint64_t) group * ipg + 1, ipg, epoch, &n);
                if (r < 0) {
                        buf_done(&b);
                        return r;
                }
                group = -1;
                groups++;
        }
        if (groups == 0) {
                buf_done(&b);
                return -EBADMSG;
        }
        char *s = buf_steal(&b);
        if (!s)
                return -ENOMEM;
        *ret_script = s;
        *ret_n = n;
        return 0;
}

int ext4_debugfs_run(const char *dev, const char *script, const char *const *env) {
        /* The script goes to debugfs through a memfd that the child opens by our /proc path:
         * nothing is left on disk if the build dies. */
        _cleanup_close_ int mfd = memfd_create("debugfs-script", MFD_CLOEXEC);
        if (mfd < 0)
                return -errno;
        size_t len = strlen(script);
        for (size_t off = 0; off < len;) {
                ssize_t k = write(mfd, script + off, len - off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                off += (size_t) k;
        }
        _cleanup_free_ char *script_path = strprintf("/proc/%d/fd/%d", (int) getpid(), mfd);
        if (!script_path)
                return -ENOMEM;
        const char *argv[] = { "debugfs", "-w", "-f", script_path, dev, NULL };
        /* debugfs exits 0 even when a command fails; it says so on stderr, where otherwise only
         * its banner goes. stdout (each command echoed) is dropped. */
        struct spawn_opts d = SPAWN_OPTS_INIT;
        d.capture_stdout = true;
        d.env = env;
        d.tail_lines = 20;
        _cleanup_free_ char *tail = NULL, *out = NULL;
        int r = spawn_run(argv, &d, &tail, &out);
        if (r < 0)
                return r;
        bool clean = r == 0;
        for (const char *l = strempty(tail); clean && *l; l += strcspn(l, "\n"), l += *l == '\n')
                clean = startswith(l, "debugfs ") || *l == '\n';
        if (!clean) {
                log_error("debugfs -w %s (exit status %d):\n%s", dev, r, strempty(tail));
                return -EPROTO;
        }
        return 0;
}

int ext4_pin_times(const char *image, uint64_t offset, int64_t epoch) {
        _cleanup_free_ char *dev = strprintf("%s?offset=%" PRIu64, image, offset);
        _cleanup_free_ char *fake = strprintf("E2FSPROGS_FAKE_TIME=%" PRIi64, epoch);
        _cleanup_free_ char *out = NULL, *tail = NULL, *script = NULL;
        unsigned n = 0;
        if (!dev || !fake)
                return -ENOMEM;

        double t0 = now_monotonic();
        const char *dump[] = { "dumpe2fs", dev, NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        int r = spawn_run(dump, &o, &tail, &out);
        if (r < 0)
                return r;
        if (r > 0)
                return log_error_errno(-EPROTO, "dumpe2fs %s failed (exit status %d):\n%s", dev, r, strempty(tail));
        r = ext4_times_script(strempty(out), epoch, &script, &n);
        if (r < 0)
                return log_error_errno(r, "Cannot read the inode bitmap summary of dumpe2fs %s", dev);

        const char *env[] = { fake, NULL };
        r = ext4_debugfs_run(dev, script, env);
        if (r < 0)
                return log_error_errno(r, "debugfs -w %s failed setting inode times", dev);
        log_debug("ext4 at %" PRIu64 ": ctime/atime/crtime of %u inodes set to %" PRIi64 " in %.2f s", offset, n,
                  epoch, now_monotonic() - t0);
        return 0;
}
