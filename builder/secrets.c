/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "log.h"
#include "parse.h"
#include "process.h"
#include "secrets.h"
#include "util.h"
#include "walk.h"

/* ---- the plan (pure) ------------------------------------------------------------------------------ */

static void item_done(struct secret_item *it) {
        free(it->store);
        free(it->subject_host);
        strv_free(it->sans);
        for (size_t i = 0; i < it->n_grants; i++) {
                free(it->grants[i].host);
                free(it->grants[i].cred);
        }
        free(it->grants);
}

void secrets_plan_done(struct secrets_plan *p) {
        for (size_t i = 0; i < p->n; i++)
                item_done(&p->items[i]);
        free(p->items);
        wiring_done(&p->wiring);
        free(p->domain);
        *p = (struct secrets_plan) {};
}

const struct secret_item *secrets_plan_find(const struct secrets_plan *p, const char *store) {
        for (size_t i = 0; i < p->n; i++)
                if (streq(p->items[i].store, store))
                        return &p->items[i];
        return NULL;
}

bool secrets_plan_has_ssh(const struct secrets_plan *p) {
        for (size_t i = 0; i < p->n; i++)
                if (p->items[i].kind == SECRET_SSH_KEY || p->items[i].kind == SECRET_SSH_PUB)
                        return true;
        return false;
}

static struct secret_item *find_mut(struct secrets_plan *p, const char *store) {
        return (struct secret_item *) secrets_plan_find(p, store);
}

/* The item named store, made if new. */
static struct secret_item *item(struct secrets_plan *p, const char *store, enum secret_kind kind) {
        struct secret_item *it = find_mut(p, store);
        if (it)
                return it;
        struct secret_item *n = realloc(p->items, (p->n + 1) * sizeof *n);
        if (!n)
                return NULL;
        p->items = n;
        it = &p->items[p->n];
        *it = (struct secret_item) { .store = strdup(store), .kind = kind };
        if (!it->store)
                return NULL;
        p->n++;
        return it;
}

static int grant(struct secret_item *it, const char *host, const char *cred) {
        if (!it)
                return -ENOMEM;
        for (size_t i = 0; i < it->n_grants; i++)
                if (streq(it->grants[i].host, host) && streq(it->grants[i].cred, cred))
                        return 0;
        struct secret_grant *n = realloc(it->grants, (it->n_grants + 1) * sizeof *n);
        if (!n)
                return -ENOMEM;
        it->grants = n;
        struct secret_grant g = { .host = strdup(host), .cred = strdup(cred) };
        if (!g.host || !g.cred) {
                free(g.host);
                free(g.cred);
                return -ENOMEM;
        }
        it->grants[it->n_grants++] = g;
        return 0;
}

static int grant_new(struct secrets_plan *p, const char *store, enum secret_kind kind, const char *host,
                     const char *cred) {
        return grant(item(p, store, kind), host, cred);
}

static const struct profile *profile_of(const struct profile *const *ps, size_t n, const char *role) {
        for (size_t i = 0; i < n; i++)
                if (ps[i] && ps[i]->role && streq(ps[i]->role, role))
                        return ps[i];
        return NULL;
}

static const struct host_spec *host_running(const struct site *site, const struct profile *const *ps, size_t n,
                                            const char *service) {
        for (size_t h = 0; h < site->n_hosts; h++) {
                const struct profile *p = profile_of(ps, n, site->hosts[h].role);
                for (size_t i = 0; p && i < p->n_services; i++)
                        if (streq(p->services[i].name, service))
                                return &site->hosts[h];
        }
        return NULL;
}

