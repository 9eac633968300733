/* SPDX-License-Identifier: MIT */
#include <blkid/blkid.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <parted/parted.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "disk-apply.h"
#include "fileio.h"
#include "lib-cleanup.h"
#include "log.h"
#include "process.h"
#include "util.h"

/* ---- helpers --------------------------------------------------------------------------------------- */

static char *ped_last_message;
/* Set while the root partition is grown. A raw image written to a larger disk has its backup GPT
 * header where the image ended, and libparted asks whether to move it to the disk's end. The
 * answer "ignore" keeps the image's last usable sector, and libparted then quietly clamps the grown
 * partition to it: the table written is the image's, and nothing fails. Here the answer is "fix". */
static bool ped_fix_gpt_end;

static PedExceptionOption ped_handler(PedException *ex) {
        free(ped_last_message);
        ped_last_message = strdup(ex->message ? ex->message : "");
        log_debug("libparted: %s", strna(ex->message));
        if (ped_fix_gpt_end && ex->type <= PED_EXCEPTION_WARNING && (ex->options & PED_EXCEPTION_FIX))
                return PED_EXCEPTION_FIX;
        if (ex->type <= PED_EXCEPTION_WARNING && (ex->options & PED_EXCEPTION_IGNORE))
                return PED_EXCEPTION_IGNORE;
        if (ex->options & PED_EXCEPTION_CANCEL)
                return PED_EXCEPTION_CANCEL;
        return PED_EXCEPTION_UNHANDLED;
}

/* Run argv, stdout to /dev/null (mkfs is chatty), stderr kept for the console. */
static int run_argv(char *const argv[]) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = PROC_OUT_NULL;
        int r = proc_run((const char *const *) argv, &o, NULL, NULL);
        return r <= 0 ? r : -EIO;
}

/* Wait for udev to finish with the events our writes caused. Without a running udevd (a
 * container, an initramfs without it) there is nothing to wait for. */
static void udev_settle(void) {
        if (access("/run/udev/control", F_OK) < 0 || !proc_have_program("udevadm"))
                return;
        char *argv[] = { (char *) "udevadm", (char *) "settle", (char *) "--timeout=60", NULL };
        int r = run_argv(argv);
        if (r < 0)
                log_warning_errno(r, "udevadm settle failed: %m");
}

static char *new_uuid(void) {
        char *s = NULL;
        if (read_file_full(AT_FDCWD, "/proc/sys/kernel/random/uuid", 64, &s, NULL) < 0)
                return NULL;
        s[strcspn(s, "\n")] = 0;
        return s;
}

static char *part_node(const char *devnode, unsigned n) {
        size_t l = strlen(devnode);
        bool digit = l > 0 && devnode[l - 1] >= '0' && devnode[l - 1] <= '9';
        return strprintf("%s%s%u", devnode, digit ? "p" : "", n);
}

static bool is_block(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISBLK(st.st_mode);
}

/* Where the kernel made no partition nodes (loop devices without partscan, as on these hosts), a
 * partition is reached through a loop device over its byte range. It detaches itself once the last
 * user (mkfs, or the mount) lets go. */
int loop_attach_fd(int backing_fd, uint64_t offset, uint64_t size, int *ret_fd, char **ret_node) {
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return -errno;
        for (int attempt = 0; attempt < 16; attempt++) {
                int n = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (n < 0)
                        return -errno;
                _cleanup_free_ char *node = strprintf("/dev/loop%d", n);
                if (!node)
                        return -ENOMEM;
                _cleanup_close_ int lfd = open(node, O_RDWR | O_CLOEXEC);
                if (lfd < 0)
                        return -errno;
                struct loop_config cfg = {
                        .fd = (uint32_t) backing_fd,
                        .info = { .lo_offset = offset, .lo_sizelimit = size, .lo_flags = LO_FLAGS_AUTOCLEAR },
                };
                if (ioctl(lfd, LOOP_CONFIGURE, &cfg) < 0) {
                        if (errno == EBUSY)
                                continue; /* someone else took it between GET_FREE and here */
                        return -errno;
                }
                *ret_fd = TAKE_FD(lfd);
                *ret_node = TAKE_PTR(node);
                return 0;
        }
        return -EBUSY;
}

static int loop_attach_range(const char *backing, uint64_t offset, uint64_t size, int *ret_fd, char **ret_node) {
        _cleanup_close_ int bfd = open(backing, O_RDWR | O_CLOEXEC);
        if (bfd < 0)
                return -errno;
        return loop_attach_fd(bfd, offset, size, ret_fd, ret_node);
}

/* The block device of partition n: its node, or a loop device over its range. *ret_hold is an fd
 * keeping a range loop device alive (-1 if none). */
