/* SPDX-License-Identifier: MIT */
/* The plan of a deferred apt service's install (deferred-apt.h): pure, from the profile's service,
 * the site's mirror mapping and the root. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "deferred-apt.h"
#include "json.h"
#include "url.h"
#include "util.h"
#include "vendor.h"

#define KEYRINGS "/usr/share/keyrings/"
#define STR_(x) #x
#define STR(x) STR_(x)

void deferred_apt_plan_done(struct deferred_apt_plan *p) {
        if (!p)
                return;
        free(p->service);
        strv_free(p->packages);
        free(p->fingerprint);
        free(p->key_url);
        free(p->keyring);
        free(p->inrelease_url);
        free(p->repo_url);
        free(p->mirror);
        free(p->probe_host);
        free(p->probe_port);
        free(p->list_file);
        free(p->list_line);
        strv_free(p->update_argv);
        strv_free(p->full_update_argv);
        strv_free(p->install_argv);
        free(p->apt_list);
        free(p->apt_list_line);
        *p = (struct deferred_apt_plan) {};
}

/* s with the first "from" replaced by "to". */
static char *replace_once(const char *s, const char *from, const char *to) {
        const char *at = strstr(s, from);
        if (!at)
                return strdup(s);
        return strprintf("%.*s%s%s", (int) (at - s), s, to, at + strlen(from));
}

/* "prefix" + a, pushed. */
static int push(char ***l, const char *prefix, const char *a) {
        char *v = strprintf("%s%s", prefix, a);
        return v ? strv_push(l, v) : -ENOMEM;
}

static int push2(char ***l, const char *prefix, const char *a, const char *suffix) {
        char *v = strprintf("%s%s%s", prefix, a, suffix);
        return v ? strv_push(l, v) : -ENOMEM;
}

/* apt-get's options common to every run: the bounded network, and for another root the tree
 * apt and dpkg work on (mmdebstrap's chrootless mode). */
static int apt_base(char ***l, const char *root, bool separate, const char *apt_list) {
        static const char *const fixed[] = { "apt-get", "-q", "-o", "Acquire::Retries=3", "-o",
                                             "Acquire::http::Timeout=" STR(DEFERRED_APT_FETCH_TIMEOUT_SEC), "-o",
                                             "Acquire::https::Timeout=" STR(DEFERRED_APT_FETCH_TIMEOUT_SEC), NULL };
        int r = 0;
        for (size_t i = 0; fixed[i] && r >= 0; i++)
                r = strv_extend(l, fixed[i]);
        if (r >= 0 && separate) {
                if ((r = strv_extend(l, "-o")) >= 0 && (r = push(l, "Dir=", root)) >= 0 && (r = strv_extend(l, "-o")) >= 0)
                        r = push2(l, "Dir::State::status=", root, "/var/lib/dpkg/status");
                if (r >= 0 && (r = strv_extend(l, "-o")) >= 0)
                        r = push(l, "DPkg::Options::=--root=", root);
                if (r >= 0 && (r = strv_extend(l, "-o")) >= 0)
                        r = push2(l, "DPkg::Options::=--log=", root, "/var/log/dpkg.log");
                /* the system's own sources.list.d names the keyring by its path in the system */
                if (r >= 0 && (r = strv_extend(l, "-o")) >= 0 && (r = push(l, "Dir::Etc::SourceList=", apt_list)) >= 0 &&
                    (r = strv_extend(l, "-o")) >= 0)
                        r = strv_extend(l, "Dir::Etc::SourceParts=-");
        }
        return r;
}

static int make_argvs(struct deferred_apt_plan *p, const char *root) {
        int r;
        /* update: this source only; the others' lists are kept */
        if ((r = apt_base(&p->update_argv, root, p->apt_list_separate, p->apt_list)) < 0 ||
            (!p->apt_list_separate &&
             ((r = strv_extend(&p->update_argv, "-o")) < 0 ||
              (r = push(&p->update_argv, "Dir::Etc::SourceList=", p->apt_list)) < 0 ||
              (r = strv_extend(&p->update_argv, "-o")) < 0 ||
              (r = strv_extend(&p->update_argv, "Dir::Etc::SourceParts=-")) < 0)) ||
            (r = strv_extend(&p->update_argv, "-o")) < 0 ||
            (r = strv_extend(&p->update_argv, "APT::Get::List-Cleanup=0")) < 0 ||
            (r = strv_extend(&p->update_argv, "update")) < 0)
                return r;
        /* the retry's full update: every source the system has */
        if ((r = apt_base(&p->full_update_argv, root, p->apt_list_separate, p->apt_list)) < 0 ||
            (r = strv_extend(&p->full_update_argv, "update")) < 0)
                return r;
        static const char *const inst[] = { "-y", "--no-install-recommends", "-o", "DPkg::Options::=--force-confdef", "-o",
                                             "DPkg::Options::=--force-confold", "install", NULL };
        if ((r = apt_base(&p->install_argv, root, p->apt_list_separate, p->apt_list)) < 0)
                return r;
        for (size_t i = 0; inst[i]; i++)
                if ((r = strv_extend(&p->install_argv, inst[i])) < 0)
                        return r;
        for (char **k = p->packages; *k; k++)
                if ((r = strv_extend(&p->install_argv, *k)) < 0)
                        return r;
        return 0;
}

#define WHY(r, ...) (*ret_why = strprintf(__VA_ARGS__), (r))

