/* SPDX-License-Identifier: MIT */
/* The Zabbix server's configuration and the API calls that set up autoregistration (zabbix.h):
 * pure functions, unit-tested in tests/unit/test-zabbix.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "diag.h"
#include "json.h"
#include "parse.h"
#include "util.h"
#include "zabbix.h"

const struct zabbix_autoreg zabbix_autoreg_default = {
        .action = "rackstack: register the site's hosts",
        .metadata = "rackstack role=",
        .group = "rackstack",
        .template_name = "Linux by Zabbix agent",
        .psk_identity = ZABBIX_PSK_IDENTITY,
};

/* Debian's order (README.Debian): the tables, the images, the data (templates, Admin, …). */
const char *const zabbix_schema_files[] = {
        ZABBIX_SCHEMA_DIR "/schema.sql.gz",
        ZABBIX_SCHEMA_DIR "/images.sql.gz",
        ZABBIX_SCHEMA_DIR "/data.sql.gz",
        NULL,
};

void zabbix_db_done(struct zabbix_db *d) {
        free(d->provider);
        free(d->host);
        free(d->name);
        *d = (struct zabbix_db) {};
}

int zabbix_db_from_wiring(const struct wiring *w, const char *self, struct zabbix_db *ret) {
        for (size_t i = 0; w && i < w->n; i++) {
                const struct wiring_link *l = &w->links[i];
                if (!streq(l->kind, "postgresql") || !streq(l->service, ZABBIX_SERVICE) || !streq(l->consumer, self))
                        continue;
                struct zabbix_db d = { .port = 5432 };
                if (!(d.provider = strdup(l->provider)) || !(d.host = format_ipv4(l->provider_addr)) ||
                    !(d.name = wiring_pg_name(l->service))) {
                        zabbix_db_done(&d);
                        return -ENOMEM;
                }
                *ret = d;
                return 0;
        }
        return -ENOENT;
}

/* ---- files ---- */

unsigned zabbix_pg_max_major(const char *v) {
        unsigned major = 0, minor = 0, patch = 0;
        if (!v)
                return 0;
        const char *colon = strchr(v, ':');
        if (colon)
                v = colon + 1;
        if (sscanf(v, "%u.%u.%u", &major, &minor, &patch) < 2)
                return 0;
        if (major == 6 && minor == 0)
                return patch >= 21 ? 16 : 15;
        if (major == 7 && minor == 0)
                return 16;
        return 0;
}

char *zabbix_server_conf_render(const struct zabbix_db *db) {
        _cleanup_free_ char *allow = NULL;
        if (db->pg_major && db->zabbix_pg_max && db->pg_major > db->zabbix_pg_max &&
            !(allow = strprintf("# %s runs PostgreSQL %u, newer than this Zabbix supports (up to %u): the server\n"
                                "# refuses to start unless told to, with Zabbix's own override.\n"
                                "AllowUnsupportedDBVersions=1\n",
                                db->provider ? db->provider : "the database host", db->pg_major, db->zabbix_pg_max)))
                return NULL;
        return strprintf("# rackstack-firstboot: the Zabbix server on the site's database host (the wiring's\n"
                         "# postgresql link for zabbix-server). The password is in /" ZABBIX_DB_CONF " (root:zabbix\n"
                         "# 0640), pulled in below; it is in no unit and on no command line.\n"
                         "LogFile=/var/log/zabbix-server/zabbix_server.log\n"
                         "PidFile=/run/zabbix/zabbix_server.pid\n"
                         "SocketDir=/run/zabbix\n"
                         "DBHost=%s\n"
                         "DBPort=%u\n"
                         "DBName=%s\n"
                         "DBUser=%s\n"
                         "Include=/" ZABBIX_DB_CONF "\n"
                         "Timeout=4\n"
                         "AlertScriptsPath=/etc/zabbix/alert.d/\n"
                         "FpingLocation=/usr/bin/fping\n"
                         "LogSlowQueries=3000\n"
                         "StatsAllowedIP=127.0.0.1\n"
                         "%s"
                         "Include=/etc/zabbix/zabbix_server.conf.d/*.conf\n",
                         db->host, db->port, db->name, db->name, allow ? allow : "");
}

