/* SPDX-License-Identifier: MIT */
/* firstboot/deferred-apt-plan.c: a deferred apt service's install, planned; and the gpg listing
 * both the builder and firstboot read fingerprints from (common/vendor.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "deferred-apt.h"
#include "profile.h"
#include "util.h"
#include "vendor.h"

#define FPR "66A9CD0595D6AFA247290D3BEF8B479E2DC1389C"

static char *jitsi_pkgs[] = { (char *) "jitsi-meet", NULL };
static char *es_pkgs[] = { (char *) "elasticsearch", (char *) "elasticsearch-extra", NULL };

static struct service_spec jitsi(void) {
        return (struct service_spec) {
                .name = (char *) "jitsi-meet", .source = SERVICE_SOURCE_APT, .fetch = SERVICE_FETCH_FIRSTBOOT,
                .repo = (char *) "deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/",
                .key_url = (char *) "https://download.jitsi.org/jitsi-key.gpg.key",
                .key_fingerprint = (char *) "66A9 CD05 95D6 AFA2 4729 0D3B EF8B 479E 2DC1 389C", .packages = jitsi_pkgs,
        };
}

static bool has_seq(char **argv, const char *a, const char *b) {
        for (char **p = argv; p && p[0] && p[1]; p++)
                if (streq(p[0], a) && streq(p[1], b))
                        return true;
        return false;
}

static bool has(char **argv, const char *a) {
        return strv_contains(argv, a);
}

static void test_flat_through_mirror_live(void **state) {
        struct service_spec s = jitsi();
        struct mirror_map m[] = { { .from = (char *) "https://download.jitsi.org", .to = (char *) "http://10.0.20.5:3142/jitsi" } };
        struct deferred_apt_plan p = {};
        char *why = NULL;
        assert_int_equal(deferred_apt_plan_make(&s, m, 1, "/", &p, &why), 0);
        assert_null(why);
        assert_string_equal(p.fingerprint, FPR);
        assert_string_equal(p.key_url, "http://10.0.20.5:3142/jitsi/jitsi-key.gpg.key");
        assert_string_equal(p.repo_url, "http://10.0.20.5:3142/jitsi");
        assert_string_equal(p.mirror, "http://10.0.20.5:3142/jitsi");
        assert_string_equal(p.inrelease_url, "http://10.0.20.5:3142/jitsi/stable/InRelease");
        assert_string_equal(p.probe_host, "10.0.20.5");
        assert_string_equal(p.probe_port, "3142");
        assert_string_equal(p.keyring, "/usr/share/keyrings/jitsi-keyring.gpg");
        assert_string_equal(p.list_file, "etc/apt/sources.list.d/rackstack-jitsi-meet.list");
        assert_string_equal(p.list_line, "deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] http://10.0.20.5:3142/jitsi stable/");
        /* on the server apt reads the system's own file, and works on "/" */
        assert_false(p.apt_list_separate);
        assert_string_equal(p.apt_list, "/etc/apt/sources.list.d/rackstack-jitsi-meet.list");
        assert_string_equal(p.apt_list_line, p.list_line);
        assert_false(has_seq(p.install_argv, "-o", "Dir=/"));
        /* update: that source only, the other lists kept */
        assert_true(has_seq(p.update_argv, "-o", "Dir::Etc::SourceList=/etc/apt/sources.list.d/rackstack-jitsi-meet.list"));
        assert_true(has_seq(p.update_argv, "-o", "Dir::Etc::SourceParts=-"));
        assert_true(has_seq(p.update_argv, "-o", "APT::Get::List-Cleanup=0"));
        assert_string_equal(p.update_argv[strv_length(p.update_argv) - 1], "update");
        /* the retry's update reads every source; the install too */
        assert_false(has(p.full_update_argv, "Dir::Etc::SourceParts=-"));
        assert_false(has(p.install_argv, "Dir::Etc::SourceParts=-"));
        /* bounded */
        assert_true(has_seq(p.update_argv, "-o", "Acquire::Retries=3"));
        assert_true(has_seq(p.install_argv, "-o", "Acquire::http::Timeout=20"));
        assert_int_equal(p.update_timeout_sec, DEFERRED_APT_UPDATE_TIMEOUT_SEC);
        assert_int_equal(p.install_timeout_sec, DEFERRED_APT_INSTALL_TIMEOUT_SEC);
        size_t n = strv_length(p.install_argv);
        assert_string_equal(p.install_argv[n - 2], "install");
        assert_string_equal(p.install_argv[n - 1], "jitsi-meet");
        assert_true(has(p.install_argv, "-y") && has(p.install_argv, "--no-install-recommends"));
        _cleanup_free_ char *j = deferred_apt_plan_json(&p);
        assert_non_null(strstr(j, "\"key_fingerprint\": \"" FPR "\""));
        assert_non_null(strstr(j, "\"mirror\": \"http://10.0.20.5:3142/jitsi\""));
        deferred_apt_plan_done(&p);
}

