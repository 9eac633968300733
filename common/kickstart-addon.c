/* SPDX-License-Identifier: MIT */
/* %addon com_rackstack: what kickstart has no words for — the role, disk aliases that double as
 * assertions about the hardware, cluster joins, and where to report. */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "kickstart-internal.h"
#include "parse.h"
#include "util.h"

enum kv_op { KV_EQ, KV_GE, KV_LE };

struct kv {
        char *key;
        enum kv_op op;
        struct ks_val value;
};

/* "key=value", "size>=50G", "size<=2T". */
static bool split_kv(struct ks_parser *p, const struct ks_val *w, struct kv *ret) {
        size_t n = strcspn(w->s, "=<>");
        if (n == 0 || !w->s[n]) {
                ks_err(p, w->line, w->col, "expected KEY=VALUE, not '%s'", w->s);
                return false;
        }
        enum kv_op op;
        size_t oplen;
        if (w->s[n] == '=')
                op = KV_EQ, oplen = 1;
        else if (strneq(w->s + n, ">=", 2))
                op = KV_GE, oplen = 2;
        else if (strneq(w->s + n, "<=", 2))
                op = KV_LE, oplen = 2;
        else {
                ks_err(p, w->line, w->col + (unsigned) n, "expected '=', '>=' or '<=' in '%s'", w->s);
                return false;
        }
        char *key = strndup(w->s, n);
        if (!key) {
                p->oom = true;
                return false;
        }
        *ret = (struct kv) {
                .key = key, .op = op,
                .value = { .s = w->s + n + oplen, .line = w->line, .col = w->col + (unsigned) (n + oplen) },
        };
        return true;
}

static const char *hint_for(const char *word, const char *const *names, char **ret) {
        const char *m = closest_match(word, names);
        *ret = m ? strprintf("; did you mean '%s'?", m) : NULL;
        return strempty(*ret);
}

static bool set_once(struct ks_parser *p, struct src *src, const struct ks_val *w, const char *what) {
        if (ks_given(*src)) {
                ks_err(p, w->line, w->col, "'%s' given twice (first at %u:%u)", what, src->line, src->col);
                return false;
        }
        *src = ks_mksrc(p, w->line, w->col);
        return true;
}

static bool name_valid(const char *s) {
        if (!*s || strlen(s) > 32 || !isalnum((unsigned char) s[0]))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char) *s) && *s != '-' && *s != '_')
                        return false;
        return true;
}

/* "ssd|hdd" -> mask, through the profile's string tables. */
static bool parse_mask(struct ks_parser *p, const struct ks_val *v, int (*from_string)(const char *),
                       const char *const *names, const char *what, unsigned *ret) {
        _cleanup_strv_free_ char **alts = NULL;
        if (strv_split(v->s, "|", &alts) < 0) {
                p->oom = true;
                return false;
        }
        if (!alts || !alts[0]) {
                ks_err(p, v->line, v->col, "empty %s", what);
                return false;
        }
        unsigned mask = 0;
        bool ok = true;
        for (char **a = alts; *a; a++) {
                int x = from_string(*a);
                if (x < 0) {
                        _cleanup_free_ char *hint = NULL, *all = strv_join((char **) names, ", ");
                        ks_err(p, v->line, v->col + (unsigned) (strstr(v->s, *a) - v->s), "unknown %s '%s' (one of: %s)%s",
                               what, *a, strempty(all), hint_for(*a, names, &hint));
                        ok = false;
                } else
                        mask |= (unsigned) x;
        }
        if (ok)
                *ret = mask;
        return ok;
}

