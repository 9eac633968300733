/* SPDX-License-Identifier: MIT */
/* Kernel command line words and the inst.ks= source spec, as Anaconda reads them. */
#include <ctype.h>
#include <string.h>

#include "cleanup.h"
#include "kcmdline.h"
#include "parse.h"
#include "util.h"

#define CMDLINE_FILE "kernel command line"

int kcmdline_parse(const char *s, struct kcmdline **ret) {
        struct kcmdline *c = calloc(1, sizeof(struct kcmdline));
        if (!c)
                return -ENOMEM;
        const char *p = s ? s : "";
        for (;;) {
                while (*p && isspace((unsigned char) *p))
                        p++;
                if (!*p)
                        break;
                /* One word: blanks inside double quotes do not split it; the quotes are dropped. */
                struct buf w = {};
                bool quoted = false;
                long eq = -1;
                for (; *p && (quoted || !isspace((unsigned char) *p)); p++) {
                        if (*p == '"') {
                                quoted = !quoted;
                                continue;
                        }
                        if (*p == '=' && eq < 0)
                                eq = (long) w.len;
                        buf_putc(&w, *p);
                }
                char *word = buf_steal(&w);
                if (!word) {
                        kcmdline_free(c);
                        return -ENOMEM;
                }
                struct kcmdline_entry *e = reallocarray(c->entries, c->n + 1, sizeof(*e));
                if (!e) {
                        free(word);
                        kcmdline_free(c);
                        return -ENOMEM;
                }
                c->entries = e;
                e = &c->entries[c->n];
                if (eq >= 0) {
                        word[eq] = 0;
                        e->value = strdup(word + eq + 1);
                        if (!e->value) {
                                free(word);
                                kcmdline_free(c);
                                return -ENOMEM;
                        }
                } else
                        e->value = NULL;
                e->key = word;
                c->n++;
        }
        *ret = c;
        return 0;
}

struct kcmdline *kcmdline_free(struct kcmdline *c) {
        if (!c)
                return NULL;
        for (size_t i = 0; i < c->n; i++) {
                free(c->entries[i].key);
                free(c->entries[i].value);
        }
        free(c->entries);
        free(c);
        return NULL;
}

const struct kcmdline_entry *kcmdline_find(const struct kcmdline *c, const char *key) {
        for (size_t i = c ? c->n : 0; i > 0; i--)
                if (streq(c->entries[i - 1].key, key))
                        return &c->entries[i - 1];
        return NULL;
}

const char *kcmdline_get(const struct kcmdline *c, const char *key) {
        const struct kcmdline_entry *e = kcmdline_find(c, key);
        return e ? e->value : NULL;
}

bool kcmdline_has(const struct kcmdline *c, const char *key) {
        return kcmdline_find(c, key);
}

int parse_sha256_hex(const char *s, uint8_t ret[32]) {
        if (!s || strlen(s) != 64)
                return -EINVAL;
        uint8_t out[32];
        for (size_t i = 0; i < 64; i++) {
                int c = tolower((unsigned char) s[i]), v;
                if (c >= '0' && c <= '9')
                        v = c - '0';
                else if (c >= 'a' && c <= 'f')
                        v = c - 'a' + 10;
                else
                        return -EINVAL;
                if (i % 2 == 0)
                        out[i / 2] = (uint8_t) (v << 4);
                else
                        out[i / 2] |= (uint8_t) v;
        }
        memcpy(ret, out, 32);
        return 0;
}

struct ks_source *ks_source_free(struct ks_source *s) {
        if (!s)
                return NULL;
        free(s->device);
        free(s->path);
        free(s->host);
        free(s->url);
        free(s);
        return NULL;
}

/* The column is within the spec: the kernel command line has no lines worth numbering. */
#define src_err(d, col, ...)                                                                        \
        do {                                                                                        \
                if (d)                                                                              \
                        diags_add((d), DIAG_ERROR, CMDLINE_FILE, 1, (unsigned) (col), __VA_ARGS__); \
        } while (0)

