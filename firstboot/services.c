/* SPDX-License-Identifier: MIT */
/* The services step (services.h). Order: firewall first (it is the one config every role has, and
 * it must be in place before anything listens on a VLAN address), then each service in profile
 * order: vendor sources probed, configuration rendered, unit enabled and (re)started, ports
 * checked. A service that fails is recorded and the others still run; the step fails at the end. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "apps.h"
#include "backup.h"
#include "cleanup.h"
#include "connect.h"
#include "cmd.h"
#include "creds-place.h"
#include "db-wiring.h"
#include "deferred-apt.h"
#include "http.h"
#include "vendor.h"
#include "fileio.h"
#include "kickstart.h"
#include "ipa-container.h"
#include "log.h"
#include "parse.h"
#include "port-check.h"
#include "render.h"
#include "services.h"
#include "util.h"
#include "join.h"
#include "zabbix.h"

/* The seed's max_connections for PostgreSQL on the database server. */
#define PG_MAX_CONNECTIONS 500
#define PG_MOUNT "/var/lib/postgresql"
#define PG_DROPIN "conf.d/50-rackstack-tuning.conf"
#define NFT_CONF "etc/nftables.conf"
#define TRAEFIK_ROUTES "etc/traefik/dynamic/routes.yml"

static bool live(const struct services_ctx *c) {
        return !c->dry_run && streq(c->root, "/");
}

/* ---- facts ------------------------------------------------------------------------------------- */

int os_base(int root_fd, char **ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(root_fd, "etc/os-release", 64 * 1024, &text, NULL);
        if (r < 0)
                r = read_file_full(root_fd, "usr/lib/os-release", 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ char *id = NULL, *ver = NULL;
        char *save = NULL;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                char **dst = startswith(l, "ID=") ? &id : startswith(l, "VERSION_ID=") ? &ver : NULL;
                if (!dst)
                        continue;
                const char *v = strchr(l, '=') + 1;
                size_t n = strlen(v);
                if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
                        v++;
                        n -= 2;
                }
                free(*dst);
                *dst = strndup(v, n);
                if (!*dst)
                        return -ENOMEM;
        }
        if (!id || !ver)
                return -EBADMSG;
        char *b = strprintf("%s-%s", id, ver);
        if (!b)
                return -ENOMEM;
        *ret = b;
        return 0;
}

int mem_total(uint64_t *ret) {
        _cleanup_free_ char *text = NULL;
        int r = read_file_full(AT_FDCWD, "/proc/meminfo", 64 * 1024, &text, NULL);
        if (r < 0)
                return r;
        const char *p = strstr(text, "MemTotal:");
        uint64_t kb;
        if (!p || sscanf(p, "MemTotal: %" SCNu64 " kB", &kb) != 1)
                return -EBADMSG;
        *ret = kb * 1024;
        return 0;
}

/* Does the disk under path rotate? From sysfs, for the device (or its parent, for a partition). */
static int path_rotational(const char *path, bool *ret) {
        struct stat st;
        if (stat(path, &st) < 0)
                return -errno;
        unsigned ma = major(st.st_dev), mi = minor(st.st_dev);
        for (int i = 0; i < 2; i++) {
                _cleanup_free_ char *p = strprintf("/sys/dev/block/%u:%u/%squeue/rotational", ma, mi, i ? "../" : ""),
                                    *v = NULL;
                if (!p)
                        return -ENOMEM;
                if (read_file_full(AT_FDCWD, p, 64, &v, NULL) >= 0) {
                        *ret = v[0] == '1';
                        return 0;
                }
        }
        return -ENOENT;
}

/* ---- running things ---------------------------------------------------------------------------- */

/* Run, logging the command; on failure, *reason says what and why. */
static int run_logged(const struct services_ctx *c, char *const argv[], char **reason) {
        _cleanup_free_ char *cmd = strv_join((char **) argv, " ");
        if (!live(c)) {
                log_info("  would run: %s", strna(cmd));
                return 0;
        }
        log_debug("  run: %s", strna(cmd));
        _cleanup_free_ char *tail = NULL;
        int st = 0, r = cmd_run_tail(argv, &st, &tail);
        if (r == 0 && st == 0)
                return 0;
        if (r == 0)
                r = st;
        free(*reason);
        if (r < 0)
                *reason = strprintf("%s: %s", strna(cmd), strerror(-r));
        else
                *reason = strprintf("%s: exit %d: %s", strna(cmd), r, strna(tail));
        return r < 0 ? r : -EIO;
}

static int systemctl(const struct services_ctx *c, const char *verb, const char *unit, char **reason) {
        char *argv[] = { (char *) "systemctl", (char *) verb, (char *) unit, NULL };
        return run_logged(c, argv, reason);
}

/* ---- is it there, does it answer --------------------------------------------------------------- */

static int tcp_connect(const struct sockaddr *sa, socklen_t len, unsigned timeout_ms) {
        _cleanup_close_ int fd = -1;
        return net_connect_addr(sa, len, (int) timeout_ms, &fd);
}

/* Until addr:port answers by one of protos (port-check.h: TCP accepts a connection, UDP has a socket
 * bound) or the bound passes (a service needs a moment after systemctl start returns). */
static int wait_answer(uint32_t addr, uint16_t port, unsigned protos, unsigned timeout_sec) {
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(addr) };
        double end = now_monotonic() + timeout_sec;
        int r;
        for (;;) {
                r = -ECONNREFUSED;
                if (protos & PROTO_TCP)
                        r = tcp_connect((struct sockaddr *) &sin, sizeof sin, 2000);
                if (r < 0 && (protos & PROTO_UDP))
                        r = udp_bound(addr, port);
                if (r == 0 || now_monotonic() >= end)
                        return r;
                struct timespec ts = { 1, 0 };
                nanosleep(&ts, NULL);
        }
}

/* The host a vendor source lives on: the URL in an apt line, the registry of an image. */
static char *source_host(const struct service_spec *s) {
        const char *u = NULL;
        if (s->source == SERVICE_SOURCE_APT) {
                const char *close = s->repo ? strchr(s->repo, ']') : NULL;
                u = close ? close + 1 : s->repo;
                while (u && *u == ' ')
                        u++;
                if (u && strstr(u, "://"))
                        u = strstr(u, "://") + 3;
        } else if (s->source == SERVICE_SOURCE_OCI)
                u = s->image;
        if (!u)
                return NULL;
        size_t n = strcspn(u, "/ :");
        return n ? strndup(u, n) : NULL;
}

/* Can we open a connection to host:port within the bound? Name resolution is part of it. */
static int probe_port(const char *host, const char *port, unsigned timeout_sec, char **ret_why) {
        return net_probe(host, port, (int) (timeout_sec * 1000), ret_why);
}

static int probe_https(const char *host, unsigned timeout_sec, char **ret_why) {
        return probe_port(host, "443", timeout_sec, ret_why);
}

static bool package_installed(int root_fd, const char *pkg) {
        /* dpkg's own record; a multi-arch package's list is named with its architecture. */
        _cleanup_free_ char *a = strprintf("var/lib/dpkg/info/%s.list", pkg),
                            *b = strprintf("var/lib/dpkg/info/%s:amd64.list", pkg);
        return (a && faccessat(root_fd, a, F_OK, 0) == 0) || (b && faccessat(root_fd, b, F_OK, 0) == 0);
}

/* Already enabled: a symlink to it in some /etc/systemd/system/<target>.wants. Checked by hand,
 * since systemctl enable on Debian runs update-rc.d for every unit with an init script, even an
 * enabled one (tens of seconds each under TCG). */
