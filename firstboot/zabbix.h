/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wiring.h"
#include "yaml-tree.h"

/* The Zabbix server on comm (issue 14): a PostgreSQL consumer of the database host like the
 * applications (profiles/comm.yaml: zabbix-server needs postgresql, so the db host makes the role
 * and database "zabbix_server" with a pg_hba line for comm's VLAN-40 address, and the site's
 * db.zabbix-server password reaches both ends), and the other half of every host's join: the
 * agents (join.c's join_render_zabbix) send "HostMetadata=rackstack role=ROLE" over PSK; the
 * server's autoregistration action matches that metadata and adds the host, links a template and
 * puts it in a host group.
 *
 * What firstboot does on comm, in order (zabbix-step.c):
 *   1. the database: wait (bounded, logged) for lab-db1's PostgreSQL, log in as zabbix_server with
 *      the password (a refusal names the dependency and the credential), import Debian's schema
 *      (/usr/share/zabbix-server-pgsql: schema, images, data) in ONE transaction, only if the
 *      database has no "dbversion" table: a run killed mid-import leaves an empty database, and
 *      a rerun imports once;
 *   2. files: zabbix_server.conf (DBHost = db's VLAN-40 address; no password), the password in
 *      ZABBIX_DB_CONF (root:zabbix 0640) pulled in with Include; the frontend's zabbix.conf.php
 *      (root:www-data 0640: PHP needs the password too) and an nginx site on 127.0.0.1:8080 for
 *      it through PHP-FPM;
 *   3. zabbix-server, PHP-FPM and nginx (re)started;
 *   4. the JSON-RPC API (zabbix_api_*): Admin's default password replaced by the site's
 *      admin.zabbix-server, the host group, the template, the autoregistration action (created or
 *      brought back to the plan: never a second one) and the autoregistration PSK (tls_accept PSK
 *      only, the site's zabbix-psk under identity "rackstack").
 * The password never reaches a unit, a command line, the journal, the console or status.json:
 * psql gets it through a 0600 PGPASSFILE that is removed after; the API's requests are not logged. */

#define ZABBIX_SERVICE "zabbix-server"     /* the consumer's name in the wiring and the credentials */
#define ZABBIX_SERVER_CONF "etc/zabbix/zabbix_server.conf"
#define ZABBIX_SERVER_LOG "var/log/zabbix-server/zabbix_server.log"
#define ZABBIX_DB_CONF "etc/zabbix/rackstack-db.conf"
#define ZABBIX_FRONTEND_CONF "etc/zabbix/zabbix.conf.php"
#define ZABBIX_NGINX_SITE "etc/nginx/sites-available/rackstack-zabbix"
#define ZABBIX_NGINX_LINK "etc/nginx/sites-enabled/rackstack-zabbix"
#define ZABBIX_SCHEMA_DIR "usr/share/zabbix-server-pgsql"
#define ZABBIX_FRONTEND_PORT 8080
#define ZABBIX_API_URL "http://127.0.0.1:8080/api_jsonrpc.php"
#define ZABBIX_PSK_IDENTITY "rackstack"

struct zabbix_db {
        char *provider; /* "lab-db1" */
        char *host;     /* "10.0.40.12": the provider's VLAN-40 address */
        uint16_t port;
        char *name;     /* role and database: "zabbix_server" */
        /* PostgreSQL's major version on the provider and the newest this Zabbix supports (0:
         * unknown). Debian 12's Zabbix 6.0.14 refuses to start on Ubuntu 24.04's PostgreSQL 16
         * ("Unsupported DB! … higher than maximum of 159999"): when the provider's is newer, the
         * server configuration says AllowUnsupportedDBVersions=1, Zabbix's own override, and why. */
        unsigned pg_major, zabbix_pg_max;
};
void zabbix_db_done(struct zabbix_db *d);

/* From the wiring: the link where self consumes postgresql for service ZABBIX_SERVICE. -ENOENT
 * when there is none (a site without a database host, or a host that is not the Zabbix server). */
int zabbix_db_from_wiring(const struct wiring *w, const char *self, struct zabbix_db *ret);

/* The newest PostgreSQL major version a Zabbix server of this Debian package version supports
 * (Zabbix's requirements table: 6.0.0–6.0.20 up to 15, 6.0.21 and 7.0 up to 16); 0 for a version
 * this table does not know (then nothing is overridden). */
unsigned zabbix_pg_max_major(const char *dpkg_version);

/* ---- renderers (pure; NULL on OOM) ---- */
char *zabbix_server_conf_render(const struct zabbix_db *db);
char *zabbix_db_conf_render(const char *password);
/* The password back from ZABBIX_DB_CONF's text (a rerun after the credentials were removed);
 * -ENOENT when it has none. */
