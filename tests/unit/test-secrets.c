/* SPDX-License-Identifier: MIT */
/* Site secrets: the credentials bundle format, the site's wiring plan, who receives which secret,
 * making them (modes, never replaced without force, certificates signed by the site CA), each
 * host's bundle, and placing a bundle on a host (its own only) and removing it after the join. */
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
#include "creds-place.h"
#include "creds.h"
#include "db-wiring.h"
#include "fileio.h"
#include "parse.h"
#include "profile.h"
#include "secrets.h"
#include "util.h"
#include "wiring.h"

/* ---- the bundle format ---- */

static void test_creds_roundtrip(void **state) {
        struct creds c = { .host = strdup("lab-db1") };
        const char pem[] = "-----BEGIN X-----\nabc\n\n-----END X-----\n";
        assert_int_equal(creds_add(&c, "ca.crt", pem, strlen(pem)), 0);
        assert_int_equal(creds_add(&c, "db.nextcloud", "s3cret", 6), 0);
        assert_int_equal(creds_add(&c, "empty", "", 0), 0);
        assert_int_equal(creds_add(&c, "db.nextcloud", "x", 1), -EEXIST);
        assert_int_equal(creds_add(&c, "../etc/passwd", "x", 1), -EINVAL);
        assert_int_equal(creds_add(&c, ".hidden", "x", 1), -EINVAL);
        assert_int_equal(creds_add(&c, "a/b", "x", 1), -EINVAL);
        size_t len = 0;
        char *text = creds_render(&c, &len);
        assert_non_null(text);
        struct diags d = {};
        struct creds back = {};
        assert_int_equal(creds_parse("b", text, len, &d, &back), 0);
        assert_string_equal(back.host, "lab-db1");
        assert_int_equal(back.n, 3);
        assert_int_equal(creds_find(&back, "ca.crt")->len, strlen(pem));
        assert_memory_equal(creds_find(&back, "ca.crt")->data, pem, strlen(pem));
        assert_string_equal(creds_find(&back, "db.nextcloud")->data, "s3cret");
        assert_int_equal(creds_find(&back, "empty")->len, 0);
        creds_wipe_free(text, len);
        creds_done(&back);
        creds_done(&c);
        diags_done(&d);
}

static void expect_bad(const char *text, const char *msg, unsigned line) {
        struct diags d = {};
        struct creds c = {};
        assert_int_equal(creds_parse("b", text, strlen(text), &d, &c), -EINVAL);
        assert_null(c.v);
        assert_true(d.n >= 1);
        char *got = diags_text(&d);
        _cleanup_free_ char *where = strprintf("b:%u:", line);
        if (!strstr(got, msg) || !strstr(got, where))
                fail_msg("expected '%s' at %s, got: %s", msg, where, got);
        free(got);
        diags_done(&d);
}

static void test_creds_bad(void **state) {
        expect_bad("hello\n", "expected 'rackstack-credentials 1 HOST'", 1);
        expect_bad("rackstack-credentials 2 h\n", "expected 'rackstack-credentials 1 HOST'", 1);
        expect_bad("rackstack-credentials 1 h\nx 5\nab\n", "claims 5 bytes", 2);
        expect_bad("rackstack-credentials 1 h\nx 2\nabc\n", "lacks its newline", 2);
        expect_bad("rackstack-credentials 1 h\nx 1\na\n../x 1\nb\n", "'../x' is not a credential name", 4);
        expect_bad("rackstack-credentials 1 h\na 3\n1\n2\na 1\nb\n", "'a' appears twice", 5);
        expect_bad("rackstack-credentials 1 h\nnolength\n", "expected 'NAME LENGTH'", 2);
        expect_bad("rackstack-credentials 1 h\nx -1\n", "expected 'NAME LENGTH'", 2);
}

/* ---- the site: the repository's own profiles and site ---- */

