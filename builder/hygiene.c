/* SPDX-License-Identifier: MIT */
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
#include "walk.h"

static int unlink_if_exists(int treefd, const char *rel, struct hygiene_report *rep) {
        if (unlinkat(treefd, rel, 0) < 0)
                return errno == ENOENT ? 0 : log_error_errno(-errno, "Failed to remove /%s: %m", rel);
        rep->removed++;
        return 0;
}

struct clear {
        const char *pattern;
        const char *const *keep;
        bool keep_dirs, truncate_files;
        struct hygiene_report *rep;
};

static int clear_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        const struct clear *c = userdata;
        if (e->depth == 0 && c->keep && strv_contains((char **) c->keep, e->name))
                return ev == WALK_ENTER ? WALK_SKIP : 0;
        if (ev == WALK_ENTER)
                return 0;
        if (ev == WALK_LEAVE) {
                if (!c->keep_dirs && !c->pattern && unlinkat(e->dirfd, e->name, AT_REMOVEDIR) < 0 && errno != ENOTEMPTY)
                        return -errno;
                return 0;
        }
        if (c->pattern && fnmatch(c->pattern, e->name, 0) != 0)
                return 0;
        if (c->truncate_files && S_ISREG(e->st->st_mode)) {
                if (e->st->st_size > 0) {
                        _cleanup_close_ int f = openat(e->dirfd, e->name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                        if (f < 0)
                                return -errno;
                        c->rep->truncated++;
                }
                return 0;
        }
        if (unlinkat(e->dirfd, e->name, 0) < 0)
                return -errno;
        c->rep->removed++;
        return 0;
}

/* Remove everything inside dir rel (recursively) whose name matches pattern (NULL = all), keeping
 * rel itself. keep lists names in rel to leave alone. */
static int clear_dir(int treefd, const char *rel, const char *pattern, const char *const *keep, bool keep_dirs,
                     bool truncate_files, struct hygiene_report *rep) {
        _cleanup_close_ int fd = openat(treefd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT || errno == ENOTDIR ? 0 : -errno;
        struct clear c = { pattern, keep, keep_dirs, truncate_files, rep };
        return walk_tree(fd, 0, 256, clear_visit, &c);
}

struct clamp {
        int64_t sde;
        struct hygiene_report *rep;
};

/* A directory after its entries: touching them does not move its mtime, but do it last anyway so
 * that the order never matters. */
static int clamp_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        const struct clamp *c = userdata;
        const struct stat *st = e->st;
        if (interrupted())
                return -EINTR;
        if (ev == WALK_ENTER || (st->st_mtime <= c->sde && st->st_atime <= c->sde))
                return 0;
        struct timespec ts[2] = {
                { .tv_sec = MIN(st->st_atime, c->sde), .tv_nsec = st->st_atime > c->sde ? 0 : st->st_atim.tv_nsec },
                { .tv_sec = MIN(st->st_mtime, c->sde), .tv_nsec = st->st_mtime > c->sde ? 0 : st->st_mtim.tv_nsec },
        };
        if (utimensat(e->dirfd, e->name, ts, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if (st->st_mtime > c->sde)
                c->rep->clamped++;
        return 0;
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
                r = walk_tree(treefd, 0, 256, clamp_visit, &(struct clamp) { source_date_epoch, &rep });
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
