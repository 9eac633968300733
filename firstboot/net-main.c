/* SPDX-License-Identifier: MIT */
/* The network step as a verb: plan by default, --apply to bring it up, verify, and persist it. */
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "kickstart.h"
#include "net-answers.h"
#include "net-apply.h"
#include "net-main.h"
#include "net-plan.h"
#include "netplan.h"
#include "profile.h"
#include "run-steps.h"
#include "status.h"
#include "util.h"
#include "walk.h"

static void usage(FILE *f) {
        fputs("usage: rackstack-firstboot network [OPTIONS]\n"
              "  --plan              print the plan (the default)\n"
              "  --apply             bring the plan up live, verify it, then persist it as netplan\n"
              "  --json              print the plan (or with --apply, the result) as JSON\n"
              "  --root DIR          root directory to persist under (default /)\n"
              "  --sysfs DIR         sysfs to discover NICs in (default /sys)\n"
              "  --profile FILE      resolved role profile (default ROOT/usr/share/rackstack/profile.yaml)\n"
              "  --profiles DIR [--role ROLE] load the role from a profiles directory instead (the role\n"
              "                      defaults to the kickstart's %addon role)\n"
              "  --ks FILE           this host's kickstart: its network lines are the answers\n"
              "  --site FILE         site inventory (default ROOT/usr/share/rackstack/site.yaml, or DIR/site.yaml)\n"
              "  --hostname NAME     this host (default: the site's host of the role)\n"
              "  --vm | --no-vm      whether this is a virtual machine (default: /proc/cpuinfo's hypervisor flag)\n"
              "  --no-verify         apply without the carrier/LACP/gateway checks\n"
              "  --no-persist        apply without writing netplan\n", f);
}

static bool detect_vm(void) {
        _cleanup_free_ char *cpuinfo = NULL;
        if (read_file_full(AT_FDCWD, "/proc/cpuinfo", 4 << 20, &cpuinfo, NULL) < 0)
                return false;
        return strstr(cpuinfo, " hypervisor") != NULL;
}

static void print_json_plan(const struct net_plan *p) {
        struct json j = { .pretty = true };
        net_plan_to_json(p, &j);
        _cleanup_free_ char *s = buf_steal(&j.out);
        if (s)
                printf("%s\n", s);
}

static void print_result(const struct net_result *r, bool as_json) {
        if (as_json) {
                struct json j = { .pretty = true };
                net_result_to_json(r, &j);
                _cleanup_free_ char *s = buf_steal(&j.out);
                if (s)
                        printf("%s\n", s);
                return;
        }
        for (size_t i = 0; i < r->n_checks; i++)
                printf("check %-12s %-26s %s  %s\n", r->checks[i].name, r->checks[i].subject,
                       r->checks[i].passed ? "ok  " : "FAIL", strempty(r->checks[i].detail));
        for (size_t i = 0; i < r->n_links; i++) {
                _cleanup_free_ char *a = strv_join(r->links[i].addrs, " ");
                printf("link  %-12s %-5s %s mtu %u%s%s %s\n", r->links[i].name, strna(r->links[i].kind),
                       r->links[i].up ? "up  " : "down", r->links[i].mtu, r->links[i].master ? " master " : "",
                       strempty(r->links[i].master), strempty(a));
        }
        for (size_t i = 0; i < r->n_routes; i++)
                printf("route %s via %s dev %s\n", r->routes[i].dst, strna(r->routes[i].gateway), r->routes[i].dev);
}

/* netplan must accept the YAML before it replaces anything: generate it in a scratch root first. */
static int netplan_dry_run(const struct net_plan *p) {
        char tmpl[] = "/tmp/rackstack-netplan.XXXXXX";
        if (!mkdtemp(tmpl))
                return log_error_errno(-errno, "Failed to make a scratch directory: %m");
        _cleanup_close_ int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int r = fd < 0 ? -errno : netplan_persist(fd, p, NULL);
        if (r >= 0) {
                r = netplan_generate(tmpl);
                if (r > 0)
                        r = log_error_errno(-EINVAL, "netplan generate rejected the rendered configuration (exit %d)", r);
                else if (r < 0)
                        r = log_error_errno(r, "Failed to run netplan generate: %m");
        } else
                log_error_errno(r, "Failed to render netplan into %s: %m", tmpl);
        int k = walk_remove_tree(tmpl);
        if (k < 0)
                log_warning_errno(k, "Failed to remove %s: %m", tmpl);
        return r;
}

