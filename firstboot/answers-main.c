/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "answer-set.h"
#include "answers-main.h"
#include "answers-render.h"
#include "answers.h"
#include "cleanup.h"
#include "fileio.h"
#include "json.h"
#include "kcmdline.h"
#include "log.h"
#include "net-answers.h"
#include "nic.h"
#include "parse.h"
#include "prompt-plan.h"
#include "prompt.h"
#include "util.h"

static void usage(FILE *f) {
        fputs("usage: rackstack-firstboot answers [OPTIONS]\n"
              "  --explain           print each answer and where it came from (the default)\n"
              "  --json              the same as JSON\n"
              "  --prompt            ask at the console for what is still missing\n"
              "  --ask-all           ask every question, with the other sources' values as defaults\n"
              "                      (the kernel command line's rackstack.prompt does the same)\n"
              "  --out FILE          write the completed answers as a kickstart (mode 0600)\n"
              "  --root DIR          root directory (default /)\n"
              "  --ks FILE           the kickstart (default: inst.ks=, OEMDRV, the image's, as at boot)\n"
              "  --kernel-cmdline S  use S instead of /proc/cmdline (inst.ks=, rackstack.prompt_timeout=)\n"
              "  --no-devices        do not look for OEMDRV or a CD\n"
              "  --profile FILE      the role profile (default ROOT/usr/share/rackstack/profile.yaml)\n"
              "  --profiles DIR --role ROLE  the role from a profiles directory instead\n"
              "  --site FILE         the site (default ROOT/usr/share/rackstack/site.yaml or DIR/site.yaml)\n"
              "  --sysfs DIR         sysfs for the NIC list (default /sys)\n"
              "  --console DEV       ask on DEV (repeatable; default the kernel's consoles)\n"
              "  --stdio             ask on stdin/stdout\n"
              "  --timeout SEC       give up when nobody types for SEC seconds (default 300)\n"
              "  --wipe TEXT         the disk plan wipes TEXT: ask for the word 'wipe' (repeatable)\n"
              "  --no-mute           leave kernel messages on the console while asking\n", f);
}

struct answers_args {
        const char *root, *ks, *cmdline, *profile, *profiles, *role, *site, *sysfs, *out;
        bool json, prompt, ask_all, no_devices, stdio, no_mute;
        char **consoles, **wipe;
        uint64_t timeout_usec;
};

/* Read the kickstart at path, naming it label in diagnostics. */
static int load_ks(const char *path, const char *label, bool check_mode, struct ks **ret_ks, char **ret_text) {
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_free_ char *text = NULL;
        size_t size;
        int r = read_file_full(AT_FDCWD, path, KS_FILE_MAX, &text, &size);
        if (r < 0)
                return log_error_errno(r, "Failed to read '%s': %m", path);
        if (check_mode)
                r = ks_load_file(path, &d, ret_ks); /* refuses secrets in a file others can read */
        else
                r = ks_parse_buffer(label, text, size, &d, ret_ks);
        diags_print(&d, stderr);
        if (r < 0)
                return r;
        *ret_text = TAKE_PTR(text);
        return 0;
}

/* The kickstart named with --ks or found as firstboot would find it, parsed. Returns an exit
 * code: 0 (also when there is none), 1 or 2. */
static int find_and_load(const struct answers_args *a, struct ks **ret_ks, char **ret_label, char **ret_text) {
        _cleanup_free_ char *found = NULL;
        const char *ks_path = a->ks;
        if (!ks_path) {
                struct answers_find_options fo = ANSWERS_FIND_OPTIONS_DEFAULT;
                fo.cmdline = a->cmdline;
                fo.no_devices = a->no_devices;
                /* not the run's ks.cfg: it may hold answers completed at the console */
                fo.copy_name = "answers-verb.ks";
                int r = answers_find(a->root, &fo, &found, ret_label, NULL);
                if (r == -EACCES || r == -EPERM || r == -EINVAL || r == -EPROTONOSUPPORT)
                        return 2; /* the diagnostic is printed */
                if (r < 0 && r != -ENOENT)
                        return log_error_errno(r, "Failed to get the kickstart: %m"), 1;
                ks_path = found;
        } else if (!(*ret_label = strdup(a->ks)))
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        if (ks_path) {
                int r = load_ks(ks_path, *ret_label, a->ks != NULL, ret_ks, ret_text);
                if (r < 0)
                        return r == -EINVAL || r == -EACCES ? 2 : 1;
        }
        return 0;
}

