/* SPDX-License-Identifier: MIT */
/* The join step of a run: its sub-steps in order, each journalled, each with its own status. */
#include <ctype.h>
#include <openssl/crypto.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd.h"
#include "creds-place.h"
#include "fileio.h"
#include "identity.h"
#include "apps.h"
#include "ipa-container.h"
#include "ipa-dns.h"
#include "join.h"
#include "journal.h"
#include "json.h"
#include "parse.h"
#include "log.h"
#include "run-steps.h"
#include "secret.h"
#include "util.h"

struct join_run {
        struct run_ctx *c;
        struct join_config cfg;
        struct journal *journal;
        bool live; /* the running system's root: services are restarted and tools run */
        uint32_t addr; /* this host's address on the site's default VLAN (0 if unknown) */
        char **done; /* sub-steps that ran and succeeded now */
};

static const char *secret_why(int r) {
        switch (r) {
        case -EPERM: return "not a regular file owned by root with mode 0600 or stricter; refused";
        case -ENOENT: return "missing";
        case -ENODATA: return "empty";
        case -EFBIG: return "too large for a secret";
        default: return strerror(-r);
        }
}

static int read_secret(struct join_run *jr, const char *path, struct secret *ret, char **ret_reason) {
        int r = secret_read(jr->c->root_fd, path, ret);
        if (r < 0)
                *ret_reason = strprintf("the secret file %s: %s", path, secret_why(r));
        return r;
}

static int write_conf(struct join_run *jr, const char *path, const char *text, mode_t mode) {
        _cleanup_free_ char *dir = strndup(path, strrchr(path, '/') - path);
        if (!dir || !text)
                return -ENOMEM;
        int r = mkdir_parents_at(jr->c->root_fd, dir, 0755);
        if (r < 0)
                return r;
        return write_file_atomic(jr->c->root_fd, path, text, strlen(text), mode);
}

/* systemctl restart UNIT on the live system; a missing unit is a clear failure. */
static int restart(struct join_run *jr, const char *unit, char **ret_reason) {
        if (!jr->live)
                return 0;
        char *argv[] = { (char *) "systemctl", (char *) "restart", (char *) unit, NULL };
        int st, r = cmd_run(argv, NULL, 0, &st);
        if (r < 0 || st != 0) {
                *ret_reason = strprintf("%s did not (re)start (systemctl restart: %s)", unit,
                                        r < 0 ? strerror(-r) : "failed; see the journal");
                return r < 0 ? r : -EIO;
        }
        return 0;
}

static int probe_ntp(void *u) {
        char **servers = u;
        int r = -EHOSTUNREACH;
        for (char **s = servers; s && *s; s++)
                if ((r = join_probe_ntp(*s, 2000)) >= 0)
                        return r;
        return r;
}
static int probe_dns(void *u) {
        return join_probe_resolve(u);
}

static int wait_tcp(struct join_run *jr, const char *what, const char *host, uint16_t port, char **ret_reason) {
        unsigned n = 0;
        int r = join_wait_tcp(host, port, jr->cfg.wait_sec, &n);
        if (r < 0)
                *ret_reason = strprintf("%s %s does not answer on %u/tcp within %u s (%u attempts): %s", what, host, port,
                                        jr->cfg.wait_sec, n, strerror(-r));
        return r;
}

/* ---- join/time ------------------------------------------------------------------------------------------ */