static void attach_result(struct status *st, const struct net_result *res) {
        if (!st)
                return;
        struct json j = {};
        net_result_to_json(res, &j);
        _cleanup_free_ char *s = buf_steal(&j.out);
        if (!s || status_attach(st, "network", s) < 0)
                log_warning("Cannot record the network result in the status (out of memory)");
}

/* -EINVAL is bad input (exit status 2); a failure on the machine that happens to be EINVAL is not. */
#define NOT_INPUT(r) ((r) == -EINVAL ? -EIO : (r))

/* Log why the step failed and keep the same line as its reason (for status.json). Returns r. */
_printf_(3, 4) static int step_fail(char **reason, int r, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        log_error("%s", msg ? msg : "out of memory");
        free(*reason);
        *reason = msg;
        return r;
}

/* Bad input: every diagnostic printed, the first error the reason. */
static int step_fail_diags(char **reason, struct diags *d, const char *what) {
        diags_print(d, stderr);
        const struct diag *first = NULL;
        for (size_t i = 0; i < d->n && !first; i++)
                if (d->items[i].severity == DIAG_ERROR)
                        first = &d->items[i];
        free(*reason);
        *reason = first ? strprintf("%s: %s:%u:%u: %s", what, first->file, first->line, first->col, first->message)
                        : strprintf("%s: out of memory", what);
        diags_done(d);
        return -EINVAL;
}

/* What the plan is made from: the profile, the site, the kickstart's network lines. */
struct net_inputs {
        struct ks *ks;
        struct profile *profile;
        struct site *site;
        struct net_answers_store answers;
};

static void net_inputs_done(struct net_inputs *in) {
        ks_free(in->ks);
        profile_free(in->profile);
        site_free(in->site);
        net_answers_store_done(&in->answers);
}

static int net_inputs_load(const struct net_step_options *o, struct net_inputs *in, char **reason) {
        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", o->root);
        _cleanup_free_ char *def_site = o->profiles_dir ? strprintf("%s/site.yaml", o->profiles_dir)
                                                        : strprintf("%s/usr/share/rackstack/site.yaml", o->root);
        if (!def_profile || !def_site)
                return step_fail(reason, -ENOMEM, "Out of memory");
        struct diags d = {};
        const char *role = o->role;
        int r;
        if (o->ks_path) {
                r = ks_load_file(o->ks_path, &d, &in->ks);
                if (r == -EINVAL)
                        return step_fail_diags(reason, &d, "the kickstart does not load");
                if (r < 0) {
                        diags_print(&d, stderr);
                        diags_done(&d);
                        return step_fail(reason, r, "Failed to load '%s': %s", o->ks_path, strerror(-r));
                }
                if (o->profiles_dir && !role && !(role = in->ks->addon.role)) {
                        diags_done(&d);
                        return step_fail(reason, -EINVAL, "%s names no role (%%addon com_rackstack: role ...); give --role",
                                         o->ks_path);
                }
        }
        r = o->profiles_dir ? profile_load(o->profiles_dir, role, &d, &in->profile)
                            : profile_load_file(o->profile_path ?: def_profile, &d, &in->profile);
        if (r >= 0)
                r = site_load_file(o->site_path ?: def_site, &d, &in->site);
        if (r < 0 || diags_failed(&d))
                return step_fail_diags(reason, &d, "the profile or site does not load");
        if (in->ks) {
                r = net_answers_from_ks(in->ks, in->profile->bond.name ?: "bond0", &d, &in->answers);
                if (r == -EINVAL)
                        return step_fail_diags(reason, &d, "the kickstart's network lines are not usable");
                if (r < 0) {
                        diags_print(&d, stderr);
                        diags_done(&d);
                        return step_fail(reason, r, "Failed to read the kickstart: %s", strerror(-r));
                }
        }
        diags_print(&d, stderr);
        diags_done(&d);
        return 0;
}

/* The NICs, set up first when the plan is to be applied: carrier is only readable on a link that
 * is up. */
