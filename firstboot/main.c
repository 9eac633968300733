/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "backup.h"
#include "db-wiring.h"
#include "ipa-dns.h"
#include "zabbix.h"
#include "deferred-apt.h"
#include "disk-apply.h"
#include "disk-plan.h"
#include "disk-probe.h"
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
#include "install-main.h"
#include "run-steps.h"
#include "run.h"
#include "services-main.h"
#include "status.h"
#include "storage-main.h"
#include "util.h"

/* The first-boot run, as the unit starts it: the steps in firstboot/run.c, one status and one last
 * console line. On success a stamp keeps the unit from running again; a failed run is retried on
 * the next boot and resumes from the journal. */
static int verb_run(const struct options *o) {
        return run_firstboot(o);
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
        fprintf(f, "  %-10s %s\n", "install", "write the role's image onto the OS disk from a medium or URL (see install --help)");
        fprintf(f, "  %-10s %s\n", "services", "firewall, service configuration, start and check (services --help)");
        fprintf(f, "  %-10s %s\n", "render", "print a rendered config: postgresql --ram SIZE, nftables, traefik");
        fprintf(f, "  %-10s %s\n", "backup", "the backup job's two ends from the credentials (--host NAME [--root DIR] [--plan])");
        fprintf(f, "  %-10s %s\n", "db-wiring", "what the database host makes for its consumers: --host NAME --out DIR [--root DIR]");
        fprintf(f, "  %-10s %s\n", "zabbix", "the Zabbix server on comm: database, files, autoregistration (server --host NAME); agent-conf");
        fprintf(f, "  %-10s %s\n", "ipa-dns", "the site's records in FreeIPA's DNS on id: --plan, --zone-file ZONE, --apply");
        fprintf(f, "  %-10s %s\n", "fetch-deferred", "install deferred apt services now: key by fingerprint, signed source (--plan)");
        fprintf(f, "  %-10s %s\n", "identity", "compare with the recorded identity; --check-clone renews a clone's (see identity --help)");
        fprintf(f, "\noptions:\n"
                   "  --root=DIR          operate on files under DIR (default /)\n"
                   "  --role=ROLE         the role whose disk layout to use, from --profiles\n"
                   "  --profiles=DIR      where --role's profiles are (default " DEFAULT_PROFILES ")\n"
                   "  --profile=FILE      the role profile (default " IMAGE_PROFILE ")\n"
                   "  --install           plan: as `install` would plan (the OS disk is chosen to receive the image)\n"
                   "  --ks=FILE           kickstart answers (ignoredisk, clearpart, part --ondisk, %%addon disk)\n"
                   "  --only-use=DEV,...  ignoredisk --only-use: only these disks are visible\n"
                   "  --clear=DEV,...     clearpart --drives: these may be wiped if the plan uses them\n"
                   "  --clear-all         clearpart --all: needs --clear or --only-use to bound it\n"
                   "  --json              print the plan as JSON\n"
                   "  --no-mount          write fstab but do not mount\n"
                   "  --confirm-wipe      storage: offer to wipe refused disks; type 'wipe' to confirm\n"
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
        if (streq(argv[1], "install"))
                return verb_install(argc - 1, argv + 1);
        if (streq(argv[1], "services"))
                return verb_services(argc - 1, argv + 1);
        if (streq(argv[1], "render"))
                return verb_render(argc - 1, argv + 1);
        if (streq(argv[1], "identity"))
                return verb_identity(argc - 1, argv + 1);
        if (streq(argv[1], "backup"))
                return verb_backup(argc - 1, argv + 1);
        if (streq(argv[1], "db-wiring"))
                return verb_db_wiring(argc - 1, argv + 1);
        if (streq(argv[1], "zabbix"))
                return verb_zabbix(argc - 1, argv + 1);
        if (streq(argv[1], "ipa-dns"))
                return verb_ipa_dns(argc - 1, argv + 1);
        if (streq(argv[1], "fetch-deferred"))
                return verb_fetch_deferred(argc - 1, argv + 1);
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

        enum { OPT_ROOT = 256, OPT_ROLE, OPT_PROFILE, OPT_KS, OPT_ONLY_USE, OPT_CLEAR, OPT_CLEAR_ALL, OPT_JSON, OPT_NO_MOUNT, OPT_SYSFS, OPT_CONFIRM_WIPE, OPT_PROFILES, OPT_INSTALL };
        static const struct option longopts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "role", required_argument, NULL, OPT_ROLE },
                { "profile", required_argument, NULL, OPT_PROFILE },
                { "profiles", required_argument, NULL, OPT_PROFILES },
                { "install", no_argument, NULL, OPT_INSTALL },
                { "ks", required_argument, NULL, OPT_KS },
                { "only-use", required_argument, NULL, OPT_ONLY_USE },
                { "clear", required_argument, NULL, OPT_CLEAR },
                { "clear-all", no_argument, NULL, OPT_CLEAR_ALL },
                { "json", no_argument, NULL, OPT_JSON },
                { "no-mount", no_argument, NULL, OPT_NO_MOUNT },
                { "confirm-wipe", no_argument, NULL, OPT_CONFIRM_WIPE },
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
                case OPT_PROFILES: o.profiles = optarg; break;
                case OPT_INSTALL: o.install = true; break;
                case OPT_KS: o.ks = optarg; break;
                case OPT_ONLY_USE: r = split_append(&o.only_use, optarg); break;
                case OPT_CLEAR: r = split_append(&o.clear, optarg); break;
                case OPT_CLEAR_ALL: o.clear_all = true; break;
                case OPT_JSON: o.json = true; break;
                case OPT_NO_MOUNT: o.no_mount = true; break;
                case OPT_CONFIRM_WIPE: o.confirm_wipe = true; break;
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
        if (o.install && verb->run != verb_plan) {
                log_error("--install is for the plan verb: only `install` itself writes an image");
                return 2;
        }
        return verb->run(&o);
}