struct siteset {
        struct site *site;
        struct profile *p[16];
        size_t n;
};

static void load(struct siteset *s, const char *site_yaml) {
        struct diags d = {};
        *s = (struct siteset) {};
        if (site_yaml)
                assert_int_equal(site_load_buffer("site.yaml", site_yaml, strlen(site_yaml), &d, &s->site), 0);
        else
                assert_int_equal(site_load_file("profiles/site.yaml", &d, &s->site), 0);
        for (size_t i = 0; i < n_role_names; i++)
                assert_int_equal(profile_load("profiles", role_names[i], &d, &s->p[s->n++]), 0);
        diags_done(&d);
}

static void unload(struct siteset *s) {
        for (size_t i = 0; i < s->n; i++)
                profile_free(s->p[i]);
        site_free(s->site);
}

static const struct wiring_link *find_link(const struct wiring *w, const char *kind, const char *service) {
        for (size_t i = 0; i < w->n; i++)
                if (streq(w->links[i].kind, kind) && streq(w->links[i].service, service))
                        return &w->links[i];
        return NULL;
}

static void test_wiring_plan(void **state) {
        struct siteset s;
        load(&s, NULL);
        struct wiring w = {};
        char *err = NULL;
        assert_int_equal(wiring_plan(s.site, (const struct profile *const *) s.p, s.n, &w, &err), 0);
        /* the seed's ten databases on lab-db1, each from its consumer's VLAN-40 address: seven on
         * PostgreSQL, and the three that support only MySQL/MariaDB on MariaDB */
        const char *dbs[] = { "keycloak", "nextcloud", "mattermost", "zammad", "suitecrm",
                              "odoo",     "openkm",    "taiga",      "snipe-it", "glpi" };
        size_t n_pg = 0, n_my = 0;
        for (size_t i = 0; i < w.n; i++) {
                n_pg += streq(w.links[i].kind, "postgresql");
                n_my += streq(w.links[i].kind, "mysql");
        }
        assert_int_equal(n_pg, 8); /* and the Zabbix server on lab-comm1 (issue 14) */
        assert_int_equal(n_my, 3);
        for (size_t i = 0; i < ELEMENTSOF(dbs); i++) {
                bool my = streq(dbs[i], "suitecrm") || streq(dbs[i], "snipe-it") || streq(dbs[i], "glpi");
                const struct wiring_link *l = find_link(&w, my ? "mysql" : "postgresql", dbs[i]);
                assert_non_null(l);
                assert_string_equal(l->provider, "lab-db1");
                assert_int_equal(l->provider_addr, 0x0a00280c);             /* 10.0.40.12 */
                assert_int_equal(l->consumer_addr & 0xffffff00, 0x0a002800); /* on 10.0.40.0/24 */
        }
        const struct wiring_link *nc = find_link(&w, "postgresql", "nextcloud");
        assert_string_equal(nc->consumer, "lab-app1");
        assert_int_equal(nc->consumer_addr, 0x0a00280d); /* 10.0.40.13 */
        const struct wiring_link *route = find_link(&w, "route", "nextcloud");
        assert_string_equal(route->provider, "lab-infra1");
        assert_int_equal(route->provider_addr, 0x0a003213); /* 10.0.50.19: the default VLAN */
        _cleanup_free_ char *pgn = wiring_pg_name("snipe-it");
        assert_string_equal(pgn, "snipe_it");

        /* a host's part, and back */
        _cleanup_free_ char *text = wiring_render(&w, "lab-app1");
        assert_non_null(strstr(text, "postgresql nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12\n"));
        assert_null(strstr(text, "zammad"));
        struct diags d = {};
        struct wiring back = {};
        assert_int_equal(wiring_parse("wiring", text, &d, &back), 0);
        size_t mine = 0;
        for (size_t i = 0; i < w.n; i++)
                mine += streq(w.links[i].consumer, "lab-app1") || streq(w.links[i].provider, "lab-app1");
        assert_int_equal(back.n, mine);
        wiring_done(&back);
        assert_int_equal(wiring_parse("wiring", "postgresql x h 10.0.40.1 db\n", &d, &back), -EINVAL);
        assert_int_equal(wiring_parse("wiring", "mssql x h 10.0.40.1 db 10.0.40.2\n", &d, &back), -EINVAL); /* no such kind */
        assert_int_equal(wiring_parse("wiring", "postgresql X h 10.0.40.1 db 10.0.40.2\n", &d, &back), -EINVAL);
        diags_done(&d);
        wiring_done(&w);
        unload(&s);
}

