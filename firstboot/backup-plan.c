/* SPDX-License-Identifier: MIT */
/* The hosts' backup jobs: the plan from the wiring and every text the two ends get (backup.h). Pure. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backup.h"
#include "cleanup.h"
#include "escape.h"
#include "parse.h"
#include "util.h"

static void client_done(struct backup_client *c) {
        free(c->host);
        free(c->service);
        free(c->account);
        free(c->cred);
}

static void target_done(struct backup_target *t) {
        free(t->service);
        free(t->server);
        free(t->account);
}

void backup_plan_done(struct backup_plan *p) {
        for (size_t i = 0; i < p->n_clients; i++)
                client_done(&p->clients[i]);
        for (size_t i = 0; i < p->n_targets; i++)
                target_done(&p->targets[i]);
        free(p->clients);
        free(p->targets);
        *p = (struct backup_plan) {};
}

/* useradd's limit is 32 characters */
static char *account_name(const char *host) {
        if (strlen(BACKUP_ACCOUNT_PREFIX) + strlen(host) > 32) {
                errno = ENAMETOOLONG;
                return NULL;
        }
        return strprintf(BACKUP_ACCOUNT_PREFIX "%s", host);
}

static int add_client(struct backup_plan *p, const struct wiring_link *l) {
        for (size_t i = 0; i < p->n_clients; i++)
                if (streq(p->clients[i].host, l->consumer))
                        return 0; /* one account per host, whichever of its services needs it */
        _cleanup_free_ char *acct = account_name(l->consumer);
        if (!acct)
                return -errno;
        struct backup_client *n = realloc(p->clients, (p->n_clients + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->clients = n;
        struct backup_client c = { .host = strdup(l->consumer), .service = strdup(l->service), .addr = l->consumer_addr,
                                   .account = TAKE_PTR(acct), .cred = strprintf("backup-ssh.%s.pub", l->consumer) };
        if (!c.host || !c.service || !c.cred) {
                client_done(&c);
                return -ENOMEM;
        }
        p->clients[p->n_clients++] = c;
        return 0;
}

static int add_target(struct backup_plan *p, const struct wiring_link *l) {
        for (size_t i = 0; i < p->n_targets; i++)
                if (streq(p->targets[i].server, l->provider))
                        return 0;
        _cleanup_free_ char *acct = account_name(l->consumer);
        if (!acct)
                return -errno;
        struct backup_target *n = realloc(p->targets, (p->n_targets + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        p->targets = n;
        struct backup_target t = { .service = strdup(l->service), .server = strdup(l->provider),
                                   .server_addr = l->provider_addr, .account = TAKE_PTR(acct) };
        if (!t.service || !t.server) {
                target_done(&t);
                return -ENOMEM;
        }
        p->targets[p->n_targets++] = t;
        return 0;
}

int backup_plan(const struct wiring *w, const char *self, struct backup_plan *ret) {
        struct backup_plan p = {};
        int r = 0;
        for (size_t i = 0; i < w->n && r >= 0; i++) {
                const struct wiring_link *l = &w->links[i];
                if (!streq(l->kind, "backup"))
                        continue;
                if (streq(l->provider, self))
                        r = add_client(&p, l);
                else if (streq(l->consumer, self))
                        r = add_target(&p, l);
        }
        if (r < 0) {
                backup_plan_done(&p);
                return r;
        }
        *ret = p;
        return 0;
}

/* "ssh-ed25519 " and base64, then an optional comment of printable characters: nothing that
 * could add an option or a second line to authorized_keys. */
static bool pub_valid(const char *pub, size_t *ret_len) {
        size_t n = strcspn(pub, "\n");
        if (pub[n] && pub[n + 1])
                return false; /* more than one line */
        if (!startswith(pub, "ssh-ed25519 "))
                return false;
        const char *b = pub + strlen("ssh-ed25519 ");
        size_t k = strspn(b, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");
        if (k < 68 || (b[k] && b[k] != ' ' && b[k] != '\n'))
                return false;
        for (const char *c = b + k; c < pub + n; c++)
                if ((unsigned char) *c < 0x20 || *c == 0x7f)
                        return false;
        *ret_len = n;
        return true;
}

char *backup_authorized_keys_render(const struct backup_client *c, const char *pub) {
        size_t n;
        if (!pub_valid(pub, &n)) {
                errno = EINVAL;
                return NULL;
        }
        _cleanup_free_ char *a = format_ipv4(c->addr);
        if (!a)
                return NULL;
        /* restrict: no forwarding, no TTY, no ~/.ssh/rc; from=: that host's address only */
        return strprintf("# %s on %s: its backup job, SFTP into " BACKUP_ROOT "/%s only\n"
                         "restrict,from=\"%s\" %.*s\n",
                         c->service, c->host, c->host, a, (int) n, pub);
}

char *backup_sshd_render(const struct backup_plan *p) {
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot: the hosts' backup jobs (restic over SFTP) log in here, each\n"
                     "# with its own key from its own address, chrooted to its directory on the backup disk, SFTP only.\n");
        for (size_t i = 0; i < p->n_clients; i++) {
                const struct backup_client *c = &p->clients[i];
                buf_printf(&b,
                           "\nMatch User %s\n"
                           "\tAuthorizedKeysFile " BACKUP_KEYS_DIR "/%s.keys\n"
                           "\tAuthenticationMethods publickey\n"
                           "\tPubkeyAuthentication yes\n"
                           "\tPasswordAuthentication no\n"
                           "\tKbdInteractiveAuthentication no\n"
                           "\tChrootDirectory " BACKUP_ROOT "/%s\n"
                           "\tForceCommand internal-sftp -d /repo\n"
                           "\tAllowTcpForwarding no\n"
                           "\tAllowAgentForwarding no\n"
                           "\tAllowStreamLocalForwarding no\n"
                           "\tX11Forwarding no\n"
                           "\tPermitTTY no\n"
                           "\tPermitTunnel no\n"
                           "\tGatewayPorts no\n",
                           c->account, c->account, c->host);
        }
        return buf_steal(&b);
}

char *backup_nft_render(const struct backup_plan *p) {
        if (!p->n_clients)
                return strdup("");
        struct buf b = {};
        buf_puts(&b, "\n# SSH (SFTP for the backup jobs) from each backup client's address, from the wiring in this host's credentials\n"
                     "table inet rackstack {\n"
                     "\tchain input {\n");
        for (size_t i = 0; i < p->n_clients; i++) {
                uint32_t a = p->clients[i].addr;
                buf_printf(&b, "\t\tip saddr %u.%u.%u.%u tcp dport 22 accept comment ", a >> 24, (a >> 16) & 0xff,
                           (a >> 8) & 0xff, a & 0xff);
                _cleanup_free_ char *t = strprintf("backup: %s on %s", p->clients[i].service, p->clients[i].host);
                buf_put_nft_string(&b, strna(t));
                buf_putc(&b, '\n');
        }
        buf_puts(&b, "\t}\n}\n");
        return buf_steal(&b);
}

char *backup_env_render(const struct backup_target *t, const char *self) {
        _cleanup_free_ char *a = format_ipv4(t->server_addr);
        if (!a)
                return NULL;
        return strprintf("# Written by rackstack-firstboot: where %s's backup job (" BACKUP_UNIT ".service) sends its dumps.\n"
                         "BACKUP_HOST=%s\n"
                         "BACKUP_DIR=" BACKUP_DUMP_DIR "\n"
                         "BACKUP_SSH_KEY=" BACKUP_CONF_DIR "/ssh.key\n"
                         "BACKUP_KNOWN_HOSTS=" BACKUP_CONF_DIR "/known_hosts\n"
                         "BACKUP_SSH_TARGET=%s@%s\n"
                         "RESTIC_REPOSITORY=sftp:%s@%s:/repo\n"
                         "RESTIC_PASSWORD_FILE=" BACKUP_CONF_DIR "/restic.password\n"
                         "RESTIC_CACHE_DIR=/var/cache/" BACKUP_UNIT "\n"
                         "# retention: restic forget --prune after each backup\n"
                         "BACKUP_KEEP_DAILY=7\n"
                         "BACKUP_KEEP_WEEKLY=5\n"
                         "BACKUP_KEEP_MONTHLY=12\n",
                         self, self, t->account, a, t->account, a);
}

char *backup_service_render(const struct backup_target *t) {
        return strprintf("# Written by rackstack-firstboot.\n"
                         "[Unit]\n"
                         "Description=rackstack: PostgreSQL dumps to %s's backup disk (restic over SFTP)\n"
                         "Wants=network-online.target\n"
                         "After=network-online.target postgresql.service\n"
                         "RequiresMountsFor=" BACKUP_DUMP_DIR "\n"
                         "\n"
                         "[Service]\n"
                         "Type=oneshot\n"
                         "EnvironmentFile=" BACKUP_CONF_DIR "/env\n"
                         "ExecStart=" BACKUP_SCRIPT "\n"
                         "Nice=10\n"
                         "IOSchedulingClass=idle\n"
                         "CacheDirectory=" BACKUP_UNIT "\n"
                         "CacheDirectoryMode=0700\n"
                         "PrivateTmp=yes\n"
                         "ProtectSystem=full\n"
                         "ReadWritePaths=" BACKUP_CONF_DIR "\n"
                         "TimeoutStartSec=12h\n",
                         t->server);
}

char *backup_timer_render(const struct backup_target *t) {
        return strprintf("# Written by rackstack-firstboot.\n"
                         "[Unit]\n"
                         "Description=rackstack: nightly PostgreSQL backup to %s\n"
                         "\n"
                         "[Timer]\n"
                         "OnCalendar=*-*-* 01:30:00\n"
                         "RandomizedDelaySec=30min\n"
                         "Persistent=true\n"
                         "\n"
                         "[Install]\n"
                         "WantedBy=timers.target\n",
                         t->server);
}

const char backup_script_text[] =
        "#!/bin/bash\n"
        "# Written by rackstack-firstboot: dump every PostgreSQL database of this host and send the dumps to\n"
        "# the backup host with restic over SFTP. Run by " BACKUP_UNIT ".service, whose EnvironmentFile= says\n"
        "# where. Any failure exits non-zero: the unit fails and the journal says why.\n"
        "set -euo pipefail\n"
        "for v in BACKUP_HOST BACKUP_DIR BACKUP_SSH_KEY BACKUP_KNOWN_HOSTS BACKUP_SSH_TARGET RESTIC_REPOSITORY \\\n"
        "        RESTIC_PASSWORD_FILE BACKUP_KEEP_DAILY BACKUP_KEEP_WEEKLY BACKUP_KEEP_MONTHLY; do\n"
        "        if [ -z \"${!v:-}\" ]; then\n"
        "                echo \"pg-backup: $v is not set\" >&2\n"
        "                exit 2\n"
        "        fi\n"
        "done\n"
        "export RESTIC_REPOSITORY RESTIC_PASSWORD_FILE\n"
        "if [ -n \"${RESTIC_CACHE_DIR:-}\" ]; then export RESTIC_CACHE_DIR; fi\n"
        "# the backup host's key is pinned in known_hosts at the first connection, checked at every other\n"
        "ssh_cmd=\"ssh -i $BACKUP_SSH_KEY -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$BACKUP_KNOWN_HOSTS\"\n"
        "ssh_cmd+=\" -o StrictHostKeyChecking=accept-new -o ConnectTimeout=30 -o ServerAliveInterval=60 $BACKUP_SSH_TARGET -s sftp\"\n"
        "rs() { restic -o \"sftp.command=$ssh_cmd\" \"$@\"; }\n"
        "as_postgres() { runuser -u \"${BACKUP_PG_USER:-postgres}\" -- \"$@\"; }\n"
        "\n"
        "# 1. the dumps: into dumps.new; it replaces dumps only when every one succeeded, so a complete\n"
        "#    set is always on the disk (a failed run leaves the last good one)\n"
        "umask 077\n"
        "new=$BACKUP_DIR/dumps.new old=$BACKUP_DIR/dumps.old\n"
        "rm -rf -- \"$new\"\n"
        "mkdir -- \"$new\"\n"
        "as_postgres pg_dumpall --globals-only >\"$new/globals.sql\"\n"
        "dbs=$(as_postgres psql -X -At -v ON_ERROR_STOP=1 -d postgres \\\n"
        "        -c 'SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1')\n"
        "n=0\n"
        "while IFS= read -r db; do\n"
        "        [ -n \"$db\" ] || continue\n"
        "        f=$new/${db//\\//_}.dump\n"
        "        # -Z0: restic compresses and deduplicates what pg_dump leaves uncompressed\n"
        "        as_postgres pg_dump -Fc -Z0 --dbname=\"$db\" >\"$f\"\n"
        "        pg_restore --list \"$f\" >/dev/null\n"
        "        n=$((n + 1))\n"
        "done <<<\"$dbs\"\n"
        "if [ \"$n\" = 0 ]; then\n"
        "        echo \"pg-backup: no database to dump\" >&2\n"
        "        exit 1\n"
        "fi\n"
        "sync -f \"$new/globals.sql\"\n"
        "rm -rf -- \"$old\"\n"
        "if [ -e \"$BACKUP_DIR/dumps\" ]; then mv -T -- \"$BACKUP_DIR/dumps\" \"$old\"; fi\n"
        "mv -T -- \"$new\" \"$BACKUP_DIR/dumps\"\n"
        "rm -rf -- \"$old\"\n"
        "echo \"pg-backup: $n databases and the globals dumped into $BACKUP_DIR/dumps\"\n"
        "\n"
        "# 2. the repository, made once: restic init only when the backup host says there is none\n"
        "if ! err=$(rs cat config 2>&1 >/dev/null); then\n"
        "        if grep -q 'Is there a repository at the following location' <<<\"$err\"; then\n"
        "                echo \"pg-backup: no repository at $RESTIC_REPOSITORY yet: restic init\"\n"
        "                rs init\n"
        "        else\n"
        "                printf 'pg-backup: %s\\n' \"$err\" >&2\n"
        "                exit 1\n"
        "        fi\n"
        "fi\n"
        "\n"
        "# 3. the snapshot, then the retention policy\n"
        "rs backup --host \"$BACKUP_HOST\" --tag postgresql \"$BACKUP_DIR/dumps\"\n"
        "rs forget --host \"$BACKUP_HOST\" --tag postgresql --keep-daily \"$BACKUP_KEEP_DAILY\" \\\n"
        "        --keep-weekly \"$BACKUP_KEEP_WEEKLY\" --keep-monthly \"$BACKUP_KEEP_MONTHLY\" --prune\n"
        "echo \"pg-backup: snapshot of $BACKUP_DIR/dumps stored in $RESTIC_REPOSITORY\"\n";
