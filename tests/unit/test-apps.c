/* SPDX-License-Identifier: MIT */
/* Vendor applications: vendor.json read as INTERFACES.md writes it, and each application's plan and
 * units rendered from the seed's profiles and site: image by digest, ports, data on the role's
 * data disk, the memory share as MemoryMax, configuration from the site, secrets by reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps.h"
#include "cleanup.h"
#include "profile.h"
#include "render.h"
#include "util.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static const char good_json[] =
        "{\"services\":[\n"
        " {\"name\":\"nextcloud\",\"source\":\"oci\",\"image\":\"docker.io/library/nextcloud:28-fpm\",\n"
        "  \"digest\":\"sha256:" D64 "\",\"size\":123,\"state\":\"in-image\"},\n"
        " {\"name\":\"jitsi-meet\",\"source\":\"apt\",\"repo\":\"deb [signed-by=/usr/share/keyrings/j.gpg] "
        "https://download.jitsi.org stable/\",\"key_fingerprint\":\"" "0123456789ABCDEF0123456789ABCDEF01234567" "\",\n"
        "  \"packages\":{\"jitsi-meet\":\"2.0.9\"},\"state\":\"deferred\"}]}\n";

static void test_vendor_parse(void **state) {
        struct vendor_json m = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(vendor_json_parse(good_json, strlen(good_json), &m, &why), 0);
        assert_int_equal(m.n, 2);
        const struct vj_entry *e = vendor_json_find(&m, "nextcloud");
        assert_non_null(e);
        assert_int_equal(e->source, SERVICE_SOURCE_OCI);
        assert_int_equal(e->state, VJ_IN_IMAGE);
        assert_string_equal(e->digest, "sha256:" D64);
        e = vendor_json_find(&m, "jitsi-meet");
        assert_int_equal(e->source, SERVICE_SOURCE_APT);
        assert_int_equal(e->state, VJ_DEFERRED);
        assert_string_equal(e->key_fingerprint, "0123456789ABCDEF0123456789ABCDEF01234567");
        assert_null(vendor_json_find(&m, "odoo"));
        vendor_json_done(&m);

        static const char empty[] = "{\"services\":[]}";
        assert_int_equal(vendor_json_parse(empty, strlen(empty), &m, &why), 0);
        assert_int_equal(m.n, 0);
        vendor_json_done(&m);
}

static void test_vendor_parse_bad(void **state) {
        static const char *const bad[] = {
                /* an in-image OCI image must be pinned: short digest, no digest, md5 */
                "{\"services\":[{\"name\":\"x\",\"source\":\"oci\",\"image\":\"a/b:1\",\"digest\":\"sha256:abc\",\"state\":\"in-image\"}]}",
                "{\"services\":[{\"name\":\"x\",\"source\":\"oci\",\"image\":\"a/b:1\",\"state\":\"in-image\"}]}",
                "{\"services\":[{\"name\":\"x\",\"source\":\"oci\",\"image\":\"a/b:1\",\"digest\":\"md5:" D64 "\",\"state\":\"in-image\"}]}",
                "{\"services\":[{\"name\":\"x\",\"source\":\"oci\",\"image\":\"a/b:1\",\"digest\":\"sha256:" D64 "\",\"state\":\"maybe\"}]}",
                "{\"services\":[{\"name\":\"x\",\"source\":\"pip\",\"state\":\"deferred\"}]}",
                "{\"services\":[{\"source\":\"apt\",\"state\":\"deferred\"}]}",
                "{\"services\":{}}",
                "{\"services\":[",
        };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                struct vendor_json m = {};
                _cleanup_free_ char *why = NULL;
                assert_int_equal(vendor_json_parse(bad[i], strlen(bad[i]), &m, &why), -EBADMSG);
                assert_non_null(why);
        }
        /* a deferred image needs no digest yet */
        static const char deferred[] =
                "{\"services\":[{\"name\":\"x\",\"source\":\"oci\",\"image\":\"a/b:1\",\"state\":\"deferred\"}]}";
        struct vendor_json m = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(vendor_json_parse(deferred, strlen(deferred), &m, &why), 0);
        vendor_json_done(&m);
}

static void test_image_pinned(void **state) {
        static const struct { const char *in, *out; } t[] = {
                { "docker.io/library/nextcloud:28-fpm", "docker.io/library/nextcloud@sha256:" D64 },
                { "quay.io/keycloak/keycloak:24.0", "quay.io/keycloak/keycloak@sha256:" D64 },
                { "127.0.0.1:5000/standin/web:1", "127.0.0.1:5000/standin/web@sha256:" D64 },
                { "127.0.0.1:5000/standin/web", "127.0.0.1:5000/standin/web@sha256:" D64 },
                { "docker.io/a/b@sha256:" D64, "docker.io/a/b@sha256:" D64 },
        };
        for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
                _cleanup_free_ char *p = image_pinned(t[i].in, "sha256:" D64);
                assert_string_equal(p, t[i].out);
        }
}

