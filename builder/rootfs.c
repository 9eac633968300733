/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "keyring.h"
#include "layer-tree.h"
#include "log.h"
#include "mirror.h"
#include "outputs.h"
#include "progress.h"
#include "rootfs.h"
#include "spawn-run.h"
#include "unpack.h"
#include "util.h"

const struct base_info base_infos[] = {
        {
                .name = "ubuntu-24.04",
                .suite = "noble",
                .kernel_pkg = "linux-image-generic",
                .components = "main universe",
                .keyring = "/usr/share/keyrings/ubuntu-archive-keyring.gpg",
                .default_mirror = "http://archive.ubuntu.com/ubuntu",
                .default_security_mirror = NULL,
                .appliance_excludes = true,
        },
        {
                .name = "debian-12",
                .suite = "bookworm",
                .kernel_pkg = "linux-image-amd64",
                .components = "main",
                .keyring = "/usr/share/keyrings/debian-archive-keyring.gpg",
                .default_mirror = "http://deb.debian.org/debian",
                .default_security_mirror = "http://deb.debian.org/debian-security",
                .appliance_excludes = true,
        },
};
const size_t n_base_infos = ELEMENTSOF(base_infos);

const struct base_info *base_find(const char *name) {
        for (size_t i = 0; i < n_base_infos; i++)
                if (streq(base_infos[i].name, name))
                        return &base_infos[i];
        return NULL;
}

/* What every role needs: boot (kernel, initramfs, GRUB binaries for UEFI and BIOS -- not the
 * grub-efi-amd64/grub-pc packages, whose postinst tries to install to a disk), systemd with
 * networkd driven by netplan, ssh, time, and the libraries and tools rackstack-firstboot uses. */
static const char *const common_packages[] = {
        "systemd", "systemd-sysv", "udev", "dbus", "netplan.io", "openssh-server", "chrony",
        "grub-efi-amd64-bin", "grub-pc-bin", "grub2-common", "initramfs-tools", "zstd", "kmod",
        "iproute2", "iputils-ping", "ca-certificates", "libblkid1", "libnl-3-200", "libnl-route-3-200",
        "libyaml-0-2", "xfsprogs", "e2fsprogs", "dosfstools", "parted", "util-linux",
        NULL,
};
/* Ubuntu 24.04 renamed libraries in the 64-bit time_t transition. Ubuntu's archive keyring is listed
 * so apt in the image (and in the role layer's chroot) trusts the archive; Debian's apt depends on
 * debian-archive-keyring already. apt itself is Priority: important on Ubuntu, so its minbase lacks
 * it (Debian's minbase has it): the role layer needs it. */
static const char *const debian_libs[] = { "libarchive13", "libparted2", "libssl3", NULL };
static const char *const ubuntu_libs[] = { "libarchive13t64", "libparted2t64", "libssl3t64", "ubuntu-keyring",
                                           "apt", NULL };

