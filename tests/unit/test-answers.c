/* SPDX-License-Identifier: MIT */
/* Answers and their sources, the console prompt's question plan and validators, the completed
 * answers rendered as a kickstart, and the refusal of exposed secrets. No console, no disks. */
#include <crypt.h>
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

#include "answer-set.h"
#include "answers-render.h"
#include "answers.h"
#include "cleanup.h"
#include "kickstart.h"
#include "net-answers.h"
#include "prompt-plan.h"
#include "prompt.h"
#include "shadow.h"
#include "util.h"

#define S(x) ((char *) (x))

static struct nic nics_arr[] = {
        { .name = S("enp1s0"), .mac = S("52:54:00:00:00:11"), .driver = S("ixgbe"), .physical = true, .carrier = true,
          .speed_mbps = 1000 },
        { .name = S("enp2s0"), .mac = S("52:54:00:00:00:12"), .driver = S("ixgbe"), .physical = true, .carrier = true,
          .speed_mbps = 10000 },
        { .name = S("enp3s0"), .mac = S("52:54:00:00:00:13"), .driver = S("ixgbe"), .physical = true, .carrier = false,
          .speed_mbps = 0 },
        { .name = S("enp4s0"), .mac = S("52:54:00:00:00:14"), .driver = S("ixgbe"), .physical = true, .carrier = true,
          .speed_mbps = 10000 },
        { .name = S("bond0"), .mac = S("52:54:00:00:00:12"), .physical = false, .carrier = true },
};
static const struct nic_list nics = { nics_arr, ELEMENTSOF(nics_arr) };

static struct site *site;
static struct profile *db;

static int setup(void **state) {
        struct diags d = {};
        if (site_load_file("profiles/site.yaml", &d, &site) < 0 || profile_load("profiles", "db", &d, &db) < 0) {
                diags_print(&d, stderr);
                fail_msg("cannot load profiles/ (run from the source tree)");
        }
        diags_done(&d);
        return 0;
}

static int teardown(void **state) {
        site_free(site);
        profile_free(db);
        return 0;
}

static struct ks *parse(const char *name, const char *text) {
        struct diags d = {};
        struct ks *ks = NULL;
        if (ks_parse_buffer(name, text, strlen(text), &d, &ks) < 0) {
                diags_print(&d, stderr);
                fail_msg("kickstart does not parse");
        }
        diags_done(&d);
        return ks;
}

static const char *source_of(const struct answer_set *s, const char *key) {
        const struct answer *a = answer_set_get(s, key);
        return a ? a->source : NULL;
}

/* ---- the answer set ---------------------------------------------------------------------------- */

static void test_offer_never_overrides(void **state) {
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answer_set_offer(&s, "dns", "10.0.50.11", "ks.cfg line 3"), 1);
        /* the same value again is nothing to note; a different one is kept aside, not applied */
        assert_int_equal(answer_set_offer(&s, "dns", "10.0.50.11", "site.yaml:6"), 0);
        assert_null(answer_set_get(&s, "dns")->overruled);
        assert_int_equal(answer_set_offer(&s, "dns", "8.8.8.8", "site.yaml:6"), 0);
        assert_string_equal(answer_set_value(&s, "dns"), "10.0.50.11");
        assert_string_equal(source_of(&s, "dns"), "ks.cfg line 3");
        assert_string_equal(answer_set_get(&s, "dns")->overruled[0], "8.8.8.8 (site.yaml:6)");
        /* declared without a value: listed as missing, and the first value offered later fills it */
        assert_int_equal(answer_set_offer(&s, "hostname", NULL, NULL), 0);
        assert_null(answer_set_value(&s, "hostname"));
        assert_int_equal(answer_set_offer(&s, "hostname", "a.domain.com", "default"), 1);
        assert_string_equal(source_of(&s, "hostname"), "default");
        /* only the prompt replaces, and the replaced value is remembered */
        assert_int_equal(answer_set_replace(&s, "dns", "10.0.50.12", "prompt"), 1);
        assert_string_equal(answer_set_value(&s, "dns"), "10.0.50.12");
        assert_string_equal(answer_set_get(&s, "dns")->overruled[1], "10.0.50.11 (ks.cfg line 3)");
        _cleanup_free_ char *t = answer_set_to_text(&s);
        assert_non_null(strstr(t, "dns                10.0.50.12                 prompt\n"));
        assert_non_null(strstr(t, "  not used: 8.8.8.8 (site.yaml:6)\n"));
        struct json j = {};
        answer_set_to_json(&s, &j);
        _cleanup_free_ char *js = buf_steal(&j.out);
        assert_non_null(strstr(js, "\"key\":\"hostname\",\"value\":\"a.domain.com\",\"source\":\"default\""));
}