static int open_partition(const struct plan_disk *pd, const struct disk_info *d, const struct plan_part *pp,
                          char **ret_node, int *ret_hold) {
        _cleanup_free_ char *node = part_node(pd->devnode, pp->number);
        if (!node)
                return -ENOMEM;
        if (is_block(node)) {
                *ret_node = TAKE_PTR(node);
                *ret_hold = -1;
                return 0;
        }
        if (!d->is_loop)
                return -ENODEV;
        int fd;
        char *ln;
        int r = loop_attach_range(pd->devnode, pp->start, pp->size, &fd, &ln);
        if (r < 0)
                return r;
        log_debug("%s: no partition nodes; partition %u through %s", pd->devnode, pp->number, ln);
        *ret_node = ln;
        *ret_hold = fd;
        return 0;
}

static int step_fail(struct apply_context *c, const char *step, int r, const char *fmt, ...) _printf_(4, 5);
static int step_fail(struct apply_context *c, const char *step, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = strvprintf(fmt, ap);
        va_end(ap);
        _cleanup_free_ char *full = strprintf("%s: %s", strna(msg), strerror(r < 0 ? -r : EIO));
        log_error("%s: %s", step, strna(full));
        (void) status_fail(c->status, step, full ? full : "error");
        return r < 0 ? r : -EIO;
}

/* A journalled step's start: 1 when an earlier run did it (the status says it was skipped), 0 when
 * it begins now (detail goes into the journal), or step_fail's error. */
static int step_begin(struct apply_context *c, const char *step, const char *detail) {
        if (journal_is_done(c->journal, step)) {
                (void) status_step(c->status, step, "skipped", "done in an earlier run");
                return 1;
        }
        int r = journal_begin(c->journal, step, detail);
        return r < 0 ? step_fail(c, step, r, "cannot write the journal") : 0;
}

/* ---- wipe and label ---------------------------------------------------------------------------------- */

static int zero_range(int fd, uint64_t off, uint64_t len) {
        static const char zeros[65536];
        while (len > 0) {
                size_t n = MIN(len, sizeof zeros);
                ssize_t k = pwrite(fd, zeros, n, (off_t) off);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                off += (uint64_t) k;
                len -= (uint64_t) k;
        }
        return 0;
}

/* Every signature, at both ends: libblkid's list (as wipefs -a), then the first and last MiB, where
 * the PMBR and both GPT headers, md 0.90/1.0, LVM labels, LUKS headers and ZFS labels live. O_EXCL
 * makes the kernel refuse a disk that is mounted or held. */
static int wipe_disk(const char *devnode, uint64_t size) {
        _cleanup_close_ int fd = open(devnode, O_RDWR | O_CLOEXEC | O_EXCL);
        if (fd < 0)
                return -errno;
        _cleanup_(blkid_free_probep) blkid_probe pr = NULL;
        int r = signature_probe_new(fd, 0, &pr);
        if (r < 0)
                return r;
        for (int guard = 0; guard < 64 && blkid_do_probe(pr) == 0; guard++)
                if (blkid_do_wipe(pr, 0) < 0)
                        return -EIO;
        uint64_t edge = MIN(size, MiB);
        r = zero_range(fd, 0, edge);
        if (r >= 0 && size > edge)
                r = zero_range(fd, size - edge, edge);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        return r;
}

static int read_ptuuid(const struct plan_disk *pd, char **ret) {
        struct disk_info d = { .logical_sector_size = pd->sector_size };
        int r = disk_probe_signatures(pd->devnode, &d);
        if (r >= 0 && !d.ptuuid)
                r = -ENOMSG;
        if (r >= 0)
                *ret = TAKE_PTR(d.ptuuid);
        disk_info_done(&d);
        return r;
}

static int step_label(const struct plan_disk *pd, struct apply_context *c) {
        _cleanup_free_ char *step = strprintf("label:%s", pd->id);
        if (!step)
                return -ENOMEM;
        int r = step_begin(c, step, pd->wipe ? "wipe=yes" : NULL);
        if (r != 0)
                return r < 0 ? r : 0;

        r = wipe_disk(pd->devnode, pd->size);
        if (r < 0)
                return step_fail(c, step, r, "cannot wipe %s", pd->devnode);

        _cleanup_(ped_device_destroyp) PedDevice *dev = ped_device_get(pd->devnode);
        if (!dev)
                return step_fail(c, step, -EIO, "libparted cannot open %s (%s)", pd->devnode, strna(ped_last_message));
        const PedDiskType *gpt = ped_disk_type_get("gpt");
        _cleanup_(ped_disk_destroyp) PedDisk *disk = gpt ? ped_disk_new_fresh(dev, gpt) : NULL;
        if (!disk || !ped_disk_commit_to_dev(disk))
                return step_fail(c, step, -EIO, "cannot write a GPT to %s (%s)", pd->devnode, strna(ped_last_message));
        (void) ped_disk_commit_to_os(disk); /* the kernel re-reads it; loop devices here cannot */

        _cleanup_free_ char *ptuuid = NULL;
        r = read_ptuuid(pd, &ptuuid);
        if (r < 0)
                return step_fail(c, step, r, "the new GPT on %s does not read back", pd->devnode);
        _cleanup_free_ char *detail = strprintf("ptuuid=%s", ptuuid);
        r = detail ? journal_done(c->journal, step, detail) : -ENOMEM;
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");
        log_info("%s: new GPT %s", pd->devnode, ptuuid);
        return status_step(c->status, step, "done", NULL);
}