struct fixture {
        struct profile *p;
        struct site *s;
};

static void load(const char *role, struct fixture *f) {
        struct diags d = {};
        int r = profile_load("profiles", role, &d, &f->p);
        if (r >= 0)
                r = site_load_file("profiles/site.yaml", &d, &f->s);
        if (r < 0)
                diags_print(&d, stderr);
        assert_int_equal(r, 0);
        diags_done(&d);
}

static void unload(struct fixture *f) {
        profile_free(f->p);
        site_free(f->s);
}

static const struct service_spec *svc(const struct profile *p, const char *name) {
        for (size_t i = 0; i < p->n_services; i++)
                if (streq(p->services[i].name, name))
                        return &p->services[i];
        fail_msg("no service %s", name);
        return NULL;
}

static struct vj_entry nc_entry = {
        .name = (char *) "nextcloud", .source = SERVICE_SOURCE_OCI,
        .image = (char *) "docker.io/library/nextcloud:28-fpm", .digest = (char *) "sha256:" D64,
};

static void test_nextcloud_plan(void **state) {
        struct fixture f = {};
        load("app", &f);
        char *creds[] = { (char *) "db.nextcloud", (char *) "redis", (char *) "admin.mattermost", NULL };
        struct app_inputs in = {
                .profile = f.p, .site = f.s, .host = site_find_host(f.s, "lab-app1"), .service = svc(f.p, "nextcloud"),
                .vendor = &nc_entry, .ram = 24ull << 30, .have_quadlet = true, .credentials = creds,
        };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_string_equal(p.image, "docker.io/library/nextcloud@sha256:" D64);
        assert_string_equal(p.data_host, "/srv/nextcloud"); /* the nextcloud disk's mount */
        assert_string_equal(p.data_container, "/var/www/html");
        assert_string_equal(p.fqdn, "cloud.domain.com");
        assert_int_equal(p.memory_max, (24ull << 30) / 100 * 30);
        /* From the site: the db host's database-VLAN address, mail through the comm host. */
        assert_non_null(strstr(p.env, "\nPOSTGRES_HOST=10.0.40.12\n"));
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_HOST=10.0.40.12\n"));
        assert_non_null(strstr(p.env, "\nREDIS_HOST=10.0.40.12\n"));
        assert_non_null(strstr(p.env, "\nSMTP_HOST=10.0.50.14\n"));
        assert_non_null(strstr(p.env, "\nOVERWRITECLIURL=https://cloud.domain.com\n"));
        assert_non_null(strstr(p.env, "\nPOSTGRES_DB=nextcloud\n"));
        assert_non_null(strstr(p.env, "\nPOSTGRES_PASSWORD_FILE=/run/secrets/db-password\n"));
        /* no admin.nextcloud: no admin lines; someone else's credential is not its own */
        assert_null(strstr(p.env, "NEXTCLOUD_ADMIN"));
        assert_int_equal(p.n_secrets, 2);
        assert_string_equal(p.secrets[0].credential, "db.nextcloud");
        assert_string_equal(p.secrets[0].podman, "rackstack-nextcloud-db");
        assert_null(p.secrets[0].env);
        assert_string_equal(p.secrets[1].credential, "redis");
        assert_string_equal(p.secrets[1].env, "REDIS_HOST_PASSWORD");

        _cleanup_free_ char *q = app_quadlet_render(&p), *u = NULL;
        assert_non_null(strstr(q, "\nImage=docker.io/library/nextcloud@sha256:" D64 "\n"));
        assert_non_null(strstr(q, "\nVolume=/srv/nextcloud:/var/www/html\n"));
        assert_non_null(strstr(q, "\nEnvironmentFile=/etc/rackstack/apps/nextcloud.env\n"));
        assert_non_null(strstr(q, "\nSecret=rackstack-nextcloud-db,type=mount,target=db-password\n"));
        assert_non_null(strstr(q, "\nSecret=rackstack-nextcloud-redis,type=env,target=REDIS_HOST_PASSWORD\n"));
        assert_non_null(strstr(q, "\nRestart=always\n"));
        assert_non_null(strstr(q, "\nRequiresMountsFor=/srv/nextcloud\n"));
        assert_non_null(strstr(q, "\nWantedBy=multi-user.target\n"));
        assert_null(strstr(q, "PublishPort")); /* FastCGI only: nginx on the host fronts it */
        p.quadlet = false;
        u = app_podman_unit_render(&p);
        assert_non_null(strstr(u, " --pull=never "));
        assert_non_null(strstr(u, " --volume /srv/nextcloud:/var/www/html "));
        assert_non_null(strstr(u, " --secret rackstack-nextcloud-db,type=mount,target=db-password "));
        assert_non_null(strstr(u, " docker.io/library/nextcloud@sha256:" D64 "\n"));
        assert_non_null(strstr(u, "\nType=notify\n"));
        assert_non_null(strstr(u, "\nDelegate=yes\n"));
        assert_non_null(strstr(u, "\nMemoryMax="));
        app_plan_done(&p);
        unload(&f);
}

