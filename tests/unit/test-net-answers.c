/* SPDX-License-Identifier: MIT */
/* Kickstart network lines -> network answers -> plan: the nine shipped kickstarts agree with the site,
 * and what the plan cannot express is refused at the kickstart's FILE:LINE:COL. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "kickstart.h"
#include "net-answers.h"
#include "net-plan.h"
#include "netplan.h"
#include "util.h"

#define S(x) ((char *) (x))

static struct nic nics_arr[] = {
        { .name = S("eno1"), .mac = S("0c:c4:7a:00:00:01"), .physical = true, .carrier = true, .speed_mbps = 10000 },
        { .name = S("eno2"), .mac = S("0c:c4:7a:00:00:02"), .physical = true, .carrier = true, .speed_mbps = 10000 },
};
static const struct nic_list nics = { nics_arr, ELEMENTSOF(nics_arr) };

static const char *const roles[] = { "id", "db", "app", "comm", "voip", "biz", "erp", "it", "infra" };
static const char *const hosts[] = { "lab-id1", "lab-db1", "lab-app1", "lab-comm1", "lab-voip1",
                                     "lab-biz1", "lab-erp1", "lab-it1", "lab-infra1" };

static struct site *site;

static int setup(void **state) {
        struct diags d = {};
        if (site_load_file("profiles/site.yaml", &d, &site) < 0) {
                diags_print(&d, stderr);
                fail_msg("cannot load profiles/site.yaml (run from the source tree)");
        }
        diags_done(&d);
        return 0;
}

static int teardown(void **state) {
        site_free(site);
        return 0;
}

static void test_shipped_kickstarts(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(roles); i++) {
                struct diags d = {};
                _cleanup_free_ char *path = strprintf("kickstart/%s.ks", hosts[i]);
                _cleanup_(ks_freep) struct ks *ks = NULL;
                _cleanup_(profile_freep) struct profile *prof = NULL;
                assert_int_equal(ks_load_file(path, &d, &ks), 0);
                assert_string_equal(ks->addon.role, roles[i]);
                assert_int_equal(profile_load("profiles", roles[i], &d, &prof), 0);

                _cleanup_(net_answers_store_done) struct net_answers_store st = {};
                assert_int_equal(net_answers_from_ks(ks, "bond0", &d, &st), 0);
                _cleanup_free_ char *fqdn = strprintf("%s.domain.com", hosts[i]);
                assert_string_equal(st.answers.hostname, fqdn);
                assert_int_equal(st.answers.n_vlans, prof->n_vlans);
                assert_int_equal(st.answers.n_nameservers, 1);
                assert_string_equal(st.answers.nameservers[0], "10.0.50.11");
                assert_true(st.answers.bond_options[0].src.line > 0); /* locations survive */

                struct net_plan_input in = { .profile = prof, .site = site, .answers = &st.answers, .nics = &nics };
                _cleanup_(net_plan_freep) struct net_plan *from_ks = NULL, *from_site = NULL;
                if (net_plan_build(&in, &d, &from_ks) < 0) {
                        _cleanup_free_ char *t = diags_text(&d);
                        fail_msg("%s does not plan:\n%s", path, t);
                }
                in.answers = NULL;
                in.hostname = hosts[i];
                assert_int_equal(net_plan_build(&in, &d, &from_site), 0);
                assert_int_equal(d.n, 0);
                /* The kickstart and the site say the same thing: the same netplan. */
                _cleanup_free_ char *y1 = netplan_render(from_ks), *y2 = netplan_render(from_site);
                assert_string_equal(y1, y2);

                /* The same kickstart in a VM: active-backup, though it says 802.3ad. */
                in.answers = &st.answers;
                in.virtual_machine = true;
                _cleanup_(net_plan_freep) struct net_plan *vm = NULL;
                assert_int_equal(net_plan_build(&in, &d, &vm), 0);
                assert_int_equal(net_plan_bond(vm)->bond.mode, BOND_MODE_ACTIVE_BACKUP);
                diags_done(&d);
        }
}

struct bad_case {
        const char *name;
        const char *ks;
        bool adapter_fails; /* else the plan does */
        const char *expect;
};

#define ADDON "%addon com_rackstack\nrole db\n%end\n"
#define V20 "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0"

