/* SPDX-License-Identifier: MIT */
/* A deferred apt service installed at first boot: the apply side of deferred-apt.h. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "connect.h"
#include "deferred-apt.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "process.h"
#include "util.h"
#include "vendor.h"

static const char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true", NULL };

/* One run through common/process.c: argv only, its own process group, a timeout; *ret_tail the last
 * lines of its output on one line, *ret_out its stdout when asked for. */
static int run(char *const argv[], unsigned timeout_sec, bool capture, char **ret_out, char **ret_tail) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = capture ? PROC_OUT_CAPTURE : PROC_OUT_TAIL;
        o.err = PROC_OUT_TAIL;
        o.tail_lines = 4;
        o.env = apt_env;
        o.own_group = true;
        o.timeout_ms = (uint64_t) timeout_sec * 1000;
        _cleanup_free_ char *tail = NULL, *out = NULL;
        int r = proc_run((const char *const *) argv, &o, &tail, capture ? &out : NULL);
        if (tail)
                for (char *c = tail; *c; c++)
                        if (*c == '\n')
                                *c = ' ';
        if (ret_tail)
                *ret_tail = TAKE_PTR(tail);
        if (ret_out)
                *ret_out = TAKE_PTR(out);
        return r;
}

/* "apt-get … update: exit 100: E: …" for a reason. */
static char *ran_why(char *const argv[], int r, const char *tail) {
        _cleanup_free_ char *cmd = strv_join((char **) argv, " ");
        if (r == -ETIME)
                return strprintf("%s: timed out: %s", strna(cmd), strna(tail));
        if (r < 0)
                return strprintf("%s: %s", strna(cmd), strerror(-r));
        return strprintf("%s: exit %d: %s", strna(cmd), r, strna(tail));
}

static bool network_error(int r) {
        return r == -EHOSTUNREACH || r == -ECONNREFUSED || r == -ETIMEDOUT || r == -ENETUNREACH ||
               r == -ECONNRESET;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f) {
        (void) st, (void) flag, (void) f;
        (void) remove(path);
        return 0;
}

struct scratch {
        char *dir; /* mkdtemp'd: the key, the keyring, the InRelease and gpg's homedir */
        char *gnupg;
};