/* ---- partitions ------------------------------------------------------------------------------------------ */

static int set_part_type(PedPartition *part, enum part_type t) {
        PedPartitionFlag flag = 0;
        switch (t) {
        case PART_ESP: flag = PED_PARTITION_ESP; break;
        case PART_BIOS_BOOT: flag = PED_PARTITION_BIOS_GRUB; break;
        case PART_SWAP: flag = PED_PARTITION_SWAP; break;
        case PART_HOME: flag = PED_PARTITION_LINUX_HOME; break;
        case PART_LINUX: return 0; /* libparted's default for GPT */
        default: return -EOPNOTSUPP;
        }
        return ped_partition_set_flag(part, flag, 1) ? 0 : -EIO;
}

static bool type_supported(enum part_type t) {
        return t == PART_ESP || t == PART_BIOS_BOOT || t == PART_SWAP || t == PART_HOME || t == PART_LINUX;
}

static int step_part(const struct plan_disk *pd, const struct plan_part *pp, struct apply_context *c) {
        _cleanup_free_ char *step = strprintf("part:%s:%u", pd->id, pp->number);
        if (!step)
                return -ENOMEM;
        int r = step_begin(c, step, NULL);
        if (r != 0)
                return r < 0 ? r : 0;

        _cleanup_(ped_device_destroyp) PedDevice *dev = ped_device_get(pd->devnode);
        _cleanup_(ped_disk_destroyp) PedDisk *disk = dev ? ped_disk_new(dev) : NULL;
        if (!disk)
                return step_fail(c, step, -EIO, "cannot read the GPT of %s (%s)", pd->devnode, strna(ped_last_message));
        PedSector ss = dev->sector_size, s = (PedSector) (pp->start / ss), e = (PedSector) ((pp->start + pp->size) / ss) - 1;

        PedPartition *part = ped_disk_get_partition(disk, (int) pp->number);
        if (part) {
                /* started before a power loss: it is ours if it is exactly what we were writing */
                if (part->geom.start != s || part->geom.end != e)
                        return step_fail(c, step, -EEXIST, "partition %u on %s exists with another geometry", pp->number,
                                         pd->devnode);
        } else {
                const char *fsn = pp->fs == FS_XFS ? "xfs" : pp->fs == FS_EXT4 ? "ext4" : pp->fs == FS_SWAP ? "linux-swap"
                                : pp->fs == FS_VFAT ? "fat32" : NULL;
                const PedFileSystemType *fst = fsn ? ped_file_system_type_get(fsn) : NULL;
                part = ped_partition_new(disk, PED_PARTITION_NORMAL, fst, s, e);
                if (!part)
                        return step_fail(c, step, -EIO, "cannot make partition %u (%s)", pp->number, strna(ped_last_message));
                _cleanup_(ped_constraint_destroyp) PedConstraint *con = ped_constraint_exact(&part->geom);
                if (!con || !ped_disk_add_partition(disk, part, con)) {
                        ped_partition_destroy(part);
                        return step_fail(c, step, -EIO, "cannot add partition %u (%s)", pp->number, strna(ped_last_message));
                }
                if (part->num != (int) pp->number)
                        return step_fail(c, step, -EINVAL, "libparted numbered partition %u as %d", pp->number, part->num);
        }
        if (!ped_partition_set_name(part, pp->name))
                return step_fail(c, step, -EIO, "cannot name partition %u", pp->number);
        r = set_part_type(part, pp->type);
        if (r < 0)
                return step_fail(c, step, r, "cannot set the type of partition %u", pp->number);
        if (!ped_disk_commit_to_dev(disk))
                return step_fail(c, step, -EIO, "cannot write the GPT of %s (%s)", pd->devnode, strna(ped_last_message));
        (void) ped_disk_commit_to_os(disk);

        r = journal_done(c->journal, step, NULL);
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");
        return status_step(c->status, step, "done", NULL);
}

/* ---- filesystems ------------------------------------------------------------------------------------------- */

