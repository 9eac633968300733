/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "parse.h"
#include "prompt-plan.h"
#include "util.h"

#define PASSWORD_MIN 8

void prompt_plan_done(struct prompt_plan *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->q[i].key);
                free(p->q[i].text);
                free(p->q[i].def);
                free(p->q[i].help);
                free(p->q[i].word);
        }
        free(p->q);
        *p = (struct prompt_plan) {};
}

/* Takes text, def and help (even on failure). */
static int add(struct prompt_plan *p, const char *key, enum question_kind kind, char *text, char *def, char *help,
               uint16_t vlan) {
        struct question *n = text && key ? realloc(p->q, (p->n + 1) * sizeof *n) : NULL;
        if (!n) {
                free(text);
                free(def);
                free(help);
                return -ENOMEM;
        }
        p->q = n;
        p->q[p->n] = (struct question) { .key = strdup(key), .text = text, .def = def, .help = help, .kind = kind,
                                         .vlan = vlan };
        if (!p->q[p->n].key) {
                free(text);
                free(def);
                free(help);
                return -ENOMEM;
        }
        p->n++;
        return 0;
}

static char *dup_or_null(const char *s) {
        return s ? strdup(s) : NULL;
}

static bool missing(const struct prompt_input *in, const char *key) {
        return !answer_set_value(in->known, key);
}

static bool defaulted(const struct prompt_input *in, const char *key) {
        const struct answer *a = answer_set_get(in->known, key);
        return !a || !a->value || streq(a->source, "default");
}

static int nic_rank_cmp(const void *x, const void *y) {
        const struct nic *a = *(const struct nic *const *) x, *b = *(const struct nic *const *) y;
        if (a->speed_mbps != b->speed_mbps)
                return a->speed_mbps > b->speed_mbps ? -1 : 1;
        return strcmp(a->name, b->name);
}

char *prompt_default_members(const struct nic_list *nics, unsigned count) {
        size_t n = 0;
        _cleanup_free_ const struct nic **c = calloc(nics && nics->n ? nics->n : 1, sizeof *c);
        if (!c)
                return NULL;
        for (size_t i = 0; nics && i < nics->n; i++)
                if (nics->nics[i].physical && nics->nics[i].carrier)
                        c[n++] = &nics->nics[i];
        qsort(c, n, sizeof *c, nic_rank_cmp);
        struct buf b = {};
        for (size_t i = 0; i < n && i < count; i++)
                buf_printf(&b, "%s%s", i ? "," : "", c[i]->name);
        if (n == 0)
                buf_puts(&b, "");
        return buf_steal(&b);
}

char *prompt_nic_table(const struct nic_list *nics) {
        struct buf b = {};
        buf_printf(&b, "  %-15s %-17s %-12s %-8s %s\n", "NIC", "MAC", "DRIVER", "CARRIER", "SPEED");
        for (size_t i = 0; nics && i < nics->n; i++) {
                const struct nic *n = &nics->nics[i];
                if (!n->physical)
                        continue;
                _cleanup_free_ char *speed = n->speed_mbps ? strprintf("%" PRIu32 " Mb/s", n->speed_mbps) : strdup("?");
                buf_printf(&b, "  %-15s %-17s %-12s %-8s %s\n", n->name, n->mac, n->driver ? n->driver : "?",
                           n->carrier ? "yes" : "no", strna(speed));
        }
        return buf_steal(&b);
}

static const struct vlan_spec *vlan_of(const struct prompt_input *in, uint16_t id) {
        return in->site ? site_find_vlan(in->site, id) : NULL;
}

static int add_host_question(struct prompt_plan *p, const struct prompt_input *in) {
        const char *domain = in->site ? in->site->domain : NULL;
        return add(p, "hostname", QUESTION_TEXT,
                   domain ? strprintf("Host name and domain (e.g. name.%s)", domain) : strdup("Host name and domain"),
                   dup_or_null(answer_set_value(in->known, "hostname")), NULL, 0);
}

/* "The site's hosts of role db: lab-db1 (10.0.50.12), ..." or NULL when it has none. */
static char *site_hosts_help(const struct prompt_input *in) {
        const char *role = answer_set_value(in->known, "role");
        if (!role && in->profile)
                role = in->profile->role;
        if (!in->site || !role)
                return NULL;
        struct buf b = {};
        size_t n = 0;
        for (size_t i = 0; i < in->site->n_hosts; i++) {
                const struct host_spec *h = &in->site->hosts[i];
                if (!h->role || !streq(h->role, role))
                        continue;
                buf_printf(&b, "%s  %s%s%s", n++ ? "\n" : "", h->name, in->site->domain ? "." : "",
                           strempty(in->site->domain));
                for (size_t k = 0; k < h->n_addresses; k++) {
                        _cleanup_free_ char *a = format_ipv4(h->addresses[k].addr);
                        buf_printf(&b, "%s%s", k ? ", " : " (", strna(a));
                }
                buf_puts(&b, h->n_addresses ? ")" : "");
        }
        if (n == 0) {
                buf_done(&b);
                return strprintf("The site lists no host of role '%s': its addresses will be asked.\n", role);
        }
        _cleanup_free_ char *list = buf_steal(&b);
        return list ? strprintf("No source names this host. The site's hosts of role '%s':\n%s\n", role, list) : NULL;
}