/* --prompt/--ask-all: ask at the consoles for what is missing. Returns an exit code. */
static int ask(const struct answers_args *a, const struct answers_input *ai, struct answer_set *set,
               const struct kcmdline *kc, const char *line) {
        uint64_t timeout = a->timeout_usec;
        if (!timeout) {
                struct diags kd = {};
                if (kcmdline_prompt_timeout(kc, &kd, &timeout) < 0)
                        timeout = KCMDLINE_PROMPT_TIMEOUT_DEFAULT_SEC * 1000000ull;
                diags_print(&kd, stderr);
                diags_done(&kd);
        }
        struct prompt_options po = { .consoles = a->consoles, .cmdline = line, .use_stdio = a->stdio,
                                     .timeout_usec = timeout, .mute_kernel = !a->no_mute };
        struct nic_list nics = {};
        int r = nic_discover(a->sysfs ? a->sysfs : "/sys", &nics);
        if (r < 0)
                log_warning_errno(r, "Cannot list the NICs: %m");
        struct prompt_input pin = { .known = set, .profile = ai->profile, .site = ai->site, .nics = &nics,
                                    .wipe = a->wipe, .all = a->ask_all || kcmdline_prompt_forced(kc) };
        _cleanup_free_ char *reason = NULL;
        /* which host this is comes first: the site's values for it fill the rest */
        r = prompt_ask_host(ai, &pin, set, &po, &reason);
        _cleanup_(prompt_plan_done) struct prompt_plan plan = {};
        if (r >= 0 && (r = prompt_plan_build(&pin, &plan)) < 0) {
                nic_list_done(&nics);
                return log_error_errno(r, "Failed to plan the questions: %m"), 1;
        }
        if (r >= 0)
                r = prompt_run(&plan, &pin, set, &po, &reason);
        nic_list_done(&nics);
        if (r < 0) {
                printf("rackstack-firstboot: FAILED at answers: %s\n", reason ? reason : strerror(-r));
                fflush(stdout);
                return 1;
        }
        return 0;
}

/* --out: the completed answers as a kickstart that passes the kickstart's own checks. Returns an
 * exit code. */
static int write_out(const struct answers_args *a, const struct answer_set *set, const struct ks *ks,
                     const char *text, const struct profile *prof, const struct site *site) {
        _cleanup_free_ char *out = NULL;
        if (!answer_set_value(set, "hostname"))
                return log_error("Answers are still missing: %s names no host (no 'network --hostname='); run with "
                                 "--prompt to ask for it", ks ? a->ks ? a->ks : "the kickstart" : "no kickstart"), 1;
        _cleanup_(diags_done) struct diags rd = {};
        int r = answers_render_ks(set, ks, text, prof, site, &rd, &out);
        diags_print(&rd, stderr);
        if (r == -EINVAL)
                return log_error("Answers are still missing (a VLAN address); run with --prompt"), 1;
        if (r < 0)
                return log_error_errno(r, "Failed to render the kickstart: %m"), 1;
        /* what we wrote must pass the kickstart's own checks, as a file from any source would */
        _cleanup_(diags_done) struct diags vd = {};
        _cleanup_(ks_freep) struct ks *check = NULL;
        _cleanup_(net_answers_store_done) struct net_answers_store store = {};
        r = ks_parse_buffer(a->out, out, strlen(out), &vd, &check);
        if (r >= 0)
                r = net_answers_from_ks(check, prof->bond.name ? prof->bond.name : "bond0", &vd, &store);
        diags_print(&vd, stderr);
        if (r < 0 || diags_failed(&vd))
                return log_error("The completed answers do not pass the kickstart checks (see above)"), 1;
        r = write_file_atomic(AT_FDCWD, a->out, out, strlen(out), 0600);
        if (r < 0)
                return log_error_errno(r, "Failed to write '%s': %m", a->out), 1;
        return 0;
}

static int run(const struct answers_args *a) {
        _cleanup_free_ char *label = NULL, *text = NULL;
        _cleanup_(ks_freep) struct ks *ks = NULL;
        int r = find_and_load(a, &ks, &label, &text);
        if (r != 0)
                return r;

        _cleanup_(diags_done) struct diags d = {};
        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", a->root);
        _cleanup_free_ char *def_site = a->profiles ? strprintf("%s/site.yaml", a->profiles) :
                                                      strprintf("%s/usr/share/rackstack/site.yaml", a->root);
        if (!def_profile || !def_site)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        const char *role = a->role ? a->role : ks ? ks->addon.role : NULL;
        if (a->profiles && !role)
                return log_error("--profiles needs --role (or a kickstart with %%addon role)"), 2;
        _cleanup_(profile_freep) struct profile *prof = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        r = a->profiles ? profile_load(a->profiles, role, &d, &prof) :
                          profile_load_file(a->profile ? a->profile : def_profile, &d, &prof);
        if (r >= 0)
                r = site_load_file(a->site ? a->site : def_site, &d, &site);
        diags_print(&d, stderr);
        if (r < 0 || diags_failed(&d))
                return 2;

        struct answers_input in = { .ks = ks, .ks_label = label, .profile = prof, .site = site };
        _cleanup_(answer_set_done) struct answer_set set = {};
        r = answers_collect(&in, &set);
        if (r < 0)
                return log_error_errno(r, "Failed to collect the answers: %m"), 1;

        _cleanup_(kcmdline_freep) struct kcmdline *kc = NULL;
        _cleanup_free_ char *proc = NULL;
        const char *line = a->cmdline;
        if (!line && read_file_full(AT_FDCWD, "/proc/cmdline", 65536, &proc, NULL) >= 0)
                line = proc;
        if (kcmdline_parse(line, &kc) < 0)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;
        if ((a->prompt || a->ask_all) && (r = ask(a, &in, &set, kc, line)) != 0)
                return r;
        if (a->out && (r = write_out(a, &set, ks, text, prof, site)) != 0)
                return r;

        if (a->json) {
                struct json j = { .pretty = true };
                answer_set_to_json(&set, &j);
                _cleanup_free_ char *s = buf_steal(&j.out);
                printf("%s\n", strempty(s));
        } else if (!a->out || !(a->prompt || a->ask_all)) {
                _cleanup_free_ char *t = answer_set_to_text(&set);
                fputs(strempty(t), stdout);
        }
        return 0;
}

