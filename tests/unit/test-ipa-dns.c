/* SPDX-License-Identifier: MIT */
/* FreeIPA's DNS zone for the site (firstboot/ipa-dns.h): the plan from the shipped site against the
 * seed's DNS table, errors for a site that lacks what the zone needs, the zone file the tests serve,
 * and how `ipa dnsrecord-show --raw` is read for idempotency. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fileio.h"
#include "ipa-dns.h"
#include "profile.h"
#include "util.h"

/* The seed's DNS table (enterprise-stack-deployment.md, "Internal DNS (FreeIPA)"), with its
 * addresses; the seed writes the zone as domain.local, the site (and the rest of the seed) as
 * domain.com. */
static const struct {
        const char *name, *addr;
} seed[] = {
        { "ipa", "10.0.50.11" },      { "sso", "10.0.50.11" },     { "db", "10.0.50.12" },
        { "cloud", "10.0.50.19" },    { "chat", "10.0.50.19" },    { "meet", "10.0.50.19" },
        { "mail", "10.0.50.19" },     { "desk", "10.0.50.19" },    { "voip", "10.0.50.19" },
        { "crm", "10.0.50.19" },      { "docs", "10.0.50.19" },    { "erp", "10.0.50.19" },
        { "projects", "10.0.50.19" }, { "assets", "10.0.50.19" },  { "itsm", "10.0.50.19" },
        { "monitor", "10.0.50.19" },
};
/* The seed's servers and their addresses ("Server N" sections and the VLAN 20 plan). */
static const struct {
        const char *name, *addr, *rev;
} seed_hosts[] = {
        { "lab-id1", "10.0.50.11", "11" },   { "lab-db1", "10.0.50.12", "12" },  { "lab-app1", "10.0.50.13", "13" },
        { "lab-comm1", "10.0.50.14", "14" }, { "lab-voip1", "10.0.50.15", "15" }, { "lab-biz1", "10.0.50.16", "16" },
        { "lab-erp1", "10.0.50.17", "17" },  { "lab-it1", "10.0.50.18", "18" },  { "lab-infra1", "10.0.50.19", "19" },
};

static int plan_from_text(const char *text, struct diags *d, struct ipa_dns_plan *ret) {
        _cleanup_(site_freep) struct site *s = NULL;
        int r = site_load_buffer("site.yaml", text, strlen(text), d, &s);
        if (r < 0)
                return r;
        return ipa_dns_plan_make(s, d, ret);
}

static bool has_error(const struct diags *d, const char *needle, unsigned line) {
        for (size_t i = 0; i < d->n; i++)
                if (strstr(d->items[i].message, needle) && (!line || d->items[i].line == line) && d->items[i].col > 0)
                        return true;
        for (size_t i = 0; i < d->n; i++)
                print_message("diag %s:%u:%u: %s\n", d->items[i].file, d->items[i].line, d->items[i].col,
                              d->items[i].message);
        return false;
}