static int do_time(struct join_run *jr, char **ret_reason) {
        const struct join_config *cfg = &jr->cfg;
        int r;
        if (cfg->serve_subnets) {
                _cleanup_free_ char *t = join_render_chrony_serve(cfg->serve_subnets);
                if ((r = write_conf(jr, JOIN_CHRONY_SERVE, t, 0644)) < 0)
                        return r;
        }
        if (cfg->time_servers) {
                _cleanup_free_ char *t = join_render_chrony_sources(cfg->time_servers);
                if ((r = write_conf(jr, JOIN_CHRONY_SOURCES, t, 0644)) < 0)
                        return r;
        }
        if ((r = restart(jr, "chrony.service", ret_reason)) < 0)
                return r;
        if (!cfg->time_servers) {
                *ret_reason = strdup("this host is the site's time source (local stratum 10); no upstream to wait for");
                return 0;
        }
        _cleanup_free_ char *list = strv_join(cfg->time_servers, ", ");
        unsigned n = 0;
        r = join_retry(probe_ntp, cfg->time_servers, cfg->wait_sec, &n);
        if (r < 0) {
                *ret_reason = strprintf("time server %s did not answer NTP within %u s (%u attempts): %s", strna(list),
                                        cfg->wait_sec, n, strerror(-r));
                return r;
        }
        if (jr->live) {
                /* the server answers; now let chrony step the clock before Kerberos needs it */
                char *argv[] = { (char *) "chronyc", (char *) "-n", (char *) "waitsync", (char *) "60", (char *) "0",
                                 (char *) "0", (char *) "1", NULL };
                int st;
                r = cmd_run(argv, NULL, 0, &st);
                if (r < 0 || st != 0) {
                        *ret_reason = strprintf("chrony did not synchronise with %s within 60 s", strna(list));
                        return r < 0 ? r : -ETIMEDOUT;
                }
        }
        *ret_reason = strprintf("chrony takes time from %s (answered after %u attempt(s))", strna(list), n);
        return 0;
}

/* ---- join/dns ------------------------------------------------------------------------------------------- */

static int do_dns(struct join_run *jr, char **ret_reason) {
        unsigned n = 0;
        int r = join_retry(probe_dns, jr->cfg.dns_name, jr->cfg.wait_sec, &n);
        if (r < 0) {
                *ret_reason = strprintf("%s does not resolve within %u s (%u attempts): %s", jr->cfg.dns_name,
                                        jr->cfg.wait_sec, n, strerror(-r));
                return r;
        }
        *ret_reason = strprintf("%s resolves", jr->cfg.dns_name);
        return 0;
}

/* ---- join/identity -------------------------------------------------------------------------------------- */

static bool ipa_configured(struct join_run *jr, const char *realm) {
        _cleanup_free_ char *conf = NULL;
        if (read_file_full(jr->c->root_fd, "etc/ipa/default.conf", 1 << 20, &conf, NULL) < 0)
                return false;
        if (faccessat(jr->c->root_fd, "etc/krb5.keytab", F_OK, 0) < 0)
                return false;
        if (!realm)
                return true;
        _cleanup_free_ char *want = strprintf("realm = %s\n", realm);
        return want && strstr(conf, want);
}

/* ---- the identity server in its container (ipa-container.h) ---------------------------------------------- */

/* The profile runs FreeIPA as its OCI service: the server is the container, not the host. */
static bool ipa_in_container(struct join_run *jr) {
        const struct service_spec *s = profile_find_service(jr->c->profile, IPA_CONTAINER_SERVICE);
        return s && s->source == SERVICE_SOURCE_OCI;
}

static const char *ipa_container_unit(struct join_run *jr) {
        const struct service_spec *s = profile_find_service(jr->c->profile, IPA_CONTAINER_SERVICE);
        return s && s->unit ? s->unit : IPA_CONTAINER_SERVICE ".service";
}

struct ipa_volume {
        int root_fd;
        const char *data, *realm;
};

static int probe_ipa_volume(void *u) {
        const struct ipa_volume *v = u;
        return ipa_container_volume_configured(v->root_fd, v->data, v->realm) ? 0 : -EAGAIN;
}

/* A FreeIPA install takes minutes (the CA alone): the join's wait, but never under half an hour. */
#define IPA_CONTAINER_INSTALL_SEC 1800

