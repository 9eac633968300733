/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <inttypes.h>
#include <search.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "exec-tool.h"
#include "ext4-times.h"
#include "image-plan.h"
#include "log.h"
#include "mkfs.h"
#include "util.h"
#include "walk.h"

int mkfs_ext4_at(const char *image, const struct image_part *part, const char *label, const char *tree,
                 int64_t sde) {
        _cleanup_free_ char *ext = NULL, *size = NULL, *fake_time = NULL, *sde_env = NULL;

        /* hash_seed fixes the htree hashes, and E2FSPROGS_FAKE_TIME every timestamp mke2fs would
         * otherwise take from the clock; file times come from the tree. */
        /* The image is a fresh sparse file, so the zeroes mke2fs would write for the journal and
         * inode tables are there already; writing them would only allocate blocks. */
        if (sde >= 0)
                ext = strprintf("offset=%" PRIu64 ",assume_storage_prezeroed=1,hash_seed=%s", part->offset,
                                part->fs_uuid);
        else
                ext = strprintf("offset=%" PRIu64 ",assume_storage_prezeroed=1", part->offset);
        size = strprintf("%" PRIu64 "k", part->size / 1024);
        /* e2fsprogs 1.47.1 also reads SOURCE_DATE_EPOCH (and then clamps the inode times it copies);
         * 1.47.0, in bookworm, copies each file's ctime: ext4_pin_times() sets them afterwards. */
        if (sde >= 0) {
                fake_time = strprintf("E2FSPROGS_FAKE_TIME=%" PRIi64, sde);
                sde_env = strprintf("SOURCE_DATE_EPOCH=%" PRIi64, sde);
        }
        if (!ext || !size || (sde >= 0 && (!fake_time || !sde_env)))
                return -ENOMEM;

        const char *argv[20];
        size_t n = 0;
        argv[n++] = "mke2fs";
        argv[n++] = "-q";
        argv[n++] = "-F";
        argv[n++] = "-t";
        argv[n++] = "ext4";
        /* 4 KiB blocks even when the image's root is small: mke2fs would pick 1 KiB for a
         * partition under 512 MiB, and firstboot grows this filesystem to the whole disk. */
        argv[n++] = "-b";
        argv[n++] = "4096";
        argv[n++] = "-E";
        argv[n++] = ext;
        argv[n++] = "-U";
        argv[n++] = part->fs_uuid;
        argv[n++] = "-L";
        argv[n++] = label;
        if (tree) {
                argv[n++] = "-d";
                argv[n++] = tree;
        }
        argv[n++] = image;
        argv[n++] = size;
        argv[n] = NULL;
        const char *env[] = { fake_time, sde_env, NULL };
        int r = tool_run(argv, env);
        if (r < 0 || sde < 0)
                return r;
        return ext4_pin_times(image, part->offset, sde);
}

int mkfs_vfat_at(const char *image, const struct image_part *part, const char *label, int64_t sde) {
        _cleanup_free_ char *offset = NULL, *size = NULL, *serial = NULL;

        if (!part->fs_uuid || strlen(part->fs_uuid) != 9)
                return -EINVAL;
        /* FAT32 with 512-byte clusters needs at least 65525 clusters. */
        if (part->size < 36 * MiB)
                return log_error_errno(-ENOSPC, "Partition '%s' is too small for FAT32 (at least 36M)",
                                       part->name);
        offset = strprintf("%" PRIu64, part->offset / IMAGE_SECTOR_SIZE);
        size = strprintf("%" PRIu64, part->size / 1024);
        serial = strprintf("%.4s%.4s", part->fs_uuid, part->fs_uuid + 5);
        if (!offset || !size || !serial)
                return -ENOMEM;

        const char *argv[20];
        size_t n = 0;
        argv[n++] = "mkfs.vfat";
        argv[n++] = "-F";
        argv[n++] = "32";
        argv[n++] = "-s";
        argv[n++] = "1";
        argv[n++] = "--offset";
        argv[n++] = offset;
        argv[n++] = "-i";
        argv[n++] = serial;
        argv[n++] = "-n";
        argv[n++] = label;
        if (sde >= 0)
                argv[n++] = "--invariant";
        argv[n++] = image;
        argv[n++] = size;
        argv[n] = NULL;
        return tool_run(argv, NULL);
}

static int mtools_env(int64_t sde, char **ret_sde) {
        *ret_sde = NULL;
        if (sde < 0)
                return 0;
        *ret_sde = strprintf("SOURCE_DATE_EPOCH=%" PRIi64, sde);
        return *ret_sde ? 0 : -ENOMEM;
}