static int find_partuuid(const struct plan_disk *pd, unsigned number, char **ret) {
        struct disk_info d = { .logical_sector_size = pd->sector_size };
        int r = disk_probe_signatures(pd->devnode, &d);
        for (size_t i = 0; r >= 0 && i < d.n_parts; i++)
                if (d.parts[i].number == number && d.parts[i].partuuid) {
                        *ret = strdup(d.parts[i].partuuid);
                        disk_info_done(&d);
                        return *ret ? 0 : -ENOMEM;
                }
        disk_info_done(&d);
        return r < 0 ? r : -ENOENT;
}

static char *vfat_volid(const char *uuid) {
        /* the first 8 hex digits, which fstab and blkid show as XXXX-XXXX */
        char h[9] = {};
        for (size_t i = 0, k = 0; uuid[i] && k < 8; i++)
                if (uuid[i] != '-')
                        h[k++] = (char) toupper((unsigned char) uuid[i]);
        return strdup(h);
}

static int run_mkfs(enum fs_type fs, const char *node, const char *uuid, const char *label) {
        _cleanup_free_ char *lab = strndup(label, fs == FS_XFS ? 12 : fs == FS_VFAT ? 11 : 16);
        _cleanup_free_ char *muuid = strprintf("uuid=%s", uuid);
        _cleanup_free_ char *volid = vfat_volid(uuid);
        if (!lab || !muuid || !volid)
                return -ENOMEM;
        switch (fs) {
        case FS_XFS: {
                char *argv[] = { (char *) "mkfs.xfs", (char *) "-q", (char *) "-f", (char *) "-m", muuid,
                                 (char *) "-L", lab, (char *) node, NULL };
                return run_argv(argv);
        }
        case FS_EXT4: {
                char *argv[] = { (char *) "mkfs.ext4", (char *) "-q", (char *) "-F", (char *) "-U", (char *) uuid,
                                 (char *) "-L", lab, (char *) node, NULL };
                return run_argv(argv);
        }
        case FS_VFAT: {
                char *argv[] = { (char *) "mkfs.vfat", (char *) "-F", (char *) "32", (char *) "-i", volid,
                                 (char *) "-n", lab, (char *) node, NULL };
                return run_argv(argv);
        }
        case FS_SWAP: {
                char *argv[] = { (char *) "mkswap", (char *) "-U", (char *) uuid, (char *) "-L", lab, (char *) node, NULL };
                return run_argv(argv);
        }
        default:
                return -EOPNOTSUPP;
        }
}

static int step_mkfs(const struct plan_disk *pd, const struct disk_info *d, const struct plan_part *pp,
                     struct apply_context *c, char **ret_uuid) {
        _cleanup_free_ char *partuuid = NULL;
        int r = find_partuuid(pd, pp->number, &partuuid);
        if (r < 0)
                return step_fail(c, "mkfs", r, "partition %u of %s does not read back", pp->number, pd->devnode);
        _cleanup_free_ char *step = strprintf("mkfs:%s", partuuid);
        if (!step)
                return -ENOMEM;
        if (journal_is_done(c->journal, step)) {
                *ret_uuid = journal_get(c->journal, step, "uuid");
                (void) status_step(c->status, step, "skipped", "done in an earlier run");
                return *ret_uuid ? 0 : step_fail(c, step, -EBADMSG, "the journal has no uuid for it");
        }
        /* a mkfs interrupted by a power loss is redone with the UUID it was given, so fstab and any
         * earlier record stay true */
        _cleanup_free_ char *uuid = journal_get(c->journal, step, "uuid") ?: new_uuid();
        _cleanup_free_ char *detail = uuid ? strprintf("uuid=%s fs=%s dev=%s:%u", uuid, plan_fs_name(pp->fs), pd->id,
                                                       pp->number) : NULL;
        if (!detail)
                return -ENOMEM;
        r = journal_begin(c->journal, step, detail);
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");

        _cleanup_free_ char *node = NULL;
        _cleanup_close_ int hold = -1;
        udev_settle();
        r = open_partition(pd, d, pp, &node, &hold);
        if (r < 0)
                return step_fail(c, step, r, "no device node for partition %u of %s", pp->number, pd->devnode);
        r = run_mkfs(pp->fs, node, uuid, pp->label);
        if (r < 0)
                return step_fail(c, step, r, "mkfs.%s on %s failed", plan_fs_name(pp->fs), node);
        r = journal_done(c->journal, step, detail);
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");
        log_info("%s: %s on partition %u, UUID %s", pd->devnode, plan_fs_name(pp->fs), pp->number, uuid);
        *ret_uuid = TAKE_PTR(uuid);
        return status_step(c->status, step, "done", NULL);
}

