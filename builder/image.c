/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <string.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bootloader.h"
#include "cleanup.h"
#include "ext4-delta.h"
#include "fileio.h"
#include "gpt-write.h"
#include "image-config.h"
#include "image-plan.h"
#include "image.h"
#include "layer.h"
#include "log.h"
#include "media.h"
#include "mkfs.h"
#include "parse.h"
#include "progress.h"
#include "tree-split.h"
#include "util.h"

/* The order matters: the plan first (pure), then the tree's fstab and grub.cfg (they name the
 * planned UUIDs), then the boot loader images (built before the disk exists so a missing GRUB
 * fails fast), then the disk: GPT, filesystems in place, boot code last (it patches the MBR
 * libparted wrote). */

static char *image_seed(const struct build_ctx *ctx) {
        if (ctx->source_date_epoch < 0)
                return NULL;
        return strprintf("rackstack:%s:%" PRIi64, ctx->profile->role, ctx->source_date_epoch);
}

static const char *distro_dir(const struct build_ctx *ctx) {
        if (ctx->base && ctx->base->name && startswith(ctx->base->name, "ubuntu"))
                return "ubuntu";
        return "debian";
}

static const struct image_part *layout_find(const struct image_layout *l, enum part_type type, const char *mount) {
        for (size_t i = 0; i < l->n_parts; i++) {
                if (mount && l->parts[i].mount && streq(l->parts[i].mount, mount))
                        return &l->parts[i];
                if (!mount && l->parts[i].type == type)
                        return &l->parts[i];
        }
        return NULL;
}

/* Refuse a tree that cannot fit before spending time on mke2fs; ext4's own metadata (inode
 * tables, journal, group descriptors) takes roughly 3% plus the journal. */
static int check_tree_fits(const char *tree, const struct image_part *root) {
        if (!tree)
                return 0;
        struct tree_measure tm;
        int r = tree_measure_path(tree, &tm);
        uint64_t used = tm.blocks;
        if (r < 0)
                return log_error_errno(r, "Failed to measure the tree '%s': %m", tree);
        uint64_t journal = root->size >= GiB ? 64 * MiB : root->size / 64;
        uint64_t room = root->size - root->size / 32 - journal;
        if (used > room) {
                _cleanup_free_ char *u = format_size(used), *s = format_size(root->size);
                return log_error_errno(-ENOSPC, "The tree '%s' holds %s, more than the partition '%s' (%s) "
                                                "can take with ext4's metadata; make the image larger",
                                       tree, strna(u), root->name, strna(s));
        }
        return 0;
}

/* A warm build's root: the layer's cached ext4 and this build's changes (ext4-delta.h). 1: made;
 * 0: not made, the partition is zeroes (again) and mke2fs -d of the whole tree is to make it. */
static int root_from_layer(struct build_ctx *ctx, const char *raw, const struct image_part *p, const char *label) {
        if (!ctx->layer_lower || !ctx->layer_upper || ctx->source_date_epoch >= 0 ||
            streq(strempty(getenv("RACKSTACK_EXT4_DELTA")), "0"))
                return 0;
        struct ext4_delta_stats st;
        _cleanup_free_ char *reason = NULL;
        int r = ext4_from_layer(raw, p, label, ctx->layer_lower, ctx->layer_upper, ctx->tree_dir, ctx->work_dir, &st,
                                &reason);
        if (r >= 0) {
                stage_note("image", "root filesystem from the layer's ext4 image%s and %u entries written, %u removed "
                           "(%.1f s)", st.cache_made ? " (made now)" : "", st.written, st.removed, st.seconds);
                return 1;
        }
        if (r == -EINTR || r == -ENOMEM)
                return r;
        if (r == -EOPNOTSUPP)
                stage_note("image", "root filesystem made whole: %s", strna(reason));
        else {
                stage_note("image", "root filesystem made whole: the layer's ext4 image could not be used (%s)",
                           strerror(-r));
                _cleanup_close_ int fd = open(raw, O_RDWR | O_CLOEXEC);
                if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t) p->offset,
                                        (off_t) p->size) < 0)
                        return log_error_errno(-errno, "Failed to clear the partition '%s': %m", p->name);
        }
        return 0;
}

