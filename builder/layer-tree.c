/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "layer-tree.h"
#include "log.h"
#include "progress.h"
#include "spawn-run.h"
#include "unpack.h"
#include "util.h"
#include "vendor-stage.h"

/* One build per process: the entry whose tree is mounted, its shared lock held until release. */
static struct cache_entry held = CACHE_ENTRY_INIT;
static bool mounted, private_ns;

/* CACHE/layer/KEY.tar -> CACHE/layer/KEY.tree */
static char *tree_path(const char *tar_path) {
        size_t n = strlen(tar_path);
        if (n < 4 || !streq(tar_path + n - 4, ".tar"))
                return NULL;
        return strprintf("%.*s.tree", (int) (n - 4), tar_path);
}

static bool tree_wanted(const struct build_ctx *ctx) {
        /* RACKSTACK_KEEP_WORK=1 keeps the tree for whoever looks after the build: a mount in
         * this process's namespace would be gone by then. RACKSTACK_LAYER_TREE=0 measures (or
         * works around) the unpacking path. A build that copies container images into the tree
         * cannot work on an overlay: the image store's own overlay driver refuses overlayfs as
         * its backing filesystem ("a mount_program is required"), and copying a finished store
         * in would turn its layers' whiteouts (0:0 character devices) into this overlay's own. */
        return geteuid() == 0 && !streq(strempty(getenv("RACKSTACK_KEEP_WORK")), "1") &&
               !streq(strempty(getenv("RACKSTACK_LAYER_TREE")), "0") && !vendor_has_images(ctx);
}

/* The overlay must not outlive the build nor show on the host: a mount namespace of our own,
 * which receives the host's mounts but sends none back, and goes when the process does. */
static int private_namespace(void) {
        if (private_ns)
                return 0;
        if (unshare(CLONE_NEWNS) < 0)
                return -errno;
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return -errno;
        private_ns = true;
        return 0;
}

static int overlay_mount(struct build_ctx *ctx, const char *lower) {
        /* Mount options are split at ',' and lowerdir at ':'. */
        if (strpbrk(lower, ",:\\") || strpbrk(ctx->work_dir, ",:\\"))
                return -EOPNOTSUPP;
        _cleanup_free_ char *upper = strprintf("%s/upper", ctx->work_dir);
        _cleanup_free_ char *work = strprintf("%s/overlay-work", ctx->work_dir);
        if (!upper || !work)
                return -ENOMEM;
        if ((mkdir(upper, 0755) < 0 && errno != EEXIST) || (mkdir(work, 0700) < 0 && errno != EEXIST))
                return -errno;
        /* redirect_dir: splitting the tree into partitions renames directories of the lower tree. */
        _cleanup_free_ char *opts = strprintf("lowerdir=%s,upperdir=%s,workdir=%s,redirect_dir=on", lower, upper, work);
        if (!opts)
                return -ENOMEM;
        if (private_namespace() < 0 || mount("overlay", ctx->tree_dir, "overlay", 0, opts) < 0) {
                log_debug_errno(-errno, "No overlay at %s (%m): unpacking instead", ctx->tree_dir);
                return -EOPNOTSUPP;
        }
        mounted = true;
        free(ctx->layer_lower);
        free(ctx->layer_upper);
        ctx->layer_lower = strdup(lower);
        ctx->layer_upper = TAKE_PTR(upper);
        if (!ctx->layer_lower) { /* the build goes on; the root filesystem is then made whole */
                free(ctx->layer_upper);
                ctx->layer_upper = NULL;
        }
        return 0;
}

/* Unpack e's tarball (checking its sum) in the work directory, then publish it as KEY.tree by
 * rename (the work directory is in the cache: one filesystem): a tree that exists is complete, and
 * what a killed build leaves is in its work directory, which the next build removes. Two builds
 * racing both unpack; the first rename wins and the other uses it. */
static int tree_make(struct build_ctx *ctx, const struct cache_entry *e, const char *tree) {
        _cleanup_free_ char *tmp = strprintf("%s/layer-tree", ctx->work_dir);
        if (!tmp)
                return -ENOMEM;
        if (mkdir(tmp, 0755) < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", tmp);
        int r = unpack_tarball(e->path, tmp, e->sha256, NULL);
        if (r >= 0 && rename(tmp, tree) < 0)
                r = errno == EEXIST || errno == ENOTEMPTY ? 1 : log_error_errno(-errno, "Failed to publish %s: %m", tree);
        if (r != 0)
                (void) remove_tree(tmp);
        return r < 0 ? r : 0;
}

static void hold(struct cache_entry *e) {
        cache_entry_share(e);
        cache_entry_done(&held);
        held = *e;
        *e = (struct cache_entry) CACHE_ENTRY_INIT;
}

int layer_tree_mount(struct build_ctx *ctx, struct cache_entry *e) {
        if (!tree_wanted(ctx))
                return -EOPNOTSUPP;
        _cleanup_free_ char *tree = tree_path(e->path);
        if (!tree)
                return -ENOMEM;
        struct stat st;
        if (stat(tree, &st) < 0) {
                stage_note("layer", "unpacking the layer once into %s", tree);
                int r = tree_make(ctx, e, tree);
                if (r < 0)
                        return r;
        }
        int r = overlay_mount(ctx, tree);
        if (r < 0)
                return r;
        hold(e);
        return 0;
}

int layer_tree_adopt(struct build_ctx *ctx, struct cache_entry *e) {
        if (!tree_wanted(ctx) || private_namespace() < 0)
                return -EOPNOTSUPP;
        _cleanup_free_ char *tree = tree_path(e->path);
        if (!tree)
                return -ENOMEM;
        /* A tree left from an entry dropped as corrupt is not this one. */
        layer_tree_remove(e->path);
        if (rename(ctx->tree_dir, tree) < 0)
                return -EOPNOTSUPP;
        int r = RET_NERRNO(mkdir(ctx->tree_dir, 0755));
        if (r >= 0)
                r = overlay_mount(ctx, tree);
        if (r < 0) {
                /* Back as it was: the build goes on with the tree in place. */
                (void) rmdir(ctx->tree_dir);
                return rename(tree, ctx->tree_dir) < 0 ? -errno : -EOPNOTSUPP;
        }
        hold(e);
        return 0;
}

void layer_tree_release(struct build_ctx *ctx) {
        if (mounted && umount2(ctx->tree_dir, MNT_DETACH) < 0)
                log_warning_errno(-errno, "Failed to unmount the overlay at %s: %m", ctx->tree_dir);
        mounted = false;
        free(ctx->layer_lower);
        free(ctx->layer_upper);
        ctx->layer_lower = ctx->layer_upper = NULL;
        cache_entry_done(&held);
}

void layer_tree_remove(const char *tar_path) {
        _cleanup_free_ char *tree = tree_path(tar_path);
        if (tree && access(tree, F_OK) == 0)
                (void) remove_tree(tree);
        /* and the ext4 images made from it (ext4-delta.h): KEY.ext4-* */
        size_t n = strlen(tar_path);
        _cleanup_free_ char *pattern = n > 4 ? strprintf("%.*s.ext4-*", (int) (n - 4), tar_path) : NULL;
        glob_t g = {};
        if (pattern && glob(pattern, GLOB_NOSORT, NULL, &g) == 0)
                for (size_t i = 0; i < g.gl_pathc; i++)
                        (void) unlink(g.gl_pathv[i]);
        globfree(&g);
}