static void test_sources(void **state) {
        struct src s = { .file = "/usr/share/rackstack/site.yaml", .line = 40 };
        _cleanup_free_ char *a = answer_source_yaml(NULL, &s), *b = answer_source_yaml("profile", &s),
                            *c = answer_source_ks("OEMDRV:/ks.cfg", 12), *e = answer_source_ks("image ks.cfg", 0);
        assert_string_equal(a, "site.yaml:40");
        assert_string_equal(b, "profile site.yaml:40");
        assert_string_equal(c, "OEMDRV:/ks.cfg line 12");
        assert_string_equal(e, "image ks.cfg");
}

static void test_collect_kickstart_first(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg",
                "# line 1\n"
                "network --device=bond0 --bondslaves=enp2s0,enp4s0 --bondopts=mode=active-backup --vlanid=20 "
                "--bootproto=static --ip=10.0.50.99 --netmask=255.255.255.0 --gateway=10.0.50.1 --nameserver=10.0.50.11 "
                "--hostname=lab-db1.domain.com\n"
                "network --device=bond0 --vlanid=10 --bootproto=static --ip=10.0.10.12 --netmask=255.255.255.0 --nodefroute\n"
                "rootpw --iscrypted $6$saltsalt$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDE\n"
                "clearpart --all --drives=sdb\n"
                "%addon com_rackstack\nrole db\n%end\n");
        struct answers_input in = { .ks = ks, .ks_label = "OEMDRV:/ks.cfg", .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&in, &s), 0);
        assert_string_equal(answer_set_value(&s, "hostname"), "lab-db1.domain.com");
        assert_string_equal(source_of(&s, "hostname"), "OEMDRV:/ks.cfg line 2");
        assert_string_equal(source_of(&s, "role"), "OEMDRV:/ks.cfg line 7");
        /* the kickstart's address wins; the site's different one is shown as not used */
        assert_string_equal(answer_set_value(&s, "vlan.20.address"), "10.0.50.99/24");
        assert_string_equal(answer_set_get(&s, "vlan.20.address")->overruled[0], "10.0.50.12/24 (site.yaml:22)");
        assert_string_equal(answer_set_value(&s, "vlan.10.gateway"), "none");
        assert_string_equal(source_of(&s, "vlan.10.gateway"), "OEMDRV:/ks.cfg line 3");
        /* what the kickstart does not say comes from the site: VLAN 40 */
        assert_string_equal(answer_set_value(&s, "vlan.40.address"), "10.0.40.12/24");
        assert_string_equal(source_of(&s, "vlan.40.address"), "site.yaml:22");
        assert_string_equal(answer_set_value(&s, "bond.members"), "enp2s0,enp4s0");
        assert_string_equal(answer_set_value(&s, "bond.mode"), "active-backup");
        assert_string_equal(answer_set_get(&s, "bond.mode")->overruled[0], "802.3ad (profile db.yaml:33)");
        assert_string_equal(answer_set_value(&s, "disks.clear"), "all on sdb");
        /* never the hash */
        assert_string_equal(answer_set_value(&s, "rootpw"), "set");
        _cleanup_free_ char *t = answer_set_to_text(&s);
        assert_null(strstr(t, "$6$"));
}

static void test_collect_without_kickstart(void **state) {
        struct answers_input in = { .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&in, &s), 0);
        assert_string_equal(answer_set_value(&s, "hostname"), "lab-db1.domain.com");
        assert_string_equal(source_of(&s, "hostname"), "site.yaml:20");
        assert_string_equal(answer_set_value(&s, "vlan.20.gateway"), "10.0.50.1");
        assert_string_equal(source_of(&s, "vlan.20.gateway"), "site.yaml:11");
        assert_string_equal(source_of(&s, "dns"), "site.yaml:6");
        assert_string_equal(source_of(&s, "bond.mode"), "profile db.yaml:33");
        assert_string_equal(source_of(&s, "bond.members"), "default");
        assert_string_equal(answer_set_value(&s, "rootpw"), "locked");
        assert_string_equal(source_of(&s, "rootpw"), "default");
}

static const struct question *q_find(const struct prompt_plan *p, const char *key) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->q[i].key, key))
                        return &p->q[i];
        return NULL;
}

/* An Anaconda kickstart that names no host: the host is not guessed from the role; the prompt's
 * host brings the site's values for that host, and the kickstart's own values still win. */
static const char anaconda_partial[] =
        "network --bootproto=dhcp --device=link --activate\n"
        "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.77 --netmask=255.255.255.0 "
        "--gateway=10.0.50.1\n"
        "rootpw --lock\n"
        "timezone Etc/UTC --utc\n";