int zabbix_db_conf_password(const char *text, char **ret);
char *zabbix_frontend_conf_render(const struct zabbix_db *db, const char *password, const char *server_name);
char *zabbix_nginx_render(const char *php_version, uint16_t port);
/* One .pgpass line for exactly this host, port, database and user (':' and '\' escaped). */
char *zabbix_pgpass_render(const struct zabbix_db *db, const char *password);
/* The SQL files to import, in order, relative to ZABBIX_SCHEMA_DIR's parent root. */
extern const char *const zabbix_schema_files[];

/* ---- the API: a pure plan of the calls, then apply ---- */

struct zabbix_autoreg {
        const char *action;       /* the action's name */
        const char *metadata;     /* what HostMetadata must contain */
        const char *group;        /* host group the hosts are added to (created if missing) */
        const char *template_name; /* template linked to them (must exist: Debian's data.sql has it) */
        const char *psk_identity;
};
/* The site's: "rackstack: register the site's hosts", "rackstack role=", "rackstack",
 * "Linux by Zabbix agent", "rackstack". */
extern const struct zabbix_autoreg zabbix_autoreg_default;

enum zabbix_call {
        ZABBIX_CALL_LOGIN,          /* user.login with the site's Admin password, else the default */
        ZABBIX_CALL_ADMIN_PASSWORD, /* user.update: the site's password replaces "zabbix" */
        ZABBIX_CALL_GROUP,          /* hostgroup.get, hostgroup.create if missing */
        ZABBIX_CALL_TEMPLATE,       /* template.get: its id */
        ZABBIX_CALL_ACTION,         /* action.get; action.create, or action.update to the plan */
        ZABBIX_CALL_AUTOREG_PSK,    /* autoregistration.update: PSK only, the site's identity and key */
        _ZABBIX_CALL_MAX,
};

struct zabbix_plan {
        enum zabbix_call calls[_ZABBIX_CALL_MAX];
        size_t n;
        struct zabbix_autoreg a;
};
/* Pure: the calls in order. */
void zabbix_plan_make(const struct zabbix_autoreg *a, struct zabbix_plan *ret);
const char *zabbix_call_describe(enum zabbix_call c);
/* The plan as JSON (--plan): the calls and what they set, no secret. NULL on OOM. */
char *zabbix_plan_json(const struct zabbix_plan *p);

/* JSON-RPC 2.0 request text; auth may be NULL. NULL on OOM. */
char *zabbix_request(const char *method, const char *params_json, const char *auth, unsigned id);
/* A response: 0 with *ret_result (the "result" node; an owned tree in *ret_tree); -EPROTO with
 * *ret_error ("Zabbix API error -32602: Invalid params.: …") for an error object; -EBADMSG for
 * what is not a JSON-RPC response. */
int zabbix_response_parse(const char *text, size_t n, struct ynode **ret_tree, const struct ynode **ret_result,
                          char **ret_error);

/* Params (JSON text), pure. */
char *zabbix_params_login(const char *user, const char *password);
char *zabbix_params_get_by(const char *field, const char *value, const char *output); /* {"output":[out],"filter":{field:[value]}} */
char *zabbix_params_group_create(const char *name);
/* current: the password being replaced, which Zabbix 6.2+ wants and 6.0 refuses (NULL: left out). */
char *zabbix_params_admin_password(const char *userid, const char *current, const char *new_password);
/* "6.0.14" is at least 6.0 and not 6.2. */
bool zabbix_version_at_least(const char *version, unsigned major, unsigned minor);
/* action.create (actionid NULL) or action.update (actionid given). */
char *zabbix_params_action(const struct zabbix_autoreg *a, const char *groupid, const char *templateid,
                           const char *actionid);
char *zabbix_params_autoreg_psk(const char *identity, const char *psk);

/* ---- on the host (zabbix-step.c) ---- */

struct zabbix_ctx {
        int root_fd;
        const char *host;         /* this host's short name: "lab-comm1" */
        bool live;                /* start services, reach the database and the API */
        const char *start_with;   /* NULL: "systemctl restart UNIT"; else PROG UNIT (tests) */
        const char *api_url;      /* NULL: ZABBIX_API_URL */
        const char *psk_identity; /* NULL: ZABBIX_PSK_IDENTITY */
        unsigned wait_sec;        /* how long lab-db1 and the services have to answer */
};

/* Steps 1-4 above. *ret_done says what was done; on failure *ret_reason says what failed,
 * naming the dependency ("PostgreSQL on lab-db1 (10.0.40.12:5432) …"). -ENOENT with a reason
 * when this host has no zabbix-server wiring (no credentials bundle). */
int zabbix_server_setup(const struct zabbix_ctx *c, char **ret_done, char **ret_reason);

/* `rackstack-firstboot zabbix server|agent-conf …` */
int verb_zabbix(int argc, char **argv);
