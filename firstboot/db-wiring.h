/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wiring.h"

/* What the database host makes for its consumers, from the wiring lines in its credentials bundle
 * (common/wiring.h) and the passwords beside them (db.SERVICE, redis.SERVICE). Pure: the plan and
 * every file are text the unit tests check, and the services step writes and runs.
 *
 * PostgreSQL: per consumer service one role and one database of the same name ('-' as '_'),
 * owned by the role, CONNECT revoked from PUBLIC; the role's password is given as a SCRAM-SHA-256
 * verifier computed here, so the password itself never reaches psql, the server's log or
 * pg_authid; one pg_hba line per consumer: that database, that role, that host's address /32,
 * scram-sha-256 (a neighbour on the same VLAN is not let in). The SQL is idempotent: it creates
 * what is missing and (re)sets the password, so a rerun, or a run killed half-way, ends with
 * exactly one role and one database per consumer.
 * PgBouncer: the same databases and the same pg_hba lines (auth_type = hba), with the same
 * verifiers in its auth_file, so a client authenticates to PgBouncer with the password it uses for
 * PostgreSQL and PgBouncer logs in to PostgreSQL with the client's SCRAM keys.
 * Redis: an ACL user per consumer (named after the service), its password as a SHA-256 hash.
 * MariaDB (need "mysql", for the applications that support only MySQL/MariaDB): per consumer one
 * database and one account of the same name, the account bound to the consumer's address
 * ('snipe_it'@'10.0.40.15': MariaDB's pg_hba line) and given as its mysql_native_password hash, so
 * the password itself never reaches the client, the server's log or mysql.global_priv. Idempotent
 * like PostgreSQL's SQL. */

struct db_consumer {
        char *service;   /* "snipe-it" */
        char *name;      /* role and database: "snipe_it" */
        char *cred;      /* "db.snipe-it" / "redis.snipe-it" */
        char *host;      /* "lab-it1" */
        uint32_t addr;   /* the consumer's address on the database VLAN */
};

struct db_wiring {
        struct db_consumer *pg, *redis, *mysql;
        size_t n_pg, n_redis, n_mysql;
};

/* self: this host's short name; links where it is the provider are taken. */
int db_wiring_plan(const struct wiring *w, const char *self, struct db_wiring *ret);
void db_wiring_done(struct db_wiring *p);

/* "SCRAM-SHA-256$4096:SALT$STOREDKEY:SERVERKEY" (RFC 5802/7677, as PostgreSQL stores it). */
char *pg_scram_verifier(const char *password, const uint8_t salt[16]);
/* "#" and the SHA-256 of the password in hex: Redis ACL's hashed form. */
char *redis_acl_hash(const char *password);

/* "*" and 40 upper-case hex digits: SHA1(SHA1(password)), MariaDB's mysql_native_password form. */
char *mysql_native_hash(const char *password);
/* hashes[i] belongs to p->mysql[i]. Run by the mariadb client as root (unix_socket). */
char *db_wiring_mysql_sql(const struct db_wiring *p, char *const *hashes);

/* verifiers[i] belongs to p->pg[i]. NULL on OOM. */
char *db_wiring_sql(const struct db_wiring *p, char *const *verifiers);
/* The consumer lines for pg_hba.conf (PostgreSQL's and PgBouncer's). */
char *db_wiring_hba(const struct db_wiring *p);
/* PgBouncer's hba file: loopback and the consumer lines. */
char *pgbouncer_hba_render(const struct db_wiring *p);
/* pgbouncer.ini: listen on listen ("127.0.0.1,10.0.40.12"), forward each database to 127.0.0.1:5432. */
char *pgbouncer_ini_render(const struct db_wiring *p, const char *listen, uint16_t port);
char *pgbouncer_userlist_render(const struct db_wiring *p, char *const *verifiers);
/* hashes[i] belongs to p->redis[i] (redis_acl_hash()); an empty one leaves that user out. */
char *redis_acl_render(const struct db_wiring *p, char *const *hashes);
/* Each consumer's hash from an earlier redis_acl_render() text (the drop-in a run with the bundle
 * wrote), for a rerun without the bundle: "" where that text has no such user (nothing invented).
 * *ret_missing counts those. NULL on OOM. */
char **redis_acl_hashes_kept(const char *old, const struct db_wiring *p, size_t *ret_missing);

/* ---- on the host (db-wiring-load.c) ---- */

/* The plan with its secrets resolved: from <root>/run/credentials/rackstack/wiring and the
 * db.SERVICE / redis.SERVICE files beside it. verifiers and hashes are made with fresh salts; the
 * passwords themselves are wiped once hashed. -ENOENT when there is no wiring (no bundle, or a
 * host that provides nothing); a missing or unsafe password file is an error naming it. */
struct db_wiring_set {
        struct db_wiring plan;
        char **verifiers; /* per plan.pg */
        char **hashes;    /* per plan.redis */
        char **mysql_hashes; /* per plan.mysql */
        char *redis_default; /* the "redis" credential, if given (NULL: keep the host's own) */
        bool kept; /* the plan is from the wiring an earlier run kept (no bundle): no verifiers or
                    * hashes (every array above NULL); the accounts are left as they are */
};

/* allow_kept: with no bundle, the plan from the wiring an earlier run kept (creds-place.h), kept set. */
int db_wiring_load(int root_fd, const char *self, bool allow_kept, struct db_wiring_set *ret, char **ret_error);
void db_wiring_set_done(struct db_wiring_set *s);
/* Writes wiring.sql, pg_hba-consumers.conf, pgbouncer.ini, userlist.txt, pgbouncer-hba.conf and
 * redis-acl.conf (and mariadb-wiring.sql with MariaDB consumers) into dir (0600), for `rackstack-firstboot db-wiring` and its tests. */
int db_wiring_write_dir(const struct db_wiring_set *s, const char *dir, const char *listen);

/* `rackstack-firstboot db-wiring --host NAME --out DIR [--root DIR] [--listen ADDRS]`: what the
 * database host would run and write for its consumers, into DIR, from ROOT's credentials. */
int verb_db_wiring(int argc, char **argv);
