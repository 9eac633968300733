/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "answer-set.h"
#include "cleanup.h"
#include "parse.h"
#include "util.h"

static struct answer *find(const struct answer_set *s, const char *key) {
        for (size_t i = 0; i < s->n; i++)
                if (streq(s->items[i].key, key))
                        return &s->items[i];
        return NULL;
}

const struct answer *answer_set_get(const struct answer_set *s, const char *key) {
        return find(s, key);
}

const char *answer_set_value(const struct answer_set *s, const char *key) {
        const struct answer *a = find(s, key);
        return a ? a->value : NULL;
}

static int note(struct answer *a, const char *value, const char *source) {
        char *n = strprintf("%s (%s)", value, source);
        return n ? strv_push(&a->overruled, n) : -ENOMEM;
}

int answer_set_offer(struct answer_set *s, const char *key, const char *value, const char *source) {
        struct answer *a = find(s, key);
        if (a && a->value) {
                if (value && !streq(a->value, value))
                        return note(a, value, source) < 0 ? -ENOMEM : 0;
                return 0;
        }
        if (!a) {
                struct answer *n = realloc(s->items, (s->n + 1) * sizeof *n);
                if (!n)
                        return -ENOMEM;
                s->items = n;
                a = &s->items[s->n];
                *a = (struct answer) { .key = strdup(key) };
                if (!a->key)
                        return -ENOMEM;
                s->n++;
        }
        if (!value)
                return 0;
        char *v = strdup(value), *src = strdup(source);
        if (!v || !src) {
                free(v);
                free(src);
                return -ENOMEM;
        }
        a->value = v;
        free(a->source);
        a->source = src;
        return 1;
}

int answer_set_replace(struct answer_set *s, const char *key, const char *value, const char *source) {
        struct answer *a = find(s, key);
        if (a && a->value) {
                /* Enter on the default confirms it: it keeps the source it came from */
                if (streq(a->value, value))
                        return 0;
                if (note(a, a->value, a->source) < 0)
                        return -ENOMEM;
                free(a->value);
                a->value = NULL;
        }
        return answer_set_offer(s, key, value, source);
}

void answer_set_done(struct answer_set *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].key);
                free(s->items[i].value);
                free(s->items[i].source);
                strv_free(s->items[i].overruled);
        }
        free(s->items);
        if (s->rootpw_hash)
                explicit_bzero(s->rootpw_hash, strlen(s->rootpw_hash));
        free(s->rootpw_hash);
        *s = (struct answer_set) {};
}

char *answer_source_ks(const char *label, unsigned line) {
        return line ? strprintf("%s line %u", label, line) : strdup(label);
}

char *answer_source_yaml(const char *kind, const struct src *s) {
        const char *f = s && s->file ? s->file : "?";
        const char *base = strrchr(f, '/');
        base = base ? base + 1 : f;
        if (!s || !s->line)
                return kind ? strprintf("%s %s", kind, base) : strdup(base);
        return kind ? strprintf("%s %s:%u", kind, base, s->line) : strprintf("%s:%u", base, s->line);
}

static struct src node_src(const struct ynode *tree, const char *key) {
        const struct ynode *n = tree ? ynode_get(tree, key) : NULL;
        return n ? (struct src) { .file = n->file, .line = n->line, .col = n->col } : (struct src) {};
}

/* offer with an owned source string */
static int offer_src(struct answer_set *s, const char *key, const char *value, char *source) {
        _cleanup_free_ char *src = source;
        if (!src)
                return -ENOMEM;
        return answer_set_offer(s, key, value, src);
}

static int offer_ks(struct answer_set *s, const struct answers_input *in, const char *key, const char *value,
                    const struct src *where) {
        return offer_src(s, key, value, answer_source_ks(in->ks_label ? in->ks_label : in->ks->file, where->line));
}

static char *join_ipv4(const uint32_t *a, size_t n) {
        struct buf b = {};
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *x = format_ipv4(a[i]);
                buf_printf(&b, "%s%s", i ? "," : "", strna(x));
        }
        return buf_steal(&b);
}