static int make_filesystems(struct build_ctx *ctx, const char *raw, const struct disk_spec *disk,
                            const struct image_layout *l, const struct image_part *root,
                            const struct tree_splits *splits) {
        int r;

        for (size_t i = 0; i < l->n_parts; i++) {
                const struct image_part *p = &l->parts[i];
                const char *label = disk->parts[i].label ? disk->parts[i].label : p->name;

                switch (p->fs) {
                case FS_NONE:
                        break;
                case FS_EXT4:
                {
                        const char *src = p == root ? ctx->tree_dir : tree_split_source(splits, p);
                        r = p == root && splits->n == 0 ? root_from_layer(ctx, raw, p, label) : 0;
                        if (r < 0)
                                return r;
                        if (r > 0)
                                break;
                        log_debug("mke2fs %s from %s at %" PRIu64, p->name, strna(src), p->offset);
                        r = mkfs_ext4_at(raw, p, label, src, ctx->source_date_epoch);
                        if (r < 0)
                                return log_error_errno(r, "Failed to make the ext4 filesystem on '%s'%s: %m", p->name,
                                                       src ? " from the tree (is the partition large enough?)" : "");
                        break;
                }
                case FS_VFAT: {
                        /* FAT labels are upper case by convention (mkfs.fat warns otherwise). */
                        _cleanup_free_ char *upper = strdup(label);
                        if (!upper)
                                return -ENOMEM;
                        for (char *c = upper; *c; c++)
                                *c = (char) toupper((unsigned char) *c);
                        r = mkfs_vfat_at(raw, p, upper, ctx->source_date_epoch);
                        if (r < 0)
                                return log_error_errno(r, "Failed to make the FAT filesystem on '%s': %m", p->name);
                        break;
                }
                case FS_XFS:
                case FS_SWAP:
                default:
                        /* mkfs.xfs and mkswap cannot write at an offset inside a file; firstboot makes
                         * these on the real disk. */
                        log_warning("Partition '%s' (%s) on the OS disk is left unformatted in the image", p->name,
                                    strna(fs_type_to_string(p->fs)));
                        break;
                }
        }
        return 0;
}

/* The image says what it is from inside too: install reads /usr/lib/rackstack/image.json off a
 * disk's root before overwriting it (an older build or another role's is refused unless told).
 * The same bytes the media list in their signed SHA256SUMS. */
static int identity_install(struct build_ctx *ctx) {
        _cleanup_free_ char *path = NULL;
        int r = media_identity_write(ctx, &path, NULL);
        if (r < 0)
                return r;
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", ctx->tree_dir);
        if ((r = mkdir_parents_at(treefd, IMAGE_IDENTITY_DIR, 0755)) < 0 ||
            (r = copy_file_into(path, treefd, IMAGE_IDENTITY_IN_ROOT, 0644)) < 0)
                return log_error_errno(r, "Failed to install /%s: %m", IMAGE_IDENTITY_IN_ROOT);
        if (ctx->source_date_epoch >= 0) {
                /* hygiene clamped the tree before this file came: the file, and every directory its
                 * creation touched (usr/lib/rackstack, usr/lib, usr), get the clamp too, or two builds
                 * a second apart differ in those directories' mtimes */
                struct timespec ts[2] = { { .tv_sec = ctx->source_date_epoch }, { .tv_sec = ctx->source_date_epoch } };
                _cleanup_free_ char *p = strdup(IMAGE_IDENTITY_IN_ROOT);
                if (!p)
                        return -ENOMEM;
                for (char *slash; (void) utimensat(treefd, p, ts, AT_SYMLINK_NOFOLLOW), (slash = strrchr(p, '/'));)
                        *slash = '\0';
        }
        return 0;
}

