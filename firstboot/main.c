/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "disk-apply.h"
#include "disk-plan.h"
#include "disk-probe.h"
#include "disk-seed.h"
#include "diag.h"
#include "kickstart.h"
#include "profile.h"
#include "storage-answers.h"
#include "journal.h"
#include "log.h"
#include "answers.h"
#include "answers-main.h"
#include "fileio.h"
#include "net-main.h"
#include "status.h"
#include "util.h"

/* Options every verb understands; a verb uses what it needs. */
struct options {
        const char *root;
        const char *role;
        const char *profile;
        const char *ks;
        const char *sysfs;
        bool json;
        bool no_mount;
        bool clear_all;
        char **only_use;
        char **clear;
};

static void options_done(struct options *o) {
        strv_free(o->only_use);
        strv_free(o->clear);
}

/* ---- storage: probe, plan, apply ----------------------------------------------------------------------- */

#define IMAGE_PROFILE "/usr/share/rackstack/profile.yaml"

struct storage_run {
        struct profile *profile; /* when loaded, specs point into it */
        struct disk_spec *specs;
        size_t n_specs;
        struct storage_answers answers;
        struct storage_claim *claims;
        size_t n_claims;
        struct disk_set *disks;
        struct disk_plan *plan;
        struct journal *journal;
        int root_fd;
};

static void storage_run_done(struct storage_run *s) {
        disk_plan_free(s->plan);
        disk_set_free(s->disks);
        storage_claims_free(s->claims, s->n_claims);
        storage_answers_done(&s->answers);
        if (s->profile)
                profile_free(s->profile);
        else
                disk_specs_free(s->specs, s->n_specs);
        journal_free(s->journal);
        if (s->root_fd >= 0)
                close(s->root_fd);
}

/* Returns 0, or the exit status to use (2 bad usage/input, 1 failure). */
static int storage_prepare(const struct options *o, struct storage_run *s) {
        int r;
        *s = (struct storage_run) { .root_fd = -1 };

        const char *profile = o->profile;
        if (!profile && !o->role && access(IMAGE_PROFILE, F_OK) == 0)
                profile = IMAGE_PROFILE;
        if (profile) {
                _cleanup_(diags_done) struct diags d = {};
                r = profile_load_file(profile, &d, &s->profile);
                diags_print(&d, stderr);
                if (r < 0)
                        return log_error_errno(r, "Failed to load the profile '%s': %m", profile), 2;
                s->specs = s->profile->disks;
                s->n_specs = s->profile->n_disks;
        } else if (o->role) {
                /* the seed's layouts built in: for tests and for hosts without an installed profile */
                r = seed_disk_specs(o->role, &s->specs, &s->n_specs);
                if (r == -ENOENT) {
                        log_error("unknown role '%s'", o->role);
                        return 2;
                }
                if (r < 0)
                        return log_error_errno(r, "Failed to build the disk specs: %m"), 1;
        } else {
                log_error("no profile: %s is missing; give --profile=FILE or --role=ROLE", IMAGE_PROFILE);
                return 2;
        }

        if (o->ks) {
                _cleanup_(diags_done) struct diags d = {};
                _cleanup_(ks_freep) struct ks *ks = NULL;
                r = ks_load_file(o->ks, &d, &ks);
                diags_print(&d, stderr);
                if (r < 0)
                        return log_error_errno(r, "Failed to load the kickstart '%s': %m", o->ks), 2;
                r = storage_answers_from_ks(ks, &s->answers);
                if (r < 0)
                        return log_error_errno(r, "Failed to read the kickstart's disk answers: %m"), 1;
                if (s->profile) {
                        struct diags pd = {};
                        r = storage_apply_ks_parts(ks, s->specs, s->n_specs, &pd);
                        diags_print(&pd, stderr);
                        diags_done(&pd);
                        if (r == -EINVAL)
                                return 2;
                        if (r < 0)
                                return log_error_errno(r, "Failed to apply the kickstart's part lines: %m"), 1;
                }
        }
        /* the command line narrows or overrides the kickstart */
        if (o->only_use) {
                strv_free(s->answers.only_use);
                if (!(s->answers.only_use = strv_copy(o->only_use)))
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
        }
        if (o->clear) {
                strv_free(s->answers.clear_drives);
                if (!(s->answers.clear_drives = strv_copy(o->clear)))
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
        }
        if (o->clear_all)
                s->answers.clear_all = true;

        s->root_fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (s->root_fd < 0)
                return log_error_errno(-errno, "Failed to open root directory '%s': %m", o->root), 1;
        r = journal_open(s->root_fd, NULL, &s->journal);
        if (r < 0)
                return log_error_errno(r, "Failed to read the journal %s/%s: %m", o->root, JOURNAL_PATH), 1;
        r = storage_claims_from_journal(s->journal, &s->claims, &s->n_claims);
        if (r < 0)
                return log_error_errno(r, "Failed to read the journal: %m"), 1;

        struct disk_probe_options po = { .sysfs = o->sysfs };
        r = disk_probe_all(&po, &s->disks);
        if (r < 0)
                return log_error_errno(r, "Failed to probe the disks: %m"), 1;

        struct plan_input in = {
                .specs = s->specs, .n_specs = s->n_specs, .answers = &s->answers, .disks = s->disks,
                .claims = s->claims, .n_claims = s->n_claims,
        };
        r = disk_plan_build(&in, &s->plan);
        if (r < 0)
                return log_error_errno(r, "Failed to plan: %m"), 1;
        return 0;
}

