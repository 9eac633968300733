/* SPDX-License-Identifier: MIT */
/* `rackstack-firstboot install`: write the role's image from the installer medium (or HTTP) onto
 * the OS disk, verified, then reboot into it. The installer environment's init runs
 *         /usr/sbin/rackstack-firstboot install --source SRC [--ks FILE]
 * Probe and plan first (read-only; --dry-run stops there), then verify what can be verified before
 * the first write, then stream. */
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"
#include "answers.h"
#include "ed25519.h"
#include "fileio.h"
#include "image-identity.h"
#include "install-apply.h"
#include "gpt.h"
#include "install-main.h"
#include "install-plan.h"
#include "kcmdline.h"
#include "kickstart.h"
#include "lib-cleanup.h"
#include "parse.h"
#include "log.h"
#include "profile.h"
#include "signed-sums.h"
#include "role-profile.h"
#include "storage-answers.h"
#include "util.h"

#define INSTALL_PROFILE IMAGE_PROFILE
#define INSTALL_PUBKEY "/usr/share/rackstack/signing.pub"
#define SUMS_MAX (1024 * 1024)

static void usage(FILE *f) {
        fputs("usage: rackstack-firstboot install --source SRC [OPTIONS]\n"
              "  --source SRC        a directory (the mounted medium) or an http:// URL prefix holding\n"
              "                      SHA256SUMS, the image (*.raw.zst or *.raw.gz), maybe SHA256SUMS.sig, ks.cfg\n"
              "  --ks FILE           kickstart answers (default: SRC/ks.cfg, else inst.ks=, an OEMDRV volume)\n"
              "  --no-search         no answers beyond --ks and SRC/ks.cfg (no inst.ks=, OEMDRV)\n"
              "  --any-role          install an image whose image.json names another role than the answers'\n"
              "  --ks-url URL        --ks was fetched from URL (over the network: it must be pinned)\n"
              "  --ks-sha256 HEX     --ks must have this sha256\n"
              "  --target DEV        only this disk may be chosen (it must still fit the role's OS disk)\n"
              "  --clear DEV,...     clearpart --drives: these may be overwritten although they hold data\n"
              "  --profile FILE      the role profile (default " INSTALL_PROFILE ")\n"
              "  --role ROLE         the role's profile from --profiles DIR (default " DEFAULT_PROFILES ")\n"
              "  --profiles DIR      where --role's profiles are\n"
              "  --image NAME        the image's name in SHA256SUMS (default: the first *.raw.zst, *.raw.gz)\n"
              "  --pubkey FILE       verify SHA256SUMS.sig with this key (default " INSTALL_PUBKEY " if present)\n"
              "  --dry-run           print the plan and verify the signature; write nothing\n"
              "  --yes               without answers on a terminal, do not ask before writing\n"
              "  --no-reboot         stop after the install instead of rebooting\n"
              "  -v, --verbose       debug output\n", f);
}

struct install_opts {
        const char *source, *ks, *target, *profile, *profiles, *role, *image, *pubkey;
        const char *ks_url, *ks_sha256; /* --ks was fetched from ks_url (the PXE init does), pinned to ks_sha256 */
        char **clear;
        bool dry_run, no_reboot, yes, no_search, any_role;
};

/* The console contract of the install: the last line says how it ended. */
static int fail(const char *reason) {
        printf("rackstack-firstboot: FAILED at install: %s\n", reason);
        fflush(stdout);
        return 1;
}

/* The kernel name of the whole disk under a device number ("sdb" for 8:17), or NULL. */
static char *disk_of_devnum(dev_t dev) {
        if (major(dev) == 0)
                return NULL; /* tmpfs, overlay, squashfs on a file: not on a disk */
        _cleanup_free_ char *link = strprintf("/sys/dev/block/%u:%u", major(dev), minor(dev));
        _cleanup_free_ char *real = link ? realpath(link, NULL) : NULL;
        if (!real)
                return NULL;
        _cleanup_free_ char *part = strprintf("%s/partition", real);
        if (part && access(part, F_OK) == 0) {
                char *slash = strrchr(real, '/');
                if (slash)
                        *slash = 0;
        }
        const char *base = strrchr(real, '/');
        return base ? strdup(base + 1) : NULL;
}

