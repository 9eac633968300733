/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "hygiene.h"
#include "log.h"
#include "spawn-run.h"
#include "util.h"

static int unlink_if_exists(int treefd, const char *rel, struct hygiene_report *rep) {
        if (unlinkat(treefd, rel, 0) < 0)
                return errno == ENOENT ? 0 : log_error_errno(-errno, "Failed to remove /%s: %m", rel);
        rep->removed++;
        return 0;
}

/* Remove everything inside dir rel (recursively) whose name matches pattern (NULL = all), keeping
 * rel itself. keep lists names to leave alone. */
static int clear_dir(int treefd, const char *rel, const char *pattern, const char *const *keep, bool keep_dirs,
                     bool truncate_files, struct hygiene_report *rep) {
        _cleanup_close_ int fd = openat(treefd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        _cleanup_closedir_ DIR *d = NULL;
        int r_dir = opendir_dup(fd, &d);
        if (r_dir < 0)
                return r_dir;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                const char *n = de->d_name;
                if (streq(n, ".") || streq(n, ".."))
                        continue;
                bool skip = false;
                for (size_t i = 0; keep && keep[i]; i++)
                        skip = skip || streq(keep[i], n);
                if (skip)
                        continue;
                struct stat st;
                if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_free_ char *sub = strprintf("%s/%s", rel, n);
                        if (!sub)
                                return -ENOMEM;
                        int r = clear_dir(treefd, sub, pattern, NULL, keep_dirs, truncate_files, rep);
                        if (r < 0)
                                return r;
                        if (!keep_dirs && !pattern && unlinkat(fd, n, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY)
                                return -errno;
                        continue;
                }
                if (pattern && fnmatch(pattern, n, 0) != 0)
                        continue;
                if (truncate_files && S_ISREG(st.st_mode)) {
                        if (st.st_size > 0) {
                                _cleanup_close_ int f = openat(fd, n, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                                if (f < 0)
                                        return -errno;
                                rep->truncated++;
                        }
                        continue;
                }
                if (unlinkat(fd, n, 0) < 0)
                        return -errno;
                rep->removed++;
        }
        return errno ? -errno : 0;
}

static int clamp_times(int dirfd, int64_t sde, struct hygiene_report *rep, unsigned depth) {
        if (depth > 256)
                return -ELOOP;
        _cleanup_closedir_ DIR *d = NULL;
        int r_dir = opendir_dup(dirfd, &d);
        if (r_dir < 0)
                return r_dir;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (interrupted())
                        return -EINTR;
                const char *n = de->d_name;
                if (streq(n, ".") || streq(n, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd, n, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub < 0)
                                return -errno;
                        int r = clamp_times(sub, sde, rep, depth + 1);
                        if (r < 0)
                                return r;
                }
                /* After the children: touching them does not move the directory's mtime, but do
                 * the directory last anyway so the order never matters. */
                if (st.st_mtime > sde || st.st_atime > sde) {
                        struct timespec ts[2] = {
                                { .tv_sec = MIN(st.st_atime, sde), .tv_nsec = st.st_atime > sde ? 0 : st.st_atim.tv_nsec },
                                { .tv_sec = MIN(st.st_mtime, sde), .tv_nsec = st.st_mtime > sde ? 0 : st.st_mtim.tv_nsec },
                        };
                        if (utimensat(dirfd, n, ts, AT_SYMLINK_NOFOLLOW) < 0)
                                return -errno;
                        if (st.st_mtime > sde)
                                rep->clamped++;
                }
        }
        return errno ? -errno : 0;
}

int hygiene_apply(const char *tree, int64_t source_date_epoch, struct hygiene_report *ret) {
        struct hygiene_report rep = {};
        _cleanup_close_ int treefd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", tree);
        int r;

        /* Identity: every server makes its own. */
        r = clear_dir(treefd, "etc/ssh", "ssh_host_*", NULL, true, false, &rep);
        if (r < 0)
                return log_error_errno(r, "Failed to remove SSH host keys: %m");
        /* An empty (not missing) machine-id: systemd then treats the boot as the first and makes
         * one; a missing file would make a read-only root fail. */
        (void) unlinkat(treefd, "etc/machine-id", 0);
        r = write_file_atomic(treefd, "etc/machine-id", "", 0, 0444);
        if (r < 0)
                return log_error_errno(r, "Failed to empty /etc/machine-id: %m");
        const char *const gone[] = {
                "var/lib/dbus/machine-id",
                "var/lib/systemd/random-seed",
                "var/lib/systemd/credential.secret",
                "etc/hostname",          /* mmdebstrap copies the build host's */
                "usr/sbin/policy-rc.d",  /* in case a build step left it */
                "etc/resolv.conf.rackstack-saved",
                "var/cache/debconf/config.dat-old",
                "var/cache/debconf/templates.dat-old",
                "var/lib/dpkg/status-old",
                "var/lib/dpkg/diversions-old",
                "var/lib/dpkg/statoverride-old",
        };
        for (size_t i = 0; i < ELEMENTSOF(gone); i++)
                if ((r = unlink_if_exists(treefd, gone[i], &rep)) < 0)
                        return r;

        /* resolv.conf copied from the build host (a regular file) names the build network's
         * resolvers; the server gets its own from its network configuration. A symlink (to
         * systemd-resolved's stub) is the distribution's and stays. */
        struct stat st;
        if (fstatat(treefd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
                if ((r = unlink_if_exists(treefd, "etc/resolv.conf", &rep)) < 0)
                        return r;

        /* Package caches and lists: stale the day after the build, and large. */
        static const char *const keep_lists[] = { "partial", "lock", NULL };
        if ((r = clear_dir(treefd, "var/lib/apt/lists", NULL, keep_lists, false, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/cache/apt/archives", "*.deb", NULL, true, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/cache/apt", "*.bin", NULL, true, false, &rep)) < 0)
                return log_error_errno(r, "Failed to remove apt lists and caches: %m");

        /* Logs: rotated ones go, live ones are emptied (their owners and modes are what the
         * packages set up), directories stay. */
        if ((r = clear_dir(treefd, "var/log", "*.[0-9]", NULL, true, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/log", "*.gz", NULL, true, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/log", "*.old", NULL, true, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/log", NULL, NULL, true, true, &rep)) < 0)
                return log_error_errno(r, "Failed to clear /var/log: %m");

        if ((r = clear_dir(treefd, "tmp", NULL, NULL, false, false, &rep)) < 0 ||
            (r = clear_dir(treefd, "var/tmp", NULL, NULL, false, false, &rep)) < 0)
                return log_error_errno(r, "Failed to empty /tmp: %m");

        if (source_date_epoch >= 0) {
                r = clamp_times(treefd, source_date_epoch, &rep, 0);
                if (r < 0)
                        return r == -EINTR ? r : log_error_errno(r, "Failed to clamp file times: %m");
                if (fstat(treefd, &st) == 0 && st.st_mtime > source_date_epoch) {
                        struct timespec ts[2] = { { .tv_sec = source_date_epoch }, { .tv_sec = source_date_epoch } };
                        (void) futimens(treefd, ts);
                }
        }
        if (ret)
                *ret = rep;
        return 0;
}
