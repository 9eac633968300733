/* SPDX-License-Identifier: MIT */
/* A deferred apt service installed at first boot: the apply side of deferred-apt.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt-trust.h"
#include "cleanup.h"
#include "connect.h"
#include "deferred-apt.h"
#include "fileio.h"
#include "log.h"
#include "process.h"
#include "util.h"
#include "vendor.h"
#include "walk.h"

static const char *const apt_env[] = { "DEBIAN_FRONTEND=noninteractive", "DEBCONF_NONINTERACTIVE_SEEN=true", NULL };

/* How every program here runs (common/process.c): argv only, its own process group, a timeout, the
 * last lines of its output kept. */
static struct proc_opts run_opts(unsigned timeout_sec) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = PROC_OUT_TAIL;
        o.err = PROC_OUT_TAIL;
        o.tail_lines = 4;
        o.env = apt_env;
        o.own_group = true;
        o.timeout_ms = (uint64_t) timeout_sec * 1000;
        return o;
}

/* A tool's last lines on one line, for a reason. */
static void one_line(char *tail) {
        for (char *c = tail; c && *c; c++)
                if (*c == '\n')
                        *c = ' ';
}

/* One run; *ret_tail the last lines of its output on one line, *ret_out its stdout when asked for. */
static int run(char *const argv[], unsigned timeout_sec, bool capture, char **ret_out, char **ret_tail) {
        struct proc_opts o = run_opts(timeout_sec);
        if (capture)
                o.out = PROC_OUT_CAPTURE;
        _cleanup_free_ char *tail = NULL, *out = NULL;
        int r = proc_run((const char *const *) argv, &o, &tail, capture ? &out : NULL);
        one_line(tail);
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
                (void) walk_remove_tree(s->dir);
        free(s->dir);
        free(s->gnupg);
}

/* Steps 2 to 4 (common/apt-trust.c): the key by its fingerprint, only it exported into keyring, the
 * repository's InRelease signed by it and no other. 0, or -EBADMSG (refused) / another error with
 * *ret_why. */
static int trust(const struct deferred_apt_plan *p, const struct scratch *t, const char *keyring, char **ret_why) {
        _cleanup_free_ char *keyfile = strprintf("%s/key", t->dir), *rel = strprintf("%s/InRelease", t->dir);
        if (!keyfile || !rel)
                return -ENOMEM;
        const struct apt_trust a = {
                .key_url = p->key_url, .fingerprint = p->fingerprint, .inrelease_url = p->inrelease_url,
                .gnupg = t->gnupg, .keyfile = keyfile, .keyring = keyring, .inrelease = rel, .file_mode = 0600,
                .http = { .timeout_usec = DEFERRED_APT_FETCH_TIMEOUT_SEC * 1000000ULL, .retries = 2,
                          .max_size = 64 << 20, .allow_https = true },
                .proc = run_opts(60),
        };
        _cleanup_(apt_trust_failure_done) struct apt_trust_failure f = {};
        int r = apt_trust_check(&a, &f);
        if (r >= 0)
                return 0;
        one_line(f.detail);
        switch (f.step) {
        case APT_TRUST_FETCH_KEY:
        case APT_TRUST_FETCH_RELEASE: {
                const char *url = f.step == APT_TRUST_FETCH_KEY ? p->key_url : p->inrelease_url;
                _cleanup_free_ char *fwhy = f.detail ? strprintf("%s: %s", url, f.detail) : NULL;
                *ret_why = f.step == APT_TRUST_FETCH_KEY ? strprintf("cannot fetch the signing key from %s", strna(fwhy))
                                                        : strprintf("the repository does not answer: %s", strna(fwhy));
                return r;
        }
        case APT_TRUST_LIST_KEY:
                *ret_why = strprintf("%s holds no OpenPGP key (%s)", p->key_url, strna(f.detail));
                return -EBADMSG;
        case APT_TRUST_PIN:
                *ret_why = strprintf("the key from %s has fingerprint %s, but the profile pins %s: refusing to trust it",
                                     p->key_url, strna(f.detail), p->fingerprint);
                return -EBADMSG;
        case APT_TRUST_KEYRING:
                *ret_why = strprintf("cannot make the keyring: %s", strna(f.detail));
                return r;
        case APT_TRUST_VERIFY:
        default:
                *ret_why = strprintf("the signature of %s does not verify with key %s: %s", p->inrelease_url,
                                     p->fingerprint, strna(f.detail));
                return -EBADMSG;
        }
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
        int r = net_probe(p->probe_host, p->probe_port, (int) ((probe_timeout_sec ? probe_timeout_sec : 3) * 1000), &pwhy);
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
        if ((r = trust(p, &t, keyring, &why)) < 0) {
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