static int do_identity_container(struct join_run *jr, char **ret_reason) {
        const struct ks_join *srv = jr->cfg.ipa_server;
        _cleanup_free_ char *data = app_data_host(jr->c->profile, IPA_CONTAINER_SERVICE);
        if (!data)
                return -ENOMEM;
        const char *rel = data + strspn(data, "/");
        struct ipa_volume v = { .root_fd = jr->c->root_fd, .data = data, .realm = srv->realm };
        _cleanup_free_ char *opts_path = strprintf("%s/" IPA_CONTAINER_OPTIONS, rel);
        if (!opts_path)
                return -ENOMEM;
        if (probe_ipa_volume(&v) == 0) {
                *ret_reason = strprintf("already configured (%s/" IPA_CONTAINER_CONF " and \"" IPA_CONTAINER_DONE
                                        "\" in its log)", data);
                return 0;
        }
        if (!jr->live) {
                *ret_reason = strdup("FreeIPA's container installs only on the live system (--root=/)");
                return -EOPNOTSUPP;
        }
        if (!cmd_exists("podman")) {
                *ret_reason = strdup("podman is not installed in this image (the id role's FreeIPA is a container)");
                return -ENOENT;
        }
        struct secret admin = {}, dm = {};
        int r = read_secret(jr, srv->admin_password_file, &admin, ret_reason);
        if (r < 0)
                return r;
        if (srv->dm_password_file && (r = read_secret(jr, srv->dm_password_file, &dm, ret_reason)) < 0) {
                secret_free(&admin);
                return r;
        }
        _cleanup_free_ char *ip = jr->addr ? format_ipv4(jr->addr) : NULL;
        struct ipa_install_opts o = { .domain = srv->domain, .realm = srv->realm, .admin_password = admin.data,
                                      .ds_password = dm.data, .ip = ip };
        char *text = NULL;
        r = ipa_install_options_render(&o, &text);
        secret_free(&admin);
        secret_free(&dm);
        if (r < 0) {
                *ret_reason = strprintf("the install options: %s", r == -EINVAL ?
                                        "a password, the domain or the realm is empty or has a control character" :
                                        strerror(-r));
                return r;
        }
        /* The passwords' only copy outside the credentials: root-only, in the volume the container
         * reads it from (/data/ipa-server-install-options), removed once the wait is over. */
        if ((r = mkdir_parents_at(jr->c->root_fd, rel, 0700)) >= 0 || r == -EEXIST)
                r = write_file_atomic(jr->c->root_fd, opts_path, text, strlen(text), 0600);
        OPENSSL_cleanse(text, strlen(text));
        free(text);
        if (r < 0) {
                *ret_reason = strprintf("cannot write %s/" IPA_CONTAINER_OPTIONS ": %s", data, strerror(-r));
                return r;
        }
        const char *unit = ipa_container_unit(jr);
        if ((r = restart(jr, unit, ret_reason)) < 0) {
                (void) unlinkat(jr->c->root_fd, opts_path, 0);
                return r;
        }
        unsigned bound = jr->cfg.wait_sec > IPA_CONTAINER_INSTALL_SEC ? jr->cfg.wait_sec : IPA_CONTAINER_INSTALL_SEC, n = 0;
        log_info("join/identity: waiting up to %u s for FreeIPA's container (%s) to install", bound, unit);
        r = join_retry(probe_ipa_volume, &v, bound, &n);
        (void) unlinkat(jr->c->root_fd, opts_path, 0);
        if (r < 0) {
                *ret_reason = strprintf("FreeIPA's container did not report \"" IPA_CONTAINER_DONE "\" within %u s "
                                        "(%u checks); see %s/" IPA_CONTAINER_LOG " and journalctl -u %s",
                                        bound, n, data, unit);
                return -ETIMEDOUT;
        }
        *ret_reason = strprintf("identity server installed in its container (%s) as %s in %s", unit, jr->cfg.fqdn,
                                strna(srv->realm));
        return 0;
}