static void test_dists_vendor_other_root(void **state) {
        struct service_spec s = {
                .name = (char *) "elasticsearch", .source = SERVICE_SOURCE_APT,
                .repo = (char *) "deb [arch=amd64 signed-by=/usr/share/keyrings/elasticsearch.gpg] https://artifacts.elastic.co/packages/8.x/apt stable main",
                .key_url = (char *) "https://artifacts.elastic.co/GPG-KEY-elasticsearch",
                .key_fingerprint = (char *) "46095ACC8548582C1A2699A9D27D666CD88E42B4", .packages = es_pkgs,
        };
        struct deferred_apt_plan p = {};
        char *why = NULL;
        /* no mirror for it: the vendor itself, on 443 */
        struct mirror_map m[] = { { .from = (char *) "docker.io", .to = (char *) "http://127.0.0.1:5000" } };
        assert_int_equal(deferred_apt_plan_make(&s, m, 1, "/tmp/root", &p, &why), 0);
        assert_null(p.mirror);
        assert_string_equal(p.repo_url, "https://artifacts.elastic.co/packages/8.x/apt");
        assert_string_equal(p.key_url, "https://artifacts.elastic.co/GPG-KEY-elasticsearch");
        assert_string_equal(p.inrelease_url, "https://artifacts.elastic.co/packages/8.x/apt/dists/stable/InRelease");
        assert_string_equal(p.probe_host, "artifacts.elastic.co");
        assert_string_equal(p.probe_port, "443");
        /* the system keeps the line as the vendor wrote it; apt in another root sees the keyring there */
        assert_string_equal(p.list_line, s.repo);
        assert_true(p.apt_list_separate);
        assert_string_equal(p.apt_list, "/tmp/root/var/lib/rackstack/deferred/elasticsearch.list");
        assert_string_equal(p.apt_list_line, "deb [arch=amd64 signed-by=/tmp/root/usr/share/keyrings/elasticsearch.gpg] "
                                             "https://artifacts.elastic.co/packages/8.x/apt stable main");
        for (char **a[] = { p.update_argv, p.full_update_argv, p.install_argv }, ***x = a; x < a + 3; x++) {
                assert_true(has_seq(*x, "-o", "Dir=/tmp/root"));
                assert_true(has_seq(*x, "-o", "Dir::State::status=/tmp/root/var/lib/dpkg/status"));
                assert_true(has_seq(*x, "-o", "DPkg::Options::=--root=/tmp/root"));
                assert_true(has_seq(*x, "-o", "Dir::Etc::SourceList=/tmp/root/var/lib/rackstack/deferred/elasticsearch.list"));
        }
        size_t n = strv_length(p.install_argv);
        assert_string_equal(p.install_argv[n - 2], "elasticsearch");
        assert_string_equal(p.install_argv[n - 1], "elasticsearch-extra");
        deferred_apt_plan_done(&p);
}