static void addon_disk(struct ks_parser *p, const struct ks_val *w, size_t n) {
        static const char *const keys[] = { "class", "transport", "size", "count", "expect", NULL };
        static const char *const classes[] = { "ssd", "nvme", "hdd", NULL };
        static const char *const transports[] = { "nvme", "sata", "sas", "usb", "virtio", "scsi", NULL };
        struct ks_addon *a = &p->ks->addon;

        if (n < 2) {
                ks_err(p, w[0].line, w[0].col, "'disk' needs a name: disk NAME [class=…] [transport=…] [size>=…] "
                       "[count=N] [expect=empty]");
                return;
        }
        if (!name_valid(w[1].s)) {
                ks_err(p, w[1].line, w[1].col, "invalid disk name '%s' (letters, digits, '-' and '_', at most 32)",
                       w[1].s);
                return;
        }
        const struct ks_disk *dup = ks_find_disk(p->ks, w[1].s);
        if (dup) {
                ks_err(p, w[1].line, w[1].col, "disk '%s' declared twice (first at %u:%u)", w[1].s, dup->src.line,
                       dup->src.col);
                return;
        }
        struct ks_disk *x = ks_grow(p, (void **) &a->disks, &a->n_disks, sizeof(*x));
        if (!x)
                return;
        x->src = ks_mksrc(p, w[0].line, w[0].col);
        x->name = ks_strdup(p, w[1].s);
        x->count = 1;

        for (size_t i = 2; i < n; i++) {
                struct kv kv;
                if (!split_kv(p, &w[i], &kv))
                        continue;
                _cleanup_free_ char *key = kv.key;
                const struct ks_val *v = &kv.value;
                if (!streq(key, "size") && kv.op != KV_EQ) {
                        ks_err(p, w[i].line, w[i].col, "'%s' takes '=', not a comparison", key);
                        continue;
                }
                if (streq(key, "class")) {
                        if (set_once(p, &x->class_src, &w[i], "class") &&
                            !parse_mask(p, v, disk_class_from_string, classes, "disk class", &x->classes))
                                x->class_src = (struct src) {};
                } else if (streq(key, "transport")) {
                        if (set_once(p, &x->transport_src, &w[i], "transport") &&
                            !parse_mask(p, v, transport_from_string, transports, "transport", &x->transports))
                                x->transport_src = (struct src) {};
                } else if (streq(key, "size")) {
                        uint64_t sz;
                        if (parse_size(v->s, &sz) < 0 || sz == 0) {
                                ks_err(p, v->line, v->col, "invalid size '%s' (a number with K, M, G or T: 500G, 1.5T)",
                                       v->s);
                                continue;
                        }
                        if ((kv.op == KV_GE || kv.op == KV_EQ) && x->min_size > 0) {
                                ks_err(p, w[i].line, w[i].col, "a lower size bound is given twice");
                                continue;
                        }
                        if ((kv.op == KV_LE || kv.op == KV_EQ) && x->max_size > 0) {
                                ks_err(p, w[i].line, w[i].col, "an upper size bound is given twice");
                                continue;
                        }
                        if (kv.op != KV_LE)
                                x->min_size = sz;
                        if (kv.op != KV_GE)
                                x->max_size = sz;
                        if (!ks_given(x->size_src))
                                x->size_src = ks_mksrc(p, w[i].line, w[i].col);
                        if (x->min_size > 0 && x->max_size > 0 && x->min_size > x->max_size)
                                ks_err(p, w[i].line, w[i].col, "the size bounds leave no possible size");
                } else if (streq(key, "count")) {
                        uint32_t c;
                        if (parse_uint32_range(v->s, 1, 64, &c) < 0) {
                                ks_err(p, v->line, v->col, "invalid count '%s' (1 to 64)", v->s);
                                continue;
                        }
                        if (set_once(p, &x->count_src, &w[i], "count"))
                                x->count = c;
                } else if (streq(key, "expect")) {
                        if (!streq(v->s, "empty") && !streq(v->s, "any")) {
                                ks_err(p, v->line, v->col, "invalid expect '%s' (empty or any)", v->s);
                                continue;
                        }
                        if (set_once(p, &x->expect_src, &w[i], "expect"))
                                x->expect = streq(v->s, "empty") ? KS_DISK_EXPECT_EMPTY : KS_DISK_EXPECT_ANY;
                } else {
                        _cleanup_free_ char *hint = NULL;
                        ks_err(p, w[i].line, w[i].col, "unknown disk property '%s'%s", key, hint_for(key, keys, &hint));
                }
        }
}

static const char *const join_kinds[_KS_JOIN_MAX + 1] = {
        [KS_JOIN_IPA] = "ipa", [KS_JOIN_IPA_SERVER] = "ipa-server", [KS_JOIN_ZABBIX] = "zabbix",
        [KS_JOIN_GRAYLOG] = "graylog",
};

const char *ks_join_kind_to_string(enum ks_join_kind k) {
        return k < _KS_JOIN_MAX ? join_kinds[k] : NULL;
}

enum join_key { JK_SERVER, JK_DOMAIN, JK_REALM, JK_OTP_FILE, JK_ADMIN_PW, JK_DM_PW, JK_PSK_FILE, JK_PSK_ID,
                JK_PORT, _JK_MAX };

