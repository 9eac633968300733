/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "cleanup.h"
#include "fileio.h"
#include "hygiene.h"
#include "layer-tree.h"
#include "image.h"
#include "installer.h"
#include "layer.h"
#include "media.h"
#include "log.h"
#include "mirror.h"
#include "outputs.h"
#include "parse.h"
#include "commands.h"
#include "ed25519.h"
#include "profile.h"
#include "pin.h"
#include "progress.h"
#include "proxmox.h"
#include "repro.h"
#include "rootfs.h"
#include "spawn-run.h"
#include "util.h"
#include "verify.h"
#include "validate-ks.h"
#include "vendor-stage.h"

uint64_t build_image_size(uint64_t tree_bytes) {
        /* Room for what firstboot and the first package updates add before root is grown to the
         * disk, plus the ESP, the BIOS boot partition, GPT and filesystem overhead. */
        uint64_t size = tree_bytes + tree_bytes * 3 / 10 + 600 * MiB;
        size = (size + 256 * MiB - 1) / (256 * MiB) * (256 * MiB);
        return MAX(size, 2 * GiB);
}

int build_parse_formats(const char *s, unsigned *ret) {
        static const struct {
                const char *name;
                unsigned flag;
        } table[] = {
                { "raw", BUILD_FORMAT_RAW },   { "qcow2", BUILD_FORMAT_QCOW2 }, { "iso", BUILD_FORMAT_ISO },
                { "pxe", BUILD_FORMAT_PXE },   { "proxmox", BUILD_FORMAT_PROXMOX },
        };
        _cleanup_strv_free_ char **l = NULL;
        if (strv_split(s, ",", &l) < 0)
                return -ENOMEM;
        unsigned mask = 0;
        for (char **f = l; *f; f++) {
                unsigned flag = 0;
                for (size_t i = 0; i < ELEMENTSOF(table); i++)
                        if (streq(*f, table[i].name))
                                flag = table[i].flag;
                if (!flag)
                        return -EINVAL;
                mask |= flag;
        }
        if (!mask)
                return -EINVAL;
        *ret = mask;
        return 0;
}

int build_check_pxe_url(const char *url) {
        if (!url)
                return 0;
        if (!startswith(url, "http://") || strlen(url) <= strlen("http://") || endswith(url, "/"))
                return -EINVAL;
        for (const char *c = url; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f || strchr("\"'`\\@;$<>|&{}", *c))
                        return -EINVAL;
        return 0;
}

/* Host tools, each with the Debian package that provides it, checked before anything starts. */
struct tool_need {
        const char *tool, *package;
        unsigned formats; /* 0 = always */
};
static const struct tool_need tool_needs[] = {
        { "mmdebstrap", "mmdebstrap", 0 },
        { "dpkg-query", "dpkg", 0 },
        { "mke2fs", "e2fsprogs", 0 },
        { "mkfs.vfat", "dosfstools", 0 },
        { "mcopy", "mtools", 0 },
        { "grub-mkimage", "grub-common", 0 },
        { "qemu-img", "qemu-utils", BUILD_FORMAT_QCOW2 },
        { "zstd", "zstd", BUILD_FORMAT_ISO | BUILD_FORMAT_PXE },
        { "mksquashfs", "squashfs-tools", BUILD_FORMAT_ISO | BUILD_FORMAT_PXE },
        { "/bin/busybox", "busybox-static", BUILD_FORMAT_ISO | BUILD_FORMAT_PXE },
        { "xorriso", "xorriso", BUILD_FORMAT_ISO },
        { "/usr/lib/grub/x86_64-efi/linux.mod", "grub-efi-amd64-bin", BUILD_FORMAT_ISO | BUILD_FORMAT_PXE },
        { "/usr/lib/ISOLINUX/isohdpfx.bin", "isolinux", BUILD_FORMAT_ISO },
        { "/usr/lib/syslinux/modules/bios/ldlinux.c32", "syslinux-common", BUILD_FORMAT_ISO | BUILD_FORMAT_PXE },
        { "/usr/lib/PXELINUX/pxelinux.0", "pxelinux", BUILD_FORMAT_PXE },
};

static int check_tools(unsigned formats) {
        struct buf missing = {}, pkgs = {};
        for (size_t i = 0; i < ELEMENTSOF(tool_needs); i++) {
                if (tool_needs[i].formats && !(tool_needs[i].formats & formats))
                        continue;
                /* Absolute names are data files (boot loaders), the others programs on PATH. */
                if (tool_needs[i].tool[0] == '/' ? access(tool_needs[i].tool, R_OK) == 0
                                                 : find_executable(tool_needs[i].tool))
                        continue;
                buf_printf(&missing, "\n  %s (package %s)", tool_needs[i].tool, tool_needs[i].package);
                buf_printf(&pkgs, " %s", tool_needs[i].package);
        }
        if (!missing.data)
                return 0;
        int r = log_error_errno(-ENOENT, "Missing host tools:%s\nInstall them with: apt-get install%s", missing.data,
                                pkgs.data);
        buf_done(&missing);
        buf_done(&pkgs);
        return r;
}

static char *exe_dir(void) {
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        if (!exe)
                return NULL;
        return strdup(dirname(exe));
}

static void usage(FILE *f) {
        fputs("usage: rackstack-build build ROLE [--base ubuntu-24.04|debian-12] [--mirror URL]\n"
              "                                [--format raw,qcow2,iso,pxe,proxmox] [--out DIR] [--cache DIR] [--json]\n"
              "                                [--profiles DIR] [--firstboot PATH] [--verbose]\n"
              "                                [--sign PREFIX.key] [--check-reproducible] [--pin-from MANIFEST]\n"
              "                                [--ks FILE] [--pxe-url URL] [--mirror FROM=TO]... [--defer-vendor]\n"
              "\n"
              "Builds the role's OS disk image into DIR/<host>/ (default ./out): <host>.raw, <host>.qcow2,\n"
              "<host>.iso (installer: CD or USB stick, BIOS and UEFI), pxe/ (network installer),\n"
              "manifest.json, SHA256SUMS. The mirror is --mirror, else $RACKSTACK_MIRROR, else the build\n"
              "host's apt source when it runs the same release, else the official archive. --ks puts a\n"
              "kickstart on the ISO and in the PXE set; --pxe-url is where the PXE set's files are served\n"
              "over HTTP (default http://next-server/rackstack/<host>: the DHCP boot server).\n"
              "Vendor services (source apt or oci) are fetched, verified and put in the image; --mirror\n"
              "FROM=TO (repeatable; before site.yaml's mirrors:) maps a vendor registry or repository to a\n"
              "mirror, --defer-vendor leaves them all to first boot (recorded \"deferred\").\n"
              "--sign writes SHA256SUMS.sig and bakes PREFIX.pub into the image as " SIGNING_PUB_IN_IMAGE ".\n",
              f);
}

struct build_opts {
        const char *role, *base, *mirror, *formats, *out, *cache, *profiles, *firstboot, *sign, *pin_from, *ks,
                *pxe_url;
        char **vendor_maps; /* --mirror FROM=TO */
        bool json, verbose, check_reproducible, defer_vendor;
};