static char *iso_label_of(const char *disk) {
        _cleanup_free_ char *node = strprintf("/dev/%s", disk);
        _cleanup_(blkid_free_probep) blkid_probe pr = node ? blkid_new_probe_from_filename(node) : NULL;
        const char *t = NULL, *l = NULL;
        if (!pr || blkid_do_safeprobe(pr) != 0 || blkid_probe_lookup_value(pr, "TYPE", &t, NULL) != 0 ||
            !streq(t, "iso9660") || blkid_probe_lookup_value(pr, "LABEL", &l, NULL) != 0)
                return NULL;
        return strdup(l);
}

static int parse_args(int argc, char **argv, struct install_opts *o) {
        enum { O_SOURCE = 256, O_KS, O_TARGET, O_CLEAR, O_PROFILE, O_ROLE, O_IMAGE, O_PUBKEY, O_DRY, O_NOREBOOT, O_YES, O_NOSEARCH,
               O_KS_URL, O_KS_SHA256, O_ANY_ROLE, O_PROFILES };
        static const struct option longopts[] = {
                { "source", required_argument, NULL, O_SOURCE },   { "ks", required_argument, NULL, O_KS },
                { "target", required_argument, NULL, O_TARGET },   { "clear", required_argument, NULL, O_CLEAR },
                { "profile", required_argument, NULL, O_PROFILE }, { "role", required_argument, NULL, O_ROLE },
                { "profiles", required_argument, NULL, O_PROFILES },
                { "image", required_argument, NULL, O_IMAGE },     { "pubkey", required_argument, NULL, O_PUBKEY },
                { "dry-run", no_argument, NULL, O_DRY },           { "no-reboot", no_argument, NULL, O_NOREBOOT },
                { "yes", no_argument, NULL, O_YES },               { "no-search", no_argument, NULL, O_NOSEARCH },
                { "any-role", no_argument, NULL, O_ANY_ROLE },
                { "ks-url", required_argument, NULL, O_KS_URL }, { "ks-sha256", required_argument, NULL, O_KS_SHA256 },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        optind = 1;
        int c;
        while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) >= 0) {
                switch (c) {
                case O_SOURCE: o->source = optarg; break;
                case O_KS: o->ks = optarg; break;
                case O_TARGET: o->target = optarg; break;
                case O_CLEAR: {
                        _cleanup_strv_free_ char **l = NULL;
                        if (strv_split(optarg, ",", &l) < 0)
                                return -ENOMEM;
                        for (char **s = l; *s; s++)
                                if (strv_extend(&o->clear, *s) < 0)
                                        return -ENOMEM;
                        break;
                }
                case O_PROFILE: o->profile = optarg; break;
                case O_ROLE: o->role = optarg; break;
                case O_PROFILES: o->profiles = optarg; break;
                case O_IMAGE: o->image = optarg; break;
                case O_PUBKEY: o->pubkey = optarg; break;
                case O_DRY: o->dry_run = true; break;
                case O_NOREBOOT: o->no_reboot = true; break;
                case O_YES: o->yes = true; break;
                case O_NOSEARCH: o->no_search = true; break;
                case O_KS_URL: o->ks_url = optarg; break;
                case O_ANY_ROLE: o->any_role = true; break;
                case O_KS_SHA256: o->ks_sha256 = optarg; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'h': usage(stdout); return 1;
                default: usage(stderr); return -EINVAL;
                }
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return -EINVAL;
        }
        if ((o->ks_url || o->ks_sha256) && !o->ks) {
                log_error("--ks-url and --ks-sha256 describe the file --ks names");
                return -EINVAL;
        }
        uint8_t pin[32];
        if (o->ks_sha256 && parse_sha256_hex(o->ks_sha256, pin) < 0) {
                log_error("--ks-sha256 %s: not 64 hex digits", o->ks_sha256);
                return -EINVAL;
        }
        if (!o->source) {
                log_error("install needs --source DIR or --source http://HOST/PATH");
                usage(stderr);
                return -EINVAL;
        }
        return 0;
}