static void scratch_done(struct scratch *s) {
        if (s->gnupg) {
                char *kill_agent[] = { (char *) "gpgconf", (char *) "--homedir", s->gnupg, (char *) "--kill", (char *) "all", NULL };
                (void) run(kill_agent, 10, false, NULL, NULL);
        }
        if (s->dir)
                (void) nftw(s->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        free(s->dir);
        free(s->gnupg);
}

static int probe(const struct deferred_apt_plan *p, unsigned timeout_sec, char **ret_why) {
        struct addrinfo *ai = NULL;
        int r = net_resolve(p->probe_host, p->probe_port, AF_UNSPEC, SOCK_STREAM, &ai);
        if (r < 0) {
                *ret_why = strprintf("name does not resolve: %s", strerror(-r));
                return r;
        }
        _cleanup_close_ int fd = -1;
        r = net_connect_addrinfo(ai, (int) (timeout_sec * 1000), &fd);
        freeaddrinfo(ai);
        if (r < 0)
                *ret_why = strprintf("port %s: %s", p->probe_port, strerror(-r));
        return r;
}

static int fetch(const char *url, const char *path, char **ret_why) {
        struct http_options ho = { .timeout_usec = DEFERRED_APT_FETCH_TIMEOUT_SEC * 1000000ULL, .retries = 2,
                                   .max_size = 64 << 20, .allow_https = true };
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        int r = http_get_buffer(url, &ho, &data, &size);
        if (r < 0) {
                *ret_why = strprintf("%s: %s", url, http_strerror(r));
                return r;
        }
        return write_file_atomic(AT_FDCWD, path, data, size, 0600);
}

/* Steps 2 and 3: the key by its fingerprint, only it exported. 0, or -EBADMSG (refused) / another
 * error with *ret_why. */
static int trust_key(const struct deferred_apt_plan *p, struct scratch *t, const char *keyring, char **ret_why) {
        _cleanup_free_ char *keyfile = strprintf("%s/key", t->dir), *out = NULL, *tail = NULL;
        if (!keyfile)
                return -ENOMEM;
        _cleanup_free_ char *fwhy = NULL;
        int r = fetch(p->key_url, keyfile, &fwhy);
        if (r < 0) {
                *ret_why = strprintf("cannot fetch the signing key from %s", strna(fwhy));
                return r;
        }
        char *show[] = { (char *) "gpg", (char *) "--batch", (char *) "--no-tty", (char *) "--homedir", t->gnupg,
                         (char *) "--with-colons", (char *) "--show-keys", keyfile, NULL };
        r = run(show, 60, true, &out, &tail);
        _cleanup_strv_free_ char **fprs = NULL;
        if (r != 0 || gpg_colons_fingerprints(out, &fprs) < 0 || !fprs[0]) {
                *ret_why = strprintf("%s holds no OpenPGP key (%s)", p->key_url, strna(tail));
                return -EBADMSG;
        }
        if (!strv_contains(fprs, p->fingerprint)) {
                _cleanup_free_ char *got = strv_join(fprs, ", ");
                *ret_why = strprintf("the key from %s has fingerprint %s, but the profile pins %s: refusing to trust it",
                                     p->key_url, strna(got), p->fingerprint);
                return -EBADMSG;
        }
        char *imp[] = { (char *) "gpg", (char *) "--batch", (char *) "--no-tty", (char *) "--homedir", t->gnupg,
                        (char *) "--import", keyfile, NULL };
        char *exp[] = { (char *) "gpg", (char *) "--batch", (char *) "--no-tty", (char *) "--homedir", t->gnupg, (char *) "--yes",
                        (char *) "--output", (char *) keyring, (char *) "--export", p->fingerprint, NULL };
        free(tail);
        tail = NULL;
        if ((r = run(imp, 60, false, NULL, &tail)) == 0) {
                free(tail);
                tail = NULL;
                r = run(exp, 60, false, NULL, &tail);
        }
        if (r != 0) {
                *ret_why = strprintf("cannot make the keyring: %s", strna(tail));
                return r < 0 ? r : -EIO;
        }
        return 0;
}

/* Step 4: the repository's InRelease, signed by that key and no other. */
static int check_release(const struct deferred_apt_plan *p, struct scratch *t, const char *keyring, char **ret_why) {
        _cleanup_free_ char *rel = strprintf("%s/InRelease", t->dir), *fwhy = NULL, *tail = NULL;
        if (!rel)
                return -ENOMEM;
        int r = fetch(p->inrelease_url, rel, &fwhy);
        if (r < 0) {
                *ret_why = strprintf("the repository does not answer: %s", strna(fwhy));
                return r;
        }
        char *gpgv[] = { (char *) "gpgv", (char *) "--keyring", (char *) keyring, rel, NULL };
        r = run(gpgv, 60, false, NULL, &tail);
        if (r != 0) {
                *ret_why = strprintf("the signature of %s does not verify with key %s: %s", p->inrelease_url,
                                     p->fingerprint, strna(tail));
                return -EBADMSG;
        }
        return 0;
}

/* Another root (tests, an offline tree): what apt and dpkg need there to work on it. */
static int prepare_root(int root_fd) {
        static const char *const dirs[] = { "var/lib/apt/lists/partial", "var/cache/apt/archives/partial", "var/lib/dpkg/info",
                                            "var/lib/dpkg/updates", "var/log", "etc/apt/apt.conf.d", "etc/apt/preferences.d",
                                            "etc/apt/sources.list.d", "var/lib/rackstack/deferred", NULL };
        int r;
        for (size_t i = 0; dirs[i]; i++)
                if ((r = mkdir_parents_at(root_fd, dirs[i], 0755)) < 0)
                        return r;
        _cleanup_close_ int fd = openat(root_fd, "var/lib/dpkg/status", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        return fd < 0 ? -errno : 0;
}

/* Steps 6: update this source, install; on failure one full update and a second install. */
static int apt_install(const struct deferred_apt_plan *p, char **ret_why) {
        _cleanup_free_ char *tail = NULL;
        int r = run(p->update_argv, p->update_timeout_sec, false, NULL, &tail);
        if (r != 0) {
                *ret_why = ran_why(p->update_argv, r, tail);
                return r < 0 ? r : -EIO;
        }
        free(tail);
        tail = NULL;
        r = run(p->install_argv, p->install_timeout_sec, false, NULL, &tail);
        if (r == 0)
                return 0;
        _cleanup_free_ char *first = ran_why(p->install_argv, r, tail);
        log_info("%s: the install failed (%s); updating every source and trying once more", p->service, strna(first));
        free(tail);
        tail = NULL;
        if ((r = run(p->full_update_argv, p->update_timeout_sec, false, NULL, &tail)) != 0)
                log_info("%s: %s", p->service, strna(tail)); /* a distribution source may not answer: go on */
        free(tail);
        tail = NULL;
        r = run(p->install_argv, p->install_timeout_sec, false, NULL, &tail);
        if (r != 0) {
                *ret_why = ran_why(p->install_argv, r, tail);
                return r < 0 ? r : -EIO;
        }
        return 0;
}

static char *installed_versions(const struct deferred_apt_plan *p, const char *root) {
        _cleanup_free_ char *admin = strprintf("--admindir=%s/var/lib/dpkg", streq(root, "/") ? "" : root);
        _cleanup_strv_free_ char **argv = NULL;
        if (!admin || strv_extend(&argv, "dpkg-query") < 0 || strv_extend(&argv, admin) < 0 ||
            strv_extend(&argv, "-W") < 0 || strv_extend(&argv, "-f=${Package} ${Version}, ") < 0)
                return NULL;
        for (char **k = p->packages; *k; k++)
                if (strv_extend(&argv, *k) < 0)
                        return NULL;
        _cleanup_free_ char *out = NULL;
        if (run(argv, 60, true, &out, NULL) != 0 || !out)
                return strdup("versions unknown");
        size_t n = strlen(out);
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == ','))
                out[--n] = 0;
        return TAKE_PTR(out);
}