/* ---- fstab and mounts --------------------------------------------------------------------------------------- */

struct mount_entry {
        const struct plan_disk *pd;
        const struct plan_part *pp;
        char *uuid;
};

static char *fstab_source(const struct mount_entry *m) {
        if (m->pp->fs == FS_VFAT) {
                _cleanup_free_ char *v = vfat_volid(m->uuid);
                return v ? strprintf("UUID=%.4s-%.4s", v, v + 4) : NULL;
        }
        return strprintf("UUID=%s", m->uuid);
}

static int step_fstab(struct mount_entry *m, size_t n, struct apply_context *c) {
        const char *step = "fstab";
        int r = step_begin(c, step, NULL);
        if (r != 0)
                return r < 0 ? r : 0;

        _cleanup_free_ char *old = NULL;
        r = read_file_full(c->root_fd, "etc/fstab", 1 << 20, &old, NULL);
        if (r < 0 && r != -ENOENT)
                return step_fail(c, step, r, "cannot read etc/fstab");

        /* keep every line that is not about one of our mount points or filesystems; add ours */
        struct buf b = {};
        char *save = NULL;
        for (char *line = old ? strtok_r(old, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
                _cleanup_strv_free_ char **w = NULL;
                bool ours = false;
                if (line[0] != '#' && strv_split(line, " \t", &w) >= 0 && strv_length(w) >= 2)
                        for (size_t i = 0; i < n; i++) {
                                _cleanup_free_ char *src = fstab_source(&m[i]);
                                if ((m[i].pp->mount && streq(w[1], m[i].pp->mount)) || (src && streq(w[0], src)))
                                        ours = true;
                        }
                if (!ours)
                        buf_printf(&b, "%s\n", line);
        }
        /* Every later boot mounts these from fstab, and systemd waits 90 s from the start of boot for
         * each device: in the rehearsal a loaded hypervisor's udev announced present data disks later
         * than that, and lab-db1 came back from a power cut in emergency mode. A disk that is really
         * gone still stops the boot, ten minutes later. Only the fstab line carries it: firstboot's
         * own mount(2) knows no x-systemd options. */
        const char *wait = "x-systemd.device-timeout=10min";
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *src = fstab_source(&m[i]);
                const char *o = m[i].pp->options;
                bool add = !strstr(o, "x-systemd.device-timeout");
                if (m[i].pp->fs == FS_SWAP)
                        buf_printf(&b, "%s none swap sw,%s 0 0\n", strna(src), wait);
                else
                        buf_printf(&b, "%s %s %s %s%s%s 0 %d\n", strna(src), m[i].pp->mount, plan_fs_name(m[i].pp->fs),
                                   o, add ? "," : "", add ? wait : "",
                                   m[i].pp->fs == FS_XFS ? 0 : streq(m[i].pp->mount, "/") ? 1 : 2);
        }
        size_t len = b.len;
        _cleanup_free_ char *data = buf_steal(&b);
        if (!data)
                return -ENOMEM;
        r = mkdir_parents_at(c->root_fd, "etc", 0755);
        if (r >= 0)
                r = write_file_atomic(c->root_fd, "etc/fstab", data, len, 0644);
        if (r < 0)
                return step_fail(c, step, r, "cannot write etc/fstab");
        r = journal_done(c->journal, step, NULL);
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");
        return status_step(c->status, step, "done", NULL);
}

static bool is_mounted_at(const char *target) {
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        if (!f)
                return false;
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
                _cleanup_strv_free_ char **w = NULL;
                if (strv_split(line, " ", &w) >= 0 && strv_length(w) > 4 && streq(w[4], target))
                        return true;
        }
        return false;
}

static int mount_flags(const char *options, unsigned long *ret_flags, char **ret_data) {
        static const struct {
                const char *name;
                unsigned long flag;
        } table[] = {
                { "noatime", MS_NOATIME }, { "nodiratime", MS_NODIRATIME }, { "relatime", MS_RELATIME },
                { "nosuid", MS_NOSUID }, { "nodev", MS_NODEV }, { "noexec", MS_NOEXEC }, { "ro", MS_RDONLY },
                { "sync", MS_SYNCHRONOUS },
        };
        _cleanup_strv_free_ char **w = NULL;
        int r = strv_split(options ? options : "defaults", ",", &w);
        if (r < 0)
                return r;
        unsigned long flags = 0;
        _cleanup_strv_free_ char **data = NULL;
        for (char **o = w; o && *o; o++) {
                if (streq(*o, "defaults") || streq(*o, "rw") || streq(*o, "auto") || streq(*o, "nofail"))
                        continue;
                size_t i;
                for (i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(*o, table[i].name)) {
                                flags |= table[i].flag;
                                break;
                        }
                if (i == ELEMENTSOF(table) && strv_extend(&data, *o) < 0)
                        return -ENOMEM;
        }
        *ret_data = data ? strv_join(data, ",") : NULL;
        *ret_flags = flags;
        return 0;
}