int deferred_apt_plan_make(const struct service_spec *s, const struct mirror_map *maps, size_t n_maps, const char *root,
                           struct deferred_apt_plan *ret, char **ret_why) {
        if (s->source != SERVICE_SOURCE_APT)
                return WHY(-EINVAL, "%s is not an apt service%s", s->name, "");
        if (!s->repo || !s->key_url || !s->key_fingerprint)
                return WHY(-EINVAL, "%s: the profile names no %s", s->name,
                           !s->repo ? "repo" : !s->key_url ? "key-url" : "key-fingerprint");
        if (!s->packages || !s->packages[0])
                return WHY(-EINVAL, "%s: the profile names no %s", s->name, "packages");
        _cleanup_(deferred_apt_plan_done) struct deferred_apt_plan p = {};
        if (openpgp_fingerprint_normalize(s->key_fingerprint, &p.fingerprint) < 0)
                return WHY(-EINVAL, "%s: key-fingerprint '%s' is not a full fingerprint (40 hex digits)", s->name,
                           s->key_fingerprint);
        _cleanup_(apt_source_done) struct apt_source src = {};
        int r = apt_source_parse(s->repo, &src);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return WHY(-EINVAL, "%s: cannot read its repo line '%s'", s->name, s->repo);
        if (!src.signed_by || !startswith(src.signed_by, KEYRINGS) || strstr(src.signed_by, "/../") ||
            !src.signed_by[strlen(KEYRINGS)])
                return WHY(-EINVAL, "%s: the repo line's signed-by= must name a keyring under " KEYRINGS " ('%s')",
                           s->name, strna(src.signed_by));
        const struct mirror_map *used = NULL, *kused = NULL;
        if (mirror_map_url(maps, n_maps, src.url, &p.repo_url, &used) < 0 ||
            mirror_map_url(maps, n_maps, s->key_url, &p.key_url, &kused) < 0)
                return -ENOMEM;
        _cleanup_(url_done) struct url u = {};
        if (url_parse(p.repo_url, &u) < 0 || (!streq(u.scheme, "http") && !streq(u.scheme, "https")))
                return WHY(-EINVAL, "%s: the repository %s is not an http(s) URL", s->name, p.repo_url);
        bool separate = !streq(root, "/");
        _cleanup_free_ char *rootkeyring = separate ? strprintf("%s%s", root, src.signed_by) : strdup(src.signed_by);
        _cleanup_free_ char *from = strprintf("signed-by=%s", src.signed_by),
                            *to = strprintf("signed-by=%s", strna(rootkeyring));
        if (!rootkeyring || !from || !to)
                return -ENOMEM;
        p.service = strdup(s->name);
        p.packages = strv_copy(s->packages);
        p.keyring = strdup(src.signed_by);
        p.inrelease_url = apt_source_inrelease_url(&src, p.repo_url);
        p.mirror = used ? strdup(p.repo_url) : NULL;
        p.probe_host = TAKE_PTR(u.host);
        p.probe_port = TAKE_PTR(u.port);
        p.list_file = strprintf("etc/apt/sources.list.d/rackstack-%s.list", s->name);
        p.list_line = apt_source_line(&src, p.repo_url);
        p.apt_list_separate = separate;
        p.apt_list = separate ? strprintf("%s/var/lib/rackstack/deferred/%s.list", root, s->name)
                              : strprintf("/%s", strna(p.list_file));
        p.apt_list_line = p.list_line ? replace_once(p.list_line, from, to) : NULL;
        p.update_timeout_sec = DEFERRED_APT_UPDATE_TIMEOUT_SEC;
        p.install_timeout_sec = DEFERRED_APT_INSTALL_TIMEOUT_SEC;
        if (!p.service || !p.packages || !p.keyring || !p.inrelease_url || (used && !p.mirror) || !p.list_file ||
            !p.list_line || !p.apt_list || !p.apt_list_line)
                return -ENOMEM;
        if ((r = make_argvs(&p, root)) < 0)
                return r;
        *ret = p;
        p = (struct deferred_apt_plan) {};
        return 0;
}

static void kv_argv(struct json *j, const char *key, char **argv) {
        json_key(j, key);
        json_begin_array(j);
        for (char **a = argv; a && *a; a++)
                json_string(j, *a);
        json_end_array(j);
}

char *deferred_apt_plan_json(const struct deferred_apt_plan *p) {
        struct json j = { .pretty = true };
        json_begin_object(&j);
        json_kv_string(&j, "service", p->service);
        kv_argv(&j, "packages", p->packages);
        json_kv_string(&j, "key_fingerprint", p->fingerprint);
        json_kv_string(&j, "key_url", p->key_url);
        json_kv_string(&j, "keyring", p->keyring);
        json_kv_string(&j, "repository", p->repo_url);
        json_kv_string(&j, "mirror", p->mirror);
        json_kv_string(&j, "inrelease", p->inrelease_url);
        json_kv_string(&j, "probe", p->probe_host);
        json_kv_string(&j, "probe_port", p->probe_port);
        json_kv_string(&j, "source_file", p->list_file);
        json_kv_string(&j, "source_line", p->list_line);
        kv_argv(&j, "update", p->update_argv);
        kv_argv(&j, "install", p->install_argv);
        kv_argv(&j, "retry_update", p->full_update_argv);
        json_kv_uint(&j, "update_timeout_sec", p->update_timeout_sec);
        json_kv_uint(&j, "install_timeout_sec", p->install_timeout_sec);
        json_end_object(&j);
        buf_putc(&j.out, '\n');
        return buf_steal(&j.out);
}