static int strcmp_ptr(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Sort and drop duplicates, in place. */
static void strv_sort_uniq(char **l) {
        size_t n = strv_length(l);
        if (n < 2)
                return;
        qsort(l, n, sizeof(char *), strcmp_ptr);
        size_t w = 1;
        for (size_t i = 1; i < n; i++) {
                if (streq(l[i], l[w - 1]))
                        free(l[i]);
                else
                        l[w++] = l[i];
        }
        l[w] = NULL;
}

int rootfs_packages(const struct base_info *base, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r = strv_extend(&l, base->kernel_pkg);
        for (size_t i = 0; r >= 0 && common_packages[i]; i++)
                r = strv_extend(&l, common_packages[i]);
        const char *const *libs = startswith(base->name, "ubuntu-") ? ubuntu_libs : debian_libs;
        for (size_t i = 0; r >= 0 && libs[i]; i++)
                r = strv_extend(&l, libs[i]);
        if (r < 0)
                return r;
        strv_sort_uniq(l);
        *ret = TAKE_PTR(l);
        return 0;
}

char *cache_key(const char *kind, const char *parent, const struct base_info *base, const char *mirror,
                char *const *packages, const char *options) {
        _cleanup_strv_free_ char **pk = strv_copy(packages);
        if (!pk)
                return NULL;
        strv_sort_uniq(pk);
        _cleanup_free_ char *joined = strv_join(pk, ",");
        if (!joined)
                return NULL;
        /* One "field=value" per line; values cannot hold a newline that would let two different
         * inputs produce the same text. */
        _cleanup_free_ char *text = strprintf("format=%s\nkind=%s\nparent=%s\nbase=%s\nsuite=%s\nmirror=%s\n"
                                              "components=%s\narch=amd64\noptions=%s\npackages=%s\n",
                                              ROOTFS_FORMAT_VERSION, kind, strempty(parent), base->name,
                                              base->suite, mirror, base->components, strempty(options), joined);
        if (!text)
                return NULL;
        return sha256_hex(text, strlen(text));
}

char *cache_dir_default(void) {
        if (geteuid() == 0)
                return strdup("/var/cache/rackstack");
        const char *xdg = getenv("XDG_CACHE_HOME");
        if (!isempty(xdg) && xdg[0] == '/')
                return strprintf("%s/rackstack", xdg);
        const char *home = getenv("HOME");
        if (isempty(home)) {
                struct passwd *pw = getpwuid(geteuid());
                home = pw ? pw->pw_dir : NULL;
        }
        if (isempty(home))
                return NULL;
        return strprintf("%s/.cache/rackstack", home);
}

static int lock_wait(int fd, int how, const char *kind, const char *key, const char *lock) {
        if (flock(fd, how | LOCK_NB) == 0)
                return 0;
        if (errno != EWOULDBLOCK)
                return log_error_errno(-errno, "Failed to lock %s: %m", lock);
        stage_note(kind, "waiting for another build making cache entry %.12s", key);
        while (flock(fd, how) < 0) {
                if (errno != EINTR)
                        return log_error_errno(-errno, "Failed to lock %s: %m", lock);
                if (interrupted())
                        return -EINTR;
        }
        return 0;
}

/* KEY.tar.tmp.PID files are written only under the entry's exclusive lock: whoever holds it finds
 * in them what a killed build (SIGKILL, power loss) left, and removes it. */
static void remove_stale_temporaries(const char *dir, const char *key) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return;
        _cleanup_free_ char *prefix = strprintf("%s.tar.tmp.", key);
        if (!prefix)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, prefix)) {
                        stage_note("cache", "removing %s/%s, left by a build that was killed", dir, de->d_name);
                        (void) unlinkat(dirfd(d), de->d_name, 0);
                }
}

int cache_entry_lock(const char *cache_dir, const char *kind, const char *key, struct cache_entry *ret) {
        _cleanup_free_ char *dir = strprintf("%s/%s", cache_dir, kind);
        if (!dir)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create cache directory %s: %m", dir);
        _cleanup_free_ char *lock = strprintf("%s/%s.lock", dir, key);
        _cleanup_free_ char *path = strprintf("%s/%s.tar", dir, key);
        _cleanup_free_ char *sum = strprintf("%s/%s.tar.sha256", dir, key);
        if (!lock || !path || !sum)
                return -ENOMEM;
        _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open cache lock %s: %m", lock);

        /* Readers share the entry: a published entry never changes, so warm builds run side by
         * side. Only a build that has to make the entry takes it exclusively; the others wait
         * for it and then find it present. */
        struct cache_entry e = { .path = path, .sum_path = sum, .lock_fd = fd };
        r = lock_wait(fd, LOCK_SH, kind, key, lock);
        if (r < 0)
                return r;
        /* The lock's time is the entry's last use: what a reclaim of room removes last (cache-reclaim.h). */
        (void) futimens(fd, NULL);
        if (!cache_entry_present(&e)) {
                r = lock_wait(fd, LOCK_EX, kind, key, lock);
                if (r < 0)
                        return r;
                if (!cache_entry_present(&e))
                        remove_stale_temporaries(dir, key);
        }
        free(e.sha256);
        *ret = (struct cache_entry) {
                .path = TAKE_PTR(path),
                .sum_path = TAKE_PTR(sum),
                .lock_fd = TAKE_FD(fd),
        };
        return 0;
}

bool cache_entry_present(struct cache_entry *e) {
        if (access(e->path, R_OK) < 0)
                return false;
        _cleanup_free_ char *text = NULL;
        if (read_file_full(AT_FDCWD, e->sum_path, 4096, &text, NULL) < 0)
                return false;
        if (strlen(text) < 64 || strspn(text, "0123456789abcdef") != 64)
                return false;
        free(e->sha256);
        e->sha256 = strndup(text, 64);
        return e->sha256 != NULL;
}

