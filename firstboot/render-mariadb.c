/* SPDX-License-Identifier: MIT */
/* MariaDB on the db host for SuiteCRM, Snipe-IT and GLPI, which support only MySQL/MariaDB: the
 * server's configuration, and the firewall's rules for its consumers and Redis's. The accounts and databases are
 * db-wiring.c's (db_wiring_mysql_sql), from the same wiring as PostgreSQL's. */
#include <inttypes.h>
#include <string.h>

#include "apps.h"
#include "cleanup.h"
#include "db-wiring.h"
#include "escape.h"
#include "util.h"

char *mariadb_cnf_render(const char *listen, uint64_t buffer_pool) {
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot: MariaDB for the applications that support only MySQL/MariaDB.\n"
                     "# Each consumer has its own database and an account from its own address only.\n"
                     "[mysqld]\n");
        buf_printf(&b, "bind-address = %s\n", listen);
        buf_puts(&b, "port = 3306\n"
                     "# accounts are 'name'@'address': no reverse lookups\n"
                     "skip-name-resolve\n"
                     "character-set-server = utf8mb4\n"
                     "collation-server = utf8mb4_unicode_ci\n");
        if (buffer_pool)
                buf_printf(&b, "innodb_buffer_pool_size = %" PRIu64 "M\n", buffer_pool >> 20 ? buffer_pool >> 20 : 1);
        return buf_steal(&b);
}

/* Rules for one provider's consumers: that port from each consumer's address on the database VLAN. */
static void nft_consumers(struct buf *b, const struct db_consumer *c, size_t n, unsigned port, const char *what) {
        for (size_t i = 0; i < n; i++) {
                uint32_t a = c[i].addr;
                buf_printf(b, "\t\tip saddr %u.%u.%u.%u tcp dport %u accept comment ", a >> 24, (a >> 16) & 0xff,
                           (a >> 8) & 0xff, a & 0xff, port);
                _cleanup_free_ char *t = strprintf("%s: %s on %s", what, c[i].service, c[i].host);
                buf_put_nft_string(b, strna(t));
                buf_putc(b, '\n');
        }
}

char *db_consumers_nft_render(const struct db_wiring *p) {
        if (!p->n_mysql && !p->n_redis)
                return strdup("");
        struct buf b = {};
        buf_puts(&b, "\n# MariaDB (3306) and Redis (6379) from their consumers only, from the wiring in this host's credentials\n"
                     "table inet rackstack {\n"
                     "\tchain input {\n");
        nft_consumers(&b, p->mysql, p->n_mysql, MARIADB_PORT, "MariaDB");
        nft_consumers(&b, p->redis, p->n_redis, REDIS_PORT, "Redis");
        buf_puts(&b, "\t}\n}\n");
        return buf_steal(&b);
}