static int net_nics(const struct net_step_options *o, struct nic_list *nics, char **reason) {
        int r = nic_discover(o->sysfs, nics);
        if (r < 0)
                return step_fail(reason, NOT_INPUT(r), "Failed to list NICs in %s/class/net: %s", o->sysfs, strerror(-r));
        if (!o->apply || nics->n == 0)
                return 0;
        r = net_nics_wake(nics, 5000);
        if (r < 0)
                log_warning_errno(r, "Failed to set NICs up to read their carrier: %m");
        else if (r > 0) {
                nic_list_done(nics);
                r = nic_discover(o->sysfs, nics);
                if (r < 0)
                        return step_fail(reason, NOT_INPUT(r), "Failed to list NICs in %s/class/net: %s", o->sysfs, strerror(-r));
        }
        return 0;
}

static int net_plan_make(const struct net_step_options *o, struct net_inputs *in, struct net_plan **ret,
                         char **reason) {
        struct nic_list nics = {};
        int r = net_nics(o, &nics, reason);
        if (r < 0)
                return r;
        struct net_plan_input pin = {
                .profile = in->profile, .site = in->site, .hostname = o->hostname, .nics = &nics,
                .answers = in->ks ? &in->answers.answers : NULL,
                .virtual_machine = o->vm >= 0 ? o->vm == 1 : detect_vm(),
        };
        struct diags d = {};
        r = net_plan_build(&pin, &d, ret);
        nic_list_done(&nics);
        if (r == -EINVAL)
                return step_fail_diags(reason, &d, "no network plan fits");
        diags_print(&d, stderr);
        diags_done(&d);
        if (r < 0)
                return step_fail(reason, r, "Failed to plan the network: %s", strerror(-r));
        return 0;
}

/* Write the plan that is up as netplan (moving others aside) and resolv.conf. */
static int net_persist(const char *root, const struct net_plan *live, char **reason) {
        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return step_fail(reason, -errno, "Failed to open root directory %s: %s", root, strerror(errno));
        struct netplan_persist_result pr = {};
        int r = netplan_persist(root_fd, live, &pr);
        if (r < 0)
                return step_fail(reason, NOT_INPUT(r), "Failed to write %s/%s: %s", root, NETPLAN_FILE, strerror(-r));
        for (char **m = pr.moved_aside; m && *m; m++)
                log_notice("Moved %s aside (%s" NETPLAN_ASIDE_SUFFIX "): %s is the only network configuration", *m, *m,
                           NETPLAN_FILE);
        if (pr.cloud_init_disabled)
                log_notice("Disabled cloud-init's network configuration");
        netplan_persist_result_done(&pr);
        r = net_write_resolv_conf(root_fd, live);
        if (r < 0)
                return step_fail(reason, NOT_INPUT(r), "Failed to write %s/etc/resolv.conf: %s", root, strerror(-r));
        return 0;
}

/* Bring the plan up, verify it (the result is printed and attached to st), then persist what is
 * up: the active-backup fallback when no LACP partner answered. */
static int net_bring_up(const struct net_step_options *o, const struct net_plan *plan, struct status *st,
                        char **reason) {
        int r = o->persist ? netplan_dry_run(plan) : 0;
        if (r < 0)
                return step_fail(reason, NOT_INPUT(r), "netplan cannot take the rendered configuration: %s",
                                 strerror(-r));
        struct net_apply_options opts = NET_APPLY_OPTIONS_DEFAULT;
        opts.sysfs_root = o->sysfs;
        opts.verify = o->verify;
        _cleanup_(net_result_done) struct net_result res = {};
        r = net_apply(plan, &opts, &res);
        print_result(&res, o->as_json);
        attach_result(st, &res);
        if (r < 0)
                return step_fail(reason, NOT_INPUT(r), "Network configuration failed at '%s'%s: %s", strna(res.failed_step),
                                 res.rolled_back ? "; rolled back" : "", strerror(-r));
        _cleanup_(net_plan_freep) struct net_plan *ab = NULL;
        if (res.fell_back) {
                const struct net_link *b = net_plan_bond(plan);
                log_warning("No LACP partner answered: %s fell back from 802.3ad to active-backup",
                            b ? b->name : "the bond");
                r = net_plan_to_active_backup(plan, &ab);
                if (r < 0)
                        return step_fail(reason, r, "Out of memory");
        }
        return o->persist ? net_persist(o->root, ab ?: plan, reason) : 0;
}

