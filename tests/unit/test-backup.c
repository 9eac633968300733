/* SPDX-License-Identifier: MIT */
/* The backup jobs (issue 14): the wiring link, the secrets and who gets them, the SSH key
 * ssh-keygen makes, and every text firstboot renders for the two ends (backup.h). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup.h"
#include "cleanup.h"
#include "creds-place.h"
#include "db-wiring.h"
#include "fileio.h"
#include "profile.h"
#include "secrets.h"
#include "util.h"
#include "wiring.h"

struct siteset {
        struct site *site;
        struct profile *p[16];
        size_t n;
};

static void load(struct siteset *s) {
        struct diags d = {};
        *s = (struct siteset) {};
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

static bool granted(const struct secrets_plan *p, const char *store, const char *host, const char *cred) {
        const struct secret_item *it = secrets_plan_find(p, store);
        for (size_t i = 0; it && i < it->n_grants; i++)
                if (streq(it->grants[i].host, host) && streq(it->grants[i].cred, cred))
                        return true;
        return false;
}

/* The seed's site: lab-db1's pg-backup to lab-infra1, on the default VLAN 20 (lab-infra1 has no
 * database-VLAN address); its secrets go to exactly those two, each its own part. */
static void test_link_and_secrets(void **state) {
        struct siteset s;
        load(&s);
        struct secrets_plan p = {};
        assert_int_equal(secrets_plan_make(s.site, (const struct profile *const *) s.p, s.n, &p, NULL), 0);
        size_t n = 0;
        const struct wiring_link *l = NULL;
        for (size_t i = 0; i < p.wiring.n; i++)
                if (streq(p.wiring.links[i].kind, "backup")) {
                        n++;
                        l = &p.wiring.links[i];
                }
        assert_int_equal(n, 1);
        assert_string_equal(l->service, "pg-backup");
        assert_string_equal(l->consumer, "lab-db1");
        assert_string_equal(l->provider, "lab-infra1");
        assert_int_equal(l->consumer_addr, 0x0a00320c); /* 10.0.50.12 */
        assert_int_equal(l->provider_addr, 0x0a003213); /* 10.0.50.19 */

        assert_true(granted(&p, "backup/lab-db1/ssh.key", "lab-db1", "backup-ssh.key"));
        assert_true(granted(&p, "backup/lab-db1/restic", "lab-db1", "backup-restic"));
        assert_true(granted(&p, "backup/lab-db1/ssh.pub", "lab-infra1", "backup-ssh.lab-db1.pub"));
        assert_int_equal(secrets_plan_find(&p, "backup/lab-db1/ssh.key")->n_grants, 1);
        assert_int_equal(secrets_plan_find(&p, "backup/lab-db1/restic")->n_grants, 1);
        assert_int_equal(secrets_plan_find(&p, "backup/lab-db1/ssh.pub")->n_grants, 1);
        assert_int_equal(secrets_plan_find(&p, "backup/lab-db1/ssh.key")->kind, SECRET_SSH_KEY);
        assert_int_equal(secrets_plan_find(&p, "backup/lab-db1/ssh.pub")->kind, SECRET_SSH_PUB);
        /* a backup link is not an application: no admin password for it */
        assert_null(secrets_plan_find(&p, "admin.pg-backup"));
        secrets_plan_done(&p);
        unload(&s);
}

/* A site without a backup host still wires: the backup need is left out, nothing else is. */
static void test_no_backup_host(void **state) {
        static const char site[] =
                "domain: d.example\ndefault-vlan: 20\n"
                "vlans:\n  - { id: 20, name: infrastructure, subnet: 10.0.50.0/24, gateway: 10.0.50.1 }\n"
                "  - { id: 40, name: database, subnet: 10.0.40.0/24 }\n"
                "hosts:\n  - { name: db1, role: db, addresses: { 20: 10.0.50.12, 40: 10.0.40.12 } }\n";
        struct diags d = {};
        struct siteset s = {};
        assert_int_equal(site_load_buffer("site.yaml", site, strlen(site), &d, &s.site), 0);
        assert_int_equal(profile_load("profiles", "db", &d, &s.p[s.n++]), 0);
        struct secrets_plan p = {};
        assert_int_equal(secrets_plan_make(s.site, (const struct profile *const *) s.p, s.n, &p, NULL), 0);
        for (size_t i = 0; i < p.wiring.n; i++)
                assert_string_not_equal(p.wiring.links[i].kind, "backup");
        assert_null(secrets_plan_find(&p, "backup/db1/ssh.key"));
        secrets_plan_done(&p);
        diags_done(&d);
        unload(&s);
}