static const char *const join_keys[_JK_MAX + 1] = {
        "server", "domain", "realm", "otp-file", "admin-password-file", "dm-password-file", "psk-file",
        "psk-identity", "port", NULL,
};

/* Which keys each kind takes, and which it needs. */
static const struct {
        unsigned allowed, required;
} join_rules[_KS_JOIN_MAX] = {
        [KS_JOIN_IPA] = { 1u << JK_SERVER | 1u << JK_DOMAIN | 1u << JK_REALM | 1u << JK_OTP_FILE,
                          1u << JK_SERVER | 1u << JK_OTP_FILE },
        [KS_JOIN_IPA_SERVER] = { 1u << JK_DOMAIN | 1u << JK_REALM | 1u << JK_ADMIN_PW | 1u << JK_DM_PW,
                                 1u << JK_DOMAIN | 1u << JK_ADMIN_PW },
        [KS_JOIN_ZABBIX] = { 1u << JK_SERVER | 1u << JK_PSK_FILE | 1u << JK_PSK_ID,
                             1u << JK_SERVER | 1u << JK_PSK_FILE },
        [KS_JOIN_GRAYLOG] = { 1u << JK_SERVER | 1u << JK_PORT, 1u << JK_SERVER },
};

static bool server_valid(const char *s) {
        uint32_t a;
        if (parse_ipv4(s, &a) >= 0)
                return true;
        if (s[0] && strspn(s, "0123456789.") == strlen(s))
                return false;
        return !hostname_invalid_reason(s);
}

/* The kind of a 'join' line (w[1]), or -1 after an error: missing, unknown, or in conflict with
 * an earlier join. */
static int join_kind(struct ks_parser *p, const struct ks_val *w, size_t n) {
        const struct ks_addon *a = &p->ks->addon;
        if (n < 2) {
                ks_err(p, w[0].line, w[0].col, "'join' needs a kind: ipa, ipa-server, zabbix or graylog");
                return -1;
        }
        int kind = -1;
        for (size_t k = 0; k < _KS_JOIN_MAX; k++)
                if (streq(join_kinds[k], w[1].s))
                        kind = (int) k;
        if (kind < 0) {
                _cleanup_free_ char *hint = NULL;
                ks_err(p, w[1].line, w[1].col, "unknown join kind '%s' (ipa, ipa-server, zabbix or graylog)%s", w[1].s,
                       hint_for(w[1].s, join_kinds, &hint));
                return -1;
        }
        for (size_t i = 0; i < a->n_joins; i++) {
                bool ipa_pair = (a->joins[i].kind == KS_JOIN_IPA && kind == KS_JOIN_IPA_SERVER) ||
                                (a->joins[i].kind == KS_JOIN_IPA_SERVER && kind == KS_JOIN_IPA);
                if ((int) a->joins[i].kind == kind || ipa_pair) {
                        ks_err(p, w[1].line, w[1].col, "'join %s' conflicts with 'join %s' at %u:%u", w[1].s,
                               join_kinds[a->joins[i].kind], a->joins[i].src.line, a->joins[i].src.col);
                        return -1;
                }
        }
        return kind;
}

/* The index of key in join_keys when a 'join KIND' line takes it, else -1 after an error that
 * lists what it takes. */
static int join_key_index(struct ks_parser *p, int kind, const struct ks_val *word, const char *key) {
        size_t k;
        for (k = 0; k < _JK_MAX; k++)
                if (streq(join_keys[k], key))
                        break;
        if (k < _JK_MAX && (join_rules[kind].allowed & (1u << k)))
                return (int) k;
        const char *allowed[_JK_MAX + 1];
        size_t m = 0;
        for (size_t j = 0; j < _JK_MAX; j++)
                if (join_rules[kind].allowed & (1u << j))
                        allowed[m++] = join_keys[j];
        allowed[m] = NULL;
        _cleanup_free_ char *hint = NULL, *all = strv_join((char **) allowed, ", ");
        ks_err(p, word->line, word->col, "'join %s' takes no '%s' (it takes: %s)%s", join_kinds[kind], key,
               strempty(all), hint_for(key, allowed, &hint));
        return -1;
}