static bool path_valid(const char *p) {
        if (p[0] != '/' || p[1] == 0)
                return false;
        for (; *p; p++)
                if (!isgraph((unsigned char) *p))
                        return false;
        return true;
}

static int parse_http(const char *spec, bool https, struct diags *d, struct ks_source *s) {
        const char *rest = spec + (https ? 8 : 7);
        size_t hlen = strcspn(rest, ":/?#");
        _cleanup_free_ char *host = strndup(rest, hlen);
        if (!host)
                return -ENOMEM;
        uint32_t a;
        bool digits = host[0] && strspn(host, "0123456789.") == hlen;
        if (hlen == 0 || (digits ? parse_ipv4(host, &a) < 0 : hostname_invalid_reason(host) != NULL)) {
                src_err(d, (size_t) (rest - spec) + 1, "invalid host in kickstart URL '%s'", spec);
                return -EINVAL;
        }
        rest += hlen;
        uint16_t port = 0;
        if (*rest == ':') {
                size_t plen = strcspn(rest + 1, "/?#");
                _cleanup_free_ char *ps = strndup(rest + 1, plen);
                uint32_t x;
                if (!ps)
                        return -ENOMEM;
                if (parse_uint32_range(ps, 1, 65535, &x) < 0) {
                        src_err(d, (size_t) (rest - spec) + 2, "invalid port in kickstart URL '%s'", spec);
                        return -EINVAL;
                }
                port = (uint16_t) x;
                rest += 1 + plen;
        }
        for (const char *c = rest; *c; c++)
                if (!isgraph((unsigned char) *c)) {
                        src_err(d, (size_t) (c - spec) + 1, "invalid character in kickstart URL '%s'", spec);
                        return -EINVAL;
                }
        s->kind = https ? KS_SOURCE_HTTPS : KS_SOURCE_HTTP;
        s->host = TAKE_PTR(host);
        s->port = port;
        s->path = strdup(*rest == '/' ? rest : "/");
        s->url = strdup(spec);
        return s->path && s->url ? 0 : -ENOMEM;
}

static int parse_hd(const char *spec, struct diags *d, struct ks_source *s) {
        const char *dev = spec + 3;
        /* "hd:DEVICE:/path": DEVICE may itself start with '/', so split at the first ":/". */
        const char *sep = strstr(dev, ":/");
        if (!sep || sep == dev) {
                src_err(d, 4, "kickstart source '%s' is not hd:DEVICE:/PATH", spec);
                return -EINVAL;
        }
        _cleanup_free_ char *device = strndup(dev, (size_t) (sep - dev));
        if (!device)
                return -ENOMEM;
        const char *value = device;
        if (startswith(device, "LABEL="))
                s->hd_by = KS_HD_BY_LABEL, value += 6;
        else if (startswith(device, "UUID="))
                s->hd_by = KS_HD_BY_UUID, value += 5;
        else
                s->hd_by = KS_HD_BY_NAME;
        bool ok = *value != 0;
        for (const char *c = value; *c; c++)
                ok = ok && isgraph((unsigned char) *c);
        if (s->hd_by == KS_HD_BY_UUID)
                ok = ok && strspn(value, "0123456789abcdefABCDEF-") == strlen(value);
        if (s->hd_by == KS_HD_BY_NAME && value[0] == '/')
                ok = ok && startswith(value, "/dev/");
        if (!ok) {
                src_err(d, 4, "invalid device in kickstart source '%s'", spec);
                return -EINVAL;
        }
        if (!path_valid(sep + 1)) {
                src_err(d, (size_t) (sep - spec) + 2, "invalid path in kickstart source '%s'", spec);
                return -EINVAL;
        }
        s->kind = KS_SOURCE_HD;
        s->device = strdup(value);
        s->path = strdup(sep + 1);
        return s->device && s->path ? 0 : -ENOMEM;
}

