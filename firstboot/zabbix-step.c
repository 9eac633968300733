/* SPDX-License-Identifier: MIT */
/* The Zabbix server on comm, applied (zabbix.h): the database on lab-db1, the files, the
 * services, and the autoregistration through the API. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "apps.h"
#include "cleanup.h"
#include "cmd.h"
#include "escape.h"
#include "creds-place.h"
#include "fileio.h"
#include "http.h"
#include "join.h"
#include "log.h"
#include "parse.h"
#include "secret.h"
#include "util.h"
#include "zabbix.h"

#define PGPASS "run/rackstack/zabbix.pgpass"

static void wipe_free(char *s) {
        if (s) {
                OPENSSL_cleanse(s, strlen(s));
                free(s);
        }
}

struct zrun {
        const struct zabbix_ctx *c;
        struct zabbix_db db;
        char *password;  /* db.zabbix-server */
        char *admin;     /* admin.zabbix-server, may be NULL */
        char *psk;       /* zabbix-psk, may be NULL */
        char *dbwhat;    /* "PostgreSQL on lab-db1 (10.0.40.12:5432)" */
        bool creds_gone; /* the password came from our own file: the join removed the credentials */
};

static void zrun_done(struct zrun *z) {
        zabbix_db_done(&z->db);
        wipe_free(z->password);
        wipe_free(z->admin);
        wipe_free(z->psk);
        free(z->dbwhat);
}

static int cred(const struct zrun *z, const char *name, char **ret) {
        _cleanup_free_ char *path = strprintf("/" CREDS_DIR "/%s", name);
        struct secret s = {};
        int r = path ? secret_read(z->c->root_fd, path, &s) : -ENOMEM;
        if (r < 0)
                return r;
        *ret = s.data; /* secret_free would wipe it: the caller wipes it in zrun_done */
        return 0;
}

static int load(struct zrun *z, char **reason) {
        /* the bundle's wiring, or on a rerun after the join removed it the copy the services step kept */
        _cleanup_(wiring_done) struct wiring w = {};
        _cleanup_free_ char *err = NULL;
        bool kept = false;
        int r = creds_wiring_load(z->c->root_fd, &w, &kept, &err);
        if (r >= 0)
                r = zabbix_db_from_wiring(&w, z->c->host, &z->db);
        if (r < 0) {
                *reason = strprintf("no wiring for zabbix-server on %s in /" CREDS_DIR "/wiring or /" WIRING_KEPT
                                    " (%s): no database to use", strna(z->c->host), err ? err : strerror(-r));
                return -ENOENT;
        }
        if (kept)
                log_info("zabbix-server: the wiring an earlier run kept (/" WIRING_KEPT "): no credentials bundle");
        z->dbwhat = strprintf("PostgreSQL on %s (%s:%u)", z->db.provider, z->db.host, z->db.port);
        if (!z->dbwhat)
                return -ENOMEM;
        r = cred(z, "db." ZABBIX_SERVICE, &z->password);
        if (r == -ENOENT) {
                /* a rerun after the join removed the credentials: the password the server already uses */
                _cleanup_free_ char *conf = NULL;
                if (read_file_full(z->c->root_fd, ZABBIX_DB_CONF, 64 * 1024, &conf, NULL) >= 0 &&
                    (r = zabbix_db_conf_password(conf, &z->password)) >= 0)
                        z->creds_gone = true;
                if (conf)
                        OPENSSL_cleanse(conf, strlen(conf));
        }
        if (r < 0) {
                *reason = strprintf("the password for %s (credential db." ZABBIX_SERVICE "): %s", z->dbwhat,
                                    r == -ENOENT ? "missing from this host's bundle" : r == -EPERM ? "not a root-only file; refused" : strerror(-r));
                return r;
        }
        if ((r = cred(z, "admin." ZABBIX_SERVICE, &z->admin)) < 0 && r != -ENOENT)
                return r;
        if ((r = cred(z, "zabbix-psk", &z->psk)) < 0 && r != -ENOENT)
                return r;
        return 0;
}