int fat_mkdirs(const char *image, const struct image_part *part, const char *const *dirs, int64_t sde) {
        _cleanup_free_ char *target = strprintf("%s@@%" PRIu64, image, part->offset);
        _cleanup_free_ char *sde_env = NULL;
        _cleanup_strv_free_ char **argv = NULL;
        int r;

        if (!target)
                return -ENOMEM;
        r = mtools_env(sde, &sde_env);
        if (r < 0)
                return r;
        if (strv_extend(&argv, "mmd") < 0 || strv_extend(&argv, "-i") < 0 || strv_extend(&argv, target) < 0)
                return -ENOMEM;
        for (const char *const *d = dirs; *d; d++) {
                _cleanup_free_ char *p = strprintf("::%s", *d);
                if (!p || strv_extend(&argv, p) < 0)
                        return -ENOMEM;
        }
        const char *env[] = { "MTOOLS_SKIP_CHECK=1", sde_env, NULL };
        return tool_run((const char *const *) argv, env);
}

int fat_copy(const char *image, const struct image_part *part, const char *src, const char *dest, int64_t sde) {
        _cleanup_free_ char *target = strprintf("%s@@%" PRIu64, image, part->offset);
        _cleanup_free_ char *d = strprintf("::%s", dest);
        _cleanup_free_ char *sde_env = NULL;
        int r;

        if (!target || !d)
                return -ENOMEM;
        r = mtools_env(sde, &sde_env);
        if (r < 0)
                return r;
        /* No -m: the copy gets SOURCE_DATE_EPOCH (when set), not the build-time mtime of a
         * freshly made GRUB image. */
        const char *argv[] = { "mcopy", "-o", "-i", target, src, d, NULL };
        const char *env[] = { "MTOOLS_SKIP_CHECK=1", sde_env, NULL };
        return tool_run(argv, env);
}

struct inode_key {
        dev_t dev;
        ino_t ino;
};

static int inode_cmp(const void *a, const void *b) {
        const struct inode_key *x = a, *y = b;
        if (x->dev != y->dev)
                return x->dev < y->dev ? -1 : 1;
        if (x->ino != y->ino)
                return x->ino < y->ino ? -1 : 1;
        return 0;
}

struct measure {
        struct tree_measure m;
        dev_t dev;          /* the top's filesystem */
        int foreign_at;     /* depth of the directory where another filesystem starts, or -1 */
        void *seen;         /* tsearch tree of the (dev, ino) of multiply-linked files */
};

/* A multiply-linked file's first sight: 1; seen before: 0. */
static int first_sight(struct measure *u, const struct stat *st) {
        if (!S_ISREG(st->st_mode) || st->st_nlink <= 1)
                return 1;
        struct inode_key *k = malloc(sizeof(*k));
        if (!k)
                return -ENOMEM;
        *k = (struct inode_key) { st->st_dev, st->st_ino };
        struct inode_key **found = tsearch(k, &u->seen, inode_cmp);
        if (!found)
                return -ENOMEM;
        if (*found == k)
                return 1;
        free(k);
        return 0;
}

/* Apparent size rounded to blocks: sparse files in the tree are written sparse by mke2fs, but an
 * estimate on the high side only makes the early check stricter by a little. A symlink under 60
 * bytes lives in its inode. */
static uint64_t blocks_of(const struct stat *st) {
        if (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || (S_ISLNK(st->st_mode) && st->st_size >= 60))
                return ((uint64_t) st->st_size + 4095) / 4096 * 4096;
        return 0;
}

static int measure_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        struct measure *u = userdata;
        if (ev == WALK_LEAVE) {
                if (u->foreign_at == (int) e->depth)
                        u->foreign_at = -1;
                return 0;
        }
        /* Counts 4 KiB per inode for metadata, directories and tiny files. */
        u->m.apparent += (uint64_t) e->st->st_size + 4096;
        if (u->foreign_at < 0 && e->st->st_dev != u->dev && ev == WALK_ENTER)
                u->foreign_at = (int) e->depth;
        if (u->foreign_at >= 0 || e->st->st_dev != u->dev)
                return 0;
        int r = first_sight(u, e->st);
        if (r > 0)
                u->m.blocks += blocks_of(e->st);
        return r < 0 ? r : 0;
}

int tree_measure(int dirfd, struct tree_measure *ret) {
        struct stat st;
        if (fstat(dirfd, &st) < 0)
                return -errno;
        struct measure u = { .m.blocks = blocks_of(&st), .dev = st.st_dev, .foreign_at = -1 };
        int r = walk_tree(dirfd, 0, 256, measure_visit, &u);
        tdestroy(u.seen, free);
        if (r < 0)
                return r;
        *ret = u.m;
        return 0;
}

int tree_measure_path(const char *tree, struct tree_measure *ret) {
        _cleanup_close_ int fd = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : tree_measure(fd, ret);
}