int ks_source_parse(const char *spec, struct diags *d, struct ks_source **ret) {
        _cleanup_(ks_source_freep) struct ks_source *s = calloc(1, sizeof(struct ks_source));
        if (!s)
                return -ENOMEM;
        if (!spec)
                spec = "";
        int r;

        if (startswith(spec, "http://") || startswith(spec, "https://"))
                r = parse_http(spec, startswith(spec, "https://"), d, s);
        else if (startswith(spec, "hd:"))
                r = parse_hd(spec, d, s);
        else if (streq(spec, "cdrom")) {
                s->kind = KS_SOURCE_CDROM;
                s->path = strdup("/ks.cfg");
                r = s->path ? 0 : -ENOMEM;
        } else if (startswith(spec, "cdrom:") || startswith(spec, "file:") || spec[0] == '/') {
                const char *path = spec[0] == '/' ? spec : strchr(spec, ':') + 1;
                if (!path_valid(path)) {
                        src_err(d, (size_t) (path - spec) + 1, "invalid path in kickstart source '%s'", spec);
                        return -EINVAL;
                }
                s->kind = startswith(spec, "cdrom:") ? KS_SOURCE_CDROM : KS_SOURCE_PATH;
                s->path = strdup(path);
                r = s->path ? 0 : -ENOMEM;
        } else {
                size_t n = strcspn(spec, ":");
                if (spec[n] == ':' && n > 0) {
                        src_err(d, 1, "unsupported kickstart source scheme in '%s' (use a path, hd:, cdrom, http: or https:)",
                                spec);
                        return -EPROTONOSUPPORT;
                }
                src_err(d, 1, "invalid kickstart source '%s' (a path, hd:, cdrom, http: or https:)", spec);
                return -EINVAL;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(s);
        return 0;
}

int kcmdline_ks_source(const struct kcmdline *c, struct diags *d, struct ks_source **ret) {
        const struct kcmdline_entry *e = kcmdline_find(c, "inst.ks");
        if (!e)
                e = kcmdline_find(c, "ks");
        if (!e)
                return -ENOENT;
        if (!e->value || !*e->value) {
                if (d)
                        diag_error(d, CMDLINE_FILE, 0, 0, "'%s' needs a value: %s=hd:LABEL=OEMDRV:/ks.cfg, a URL or a path",
                                   e->key, e->key);
                return -EINVAL;
        }
        _cleanup_(ks_source_freep) struct ks_source *s = NULL;
        int r = ks_source_parse(e->value, d, &s);
        if (r < 0)
                return r;
        const struct kcmdline_entry *h = kcmdline_find(c, "inst.ks.sha256");
        if (h) {
                if (parse_sha256_hex(h->value, s->sha256) < 0) {
                        if (d)
                                diag_error(d, CMDLINE_FILE, 0, 0, "inst.ks.sha256 needs 64 hex digits, not '%s'",
                                           strempty(h->value));
                        return -EINVAL;
                }
                s->has_sha256 = true;
        }
        *ret = TAKE_PTR(s);
        return 0;
}

int kcmdline_prompt_timeout(const struct kcmdline *c, struct diags *d, uint64_t *ret_usec) {
        const struct kcmdline_entry *e = kcmdline_find(c, "rackstack.prompt_timeout");
        if (!e)
                return -ENOENT;
        uint32_t sec;
        if (!e->value || parse_uint32_range(e->value, 1, 86400, &sec) < 0) {
                if (d)
                        diag_error(d, CMDLINE_FILE, 0, 0, "rackstack.prompt_timeout needs seconds (1..86400), not '%s'",
                                   strempty(e->value));
                return -EINVAL;
        }
        *ret_usec = (uint64_t) sec * 1000000u;
        return 0;
}

bool kcmdline_prompt_forced(const struct kcmdline *c) {
        const struct kcmdline_entry *e = kcmdline_find(c, "rackstack.prompt");
        bool b;
        if (!e)
                return false;
        return !e->value || (parse_bool(e->value, &b) >= 0 && b);
}
