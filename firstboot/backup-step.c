/* SPDX-License-Identifier: MIT */
/* The hosts' backup jobs, applied (backup.h): the backup host's accounts, chroots, keys, sshd
 * drop-in; the client's secrets, job, units. Idempotent: what exists is checked and kept (an
 * account is made once, the repository directory keeps its content), the files are written again. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "backup.h"
#include "cleanup.h"
#include "cmd.h"
#include "creds-place.h"
#include "fileio.h"
#include "log.h"
#include "util.h"

int backup_load(int root_fd, const char *host, struct backup_plan *ret, bool *ret_kept, char **ret_why) {
        _cleanup_(wiring_done) struct wiring w = {};
        int r = creds_wiring_load(root_fd, &w, ret_kept, ret_why);
        if (r < 0)
                return r;
        struct backup_plan p = {};
        if ((r = backup_plan(&w, host, &p)) < 0) {
                *ret_why = strprintf("the backup wiring: %s", strerror(-r));
                return r;
        }
        if (!p.n_clients && !p.n_targets) {
                backup_plan_done(&p);
                return -ENOENT;
        }
        *ret = p;
        return 0;
}

static int write_at(const struct backup_ctx *c, const char *abs, const void *data, size_t len, mode_t mode) {
        int r = mkdir_parents_of(c->root_fd, abs + 1, 0755);
        return r < 0 ? r : write_file_atomic(c->root_fd, abs + 1, data, len, mode);
}

static int write_text(const struct backup_ctx *c, const char *abs, const char *text, mode_t mode, char **why) {
        int r = write_at(c, abs, text, strlen(text), mode);
        if (r < 0)
                *why = strprintf("cannot write %s: %s", abs, strerror(-r));
        return r;
}

static int run(const struct backup_ctx *c, char *const argv[], char **why) {
        _cleanup_free_ char *cmd = strv_join((char **) argv, " "), *tail = NULL;
        int st = 0, r = cmd_run_tail(argv, &st, &tail);
        if (r >= 0 && st == 0)
                return 0;
        *why = r < 0 ? strprintf("%s: %s", strna(cmd), strerror(-r)) : strprintf("%s: exit %d: %s", strna(cmd), st, strna(tail));
        return r < 0 ? r : -EIO;
}

/* The account's uid/gid, from the root's own passwd (offline: ROOT/etc/passwd). -ENOENT if absent. */
static int account_ids(const struct backup_ctx *c, const char *name, uid_t *ret_uid, gid_t *ret_gid) {
        _cleanup_close_ int fd = openat(c->root_fd, "etc/passwd", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        FILE *f = fdopen(fd, "re");
        if (!f)
                return -errno;
        fd = -1;
        int r = -ENOENT;
        for (struct passwd *pw; (pw = fgetpwent(f));)
                if (streq(pw->pw_name, name)) {
                        *ret_uid = pw->pw_uid;
                        *ret_gid = pw->pw_gid;
                        r = 0;
                        break;
                }
        fclose(f);
        return r;
}

static int server_client(const struct backup_ctx *c, const struct backup_client *cl, char **why) {
        int r;
        /* the key: from the bundle, checked, one restricted line */
        _cleanup_free_ char *cred = strprintf(CREDS_DIR "/%s", cl->cred), *pub = NULL;
        if (!cred)
                return -ENOMEM;
        if ((r = read_file_full(c->root_fd, cred, 64 * 1024, &pub, NULL)) < 0) {
                *why = strprintf("the credential /%s: %s", cred, r == -ENOENT ? "missing from this host's bundle" : strerror(-r));
                return r;
        }
        _cleanup_free_ char *line = backup_authorized_keys_render(cl, pub);
        if (!line) {
                *why = strprintf("the credential /%s is not one ssh-ed25519 public key line; refused", cred);
                return -EINVAL;
        }
        /* the account: made once; its shell is nologin and it has no password (useradd's '!') */
        uid_t uid = 0;
        gid_t gid = 0;
        if (account_ids(c, cl->account, &uid, &gid) == -ENOENT) {
                _cleanup_free_ char *home = strprintf(BACKUP_ROOT "/%s", cl->host);
                bool offline_root = !c->live && faccessat(c->root_fd, "etc/passwd", F_OK, 0) == 0;
                _cleanup_free_ char *abs_root = offline_root ? realpath(c->root, NULL) : NULL;
                if (offline_root && !abs_root)
                        return -errno;
                if (!c->live && !offline_root) {
                        log_info("  would run: useradd --system %s", cl->account);
                } else {
                        char *argv[] = { (char *) "useradd", (char *) "--system", (char *) "--user-group",
                                         (char *) "--no-create-home", (char *) "--home-dir", home,
                                         (char *) "--shell", (char *) "/usr/sbin/nologin", (char *) "--comment",
                                         (char *) "rackstack backup client", cl->account, NULL, NULL, NULL };
                        if (offline_root) {
                                /* an offline root with its own passwd: the account lands there */
                                memmove(argv + 3, argv + 1, 10 * sizeof *argv);
                                argv[1] = (char *) "--root";
                                argv[2] = abs_root; /* useradd takes an absolute path only */
                        }
                        if (!home || (r = run(c, argv, why)) < 0)
                                return r < 0 ? r : -ENOMEM;
                }
                (void) account_ids(c, cl->account, &uid, &gid);
        }
        /* its chroot: root's, not writable by others (sshd refuses it otherwise); in it, the repository */
        _cleanup_free_ char *chroot_dir = strprintf(BACKUP_ROOT "/%s", cl->host + 0),
                            *repo = strprintf(BACKUP_ROOT "/%s/repo", cl->host), *keys = strprintf(BACKUP_KEYS_DIR "/%s.keys", cl->account);
        if (!chroot_dir || !repo || !keys)
                return -ENOMEM;
        if ((r = mkdir_parents_at(c->root_fd, repo + 1, 0755)) < 0) {
                *why = strprintf("cannot make %s: %s", repo, strerror(-r));
                return r;
        }
        if (fchownat(c->root_fd, chroot_dir + 1, 0, 0, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(c->root_fd, chroot_dir + 1, 0755, 0) < 0 ||
            (uid && fchownat(c->root_fd, repo + 1, uid, gid, AT_SYMLINK_NOFOLLOW) < 0) ||
            fchmodat(c->root_fd, repo + 1, 0700, 0) < 0) {
                r = -errno;
                *why = strprintf("cannot set the owner and mode of %s: %s", repo, strerror(-r));
                return r;
        }
        return write_text(c, keys, line, 0644, why);
}

static int copy_cred(const struct backup_ctx *c, const char *cred, const char *to, char **why) {
        _cleanup_free_ char *from = strprintf(CREDS_DIR "/%s", cred);
        char *data = NULL;
        size_t len = 0;
        int r = from ? read_file_full(c->root_fd, from, 64 * 1024, &data, &len) : -ENOMEM;
        if (r < 0) {
                *why = strprintf("the credential /%s: %s", strna(from), r == -ENOENT ? "missing from this host's bundle" : strerror(-r));
                return r;
        }
        r = write_at(c, to, data, len, 0600);
        OPENSSL_cleanse(data, len);
        free(data);
        if (r < 0)
                *why = strprintf("cannot write %s: %s", to, strerror(-r));
        return r;
}

static int client(const struct backup_ctx *c, const struct backup_target *t, char **why) {
        int r;
        /* parents as the system has them; the two directories root's only */
        if ((r = mkdir_parents_at(c->root_fd, BACKUP_CONF_DIR + 1, 0755)) < 0 ||
            (r = fchmodat(c->root_fd, BACKUP_CONF_DIR + 1, 0700, 0) < 0 ? -errno : 0) < 0 ||
            (r = mkdir_parents_at(c->root_fd, BACKUP_DUMP_DIR + 1, 0755)) < 0 ||
            (r = fchmodat(c->root_fd, BACKUP_DUMP_DIR + 1, 0700, 0) < 0 ? -errno : 0) < 0) {
                *why = strprintf("cannot make " BACKUP_CONF_DIR " or " BACKUP_DUMP_DIR ": %s", strerror(-r));
                return r;
        }
        if ((r = copy_cred(c, "backup-ssh.key", BACKUP_CONF_DIR "/ssh.key", why)) < 0 ||
            (r = copy_cred(c, "backup-restic", BACKUP_CONF_DIR "/restic.password", why)) < 0)
                return r;
        _cleanup_free_ char *env = backup_env_render(t, c->host), *svc = backup_service_render(t),
                            *tmr = backup_timer_render(t);
        if (!env || !svc || !tmr)
                return -ENOMEM;
        if ((r = write_text(c, BACKUP_CONF_DIR "/env", env, 0600, why)) < 0 ||
            (r = write_text(c, BACKUP_SCRIPT, backup_script_text, 0755, why)) < 0 ||
            (r = write_text(c, "/etc/systemd/system/" BACKUP_UNIT ".service", svc, 0644, why)) < 0 ||
            (r = write_text(c, "/etc/systemd/system/" BACKUP_UNIT ".timer", tmr, 0644, why)) < 0)
                return r;
        /* known_hosts stays: the backup host's key pinned by the first run */
        if (faccessat(c->root_fd, BACKUP_CONF_DIR "/known_hosts" + 1, F_OK, AT_SYMLINK_NOFOLLOW) < 0 &&
            (r = write_text(c, BACKUP_CONF_DIR "/known_hosts", "", 0600, why)) < 0)
                return r;
        if (!c->live)
                return 0;
        char *reload[] = { (char *) "systemctl", (char *) "daemon-reload", NULL },
             *enable[] = { (char *) "systemctl", (char *) "enable", (char *) "--now", (char *) BACKUP_UNIT ".timer", NULL };
        if ((r = run(c, reload, why)) < 0 || (r = run(c, enable, why)) < 0)
                return r;
        return 0;
}

static bool have_host_keys(int root_fd) {
        _cleanup_close_ int fd = openat(root_fd, "etc/ssh", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d0 = NULL;
        if (fd < 0 || opendir_dup(fd, &d0) < 0)
                return false;
        _cleanup_closedir_ DIR *d = d0;
        for (struct dirent *de; (de = readdir(d));)
                if (fnmatch("ssh_host_*_key", de->d_name, 0) == 0)
                        return true;
        return false;
}

/* sshd -t loads the host keys, and on a first boot there are none yet: ssh.service's drop-in
 * (builder/layer.c) makes them when sshd first starts — on Ubuntu 24.04 at the first connection,
 * socket-activated — and making them here would race with it. So without host keys the check
 * borrows a throwaway key (-h, which stands in for the configuration's HostKey files); what it
 * checks, the configuration and our drop-in, is the same. */
static int sshd_check(const struct backup_ctx *c, char **why) {
        if (have_host_keys(c->root_fd)) {
                char *check[] = { (char *) "sshd", (char *) "-t", NULL };
                return run(c, check, why);
        }
        char dir[] = "/run/rackstack-sshd-check.XXXXXX";
        if (!mkdtemp(dir)) {
                int r = -errno;
                *why = strprintf("cannot make a directory for sshd's check: %s", strerror(-r));
                return r;
        }
        _cleanup_free_ char *key = strprintf("%s/key", dir), *pub = strprintf("%s/key.pub", dir);
        int r = -ENOMEM;
        if (key && pub) {
                char *keygen[] = { (char *) "ssh-keygen", (char *) "-q", (char *) "-t", (char *) "ed25519",
                                   (char *) "-N", (char *) "", (char *) "-f", key, NULL },
                     *check[] = { (char *) "sshd", (char *) "-t", (char *) "-h", key, NULL };
                if ((r = run(c, keygen, why)) >= 0)
                        r = run(c, check, why);
                (void) unlink(key);
                (void) unlink(pub);
        }
        (void) rmdir(dir);
        return r;
}

int backup_apply(const struct backup_ctx *c, const struct backup_plan *p, char **ret_done, char **ret_why) {
        int r;
        for (size_t i = 0; i < p->n_clients; i++)
                if ((r = server_client(c, &p->clients[i], ret_why)) < 0)
                        return r;
        if (p->n_clients) {
                _cleanup_free_ char *conf = backup_sshd_render(p);
                if (!conf)
                        return -ENOMEM;
                if ((r = write_text(c, BACKUP_SSHD_DROPIN, conf, 0644, ret_why)) < 0)
                        return r;
                if (c->live) {
                        /* sshd -t wants its privilege separation directory, which a socket-activated
                         * ssh (Ubuntu 24.04) has not made before the first connection */
                        (void) mkdir_parents_at(c->root_fd, "run/sshd", 0755);
                        /* checked before sshd reads it: a broken drop-in must not lock out SSH, so
                         * one that fails the check does not stay for ssh's next start either */
                        char *reload[] = { (char *) "systemctl", (char *) "try-reload-or-restart", (char *) "ssh.service",
                                           NULL };
                        if ((r = sshd_check(c, ret_why)) < 0) {
                                (void) unlinkat(c->root_fd, BACKUP_SSHD_DROPIN + 1, 0);
                                return r;
                        }
                        if ((r = run(c, reload, ret_why)) < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < p->n_targets && i < 1; i++)
                if ((r = client(c, &p->targets[i], ret_why)) < 0)
                        return r;
        struct buf b = {};
        if (p->n_clients) {
                buf_printf(&b, "SFTP-only backup accounts for");
                for (size_t i = 0; i < p->n_clients; i++)
                        buf_printf(&b, " %s", p->clients[i].host);
                buf_printf(&b, " under " BACKUP_ROOT);
        }
        if (p->n_targets)
                buf_printf(&b, "%s" BACKUP_UNIT ".timer (nightly) sends the dumps to %s", p->n_clients ? "; " : "",
                           p->targets[0].server);
        if (!c->live)
                buf_puts(&b, " (offline: nothing started)");
        *ret_done = buf_steal(&b);
        return *ret_done ? 0 : -ENOMEM;
}

int backup_check_kept(int root_fd, const struct backup_plan *p, char **ret_done, char **ret_why) {
        struct buf miss = {};
        for (size_t i = 0; i < p->n_clients; i++) {
                _cleanup_free_ char *keys = strprintf(BACKUP_KEYS_DIR "/%s.keys", p->clients[i].account);
                if (!keys) {
                        buf_done(&miss);
                        return -ENOMEM;
                }
                if (faccessat(root_fd, keys + 1, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                        buf_printf(&miss, "%s%s", miss.len ? ", " : "", keys);
        }
        if (p->n_targets && faccessat(root_fd, BACKUP_CONF_DIR "/ssh.key" + 1, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                buf_printf(&miss, "%s" BACKUP_CONF_DIR "/ssh.key", miss.len ? ", " : "");
        if (miss.len) {
                _cleanup_free_ char *m = buf_steal(&miss);
                *ret_why = strprintf("no credentials bundle, and no earlier run set up %s (it needs the key from the "
                                     "bundle): rerun with the host's bundle", strna(m));
                return -ENOENT;
        }
        buf_done(&miss);
        *ret_done = strdup("kept as an earlier run set it up (no credentials bundle: the key and password come only "
                           "with it); the firewall from the kept wiring");
        return *ret_done ? 0 : -ENOMEM;
}
