/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "db-wiring.h"
#include "parse.h"
#include "util.h"

static void consumer_done(struct db_consumer *c) {
        free(c->service);
        free(c->name);
        free(c->cred);
        free(c->host);
}

void db_wiring_done(struct db_wiring *p) {
        for (size_t i = 0; i < p->n_pg; i++)
                consumer_done(&p->pg[i]);
        for (size_t i = 0; i < p->n_redis; i++)
                consumer_done(&p->redis[i]);
        for (size_t i = 0; i < p->n_mysql; i++)
                consumer_done(&p->mysql[i]);
        free(p->pg);
        free(p->redis);
        free(p->mysql);
        *p = (struct db_wiring) {};
}

static int add(struct db_consumer **v, size_t *n, const struct wiring_link *l, const char *prefix) {
        for (size_t i = 0; i < *n; i++)
                if (streq((*v)[i].service, l->service) && streq((*v)[i].host, l->consumer))
                        return 0;
        struct db_consumer *nv = realloc(*v, (*n + 1) * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        struct db_consumer c = { .service = strdup(l->service), .name = wiring_pg_name(l->service),
                                 .cred = strprintf("%s.%s", prefix, l->service), .host = strdup(l->consumer),
                                 .addr = l->consumer_addr };
        if (!c.service || !c.name || !c.cred || !c.host) {
                consumer_done(&c);
                return -ENOMEM;
        }
        (*v)[(*n)++] = c;
        return 0;
}

int db_wiring_plan(const struct wiring *w, const char *self, struct db_wiring *ret) {
        struct db_wiring p = {};
        int r = 0;
        for (size_t i = 0; i < w->n && r >= 0; i++) {
                const struct wiring_link *l = &w->links[i];
                if (!streq(l->provider, self))
                        continue;
                if (streq(l->kind, "postgresql"))
                        r = add(&p.pg, &p.n_pg, l, "db");
                else if (streq(l->kind, "redis"))
                        r = add(&p.redis, &p.n_redis, l, "redis");
                else if (streq(l->kind, "mysql"))
                        r = add(&p.mysql, &p.n_mysql, l, "db");
        }
        if (r < 0) {
                db_wiring_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

static char *b64(const unsigned char *p, size_t n) {
        char *out = malloc(4 * ((n + 2) / 3) + 1);
        if (out)
                EVP_EncodeBlock((unsigned char *) out, p, (int) n);
        return out;
}

char *pg_scram_verifier(const char *password, const uint8_t salt[16]) {
        unsigned char salted[32], client[32], stored[32], server[32];
        unsigned len = 0;
        char *ret = NULL, *s = NULL, *k = NULL, *v = NULL;
        if (PKCS5_PBKDF2_HMAC(password, (int) strlen(password), salt, 16, 4096, EVP_sha256(), sizeof salted, salted) != 1 ||
            !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *) "Client Key", 10, client, &len) ||
            !HMAC(EVP_sha256(), salted, sizeof salted, (const unsigned char *) "Server Key", 10, server, &len))
                goto out;
        SHA256(client, sizeof client, stored);
        s = b64(salt, 16);
        k = b64(stored, sizeof stored);
        v = b64(server, sizeof server);
        if (s && k && v)
                ret = strprintf("SCRAM-SHA-256$4096:%s$%s:%s", s, k, v);
out:
        free(s);
        free(k);
        free(v);
        OPENSSL_cleanse(salted, sizeof salted);
        OPENSSL_cleanse(client, sizeof client);
        return ret;
}

char *redis_acl_hash(const char *password) {
        unsigned char md[32];
        SHA256((const unsigned char *) password, strlen(password), md);
        char *s = malloc(2 + 64);
        if (!s)
                return NULL;
        s[0] = '#';
        hex_format(md, 32, s + 1);
        return s;
}

char *mysql_native_hash(const char *password) {
        unsigned char a[SHA_DIGEST_LENGTH], b[SHA_DIGEST_LENGTH];
        SHA1((const unsigned char *) password, strlen(password), a);
        SHA1(a, sizeof a, b);
        OPENSSL_cleanse(a, sizeof a);
        char *s = malloc(2 + 2 * SHA_DIGEST_LENGTH);
        if (!s)
                return NULL;
        s[0] = '*';
        hex_format(b, sizeof b, s + 1);
        for (char *c = s + 1; *c; c++)
                if (*c >= 'a' && *c <= 'f')
                        *c = (char) (*c - 'a' + 'A');
        return s;
}

static char *ip(uint32_t a) {
        return format_ipv4(a);
}

char *db_wiring_sql(const struct db_wiring *p, char *const *verifiers) {
        struct buf b = {};
        buf_puts(&b, "-- rackstack-firstboot: a role and a database per consumer (idempotent: what exists is kept,\n"
                     "-- the password is set again). Run by psql as postgres, statement by statement.\n"
                     "\\set ON_ERROR_STOP on\n");
        for (size_t i = 0; i < p->n_pg; i++) {
                const char *n = p->pg[i].name;
                /* names are [a-z0-9_] (common/wiring.c): no quoting can be escaped */
                buf_printf(&b,
                           "-- %s on %s\n"
                           "SELECT 'CREATE ROLE %s LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '%s')\\gexec\n"
                           "ALTER ROLE %s WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD '%s';\n"
                           "SELECT 'CREATE DATABASE %s OWNER %s' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '%s')\\gexec\n"
                           "ALTER DATABASE %s OWNER TO %s;\n"
                           "REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC;\n"
                           "GRANT CONNECT, TEMPORARY ON DATABASE %s TO %s;\n",
                           p->pg[i].service, p->pg[i].host, n, n, n, verifiers[i], n, n, n, n, n, n, n, n);
        }
        return buf_steal(&b);
}

char *db_wiring_mysql_sql(const struct db_wiring *p, char *const *hashes) {
        struct buf b = {};
        buf_puts(&b, "-- rackstack-firstboot: a database and an account per consumer, the account only from the\n"
                     "-- consumer's address (idempotent: what exists is kept, the password is set again).\n");
        for (size_t i = 0; i < p->n_mysql; i++) {
                const char *n = p->mysql[i].name;
                _cleanup_free_ char *a = ip(p->mysql[i].addr);
                /* names are [a-z0-9_] (common/wiring.c), the address dotted digits, the hash [*0-9A-F] */
                buf_printf(&b,
                           "-- %s on %s\n"
                           "CREATE DATABASE IF NOT EXISTS `%s` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;\n"
                           "CREATE USER IF NOT EXISTS '%s'@'%s' IDENTIFIED BY PASSWORD '%s';\n"
                           "ALTER USER '%s'@'%s' IDENTIFIED BY PASSWORD '%s';\n"
                           "GRANT ALL PRIVILEGES ON `%s`.* TO '%s'@'%s';\n",
                           p->mysql[i].service, p->mysql[i].host, n, n, strna(a), hashes[i], n, strna(a), hashes[i], n, n,
                           strna(a));
        }
        buf_puts(&b, "FLUSH PRIVILEGES;\n");
        return buf_steal(&b);
}

char *db_wiring_hba(const struct db_wiring *p) {
        struct buf b = {};
        buf_puts(&b, "# Each consumer: its database, its role, from its own address only.\n");
        for (size_t i = 0; i < p->n_pg; i++) {
                _cleanup_free_ char *a = ip(p->pg[i].addr);
                buf_printf(&b, "host    %-10s %-10s %s/32 scram-sha-256  # %s on %s\n", p->pg[i].name, p->pg[i].name,
                           strna(a), p->pg[i].service, p->pg[i].host);
        }
        return buf_steal(&b);
}

char *pgbouncer_hba_render(const struct db_wiring *p) {
        _cleanup_free_ char *consumers = db_wiring_hba(p);
        /* and loopback, for checks and tools on the database host itself */
        return consumers ? strprintf("host    all        all        127.0.0.1/32 scram-sha-256\n%s", consumers) : NULL;
}

char *pgbouncer_ini_render(const struct db_wiring *p, const char *listen, uint16_t port) {
        struct buf b = {};
        buf_puts(&b, "; Written by rackstack-firstboot: a pool per consumer database, the same clients as\n"
                     "; PostgreSQL's pg_hba.conf lets in, the same SCRAM verifiers.\n"
                     "[databases]\n");
        for (size_t i = 0; i < p->n_pg; i++)
                buf_printf(&b, "%s = host=127.0.0.1 port=5432 dbname=%s\n", p->pg[i].name, p->pg[i].name);
        buf_printf(&b,
                   "\n[pgbouncer]\n"
                   "listen_addr = %s\n"
                   "listen_port = %u\n"
                   "unix_socket_dir = /var/run/postgresql\n"
                   "auth_type = hba\n"
                   "auth_hba_file = /etc/pgbouncer/pg_hba.conf\n"
                   "auth_file = /etc/pgbouncer/userlist.txt\n"
                   "pool_mode = session\n"
                   "max_client_conn = 1000\n"
                   "default_pool_size = 20\n"
                   "ignore_startup_parameters = extra_float_digits\n",
                   listen, port);
        return buf_steal(&b);
}

char *pgbouncer_userlist_render(const struct db_wiring *p, char *const *verifiers) {
        struct buf b = {};
        for (size_t i = 0; i < p->n_pg; i++)
                buf_printf(&b, "\"%s\" \"%s\"\n", p->pg[i].name, verifiers[i]);
        return buf_steal(&b);
}

char *redis_acl_render(const struct db_wiring *p, char *const *hashes) {
        struct buf b = {};
        buf_puts(&b, "# An ACL user per consumer: its own password (as a hash), no administrative commands.\n");
        for (size_t i = 0; i < p->n_redis; i++)
                if (hashes[i][0])
                        buf_printf(&b, "user %s on %s ~* &* +@all -@admin -@dangerous\n", p->redis[i].name, hashes[i]);
        return buf_steal(&b);
}

char **redis_acl_hashes_kept(const char *old, const struct db_wiring *p, size_t *ret_missing) {
        char **h = calloc(p->n_redis + 1, sizeof *h);
        size_t missing = 0;
        for (size_t i = 0; h && i < p->n_redis; i++) {
                _cleanup_free_ char *head = strprintf("user %s on #", p->redis[i].name);
                if (!head) {
                        strv_free(h);
                        return NULL;
                }
                const char *found = NULL;
                for (const char *l = old; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL)
                        if (startswith(l, head)) {
                                const char *x = l + strlen(head) - 1; /* at '#' */
                                size_t n = strspn(x + 1, "0123456789abcdef");
                                if (n == 64 && (x[65] == ' ' || x[65] == '\n'))
                                        found = x;
                        }
                h[i] = found ? strndup(found, 65) : strdup("");
                missing += !found;
                if (!h[i]) {
                        strv_free(h);
                        return NULL;
                }
        }
        if (h)
                *ret_missing = missing;
        return h;
}