static void print_plan(const struct options *o, const struct storage_run *s) {
        struct buf b = {};
        if (o->json)
                disk_plan_render_json(s->plan, s->disks, &b);
        else
                disk_plan_render_table(s->plan, s->disks, &b);
        _cleanup_free_ char *t = buf_steal(&b);
        fputs(strempty(t), stdout);
        fflush(stdout);
}

static int verb_plan(const struct options *o) {
        _cleanup_(storage_run_done) struct storage_run s = { .root_fd = -1 };
        int r = storage_prepare(o, &s);
        if (r != 0)
                return r;
        print_plan(o, &s);
        return disk_plan_ok(s.plan) ? 0 : 1;
}

/* The storage step: plan, refuse or apply, read back. Records into st; the caller finishes it. */
static int storage_step(const struct options *o, struct status *st) {
        _cleanup_(storage_run_done) struct storage_run s = { .root_fd = -1 };
        int r = storage_prepare(o, &s);
        if (r != 0) {
                (void) status_fail(st, "storage.plan", r == 2 ? "bad answers or profile" : "cannot probe the disks");
                return r == 2 ? 2 : 1;
        }
        print_plan(o, &s);

        if (!disk_plan_ok(s.plan)) {
                /* nothing is written to any disk in a refused run */
                for (char **e = s.plan->errors; *e; e++)
                        log_error("%s", *e);
                (void) status_fail(st, "storage.plan", s.plan->errors[0]);
                return 1;
        }

        struct apply_context c = {
                .root_fd = s.root_fd, .root = o->root, .journal = s.journal, .status = st, .no_mount = o->no_mount,
        };
        r = disk_apply(s.plan, s.disks, &c);
        if (r >= 0) {
                _cleanup_strv_free_ char **problems = NULL;
                r = disk_verify(s.plan, s.disks, &problems);
                if (r >= 0 && problems) {
                        for (char **p = problems; *p; p++)
                                log_error("read-back: %s", *p);
                        (void) status_fail(st, "storage.verify", problems[0]);
                        r = -EIO;
                } else if (r >= 0)
                        (void) status_step(st, "storage.verify", "done", NULL);
        }
        if (r < 0 && !st->failed_step)
                (void) status_fail(st, "storage", strerror(-r));
        return r < 0 ? 1 : 0;
}

static int finish(const struct options *o, struct status *st) {
        _cleanup_close_ int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open root '%s': %m", o->root), 1;
        (void) status_finish(st, fd);
        return 0;
}

static int verb_storage(const struct options *o) {
        _cleanup_(status_done) struct status st = {};
        int r = storage_step(o, &st);
        (void) finish(o, &st);
        return r;
}

/* The first-boot run, as the unit starts it: answers, storage, network; one status and one last
 * console line. On success a stamp keeps the unit from running again; a failed run is retried on
 * the next boot and resumes from the journal. */
static int verb_run(const struct options *o) {
        _cleanup_(status_done) struct status st = {};
        struct options so = *o;
        _cleanup_free_ char *ks = NULL, *origin = NULL;

        printf("rackstack-firstboot: starting (root %s)\n", o->root);
        fflush(stdout);
        if (!so.ks) {
                int r = answers_find(o->root, NULL, &ks, &origin);
                if (r >= 0) {
                        printf("rackstack-firstboot: answers from %s\n", origin);
                        so.ks = ks;
                        (void) status_step(&st, "answers", "done", origin);
                } else if (r == -ENOENT) {
                        printf("rackstack-firstboot: no kickstart found; using the role profile and the site\n");
                        (void) status_step(&st, "answers", "skipped", "no kickstart on the command line, OEMDRV or in the image");
                } else {
                        (void) status_fail(&st, "answers", strerror(-r));
                        finish(o, &st);
                        return 1;
                }
        }
        fflush(stdout);

        int r = storage_step(&so, &st);
        if (r == 0) {
                (void) status_step(&st, "storage", "done", NULL);
                /* The kickstart's network lines are the network step's answers too. */
                char *argv[] = { (char *) "network", (char *) "--apply", (char *) "--root", (char *) o->root,
                                 so.ks ? (char *) "--ks" : NULL, (char *) so.ks, NULL };
                fflush(stdout);
                r = verb_network(so.ks ? 6 : 4, argv);
                if (r != 0)
                        (void) status_fail(&st, "network", "the bond and VLANs could not be brought up and verified (see above)");
                else
                        (void) status_step(&st, "network", "done", NULL);
        }
        if (r == 0) {
                _cleanup_free_ char *stamp = strprintf("%s/var/lib/rackstack/done", o->root);
                if (!stamp || write_file_atomic(AT_FDCWD, stamp, "", 0, 0644) < 0)
                        log_warning("Cannot write the done stamp; firstboot will run again on the next boot");
        }
        (void) finish(o, &st);
        return r;
}