static void test_collect_partial_no_guess(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", anaconda_partial);
        struct answers_input in = { .ks = ks, .ks_label = "OEMDRV:/ks.cfg", .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&in, &s), 0);
        /* nothing host-specific: not lab-db1's name nor its addresses */
        assert_null(answer_set_value(&s, "hostname"));
        assert_non_null(answer_set_get(&s, "hostname"));
        assert_null(answer_set_value(&s, "vlan.10.address"));
        assert_null(answer_set_value(&s, "vlan.40.address"));
        assert_null(answer_set_get(&s, "vlan.20.address")->overruled);
        /* what the kickstart states, and what the site says for every host, are there */
        assert_string_equal(answer_set_value(&s, "vlan.20.address"), "10.0.50.77/24");
        assert_string_equal(source_of(&s, "vlan.20.address"), "OEMDRV:/ks.cfg line 2");
        assert_string_equal(source_of(&s, "dns"), "site.yaml:6");
        assert_string_equal(source_of(&s, "vlan.10.gateway"), "site.yaml:10");
        assert_string_equal(source_of(&s, "rootpw"), "OEMDRV:/ks.cfg line 3");
}

static void test_collect_partial_with_prompt_host(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", anaconda_partial);
        struct answers_input in = { .ks = ks, .ks_label = "OEMDRV:/ks.cfg", .profile = db, .site = site,
                                    .hostname = "lab-db1.domain.com" };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&in, &s), 0);
        assert_string_equal(answer_set_value(&s, "hostname"), "lab-db1.domain.com");
        assert_string_equal(source_of(&s, "hostname"), "prompt");
        /* the site's values for the host named at the prompt fill what the kickstart left out */
        assert_string_equal(answer_set_value(&s, "vlan.10.address"), "10.0.10.12/24");
        assert_string_equal(source_of(&s, "vlan.10.address"), "site.yaml:22");
        assert_string_equal(answer_set_value(&s, "vlan.40.address"), "10.0.40.12/24");
        /* the kickstart's stated value wins; the site's is reported as not used */
        assert_string_equal(answer_set_value(&s, "vlan.20.address"), "10.0.50.77/24");
        assert_string_equal(source_of(&s, "vlan.20.address"), "OEMDRV:/ks.cfg line 2");
        assert_string_equal(answer_set_get(&s, "vlan.20.address")->overruled[0], "10.0.50.12/24 (site.yaml:22)");
        assert_string_equal(source_of(&s, "role"), "site.yaml:20");
        /* the kickstart's own host name wins over a prompt's */
        _cleanup_(ks_freep) struct ks *named = parse("ks.cfg", "network --hostname=lab-db1.domain.com\n");
        struct answers_input in2 = { .ks = named, .ks_label = "ks.cfg", .profile = db, .site = site,
                                     .hostname = "lab-db9.domain.com" };
        _cleanup_(answer_set_done) struct answer_set s2 = {};
        assert_int_equal(answers_collect(&in2, &s2), 0);
        assert_string_equal(answer_set_value(&s2, "hostname"), "lab-db1.domain.com");
        assert_string_equal(answer_set_get(&s2, "hostname")->overruled[0], "lab-db9.domain.com (prompt)");
}

/* The two phases of the prompt: the host alone (no default, the role's site hosts listed), then
 * only what is still missing once the site's values for that host are in. */
