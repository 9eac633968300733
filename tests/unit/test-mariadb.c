/* SPDX-License-Identifier: MIT */
/* MariaDB for the applications that support only MySQL/MariaDB (SuiteCRM, Snipe-IT, GLPI): the
 * wiring's mysql consumers and their SQL (firstboot/db-wiring.c), the server's drop-in and the
 * firewall rules (render-mariadb.c), and the consumers' side (render-apps.c: port 3306). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "apps.h"
#include "cleanup.h"
#include "db-wiring.h"
#include "diag.h"
#include "profile.h"
#include "util.h"
#include "wiring.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_native_hash(void **state) {
        /* MySQL's documented value: SELECT PASSWORD('password') */
        _cleanup_free_ char *h = mysql_native_hash("password");
        assert_string_equal(h, "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19");
        _cleanup_free_ char *e = mysql_native_hash("");
        assert_int_equal(strlen(e), 41);
        assert_int_equal(e[0], '*');
}

static void test_plan_and_sql(void **state) {
        static const char text[] =
                "mysql snipe-it lab-it1 10.0.40.18 lab-db1 10.0.40.12\n"
                "mysql glpi lab-it1 10.0.40.18 lab-db1 10.0.40.12\n"
                "mysql suitecrm lab-biz1 10.0.40.16 lab-db1 10.0.40.12\n"
                "postgresql nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12\n"
                "mysql other lab-it1 10.0.40.18 lab-db2 10.0.40.22\n" /* another provider's */
                "mysql snipe-it lab-it1 10.0.40.18 lab-db1 10.0.40.12\n"; /* twice: once */
        struct diags d = {};
        struct wiring w = {};
        assert_int_equal(wiring_parse("wiring", text, &d, &w), 0);
        struct db_wiring p = {};
        assert_int_equal(db_wiring_plan(&w, "lab-db1", &p), 0);
        assert_int_equal(p.n_mysql, 3);
        assert_int_equal(p.n_pg, 1);
        assert_string_equal(p.mysql[0].name, "snipe_it");
        assert_string_equal(p.mysql[0].cred, "db.snipe-it"); /* the same credential a PostgreSQL consumer has */
        assert_string_equal(p.mysql[2].host, "lab-biz1");
        char *hashes[] = { (char *) "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19", (char *) "*AAAA", (char *) "*BBBB" };
        _cleanup_free_ char *sql = db_wiring_mysql_sql(&p, hashes);
        assert_non_null(strstr(sql, "CREATE DATABASE IF NOT EXISTS `snipe_it` CHARACTER SET utf8mb4"));
        assert_non_null(strstr(sql, "CREATE USER IF NOT EXISTS 'snipe_it'@'10.0.40.18' IDENTIFIED BY PASSWORD "
                                    "'*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19';\n"));
        assert_non_null(strstr(sql, "ALTER USER 'snipe_it'@'10.0.40.18' IDENTIFIED BY PASSWORD '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19';\n"));
        assert_non_null(strstr(sql, "GRANT ALL PRIVILEGES ON `snipe_it`.* TO 'snipe_it'@'10.0.40.18';\n"));
        assert_non_null(strstr(sql, "GRANT ALL PRIVILEGES ON `suitecrm`.* TO 'suitecrm'@'10.0.40.16';\n"));
        /* no account from anywhere ('%'), no other provider's consumer, nothing for PostgreSQL's */
        assert_null(strstr(sql, "'%'"));
        assert_null(strstr(sql, "other"));
        assert_null(strstr(sql, "nextcloud"));
        /* PostgreSQL's SQL is not touched by them */
        char *verifiers[] = { (char *) "SCRAM-SHA-256$x" };
        _cleanup_free_ char *pg = db_wiring_sql(&p, verifiers);
        assert_null(strstr(pg, "snipe"));

        _cleanup_free_ char *nft = db_consumers_nft_render(&p);
        assert_non_null(strstr(nft, "table inet rackstack {\n\tchain input {\n"));
        assert_non_null(strstr(nft, "\t\tip saddr 10.0.40.18 tcp dport 3306 accept comment \"MariaDB: snipe-it on lab-it1\"\n"));
        assert_non_null(strstr(nft, "\t\tip saddr 10.0.40.16 tcp dport 3306 accept comment \"MariaDB: suitecrm on lab-biz1\"\n"));
        assert_null(strstr(nft, "10.0.40.13")); /* a PostgreSQL consumer gets no MariaDB */
        assert_null(strstr(nft, "dport 6379")); /* no Redis consumer: Redis's port stays closed */
        db_wiring_done(&p);
        wiring_done(&w);
        diags_done(&d);

        struct db_wiring none = {};
        _cleanup_free_ char *empty = db_consumers_nft_render(&none);
        assert_string_equal(empty, "");
}

/* Redis's port is opened to its consumers the same way: from each one's address only, beside MariaDB's. */
static void test_nft_redis(void **state) {
        static const char text[] = "redis nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12\n"
                                   "redis zammad lab-comm1 10.0.40.14 lab-db1 10.0.40.12\n"
                                   "mysql glpi lab-it1 10.0.40.18 lab-db1 10.0.40.12\n"
                                   "redis other lab-it1 10.0.40.18 lab-db2 10.0.40.22\n"; /* another provider's */
        struct diags d = {};
        struct wiring w = {};
        assert_int_equal(wiring_parse("wiring", text, &d, &w), 0);
        struct db_wiring p = {};
        assert_int_equal(db_wiring_plan(&w, "lab-db1", &p), 0);
        assert_int_equal(p.n_redis, 2);
        _cleanup_free_ char *nft = db_consumers_nft_render(&p);
        assert_non_null(strstr(nft, "\t\tip saddr 10.0.40.13 tcp dport 6379 accept comment \"Redis: nextcloud on lab-app1\"\n"));
        assert_non_null(strstr(nft, "\t\tip saddr 10.0.40.14 tcp dport 6379 accept comment \"Redis: zammad on lab-comm1\"\n"));
        assert_non_null(strstr(nft, "\t\tip saddr 10.0.40.18 tcp dport 3306 accept comment \"MariaDB: glpi on lab-it1\"\n"));
        assert_null(strstr(nft, "10.0.40.18 tcp dport 6379")); /* lab-it1 uses MariaDB here, not Redis */
        assert_null(strstr(nft, "dport 6379 accept comment \"Redis\"")); /* never open to everyone */
        db_wiring_done(&p);
        wiring_done(&w);
        diags_done(&d);
}