static int do_identity(struct join_run *jr, char **ret_reason) {
        const struct ks_join *ipa = jr->cfg.ipa, *srv = jr->cfg.ipa_server;
        const char *realm = ipa ? ipa->realm : srv->realm;
        if (!ipa && ipa_in_container(jr))
                return do_identity_container(jr, ret_reason);
        if (ipa_configured(jr, realm)) {
                *ret_reason = strdup("already enrolled (/etc/ipa/default.conf and /etc/krb5.keytab)");
                return 0;
        }
        const char *tool = ipa ? "ipa-client-install" : "ipa-server-install";
        if (ipa) {
                int r = wait_tcp(jr, "IPA server", ipa->server, 88, ret_reason);
                if (r < 0 || (r = wait_tcp(jr, "IPA server", ipa->server, 443, ret_reason)) < 0)
                        return r;
        }
        if (!jr->live) {
                *ret_reason = strprintf("%s runs only on the live system (--root=/)", tool);
                return -EOPNOTSUPP;
        }
        if (!cmd_exists(tool)) {
                *ret_reason = strprintf("%s is not installed in this image (package %s)", tool,
                                        ipa ? "freeipa-client" : "freeipa-server");
                return -ENOENT;
        }
        int r, st = 0;
        if (ipa) {
                /* The one-time password goes in on stdin (-W), never in argv where ps shows it. */
                struct secret otp = {};
                if ((r = read_secret(jr, ipa->otp_file, &otp, ret_reason)) < 0)
                        return r;
                _cleanup_free_ char *input = strprintf("%s\n", otp.data);
                char *argv[24] = { (char *) tool, (char *) "--unattended", (char *) "--server", ipa->server,
                                   (char *) "--hostname", jr->cfg.fqdn, (char *) "--no-ntp", (char *) "--mkhomedir",
                                   (char *) "-W" };
                size_t k = 9;
                if (ipa->domain)
                        argv[k++] = (char *) "--domain", argv[k++] = ipa->domain;
                if (ipa->realm)
                        argv[k++] = (char *) "--realm", argv[k++] = ipa->realm;
                r = input ? cmd_run(argv, input, strlen(input), &st) : -ENOMEM;
                if (input)
                        OPENSSL_cleanse(input, strlen(input));
                secret_free(&otp);
        } else {
                /* ipa-server-install reads no password from stdin when unattended: argv it is, on a
                 * machine with no other users yet, for the length of the install. */
                struct secret admin = {}, dm = {};
                if ((r = read_secret(jr, srv->admin_password_file, &admin, ret_reason)) < 0)
                        return r;
                if (srv->dm_password_file && (r = read_secret(jr, srv->dm_password_file, &dm, ret_reason)) < 0) {
                        secret_free(&admin);
                        return r;
                }
                /* Its DNS too (BIND with the LDAP back end): the site's zone is FreeIPA's, and
                 * join/ipa-dns puts the site's records into it. --no-forwarders: the site names
                 * no upstream resolver (its dns: is this host), so names outside the zone resolve
                 * from the root hints; --auto-reverse: the reverse zone of this host's address
                 * (join/ipa-dns adds any other the records need); --allow-zone-overlap: the seed
                 * keeps an internal zone beside the public one at the registrar (split horizon),
                 * which the overlap check would refuse; --ip-address: the default VLAN's, not
                 * whichever of the host's three addresses its name happens to resolve to. */
                _cleanup_free_ char *ip = jr->addr ? format_ipv4(jr->addr) : NULL;
                char *argv[32] = { (char *) tool, (char *) "--unattended", (char *) "--hostname", jr->cfg.fqdn,
                                   (char *) "--domain", srv->domain, (char *) "--no-ntp", (char *) "--admin-password",
                                   admin.data, (char *) "--ds-password", dm.data ? dm.data : admin.data };
                size_t k = 11;
                for (const char *const *f = ipa_server_dns_flags; *f; f++)
                        argv[k++] = (char *) *f;
                if (srv->realm)
                        argv[k++] = (char *) "--realm", argv[k++] = srv->realm;
                if (ip)
                        argv[k++] = (char *) "--ip-address", argv[k++] = ip;
                r = cmd_run(argv, NULL, 0, &st);
                secret_free(&admin);
                secret_free(&dm);
        }
        if (r < 0) {
                *ret_reason = strprintf("%s could not run: %s", tool, strerror(-r));
                return r;
        }
        /* 3: already configured; the check above then decides */
        if ((st != 0 && st != 3) || !ipa_configured(jr, realm)) {
                *ret_reason = strprintf("%s exited with %d (see /var/log/ipa%s-install.log)", tool, st,
                                        ipa ? "client" : "server");
                return -EIO;
        }
        *ret_reason = strprintf("%s as %s in %s", ipa ? "enrolled" : "identity server installed", jr->cfg.fqdn,
                                strna(realm));
        return 0;
}