static int collect_ks(const struct answers_input *in, struct answer_set *s) {
        const struct ks *ks = in->ks;
        int r = 0;
        const struct ks_network *hn = ks_hostname_network(ks);
        if (hn)
                r = offer_ks(s, in, "hostname", hn->hostname, &hn->hostname_src);
        if (r >= 0 && ks->addon.role)
                r = offer_ks(s, in, "role", ks->addon.role, &ks->addon.role_src);
        for (size_t i = 0; r >= 0 && i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                if (n->vlanid && n->ip) {
                        _cleanup_free_ char *key = strprintf("vlan.%u.address", n->vlanid);
                        _cleanup_free_ char *ip = format_ipv4(n->ip);
                        _cleanup_free_ char *v = ip ? strprintf("%s/%u", ip, n->prefix) : NULL;
                        r = key && v ? offer_ks(s, in, key, v, &n->ip_src) : -ENOMEM;
                }
                if (r >= 0 && n->vlanid && (n->gateway || n->nodefroute)) {
                        _cleanup_free_ char *key = strprintf("vlan.%u.gateway", n->vlanid);
                        _cleanup_free_ char *gw = n->gateway ? format_ipv4(n->gateway) : strdup("none");
                        r = key && gw ? offer_ks(s, in, key, gw, n->gateway ? &n->gateway_src : &n->nodefroute_src) :
                                        -ENOMEM;
                }
                if (r >= 0 && n->n_nameservers) {
                        _cleanup_free_ char *v = join_ipv4(n->nameservers, n->n_nameservers);
                        r = v ? offer_ks(s, in, "dns", v, &n->nameserver_src) : -ENOMEM;
                }
                if (r >= 0 && n->bondslaves) {
                        _cleanup_free_ char *v = strv_join(n->bondslaves, ",");
                        r = v ? offer_ks(s, in, "bond.members", v, &n->bondslaves_src) : -ENOMEM;
                }
                if (r >= 0 && (n->bondopts.set & KS_BONDOPT_MODE))
                        r = offer_ks(s, in, "bond.mode", bond_mode_to_string(n->bondopts.mode), &n->bondopts_src);
        }
        if (r >= 0 && ks_given(ks->clearpart.src)) {
                const struct ks_clearpart *c = &ks->clearpart;
                _cleanup_free_ char *drives = c->drives ? strv_join(c->drives, ",") : NULL;
                const char *on = drives ? drives : c->mode == KS_CLEARPART_ALL ? "every disk" : "any disk";
                _cleanup_free_ char *v = c->mode == KS_CLEARPART_NONE ? strdup("none") :
                                         c->mode == KS_CLEARPART_ALL  ? strprintf("all on %s", on) :
                                                                        strprintf("listed partitions on %s", on);
                r = v ? offer_ks(s, in, "disks.clear", v, &c->src) : -ENOMEM;
        }
        if (r >= 0 && ks_given(ks->rootpw.src))
                r = offer_ks(s, in, "rootpw", ks->rootpw.password ? "set" : ks->rootpw.lock ? "locked" : "none",
                             &ks->rootpw.src);
        return r;
}

static int collect_site(const struct answers_input *in, struct answer_set *s) {
        const struct site *site = in->site;
        const char *role = answer_set_value(s, "role");
        if (!role && in->profile)
                role = in->profile->role;
        const struct host_spec *h = NULL;
        const char *hn = answer_set_value(s, "hostname");
        if (hn) {
                _cleanup_free_ char *shortname = strndup(hn, strcspn(hn, "."));
                h = shortname ? site_find_host(site, shortname) : NULL;
        } else if (role && !in->ks)
                h = site_find_host_by_role(site, role); /* the image's own host: there is no kickstart */
        int r = 0;
        if (h && site->domain) {
                _cleanup_free_ char *fqdn = strprintf("%s.%s", h->name, site->domain);
                r = fqdn ? offer_src(s, "hostname", fqdn, answer_source_yaml(NULL, &h->src)) : -ENOMEM;
        }
        if (r >= 0 && h)
                r = offer_src(s, "role", h->role, answer_source_yaml(NULL, &h->src));
        for (size_t i = 0; r >= 0 && in->profile && i < in->profile->n_vlans; i++) {
                uint16_t id = in->profile->vlans[i];
                const struct vlan_spec *v = site_find_vlan(site, id);
                _cleanup_free_ char *ka = strprintf("vlan.%u.address", id), *kg = strprintf("vlan.%u.gateway", id);
                if (!ka || !kg)
                        return -ENOMEM;
                for (size_t k = 0; h && v && r >= 0 && k < h->n_addresses; k++)
                        if (h->addresses[k].vlan == id) {
                                _cleanup_free_ char *ip = format_ipv4(h->addresses[k].addr);
                                _cleanup_free_ char *val = ip ? strprintf("%s/%u", ip, v->prefix) : NULL;
                                r = val ? offer_src(s, ka, val, answer_source_yaml(NULL, &h->addresses[k].src)) : -ENOMEM;
                        }
                if (r >= 0)
                        r = answer_set_offer(s, ka, NULL, NULL); /* listed even when no source has it */
                if (r >= 0 && v) {
                        /* the default route lives on the site's default VLAN only */
                        _cleanup_free_ char *gw = v->gateway && id == site->default_vlan ? format_ipv4(v->gateway) :
                                                                                           strdup("none");
                        r = gw ? offer_src(s, kg, gw, answer_source_yaml(NULL, &v->src)) : -ENOMEM;
                }
        }
        if (r >= 0 && site->dns) {
                _cleanup_free_ char *v = strv_join(site->dns, ",");
                struct src where = node_src(site->tree, "dns");
                r = v ? offer_src(s, "dns", v, answer_source_yaml(NULL, &where)) : -ENOMEM;
        }
        return r;
}

