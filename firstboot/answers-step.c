/* SPDX-License-Identifier: MIT */
/* The answers step of a first-boot run: find the kickstart, collect every answer with its source,
 * ask at the console for what is still missing, and leave one completed kickstart for the later
 * steps. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "answer-set.h"
#include "answers-render.h"
#include "answers.h"
#include "cleanup.h"
#include "creds-place.h"
#include "creds.h"
#include "fileio.h"
#include "json.h"
#include "kcmdline.h"
#include "log.h"
#include "net-apply.h"
#include "nic.h"
#include "prompt-plan.h"
#include "prompt.h"
#include "run-steps.h"
#include "shadow.h"
#include "util.h"

static int fail(struct run_ctx *c, int r, const char *fmt, ...) _printf_(3, 4);
static int fail(struct run_ctx *c, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *why = strvprintf(fmt, ap);
        va_end(ap);
        (void) status_fail(c->status, "answers", why ? why : strerror(-r));
        return r;
}

static const char *find_error(int r) {
        switch (r) {
        case -EACCES: return "the kickstart holds a password hash others could read (see above)";
        case -EPERM: return "the kickstart came over plain HTTP neither pinned nor signed (see above)";
        case -ELOOP: return "the kickstart's path on its medium is a symlink";
        case -EBADMSG: return "the kickstart does not match inst.ks.sha256";
        case -EFBIG: return "the kickstart is too large";
        case -ENXIO: return "the kickstart named on the kernel command line is not there";
        case -EINVAL: return "inst.ks= on the kernel command line is malformed";
        case -EPROTONOSUPPORT: return "inst.ks= names an unsupported scheme";
        default: return NULL;
        }
}

static int load(struct run_ctx *c) {
        _cleanup_(diags_done) struct diags d = {};
        ks_free(c->ks);
        c->ks = NULL;
        int r = ks_load_file(c->ks_path, &d, &c->ks);
        diags_print(&d, stderr);
        if (r < 0)
                return fail(c, r, "%s: %s", c->ks_origin, r == -EINVAL ? "invalid kickstart (see above)" : strerror(-r));
        return 0;
}

/* Ask for what is missing; on success the completed answers replace ks_path. 0 also when nothing
 * was asked. */
