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
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "cache-reclaim.h"
#include "cleanup.h"
#include "fileio.h"
#include "hygiene.h"
#include "image.h"
#include "installer.h"
#include "layer-tree.h"
#include "layer.h"
#include "media.h"
#include "log.h"
#include "mkfs.h"
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
              "                                [--vendor-check] [--cache-keep-free SIZE]\n"
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
              "--vendor-check only checks the vendor sources as a build would (keys, signatures, digests,\n"
              "through the mirrors) and prints one line per vendor service; nothing is built.\n"
              "--sign writes SHA256SUMS.sig and bakes PREFIX.pub into the image as " SIGNING_PUB_IN_IMAGE ".\n"
              "--cache-keep-free SIZE (default 12G, or $RACKSTACK_CACHE_KEEP_FREE; 0: never): when less is free\n"
              "in the cache, what no build is using goes first, least recently used first.\n",
              f);
}

struct build_opts {
        const char *role, *base, *mirror, *formats, *out, *cache, *profiles, *firstboot, *sign, *pin_from, *ks,
                *pxe_url, *cache_keep_free;
        char **vendor_maps; /* --mirror FROM=TO */
        bool json, verbose, check_reproducible, defer_vendor, vendor_check;
};

static int parse_args(int argc, char **argv, struct build_opts *ret) {
        enum { ARG_BASE = 0x100, ARG_MIRROR, ARG_FORMAT, ARG_OUT, ARG_CACHE, ARG_JSON, ARG_PROFILES, ARG_FIRSTBOOT, ARG_SIGN,
               ARG_CHECK_REPRODUCIBLE, ARG_PIN_FROM, ARG_KS, ARG_PXE_URL, ARG_DEFER_VENDOR,
               ARG_VENDOR_CHECK, ARG_CACHE_KEEP_FREE };
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
                { "vendor-check", no_argument, NULL, ARG_VENDOR_CHECK },
                { "cache-keep-free", required_argument, NULL, ARG_CACHE_KEEP_FREE },
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
                case ARG_VENDOR_CHECK: o.vendor_check = true; break;
                case ARG_FORMAT: o.formats = optarg; break;
                case ARG_OUT: o.out = optarg; break;
                case ARG_CACHE: o.cache = optarg; break;
                case ARG_CACHE_KEEP_FREE: o.cache_keep_free = optarg; break;
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

/* A tool that ran out of room says so in its own words (mke2fs: "Could not allocate block", qemu-img:
 * "error while writing"): name the cause once, in ours. Called while the failed output's blocks are
 * still held, so a full filesystem still looks full. */
static void explain_full_disk(const char *dir) {
        uint64_t avail;
        if (fs_available(dir, &avail) >= 0 && avail < 64 * MiB)
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

/* What build_run's stages share: the manifest, the unpublished outputs, and what one stage makes
 * for the later ones. */
struct build_run {
        struct build_ctx *ctx;
        const char *unit_path;
        int *remover;
        struct manifest m;
        struct outputs out;
        struct image_layout layout;
        bool have_layout;
        struct installer_env env;
        struct media_source src;
        bool have_src;
        uint64_t tree_bytes;
        char *raw_name, *raw_tmp; /* raw_tmp (and qcow_tmp) belong to out */
        char *qcow_name, *qcow_tmp;
};

static void build_run_done(struct build_run *b) {
        outputs_done(&b->out);
        if (b->have_layout)
                image_layout_done(&b->layout);
        installer_env_done(&b->env);
        media_source_done(&b->src);
        manifest_done(&b->m);
        free(b->raw_name);
        free(b->qcow_name);
}

/* Vendor sources are checked (keys, signatures, digests) before anything is built: a bad one fails
 * the build in seconds. Then the base and the role layer, from the cache or made. */
static int stage_layers(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        outputs_remove_dead_staging(ctx->out_dir);
        int r = vendor_plan(ctx);
        if (r >= 0)
                r = layer_stage(ctx);
        if (r < 0)
                return r;
        b->m.rootfs_key = ctx->rootfs_key;
        b->m.security_mirror = ctx->security_mirror;
        b->m.archive_state = ctx->archive_used;
        b->m.layer_key = ctx->layer_key;
        return 0;
}

/* What goes on top of the layer: overlays, firstboot, the signing key, vendor images; then what
 * the tree holds, for the manifest. */
static int stage_tree(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        int r = overlays_apply(ctx, &b->m);
        if (r >= 0)
                r = firstboot_install(ctx, b->unit_path, &b->m);
        if (r >= 0 && ctx->sign_key)
                r = signing_pub_install(ctx, &b->m);
        if (r >= 0)
                r = vendor_images_install(ctx);
        if (r < 0)
                return r;
        r = query_packages(ctx->tree_dir, &b->m.pkgs, &b->m.n_pkgs);
        if (r < 0)
                return log_error_errno(r, "Failed to list the image's packages: %m");
        r = vendor_record(ctx, &b->m);
        if (r < 0)
                return r;
        b->m.vendor = ctx->vendor;
        b->m.n_vendor = ctx->n_vendor;
        return 0;
}

/* --pin-from: the tree holds exactly the pinned packages. */
static int stage_pins(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        if (!ctx->pins)
                return 0;
        _cleanup_free_ char *report = NULL;
        int r = pins_compare(ctx->pins, ctx->n_pins, b->m.pkgs, b->m.n_pkgs, 20, &report);
        if (r < 0)
                return r;
        if (r > 0) {
                log_error("The packages differ from %s in %d place%s:\n%s"
                          "The base and role layer come from the cache when it has them (same package names, "
                          "same versions as when it was made); a cold cache takes what the mirror %s has now. "
                          "Build from the cache the pinned build used, or drop --pin-from to accept the new "
                          "versions.", ctx->pin_from, r, r == 1 ? "" : "s", report, ctx->mirror);
                return -EBADMSG;
        }
        stage_note("pin", "all %zu packages match %s", b->m.n_pkgs, ctx->pin_from);
        return 0;
}

static int stage_hygiene(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        struct hygiene_report hr;
        int r = hygiene_apply(ctx->tree_dir, ctx->source_date_epoch, &hr);
        if (r < 0)
                return r;
        stage_done("hygiene", 0, "%u files removed, %u logs emptied%s", hr.removed, hr.truncated,
                   ctx->source_date_epoch >= 0 ? ", times clamped to SOURCE_DATE_EPOCH" : "");
        return 0;
}

/* The image's size from the tree's, and room for it (and its qcow2) in the output directory. */
static int stage_measure(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        struct tree_measure tm;
        int r = tree_measure_path(ctx->tree_dir, &tm);
        if (r < 0)
                return log_error_errno(r, "Failed to measure the tree: %m");
        b->tree_bytes = tm.apparent;
        ctx->image_size = build_image_size(b->tree_bytes);
        uint64_t avail;
        if (fs_available(ctx->out_dir, &avail) >= 0 && avail < b->tree_bytes * 2)
                return log_error_errno(-ENOSPC, "Not enough space in %s: %.1f GiB free, about %.1f GiB needed for the "
                                       "image and its qcow2", ctx->out_dir, (double) avail / GiB,
                                       (double) b->tree_bytes * 2 / GiB);
        return 0;
}

/* The raw disk image: always made (every other format comes from it), published with raw. */
static int stage_image(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        b->raw_name = strprintf("%s.raw", ctx->host->name);
        b->qcow_name = strprintf("%s.qcow2", ctx->host->name);
        if (!b->raw_name || !b->qcow_name)
                return -ENOMEM;
        int r = outputs_add(&b->out, ctx->out_dir, b->raw_name, ctx->formats & BUILD_FORMAT_RAW, &b->raw_tmp);
        if (r < 0)
                return r;
        stage_start("image", "assembling a %.2f GiB disk from a %.0f MiB tree", (double) ctx->image_size / GiB,
                    b->tree_bytes / 1048576.0);
        r = image_assemble(ctx, b->raw_tmp, &b->layout);
        if (r < 0) {
                stage_fail("image", r, "image_assemble");
                if (r == -EOPNOTSUPP)
                        log_error("The disk image assembler is not available in this build (builder/image.c).");
                else if (r != -EINTR) {
                        log_error_errno(r, "Failed to assemble the disk image: %m");
                        explain_full_disk(ctx->out_dir);
                }
                return r;
        }
        b->have_layout = true;
        b->m.layout = &b->layout;
        return 0;
}

static bool want_media(const struct build_ctx *ctx) {
        return ctx->formats & (BUILD_FORMAT_ISO | BUILD_FORMAT_PXE);
}

/* For the ISO and PXE: the installer, from the tree before it goes (the image's own kernel,
 * modules and libraries), and the media's UEFI loaders from the tree's own GRUB, like the image's. */
static int stage_installer(struct build_run *b) {
        if (!want_media(b->ctx))
                return 0;
        stage_start("installer", NULL);
        double t0 = now_monotonic();
        int r = installer_build(b->ctx, &b->env);
        if (r < 0) {
                stage_fail("installer", r, "installer_build");
                return r;
        }
        r = media_prepare_loaders(b->ctx, &b->env);
        if (r < 0) {
                stage_fail("installer", r, "media_prepare_loaders");
                return r;
        }
        struct stat st_i, st_s;
        if (stat(b->env.initrd, &st_i) < 0 || stat(b->env.squashfs, &st_s) < 0)
                return -errno;
        stage_done("installer", 0, "kernel %s, initrd %.1f MiB, live root %.1f MiB, %.1f s", b->env.kver,
                   st_i.st_size / 1048576.0, st_s.st_size / 1048576.0, now_monotonic() - t0);
        return 0;
}

/* The tree is in the image now: remove it while the qcow2 is made and the outputs hashed (unless
 * RACKSTACK_KEEP_WORK=1 asks to keep it for inspection). */
static int stage_drop_tree(struct build_run *b) {
        layer_tree_release(b->ctx); /* the layer's overlay goes first: rm then finds an empty directory */
        if (!streq(strempty(getenv("RACKSTACK_KEEP_WORK")), "1")) {
                const char *rm[] = { "rm", "-rf", "--one-file-system", "--", b->ctx->tree_dir, NULL };
                *b->remover = spawn_start(rm);
        }
        stage_done("image", b->ctx->image_size, "%s, %.2f GiB, %zu partitions", b->raw_name,
                   (double) b->layout.disk_size / GiB, b->layout.n_parts);
        return 0;
}

static int make_qcow2(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        /* Made for proxmox/ alone, it is neither listed nor published at the top. */
        bool listed = ctx->formats & BUILD_FORMAT_QCOW2;
        int r = outputs_add(&b->out, ctx->out_dir, b->qcow_name, listed, &b->qcow_tmp);
        if (r < 0)
                return r;
        stage_start("qcow2", NULL);
        r = write_qcow2_into(b->raw_tmp, b->qcow_tmp);
        if (r < 0) {
                if (r != -EINTR)
                        explain_full_disk(ctx->out_dir);
                return r;
        }
        uint64_t size;
        struct stat st;
        if (listed) {
                r = manifest_add_artifact(&b->m, b->qcow_name, b->qcow_tmp);
                if (r < 0)
                        return r;
                size = b->m.artifacts[b->m.n_artifacts - 1].size;
        } else {
                if (stat(b->qcow_tmp, &st) < 0)
                        return -errno;
                size = st.st_size;
        }
        stage_done("qcow2", size, "%s, %.0f MiB", b->qcow_name, size / 1048576.0);
        return 0;
}

/* out/<host>/proxmox/: the qcow2 (a hard link of the pending one), <host>.conf and import.sh, each
 * pending and listed in SHA256SUMS as proxmox/NAME. */
static int proxmox_file(struct build_run *b, const char *dir, const char *name, const char *text) {
        char *tmp;
        _cleanup_free_ char *listed = strprintf("proxmox/%s", name);
        if (!listed)
                return -ENOMEM;
        int r = outputs_add(&b->out, dir, name, true, &tmp);
        if (r < 0)
                return r;
        if (!text) {
                /* the same bytes as the qcow2 next to it: a link, a copy across filesystems */
                if (link(b->qcow_tmp, tmp) < 0) {
                        const char *cp[] = { "cp", "--reflink=auto", "--", b->qcow_tmp, tmp, NULL };
                        r = spawn_run(cp, NULL, NULL, NULL);
                        if (r != 0)
                                return log_error_errno(r < 0 ? r : -EIO, "Failed to copy the qcow2 to %s", tmp);
                }
        } else if ((r = write_tmp_text(tmp, text)) < 0)
                return log_error_errno(r, "Failed to write %s: %m", tmp);
        if (streq(name, "import.sh") && chmod(tmp, 0755) < 0)
                return log_error_errno(-errno, "Failed to chmod %s: %m", tmp);
        return manifest_add_artifact(&b->m, listed, tmp);
}

static int make_proxmox(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
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
        r = proxmox_file(b, dir, plan.qcow2, NULL);
        if (r >= 0)
                r = proxmox_file(b, dir, conf_name, conf);
        if (r >= 0)
                r = proxmox_file(b, dir, "import.sh", script);
        if (r < 0)
                return r;
        stage_done("proxmox", 0, "proxmox/: %s, %s, import.sh (VMID %u, %u cores, %u MiB, %zu data disks)", plan.qcow2,
                   conf_name, plan.vmid, plan.cores, (unsigned) (plan.memory / MiB), plan.n_disks);
        return 0;
}

static int make_raw(struct build_run *b) {
        return manifest_add_artifact(&b->m, b->raw_name, b->raw_tmp);
}

/* The compressed image and its SHA256SUMS the ISO and the PXE set both carry: made once, by the
 * first of them. */
static int media_source_ensure(struct build_run *b) {
        if (b->have_src)
                return 0;
        double t0 = now_monotonic();
        stage_start("media", "compressing the image for the installer");
        const char *raw_hex = NULL;
        for (size_t i = 0; i < b->m.n_artifacts; i++)
                if (streq(b->m.artifacts[i].name, b->raw_name))
                        raw_hex = b->m.artifacts[i].sha256;
        int r = media_source_make(b->ctx, b->raw_tmp, b->raw_name, raw_hex, b->ctx->ks_path, &b->src);
        if (r < 0)
                return r;
        b->have_src = true;
        stage_done("media", 0, "%s, %.1f s", MEDIA_IMAGE_NAME, now_monotonic() - t0);
        return interrupted() ? -EINTR : 0;
}

static int make_iso(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        int r = media_source_ensure(b);
        if (r < 0)
                return r;
        double t0 = now_monotonic();
        _cleanup_free_ char *iso_name = strprintf("%s.iso", ctx->host->name);
        char *iso_tmp;
        if (!iso_name)
                return -ENOMEM;
        r = outputs_add(&b->out, ctx->out_dir, iso_name, true, &iso_tmp);
        if (r < 0)
                return r;
        stage_start("iso", NULL);
        r = media_write_iso(ctx, &b->env, &b->src, iso_tmp);
        if (r >= 0)
                r = manifest_add_artifact(&b->m, iso_name, iso_tmp);
        if (r < 0)
                return r;
        uint64_t size = b->m.artifacts[b->m.n_artifacts - 1].size;
        stage_done("iso", size, "%s, %.0f MiB, %.1f s", iso_name, size / 1048576.0, now_monotonic() - t0);
        return 0;
}

/* Staged in the work directory, from where one rename publishes it, so a killed build leaves
 * nothing in the output directory; only when the two are on different filesystems next to its
 * final place, as pxe.tmp.PID. */
static int pxe_stage_dir(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        struct stat ws, os;
        b->out.dir_final = strprintf("%s/pxe", ctx->out_dir);
        b->out.dir_tmp = stat(ctx->work_dir, &ws) == 0 && stat(ctx->out_dir, &os) == 0 && ws.st_dev == os.st_dev
                                 ? strprintf("%s/pxe", ctx->work_dir)
                                 : strprintf("%s/pxe.tmp.%d", ctx->out_dir, (int) getpid());
        if (!b->out.dir_final || !b->out.dir_tmp)
                return -ENOMEM;
        (void) remove_tree(b->out.dir_tmp);
        if (mkdir(b->out.dir_tmp, 0755) < 0)
                return log_error_errno(-errno, "Failed to create %s: %m", b->out.dir_tmp);
        return 0;
}

static int make_pxe(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        int r = media_source_ensure(b);
        if (r >= 0)
                r = pxe_stage_dir(b);
        if (r < 0)
                return r;
        double t0 = now_monotonic();
        const char *dir = b->out.dir_tmp;
        _cleanup_strv_free_ char **files = NULL;
        stage_start("pxe", "base URL %s", ctx->pxe_url);
        r = media_write_pxe(ctx, &b->env, &b->src, ctx->pxe_url, dir, &files);
        if (r < 0)
                return r;
        uint64_t total = 0;
        for (char **f = files; *f; f++) {
                _cleanup_free_ char *name = strprintf("pxe/%s", *f);
                _cleanup_free_ char *path = strprintf("%s/%s", dir, *f);
                if (!name || !path)
                        return -ENOMEM;
                /* The image (350 MB) was hashed when it was made. */
                char *known = streq(*f, MEDIA_IMAGE_NAME) && b->src.image_sha256 ? strdup(b->src.image_sha256) : NULL;
                r = known ? manifest_add_artifact_hashed(&b->m, name, known, b->src.image_size)
                          : manifest_add_artifact(&b->m, name, path);
                if (r < 0)
                        return r;
                total += b->m.artifacts[b->m.n_artifacts - 1].size;
        }
        stage_done("pxe", total, "pxe/: %zu files, %.0f MiB, %.1f s", strv_length(files), total / 1048576.0,
                   now_monotonic() - t0);
        return 0;
}

/* The output formats, in the order they are made (and listed in SHA256SUMS): each is made when
 * --format names one of made_for (the qcow2 is also proxmox/'s disk). What a format makes is
 * pending in b->out and published with the rest (outputs_publish). */
static const struct format {
        const char *name;
        unsigned flag;
        unsigned made_for;
        int (*make)(struct build_run *b);
} output_formats[] = {
        { "qcow2", BUILD_FORMAT_QCOW2, BUILD_FORMAT_QCOW2 | BUILD_FORMAT_PROXMOX, make_qcow2 },
        { "proxmox", BUILD_FORMAT_PROXMOX, BUILD_FORMAT_PROXMOX, make_proxmox },
        { "raw", BUILD_FORMAT_RAW, BUILD_FORMAT_RAW, make_raw },
        { "iso", BUILD_FORMAT_ISO, BUILD_FORMAT_ISO, make_iso },
        { "pxe", BUILD_FORMAT_PXE, BUILD_FORMAT_PXE, make_pxe },
};

int build_parse_formats(const char *s, unsigned *ret) {
        _cleanup_strv_free_ char **l = NULL;
        if (strv_split(s, ",", &l) < 0)
                return -ENOMEM;
        unsigned mask = 0;
        for (char **f = l; *f; f++) {
                unsigned flag = 0;
                for (size_t i = 0; i < ELEMENTSOF(output_formats); i++)
                        if (streq(*f, output_formats[i].name))
                                flag = output_formats[i].flag;
                if (!flag)
                        return -EINVAL;
                mask |= flag;
        }
        if (!mask)
                return -EINVAL;
        *ret = mask;
        return 0;
}

static int stage_formats(struct build_run *b) {
        for (size_t i = 0; i < ELEMENTSOF(output_formats); i++) {
                if (!(b->ctx->formats & output_formats[i].made_for))
                        continue;
                if (interrupted())
                        return -EINTR;
                int r = output_formats[i].make(b);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* manifest.json, then SHA256SUMS over every listed output, and with --sign its signature. The
 * signature is published before SHA256SUMS (files are published in order): whoever sees the new
 * SHA256SUMS finds its signature next to it. */
static int stage_sums(struct build_run *b) {
        struct build_ctx *ctx = b->ctx;
        char *manifest_tmp, *sums_tmp, *sig_tmp;
        _cleanup_free_ char *json = manifest_to_json(&b->m);
        if (!json)
                return -ENOMEM;
        int r = outputs_add(&b->out, ctx->out_dir, "manifest.json", true, &manifest_tmp);
        if (r >= 0)
                r = write_tmp_text(manifest_tmp, json);
        if (r >= 0)
                r = manifest_add_artifact(&b->m, "manifest.json", manifest_tmp);
        if (r < 0)
                return r;
        _cleanup_free_ char *sums = sha256sums_text(b->m.artifacts, b->m.n_artifacts);
        if (!sums)
                return -ENOMEM;
        if (ctx->sign_key) {
                unsigned char sig[64];
                double t0 = now_monotonic();
                r = ed25519_sign(ctx->sign_key, sums, strlen(sums), sig);
                if (r < 0)
                        return log_error_errno(r, "Failed to sign SHA256SUMS with %s: %m", ctx->sign_key);
                r = outputs_add(&b->out, ctx->out_dir, SHA256SUMS_SIG, true, &sig_tmp);
                if (r >= 0)
                        r = write_tmp_data(sig_tmp, sig, sizeof sig);
                if (r < 0)
                        return r;
                stage_note("sign", "SHA256SUMS signed with %s in %.3f s", ctx->sign_key, now_monotonic() - t0);
        }
        r = outputs_add(&b->out, ctx->out_dir, "SHA256SUMS", true, &sums_tmp);
        if (r >= 0)
                r = write_tmp_text(sums_tmp, sums);
        return r;
}

/* Publish all at once, SHA256SUMS last: whoever sees it sees a complete set. */
static int stage_publish(struct build_run *b) {
        int r = outputs_publish(&b->out);
        if (r < 0)
                return r;
        struct buf made = {};
        for (size_t i = 0; i < ELEMENTSOF(output_formats); i++)
                if (b->ctx->formats & output_formats[i].flag)
                        buf_printf(&made, " %s", output_formats[i].name);
        _cleanup_free_ char *list = buf_steal(&made);
        stage_done("outputs", 0, "%s:%s", b->ctx->out_dir, strempty(list));
        return 0;
}

/* Everything after the role layer, a stage at a time; an interrupt is noticed between stages (and
 * inside the long ones). */
static int build_run(struct build_ctx *ctx, const char *unit_path, int *remover) {
        static int (*const stages[])(struct build_run *b) = {
                stage_layers, stage_tree,      stage_pins,    stage_hygiene, stage_measure,
                stage_image,  stage_installer, stage_drop_tree, stage_formats, stage_sums,
                stage_publish,
        };
        struct build_run b = {
                .ctx = ctx,
                .unit_path = unit_path,
                .remover = remover,
                .m = {
                        .tool_version = RACKSTACK_VERSION,
                        .role = ctx->profile->role,
                        .host = ctx->host->name,
                        .base = ctx->base->name,
                        .suite = ctx->base->suite,
                        .mirror = ctx->mirror,
                        .source_date_epoch = ctx->source_date_epoch,
                        .profile = ctx->profile,
                },
        };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(stages) && r >= 0; i++) {
                if (i > 0 && interrupted())
                        r = -EINTR;
                else
                        r = stages[i](&b);
        }
        build_run_done(&b);
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
                { "--pxe-url", o->pxe_url },   { "--cache-keep-free", o->cache_keep_free },
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

/* The options that are checked before anything else: the base, the formats, --pxe-url and
 * SOURCE_DATE_EPOCH (-1 when unset). */
static int check_options(const struct build_opts *o, const struct base_info **ret_base, unsigned *ret_formats,
                         int64_t *ret_sde) {
        const struct base_info *base = base_find(o->base);
        if (!base)
                return log_error_errno(-EINVAL, "Unknown base '%s' (choose ubuntu-24.04 or debian-12)", o->base);
        unsigned formats;
        if (build_parse_formats(o->formats, &formats) < 0)
                return log_error_errno(-EINVAL, "Bad --format '%s' (a comma-separated list of raw, qcow2, iso, pxe, "
                                       "proxmox)", o->formats);
        int r = build_check_pxe_url(o->pxe_url);
        if (r < 0)
                return log_error_errno(r, "Bad --pxe-url '%s': an http:// URL without spaces, quotes or a trailing '/'",
                                       o->pxe_url);
        int64_t sde = -1;
        const char *sde_s = getenv("SOURCE_DATE_EPOCH");
        if (!isempty(sde_s)) {
                uint64_t v;
                if (parse_uint64(sde_s, &v) < 0 || v > INT64_MAX)
                        return log_error_errno(-EINVAL, "SOURCE_DATE_EPOCH='%s' is not a number of seconds", sde_s);
                sde = (int64_t) v;
        }
        *ret_base = base;
        *ret_formats = formats;
        *ret_sde = sde;
        return 0;
}

/* --cache-keep-free, else $RACKSTACK_CACHE_KEEP_FREE, else 12 GiB: a cold build of a large role
 * peaks near 10 GiB in the cache (base and layer tarballs, the work tree, the unpacked tree, the
 * layer's ext4). */
static int keep_free_option(const char *opt, uint64_t *ret) {
        const char *env = getenv("RACKSTACK_CACHE_KEEP_FREE"), *v = opt ?: env;
        uint64_t n = 12 * GiB;
        if (!isempty(v) && parse_size(v, &n) < 0)
                return log_error_errno(-EINVAL, "Bad %s '%s': a size such as 12G or 500M, or 0 (never remove anything)",
                                       opt ? "--cache-keep-free" : "RACKSTACK_CACHE_KEEP_FREE", v);
        *ret = n;
        return 0;
}

/* Where the build's inputs are: as the other verbs, $RACKSTACK_DATADIR, the checkout we run in,
 * the installed data; and also the checkout next to the binary (build/rackstack-build run from
 * elsewhere). Fills ctx's data_dir, profiles_dir, overlays_dir, firstboot_bin. */
static int find_inputs(const struct build_opts *o, struct build_ctx *ctx, char **ret_unit) {
        _cleanup_free_ char *bindir = exe_dir();
        _cleanup_free_ char *srcdir = bindir ? strprintf("%s/..", bindir) : NULL;
        _cleanup_free_ char *src_marker = srcdir ? strprintf("%s/firstboot/rackstack-firstboot.service", srcdir) : NULL;
        const char *data_dir_s = data_dir();
        if (streq(data_dir_s, RACKSTACK_DATADIR) && src_marker && access(src_marker, R_OK) == 0)
                data_dir_s = srcdir;
        ctx->data_dir = strdup(data_dir_s);
        ctx->profiles_dir = o->profiles ? strdup(o->profiles) : strprintf("%s/profiles", data_dir_s);
        ctx->overlays_dir = strprintf("%s/overlays", data_dir_s);
        ctx->firstboot_bin = o->firstboot ? strdup(o->firstboot)
                                          : strprintf("%s/rackstack-firstboot", bindir ? bindir : ".");
        _cleanup_free_ char *unit = strprintf("%s/firstboot/rackstack-firstboot.service", data_dir_s);
        if (!ctx->data_dir || !ctx->profiles_dir || !ctx->overlays_dir || !ctx->firstboot_bin || !unit)
                return -ENOMEM;
        if (access(unit, R_OK) < 0) {
                free(unit);
                unit = strdup("/usr/lib/systemd/system/rackstack-firstboot.service");
                if (!unit)
                        return -ENOMEM;
        }
        *ret_unit = TAKE_PTR(unit);
        return 0;
}

/* The kickstart goes onto the media as it is: check it now, as `validate` would. */
static int check_ks(const char *ks, const struct site *site) {
        if (access(ks, R_OK) < 0) {
                log_error_errno(-errno, "--ks %s: %m", ks);
                return -EINVAL;
        }
        struct diags d = {};
        validate_kickstart(ks, site, &d);
        diags_print(&d, stderr);
        int r = diags_failed(&d) ? -EINVAL : 0;
        diags_done(&d);
        return r;
}

/* --ks, --pin-from and --sign, into ctx. */
static int check_input_files(const struct build_opts *o, struct build_ctx *ctx) {
        int r = o->ks ? check_ks(o->ks, ctx->site) : 0;
        if (r < 0)
                return r;
        if (o->pin_from) {
                r = pins_load(o->pin_from, &ctx->pins, &ctx->n_pins);
                if (r >= 0)
                        r = pins_load_digests(o->pin_from, &ctx->digest_pins, &ctx->n_digest_pins);
                if (r < 0)
                        return r;
        }
        if (!o->sign)
                return 0;
        ctx->sign_key = strdup(o->sign);
        ctx->sign_pub = signing_pub_for_key(o->sign);
        if (!ctx->sign_key || !ctx->sign_pub)
                return -ENOMEM;
        return signing_check_pair(o->sign, ctx->sign_pub);
}

/* What the machine must have: root, the host tools, the firstboot binary. */
static int check_host(const struct build_ctx *ctx) {
        if (geteuid() != 0)
                return log_error_errno(-EPERM, "rackstack-build build needs root: the role layer runs apt-get in a "
                                       "chroot and the image keeps the files' owners. Run it with sudo.");
        int r = check_tools(ctx->formats);
        if (r < 0)
                return r;
        if (access(ctx->firstboot_bin, X_OK) < 0)
                return log_error_errno(-ENOENT, "The firstboot binary %s is missing: run make, or pass --firstboot PATH",
                                       ctx->firstboot_bin);
        return 0;
}

/* The mirrors (the distribution's, its security archive, the vendors'), the cache and the
 * output directory. */
static int resolve_places(const struct build_opts *o, struct build_ctx *ctx) {
        int r = vendor_maps_init(ctx, o->vendor_maps);
        if (r >= 0)
                r = mirror_resolve(o->mirror, getenv("RACKSTACK_MIRROR"), ctx->base, "/", &ctx->mirror,
                                   &ctx->mirror_origin);
        if (r >= 0)
                r = security_mirror_resolve(getenv("RACKSTACK_SECURITY_MIRROR"), ctx->base, ctx->mirror,
                                            ctx->mirror_origin, "/", &ctx->security_mirror, &ctx->security_origin);
        if (r < 0)
                return r;
        ctx->cache_dir = o->cache ? strdup(o->cache) : cache_dir_default();
        ctx->out_dir = strprintf("%s/%s", o->out, ctx->host->name);
        ctx->pxe_url = o->pxe_url ? strdup(o->pxe_url) : media_default_pxe_url(ctx->host->name);
        if (!ctx->cache_dir || !ctx->out_dir || !ctx->pxe_url)
                return log_error_errno(-ENOMEM, "Out of memory");
        if (o->vendor_check) /* writes nothing there */
                return 0;
        r = mkdir_parents_at(AT_FDCWD, ctx->out_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", ctx->out_dir);
        return 0;
}

/* A locked work directory in the cache (clean_stale_work tells a live build's by the lock), its
 * tree and the build log. */
static int work_dir_setup(struct build_ctx *ctx, int *ret_lock_fd, char **ret_log_path) {
        _cleanup_free_ char *workroot = strprintf("%s/work", ctx->cache_dir);
        int r;
        if (!workroot || (r = mkdir_parents_at(AT_FDCWD, workroot, 0755)) < 0)
                return log_error_errno(workroot ? r : -ENOMEM, "Failed to create %s/work: %m", ctx->cache_dir);
        ctx->work_dir = strprintf("%s/%s-XXXXXX", workroot, ctx->host->name);
        if (!ctx->work_dir || !mkdtemp(ctx->work_dir)) {
                r = log_error_errno(-errno, "Failed to create a work directory in %s: %m", workroot);
                free(ctx->work_dir);
                ctx->work_dir = NULL;
                return r;
        }
        _cleanup_free_ char *work_lock = strprintf("%s/.lock", ctx->work_dir);
        *ret_lock_fd = work_lock ? open(work_lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (*ret_lock_fd < 0 || flock(*ret_lock_fd, LOCK_EX) < 0)
                return log_error_errno(-errno, "Failed to lock the work directory %s: %m", ctx->work_dir);
        clean_stale_work(workroot);
        ctx->tree_dir = strprintf("%s/tree", ctx->work_dir);
        *ret_log_path = strprintf("%s/build.log", ctx->work_dir);
        if (!ctx->tree_dir || !*ret_log_path || mkdir(ctx->tree_dir, 0755) < 0)
                return log_error_errno(-errno, "Failed to create the work tree: %m");
        ctx->log_fd = open(*ret_log_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);

        /* Room first from what no build is using (a cache that fills the disk should not stop builds),
         * then the check: a base build needs room for mmdebstrap's tree and its tarball, the work tree
         * and the layer tarball: say so now rather than after minutes of work. */
        r = cache_reclaim_for_build(ctx->cache_dir, ctx->cache_keep_free);
        if (r < 0)
                log_warning_errno(r, "Could not take room back in %s: %m", ctx->cache_dir);
        uint64_t avail;
        if (fs_available(ctx->cache_dir, &avail) >= 0 && avail < 6 * GiB)
                return log_error_errno(-ENOSPC, "Only %.1f GiB free in %s; a build needs about 6 GiB there "
                                       "(choose another with --cache DIR)", (double) avail / GiB,
                                       ctx->cache_dir);
        return 0;
}

/* The end of a build, done or not: a failed build's log kept, the work directory removed, the
 * outcome said. */
static void build_finish(struct build_ctx *ctx, int r, const char *log_path, int remover) {
        if (r < 0 && ctx->log_fd >= 0 && log_path) {
                /* Keep the log of a failed build where the next one will not delete it. */
                _cleanup_free_ char *kept_log = strprintf("%s/last-failed-%s.log", ctx->cache_dir, ctx->host->name);
                if (kept_log && rename(log_path, kept_log) == 0)
                        log_error("The full log of the failed build is in %s", kept_log);
        }
        if (ctx->log_fd >= 0)
                close(ctx->log_fd);
        ctx->log_fd = -1;
        if (remover > 0)
                (void) spawn_wait(remover);
        layer_tree_release(ctx);
        /* RACKSTACK_KEEP_WORK=1 keeps the work tree for inspection (tests, debugging). */
        if (ctx->work_dir && streq(strempty(getenv("RACKSTACK_KEEP_WORK")), "1")) {
                log_notice("Keeping the work directory %s (RACKSTACK_KEEP_WORK=1)", ctx->work_dir);
        } else if (ctx->work_dir) {
                int k = remove_tree(ctx->work_dir);
                if (k < 0)
                        log_warning_errno(k, "Failed to remove the work directory %s: %m", ctx->work_dir);
        }
        if (r == -EINTR) {
                stage_fail("build", r, "interrupted");
                log_error("Interrupted: the temporary files are removed and %s holds nothing new.", strna(ctx->out_dir));
        } else if (r < 0)
                stage_fail("build", r, "build of %s failed", ctx->host->name);
        else
                stage_done("build", 0, "%s done in %.1f s", ctx->host->name, now_monotonic() - ctx->t_start);
}

static void build_ctx_done(struct build_ctx *ctx) {
        char **owned[] = {
                &ctx->mirror,       &ctx->cache_dir,   &ctx->out_dir,      &ctx->work_dir,    &ctx->tree_dir,
                &ctx->firstboot_bin, &ctx->data_dir,   &ctx->pxe_url,      &ctx->security_mirror,
                &ctx->archive_state, &ctx->archive_used, &ctx->rootfs_key, &ctx->rootfs_family, &ctx->layer_key,
                &ctx->profiles_dir, &ctx->overlays_dir, &ctx->sign_key,    &ctx->sign_pub,
        };
        for (size_t i = 0; i < ELEMENTSOF(owned); i++) {
                free(*owned[i]);
                *owned[i] = NULL;
        }
        pkg_versions_free(ctx->pins, ctx->n_pins);
        pkg_versions_free(ctx->digest_pins, ctx->n_digest_pins);
        vendor_ctx_done(ctx);
}

/* --vendor-check: the vendor stage's checks (the same as a build's first stage), then one line per
 * vendor service on stdout. */
static int vendor_check_run(struct build_ctx *ctx) {
        int r = vendor_plan(ctx);
        if (r < 0)
                return r;
        _cleanup_free_ char *report = vendor_check_render(ctx);
        if (!report)
                return log_error_errno(-ENOMEM, "Out of memory");
        fputs(report, stdout);
        return fflush(stdout) == 0 ? 0 : -errno;
}

/* Everything before the build starts: bad input first (exit 2, whatever the machine), then what
 * the machine lacks. */
static int build_check(const struct build_opts *o, struct build_ctx *ctx, struct profile **ret_profile,
                       struct site **ret_site, char **ret_unit) {
        int r = find_inputs(o, ctx, ret_unit);
        if (r >= 0)
                r = load_inputs(ctx->profiles_dir, o->role, ret_profile, ret_site, &ctx->host);
        if (r < 0)
                return r;
        ctx->profile = *ret_profile;
        ctx->site = *ret_site;
        r = check_input_files(o, ctx);
        if (r >= 0)
                r = check_host(ctx);
        return r;
}

int build_main(int argc, char **argv) {
        struct build_opts o = {};
        int r = parse_args(argc, argv, &o);
        _cleanup_strv_free_ char **opt_maps = o.vendor_maps;
        if (r != 0)
                return r < 0 ? r : 0;
        struct build_ctx ctx = {
                .json = o.json,
                .verbose = o.verbose,
                .ks_path = o.ks,
                .pin_from = o.pin_from,
                .defer_vendor = o.defer_vendor,
                .log_fd = -1,
        };
        r = check_options(&o, &ctx.base, &ctx.formats, &ctx.source_date_epoch);
        if (r >= 0)
                r = keep_free_option(o.cache_keep_free, &ctx.cache_keep_free);
        if (r < 0)
                return r;
        if (o.check_reproducible)
                return check_reproducible(&o, ctx.source_date_epoch);

        _cleanup_(profile_freep) struct profile *profile = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        _cleanup_free_ char *unit_src = NULL, *log_path = NULL;
        _cleanup_close_ int work_lock_fd = -EBADF;
        int remover = -1;
        r = build_check(&o, &ctx, &profile, &site, &unit_src);
        if (r < 0) {
                build_ctx_done(&ctx);
                return r;
        }
        progress_init(o.json);
        interrupt_install();
        ctx.t_start = now_monotonic();
        r = resolve_places(&o, &ctx);
        if (r >= 0)
                r = work_dir_setup(&ctx, &work_lock_fd, &log_path);
        if (r >= 0) {
                stage_note("build", "role %s, host %s, base %s, mirror %s (%s), cache %s", ctx.profile->role,
                           ctx.host->name, ctx.base->name, ctx.mirror, ctx.mirror_origin, ctx.cache_dir);
                if (o.vendor_check)
                        r = vendor_check_run(&ctx);
                else {
                        archive_check(&ctx);
                        r = build_run(&ctx, unit_src, &remover);
                }
        }
        build_finish(&ctx, r, log_path, remover);
        build_ctx_done(&ctx);
        return r;
}