char *zabbix_db_conf_render(const char *password) {
        if (!password || strpbrk(password, "\n\r"))
                return NULL;
        return strprintf("# rackstack-firstboot: the site's db.zabbix-server password, for zabbix_server only\n"
                         "DBPassword=%s\n",
                         password);
}

int zabbix_db_conf_password(const char *text, char **ret) {
        for (const char *l = text; l && *l;) {
                size_t n = strcspn(l, "\n");
                if (n > 11 && strncmp(l, "DBPassword=", 11) == 0) {
                        char *p = strndup(l + 11, n - 11);
                        if (!p)
                                return -ENOMEM;
                        *ret = p;
                        return 0;
                }
                l += n + (l[n] == '\n');
        }
        return -ENOENT;
}

/* A PHP single-quoted string: only \ and ' are special. */
static void php_quote(struct buf *b, const char *s) {
        buf_putc(b, '\'');
        for (; s && *s; s++) {
                if (*s == '\\' || *s == '\'')
                        buf_putc(b, '\\');
                buf_putc(b, *s);
        }
        buf_putc(b, '\'');
}

char *zabbix_frontend_conf_render(const struct zabbix_db *db, const char *password, const char *server_name) {
        struct buf b = {};
        buf_puts(&b, "<?php\n"
                     "// rackstack-firstboot: the Zabbix frontend (and its API) on the server's database.\n"
                     "// root:www-data 0640: PHP-FPM reads it; the password is the site's db.zabbix-server.\n"
                     "$DB['TYPE'] = 'POSTGRESQL';\n$DB['SERVER'] = ");
        php_quote(&b, db->host);
        buf_printf(&b, ";\n$DB['PORT'] = '%u';\n$DB['DATABASE'] = ", db->port);
        php_quote(&b, db->name);
        buf_puts(&b, ";\n$DB['USER'] = ");
        php_quote(&b, db->name);
        buf_puts(&b, ";\n$DB['PASSWORD'] = ");
        php_quote(&b, password);
        buf_puts(&b, ";\n$DB['SCHEMA'] = '';\n"
                     "$DB['ENCRYPTION'] = false;\n$DB['KEY_FILE'] = '';\n$DB['CERT_FILE'] = '';\n$DB['CA_FILE'] = '';\n"
                     "$DB['VERIFY_HOST'] = false;\n$DB['CIPHER_LIST'] = '';\n"
                     "$DB['VAULT_URL'] = '';\n$DB['VAULT_DB_PATH'] = '';\n$DB['VAULT_TOKEN'] = '';\n"
                     "$DB['DOUBLE_IEEE754'] = true;\n$ZBX_SERVER_NAME = ");
        php_quote(&b, server_name);
        buf_puts(&b, ";\n$IMAGE_FORMAT_DEFAULT = IMAGE_FORMAT_PNG;\n");
        return buf_steal(&b);
}

char *zabbix_nginx_render(const char *php_version, uint16_t port) {
        return strprintf("# rackstack-firstboot: the Zabbix frontend and its JSON-RPC API through PHP %s FPM, on\n"
                         "# loopback only (firstboot's API calls; the firewall does not open %u either).\n"
                         "server {\n"
                         "\tlisten 127.0.0.1:%u;\n"
                         "\troot /usr/share/zabbix;\n"
                         "\tindex index.php;\n"
                         "\tclient_max_body_size 16m;\n"
                         "\tlocation ~ ^/(conf|app|include|local)/ { deny all; }\n"
                         "\tlocation / { try_files $uri $uri/ =404; }\n"
                         "\tlocation ~ \\.php$ {\n"
                         "\t\tinclude snippets/fastcgi-php.conf;\n"
                         "\t\tfastcgi_param PHP_VALUE \"post_max_size=16M\n"
                         "\t\t\tmax_execution_time=300\n"
                         "\t\t\tmax_input_time=300\";\n"
                         "\t\tfastcgi_pass unix:/run/php/php%s-fpm.sock;\n"
                         "\t}\n"
                         "}\n",
                         php_version, port, port, php_version);
}