/* ---- verbs ------------------------------------------------------------------------------------------------ */

static const struct verb {
        const char *name;
        int (*run)(const struct options *o);
        const char *help;
} verbs[] = {
        { "plan", verb_plan, "probe the disks and print the storage plan; writes nothing" },
        { "storage", verb_storage, "probe, plan and apply the storage plan (journalled, resumable)" },
        { "run", verb_run, "the first boot: answers, storage, network; the unit runs this" },
};

static void usage(FILE *f) {
        fprintf(f, "usage: rackstack-firstboot VERB [OPTIONS]\n\nverbs:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i].name, verbs[i].help);
        fprintf(f, "  %-10s %s\n", "answers", "each answer and its source (--explain, --json); --prompt asks for what is missing");
        fprintf(f, "  %-10s %s\n", "network", "plan the bond and VLANs; --apply brings them up (see network --help)");
        fprintf(f, "\noptions:\n"
                   "  --root=DIR          operate on files under DIR (default /)\n"
                   "  --role=ROLE         the role whose disk layout to use\n"
                   "  --profile=FILE      the role profile (default " IMAGE_PROFILE ")\n"
                   "  --ks=FILE           kickstart answers (ignoredisk, clearpart, part --ondisk, %%addon disk)\n"
                   "  --only-use=DEV,...  ignoredisk --only-use: only these disks are visible\n"
                   "  --clear=DEV,...     clearpart --drives: these may be wiped if the plan uses them\n"
                   "  --clear-all         clearpart --all: needs --clear or --only-use to bound it\n"
                   "  --json              print the plan as JSON\n"
                   "  --no-mount          write fstab but do not mount\n"
                   "  --sysfs=DIR         read sysfs from DIR (tests)\n"
                   "  -v, --verbose       debug output\n");
}

static int split_append(char ***l, const char *arg) {
        _cleanup_strv_free_ char **parts = NULL;
        int r = strv_split(arg, ",", &parts);
        if (r < 0)
                return r;
        for (char **p = parts; p && *p; p++)
                if ((r = strv_extend(l, *p)) < 0)
                        return r;
        return 0;
}

int main(int argc, char **argv) {
        log_set_program("rackstack-firstboot");
        if (argc < 2 || streq(argv[1], "--help") || streq(argv[1], "-h")) {
                usage(argc < 2 ? stderr : stdout);
                return argc < 2 ? 2 : 0;
        }
        /* The network step parses its own options (net-main.c). */
        if (streq(argv[1], "network"))
                return verb_network(argc - 1, argv + 1);
        if (streq(argv[1], "answers"))
                return verb_answers(argc - 1, argv + 1);
        const struct verb *verb = NULL;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[1], verbs[i].name))
                        verb = &verbs[i];
        if (!verb) {
                log_error("unknown verb '%s'", argv[1]);
                usage(stderr);
                return 2;
        }

        enum { OPT_ROOT = 256, OPT_ROLE, OPT_PROFILE, OPT_KS, OPT_ONLY_USE, OPT_CLEAR, OPT_CLEAR_ALL, OPT_JSON, OPT_NO_MOUNT, OPT_SYSFS };
        static const struct option longopts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "role", required_argument, NULL, OPT_ROLE },
                { "profile", required_argument, NULL, OPT_PROFILE },
                { "ks", required_argument, NULL, OPT_KS },
                { "only-use", required_argument, NULL, OPT_ONLY_USE },
                { "clear", required_argument, NULL, OPT_CLEAR },
                { "clear-all", no_argument, NULL, OPT_CLEAR_ALL },
                { "json", no_argument, NULL, OPT_JSON },
                { "no-mount", no_argument, NULL, OPT_NO_MOUNT },
                { "sysfs", required_argument, NULL, OPT_SYSFS },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        _cleanup_(options_done) struct options o = { .root = "/" };
        int c;
        optind = 2;
        while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) >= 0) {
                int r = 0;
                switch (c) {
                case OPT_ROOT: o.root = optarg; break;
                case OPT_ROLE: o.role = optarg; break;
                case OPT_PROFILE: o.profile = optarg; break;
                case OPT_KS: o.ks = optarg; break;
                case OPT_ONLY_USE: r = split_append(&o.only_use, optarg); break;
                case OPT_CLEAR: r = split_append(&o.clear, optarg); break;
                case OPT_CLEAR_ALL: o.clear_all = true; break;
                case OPT_JSON: o.json = true; break;
                case OPT_NO_MOUNT: o.no_mount = true; break;
                case OPT_SYSFS: o.sysfs = optarg; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'h': usage(stdout); return 0;
                default: usage(stderr); return 2;
                }
                if (r < 0)
                        return log_error_errno(r, "Bad option argument '%s': %m", optarg), 2;
        }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return 2;
        }
        return verb->run(&o);
}
