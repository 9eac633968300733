/* SPDX-License-Identifier: MIT */
/* The identity step of a run, and the `identity` verb the every-boot unit runs. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "identity.h"
#include "json.h"
#include "log.h"
#include "parse.h"
#include "run-steps.h"
#include "util.h"

/* What the system now says: the kernel's host name, and the name resolving (NSS, files first) to
 * the address we wrote. */
static int verify_names(const struct identity_names *n, char **ret_reason) {
        char hn[256] = {};
        if (gethostname(hn, sizeof hn - 1) < 0 || !streq(hn, n->fqdn)) {
                *ret_reason = strprintf("the kernel's host name is '%s', not '%s'", hn, n->fqdn);
                return -EIO;
        }
        if (!n->addr)
                return 0;
        struct addrinfo hints = { .ai_family = AF_INET }, *ai = NULL;
        int e = getaddrinfo(n->fqdn, NULL, &hints, &ai);
        bool found = false;
        for (struct addrinfo *a = e == 0 ? ai : NULL; a; a = a->ai_next)
                found = found || ntohl(((struct sockaddr_in *) a->ai_addr)->sin_addr.s_addr) == n->addr;
        if (ai)
                freeaddrinfo(ai);
        if (!found) {
                _cleanup_free_ char *a = format_ipv4(n->addr);
                *ret_reason = strprintf("%s does not resolve to %s after /etc/hosts was written (%s)", n->fqdn, strna(a),
                                        e ? gai_strerror(e) : "other addresses");
                return -EIO;
        }
        return 0;
}

static int identity_run(struct run_ctx *c, char **ret_reason) {
        _cleanup_(identity_names_done) struct identity_names n = {};
        int r = identity_names_resolve(c->ks, c->site, c->host, &n);
        if (r == -ENOENT) {
                *ret_reason = strdup("no host name: the answers have no --hostname and the site no host for this role");
                return r;
        }
        if (r < 0)
                return r;
        _cleanup_(identity_facts_done) struct identity_facts f = {};
        if ((r = identity_probe(c->o->sysfs, &f)) < 0) {
                *ret_reason = strprintf("cannot read the machine's facts from sysfs: %s", strerror(-r));
                return r;
        }
        _cleanup_(identity_record_done) struct identity_record rec = {};
        r = identity_record_load(c->root_fd, &rec);
        if (r < 0 && r != -ENOENT) {
                *ret_reason = strprintf("/%s: %s", IDENTITY_PATH, strerror(-r));
                return r;
        }
        bool have_rec = r >= 0;
        _cleanup_free_ char *mid = NULL;
        (void) identity_read_machine_id(c->root_fd, &mid);
        _cleanup_(identity_plan_done) struct identity_plan p = {};
        r = identity_decide(have_rec ? &rec : NULL, &f, machine_id_valid(mid), identity_host_keys_present(c->root_fd), &p);
        if (r < 0)
                return r;
        /* a host renamed by new answers: record the name too */
        if (have_rec && (!rec.hostname || !streq(rec.hostname, n.fqdn)))
                p.record = true;

        _cleanup_free_ char *addr = n.addr ? format_ipv4(n.addr) : strdup("no address");
        if (!addr)
                return -ENOMEM;
        printf("rackstack-firstboot: identity: %s (%s, from the %s); %s: %s; machine-id %s%s%s\n", n.fqdn, addr,
               n.source, identity_verdict_to_string(p.verdict), p.reason, strna(mid),
               p.new_machine_id ? " (renewed)" : "", p.new_host_keys ? "; new SSH host keys" : "");
        if (c->dry_run)
                return RUN_SKIPPED;
        bool live = streq(c->root, "/");
        if ((r = identity_write_names(c->root_fd, &n, live)) < 0) {
                *ret_reason = strprintf("cannot write /etc/hostname and /etc/hosts: %s", strerror(-r));
                return r;
        }
        if ((r = identity_apply(c->root_fd, c->root, &p, &f, n.fqdn)) < 0) {
                *ret_reason = strprintf("cannot make the machine-id, host keys or record: %s", strerror(-r));
                return r;
        }
        if ((r = identity_install_unit(c->root_fd)) < 0) {
                *ret_reason = strprintf("cannot install %s: %s", IDENTITY_UNIT, strerror(-r));
                return r;
        }
        (void) status_set_host(c->status, n.fqdn);
        if (live && (r = verify_names(&n, ret_reason)) < 0)
                return r;

        _cleanup_free_ char *new_mid = NULL;
        (void) identity_read_machine_id(c->root_fd, &new_mid);
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "fqdn", n.fqdn);
        json_kv_string(&j, "address", n.addr ? addr : NULL);
        json_kv_string(&j, "verdict", identity_verdict_to_string(p.verdict));
        json_kv_string(&j, "why", p.reason);
        json_kv_string(&j, "machine_id", new_mid);
        json_kv_bool(&j, "new_machine_id", p.new_machine_id);
        json_kv_bool(&j, "new_host_keys", p.new_host_keys);
        json_kv_string(&j, "product_uuid", f.product_uuid);
        json_key(&j, "macs");
        json_begin_array(&j);
        for (char **m = f.macs; m && *m; m++)
                json_string(&j, *m);
        json_end_array(&j);
        json_end_object(&j);
        _cleanup_free_ char *js = buf_steal(&j.out);
        if (js)
                (void) status_attach(c->status, "identity", js);
        *ret_reason = strprintf("%s on %s in /etc/hosts%s; %s; machine-id %s", n.fqdn, addr,
                                live ? " (resolves, and is the kernel's host name)" : "",
                                identity_verdict_to_string(p.verdict), strna(new_mid));
        return 0;
}