/* ---- join/ipa-dns (the identity server only) ------------------------------------------------------------ */

static int do_ipa_dns(struct join_run *jr, char **ret_reason) {
        if (!jr->c->site) {
                *ret_reason = strdup("the image has no site (usr/share/rackstack/site.yaml) to take the records from");
                return -ENOENT;
        }
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        int r = ipa_dns_plan_make(jr->c->site, &d, &p);
        if (r < 0) {
                _cleanup_free_ char *text = diags_text(&d);
                *ret_reason = strprintf("the site's zone table: %s", text && *text ? text : strerror(-r));
                return r;
        }
        if (!jr->live) {
                *ret_reason = strdup("ipa dnsrecord-add runs only on the live system (--root=/)");
                return -EOPNOTSUPP;
        }
        const struct ks_join *srv = jr->cfg.ipa_server;
        struct ipa_dns_ctx ctx = { .admin_password_file = srv->admin_password_file, .root_fd = jr->c->root_fd,
                                   .realm = srv->realm };
        _cleanup_free_ char *data = NULL;
        if (ipa_in_container(jr)) {
                /* FreeIPA's CLI is the container's: podman exec, the ticket in the volume */
                if (!cmd_exists("podman")) {
                        *ret_reason = strdup("podman is not installed in this image (the id role's FreeIPA is a container)");
                        return -ENOENT;
                }
                if (!(data = app_data_host(jr->c->profile, IPA_CONTAINER_SERVICE)))
                        return -ENOMEM;
                ctx.container = IPA_CONTAINER_SERVICE;
                ctx.data_host = data;
                ctx.data_container = IPA_CONTAINER_DATA;
        } else if (!cmd_exists("ipa") || !cmd_exists("kinit")) {
                *ret_reason = strdup("FreeIPA's CLI (ipa) or kinit is not installed in this image");
                return -ENOENT;
        }
        return ipa_dns_apply(&ctx, &p, ret_reason, ret_reason);
}

/* ---- join/monitoring ------------------------------------------------------------------------------------ */

static bool psk_valid(const struct secret *s) {
        if (s->len < 32 || s->len % 2)
                return false;
        for (size_t i = 0; i < s->len; i++)
                if (!isxdigit((unsigned char) s->data[i]))
                        return false;
        return true;
}