/* The app host without a database-VLAN address: the need cannot be wired, and the error says why. */
static void test_wiring_unreachable(void **state) {
        static const char site[] =
                "domain: d.example\ndefault-vlan: 20\n"
                "vlans:\n  - { id: 20, name: infrastructure, subnet: 10.0.50.0/24, gateway: 10.0.50.1 }\n"
                "  - { id: 40, name: database, subnet: 10.0.40.0/24 }\n"
                "hosts:\n  - { name: db1, role: db, addresses: { 20: 10.0.50.12, 40: 10.0.40.12 } }\n"
                "  - { name: app1, role: app, addresses: { 20: 10.0.50.13 } }\n";
        struct siteset s;
        load(&s, site);
        struct wiring w = {};
        _cleanup_free_ char *err = NULL;
        assert_int_equal(wiring_plan(s.site, (const struct profile *const *) s.p, s.n, &w, &err), -EADDRNOTAVAIL);
        assert_non_null(strstr(err, "nextcloud on app1 reaches postgresql on db1 over VLAN 40, but app1 has no address"));
        unload(&s);
}

static void test_wiring_no_provider(void **state) {
        static const char site[] =
                "domain: d.example\ndefault-vlan: 20\n"
                "vlans:\n  - { id: 20, name: infrastructure, subnet: 10.0.50.0/24, gateway: 10.0.50.1 }\n"
                "  - { id: 40, name: database, subnet: 10.0.40.0/24 }\n"
                "hosts:\n  - { name: app1, role: app, addresses: { 20: 10.0.50.13, 40: 10.0.40.13 } }\n";
        struct siteset s;
        load(&s, site);
        struct wiring w = {};
        _cleanup_free_ char *err = NULL;
        assert_int_equal(wiring_plan(s.site, (const struct profile *const *) s.p, s.n, &w, &err), -ENOENT);
        assert_non_null(strstr(err, "nextcloud on app1 needs postgresql, but no host of the site runs postgresql"));
        unload(&s);
}

/* ---- who receives what ---- */

static bool granted(const struct secrets_plan *p, const char *store, const char *host, const char *cred) {
        const struct secret_item *it = secrets_plan_find(p, store);
        for (size_t i = 0; it && i < it->n_grants; i++)
                if (streq(it->grants[i].host, host) && streq(it->grants[i].cred, cred))
                        return true;
        return false;
}