static void test_shipped_site(void **state) {
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(site_freep) struct site *s = NULL;
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        assert_int_equal(ipa_dns_plan_make(s, &d, &p), 0);
        assert_int_equal(d.n, 0);
        assert_string_equal(p.zone, "domain.com.");
        assert_non_null(p.reverse_zones);
        assert_string_equal(p.reverse_zones[0], "50.0.10.in-addr.arpa.");
        assert_null(p.reverse_zones[1]);

        for (size_t i = 0; i < ELEMENTSOF(seed); i++) {
                const struct ipa_dns_record *x = ipa_dns_plan_find(&p, "domain.com.", seed[i].name, IPA_DNS_A);
                if (!x)
                        fail_msg("the seed's name %s is not in the zone", seed[i].name);
                if (!streq(x->value, seed[i].addr))
                        fail_msg("%s.domain.com is %s, the seed says %s", seed[i].name, x->value, seed[i].addr);
        }
        for (size_t i = 0; i < ELEMENTSOF(seed_hosts); i++) {
                const struct ipa_dns_record *a = ipa_dns_plan_find(&p, "domain.com.", seed_hosts[i].name, IPA_DNS_A);
                const struct ipa_dns_record *ptr = ipa_dns_plan_find(&p, "50.0.10.in-addr.arpa.", seed_hosts[i].rev,
                                                                     IPA_DNS_PTR);
                assert_non_null(a);
                assert_string_equal(a->value, seed_hosts[i].addr);
                assert_non_null(ptr);
                _cleanup_free_ char *want = strprintf("%s.domain.com.", seed_hosts[i].name);
                assert_string_equal(ptr->value, want);
        }
        /* every Traefik route resolves to the host that runs Traefik, unless a direct name overrides */
        for (size_t i = 0; i < s->n_routes; i++) {
                const struct ipa_dns_record *x = ipa_dns_plan_find(&p, "domain.com.", s->routes[i].name, IPA_DNS_A);
                assert_non_null(x);
                if (!streq(s->routes[i].name, "ipa") && !streq(s->routes[i].name, "sso"))
                        assert_string_equal(x->value, "10.0.50.19");
        }
        /* the zone's web host is the one whose profile runs Traefik */
        _cleanup_(profile_freep) struct profile *infra = NULL;
        assert_int_equal(profile_load("profiles", site_find_host(s, "lab-infra1")->role, &d, &infra), 0);
        bool traefik = false;
        for (size_t i = 0; i < infra->n_services; i++)
                traefik = traefik || streq(infra->services[i].name, "traefik");
        assert_true(traefik);
        /* mail: webmail behind Traefik, but SMTP to Postfix on comm */
        const struct ipa_dns_record *mx = ipa_dns_plan_find(&p, "domain.com.", "@", IPA_DNS_MX);
        assert_non_null(mx);
        assert_string_equal(mx->value, "10 lab-comm1.domain.com.");
        /* hosts (A + PTR), the five direct names, the thirteen other routes, the MX; nothing twice */
        assert_int_equal(p.n, 9 * 2 + 5 + 13 + 1);
        for (size_t i = 0; i < p.n; i++)
                for (size_t j = 0; j < i; j++)
                        assert_false(p.records[i].type == p.records[j].type && streq(p.records[i].zone, p.records[j].zone) &&
                                     streq(p.records[i].name, p.records[j].name));
}

/* The shipped site with the lines that contain `drop` removed (a host's entry is three lines). */
static char *shipped_without(const char *drop, unsigned n_lines) {
        _cleanup_free_ char *text = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, "profiles/site.yaml", 1 << 20, &text, NULL), 0);
        char *at = strstr(text, drop);
        assert_non_null(at);
        while (at > text && at[-1] != '\n')
                at--;
        char *end = at;
        for (unsigned i = 0; i < n_lines; i++)
                end = strchr(end, '\n') + 1;
        return strprintf("%.*s%s", (int) (at - text), text, end);
}

static unsigned line_of(const char *text, const char *needle) {
        const char *at = strstr(text, needle);
        assert_non_null(at);
        unsigned l = 1;
        for (const char *c = text; c < at; c++)
                l += *c == '\n';
        return l;
}

static void test_site_lacking_host(void **state) {
        /* no lab-infra1: the routes still load (their backends are other hosts), the zone's web: names a
         * host the site lacks */
        _cleanup_free_ char *text = shipped_without("- name: lab-infra1", 3);
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        assert_int_equal(plan_from_text(text, &d, &p), -EINVAL);
        assert_true(has_error(&d, "the zone's 'web:' names host 'lab-infra1', which the site does not list", line_of(text, "web: lab-infra1")));
        assert_true(has_error(&d, "zone name names host 'lab-infra1'", line_of(text, "name: logs")));
        assert_null(p.records);

        /* no lab-db1 (and so no route needs it): the direct name db points nowhere */
        _cleanup_free_ char *t2 = shipped_without("- name: lab-db1", 3);
        _cleanup_(diags_done) struct diags d2 = {};
        assert_int_equal(plan_from_text(t2, &d2, &p), -EINVAL);
        assert_true(has_error(&d2, "zone name names host 'lab-db1'", line_of(t2, "name: db,")));

        /* no zone table at all */
        _cleanup_free_ char *full = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, "profiles/site.yaml", 1 << 20, &full, NULL), 0);
        *strstr(full, "\nzone:") = '\n', strstr(full, "\nzone:")[1] = '\0';
        _cleanup_(diags_done) struct diags d3 = {};
        assert_int_equal(plan_from_text(full, &d3, &p), -EINVAL);
        assert_int_equal(d3.n_errors, 1);
        assert_non_null(strstr(d3.items[0].message, "the site has no 'zone:' table"));
}

