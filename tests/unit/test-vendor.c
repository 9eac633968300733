/* SPDX-License-Identifier: MIT */
/* common/vendor.c: fingerprints and digests, the mirror mapping, apt source lines, vendor.json. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "profile.h"
#include "util.h"
#include "vendor.h"
#include "vendor-stage.h"

static void test_fingerprint(void **state) {
        char *f = NULL;
        assert_int_equal(openpgp_fingerprint_normalize("66a9 CD05 95D6 AFA2 4729  0D3B EF8B 479E 2DC1 389c", &f), 0);
        assert_string_equal(f, "66A9CD0595D6AFA247290D3BEF8B479E2DC1389C");
        free(f);
        assert_int_equal(openpgp_fingerprint_normalize("EF8B479E2DC1389C", &f), -EINVAL);           /* a key ID */
        assert_int_equal(openpgp_fingerprint_normalize("66A9CD0595D6AFA247290D3BEF8B479E2DC1389C00", &f), -EINVAL);
        assert_int_equal(openpgp_fingerprint_normalize("G6A9CD0595D6AFA247290D3BEF8B479E2DC1389C", &f), -EINVAL);
        assert_true(oci_digest_valid("sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_false(oci_digest_valid("sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_false(oci_digest_valid("sha512:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
        assert_false(oci_digest_valid("sha256:0123"));
}

static void test_mirror_map(void **state) {
        struct mirror_map m[4] = {};
        assert_int_equal(mirror_map_parse_arg("docker.io=http://127.0.0.1:5000", &m[0]), 0);
        assert_int_equal(mirror_map_parse_arg("https://download.jitsi.org=http://127.0.0.1:8080/jitsi/", &m[1]), 0);
        assert_int_equal(mirror_map_parse_arg("docker.io/library=https://lib.mirror.example", &m[2]), 0);
        assert_int_equal(mirror_map_parse_arg("quay.io=registry.example:5000", &m[3]), 0);
        struct mirror_map bad = {};
        assert_int_equal(mirror_map_parse_arg("docker.io", &bad), -EINVAL);
        assert_int_equal(mirror_map_parse_arg("=http://x", &bad), -EINVAL);
        assert_int_equal(mirror_map_parse_arg("docker.io=ftp://x", &bad), -EINVAL);
        assert_int_equal(mirror_map_parse_arg("docker.io=http://", &bad), -EINVAL);

        char *r = NULL;
        bool tls = true;
        const struct mirror_map *used = NULL;
        /* the longest prefix wins, at a path boundary */
        assert_int_equal(mirror_map_image(m, 4, "docker.io/mattermost/mattermost-team-edition:9.3", &r, &tls, &used), 0);
        assert_string_equal(r, "127.0.0.1:5000/mattermost/mattermost-team-edition:9.3");
        assert_false(tls);
        assert_ptr_equal(used, &m[0]);
        free(r);
        assert_int_equal(mirror_map_image(m, 4, "docker.io/library/nextcloud:28-fpm", &r, &tls, &used), 0);
        assert_string_equal(r, "lib.mirror.example/nextcloud:28-fpm");
        assert_true(tls);
        free(r);
        assert_int_equal(mirror_map_image(m, 4, "quay.io/keycloak/keycloak:24.0", &r, &tls, &used), 0);
        assert_string_equal(r, "registry.example:5000/keycloak/keycloak:24.0");
        assert_true(tls);
        free(r);
        /* "docker.io" is no prefix of "docker.iox/..." */
        assert_int_equal(mirror_map_image(m, 4, "docker.iox/a/b:1", &r, &tls, &used), 0);
        assert_string_equal(r, "docker.iox/a/b:1");
        assert_null(used);
        free(r);
        assert_int_equal(mirror_map_url(m, 4, "https://download.jitsi.org/jitsi-key.gpg.key", &r, &used), 0);
        assert_string_equal(r, "http://127.0.0.1:8080/jitsi/jitsi-key.gpg.key");
        free(r);
        assert_int_equal(mirror_map_url(m, 4, "https://download.jitsi.org", &r, &used), 0);
        assert_string_equal(r, "http://127.0.0.1:8080/jitsi");
        free(r);
        assert_int_equal(mirror_map_url(m, 4, "https://download.jitsi.organic/x", &r, &used), 0);
        assert_string_equal(r, "https://download.jitsi.organic/x");
        assert_null(used);
        free(r);
        for (size_t i = 0; i < 4; i++)
                mirror_map_done(&m[i]);
}

static void test_apt_source(void **state) {
        _cleanup_(apt_source_done) struct apt_source flat = {}, dists = {}, dot = {};
        assert_int_equal(apt_source_parse("deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] https://download.jitsi.org stable/", &flat), 0);
        assert_string_equal(flat.signed_by, "/usr/share/keyrings/jitsi-keyring.gpg");
        assert_string_equal(flat.suite, "stable/");
        assert_null(flat.components[0]);
        _cleanup_free_ char *u1 = apt_source_inrelease_url(&flat, "http://127.0.0.1:8080/jitsi/");
        assert_string_equal(u1, "http://127.0.0.1:8080/jitsi/stable/InRelease");
        _cleanup_free_ char *l1 = apt_source_line(&flat, "http://m/j");
        assert_string_equal(l1, "deb [signed-by=/usr/share/keyrings/jitsi-keyring.gpg] http://m/j stable/");

        assert_int_equal(apt_source_parse("deb [arch=amd64 signed-by=/usr/share/keyrings/grafana.gpg] https://apt.grafana.com/ stable main", &dists), 0);
        assert_string_equal(dists.url, "https://apt.grafana.com");
        assert_string_equal(dists.components[0], "main");
        _cleanup_free_ char *u2 = apt_source_inrelease_url(&dists, dists.url);
        assert_string_equal(u2, "https://apt.grafana.com/dists/stable/InRelease");
        _cleanup_free_ char *l2 = apt_source_line(&dists, dists.url);
        assert_string_equal(l2, "deb [arch=amd64 signed-by=/usr/share/keyrings/grafana.gpg] https://apt.grafana.com stable main");

        assert_int_equal(apt_source_parse("deb [signed-by=/usr/share/keyrings/odoo-archive-keyring.gpg] https://nightly.odoo.com/17.0/nightly/deb/ ./", &dot), 0);
        _cleanup_free_ char *u3 = apt_source_inrelease_url(&dot, dot.url);
        assert_string_equal(u3, "https://nightly.odoo.com/17.0/nightly/deb/./InRelease");

        struct apt_source bad = {};
        assert_int_equal(apt_source_parse("deb https://a stable main", &bad), -EINVAL);                       /* no signed-by */
        assert_int_equal(apt_source_parse("deb [signed-by=/etc/apt/k.gpg] https://a stable main", &bad), -EINVAL);
        assert_int_equal(apt_source_parse("deb [signed-by=/usr/share/keyrings/k.gpg] https://a stable", &bad), -EINVAL);
        assert_int_equal(apt_source_parse("deb [signed-by=/usr/share/keyrings/k.gpg] ftp://a stable main", &bad), -EINVAL);
}

static void test_vendor_json(void **state) {
        char *pk[] = { (char *) "jitsi-meet", NULL };
        struct service_spec oci = { .name = (char *) "nextcloud", .source = SERVICE_SOURCE_OCI,
                                    .image = (char *) "docker.io/library/nextcloud:28-fpm", .version = (char *) "28" };
        struct service_spec apt = { .name = (char *) "jitsi-meet", .source = SERVICE_SOURCE_APT, .packages = pk,
                                    .repo = (char *) "deb [signed-by=/usr/share/keyrings/j.gpg] https://download.jitsi.org stable/",
                                    .key_fingerprint = (char *) "66A9CD0595D6AFA247290D3BEF8B479E2DC1389C" };
        struct vendor_pkg vp = { .name = (char *) "jitsi-meet", .version = (char *) "2.0.9" };
        struct vendor_entry e[2] = {
                { .service = &oci, .state = VENDOR_IN_IMAGE, .digest = (char *) "sha256:ab", .size = 123 },
                { .service = &apt, .state = VENDOR_DEFERRED, .reason = "built with --defer-vendor" },
        };
        _cleanup_free_ char *j = vendor_json_render(e, 2, false);
        assert_non_null(j);
        assert_non_null(strstr(j, "{\"services\":[{\"name\":\"nextcloud\",\"source\":\"oci\",\"image\":"
                                  "\"docker.io/library/nextcloud:28-fpm\",\"digest\":\"sha256:ab\",\"pinned\":false,"
                                  "\"size\":123,\"version\":\"28\",\"state\":\"in-image\"}"));
        assert_non_null(strstr(j, "\"packages\":{\"jitsi-meet\":null}"));
        assert_non_null(strstr(j, "\"state\":\"deferred\",\"reason\":\"built with --defer-vendor\""));
        e[1].state = VENDOR_IN_IMAGE;
        e[1].reason = NULL;
        e[1].pkgs = &vp;
        e[1].n_pkgs = 1;
        _cleanup_free_ char *j2 = vendor_json_render(e, 2, false);
        assert_non_null(strstr(j2, "\"key_fingerprint\":\"66A9CD0595D6AFA247290D3BEF8B479E2DC1389C\""));
        assert_non_null(strstr(j2, "\"packages\":{\"jitsi-meet\":\"2.0.9\"}"));
        _cleanup_free_ char *none = vendor_json_render(NULL, 0, false);
        assert_string_equal(none, "{\"services\":[]}");
}

/* rackstack-build build --vendor-check's lines (tests/integration/test-vendor-plan.sh reads them). */
static void test_vendor_check_render(void **state) {
        struct service_spec oci = { .name = (char *) "nextcloud", .source = SERVICE_SOURCE_OCI,
                                    .image = (char *) "docker.io/library/nextcloud:28-fpm" };
        struct service_spec apt = { .name = (char *) "jitsi-meet", .source = SERVICE_SOURCE_APT,
                                    .repo = (char *) "deb [signed-by=/usr/share/keyrings/j.gpg] https://download.jitsi.org stable/" };
        struct service_spec late = { .name = (char *) "odoo", .source = SERVICE_SOURCE_APT, .repo = (char *) "deb x ./" };
        struct vendor_entry e[3] = {
                { .service = &oci, .state = VENDOR_IN_IMAGE, .digest = (char *) "sha256:ab", .pinned = true,
                  .mirror = (char *) "http://127.0.0.1:5000/docker.io/library/nextcloud:28-fpm" },
                { .service = &apt, .state = VENDOR_IN_IMAGE, .fingerprint = (char *) "66A9", .release_sha256 = (char *) "cd" },
                { .service = &late, .state = VENDOR_DEFERRED, .reason = "fetch: firstboot in the profile" },
        };
        struct build_ctx ctx = { .vendor = e, .n_vendor = 3 };
        _cleanup_free_ char *r = vendor_check_render(&ctx);
        assert_string_equal(r, "nextcloud in-image oci docker.io/library/nextcloud:28-fpm "
                               "via=http://127.0.0.1:5000/docker.io/library/nextcloud:28-fpm pin=digest:sha256:ab:pinned\n"
                               "jitsi-meet in-image apt deb [signed-by=/usr/share/keyrings/j.gpg] https://download.jitsi.org "
                               "stable/ via=- pin=key:66A9 inrelease=cd\n"
                               "odoo deferred apt deb x ./ via=- pin=none reason=\"fetch: firstboot in the profile\"\n");
        e[0].pinned = false;
        ctx.n_vendor = 1;
        _cleanup_free_ char *r1 = vendor_check_render(&ctx);
        assert_non_null(strstr(r1, " pin=digest:sha256:ab:unpinned\n"));
        ctx.n_vendor = 0;
        _cleanup_free_ char *r0 = vendor_check_render(&ctx);
        assert_string_equal(r0, "");
}

static void test_site_mirrors(void **state) {
        static const char site[] =
                "domain: d.example\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: infra, subnet: 10.0.50.0/24 }\n"
                "hosts:\n  - { name: h1, role: db, addresses: { 20: 10.0.50.2 } }\n"
                "mirrors:\n  - { from: docker.io, to: \"http://127.0.0.1:5000\" }\n"
                "  - { from: \"https://download.jitsi.org\", to: \"ftp://x\" }\n"
                "  - { from: docker.io, to: \"http://b\" }\n";
        struct diags d = {};
        struct site *s = NULL;
        assert_int_equal(site_load_buffer("site.yaml", site, strlen(site), &d, &s), -EINVAL);
        _cleanup_free_ char *text = diags_text(&d);
        assert_non_null(strstr(text, "site.yaml:9:5: error: mirror 'https://download.jitsi.org' -> 'ftp://x': to must be an http:// or https:// URL"));
        assert_non_null(strstr(text, "site.yaml:10:13: error: mirror for 'docker.io' given twice (first at line 8)"));
        diags_done(&d);
        static const char good[] =
                "domain: d.example\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: infra, subnet: 10.0.50.0/24 }\n"
                "hosts:\n  - { name: h1, role: db, addresses: { 20: 10.0.50.2 } }\n"
                "mirrors:\n  - { from: docker.io, to: \"http://127.0.0.1:5000\" }\n";
        assert_int_equal(site_load_buffer("site.yaml", good, strlen(good), &d, &s), 0);
        assert_int_equal(s->n_mirrors, 1);
        assert_string_equal(s->mirrors[0].to, "http://127.0.0.1:5000");
        assert_int_equal(s->mirrors[0].src.line, 8);
        site_free(s);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fingerprint),
                cmocka_unit_test(test_mirror_map),
                cmocka_unit_test(test_apt_source),
                cmocka_unit_test(test_vendor_json),
                cmocka_unit_test(test_vendor_check_render),
                cmocka_unit_test(test_site_mirrors),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