static int tls_item(struct secrets_plan *p, const struct site *site, const struct host_spec *h, bool proxy) {
        _cleanup_free_ char *key = strprintf("hosts/%s/tls.key", h->name), *crt = strprintf("hosts/%s/tls.crt", h->name),
                            *fqdn = strprintf("%s.%s", h->name, site->domain);
        if (!key || !crt || !fqdn)
                return -ENOMEM;
        int r;
        if ((r = grant_new(p, key, SECRET_TLS_KEY, h->name, "tls.key")) < 0 ||
            (r = grant_new(p, crt, SECRET_TLS_CERT, h->name, "tls.crt")) < 0)
                return r;
        struct secret_item *it = find_mut(p, crt);
        if (!(it->subject_host = strdup(h->name)) || strv_extend(&it->sans, fqdn) < 0)
                return -ENOMEM;
        /* The reverse proxy answers for every routed name. */
        for (size_t i = 0; proxy && i < site->n_routes; i++) {
                _cleanup_free_ char *n = strprintf("%s.%s", site->routes[i].name, site->domain);
                if (!n || strv_extend(&it->sans, n) < 0)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < h->n_addresses; i++) {
                _cleanup_free_ char *a = format_ipv4(h->addresses[i].addr);
                _cleanup_free_ char *ip = a ? strprintf("IP:%s", a) : NULL;
                if (!ip || strv_extend(&it->sans, ip) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A backup link: the consumer's SSH key and restic password, its public key to the backup host. */
static int backup_items(struct secrets_plan *p, const struct wiring_link *l) {
        _cleanup_free_ char *key = strprintf("backup/%s/ssh.key", l->consumer),
                            *pub = strprintf("backup/%s/ssh.pub", l->consumer),
                            *pw = strprintf("backup/%s/restic", l->consumer),
                            *pubcred = strprintf("backup-ssh.%s.pub", l->consumer);
        if (!key || !pub || !pw || !pubcred)
                return -ENOMEM;
        int r;
        if ((r = grant_new(p, key, SECRET_SSH_KEY, l->consumer, "backup-ssh.key")) < 0 ||
            (r = grant_new(p, pub, SECRET_SSH_PUB, l->provider, pubcred)) < 0 ||
            (r = grant_new(p, pw, SECRET_PASSWORD, l->consumer, "backup-restic")) < 0)
                return r;
        struct secret_item *it = find_mut(p, pub);
        if (!it->subject_host && !(it->subject_host = strdup(l->consumer)))
                return -ENOMEM;
        return 0;
}

int secrets_plan_make(const struct site *site, const struct profile *const *ps, size_t n, struct secrets_plan *ret,
                      char **ret_error) {
        struct secrets_plan p = {};
        int r = wiring_plan(site, ps, n, &p.wiring, ret_error);
        if (r < 0)
                return r;
        if (!(p.domain = strdup(site->domain ? site->domain : "local"))) {
                r = -ENOMEM;
                goto fail;
        }
        const struct host_spec *ipa = host_running(site, ps, n, "freeipa-server"),
                               *proxy = host_running(site, ps, n, "traefik");
        if (!item(&p, "ca.key", SECRET_CA_KEY)) {
                r = -ENOMEM;
                goto fail;
        }
        for (size_t h = 0; h < site->n_hosts; h++) {
                const struct host_spec *host = &site->hosts[h];
                _cleanup_free_ char *otp = strprintf("hosts/%s/ipa-otp", host->name),
                                    *token = strprintf("hosts/%s/token", host->name),
                                    *otp_for = strprintf("ipa-otp.%s", host->name);
                if (!otp || !token || !otp_for) {
                        r = -ENOMEM;
                        goto fail;
                }
                if ((r = grant_new(&p, "ca.crt", SECRET_CA_CERT, host->name, "ca.crt")) < 0 ||
                    (r = tls_item(&p, site, host, host == proxy)) < 0 ||
                    (r = grant_new(&p, token, SECRET_PASSWORD, host->name, "token")) < 0 ||
                    (r = grant_new(&p, "zabbix-psk", SECRET_PSK, host->name, "zabbix-psk")) < 0)
                        goto fail;
                if (host == ipa) {
                        if ((r = grant_new(&p, "ipa-admin-password", SECRET_PASSWORD, host->name, "ipa-admin-password")) < 0 ||
                            (r = grant_new(&p, "ipa-dm-password", SECRET_PASSWORD, host->name, "ipa-dm-password")) < 0)
                                goto fail;
                } else if ((r = grant_new(&p, otp, SECRET_PASSWORD, host->name, "ipa-otp")) < 0 ||
                           (ipa && (r = grant_new(&p, otp, SECRET_PASSWORD, ipa->name, otp_for)) < 0))
                        goto fail;
        }
        for (size_t i = 0; i < p.wiring.n; i++) {
                const struct wiring_link *l = &p.wiring.links[i];
                if (streq(l->kind, "backup")) {
                        if ((r = backup_items(&p, l)) < 0)
                                goto fail;
                        continue;
                }
                _cleanup_free_ char *admin = strprintf("admin.%s", l->service);
                if (!admin || (r = grant_new(&p, admin, SECRET_PASSWORD, l->consumer, admin)) < 0)
                        goto fail;
                /* a consumer has one database, PostgreSQL or MariaDB: its password is db.SERVICE either way */
                const char *prefix = streq(l->kind, "postgresql") || streq(l->kind, "mysql") ? "db"
                                     : streq(l->kind, "redis")                                ? "redis"
                                                                                              : NULL;
                if (!prefix)
                        continue;
                _cleanup_free_ char *name = strprintf("%s.%s", prefix, l->service);
                if (!name || (r = grant_new(&p, name, SECRET_PASSWORD, l->consumer, name)) < 0 ||
                    (r = grant_new(&p, name, SECRET_PASSWORD, l->provider, name)) < 0)
                        goto fail;
                if (streq(prefix, "redis") && (r = grant_new(&p, "redis", SECRET_PASSWORD, l->provider, "redis")) < 0)
                        goto fail;
        }
        *ret = p;
        return 0;
fail:
        secrets_plan_done(&p);
        return r;
}

/* ---- making them ---------------------------------------------------------------------------------- */

static int random_hex(size_t bytes, char **ret) {
        unsigned char raw[64];
        if (bytes > sizeof raw || RAND_bytes(raw, (int) bytes) != 1)
                return -EIO;
        char *s = malloc(2 * bytes + 2);
        if (!s) {
                OPENSSL_cleanse(raw, sizeof raw);
                return -ENOMEM;
        }
        hex_format(raw, bytes, s);
        OPENSSL_cleanse(raw, sizeof raw);
        s[2 * bytes] = '\n';
        s[2 * bytes + 1] = 0;
        *ret = s;
        return 0;
}

static int store_read(int fd, const char *store, char **ret) {
        size_t size;
        return read_file_full(fd, store, 1024 * 1024, ret, &size);
}

static int store_write(int fd, const char *store, const char *data) {
        const char *slash = strrchr(store, '/');
        if (slash) {
                _cleanup_free_ char *dir = strndup(store, (size_t) (slash - store));
                int r = dir ? mkdir_parents_at(fd, dir, 0700) : -ENOMEM;
                if (r < 0)
                        return r;
        }
        /* write_file_atomic: a kill leaves the old file or the new one, never half of one. */
        return write_file_atomic(fd, store, data, strlen(data), 0600);
}

static void wipe(char **p) {
        if (*p)
                creds_wipe_free(*p, strlen(*p));
        *p = NULL;
}

/* "backup/H/ssh.pub" -> "backup/H/ssh.key" */
static char *ssh_key_path(const char *pub) {
        size_t n = strlen(pub);
        return n > 4 && streq(pub + n - 4, ".pub") ? strprintf("%.*s.key", (int) (n - 4), pub) : NULL;
}

/* ---- SSH keys: OpenSSH's own ssh-keygen makes and reads them ---------------------------------------- */

/* ssh-keygen with stdin /dev/null (it never prompts: -N '' and -P '' give the passphrase), its
 * stdout captured when ret_stdout is given; a failure is logged with what it said. */
static int ssh_keygen(const char *const argv[], char **ret_stdout) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = ret_stdout ? PROC_OUT_CAPTURE : PROC_OUT_NULL;
        o.err = PROC_OUT_TAIL;
        _cleanup_free_ char *tail = NULL, *out = NULL, *cmdline = strv_join((char *const *) argv, " ");
        int r = proc_run(argv, &o, &tail, ret_stdout ? &out : NULL);
        if (r == -ENOENT)
                return log_error_errno(r, "ssh-keygen is not installed (package openssh-client): it makes the backup keys");
        if (r < 0)
                return log_error_errno(r, "Failed to run ssh-keygen: %m");
        if (r != 0) {
                log_error("%s failed with exit status %d:\n%s", strna(cmdline), r, strempty(tail));
                return -EPROTO;
        }
        if (ret_stdout)
                *ret_stdout = TAKE_PTR(out);
        return 0;
}

/* The private directory ssh-keygen writes a new key into: 0700 (mkdtemp), inside the store, so a
 * kill can leave a key only where the store keeps its keys anyway. Removed on every path. */
static void keygen_dir_remove(char **dir) {
        if (!*dir)
                return;
        (void) walk_remove_tree(*dir);
        free(*dir);
        *dir = NULL;
}

/* A new Ed25519 key, OpenSSH's own unencrypted format (ssh-keygen -N ''), as text for the store. */
static int ssh_key_make(const char *sdir, const char *comment, char **ret_private) {
        _cleanup_(keygen_dir_remove) char *dir = strprintf("%s/.ssh-keygen.XXXXXX", sdir);
        if (!dir)
                return -ENOMEM;
        if (!mkdtemp(dir)) {
                int r = -errno;
                free(dir);
                dir = NULL;
                return log_error_errno(r, "Failed to make a private directory in %s: %m", sdir);
        }
        _cleanup_free_ char *key = strprintf("%s/key", dir);
        if (!key)
                return -ENOMEM;
        const char *argv[] = { "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", key, NULL };
        int r = ssh_keygen(argv, NULL);
        if (r < 0)
                return r;
        size_t size;
        return read_file_full(AT_FDCWD, key, 64 * 1024, ret_private, &size);
}

/* "ssh-ed25519 BASE64 COMMENT\n" of the key at path (ssh-keygen -y); -EBADMSG for any other type. */
static int ssh_key_public(const char *path, const char *comment, char **ret_line) {
        const char *argv[] = { "ssh-keygen", "-y", "-P", "", "-f", path, NULL };
        _cleanup_free_ char *out = NULL;
        int r = ssh_keygen(argv, &out);
        if (r < 0)
                return r;
        const char *b64 = startswith(out, "ssh-ed25519 ") ? out + strlen("ssh-ed25519 ") : NULL;
        size_t n = b64 ? strcspn(b64, " \n") : 0;
        if (n == 0)
                return log_error_errno(-EBADMSG, "%s is not an Ed25519 key", path);
        char *line = strprintf("ssh-ed25519 %.*s %s\n", (int) n, b64, comment);
        if (!line)
                return -ENOMEM;
        *ret_line = line;
        return 0;
}

static int make_one(int fd, const char *sdir, const struct secrets_plan *p, const struct secret_item *it, char **ret) {
        int r;
        switch (it->kind) {
        case SECRET_PASSWORD: return random_hex(24, ret);
        case SECRET_PSK: return random_hex(32, ret);
        case SECRET_CA_KEY:
        case SECRET_TLS_KEY: return pki_make_key(ret);
        case SECRET_CA_CERT: {
                char *key = NULL;
                if ((r = store_read(fd, "ca.key", &key)) < 0)
                        return r;
                r = pki_make_ca(key, p->domain, ret);
                wipe(&key);
                return r;
        }
        case SECRET_SSH_KEY: {
                _cleanup_free_ char *c = strprintf("rackstack-backup@%s", strna(strchr(it->store, '/') ? strchr(it->store, '/') + 1 : NULL));
                if (!c)
                        return -ENOMEM;
                c[strcspn(c, "/")] = 0;
                return ssh_key_make(sdir, c, ret);
        }
        case SECRET_SSH_PUB: {
                _cleanup_free_ char *kpath = ssh_key_path(it->store), *c = strprintf("rackstack-backup@%s", strna(it->subject_host)),
                                    *path = kpath ? strprintf("%s/%s", sdir, kpath) : NULL;
                if (!path || !c)
                        return -ENOMEM;
                return ssh_key_public(path, c, ret);
        }
        case SECRET_TLS_CERT: {
                _cleanup_free_ char *kpath = strprintf("hosts/%s/tls.key", it->subject_host),
                                    *cn = strprintf("%s.%s", it->subject_host, p->domain), *cacrt = NULL;
                char *cakey = NULL, *key = NULL;
                if (!kpath || !cn)
                        return -ENOMEM;
                if ((r = store_read(fd, "ca.key", &cakey)) >= 0 && (r = store_read(fd, "ca.crt", &cacrt)) >= 0 &&
                    (r = store_read(fd, kpath, &key)) >= 0)
                        r = pki_issue(cakey, cacrt, key, cn, it->sans, ret);
                wipe(&cakey);
                wipe(&key);
                return r;
        }
        }
        return -EINVAL;
}

/* Order matters: the CA's key before its certificate, keys before the certificates they sign. */
static int rank(enum secret_kind k) {
        switch (k) {
        case SECRET_CA_KEY: return 0;
        case SECRET_CA_CERT: return 1;
        case SECRET_TLS_KEY:
        case SECRET_SSH_KEY: return 2;
        case SECRET_TLS_CERT:
        case SECRET_SSH_PUB: return 3;
        default: return 4;
        }
}

/* The store's lock: flock on its directory. Two inits at once would each make a CA and keep the
 * last file each wrote (one's key, the other's certificate); a bundle made meanwhile could take a
 * certificate whose key is about to change. */
static int store_lock(int fd, int how, const char *sdir) {
        if (flock(fd, how | LOCK_NB) == 0)
                return 0;
        if (errno != EWOULDBLOCK)
                return log_error_errno(-errno, "Failed to lock %s: %m", sdir);
        log_notice("Waiting for another rackstack-build secrets run on %s", sdir);
        while (flock(fd, how) < 0)
                if (errno != EINTR)
                        return log_error_errno(-errno, "Failed to lock %s: %m", sdir);
        return 0;
}

/* What an init killed while ssh-keygen ran leaves: its private directory, with a key no one stored. */
static void remove_stale_keygen_dirs(int fd, const char *sdir) {
        _cleanup_closedir_ DIR *d = NULL;
        if (opendir_dup(fd, &d) < 0)
                return;
        struct dirent *de;
        while ((de = readdir(d)))
                if (startswith(de->d_name, ".ssh-keygen.")) {
                        _cleanup_free_ char *path = strprintf("%s/%s", sdir, de->d_name);
                        if (path)
                                (void) walk_remove_tree(path);
                }
}

int secrets_init(const char *dir, const struct secrets_plan *p, bool force, size_t *ret_made, size_t *ret_kept) {
        _cleanup_free_ char *sdir = strprintf("%s/secrets", dir);
        if (!sdir)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, sdir, 0700);
        if (r < 0)
                return r;
        if (chmod(sdir, 0700) < 0)
                return -errno;
        _cleanup_close_ int fd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if ((r = store_lock(fd, LOCK_EX, sdir)) < 0)
                return r;
        remove_stale_keygen_dirs(fd, sdir);
        size_t made = 0, kept = 0;
        /* A certificate is (re)issued when it is missing, when its key or the CA was made now, or
         * when it is not signed by the CA on disk (a CA replaced by hand). */
        bool ca_new = false;
        _cleanup_strv_free_ char **new_keys = NULL;
        for (int pass = 0; pass <= 4; pass++)
                for (size_t i = 0; i < p->n; i++) {
                        const struct secret_item *it = &p->items[i];
                        if (rank(it->kind) != pass)
                                continue;
                        bool exists = faccessat(fd, it->store, F_OK, AT_SYMLINK_NOFOLLOW) == 0;
                        bool need = force || !exists;
                        if (!need && it->kind == SECRET_CA_CERT && ca_new)
                                need = true;
                        if (!need && it->kind == SECRET_TLS_CERT) {
                                _cleanup_free_ char *kpath = strprintf("hosts/%s/tls.key", it->subject_host);
                                char *crt = NULL, *ca = NULL;
                                if (!kpath)
                                        return -ENOMEM;
                                need = ca_new || strv_contains(new_keys, kpath) ||
                                       store_read(fd, it->store, &crt) < 0 || store_read(fd, "ca.crt", &ca) < 0 ||
                                       pki_signed_by(crt, ca) != 1;
                                free(crt);
                                free(ca);
                        }
                        /* a public key is its key's: made again whenever it is not (cheap, no secret) */
                        char *v = NULL;
                        if (!need && it->kind == SECRET_SSH_PUB) {
                                _cleanup_free_ char *old = NULL;
                                if ((r = make_one(fd, sdir, p, it, &v)) < 0)
                                        return r;
                                need = store_read(fd, it->store, &old) < 0 || !streq(old, v);
                                if (!need)
                                        wipe(&v);
                        }
                        if (!need) {
                                kept++;
                                continue;
                        }
                        if (!v && (r = make_one(fd, sdir, p, it, &v)) < 0)
                                return r;
                        r = store_write(fd, it->store, v);
                        wipe(&v);
                        if (r < 0)
                                return r;
                        if (it->kind == SECRET_CA_KEY || it->kind == SECRET_CA_CERT)
                                ca_new = true;
                        if (it->kind == SECRET_TLS_KEY && strv_extend(&new_keys, it->store) < 0)
                                return -ENOMEM;
                        made++;
                }
        if (ret_made)
                *ret_made = made;
        if (ret_kept)
                *ret_kept = kept;
        return 0;
}

int secrets_bundle(const char *dir, const struct secrets_plan *p, const char *host, struct creds *ret,
                   char **ret_missing) {
        _cleanup_free_ char *sdir = strprintf("%s/secrets", dir);
        if (!sdir)
                return -ENOMEM;
        _cleanup_close_ int fd = open(sdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT && ret_missing)
                        *ret_missing = strdup(sdir);
                return -errno;
        }
        int r = store_lock(fd, LOCK_SH, sdir);
        if (r < 0)
                return r;
        struct creds c = { .host = strdup(host) };
        r = c.host ? 0 : -ENOMEM;
        for (size_t i = 0; i < p->n && r >= 0; i++) {
                const struct secret_item *it = &p->items[i];
                for (size_t g = 0; g < it->n_grants && r >= 0; g++) {
                        if (!streq(it->grants[g].host, host))
                                continue;
                        char *v = NULL;
                        size_t len = 0;
                        r = read_file_full(fd, it->store, 1024 * 1024, &v, &len);
                        if (r == -ENOENT && ret_missing)
                                *ret_missing = strdup(it->store);
                        if (r >= 0) {
                                /* one trailing newline off: the value is the password, not a line */
                                if (it->kind == SECRET_PASSWORD || it->kind == SECRET_PSK)
                                        while (len > 0 && v[len - 1] == '\n')
                                                len--;
                                r = creds_add(&c, it->grants[g].cred, v, len);
                        }
                        if (v)
                                creds_wipe_free(v, strlen(v));
                }
        }
        _cleanup_free_ char *w = r >= 0 ? wiring_render(&p->wiring, host) : NULL;
        if (r >= 0)
                r = w ? creds_add(&c, "wiring", w, strlen(w)) : -ENOMEM;
        if (r < 0) {
                creds_done(&c);
                return r;
        }
        *ret = c;
        return 0;
}