static int step_mount(const struct mount_entry *m, const struct disk_info *d, struct apply_context *c) {
        _cleanup_free_ char *step = strprintf("mount:%s", m->pp->mount);
        if (!step)
                return -ENOMEM;
        int r = step_begin(c, step, NULL);
        if (r != 0)
                return r < 0 ? r : 0;
        _cleanup_free_ char *target = streq(c->root, "/") ? strdup(m->pp->mount)
                                                          : strprintf("%s%s", c->root, m->pp->mount);
        if (!target)
                return -ENOMEM;
        r = mkdir_parents_at(AT_FDCWD, target, 0755);
        if (r < 0)
                return step_fail(c, step, r, "cannot make %s", target);
        if (!is_mounted_at(target)) {
                _cleanup_free_ char *node = NULL, *data = NULL;
                _cleanup_close_ int hold = -1;
                unsigned long flags = 0;
                r = mount_flags(m->pp->options, &flags, &data);
                if (r < 0)
                        return step_fail(c, step, r, "bad mount options '%s'", m->pp->options);
                r = open_partition(m->pd, d, m->pp, &node, &hold);
                if (r < 0)
                        return step_fail(c, step, r, "no device node for partition %u of %s", m->pp->number,
                                         m->pd->devnode);
                if (mount(node, target, plan_fs_name(m->pp->fs), flags, data) < 0)
                        return step_fail(c, step, -errno, "cannot mount %s on %s", node, target);
        }
        r = journal_done(c->journal, step, NULL);
        if (r < 0)
                return step_fail(c, step, r, "cannot write the journal");
        return status_step(c->status, step, "done", NULL);
}

/* ---- the OS disk: grow root ------------------------------------------------------------------------------- */

/* The partition table as it is on the disk now: a new libblkid probe of the device, not
 * libparted's copy in memory. */
static int read_part_size(const struct plan_disk *pd, unsigned partno, uint64_t *ret) {
        struct disk_info d = { .logical_sector_size = pd->sector_size };
        int r = disk_probe_signatures(pd->devnode, &d);
        if (r >= 0) {
                r = -ENOENT;
                for (size_t i = 0; i < d.n_parts; i++)
                        if (d.parts[i].number == partno) {
                                *ret = d.parts[i].size;
                                r = 0;
                        }
        }
        disk_info_done(&d);
        return r;
}

static int grow_partition(const struct plan_disk *pd, struct apply_context *c, const char *step) {
        _cleanup_(ped_device_destroyp) PedDevice *dev = ped_device_get(pd->devnode);
        ped_fix_gpt_end = true; /* ped_disk_new asks about the backup header's place */
        _cleanup_(ped_disk_destroyp) PedDisk *disk = dev ? ped_disk_new(dev) : NULL;
        ped_fix_gpt_end = false;
        PedPartition *part = disk ? ped_disk_get_partition(disk, (int) pd->grow_partno) : NULL;
        if (!part)
                return step_fail(c, step, -EIO, "cannot find partition %u of %s", pd->grow_partno, pd->devnode);
        PedSector end = part->geom.start + (PedSector) (pd->grow_to / dev->sector_size) - 1;
        _cleanup_(ped_constraint_destroyp) PedConstraint *con = ped_constraint_exact(
                        &(PedGeometry) { .dev = dev, .start = part->geom.start, .length = end - part->geom.start + 1,
                                         .end = end });
        if (!con || !ped_disk_set_partition_geom(disk, part, con, part->geom.start, end))
                return step_fail(c, step, -EIO, "cannot grow partition %u to sector %lld (%s)", pd->grow_partno,
                                 (long long) end, strna(ped_last_message));
        /* libparted writes both headers and fsyncs the disk */
        if (!ped_disk_commit_to_dev(disk))
                return step_fail(c, step, -EIO, "cannot write the GPT of %s (%s)", pd->devnode, strna(ped_last_message));
        /* the kernel learns the new size of the mounted partition through BLKPG_RESIZE_PARTITION */
        if (!ped_disk_commit_to_os(disk))
                return step_fail(c, step, -EIO, "the kernel did not take the new size (%s)", strna(ped_last_message));
        uint64_t size = 0;
        int r = read_part_size(pd, pd->grow_partno, &size);
        if (r < 0)
                return step_fail(c, step, r, "the GPT of %s does not read back", pd->devnode);
        if (size != pd->grow_to)
                return step_fail(c, step, -EIO, "partition %u of %s reads back as %" PRIu64 " bytes, not %" PRIu64,
                                 pd->grow_partno, pd->devnode, size, pd->grow_to);
        return 0;
}