static void test_mattermost_plan(void **state) {
        struct fixture f = {};
        load("app", &f);
        struct vj_entry e = { .name = (char *) "mattermost", .source = SERVICE_SOURCE_OCI,
                                  .image = (char *) "docker.io/mattermost/mattermost-team-edition:9.3",
                                  .digest = (char *) "sha256:" D64 };
        struct app_inputs in = { .profile = f.p, .site = f.s, .service = svc(f.p, "mattermost"), .vendor = &e,
                                 .ram = 8ull << 30 };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_string_equal(p.data_host, "/srv/apps/mattermost"); /* the appdata disk */
        assert_int_equal(p.n_ports, 1);
        assert_int_equal(p.health_port, 8065);
        assert_string_equal(p.health_path, "/api/v4/system/ping");
        assert_int_equal(p.n_secrets, 0);
        assert_non_null(strstr(p.env, "\nMM_SERVICESETTINGS_SITEURL=https://chat.domain.com\n"));
        _cleanup_free_ char *q = app_quadlet_render(&p);
        assert_non_null(strstr(q, "\nPublishPort=8065:8065\n"));
        assert_null(strstr(q, "Secret="));
        app_plan_done(&p);

        /* No digest: no plan (an image runs pinned or not at all). */
        e.digest = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), -EINVAL);
        assert_non_null(strstr(why, "digest"));
        unload(&f);
}

static void test_odoo_apt_plan(void **state) {
        struct fixture f = {};
        load("erp", &f);
        char *creds[] = { (char *) "db.odoo", NULL };
        struct app_inputs in = { .profile = f.p, .site = f.s, .service = svc(f.p, "odoo"), .ram = 16ull << 30,
                                 .credentials = creds };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_string_equal(p.data_host, "/var/lib/odoo"); /* the appdata disk's mount */
        assert_null(p.image);
        assert_string_equal(p.health_path, "/web/health");
        assert_int_equal(p.health_port, 8069);
        assert_non_null(strstr(p.env, "\nRACKSTACK_URL=https://erp.domain.com\n"));
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_PASSWORD_FILE=/run/credentials/odoo.service/db-password\n"));
        _cleanup_free_ char *dr = app_dropin_render(&p);
        assert_non_null(strstr(dr, "\nLoadCredential=db-password:/etc/rackstack/credstore/db.odoo\n"));
        assert_non_null(strstr(dr, "\nEnvironmentFile=/etc/rackstack/apps/odoo.env\n"));
        /* odoo.conf: the package's own file holds the password (Odoo reads nothing else); the
         * plan has its template, the value goes in at first boot. */
        assert_int_equal(p.n_secrets, 2);
        const struct app_secret *conf = &p.secrets[1];
        assert_string_equal(conf->file, "/etc/odoo/odoo.conf");
        assert_string_equal(conf->credential, "db.odoo");
        assert_non_null(strstr(conf->compose, "\ndb_host = 10.0.40.12\n"));
        assert_non_null(strstr(conf->compose, "\ndb_user = odoo\n"));
        assert_non_null(strstr(conf->compose, "\ndata_dir = /var/lib/odoo\n"));
        assert_non_null(strstr(conf->compose, "\ndb_password = {password}\n"));
        assert_null(strstr(dr, "odoo.conf")); /* no LoadCredential for the file */
        _cleanup_free_ char *v = NULL;
        assert_int_equal(app_secret_compose(conf->compose, "s3cr%t\n", 7, &v), 0);
        assert_non_null(strstr(v, "\ndb_password = s3cr%t\n"));
        assert_null(strstr(p.env, "s3cr"));
        assert_null(strstr(dr, "s3cr"));
        app_plan_done(&p);
        unload(&f);
}

/* Mattermost reads its database password only inside MM_SQLSETTINGS_DATASOURCE: the whole DSN is a
 * podman secret (type=env), composed at first boot; no unit or environment file has it. */