#define MINI                                                                                                  \
        "domain: example.org\ndefault-vlan: 20\n"                                                             \
        "vlans:\n  - { id: 20, name: infra, subnet: 10.1.0.0/16 }\n  - { id: 30, name: voice, subnet: 10.3.0.0/24 }\n" \
        "hosts:\n  - { name: a1, role: id, addresses: { 20: 10.1.0.5 } }\n"                                    \
        "  - { name: w1, role: infra, addresses: { 20: 10.1.7.9, 30: 10.3.0.9 } }\n"                          \
        "routes:\n  - { name: cloud, backend: a1, port: 80 }\n"

static void test_errors(void **state) {
        static const struct {
                const char *zone, *error;
                unsigned line, col;
        } cases[] = {
                { "zone:\n  names: []\n", "the zone table is missing required key 'web'", 12, 3 },
                { "zone:\n  web: w1\n  www: w1\n", "unknown key 'www' in the zone table (it takes: web, names, mx)", 13, 3 },
                { "zone:\n  web: w2\n", "the zone's 'web:' names host 'w2', which the site does not list", 12, 8 },
                { "zone:\n  web: w1\n  names:\n    - { name: a1, host: w1 }\n", "zone name 'a1' is also a host's name", 14, 15 },
                { "zone:\n  web: w1\n  names:\n    - { name: x, host: w1 }\n    - { name: x, host: a1 }\n",
                  "zone name 'x' is given twice", 15, 15 },
                { "zone:\n  web: w1\n  names:\n    - { name: x.y, host: w1 }\n", "give one label", 14, 15 },
                { "zone:\n  web: w1\n  names:\n    - { name: sip, host: a1, vlan: 30 }\n", "host 'a1' has no address on VLAN 30",
                  14, 36 },
                { "zone:\n  web: w1\n  mx: { host: w1, priority: 70000 }\n", "MX priority '70000' is outside 0..65535", 13, 29 },
                { "zone:\n  web: w1\n  mx: { host: w1 }\n", "the zone's 'mx:' is missing required key 'priority'", 13, 7 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *text = strprintf("%s%s", MINI, cases[i].zone);
                _cleanup_(diags_done) struct diags d = {};
                _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
                assert_int_equal(plan_from_text(text, &d, &p), -EINVAL);
                bool found = false;
                for (size_t k = 0; k < d.n; k++)
                        found = found || (strstr(d.items[k].message, cases[i].error) && d.items[k].line == cases[i].line &&
                                          d.items[k].col == cases[i].col);
                if (!found) {
                        for (size_t k = 0; k < d.n; k++)
                                print_message("case %zu: %u:%u: %s\n", i, d.items[k].line, d.items[k].col, d.items[k].message);
                        fail_msg("case %zu: no error '%s' at %u:%u", i, cases[i].error, cases[i].line, cases[i].col);
                }
        }
}

static void test_small_site(void **state) {
        /* a /16 default VLAN: hosts in two /24s make two reverse zones; a name on another VLAN */
        _cleanup_free_ char *text = strprintf("%szone:\n  web: w1\n  names:\n    - { name: sip, host: w1, vlan: 30 }\n"
                                              "    - { name: cloud, host: a1 }\n", MINI);
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        assert_int_equal(plan_from_text(text, &d, &p), 0);
        assert_string_equal(p.reverse_zones[0], "0.1.10.in-addr.arpa.");
        assert_string_equal(p.reverse_zones[1], "7.1.10.in-addr.arpa.");
        assert_null(p.reverse_zones[2]);
        assert_string_equal(ipa_dns_plan_find(&p, "7.1.10.in-addr.arpa.", "9", IPA_DNS_PTR)->value, "w1.example.org.");
        assert_string_equal(ipa_dns_plan_find(&p, "example.org.", "sip", IPA_DNS_A)->value, "10.3.0.9");
        /* the direct name wins over the route of the same name: one record, to a1 */
        assert_string_equal(ipa_dns_plan_find(&p, "example.org.", "cloud", IPA_DNS_A)->value, "10.1.0.5");
        assert_null(ipa_dns_plan_find(&p, "example.org.", "@", IPA_DNS_MX)); /* no mx: none */
        assert_int_equal(p.n, 2 * 2 + 2);

        _cleanup_free_ char *z = ipa_dns_zone_file(&p, "example.org.", "a1", 7);
        assert_non_null(z);
        assert_non_null(strstr(z, "$ORIGIN example.org.\n"));
        assert_non_null(strstr(z, "@ IN SOA a1.example.org. hostmaster.example.org. 7 3600 900 1209600 3600\n"));
        assert_non_null(strstr(z, "@ IN NS a1.example.org.\n"));
        assert_non_null(strstr(z, "\nsip          IN A   10.3.0.9\n"));
        assert_null(strstr(z, "PTR"));
        _cleanup_free_ char *rz = ipa_dns_zone_file(&p, "7.1.10.in-addr.arpa.", "a1", 7);
        assert_non_null(strstr(rz, "\n9            IN PTR w1.example.org.\n"));
        assert_null(strstr(rz, " A "));
        assert_null(ipa_dns_zone_file(&p, "example.com.", "a1", 7));

        _cleanup_free_ char *t = ipa_dns_plan_text(&p);
        assert_non_null(strstr(t, "example.org. sip A 10.3.0.9  ; service name to w1 (VLAN 30)\n"));
}

static void test_show_output(void **state) {
        /* `ipa dnsrecord-show domain.com. cloud --raw`, and the apex with its NS and MX */
        const char *cloud = "  idnsname: cloud\n  arecord: 10.0.50.19\n";
        assert_true(ipa_dns_show_has(cloud, IPA_DNS_A, "10.0.50.19"));
        assert_false(ipa_dns_show_has(cloud, IPA_DNS_A, "10.0.50.1"));
        assert_false(ipa_dns_show_has(cloud, IPA_DNS_A, "10.0.50.191"));
        assert_false(ipa_dns_show_has(cloud, IPA_DNS_PTR, "10.0.50.19"));
        const char *apex = "  idnsname: @\n  nsrecord: lab-id1.domain.com.\n  mxrecord: 10 LAB-COMM1.domain.com.\n"
                           "  mxrecord: 20 backup.domain.com.";
        assert_true(ipa_dns_show_has(apex, IPA_DNS_MX, "10 lab-comm1.domain.com."));
        assert_true(ipa_dns_show_has(apex, IPA_DNS_MX, "20 backup.domain.com"));
        assert_false(ipa_dns_show_has(apex, IPA_DNS_MX, "20 lab-comm1.domain.com."));
        assert_true(ipa_dns_show_has("  ptrrecord: lab-db1.domain.com\n", IPA_DNS_PTR, "lab-db1.domain.com."));
        assert_false(ipa_dns_show_has("  idnsname: x\n  arecordx: 10.0.50.19\n", IPA_DNS_A, "10.0.50.19"));
        assert_false(ipa_dns_show_has(NULL, IPA_DNS_A, "10.0.50.19"));
        assert_string_equal(ipa_dns_cli_option(IPA_DNS_MX), "--mx-rec");
}

static void write_exec(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, 0755), 0);
}