static int do_monitoring(struct join_run *jr, char **ret_reason) {
        const struct ks_join *z = jr->cfg.zabbix;
        struct secret psk = {};
        int r = read_secret(jr, z->psk_file, &psk, ret_reason);
        if (r < 0)
                return r;
        if (!psk_valid(&psk)) {
                secret_free(&psk);
                *ret_reason = strprintf("the PSK in %s is not at least 32 hex digits", z->psk_file);
                return -EINVAL;
        }
        _cleanup_free_ char *line = strprintf("%s\n", psk.data);
        r = line ? write_conf(jr, JOIN_ZABBIX_PSK, line, 0600) : -ENOMEM;
        if (line)
                OPENSSL_cleanse(line, strlen(line));
        secret_free(&psk);
        if (r < 0)
                return r;
        /* the agent runs as zabbix and must read its PSK: 0600, owned by it */
        struct passwd *pw = jr->live ? getpwnam("zabbix") : NULL;
        if (pw && fchownat(jr->c->root_fd, JOIN_ZABBIX_PSK, pw->pw_uid, pw->pw_gid, 0) < 0)
                return -errno;
        _cleanup_free_ char *conf = join_render_zabbix(jr->cfg.fqdn, jr->cfg.role, z->server,
                                                       z->psk_identity ? z->psk_identity : "rackstack");
        if ((r = write_conf(jr, JOIN_ZABBIX_CONF, conf, 0644)) < 0)
                return r;
        if (jr->live && cmd_exists("zabbix_agent2")) {
                /* the agent reads its configuration (ours comes through its Include) as it will run */
                char *argv[] = { (char *) "zabbix_agent2", (char *) "-c", (char *) "/etc/zabbix/zabbix_agent2.conf",
                                 (char *) "-t", (char *) "agent.hostname", NULL };
                int st;
                r = cmd_run(argv, NULL, 0, &st);
                if (r < 0 || st != 0) {
                        *ret_reason = strprintf("zabbix_agent2 rejects its configuration (/%s)", JOIN_ZABBIX_CONF);
                        return r < 0 ? r : -EINVAL;
                }
        }
        if ((r = restart(jr, "zabbix-agent2.service", ret_reason)) < 0)
                return r;
        if ((r = wait_tcp(jr, "Zabbix server", z->server, 10051, ret_reason)) < 0)
                return r;
        *ret_reason = strprintf("Zabbix agent 2 reports to %s (HostMetadata role=%s, PSK)", z->server, jr->cfg.role);
        return 0;
}

/* ---- join/logs ------------------------------------------------------------------------------------------ */

static int do_logs(struct join_run *jr, char **ret_reason) {
        const struct ks_join *g = jr->cfg.graylog;
        uint16_t port = g->port ? g->port : 12201;
        _cleanup_free_ char *conf = join_render_rsyslog(g->server, port);
        int r = write_conf(jr, JOIN_RSYSLOG_CONF, conf, 0644);
        if (r < 0)
                return r;
        if (jr->live && cmd_exists("rsyslogd")) {
                char *argv[] = { (char *) "rsyslogd", (char *) "-N1", NULL };
                int st;
                r = cmd_run(argv, NULL, 0, &st);
                if (r < 0 || st != 0) {
                        *ret_reason = strprintf("rsyslogd -N1 rejects the configuration (/%s)", JOIN_RSYSLOG_CONF);
                        return r < 0 ? r : -EINVAL;
                }
        }
        if ((r = restart(jr, "rsyslog.service", ret_reason)) < 0)
                return r;
        if ((r = wait_tcp(jr, "Graylog", g->server, port, ret_reason)) < 0)
                return r;
        *ret_reason = strprintf("rsyslog forwards to %s:%u/tcp with a disk-assisted queue", g->server, port);
        return 0;
}

/* ---- the sub-step runner ------------------------------------------------------------------------------- */

static int substep(struct join_run *jr, const char *name, const char *description, const char *skip,
                   int (*fn)(struct join_run *jr, char **ret_reason)) {
        struct status *st = jr->c->status;
        (void) status_start(st, name, description);
        if (skip) {
                (void) status_step(st, name, "skipped", skip);
                return RUN_SKIPPED;
        }
        /* join/report is not taken from the journal: the answers step places the host's bundle in
         * /run/credentials on every run, and a run after a finished one (firstboot run again once a
         * dependency appeared, or a power cut after the report) must remove it again. */
        if (journal_is_done(jr->journal, name) && !streq(name, "join/report")) {
                (void) status_step(st, name, "done", "done by an earlier run (journal)");
                return 0;
        }
        if (jr->c->dry_run) {
                (void) status_step(st, name, "skipped", "dry run");
                return RUN_SKIPPED;
        }
        int r = journal_begin(jr->journal, name, NULL);
        if (r < 0) {
                (void) status_fail(st, name, "cannot write the journal");
                return r;
        }
        _cleanup_free_ char *reason = NULL;
        r = fn(jr, &reason);
        if (r < 0) {
                _cleanup_free_ char *why = reason ? NULL : strprintf("%s", strerror(-r));
                (void) status_fail(st, name, reason ? reason : why ? why : "failed");
                return r;
        }
        r = journal_done(jr->journal, name, NULL);
        if (r < 0) {
                (void) status_fail(st, name, "cannot write the journal");
                return r;
        }
        (void) strv_extend(&jr->done, name);
        (void) status_step(st, name, "done", reason);
        return 0;
}

