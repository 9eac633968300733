/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "creds.h"
#include "profile.h"
#include "wiring.h"

/* A site's secrets. `rackstack-build secrets init SITE-DIR` makes every secret the site's hosts
 * need under SITE-DIR/secrets/ (directories 0700, files 0600, owned by whoever runs it: root on a
 * build host); `secrets bundle SITE-DIR HOST` packs exactly that host's share into one file
 * (common/creds.h). A secret that exists is never replaced unless forced: hosts may already use it.
 *
 * Which secrets, and who receives each under which credential name (plan, pure):
 *   ca.key                 nobody: it stays in SITE-DIR (certificates are issued by `init`)
 *   ca.crt                 every host, as ca.crt
 *   hosts/H/tls.key|crt    H, as tls.key / tls.crt (SAN: H's FQDN, short name and addresses; the
 *                          reverse proxy's host also every route's name)
 *   hosts/H/token          H, as token (signs its status events)
 *   hosts/H/ipa-otp        H, as ipa-otp; the identity server, as ipa-otp.H (it pre-creates H)
 *   ipa-admin-password, ipa-dm-password   the identity server
 *   zabbix-psk             every host (Zabbix autoregistration has one PSK per server)
 *   db.S                   S's host and the PostgreSQL host (role+database S, '-' as '_')
 *   redis.S                S's host and the Redis host (an ACL user per consumer)
 *   redis                  the Redis host (the default user)
 *   admin.S                S's host, for every service that needs another role (the applications)
 *   backup/C/ssh.key       C, as backup-ssh.key: the OpenSSH Ed25519 key C's backup job logs in
 *                          with to the backup host (a service of C with needs: [backup])
 *   backup/C/ssh.pub       the backup host, as backup-ssh.C.pub (its authorized_keys line for C)
 *   backup/C/restic        C, as backup-restic: the password of C's restic repository there
 *   wiring (not secret)    every host: its lines of the site's wiring plan (common/wiring.h) */

enum secret_kind {
        SECRET_PASSWORD, /* 24 random bytes as 48 hex digits: safe in URLs, YAML, ini, SQL */
        SECRET_PSK,      /* 32 random bytes as 64 hex digits (Zabbix wants >= 32) */
        SECRET_CA_KEY,
        SECRET_CA_CERT,
        SECRET_TLS_KEY,
        SECRET_TLS_CERT,
        SECRET_SSH_KEY, /* OpenSSH Ed25519 private key, made by ssh-keygen */
        SECRET_SSH_PUB, /* its public line, from the key beside it (".key" for ".pub"; ssh-keygen -y) */
};

struct secret_grant {
        char *host; /* short name */
        char *cred; /* the name under /run/credentials/rackstack/ */
};

struct secret_item {
        char *store; /* under SITE-DIR/secrets/: "db.nextcloud", "hosts/lab-db1/tls.key" */
        enum secret_kind kind;
        char *subject_host; /* TLS: whose certificate */
        char **sans;        /* TLS: DNS names and IP addresses ("IP:10.0.40.12") */
        struct secret_grant *grants;
        size_t n_grants;
};

struct secrets_plan {
        struct secret_item *items;
        size_t n;
        struct wiring wiring;
        char *domain;
};

int secrets_plan_make(const struct site *site, const struct profile *const *profiles, size_t n_profiles,
                      struct secrets_plan *ret, char **ret_error);
void secrets_plan_done(struct secrets_plan *p);
const struct secret_item *secrets_plan_find(const struct secrets_plan *p, const char *store);

/* Make what is missing (everything with force). dir is SITE-DIR. ret_made/ret_kept count items.
 * The SSH keys are OpenSSH's own ssh-keygen's (package openssh-client), run in a private 0700
 * directory inside the store and removed after; a key is then written to the store like every
 * other secret (atomically, 0600). A missing ssh-keygen is -ENOENT (logged). */
int secrets_init(const char *dir, const struct secrets_plan *p, bool force, size_t *ret_made, size_t *ret_kept);
/* Whether the plan has SSH keys (and init needs ssh-keygen). */
bool secrets_plan_has_ssh(const struct secrets_plan *p);
/* host's bundle; -ENOENT (and *ret_missing) when a secret it needs has not been made. */
int secrets_bundle(const char *dir, const struct secrets_plan *p, const char *host, struct creds *ret,
                   char **ret_missing);

/* ---- pki.c: the site CA and host certificates (OpenSSL), PEM in and out ---- */
int pki_make_key(char **ret_pem);
int pki_make_ca(const char *key_pem, const char *domain, char **ret_cert_pem);
int pki_issue(const char *ca_key_pem, const char *ca_cert_pem, const char *key_pem, const char *cn,
              char *const *sans, char **ret_cert_pem);
/* 1 if cert_pem is signed by ca_cert_pem's key, 0 if not, negative on a parse error. */
int pki_signed_by(const char *cert_pem, const char *ca_cert_pem);