int verb_answers(int argc, char **argv) {
        enum { ARG_ROOT = 0x100, ARG_KS, ARG_CMDLINE, ARG_NO_DEVICES, ARG_PROFILE, ARG_PROFILES, ARG_ROLE, ARG_SITE,
               ARG_SYSFS, ARG_CONSOLE, ARG_STDIO, ARG_TIMEOUT, ARG_WIPE, ARG_NO_MUTE, ARG_OUT, ARG_ASK_ALL };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "explain", no_argument, NULL, 'e' },
                { "json", no_argument, NULL, 'j' },
                { "prompt", no_argument, NULL, 'p' },
                { "ask-all", no_argument, NULL, ARG_ASK_ALL },
                { "out", required_argument, NULL, ARG_OUT },
                { "root", required_argument, NULL, ARG_ROOT },
                { "ks", required_argument, NULL, ARG_KS },
                { "kernel-cmdline", required_argument, NULL, ARG_CMDLINE },
                { "no-devices", no_argument, NULL, ARG_NO_DEVICES },
                { "profile", required_argument, NULL, ARG_PROFILE },
                { "profiles", required_argument, NULL, ARG_PROFILES },
                { "role", required_argument, NULL, ARG_ROLE },
                { "site", required_argument, NULL, ARG_SITE },
                { "sysfs", required_argument, NULL, ARG_SYSFS },
                { "console", required_argument, NULL, ARG_CONSOLE },
                { "stdio", no_argument, NULL, ARG_STDIO },
                { "timeout", required_argument, NULL, ARG_TIMEOUT },
                { "wipe", required_argument, NULL, ARG_WIPE },
                { "no-mute", no_argument, NULL, ARG_NO_MUTE },
                {}
        };
        struct answers_args a = { .root = "/" };
        _cleanup_strv_free_ char **consoles = NULL, **wipe = NULL;
        int c;
        uint32_t sec;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hejp", options, NULL)) >= 0)
                switch (c) {
                case 'h': usage(stdout); return 0;
                case 'e': break;
                case 'j': a.json = true; break;
                case 'p': a.prompt = true; break;
                case ARG_ASK_ALL: a.ask_all = true; break;
                case ARG_OUT: a.out = optarg; break;
                case ARG_ROOT: a.root = optarg; break;
                case ARG_KS: a.ks = optarg; break;
                case ARG_CMDLINE: a.cmdline = optarg; break;
                case ARG_NO_DEVICES: a.no_devices = true; break;
                case ARG_PROFILE: a.profile = optarg; break;
                case ARG_PROFILES: a.profiles = optarg; break;
                case ARG_ROLE: a.role = optarg; break;
                case ARG_SITE: a.site = optarg; break;
                case ARG_SYSFS: a.sysfs = optarg; break;
                case ARG_STDIO: a.stdio = true; break;
                case ARG_NO_MUTE: a.no_mute = true; break;
                case ARG_CONSOLE:
                        if (strv_extend(&consoles, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory"), 1;
                        break;
                case ARG_WIPE:
                        if (strv_extend(&wipe, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory"), 1;
                        break;
                case ARG_TIMEOUT:
                        if (parse_uint32_range(optarg, 1, 86400, &sec) < 0)
                                return log_error("--timeout needs seconds (1..86400), not '%s'", optarg), 2;
                        a.timeout_usec = (uint64_t) sec * 1000000u;
                        break;
                default: usage(stderr); return 2;
                }
        if (optind < argc) {
                usage(stderr);
                return 2;
        }
        a.consoles = consoles;
        a.wipe = wipe;
        return run(&a);
}
