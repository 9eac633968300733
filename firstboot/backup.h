/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wiring.h"

/* The hosts' backup jobs (issue 14): a service with needs: [backup] (db's pg-backup) sends its
 * host's dumps with restic over SFTP to the backup host (infra's "backup" service, the backup disk
 * at /srv/backups), on the site's default VLAN (both ends have an address there; the database VLAN
 * is the database server's clients' only, and the backup host is not on it).
 *
 * On the backup host, per client host C (from the wiring lines in its credentials bundle):
 *   - an account "rsbackup-C": system, no password, shell nologin;
 *   - /srv/backups/C (root:root 0755, its SFTP chroot) and /srv/backups/C/repo (the account's,
 *     0700): the restic repository;
 *   - /etc/ssh/rackstack-backup/rsbackup-C.keys (root, 0644): the one line
 *     restrict,from="C's address" ssh-ed25519 … (the public key from the bundle, backup-ssh.C.pub);
 *   - /etc/ssh/sshd_config.d/50-rackstack-backup.conf: Match User rsbackup-C: that keys file only,
 *     public key only, ChrootDirectory, ForceCommand internal-sftp, no forwarding, no TTY;
 *   - the firewall: TCP 22 from C's address (SSH is otherwise management-VLAN only).
 * On the client C:
 *   - /etc/rackstack/backup/ (root 0700): ssh.key, restic.password (from backup-ssh.key and
 *     backup-restic), known_hosts (the backup host's key, pinned at the first connection), env;
 *   - /usr/local/lib/rackstack/pg-backup (the job, bash) and rackstack-pg-backup.service/.timer
 *     (nightly, Persistent=): every database dumped (pg_dump -Fc, the globals with pg_dumpall)
 *     into /var/backups/postgresql/dumps.new, swapped in for dumps only when all succeeded; the
 *     repository made once (restic init only when there is none); restic backup of dumps, then
 *     restic forget --prune by the retention policy. Any failure fails the unit (journal,
 *     systemctl --failed).
 * Pure: the plan and every text here; backup-step.c writes and runs them. */

#define BACKUP_ROOT "/srv/backups"
#define BACKUP_KEYS_DIR "/etc/ssh/rackstack-backup"
#define BACKUP_SSHD_DROPIN "/etc/ssh/sshd_config.d/50-rackstack-backup.conf"
#define BACKUP_CONF_DIR "/etc/rackstack/backup"
#define BACKUP_SCRIPT "/usr/local/lib/rackstack/pg-backup"
#define BACKUP_UNIT "rackstack-pg-backup"
#define BACKUP_DUMP_DIR "/var/backups/postgresql"
#define BACKUP_ACCOUNT_PREFIX "rsbackup-"

struct backup_client { /* on the backup host */
        char *host;    /* "lab-db1" */
        char *service; /* "pg-backup" */
        uint32_t addr;
        char *account; /* "rsbackup-lab-db1" */
        char *cred;    /* "backup-ssh.lab-db1.pub" */
};

struct backup_target { /* on the client */
        char *service;
        char *server; /* "lab-infra1" */
        uint32_t server_addr;
        char *account;
};

struct backup_plan {
        struct backup_client *clients;
        size_t n_clients;
        struct backup_target *targets;
        size_t n_targets;
};

/* Links of kind "backup" where self is provider (clients) or consumer (targets). -ENAMETOOLONG
 * when an account name would exceed 32 characters. */
int backup_plan(const struct wiring *w, const char *self, struct backup_plan *ret);
void backup_plan_done(struct backup_plan *p);

/* The keys file's line for a client: pub is "ssh-ed25519 BASE64 [comment]" (one line; anything
 * else: NULL with errno EINVAL). */
char *backup_authorized_keys_render(const struct backup_client *c, const char *pub);
char *backup_sshd_render(const struct backup_plan *p);
/* The firewall's rules: SSH from each client's address. "" with no clients. */
char *backup_nft_render(const struct backup_plan *p);

/* The client's job (targets[0]): its environment file, units and script. */
char *backup_env_render(const struct backup_target *t, const char *self);
char *backup_service_render(const struct backup_target *t);
char *backup_timer_render(const struct backup_target *t);
extern const char backup_script_text[];

/* ---- on the host (backup-step.c) ---- */
struct backup_ctx {
        int root_fd;
        const char *root; /* "/" live; else files only (and useradd --root when ROOT/etc/passwd exists) */
        const char *host;
        bool live;
};
/* The plan from ROOT's credentials (the wiring); -ENOENT when there is none or no backup link.
 * With ret_kept, from the wiring an earlier run kept when there is no bundle (creds-place.h), and
 * *ret_kept says so. */
int backup_load(int root_fd, const char *host, struct backup_plan *ret, bool *ret_kept, char **ret_why);
/* With the kept wiring (no bundle: no key, no password, no public key to install), what an earlier
 * run set up is left as it is: 0 when every client's keys file (backup host) or the job's key
 * (client) is there, else -ENOENT and *ret_why names what is missing. */
int backup_check_kept(int root_fd, const struct backup_plan *p, char **ret_done, char **ret_why);
int backup_apply(const struct backup_ctx *c, const struct backup_plan *p, char **ret_done, char **ret_why);

/* `rackstack-firstboot backup --host NAME [--root DIR] [--creds BUNDLE] [--plan]` */
int verb_backup(int argc, char **argv);
