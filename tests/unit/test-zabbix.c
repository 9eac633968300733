/* SPDX-License-Identifier: MIT */
/* The Zabbix server on comm (firstboot/zabbix.h): where its database is (the site's own wiring),
 * its rendered files, and the API plan: requests, responses, every call's parameters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "join.h"
#include "profile.h"
#include "util.h"
#include "wiring.h"
#include "zabbix.h"

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

/* The repository's site and profiles: lab-comm1's zabbix-server is a PostgreSQL consumer of lab-db1. */
static void test_site_wiring(void **state) {
        static const char *roles[] = { "infra", "db", "app", "comm", "erp", "biz", "it", "voip", "id" };
        struct diags d = {};
        _cleanup_(site_freep) struct site *site = NULL;
        struct profile *p[16] = {};
        size_t n = 0;
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &site), 0);
        for (size_t i = 0; i < ELEMENTSOF(roles); i++)
                assert_int_equal(profile_load("profiles", roles[i], &d, &p[n++]), 0);
        diags_done(&d);
        struct wiring w = {};
        char *err = NULL;
        assert_int_equal(wiring_plan(site, (const struct profile *const *) p, n, &w, &err), 0);
        struct zabbix_db db = {};
        assert_int_equal(zabbix_db_from_wiring(&w, "lab-comm1", &db), 0);
        assert_string_equal(db.provider, "lab-db1");
        assert_string_equal(db.host, "10.0.40.12");
        assert_string_equal(db.name, "zabbix_server");
        assert_int_equal(db.port, 5432);
        zabbix_db_done(&db);
        /* no other host is the Zabbix server */
        assert_int_equal(zabbix_db_from_wiring(&w, "lab-app1", &db), -ENOENT);
        assert_int_equal(zabbix_db_from_wiring(&w, "lab-db1", &db), -ENOENT);
        wiring_done(&w);
        /* comm's firewall lets the agents in: active checks and autoregistration come to 10051 */
        bool open = false;
        for (size_t i = 0; i < n; i++)
                for (size_t k = 0; streq(p[i]->role, "comm") && k < p[i]->n_ports; k++)
                        open = open || p[i]->ports[k].port == 10051;
        assert_true(open);
        for (size_t i = 0; i < n; i++)
                profile_free(p[i]);
}

static struct zabbix_db test_db(void) {
        return (struct zabbix_db) { .provider = (char *) "lab-db1", .host = (char *) "10.0.40.12", .port = 5432,
                                    .name = (char *) "zabbix_server" };
}

/* Debian 12's Zabbix 6.0.14 on Ubuntu 24.04's PostgreSQL 16: the override, said in the file;
 * nothing when the database is in range or either version is unknown. */
static void test_unsupported_db(void **state) {
        (void) state;
        assert_int_equal(zabbix_pg_max_major("1:6.0.14+dfsg-1+b1"), 15);
        assert_int_equal(zabbix_pg_max_major("6.0.20-1"), 15);
        assert_int_equal(zabbix_pg_max_major("1:6.0.21-1+debian12"), 16);
        assert_int_equal(zabbix_pg_max_major("1:7.0.5-1+ubuntu24.04"), 16);
        assert_int_equal(zabbix_pg_max_major("1:7.4.0-1"), 0);
        assert_int_equal(zabbix_pg_max_major("garbage"), 0);
        assert_int_equal(zabbix_pg_max_major(NULL), 0);
        struct zabbix_db db = test_db();
        db.pg_major = 16;
        db.zabbix_pg_max = 15;
        _cleanup_free_ char *over = zabbix_server_conf_render(&db);
        assert_non_null(strstr(over, "# lab-db1 runs PostgreSQL 16, newer than this Zabbix supports (up to 15)"));
        assert_int_equal(count(over, "\nAllowUnsupportedDBVersions=1\n"), 1);
        db.pg_major = 15;
        _cleanup_free_ char *in_range = zabbix_server_conf_render(&db);
        assert_null(strstr(in_range, "AllowUnsupportedDBVersions"));
        db.pg_major = 16;
        db.zabbix_pg_max = 0;
        _cleanup_free_ char *unknown = zabbix_server_conf_render(&db);
        assert_null(strstr(unknown, "AllowUnsupportedDBVersions"));
}