struct install_run {
        struct install_opts o;
        struct install_source src;
        struct sha256sums sums;
        char *sums_text;
        size_t sums_size;
        struct profile *profile;
        struct storage_answers answers;
        char *ks_role;    /* the answers' %addon role */
        bool sums_signed; /* SHA256SUMS.sig is there and a key to check it: the install checks it */
        char *ks_path, *ks_tmp;
        char *ks_data, *ks_name; /* the accepted kickstart as read, and the name its diagnostics cite */
        size_t ks_size;
        struct disk_set *disks;
        struct install_plan *plan;
};

static void install_run_done(struct install_run *r) {
        strv_free(r->o.clear);
        sha256sums_done(&r->sums);
        free(r->sums_text);
        profile_free(r->profile);
        storage_answers_done(&r->answers);
        if (r->ks_tmp)
                (void) unlink(r->ks_tmp);
        free(r->ks_tmp);
        free(r->ks_path);
        if (r->ks_data)
                explicit_bzero(r->ks_data, r->ks_size); /* it may hold a password hash */
        free(r->ks_data);
        free(r->ks_name);
        free(r->ks_role);
        disk_set_free(r->disks);
        install_plan_free(r->plan);
}

/* Where the answers are: --ks, else SRC/ks.cfg, else where firstboot looks (inst.ks=, an OEMDRV
 * volume). Each goes through answers_accept(), the trust path firstboot uses: SRC/ks.cfg is taken
 * only when SRC's SHA256SUMS lists it (signed, when the image is), a file the installer's init
 * fetched only with its pin. The accepted copy is what goes onto the installed root. Sets
 * R->ks_path, or leaves it NULL for none. 0, or an exit status. */
static int find_ks(struct install_run *R) {
        _cleanup_free_ char *data = NULL, *label = NULL, *how = NULL;
        size_t size = 0;
        struct answers_origin ao = {};
        int r;
        if (R->o.ks) {
                struct stat st;
                if (stat(R->o.ks, &st) < 0)
                        return log_error_errno(-errno, "--ks %s: %m", R->o.ks), 2;
                if ((r = read_file_full(AT_FDCWD, R->o.ks, KS_FILE_MAX, &data, &size)) < 0)
                        return log_error_errno(r, "Failed to read --ks %s: %m", R->o.ks), fail("cannot read the kickstart");
                label = R->o.ks_url ? strprintf("kernel cmdline inst.ks=%s", R->o.ks_url) : strprintf("--ks %s", R->o.ks);
                ao = (struct answers_origin) { .over_network = R->o.ks_url != NULL, .mode = st.st_mode,
                                               .sha256 = R->o.ks_sha256 };
        } else if ((r = install_source_read(&R->src, "ks.cfg", KS_FILE_MAX, &data, &size)) >= 0) {
                label = strprintf("%s/ks.cfg", R->src.base);
                const char *listed = sha256sums_lookup(&R->sums, "ks.cfg");
                if (!listed)
                        return log_error("%s is not listed in %s/SHA256SUMS: answers from the source are taken only "
                                         "when its (signed) list names them (rackstack-build lists the ks.cfg it puts "
                                         "there)", strna(label), R->src.base),
                               fail("ks.cfg on the source is not in SHA256SUMS");
                struct stat st = { .st_mode = 0600 };
                _cleanup_free_ char *local = R->src.http ? NULL : strprintf("%s/ks.cfg", R->src.base);
                if (local && stat(local, &st) < 0)
                        return log_error_errno(-errno, "%s: %m", local), fail("cannot read ks.cfg");
                ao = (struct answers_origin) { .over_network = R->src.http, .mode = st.st_mode, .sha256 = listed,
                                               .sha256_signed = R->sums_signed };
        } else if (r != -ENOENT)
                return log_error_errno(r, "Failed to read %s/ks.cfg: %m", R->src.base), fail("cannot read ks.cfg");
        else if (R->o.no_search)
                return 0;
        else {
                struct answers_find_options fo = ANSWERS_FIND_OPTIONS_DEFAULT;
                fo.copy_name = "install-ks.cfg";
                r = answers_find("/", &fo, &R->ks_path, &label, &how);
                if (r == -ENOENT)
                        return 0;
                if (r < 0)
                        return log_error_errno(r, "Failed to read the kickstart: %m"), fail("cannot read the kickstart");
        }
        if (!label)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        if (data) {
                ao.label = label;
                r = answers_accept(&ao, data, size, "/", "install-ks.cfg", &R->ks_path, &how);
                if (r < 0)
                        return fail(r == -EBADMSG ? "the kickstart does not match its sha256" :
                                    r == -EACCES ? "the kickstart holds a password hash others could read" :
                                    r == -EPERM ? "the kickstart came over HTTP neither pinned nor signed" :
                                    "cannot keep the kickstart");
        }
        printf("rackstack-firstboot: install: answers from %s (%s)\n", label, strna(how));
        if (data) {
                /* Parsed from what was accepted, under the name the operator gave: the plan cites
                 * "ks.cfg:4" of the file they wrote, not of our private copy. */
                R->ks_name = R->o.ks ? strdup(R->o.ks) : strprintf("%s/ks.cfg", R->src.base);
                if (!R->ks_name)
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
                R->ks_size = size;
                R->ks_data = TAKE_PTR(data);
        }
        R->ks_tmp = strdup(R->ks_path);
        return R->ks_tmp ? 0 : (log_error_errno(-ENOMEM, "Out of memory"), 1);
}