static int prompt_missing(struct run_ctx *c, const struct answers_input *ai, struct answer_set *set,
                          const struct kcmdline *kc, const char *cmdline) {
        uint64_t timeout = KCMDLINE_PROMPT_TIMEOUT_DEFAULT_SEC * 1000000ull;
        struct diags d = {};
        (void) kcmdline_prompt_timeout(kc, &d, &timeout); /* a bad value keeps the default, with a warning */
        diags_print(&d, stderr);
        diags_done(&d);
        struct prompt_options po = { .cmdline = cmdline, .timeout_usec = timeout, .mute_kernel = true };
        struct nic_list nics = {};
        const char *sysfs = c->o->sysfs ? c->o->sysfs : "/sys";
        int r = nic_discover(sysfs, &nics);
        if (r < 0)
                log_warning_errno(r, "Cannot list the NICs for the prompt: %m");
        struct prompt_input in = { .known = set, .profile = c->profile, .site = c->site, .nics = &nics,
                                   .all = kcmdline_prompt_forced(kc) };
        _cleanup_free_ char *reason = NULL;
        /* which host this is comes first: the site's values for it fill the rest */
        fflush(stdout);
        int asked = prompt_ask_host(ai, &in, set, &po, &reason);
        if (asked < 0) {
                nic_list_done(&nics);
                return fail(c, asked, "%s", reason ? reason : strerror(-asked));
        }
        _cleanup_(prompt_plan_done) struct prompt_plan plan = {};
        r = prompt_plan_build(&in, &plan);
        if (r < 0 || (plan.n == 0 && !asked)) {
                nic_list_done(&nics);
                return r < 0 ? fail(c, r, "cannot plan the questions: %s", strerror(-r)) : 0;
        }
        /* A freshly booted host has every NIC down and its carrier unknown: the NIC table and the
         * default bond members need them up (as the network step does). */
        if (plan.n && !c->dry_run && net_nics_wake(&nics, 5000) > 0) {
                nic_list_done(&nics);
                if (nic_discover(sysfs, &nics) < 0)
                        log_warning("Cannot list the NICs again after setting them up");
                prompt_plan_done(&plan);
                r = prompt_plan_build(&in, &plan);
                if (r < 0) {
                        nic_list_done(&nics);
                        return fail(c, r, "cannot plan the questions: %s", strerror(-r));
                }
        }
        fflush(stdout);
        r = prompt_run(&plan, &in, set, &po, &reason);
        nic_list_done(&nics);
        if (r < 0)
                return fail(c, r, "%s", reason ? reason : strerror(-r));

        _cleanup_free_ char *text = NULL, *out = NULL;
        if (c->ks_path && read_file_full(AT_FDCWD, c->ks_path, KS_FILE_MAX, &text, NULL) < 0)
                return fail(c, -EIO, "cannot read back %s", c->ks_path);
        _cleanup_(diags_done) struct diags rd = {};
        r = answers_render_ks(set, c->ks, text, c->profile, c->site, &rd, &out);
        diags_print(&rd, stderr);
        if (r < 0)
                return fail(c, r, "cannot write the answers as a kickstart: %s", strerror(-r));
        _cleanup_free_ char *path = NULL;
        if ((r = answers_keep_copy(c->root, "ks.cfg", out, strlen(out), &path)) < 0)
                return fail(c, r, "cannot write %s/run/rackstack/ks.cfg: %s", c->root, strerror(-r));
        free(c->ks_path);
        c->ks_path = TAKE_PTR(path);
        char *origin = strprintf("%s, completed at the console", c->ks_origin ? c->ks_origin : "the console");
        if (!origin)
                return -ENOMEM;
        free(c->ks_origin);
        c->ks_origin = origin;
        return load(c);
}

/* The kickstart given with --ks (and the credentials bundle beside it), else the one found on the
 * command line, a medium or in the image. Sets c->ks_path and c->ks_origin (both NULL when there is
 * none) and *ret_how. */
static int get_kickstart(struct run_ctx *c, const char *cmdline, char **ret_how) {
        int r;
        if (!c->o->ks) {
                struct answers_find_options fo = ANSWERS_FIND_OPTIONS_DEFAULT;
                fo.cmdline = cmdline;
                r = answers_find(c->root, &fo, &c->ks_path, &c->ks_origin, ret_how);
                if (r < 0 && r != -ENOENT) {
                        const char *why = find_error(r);
                        return why ? fail(c, r, "%s", why) : fail(c, r, "cannot get the kickstart: %s", strerror(-r));
                }
                if (r == -ENOENT)
                        printf("rackstack-firstboot: no kickstart found; using the role profile and the site\n");
                else
                        printf("rackstack-firstboot: answers from %s\n", c->ks_origin);
                return 0;
        }
        if (!(c->ks_path = strdup(c->o->ks)) || !(c->ks_origin = strprintf("--ks %s", c->o->ks)) ||
            !(*ret_how = strdup("given with --ks")))
                return -ENOMEM;
        /* the bundle beside the kickstart, as on a medium */
        const char *slash = strrchr(c->o->ks, '/');
        _cleanup_free_ char *creds = slash ? strprintf("%.*s" CREDS_FILE, (int) (slash - c->o->ks + 1), c->o->ks)
                                           : strdup(CREDS_FILE);
        if (!creds)
                return -ENOMEM;
        r = creds_copy_in(c->root, creds);
        if (r < 0 && r != -ENOENT)
                return fail(c, r, "cannot take in the credentials bundle %s: %s", creds, strerror(-r));
        return 0;
}

/* Where the answers came from and how they were verified, for whoever reads status.json. */
static void attach_source(struct run_ctx *c, const char *how) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "from", c->ks_origin);
        json_kv_string(&j, "verified", how);
        json_end_object(&j);
        _cleanup_free_ char *js = buf_steal(&j.out);
        if (js)
                (void) status_attach(c->status, "answers_source", js);
}

