/* SPDX-License-Identifier: MIT */
/* The network step as a verb: plan by default, --apply to bring it up, verify, and persist it. */
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
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
#include "status.h"
#include "util.h"

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

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
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
        if (nftw(tmpl, remove_entry, 16, FTW_DEPTH | FTW_PHYS) < 0)
                log_warning_errno(-errno, "Failed to remove %s: %m", tmpl);
        return r;
}

int verb_network(int argc, char **argv) {
        return network_run(argc, argv, NULL);
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

int network_run(int argc, char **argv, struct status *st) {
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
        const char *root = "/", *sysfs = "/sys", *profile_path = NULL, *profiles_dir = NULL, *role = NULL,
                   *site_path = NULL, *hostname = NULL, *ks_path = NULL;
        bool apply = false, as_json = false, verify = true, persist = true;
        int vm = -1, c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "hpaj", options, NULL)) >= 0)
                switch (c) {
                case 'h': usage(stdout); return 0;
                case 'p': apply = false; break;
                case 'a': apply = true; break;
                case 'j': as_json = true; break;
                case ARG_ROOT: root = optarg; break;
                case ARG_SYSFS: sysfs = optarg; break;
                case ARG_PROFILE: profile_path = optarg; break;
                case ARG_PROFILES: profiles_dir = optarg; break;
                case ARG_ROLE: role = optarg; break;
                case ARG_SITE: site_path = optarg; break;
                case ARG_HOSTNAME: hostname = optarg; break;
                case ARG_VM: vm = 1; break;
                case ARG_NO_VM: vm = 0; break;
                case ARG_NO_VERIFY: verify = false; break;
                case ARG_NO_PERSIST: persist = false; break;
                case ARG_KS: ks_path = optarg; break;
                default: usage(stderr); return 2;
                }
        if (optind < argc || (profiles_dir && !role && !ks_path) || (role && !profiles_dir)) {
                usage(stderr);
                return 2;
        }

        _cleanup_free_ char *def_profile = strprintf("%s/usr/share/rackstack/profile.yaml", root);
        _cleanup_free_ char *def_site = profiles_dir ? strprintf("%s/site.yaml", profiles_dir) :
                                                       strprintf("%s/usr/share/rackstack/site.yaml", root);
        if (!def_profile || !def_site)
                return log_error_errno(-ENOMEM, "Out of memory"), 1;

        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        _cleanup_(net_answers_store_done) struct net_answers_store answers = {};
        int r;
        if (ks_path) {
                r = ks_load_file(ks_path, &d, &ks);
                if (r < 0) {
                        diags_print(&d, stderr);
                        diags_done(&d);
                        return r == -EINVAL ? 2 : (log_error_errno(r, "Failed to load '%s': %m", ks_path), 1);
                }
                if (profiles_dir && !role) {
                        role = ks->addon.role;
                        if (!role) {
                                diags_done(&d);
                                return log_error("%s names no role (%%addon com_rackstack: role ...); give --role",
                                                 ks_path), 2;
                        }
                }
        }

        _cleanup_(profile_freep) struct profile *prof = NULL;
        _cleanup_(site_freep) struct site *site = NULL;
        r = profiles_dir ? profile_load(profiles_dir, role, &d, &prof) :
                               profile_load_file(profile_path ? profile_path : def_profile, &d, &prof);
        if (r >= 0)
                r = site_load_file(site_path ? site_path : def_site, &d, &site);
        if (r < 0 || diags_failed(&d)) {
                diags_print(&d, stderr);
                diags_done(&d);
                return 2;
        }

        if (ks) {
                r = net_answers_from_ks(ks, prof->bond.name ? prof->bond.name : "bond0", &d, &answers);
                if (r < 0) {
                        diags_print(&d, stderr);
                        diags_done(&d);
                        return r == -EINVAL ? 2 : (log_error_errno(r, "Failed to read the kickstart: %m"), 1);
                }
        }

        struct nic_list nics = {};
        r = nic_discover(sysfs, &nics);
        if (r < 0) {
                diags_done(&d);
                return log_error_errno(r, "Failed to list NICs in %s/class/net: %m", sysfs), 1;
        }
        if (apply && nics.n > 0) {
                /* Carrier is only readable on a link that is up. */
                r = net_nics_wake(&nics, 5000);
                if (r < 0)
                        log_warning_errno(r, "Failed to set NICs up to read their carrier: %m");
                else if (r > 0) {
                        nic_list_done(&nics);
                        r = nic_discover(sysfs, &nics);
                        if (r < 0) {
                                diags_done(&d);
                                return log_error_errno(r, "Failed to list NICs in %s/class/net: %m", sysfs), 1;
                        }
                }
        }

        struct net_plan_input in = {
                .profile = prof, .site = site, .hostname = hostname, .nics = &nics,
                .answers = ks ? &answers.answers : NULL,
                .virtual_machine = vm >= 0 ? vm == 1 : detect_vm(),
        };
        _cleanup_(net_plan_freep) struct net_plan *plan = NULL;
        r = net_plan_build(&in, &d, &plan);
        diags_print(&d, stderr);
        diags_done(&d);
        nic_list_done(&nics);
        if (r == -EINVAL)
                return 2;
        if (r < 0)
                return log_error_errno(r, "Failed to plan the network: %m"), 1;

        if (!apply) {
                if (as_json)
                        print_json_plan(plan);
                else {
                        _cleanup_free_ char *t = net_plan_to_text(plan);
                        fputs(strempty(t), stdout);
                }
                return 0;
        }

        if (persist && netplan_dry_run(plan) < 0)
                return 1;

        struct net_apply_options opts = NET_APPLY_OPTIONS_DEFAULT;
        opts.sysfs_root = sysfs;
        opts.verify = verify;
        struct net_result res = {};
        r = net_apply(plan, &opts, &res);
        print_result(&res, as_json);
        attach_result(st, &res);
        if (r < 0) {
                log_error_errno(r, "Network configuration failed at '%s'%s: %m", strna(res.failed_step),
                                res.rolled_back ? "; rolled back" : "");
                net_result_done(&res);
                return 1;
        }
        if (res.fell_back) {
                const struct net_link *b = net_plan_bond(plan);
                log_warning("No LACP partner answered: %s fell back from 802.3ad to active-backup",
                            b ? b->name : "the bond");
        }

        /* The plan that is up now: the fallback if there was one. */
        _cleanup_(net_plan_freep) struct net_plan *ab = NULL;
        const struct net_plan *live = plan;
        if (res.fell_back) {
                r = net_plan_to_active_backup(plan, &ab);
                if (r < 0) {
                        net_result_done(&res);
                        return log_error_errno(r, "Out of memory"), 1;
                }
                live = ab;
        }
        net_result_done(&res);
        if (!persist)
                return 0;

        _cleanup_close_ int root_fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd < 0)
                return log_error_errno(-errno, "Failed to open root directory %s: %m", root), 1;
        struct netplan_persist_result pr = {};
        r = netplan_persist(root_fd, live, &pr);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/%s: %m", root, NETPLAN_FILE), 1;
        for (char **m = pr.moved_aside; m && *m; m++)
                log_notice("Moved %s aside (%s" NETPLAN_ASIDE_SUFFIX "): %s is the only network configuration", *m, *m,
                           NETPLAN_FILE);
        if (pr.cloud_init_disabled)
                log_notice("Disabled cloud-init's network configuration");
        netplan_persist_result_done(&pr);
        r = net_write_resolv_conf(root_fd, live);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s/etc/resolv.conf: %m", root), 1;
        return 0;
}