int cache_entry_commit(struct cache_entry *e, const char *tmp_path) {
        _cleanup_free_ char *hex = NULL;
        int r = sha256_file(tmp_path, NULL, &hex, NULL);
        if (r < 0)
                return log_error_errno(r, "Failed to hash %s: %m", tmp_path);
        const char *base = strrchr(e->path, '/');
        _cleanup_free_ char *line = strprintf("%s  %s\n", hex, base ? base + 1 : e->path);
        if (!line)
                return -ENOMEM;
        /* The sum first: a published tarball always has its sum next to it. */
        r = write_file_atomic(AT_FDCWD, e->sum_path, line, strlen(line), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", e->sum_path);
        r = publish_tmpfile(tmp_path, e->path);
        if (r < 0)
                return log_error_errno(r, "Failed to publish %s: %m", e->path);
        free(e->sha256);
        e->sha256 = TAKE_PTR(hex);
        return 0;
}

int cache_entry_link(struct cache_entry *e, const struct cache_entry *from) {
        if (!from->sha256)
                return -EINVAL;
        _cleanup_free_ char *tmp = strprintf("%s.tmp.%d", e->path, (int) getpid());
        const char *base = strrchr(e->path, '/');
        _cleanup_free_ char *line = strprintf("%s  %s\n", from->sha256, base ? base + 1 : e->path);
        if (!tmp || !line)
                return -ENOMEM;
        if (link(from->path, tmp) < 0)
                return -errno;
        int r = write_file_atomic(AT_FDCWD, e->sum_path, line, strlen(line), 0644);
        if (r >= 0)
                r = publish_tmpfile(tmp, e->path);
        if (r < 0) {
                (void) unlink(tmp);
                return log_error_errno(r, "Failed to publish %s: %m", e->path);
        }
        free(e->sha256);
        e->sha256 = strdup(from->sha256);
        return e->sha256 ? 0 : -ENOMEM;
}

void cache_entry_discard(struct cache_entry *e) {
        (void) unlink(e->path);
        (void) unlink(e->sum_path);
        free(e->sha256);
        e->sha256 = NULL;
}

void cache_entry_share(struct cache_entry *e) {
        if (e->lock_fd >= 0)
                (void) flock(e->lock_fd, LOCK_SH);
}

void cache_entry_done(struct cache_entry *e) {
        free(e->path);
        free(e->sum_path);
        free(e->sha256);
        if (e->lock_fd >= 0)
                close(e->lock_fd); /* releases the flock */
        *e = (struct cache_entry) CACHE_ENTRY_INIT;
}

int build_mirror_check(struct build_ctx *ctx) {
        if (ctx->mirror_probed)
                return 0;
        _cleanup_free_ char *reason = NULL;
        double t = now_monotonic();
        int r = mirror_probe(ctx->mirror, ctx->base->suite, 5000, &reason);
        if (r < 0)
                return log_error_errno(r, "Mirror %s (from %s) is not usable for %s: %s.\n"
                                       "  Choose another with --mirror URL or RACKSTACK_MIRROR=URL%s.",
                                       ctx->mirror, strna(ctx->mirror_origin), ctx->base->suite, strna(reason),
                                       startswith(ctx->base->name, "ubuntu") ?
                                       ", or build from Debian with --base debian-12" : "");
        stage_note("mirror", "%s (%s) answers in %.0f ms", ctx->mirror, strna(ctx->mirror_origin),
                   (now_monotonic() - t) * 1000);
        if (ctx->security_mirror && !streq(ctx->security_mirror, ctx->mirror)) {
                _cleanup_free_ char *suite = strprintf("%s-security", ctx->base->suite), *why = NULL;
                if (!suite)
                        return -ENOMEM;
                t = now_monotonic();
                r = mirror_probe(ctx->security_mirror, suite, 5000, &why);
                if (r < 0)
                        return log_error_errno(r, "Security mirror %s (from %s) is not usable for %s: %s.\n"
                                               "  Choose another with RACKSTACK_SECURITY_MIRROR=URL.",
                                               ctx->security_mirror, strna(ctx->security_origin), suite, strna(why));
                stage_note("mirror", "%s (%s) answers in %.0f ms", ctx->security_mirror, strna(ctx->security_origin),
                           (now_monotonic() - t) * 1000);
        }
        ctx->mirror_probed = true;
        return 0;
}

/* The initramfs is made once: while packages install, update-initramfs is diverted to true (the
 * kernel's postinst hook and the initramfs-tools trigger would each run it: two ~20 s runs), then
 * the real one runs once per installed kernel. */
static const char divert_hook[] =
        "chroot \"$1\" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.rackstack "
        "--add /usr/sbin/update-initramfs && ln -s /bin/true \"$1/usr/sbin/update-initramfs\"";
static const char undivert_hook[] =
        "rm -f \"$1/usr/sbin/update-initramfs\" && "
        "chroot \"$1\" dpkg-divert --quiet --local --rename --divert /usr/sbin/update-initramfs.rackstack "
        "--remove /usr/sbin/update-initramfs && "
        "for k in $(ls \"$1/lib/modules\"); do chroot \"$1\" update-initramfs -c -k \"$k\" || exit 1; done";

/* What a rack server never uses, kept out of the base by dpkg itself (a dpkg.cfg.d file that stays
 * in the image, so an upgrade there does not bring it back): firmware and drivers for graphics
 * (servers' BMC consoles need none: ast, mgag200 and the virtual GPUs stay), wireless, Bluetooth,
 * audio, cameras and SoCs, Mellanox/Marvell switch ASICs (not NICs), documentation but copyrights,
 * man pages, translations. NIC, storage HBA and CPU microcode firmware stay: the ISO and PXE install
 * onto real servers. The kernel's postinst runs depmod after unpacking, so modules.dep lists only
 * what is there. Changing the list: bump APPLIANCE_EXCLUDES_TAG (it is in the base's cache key). */
#define APPLIANCE_EXCLUDES_TAG "appliance-excludes-1"
static const char *const firmware_excludes[] = {
        "nvidia/*", "amdgpu/*", "radeon/*", "i915/*", "xe/*", "intel/iwlwifi/*", "iwlwifi-*", "intel/ipu/*",
        "intel/vsc/*", "intel/ish/*", "mrvl/prestera/*", "mellanox/mlxsw_spectrum*", "qcom/*", "ath*",
        "mediatek/*", "brcm/*", "rtw88/*", "rtw89/*", "rtlwifi/*", "rtl_bt/*", "cypress/*", "ti-connectivity/*",
        "libertas/*", "qca/*", "cirrus/*", "dpaa2/*", "amlogic/*", "amphion/*", "s5p-*", "asihpi/*",
        NULL,
};
static const char *const module_excludes[] = {
        "sound/*", "drivers/net/wireless/*", "net/wireless/*", "net/mac80211/*", "drivers/media/*",
        "drivers/bluetooth/*", "net/bluetooth/*", "drivers/gpu/drm/amd/*", "drivers/gpu/drm/nouveau/*",
        "drivers/gpu/drm/i915/*", "drivers/gpu/drm/radeon/*", "drivers/gpu/drm/xe/*",
        NULL,
};
static const char *const other_excludes[] = {
        "path-exclude=/usr/share/doc/*", "path-include=/usr/share/doc/*/copyright", "path-exclude=/usr/share/man/*",
        "path-exclude=/usr/share/info/*", "path-exclude=/usr/share/locale/*",
        "path-include=/usr/share/locale/locale.alias",
        /* HDMI CEC: DRM helpers of kept GPU drivers may use it. */
        "path-include=/lib/modules/*/kernel/drivers/media/cec/*",
        "path-include=/usr/lib/modules/*/kernel/drivers/media/cec/*",
        NULL,
};

/* The excludes as a dpkg.cfg.d text; the package paths may be /lib/... or /usr/lib/... */
static char *appliance_excludes_text(void) {
        _cleanup_free_ char *t = strdup("# rackstack: what a rack server appliance does not need (builder/rootfs.c)\n");
        static const char *const prefixes[] = { "/lib", "/usr/lib" };
        for (size_t p = 0; t && p < ELEMENTSOF(prefixes); p++) {
                for (size_t i = 0; t && firmware_excludes[i]; i++) {
                        char *n = strprintf("%spath-exclude=%s/firmware/%s\n", t, prefixes[p], firmware_excludes[i]);
                        free(t);
                        t = n;
                }
                for (size_t i = 0; t && module_excludes[i]; i++) {
                        char *n = strprintf("%spath-exclude=%s/modules/*/kernel/%s\n", t, prefixes[p], module_excludes[i]);
                        free(t);
                        t = n;
                }
        }
        for (size_t i = 0; t && other_excludes[i]; i++) {
                char *n = strprintf("%s%s\n", t, other_excludes[i]);
                free(t);
                t = n;
        }
        return TAKE_PTR(t);
}

/* out: a tarball to write, or (directory) an empty directory to build the tree in. */
static int run_mmdebstrap(struct build_ctx *ctx, char *const *packages, const char *out, bool directory) {
        _cleanup_free_ char *include = strv_join(packages, ",");
        _cleanup_free_ char *src_main = strprintf("deb %s %s %s", ctx->mirror, ctx->base->suite, ctx->base->components);
        _cleanup_free_ char *src_upd = strprintf("deb %s %s-updates %s", ctx->mirror, ctx->base->suite,
                                                 ctx->base->components);
        /* Security updates too: an image is built to be trusted, today. */
        _cleanup_free_ char *src_sec = strprintf("deb %s %s-security %s", ctx->security_mirror ?: ctx->mirror,
                                                 ctx->base->suite, ctx->base->components);
        _cleanup_free_ char *include_opt = include ? strprintf("--include=%s", include) : NULL;
        _cleanup_free_ char *essential_hook = strprintf("--essential-hook=%s", divert_hook);
        _cleanup_free_ char *customize_hook = strprintf("--customize-hook=%s", undivert_hook);
        _cleanup_free_ char *keyring_opt = NULL, *keyring = NULL;
        if (!src_main || !src_upd || !src_sec || !include_opt || !essential_hook || !customize_hook)
                return -ENOMEM;
        /* Debian's apt trusts its own archive keys; an Ubuntu base on a Debian host needs Ubuntu's
         * keyring (the host's, or the pinned copy from the archive). */
        if (startswith(ctx->base->name, "ubuntu")) {
                int k = keyring_ensure(ctx, &keyring);
                if (k < 0)
                        return k;
                keyring_opt = strprintf("--keyring=%s", keyring);
                if (!keyring_opt)
                        return -ENOMEM;
        }

        const char *argv[32];
        size_t n = 0;
        argv[n++] = "mmdebstrap";
        argv[n++] = geteuid() == 0 ? "--mode=root" : "--mode=fakechroot";
        argv[n++] = "--variant=minbase";
        argv[n++] = directory ? "--format=directory" : "--format=tar";
        argv[n++] = "--architectures=amd64";
        argv[n++] = "--aptopt=Acquire::Retries \"3\"";
        argv[n++] = "--aptopt=APT::Install-Recommends \"false\"";
        argv[n++] = "--dpkgopt=force-unsafe-io";
        argv[n++] = include_opt;
        argv[n++] = essential_hook;
        argv[n++] = customize_hook;
        if (keyring_opt)
                argv[n++] = keyring_opt;
        /* --dpkgopt=FILE: mmdebstrap appends the file to /etc/dpkg/dpkg.cfg.d/99mmdebstrap, which stays. */
        _cleanup_free_ char *excl_path = NULL, *excl_opt = NULL;
        if (ctx->base->appliance_excludes) {
                _cleanup_free_ char *text = appliance_excludes_text();
                excl_path = strprintf("%s/dpkg-appliance-excludes", ctx->work_dir);
                excl_opt = excl_path ? strprintf("--dpkgopt=%s", excl_path) : NULL;
                if (!text || !excl_opt)
                        return -ENOMEM;
                int k = write_file_atomic(AT_FDCWD, excl_path, text, strlen(text), 0644);
                if (k < 0)
                        return log_error_errno(k, "Failed to write %s: %m", excl_path);
                argv[n++] = excl_opt;
        }
        argv[n++] = ctx->base->suite;
        argv[n++] = out;
        argv[n++] = src_main;
        argv[n++] = src_upd;
        argv[n++] = src_sec;
        argv[n] = NULL;

        _cleanup_free_ char *tmpdir_env = strprintf("TMPDIR=%s", ctx->work_dir);
        if (!tmpdir_env)
                return -ENOMEM;
        const char *env[] = { tmpdir_env, NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.env = env;
        o.private_mounts = geteuid() == 0;
        o.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
        o.tail_lines = 20;
        _cleanup_free_ char *tail = NULL;
        int r = spawn_run(argv, &o, &tail, NULL);
        if (r < 0)
                return r == -EINTR ? r : log_error_errno(r, "Failed to run mmdebstrap: %m");
        if (r != 0) {
                _cleanup_free_ char *cmd = argv_to_string(argv);
                return log_error_errno(-EIO, "mmdebstrap failed (exit %d): %s\n--- last lines ---\n%s",
                                       r, strna(cmd), strempty(tail));
        }
        return 0;
}

char *cache_key_at(const char *family, const char *parent, const char *archive) {
        _cleanup_free_ char *text = strprintf("family=%s\nparent=%s\narchive=%s\n", family, strempty(parent),
                                              archive ?: "unknown");
        return text ? sha256_hex(text, strlen(text)) : NULL;
}

/* KIND/FAMILY.latest: "KEY ARCHIVE\n" of the entry of that family made (or used) last. */
static char *latest_path(const struct build_ctx *ctx, const char *kind, const char *family) {
        return strprintf("%s/%s/%s.latest", ctx->cache_dir, kind, family);
}

static int latest_read(const struct build_ctx *ctx, const char *kind, const char *family, char **ret_key,
                       char **ret_archive) {
        _cleanup_free_ char *p = latest_path(ctx, kind, family), *text = NULL;
        if (!p)
                return -ENOMEM;
        int r = read_file_full(AT_FDCWD, p, 4096, &text, NULL);
        if (r < 0)
                return r;
        if (strlen(text) < 64 + 1 + 1 || strspn(text, "0123456789abcdef") != 64 || text[64] != ' ')
                return -EBADMSG;
        size_t al = strcspn(text + 65, "\n");
        char *key = strndup(text, 64), *archive = strndup(text + 65, al);
        if (!key || !archive) {
                free(key);
                free(archive);
                return -ENOMEM;
        }
        *ret_key = key;
        *ret_archive = archive;
        return 0;
}

void cache_latest_update(struct build_ctx *ctx, const char *kind, const char *family, const char *key) {
        _cleanup_free_ char *old_key = NULL, *old_archive = NULL, *p = latest_path(ctx, kind, family);
        _cleanup_free_ char *line = strprintf("%s %s\n", key, ctx->archive_used ?: "unknown");
        if (!p || !line)
                return;
        bool had = latest_read(ctx, kind, family, &old_key, &old_archive) == 0;
        if (had && streq(old_key, key))
                return;
        if (write_file_atomic(AT_FDCWD, p, line, strlen(line), 0644) < 0 || !had)
                return;
        /* The entry it replaces is out of date: remove it unless a build is using it (it holds
         * the entry's lock shared; a later build finds it gone and this file pointing past it). */
        if (cache_entry_remove(ctx->cache_dir, kind, old_key, false) > 0)
                stage_note("cache", "removing the out-of-date %s entry %.12s", kind, old_key);
}

int cache_entry_remove(const char *cache_dir, const char *kind, const char *key, bool copies_only) {
        _cleanup_free_ char *lock = strprintf("%s/%s/%s.lock", cache_dir, kind, key);
        _cleanup_free_ char *tar = strprintf("%s/%s/%s.tar", cache_dir, kind, key);
        _cleanup_free_ char *sum = strprintf("%s/%s/%s.tar.sha256", cache_dir, kind, key);
        if (!lock || !tar || !sum)
                return -ENOMEM;
        _cleanup_close_ int fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return -errno;
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? -EBUSY : -errno;
        int r = 0;
        if (!copies_only) {
                /* The tarball first: a sum without its tarball is an absent entry (and a few bytes),
                 * a tarball without its sum one no build trusts, taking its size for nothing. */
                if (unlink(tar) == 0)
                        r = 1;
                else if (errno != ENOENT)
                        return -errno;
                (void) unlink(sum);
        }
        layer_tree_remove(tar);
        return r;
}

/* The archive state the keys are made with: the archive's as it is now, so a base cached before a
 * security update is not used after it; with --pin-from, or when the archive cannot be read
 * (offline), the state of the newest entry: the build then uses what it has. */
static int archive_choose(struct build_ctx *ctx, const char *family) {
        if (ctx->archive_used)
                return 0;
        _cleanup_free_ char *key = NULL, *archive = NULL;
        if (ctx->archive_state && !ctx->pin_from)
                ctx->archive_used = strdup(ctx->archive_state);
        else if (latest_read(ctx, "rootfs", family, &key, &archive) == 0)
                ctx->archive_used = TAKE_PTR(archive);
        else
                ctx->archive_used = strdup("unknown");
        return ctx->archive_used ? 0 : -ENOMEM;
}

static int rootfs_family(struct build_ctx *ctx, char **ret) {
        _cleanup_strv_free_ char **pkgs = NULL;
        int r = rootfs_packages(ctx->base, &pkgs);
        if (r < 0)
                return r;
        _cleanup_free_ char *options = strprintf("variant=minbase;initramfs-once;updates;security=%s%s",
                                                 ctx->security_mirror ?: ctx->mirror,
                                                 ctx->base->appliance_excludes ? ";" APPLIANCE_EXCLUDES_TAG : "");
        char *family = options ? cache_key("rootfs", NULL, ctx->base, ctx->mirror, pkgs, options) : NULL;
        if (!family)
                return -ENOMEM;
        *ret = family;
        return 0;
}

int rootfs_ensure_key(struct build_ctx *ctx) {
        if (ctx->rootfs_key)
                return 0;
        _cleanup_free_ char *family = NULL;
        int r = rootfs_family(ctx, &family);
        if (r < 0)
                return r;
        r = archive_choose(ctx, family);
        if (r < 0)
                return r;
        char *key = cache_key_at(family, NULL, streq(ctx->archive_used, "unknown") ? NULL : ctx->archive_used);
        if (!key)
                return -ENOMEM;
        ctx->rootfs_key = key;
        ctx->rootfs_family = TAKE_PTR(family);
        return 0;
}

/* The base built in tree_dir, and its cache tarball packed from there (what mmdebstrap's tar
 * output holds: its tar mode builds the same directory in a temporary place, then tars it with a
 * fixed /dev, which root mode makes in the directory too). */
static int base_build_in_tree(struct build_ctx *ctx, char *const *pkgs, const char *tree_dir, const char *tmp) {
        int r = run_mmdebstrap(ctx, pkgs, tree_dir, true);
        if (r >= 0 && interrupted())
                r = -EINTR;
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", tmp);
        r = pack_tree(tree_dir, fd, NULL);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return log_error_errno(-errno, "Failed to write %s: %m", tmp);
        return 0;
}

int rootfs_ensure(struct build_ctx *ctx, const char *tree_dir, struct cache_entry *ret, bool *ret_in_tree) {
        _cleanup_strv_free_ char **pkgs = NULL;
        int r = rootfs_packages(ctx->base, &pkgs);
        if (r < 0)
                return r;
        r = rootfs_ensure_key(ctx);
        if (r < 0)
                return r;
        const char *key = ctx->rootfs_key, *family = ctx->rootfs_family;

        _cleanup_free_ char *tmp = NULL;
        struct cache_entry e = CACHE_ENTRY_INIT;
        r = cache_entry_lock(ctx->cache_dir, "rootfs", key, &e);
        if (r < 0)
                return r;
        if (cache_entry_present(&e)) {
                cache_entry_share(&e);
                cache_latest_update(ctx, "rootfs", family, key);
                *ret = e;
                if (ret_in_tree)
                        *ret_in_tree = false;
                return 0;
        }

        stage_start("rootfs", "building %s base with mmdebstrap (key %.12s, %zu packages requested; log %s/build.log)",
                    ctx->base->name, key, strv_length(pkgs), ctx->work_dir);
        r = build_mirror_check(ctx);
        if (r < 0)
                goto fail;
        tmp = strprintf("%s.tmp.%d", e.path, (int) getpid());
        if (!tmp) {
                r = -ENOMEM;
                goto fail;
        }
        if (tree_dir)
                r = base_build_in_tree(ctx, pkgs, tree_dir, tmp);
        else {
                r = run_mmdebstrap(ctx, pkgs, tmp, false);
                if (r >= 0 && interrupted())
                        r = -EINTR;
        }
        if (r >= 0)
                r = cache_entry_commit(&e, tmp);
        if (r < 0) {
                (void) unlink(tmp);
                goto fail;
        }
        struct stat st;
        stage_done("rootfs", stat(e.path, &st) == 0 ? (uint64_t) st.st_size : 0,
                   "built base %s (key %.12s, %.0f MiB tarball)", ctx->base->name, key,
                   stat(e.path, &st) == 0 ? st.st_size / 1048576.0 : 0.0);
        cache_entry_share(&e);
        cache_latest_update(ctx, "rootfs", family, key);
        *ret = e;
        if (ret_in_tree)
                *ret_in_tree = tree_dir != NULL;
        return 0;
fail:
        cache_entry_done(&e);
        return r;
}