/* Every answer with its source, the missing ones asked at the console; the table is printed and
 * attached to the status. */
static int collect_answers(struct run_ctx *c, const struct kcmdline *kc, const char *cmdline) {
        struct answers_input in = { .ks = c->ks, .ks_label = c->ks_origin, .profile = c->profile, .site = c->site };
        _cleanup_(answer_set_done) struct answer_set set = {};
        int r = answers_collect(&in, &set);
        if (r >= 0)
                r = prompt_missing(c, &in, &set, kc, cmdline);
        if (r < 0)
                return r;
        _cleanup_free_ char *table = answer_set_to_text(&set);
        printf("rackstack-firstboot: answers and where they came from:\n%s", strempty(table));
        struct json j = {};
        answer_set_to_json(&set, &j);
        _cleanup_free_ char *js = buf_steal(&j.out);
        if (js)
                (void) status_attach(c->status, "answers", js);
        return 0;
}

/* The host is the one the kickstart names, else the site's host of the role. A name the site does
 * not know is another host of the role (any site but the seed's lab has those): the role's site
 * entry, with its addresses, is not this host's. */
static int pick_host(struct run_ctx *c) {
        if (!c->site || !c->ks)
                return 0;
        const struct ks_network *n = ks_hostname_network(c->ks);
        if (!n || !n->hostname)
                return 0;
        _cleanup_free_ char *shortname = strndup(n->hostname, strcspn(n->hostname, "."));
        if (!shortname)
                return fail(c, -ENOMEM, "out of memory");
        c->host = site_find_host(c->site, shortname);
        return 0;
}

int step_answers(struct run_ctx *c) {
        int r;
        _cleanup_free_ char *cmdline = NULL;
        (void) read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &cmdline, NULL);
        _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
        if (kcmdline_parse(cmdline, &kc) < 0)
                return -ENOMEM;

        _cleanup_free_ char *how = NULL;
        if ((r = get_kickstart(c, cmdline, &how)) < 0)
                return r;
        /* rackstack.creds= on the command line names the bundle explicitly (an HTTP one pinned). */
        r = creds_copy_from_cmdline(c->root, cmdline);
        if (r < 0 && r != -ENOENT)
                return fail(c, r, "cannot take in the credentials bundle rackstack.creds=: %s", strerror(-r));
        if (c->ks_path && (r = load(c)) < 0)
                return r;
        if (c->ks_path)
                attach_source(c, how);
        if (c->profile && c->site && (r = collect_answers(c, kc, cmdline)) < 0)
                return r;

        /* The root password, when the answers give one (typed at the prompt, or rootpw in the kickstart). */
        if (c->ks && c->ks->rootpw.password && !c->dry_run) {
                r = shadow_apply(c->root, "root", c->ks->rootpw.password);
                if (r < 0)
                        return fail(c, r, "cannot set root's password in %s/etc/shadow: %s", c->root, strerror(-r));
                printf("rackstack-firstboot: root's password set from %s\n", c->ks_origin);
        }
        if ((r = pick_host(c)) < 0)
                return r;
        /* The host's secrets, now that we know which host this is. */
        if (!c->dry_run) {
                _cleanup_free_ char *names = NULL, *why = NULL;
                r = creds_place(c->root_fd, c->host ? c->host->name : NULL, &names, &why);
                if (r < 0 && r != -ENOENT)
                        return fail(c, r, "%s", why ? why : strerror(-r));
                if (r >= 0)
                        printf("rackstack-firstboot: credentials placed in /" CREDS_DIR ": %s\n", strna(names));
        }
        if (!c->ks_path) {
                (void) status_step(c->status, "answers", "skipped",
                                   "no kickstart on the command line, OEMDRV or in the image");
                return RUN_SKIPPED;
        }
        (void) status_step(c->status, "answers", "done", c->ks_origin);
        return 0;
}