static void test_files(void **state) {
        struct zabbix_db db = test_db();
        _cleanup_free_ char *conf = zabbix_server_conf_render(&db), *dbc = zabbix_db_conf_render("s3cr:et"),
                            *php = zabbix_frontend_conf_render(&db, "pa'ss\\word", "lab-comm1"),
                            *ngx = zabbix_nginx_render("8.2", 8080), *pass = zabbix_pgpass_render(&db, "a:b\\c"),
                            *back = NULL;
        assert_non_null(strstr(conf, "\nDBHost=10.0.40.12\nDBPort=5432\nDBName=zabbix_server\nDBUser=zabbix_server\n"
                                     "Include=/etc/zabbix/rackstack-db.conf\n"));
        assert_null(strstr(conf, "DBPassword"));
        /* each parameter once: zabbix_server refuses a configuration that repeats one */
        assert_int_equal(count(conf, "\nDBName="), 1);
        assert_int_equal(count(conf, "\nPidFile="), 1);
        assert_string_equal(strstr(dbc, "DBPassword="), "DBPassword=s3cr:et\n");
        assert_int_equal(zabbix_db_conf_password(dbc, &back), 0);
        assert_string_equal(back, "s3cr:et");
        char *none = NULL;
        assert_int_equal(zabbix_db_conf_password("# nothing\nDBUser=x\n", &none), -ENOENT);
        assert_null(zabbix_db_conf_render("two\nlines"));
        /* PHP single quotes: ' and \ escaped */
        assert_non_null(strstr(php, "$DB['TYPE'] = 'POSTGRESQL';\n$DB['SERVER'] = '10.0.40.12';\n$DB['PORT'] = '5432';\n"));
        assert_non_null(strstr(php, "$DB['PASSWORD'] = 'pa\\'ss\\\\word';\n"));
        assert_non_null(strstr(php, "$DB['DOUBLE_IEEE754'] = true;\n"));
        assert_non_null(strstr(ngx, "\tlisten 127.0.0.1:8080;\n"));
        assert_non_null(strstr(ngx, "fastcgi_pass unix:/run/php/php8.2-fpm.sock;"));
        assert_non_null(strstr(ngx, "location ~ ^/(conf|app|include|local)/ { deny all; }"));
        /* .pgpass: ':' and '\' escaped, exactly one host/port/db/user */
        assert_string_equal(pass, "10.0.40.12:5432:zabbix_server:zabbix_server:a\\:b\\\\c\n");
        assert_null(zabbix_pgpass_render(&db, "x\ny"));
        assert_string_equal(zabbix_schema_files[0], "usr/share/zabbix-server-pgsql/schema.sql.gz");
        assert_string_equal(zabbix_schema_files[2], "usr/share/zabbix-server-pgsql/data.sql.gz");
        assert_null(zabbix_schema_files[3]);
}

/* What the agents send (join.c) is what the action matches. */
static void test_metadata_matches(void **state) {
        _cleanup_free_ char *agent = join_render_zabbix("lab-app1.domain.com", "app", "10.0.40.14", "rackstack");
        assert_non_null(strstr(agent, "\nHostMetadata=rackstack role=app\n"));
        assert_non_null(strstr(agent, zabbix_autoreg_default.metadata));
        assert_non_null(strstr(agent, "\nTLSPSKIdentity=rackstack\n"));
        assert_string_equal(zabbix_autoreg_default.psk_identity, "rackstack");
}

static void test_plan(void **state) {
        struct zabbix_plan p;
        zabbix_plan_make(&zabbix_autoreg_default, &p);
        assert_int_equal(p.n, 6);
        assert_int_equal(p.calls[0], ZABBIX_CALL_LOGIN);
        assert_int_equal(p.calls[1], ZABBIX_CALL_ADMIN_PASSWORD);
        /* the ids the action needs come before it; the PSK last */
        assert_int_equal(p.calls[4], ZABBIX_CALL_ACTION);
        assert_int_equal(p.calls[5], ZABBIX_CALL_AUTOREG_PSK);
        _cleanup_free_ char *j = zabbix_plan_json(&p);
        assert_non_null(strstr(j, "\"metadata_contains\": \"rackstack role=\""));
        assert_non_null(strstr(j, "\"template\": \"Linux by Zabbix agent\""));
        assert_null(strstr(j, "?"));
}