static void test_cnf(void **state) {
        _cleanup_free_ char *c = mariadb_cnf_render("127.0.0.1,10.0.40.12", (32ull << 30) / 100 * 5);
        assert_non_null(strstr(c, "[mysqld]\nbind-address = 127.0.0.1,10.0.40.12\n"));
        assert_non_null(strstr(c, "\nskip-name-resolve\n"));
        assert_non_null(strstr(c, "\ninnodb_buffer_pool_size = "));
        _cleanup_free_ char *l = mariadb_cnf_render("127.0.0.1", 0);
        assert_non_null(strstr(l, "bind-address = 127.0.0.1\n"));
        assert_null(strstr(l, "innodb_buffer_pool_size")); /* no share: the package's default */
}

static const struct service_spec *svc(const struct profile *p, const char *name) {
        for (size_t i = 0; i < p->n_services; i++)
                if (streq(p->services[i].name, name))
                        return &p->services[i];
        fail_msg("no service %s", name);
        return NULL;
}

/* The consumers: the seed's profiles put them on MariaDB, and their environment says so. */
static void test_consumers(void **state) {
        struct diags d = {};
        struct profile *it = NULL, *biz = NULL, *db = NULL;
        struct site *s = NULL;
        assert_int_equal(profile_load("profiles", "it", &d, &it), 0);
        assert_int_equal(profile_load("profiles", "biz", &d, &biz), 0);
        assert_int_equal(profile_load("profiles", "db", &d, &db), 0);
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        assert_true(strv_contains(svc(it, "snipe-it")->needs, "mysql"));
        assert_true(strv_contains(svc(it, "glpi")->needs, "mysql"));
        assert_true(strv_contains(svc(biz, "suitecrm")->needs, "mysql"));
        assert_false(strv_contains(svc(it, "snipe-it")->needs, "postgresql"));
        /* the provider, from the distribution */
        const struct service_spec *m = svc(db, "mariadb");
        assert_int_equal(m->source, SERVICE_SOURCE_DISTRO);
        assert_string_equal(m->unit, "mariadb.service");
        for (size_t i = 0; i < db->n_ports; i++)
                assert_int_not_equal(db->ports[i].port, 3306); /* not open to everyone */
        assert_string_equal(wiring_provider_service("mysql"), "mariadb");

        char *creds[] = { (char *) "db.snipe-it", NULL };
        struct vj_entry e = { .name = (char *) "snipe-it", .source = SERVICE_SOURCE_OCI,
                              .image = (char *) "docker.io/snipe/snipe-it:latest", .digest = (char *) "sha256:" D64 };
        struct app_inputs in = { .profile = it, .site = s, .host = site_find_host(s, "lab-it1"),
                                 .service = svc(it, "snipe-it"), .vendor = &e, .ram = 8ull << 30, .credentials = creds };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_TYPE=mysql\n"));
        assert_non_null(strstr(p.env, "\nRACKSTACK_DB_PORT=3306\n"));
        assert_non_null(strstr(p.env, "\nDB_CONNECTION=mysql\n"));
        assert_non_null(strstr(p.env, "\nDB_HOST=10.0.40.12\n"));
        assert_non_null(strstr(p.env, "\nDB_PORT=3306\n"));
        assert_non_null(strstr(p.env, "\nDB_DATABASE=snipe_it\n"));
        assert_non_null(strstr(p.env, "\nAPP_URL=https://assets.domain.com\n"));
        assert_int_equal(p.n_secrets, 1);
        assert_string_equal(p.secrets[0].env, "DB_PASSWORD"); /* a podman secret, never in the file */
        assert_null(strstr(p.env, "PASSWORD="));
        app_plan_done(&p);

        struct vj_entry se = { .name = (char *) "suitecrm", .source = SERVICE_SOURCE_OCI,
                               .image = (char *) "docker.io/bitnami/suitecrm:8", .digest = (char *) "sha256:" D64 };
        char *screds[] = { (char *) "db.suitecrm", NULL };
        struct app_inputs sin = { .profile = biz, .site = s, .service = svc(biz, "suitecrm"), .vendor = &se,
                                  .ram = 8ull << 30, .credentials = screds };
        _cleanup_free_ char *why2 = NULL;
        assert_int_equal(app_plan_make(&sin, &p, &why2), 0);
        assert_non_null(strstr(p.env, "\nSUITECRM_DATABASE_PORT_NUMBER=3306\n"));
        assert_non_null(strstr(p.env, "\nSUITECRM_DATABASE_PASSWORD_FILE=/run/secrets/db-password\n"));
        app_plan_done(&p);
        profile_free(it);
        profile_free(biz);
        profile_free(db);
        site_free(s);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_native_hash),
                cmocka_unit_test(test_plan_and_sql),
                cmocka_unit_test(test_nft_redis),
                cmocka_unit_test(test_cnf),
                cmocka_unit_test(test_consumers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