static int parse_args(int argc, char **argv, struct build_opts *ret) {
        enum { ARG_BASE = 0x100, ARG_MIRROR, ARG_FORMAT, ARG_OUT, ARG_CACHE, ARG_JSON, ARG_PROFILES, ARG_FIRSTBOOT, ARG_SIGN,
               ARG_CHECK_REPRODUCIBLE, ARG_PIN_FROM, ARG_KS, ARG_PXE_URL, ARG_DEFER_VENDOR };
        static const struct option options[] = {
                { "base", required_argument, NULL, ARG_BASE },
                { "mirror", required_argument, NULL, ARG_MIRROR },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "out", required_argument, NULL, ARG_OUT },
                { "cache", required_argument, NULL, ARG_CACHE },
                { "json", no_argument, NULL, ARG_JSON },
                { "profiles", required_argument, NULL, ARG_PROFILES },
                { "firstboot", required_argument, NULL, ARG_FIRSTBOOT },
                { "sign", required_argument, NULL, ARG_SIGN },
                { "check-reproducible", no_argument, NULL, ARG_CHECK_REPRODUCIBLE },
                { "pin-from", required_argument, NULL, ARG_PIN_FROM },
                { "ks", required_argument, NULL, ARG_KS },
                { "pxe-url", required_argument, NULL, ARG_PXE_URL },
                { "defer-vendor", no_argument, NULL, ARG_DEFER_VENDOR },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        struct build_opts o = { .base = "ubuntu-24.04", .formats = BUILD_FORMATS_DEFAULT, .out = "out" };
        optind = 0;
        opterr = 0;
        int c;
        while ((c = getopt_long(argc, argv, "vh", options, NULL)) >= 0) {
                switch (c) {
                case ARG_BASE: o.base = optarg; break;
                case ARG_MIRROR:
                        /* FROM=TO maps a vendor source; a plain URL is the distribution's archive. */
                        if (strchr(optarg, '=')) {
                                if (strv_extend(&o.vendor_maps, optarg) < 0)
                                        return -ENOMEM;
                        } else
                                o.mirror = optarg;
                        break;
                case ARG_DEFER_VENDOR: o.defer_vendor = true; break;
                case ARG_FORMAT: o.formats = optarg; break;
                case ARG_OUT: o.out = optarg; break;
                case ARG_CACHE: o.cache = optarg; break;
                case ARG_JSON: o.json = true; break;
                case ARG_PROFILES: o.profiles = optarg; break;
                case ARG_FIRSTBOOT: o.firstboot = optarg; break;
                case ARG_SIGN: o.sign = optarg; break;
                case ARG_CHECK_REPRODUCIBLE: o.check_reproducible = true; break;
                case ARG_PIN_FROM: o.pin_from = optarg; break;
                case ARG_KS: o.ks = optarg; break;
                case ARG_PXE_URL: o.pxe_url = optarg; break;
                case 'v': o.verbose = true; break;
                case 'h':
                        usage(stdout);
                        return 1;
                default:
                        usage(stderr);
                        return log_error_errno(-EINVAL, "build: unknown option or missing argument: %s",
                                               argv[optind - 1]);
                }
        }
        if (optind != argc - 1) {
                usage(stderr);
                return log_error_errno(-EINVAL, "build: expected exactly one ROLE");
        }
        o.role = argv[optind];
        *ret = o;
        return 0;
}

/* The role profile (inheritance resolved, validated), the site, and the site's host for the role. */
static int load_inputs(const char *profiles_dir, const char *role, struct profile **ret_p, struct site **ret_s,
                       const struct host_spec **ret_h) {
        _cleanup_free_ char *site_path = strprintf("%s/site.yaml", profiles_dir);
        _cleanup_free_ char *role_path = strprintf("%s/%s.yaml", profiles_dir, role);
        if (!site_path || !role_path)
                return -ENOMEM;
        if (access(role_path, R_OK) < 0) {
                struct buf names = {};
                for (size_t i = 0; i < n_role_names; i++)
                        buf_printf(&names, "%s%s", i ? " " : "", role_names[i]);
                _cleanup_free_ char *list = buf_steal(&names);
                return log_error_errno(-EINVAL, "Unknown role '%s': there is no %s (roles: %s)", role, role_path,
                                       strna(list));
        }
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        int r = profile_load(profiles_dir, role, &d, &p);
        if (r >= 0)
                r = site_load_file(site_path, &d, &s);
        if (r >= 0) {
                profile_check_site(p, s, &d);
                if (diags_failed(&d))
                        r = -EINVAL;
        }
        diags_print(&d, stderr);
        diags_done(&d);
        if (r < 0)
                return r == -ENOMEM ? log_error_errno(r, "Out of memory") : -EINVAL;
        const struct host_spec *h = site_find_host_by_role(s, role);
        if (!h)
                return log_error_errno(-EINVAL, "%s has no host with role '%s'", site_path, role);
        *ret_p = TAKE_PTR(p);
        *ret_s = TAKE_PTR(s);
        *ret_h = h;
        return 0;
}

static void free_inputs(struct profile *p, struct site *s) {
        profile_free(p);
        site_free(s);
}

/* Sum of the apparent sizes in a tree (what has to fit in the root filesystem). */
static int tree_size(int dirfd, uint64_t *acc, unsigned depth) {
        if (depth > 256)
                return -ELOOP;
        _cleanup_closedir_ DIR *d = NULL;
        int r_dir = opendir_dup(dirfd, &d);
        if (r_dir < 0)
                return r_dir;
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return -errno;
                /* Count 4 KiB per inode for metadata, directories and tiny files. */
                *acc += (uint64_t) st.st_size + 4096;
                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
                        if (sub < 0)
                                return -errno;
                        int r = tree_size(sub, acc, depth + 1);
                        if (r < 0)
                                return r;
                }
        }
        return errno ? -errno : 0;
}

/* Work directories of builds that died without cleaning up (SIGKILL, power loss) hold a whole
 * tree each. A live build holds an flock on its work dir's .lock; whatever can be locked is stale. */
static void clean_stale_work(const char *workroot) {
        _cleanup_closedir_ DIR *d = opendir(workroot);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *path = strprintf("%s/%s", workroot, de->d_name);
                _cleanup_free_ char *lock = strprintf("%s/%s/.lock", workroot, de->d_name);
                if (!path || !lock)
                        return;
                _cleanup_close_ int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                if (fd < 0) {
                        /* No lock yet: a build between mkdtemp() and taking its lock, or one from
                         * before locks; only an old one is stale. */
                        struct stat st;
                        if (errno != ENOENT || stat(path, &st) < 0 || time(NULL) - st.st_mtime < 3600)
                                continue;
                } else if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue; /* a live build */
                stage_note("build", "removing the work directory of an interrupted build: %s", path);
                (void) remove_tree(path);
        }
}