static char *slurp(const char *dir, const char *store) {
        _cleanup_free_ char *path = strprintf("%s/secrets/%s", dir, store);
        char *t = NULL;
        size_t n;
        assert_int_equal(read_file_full(AT_FDCWD, path, 1 << 20, &t, &n), 0);
        return t;
}

static void put(const char *dir, const char *store, const char *text) {
        _cleanup_free_ char *path = strprintf("%s/secrets/%s", dir, store);
        assert_int_equal(write_file_atomic(AT_FDCWD, path, text, strlen(text), 0600), 0);
}

static char *shell_line(const char *cmd) {
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        char line[4096] = {};
        char *got = fgets(line, sizeof line, f);
        assert_int_equal(pclose(f), 0);
        return got ? strdup(line) : NULL;
}

/* No ssh-keygen's private directory left behind in the store. */
static void no_keygen_dir(const char *dir) {
        _cleanup_free_ char *cmd = strprintf("find %s/secrets -name '.ssh-keygen.*' | wc -l", dir), *n = shell_line(cmd);
        assert_string_equal(n, "0\n");
}

/* The backup key is ssh-keygen's, in OpenSSH's format; its public line is ssh-keygen -y's with the
 * store's comment, made again when it stops matching the key; a missing ssh-keygen is -ENOENT and
 * a key of another type is refused. Real ssh-keygen (openssh-client, tests/tools/deps.sh). */
static void test_ssh_key(void **state) {
        struct siteset s;
        load(&s);
        struct secrets_plan p = {};
        assert_int_equal(secrets_plan_make(s.site, (const struct profile *const *) s.p, s.n, &p, NULL), 0);
        assert_true(secrets_plan_has_ssh(&p));
        char dir[] = "/tmp/rackstack-sshkey-XXXXXX";
        assert_non_null(mkdtemp(dir));
        size_t made = 0, kept = 0;

        /* no ssh-keygen in PATH: an error, not a crash, and no private directory left */
        _cleanup_free_ char *path = strdup(getenv("PATH"));
        assert_int_equal(setenv("PATH", "/nonexistent", 1), 0);
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), -ENOENT);
        assert_int_equal(setenv("PATH", path, 1), 0);
        no_keygen_dir(dir);

        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        no_keygen_dir(dir);
        _cleanup_free_ char *key = slurp(dir, "backup/lab-db1/ssh.key"), *pub = slurp(dir, "backup/lab-db1/ssh.pub");
        assert_true(startswith(key, "-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert_true(endswith(key, "\n-----END OPENSSH PRIVATE KEY-----\n"));
        assert_true(startswith(pub, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"));
        assert_true(endswith(pub, " rackstack-backup@lab-db1\n"));
        assert_int_equal(strlen(pub), strlen("ssh-ed25519 ") + 68 + strlen(" rackstack-backup@lab-db1\n"));
        /* ssh-keygen's own reading of the key, comment and all */
        _cleanup_free_ char *cmd = strprintf("ssh-keygen -y -f %s/secrets/backup/lab-db1/ssh.key", dir), *y = shell_line(cmd);
        assert_string_equal(y, pub);

        /* again: kept; a public key that no longer matches its key is made again, and only it */
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 0);
        put(dir, "backup/lab-db1/ssh.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther x\n");
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 1);
        _cleanup_free_ char *pub2 = slurp(dir, "backup/lab-db1/ssh.pub"), *key2 = slurp(dir, "backup/lab-db1/ssh.key");
        assert_string_equal(pub, pub2);
        assert_string_equal(key, key2);

        /* a lost key: a new one, and its public key with it */
        _cleanup_free_ char *kpath = strprintf("%s/secrets/backup/lab-db1/ssh.key", dir);
        assert_int_equal(unlink(kpath), 0);
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), 0);
        assert_int_equal(made, 2);
        _cleanup_free_ char *pub3 = slurp(dir, "backup/lab-db1/ssh.pub");
        assert_string_not_equal(pub, pub3);

        /* not an Ed25519 key, or not a key at all: refused, nothing written over the public key */
        _cleanup_free_ char *ecdsa = strprintf("rm -f %s && ssh-keygen -q -t ecdsa -N '' -f %s && echo ok", kpath, kpath),
                            *ok = shell_line(ecdsa);
        assert_string_equal(ok, "ok\n");
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), -EBADMSG);
        put(dir, "backup/lab-db1/ssh.key", "not a key\n");
        assert_int_equal(secrets_init(dir, &p, false, &made, &kept), -EPROTO);
        _cleanup_free_ char *pub4 = slurp(dir, "backup/lab-db1/ssh.pub");
        assert_string_equal(pub3, pub4);
        no_keygen_dir(dir);

        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
        secrets_plan_done(&p);
        unload(&s);
}