static int load_answers(struct install_run *R) {
        int r = find_ks(R);
        if (r != 0 || !R->ks_path)
                return r;
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        if (R->ks_data)
                r = ks_parse_buffer(R->ks_name, R->ks_data, R->ks_size, &d, &ks);
        else
                r = ks_load_file(R->ks_path, &d, &ks);
        diags_print(&d, stderr);
        if (r < 0)
                return log_error_errno(r, "Failed to load the kickstart '%s': %m", R->ks_name ? R->ks_name : R->ks_path), 2;
        if (ks->addon.role && !(R->ks_role = strdup(ks->addon.role)))
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        r = storage_answers_from_ks(ks, &R->answers);
        if (r < 0)
                return log_error_errno(r, "Failed to read the kickstart's disk answers: %m"), 1;
        return 0;
}

/* What the image says it is (image.json, when SHA256SUMS lists it): refused for another role than
 * the answers' (or --role's, or the installer's profile's) unless --any-role. 0, or an exit status. */
static int check_identity(struct install_run *R) {
        const char *listed = sha256sums_lookup(&R->sums, "image.json");
        if (!listed)
                return 0; /* an older build's source: nothing to compare */
        _cleanup_free_ char *text = NULL, *have = NULL, *reason = NULL;
        size_t n = 0;
        int r = install_source_read(&R->src, "image.json", 65536, &text, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read %s/image.json: %m", R->src.base), fail("cannot read image.json");
        if ((r = sha256_buf_hex(text, n, &have)) < 0 || strcasecmp(have, listed) != 0)
                return log_error("%s/image.json does not match SHA256SUMS", R->src.base),
                       fail("image.json does not match SHA256SUMS");
        _cleanup_free_ char *origin = strprintf("%s/image.json", R->src.base);
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(image_identity_done) struct image_identity id = {};
        r = image_identity_parse(text, n, strna(origin), &d, &id);
        diags_print(&d, stderr);
        if (r < 0)
                return fail("image.json is malformed");
        printf("rackstack-firstboot: install: the image is role %s, host %s, %s, built by rackstack %s at %" PRId64 "\n",
               id.role, id.host, strna(id.base), strna(id.version), id.build_time);
        const char *want = R->ks_role ? R->ks_role : R->o.role ? R->o.role : R->profile ? R->profile->role : NULL;
        r = image_identity_check_role(&id, want, &reason);
        if (r == -EMEDIUMTYPE && R->o.any_role) {
                printf("rackstack-firstboot: install: --any-role: %s\n", reason);
                return 0;
        }
        if (r < 0)
                return log_error("%s", reason ? reason : strerror(-r)), fail("the image is for another role");
        return 0;
}

static int load_profile(struct install_run *R) {
        int r = role_profile_load(R->o.profile, R->o.profiles, R->o.role, &R->profile);
        if (r < 0)
                return r == -ENOMEM ? 1 : 2;
        if (!R->profile)
                log_info("no profile (%s) and no --role: the OS disk is any SSD of at least 50G", INSTALL_PROFILE);
        return 0;
}

static char *ask(const char *prompt) {
        fputs(prompt, stdout);
        fflush(stdout);
        char *line = NULL;
        size_t cap = 0;
        if (getline(&line, &cap, stdin) < 0) {
                free(line);
                return NULL;
        }
        line[strcspn(line, "\r\n")] = 0;
        return line;
}

static void print_plan(const struct install_run *R) {
        struct buf b = {};
        install_plan_render(R->plan, R->disks, &b);
        _cleanup_free_ char *t = buf_steal(&b);
        fputs(strempty(t), stdout);
        fflush(stdout);
}

/* No answers, a person at the console, and the plan refused: offer each disk that fits but was
 * refused only for what it holds. Typing its name is the clearpart. 1 if one was taken and the
 * plan redone, 0 if none, negative errno. */
static int offer_clear(struct install_run *R, const struct install_input *in) {
        const struct disk_plan *dp = R->plan->disks;
        for (size_t i = 0; dp && i < R->disks->n_disks && i < dp->n_verdicts; i++) {
                const struct disk_verdict *v = &dp->verdicts[i];
                const struct disk_info *d = &R->disks->disks[i];
                size_t n = strv_length(v->reasons);
                if (!v->state || !streq(v->state, "refused") || n == 0 ||
                    !strstr(v->reasons[n - 1], "clearpart does not name it"))
                        continue;
                _cleanup_free_ char *what = disk_info_signature_summary(d);
                _cleanup_free_ char *size = format_size_human(d->size);
                _cleanup_free_ char *prompt = strprintf("rackstack-firstboot: install: %s (%s) holds %s. Type %s to "
                                                        "overwrite it with the image, or Enter to stop: ", d->name,
                                                        strna(size), strna(what), d->name);
                _cleanup_free_ char *answer = prompt ? ask(prompt) : NULL;
                if (!answer || !streq(answer, d->name))
                        continue;
                if (strv_extend(&R->answers.clear_drives, d->devnode) < 0)
                        return -ENOMEM;
                R->plan = install_plan_free(R->plan);
                int r = install_plan_build(in, &R->plan);
                if (r < 0)
                        return r;
                if (R->plan->target == (ssize_t) i && R->plan->wipe) {
                        /* typing its name, not an answer line, is what allows it */
                        free(R->plan->wipe_allowed_by);
                        R->plan->wipe_allowed_by = strprintf("%s typed at the console", d->name);
                        if (!R->plan->wipe_allowed_by)
                                return -ENOMEM;
                }
                print_plan(R);
                return 1;
        }
        return 0;
}

int verb_install(int argc, char **argv) {
        _cleanup_(install_run_done) struct install_run R = {};
        int r = parse_args(argc, argv, &R.o);
        if (r != 0)
                return r < 0 ? 2 : 0;
        /* a producer thread writing into a pipe the reader closed gets EPIPE, not a signal */
        (void) signal(SIGPIPE, SIG_IGN);

        R.src = (struct install_source) { .base = R.o.source, .http = startswith(R.o.source, "http://") };
        if (startswith(R.o.source, "https://"))
                return log_error("--source %s: only http:// (the image is verified by its sha256 and signature)",
                                 R.o.source), 2;
        struct stat sst;
        if (!R.src.http && (stat(R.o.source, &sst) < 0 || !S_ISDIR(sst.st_mode)))
                return log_error("--source %s: not a directory", R.o.source), 2;
        printf("rackstack-firstboot: install from %s\n", R.o.source);
        fflush(stdout);

        /* what the source offers */
        r = install_source_read(&R.src, "SHA256SUMS", SUMS_MAX, &R.sums_text, &R.sums_size);
        if (r < 0) {
                log_error_errno(r, "Failed to read %s/SHA256SUMS: %m", R.o.source);
                return fail("cannot read SHA256SUMS from the source");
        }
        _cleanup_free_ char *origin = strprintf("%s/SHA256SUMS", R.o.source);
        {
                _cleanup_(diags_done) struct diags d = {};
                r = sha256sums_parse(R.sums_text, R.sums_size, strna(origin), &d, &R.sums);
                diags_print(&d, stderr);
                if (r < 0)
                        return fail("SHA256SUMS is malformed");
        }
        _cleanup_free_ char *sig = NULL;
        size_t sig_size = 0;
        r = install_source_read(&R.src, "SHA256SUMS.sig", 4096, &sig, &sig_size);
        if (r < 0 && r != -ENOENT) {
                log_error_errno(r, "Failed to read %s/SHA256SUMS.sig: %m", R.o.source);
                return fail("cannot read SHA256SUMS.sig");
        }
        const char *pubkey = R.o.pubkey;
        if (!pubkey && access(INSTALL_PUBKEY, R_OK) == 0)
                pubkey = INSTALL_PUBKEY;
        if (R.o.pubkey && access(R.o.pubkey, R_OK) < 0)
                return log_error_errno(-errno, "--pubkey %s: %m", R.o.pubkey), 2;
        R.sums_signed = sig && pubkey;

        r = load_answers(&R);
        if (r != 0)
                return r;
        {
                /* --target is ignoredisk --only-use; --clear adds to clearpart --drives */
                char *target[] = { (char *) R.o.target, NULL };
                _cleanup_strv_free_ char **clear = strv_copy(R.answers.clear_drives);
                for (char **c = R.o.clear; c && *c; c++)
                        if (strv_extend(&clear, *c) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory"), 1;
                r = storage_answers_override(&R.answers, R.o.target ? target : NULL, "--target",
                                             R.o.clear ? clear : NULL, false, "--clear");
                if (r < 0)
                        return log_error_errno(r, "Out of memory"), 1;
        }
        r = load_profile(&R);
        if (r != 0)
                return r;
        r = check_identity(&R);
        if (r != 0)
                return r;

        /* the disks, and which of them carry the medium */
        struct disk_probe_options po = {};
        r = disk_probe_all(&po, &R.disks);
        if (r < 0)
                return log_error_errno(r, "Failed to probe the disks: %m"), fail("cannot probe the disks");
        _cleanup_free_ char *src_disk = R.src.http ? NULL : disk_of_devnum(sst.st_dev);
        _cleanup_free_ char *label = src_disk ? iso_label_of(src_disk) : NULL;
        if (src_disk)
                printf("rackstack-firstboot: install: the source is on %s%s%s: never a target\n", src_disk,
                       label ? ", label " : "", strempty(label));
        install_mark_boot_media(R.disks, src_disk, label);

        /* the image's size, where its frame header says it */
        const char *image = R.o.image ?: sha256sums_pick_image(&R.sums);
        uint64_t raw_size = 0;
        if (image) {
                uint8_t head[32];
                size_t n = 0;
                if (install_source_peek(&R.src, image, head, sizeof head, &n) >= 0)
                        (void) zstd_frame_content_size(head, n, &raw_size);
        }

        struct install_input in = {
                .source = R.o.source, .sums = &R.sums, .image = R.o.image, .have_signature = sig != NULL,
                .have_pubkey = pubkey != NULL, .raw_size = raw_size, .answers = &R.answers,
                .specs = R.profile ? R.profile->disks : NULL, .n_specs = R.profile ? R.profile->n_disks : 0,
                .disks = R.disks, .ks = R.ks_path,
        };
        r = install_plan_build(&in, &R.plan);
        if (r < 0)
                return log_error_errno(r, "Failed to plan: %m"), 1;
        print_plan(&R);
        /* Unattended with answers (or --yes, or no terminal); otherwise a person confirms. */
        bool ask_first = !R.ks_path && !R.o.yes && !R.o.dry_run && isatty(STDIN_FILENO);
        if (!install_plan_ok(R.plan) && ask_first) {
                r = offer_clear(&R, &in);
                if (r < 0)
                        return log_error_errno(r, "Failed to plan: %m"), 1;
                if (r > 0)
                        ask_first = false; /* typing the disk's name was the confirmation */
        }
        if (!install_plan_ok(R.plan))
                return fail(R.plan->errors[strv_length(R.plan->errors) - 1]);

        if (R.plan->verify_signature) {
                r = ed25519_verify(pubkey, R.sums_text, R.sums_size, sig, sig_size);
                if (r == -EBADMSG)
                        return log_error("%s/SHA256SUMS.sig does not match SHA256SUMS under %s", R.o.source, pubkey),
                               fail("bad signature on SHA256SUMS");
                if (r < 0)
                        return log_error_errno(r, "Failed to verify SHA256SUMS.sig with %s: %m", pubkey),
                               fail("cannot verify the signature");
                printf("rackstack-firstboot: install: SHA256SUMS signature verified with %s\n", pubkey);
        }
        if (R.o.dry_run) {
                printf("rackstack-firstboot: install: dry run, nothing written\n");
                return 0;
        }
        if (ask_first) {
                _cleanup_free_ char *size = format_size_human(R.plan->target_size);
                _cleanup_free_ char *prompt = strprintf("rackstack-firstboot: install: write %s to %s (%s, %s)? Type yes "
                                                        "to go on: ", R.plan->image, R.plan->target_devnode,
                                                        strna(R.plan->target_id), strna(size));
                _cleanup_free_ char *answer = prompt ? ask(prompt) : NULL;
                if (!answer || !streq(answer, "yes"))
                        return fail("not confirmed at the console; nothing written");
        }

        /* O_EXCL on a block device: refused while anything has it mounted or claimed */
        _cleanup_close_ int fd = open(R.plan->target_devnode, O_RDWR | O_EXCL | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Failed to open %s exclusively: %m", R.plan->target_devnode),
                       fail("cannot open the target disk");
        uint64_t size = R.plan->target_size;
        uint32_t ss = R.plan->sector_size;
        int ssi;
        if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ssi) < 0)
                return log_error_errno(-errno, "%s: not a block device: %m", R.plan->target_devnode),
                       fail("the target is not a block device");
        ss = (uint32_t) ssi;

        printf("rackstack-firstboot: install: writing %s to %s\n", R.plan->image, R.plan->target_devnode);
        fflush(stdout);
        struct install_stats st;
        r = install_stream(R.plan, &R.src, fd, size, true, &st);
        if (r == -EBADMSG)
                return fail("the image does not match its sha256; the disk was wiped");
        if (r < 0) {
                _cleanup_free_ char *why = strprintf("writing the image failed: %s", strerror(-r));
                return fail(why ? why : "writing the image failed");
        }
        printf("rackstack-firstboot: install: %.1f MiB written (%.1f MiB of it zeroed in place) from %.1f MiB of %s in "
               "%.1f s, %.1f MB/s; sha256 ok\n", (double) st.written / MiB, (double) st.zeroed / MiB,
               (double) st.compressed / MiB, st.filter, st.seconds, st.seconds > 0 ? st.written / 1e6 / st.seconds : 0);

        r = gpt_move_backup_to_end(fd, ss, size);
        if (r < 0) {
                log_error_errno(r, "Failed to move the backup GPT of %s to the disk's end: %m", R.plan->target_devnode);
                (void) install_wipe_ends(fd, size, st.written);
                return fail("the image's GPT could not be repaired; the disk was wiped");
        }
        (void) ioctl(fd, BLKRRPART);
        close(TAKE_FD(fd));

        if (R.plan->ks) {
                r = install_copy_ks(R.plan->target_devnode, ss, R.plan->ks);
                if (r < 0)
                        log_warning("The kickstart is not on the installed system; firstboot will look for OEMDRV or ask");
                else
                        printf("rackstack-firstboot: install: the kickstart is at /%s on the installed system\n",
                               KS_INSTALLED_PATH);
        }

        sync();
        if (R.o.no_reboot) {
                printf("rackstack-firstboot: install finished\n");
                fflush(stdout);
                return 0;
        }
        printf("rackstack-firstboot: install finished, rebooting\n");
        fflush(stdout);
        sync();
        if (reboot(RB_AUTOBOOT) < 0)
                return log_error_errno(-errno, "reboot failed: %m"), 1;
        return 0;
}