/* Outputs are written into unnamed files in the output directory (O_TMPFILE), which the tools reach
 * by our /proc/PID/fd/N path, and linked into place together at the end. Killed at any point,
 * even by SIGKILL, the build leaves nothing there: the kernel frees an unlinked file with its last
 * fd. Where the filesystem has no O_TMPFILE, "<final>.tmp.<pid>" files are used instead, and
 * removed on failure or interrupt (not after SIGKILL). */
struct pending {
        char *tmp, *final;
        int fd; /* the O_TMPFILE fd, or -1 for a named temporary */
};

static void pending_drop(struct pending *p, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (p[i].fd >= 0)
                        close(p[i].fd);
                else if (p[i].tmp)
                        (void) unlink(p[i].tmp);
                free(p[i].tmp);
                free(p[i].final);
        }
}

static int pending_add(struct pending **p, size_t *n, const char *dir, const char *name, char **ret_tmp) {
        struct pending *m = realloc(*p, (*n + 1) * sizeof **p);
        if (!m)
                return -ENOMEM;
        *p = m;
        int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
                return log_error_errno(-errno, "Failed to create a file in %s: %m", dir);
        m[*n] = (struct pending) {
                .final = strprintf("%s/%s", dir, name),
                .tmp = fd >= 0 ? strprintf("/proc/%d/fd/%d", (int) getpid(), fd)
                               : strprintf("%s/%s.tmp.%d", dir, name, (int) getpid()),
                .fd = fd,
        };
        if (!m[*n].final || !m[*n].tmp) {
                free(m[*n].final);
                free(m[*n].tmp);
                if (fd >= 0)
                        close(fd);
                return -ENOMEM;
        }
        *ret_tmp = m[*n].tmp;
        (*n)++;
        return 0;
}

/* Give a pending file its final name: link the unnamed file in under a temporary name, then
 * rename it over the final one (linkat cannot replace a file). */
static int pending_publish(struct pending *p) {
        if (p->fd < 0)
                return publish_tmpfile(p->tmp, p->final);
        if (fsync(p->fd) < 0)
                return -errno;
        _cleanup_free_ char *named = strprintf("%s.tmp.%d", p->final, (int) getpid());
        if (!named)
                return -ENOMEM;
        (void) unlink(named);
        if (linkat(AT_FDCWD, p->tmp, AT_FDCWD, named, AT_SYMLINK_FOLLOW) < 0)
                return -errno;
        if (rename(named, p->final) < 0) {
                int r = -errno;
                (void) unlink(named);
                return r;
        }
        close(p->fd);
        p->fd = -1;
        free(p->tmp);
        p->tmp = NULL;
        return fsync_parent_dir(AT_FDCWD, p->final);
}

/* An output whose sha256 is known already (hex: taken over). */
static int add_artifact_hashed(struct manifest *m, const char *name, char *hex, uint64_t size) {
        struct artifact *a = realloc(m->artifacts, (m->n_artifacts + 1) * sizeof *a);
        if (!a) {
                free(hex);
                return -ENOMEM;
        }
        m->artifacts = a;
        a[m->n_artifacts] = (struct artifact) { .name = strdup(name), .size = size, .sha256 = hex };
        if (!a[m->n_artifacts].name) {
                free(hex);
                return -ENOMEM;
        }
        m->n_artifacts++;
        return 0;
}

static int add_artifact(struct manifest *m, const char *name, const char *path) {
        _cleanup_free_ char *hex = NULL;
        uint64_t size = 0;
        _cleanup_free_ char *what = strprintf("sha256 %s", name);
        int r = sha256_file(path, what, &hex, &size);
        if (r < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to hash %s: %m", path);
        return add_artifact_hashed(m, name, TAKE_PTR(hex), size);
}

static int write_tmp_data(const char *tmp, const void *data, size_t len) {
        const char *text = data;
        /* A pending output is reached through its /proc/PID/fd/N link, which O_NOFOLLOW would refuse. */
        int nofollow = startswith(tmp, "/proc/") ? 0 : O_NOFOLLOW;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | nofollow, 0644);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < len; ) {
                ssize_t n = write(fd, text + off, len - off);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                off += n;
        }
        return RET_NERRNO(fsync(fd));
}

static int write_tmp_text(const char *tmp, const char *text) {
        return write_tmp_data(tmp, text, strlen(text));
}

/* A tool that ran out of room says so in its own words (mke2fs: "Could not allocate block", qemu-img:
 * "error while writing"): name the cause once, in ours. Called while the failed output's blocks are
 * still held, so a full filesystem still looks full. */
static void explain_full_disk(const char *dir) {
        struct statvfs sv;
        if (statvfs(dir, &sv) < 0)
                return;
        uint64_t avail = (uint64_t) sv.f_bavail * sv.f_frsize;
        if (avail < 64 * MiB)
                log_error("The filesystem of %s is full (%.1f MiB free): No space left on device. Free some space "
                          "or choose another --out.", dir, avail / 1048576.0);
}

/* The public half of --sign's key goes into the image, where the installer looks for it. */
static int signing_pub_install(struct build_ctx *ctx, struct manifest *m) {
        _cleanup_close_ int fd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s: %m", ctx->tree_dir);
        int r = copy_file_into(ctx->sign_pub, fd, SIGNING_PUB_IN_IMAGE + 1, 0644);
        if (r >= 0)
                r = manifest_add_input(m, "signing-key", ctx->sign_pub);
        if (r < 0)
                return log_error_errno(r, "Failed to install %s as %s: %m", ctx->sign_pub, SIGNING_PUB_IN_IMAGE);
        return 0;
}

/* out/<host>/proxmox/: the qcow2 (a hard link of the pending one), <host>.conf and import.sh, each
 * pending and listed in SHA256SUMS as proxmox/NAME. */
/* Outputs that cannot be unnamed files are staged as NAME.tmp.PID (outputs on a filesystem without
 * O_TMPFILE; the PXE directory when the work directory is on another filesystem) and a replaced
 * PXE directory is NAME.old.PID for a moment: a build killed with SIGKILL leaves them, and the next
 * build removes those of processes that are gone. */
static void remove_dead_staging(const char *out_dir) {
        _cleanup_closedir_ DIR *d = opendir(out_dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                const char *t = strstr(de->d_name, ".tmp.") ?: strstr(de->d_name, ".old.");
                uint32_t pid;
                if (!t || parse_uint32_range(t + 5, 1, INT32_MAX, &pid) < 0)
                        continue;
                if (kill((pid_t) pid, 0) == 0 || errno != ESRCH)
                        continue;
                _cleanup_free_ char *path = strprintf("%s/%s", out_dir, de->d_name);
                if (!path)
                        return;
                stage_note("outputs", "removing %s, left by a build that was killed", path);
                (void) remove_tree(path);
        }
}