static bool realm_valid(const char *s) {
        for (const char *c = s; *c; c++)
                if (!isupper((unsigned char) *c) && !isdigit((unsigned char) *c) && *c != '.' && *c != '-')
                        return false;
        return true;
}

/* Check one KEY=VALUE of a join line and store it in x. Returns whether it was taken. */
static bool join_key_take(struct ks_parser *p, struct ks_join *x, enum join_key k, const char *key,
                          const struct ks_val *v, struct src s) {
        char **field = NULL;
        struct src *fsrc = NULL;
        switch (k) {
        case JK_SERVER:
                if (!server_valid(v->s)) {
                        ks_err(p, v->line, v->col, "invalid server '%s' (a host name or IPv4 address)", v->s);
                        return false;
                }
                field = &x->server, fsrc = &x->server_src;
                break;
        case JK_DOMAIN:
                if (hostname_invalid_reason(v->s) || !strchr(v->s, '.')) {
                        ks_err(p, v->line, v->col, "invalid domain '%s'", v->s);
                        return false;
                }
                field = &x->domain, fsrc = &x->domain_src;
                break;
        case JK_REALM:
                if (!realm_valid(v->s)) {
                        ks_err(p, v->line, v->col, "invalid Kerberos realm '%s' (upper case, as DOMAIN.COM)", v->s);
                        return false;
                }
                field = &x->realm, fsrc = &x->realm_src;
                break;
        case JK_OTP_FILE: field = &x->otp_file, fsrc = &x->otp_file_src; break;
        case JK_ADMIN_PW: field = &x->admin_password_file, fsrc = &x->admin_password_file_src; break;
        case JK_DM_PW: field = &x->dm_password_file, fsrc = &x->dm_password_file_src; break;
        case JK_PSK_FILE: field = &x->psk_file, fsrc = &x->psk_file_src; break;
        case JK_PSK_ID: field = &x->psk_identity, fsrc = &x->psk_identity_src; break;
        case JK_PORT: {
                uint32_t port;
                if (parse_uint32_range(v->s, 1, 65535, &port) < 0) {
                        ks_err(p, v->line, v->col, "invalid port '%s' (1 to 65535)", v->s);
                        return false;
                }
                x->port = (uint16_t) port;
                x->port_src = s;
                return true;
        }
        default:
                return false;
        }
        /* Secrets are never inline: every *-file key names a file firstboot reads and deletes. */
        if (endswith(join_keys[k], "-file") && v->s[0] != '/') {
                ks_err(p, v->line, v->col, "'%s' needs an absolute path, not '%s'", key, v->s);
                return false;
        }
        *field = ks_strdup(p, v->s);
        *fsrc = s;
        return true;
}

static void addon_join(struct ks_parser *p, const struct ks_val *w, size_t n) {
        struct ks_addon *a = &p->ks->addon;
        int kind = join_kind(p, w, n);
        if (kind < 0)
                return;
        struct ks_join *x = ks_grow(p, (void **) &a->joins, &a->n_joins, sizeof(*x));
        if (!x)
                return;
        x->src = ks_mksrc(p, w[0].line, w[0].col);
        x->kind = (enum ks_join_kind) kind;

        unsigned given = 0, tried = 0; /* tried: given, maybe wrongly; not "missing" then */
        for (size_t i = 2; i < n; i++) {
                struct kv kv;
                if (!split_kv(p, &w[i], &kv))
                        continue;
                _cleanup_free_ char *key = kv.key;
                const struct ks_val *v = &kv.value;
                int k = join_key_index(p, kind, &w[i], key);
                if (k < 0)
                        continue;
                tried |= 1u << k;
                if (kv.op != KV_EQ)
                        ks_err(p, w[i].line, w[i].col, "'%s' takes '='", key);
                else if (given & (1u << k))
                        ks_err(p, w[i].line, w[i].col, "'%s' given twice", key);
                else if (isempty(v->s))
                        ks_err(p, v->line, v->col, "'%s' needs a value", key);
                else if (join_key_take(p, x, (enum join_key) k, key, v, ks_mksrc(p, w[i].line, w[i].col)))
                        given |= 1u << k;
        }
        unsigned missing = join_rules[kind].required & ~given & ~tried;
        for (size_t k = 0; k < _JK_MAX; k++)
                if (missing & (1u << k))
                        ks_err(p, w[1].line, w[1].col, "'join %s' needs %s=", join_kinds[kind], join_keys[k]);
}