static void test_requests(void **state) {
        _cleanup_free_ char *login = zabbix_params_login("Admin", "p\"w"),
                            *req = zabbix_request("user.login", login, NULL, 1),
                            *req2 = zabbix_request("hostgroup.get", "{}", "tok", 7),
                            *get = zabbix_params_get_by("name", "rackstack", "groupid"),
                            *grp = zabbix_params_group_create("rackstack"),
                            *pw60 = zabbix_params_admin_password("1", NULL, "new"),
                            *pw70 = zabbix_params_admin_password("1", "zabbix", "new"),
                            *psk = zabbix_params_autoreg_psk("rackstack", "00ff");
        assert_string_equal(req, "{\"jsonrpc\":\"2.0\",\"method\":\"user.login\",\"params\":{\"username\":\"Admin\","
                                 "\"password\":\"p\\\"w\"},\"id\":1}");
        assert_non_null(strstr(req2, ",\"auth\":\"tok\",\"id\":7}"));
        assert_string_equal(get, "{\"output\":[\"groupid\"],\"filter\":{\"name\":[\"rackstack\"]}}");
        assert_string_equal(grp, "{\"name\":\"rackstack\"}");
        assert_string_equal(pw60, "{\"userid\":\"1\",\"passwd\":\"new\"}");
        assert_string_equal(pw70, "{\"userid\":\"1\",\"current_passwd\":\"zabbix\",\"passwd\":\"new\"}");
        assert_string_equal(psk, "{\"tls_accept\":2,\"tls_psk_identity\":\"rackstack\",\"tls_psk\":\"00ff\"}");
        assert_true(zabbix_version_at_least("7.0.5", 6, 2));
        assert_true(zabbix_version_at_least("6.2.0", 6, 2));
        assert_false(zabbix_version_at_least("6.0.14", 6, 2));
        assert_false(zabbix_version_at_least(NULL, 6, 2));
}

static void test_action(void **state) {
        _cleanup_free_ char *create = zabbix_params_action(&zabbix_autoreg_default, "19", "10001", NULL),
                            *update = zabbix_params_action(&zabbix_autoreg_default, "19", "10001", "7");
        assert_string_equal(create,
                            "{\"name\":\"rackstack: register the site's hosts\",\"eventsource\":2,\"status\":0,"
                            "\"filter\":{\"evaltype\":0,\"conditions\":[{\"conditiontype\":24,\"operator\":2,"
                            "\"value\":\"rackstack role=\"}]},"
                            "\"operations\":[{\"operationtype\":2},{\"operationtype\":4,\"opgroup\":[{\"groupid\":\"19\"}]},"
                            "{\"operationtype\":6,\"optemplate\":[{\"templateid\":\"10001\"}]}]}");
        /* an update names the action by id and cannot change its event source */
        assert_non_null(strstr(update, "{\"actionid\":\"7\",\"status\":0,"));
        assert_null(strstr(update, "eventsource"));
        assert_null(strstr(update, "\"name\""));
}

static void test_responses(void **state) {
        struct ynode *t = NULL;
        const struct ynode *res = NULL;
        char *err = NULL;
        const char *ok = "{\"jsonrpc\":\"2.0\",\"result\":[{\"groupid\":\"19\",\"name\":\"a\\/b\"}],\"id\":1}";
        assert_int_equal(zabbix_response_parse(ok, strlen(ok), &t, &res, &err), 0);
        assert_int_equal(res->type, YNODE_SEQ);
        assert_int_equal(res->n, 1);
        assert_string_equal(ynode_get_scalar(res->items[0], "groupid"), "19");
        assert_string_equal(ynode_get_scalar(res->items[0], "name"), "a/b");
        ynode_free(t);
        const char *tok = "{\"jsonrpc\":\"2.0\",\"result\":\"0424bd59b807674191e7d77572075f33\",\"id\":2}";
        assert_int_equal(zabbix_response_parse(tok, strlen(tok), &t, &res, &err), 0);
        assert_string_equal(res->scalar, "0424bd59b807674191e7d77572075f33");
        ynode_free(t);
        const char *bad = "{\"jsonrpc\":\"2.0\",\"error\":{\"code\":-32602,\"message\":\"Invalid params.\","
                          "\"data\":\"Incorrect user name or password or account is temporarily blocked.\"},\"id\":3}";
        t = NULL;
        assert_int_equal(zabbix_response_parse(bad, strlen(bad), &t, &res, &err), -EPROTO);
        assert_null(t);
        assert_string_equal(err, "Zabbix API error -32602: Invalid params. Incorrect user name or password or account is "
                                 "temporarily blocked.");
        free(err);
        /* not JSON-RPC: an HTML error page, a JSON object without result */
        assert_int_equal(zabbix_response_parse("<html>502</html>", 16, &t, &res, &err), -EBADMSG);
        assert_int_equal(zabbix_response_parse("{\"id\":1}", 8, &t, &res, &err), -EBADMSG);
        assert_int_equal(zabbix_response_parse(NULL, 0, &t, &res, &err), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_site_wiring), cmocka_unit_test(test_files),    cmocka_unit_test(test_metadata_matches),
                cmocka_unit_test(test_plan),        cmocka_unit_test(test_requests), cmocka_unit_test(test_action),
                cmocka_unit_test(test_responses), cmocka_unit_test(test_unsupported_db),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