int step_identity(struct run_ctx *c) {
        _cleanup_free_ char *reason = NULL;
        int r = identity_run(c, &reason);
        if (r < 0) {
                _cleanup_free_ char *why = reason ? NULL : strdup(strerror(-r));
                (void) status_fail(c->status, "identity", reason ? reason : why ? why : "out of memory");
                return r;
        }
        if (r == RUN_SKIPPED) {
                (void) status_step(c->status, "identity", "skipped", "dry run");
                return r;
        }
        (void) status_step(c->status, "identity", "done", reason);
        return 0;
}

/* `rackstack-firstboot identity [--check-clone] [--root=DIR] [--sysfs=DIR] [--dry-run]`: without
 * --check-clone, print the decision and change nothing. */
int verb_identity(int argc, char **argv) {
        enum { OPT_ROOT = 256, OPT_SYSFS, OPT_CHECK, OPT_DRY };
        static const struct option longopts[] = {
                { "root", required_argument, NULL, OPT_ROOT },
                { "sysfs", required_argument, NULL, OPT_SYSFS },
                { "check-clone", no_argument, NULL, OPT_CHECK },
                { "dry-run", no_argument, NULL, OPT_DRY },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *root = "/", *sysfs = NULL;
        bool check = false, dry = false;
        int opt;
        optind = 1;
        while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) >= 0)
                switch (opt) {
                case OPT_ROOT: root = optarg; break;
                case OPT_SYSFS: sysfs = optarg; break;
                case OPT_CHECK: check = true; break;
                case OPT_DRY: dry = true; break;
                case 'h':
                        printf("usage: rackstack-firstboot identity [--check-clone] [--dry-run] [--root=DIR] [--sysfs=DIR]\n"
                               "  Compare this machine (DMI product_uuid, NIC MACs) with the identity recorded at the\n"
                               "  first boot. --check-clone acts on a clone: new machine-id and SSH host keys, join redone.\n");
                        return 0;
                default: return 2;
                }
        if (optind < argc) {
                log_error("unexpected argument '%s'", argv[optind]);
                return 2;
        }
        _cleanup_close_ int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return log_error_errno(-errno, "Cannot open root '%s': %m", root), 1;
        _cleanup_(identity_record_done) struct identity_record rec = {};
        int r = identity_record_load(fd, &rec);
        if (r == -ENOENT) {
                printf("rackstack-firstboot: identity: none recorded yet (firstboot records it); nothing to compare\n");
                return 0;
        }
        if (r < 0)
                return log_error_errno(r, "Cannot read %s/%s: %m", root, IDENTITY_PATH), 1;
        _cleanup_(identity_facts_done) struct identity_facts f = {};
        if ((r = identity_probe(sysfs, &f)) < 0)
                return log_error_errno(r, "Cannot read the machine's facts from %s: %m", sysfs ? sysfs : "/sys"), 1;
        _cleanup_free_ char *mid = NULL;
        (void) identity_read_machine_id(fd, &mid);
        _cleanup_(identity_plan_done) struct identity_plan p = {};
        if ((r = identity_decide(&rec, &f, machine_id_valid(mid), identity_host_keys_present(fd), &p)) < 0)
                return log_error_errno(r, "Out of memory"), 1;
        bool acts = p.new_machine_id || p.new_host_keys || p.redo_join || p.record;
        if (p.verdict == IDENTITY_CLONE)
                printf("rackstack-firstboot: identity: clone detected (%s): %s\n", p.reason,
                       check && !dry ? "new machine-id, new SSH host keys; firstboot runs again to re-join"
                                     : "run with --check-clone to give it its own identity");
        else
                printf("rackstack-firstboot: identity: %s (generation %u)%s\n", p.reason, rec.generation,
                       acts && check && !dry ? "; record updated" : "");
        fflush(stdout);
        if (!check || dry || !acts)
                return 0;
        _cleanup_free_ char *old_fp = NULL;
        (void) identity_host_key_fingerprint(fd, &old_fp);
        r = identity_apply(fd, root, &p, &f, rec.hostname);
        if (r < 0)
                return log_error_errno(r, "Cannot give this machine its own identity: %m"), 1;
        if (p.verdict == IDENTITY_CLONE) {
                _cleanup_free_ char *new_mid = NULL, *new_fp = NULL;
                (void) identity_read_machine_id(fd, &new_mid);
                (void) identity_host_key_fingerprint(fd, &new_fp);
                printf("rackstack-firstboot: identity: machine-id %s -> %s; SSH host key %s -> %s; generation %u\n",
                       strna(mid), strna(new_mid), strna(old_fp), strna(new_fp), p.generation);
        }
        return 0;
}