static int proxmox_outputs(struct build_ctx *ctx, struct manifest *m, struct pending **pend, size_t *n_pend,
                           const char *qcow_tmp) {
        _cleanup_(proxmox_plan_done) struct proxmox_plan plan = {};
        int r = proxmox_plan_build(ctx->profile, ctx->host, &plan);
        if (r < 0)
                return log_error_errno(r, "Cannot describe the %s VM for Proxmox (hardware cores/ram, an OS disk): %m",
                                       ctx->host->name);
        _cleanup_free_ char *dir = strprintf("%s/proxmox", ctx->out_dir);
        _cleanup_free_ char *conf_name = strprintf("%s.conf", ctx->host->name);
        _cleanup_free_ char *conf = proxmox_conf_render(&plan), *script = proxmox_import_render(&plan);
        if (!dir || !conf_name || !conf || !script)
                return -ENOMEM;
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return log_error_errno(-errno, "Failed to create %s: %m", dir);
        stage_start("proxmox", NULL);
        const struct { const char *name, *text; } files[] = {
                { plan.qcow2, NULL }, { conf_name, conf }, { "import.sh", script },
        };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                char *tmp;
                _cleanup_free_ char *listed = strprintf("proxmox/%s", files[i].name);
                if (!listed)
                        return -ENOMEM;
                r = pending_add(pend, n_pend, dir, files[i].name, &tmp);
                if (r < 0)
                        return r;
                if (!files[i].text) {
                        /* the same bytes as the qcow2 next to it: a link, a copy across filesystems */
                        if (link(qcow_tmp, tmp) < 0) {
                                const char *cp[] = { "cp", "--reflink=auto", "--", qcow_tmp, tmp, NULL };
                                r = spawn_run(cp, NULL, NULL, NULL);
                                if (r != 0)
                                        return log_error_errno(r < 0 ? r : -EIO, "Failed to copy the qcow2 to %s", tmp);
                        }
                } else if ((r = write_tmp_text(tmp, files[i].text)) < 0)
                        return log_error_errno(r, "Failed to write %s: %m", tmp);
                if (streq(files[i].name, "import.sh") && chmod(tmp, 0755) < 0)
                        return log_error_errno(-errno, "Failed to chmod %s: %m", tmp);
                r = add_artifact(m, listed, tmp);
                if (r < 0)
                        return r;
        }
        stage_done("proxmox", 0, "proxmox/: %s, %s, import.sh (VMID %u, %u cores, %u MiB, %zu data disks)", plan.qcow2,
                   conf_name, plan.vmid, plan.cores, (unsigned) (plan.memory / MiB), plan.n_disks);
        return 0;
}

/* Replace directory `final` by `tmp`: the old one is moved aside and removed after the rename. */
static int publish_dir(const char *tmp, const char *final) {
        _cleanup_free_ char *old = strprintf("%s.old.%d", final, (int) getpid());
        if (!old)
                return -ENOMEM;
        bool moved = rename(final, old) == 0;
        if (!moved && errno != ENOENT)
                return -errno;
        if (rename(tmp, final) < 0) {
                int r = -errno;
                if (moved)
                        (void) rename(old, final);
                return r;
        }
        if (moved)
                (void) remove_tree(old);
        return 0;
}