static void pgpass_field(struct buf *b, const char *s) {
        for (; s && *s; s++) {
                if (*s == ':' || *s == '\\')
                        buf_putc(b, '\\');
                buf_putc(b, *s);
        }
}

char *zabbix_pgpass_render(const struct zabbix_db *db, const char *password) {
        if (!password || strpbrk(password, "\n\r"))
                return NULL;
        struct buf b = {};
        pgpass_field(&b, db->host);
        buf_printf(&b, ":%u:", db->port);
        pgpass_field(&b, db->name);
        buf_putc(&b, ':');
        pgpass_field(&b, db->name);
        buf_putc(&b, ':');
        pgpass_field(&b, password);
        buf_putc(&b, '\n');
        return buf_steal(&b);
}

/* ---- the API plan ---- */

void zabbix_plan_make(const struct zabbix_autoreg *a, struct zabbix_plan *ret) {
        struct zabbix_plan p = { .a = *a };
        for (enum zabbix_call c = 0; c < _ZABBIX_CALL_MAX; c++)
                p.calls[p.n++] = c;
        *ret = p;
}

const char *zabbix_call_describe(enum zabbix_call c) {
        switch (c) {
        case ZABBIX_CALL_LOGIN: return "user.login as Admin (the site's password, else the package's default)";
        case ZABBIX_CALL_ADMIN_PASSWORD: return "user.update: Admin's default password replaced by the site's";
        case ZABBIX_CALL_GROUP: return "hostgroup.get, hostgroup.create if missing";
        case ZABBIX_CALL_TEMPLATE: return "template.get";
        case ZABBIX_CALL_ACTION: return "action.get; action.create, or action.update to this plan";
        case ZABBIX_CALL_AUTOREG_PSK: return "autoregistration.update: PSK only, the site's identity and key";
        default: return "?";
        }
}

char *zabbix_plan_json(const struct zabbix_plan *p) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_key(&j, "calls");
        json_begin_array(&j);
        for (size_t i = 0; i < p->n; i++)
                json_string(&j, zabbix_call_describe(p->calls[i]));
        json_end_array(&j);
        json_kv_string(&j, "action", p->a.action);
        json_kv_string(&j, "metadata_contains", p->a.metadata);
        json_kv_string(&j, "group", p->a.group);
        json_kv_string(&j, "template", p->a.template_name);
        json_kv_string(&j, "psk_identity", p->a.psk_identity);
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        return buf_steal(&j.out);
}

bool zabbix_version_at_least(const char *version, unsigned major, unsigned minor) {
        unsigned long a = 0, b = 0;
        char *end = NULL;
        if (!version)
                return false;
        a = strtoul(version, &end, 10);
        if (end && *end == '.')
                b = strtoul(end + 1, NULL, 10);
        return a > major || (a == major && b >= minor);
}

char *zabbix_request(const char *method, const char *params_json, const char *auth, unsigned id) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "jsonrpc", "2.0");
        json_kv_string(&j, "method", method);
        json_key(&j, "params");
        json_raw(&j, params_json ? params_json : "{}");
        if (auth)
                json_kv_string(&j, "auth", auth);
        json_kv_uint(&j, "id", id);
        json_end_object(&j);
        return buf_steal(&j.out);
}

int zabbix_response_parse(const char *text, size_t n, struct ynode **ret_tree, const struct ynode **ret_result,
                          char **ret_error) {
        _cleanup_(diags_done) struct diags d = {};
        struct ynode *root = NULL;
        if (!text || yaml_load_buffer("zabbix-api", text, n, &d, &root) < 0 || !root || root->type != YNODE_MAP) {
                ynode_free(root);
                return -EBADMSG;
        }
        const struct ynode *res = ynode_get(root, "result"), *err = ynode_get(root, "error");
        if (err && err->type == YNODE_MAP) {
                const char *code = ynode_get_scalar(err, "code"), *msg = ynode_get_scalar(err, "message"),
                           *data = ynode_get_scalar(err, "data");
                char *e = strprintf("Zabbix API error %s: %s%s%s", strna(code), strna(msg), data ? " " : "",
                                    data ? data : "");
                ynode_free(root);
                if (!e)
                        return -ENOMEM;
                *ret_error = e;
                return -EPROTO;
        }
        if (!res) {
                ynode_free(root);
                return -EBADMSG;
        }
        *ret_tree = root;
        *ret_result = res;
        return 0;
}