static int assemble(struct build_ctx *ctx, const char *raw, const struct image_layout *l) {
        const struct disk_spec *disk = profile_os_disk(ctx->profile);
        const struct image_part *root = layout_find(l, 0, "/");
        const struct image_part *esp = layout_find(l, PART_ESP, NULL);
        const struct image_part *bios = layout_find(l, PART_BIOS_BOOT, NULL);
        _cleanup_(grub_images_done) struct grub_images g = {};
        _cleanup_free_ char *workdir = NULL;
        int r;

        if (!root || root->fs != FS_EXT4)
                return log_error_errno(-EINVAL, "The OS disk needs an ext4 partition mounted at /");
        if (esp && esp->fs != FS_VFAT)
                return log_error_errno(-EINVAL, "The ESP '%s' must be vfat", esp->name);
        if (!esp && !bios)
                return log_error_errno(-EINVAL, "The OS disk has neither an ESP nor a BIOS boot partition: "
                                                "nothing could boot it");
        if (root != &l->parts[l->n_parts - 1])
                log_warning("The root partition '%s' is not the last one: firstboot cannot grow it", root->name);

        r = tree_write_boot_config(ctx->tree_dir, ctx, disk, l, root);
        if (r < 0)
                return r;
        r = identity_install(ctx);
        if (r < 0)
                return r;
        /* After the mount points exist, before anything is measured or copied. */
        _cleanup_(tree_unsplit) struct tree_splits splits = {};
        r = tree_split(ctx->tree_dir, l, root, &splits);
        if (r < 0)
                return r;
        r = check_tree_fits(ctx->tree_dir, root);
        for (size_t i = 0; r >= 0 && i < l->n_parts; i++)
                if (&l->parts[i] != root)
                        r = check_tree_fits(tree_split_source(&splits, &l->parts[i]), &l->parts[i]);
        if (r < 0)
                return r;

        workdir = strprintf("%s/image-boot", ctx->work_dir);
        if (!workdir)
                return -ENOMEM;
        if (mkdir(workdir, 0700) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create '%s': %m", workdir);
        r = grub_images_build(workdir, ctx->tree_dir, root->fs_uuid, esp, bios, &g);
        if (r < 0)
                return r;

        {
                _cleanup_close_ int fd = open(raw, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
                if (fd < 0)
                        return log_error_errno(-errno, "Failed to create '%s': %m", raw);
                if (ftruncate(fd, (off_t) l->disk_size) < 0)
                        return log_error_errno(-errno, "Failed to size '%s': %m", raw);
        }
        r = gpt_write(raw, l);
        if (r < 0)
                return r;
        r = make_filesystems(ctx, raw, disk, l, root, &splits);
        if (r < 0)
                return r;
        r = tree_unsplit(&splits);
        if (r < 0)
                return r;
        if (esp) {
                r = grub_efi_install(raw, esp, &g, distro_dir(ctx), ctx->source_date_epoch);
                if (r < 0)
                        return r;
        }
        if (bios) {
                r = grub_bios_install(raw, bios, &g);
                if (r < 0)
                        return r;
        }

        /* Start writing it out, without waiting: the image is hashed meanwhile (from the page
         * cache), and publishing it fsyncs it, as every output. */
        _cleanup_close_ int fd = open(raw, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0)
                return log_error_errno(-errno, "Failed to sync '%s': %m", raw);
        return 0;
}

int image_assemble(struct build_ctx *ctx, const char *raw_path, struct image_layout *ret_layout) {
        _cleanup_(image_layout_done) struct image_layout l = {};
        _cleanup_(diags_done) struct diags d = {};
        int r;

        if (!ctx->profile || !ctx->tree_dir || !ctx->work_dir)
                return log_error_errno(-EINVAL, "image_assemble: profile, tree and work directory are required");
        const struct disk_spec *disk = profile_os_disk(ctx->profile);
        if (!disk)
                return log_error_errno(-EINVAL, "Profile '%s' has no OS disk (a disk with os: true)",
                                       strna(ctx->profile->role));

        _cleanup_free_ char *seed = image_seed(ctx);
        if (ctx->source_date_epoch >= 0 && !seed)
                return -ENOMEM;
        r = image_layout_plan(disk, ctx->image_size, seed, &d, &l);
        if (r < 0) {
                diags_print(&d, stderr);
                return log_error_errno(r, "Cannot lay out the OS disk of role '%s': %m", strna(ctx->profile->role));
        }

        double t0 = now_monotonic();
        r = assemble(ctx, raw_path, &l);
        if (r < 0) {
                /* The caller publishes raw_path only on success; do not leave a large half-made file. */
                (void) unlink(raw_path);
                return r;
        }
        log_debug("Disk image assembled in %.1f s", now_monotonic() - t0);

        *ret_layout = l;
        l = (struct image_layout) {};
        return 0;
}
