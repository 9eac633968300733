/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json.h"
#include "util.h"
#include "vendor.h"

int openpgp_fingerprint_normalize(const char *s, char **ret) {
        char out[41];
        size_t n = 0;
        for (const char *c = s; *c; c++) {
                if (*c == ' ')
                        continue;
                if (!isxdigit((unsigned char) *c) || n == 40)
                        return -EINVAL;
                out[n++] = (char) toupper((unsigned char) *c);
        }
        if (n != 40)
                return -EINVAL;
        out[n] = 0;
        char *v = strdup(out);
        if (!v)
                return -ENOMEM;
        *ret = v;
        return 0;
}

bool oci_digest_valid(const char *s) {
        if (!s || !startswith(s, "sha256:") || strlen(s) != 7 + 64)
                return false;
        for (const char *c = s + 7; *c; c++)
                if (!strchr("0123456789abcdef", *c))
                        return false;
        return true;
}

static bool has_space(const char *s) {
        for (; *s; s++)
                if (isspace((unsigned char) *s) || (unsigned char) *s < ' ')
                        return true;
        return false;
}

const char *mirror_map_check(const char *from, const char *to) {
        if (!from || !*from || has_space(from))
                return "from must be a registry host or repository URL without spaces";
        if (!to || !*to || has_space(to))
                return "to must be a URL (http://host:port/path) or a registry host without spaces";
        if (strstr(to, "://") && !startswith(to, "http://") && !startswith(to, "https://"))
                return "to must be an http:// or https:// URL";
        if (startswith(to, "http://") ? !to[7] : startswith(to, "https://") ? !to[8] : false)
                return "to names no host";
        return NULL;
}

int mirror_map_parse_arg(const char *arg, struct mirror_map *ret) {
        /* FROM may itself be a URL ("https://download.jitsi.org"), which holds no '=' in practice;
         * the first '=' splits. */
        const char *eq = strchr(arg, '=');
        if (!eq)
                return -EINVAL;
        _cleanup_free_ char *from = strndup(arg, (size_t) (eq - arg));
        _cleanup_free_ char *to = strdup(eq + 1);
        if (!from || !to)
                return -ENOMEM;
        if (mirror_map_check(from, to))
                return -EINVAL;
        *ret = (struct mirror_map) { .from = TAKE_PTR(from), .to = TAKE_PTR(to) };
        return 0;
}

void mirror_map_done(struct mirror_map *m) {
        free(m->from);
        free(m->to);
        *m = (struct mirror_map) {};
}

/* from without a trailing '/', compared as a prefix ending at a path boundary. */
static size_t prefix_match(const char *from, const char *s) {
        size_t n = strlen(from);
        while (n > 0 && from[n - 1] == '/')
                n--;
        if (n == 0 || strncmp(from, s, n) != 0)
                return 0;
        return s[n] == 0 || s[n] == '/' ? n : 0;
}

static const struct mirror_map *best_match(const struct mirror_map *maps, size_t n, const char *s, size_t *ret_len) {
        const struct mirror_map *best = NULL;
        size_t best_len = 0;
        for (size_t i = 0; i < n; i++) {
                size_t l = prefix_match(maps[i].from, s);
                if (l > best_len) {
                        best = &maps[i];
                        best_len = l;
                }
        }
        *ret_len = best_len;
        return best;
}

static char *strip_slash(const char *s) {
        size_t n = strlen(s);
        while (n > 0 && s[n - 1] == '/')
                n--;
        return strndup(s, n);
}

int mirror_map_url(const struct mirror_map *maps, size_t n, const char *url, char **ret,
                   const struct mirror_map **ret_used) {
        size_t len;
        const struct mirror_map *m = best_match(maps, n, url, &len);
        char *v;
        if (m) {
                _cleanup_free_ char *to = strip_slash(m->to);
                v = to ? strprintf("%s%s", to, url + len) : NULL;
        } else
                v = strdup(url);
        if (!v)
                return -ENOMEM;
        *ret = v;
        if (ret_used)
                *ret_used = m;
        return 0;
}

int mirror_map_image(const struct mirror_map *maps, size_t n, const char *image, char **ret_ref, bool *ret_tls,
                     const struct mirror_map **ret_used) {
        size_t len;
        const struct mirror_map *m = best_match(maps, n, image, &len);
        char *v;
        bool tls = true;
        if (m) {
                const char *to = m->to;
                if (startswith(to, "http://")) {
                        to += 7;
                        tls = false;
                } else if (startswith(to, "https://"))
                        to += 8;
                _cleanup_free_ char *host = strip_slash(to);
                v = host ? strprintf("%s%s", host, image + len) : NULL;
        } else
                v = strdup(image);
        if (!v)
                return -ENOMEM;
        *ret_ref = v;
        *ret_tls = tls;
        if (ret_used)
                *ret_used = m;
        return 0;
}

void apt_source_done(struct apt_source *s) {
        free(s->signed_by);
        free(s->options);
        free(s->url);
        free(s->suite);
        strv_free(s->components);
        *s = (struct apt_source) {};
}