static const struct bad_case bad[] = {
        { "other device", "network --device=eno1 --bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0\n" ADDON,
          true, "t.ks:1:9: error: network --device=eno1: this role's network is bond bond0" },
        { "dhcp", "network --device=bond0 --vlanid=20 --bootproto=dhcp\n" ADDON, true,
          "t.ks:1:36: error: DHCP is not supported" },
        { "untagged address", "network --device=bond0 --bondslaves=eno1,eno2 --bootproto=static --ip=10.0.50.12 "
          "--netmask=255.255.255.0\n" ADDON, true, "t.ks:1:66: error: --ip without --vlanid" },
        { "interface name", V20 " --interfacename=vlan20\n" ADDON, true,
          "error: --interfacename=vlan20: VLAN links are named bond0.20" },
        { "VLAN not in role", "network --device=bond0 --vlanid=70 --bootproto=static --ip=10.0.70.12 "
          "--netmask=255.255.255.0\n" ADDON, false, "t.ks:1:24: error: VLAN 70 is not one of role db's VLANs (10, 20, 40)" },
        { "address outside the site's subnet", "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.51.12 "
          "--netmask=255.255.255.0\n" ADDON, false, "t.ks:1:55: error: address 10.0.51.12 is outside VLAN 20's subnet" },
        { "unknown member", "network --device=bond0 --bondslaves=eno1,eno9\n" ADDON, false,
          "t.ks:1:24: error: bond member 'eno9': no such NIC" },
};

static void test_bad(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const struct bad_case *c = &bad[i];
                struct diags d = {};
                _cleanup_(ks_freep) struct ks *ks = NULL;
                _cleanup_(profile_freep) struct profile *prof = NULL;
                if (ks_parse_buffer("t.ks", c->ks, strlen(c->ks), &d, &ks) < 0) {
                        _cleanup_free_ char *t = diags_text(&d);
                        fail_msg("case '%s': the kickstart parser refused it:\n%s", c->name, t);
                }
                assert_int_equal(profile_load("profiles", "db", &d, &prof), 0);
                _cleanup_(net_answers_store_done) struct net_answers_store st = {};
                int r = net_answers_from_ks(ks, "bond0", &d, &st);
                if (c->adapter_fails) {
                        if (r != -EINVAL)
                                fail_msg("case '%s': the adapter accepted it", c->name);
                } else {
                        assert_int_equal(r, 0);
                        struct net_plan_input in = { .profile = prof, .site = site, .answers = &st.answers,
                                                     .nics = &nics };
                        struct net_plan *p = NULL;
                        r = net_plan_build(&in, &d, &p);
                        if (r != -EINVAL || p)
                                fail_msg("case '%s': planned anyway", c->name);
                }
                _cleanup_free_ char *t = diags_text(&d);
                if (!strstr(t, c->expect))
                        fail_msg("case '%s': expected '%s' in:\n%s", c->name, c->expect, t);
                diags_done(&d);
        }
}

/* The way most Anaconda kickstarts name their host: DHCP on the first link. The line is not applied
 * (the role's bond and VLANs are addressed from the site), said with a warning at it, and its host
 * name and name servers are kept; DHCP on one of our VLANs stays an error (test_bad). */
static void test_anaconda_dhcp_line(void **state) {
        (void) state;
        static const char text[] = "network --bootproto=dhcp --device=link --activate --hostname=lab-db1.domain.com "
                                   "--nameserver=10.0.10.11\n" ADDON;
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_parse_buffer("t.ks", text, strlen(text), &d, &ks), 0);
        _cleanup_(net_answers_store_done) struct net_answers_store st = {};
        assert_int_equal(net_answers_from_ks(ks, "bond0", &d, &st), 0);
        assert_int_equal(d.n_errors, 0);
        assert_string_equal(st.answers.hostname, "lab-db1.domain.com");
        assert_int_equal(st.answers.vlans[0].id, 0); /* the line gave no VLAN of ours */
        _cleanup_free_ char *t = diags_text(&d);
        if (!strstr(t, "t.ks:1:1: warning: 'network --device=link --bootproto=dhcp' is not applied: this role's "
                       "network is bond0 with its VLANs, addressed from the site (its --hostname is kept)"))
                fail_msg("no warning at the line:\n%s", t);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_shipped_kickstarts),
                cmocka_unit_test(test_bad),
                cmocka_unit_test(test_anaconda_dhcp_line),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