/* Everything after the role layer: overlays, firstboot, hygiene, the disk image and the outputs. */
static int build_run(struct build_ctx *ctx, const char *unit_path, int *remover) {
        _cleanup_(manifest_done) struct manifest m = {
                .tool_version = RACKSTACK_VERSION,
                .role = ctx->profile->role,
                .host = ctx->host->name,
                .base = ctx->base->name,
                .suite = ctx->base->suite,
                .mirror = ctx->mirror,
                .source_date_epoch = ctx->source_date_epoch,
                .profile = ctx->profile,
        };
        struct pending *pend = NULL;
        size_t n_pend = 0;
        struct image_layout layout = {};
        bool have_layout = false;
        _cleanup_(installer_env_done) struct installer_env env = {};
        _cleanup_(media_source_done) struct media_source src = {};
        _cleanup_free_ char *iso_name = NULL, *pxe_tmp = NULL, *pxe_final = NULL;
        _cleanup_strv_free_ char **pxe_files = NULL;
        char *iso_tmp = NULL;
        bool media = ctx->formats & (BUILD_FORMAT_ISO | BUILD_FORMAT_PXE);
        _cleanup_close_ int treefd = -EBADF;
        _cleanup_free_ char *raw_name = NULL, *qcow_name = NULL, *json = NULL, *sums = NULL;
        char *raw_tmp = NULL, *qcow_tmp = NULL, *manifest_tmp = NULL, *sums_tmp = NULL, *sig_tmp = NULL;
        int r;

        remove_dead_staging(ctx->out_dir);
        /* Vendor sources are checked (keys, signatures, digests) before anything is built: a bad
         * one fails the build in seconds. */
        r = vendor_plan(ctx);
        if (r < 0)
                goto fail;
        r = layer_stage(ctx);
        if (r < 0)
                goto fail;
        m.rootfs_key = ctx->rootfs_key;
        m.security_mirror = ctx->security_mirror;
        m.archive_state = ctx->archive_used;
        m.layer_key = ctx->layer_key;
        if (interrupted())
                goto interrupted;

        r = overlays_apply(ctx, &m);
        if (r < 0)
                goto fail;
        r = firstboot_install(ctx, unit_path, &m);
        if (r < 0)
                goto fail;
        if (ctx->sign_key) {
                r = signing_pub_install(ctx, &m);
                if (r < 0)
                        goto fail;
        }

        r = vendor_images_install(ctx);
        if (r < 0)
                goto fail;
        r = query_packages(ctx->tree_dir, &m.pkgs, &m.n_pkgs);
        if (r < 0) {
                log_error_errno(r, "Failed to list the image's packages: %m");
                goto fail;
        }
        r = vendor_record(ctx, &m);
        if (r < 0)
                goto fail;
        m.vendor = ctx->vendor;
        m.n_vendor = ctx->n_vendor;
        if (ctx->pins) {
                _cleanup_free_ char *report = NULL;
                r = pins_compare(ctx->pins, ctx->n_pins, m.pkgs, m.n_pkgs, 20, &report);
                if (r < 0)
                        goto fail;
                if (r > 0) {
                        log_error("The packages differ from %s in %d place%s:\n%s"
                                  "The base and role layer come from the cache when it has them (same package names, "
                                  "same versions as when it was made); a cold cache takes what the mirror %s has now. "
                                  "Build from the cache the pinned build used, or drop --pin-from to accept the new "
                                  "versions.", ctx->pin_from, r, r == 1 ? "" : "s", report, ctx->mirror);
                        r = -EBADMSG;
                        goto fail;
                }
                stage_note("pin", "all %zu packages match %s", m.n_pkgs, ctx->pin_from);
        }

        struct hygiene_report hr;
        r = hygiene_apply(ctx->tree_dir, ctx->source_date_epoch, &hr);
        if (r < 0)
                goto fail;
        stage_done("hygiene", 0, "%u files removed, %u logs emptied%s", hr.removed, hr.truncated,
                   ctx->source_date_epoch >= 0 ? ", times clamped to SOURCE_DATE_EPOCH" : "");
        if (interrupted())
                goto interrupted;

        treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        uint64_t tree_bytes = 0;
        r = treefd < 0 ? -errno : tree_size(treefd, &tree_bytes, 0);
        if (r < 0) {
                log_error_errno(r, "Failed to measure the tree: %m");
                goto fail;
        }
        ctx->image_size = build_image_size(tree_bytes);

        struct statvfs sv;
        if (statvfs(ctx->out_dir, &sv) == 0 && (uint64_t) sv.f_bavail * sv.f_frsize < tree_bytes * 2) {
                r = log_error_errno(-ENOSPC, "Not enough space in %s: %.1f GiB free, about %.1f GiB needed for the image "
                                    "and its qcow2", ctx->out_dir, (double) sv.f_bavail * sv.f_frsize / GiB,
                                    (double) tree_bytes * 2 / GiB);
                goto fail;
        }

        raw_name = strprintf("%s.raw", ctx->host->name);
        qcow_name = strprintf("%s.qcow2", ctx->host->name);
        if (!raw_name || !qcow_name) {
                r = -ENOMEM;
                goto fail;
        }
        r = pending_add(&pend, &n_pend, ctx->out_dir, raw_name, &raw_tmp);
        if (r < 0)
                goto fail;

        stage_start("image", "assembling a %.2f GiB disk from a %.0f MiB tree", (double) ctx->image_size / GiB,
                    tree_bytes / 1048576.0);
        r = image_assemble(ctx, raw_tmp, &layout);
        if (r < 0) {
                stage_fail("image", r, "image_assemble");
                if (r == -EOPNOTSUPP)
                        log_error("The disk image assembler is not available in this build (builder/image.c).");
                else if (r != -EINTR) {
                        log_error_errno(r, "Failed to assemble the disk image: %m");
                        explain_full_disk(ctx->out_dir);
                }
                goto fail;
        }
        have_layout = true;
        m.layout = &layout;
        if (media) {
                /* From the tree, before it goes: the image's own kernel, modules and libraries. */
                stage_start("installer", NULL);
                double t0 = now_monotonic();
                r = installer_build(ctx, &env);
                if (r < 0) {
                        stage_fail("installer", r, "installer_build");
                        goto fail;
                }
                /* The media's UEFI loaders from the tree's own GRUB, like the image's. */
                r = media_prepare_loaders(ctx, &env);
                if (r < 0) {
                        stage_fail("installer", r, "media_prepare_loaders");
                        goto fail;
                }
                struct stat st_i, st_s;
                if (stat(env.initrd, &st_i) < 0 || stat(env.squashfs, &st_s) < 0) {
                        r = -errno;
                        goto fail;
                }
                stage_done("installer", 0, "kernel %s, initrd %.1f MiB, live root %.1f MiB, %.1f s", env.kver,
                           st_i.st_size / 1048576.0, st_s.st_size / 1048576.0, now_monotonic() - t0);
        }
        /* The tree is in the image now: remove it while the qcow2 is made and the outputs hashed
         * (unless RACKSTACK_KEEP_WORK=1 asks to keep it for inspection). */
        layer_tree_release(ctx); /* the layer's overlay goes first: rm then finds an empty directory */
        if (!streq(strempty(getenv("RACKSTACK_KEEP_WORK")), "1")) {
                const char *rm[] = { "rm", "-rf", "--one-file-system", "--", ctx->tree_dir, NULL };
                *remover = spawn_start(rm);
        }
        stage_done("image", ctx->image_size, "%s, %.2f GiB, %zu partitions", raw_name, (double) layout.disk_size / GiB,
                   layout.n_parts);
        if (interrupted())
                goto interrupted;

        if (ctx->formats & (BUILD_FORMAT_QCOW2 | BUILD_FORMAT_PROXMOX)) {
                r = pending_add(&pend, &n_pend, ctx->out_dir, qcow_name, &qcow_tmp);
                if (r < 0)
                        goto fail;
                stage_start("qcow2", NULL);
                r = write_qcow2_into(raw_tmp, qcow_tmp);
                if (r < 0) {
                        if (r != -EINTR)
                                explain_full_disk(ctx->out_dir);
                        goto fail;
                }
                r = add_artifact(&m, qcow_name, qcow_tmp);
                if (r < 0)
                        goto fail;
                stage_done("qcow2", m.artifacts[m.n_artifacts - 1].size, "%s, %.0f MiB", qcow_name,
                           m.artifacts[m.n_artifacts - 1].size / 1048576.0);
        }
        if (ctx->formats & BUILD_FORMAT_PROXMOX) {
                r = proxmox_outputs(ctx, &m, &pend, &n_pend, qcow_tmp);
                if (r < 0)
                        goto fail;
        }
        if (!(ctx->formats & BUILD_FORMAT_QCOW2) && qcow_tmp) {
                /* made for the Proxmox directory only: not listed at the top */
                for (size_t i = 0; i < m.n_artifacts; i++)
                        if (streq(m.artifacts[i].name, qcow_name)) {
                                free(m.artifacts[i].name);
                                free(m.artifacts[i].sha256);
                                memmove(&m.artifacts[i], &m.artifacts[i + 1], (m.n_artifacts - i - 1) * sizeof *m.artifacts);
                                m.n_artifacts--;
                                break;
                        }
        }
        if (ctx->formats & BUILD_FORMAT_RAW) {
                r = add_artifact(&m, raw_name, raw_tmp);
                if (r < 0)
                        goto fail;
        }
        if (media) {
                double t0 = now_monotonic();
                stage_start("media", "compressing the image for the installer");
                const char *raw_hex = NULL;
                for (size_t i = 0; i < m.n_artifacts; i++)
                        if (streq(m.artifacts[i].name, raw_name))
                                raw_hex = m.artifacts[i].sha256;
                r = media_source_make(ctx, raw_tmp, raw_name, raw_hex, ctx->ks_path, &src);
                if (r < 0)
                        goto fail;
                stage_done("media", 0, "%s, %.1f s", MEDIA_IMAGE_NAME, now_monotonic() - t0);
        }
        if (interrupted())
                goto interrupted;
        if (ctx->formats & BUILD_FORMAT_ISO) {
                double t0 = now_monotonic();
                iso_name = strprintf("%s.iso", ctx->host->name);
                if (!iso_name) {
                        r = -ENOMEM;
                        goto fail;
                }
                r = pending_add(&pend, &n_pend, ctx->out_dir, iso_name, &iso_tmp);
                if (r < 0)
                        goto fail;
                stage_start("iso", NULL);
                r = media_write_iso(ctx, &env, &src, iso_tmp);
                if (r < 0)
                        goto fail;
                r = add_artifact(&m, iso_name, iso_tmp);
                if (r < 0)
                        goto fail;
                stage_done("iso", m.artifacts[m.n_artifacts - 1].size, "%s, %.0f MiB, %.1f s", iso_name,
                           m.artifacts[m.n_artifacts - 1].size / 1048576.0, now_monotonic() - t0);
        }
        if (ctx->formats & BUILD_FORMAT_PXE) {
                double t0 = now_monotonic();
                pxe_final = strprintf("%s/pxe", ctx->out_dir);
                /* Staged in the work directory, from where one rename publishes it, so a killed
                 * build leaves nothing in the output directory; only when the two are on different
                 * filesystems next to its final place, as pxe.tmp.PID. */
                struct stat ws, os;
                pxe_tmp = stat(ctx->work_dir, &ws) == 0 && stat(ctx->out_dir, &os) == 0 && ws.st_dev == os.st_dev
                                  ? strprintf("%s/pxe", ctx->work_dir)
                                  : strprintf("%s/pxe.tmp.%d", ctx->out_dir, (int) getpid());
                if (!pxe_final || !pxe_tmp) {
                        r = -ENOMEM;
                        goto fail;
                }
                (void) remove_tree(pxe_tmp);
                if (mkdir(pxe_tmp, 0755) < 0) {
                        r = log_error_errno(-errno, "Failed to create %s: %m", pxe_tmp);
                        goto fail;
                }
                stage_start("pxe", "base URL %s", ctx->pxe_url);
                r = media_write_pxe(ctx, &env, &src, ctx->pxe_url, pxe_tmp, &pxe_files);
                if (r < 0)
                        goto fail;
                uint64_t total = 0;
                for (char **f = pxe_files; *f; f++) {
                        _cleanup_free_ char *name = strprintf("pxe/%s", *f);
                        _cleanup_free_ char *path = strprintf("%s/%s", pxe_tmp, *f);
                        if (!name || !path) {
                                r = -ENOMEM;
                                goto fail;
                        }
                        /* The image (350 MB) was hashed when it was made. */
                        char *known = streq(*f, MEDIA_IMAGE_NAME) && src.image_sha256 ? strdup(src.image_sha256) : NULL;
                        r = known ? add_artifact_hashed(&m, name, known, src.image_size) : add_artifact(&m, name, path);
                        if (r < 0)
                                goto fail;
                        total += m.artifacts[m.n_artifacts - 1].size;
                }
                stage_done("pxe", total, "pxe/: %zu files, %.0f MiB, %.1f s", strv_length(pxe_files), total / 1048576.0,
                           now_monotonic() - t0);
        }

        json = manifest_to_json(&m);
        if (!json) {
                r = -ENOMEM;
                goto fail;
        }
        r = pending_add(&pend, &n_pend, ctx->out_dir, "manifest.json", &manifest_tmp);
        if (r >= 0)
                r = write_tmp_text(manifest_tmp, json);
        if (r >= 0)
                r = add_artifact(&m, "manifest.json", manifest_tmp);
        if (r < 0)
                goto fail;
        sums = sha256sums_text(m.artifacts, m.n_artifacts);
        if (!sums) {
                r = -ENOMEM;
                goto fail;
        }
        if (ctx->sign_key) {
                /* Published before SHA256SUMS (the pending list is published in order): whoever
                 * sees the new SHA256SUMS finds its signature next to it. */
                unsigned char sig[64];
                double t0 = now_monotonic();
                r = ed25519_sign(ctx->sign_key, sums, strlen(sums), sig);
                if (r < 0) {
                        log_error_errno(r, "Failed to sign SHA256SUMS with %s: %m", ctx->sign_key);
                        goto fail;
                }
                r = pending_add(&pend, &n_pend, ctx->out_dir, SHA256SUMS_SIG, &sig_tmp);
                if (r >= 0)
                        r = write_tmp_data(sig_tmp, sig, sizeof sig);
                if (r < 0)
                        goto fail;
                stage_note("sign", "SHA256SUMS signed with %s in %.3f s", ctx->sign_key, now_monotonic() - t0);
        }
        r = pending_add(&pend, &n_pend, ctx->out_dir, "SHA256SUMS", &sums_tmp);
        if (r >= 0)
                r = write_tmp_text(sums_tmp, sums);
        if (r < 0)
                goto fail;
        if (interrupted())
                goto interrupted;

        /* Publish all at once, SHA256SUMS last: whoever sees it sees a complete set. The PXE
         * directory replaces an older one whole. */
        if (pxe_tmp) {
                r = publish_dir(pxe_tmp, pxe_final);
                if (r < 0) {
                        log_error_errno(r, "Failed to publish %s: %m", pxe_final);
                        goto fail;
                }
                free(pxe_tmp);
                pxe_tmp = NULL;
        }
        for (size_t i = 0; i < n_pend; i++) {
                if (pend[i].tmp == raw_tmp && !(ctx->formats & BUILD_FORMAT_RAW))
                        continue;
                if (pend[i].tmp == qcow_tmp && !(ctx->formats & BUILD_FORMAT_QCOW2))
                        continue;
                r = pending_publish(&pend[i]);
                if (r < 0) {
                        log_error_errno(r, "Failed to publish %s: %m", pend[i].final);
                        goto fail;
                }
                free(pend[i].tmp);
                pend[i].tmp = NULL;
        }
        pending_drop(pend, n_pend);
        free(pend);
        if (have_layout)
                image_layout_done(&layout);
        stage_done("outputs", 0, "%s: %s%s%s%s%s", ctx->out_dir, ctx->formats & BUILD_FORMAT_RAW ? "raw " : "",
                   ctx->formats & BUILD_FORMAT_QCOW2 ? "qcow2 " : "", ctx->formats & BUILD_FORMAT_ISO ? "iso " : "",
                   ctx->formats & BUILD_FORMAT_PXE ? "pxe " : "", ctx->formats & BUILD_FORMAT_PROXMOX ? "proxmox/" : "");
        return 0;

interrupted:
        r = -EINTR;
fail:
        if (pxe_tmp)
                (void) remove_tree(pxe_tmp);
        pending_drop(pend, n_pend);
        free(pend);
        if (have_layout)
                image_layout_done(&layout);
        return r;
}