static int write_owned(const struct zrun *z, const char *rel, const char *text, mode_t mode, const char *group) {
        if (!text)
                return -ENOMEM;
        int r = mkdir_parents_of(z->c->root_fd, rel, 0755);
        if (r < 0 || (r = write_file_atomic(z->c->root_fd, rel, text, strlen(text), mode)) < 0)
                return r;
        struct group *g = group && z->c->live ? getgrnam(group) : NULL;
        if (g && fchownat(z->c->root_fd, rel, 0, g->gr_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return 0;
}

/* ---- the database ---- */

static int wait_for(const char *what, const char *host, uint16_t port, unsigned bound, char **reason) {
        unsigned n = 0;
        if (join_probe_tcp(host, port, 3000) >= 0)
                return 0;
        log_info("waiting up to %u s for %s", bound, what);
        int r = join_wait_tcp(host, port, bound, &n);
        if (r < 0)
                *reason = strprintf("%s did not answer within %u s (%u attempts): %s", what, bound, n + 1, strerror(-r));
        return r;
}

/* psql against the consumer database, the password through PGPASSFILE; stdout+stderr's tail. */
static int psql(const struct zrun *z, const char *shell_input_cmd, const char *sql, int *ret_status, char **ret_tail) {
        _cleanup_free_ char *port = strprintf("%u", z->db.port), *cmd = NULL;
        if (!port)
                return -ENOMEM;
        if (shell_input_cmd) {
                /* the import: one pipeline, nothing secret in it */
                cmd = strprintf("%s | psql -X -q -w -v ON_ERROR_STOP=1 -h '%s' -p %s -U '%s' -d '%s'", shell_input_cmd,
                                z->db.host, port, z->db.name, z->db.name);
                char *argv[] = { (char *) "sh", (char *) "-c", cmd, NULL };
                return cmd ? cmd_run_tail(argv, ret_status, ret_tail) : -ENOMEM;
        }
        char *argv[] = { (char *) "psql", (char *) "-X", (char *) "-At", (char *) "-w", (char *) "-h", z->db.host,
                         (char *) "-p", port, (char *) "-U", z->db.name, (char *) "-d", z->db.name, (char *) "-c",
                         (char *) sql, NULL };
        return cmd_run_tail(argv, ret_status, ret_tail);
}

static const char *pg_why(const char *tail) {
        if (!tail)
                return "no output";
        if (strstr(tail, "password authentication failed"))
                return "password authentication failed (the site's db.zabbix-server is not what lab-db1 has)";
        if (strstr(tail, "no pg_hba.conf entry"))
                return "no pg_hba.conf entry for this host (lab-db1's wiring has no line for it)";
        if (strstr(tail, "does not exist"))
                return "the role or database does not exist (lab-db1 has not created its consumers yet)";
        return tail;
}

/* The provider's PostgreSQL and this Zabbix's supported range (zabbix_db's pg_major,
 * zabbix_pg_max): what decides AllowUnsupportedDBVersions. Unknown stays 0 (nothing overridden). */
static void versions(struct zrun *z) {
        _cleanup_free_ char *tail = NULL, *ver = NULL;
        int st = 0;
        unsigned num = 0;
        if (psql(z, NULL, "SHOW server_version_num", &st, &tail) >= 0 && st == 0 && tail && sscanf(tail, "%u", &num) == 1)
                z->db.pg_major = num / 10000;
        char *q[] = { (char *) "dpkg-query", (char *) "-W", (char *) "-f", (char *) "${Version}",
                      (char *) "zabbix-server-pgsql", NULL };
        if (cmd_run_tail(q, &st, &ver) >= 0 && st == 0)
                z->db.zabbix_pg_max = zabbix_pg_max_major(ver);
        if (z->db.pg_major && z->db.zabbix_pg_max && z->db.pg_major > z->db.zabbix_pg_max)
                log_warning("%s runs PostgreSQL %u; Zabbix %s supports up to %u: AllowUnsupportedDBVersions=1",
                            z->dbwhat, z->db.pg_major, strna(ver), z->db.zabbix_pg_max);
}

/* 0: schema present, 1: imported now. */
static int database(struct zrun *z, char **reason) {
        const struct zabbix_ctx *c = z->c;
        int r = wait_for(z->dbwhat, z->db.host, z->db.port, c->wait_sec, reason);
        if (r < 0)
                return r;
        _cleanup_free_ char *pass = zabbix_pgpass_render(&z->db, z->password);
        if (!pass)
                return -ENOMEM;
        r = mkdir_parents_at(c->root_fd, "run/rackstack", 0700);
        if (r >= 0)
                r = write_file_atomic(c->root_fd, PGPASS, pass, strlen(pass), 0600);
        OPENSSL_cleanse(pass, strlen(pass));
        if (r < 0)
                return r;
        setenv("PGPASSFILE", "/" PGPASS, 1);
        setenv("PGCONNECT_TIMEOUT", "10", 1);
        _cleanup_free_ char *tail = NULL, *pipeline = NULL, *self = NULL;
        int st = 0;
        /* the database may be up before lab-db1's firstboot made our role: retried within the bound too */
        double end = now_monotonic() + c->wait_sec;
        for (;;) {
                free(tail);
                tail = NULL;
                r = psql(z, NULL, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public' "
                                  "AND table_name = 'dbversion'", &st, &tail);
                if (r < 0 || st == 0 || now_monotonic() >= end || strstr(strempty(tail), "password authentication failed"))
                        break;
                log_info("%s: %s; retrying", z->dbwhat, pg_why(tail));
                sleep(3);
        }
        if (r < 0 || st != 0) {
                *reason = strprintf("%s refuses %s: %s", z->dbwhat, z->db.name, r < 0 ? strerror(-r) : pg_why(tail));
                r = r < 0 ? r : -EACCES;
                goto out;
        }
        versions(z);
        if (tail && streq(tail, "1")) {
                r = 0;
                goto out;
        }
        /* One transaction: a kill mid-import leaves the database empty, and the rerun imports once.
         * data.sql has its own START TRANSACTION/COMMIT: inside ours the first is a no-op and its
         * COMMIT ends the whole import; warnings about that are silenced. */
        /* Through our own sql-batch filter (sql-batch.h): a thousand statements per round trip. */
        if (!(self = realpath("/proc/self/exe", NULL))) {
                r = -errno;
                goto out;
        }
        struct buf b = {};
        buf_puts(&b, "{ echo 'SET client_min_messages = error;'; echo 'BEGIN;'; zcat");
        for (const char *const *f = zabbix_schema_files; *f; f++)
                buf_printf(&b, " '/%s'", *f);
        buf_puts(&b, "; echo 'COMMIT;'; } | ");
        buf_put_sh_quoted(&b, self);
        buf_puts(&b, " zabbix sql-batch");
        if (!(pipeline = buf_steal(&b))) {
                r = -ENOMEM;
                goto out;
        }
        /* A run killed mid-import on a host that then rebooted leaves its session on lab-db1 (a
         * half-open connection, holding its uncommitted tables) until TCP gives up, hours later.
         * Nothing of ours works without the schema: our role's other sessions are ended first. */
        free(tail);
        tail = NULL;
        r = psql(z, NULL, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = current_user "
                          "AND pid <> pg_backend_pid()", &st, &tail);
        if (r >= 0 && st == 0 && tail && !streq(tail, "0"))
                log_info("%s: ended %s earlier session(s) of %s before the import", z->dbwhat, tail, z->db.name);
        log_info("importing Zabbix's schema into %s on %s", z->db.name, z->db.provider);
        double t0 = now_monotonic();
        free(tail);
        tail = NULL;
        r = psql(z, pipeline, NULL, &st, &tail);
        if (r < 0 || st != 0) {
                *reason = strprintf("importing Zabbix's schema into %s failed: %s", z->dbwhat,
                                    r < 0 ? strerror(-r) : pg_why(tail));
                r = r < 0 ? r : -EIO;
                goto out;
        }
        /* A stream cut short (zcat failing half-way) reaches psql's end without COMMIT: the server
         * rolls it back and psql still exits 0. The table itself says whether it is there. */
        free(tail);
        tail = NULL;
        r = psql(z, NULL, "SELECT count(*) FROM dbversion", &st, &tail);
        if (r < 0 || st != 0 || !tail || !streq(tail, "1")) {
                *reason = strprintf("importing Zabbix's schema into %s ended without it (no dbversion row): %s", z->dbwhat,
                                    r < 0 ? strerror(-r) : strna(tail));
                r = r < 0 ? r : -EIO;
                goto out;
        }
        log_info("schema imported in %.0f s", now_monotonic() - t0);
        r = 1;
out:
        (void) unlinkat(c->root_fd, PGPASS, 0);
        unsetenv("PGPASSFILE");
        return r;
}

/* ---- files and services ---- */

static int files(struct zrun *z, char **reason) {
        const struct zabbix_ctx *c = z->c;
        _cleanup_free_ char *ver = NULL, *site = NULL, *conf = zabbix_server_conf_render(&z->db);
        char *dbconf = zabbix_db_conf_render(z->password),
             *php = zabbix_frontend_conf_render(&z->db, z->password, c->host ? c->host : "rackstack");
        int r;
        if ((r = write_owned(z, ZABBIX_SERVER_CONF, conf, 0644, NULL)) < 0 ||
            (r = write_owned(z, ZABBIX_DB_CONF, dbconf, 0640, "zabbix")) < 0 ||
            (r = write_owned(z, ZABBIX_FRONTEND_CONF, php, 0640, "www-data")) < 0)
                *reason = strprintf("cannot write Zabbix's configuration under /etc/zabbix: %s", strerror(-r));
        wipe_free(dbconf);
        wipe_free(php);
        if (r < 0)
                return r;
        if ((r = php_fpm_version(c->root_fd, &ver)) < 0) {
                *reason = strdup("no PHP-FPM in the image (/etc/php/*/fpm): the Zabbix frontend and its API cannot run");
                return r;
        }
        if ((r = write_owned(z, ZABBIX_NGINX_SITE, site = zabbix_nginx_render(ver, ZABBIX_FRONTEND_PORT), 0644, NULL)) < 0)
                return r;
        (void) unlinkat(c->root_fd, ZABBIX_NGINX_LINK, 0);
        if ((r = mkdir_parents_at(c->root_fd, "etc/nginx/sites-enabled", 0755)) < 0 ||
            symlinkat("../sites-available/rackstack-zabbix", c->root_fd, ZABBIX_NGINX_LINK) < 0) {
                r = r < 0 ? r : -errno;
                *reason = strprintf("cannot enable /%s: %s", ZABBIX_NGINX_SITE, strerror(-r));
        }
        return r;
}

static int restart(const struct zrun *z, const char *unit, char **reason) {
        if (!z->c->live)
                return 0;
        char *sys[] = { (char *) "systemctl", (char *) "restart", (char *) unit, NULL },
             *with[] = { (char *) z->c->start_with, (char *) unit, NULL };
        _cleanup_free_ char *tail = NULL;
        int st = 0, r = cmd_run_tail(z->c->start_with ? with : sys, &st, &tail);
        if (r < 0 || st != 0) {
                *reason = strprintf("%s did not (re)start: %s", unit, r < 0 ? strerror(-r) : strna(tail));
                return r < 0 ? r : -EIO;
        }
        return 0;
}

/* ---- the API ---- */

struct api {
        const char *url;
        char *auth;
        unsigned id;
};

static int call(struct api *a, const char *method, char *params, struct ynode **ret_tree, const struct ynode **ret_res,
                char **reason) {
        if (!params)
                return -ENOMEM;
        _cleanup_free_ char *req = zabbix_request(method, params, a->auth, ++a->id), *resp = NULL;
        OPENSSL_cleanse(params, strlen(params));
        free(params);
        if (!req)
                return -ENOMEM;
        struct http_options o = { .timeout_usec = 120ULL * 1000000 };
        char *hdr[] = { NULL };
        size_t n = 0;
        int st = 0;
        int r = http_post_buffer(a->url, &o, "application/json-rpc", hdr, req, strlen(req), &st, &resp, &n);
        OPENSSL_cleanse(req, strlen(req));
        if (r < 0) {
                *reason = strprintf("the Zabbix API at %s (%s): %s", a->url, method, http_strerror(r));
                return r;
        }
        _cleanup_free_ char *err = NULL;
        r = zabbix_response_parse(resp, n, ret_tree, ret_res, &err);
        if (r == -EPROTO)
                *reason = strprintf("%s: %s", method, err);
        else if (r < 0)
                *reason = strprintf("%s: the Zabbix API at %s answered no JSON-RPC (HTTP %d)", method, a->url, st);
        return r;
}

/* The first object's field of an array result: an id from *.get, or NULL when the array is empty. */
static int first_id(const struct ynode *res, const char *field, char **ret) {
        *ret = NULL;
        if (!res || res->type != YNODE_SEQ || !res->n)
                return 0;
        const char *v = ynode_get_scalar(res->items[0], field);
        return v && !(*ret = strdup(v)) ? -ENOMEM : 0;
}
static int created_id(const struct ynode *res, const char *field, char **ret) {
        const struct ynode *ids = ynode_get(res, field);
        if (!ids || ids->type != YNODE_SEQ || !ids->n || ids->items[0]->type != YNODE_SCALAR)
                return -EBADMSG;
        return (*ret = strdup(ids->items[0]->scalar)) ? 0 : -ENOMEM;
}

static int login(struct api *a, const char *password, char **reason) {
        _cleanup_(ynode_freep) struct ynode *t = NULL;
        const struct ynode *res = NULL;
        int r = call(a, "user.login", zabbix_params_login("Admin", password), &t, &res, reason);
        if (r < 0)
                return r;
        if (res->type != YNODE_SCALAR || !(a->auth = strdup(res->scalar)))
                return -EBADMSG;
        return 0;
}

/* Admin logs in with the site's admin.zabbix credential, else with the package's default password
 * (*ret_default: true, the password is to be replaced). */
static int login_admin(struct api *a, const char *admin, bool *ret_default, char **reason) {
        if (!admin) {
                *reason = strdup("no admin." ZABBIX_SERVICE " credential: the API is not set up "
                                 "(Admin keeps the package's password)");
                return -ENOKEY;
        }
        _cleanup_free_ char *why = NULL;
        if (login(a, admin, &why) >= 0)
                return 0;
        free(why);
        why = NULL;
        int r = login(a, "zabbix", &why);
        if (r < 0) {
                *reason = strprintf("Admin's password is neither the site's admin." ZABBIX_SERVICE
                                    " nor the package's default: %s", strna(why));
                return r;
        }
        *ret_default = true;
        return 0;
}

/* The frontend answers once PHP-FPM and nginx are up: asked for its version every 2 s, bounded like
 * the database. ret_version may be NULL when out of memory (the summary then says "(null)"). */
static int api_wait_version(struct api *a, unsigned wait_sec, char **ret_version, char **reason) {
        _cleanup_free_ char *why = NULL;
        double end = now_monotonic() + wait_sec;
        for (;;) {
                _cleanup_(ynode_freep) struct ynode *t = NULL;
                const struct ynode *res = NULL;
                free(why);
                why = NULL;
                int r = call(a, "apiinfo.version", strdup("{}"), &t, &res, &why);
                if (r >= 0) {
                        *ret_version = strdup(res->type == YNODE_SCALAR ? res->scalar : "?");
                        return 0;
                }
                if (now_monotonic() >= end) {
                        *reason = strprintf("the Zabbix frontend did not answer within %u s: %s", wait_sec, strna(why));
                        return r;
                }
                sleep(2);
        }
}

static int api_setup(struct zrun *z, const struct zabbix_plan *p, char **ret_summary, char **reason) {
        struct api a = { .url = z->c->api_url ? z->c->api_url : ZABBIX_API_URL };
        _cleanup_free_ char *groupid = NULL, *templateid = NULL, *actionid = NULL, *version = NULL;
        bool changed_admin = false, made_group = false, made_action = false;
        int r = api_wait_version(&a, z->c->wait_sec, &version, reason);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n && r >= 0; i++) {
                _cleanup_(ynode_freep) struct ynode *t = NULL, *t2 = NULL;
                const struct ynode *res = NULL, *res2 = NULL;
                switch (p->calls[i]) {
                case ZABBIX_CALL_LOGIN:
                        if ((r = login_admin(&a, z->admin, &changed_admin, reason)) < 0)
                                return r;
                        break;
                case ZABBIX_CALL_ADMIN_PASSWORD: {
                        if (!changed_admin)
                                break;
                        if ((r = call(&a, "user.get", zabbix_params_get_by("username", "Admin", "userid"), &t, &res, reason)) < 0)
                                break;
                        _cleanup_free_ char *uid = NULL;
                        if ((r = first_id(res, "userid", &uid)) < 0 || !uid) {
                                r = r < 0 ? r : -EBADMSG;
                                break;
                        }
                        if ((r = call(&a, "user.update", zabbix_params_admin_password(uid, zabbix_version_at_least(version, 6, 2) ? "zabbix" : NULL,
                                                                               z->admin), &t2, &res2,
                                      reason)) < 0)
                                break;
                        free(a.auth);
                        a.auth = NULL;
                        r = login(&a, z->admin, reason);
                        break;
                }
                case ZABBIX_CALL_GROUP:
                        if ((r = call(&a, "hostgroup.get", zabbix_params_get_by("name", p->a.group, "groupid"), &t, &res,
                                      reason)) < 0 ||
                            (r = first_id(res, "groupid", &groupid)) < 0 || groupid)
                                break;
                        if ((r = call(&a, "hostgroup.create", zabbix_params_group_create(p->a.group), &t2, &res2, reason)) >= 0)
                                r = created_id(res2, "groupids", &groupid);
                        made_group = true;
                        break;
                case ZABBIX_CALL_TEMPLATE:
                        if ((r = call(&a, "template.get", zabbix_params_get_by("host", p->a.template_name, "templateid"), &t,
                                      &res, reason)) < 0 ||
                            (r = first_id(res, "templateid", &templateid)) < 0)
                                break;
                        if (!templateid) {
                                *reason = strprintf("the template '%s' is not in the server's database", p->a.template_name);
                                r = -ENOENT;
                        }
                        break;
                case ZABBIX_CALL_ACTION:
                        if (!groupid || !templateid) {
                                r = -EBADMSG;
                                break;
                        }
                        if ((r = call(&a, "action.get", zabbix_params_get_by("name", p->a.action, "actionid"), &t, &res,
                                      reason)) < 0 ||
                            (r = first_id(res, "actionid", &actionid)) < 0)
                                break;
                        made_action = !actionid;
                        r = call(&a, actionid ? "action.update" : "action.create",
                                 zabbix_params_action(&p->a, groupid, templateid, actionid), &t2, &res2, reason);
                        if (r >= 0 && !actionid)
                                r = created_id(res2, "actionids", &actionid);
                        break;
                case ZABBIX_CALL_AUTOREG_PSK:
                        if (!z->psk) {
                                *reason = strdup("no zabbix-psk credential: autoregistration would accept no agent of the site");
                                r = -ENOKEY;
                                break;
                        }
                        r = call(&a, "autoregistration.update", zabbix_params_autoreg_psk(p->a.psk_identity, z->psk), &t,
                                 &res, reason);
                        break;
                default: break;
                }
        }
        if (r >= 0) {
                _cleanup_(ynode_freep) struct ynode *t = NULL;
                const struct ynode *res = NULL;
                _cleanup_free_ char *ignored = NULL;
                (void) call(&a, "user.logout", strdup("[]"), &t, &res, &ignored);
                *ret_summary = strprintf("API %s: action '%s' (id %s, %s: metadata contains '%s' -> add host, group "
                                         "'%s'%s, template '%s'), autoregistration PSK only (identity %s)%s",
                                         strna(version), p->a.action, strna(actionid), made_action ? "created" : "kept",
                                         p->a.metadata, p->a.group, made_group ? " (created)" : "", p->a.template_name,
                                         p->a.psk_identity, changed_admin ? "; Admin's default password replaced" : "");
        }
        wipe_free(a.auth);
        return r < 0 ? r : *ret_summary ? 0 : -ENOMEM;
}

/* A server that does not answer says why in its own log ("Unsupported DB! …", "database is down"):
 * its last three messages (not a process starting) go into the reason, for the console. */
static void server_log_why(const struct zrun *z, char **reason) {
        _cleanup_free_ char *log = NULL;
        if (read_file_full(z->c->root_fd, ZABBIX_SERVER_LOG, 4 * 1024 * 1024, &log, NULL) < 0)
                return;
        const char *msg[3] = {};
        size_t len[3] = {}, k = 0;
        for (const char *l = log; *l;) {
                size_t n = strcspn(l, "\n");
                /* "  PID:YYYYMMDD:HHMMSS.mmm message"; a message's continuation lines have no prefix */
                const char *m = l + strspn(l, " ");
                size_t pre = strspn(m, "0123456789:.");
                const char *text = m + pre + strspn(m + pre, " ");
                size_t tn = n - (size_t) (text - l);
                if (pre > 20 && text < l + n && tn > 0 && !memmem(text, tn, "started [", 9)) {
                        msg[k % 3] = text;
                        len[k % 3] = tn;
                        k++;
                }
                l += n + (l[n] == '\n');
        }
        if (!k)
                return;
        struct buf b = {};
        buf_printf(&b, "%s; its log (/%s):", strna(*reason), ZABBIX_SERVER_LOG);
        for (size_t i = k > 3 ? k - 3 : 0; i < k; i++)
                buf_printf(&b, " %.*s%s", (int) (len[i % 3] > 160 ? 160 : len[i % 3]), msg[i % 3], i + 1 < k ? " /" : "");
        char *more = buf_steal(&b);
        if (more) {
                free(*reason);
                *reason = more;
        }
}

int zabbix_server_setup(const struct zabbix_ctx *c, char **ret_done, char **ret_reason) {
        struct zrun z = { .c = c };
        _cleanup_free_ char *reason = NULL, *api = NULL;
        int imported = 0, r = load(&z, &reason);
        if (r < 0)
                goto out;
        if (c->live && (imported = r = database(&z, &reason)) < 0)
                goto out;
        if ((r = files(&z, &reason)) < 0)
                goto out;
        if (c->live) {
                _cleanup_free_ char *fpm = NULL, *ver = NULL;
                if ((r = php_fpm_version(c->root_fd, &ver)) < 0 || !(fpm = strprintf("php%s-fpm.service", ver))) {
                        r = r < 0 ? r : -ENOMEM;
                        goto out;
                }
                if ((r = restart(&z, "zabbix-server.service", &reason)) < 0 || (r = restart(&z, fpm, &reason)) < 0 ||
                    (r = restart(&z, "nginx.service", &reason)) < 0)
                        goto out;
                if ((r = wait_for("the Zabbix server (127.0.0.1:10051)", "127.0.0.1", 10051, c->wait_sec, &reason)) < 0) {
                        server_log_why(&z, &reason);
                        goto out;
                }
                if (!z.admin && z.creds_gone) {
                        /* a rerun after a completed join: the API was set up then, with what is gone now */
                        api = strdup("API not touched: the credentials were removed after the join");
                        goto done;
                }
                struct zabbix_autoreg a = zabbix_autoreg_default;
                if (c->psk_identity)
                        a.psk_identity = c->psk_identity;
                struct zabbix_plan p;
                zabbix_plan_make(&a, &p);
                if ((r = api_setup(&z, &p, &api, &reason)) < 0)
                        goto out;
                /* The server reads the autoregistration PSK from its configuration cache, which it
                 * syncs every 60 s: an agent that tries before would be turned away and wait its
                 * RefreshActiveChecks (120 s). What systemctl reload zabbix-server runs. */
                char *reload[] = { (char *) "zabbix_server", (char *) "-c", (char *) "/" ZABBIX_SERVER_CONF,
                                   (char *) "-R", (char *) "config_cache_reload", NULL };
                _cleanup_free_ char *tail = NULL;
                int st = 0;
                if ((r = cmd_run_tail(reload, &st, &tail)) < 0 || st != 0) {
                        reason = strprintf("zabbix_server -R config_cache_reload: %s", r < 0 ? strerror(-r) : strna(tail));
                        r = r < 0 ? r : -EIO;
                        goto out;
                }
        }
done:
        *ret_done = strprintf("%s: database %s on %s%s; %s", c->live ? "running" : "configured", z.db.name, z.dbwhat,
                              imported == 1 ? " (schema imported)" : c->live ? " (schema present)" : "",
                              api ? api : "offline: no API calls");
        r = *ret_done ? 0 : -ENOMEM;
out:
        if (r < 0)
                *ret_reason = reason ? TAKE_PTR(reason) : strdup(strerror(-r));
        zrun_done(&z);
        return r;
}