static void test_plan_grants(void **state) {
        struct siteset s;
        load(&s, NULL);
        struct secrets_plan p = {};
        assert_int_equal(secrets_plan_make(s.site, (const struct profile *const *) s.p, s.n, &p, NULL), 0);
        assert_int_equal(secrets_plan_find(&p, "ca.key")->n_grants, 0); /* the CA key never leaves */
        assert_true(granted(&p, "db.nextcloud", "lab-app1", "db.nextcloud"));
        assert_true(granted(&p, "db.nextcloud", "lab-db1", "db.nextcloud"));
        assert_int_equal(secrets_plan_find(&p, "db.nextcloud")->n_grants, 2);
        assert_true(granted(&p, "redis.nextcloud", "lab-app1", "redis.nextcloud"));
        assert_true(granted(&p, "redis", "lab-db1", "redis"));
        assert_int_equal(secrets_plan_find(&p, "redis")->n_grants, 1);
        assert_true(granted(&p, "admin.nextcloud", "lab-app1", "admin.nextcloud"));
        assert_true(granted(&p, "hosts/lab-db1/ipa-otp", "lab-db1", "ipa-otp"));
        assert_true(granted(&p, "hosts/lab-db1/ipa-otp", "lab-id1", "ipa-otp.lab-db1"));
        assert_true(granted(&p, "ipa-admin-password", "lab-id1", "ipa-admin-password"));
        assert_null(secrets_plan_find(&p, "hosts/lab-id1/ipa-otp")); /* the IPA server does not enrol in itself */
        /* the reverse proxy's certificate names every route */
        const struct secret_item *crt = secrets_plan_find(&p, "hosts/lab-infra1/tls.crt");
        assert_true(strv_contains(crt->sans, "cloud.domain.com"));
        assert_true(strv_contains(crt->sans, "IP:10.0.50.19"));
        assert_false(strv_contains(secrets_plan_find(&p, "hosts/lab-db1/tls.crt")->sans, "cloud.domain.com"));

        /* No host receives another host's own secret (hosts/H/...), nor a database password of a
         * service it neither runs nor serves. The identity server's ipa-otp.H is the one exception
         * by design: it registers H with that password. */
        for (size_t i = 0; i < p.n; i++) {
                const struct secret_item *it = &p.items[i];
                for (size_t g = 0; g < it->n_grants; g++) {
                        const char *h = it->grants[g].host;
                        if (startswith(it->store, "hosts/")) {
                                _cleanup_free_ char *mine = strprintf("hosts/%s/", h);
                                _cleanup_free_ char *otp = strprintf("ipa-otp.%.*s", (int) strcspn(it->store + 6, "/"),
                                                                     it->store + 6);
                                assert_true(startswith(it->store, mine) ||
                                            (streq(h, "lab-id1") && streq(it->grants[g].cred, otp)));
                        }
                        if (startswith(it->store, "db.")) {
                                const struct wiring_link *l = find_link(&p.wiring, "postgresql", it->store + 3);
                                if (!l)
                                        l = find_link(&p.wiring, "mysql", it->store + 3);
                                assert_non_null(l);
                                assert_true(streq(h, l->consumer) || streq(h, l->provider));
                        }
                }
        }
        secrets_plan_done(&p);
        unload(&s);
}

/* ---- making them, on a temporary directory ---- */

static char *read_store(const char *dir, const char *store) {
        _cleanup_free_ char *path = strprintf("%s/secrets/%s", dir, store);
        char *data = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, path, 1 << 20, &data, NULL), 0);
        return data;
}

static mode_t mode_of(const char *dir, const char *store) {
        _cleanup_free_ char *path = strprintf("%s/secrets/%s", dir, store);
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        assert_int_equal(st.st_uid, geteuid());
        return st.st_mode & 07777;
}