static bool url_valid(const char *s) {
        const char *rest;
        if (startswith(s, "https://"))
                rest = s + 8;
        else if (startswith(s, "http://"))
                rest = s + 7;
        else
                return false;
        size_t hlen = strcspn(rest, ":/");
        if (hlen == 0 || hlen > 253)
                return false;
        _cleanup_free_ char *host = strndup(rest, hlen);
        if (!host || !server_valid(host))
                return false;
        rest += hlen;
        if (*rest == ':') {
                size_t plen = strcspn(rest + 1, "/");
                _cleanup_free_ char *port = strndup(rest + 1, plen);
                uint32_t x;
                if (!port || parse_uint32_range(port, 1, 65535, &x) < 0)
                        return false;
                rest += 1 + plen;
        }
        for (; *rest; rest++)
                if (!isgraph((unsigned char) *rest))
                        return false;
        return true;
}

void ks_addon_line(struct ks_parser *p, const struct ks_val *w, size_t n) {
        static const char *const keywords[] = { "role", "disk", "join", "status-url", "token-file", NULL };
        struct ks_addon *a = &p->ks->addon;
        const char *k = w[0].s;

        if (streq(k, "disk"))
                addon_disk(p, w, n);
        else if (streq(k, "join"))
                addon_join(p, w, n);
        else if (streq(k, "role") || streq(k, "status-url") || streq(k, "token-file")) {
                if (n != 2) {
                        ks_err(p, w[n < 2 ? 0 : 2].line, w[n < 2 ? 0 : 2].col, "'%s' takes exactly one value", k);
                        return;
                }
                const struct ks_val *v = &w[1];
                if (streq(k, "role")) {
                        bool known = false;
                        for (size_t i = 0; i < n_role_names; i++)
                                known = known || streq(role_names[i], v->s);
                        if (!known) {
                                _cleanup_free_ char *hint = NULL, *all = strv_join((char **) role_names, ", ");
                                ks_err(p, v->line, v->col, "unknown role '%s' (one of: %s)%s", v->s, strempty(all),
                                       hint_for(v->s, role_names, &hint));
                                return;
                        }
                        if (set_once(p, &a->role_src, &w[0], "role"))
                                a->role = ks_strdup(p, v->s);
                } else if (streq(k, "status-url")) {
                        if (!url_valid(v->s)) {
                                ks_err(p, v->line, v->col, "invalid status URL '%s' (http:// or https://HOST[:PORT]/PATH)",
                                       v->s);
                                return;
                        }
                        if (set_once(p, &a->status_url_src, &w[0], "status-url"))
                                a->status_url = ks_strdup(p, v->s);
                } else {
                        if (v->s[0] != '/') {
                                ks_err(p, v->line, v->col, "'token-file' needs an absolute path, not '%s'", v->s);
                                return;
                        }
                        if (set_once(p, &a->token_file_src, &w[0], "token-file"))
                                a->token_file = ks_strdup(p, v->s);
                }
        } else {
                _cleanup_free_ char *hint = NULL;
                ks_err(p, w[0].line, w[0].col, "unknown %%addon com_rackstack keyword '%s'%s", k,
                       hint_for(k, keywords, &hint));
        }
}

void ks_addon_done(struct ks_addon *a) {
        free(a->role);
        for (size_t i = 0; i < a->n_disks; i++)
                free(a->disks[i].name);
        free(a->disks);
        for (size_t i = 0; i < a->n_joins; i++) {
                struct ks_join *j = &a->joins[i];
                free(j->server);
                free(j->domain);
                free(j->realm);
                free(j->otp_file);
                free(j->admin_password_file);
                free(j->dm_password_file);
                free(j->psk_file);
                free(j->psk_identity);
        }
        free(a->joins);
        free(a->status_url);
        free(a->token_file);
}

const struct ks_disk *ks_find_disk(const struct ks *ks, const char *name) {
        for (size_t i = 0; i < ks->addon.n_disks; i++)
                if (ks->addon.disks[i].name && streq(ks->addon.disks[i].name, name))
                        return &ks->addon.disks[i];
        return NULL;
}

const struct ks_join *ks_find_join(const struct ks *ks, enum ks_join_kind kind) {
        for (size_t i = 0; i < ks->addon.n_joins; i++)
                if (ks->addon.joins[i].kind == kind)
                        return &ks->addon.joins[i];
        return NULL;
}