int prompt_plan_host(const struct prompt_input *in, struct prompt_plan *ret) {
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        if (!missing(in, "hostname")) {
                *ret = (struct prompt_plan) {};
                return 0;
        }
        int r = add_host_question(&p, in);
        if (r < 0)
                return r;
        p.q[0].help = site_hosts_help(in);
        *ret = p;
        p = (struct prompt_plan) {};
        return 0;
}

int prompt_plan_build(const struct prompt_input *in, struct prompt_plan *ret) {
        _cleanup_(prompt_plan_done) struct prompt_plan p = {};
        const struct profile *prof = in->profile;
        int r = 0;

        /* Is anything missing at all? The confirmations and defaulted answers are asked only then. */
        bool need = in->all || in->wipe || missing(in, "hostname") || missing(in, "dns");
        for (size_t i = 0; !need && prof && i < prof->n_vlans; i++) {
                _cleanup_free_ char *ka = strprintf("vlan.%u.address", prof->vlans[i]);
                _cleanup_free_ char *kg = strprintf("vlan.%u.gateway", prof->vlans[i]);
                if (!ka || !kg)
                        return -ENOMEM;
                need = missing(in, ka) || missing(in, kg);
        }
        if (!need) {
                *ret = (struct prompt_plan) {};
                return 0;
        }

        if (!in->host_asked)
                r = add_host_question(&p, in);
        if (r >= 0 && prof && prof->role)
                r = add(&p, "role", QUESTION_TEXT, strprintf("Role (this image is built for '%s'; confirm)", prof->role),
                        strdup(prof->role), NULL, 0);
        for (size_t i = 0; r >= 0 && prof && i < prof->n_vlans; i++) {
                uint16_t id = prof->vlans[i];
                const struct vlan_spec *v = vlan_of(in, id);
                _cleanup_free_ char *ka = strprintf("vlan.%u.address", id);
                _cleanup_free_ char *kg = strprintf("vlan.%u.gateway", id);
                _cleanup_free_ char *net = v ? format_ipv4(v->subnet) : NULL;
                if (!ka || !kg)
                        return -ENOMEM;
                _cleanup_free_ char *what = v && net ? strprintf("VLAN %u (%s, %s/%u)", id, v->name, net, v->prefix) :
                                                        strprintf("VLAN %u", id);
                if (!what)
                        return -ENOMEM;
                if (in->all || missing(in, ka))
                        r = add(&p, ka, QUESTION_TEXT, strprintf("%s address/prefix", what),
                                dup_or_null(answer_set_value(in->known, ka)), NULL, id);
                if (r >= 0 && (in->all || missing(in, kg)))
                        r = add(&p, kg, QUESTION_TEXT, strprintf("%s gateway, or 'none'", what),
                                strdup(answer_set_value(in->known, kg) ?: "none"), NULL, id);
        }
        if (r >= 0)
                r = add(&p, "dns", QUESTION_TEXT, strdup("DNS servers (comma-separated)"),
                        dup_or_null(answer_set_value(in->known, "dns")), NULL, 0);
        if (r >= 0 && (in->all || defaulted(in, "bond.members"))) {
                unsigned count = prof && prof->bond.members ? prof->bond.members : 2;
                _cleanup_free_ char *def = prompt_default_members(in->nics, count);
                const char *known = answer_set_value(in->known, "bond.members");
                r = add(&p, "bond.members", QUESTION_TEXT,
                        strprintf("NICs that form %s (names or MACs, comma-separated)",
                                  prof && prof->bond.name ? prof->bond.name : "bond0"),
                        known && !streq(known, "auto") ? strdup(known) : def && *def ? strdup(def) : NULL,
                        prompt_nic_table(in->nics), 0);
        }
        if (r >= 0 && in->wipe) {
                struct buf b = {};
                buf_puts(&b, "The disk plan wipes:\n");
                for (char **w = in->wipe; *w; w++)
                        buf_printf(&b, "  %s\n", *w);
                r = add(&p, "disks.confirm", QUESTION_CONFIRM, strdup("Type 'wipe' to wipe these disks"), NULL,
                        buf_steal(&b), 0);
                if (r >= 0 && !(p.q[p.n - 1].word = strdup("wipe")))
                        r = -ENOMEM;
        }
        if (r >= 0 && (in->all || defaulted(in, "rootpw")))
                r = add(&p, "rootpw", QUESTION_SECRET,
                        strprintf("Root password (not shown; at least %d characters; Enter keeps it locked)", PASSWORD_MIN),
                        NULL, NULL, 0);
        if (r < 0)
                return r;
        *ret = p;
        p = (struct prompt_plan) {};
        return 0;
}