static void test_refused(void **state) {
        struct { const char *what, *expect; } rows[] = {
                { "keyid", "key-fingerprint 'EF8B479E2DC1389C' is not a full fingerprint" },
                { "nokeyurl", "the profile names no key-url" },
                { "nopkgs", "the profile names no packages" },
                { "keyring", "cannot read its repo line" },
                { "nosignedby", "cannot read its repo line" },
                { "dotdot", "signed-by= must name a keyring under /usr/share/keyrings/" },
                { "oci", "is not an apt service" },
                { "ftp", "cannot read its repo line" },
        };
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                struct service_spec s = jitsi();
                const char *w = rows[i].what;
                char *empty[] = { NULL };
                if (streq(w, "keyid"))
                        s.key_fingerprint = (char *) "EF8B479E2DC1389C";
                else if (streq(w, "nokeyurl"))
                        s.key_url = NULL;
                else if (streq(w, "nopkgs"))
                        s.packages = empty;
                else if (streq(w, "keyring"))
                        s.repo = (char *) "deb [signed-by=/etc/apt/trusted.gpg] https://download.jitsi.org stable/";
                else if (streq(w, "nosignedby"))
                        s.repo = (char *) "deb https://download.jitsi.org stable/";
                else if (streq(w, "dotdot"))
                        s.repo = (char *) "deb [signed-by=/usr/share/keyrings/../../../etc/shadow] https://download.jitsi.org stable/";
                else if (streq(w, "oci"))
                        s.source = SERVICE_SOURCE_OCI;
                else if (streq(w, "ftp"))
                        s.repo = (char *) "deb [signed-by=/usr/share/keyrings/j.gpg] ftp://download.jitsi.org stable/";
                struct deferred_apt_plan p = {};
                char *why = NULL;
                int r = deferred_apt_plan_make(&s, NULL, 0, "/", &p, &why);
                if (r != -EINVAL || !why || !strstr(why, rows[i].expect))
                        fail_msg("%s: r=%d why=%s", w, r, why ? why : "(none)");
                free(why);
        }
}

static void test_gpg_colons(void **state) {
        /* gpg 2.2's --with-colons --show-keys of a key with a subkey, then a second key */
        static const char out[] =
                "pub:-:255:22:EF8B479E2DC1389C:1700000000:::-:::scSC::::::23::0:\n"
                "fpr:::::::::" FPR ":\n"
                "uid:-::::1700000000::AAAA::Jitsi <dev@jitsi.org>::::::::::0:\n"
                "sub:-:255:18:1111111111111111:1700000000::::::e::::::23:\n"
                "fpr:::::::::0000000000000000000000001111111111111111:\n"
                "pub:-:255:22:D27D666CD88E42B4:1700000000:::-:::scSC::::::23::0:\n"
                "fpr:::::::::46095ACC8548582C1A2699A9D27D666CD88E42B4:\n";
        char **f = NULL;
        assert_int_equal(gpg_colons_fingerprints(out, &f), 0);
        assert_int_equal(strv_length(f), 2);
        assert_string_equal(f[0], FPR);
        assert_string_equal(f[1], "46095ACC8548582C1A2699A9D27D666CD88E42B4");
        strv_free(f);
        /* no key at all: an empty list, not an error */
        assert_int_equal(gpg_colons_fingerprints("gpg: no valid OpenPGP data found.\n", &f), 0);
        assert_null(f[0]);
        strv_free(f);
        /* a subkey's fingerprint alone is no pinned key */
        assert_int_equal(gpg_colons_fingerprints("sub:-:255:18:1111:1::::::e:\nfpr:::::::::" FPR ":\n", &f), 0);
        assert_null(f[0]);
        strv_free(f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_flat_through_mirror_live),
                cmocka_unit_test(test_dists_vendor_other_root),
                cmocka_unit_test(test_refused),
                cmocka_unit_test(test_gpg_colons),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