static int step_grow(const struct plan_disk *pd, struct apply_context *c) {
        _cleanup_free_ char *step = strprintf("grow:%s:%u", pd->id, pd->grow_partno);
        if (!step)
                return -ENOMEM;
        int r;
        if (!journal_is_done(c->journal, step)) {
                r = journal_begin(c->journal, step, NULL);
                if (r < 0)
                        return step_fail(c, step, r, "cannot write the journal");
                r = grow_partition(pd, c, step);
                if (r < 0)
                        return r;
                r = journal_done(c->journal, step, NULL);
                if (r < 0)
                        return step_fail(c, step, r, "cannot write the journal");
                (void) status_step(c->status, step, "done", NULL);
        }

        _cleanup_free_ char *fstep = strprintf("growfs:%s:%u", pd->id, pd->grow_partno);
        if (!fstep)
                return -ENOMEM;
        if (journal_is_done(c->journal, fstep))
                return 0;
        r = journal_begin(c->journal, fstep, NULL);
        if (r < 0)
                return step_fail(c, fstep, r, "cannot write the journal");
        _cleanup_free_ char *node = part_node(pd->devnode, pd->grow_partno);
        if (!node)
                return -ENOMEM;
        udev_settle();
        if (streq(pd->grow_fs, "xfs")) {
                char *argv[] = { (char *) "xfs_growfs", (char *) "/", NULL };
                r = run_argv(argv);
        } else {
                char *argv[] = { (char *) "resize2fs", node, NULL };
                r = run_argv(argv);
        }
        if (r < 0)
                return step_fail(c, fstep, r, "growing the %s root filesystem failed", pd->grow_fs);
        r = journal_done(c->journal, fstep, NULL);
        if (r < 0)
                return step_fail(c, fstep, r, "cannot write the journal");
        return status_step(c->status, fstep, "done", NULL);
}

/* ---- the whole plan ----------------------------------------------------------------------------------------- */

static int cmp_mount_depth(const void *a, const void *b) {
        const struct mount_entry *x = a, *y = b;
        return strcmp(x->pp->mount, y->pp->mount); /* a parent sorts before its children */
}

int disk_apply(const struct disk_plan *p, const struct disk_set *s, struct apply_context *c) {
        if (!disk_plan_ok(p))
                return -EINVAL;
        /* an installer's plan: its OS disk receives the image, its data disks wait for the reboot */
        for (size_t i = 0; i < p->n_disks; i++)
                if (p->disks[i].mode == PLAN_DISK_IMAGE)
                        return -EINVAL;
        ped_exception_set_handler(ped_handler);

        /* refuse what libparted cannot write before anything is written */
        for (size_t i = 0; i < p->n_disks; i++)
                for (size_t k = 0; p->disks[i].mode == PLAN_DISK_PARTITION && k < p->disks[i].n_parts; k++)
                        if (!type_supported(p->disks[i].parts[k].type))
                                return step_fail(c, "plan", -EOPNOTSUPP, "partition type %s cannot be written here",
                                                 plan_part_type_name(p->disks[i].parts[k].type));

        struct mount_entry *mounts = NULL;
        size_t n_mounts = 0;
        int r = 0;
        for (size_t i = 0; r >= 0 && i < p->n_disks; i++) {
                const struct plan_disk *pd = &p->disks[i];
                const struct disk_info *d = &s->disks[pd->disk];
                if (pd->mode == PLAN_DISK_GROW_ROOT) {
                        r = step_grow(pd, c);
                        continue;
                }
                if (pd->mode != PLAN_DISK_PARTITION)
                        continue;
                r = step_label(pd, c);
                for (size_t k = 0; r >= 0 && k < pd->n_parts; k++)
                        r = step_part(pd, &pd->parts[k], c);
                if (r >= 0)
                        udev_settle();
                for (size_t k = 0; r >= 0 && k < pd->n_parts; k++) {
                        const struct plan_part *pp = &pd->parts[k];
                        if (pp->fs == FS_NONE)
                                continue;
                        char *uuid = NULL;
                        r = step_mkfs(pd, d, pp, c, &uuid);
                        if (r < 0)
                                break;
                        struct mount_entry *n = realloc(mounts, (n_mounts + 1) * sizeof *n);
                        if (!n) {
                                free(uuid);
                                r = -ENOMEM;
                                break;
                        }
                        mounts = n;
                        mounts[n_mounts++] = (struct mount_entry) { .pd = pd, .pp = pp, .uuid = uuid };
                }
                if (r >= 0) {
                        _cleanup_free_ char *step = strprintf("disk:%s", pd->id);
                        r = step ? (journal_is_done(c->journal, step) ? 0 : journal_done(c->journal, step, NULL)) : -ENOMEM;
                        if (r < 0)
                                r = step_fail(c, "journal", r, "cannot write the journal");
                }
        }
        if (r >= 0 && n_mounts > 0)
                r = step_fstab(mounts, n_mounts, c);
        if (r >= 0 && !c->no_mount) {
                qsort(mounts, n_mounts, sizeof *mounts, cmp_mount_depth);
                for (size_t i = 0; r >= 0 && i < n_mounts; i++)
                        if (mounts[i].pp->mount && mounts[i].pp->fs != FS_SWAP)
                                r = step_mount(&mounts[i], &s->disks[mounts[i].pd->disk], c);
        }
        for (size_t i = 0; i < n_mounts; i++)
                free(mounts[i].uuid);
        free(mounts);
        return r;
}