static void rollback(const struct deferred_apt_plan *p, int root_fd) {
        (void) unlinkat(root_fd, p->list_file, 0);
        (void) unlinkat(root_fd, p->keyring + 1, 0);
}

int deferred_apt_apply(const struct deferred_apt_plan *p, int root_fd, const char *root, unsigned probe_timeout_sec,
                       char **ret_done, char **ret_why) {
        const char *via = p->mirror ? "mirror" : "repository";
        _cleanup_free_ char *pwhy = NULL;
        int r = probe(p, probe_timeout_sec ? probe_timeout_sec : 3, &pwhy);
        if (r < 0) {
                *ret_why = strprintf("deferred; %s %s:%s unreachable (%s); %s", via, p->probe_host, p->probe_port,
                                     strna(pwhy), p->repo_url);
                return DEFERRED_APT_SKIPPED;
        }
        _cleanup_(scratch_done) struct scratch t = {};
        char tmpl[] = "/tmp/rackstack-deferred-XXXXXX";
        if (!mkdtemp(tmpl))
                return -errno;
        if (!(t.dir = strdup(tmpl)) || !(t.gnupg = strprintf("%s/gnupg", tmpl)))
                return -ENOMEM;
        if (mkdir(t.gnupg, 0700) < 0)
                return -errno;
        _cleanup_free_ char *keyring = strprintf("%s/keyring.gpg", t.dir), *why = NULL, *line = NULL, *aline = NULL,
                            *versions = NULL;
        if (!keyring)
                return -ENOMEM;
        if ((r = trust_key(p, &t, keyring, &why)) < 0 || (r = check_release(p, &t, keyring, &why)) < 0) {
                if (network_error(r)) {
                        *ret_why = strprintf("deferred; %s", strna(why));
                        return DEFERRED_APT_SKIPPED;
                }
                *ret_why = TAKE_PTR(why);
                return r;
        }
        /* Step 5: the keyring and the source into the system. */
        _cleanup_free_ char *kdata = NULL;
        size_t ksize = 0;
        if ((r = read_file_full(AT_FDCWD, keyring, 1 << 20, &kdata, &ksize)) < 0 ||
            (r = mkdir_parents_at(root_fd, "usr/share/keyrings", 0755)) < 0 ||
            (r = mkdir_parents_at(root_fd, "etc/apt/sources.list.d", 0755)) < 0 ||
            (p->apt_list_separate && (r = prepare_root(root_fd)) < 0) ||
            (r = write_file_atomic(root_fd, p->keyring + 1, kdata, ksize, 0644)) < 0)
                goto write_fail;
        line = strprintf("# rackstack-firstboot: %s, deferred to first boot; key %s\n%s\n", p->service, p->fingerprint,
                         p->list_line);
        aline = strprintf("%s\n", p->apt_list_line);
        if (!line || !aline)
                return -ENOMEM;
        if ((r = write_file_atomic(root_fd, p->list_file, line, strlen(line), 0644)) < 0 ||
            (p->apt_list_separate &&
             (r = write_file_atomic(AT_FDCWD, p->apt_list, aline, strlen(aline), 0644)) < 0))
                goto write_fail;
        if ((r = apt_install(p, &why)) < 0) {
                rollback(p, root_fd);
                *ret_why = TAKE_PTR(why);
                return r;
        }
        versions = installed_versions(p, root);
        *ret_done = strprintf("installed at first boot from %s%s (key %s checked, InRelease verified): %s",
                              p->repo_url, p->mirror ? ", the site's mirror" : "", p->fingerprint, strna(versions));
        return *ret_done ? DEFERRED_APT_INSTALLED : -ENOMEM;
write_fail:
        rollback(p, root_fd);
        *ret_why = strprintf("cannot write the keyring or the source: %s", strerror(-r));
        return r;
}