static void test_mattermost_dsn(void **state) {
        struct fixture f = {};
        load("app", &f);
        struct vj_entry e = { .name = (char *) "mattermost", .source = SERVICE_SOURCE_OCI,
                                  .image = (char *) "docker.io/mattermost/mattermost-team-edition:9.3",
                                  .digest = (char *) "sha256:" D64 };
        char *creds[] = { (char *) "db.mattermost", NULL };
        struct app_inputs in = { .profile = f.p, .site = f.s, .service = svc(f.p, "mattermost"), .vendor = &e,
                                 .ram = 8ull << 30, .have_quadlet = true, .credentials = creds };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_int_equal(p.n_secrets, 2);
        const struct app_secret *dsn = &p.secrets[1];
        assert_string_equal(dsn->podman, "rackstack-mattermost-dsn");
        assert_string_equal(dsn->env, "MM_SQLSETTINGS_DATASOURCE");
        assert_null(dsn->file);
        assert_string_equal(dsn->compose, "postgres://mattermost:{password_url}@10.0.40.12:5432/mattermost"
                                          "?sslmode=disable&connect_timeout=10");
        const char pw[] = "p@ss:w/rd%41 x\n";
        _cleanup_free_ char *v = NULL;
        assert_int_equal(app_secret_compose(dsn->compose, pw, strlen(pw), &v), 0);
        assert_string_equal(v, "postgres://mattermost:p%40ss%3Aw%2Frd%2541%20x@10.0.40.12:5432/mattermost"
                               "?sslmode=disable&connect_timeout=10");
        _cleanup_free_ char *q = app_quadlet_render(&p), *u = app_podman_unit_render(&p);
        assert_non_null(strstr(q, "\nSecret=rackstack-mattermost-dsn,type=env,target=MM_SQLSETTINGS_DATASOURCE\n"));
        assert_non_null(strstr(u, " --secret rackstack-mattermost-dsn,type=env,target=MM_SQLSETTINGS_DATASOURCE "));
        assert_null(strstr(p.env, "MM_SQLSETTINGS_DATASOURCE"));
        assert_null(strstr(p.env, "p@ss"));
        assert_null(strstr(q, "p@ss"));
        assert_null(strstr(u, "p@ss"));
        /* A control character would break the line: refused, nothing composed. */
        char *none = NULL;
        assert_int_equal(app_secret_compose(dsn->compose, "a\nb", 3, &none), -EINVAL);
        assert_null(none);
        app_plan_done(&p);

        /* No database host in the site: no DSN (not one pointing nowhere). */
        in.site = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_int_equal(p.n_secrets, 1);
        app_plan_done(&p);
        unload(&f);
}

/* A service the table does not know (a stand-in) still gets the site's facts. */
static void test_unknown_plan(void **state) {
        struct fixture f = {};
        load("app", &f);
        uint16_t ports[] = { 8099 };
        struct service_spec s = { .name = (char *) "standin-web", .source = SERVICE_SOURCE_OCI,
                                  .image = (char *) "127.0.0.1:5000/standin/web:1", .ports = ports, .n_ports = 1,
                                  .memory = 64ull << 20 };
        struct vj_entry e = { .name = s.name, .source = SERVICE_SOURCE_OCI, .image = s.image,
                                  .digest = (char *) "sha256:" D64 };
        char *creds[] = { (char *) "db.standin-web", NULL };
        struct app_inputs in = { .profile = f.p, .site = f.s, .service = &s, .vendor = &e, .ram = 1ull << 30,
                                 .credentials = creds };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_string_equal(p.unit, "standin-web.service");
        assert_string_equal(p.data_host, "/srv/apps/standin-web");
        assert_null(p.health_path);
        assert_int_equal(p.health_port, 8099);
        assert_int_equal(p.memory_max, 64ull << 20);
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_NAME=standin_web\n"));
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_PASSWORD_FILE=/run/secrets/db-password\n"));
        assert_null(strstr(p.env, "RACKSTACK_URL")); /* no route for it */
        app_plan_done(&p);
        unload(&f);
}

/* Containers are routed: the app role's firewall forwards to and from podman's bridge, the db
 * role's (no containers) forwards nothing. */
static void test_nft_containers(void **state) {
        struct fixture f = {};
        load("app", &f);
        _cleanup_free_ char *t = nft_render(f.p, NULL);
        assert_non_null(strstr(t, "\t\tct status dnat accept"));
        assert_non_null(strstr(t, "\t\tiifname \"podman*\" accept"));
        unload(&f);
        load("db", &f);
        _cleanup_free_ char *d = nft_render(f.p, NULL);
        assert_null(strstr(d, "dnat"));
        assert_null(strstr(d, "podman"));
        unload(&f);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vendor_parse),   cmocka_unit_test(test_vendor_parse_bad),
                cmocka_unit_test(test_image_pinned),   cmocka_unit_test(test_nextcloud_plan),
                cmocka_unit_test(test_mattermost_plan), cmocka_unit_test(test_odoo_apt_plan),
                cmocka_unit_test(test_unknown_plan),    cmocka_unit_test(test_nft_containers),
                cmocka_unit_test(test_mattermost_dsn),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