static int collect_profile(const struct answers_input *in, struct answer_set *s) {
        const struct profile *p = in->profile;
        struct src where = node_src(p->tree, "role");
        int r = offer_src(s, "role", p->role, answer_source_yaml("profile", &where));
        if (r >= 0 && p->bond.name)
                r = offer_src(s, "bond.mode", bond_mode_to_string(p->bond.mode),
                              answer_source_yaml("profile", &p->bond.src));
        return r;
}

int answers_collect(const struct answers_input *in, struct answer_set *ret) {
        struct answer_set s = {};
        int r = 0;
        if (in->ks)
                r = collect_ks(in, &s);
        if (r >= 0 && in->hostname)
                r = answer_set_offer(&s, "hostname", in->hostname, "prompt");
        if (r >= 0 && in->site)
                r = collect_site(in, &s);
        if (r >= 0 && in->profile)
                r = collect_profile(in, &s);
        /* what nothing said: the built-in behaviour */
        if (r >= 0)
                r = answer_set_offer(&s, "hostname", NULL, NULL);
        if (r >= 0)
                r = answer_set_offer(&s, "dns", NULL, NULL);
        if (r >= 0)
                r = answer_set_offer(&s, "bond.members", "auto", "default");
        if (r >= 0)
                r = answer_set_offer(&s, "disks.clear", "none", "default");
        if (r >= 0)
                r = answer_set_offer(&s, "rootpw", "locked", "default");
        if (r < 0) {
                answer_set_done(&s);
                return r;
        }
        *ret = s;
        return 0;
}

/* The order a person reads them in: who, what, then the network from the bottom up, then the rest. */
static unsigned rank(const char *key) {
        static const char *const order[] = { "hostname", "role", "vlan.", "dns", "bond.mode", "bond.members",
                                             "disks.clear", "disks.confirm", "rootpw" };
        for (unsigned i = 0; i < ELEMENTSOF(order); i++)
                if (streq(key, order[i]) || (endswith(order[i], ".") && startswith(key, order[i])))
                        return i;
        return ELEMENTSOF(order);
}

static int cmp_answer(const void *x, const void *y) {
        const struct answer *a = *(const struct answer *const *) x, *b = *(const struct answer *const *) y;
        unsigned ra = rank(a->key), rb = rank(b->key);
        if (ra != rb)
                return ra < rb ? -1 : 1;
        if (startswith(a->key, "vlan.") && startswith(b->key, "vlan.")) {
                long va = strtol(a->key + 5, NULL, 10), vb = strtol(b->key + 5, NULL, 10);
                if (va != vb)
                        return va < vb ? -1 : 1;
        }
        return strcmp(a->key, b->key);
}

/* Pointers to the answers in reading order; NULL on OOM. */
static const struct answer **sorted(const struct answer_set *s) {
        const struct answer **v = calloc(s->n + 1, sizeof *v);
        if (!v)
                return NULL;
        for (size_t i = 0; i < s->n; i++)
                v[i] = &s->items[i];
        qsort(v, s->n, sizeof *v, cmp_answer);
        return v;
}

void answer_set_to_json(const struct answer_set *s, struct json *j) {
        _cleanup_free_ const struct answer **v = sorted(s);
        json_begin_array(j);
        for (size_t i = 0; v && i < s->n; i++) {
                const struct answer *a = v[i];
                json_begin_object(j);
                json_kv_string(j, "key", a->key);
                json_kv_string(j, "value", a->value);
                json_kv_string(j, "source", a->source);
                if (a->overruled) {
                        json_key(j, "overruled");
                        json_begin_array(j);
                        for (char **o = a->overruled; *o; o++)
                                json_string(j, *o);
                        json_end_array(j);
                }
                json_end_object(j);
        }
        json_end_array(j);
}

char *answer_set_to_text(const struct answer_set *s) {
        _cleanup_free_ const struct answer **v = sorted(s);
        if (!v)
                return NULL;
        struct buf b = {};
        for (size_t i = 0; i < s->n; i++) {
                const struct answer *a = v[i];
                buf_printf(&b, "%-18s %-26s %s\n", a->key, a->value ? a->value : "(missing)",
                           a->source ? a->source : "-");
                for (char **o = a->overruled; o && *o; o++)
                        buf_printf(&b, "%-18s   not used: %s\n", "", *o);
        }
        return buf_steal(&b);
}