char *zabbix_params_login(const char *user, const char *password) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "username", user);
        json_kv_string(&j, "password", password);
        json_end_object(&j);
        return buf_steal(&j.out);
}

char *zabbix_params_get_by(const char *field, const char *value, const char *output) {
        struct json j = {};
        json_begin_object(&j);
        json_key(&j, "output");
        json_begin_array(&j);
        json_string(&j, output);
        json_end_array(&j);
        json_key(&j, "filter");
        json_begin_object(&j);
        json_key(&j, field);
        json_begin_array(&j);
        json_string(&j, value);
        json_end_array(&j);
        json_end_object(&j);
        json_end_object(&j);
        return buf_steal(&j.out);
}

char *zabbix_params_group_create(const char *name) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "name", name);
        json_end_object(&j);
        return buf_steal(&j.out);
}

char *zabbix_params_admin_password(const char *userid, const char *current, const char *new_password) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "userid", userid);
        if (current) /* Zabbix 6.2 and later want it for one's own password; 6.0 refuses it */
                json_kv_string(&j, "current_passwd", current);
        json_kv_string(&j, "passwd", new_password);
        json_end_object(&j);
        return buf_steal(&j.out);
}

/* Zabbix's numbers: event source 2 = autoregistration; condition type 24 = host metadata,
 * operator 2 = contains; operation types 2 = add host, 4 = add to host group, 6 = link template. */
char *zabbix_params_action(const struct zabbix_autoreg *a, const char *groupid, const char *templateid,
                           const char *actionid) {
        struct json j = {};
        json_begin_object(&j);
        if (actionid)
                json_kv_string(&j, "actionid", actionid);
        else {
                json_kv_string(&j, "name", a->action);
                json_kv_uint(&j, "eventsource", 2);
        }
        json_kv_uint(&j, "status", 0);
        json_key(&j, "filter");
        json_begin_object(&j);
        json_kv_uint(&j, "evaltype", 0);
        json_key(&j, "conditions");
        json_begin_array(&j);
        json_begin_object(&j);
        json_kv_uint(&j, "conditiontype", 24);
        json_kv_uint(&j, "operator", 2);
        json_kv_string(&j, "value", a->metadata);
        json_end_object(&j);
        json_end_array(&j);
        json_end_object(&j);
        json_key(&j, "operations");
        json_begin_array(&j);
        json_begin_object(&j);
        json_kv_uint(&j, "operationtype", 2);
        json_end_object(&j);
        json_begin_object(&j);
        json_kv_uint(&j, "operationtype", 4);
        json_key(&j, "opgroup");
        json_begin_array(&j);
        json_begin_object(&j);
        json_kv_string(&j, "groupid", groupid);
        json_end_object(&j);
        json_end_array(&j);
        json_end_object(&j);
        json_begin_object(&j);
        json_kv_uint(&j, "operationtype", 6);
        json_key(&j, "optemplate");
        json_begin_array(&j);
        json_begin_object(&j);
        json_kv_string(&j, "templateid", templateid);
        json_end_object(&j);
        json_end_array(&j);
        json_end_object(&j);
        json_end_array(&j);
        json_end_object(&j);
        return buf_steal(&j.out);
}

/* tls_accept 2: PSK only, so an agent without the site's key cannot register at all. */
char *zabbix_params_autoreg_psk(const char *identity, const char *psk) {
        struct json j = {};
        json_begin_object(&j);
        json_kv_uint(&j, "tls_accept", 2);
        json_kv_string(&j, "tls_psk_identity", identity);
        json_kv_string(&j, "tls_psk", psk);
        json_end_object(&j);
        return buf_steal(&j.out);
}
