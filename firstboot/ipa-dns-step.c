/* SPDX-License-Identifier: MIT */
/* The site's records into FreeIPA's DNS on the identity host (ipa-dns.h), and the ipa-dns verb.
 *
 * Through FreeIPA's own CLI after kinit, not its JSON-RPC API: the CLI authenticates with
 * Kerberos and verifies the server against /etc/ipa/ca.crt itself, where the API would need the
 * IPA CA in common/http.c's trust (it uses the system store only), a session cookie and the
 * Referer FreeIPA demands. The admin password reaches kinit on its stdin only (never an argv,
 * which /proc shows to every user); the ticket lives in a private 0700 directory, removed after. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "diag.h"
#include "ipa-dns.h"
#include "log.h"
#include "parse.h"
#include "process.h"
#include "secret.h"
#include "util.h"

struct ipa_session {
        const struct ipa_dns_ctx *c;
        char *dir;        /* private, holds the ccache */
        char *env_ccache; /* "KRB5CCNAME=FILE:DIR/ccache" */
};

/* ipa ARGS…: *ret_status, stdout in *ret_out (optional), the last lines of stderr in *ret_err. */
static int ipa_run(struct ipa_session *s, const char *const *args, int *ret_status, char **ret_out, char **ret_err) {
        const char *argv[12] = { s->c->ipa_prog ? s->c->ipa_prog : "ipa" };
        size_t k = 1;
        for (; *args && k < ELEMENTSOF(argv) - 1; args++)
                argv[k++] = *args;
        argv[k] = NULL;
        const char *env[] = { s->env_ccache, NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.env = env;
        o.out = ret_out ? PROC_OUT_CAPTURE : PROC_OUT_NULL;
        o.err = PROC_OUT_TAIL;
        o.tail_lines = 3;
        o.timeout_ms = 120 * 1000;
        _cleanup_free_ char *out = NULL, *tail = NULL;
        int r = proc_run(argv, &o, &tail, ret_out ? &out : NULL);
        if (r < 0) {
                *ret_err = strprintf("%s could not run: %s", argv[0], strerror(-r));
                return r;
        }
        *ret_status = r;
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        *ret_err = TAKE_PTR(tail);
        return 0;
}

static int session_open(const struct ipa_dns_ctx *c, struct ipa_session *s, char **ret_reason) {
        struct secret pw = {};
        int r = secret_read(c->root_fd, c->admin_password_file, &pw);
        if (r < 0) {
                *ret_reason = strprintf("the admin password %s: %s", c->admin_password_file,
                                        r == -EPERM ? "not a root-owned 0600 regular file; refused" : strerror(-r));
                return r;
        }
        char tmpl[] = "/run/rackstack-ipa-dns.XXXXXX", tmpl2[] = "/tmp/rackstack-ipa-dns.XXXXXX";
        const char *dir = mkdtemp(tmpl);
        if (!dir)
                dir = mkdtemp(tmpl2); /* mkdtemp makes it 0700 */
        if (!dir) {
                r = -errno;
                secret_free(&pw);
                *ret_reason = strprintf("cannot make a private directory for the Kerberos ticket: %s", strerror(-r));
                return r;
        }
        *s = (struct ipa_session) { .c = c, .dir = strdup(dir), .env_ccache = strprintf("KRB5CCNAME=FILE:%s/ccache", dir) };
        _cleanup_free_ char *principal = c->realm ? strprintf("admin@%s", c->realm) : strdup("admin");
        _cleanup_free_ char *input = strprintf("%s\n", pw.data);
        secret_free(&pw);
        if (!s->dir || !s->env_ccache || !principal || !input) {
                if (input)
                        OPENSSL_cleanse(input, strlen(input));
                return -ENOMEM;
        }
        const char *argv[] = { c->kinit_prog ? c->kinit_prog : "kinit", principal, NULL };
        const char *env[] = { s->env_ccache, NULL };
        struct proc_opts o = PROC_OPTS_INIT;
        o.env = env;
        o.in = PROC_IN_BUFFER;
        o.input = input;
        o.input_len = strlen(input);
        o.out = PROC_OUT_TAIL;
        o.err = PROC_OUT_TAIL;
        o.tail_lines = 3;
        o.timeout_ms = 60 * 1000;
        _cleanup_free_ char *tail = NULL;
        r = proc_run(argv, &o, &tail, NULL);
        OPENSSL_cleanse(input, strlen(input));
        if (r != 0) {
                *ret_reason = r < 0 ? strprintf("%s could not run: %s", argv[0], strerror(-r))
                                    : strprintf("kinit %s failed (exit %d): %s", principal, r, strna(tail));
                return r < 0 ? r : -EACCES;
        }
        return 0;
}

static void session_close(struct ipa_session *s) {
        if (s->dir) {
                _cleanup_free_ char *cc = strprintf("%s/ccache", s->dir);
                if (cc)
                        (void) unlink(cc);
                (void) rmdir(s->dir);
        }
        free(s->dir);
        free(s->env_ccache);
        *s = (struct ipa_session) {};
}

/* The reverse zone exists (ipa-server-install --auto-reverse makes the identity host's own): -show,
 * then -add when FreeIPA says it is not found (the CLI's exit status 2). */
static int ensure_zone(struct ipa_session *s, const char *zone, unsigned *added, char **ret_reason) {
        int st;
        _cleanup_free_ char *err = NULL;
        int r = ipa_run(s, (const char *const[]) { "dnszone-show", zone, NULL }, &st, NULL, &err);
        if (r < 0)
                return *ret_reason = TAKE_PTR(err), r;
        if (st == 0)
                return 0;
        if (st != 2) {
                *ret_reason = strprintf("ipa dnszone-show %s failed (exit %d): %s", zone, st, strna(err));
                return -EIO;
        }
        free(err), err = NULL;
        r = ipa_run(s, (const char *const[]) { "dnszone-add", zone, NULL }, &st, NULL, &err);
        if (r < 0)
                return *ret_reason = TAKE_PTR(err), r;
        if (st != 0) {
                *ret_reason = strprintf("ipa dnszone-add %s failed (exit %d): %s", zone, st, strna(err));
                return -EIO;
        }
        (*added)++;
        return 0;
}

static int ensure_record(struct ipa_session *s, const struct ipa_dns_record *x, unsigned *added, unsigned *present,
                         char **ret_reason) {
        int st;
        _cleanup_free_ char *out = NULL, *err = NULL;
        int r = ipa_run(s, (const char *const[]) { "dnsrecord-show", x->zone, x->name, "--raw", NULL }, &st, &out, &err);
        if (r < 0)
                return *ret_reason = TAKE_PTR(err), r;
        if (st != 0 && st != 2) {
                *ret_reason = strprintf("ipa dnsrecord-show %s %s failed (exit %d): %s", x->zone, x->name, st, strna(err));
                return -EIO;
        }
        if (st == 0 && ipa_dns_show_has(out, x->type, x->value)) {
                (*present)++;
                return 0;
        }
        _cleanup_free_ char *opt = strprintf("%s=%s", ipa_dns_cli_option(x->type), x->value);
        if (!opt)
                return -ENOMEM;
        free(err), err = NULL;
        r = ipa_run(s, (const char *const[]) { "dnsrecord-add", x->zone, x->name, opt, NULL }, &st, NULL, &err);
        if (r < 0)
                return *ret_reason = TAKE_PTR(err), r;
        if (st != 0) {
                *ret_reason = strprintf("ipa dnsrecord-add %s %s %s failed (exit %d): %s", x->zone, x->name, opt, st,
                                        strna(err));
                return -EIO;
        }
        (*added)++;
        return 0;
}

int ipa_dns_apply(const struct ipa_dns_ctx *c, const struct ipa_dns_plan *p, char **ret_done, char **ret_reason) {
        struct ipa_session s = {};
        int r = session_open(c, &s, ret_reason);
        unsigned zones = 0, added = 0, present = 0;
        for (char **z = p->reverse_zones; r >= 0 && z && *z; z++)
                r = ensure_zone(&s, *z, &zones, ret_reason);
        for (size_t i = 0; r >= 0 && i < p->n; i++)
                r = ensure_record(&s, &p->records[i], &added, &present, ret_reason);
        session_close(&s);
        if (r < 0)
                return r;
        *ret_done = strprintf("%s: %u record(s) added, %u already there; %u reverse zone(s) added", p->zone, added,
                              present, zones);
        return *ret_done ? 0 : -ENOMEM;
}

/* ---- the verb ---- */

static int usage(void) {
        log_error("usage: rackstack-firstboot ipa-dns [--site FILE] --plan\n"
                  "       rackstack-firstboot ipa-dns [--site FILE] --zone-file ZONE [--ns HOST] [--serial N]\n"
                  "       rackstack-firstboot ipa-dns [--site FILE] --apply --admin-password-file FILE [--realm REALM]\n"
                  "                                   [--ipa PROG] [--kinit PROG]");
        return 2;
}

int verb_ipa_dns(int argc, char **argv) {
        enum { A_SITE = 256, A_PLAN, A_ZONE, A_NS, A_SERIAL, A_APPLY, A_PW, A_REALM, A_IPA, A_KINIT };
        static const struct option opts[] = {
                { "site", required_argument, NULL, A_SITE },  { "plan", no_argument, NULL, A_PLAN },
                { "zone-file", required_argument, NULL, A_ZONE }, { "ns", required_argument, NULL, A_NS },
                { "serial", required_argument, NULL, A_SERIAL }, { "apply", no_argument, NULL, A_APPLY },
                { "admin-password-file", required_argument, NULL, A_PW }, { "realm", required_argument, NULL, A_REALM },
                { "ipa", required_argument, NULL, A_IPA },    { "kinit", required_argument, NULL, A_KINIT },
                {},
        };
        const char *site_path = RACKSTACK_SITE_DEFAULT, *zone = NULL, *ns = NULL, *pw = NULL, *realm = NULL,
                   *ipa = NULL, *kinit = NULL;
        uint32_t serial = 1;
        bool plan = false, apply = false;
        int ch;
        optind = 1;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (ch) {
                case A_SITE: site_path = optarg; break;
                case A_PLAN: plan = true; break;
                case A_ZONE: zone = optarg; break;
                case A_NS: ns = optarg; break;
                case A_SERIAL:
                        if (parse_uint32_range(optarg, 1, UINT32_MAX, &serial) < 0)
                                return log_error("--serial '%s' is not a number 1..4294967295", optarg), 2;
                        break;
                case A_APPLY: apply = true; break;
                case A_PW: pw = optarg; break;
                case A_REALM: realm = optarg; break;
                case A_IPA: ipa = optarg; break;
                case A_KINIT: kinit = optarg; break;
                default: return 2;
                }
        if (optind != argc || plan + apply + !!zone != 1 || (apply && !pw))
                return usage();

        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(site_freep) struct site *s = NULL;
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        int r = site_load_file(site_path, &d, &s);
        if (r >= 0)
                r = ipa_dns_plan_make(s, &d, &p);
        if (r < 0) {
                diags_print(&d, stderr);
                if (r == -ENOMEM)
                        return log_error_errno(r, "Out of memory"), 1;
                return d.n_errors ? 2 : (log_error_errno(r, "Cannot read %s: %m", site_path), 2);
        }
        if (plan) {
                _cleanup_free_ char *t = ipa_dns_plan_text(&p);
                if (!t)
                        return log_error_errno(-ENOMEM, "Out of memory"), 1;
                fputs(t, stdout);
                return 0;
        }
        if (zone) {
                if (!ns) {
                        const struct host_spec *h = site_find_host_by_role(s, "id");
                        if (!h)
                                return log_error("ipa-dns: the site has no id host to name as the zone's NS; give --ns"), 2;
                        ns = h->name;
                }
                _cleanup_free_ char *abs = endswith(zone, ".") ? strdup(zone) : strprintf("%s.", zone);
                _cleanup_free_ char *t = abs ? ipa_dns_zone_file(&p, abs, ns, serial) : NULL;
                if (!t)
                        return log_error("ipa-dns: '%s' is not a zone of the plan (%s or a reverse zone: see --plan)", zone,
                                         p.zone), 2;
                fputs(t, stdout);
                return 0;
        }
        _cleanup_close_ int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root < 0)
                return log_error_errno(-errno, "Cannot open /: %m"), 1;
        struct ipa_dns_ctx c = { .admin_password_file = pw, .root_fd = root, .realm = realm, .ipa_prog = ipa,
                                 .kinit_prog = kinit };
        _cleanup_free_ char *done = NULL, *reason = NULL;
        r = ipa_dns_apply(&c, &p, &done, &reason);
        if (r < 0)
                return log_error("ipa-dns: %s", reason ? reason : strerror(-r)), 1;
        printf("ipa-dns: %s\n", done);
        return 0;
}