/* After a successful join the secrets have served: remove them from the disk. */
static void remove_secrets(struct join_run *jr, struct buf *removed) {
        const char *paths[8];
        size_t n = 0;
        if (jr->cfg.ipa && strv_contains(jr->done, "join/identity"))
                paths[n++] = jr->cfg.ipa->otp_file;
        if (jr->cfg.ipa_server && strv_contains(jr->done, "join/identity")) {
                paths[n++] = jr->cfg.ipa_server->admin_password_file;
                paths[n++] = jr->cfg.ipa_server->dm_password_file;
        }
        if (jr->cfg.zabbix && strv_contains(jr->done, "join/monitoring"))
                paths[n++] = jr->cfg.zabbix->psk_file;
        /* the token signed this run's events; the report is made from memory from here on */
        if (jr->done && jr->c->ks)
                paths[n++] = jr->c->ks->addon.token_file;
        for (size_t i = 0; i < n; i++) {
                if (!paths[i])
                        continue;
                int r = secret_remove(jr->c->root_fd, paths[i]);
                if (r < 0)
                        log_warning_errno(r, "Cannot remove the used secret %s: %m%s", paths[i],
                                          r == -EROFS ? " (a read-only credential store, gone at shutdown)" : "");
                else
                        buf_printf(removed, "%s%s", removed->len ? ", " : "", paths[i]);
        }
        /* The rest of the host's bundle (creds-place.h): every service that needed one of them has
         * taken it into its own configuration by now. */
        size_t n_rest = 0;
        int r = creds_remove_all(jr->c->root_fd, &n_rest);
        if (r < 0)
                log_warning_errno(r, "Cannot remove the credentials in /" CREDS_DIR ": %m");
        if (n_rest)
                buf_printf(removed, "%s%zu more in /" CREDS_DIR, removed->len ? ", " : "", n_rest);
}

static int do_report(struct join_run *jr, char **ret_reason) {
        struct buf removed = {};
        remove_secrets(jr, &removed);
        _cleanup_free_ char *rm = buf_steal(&removed);
        (void) unlinkat(jr->c->root_fd, IDENTITY_REJOIN_PATH, 0);

        struct json j = {};
        json_begin_object(&j);
        json_kv_string(&j, "fqdn", jr->cfg.fqdn);
        json_kv_string(&j, "role", jr->cfg.role);
        json_kv_string(&j, "ipa", jr->cfg.ipa ? jr->cfg.ipa->server : jr->cfg.ipa_server ? jr->cfg.fqdn : NULL);
        json_kv_string(&j, "zabbix", jr->cfg.zabbix ? jr->cfg.zabbix->server : NULL);
        json_kv_string(&j, "graylog", jr->cfg.graylog ? jr->cfg.graylog->server : NULL);
        json_key(&j, "time_servers");
        json_begin_array(&j);
        for (char **s = jr->cfg.time_servers; s && *s; s++)
                json_string(&j, *s);
        json_end_array(&j);
        json_key(&j, "done");
        json_begin_array(&j);
        for (char **s = jr->done; s && *s; s++)
                json_string(&j, *s);
        json_end_array(&j);
        json_kv_uint(&j, "wait_sec", jr->cfg.wait_sec);
        json_end_object(&j);
        _cleanup_free_ char *js = buf_steal(&j.out);
        if (!js)
                return -ENOMEM;
        int r = status_attach(jr->c->status, "join", js);
        if (r < 0)
                return r;
        *ret_reason = rm && *rm ? strprintf("secrets removed: %s", rm)
                      : jr->done ? strdup("no secret file removed (see the warnings above, if any)")
                                 : strdup("nothing joined now; no secret removed");
        return 0;
}

