/* SPDX-License-Identifier: MIT */
/* The storage verbs (plan, storage) and the storage step of the first-boot run: probe, plan,
 * refuse or apply, read back. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "diag.h"
#include "disk-apply.h"
#include "disk-plan.h"
#include "disk-probe.h"
#include "fileio.h"
#include "image-identity.h"
#include "install-apply.h"
#include "install-plan.h"
#include "journal.h"
#include "kickstart.h"
#include "log.h"
#include "profile.h"
#include "prompt.h"
#include "status.h"
#include "storage-answers.h"
#include "storage-main.h"
#include "util.h"

/* ---- storage: probe, plan, apply ----------------------------------------------------------------------- */

struct storage_run {
        struct profile *profile; /* specs point into it */
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
        profile_free(s->profile);
        journal_free(s->journal);
        if (s->root_fd >= 0)
                close(s->root_fd);
}

/* plan --install: what system the OS disk would replace, as install reads it (install compares
 * it with the image's image.json and refuses another role's or a newer build). */
static int note_installed(struct storage_run *s) {
        for (size_t i = 0; disk_plan_ok(s->plan) && i < s->plan->n_disks; i++) {
                const struct plan_disk *pd = &s->plan->disks[i];
                if (pd->mode != PLAN_DISK_IMAGE || !pd->wipe)
                        continue;
                const struct disk_info *d = &s->disks->disks[pd->disk];
                _cleanup_free_ char *unknown = NULL, *have = NULL;
                _cleanup_(image_identity_done) struct image_identity id = {};
                int r = install_identify_installed(pd->devnode, d->logical_sector_size ?: 512, &id, &unknown);
                if (r < 0)
                        return r;
                if (id.role && !(have = image_identity_describe(&id)))
                        return -ENOMEM;
                char *note = id.role ? strprintf("the OS disk %s holds a rackstack system: %s", pd->devnode, have) :
                                       strprintf("the OS disk %s holds %s", pd->devnode, unknown);
                if (!note || strv_push(&s->plan->notes, note) < 0)
                        return free(note), -ENOMEM;
        }
        return 0;
}

/* Returns 0, or the exit status to use (2 bad usage/input, 1 failure). */
static int storage_prepare(const struct options *o, struct storage_run *s) {
        int r;
        *s = (struct storage_run) { .root_fd = -1 };

        r = role_profile_load(o->profile, o->profiles, o->role, &s->profile);
        if (r < 0)
                return r == -ENOMEM ? 1 : 2;
        if (!s->profile) {
                log_error("no profile: %s is missing; give --profile=FILE or --role=ROLE [--profiles=DIR]",
                          IMAGE_PROFILE);
                return 2;
        }
        s->specs = s->profile->disks;
        s->n_specs = s->profile->n_disks;

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
                struct diags pd = {};
                r = storage_apply_ks_parts(ks, s->specs, s->n_specs, &pd);
                diags_print(&pd, stderr);
                diags_done(&pd);
                if (r == -EINVAL)
                        return 2;
                if (r < 0)
                        return log_error_errno(r, "Failed to apply the kickstart's part lines: %m"), 1;
        }
        /* the command line narrows or overrides the kickstart */
        r = storage_answers_override(&s->answers, o->only_use, "--only-use", o->clear, o->clear_all, "--clear");
        if (r < 0)
                return log_error_errno(r, "Out of memory"), 1;

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
        /* as install marks them (it also knows the disk its source is on) */
        if (o->install)
                install_mark_boot_media(s->disks, NULL, NULL);

        struct plan_input in = {
                .specs = s->specs, .n_specs = s->n_specs, .answers = &s->answers, .disks = s->disks,
                .claims = s->claims, .n_claims = s->n_claims, .install = o->install,
        };
        r = disk_plan_build(&in, &s->plan);
        if (r < 0)
                return log_error_errno(r, "Failed to plan: %m"), 1;
        if (o->install && (r = note_installed(s)) < 0)
                return log_error_errno(r, "Out of memory"), 1;
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

int verb_plan(const struct options *o) {
        _cleanup_(storage_run_done) struct storage_run s = { .root_fd = -1 };
        int r = storage_prepare(o, &s);
        if (r != 0)
                return r;
        print_plan(o, &s);
        return disk_plan_ok(s.plan) ? 0 : 1;
}

/* The storage step: plan, refuse or apply, read back. Records into st; the caller finishes it. */
/* The plan was refused. If naming the refused disks for clearing makes it acceptable, ask about the
 * disks that plan would wipe, and take it on confirmation. 1 replaced, 0 not offered, <0 refused. */