int network_step(const struct net_step_options *o, struct status *st, char **ret_reason) {
        _cleanup_(net_inputs_done) struct net_inputs in = {};
        _cleanup_(net_plan_freep) struct net_plan *plan = NULL;
        _cleanup_free_ char *reason = NULL;
        int r = net_inputs_load(o, &in, &reason);
        if (r >= 0)
                r = net_plan_make(o, &in, &plan, &reason);
        if (r >= 0 && !o->apply) {
                if (o->as_json)
                        print_json_plan(plan);
                else {
                        _cleanup_free_ char *t = net_plan_to_text(plan);
                        fputs(strempty(t), stdout);
                }
        } else if (r >= 0)
                r = net_bring_up(o, plan, st, &reason);
        if (r < 0 && ret_reason)
                *ret_reason = TAKE_PTR(reason);
        return r;
}

/* The run's network step: the kickstart's network lines are its answers too. */
int step_network(struct run_ctx *c) {
        struct net_step_options o = NET_STEP_OPTIONS_DEFAULT;
        o.root = c->root;
        o.apply = true;
        o.ks_path = c->ks_path;
        _cleanup_free_ char *reason = NULL;
        fflush(stdout);
        int r = network_step(&o, c->status, &reason);
        if (r < 0) {
                (void) status_fail(c->status, "network", reason ?: strerror(-r));
                return r;
        }
        (void) status_step(c->status, "network", "done", NULL);
        return 0;
}

int verb_network(int argc, char **argv) {
        enum { ARG_ROOT = 0x100, ARG_SYSFS, ARG_PROFILE, ARG_PROFILES, ARG_ROLE, ARG_SITE, ARG_HOSTNAME, ARG_VM,
               ARG_NO_VM, ARG_NO_VERIFY, ARG_NO_PERSIST, ARG_KS };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "plan", no_argument, NULL, 'p' },
                { "apply", no_argument, NULL, 'a' },
                { "json", no_argument, NULL, 'j' },
                { "root", required_argument, NULL, ARG_ROOT },
                { "sysfs", required_argument, NULL, ARG_SYSFS },
                { "profile", required_argument, NULL, ARG_PROFILE },
                { "profiles", required_argument, NULL, ARG_PROFILES },
                { "role", required_argument, NULL, ARG_ROLE },
                { "site", required_argument, NULL, ARG_SITE },
                { "hostname", required_argument, NULL, ARG_HOSTNAME },
                { "vm", no_argument, NULL, ARG_VM },
                { "no-vm", no_argument, NULL, ARG_NO_VM },
                { "no-verify", no_argument, NULL, ARG_NO_VERIFY },
                { "no-persist", no_argument, NULL, ARG_NO_PERSIST },
                { "ks", required_argument, NULL, ARG_KS },
                {}
        };
        struct net_step_options o = NET_STEP_OPTIONS_DEFAULT;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hpaj", options, NULL)) >= 0)
                switch (c) {
                case 'h': usage(stdout); return 0;
                case 'p': o.apply = false; break;
                case 'a': o.apply = true; break;
                case 'j': o.as_json = true; break;
                case ARG_ROOT: o.root = optarg; break;
                case ARG_SYSFS: o.sysfs = optarg; break;
                case ARG_PROFILE: o.profile_path = optarg; break;
                case ARG_PROFILES: o.profiles_dir = optarg; break;
                case ARG_ROLE: o.role = optarg; break;
                case ARG_SITE: o.site_path = optarg; break;
                case ARG_HOSTNAME: o.hostname = optarg; break;
                case ARG_VM: o.vm = 1; break;
                case ARG_NO_VM: o.vm = 0; break;
                case ARG_NO_VERIFY: o.verify = false; break;
                case ARG_NO_PERSIST: o.persist = false; break;
                case ARG_KS: o.ks_path = optarg; break;
                default: usage(stderr); return 2;
                }
        if (optind < argc || (o.profiles_dir && !o.role && !o.ks_path) || (o.role && !o.profiles_dir)) {
                usage(stderr);
                return 2;
        }
        int r = network_step(&o, NULL, NULL);
        return r == -EINVAL ? 2 : r < 0 ? 1 : 0;
}