/* Read the archive's state, which decides whether the cached base and layers are current. Not
 * being able to is no error: the build then uses what the cache has, and says so. */
static void archive_check(struct build_ctx *ctx) {
        _cleanup_free_ char *updates = strprintf("%s-updates", ctx->base->suite);
        _cleanup_free_ char *security = strprintf("%s-security", ctx->base->suite);
        _cleanup_free_ char *reason = NULL;
        if (!updates || !security)
                return;
        const char *mirrors[] = { ctx->mirror, ctx->mirror, ctx->security_mirror };
        const char *suites[] = { ctx->base->suite, updates, security };
        double t = now_monotonic();
        int r = archive_state_read(mirrors, suites, ELEMENTSOF(suites), 5000, &ctx->archive_state, &reason);
        if (r < 0)
                stage_note("archive", "cannot read the archive's Release files (%s): the newest cached base and "
                           "layers are used as they are", strna(reason));
        else
                stage_note("archive", "state %.12s (Release files of %s, %s, %s; %.0f ms)%s", ctx->archive_state,
                           suites[0], suites[1], suites[2], (now_monotonic() - t) * 1000,
                           ctx->pin_from ? "; with --pin-from the newest cached base is used as it is" : "");
}

/* --check-reproducible: this same build twice, as child processes, then compared (repro.c). */
static int check_reproducible(const struct build_opts *o, int64_t sde) {
        if (sde < 0) {
                /* Any fixed value does: both builds get the same one. */
                _cleanup_free_ char *v = strprintf("%lld", (long long) time(NULL));
                if (!v || setenv("SOURCE_DATE_EPOCH", v, 1) < 0)
                        return -ENOMEM;
                log_notice("SOURCE_DATE_EPOCH is not set: both builds use %s", v);
        }
        _cleanup_strv_free_ char **argv = NULL;
        const struct {
                const char *opt, *value;
        } pass[] = {
                { "--base", o->base },         { "--format", o->formats },     { "--mirror", o->mirror },
                { "--cache", o->cache },       { "--profiles", o->profiles }, { "--firstboot", o->firstboot },
                { "--sign", o->sign },         { "--pin-from", o->pin_from }, { "--ks", o->ks },
                { "--pxe-url", o->pxe_url },
        };
        if (strv_extend(&argv, "rackstack-build") < 0 || strv_extend(&argv, "build") < 0 ||
            strv_extend(&argv, o->role) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(pass); i++)
                if (pass[i].value && (strv_extend(&argv, pass[i].opt) < 0 || strv_extend(&argv, pass[i].value) < 0))
                        return -ENOMEM;
        if ((o->json && strv_extend(&argv, "--json") < 0) || (o->verbose && strv_extend(&argv, "--verbose") < 0) ||
            (o->defer_vendor && strv_extend(&argv, "--defer-vendor") < 0))
                return -ENOMEM;
        for (char **v = o->vendor_maps; v && *v; v++)
                if (strv_extend(&argv, "--mirror") < 0 || strv_extend(&argv, *v) < 0)
                        return -ENOMEM;
        progress_init(o->json);
        interrupt_install();
        return build_check_reproducible(argv, o->out);
}