/* ---- validators ------------------------------------------------------------------------------- */

#define REASON(...)                                             \
        do {                                                    \
                *ret_reason = strprintf(__VA_ARGS__);           \
                return *ret_reason ? -EINVAL : -ENOMEM;         \
        } while (0)

static int check_hostname(const struct prompt_input *in, const char *s, char **ret_value, char **ret_reason) {
        _cleanup_free_ char *v = strdup(s);
        if (!v)
                return -ENOMEM;
        for (char *c = v; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        const char *why = hostname_invalid_reason(v);
        if (why)
                REASON("'%s' is not a valid host name: %s", s, why);
        const char *dot = strchr(v, '.');
        if (!dot)
                REASON("give the host name with its domain (e.g. %s.%s)", v,
                       in->site && in->site->domain ? in->site->domain : "example.com");
        if (in->site && in->site->domain && strcasecmp(dot + 1, in->site->domain) != 0)
                REASON("'%s' is not in the site's domain '%s'", s, in->site->domain);
        *ret_value = TAKE_PTR(v);
        return 0;
}

static int check_role(const struct prompt_input *in, const char *s, char **ret_value, char **ret_reason) {
        const char *role = in->profile ? in->profile->role : NULL;
        if (role && (streq(s, role) || strcasecmp(s, "yes") == 0 || strcasecmp(s, "y") == 0)) {
                *ret_value = strdup(role);
                return *ret_value ? 0 : -ENOMEM;
        }
        if (role)
                REASON("this image is built for role '%s'; boot the image of role '%s' instead", role, s);
        *ret_value = strdup(s);
        return *ret_value ? 0 : -ENOMEM;
}

static int check_address(const struct prompt_input *in, const struct question *q, const char *s, char **ret_value,
                         char **ret_reason) {
        const struct vlan_spec *v = vlan_of(in, q->vlan);
        uint32_t a;
        unsigned prefix;
        if (strchr(s, '/')) {
                if (parse_cidr(s, &a, &prefix) < 0 || prefix < 1 || prefix > 30)
                        REASON("'%s' is not an IPv4 address/prefix (prefix 1..30), e.g. 10.0.50.12/24", s);
        } else {
                if (parse_ipv4(s, &a) < 0)
                        REASON("'%s' is not an IPv4 address", s);
                if (!v)
                        REASON("give the prefix too, e.g. %s/24", s);
                prefix = v->prefix;
        }
        if (v && prefix != v->prefix)
                REASON("VLAN %u's subnet is /%u, not /%u", q->vlan, v->prefix, prefix);
        uint32_t mask = prefix_to_mask(prefix);
        if (v && !ipv4_in_subnet(a, v->subnet, v->prefix)) {
                _cleanup_free_ char *net = format_ipv4(v->subnet);
                REASON("%s is outside VLAN %u's subnet %s/%u", s, q->vlan, strna(net), v->prefix);
        }
        if ((a & ~mask) == 0 || (a & ~mask) == ~mask)
                REASON("%s is the subnet's network or broadcast address", s);
        if (v && v->gateway == a)
                REASON("%s is VLAN %u's gateway", s, q->vlan);
        _cleanup_free_ char *ip = format_ipv4(a);
        *ret_value = ip ? strprintf("%s/%u", ip, prefix) : NULL;
        return *ret_value ? 0 : -ENOMEM;
}

static int check_gateway(const struct prompt_input *in, const struct question *q, const char *s, char **ret_value,
                         char **ret_reason) {
        if (strcasecmp(s, "none") == 0) {
                *ret_value = strdup("none");
                return *ret_value ? 0 : -ENOMEM;
        }
        uint32_t gw, a = 0, net;
        unsigned prefix;
        if (parse_ipv4(s, &gw) < 0)
                REASON("'%s' is not an IPv4 address (or 'none')", s);
        /* the address answered just before, else the site's subnet */
        _cleanup_free_ char *ka = strprintf("vlan.%u.address", q->vlan);
        const char *addr = ka ? answer_set_value(in->known, ka) : NULL;
        const struct vlan_spec *v = vlan_of(in, q->vlan);
        if (addr && parse_cidr(addr, &a, &prefix) >= 0)
                net = a & prefix_to_mask(prefix);
        else if (v)
                net = v->subnet, prefix = v->prefix;
        else
                REASON("VLAN %u has no address to check the gateway against", q->vlan);
        if (!ipv4_in_subnet(gw, net, prefix)) {
                _cleanup_free_ char *n = format_ipv4(net);
                REASON("gateway %s is outside the subnet %s/%u", s, strna(n), prefix);
        }
        if (gw == a)
                REASON("gateway %s is this host's own address", s);
        *ret_value = format_ipv4(gw);
        return *ret_value ? 0 : -ENOMEM;
}

static int check_dns(const char *s, char **ret_value, char **ret_reason) {
        _cleanup_strv_free_ char **l = NULL;
        if (strv_split(s, ", ", &l) < 0)
                return -ENOMEM;
        if (!l || !*l)
                REASON("give at least one DNS server");
        struct buf b = {};
        for (char **w = l; *w; w++) {
                uint32_t a;
                if (parse_ipv4(*w, &a) < 0 || a == 0) {
                        buf_done(&b);
                        REASON("'%s' is not an IPv4 address", *w);
                }
                _cleanup_free_ char *x = format_ipv4(a);
                buf_printf(&b, "%s%s", w == l ? "" : ",", strna(x));
        }
        *ret_value = buf_steal(&b);
        return *ret_value ? 0 : -ENOMEM;
}

static int check_members(const struct prompt_input *in, const char *s, char **ret_value, char **ret_reason) {
        _cleanup_strv_free_ char **l = NULL;
        if (strv_split(s, ", ", &l) < 0)
                return -ENOMEM;
        if (!l || !*l)
                REASON("name at least one NIC");
        _cleanup_strv_free_ char **names = NULL;
        for (char **w = l; *w; w++) {
                const struct nic *n = in->nics ? nic_find(in->nics, *w) : NULL;
                if (!n || !n->physical)
                        REASON("there is no NIC '%s' (see the list above)", *w);
                if (strv_contains(names, n->name))
                        REASON("%s is named twice", n->name);
                if (strv_extend(&names, n->name) < 0)
                        return -ENOMEM;
        }
        *ret_value = strv_join(names, ",");
        return *ret_value ? 0 : -ENOMEM;
}

static int check_password(const char *s, char **ret_value, char **ret_reason) {
        for (const char *c = s; *c; c++)
                if (iscntrl((unsigned char) *c))
                        REASON("the password holds a control character");
        if (*s && strlen(s) < PASSWORD_MIN)
                REASON("the password is shorter than %d characters", PASSWORD_MIN);
        *ret_value = strdup(s);
        return *ret_value ? 0 : -ENOMEM;
}

int prompt_check(const struct prompt_input *in, const struct question *q, const char *typed, char **ret_value,
                 char **ret_reason) {
        /* surrounding blanks are never meant (a secret is taken as typed) */
        _cleanup_free_ char *t = NULL;
        if (q->kind == QUESTION_SECRET)
                t = strdup(typed);
        else {
                while (isspace((unsigned char) *typed))
                        typed++;
                size_t n = strlen(typed);
                while (n > 0 && isspace((unsigned char) typed[n - 1]))
                        n--;
                t = strndup(typed, n);
        }
        if (!t)
                return -ENOMEM;

        if (q->kind == QUESTION_CONFIRM) {
                if (!streq(t, q->word))
                        REASON("type '%s' to go on (or Ctrl-C to stop)", q->word);
                *ret_value = strdup(q->word);
                return *ret_value ? 0 : -ENOMEM;
        }
        if (!*t && q->kind == QUESTION_SECRET)
                return check_password(t, ret_value, ret_reason);
        if (!*t) {
                if (!q->def)
                        REASON("an answer is needed (there is no default)");
                free(t);
                if (!(t = strdup(q->def)))
                        return -ENOMEM;
        }
        if (streq(q->key, "hostname"))
                return check_hostname(in, t, ret_value, ret_reason);
        if (streq(q->key, "role"))
                return check_role(in, t, ret_value, ret_reason);
        if (streq(q->key, "dns"))
                return check_dns(t, ret_value, ret_reason);
        if (streq(q->key, "bond.members"))
                return check_members(in, t, ret_value, ret_reason);
        if (streq(q->key, "rootpw"))
                return check_password(t, ret_value, ret_reason);
        if (startswith(q->key, "vlan.") && endswith(q->key, ".address"))
                return check_address(in, q, t, ret_value, ret_reason);
        if (startswith(q->key, "vlan.") && endswith(q->key, ".gateway"))
                return check_gateway(in, q, t, ret_value, ret_reason);
        *ret_value = TAKE_PTR(t);
        return 0;
}