int disk_verify(const struct disk_plan *p, const struct disk_set *s, char ***ret_problems) {
        _cleanup_strv_free_ char **problems = NULL;
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct plan_disk *pd = &p->disks[i];
                if (pd->mode != PLAN_DISK_PARTITION)
                        continue;
                struct disk_info d = { .logical_sector_size = pd->sector_size };
                int r = disk_probe_signatures(pd->devnode, &d);
                char *msg = NULL;
                if (r < 0)
                        msg = strprintf("%s: cannot read back: %s", pd->devnode, strerror(-r));
                else if (!d.pttype || !streq(d.pttype, "gpt"))
                        msg = strprintf("%s: label is %s, planned gpt", pd->devnode, strna(d.pttype));
                else if (d.n_parts != pd->n_parts)
                        msg = strprintf("%s: %zu partitions, planned %zu", pd->devnode, d.n_parts, pd->n_parts);
                for (size_t k = 0; !msg && k < pd->n_parts; k++) {
                        const struct plan_part *pp = &pd->parts[k];
                        const struct disk_part *dp = &d.parts[k];
                        const char *want_fs = pp->fs == FS_NONE ? NULL : plan_fs_name(pp->fs);
                        if (dp->number != pp->number || dp->start != pp->start || dp->size != pp->size)
                                msg = strprintf("%s: partition %u is at %" PRIu64 "+%" PRIu64 ", planned %" PRIu64 "+%" PRIu64,
                                                pd->devnode, dp->number, dp->start, dp->size, pp->start, pp->size);
                        else if (!dp->type_guid || strcasecmp(dp->type_guid, pp->type_guid) != 0)
                                msg = strprintf("%s: partition %u has type %s, planned %s", pd->devnode, dp->number,
                                                strna(dp->type_guid), pp->type_guid);
                        else if (!dp->name || !streq(dp->name, pp->name))
                                msg = strprintf("%s: partition %u is named %s, planned %s", pd->devnode, dp->number,
                                                strna(dp->name), pp->name);
                        else if (want_fs && (!dp->fstype || !streq(dp->fstype, want_fs)))
                                msg = strprintf("%s: partition %u holds %s, planned %s", pd->devnode, dp->number,
                                                strna(dp->fstype), want_fs);
                }
                disk_info_done(&d);
                if (msg && strv_push(&problems, msg) < 0)
                        return -ENOMEM;
        }
        *ret_problems = TAKE_PTR(problems);
        return 0;
}

int storage_claims_from_journal(const struct journal *j, struct storage_claim **ret, size_t *ret_n) {
        struct storage_claim *claims = NULL;
        size_t n = 0;
        _cleanup_strv_free_ char **seen = NULL;
        for (size_t i = 0; i < j->n; i++) {
                const char *step = j->recs[i].step;
                if (!startswith(step, "label:") || strv_contains(seen, step))
                        continue;
                if (strv_extend(&seen, step) < 0)
                        goto oom;
                struct storage_claim *nc = realloc(claims, (n + 1) * sizeof *nc);
                if (!nc)
                        goto oom;
                claims = nc;
                _cleanup_free_ char *dstep = strprintf("disk:%s", step + 6);
                claims[n] = (struct storage_claim) {
                        .disk_id = strdup(step + 6),
                        .ptuuid = journal_is_done(j, step) ? journal_get(j, step, "ptuuid") : NULL,
                        .finished = dstep && journal_is_done(j, dstep),
                };
                n++;
                if (!claims[n - 1].disk_id)
                        goto oom;
        }
        *ret = claims;
        *ret_n = n;
        return 0;
oom:
        storage_claims_free(claims, n);
        return -ENOMEM;
}

void storage_claims_free(struct storage_claim *c, size_t n) {
        for (size_t i = 0; c && i < n; i++) {
                free(c[i].disk_id);
                free(c[i].ptuuid);
        }
        free(c);
}