int build_main(int argc, char **argv) {
        struct build_opts o = {};
        int r = parse_args(argc, argv, &o);
        _cleanup_strv_free_ char **opt_maps = o.vendor_maps;
        if (r != 0)
                return r < 0 ? r : 0;

        const struct base_info *base = base_find(o.base);
        if (!base)
                return log_error_errno(-EINVAL, "Unknown base '%s' (choose ubuntu-24.04 or debian-12)", o.base);
        unsigned formats;
        if (build_parse_formats(o.formats, &formats) < 0)
                return log_error_errno(-EINVAL, "Bad --format '%s' (a comma-separated list of raw, qcow2, iso, pxe, "
                                       "proxmox)", o.formats);
        r = build_check_pxe_url(o.pxe_url);
        if (r < 0)
                return log_error_errno(r, "Bad --pxe-url '%s': an http:// URL without spaces, quotes or a trailing '/'",
                                       o.pxe_url);

        int64_t sde = -1;
        const char *sde_s = getenv("SOURCE_DATE_EPOCH");
        if (!isempty(sde_s)) {
                uint64_t v;
                if (parse_uint64(sde_s, &v) < 0 || v > INT64_MAX)
                        return log_error_errno(-EINVAL, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", sde_s);
                sde = (int64_t) v;
        }

        if (o.check_reproducible)
                return check_reproducible(&o, sde);

        _cleanup_free_ char *bindir = exe_dir();
        _cleanup_free_ char *srcdir = bindir ? strprintf("%s/..", bindir) : NULL;
        /* As the other verbs: $RACKSTACK_DATADIR, the checkout we run in, the installed data; and
         * also the checkout next to the binary (build/rackstack-build run from elsewhere). */
        _cleanup_free_ char *src_marker = srcdir ? strprintf("%s/firstboot/rackstack-firstboot.service", srcdir) : NULL;
        const char *data_dir_s = data_dir();
        if (streq(data_dir_s, RACKSTACK_DATADIR) && src_marker && access(src_marker, R_OK) == 0)
                data_dir_s = srcdir;

        _cleanup_free_ char *profiles_dir = o.profiles ? strdup(o.profiles) : strprintf("%s/profiles", data_dir_s);
        _cleanup_free_ char *overlays_dir = strprintf("%s/overlays", data_dir_s);
        _cleanup_free_ char *firstboot = o.firstboot ? strdup(o.firstboot)
                                                     : strprintf("%s/rackstack-firstboot", bindir ? bindir : ".");
        _cleanup_free_ char *unit_src = strprintf("%s/firstboot/rackstack-firstboot.service", data_dir_s);
        if (!profiles_dir || !overlays_dir || !firstboot || !unit_src)
                return -ENOMEM;
        if (access(unit_src, R_OK) < 0) {
                free(unit_src);
                unit_src = strdup("/usr/lib/systemd/system/rackstack-firstboot.service");
                if (!unit_src)
                        return -ENOMEM;
        }
        /* Bad input first (exit 2, whatever the machine), then what the machine lacks. */
        struct profile *profile = NULL;
        struct site *site = NULL;
        const struct host_spec *host = NULL;
        r = load_inputs(profiles_dir, o.role, &profile, &site, &host);
        if (r < 0)
                return r;
        struct pkg_version *pins = NULL;
        size_t n_pins = 0;
        if (o.ks) {
                /* The kickstart goes onto the media as it is: check it now, as `validate` would. */
                struct diags d = {};
                if (access(o.ks, R_OK) < 0) {
                        log_error_errno(-errno, "--ks %s: %m", o.ks);
                        r = -EINVAL;
                }
                else {
                        validate_kickstart(o.ks, site, &d);
                        diags_print(&d, stderr);
                        if (diags_failed(&d))
                                r = -EINVAL;
                        diags_done(&d);
                }
                if (r < 0) {
                        free_inputs(profile, site);
                        return r;
                }
        }
        struct pkg_version *digest_pins = NULL;
        size_t n_digest_pins = 0;
        if (o.pin_from) {
                r = pins_load(o.pin_from, &pins, &n_pins);
                if (r >= 0)
                        r = pins_load_digests(o.pin_from, &digest_pins, &n_digest_pins);
                if (r < 0) {
                        free_inputs(profile, site);
                        return r;
                }
        }
        _cleanup_free_ char *sign_pub = o.sign ? signing_pub_for_key(o.sign) : NULL;
        if (o.sign && !sign_pub)
                r = -ENOMEM;
        if (r >= 0 && o.sign)
                r = signing_check_pair(o.sign, sign_pub);
        if (r < 0) {
                pkg_versions_free(pins, n_pins);
                pkg_versions_free(digest_pins, n_digest_pins);
                free_inputs(profile, site);
                return r;
        }
        if (geteuid() != 0)
                r = log_error_errno(-EPERM, "rackstack-build build needs root: the role layer runs apt-get in a "
                                    "chroot and the image keeps the files' owners. Run it with sudo.");
        if (r >= 0)
                r = check_tools(formats);
        if (r >= 0 && access(firstboot, X_OK) < 0)
                r = log_error_errno(-ENOENT, "The firstboot binary %s is missing: run make, or pass --firstboot PATH",
                                    firstboot);
        if (r < 0) {
                pkg_versions_free(pins, n_pins);
                pkg_versions_free(digest_pins, n_digest_pins);
                free_inputs(profile, site);
                return r;
        }

        progress_init(o.json);
        interrupt_install();

        struct build_ctx ctx = {
                .profile = profile,
                .site = site,
                .host = host,
                .base = base,
                .formats = formats,
                .json = o.json,
                .verbose = o.verbose,
                .source_date_epoch = sde,
                .firstboot_bin = TAKE_PTR(firstboot),
                .profiles_dir = TAKE_PTR(profiles_dir),
                .overlays_dir = TAKE_PTR(overlays_dir),
                .data_dir = strdup(data_dir_s),
                .pxe_url = o.pxe_url ? strdup(o.pxe_url) : media_default_pxe_url(host->name),
                .ks_path = o.ks,
                .log_fd = -1,
                .t_start = now_monotonic(),
                .sign_key = o.sign ? strdup(o.sign) : NULL,
                .sign_pub = TAKE_PTR(sign_pub),
                .pins = pins,
                .n_pins = n_pins,
                .pin_from = o.pin_from,
                .defer_vendor = o.defer_vendor,
                .digest_pins = digest_pins,
                .n_digest_pins = n_digest_pins,
        };
        _cleanup_free_ char *log_path = NULL, *kept_log = NULL, *workroot = NULL;
        int remover = -1;
        _cleanup_close_ int work_lock_fd = -EBADF;
        _cleanup_free_ char *work_lock = NULL;

        r = vendor_maps_init(&ctx, o.vendor_maps);
        if (r >= 0)
                r = mirror_resolve(o.mirror, getenv("RACKSTACK_MIRROR"), base, "/", &ctx.mirror, &ctx.mirror_origin);
        if (r >= 0)
                r = security_mirror_resolve(getenv("RACKSTACK_SECURITY_MIRROR"), base, ctx.mirror, ctx.mirror_origin,
                                            "/", &ctx.security_mirror, &ctx.security_origin);
        if (r < 0)
                goto finish;
        ctx.cache_dir = o.cache ? strdup(o.cache) : cache_dir_default();
        ctx.out_dir = strprintf("%s/%s", o.out, host->name);
        if (!ctx.cache_dir || !ctx.out_dir || !ctx.data_dir || !ctx.pxe_url || (o.sign && !ctx.sign_key)) {
                r = log_error_errno(-ENOMEM, "Out of memory");
                goto finish;
        }
        r = mkdir_parents_at(AT_FDCWD, ctx.out_dir, 0755);
        if (r < 0) {
                log_error_errno(r, "Failed to create %s: %m", ctx.out_dir);
                goto finish;
        }
        workroot = strprintf("%s/work", ctx.cache_dir);
        if (!workroot || (r = mkdir_parents_at(AT_FDCWD, workroot, 0755)) < 0) {
                log_error_errno(r < 0 ? r : -ENOMEM, "Failed to create %s/work: %m", ctx.cache_dir);
                goto finish;
        }
        ctx.work_dir = strprintf("%s/%s-XXXXXX", workroot, host->name);
        if (!ctx.work_dir || !mkdtemp(ctx.work_dir)) {
                r = log_error_errno(-errno, "Failed to create a work directory in %s: %m", workroot);
                free(ctx.work_dir);
                ctx.work_dir = NULL;
                goto finish;
        }
        work_lock = strprintf("%s/.lock", ctx.work_dir);
        work_lock_fd = work_lock ? open(work_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (work_lock_fd < 0 || flock(work_lock_fd, LOCK_EX) < 0) {
                r = log_error_errno(-errno, "Failed to lock the work directory %s: %m", ctx.work_dir);
                goto finish;
        }
        clean_stale_work(workroot);
        ctx.tree_dir = strprintf("%s/tree", ctx.work_dir);
        log_path = strprintf("%s/build.log", ctx.work_dir);
        if (!ctx.tree_dir || !log_path || mkdir(ctx.tree_dir, 0755) < 0) {
                r = log_error_errno(-errno, "Failed to create the work tree: %m");
                goto finish;
        }
        ctx.log_fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);

        /* A base build needs room for mmdebstrap's tree and its tarball, the work tree and the layer
         * tarball: say so now rather than after minutes of work. */
        struct statvfs sv;
        if (statvfs(ctx.cache_dir, &sv) == 0 && (uint64_t) sv.f_bavail * sv.f_frsize < 6 * GiB) {
                r = log_error_errno(-ENOSPC, "Only %.1f GiB free in %s; a build needs about 6 GiB there "
                                    "(choose another with --cache DIR)", (double) sv.f_bavail * sv.f_frsize / GiB,
                                    ctx.cache_dir);
                goto finish;
        }

        stage_note("build", "role %s, host %s, base %s, mirror %s (%s), cache %s", profile->role, host->name, base->name,
                   ctx.mirror, ctx.mirror_origin, ctx.cache_dir);
        archive_check(&ctx);
        r = build_run(&ctx, unit_src, &remover);

finish:
        if (r < 0 && ctx.log_fd >= 0 && log_path) {
                /* Keep the log of a failed build where the next one will not delete it. */
                kept_log = strprintf("%s/last-failed-%s.log", ctx.cache_dir, host->name);
                if (kept_log && rename(log_path, kept_log) == 0)
                        log_error("The full log of the failed build is in %s", kept_log);
        }
        if (ctx.log_fd >= 0)
                close(ctx.log_fd);
        /* RACKSTACK_KEEP_WORK=1 keeps the work tree for inspection (tests, debugging). */
        if (remover > 0)
                (void) spawn_wait(remover);
        layer_tree_release(&ctx);
        const char *keep = getenv("RACKSTACK_KEEP_WORK");
        if (ctx.work_dir && keep && streq(keep, "1")) {
                log_notice("Keeping the work directory %s (RACKSTACK_KEEP_WORK=1)", ctx.work_dir);
        } else if (ctx.work_dir) {
                int k = remove_tree(ctx.work_dir);
                if (k < 0)
                        log_warning_errno(k, "Failed to remove the work directory %s: %m", ctx.work_dir);
        }
        if (r == -EINTR) {
                stage_fail("build", r, "interrupted");
                log_error("Interrupted: the temporary files are removed and %s holds nothing new.", strna(ctx.out_dir));
        } else if (r < 0)
                stage_fail("build", r, "build of %s failed", host->name);
        else
                stage_done("build", 0, "%s done in %.1f s", host->name, now_monotonic() - ctx.t_start);

        free(ctx.mirror);
        free(ctx.cache_dir);
        free(ctx.out_dir);
        free(ctx.work_dir);
        free(ctx.tree_dir);
        free(ctx.firstboot_bin);
        free(ctx.data_dir);
        free(ctx.pxe_url);
        free(ctx.security_mirror);
        free(ctx.archive_state);
        free(ctx.archive_used);
        free(ctx.rootfs_key);
        free(ctx.rootfs_family);
        free(ctx.layer_key);
        free(ctx.profiles_dir);
        free(ctx.overlays_dir);
        free(ctx.sign_key);
        free(ctx.sign_pub);
        pkg_versions_free(ctx.pins, ctx.n_pins);
        pkg_versions_free(ctx.digest_pins, ctx.n_digest_pins);
        vendor_ctx_done(&ctx);
        free_inputs(profile, site);
        return r;
}