static void plan_of(const char *text, const char *self, struct backup_plan *ret) {
        struct diags d = {};
        struct wiring w = {};
        assert_int_equal(wiring_parse("wiring", text, &d, &w), 0);
        assert_int_equal(backup_plan(&w, self, ret), 0);
        wiring_done(&w);
        diags_done(&d);
}

#define WIRING                                                           \
        "backup pg-backup lab-db1 10.0.50.12 lab-infra1 10.0.50.19\n"    \
        "postgresql nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12\n"  \
        "backup files lab-app1 10.0.50.13 lab-infra1 10.0.50.19\n"

static const char PUB[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWLsWQMev3zEtSeCa+JfyDhIAwJ32YNFC6gpNbjYMDW rackstack-backup@lab-db1\n";

/* The backup host: an account, a keys line, a Match block and a firewall rule per client host. */
static void test_server_renders(void **state) {
        struct backup_plan p = {};
        plan_of(WIRING, "lab-infra1", &p);
        assert_int_equal(p.n_clients, 2);
        assert_int_equal(p.n_targets, 0);
        assert_string_equal(p.clients[0].account, "rsbackup-lab-db1");
        assert_string_equal(p.clients[0].cred, "backup-ssh.lab-db1.pub");

        _cleanup_free_ char *line = backup_authorized_keys_render(&p.clients[0], PUB);
        assert_string_equal(line, "# pg-backup on lab-db1: its backup job, SFTP into /srv/backups/lab-db1 only\n"
                                  "restrict,from=\"10.0.50.12\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWLsWQMev3zEtSeCa+JfyDhIAwJ32YNFC6gpNbjYMDW rackstack-backup@lab-db1\n");
        /* nothing that could smuggle an option or a second key in */
        assert_null(backup_authorized_keys_render(&p.clients[0], "command=\"/bin/sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWLsWQMev3zEtSeCa+JfyDhIAwJ32YNFC6gpNbjYMDW x\n"));
        assert_null(backup_authorized_keys_render(&p.clients[0], "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC x\n"));
        assert_null(backup_authorized_keys_render(&p.clients[0], "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWLsWQMev3zEtSeCa+JfyDhIAwJ32YNFC6gpNbjYMDW a\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIDWLsWQMev3zEtSeCa+JfyDhIAwJ32YNFC6gpNbjYMDW b\n"));
        assert_null(backup_authorized_keys_render(&p.clients[0], "ssh-ed25519 AAAA\n"));

        _cleanup_free_ char *sshd = backup_sshd_render(&p);
        assert_non_null(strstr(sshd, "\nMatch User rsbackup-lab-db1\n"
                                     "\tAuthorizedKeysFile /etc/ssh/rackstack-backup/rsbackup-lab-db1.keys\n"
                                     "\tAuthenticationMethods publickey\n"));
        assert_non_null(strstr(sshd, "\tChrootDirectory /srv/backups/lab-db1\n\tForceCommand internal-sftp -d /repo\n"));
        assert_non_null(strstr(sshd, "\nMatch User rsbackup-lab-app1\n"));
        assert_non_null(strstr(sshd, "\tPermitTTY no\n"));
        assert_non_null(strstr(sshd, "\tAllowTcpForwarding no\n"));
        assert_non_null(strstr(sshd, "\tPasswordAuthentication no\n"));

        _cleanup_free_ char *nft = backup_nft_render(&p);
        assert_non_null(strstr(nft, "table inet rackstack {\n\tchain input {\n"
                                    "\t\tip saddr 10.0.50.12 tcp dport 22 accept comment \"backup: pg-backup on lab-db1\"\n"
                                    "\t\tip saddr 10.0.50.13 tcp dport 22 accept comment \"backup: files on lab-app1\"\n"
                                    "\t}\n}\n"));
        backup_plan_done(&p);

        /* a host that is no backup host gets no rule */
        plan_of(WIRING, "lab-db1", &p);
        assert_int_equal(p.n_clients, 0);
        _cleanup_free_ char *none = backup_nft_render(&p);
        assert_string_equal(none, "");
        backup_plan_done(&p);
}

/* The client: env, units and the job. */
static void test_client_renders(void **state) {
        struct backup_plan p = {};
        plan_of(WIRING, "lab-db1", &p);
        assert_int_equal(p.n_targets, 1);
        const struct backup_target *t = &p.targets[0];
        assert_string_equal(t->server, "lab-infra1");
        assert_string_equal(t->account, "rsbackup-lab-db1");
        _cleanup_free_ char *env = backup_env_render(t, "lab-db1"), *svc = backup_service_render(t),
                            *tmr = backup_timer_render(t);
        assert_non_null(strstr(env, "\nBACKUP_HOST=lab-db1\n"));
        assert_non_null(strstr(env, "\nBACKUP_DIR=/var/backups/postgresql\n"));
        assert_non_null(strstr(env, "\nBACKUP_SSH_TARGET=rsbackup-lab-db1@10.0.50.19\n"));
        assert_non_null(strstr(env, "\nRESTIC_REPOSITORY=sftp:rsbackup-lab-db1@10.0.50.19:/repo\n"));
        assert_non_null(strstr(env, "\nRESTIC_PASSWORD_FILE=/etc/rackstack/backup/restic.password\n"));
        assert_non_null(strstr(env, "\nBACKUP_KEEP_DAILY=7\n"));
        assert_null(strstr(env, "RESTIC_PASSWORD=")); /* the password only in its file */

        assert_non_null(strstr(svc, "\n[Service]\nType=oneshot\nEnvironmentFile=/etc/rackstack/backup/env\n"
                                    "ExecStart=/usr/local/lib/rackstack/pg-backup\n"));
        assert_non_null(strstr(svc, "\nRequiresMountsFor=/var/backups/postgresql\n"));
        assert_non_null(strstr(svc, "\nAfter=network-online.target postgresql.service\n"));
        assert_non_null(strstr(svc, "\nReadWritePaths=/etc/rackstack/backup\n"));
        assert_null(strstr(svc, "[Install]")); /* the timer starts it, nothing else */
        assert_non_null(strstr(tmr, "\n[Timer]\nOnCalendar=*-*-* 01:30:00\nRandomizedDelaySec=30min\nPersistent=true\n"));
        assert_non_null(strstr(tmr, "\n[Install]\nWantedBy=timers.target\n"));

        const char *sh = backup_script_text;
        assert_true(startswith(sh, "#!/bin/bash\n"));
        assert_non_null(strstr(sh, "\nset -euo pipefail\n"));
        assert_non_null(strstr(sh, "pg_dumpall --globals-only"));
        assert_non_null(strstr(sh, "pg_dump -Fc -Z0"));
        assert_non_null(strstr(sh, "StrictHostKeyChecking=accept-new"));
        /* init only when the backup host says there is no repository, never on another error */
        assert_true(strstr(sh, "Is there a repository at the following location") < strstr(sh, "rs init"));
        assert_true(strstr(sh, "rs backup") < strstr(sh, "rs forget"));
        assert_non_null(strstr(sh, "--prune"));
        /* the set replaces the last good one only when complete */
        assert_true(strstr(sh, "pg_restore --list") < strstr(sh, "mv -T -- \"$new\" \"$BACKUP_DIR/dumps\""));
        backup_plan_done(&p);

        /* a host name that would make an account beyond useradd's 32 characters */
        struct diags d = {};
        struct wiring w = {};
        assert_int_equal(wiring_parse("wiring", "backup x a-very-long-host-name-of-thirty 10.0.50.12 inf 10.0.50.19\n", &d, &w), 0);
        assert_int_equal(backup_plan(&w, "inf", &p), -ENAMETOOLONG);
        wiring_done(&w);
        diags_done(&d);
}

static void put_at(int fd, const char *rel, const char *text) {
        assert_int_equal(mkdir_parents_of(fd, rel, 0755), 0);
        assert_int_equal(write_file_atomic(fd, rel, text, strlen(text), 0600), 0);
}

static char *get_at(int fd, const char *rel) {
        char *t = NULL;
        return read_file_full(fd, rel, 1 << 20, &t, NULL) >= 0 ? t : NULL;
}

/* The wiring a rerun without the bundle uses: the bundle's is kept (only when it parses, written
 * only when it differs, 0644), the bundle's always wins, the kept copy is read only when there is
 * no bundle and only for a caller that asks (ret_kept), and nothing is made up when neither is there. */
static void test_wiring_kept(void **state) {
        static const char w1[] = "backup pg-backup lab-db1 10.0.50.12 lab-infra1 10.0.50.19\n",
                          w2[] = "backup pg-backup lab-db1 10.0.50.12 lab-infra1 10.0.50.19\n"
                                 "backup pg-backup lab-db2 10.0.50.22 lab-infra1 10.0.50.19\n";
        char dir[] = "/tmp/rackstack-wkept-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        enum wiring_source src = WIRING_SOURCE_CREDS;
        struct wiring w = {};
        bool kept = true;
        char *why = NULL;

        /* nothing anywhere */
        assert_int_equal(creds_wiring_keep(fd, false, &src), 0);
        assert_int_equal(src, WIRING_SOURCE_NONE);
        assert_int_equal(creds_wiring_load(fd, &w, &kept, &why), -ENOENT);
        assert_int_equal(faccessat(fd, WIRING_KEPT, F_OK, 0), -1);

        /* a bundle: nothing written in a dry run; else kept, 0644, and the load says it is the bundle's */
        put_at(fd, CREDS_DIR "/wiring", w1);
        assert_int_equal(creds_wiring_keep(fd, true, &src), 0);
        assert_int_equal(src, WIRING_SOURCE_CREDS);
        assert_int_equal(faccessat(fd, WIRING_KEPT, F_OK, 0), -1);
        assert_int_equal(creds_wiring_keep(fd, false, &src), 0);
        assert_int_equal(src, WIRING_SOURCE_CREDS);
        _cleanup_free_ char *k1 = get_at(fd, WIRING_KEPT);
        assert_string_equal(k1, w1);
        struct stat st;
        assert_int_equal(fstatat(fd, WIRING_KEPT, &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(creds_wiring_load(fd, &w, &kept, &why), 0);
        assert_false(kept);
        assert_int_equal(w.n, 1);
        wiring_done(&w);

        /* the join removed the bundle: the kept copy, for a caller that asks, and said so */
        assert_int_equal(unlinkat(fd, CREDS_DIR "/wiring", 0), 0);
        assert_int_equal(creds_wiring_keep(fd, false, &src), 0);
        assert_int_equal(src, WIRING_SOURCE_KEPT);
        assert_int_equal(creds_wiring_load(fd, &w, &kept, &why), 0);
        assert_true(kept);
        assert_int_equal(w.n, 1);
        assert_string_equal(w.links[0].consumer, "lab-db1");
        wiring_done(&w);
        assert_int_equal(creds_wiring_load(fd, &w, NULL, &why), -ENOENT); /* the bundle's only */

        /* a new bundle wins and refreshes the copy */
        put_at(fd, CREDS_DIR "/wiring", w2);
        assert_int_equal(creds_wiring_keep(fd, false, &src), 0);
        _cleanup_free_ char *k2 = get_at(fd, WIRING_KEPT);
        assert_string_equal(k2, w2);
        assert_int_equal(creds_wiring_load(fd, &w, &kept, &why), 0);
        assert_false(kept);
        assert_int_equal(w.n, 2);
        wiring_done(&w);

        /* a bundle whose wiring does not parse: not kept over the good copy, and its error is
         * reported, not hidden by falling back */
        put_at(fd, CREDS_DIR "/wiring", "backup pg-backup lab-db1 not-an-address lab-infra1 10.0.50.19\n");
        assert_int_equal(creds_wiring_keep(fd, false, &src), 0);
        assert_int_equal(src, WIRING_SOURCE_CREDS);
        _cleanup_free_ char *k3 = get_at(fd, WIRING_KEPT);
        assert_string_equal(k3, w2);
        assert_true(creds_wiring_load(fd, &w, &kept, &why) < 0);
        assert_non_null(why);
        assert_non_null(strstr(why, "/" CREDS_DIR "/wiring:1"));
        free(why);
        why = NULL;

        /* a kept copy that does not parse is an error naming it, not an empty wiring */
        assert_int_equal(unlinkat(fd, CREDS_DIR "/wiring", 0), 0);
        put_at(fd, WIRING_KEPT, "nonsense\n");
        assert_true(creds_wiring_load(fd, &w, &kept, &why) < 0);
        assert_non_null(strstr(why, "/" WIRING_KEPT ":1"));
        free(why);

        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

/* Redis's ACL users on a rerun without the bundle: each consumer's hash as the run with the bundle
 * wrote it; a consumer that run never wrote is left out (no password to make one from), and a
 * line that is not a whole hash is not taken. */
static void test_redis_hashes_kept(void **state) {
        struct diags d = {};
        struct wiring w = {};
        assert_int_equal(wiring_parse("wiring",
                                      "redis nextcloud lab-app1 10.0.40.13 lab-db1 10.0.40.12\n"
                                      "redis zammad lab-comm1 10.0.40.14 lab-db1 10.0.40.12\n"
                                      "redis odoo lab-erp1 10.0.40.16 lab-db1 10.0.40.12\n",
                                      &d, &w),
                         0);
        struct db_wiring p = {};
        assert_int_equal(db_wiring_plan(&w, "lab-db1", &p), 0);
        assert_int_equal(p.n_redis, 3);
        char *h0 = redis_acl_hash("pw-nextcloud"), *h1 = redis_acl_hash("pw-zammad"), *h2 = redis_acl_hash("pw-odoo");
        char *all[] = { h0, h1, h2, NULL };
        _cleanup_free_ char *full = redis_acl_render(&p, all);
        /* the whole drop-in as the services step writes it: its own lines, then the ACL users */
        _cleanup_free_ char *old = strprintf("bind 127.0.0.1\nrequirepass abc\n%s", full);
        size_t missing = 9;
        char **kept = redis_acl_hashes_kept(old, &p, &missing);
        assert_non_null(kept);
        assert_int_equal(missing, 0);
        _cleanup_free_ char *again = redis_acl_render(&p, kept);
        assert_string_equal(again, full); /* byte for byte */
        strv_free(kept);

        /* odoo's user was never written; zammad's hash is cut short */
        _cleanup_free_ char *partial = strprintf("user nextcloud on %s ~* &* +@all -@admin -@dangerous\n"
                                                 "user zammad on %.40s ~* &* +@all\n",
                                                 h0, h1);
        kept = redis_acl_hashes_kept(partial, &p, &missing);
        assert_non_null(kept);
        assert_int_equal(missing, 2);
        assert_string_equal(kept[0], h0);
        assert_string_equal(kept[1], "");
        assert_string_equal(kept[2], "");
        _cleanup_free_ char *some = redis_acl_render(&p, kept);
        assert_non_null(strstr(some, "user nextcloud on #"));
        assert_null(strstr(some, "user zammad"));
        assert_null(strstr(some, "user odoo"));
        strv_free(kept);

        /* no earlier file at all */
        kept = redis_acl_hashes_kept("", &p, &missing);
        assert_int_equal(missing, 3);
        strv_free(kept);
        free(h0);
        free(h1);
        free(h2);
        db_wiring_done(&p);
        wiring_done(&w);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_link_and_secrets),
                cmocka_unit_test(test_no_backup_host),
                cmocka_unit_test(test_ssh_key),
                cmocka_unit_test(test_server_renders),
                cmocka_unit_test(test_client_renders),
                cmocka_unit_test(test_wiring_kept),
                cmocka_unit_test(test_redis_hashes_kept),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