static int offer_wipe(const struct options *o, struct storage_run *s, storage_confirm_t confirm, void *userdata,
                      struct status *st) {
        struct storage_answers *a = &s->answers;
        _cleanup_strv_free_ char **saved = strv_copy(a->clear_drives);
        if (a->clear_drives && !saved)
                return -ENOMEM;
        for (size_t i = 0; i < s->plan->n_verdicts && i < s->disks->n_disks; i++)
                if (streq(s->plan->verdicts[i].state, "refused") &&
                    strv_extend(&a->clear_drives, s->disks->disks[i].devnode) < 0)
                        return -ENOMEM;
        struct plan_input in = {
                .specs = s->specs, .n_specs = s->n_specs, .answers = a, .disks = s->disks,
                .claims = s->claims, .n_claims = s->n_claims,
        };
        struct disk_plan *p = NULL;
        int r = disk_plan_build(&in, &p);
        strv_free(a->clear_drives);
        a->clear_drives = TAKE_PTR(saved);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **wipe = NULL;
        for (size_t i = 0; disk_plan_ok(p) && i < p->n_disks; i++) {
                const struct plan_disk *pd = &p->disks[i];
                if (!pd->wipe)
                        continue;
                _cleanup_free_ char *sum = disk_info_signature_summary(&s->disks->disks[pd->disk]);
                char *line = strprintf("%s for '%s': carries %s", pd->devnode, strna(pd->spec), strna(sum));
                if (!line || strv_push(&wipe, line) < 0) {
                        disk_plan_free(p);
                        return -ENOMEM;
                }
        }
        if (!disk_plan_ok(p) || !wipe) {
                disk_plan_free(p); /* something else is wrong too: the refusal stands */
                return 0;
        }
        _cleanup_free_ char *reason = NULL;
        r = confirm(wipe, userdata, &reason);
        if (r < 0) {
                disk_plan_free(p);
                /* the refusal stays the reason; the console's outcome says why it stands */
                _cleanup_free_ char *errors = strv_join(s->plan->errors, "; ");
                _cleanup_free_ char *why = strprintf("%s (wiping not confirmed: %s)", strna(errors),
                                                     reason ? reason : strerror(-r));
                (void) status_fail(st, "storage.plan", why ? why : "wiping the disks was not confirmed");
                return r;
        }
        log_info("Wiping confirmed at the console: %zu disk%s", strv_length(wipe), strv_length(wipe) == 1 ? "" : "s");
        /* the confirmation, not a clearpart line, is what allows these */
        for (size_t i = 0; i < p->n_disks; i++) {
                struct plan_disk *pd = &p->disks[i];
                if (!pd->wipe || !streq(s->plan->verdicts[pd->disk].state, "refused"))
                        continue;
                char *by = strdup("'wipe' typed at the console");
                if (!by) {
                        disk_plan_free(p);
                        return -ENOMEM;
                }
                free(pd->allowed_by);
                pd->allowed_by = by;
        }
        disk_plan_free(s->plan);
        s->plan = p;
        print_plan(o, s);
        return 1;
}

int storage_step(const struct options *o, struct status *st) {
        return storage_step_confirm(o, st, NULL, NULL);
}

int storage_step_confirm(const struct options *o, struct status *st, storage_confirm_t confirm, void *userdata) {
        _cleanup_(storage_run_done) struct storage_run s = { .root_fd = -1 };
        int r = storage_prepare(o, &s);
        if (r != 0) {
                (void) status_fail(st, "storage.plan", r == 2 ? "bad answers or profile" : "cannot probe the disks");
                return r == 2 ? 2 : 1;
        }
        print_plan(o, &s);

        if (!disk_plan_ok(s.plan) && confirm) {
                r = offer_wipe(o, &s, confirm, userdata, st);
                if (r < 0) {
                        if (!st->failed_step)
                                (void) status_fail(st, "storage.plan", strerror(-r));
                        return 1;
                }
        }

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

int options_finish(const struct options *o, struct status *st) {
        _cleanup_close_ int fd = open(o->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open root '%s': %m", o->root), 1;
        (void) status_finish(st, fd);
        return 0;
}

int verb_storage(const struct options *o) {
        _cleanup_(status_done) struct status st = {};
        struct prompt_options po = { .use_stdio = true };
        int r = storage_step_confirm(o, &st, o->confirm_wipe ? prompt_confirm_wipe : NULL, &po);
        (void) options_finish(o, &st);
        return r;
}