static void test_plan_host_first(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", anaconda_partial);
        struct answers_input ai = { .ks = ks, .ks_label = "ks.cfg", .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        struct prompt_input in = { .known = &s, .profile = db, .site = site, .nics = &nics };
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        assert_int_equal(prompt_plan_host(&in, &p), 0);
        assert_int_equal(p.n, 1);
        assert_string_equal(p.q[0].key, "hostname");
        assert_null(p.q[0].def); /* never a guess in brackets */
        assert_non_null(strstr(p.q[0].help, "The site's hosts of role 'db':\n  lab-db1.domain.com (10.0.10.12, 10.0.50.12, 10.0.40.12)\n"));

        /* a site host: its values fill everything, nothing more is asked */
        ai.hostname = "lab-db1.domain.com";
        _cleanup_(answer_set_done) struct answer_set s1 = {};
        assert_int_equal(answers_collect(&ai, &s1), 0);
        struct prompt_input in1 = { .known = &s1, .profile = db, .site = site, .nics = &nics, .host_asked = true };
        _cleanup_(prompt_plan_done) struct prompt_plan p1 = {};
        assert_int_equal(prompt_plan_build(&in1, &p1), 0);
        assert_int_equal(p1.n, 0);
        _cleanup_(prompt_plan_done) struct prompt_plan h1 = {};
        assert_int_equal(prompt_plan_host(&in1, &h1), 0);
        assert_int_equal(h1.n, 0); /* the host is known now */

        /* a host the site does not list: its addresses are asked, the host not again */
        ai.hostname = "lab-db9.domain.com";
        _cleanup_(answer_set_done) struct answer_set s9 = {};
        assert_int_equal(answers_collect(&ai, &s9), 0);
        struct prompt_input in9 = { .known = &s9, .profile = db, .site = site, .nics = &nics, .host_asked = true };
        _cleanup_(prompt_plan_done) struct prompt_plan p9 = {};
        assert_int_equal(prompt_plan_build(&in9, &p9), 0);
        assert_null(q_find(&p9, "hostname"));
        assert_non_null(q_find(&p9, "vlan.10.address"));
        assert_non_null(q_find(&p9, "vlan.40.address"));
        assert_null(q_find(&p9, "vlan.20.address")); /* the kickstart's */
        assert_string_equal(p9.q[0].key, "role");
}

/* The completed kickstart leaves out the Anaconda DHCP line, and says so at its line. */
static void test_render_partial_warns(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", anaconda_partial);
        struct answers_input ai = { .ks = ks, .ks_label = "ks.cfg", .profile = db, .site = site,
                                    .hostname = "lab-db1.domain.com" };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        struct diags d = {};
        _cleanup_free_ char *out = NULL;
        assert_int_equal(answers_render_ks(&s, ks, anaconda_partial, db, site, &d, &out), 0);
        assert_int_equal(d.n, 1);
        assert_int_equal(d.items[0].severity, DIAG_WARNING);
        assert_int_equal(d.items[0].line, 1);
        assert_non_null(strstr(d.items[0].message, "'network --device=link --bootproto=dhcp' is not applied: this "
                                                   "role's network is bond0 with VLANs 10, 20, 40"));
        diags_done(&d);
        assert_null(strstr(out, "--device=link"));
        assert_non_null(strstr(out, "--vlanid=20 --bootproto=static --ip=10.0.50.77 "));
        assert_non_null(strstr(out, "--hostname=lab-db1.domain.com"));
        assert_non_null(strstr(out, "--vlanid=10 --bootproto=static --ip=10.0.10.12 "));
        assert_non_null(strstr(out, "timezone Etc/UTC --utc\n"));
        _cleanup_(ks_freep) struct ks *back = parse("rendered.ks", out);
        struct diags nd = {};
        _cleanup_(net_answers_store_done) struct net_answers_store st = {};
        assert_int_equal(net_answers_from_ks(back, "bond0", &nd, &st), 0);
        diags_done(&nd);
}

/* ---- the question plan ------------------------------------------------------------------------- */

static void test_plan_nothing_missing(void **state) {
        struct answers_input ai = { .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        struct prompt_input in = { .known = &s, .profile = db, .site = site, .nics = &nics };
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        assert_int_equal(prompt_plan_build(&in, &p), 0);
        assert_int_equal(p.n, 0); /* the site knows this host: no console needed */
}

static void test_plan_missing_host(void **state) {
        /* a host the site does not list: its names and addresses must be asked */
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg",
                "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.99 --netmask=255.255.255.0 "
                "--gateway=10.0.50.1 --hostname=lab-db9.domain.com\n");
        struct answers_input ai = { .ks = ks, .ks_label = "image ks.cfg", .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        struct prompt_input in = { .known = &s, .profile = db, .site = site, .nics = &nics };
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        assert_int_equal(prompt_plan_build(&in, &p), 0);
        static const char *const want[] = { "hostname", "role", "vlan.10.address", "vlan.40.address", "dns",
                                            "bond.members", "rootpw" };
        assert_int_equal(p.n, ELEMENTSOF(want));
        for (size_t i = 0; i < p.n; i++)
                assert_string_equal(p.q[i].key, want[i]);
        assert_string_equal(q_find(&p, "hostname")->def, "lab-db9.domain.com"); /* the kickstart's, in brackets */
        assert_null(q_find(&p, "vlan.10.address")->def);                       /* nobody knows it */
        assert_int_equal(q_find(&p, "vlan.10.address")->vlan, 10);
        assert_string_equal(q_find(&p, "role")->def, "db");
        /* the default members are the two fastest with carrier; the table shows every physical NIC */
        assert_string_equal(q_find(&p, "bond.members")->def, "enp2s0,enp4s0");
        assert_non_null(strstr(q_find(&p, "bond.members")->help, "enp3s0          52:54:00:00:00:13 ixgbe        no       ?"));
        assert_null(strstr(q_find(&p, "bond.members")->help, "bond0"));
        assert_int_equal(q_find(&p, "rootpw")->kind, QUESTION_SECRET);
        /* VLAN 20 is answered by the kickstart: not asked again */
        assert_null(q_find(&p, "vlan.20.address"));
        assert_null(q_find(&p, "vlan.20.gateway"));
}

static void test_plan_all_and_wipe(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", "network --device=bond0 --bondslaves=enp1s0 --vlanid=20 "
                "--bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0 --gateway=10.0.50.1\nrootpw --lock\n");
        struct answers_input ai = { .ks = ks, .ks_label = "ks.cfg", .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        char *wipe[] = { S("/dev/sdb: ext4 \"olddata\", 1 TiB"), NULL };
        struct prompt_input in = { .known = &s, .profile = db, .site = site, .nics = &nics, .wipe = wipe };
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        assert_int_equal(prompt_plan_build(&in, &p), 0);
        const struct question *w = q_find(&p, "disks.confirm");
        assert_non_null(w);
        assert_int_equal(w->kind, QUESTION_CONFIRM);
        assert_string_equal(w->word, "wipe");
        assert_null(w->def);
        assert_non_null(strstr(w->help, "/dev/sdb: ext4 \"olddata\""));
        /* the kickstart chose the members and the root password: not asked unless everything is */
        assert_null(q_find(&p, "bond.members"));
        assert_null(q_find(&p, "rootpw"));
        prompt_plan_done(&p);
        in.all = true;
        in.wipe = NULL;
        assert_int_equal(prompt_plan_build(&in, &p), 0);
        assert_string_equal(q_find(&p, "bond.members")->def, "enp1s0");
        assert_string_equal(q_find(&p, "vlan.20.gateway")->def, "10.0.50.1");
        assert_string_equal(q_find(&p, "vlan.40.gateway")->def, "none");
        assert_non_null(q_find(&p, "rootpw"));
        assert_null(q_find(&p, "disks.confirm"));
}

/* ---- validators -------------------------------------------------------------------------------- */

struct check_case {
        const char *key;
        uint16_t vlan;
        const char *def;
        const char *typed;
        const char *value;  /* expected value, or NULL for a refusal */
        const char *reason; /* substring of the refusal */
};

static const struct check_case checks[] = {
        { "hostname", 0, NULL, "Lab-DB9.domain.com", "lab-db9.domain.com" },
        { "hostname", 0, "lab-db1.domain.com", "", "lab-db1.domain.com" },
        { "hostname", 0, "lab-db1.domain.com", "   ", "lab-db1.domain.com" },
        { "hostname", 0, NULL, "", NULL, "an answer is needed" },
        { "hostname", 0, NULL, "lab-db9", NULL, "give the host name with its domain (e.g. lab-db9.domain.com)" },
        { "hostname", 0, NULL, "lab_db9.domain.com", NULL, "is not a valid host name" },
        { "hostname", 0, NULL, "lab-db9.other.org", NULL, "not in the site's domain 'domain.com'" },
        { "role", 0, "db", "", "db" },
        { "role", 0, "db", "yes", "db" },
        { "role", 0, "db", "app", NULL, "this image is built for role 'db'" },
        { "vlan.20.address", 20, NULL, " 10.0.50.99/24 ", "10.0.50.99/24" },
        { "vlan.20.address", 20, NULL, "10.0.50.99", "10.0.50.99/24" },
        { "vlan.20.address", 20, NULL, "10.0.60.5/24", NULL, "10.0.60.5/24 is outside VLAN 20's subnet 10.0.50.0/24" },
        { "vlan.20.address", 20, NULL, "10.0.50.99/16", NULL, "VLAN 20's subnet is /24, not /16" },
        { "vlan.20.address", 20, NULL, "10.0.50.0/24", NULL, "network or broadcast address" },
        { "vlan.20.address", 20, NULL, "10.0.50.255", NULL, "network or broadcast address" },
        { "vlan.20.address", 20, NULL, "10.0.50.1", NULL, "is VLAN 20's gateway" },
        { "vlan.20.address", 20, NULL, "10.0.50.300/24", NULL, "not an IPv4 address/prefix" },
        { "vlan.20.address", 20, NULL, "ten", NULL, "'ten' is not an IPv4 address" },
        { "vlan.20.gateway", 20, "10.0.50.1", "", "10.0.50.1" },
        { "vlan.20.gateway", 20, "10.0.50.1", "NONE", "none" },
        { "vlan.20.gateway", 20, NULL, "10.0.51.1", NULL, "gateway 10.0.51.1 is outside the subnet 10.0.50.0/24" },
        { "vlan.20.gateway", 20, NULL, "10.0.50.77", NULL, "is this host's own address" },
        { "vlan.20.gateway", 20, NULL, "gw", NULL, "'gw' is not an IPv4 address (or 'none')" },
        { "dns", 0, NULL, "10.0.50.11, 10.0.50.12", "10.0.50.11,10.0.50.12" },
        { "dns", 0, NULL, "10.0.50.11 1.1.1.256", NULL, "'1.1.1.256' is not an IPv4 address" },
        { "dns", 0, NULL, ",", NULL, "give at least one DNS server" },
        { "dns", 0, NULL, "0.0.0.0", NULL, "'0.0.0.0' is not an IPv4 address" }, /* as the kickstart says (fuzz) */
        { "bond.members", 0, "enp2s0,enp4s0", "", "enp2s0,enp4s0" },
        { "bond.members", 0, NULL, "52:54:00:00:00:11 enp2s0", "enp1s0,enp2s0" },
        { "bond.members", 0, NULL, "enp1s0,enp9s0", NULL, "there is no NIC 'enp9s0'" },
        { "bond.members", 0, NULL, "bond0", NULL, "there is no NIC 'bond0'" },
        { "bond.members", 0, NULL, "enp1s0,52:54:00:00:00:11", NULL, "enp1s0 is named twice" },
        { "rootpw", 0, NULL, "", "" },
        { "rootpw", 0, NULL, "short", NULL, "shorter than 8 characters" },
        { "rootpw", 0, NULL, " spaces kept ", " spaces kept " },
        { "rootpw", 0, NULL, "tab\there!", NULL, "control character" },
        { "disks.confirm", 0, NULL, "wipe", "wipe" },
        { "disks.confirm", 0, NULL, "yes", NULL, "type 'wipe' to go on" },
        { "disks.confirm", 0, NULL, "", NULL, "type 'wipe' to go on" },
};

static void test_validators(void **state) {
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answer_set_offer(&s, "vlan.20.address", "10.0.50.77/24", "prompt"), 1);
        struct prompt_input in = { .known = &s, .profile = db, .site = site, .nics = &nics };
        for (size_t i = 0; i < ELEMENTSOF(checks); i++) {
                const struct check_case *c = &checks[i];
                struct question q = { .key = S(c->key), .text = S("?"), .def = S(c->def), .vlan = c->vlan,
                                      .kind = streq(c->key, "rootpw")          ? QUESTION_SECRET :
                                              streq(c->key, "disks.confirm") ? QUESTION_CONFIRM :
                                                                               QUESTION_TEXT,
                                      .word = S("wipe") };
                _cleanup_free_ char *value = NULL, *reason = NULL;
                int r = prompt_check(&in, &q, c->typed, &value, &reason);
                if (c->value) {
                        if (r != 0)
                                fail_msg("%s '%s': refused: %s", c->key, c->typed, strna(reason));
                        assert_string_equal(value, c->value);
                        assert_null(reason);
                } else {
                        if (r != -EINVAL)
                                fail_msg("%s '%s': accepted as '%s'", c->key, c->typed, strna(value));
                        assert_null(value);
                        if (!strstr(reason, c->reason))
                                fail_msg("%s '%s': reason '%s' lacks '%s'", c->key, c->typed, reason, c->reason);
                }
        }
}

/* ---- password, render, exposure ---------------------------------------------------------------- */

static void test_password_hash(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL;
        assert_int_equal(password_hash("Correct-Horse-9", &a), 0);
        assert_int_equal(password_hash("Correct-Horse-9", &b), 0);
        assert_true(startswith(a, "$6$"));
        assert_string_not_equal(a, b); /* a random salt each time */
        struct crypt_data cd = {};
        assert_string_equal(crypt_r("Correct-Horse-9", a, &cd), a);
        assert_string_not_equal(crypt_r("Correct-Horse-8", a, &cd), a);
}

static void test_default_members(void **state) {
        _cleanup_free_ char *two = prompt_default_members(&nics, 2), *one = prompt_default_members(&nics, 1);
        _cleanup_free_ char *none = prompt_default_members(&(struct nic_list) {}, 2);
        assert_string_equal(two, "enp2s0,enp4s0");
        assert_string_equal(one, "enp2s0");
        assert_string_equal(none, "");
}

static void test_render_round_trip(void **state) {
        static const char original[] =
                "# a comment stays\n"
                "network --device=bond0 --bondopts=mode=802.3ad,miimon=100,lacp_rate=fast,xmit_hash_policy=layer3+4 \\\n"
                "        --vlanid=20 --bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0 --gateway=10.0.50.1\n"
                "rootpw --lock\n"
                "timezone Etc/UTC --utc\n"
                "%addon com_rackstack\n"
                "role db\n"
                "join graylog server=lab-infra1.domain.com port=12201\n"
                "%end\n";
        _cleanup_(ks_freep) struct ks *ks = parse("ks.cfg", original);
        /* the kickstart names no host: as the prompt's first question answers it */
        struct answers_input ai = { .ks = ks, .ks_label = "ks.cfg", .profile = db, .site = site,
                                    .hostname = "lab-db1.domain.com" };
        _cleanup_(answer_set_done) struct answer_set s = {};
        assert_int_equal(answers_collect(&ai, &s), 0);
        assert_int_equal(answer_set_replace(&s, "bond.members", "enp2s0,enp4s0", "prompt"), 1);
        assert_int_equal(answer_set_replace(&s, "rootpw", "set", "prompt"), 1);
        assert_int_equal(password_hash("Correct-Horse-9", &s.rootpw_hash), 0);
        _cleanup_free_ char *out = NULL;
        assert_int_equal(answers_render_ks(&s, ks, original, db, site, NULL, &out), 0);
        /* the rendered text passes the kickstart parser and the network adapter */
        _cleanup_(ks_freep) struct ks *back = parse("rendered.ks", out);
        struct diags d = {};
        _cleanup_(net_answers_store_done) struct net_answers_store st = {};
        assert_int_equal(net_answers_from_ks(back, "bond0", &d, &st), 0);
        diags_done(&d);
        assert_int_equal(back->n_networks, 3);
        assert_string_equal(back->networks[0].hostname, "lab-db1.domain.com");
        assert_int_equal(back->networks[0].vlanid, 20);
        assert_true(back->networks[0].bondopts.set & KS_BONDOPT_XMIT_HASH_POLICY);
        assert_string_equal(back->networks[0].bondslaves[1], "enp4s0");
        assert_int_equal(back->networks[0].n_nameservers, 1);
        assert_true(back->networks[1].nodefroute);
        assert_string_equal(back->rootpw.password, s.rootpw_hash);
        assert_true(back->rootpw.iscrypted);
        assert_string_equal(back->addon.role, "db");
        assert_int_equal(back->addon.n_joins, 1);
        assert_string_equal(back->timezone.zone, "Etc/UTC");
        assert_non_null(strstr(out, "# a comment stays\n"));
        assert_null(strstr(out, "rootpw --lock"));
        /* the continuation line of the old network command went with it */
        assert_null(strstr(out, "        --vlanid=20"));

        /* no kickstart at all: the answers alone, with an %addon for the role */
        _cleanup_free_ char *bare = NULL;
        struct answers_input none = { .profile = db, .site = site };
        _cleanup_(answer_set_done) struct answer_set s2 = {};
        assert_int_equal(answers_collect(&none, &s2), 0);
        assert_int_equal(answers_render_ks(&s2, NULL, NULL, db, site, NULL, &bare), 0);
        _cleanup_(ks_freep) struct ks *back2 = parse("bare.ks", bare);
        assert_string_equal(back2->addon.role, "db");
        assert_true(back2->rootpw.lock);
        /* a VLAN address nobody gave: cannot render */
        _cleanup_(answer_set_done) struct answer_set s3 = {};
        assert_int_equal(answer_set_offer(&s3, "hostname", "x.domain.com", "prompt"), 1);
        _cleanup_free_ char *no = NULL;
        assert_int_equal(answers_render_ks(&s3, NULL, NULL, db, site, NULL, &no), -EINVAL);
        assert_null(no);
}

static void test_exposure(void **state) {
        static const char secret[] = "rootpw --iscrypted $6$saltsalt$abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789abcdefghijklmnopqrstuvwxyzABCDE\n";
        static const char plain[] = "rootpw --lock\n";
        _cleanup_free_ char *why = NULL;
        assert_int_equal(answers_check_exposure("x", plain, strlen(plain), 0644, true, &why), 0);
        assert_int_equal(answers_check_exposure("x", secret, strlen(secret), 0600, false, &why), 0);
        assert_int_equal(answers_check_exposure("x", secret, strlen(secret), 0400, false, &why), 0);
        assert_null(why);
        assert_int_equal(answers_check_exposure("OEMDRV:/ks.cfg", secret, strlen(secret), 0100644, false, &why), -EACCES);
        assert_non_null(strstr(why, "OEMDRV:/ks.cfg line 1 holds a password hash, but the file has mode 0644"));
        free(why);
        why = NULL;
        assert_int_equal(answers_check_exposure("x", secret, strlen(secret), 0640, false, &why), -EACCES);
        free(why);
        why = NULL;
        assert_int_equal(answers_check_exposure("http://h/ks", secret, strlen(secret), 0600, true, &why), -EACCES);
        assert_non_null(strstr(why, "fetched over plain HTTP"));
        free(why);
        why = NULL;
        /* A plaintext password (hashed when read) is exposed the same way as a hash. */
        static const char cleartext[] = "user --name=ops --password=Correct-Horse-9\nrootpw Correct-Horse-9\n";
        assert_int_equal(answers_check_exposure("http://h/ks", cleartext, strlen(cleartext), 0600, true, &why), -EACCES);
        assert_non_null(strstr(why, "line 2 holds a password"));
        assert_null(strstr(why, "Correct-Horse"));
        free(why);
        why = NULL;
        assert_int_equal(answers_check_exposure("x", cleartext, strlen(cleartext), 0644, false, &why), -EACCES);
        free(why);
        why = NULL;
        assert_int_equal(answers_check_exposure("x", cleartext, strlen(cleartext), 0600, false, &why), 0);
}

static void test_kernel_consoles(void **state) {
        _cleanup_strv_free_ char **l = NULL, **none = NULL;
        assert_int_equal(prompt_kernel_consoles("quiet console=tty0 console=ttyS0,115200n8 console=ttyS0 console=null", &l), 0);
        assert_int_equal(strv_length(l), 2);
        assert_string_equal(l[0], "/dev/tty1");
        assert_string_equal(l[1], "/dev/ttyS0");
        assert_int_equal(prompt_kernel_consoles("quiet console=../../etc/passwd", &none), 0);
        assert_null(none);
}

static void test_shadow(void **state) {
        static const char shadow[] = "root:*:19000:0:99999:7:::\n"
                                     "daemon:*:19000:0:99999:7:::\n"
                                     "rooty:!:19000:0:99999:7:::\n"
                                     "short:x";
        static const char hash[] = "$6$saltsalt$abc";
        _cleanup_free_ char *out = NULL, *out2 = NULL, *none = NULL;
        assert_int_equal(shadow_set_password(shadow, "root", hash, 20500, &out), 0);
        assert_string_equal(out, "root:$6$saltsalt$abc:20500:0:99999:7:::\n"
                                 "daemon:*:19000:0:99999:7:::\n"
                                 "rooty:!:19000:0:99999:7:::\n"
                                 "short:x");
        /* a line with fewer fields gets the rest empty */
        assert_int_equal(shadow_set_password(shadow, "short", hash, 1, &out2), 0);
        assert_non_null(strstr(out2, "\nshort:$6$saltsalt$abc:1::::::"));
        assert_int_equal(shadow_set_password(shadow, "nobody", hash, 1, &none), -ENOENT);
        assert_int_equal(shadow_set_password(shadow, "root", "$6$a:b", 1, &none), -EINVAL);
        assert_int_equal(shadow_set_password(shadow, "root", "$6$a\nevil::0", 1, &none), -EINVAL);
        assert_int_equal(shadow_set_password(shadow, "root", "plain", 1, &none), -EINVAL);
        assert_null(none);

        /* applied: owner, group and mode kept */
        char dir[] = "/tmp/test-answers-shadow.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *etc = strprintf("%s/etc", dir), *path = strprintf("%s/etc/shadow", dir);
        assert_int_equal(mkdir(etc, 0755), 0);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(shadow, f);
        fclose(f);
        assert_int_equal(chmod(path, 0640), 0);
        assert_int_equal(shadow_apply(dir, "root", hash), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        char line[256] = {};
        f = fopen(path, "re");
        assert_non_null(fgets(line, sizeof line, f));
        fclose(f);
        assert_true(startswith(line, "root:$6$saltsalt$abc:"));
        assert_int_equal(shadow_apply(dir, "nobody", hash), -ENOENT);
        unlink(path);
        rmdir(etc);
        rmdir(dir);
}

static void test_medium_symlink_not_followed(void **state) {
        /* The image's (or a medium's) ks.cfg is a symlink to a file of the host: never copied in. */
        char dir[] = "/tmp/test-answers-link.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *sub = strprintf("%s/usr/share/rackstack", dir), *mk = strprintf("mkdir -p %s", sub);
        _cleanup_free_ char *host = strprintf("%s/host-secret", dir), *link = strprintf("%s/ks.cfg", sub);
        assert_int_equal(system(mk), 0);
        FILE *f = fopen(host, "w");
        assert_non_null(f);
        fputs("network --hostname=db1\n", f);
        fclose(f);
        assert_int_equal(symlink(host, link), 0);
        struct answers_find_options o = ANSWERS_FIND_OPTIONS_DEFAULT;
        o.cmdline = "quiet";
        o.no_devices = true;
        char *path = NULL, *label = NULL;
        assert_int_equal(answers_find(dir, &o, &path, &label, NULL), -ELOOP);
        assert_null(path);
        _cleanup_free_ char *copy = strprintf("%s/run/rackstack/ks.cfg", dir);
        assert_int_equal(access(copy, F_OK), -1);
        /* The same file, really there, is taken. */
        assert_int_equal(unlink(link), 0);
        assert_int_equal(rename(host, link), 0);
        assert_int_equal(chmod(link, 0600), 0);
        assert_int_equal(answers_find(dir, &o, &path, &label, NULL), 0);
        assert_string_equal(label, "image ks.cfg");
        free(path), free(label);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_offer_never_overrides),
                cmocka_unit_test(test_sources),
                cmocka_unit_test(test_collect_kickstart_first),
                cmocka_unit_test(test_collect_without_kickstart),
                cmocka_unit_test(test_collect_partial_no_guess),
                cmocka_unit_test(test_collect_partial_with_prompt_host),
                cmocka_unit_test(test_plan_host_first),
                cmocka_unit_test(test_plan_nothing_missing),
                cmocka_unit_test(test_plan_missing_host),
                cmocka_unit_test(test_plan_all_and_wipe),
                cmocka_unit_test(test_validators),
                cmocka_unit_test(test_password_hash),
                cmocka_unit_test(test_default_members),
                cmocka_unit_test(test_render_round_trip),
                cmocka_unit_test(test_render_partial_warns),
                cmocka_unit_test(test_exposure),
                cmocka_unit_test(test_medium_symlink_not_followed),
                cmocka_unit_test(test_kernel_consoles),
                cmocka_unit_test(test_shadow),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