static void test_init_and_bundle(void **state) {
        struct siteset s;
        load(&s, NULL);
        struct secrets_plan p = {};
        assert_int_equal(secrets_plan_make(s.site, (const struct profile *const *) s.p, s.n, &p, NULL), 0);
        char dir[] = "/tmp/rackstack-secrets-XXXXXX";
        assert_non_null(mkdtemp(dir));
        size_t made = 0, kept = 0;
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, p.n);
        assert_int_equal(kept, 0);
        for (size_t i = 0; i < p.n; i++)
                assert_int_equal(mode_of(dir, p.items[i].store), 0600);
        assert_int_equal(mode_of(dir, "hosts"), 0700);
        assert_int_equal(mode_of(dir, "hosts/lab-db1"), 0700);
        _cleanup_free_ char *ss = strprintf("%s/secrets", dir);
        struct stat st;
        assert_int_equal(stat(ss, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        _cleanup_free_ char *pw1 = read_store(dir, "db.nextcloud"), *ca1 = read_store(dir, "ca.crt"),
                            *crt1 = read_store(dir, "hosts/lab-db1/tls.crt");
        assert_int_equal(strlen(pw1), 49); /* 48 hex digits and a newline */
        _cleanup_free_ char *psk = read_store(dir, "zabbix-psk");
        assert_int_equal(strlen(psk), 65);
        assert_int_equal(pki_signed_by(crt1, ca1), 1);

        /* again: nothing replaced */
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 0);
        assert_int_equal(kept, p.n);
        _cleanup_free_ char *pw2 = read_store(dir, "db.nextcloud"), *ca2 = read_store(dir, "ca.crt");
        assert_string_equal(pw1, pw2);
        assert_string_equal(ca1, ca2);

        /* one secret lost: only it is made again */
        _cleanup_free_ char *lost = strprintf("%s/secrets/db.odoo", dir);
        assert_int_equal(unlink(lost), 0);
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 1);

        /* a host key lost: its certificate is issued again for the new key, by the same CA */
        _cleanup_free_ char *key = strprintf("%s/secrets/hosts/lab-db1/tls.key", dir);
        assert_int_equal(unlink(key), 0);
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 2);
        _cleanup_free_ char *crt2 = read_store(dir, "hosts/lab-db1/tls.crt"), *ca3 = read_store(dir, "ca.crt");
        assert_string_not_equal(crt1, crt2);
        assert_string_equal(ca1, ca3);
        assert_int_equal(pki_signed_by(crt2, ca3), 1);

        /* --force: everything new, and the old certificates no longer verify against the new CA */
        assert_int_equal(secrets_init(dir, &p, true, &made, &kept), 0);
        assert_int_equal(made, p.n);
        _cleanup_free_ char *pw3 = read_store(dir, "db.nextcloud"), *ca4 = read_store(dir, "ca.crt"),
                            *crt3 = read_store(dir, "hosts/lab-db1/tls.crt");
        assert_string_not_equal(pw1, pw3);
        assert_int_equal(pki_signed_by(crt2, ca4), 0);
        assert_int_equal(pki_signed_by(crt3, ca4), 1);

        /* each host's bundle: exactly its grants, values as stored, and its wiring */
        for (size_t h = 0; h < s.site->n_hosts; h++) {
                const char *host = s.site->hosts[h].name;
                struct creds c = {};
                assert_int_equal(secrets_bundle(dir, &p, host, &c, NULL), 0);
                size_t want = 1; /* wiring */
                for (size_t i = 0; i < p.n; i++)
                        for (size_t g = 0; g < p.items[i].n_grants; g++)
                                if (streq(p.items[i].grants[g].host, host)) {
                                        want++;
                                        const struct cred *cr = creds_find(&c, p.items[i].grants[g].cred);
                                        assert_non_null(cr);
                                        _cleanup_free_ char *v = read_store(dir, p.items[i].store);
                                        assert_true(strncmp(v, cr->data, cr->len) == 0);
                                }
                assert_int_equal(c.n, want);
                assert_non_null(creds_find(&c, "ca.crt"));
                assert_null(creds_find(&c, "ca.key"));
                creds_done(&c);
        }
        struct creds app = {};
        assert_int_equal(secrets_bundle(dir, &p, "lab-app1", &app, NULL), 0);
        assert_non_null(creds_find(&app, "db.nextcloud"));
        assert_null(creds_find(&app, "db.zammad"));
        assert_null(creds_find(&app, "redis"));
        assert_non_null(strstr(creds_find(&app, "wiring")->data, "postgresql nextcloud lab-app1 10.0.40.13 lab-db1"));
        /* the bundle's password is the stored one without its newline */
        _cleanup_free_ char *pw4 = read_store(dir, "db.nextcloud");
        assert_int_equal(creds_find(&app, "db.nextcloud")->len, 48);
        assert_memory_equal(creds_find(&app, "db.nextcloud")->data, pw4, 48);

        /* placing it on a host: a temporary root */
        char root[] = "/tmp/rackstack-root-XXXXXX";
        assert_non_null(mkdtemp(root));
        _cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        size_t len = 0;
        char *bytes = creds_render(&app, &len);
        _cleanup_free_ char *bpath = strprintf("%s/ks-dir/" CREDS_FILE, root), *bdir = strprintf("%s/ks-dir", root);
        assert_int_equal(mkdir(bdir, 0755), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, bpath, bytes, len, 0644), 0);
        assert_int_equal(creds_copy_in(root, bpath), 0);
        _cleanup_free_ char *names = NULL, *why = NULL;
        assert_int_equal(creds_place(rfd, "lab-db1", &names, &why), -EXDEV);
        assert_non_null(strstr(why, "for lab-app1, this host is lab-db1"));
        assert_int_equal(creds_place(rfd, "lab-app1", &names, &why), 0);
        assert_non_null(strstr(names, "db.nextcloud"));
        assert_int_equal(fstatat(rfd, CREDS_DIR "/db.nextcloud", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0400);
        assert_int_equal(fstatat(rfd, CREDS_DIR, &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0700);
        assert_int_equal(faccessat(rfd, CREDS_COPY, F_OK, 0), -1); /* the copy is gone once placed */
        _cleanup_free_ char *placed = NULL;
        assert_int_equal(read_file_full(rfd, CREDS_DIR "/db.nextcloud", 4096, &placed, NULL), 0);
        assert_memory_equal(placed, pw4, 48);
        assert_int_equal(strlen(placed), 48);
        /* a bundle that does not parse: the first line of what its parser said, no newline */
        assert_int_equal(write_file_atomic(rfd, CREDS_COPY, "not a bundle\nsecond line\n", 25, 0600), 0);
        _cleanup_free_ char *bad_names = NULL, *bad_why = NULL;
        assert_true(creds_place(rfd, "lab-app1", &bad_names, &bad_why) < 0);
        assert_non_null(bad_why);
        assert_true(startswith(bad_why, "rackstack.creds:"));
        assert_null(strchr(bad_why, '\n'));
        (void) unlinkat(rfd, CREDS_COPY, 0);
        size_t removed = 0;
        assert_int_equal(creds_remove_all(rfd, &removed), 0);
        assert_int_equal(removed, app.n);
        assert_int_equal(faccessat(rfd, CREDS_DIR "/db.nextcloud", F_OK, 0), -1);
        creds_wipe_free(bytes, len);
        creds_done(&app);

        _cleanup_free_ char *rm = strprintf("rm -rf '%s' '%s'", dir, root);
        assert_int_equal(system(rm), 0);
        secrets_plan_done(&p);
        unload(&s);
}

/* ---- the database host's side (pure) ---- */

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_db_wiring(void **state) {
        struct siteset s;
        load(&s, NULL);
        struct wiring w = {};
        assert_int_equal(wiring_plan(s.site, (const struct profile *const *) s.p, s.n, &w, NULL), 0);
        struct db_wiring none = {}, p = {};
        assert_int_equal(db_wiring_plan(&w, "lab-app1", &none), 0);
        assert_int_equal(none.n_pg + none.n_redis, 0);
        assert_int_equal(db_wiring_plan(&w, "lab-db1", &p), 0);
        assert_int_equal(p.n_pg, 8); /* + zabbix_server */
        assert_int_equal(p.n_redis, 3);
        assert_int_equal(p.n_mysql, 3); /* SuiteCRM, Snipe-IT, GLPI: MariaDB */
        char *v[10];
        for (size_t i = 0; i < p.n_pg; i++)
                v[i] = strprintf("SCRAM-V%zu", i);
        _cleanup_free_ char *sql = db_wiring_sql(&p, v), *hba = db_wiring_hba(&p),
                            *ini = pgbouncer_ini_render(&p, "127.0.0.1,10.0.40.12", 6432),
                            *users = pgbouncer_userlist_render(&p, v);
        /* one existence-checked CREATE per role and database, never a bare one */
        assert_int_equal(count(sql, "'CREATE ROLE "), 8);
        assert_int_equal(count(sql, "'CREATE DATABASE "), 8);
        assert_int_equal(count(sql, "\nCREATE "), 0);
        assert_non_null(strstr(sql, "SELECT 'CREATE DATABASE taiga OWNER taiga' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'taiga')\\gexec\n"));
        assert_null(strstr(sql, "snipe_it"));
        assert_non_null(strstr(sql, "ALTER ROLE nextcloud WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD 'SCRAM-V1';\n"));
        assert_non_null(strstr(sql, "REVOKE CONNECT, TEMPORARY ON DATABASE nextcloud FROM PUBLIC;\n"));
        /* exactly the consumer's address, /32; lab-it1 holds one (Taiga; its other two are MariaDB's) */
        assert_int_equal(count(hba, "\nhost "), 8);
        assert_int_equal(count(hba, "/32 scram-sha-256"), 8);
        assert_non_null(strstr(hba, "host    nextcloud  nextcloud  10.0.40.13/32 scram-sha-256  # nextcloud on lab-app1\n"));
        assert_int_equal(count(hba, "10.0.40.18/32"), 1);
        assert_null(strstr(hba, "/24"));
        _cleanup_free_ char *pgb = pgbouncer_hba_render(&p);
        assert_true(startswith(pgb, "host    all        all        127.0.0.1/32 scram-sha-256\n"));
        assert_int_equal(count(pgb, "/32 scram-sha-256"), 9); /* loopback and the eight consumers */
        assert_non_null(strstr(ini, "\nnextcloud = host=127.0.0.1 port=5432 dbname=nextcloud\n"));
        assert_non_null(strstr(ini, "\nlisten_addr = 127.0.0.1,10.0.40.12\nlisten_port = 6432\n"));
        assert_non_null(strstr(ini, "\nauth_type = hba\n"));
        assert_non_null(strstr(users, "\"nextcloud\" \"SCRAM-V1\"\n"));
        for (size_t i = 0; i < p.n_pg; i++)
                free(v[i]);
        char *h[3] = { (char *) "#a", (char *) "#b", (char *) "#c" };
        _cleanup_free_ char *acl = redis_acl_render(&p, h);
        assert_non_null(strstr(acl, "user nextcloud on #a ~* &* +@all -@admin -@dangerous\n"));
        assert_int_equal(count(acl, "\nuser "), 3);

        /* RFC 7677's construction, checked against Python's hashlib for a fixed salt */
        const uint8_t salt[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
        _cleanup_free_ char *scram = pg_scram_verifier("pencil", salt), *rh = redis_acl_hash("pencil");
        assert_string_equal(scram, "SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$zHCdol2044/ZyWzPLi7oxApCkamKw9Z+E4U/QApd/5Y=:"
                                   "dd5peBOitVnLNFu7VmwP+HiDaaw4OUCv396eVCWhYiE=");
        assert_string_equal(rh, "#13809668fb436386706f67dcb052ed584a04ba16a8c02a17d66d34c30fceda21");
        db_wiring_done(&p);
        db_wiring_done(&none);
        wiring_done(&w);
        unload(&s);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_creds_roundtrip),
                cmocka_unit_test(test_creds_bad),
                cmocka_unit_test(test_wiring_plan),
                cmocka_unit_test(test_wiring_unreachable),
                cmocka_unit_test(test_wiring_no_provider),
                cmocka_unit_test(test_plan_grants),
                cmocka_unit_test(test_init_and_bundle),
                cmocka_unit_test(test_db_wiring),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