static bool unit_enabled(int root_fd, const char *unit) {
        _cleanup_close_ int fd = openat(root_fd, "etc/systemd/system", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = NULL;
        if (fd < 0 || opendir_dup(fd, &d) < 0)
                return false;
        bool found = false;
        for (struct dirent *de; !found && (de = readdir(d));) {
                if (!endswith(de->d_name, ".wants"))
                        continue;
                _cleanup_free_ char *p = strprintf("%s/%s", de->d_name, unit);
                found = p && faccessat(fd, p, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        }
        closedir(d);
        return found;
}

/* ---- status ------------------------------------------------------------------------------------ */

static void record(struct services_ctx *c, const struct service_spec *s, const char *state, const char *reason) {
        _cleanup_free_ char *step = strprintf("service/%s", s->name);
        json_begin_object(&c->report);
        json_kv_string(&c->report, "name", s->name);
        json_kv_string(&c->report, "source", service_source_to_string(s->source));
        json_kv_string(&c->report, "origin", s->source == SERVICE_SOURCE_APT ? s->repo :
                                             s->source == SERVICE_SOURCE_OCI ? s->image : NULL);
        json_kv_string(&c->report, "state", state);
        json_kv_string(&c->report, "reason", reason);
        json_end_object(&c->report);
        printf("rackstack-firstboot: service %-22s %s%s%s\n", s->name, state, reason ? ": " : "", strempty(reason));
        fflush(stdout);
        if (step)
                (void) status_step(c->status, step, state, reason);
}

/* ---- files ------------------------------------------------------------------------------------- */

/* This host's address on the database VLAN: the one the answers gave the network step (a static
 * address on that VLAN), else the site's entry for this host, else none (loopback only). A bind to
 * an address the host does not have stops Redis from starting. */
static uint32_t database_address(const struct services_ctx *c, const struct vlan_spec *dbv) {
        if (!dbv)
                return 0;
        for (size_t i = 0; c->ks && i < c->ks->n_networks; i++)
                if (c->ks->networks[i].vlanid == dbv->id && c->ks->networks[i].ip)
                        return c->ks->networks[i].ip;
        return c->host ? host_address_on(c->host, dbv->id) : 0;
}

static int write_text(const struct services_ctx *c, const char *rel, const char *text, mode_t mode) {
        if (c->dry_run) {
                printf("--- /%s (would write)\n%s", rel, text);
                return 0;
        }
        _cleanup_free_ char *dir = strdup(rel);
        if (!dir)
                return -ENOMEM;
        char *slash = strrchr(dir, '/');
        if (slash) {
                *slash = 0;
                int r = mkdir_parents_at(c->root_fd, dir, 0755);
                if (r < 0)
                        return r;
        }
        return write_file_atomic(c->root_fd, rel, text, strlen(text), mode);
}

/* ---- firewall ---------------------------------------------------------------------------------- */

static int firewall(struct services_ctx *c) {
        const struct vlan_spec *mgmt = NULL;
        for (size_t i = 0; c->site && i < c->site->n_vlans; i++)
                if (c->site->vlans[i].name && streq(c->site->vlans[i].name, "management"))
                        mgmt = &c->site->vlans[i];
        _cleanup_free_ char *text = nft_render(c->profile, mgmt), *reason = NULL, *done = NULL;
        if (!text)
                return -ENOMEM;
        /* MariaDB's and Redis's ports are not the role's for everyone: only their consumers' addresses get them. */
        size_t n_my = c->dbw ? c->dbw->plan.n_mysql + c->dbw->plan.n_redis : 0;
        if (n_my) {
                _cleanup_free_ char *my = db_consumers_nft_render(&c->dbw->plan);
                char *both = my ? strprintf("%s%s", text, my) : NULL;
                if (!both)
                        return -ENOMEM;
                free(text);
                text = both;
        }
        /* The backup host: SSH from its backup clients' addresses too (backup.h). */
        _cleanup_(backup_plan_done) struct backup_plan bk = {};
        _cleanup_free_ char *bk_why = NULL;
        bool bk_kept = false;
        if (c->host && backup_load(c->root_fd, c->host->name, &bk, &bk_kept, &bk_why) >= 0 && bk.n_clients) {
                _cleanup_free_ char *more = backup_nft_render(&bk);
                char *both = more ? strprintf("%s%s", text, more) : NULL;
                if (!both)
                        return -ENOMEM;
                free(text);
                text = both;
        }
        int r = write_text(c, NFT_CONF, text, 0755);
        if (r < 0) {
                reason = strprintf("cannot write /%s: %s", NFT_CONF, strerror(-r));
                goto fail;
        }
        /* Check before loading: a ruleset nft rejects would leave the old one (or none) in place. */
        char *check[] = { (char *) "nft", (char *) "-c", (char *) "-f", (char *) "/" NFT_CONF, NULL };
        /* nftables.service is a oneshot that loads /etc/nftables.conf: restart flushes and loads. */
        if ((r = run_logged(c, check, &reason)) < 0 ||
            (!c->units_enabled && (r = systemctl(c, "enable", "nftables.service", &reason)) < 0) ||
            (r = systemctl(c, "restart", "nftables.service", &reason)) < 0)
                goto fail;
        done = strprintf("%zu port entries open, SSH from %s%s%s, everything else dropped%s", c->profile->n_ports,
                         mgmt ? "the management VLAN" : "nowhere (no management VLAN)",
                         n_my ? ", MariaDB and Redis from their consumers only" : "",
                         bk.n_clients ? ", SSH from the backup clients" : "",
                         (n_my && c->dbw->kept) || (bk.n_clients && bk_kept) ? " (consumers from the kept wiring)" : "");
        printf("rackstack-firstboot: firewall %s\n", strna(done));
        (void) status_step(c->status, "firewall", "done", done);
        return 0;
fail:
        printf("rackstack-firstboot: firewall failed: %s\n", strna(reason));
        (void) status_fail(c->status, "firewall", reason ? reason : strerror(-r));
        return r;
}

/* ---- PostgreSQL -------------------------------------------------------------------------------- */

/* The major version the package set up: the highest /etc/postgresql/<N>/main. */
static int pg_version(int root_fd, unsigned *ret) {
        _cleanup_close_ int fd = openat(root_fd, "etc/postgresql", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = NULL;
        int r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
        unsigned best = 0;
        for (struct dirent *de; (de = readdir(d));) {
                unsigned v;
                char end;
                if (sscanf(de->d_name, "%u%c", &v, &end) != 1 || v < 9 || v > 99)
                        continue;
                _cleanup_free_ char *conf = strprintf("%u/main/postgresql.conf", v);
                if (conf && faccessat(fd, conf, F_OK, 0) == 0 && v > best)
                        best = v;
        }
        closedir(d);
        if (!best)
                return -ENOENT;
        *ret = best;
        return 0;
}

static const struct vlan_spec *site_vlan_named(const struct site *s, const char *name) {
        for (size_t i = 0; s && i < s->n_vlans; i++)
                if (s->vlans[i].name && streq(s->vlans[i].name, name))
                        return &s->vlans[i];
        return NULL;
}

/* The cluster's data directory lives on the NVMe mount. The package made a cluster at build time
 * in /var/lib/postgresql/<N>/main on the root filesystem; the mount hides it. That cluster is
 * empty (no data, no passwords), so the right thing is a new one on the mount: initdb into the
 * same path, so that Debian's configuration in /etc/postgresql/<N>/main stays valid. Moving the
 * old one instead would have to happen before the storage step mounts, and on a rerun after a
 * crash it would not know which copy is the real one. On a rerun, a data directory that already
 * holds a cluster of this version is kept as it is. */
static int pg_cluster(struct services_ctx *c, unsigned ver, char **reason) {
        _cleanup_free_ char *datadir = strprintf(PG_MOUNT "/%u/main", ver), *pgv = strprintf("%s/PG_VERSION", datadir);
        if (!datadir || !pgv)
                return -ENOMEM;
        _cleanup_free_ char *have = NULL;
        if (read_file_full(c->root_fd, pgv + 1, 64, &have, NULL) >= 0) {
                unsigned hv = 0;
                if (sscanf(have, "%u", &hv) != 1 || hv != ver) {
                        *reason = strprintf("%s holds a PostgreSQL %s cluster, the image has %u; not touching it",
                                            datadir, strna(have), ver);
                        return -EEXIST;
                }
                log_info("PostgreSQL: keeping the cluster in %s", datadir);
                return 0;
        }
        if (!live(c)) {
                log_info("  would create a PostgreSQL %u cluster in %s", ver, datadir);
                return 0;
        }
        struct passwd *pw = getpwnam("postgres");
        if (!pw) {
                *reason = strdup("no postgres user in the image");
                return -ENOENT;
        }
        /* The mount's root belongs to root after mkfs; the postgres user's home is this directory. */
        _cleanup_free_ char *verdir = strprintf(PG_MOUNT "/%u", ver);
        if (!verdir)
                return -ENOMEM;
        const char *dirs[] = { PG_MOUNT, verdir, datadir };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (mkdir(dirs[i], i == 2 ? 0700 : 0755) < 0 && errno != EEXIST)
                        return -errno;
                if (chown(dirs[i], pw->pw_uid, pw->pw_gid) < 0)
                        return -errno;
        }
        _cleanup_free_ char *initdb = strprintf("/usr/lib/postgresql/%u/bin/initdb", ver);
        char *argv[] = { (char *) "runuser", (char *) "-u", (char *) "postgres", (char *) "--", initdb,
                         (char *) "-D", datadir, (char *) "--auth-local=peer", (char *) "--auth-host=scram-sha-256",
                         (char *) "--encoding=UTF8", (char *) "--locale=C.UTF-8", (char *) "--data-checksums", NULL };
        return run_logged(c, argv, reason);
}

/* The consumers' roles and databases (psql as postgres; the SQL holds SCRAM verifiers, never a
 * password, and goes in on stdin), then PgBouncer's files for the same consumers. A rerun sets the
 * same again: the SQL creates only what is missing. */
static int pg_consumers(struct services_ctx *c, const char *listen, char **reason) {
        bool k = c->dbw->kept; /* no verifiers: no SQL, no userlist */
        _cleanup_free_ char *sql = k ? strdup("") : db_wiring_sql(&c->dbw->plan, c->dbw->verifiers),
                            *ini = pgbouncer_ini_render(&c->dbw->plan, listen, 6432),
                            *users = k ? strdup("") : pgbouncer_userlist_render(&c->dbw->plan, c->dbw->verifiers),
                            *hba = pgbouncer_hba_render(&c->dbw->plan);
        if (!sql || !ini || !users || !hba)
                return -ENOMEM;
        int r;
        if (c->dbw->kept)
                log_info("  no credentials bundle: the consumers' roles, databases and PgBouncer's userlist are left as "
                         "they are (their passwords come only with it)");
        else if (live(c)) {
                char *argv[] = { (char *) "runuser", (char *) "-u", (char *) "postgres", (char *) "--", (char *) "psql",
                                 (char *) "-X", (char *) "-q", (char *) "-v", (char *) "ON_ERROR_STOP=1", (char *) "-d",
                                 (char *) "postgres", (char *) "-f", (char *) "-", NULL };
                int st = 0;
                r = cmd_run(argv, sql, strlen(sql), &st);
                if (r < 0 || st != 0) {
                        *reason = strprintf("psql could not create the consumers' roles and databases (%s)",
                                            r < 0 ? strerror(-r) : "see its errors above");
                        return r < 0 ? r : -EIO;
                }
        } else
                log_info("  would create %zu roles and databases for the consumers", c->dbw->plan.n_pg);
        const struct {
                const char *path, *text;
        } files[] = {
                { "etc/pgbouncer/pgbouncer.ini", ini },
                { "etc/pgbouncer/userlist.txt", users },
                { "etc/pgbouncer/pg_hba.conf", hba },
        };
        struct passwd *pw = live(c) ? getpwnam("postgres") : NULL;
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                /* userlist.txt holds verifiers: not a password, but nobody else's to read either; and
                 * without the bundle there are none to write (the file stays) */
                if (i == 1 && c->dbw->kept)
                        continue;
                if ((r = c->dry_run && i == 1 ? 0 : write_text(c, files[i].path, files[i].text, 0640)) < 0) {
                        *reason = strprintf("cannot write /%s: %s", files[i].path, strerror(-r));
                        return r;
                }
                if (pw)
                        (void) fchownat(c->root_fd, files[i].path, pw->pw_uid, pw->pw_gid, 0);
        }
        return 0;
}

static int postgresql(struct services_ctx *c, const struct service_spec *s, char **reason, char **ret_done) {
        unsigned ver = 0;
        int r = pg_version(c->root_fd, &ver);
        if (r < 0) {
                *reason = strdup("no cluster configuration in /etc/postgresql (is the package in the image?)");
                return r;
        }
        uint64_t reserved;
        uint64_t budget = pg_budget(c->profile, c->base, c->ram, &reserved);
        bool hdd = false;
        if (live(c) && path_rotational(PG_MOUNT, &hdd) < 0)
                log_warning("PostgreSQL: cannot tell whether %s rotates; tuning for SSD", PG_MOUNT);
        struct pg_tune t;
        struct pg_tune_input in = { .ram = budget, .cpus = c->cpus, .hdd = hdd, .max_connections = PG_MAX_CONNECTIONS };
        if ((r = pg_tune_compute(&in, &t)) < 0) {
                *reason = strprintf("a RAM budget of %" PRIu64 " MiB is too small to tune for", budget >> 20);
                return r;
        }

        /* Listen on the database VLAN's address (and loopback); clients from that VLAN only. */
        const struct vlan_spec *dbv = site_vlan_named(c->site, "database");
        uint32_t a = database_address(c, dbv);
        _cleanup_free_ char *listen = a ? strprintf("localhost,%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                                                    a & 0xff)
                                        : strdup("localhost");
        const struct vlan_spec *vl[1] = { dbv };
        if (c->dbw_error) {
                *reason = strdup(c->dbw_error);
                return -EINVAL;
        }
        /* With the site's wiring, each consumer is let in from its own address only; without it
         * (a lone database host), the database VLAN as a whole. */
        _cleanup_free_ char *consumers = c->dbw ? db_wiring_hba(&c->dbw->plan) : strdup("");
        _cleanup_free_ char *hba_base = pg_hba_render(vl, a && !c->dbw ? 1 : 0),
                            *hba = hba_base && consumers ? strprintf("%s%s", hba_base, consumers) : NULL;
        _cleanup_free_ char *conf = pg_tune_render(&t, listen);
        _cleanup_free_ char *conf_path = strprintf("etc/postgresql/%u/main/" PG_DROPIN, ver),
                            *hba_path = strprintf("etc/postgresql/%u/main/pg_hba.conf", ver),
                            *instance = strprintf("postgresql@%u-main.service", ver);
        if (!listen || !conf || !hba || !conf_path || !hba_path || !instance)
                return -ENOMEM;

        /* It may have started at boot on the directory the mount now hides. */
        if ((r = systemctl(c, "stop", instance, reason)) < 0 || (r = pg_cluster(c, ver, reason)) < 0)
                return r;
        if ((r = write_text(c, conf_path, conf, 0644)) < 0 || (r = write_text(c, hba_path, hba, 0640)) < 0) {
                *reason = strprintf("cannot write the configuration: %s", strerror(-r));
                return r;
        }
        if (live(c)) {
                struct passwd *pw = getpwnam("postgres");
                if (pw)
                        (void) fchownat(c->root_fd, hba_path, pw->pw_uid, pw->pw_gid, 0);
        }
        if ((!c->units_enabled && (r = systemctl(c, "enable", s->unit ? s->unit : "postgresql.service", reason)) < 0) ||
            (r = systemctl(c, "restart", instance, reason)) < 0)
                return r;
        struct json pj = {};
        json_begin_object(&pj);
        json_kv_uint(&pj, "version", ver);
        json_kv_uint(&pj, "ram", c->ram);
        json_kv_uint(&pj, "reserved", reserved);
        json_kv_uint(&pj, "budget", budget);
        json_kv_uint(&pj, "cpus", c->cpus);
        json_kv_string(&pj, "storage", hdd ? "hdd" : "ssd");
        json_kv_string(&pj, "listen_addresses", listen);
        json_kv_string(&pj, "conf", conf_path);
        json_end_object(&pj);
        buf_putc(&pj.out, 0);
        free(c->pg_report);
        c->pg_report = buf_steal(&pj.out);
        _cleanup_free_ char *sb = pg_size_to_string(t.shared_buffers_kb), *wm = pg_size_to_string(t.work_mem_kb);
        *ret_done = strprintf("PostgreSQL %u, data in " PG_MOUNT "/%u/main, listening on %s; tuned for %" PRIu64
                              " MiB of %" PRIu64 " MiB (%" PRIu64 " MiB set aside for the role's other services), %s: "
                              "shared_buffers %s, work_mem %s",
                              ver, ver, listen, budget >> 20, c->ram >> 20, reserved >> 20, hdd ? "HDD" : "SSD",
                              strna(sb), strna(wm));
        /* The VLAN address is checked too: that is where clients come from. */
        if (a && live(c) && (r = wait_answer(a, 5432, PROTO_TCP, c->answer_timeout_sec)) < 0) {
                *reason = strprintf("PostgreSQL does not answer on %u.%u.%u.%u:5432: %s", a >> 24, (a >> 16) & 0xff,
                                    (a >> 8) & 0xff, a & 0xff, strerror(-r));
                return r;
        }
        if (c->dbw && (r = pg_consumers(c, listen, reason)) < 0)
                return r;
        if (c->dbw) {
                char *more = strprintf("%s; %zu consumer databases and roles%s, pg_hba per consumer address", *ret_done,
                                       c->dbw->plan.n_pg, c->dbw->kept ? " (kept wiring: left as they are)" : "");
                if (more) {
                        free(*ret_done);
                        *ret_done = more;
                }
        }
        return 0;
}

/* ---- Redis ------------------------------------------------------------------------------------- */

/* What a service's setup returns besides 0 (done), 1 (skipped) and a negative errno: enabled, and
 * a later step starts it. */
#define SERVICE_LATER 2

#define REDIS_CONF "etc/redis/redis.conf"
#define REDIS_DROPIN "etc/redis/rackstack.conf"

/* Rewrite a file the package owns with the package's owner and mode: Debian's and Ubuntu's
 * redis.conf is redis:redis 0640, and redis-server (User=redis) cannot read a root:root 0640 copy. */
static int write_keeping_owner(const struct services_ctx *c, const char *rel, const char *text) {
        struct stat st;
        if (fstatat(c->root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        int r = write_text(c, rel, text, st.st_mode & 07777);
        if (r < 0 || c->dry_run)
                return r;
        if (fchownat(c->root_fd, rel, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        /* chown clears set-id bits; the mode again, as it was */
        return fchmodat(c->root_fd, rel, st.st_mode & 07777, 0) < 0 ? -errno : 0;
}

/* Debian's redis.conf has no include directory: one include line is appended (once) and our file
 * carries the rest, so a rerun rewrites only our file. */
static int redis_config(struct services_ctx *c, const struct service_spec *s, uint32_t *ret_addr, char **reason) {
        const struct vlan_spec *dbv = site_vlan_named(c->site, "database");
        uint32_t a = database_address(c, dbv);
        uint64_t maxmem = s->memory + c->ram / 100 * s->memory_percent;
        /* The password: kept from an earlier run (clients may already use it), else 32 random
         * bytes. It lives only in our file (root:redis 0640); status says where, never what. */
        char pass[65] = {};
        _cleanup_free_ char *old = NULL;
        _cleanup_strv_free_ char **kept_hashes = NULL;
        size_t missing = 0;
        bool kept = c->dbw && c->dbw->kept && c->dbw->plan.n_redis;
        int r;
        if (read_file_full(c->root_fd, REDIS_DROPIN, 64 * 1024, &old, NULL) >= 0) {
                const char *p = strstr(old, "\nrequirepass ");
                if (p && sscanf(p, "\nrequirepass %64s", pass) != 1)
                        pass[0] = 0;
        }
        /* Without the bundle, each consumer's ACL user as the run with the bundle wrote it (hashes,
         * no password); one that run never wrote cannot be made now. */
        if (kept && !(kept_hashes = redis_acl_hashes_kept(old ? old : "", &c->dbw->plan, &missing))) {
                if (old)
                        OPENSSL_cleanse(old, strlen(old));
                return -ENOMEM;
        }
        if (old)
                OPENSSL_cleanse(old, strlen(old));
        if (missing)
                log_warning("Redis: %zu consumer%s of the kept wiring had no ACL user in /" REDIS_DROPIN
                            " and cannot get one without the credentials bundle", missing, missing == 1 ? "" : "s");
        /* The site's, when the host's bundle brings one: the consumers were given it. */
        if (c->dbw && c->dbw->redis_default && strlen(c->dbw->redis_default) < sizeof pass)
                snprintf(pass, sizeof pass, "%s", c->dbw->redis_default);
        if (!pass[0]) {
                unsigned char raw[32];
                if (RAND_bytes(raw, sizeof raw) != 1)
                        return -EIO;
                hex_format(raw, sizeof raw, pass);
                OPENSSL_cleanse(raw, sizeof raw);
        }
        _cleanup_free_ char *text = redis_render(a, maxmem, pass), *conf = NULL;
        OPENSSL_cleanse(pass, sizeof pass);
        if (!text)
                return -ENOMEM;
        if (c->dbw && c->dbw->plan.n_redis) {
                /* an ACL user per consumer, its password as a hash */
                _cleanup_free_ char *acl = redis_acl_render(&c->dbw->plan, kept ? kept_hashes : c->dbw->hashes);
                char *both = acl ? strprintf("%s%s", text, acl) : NULL;
                OPENSSL_cleanse(text, strlen(text));
                if (!both)
                        return -ENOMEM;
                free(text);
                text = both;
        }
        r = read_file_full(c->root_fd, REDIS_CONF, 1024 * 1024, &conf, NULL);
        if (r < 0) {
                *reason = strprintf("cannot read /" REDIS_CONF ": %s", strerror(-r));
                return r;
        }
        static const char include[] = "include /" REDIS_DROPIN "\n";
        if (!strstr(conf, include)) {
                _cleanup_free_ char *n = strprintf("%s%s# rackstack-firstboot: bind and memory\n%s", conf,
                                                   endswith(conf, "\n") || !*conf ? "" : "\n", include);
                if (!n || (r = write_keeping_owner(c, REDIS_CONF, n)) < 0)
                        goto fail;
        }
        r = c->dry_run ? 0 : write_text(c, REDIS_DROPIN, text, 0640); /* not printed: it holds the password */
        OPENSSL_cleanse(text, strlen(text));
        if (r < 0)
                goto fail;
        /* redis.conf is the redis user's to read */
        struct passwd *pw = live(c) ? getpwnam("redis") : NULL;
        if (pw)
                (void) fchownat(c->root_fd, REDIS_DROPIN, 0, pw->pw_gid, 0);
        *ret_addr = a;
        return 0;
fail:
        *reason = strprintf("cannot write the Redis configuration: %s", strerror(-r));
        return r;
}

/* ---- Traefik ----------------------------------------------------------------------------------- */

/* Copy the credential called name out of CREDENTIALS_DIR into dir (made with dir_mode) with mode:
 * for what needs it after the join empties CREDENTIALS_DIR (and after every reboot). The value is
 * read and written, never shown. -ENOENT: the host's bundle has no such credential. */
static int credential_copy(const struct services_ctx *c, const char *name, const char *dir, mode_t dir_mode,
                           mode_t mode, char **reason) {
        if (c->dry_run)
                return 0;
        _cleanup_free_ char *from = strprintf("%s/%s", CREDENTIALS_DIR + 1, name),
                            *to = strprintf("%s/%s", dir + 1, name), *data = NULL;
        if (!from || !to)
                return -ENOMEM;
        size_t len = 0;
        int r = read_file_full(c->root_fd, from, 1 << 20, &data, &len);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                *reason = strprintf("cannot read credential %s: %s", name, strerror(-r));
                return r;
        }
        r = mkdir_parents_at(c->root_fd, dir + 1, dir_mode);
        if (r >= 0)
                r = write_file_atomic(c->root_fd, to, data, len, mode);
        OPENSSL_cleanse(data, len);
        if (r < 0)
                *reason = strprintf("cannot write /%s: %s", to, strerror(-r));
        return r;
}

static int traefik_routes(struct services_ctx *c, char **reason) {
        _cleanup_free_ char *text = NULL;
        const struct route_spec *bad = NULL;
        if (!c->site)
                return 0;
        int r = traefik_render(c->site, &text, &bad);
        if (r == -ENOENT) {
                *reason = strprintf("route '%s' names host '%s', which the site does not have", bad->name, bad->backend);
                return r;
        }
        if (r == -EINVAL) {
                *reason = strdup("a route name or the site's domain holds a character Traefik's rule syntax cannot "
                                 "carry (letters, digits and . _ - only)");
                return r;
        }
        if (r < 0)
                return r;
        if ((r = write_text(c, TRAEFIK_ROUTES, text, 0644)) < 0)
                return r;
        /* The proxy's TLS pair and the site CA, from the host's credentials bundle (when there is
         * one): the key is root's only. */
        static const struct {
                const char *cred;
                mode_t mode;
        } tls[] = { { "tls.crt", 0644 }, { "tls.key", 0600 }, { "ca.crt", 0644 } };
        for (size_t i = 0; i < ELEMENTSOF(tls); i++)
                if ((r = credential_copy(c, tls[i].cred, TRAEFIK_TLS_DIR, 0755, tls[i].mode, reason)) < 0 && r != -ENOENT)
                        return r;
        return 0;
}

/* ---- vendor applications (apps.h) ------------------------------------------------------------- */

/* GET http://127.0.0.1:port/path until it answers 2xx or the bound passes: the check a user's
 * browser would make, where the application has a health endpoint. */
/* Until GET path on port answers 2xx (and, with expect, a body expect() accepts) or the bound passes. */
/* What a wrong page was, for the operator: its <title>, or its first line, printable ASCII only and
 * short (it goes to the console and status.json). */
static char *page_summary(const char *body) {
        if (!body)
                return strdup("(empty)");
        const char *s = strcasestr(body, "<title>"), *e = s ? strcasestr(s + 7, "</title>") : NULL;
        if (e)
                s += 7;
        else
                e = (s = body) + strcspn(body, "\r\n");
        char out[81];
        size_t n = 0;
        for (; s < e && n < sizeof(out) - 1; s++)
                if (*s >= 0x20 && *s < 0x7f)
                        out[n++] = *s;
                else if (n && out[n - 1] != ' ')
                        out[n++] = ' ';
        out[n] = '\0';
        return strdup(n ? out : "(empty)");
}

static int wait_http_page(uint16_t port, const char *path, bool (*expect)(const char *body), const char *what,
                          unsigned timeout_sec, char **ret_why) {
        _cleanup_free_ char *url = strprintf("http://127.0.0.1:%u%s", port, path);
        if (!url)
                return -ENOMEM;
        struct http_options o = { .timeout_usec = 5 * 1000000ull, .max_size = 1024 * 1024 };
        double end = now_monotonic() + timeout_sec;
        _cleanup_free_ char *got = NULL;
        int r;
        for (;;) {
                _cleanup_free_ char *body = NULL;
                size_t n;
                r = http_get_buffer(url, &o, &body, &n);
                if (r >= 0 && expect && !expect(body)) {
                        r = -EBADMSG;
                        free(got);
                        got = page_summary(body);
                }
                if (r >= 0 || now_monotonic() >= end)
                        break;
                struct timespec ts = { 2, 0 };
                nanosleep(&ts, NULL);
        }
        if (r == -EBADMSG)
                *ret_why = strprintf("GET %s: HTTP 200, but not %s (the page: \"%s\")", url, what, strna(got));
        else if (r < 0)
                *ret_why = strprintf("GET %s: %s", url, strerror(-r));
        return r;
}

static int wait_http(uint16_t port, const char *path, unsigned timeout_sec, char **ret_why) {
        return wait_http_page(port, path, NULL, NULL, timeout_sec, ret_why);
}

/* The credential files present: their names only, never their contents. */
static char **credential_names(int root_fd) {
        char **l = NULL;
        _cleanup_close_ int fd = openat(root_fd, CREDENTIALS_DIR + 1, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = NULL;
        if (fd < 0 || opendir_dup(fd, &d) < 0)
                return NULL;
        for (struct dirent *de; (de = readdir(d));)
                if (de->d_name[0] != '.' && strv_extend(&l, de->d_name) < 0)
                        break;
        closedir(d);
        return l;
}

/* The composed value (a DSN, a configuration file) of sec, from its credential; the caller
 * cleanses and frees it. The value is never logged: a failure says which credential, not what. */
static int composed_value(const struct services_ctx *c, const struct app_secret *sec, char **ret, char **reason) {
        _cleanup_free_ char *from = strprintf("%s/%s", CREDENTIALS_DIR + 1, sec->credential), *data = NULL;
        if (!from)
                return -ENOMEM;
        size_t len = 0;
        int r = read_file_full(c->root_fd, from, 1 << 20, &data, &len);
        if (r < 0) {
                *reason = strprintf("cannot read credential %s: %s", sec->credential, strerror(-r));
                return r;
        }
        r = app_secret_compose(sec->compose, data, len, ret);
        OPENSSL_cleanse(data, len);
        if (r == -EINVAL)
                *reason = strprintf("credential %s has a control character: it cannot go into %s", sec->credential,
                                    sec->file ? sec->file : sec->env ? sec->env : sec->podman);
        return r;
}

/* The group that may read a package's configuration file: the one named after its directory's
 * owner package (/etc/odoo -> odoo) when the image has it; else root alone. */
static gid_t config_gid(int root_fd, const char *file) {
        _cleanup_free_ char *text = NULL, *dir = strdup(file + 5); /* after "/etc/" */
        if (!dir || !startswith(file, "/etc/") || read_file_full(root_fd, "etc/group", 1 << 20, &text, NULL) < 0)
                return 0;
        dir[strcspn(dir, "/")] = 0;
        size_t n = strlen(dir);
        for (char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *f3 = strchr(l, ':') ? strchr(strchr(l, ':') + 1, ':') : NULL;
                if (f3 && strncmp(l, dir, n) == 0 && l[n] == ':')
                        return (gid_t) strtoul(f3 + 1, NULL, 10);
        }
        return 0;
}

/* An apt service's configuration file that must hold the password (Odoo's odoo.conf): written
 * 0640 root:<its group>, the credential composed in; nothing else holds the value. */
static int composed_file(const struct services_ctx *c, const struct app_secret *sec, char **reason) {
        if (c->dry_run) {
                printf("--- %s (would write, 0640, with credential %s in it)\n", sec->file, sec->credential);
                return 0;
        }
        _cleanup_free_ char *v = NULL, *dir = strdup(sec->file + 1);
        if (!dir)
                return -ENOMEM;
        int r = composed_value(c, sec, &v, reason);
        if (r < 0)
                return r;
        *strrchr(dir, '/') = 0;
        gid_t g = config_gid(c->root_fd, sec->file);
        if ((r = mkdir_parents_at(c->root_fd, dir, 0755)) >= 0 &&
            (r = write_file_atomic(c->root_fd, sec->file + 1, v, strlen(v), g ? 0640 : 0600)) >= 0 && g &&
            fchownat(c->root_fd, sec->file + 1, 0, g, AT_SYMLINK_NOFOLLOW) < 0)
                r = -errno;
        OPENSSL_cleanse(v, strlen(v));
        if (r < 0)
                *reason = strprintf("cannot write %s: %s", sec->file, strerror(-r));
        return r;
}

/* The podman secret is created from a file: podman reads it, so the value is on no command line.
 * The credential file itself, or for a composed secret (a DSN) a root-only file in the credstore
 * that is removed once podman has it. Replaced on a rerun (podman 4.3 has no secret create --replace). */
static int podman_secret(const struct services_ctx *c, const struct app_secret *sec, char **reason) {
        _cleanup_free_ char *file = sec->compose ? strprintf(APP_CREDSTORE "/%s.tmp", sec->podman) :
                                                   strprintf(CREDENTIALS_DIR "/%s", sec->credential);
        if (!file)
                return -ENOMEM;
        char *rm[] = { (char *) "podman", (char *) "secret", (char *) "rm", sec->podman, NULL };
        char *create[] = { (char *) "podman", (char *) "secret", (char *) "create", sec->podman, file, NULL };
        if (live(c)) {
                int st;
                _cleanup_free_ char *ignored = NULL;
                (void) cmd_run_tail(rm, &st, &ignored);
        }
        int r;
        if (sec->compose && !c->dry_run) {
                _cleanup_free_ char *v = NULL;
                if ((r = composed_value(c, sec, &v, reason)) < 0)
                        return r;
                if ((r = mkdir_parents_at(c->root_fd, APP_CREDSTORE + 1, 0700)) >= 0)
                        r = write_file_atomic(c->root_fd, file + 1, v, strlen(v), 0600);
                OPENSSL_cleanse(v, strlen(v));
                if (r < 0) {
                        *reason = strprintf("cannot write %s: %s", file, strerror(-r));
                        return r;
                }
        }
        r = run_logged(c, create, reason);
        if (sec->compose && !c->dry_run)
                (void) unlinkat(c->root_fd, file + 1, 0);
        return r;
}

/* Write the plan's files, start the unit, check it as a user would. 0 done (*ret_done says what),
 * SERVICE_LATER enabled for a later step to start (FreeIPA's container: join/identity), negative
 * failed (*reason says why). */
static int vendor_app(struct services_ctx *c, const struct service_spec *s, const struct vj_entry *ve,
                      char **ret_done, char **reason) {
        struct app_inputs in = {
                .profile = c->profile, .site = c->site, .host = c->host, .service = s, .vendor = ve, .ram = c->ram,
                .have_quadlet = c->have_quadlet, .credentials = c->credentials,
        };
        _cleanup_(app_plan_done) struct app_plan p = {};
        int r = app_plan_make(&in, &p, reason);
        if (r < 0)
                return r;
        if (s->source == SERVICE_SOURCE_APT)
                for (char **pk = s->packages; pk && *pk; pk++)
                        if (!package_installed(c->root_fd, *pk)) {
                                *reason = strprintf("vendor.json says in the image, but package %s is not installed", *pk);
                                return -ENOENT;
                        }
        /* Its data on the role's data disk (mounted by the storage step before this one). */
        if (!c->dry_run && (r = mkdir_parents_at(c->root_fd, p.data_host + 1, 0750)) < 0) {
                *reason = strprintf("cannot create %s: %s", p.data_host, strerror(-r));
                return r;
        }
        _cleanup_free_ char *text = NULL, *unit_rel = NULL, *check = NULL;
        if ((r = write_text(c, p.env_file + 1, p.env, 0644)) < 0)
                goto write_fail;
        if (s->source == SERVICE_SOURCE_OCI) {
                for (size_t i = 0; i < p.n_secrets; i++)
                        if ((r = podman_secret(c, &p.secrets[i], reason)) < 0)
                                return r;
                if (p.quadlet) {
                        text = app_quadlet_render(&p);
                        unit_rel = strprintf("etc/containers/systemd/%.*s.container",
                                             (int) (strlen(p.unit) - strlen(".service")), p.unit);
                } else {
                        text = app_podman_unit_render(&p);
                        unit_rel = strprintf("etc/systemd/system/%s", p.unit);
                }
        } else {
                for (size_t i = 0; i < p.n_secrets; i++)
                        if (p.secrets[i].file) {
                                if ((r = composed_file(c, &p.secrets[i], reason)) < 0)
                                        return r;
                        } else if ((r = credential_copy(c, p.secrets[i].credential, APP_CREDSTORE, 0700, 0600, reason)) < 0) {
                                if (r == -ENOENT)
                                        *reason = strprintf("credential %s is gone from " CREDENTIALS_DIR,
                                                            p.secrets[i].credential);
                                return r;
                        }
                text = app_dropin_render(&p);
                unit_rel = strprintf("etc/systemd/system/%s.d/50-rackstack.conf", p.unit);
        }
        if (!text || !unit_rel)
                return -ENOMEM;
        if ((r = write_text(c, unit_rel, text, 0644)) < 0)
                goto write_fail;
        char *reload[] = { (char *) "systemctl", (char *) "daemon-reload", NULL };
        if ((r = run_logged(c, reload, reason)) < 0)
                return r;
        /* A Quadlet unit is generated, and enabled by its [Install] section; the others are ours
         * or the package's to enable. */
        if (!(s->source == SERVICE_SOURCE_OCI && p.quadlet) && !unit_enabled(c->root_fd, p.unit) &&
            (r = systemctl(c, "enable", p.unit, reason)) < 0)
                return r;
        /* FreeIPA's container installs itself on its first start, from options that only
         * join/identity writes (the passwords come from the credentials, never the image): started
         * now it finds none, fails, and fails again at every restart. Until its volume holds a
         * configured server it is enabled here, and join/identity starts it. */
        if (streq(s->name, IPA_CONTAINER_SERVICE) && s->source == SERVICE_SOURCE_OCI &&
            !ipa_container_volume_configured(c->root_fd, p.data_host, NULL)) {
                *ret_done = strprintf("image %s%s, %s, enabled; not started: FreeIPA is installed in it at "
                                      "join/identity, which starts it; data in %s", p.image,
                                      p.quadlet ? " as a Quadlet unit" : " as a podman unit", p.unit, p.data_host);
                return *ret_done ? SERVICE_LATER : -ENOMEM;
        }
        if ((r = systemctl(c, "restart", p.unit, reason)) < 0)
                return r;
        if (live(c) && p.health_port) {
                _cleanup_free_ char *why = NULL;
                if (p.health_path) {
                        if ((r = wait_http(p.health_port, p.health_path, c->answer_timeout_sec, &why)) < 0) {
                                *reason = strprintf("%s started but its health check fails within %u s: %s", p.unit,
                                                    c->answer_timeout_sec, strna(why));
                                return r;
                        }
                } else if ((r = wait_answer(INADDR_LOOPBACK, p.health_port, PROTO_TCP, c->answer_timeout_sec)) < 0) {
                        *reason = strprintf("%s started but does not answer on port %u within %u s: %s", p.unit,
                                            p.health_port, c->answer_timeout_sec, strerror(-r));
                        return r;
                }
                check = strprintf("; answering on %u%s%s", p.health_port, p.health_path ? " " : "", strempty(p.health_path));
        }
        /* Still running after the check: a container that answered once and died is not done. */
        char *active[] = { (char *) "systemctl", (char *) "is-active", p.unit, NULL };
        if ((r = run_logged(c, active, reason)) < 0)
                return r;
        *ret_done = strprintf("%s%s%s, %s; data in %s%s%s", s->source == SERVICE_SOURCE_OCI ? "image " : "packages",
                              s->source == SERVICE_SOURCE_OCI ? p.image : "",
                              s->source == SERVICE_SOURCE_OCI ? (p.quadlet ? " as a Quadlet unit" : " as a podman unit") :
                                                                " from the image",
                              p.unit, p.data_host, check ? check : "",
                              live(c) ? "" : " (offline: nothing started)");
        return *ret_done ? 0 : -ENOMEM;
write_fail:
        free(*reason);
        *reason = strprintf("cannot write %s's configuration: %s", s->name, strerror(-r));
        return r;
}

/* A deferred image (vendor.json "deferred"): pulled now by its digest, through the site's mirror
 * for its registry if there is one, then run as if the image had held it. 0 done, 1 skipped (the
 * source does not answer, or there is no digest to pull by), SERVICE_LATER, negative failed. */
static int deferred_oci(struct services_ctx *c, const struct service_spec *s, const struct vj_entry *ve,
                        char **ret_done, char **reason) {
        if (!ve->digest) {
                *reason = strprintf("deferred, and vendor.json pins no digest for %s: a deferred image is pulled by "
                                    "digest or not at all", strna(ve->image ? ve->image : s->image));
                return 1;
        }
        const char *image = ve->image ? ve->image : s->image;
        _cleanup_free_ char *ref = NULL, *host = NULL, *hostport = NULL, *why = NULL, *pinned = NULL;
        const struct mirror_map *used = NULL;
        bool tls = true;
        int r = mirror_map_image(c->site ? c->site->mirrors : NULL, c->site ? c->site->n_mirrors : 0, image, &ref, &tls,
                                 &used);
        if (r < 0)
                return r;
        if (!(host = strndup(ref, strcspn(ref, "/"))) || !(hostport = strdup(host)) ||
            !(pinned = image_pinned(ref, ve->digest)))
                return -ENOMEM;
        char *colon = strrchr(host, ':');
        if (colon)
                *colon = 0;
        r = live(c) ? probe_port(host, colon ? colon + 1 : tls ? "443" : "80", c->probe_timeout_sec, &why) : -EHOSTUNREACH;
        if (r < 0) {
                *reason = strprintf("deferred; %s %s unreachable (%s); %s", used ? "mirror" : "registry", hostport,
                                    why ? why : "not probed offline", pinned);
                return 1;
        }
        char *pull[] = { (char *) "podman", (char *) "pull", (char *) (tls ? "--tls-verify=true" : "--tls-verify=false"),
                         pinned, NULL };
        if ((r = run_logged(c, pull, reason)) < 0)
                return r;
        struct vj_entry now = *ve;
        now.image = ref;
        _cleanup_free_ char *d = NULL;
        if ((r = vendor_app(c, s, &now, &d, reason)) < 0)
                return r;
        *ret_done = strprintf("pulled at first boot%s; %s", used ? " from the site's mirror" : "", strna(d));
        return *ret_done ? r : -ENOMEM;
}

/* A deferred apt service (vendor.json "deferred"): its key checked by fingerprint, its source
 * added, its packages installed now (deferred-apt.h), then configured and started as if the
 * image had held it. 0 done, 1 skipped (the source or its mirror does not answer, or offline), SERVICE_LATER,
 * negative failed (refused: another key, a bad signature; or apt failed). */
static int deferred_apt(struct services_ctx *c, const struct service_spec *s, const struct vj_entry *ve,
                        char **ret_done, char **reason) {
        _cleanup_(deferred_apt_plan_done) struct deferred_apt_plan p = {};
        int r = deferred_apt_plan_make(s, c->site ? c->site->mirrors : NULL, c->site ? c->site->n_mirrors : 0, c->root, &p,
                                       reason);
        if (r < 0)
                return r;
        if (!live(c)) {
                *reason = strprintf("deferred; %s %s:%s unreachable (not probed offline); %s", p.mirror ? "mirror" : "repository",
                                    p.probe_host, p.probe_port, p.repo_url);
                return 1;
        }
        _cleanup_free_ char *installed = NULL;
        r = deferred_apt_apply(&p, c->root_fd, c->root, c->probe_timeout_sec, &installed, reason);
        if (r != DEFERRED_APT_INSTALLED)
                return r;
        _cleanup_free_ char *d = NULL;
        if ((r = vendor_app(c, s, ve, &d, reason)) < 0)
                return r;
        *ret_done = strprintf("%s; %s", strna(installed), strna(d));
        return *ret_done ? r : -ENOMEM;
}

/* ---- one service ------------------------------------------------------------------------------- */

static const char *source_what(const struct service_spec *s) {
        return s->source == SERVICE_SOURCE_APT ? "apt repository" : "registry";
}

/* 0 done, 1 skipped, negative failed; the status entry is written here. */
static int check_ports(const struct services_ctx *c, const struct service_spec *s, char **reason, char **ret_list) {
        struct buf ports = {};
        for (size_t i = 0; i < s->n_ports; i++) {
                unsigned protos = port_check_protos(c->profile, s->ports[i]);
                int r;
                if (live(c) && (r = wait_answer(INADDR_LOOPBACK, s->ports[i], protos, c->answer_timeout_sec)) < 0) {
                        buf_done(&ports);
                        *reason = strprintf("%s started but does not answer on port %u/%s within %u s: %s", strna(s->unit),
                                            s->ports[i], port_protos_to_string(protos), c->answer_timeout_sec, strerror(-r));
                        return r;
                }
                /* A UDP port is named as such: "answering" there means a socket is bound. */
                buf_printf(&ports, "%s%u%s%s", i ? ", " : "", s->ports[i], protos == PROTO_TCP ? "" : "/",
                           protos == PROTO_TCP ? "" : port_protos_to_string(protos));
        }
        buf_putc(&ports, 0);
        *ret_list = buf_steal(&ports);
        return *ret_list ? 0 : -ENOMEM;
}

/* A vendor service (apt or oci): from the image, pulled now, or skipped with the reason. 0 done, 1
 * skipped, SERVICE_LATER enabled for a later step to start, negative failed; the status entry is
 * written here. */
static int vendor_service(struct services_ctx *c, const struct service_spec *s) {
        _cleanup_free_ char *reason = NULL, *done = NULL;
        int r;
        const struct vj_entry *ve = vendor_json_find(&c->vendor, s->name);
        if (ve && ve->state == VJ_IN_IMAGE) {
                if ((r = vendor_app(c, s, ve, &done, &reason)) < 0)
                        goto fail;
                record(c, s, "done", done);
                return r;
        }
        if (ve && ve->state == VJ_DEFERRED) {
                if ((r = s->source == SERVICE_SOURCE_OCI ? deferred_oci(c, s, ve, &done, &reason)
                                                         : deferred_apt(c, s, ve, &done, &reason)) < 0)
                        goto fail;
                record(c, s, r == 1 ? "skipped" : "done", r == 1 ? reason : done);
                return r;
        }
        _cleanup_free_ char *host = source_host(s), *why = NULL;
        const char *src = s->source == SERVICE_SOURCE_APT ? s->repo : s->image;
        if (!host) {
                reason = strprintf("cannot tell where %s comes from", s->name);
                r = -EINVAL;
                goto fail;
        }
        r = live(c) ? probe_https(host, c->probe_timeout_sec, &why) : -EHOSTUNREACH;
        if (r < 0)
                reason = strprintf("%s %s unreachable (%s); %s", source_what(s), host, why ? why : "not probed offline",
                                   strna(src));
        else
                /* Reachable, but the image does not say what to trust for it: vendor.json is what the
                 * build recorded (an image built before vendor content, or a service added since). */
                reason = strprintf("%s %s is reachable, but the image does not hold it and vendor.json %s; %s",
                                   source_what(s), host, ve ? "does not say it is deferred" : "does not list it",
                                   strna(src));
        record(c, s, "skipped", reason);
        return 1;
fail:
        record(c, s, "failed", reason ? reason : strerror(-r));
        return r;
}

/* MariaDB on the db host, for the consumers that support only MySQL/MariaDB: bound to loopback and
 * the database VLAN address, a database and an account (by address) per consumer from the wiring. */
static int mariadb(struct services_ctx *c, const struct service_spec *s, uint32_t *ret_also, char **ret_done,
                   char **reason) {
        if (c->dbw_error) {
                *reason = strdup(c->dbw_error);
                return -EINVAL;
        }
        const struct vlan_spec *dbv = site_vlan_named(c->site, "database");
        uint32_t a = database_address(c, dbv);
        _cleanup_free_ char *as = a ? format_ipv4(a) : NULL;
        _cleanup_free_ char *listen = a ? strprintf("127.0.0.1,%s", strna(as)) : strdup("127.0.0.1");
        uint64_t pool = s->memory + c->ram / 100 * s->memory_percent;
        _cleanup_free_ char *cnf = listen ? mariadb_cnf_render(listen, pool) : NULL;
        if (!cnf)
                return -ENOMEM;
        int r = write_text(c, MARIADB_CNF, cnf, 0644);
        if (r < 0) {
                *reason = strprintf("cannot write /%s: %s", MARIADB_CNF, strerror(-r));
                return r;
        }
        if ((!c->units_enabled && (r = systemctl(c, "enable", s->unit, reason)) < 0) ||
            (r = systemctl(c, "restart", s->unit, reason)) < 0)
                return r;
        size_t n = c->dbw ? c->dbw->plan.n_mysql : 0;
        if (n && c->dbw->kept)
                log_info("  no credentials bundle: the consumers' MariaDB databases and accounts are left as they are");
        else if (n) {
                _cleanup_free_ char *sql = db_wiring_mysql_sql(&c->dbw->plan, c->dbw->mysql_hashes);
                if (!sql)
                        return -ENOMEM;
                if (!live(c))
                        log_info("  would create %zu databases and accounts for the consumers", n);
                else {
                        /* as root through the unix socket; the SQL holds hashes, never a password */
                        char *argv[] = { (char *) "mariadb", (char *) "--batch", (char *) "--protocol=socket", NULL };
                        int st = 0;
                        if ((r = cmd_run(argv, sql, strlen(sql), &st)) < 0 || st != 0) {
                                *reason = strprintf("mariadb: creating the consumers' databases and accounts failed (%s)",
                                                    r < 0 ? strerror(-r) : "non-zero exit");
                                return r < 0 ? r : -EIO;
                        }
                }
        }
        *ret_also = a;
        *ret_done = strprintf("%s, bound to loopback%s; %zu consumer database%s and account%s, each from its own address%s",
                              live(c) ? "started" : "configured", a ? " and the database VLAN address" : "", n,
                              n == 1 ? "" : "s", n == 1 ? "" : "s", n ? "" : " (no wiring: none)");
        return *ret_done ? 0 : -ENOMEM;
}

/* dbconfig-common configured Roundcube, at the image's build, for the first database type whose PHP
 * module the image has. On a Debian 12 comm Zabbix's frontend brings PostgreSQL's, so Roundcube was
 * set up for a PostgreSQL on localhost that does not exist, and every page was "Internal Error"
 * (HTTP 200). The profile chose SQLite (roundcube-sqlite3): dbconfig-common's record says so now, and
 * dpkg-reconfigure makes the database, so that package upgrades keep it. Nothing to do when the
 * record says SQLite already, or when the image has no roundcube-sqlite3 (someone chose otherwise).
 * Images built since comm's profile answers debconf (debconf: roundcube/database-type select
 * sqlite3, given before apt installs Roundcube) are right from the build and this does nothing on
 * them; it stays for images built before that. */
static int roundcube_sqlite(struct services_ctx *c, char **reason) {
        _cleanup_free_ char *conf = NULL, *sqlite = NULL;
        if (faccessat(c->root_fd, "var/lib/dpkg/info/roundcube-sqlite3.list", F_OK, 0) < 0 ||
            read_file_full(c->root_fd, ROUNDCUBE_DBCONFIG, 1 << 20, &conf, NULL) < 0)
                return 0;
        int r = roundcube_dbconfig_sqlite(conf, &sqlite);
        if (r < 0) {
                *reason = strprintf("/%s has no dbc_dbtype line: cannot point Roundcube at SQLite", ROUNDCUBE_DBCONFIG);
                return r;
        }
        if (!sqlite)
                return 0;
        /* 0600: the record holds the database password dbconfig-common generated */
        if ((r = write_text(c, ROUNDCUBE_DBCONFIG, sqlite, 0600)) < 0) {
                *reason = strprintf("cannot write /%s: %s", ROUNDCUBE_DBCONFIG, strerror(-r));
                return r;
        }
        /* dbconfig-common installs a database once: "reinstall" makes it make the SQLite one */
        static const char reinstall[] = "roundcube-core roundcube/dbconfig-reinstall boolean true\n";
        char *selections[] = { (char *) "debconf-set-selections", NULL },
             *reconfigure[] = { (char *) "dpkg-reconfigure", (char *) "-fnoninteractive", (char *) "roundcube-core",
                                NULL };
        if (live(c)) {
                int st = 0;
                if ((r = cmd_run(selections, reinstall, strlen(reinstall), &st)) < 0 || st != 0) {
                        *reason = strprintf("debconf-set-selections failed (%s)", r < 0 ? strerror(-r) : "exit status");
                        return r < 0 ? r : -EIO;
                }
        }
        return run_logged(c, reconfigure, reason);
}

/* Roundcube on comm: its database (SQLite), nginx's site for it (PHP through the image's FPM), FPM
 * and nginx started, and the check a user makes: its login page answers on 80. */
static int roundcube(struct services_ctx *c, const struct service_spec *s, char **ret_done, char **reason) {
        _cleanup_free_ char *ver = NULL, *site = NULL, *fpm = NULL, *why = NULL;
        int r = roundcube_sqlite(c, reason);
        if (r < 0)
                return r;
        r = php_fpm_version(c->root_fd, &ver);
        if (r < 0) {
                *reason = strprintf("no PHP-FPM in the image (/etc/php/*/fpm): Roundcube cannot run under nginx");
                return r;
        }
        if (!(site = roundcube_nginx_render(ver)) || !(fpm = strprintf("php%s-fpm.service", ver)))
                return -ENOMEM;
        if ((r = write_text(c, ROUNDCUBE_SITE, site, 0644)) < 0) {
                *reason = strprintf("cannot write /%s: %s", ROUNDCUBE_SITE, strerror(-r));
                return r;
        }
        if (!c->dry_run) {
                /* ours is the default server on 80: the package's welcome page steps aside */
                (void) unlinkat(c->root_fd, "etc/nginx/sites-enabled/default", 0);
                (void) unlinkat(c->root_fd, ROUNDCUBE_SITE_LINK, 0);
                if ((r = mkdir_parents_at(c->root_fd, "etc/nginx/sites-enabled", 0755)) < 0 ||
                    symlinkat("../sites-available/rackstack-roundcube", c->root_fd, ROUNDCUBE_SITE_LINK) < 0) {
                        r = r < 0 ? r : -errno;
                        *reason = strprintf("cannot enable /%s: %s", ROUNDCUBE_SITE, strerror(-r));
                        return r;
                }
        }
        char *nginx_t[] = { (char *) "nginx", (char *) "-t", (char *) "-q", NULL };
        if ((r = run_logged(c, nginx_t, reason)) < 0 ||
            /* FPM's unit is named by its version, so the one enable of the profile's units has not got it */
            (!unit_enabled(c->root_fd, fpm) && (r = systemctl(c, "enable", fpm, reason)) < 0) ||
            (r = systemctl(c, "restart", fpm, reason)) < 0 ||
            (!c->units_enabled && (r = systemctl(c, "enable", s->unit, reason)) < 0) ||
            (r = systemctl(c, "restart", s->unit, reason)) < 0)
                return r;
        if (live(c) && (r = wait_http_page(80, "/", roundcube_login_page, "Roundcube's login form", c->answer_timeout_sec,
                                           &why)) < 0) {
                *reason = strprintf("nginx and %s started, but Roundcube does not answer: %s", fpm, strna(why));
                return r;
        }
        *ret_done = strprintf("%s through nginx and %s (/%s)", live(c) ? "login page served" : "configured", fpm,
                              ROUNDCUBE_SITE);
        return *ret_done ? 0 : -ENOMEM;
}

/* The Zabbix server on comm (zabbix.h): its database on lab-db1, its files, the frontend, the
 * autoregistration. Without a site bundle (a lab VM alone) there is no database to point it at:
 * said so, and not started. */
static int zabbix_server(struct services_ctx *c, char **ret_done, char **reason) {
        const struct ks_join *j = c->ks ? ks_find_join(c->ks, KS_JOIN_ZABBIX) : NULL;
        struct zabbix_ctx z = { .root_fd = c->root_fd, .host = c->host ? c->host->name : NULL, .live = live(c),
                                .psk_identity = j ? j->psk_identity : NULL, .wait_sec = join_wait_bound() };
        _cleanup_free_ char *why = NULL;
        int r = zabbix_server_setup(&z, ret_done, &why);
        if (r == -ENOENT && why && strstr(why, "no wiring")) {
                *ret_done = strprintf("installed, not started: %s", why);
                return *ret_done ? 0 : -ENOMEM;
        }
        if (r < 0)
                *reason = TAKE_PTR(why);
        return r;
}

/* A distribution service's own start: PostgreSQL, Redis and PgBouncer configured first, the
 * others started as they are. *ret_done may say more than "started"; *ret_also is a VLAN address
 * it must answer on too. */
static int distro_start(struct services_ctx *c, const struct service_spec *s, uint32_t *ret_also, char **ret_done,
                        char **reason) {
        int r;
        if (streq(s->name, "postgresql"))
                return postgresql(c, s, reason, ret_done);
        if (streq(s->name, "roundcube") && s->unit)
                return roundcube(c, s, ret_done, reason);
        if (streq(s->name, "mariadb") && s->unit)
                return mariadb(c, s, ret_also, ret_done, reason);
        if (streq(s->name, ZABBIX_SERVICE) && s->unit)
                return zabbix_server(c, ret_done, reason);
        if (streq(s->name, "redis") && s->unit) {
                if ((r = redis_config(c, s, ret_also, reason)) < 0 ||
                    (!c->units_enabled && (r = systemctl(c, "enable", s->unit, reason)) < 0) ||
                    (r = systemctl(c, "restart", s->unit, reason)) < 0)
                        return r;
                *ret_done = strprintf("started, bound to loopback%s, maxmemory %" PRIu64 " MiB, password in /" REDIS_DROPIN,
                                      *ret_also ? " and the database VLAN address" : "",
                                      (s->memory + c->ram / 100 * s->memory_percent) >> 20);
                return *ret_done ? 0 : -ENOMEM;
        }
        if (streq(s->name, "pgbouncer") && c->dbw && s->unit) {
                /* its configuration was written with PostgreSQL's consumers: read it again */
                if ((!c->units_enabled && (r = systemctl(c, "enable", s->unit, reason)) < 0) ||
                    (r = systemctl(c, "restart", s->unit, reason)) < 0)
                        return r;
                *ret_done = strprintf("restarted with a pool per consumer database (%zu)", c->dbw->plan.n_pg);
                return *ret_done ? 0 : -ENOMEM;
        }
        /* Started, not restarted: their configuration is not ours (the join step writes chrony's,
         * rsyslog's, Zabbix's and restarts them itself). */
        if ((!c->units_enabled && (r = systemctl(c, "enable", s->unit, reason)) < 0) ||
            (r = systemctl(c, "start", s->unit, reason)) < 0)
                return r;
        return 0;
}

/* Either end of the backup jobs (backup.h), from the wiring in the host's credentials. */
static int backup_service(struct services_ctx *c, const struct service_spec *s) {
        _cleanup_(backup_plan_done) struct backup_plan p = {};
        _cleanup_free_ char *why = NULL, *done = NULL;
        bool kept = false;
        int r = c->host ? backup_load(c->root_fd, c->host->name, &p, &kept, &why) : -ENOENT;
        if (r == -ENOENT && !why) {
                record(c, s, "done", "installed; no backup link in this host's credentials (nothing wired)");
                return 0;
        }
        if (r >= 0 && kept)
                r = backup_check_kept(c->root_fd, &p, &done, &why);
        else if (r >= 0) {
                struct backup_ctx b = { .root_fd = c->root_fd, .root = c->root, .host = c->host->name, .live = live(c) };
                r = c->dry_run ? 0 : backup_apply(&b, &p, &done, &why);
        }
        if (r < 0) {
                record(c, s, "failed", why ? why : strerror(-r));
                return r;
        }
        record(c, s, "done", done ? done : "would be configured (dry run)");
        return 0;
}

static int one_service(struct services_ctx *c, const struct service_spec *s) {
        _cleanup_free_ char *reason = NULL, *done = NULL, *pl = NULL, *msg = NULL;
        int r;

        if (s->bases && c->base && !strv_contains(s->bases, c->base)) {
                _cleanup_free_ char *b = strv_join(s->bases, ", ");
                reason = strprintf("only on %s; this is %s", strna(b), c->base);
                record(c, s, "skipped", reason);
                return 1;
        }

        /* Config that is ours to write even before the service itself arrives. */
        if (streq(s->name, "traefik") && (r = traefik_routes(c, &reason)) < 0)
                goto fail;
        if (s->source != SERVICE_SOURCE_DISTRO)
                return vendor_service(c, s);

        for (char **p = s->packages; p && *p; p++)
                if (!package_installed(c->root_fd, *p)) {
                        reason = strprintf("package %s is not in the image", *p);
                        r = -ENOENT;
                        goto fail;
                }
        if (s->needs && strv_contains(s->needs, "backup")) /* a backup client's job (db's pg-backup) */
                return backup_service(c, s);
        if (streq(s->name, wiring_provider_service("backup")))
                return backup_service(c, s);
        if (!s->unit && !streq(s->name, "postgresql")) {
                record(c, s, "done", "installed; it has no unit of its own");
                return 0;
        }
        uint32_t also = 0;
        if ((r = distro_start(c, s, &also, &done, &reason)) < 0 || (r = check_ports(c, s, &reason, &pl)) < 0)
                goto fail;
        for (size_t i = 0; also && live(c) && i < s->n_ports; i++)
                if ((r = wait_answer(also, s->ports[i], port_check_protos(c->profile, s->ports[i]),
                                     c->answer_timeout_sec)) < 0) {
                        reason = strprintf("%s does not answer on %u.%u.%u.%u:%u: %s", s->name, also >> 24,
                                           (also >> 16) & 0xff, (also >> 8) & 0xff, also & 0xff, s->ports[i],
                                           strerror(-r));
                        goto fail;
                }
        msg = strprintf("%s%s%s%s", done ? done : live(c) ? "started" : "configured",
                        s->n_ports ? (live(c) ? "; answering on " : "; would check ") : "", s->n_ports ? strna(pl) : "",
                        live(c) ? "" : " (offline: nothing started)");
        record(c, s, "done", msg);
        return 0;
fail:
        if (!reason)
                reason = strdup(strerror(-r));
        record(c, s, "failed", reason);
        return r;
}

/* Defaults for what the caller left unset, vendor.json, Quadlet, the credential names. A broken
 * vendor.json fails the step: an image whose pins cannot be read must not run unpinned. No
 * vendor.json (an image from before it existed): every vendor service is treated as not in the image. */
static int services_prepare(struct services_ctx *c) {
        if (!c->ram && mem_total(&c->ram) < 0)
                c->ram = c->profile->ram;
        if (!c->cpus) {
                long n = sysconf(_SC_NPROCESSORS_ONLN);
                c->cpus = n > 0 ? (unsigned) n : 1;
        }
        if (!c->probe_timeout_sec)
                c->probe_timeout_sec = 3;
        if (!c->answer_timeout_sec)
                c->answer_timeout_sec = 120;
        _cleanup_free_ char *vj = NULL;
        size_t vjn = 0;
        int vr = read_file_full(c->root_fd, VENDOR_JSON, 16 * 1024 * 1024, &vj, &vjn);
        if (vr >= 0) {
                _cleanup_free_ char *why = NULL;
                vr = vendor_json_parse(vj, vjn, &c->vendor, &why);
                if (vr < 0) {
                        _cleanup_free_ char *m = strprintf("/" VENDOR_JSON ": %s", why ? why : strerror(-vr));
                        (void) status_fail(c->status, "services", m ? m : "vendor.json");
                        return vr;
                }
        } else if (vr != -ENOENT) {
                (void) status_fail(c->status, "services", "/" VENDOR_JSON " cannot be read");
                return vr;
        }
        c->have_quadlet = faccessat(c->root_fd, "usr/libexec/podman/quadlet", X_OK, 0) == 0;
        c->credentials = credential_names(c->root_fd);
        return 0;
}

/* Every unit enabled in one go: each systemctl enable reloads systemd, which takes many seconds
 * on a slow machine (20-40 s each under TCG). If the batch fails, each service enables its own
 * and the failure lands on the service it belongs to. */
static int enable_units(struct services_ctx *c) {
        _cleanup_strv_free_ char **units = NULL;
        if (strv_extend(&units, "nftables.service") < 0)
                return -ENOMEM;
        for (size_t i = 0; i < c->profile->n_services; i++) {
                const struct service_spec *s = &c->profile->services[i];
                if (s->source != SERVICE_SOURCE_DISTRO || !s->unit || (s->bases && c->base && !strv_contains(s->bases, c->base)))
                        continue;
                bool have = true;
                for (char **p = s->packages; p && *p; p++)
                        have = have && package_installed(c->root_fd, *p);
                if (have && !strv_contains(units, s->unit) && strv_extend(&units, s->unit) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0, j = 0;; i++) {
                if (units[i] && unit_enabled(c->root_fd, units[i])) {
                        free(units[i]);
                        continue;
                }
                units[j++] = units[i];
                if (!units[i])
                        break;
        }
        if (!units[0]) {
                c->units_enabled = true;
                return 0;
        }
        _cleanup_strv_free_ char **argv = NULL;
        _cleanup_free_ char *why = NULL;
        if (strv_extend(&argv, "systemctl") < 0 || strv_extend(&argv, "enable") < 0)
                return -ENOMEM;
        for (char **u = units; *u; u++)
                if (strv_extend(&argv, *u) < 0)
                        return -ENOMEM;
        c->units_enabled = run_logged(c, argv, &why) >= 0;
        if (!c->units_enabled)
                log_warning("enabling the units at once failed (%s); one by one", strna(why));
        return 0;
}

/* The services array's end, PostgreSQL's report, attached to the status entry. */
static void services_report(struct services_ctx *c) {
        json_end_array(&c->report);
        json_key(&c->report, "postgresql");
        if (c->pg_report)
                json_raw(&c->report, c->pg_report);
        else
                json_null(&c->report);
        json_end_object(&c->report);
        _cleanup_free_ char *rep = buf_steal(&c->report.out);
        if (rep)
                (void) status_attach(c->status, "services", rep);
        free(c->pg_report);
        c->pg_report = NULL;
}

/* The firewall, then each service, the report, the step's status. */
static int services_all(struct services_ctx *c) {
        c->report = (struct json) {};
        json_begin_object(&c->report);
        json_key(&c->report, "services");
        json_begin_array(&c->report);
        int r = firewall(c);
        if (r < 0) {
                buf_done(&c->report.out);
                return r;
        }
        unsigned failed = 0, skipped = 0, done = 0, later = 0;
        _cleanup_free_ char *first = NULL;
        for (size_t i = 0; i < c->profile->n_services; i++) {
                int k = one_service(c, &c->profile->services[i]);
                if (k < 0 && !first)
                        first = strdup(c->profile->services[i].name);
                failed += k < 0;
                skipped += k == 1;
                done += k == 0;
                later += k == SERVICE_LATER;
        }
        services_report(c);
        /* A service a later step starts is not counted as running (FreeIPA's container, until its join). */
        _cleanup_free_ char *sum = later ? strprintf("%u running, %u enabled for the join to start, %u skipped, %u failed",
                                                     done, later, skipped, failed)
                                         : strprintf("%u running, %u skipped, %u failed", done, skipped, failed);
        if (failed) {
                _cleanup_free_ char *why = strprintf("%s (first: %s; see service/%s)", strna(sum), strna(first), strna(first));
                (void) status_fail(c->status, "services", why);
                return -EIO;
        }
        (void) status_step(c->status, "services", "done", sum);
        return 0;
}

int services_run(struct services_ctx *c) {
        _cleanup_free_ char *base = NULL;
        _cleanup_(db_wiring_set_done) struct db_wiring_set dbw = {};
        bool own_base = false;
        if (!c->base && os_base(c->root_fd, &base) >= 0) {
                c->base = base;
                own_base = true;
        }
        int r;
        if ((r = services_prepare(c)) >= 0 && (r = enable_units(c)) >= 0) {
                /* The wiring: the bundle's (kept for later runs), else what an earlier run kept. */
                enum wiring_source src = WIRING_SOURCE_NONE;
                int k = creds_wiring_keep(c->root_fd, c->dry_run, &src);
                if (k < 0)
                        log_warning("Cannot keep the credentials' wiring in /" WIRING_KEPT
                                    ": %s (a rerun without the bundle will not have it)", strerror(-k));
                else
                        printf("rackstack-firstboot: wiring from %s\n", wiring_source_name(src));
                /* The database host's consumers, from that wiring. */
                if (c->host) {
                        free(c->dbw_error);
                        c->dbw_error = NULL;
                        k = db_wiring_load(c->root_fd, c->host->name, true, &dbw, &c->dbw_error);
                        if (k >= 0)
                                c->dbw = &dbw;
                        else if (k != -ENOENT && !c->dbw_error)
                                c->dbw_error = strprintf("the wiring in /run/credentials/rackstack: %s", strerror(-k));
                }
                r = services_all(c);
        }
        if (own_base)
                c->base = NULL; /* it pointed into base, freed here */
        c->dbw = NULL;          /* it pointed at dbw, freed here */
        free(c->dbw_error);
        c->dbw_error = NULL;
        vendor_json_done(&c->vendor);
        c->credentials = strv_free(c->credentials);
        return r;
}