int apt_source_parse(const char *line, struct apt_source *ret) {
        if (!startswith(line, "deb ["))
                return -EINVAL;
        const char *open = line + 4, *close = strchr(open, ']');
        if (!close || close[1] != ' ')
                return -EINVAL;
        _cleanup_(apt_source_done) struct apt_source s = {};
        s.options = strndup(open + 1, (size_t) (close - open - 1));
        if (!s.options)
                return -ENOMEM;
        _cleanup_strv_free_ char **opts = NULL, **w = NULL;
        if (strv_split(s.options, " ", &opts) < 0 || strv_split(close + 2, " ", &w) < 0)
                return -ENOMEM;
        for (char **o = opts; *o; o++)
                if (startswith(*o, "signed-by=")) {
                        s.signed_by = strdup(*o + strlen("signed-by="));
                        if (!s.signed_by)
                                return -ENOMEM;
                }
        if (!s.signed_by || !startswith(s.signed_by, "/usr/share/keyrings/") || strv_length(w) < 2)
                return -EINVAL;
        if (!startswith(w[0], "http://") && !startswith(w[0], "https://"))
                return -EINVAL;
        bool flat = endswith(w[1], "/");
        /* A flat repository ("stable/") has no components; a dists/ one needs at least one. */
        if (flat != (strv_length(w) == 2))
                return -EINVAL;
        s.url = strip_slash(w[0]);
        s.suite = strdup(w[1]);
        s.components = strv_copy(w + 2);
        if (!s.url || !s.suite || !s.components)
                return -ENOMEM;
        *ret = s;
        s = (struct apt_source) {};
        return 0;
}

char *apt_source_inrelease_url(const struct apt_source *s, const char *base_url) {
        _cleanup_free_ char *base = strip_slash(base_url);
        if (!base)
                return NULL;
        if (endswith(s->suite, "/"))
                return strprintf("%s/%sInRelease", base, s->suite);
        return strprintf("%s/dists/%s/InRelease", base, s->suite);
}

char *apt_source_line(const struct apt_source *s, const char *url) {
        _cleanup_free_ char *comps = strv_join(s->components, " ");
        if (!comps)
                return NULL;
        return strprintf("deb [%s] %s %s%s%s", s->options, url, s->suite, *comps ? " " : "", comps);
}

void vendor_entry_done(struct vendor_entry *e) {
        free(e->image);
        free(e->digest);
        free(e->repo);
        free(e->fingerprint);
        free(e->keyring);
        free(e->release_sha256);
        for (size_t i = 0; i < e->n_pkgs; i++) {
                free(e->pkgs[i].name);
                free(e->pkgs[i].version);
        }
        free(e->pkgs);
        free(e->mirror);
        *e = (struct vendor_entry) {};
}

const char *vendor_state_to_string(enum vendor_state s) {
        switch (s) {
        case VENDOR_IN_IMAGE: return "in-image";
        case VENDOR_DEFERRED: return "deferred";
        case VENDOR_NOT_FOR_BASE: return "not-for-base";
        }
        return NULL;
}

char *vendor_json_render(const struct vendor_entry *e, size_t n, bool pretty) {
        struct json j = { .pretty = pretty };
        json_begin_object(&j);
        json_key(&j, "services");
        json_begin_array(&j);
        for (size_t i = 0; i < n; i++) {
                const struct vendor_entry *v = &e[i];
                const struct service_spec *s = v->service;
                json_begin_object(&j);
                json_kv_string(&j, "name", s->name);
                json_kv_string(&j, "source", service_source_to_string(s->source));
                if (s->source == SERVICE_SOURCE_OCI) {
                        json_kv_string(&j, "image", v->image ?: s->image);
                        json_kv_string(&j, "digest", v->digest ?: s->digest);
                        json_kv_bool(&j, "pinned", v->digest ? v->pinned : s->digest != NULL);
                        if (v->state == VENDOR_IN_IMAGE)
                                json_kv_uint(&j, "size", v->size);
                } else {
                        json_kv_string(&j, "repo", v->repo ?: s->repo);
                        json_kv_string(&j, "key_fingerprint", v->fingerprint ?: s->key_fingerprint);
                        json_kv_string(&j, "key_url", s->key_url);
                        if (v->release_sha256)
                                json_kv_string(&j, "release_sha256", v->release_sha256);
                        json_key(&j, "packages");
                        json_begin_object(&j);
                        if (v->n_pkgs)
                                for (size_t k = 0; k < v->n_pkgs; k++)
                                        json_kv_string(&j, v->pkgs[k].name, v->pkgs[k].version);
                        else
                                for (char **p = s->packages; p && *p; p++)
                                        json_kv_string(&j, *p, NULL);
                        json_end_object(&j);
                }
                if (s->version)
                        json_kv_string(&j, "version", s->version);
                if (s->unit)
                        json_kv_string(&j, "unit", s->unit);
                json_kv_string(&j, "state", vendor_state_to_string(v->state));
                if (v->reason)
                        json_kv_string(&j, "reason", v->reason);
                if (v->mirror)
                        json_kv_string(&j, "mirror", v->mirror);
                json_end_object(&j);
        }
        json_end_array(&j);
        json_end_object(&j);
        if (pretty)
                buf_putc(&j.out, '\n');
        return buf_steal(&j.out);
}

int gpg_colons_fingerprints(const char *out, char ***ret) {
        _cleanup_strv_free_ char **lines = NULL, **fprs = calloc(1, sizeof(char *));
        if (!fprs || strv_split(out ? out : "", "\n", &lines) < 0)
                return -ENOMEM;
        bool after_pub = false;
        for (char **l = lines; l && *l; l++) {
                if (startswith(*l, "pub:"))
                        after_pub = true;
                else if (startswith(*l, "fpr:") && after_pub) {
                        after_pub = false;
                        /* field 10 (1-based) is the fingerprint: "fpr:::::::::HEX:" */
                        const char *f = *l + 4;
                        while (*f == ':')
                                f++;
                        _cleanup_free_ char *fp = strndup(f, strcspn(f, ":"));
                        if (!fp || strv_extend(&fprs, fp) < 0)
                                return -ENOMEM;
                } else if (startswith(*l, "sub:") || startswith(*l, "sec:") || startswith(*l, "ssb:"))
                        after_pub = false;
        }
        *ret = TAKE_PTR(fprs);
        return 0;
}