int step_join(struct run_ctx *c) {
        _cleanup_(identity_names_done) struct identity_names n = {};
        int r = identity_names_resolve(c->ks, c->site, c->host, &n);
        if (r < 0) {
                (void) status_fail(c->status, "join", "no host name to join with (see the identity step)");
                return r;
        }
        struct join_run jr = { .c = c, .live = streq(c->root, "/") && !c->dry_run, .addr = n.addr };
        const char *role = c->profile ? c->profile->role : c->ks && c->ks->addon.role ? c->ks->addon.role : NULL;
        r = join_config_build(c->ks, c->site, n.fqdn, role, n.addr, &jr.cfg);
        if (r >= 0)
                r = journal_open(c->root_fd, NULL, &jr.journal);
        if (r < 0) {
                join_config_done(&jr.cfg);
                (void) status_fail(c->status, "join", strerror(-r));
                return r;
        }

        const char *no_ipa = jr.cfg.ipa || jr.cfg.ipa_server ? NULL : "no 'join ipa' or 'join ipa-server' in the answers";
        static const struct {
                const char *name, *description;
                int (*fn)(struct join_run *jr, char **ret_reason);
        } subs[] = {
                { "join/time", "chrony from the identity server, within Kerberos' skew", do_time },
                { "join/dns", "the site's DNS resolves the identity server", do_dns },
                { "join/identity", "FreeIPA enrolment (ipa-client-install, or ipa-server-install on the id role)",
                  do_identity },
                { "join/ipa-dns", "the site's records in FreeIPA's DNS (the identity server)", do_ipa_dns },
                { "join/monitoring", "Zabbix agent 2: server, role metadata, PSK", do_monitoring },
                { "join/logs", "rsyslog to Graylog with a disk-assisted queue", do_logs },
        };
        /* On Ubuntu 24.04 the agent comes from Zabbix's repository: an image built with --defer-vendor
         * (or where that repository was unreachable) has none, and that is no failure of this host. */
        const char *no_agent = jr.cfg.zabbix && jr.live && faccessat(c->root_fd, "usr/sbin/zabbix_agent2", X_OK, 0) < 0
                                       ? "Zabbix agent 2 is not installed in this image (a vendor service this build deferred)"
                                       : NULL;
        const char *skips[] = {
                no_ipa, no_ipa, no_ipa,
                jr.cfg.ipa_server ? NULL : "not the identity server (no 'join ipa-server' in the answers)",
                jr.cfg.zabbix ? no_agent : "no 'join zabbix' in the answers",
                jr.cfg.graylog ? NULL : "no 'join graylog' in the answers",
        };
        bool any = false;
        for (size_t i = 0; i < ELEMENTSOF(subs) && r >= 0; i++) {
                r = substep(&jr, subs[i].name, subs[i].description, skips[i], subs[i].fn);
                any = any || r == 0;
        }
        if (r >= 0) {
                r = substep(&jr, "join/report", "the join's summary; used secrets removed", NULL, do_report);
                r = r == RUN_SKIPPED ? 0 : r;
        }
        if (r >= 0)
                (void) status_step(c->status, "join", any ? "done" : "skipped",
                                   any ? NULL : "nothing to join: the answers have no join lines");
        journal_free(jr.journal);
        join_config_done(&jr.cfg);
        strv_free(jr.done);
        return r < 0 ? r : any ? 0 : RUN_SKIPPED;
}