static size_t count_lines(const char *path) {
        _cleanup_free_ char *t = NULL;
        if (read_file_full(AT_FDCWD, path, 1 << 20, &t, NULL) < 0)
                return 0;
        size_t n = 0;
        for (const char *c = t; *c; c++)
                n += *c == '\n';
        return n;
}

/* The apply with small stand-ins for kinit and ipa (the integration test has the fuller one): the
 * password on kinit's stdin, the ticket cache given to every ipa call and removed after, and only
 * the records FreeIPA lacks added; a wrong password stops before any ipa call. */
static void test_apply(void **state) {
        char dir[] = "/tmp/test-ipa-dns-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *kinit = strprintf("%s/kinit", dir), *ipa = strprintf("%s/ipa", dir),
                            *pw = strprintf("%s/pw", dir), *log = strprintf("%s/log", dir),
                            *cc = strprintf("%s/cc", dir);
        write_exec(kinit, "#!/bin/sh\nread -r p\n[ \"$p\" = s3cret ] && [ \"$1\" = admin@DOMAIN.COM ] || exit 1\n"
                          ": >\"${KRB5CCNAME#FILE:}\"\n");
        _cleanup_free_ char *ipa_text = strprintf(
                "#!/bin/sh\n[ -f \"${KRB5CCNAME#FILE:}\" ] || exit 1\necho \"$KRB5CCNAME\" >>%s\n"
                "case \"$1 $3\" in\n"
                "'dnszone-show '*) exit 0 ;;\n"
                "'dnsrecord-show lab-id1') printf '  idnsname: lab-id1\\n  arecord: 10.0.50.11\\n' ;;\n"
                "'dnsrecord-show '*) exit 2 ;;\n"
                "'dnsrecord-add '*) echo \"$*\" >>%s ;;\n"
                "*) exit 1 ;;\nesac\n", cc, log);
        write_exec(ipa, ipa_text);
        write_exec(pw, "s3cret\n");
        assert_int_equal(chmod(pw, 0600), 0);

        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(site_freep) struct site *s = NULL;
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        assert_int_equal(ipa_dns_plan_make(s, &d, &p), 0);
        int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC); /* the password's path is under the root */
        assert_true(root >= 0);
        struct ipa_dns_ctx c = { .admin_password_file = pw, .root_fd = root, .realm = "DOMAIN.COM",
                                 .ipa_prog = ipa, .kinit_prog = kinit };
        _cleanup_free_ char *done = NULL, *reason = NULL;
        int ar = ipa_dns_apply(&c, &p, &done, &reason);
        if (ar < 0)
                fail_msg("apply: %d %s", ar, strna(reason));
        assert_string_equal(done, "domain.com.: 36 record(s) added, 1 already there; 0 reverse zone(s) added");
        assert_int_equal(count_lines(log), 36);
        /* 1 zone show + 37 shows + 36 adds, all with the one cache, which is gone now */
        _cleanup_free_ char *ccs = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, cc, 1 << 20, &ccs, NULL), 0);
        assert_int_equal(count_lines(cc), 1 + 37 + 36);
        char *nl = strchr(ccs, '\n');
        *nl = '\0';
        assert_true(startswith(ccs, "FILE:/"));
        assert_int_equal(access(ccs + strlen("FILE:"), F_OK), -1);
        *strrchr(ccs, '/') = '\0';
        assert_int_equal(access(ccs + strlen("FILE:"), F_OK), -1);

        write_exec(pw, "wrong\n");
        assert_int_equal(chmod(pw, 0600), 0);
        free(done), free(reason), done = reason = NULL;
        assert_int_equal(ipa_dns_apply(&c, &p, &done, &reason), -EACCES);
        assert_null(done);
        assert_true(startswith(reason, "kinit admin@DOMAIN.COM failed (exit 1)"));
        assert_int_equal(count_lines(log), 36);
        assert_int_equal(count_lines(cc), 1 + 37 + 36);

        close(root);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_site), cmocka_unit_test(test_site_lacking_host),
                cmocka_unit_test(test_errors),       cmocka_unit_test(test_small_site),
                cmocka_unit_test(test_show_output),  cmocka_unit_test(test_apply),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
