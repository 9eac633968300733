/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "net-plan.h"
#include "parse.h"
#include "util.h"

/* ---- names -------------------------------------------------------------------------------------- */

static const char *const bond_mode_names[_BOND_MODE_MAX] = {
        [BOND_MODE_BALANCE_RR] = "balance-rr",     [BOND_MODE_ACTIVE_BACKUP] = "active-backup",
        [BOND_MODE_BALANCE_XOR] = "balance-xor",   [BOND_MODE_BROADCAST] = "broadcast",
        [BOND_MODE_8023AD] = "802.3ad",            [BOND_MODE_BALANCE_TLB] = "balance-tlb",
        [BOND_MODE_BALANCE_ALB] = "balance-alb",
};
static const char *const lacp_rate_names[] = { [LACP_RATE_SLOW] = "slow", [LACP_RATE_FAST] = "fast" };
static const char *const xmit_hash_names[_XMIT_HASH_MAX] = {
        [XMIT_HASH_LAYER2] = "layer2",     [XMIT_HASH_LAYER2_3] = "layer2+3", [XMIT_HASH_LAYER3_4] = "layer3+4",
        [XMIT_HASH_ENCAP2_3] = "encap2+3", [XMIT_HASH_ENCAP3_4] = "encap3+4",
};
static const char *const ad_select_names[] = { "stable", "bandwidth", "count" };
static const char *const link_kind_names[_NET_LINK_KIND_MAX] = {
        [NET_LINK_ETHER] = "ether", [NET_LINK_BOND] = "bond", [NET_LINK_VLAN] = "vlan",
};

const char *net_bond_mode_name(enum bond_mode m) {
        return (unsigned) m < _BOND_MODE_MAX ? bond_mode_names[m] : NULL;
}
const char *net_lacp_rate_name(enum lacp_rate r) {
        return (unsigned) r < ELEMENTSOF(lacp_rate_names) ? lacp_rate_names[r] : NULL;
}
const char *net_xmit_hash_name(enum xmit_hash h) {
        return (unsigned) h < _XMIT_HASH_MAX ? xmit_hash_names[h] : NULL;
}
const char *net_ad_select_name(unsigned a) {
        return a < ELEMENTSOF(ad_select_names) ? ad_select_names[a] : NULL;
}
const char *net_link_kind_name(enum net_link_kind k) {
        return (unsigned) k < _NET_LINK_KIND_MAX ? link_kind_names[k] : NULL;
}

/* The kernel accepts a name or its number for each of these (bonding.rst). */
static int lookup_name(const char *const *names, size_t n, const char *s) {
        for (size_t i = 0; i < n; i++)
                if (names[i] && streq(names[i], s))
                        return (int) i;
        uint32_t v;
        if (parse_uint32_range(s, 0, (uint32_t) n - 1, &v) >= 0)
                return (int) v;
        return -EINVAL;
}

/* ---- lifecycle ---------------------------------------------------------------------------------- */

static void net_link_done(struct net_link *l) {
        free(l->name);
        free(l->mac);
        free(l->master);
        free(l->parent);
        free(l->addrs);
        free(l->bond.primary);
}

struct net_plan *net_plan_free(struct net_plan *p) {
        if (!p)
                return NULL;
        free(p->hostname);
        for (size_t i = 0; i < p->n_links; i++)
                net_link_done(&p->links[i]);
        free(p->links);
        strv_free(p->dns);
        strv_free(p->search);
        strv_free(p->explain);
        free(p);
        return NULL;
}

static char *strdup_or_null(const char *s, bool *oom) {
        if (!s)
                return NULL;
        char *c = strdup(s);
        if (!c)
                *oom = true;
        return c;
}

static int net_link_copy(const struct net_link *src, struct net_link *ret) {
        bool oom = false;
        struct net_link l = *src;
        l.name = strdup_or_null(src->name, &oom);
        l.mac = strdup_or_null(src->mac, &oom);
        l.master = strdup_or_null(src->master, &oom);
        l.parent = strdup_or_null(src->parent, &oom);
        l.bond.primary = strdup_or_null(src->bond.primary, &oom);
        l.addrs = NULL;
        if (src->n_addrs > 0) {
                l.addrs = calloc(src->n_addrs, sizeof *l.addrs);
                if (l.addrs)
                        memcpy(l.addrs, src->addrs, src->n_addrs * sizeof *l.addrs);
                else
                        oom = true;
        }
        if (oom) {
                net_link_done(&l);
                return -ENOMEM;
        }
        *ret = l;
        return 0;
}

const struct net_link *net_plan_find_link(const struct net_plan *p, const char *name) {
        for (size_t i = 0; i < p->n_links; i++)
                if (streq(p->links[i].name, name))
                        return &p->links[i];
        return NULL;
}

const struct net_link *net_plan_bond(const struct net_plan *p) {
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].kind == NET_LINK_BOND)
                        return &p->links[i];
        return NULL;
}

/* ---- the planner -------------------------------------------------------------------------------- */

struct planner {
        const struct net_plan_input *in;
        const struct net_answers *a; /* never NULL: an empty one when the input has none */
        struct diags *d;
        struct net_plan *p;
        const struct host_spec *host;
        bool oom;
};

#define ERR_AT(pl, s, ...) diag_error((pl)->d, (s).file, (s).line, (s).col, __VA_ARGS__)
#define WARN_AT(pl, s, ...) diag_warning((pl)->d, (s).file, (s).line, (s).col, __VA_ARGS__)

static void explain(struct planner *pl, const char *fmt, ...) _printf_(2, 3);
static void explain(struct planner *pl, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = strvprintf(fmt, ap);
        va_end(ap);
        if (!s || strv_push(&pl->p->explain, s) < 0)
                pl->oom = true;
}

static struct net_link *add_link(struct planner *pl, enum net_link_kind kind, const char *name) {
        struct net_link *a = realloc(pl->p->links, (pl->p->n_links + 1) * sizeof *a);
        if (!a) {
                pl->oom = true;
                return NULL;
        }
        pl->p->links = a;
        struct net_link *l = &a[pl->p->n_links];
        *l = (struct net_link) { .kind = kind, .name = strdup(name) };
        if (!l->name) {
                pl->oom = true;
                return NULL;
        }
        pl->p->n_links++;
        return l;
}

static char *ip_str(struct planner *pl, uint32_t a) {
        char *s = format_ipv4(a);
        if (!s)
                pl->oom = true;
        return s;
}

/* Local lookups: the site helpers in profile.h belong to the loader, which this step must not need. */
static const struct vlan_spec *find_site_vlan(const struct site *s, int64_t id) {
        for (size_t i = 0; i < s->n_vlans; i++)
                if (s->vlans[i].id == id)
                        return &s->vlans[i];
        return NULL;
}

static const struct host_address *find_host_address(const struct host_spec *h, uint16_t vlan) {
        for (size_t i = 0; h && i < h->n_addresses; i++)
                if (h->addresses[i].vlan == vlan)
                        return &h->addresses[i];
        return NULL;
}

static bool profile_has_vlan(const struct profile *p, int64_t id) {
        for (size_t i = 0; i < p->n_vlans; i++)
                if (p->vlans[i] == id)
                        return true;
        return false;
}

/* "lab-db1" matches "lab-db1" and "lab-db1.domain.com". */
static bool host_name_matches(const char *spec, const char *name) {
        size_t n = strlen(spec);
        return strncasecmp(spec, name, n) == 0 && (name[n] == 0 || name[n] == '.');
}

static void plan_host(struct planner *pl) {
        const struct site *s = pl->in->site;
        const char *want = pl->a->hostname ? pl->a->hostname : pl->in->hostname;

        if (pl->a->hostname) {
                const char *why = hostname_invalid_reason(pl->a->hostname);
                if (why) {
                        ERR_AT(pl, pl->a->hostname_src, "invalid host name '%s': %s", pl->a->hostname, why);
                        return;
                }
        }
        for (size_t i = 0; want && i < s->n_hosts; i++)
                if (host_name_matches(s->hosts[i].name, want)) {
                        pl->host = &s->hosts[i];
                        break;
                }
        if (!want && pl->in->profile->role)
                for (size_t i = 0; i < s->n_hosts; i++)
                        if (s->hosts[i].role && streq(s->hosts[i].role, pl->in->profile->role)) {
                                pl->host = &s->hosts[i];
                                break;
                        }

        if (pl->host && pl->host->role && pl->in->profile->role && !streq(pl->host->role, pl->in->profile->role))
                ERR_AT(pl, pl->a->hostname_src, "host '%s' has role '%s' in the site, but this image is role '%s'",
                       pl->host->name, pl->host->role, pl->in->profile->role);

        const char *name = want ? want : pl->host ? pl->host->name : NULL;
        if (!name) {
                diag_error(pl->d, NULL, 0, 0, "no host name given and the site has no host of role '%s'",
                           strna(pl->in->profile->role));
                return;
        }
        /* A short name gets the site's domain: the plan carries the FQDN. */
        if (!strchr(name, '.') && s->domain)
                pl->p->hostname = strprintf("%s.%s", name, s->domain);
        else
                pl->p->hostname = strdup(name);
        if (!pl->p->hostname)
                pl->oom = true;
        if (!pl->host)
                explain(pl, "host %s is not in the site inventory: addresses must all come from the answers", name);
}

static const char *const bond_option_keys[] = {
        "mode", "miimon", "lacp_rate", "xmit_hash_policy", "primary", "updelay", "downdelay", "min_links",
        "ad_select", "arp_interval", "arp_ip_target", NULL,
};

/* arp_ip_target: one or more addresses, as the kernel's "+a.b.c.d" list without the plus. */
static void bond_arp_targets(struct planner *pl, const struct net_bond_option *o, const char *v,
                             struct net_bond_params *b) {
        _cleanup_strv_free_ char **ips = NULL;
        if (strv_split(v, ", ", &ips) < 0) {
                pl->oom = true;
                return;
        }
        if (!ips)
                ERR_AT(pl, o->src, "bond option arp_ip_target wants IPv4 addresses");
        for (char **ip = ips; ip && *ip; ip++) {
                uint32_t a;
                if (parse_ipv4(*ip, &a) < 0 || a == 0)
                        ERR_AT(pl, o->src, "arp_ip_target '%s' is not an IPv4 address", *ip);
                else if (b->n_arp_ip_targets >= ELEMENTSOF(b->arp_ip_targets))
                        ERR_AT(pl, o->src, "more than %zu arp_ip_target addresses", ELEMENTSOF(b->arp_ip_targets));
                else
                        b->arp_ip_targets[b->n_arp_ip_targets++] = a;
        }
}

static void bond_monitors_check(struct planner *pl, struct net_bond_params *b, bool miimon_given, struct src arp_src);

/* Parse the answers' bond options over the profile's. Returns the answer for "primary" (resolved once
 * members are known) through ret_primary, and whether "mode" was given. */
static void plan_bond_options(struct planner *pl, struct net_bond_params *b, const struct net_bond_option **ret_primary,
                              bool *ret_mode_given) {
        const struct bond_spec *bs = &pl->in->profile->bond;
        *b = (struct net_bond_params) {
                .mode = bs->mode, .miimon = bs->miimon, .lacp_rate = bs->lacp_rate,
                .xmit_hash_policy = bs->xmit_hash_policy,
        };
        *ret_primary = NULL;
        *ret_mode_given = false;
        bool miimon_given = false;
        struct src arp_src = {};

        for (size_t i = 0; i < pl->a->n_bond_options; i++) {
                const struct net_bond_option *o = &pl->a->bond_options[i];
                const char *k = o->key, *v = o->value ? o->value : "";
                for (size_t j = 0; j < i; j++)
                        if (streq(pl->a->bond_options[j].key, k)) {
                                ERR_AT(pl, o->src, "bond option '%s' given twice", k);
                                goto next;
                        }
                int r;
                uint32_t u;
                if (streq(k, "mode")) {
                        r = lookup_name(bond_mode_names, _BOND_MODE_MAX, v);
                        if (r < 0)
                                ERR_AT(pl, o->src, "unknown bond mode '%s' (one of balance-rr, active-backup, "
                                       "balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb, or 0..6)", v);
                        else {
                                b->mode = r;
                                *ret_mode_given = true;
                        }
                } else if (streq(k, "lacp_rate")) {
                        r = lookup_name(lacp_rate_names, ELEMENTSOF(lacp_rate_names), v);
                        if (r < 0)
                                ERR_AT(pl, o->src, "unknown lacp_rate '%s' (slow or fast)", v);
                        else
                                b->lacp_rate = r;
                } else if (streq(k, "xmit_hash_policy")) {
                        r = lookup_name(xmit_hash_names, _XMIT_HASH_MAX, v);
                        if (r < 0)
                                ERR_AT(pl, o->src, "unknown xmit_hash_policy '%s' (layer2, layer2+3, layer3+4, "
                                       "encap2+3, encap3+4)", v);
                        else
                                b->xmit_hash_policy = r;
                } else if (streq(k, "primary")) {
                        *ret_primary = o;
                } else if (streq(k, "ad_select")) {
                        r = lookup_name(ad_select_names, ELEMENTSOF(ad_select_names), v);
                        if (r < 0)
                                ERR_AT(pl, o->src, "unknown ad_select '%s' (stable, bandwidth or count)", v);
                        else
                                b->ad_select = (uint8_t) r;
                } else if (streq(k, "arp_ip_target")) {
                        bond_arp_targets(pl, o, v, b);
                } else if (streq(k, "miimon") || streq(k, "updelay") || streq(k, "downdelay") ||
                           streq(k, "min_links") || streq(k, "arp_interval")) {
                        if (parse_uint32_range(v, 0, INT32_MAX, &u) < 0)
                                ERR_AT(pl, o->src, "bond option %s wants a number of %s, not '%s'", k,
                                       streq(k, "min_links") ? "links" : "milliseconds", v);
                        else if (streq(k, "miimon")) {
                                b->miimon = u;
                                miimon_given = true;
                        } else if (streq(k, "arp_interval")) {
                                b->arp_interval = u;
                                arp_src = o->src;
                        }
                        else if (streq(k, "updelay"))
                                b->updelay = u;
                        else if (streq(k, "downdelay"))
                                b->downdelay = u;
                        else
                                b->min_links = u;
                } else {
                        const char *hint = closest_match(k, bond_option_keys);
                        if (hint)
                                ERR_AT(pl, o->src, "unknown bond option '%s' (did you mean '%s'?)", k, hint);
                        else
                                ERR_AT(pl, o->src, "unknown bond option '%s' (known: mode, miimon, lacp_rate, "
                                       "xmit_hash_policy, primary, updelay, downdelay, min_links, ad_select, "
                                       "arp_interval, arp_ip_target)", k);
                }
        next:;
        }
        bond_monitors_check(pl, b, miimon_given, arp_src);
}

/* MII and ARP monitoring exclude each other (the kernel turns one off). The profile's miimon gives
 * way to an answered arp_interval; both answered is a contradiction. */
static void bond_monitors_check(struct planner *pl, struct net_bond_params *b, bool miimon_given, struct src arp_src) {
        if (b->arp_interval > 0) {
                if (miimon_given && b->miimon > 0)
                        ERR_AT(pl, arp_src, "arp_interval and miimon exclude each other; give one of them");
                b->miimon = 0;
                if (b->n_arp_ip_targets == 0)
                        ERR_AT(pl, arp_src, "arp_interval without arp_ip_target monitors nothing");
        }
        /* The kernel rounds a delay down to a multiple of miimon and only warns in dmesg. */
        if (b->miimon > 0 && (b->updelay % b->miimon || b->downdelay % b->miimon))
                diag_warning(pl->d, NULL, 0, 0, "bond updelay/downdelay are not multiples of miimon %" PRIu32
                             "; the kernel will round them down", b->miimon);
}

static int nic_rank_cmp(const void *x, const void *y) {
        const struct nic *a = *(const struct nic *const *) x, *b = *(const struct nic *const *) y;
        if (a->speed_mbps != b->speed_mbps)
                return a->speed_mbps > b->speed_mbps ? -1 : 1;
        return strcmp(a->name, b->name);
}

static char *nic_names(const struct nic_list *l) {
        struct buf b = {};
        for (size_t i = 0; i < l->n; i++)
                buf_printf(&b, "%s%s (%s)", i ? ", " : "", l->nics[i].name, l->nics[i].mac);
        if (l->n == 0)
                buf_puts(&b, "none");
        return buf_steal(&b);
}

/* Fill members[] with the bond's NICs; returns how many, 0 on error (diagnosed). */
static size_t plan_members(struct planner *pl, const struct nic **members, size_t max) {
        const struct nic_list *nics = pl->in->nics;
        const struct bond_spec *bs = &pl->in->profile->bond;
        size_t n = 0;

        if (pl->a->n_bond_members > 0) {
                bool bad = false;
                for (size_t i = 0; i < pl->a->n_bond_members; i++) {
                        const char *want = pl->a->bond_members[i];
                        const struct nic *nic = nic_find(nics, want);
                        if (!nic) {
                                _cleanup_free_ char *have = nic_names(nics);
                                ERR_AT(pl, pl->a->bond_members_src, "bond member '%s': no such NIC (have: %s)",
                                       want, strna(have));
                                bad = true;
                                continue;
                        }
                        for (size_t j = 0; j < n; j++)
                                if (members[j] == nic) {
                                        ERR_AT(pl, pl->a->bond_members_src,
                                               "bond member '%s' names NIC %s a second time", want, nic->name);
                                        bad = true;
                                }
                        if (n >= max) {
                                ERR_AT(pl, pl->a->bond_members_src, "more than %zu bond members", max);
                                return 0;
                        }
                        if (!bad)
                                members[n++] = nic;
                        if (!nic->carrier)
                                WARN_AT(pl, pl->a->bond_members_src, "bond member %s has no carrier", nic->name);
                }
                if (bad)
                        return 0;
                _cleanup_free_ char *s = NULL;
                for (size_t i = 0; i < n; i++) {
                        char *t = strprintf("%s%s%s (%s)", strempty(s), i ? ", " : "", members[i]->name,
                                            members[i]->mac);
                        free(s);
                        s = t;
                }
                explain(pl, "%s members %s: named by the answers", bs->name ? bs->name : "bond0", strna(s));
                return n;
        }

        size_t want = bs->members > 0 ? bs->members : 2;
        if (want > max)
                want = max;
        _cleanup_free_ const struct nic **cand = calloc(nics->n + 1, sizeof *cand);
        if (!cand) {
                pl->oom = true;
                return 0;
        }
        size_t n_cand = 0;
        for (size_t i = 0; i < nics->n; i++)
                if (nics->nics[i].physical && nics->nics[i].carrier)
                        cand[n_cand++] = &nics->nics[i];
        if (n_cand == 0) {
                _cleanup_free_ char *have = nic_names(nics);
                diag_error(pl->d, NULL, 0, 0, "no physical NIC has carrier, so there is nothing to bond (NICs: %s); "
                           "check the cabling or name the members in the answers", strna(have));
                return 0;
        }
        qsort(cand, n_cand, sizeof *cand, nic_rank_cmp);
        n = MIN(want, n_cand);
        for (size_t i = 0; i < n; i++)
                members[i] = cand[i];

        _cleanup_free_ char *s = NULL;
        for (size_t i = 0; i < n; i++) {
                char *t = strprintf("%s%s%s (%s, %" PRIu32 " Mb/s)", strempty(s), i ? ", " : "", members[i]->name,
                                    members[i]->mac, members[i]->speed_mbps);
                free(s);
                s = t;
        }
        explain(pl, "%s members %s: the %zu fastest physical NICs with carrier, of %zu", bs->name ? bs->name : "bond0",
                strna(s), n, nics->n);
        if (n < want)
                diag_warning(pl->d, NULL, 0, 0, "only %zu of %zu NICs have carrier: %s runs degraded on %s alone",
                             n, want, bs->name ? bs->name : "bond0", members[0]->name);
        for (size_t i = 0; i < n; i++)
                if (bs->speed_mbps > 0 && members[i]->speed_mbps > 0 && members[i]->speed_mbps < bs->speed_mbps)
                        diag_warning(pl->d, NULL, 0, 0, "bond member %s runs at %" PRIu32 " Mb/s, the role expects %"
                                     PRIu32 " Mb/s", members[i]->name, members[i]->speed_mbps, bs->speed_mbps);
        return n;
}

static const struct net_vlan_answer *find_vlan_answer(const struct net_answers *a, int64_t id) {
        for (size_t i = 0; i < a->n_vlans; i++)
                if (a->vlans[i].id == id)
                        return &a->vlans[i];
        return NULL;
}

static void check_vlan_answers(struct planner *pl) {
        const struct profile *prof = pl->in->profile;
        for (size_t i = 0; i < pl->a->n_vlans; i++) {
                const struct net_vlan_answer *v = &pl->a->vlans[i];
                if (v->id < 1 || v->id > 4094) {
                        ERR_AT(pl, v->src, "VLAN id %" PRId64 " is out of range 1..4094", v->id);
                        continue;
                }
                for (size_t j = 0; j < i; j++)
                        if (pl->a->vlans[j].id == v->id)
                                ERR_AT(pl, v->src, "VLAN %" PRId64 " answered twice", v->id);
                if (!profile_has_vlan(prof, v->id)) {
                        struct buf b = {};
                        for (size_t j = 0; j < prof->n_vlans; j++)
                                buf_printf(&b, "%s%u", j ? ", " : "", prof->vlans[j]);
                        _cleanup_free_ char *ids = buf_steal(&b);
                        ERR_AT(pl, v->src, "VLAN %" PRId64 " is not one of role %s's VLANs (%s)", v->id,
                               strna(prof->role), strna(ids));
                }
        }
}

static int u16_cmp(const void *a, const void *b) {
        return (int) *(const uint16_t *) a - (int) *(const uint16_t *) b;
}

/* Address, prefix and gateway of one VLAN link; false when something was wrong (diagnosed). */
static bool plan_vlan_addressing(struct planner *pl, const struct vlan_spec *vs, const struct net_vlan_answer *ans,
                                 struct net_addr *ret_addr, uint32_t *ret_gateway) {
        uint32_t addr = 0, gw = vs->gateway;
        unsigned prefix = vs->prefix;
        bool have_prefix = false, ok = true;
        struct src addr_src = vs->src, gw_src = vs->src;

        if (ans && ans->address) {
                addr_src = ans->address_src;
                if (strchr(ans->address, '/')) {
                        if (parse_cidr(ans->address, &addr, &prefix) < 0 || prefix > 32) {
                                ERR_AT(pl, ans->address_src, "invalid IPv4 address '%s'", ans->address);
                                return false;
                        }
                        have_prefix = true;
                } else if (parse_ipv4(ans->address, &addr) < 0) {
                        ERR_AT(pl, ans->address_src, "invalid IPv4 address '%s'", ans->address);
                        return false;
                }
        } else {
                const struct host_address *ha = find_host_address(pl->host, vs->id);
                if (!ha) {
                        diag_error(pl->d, vs->src.file, vs->src.line, vs->src.col,
                                   "no address for %s on VLAN %u (%s): the site has none and the answers give none",
                                   pl->p->hostname ? pl->p->hostname : "this host", vs->id, strna(vs->name));
                        return false;
                }
                addr = ha->addr;
                addr_src = ha->src;
        }

        if (ans && ans->netmask) {
                uint32_t m;
                unsigned np;
                if (parse_ipv4(ans->netmask, &m) < 0) {
                        ERR_AT(pl, ans->netmask_src, "invalid netmask '%s'", ans->netmask);
                        return false;
                }
                if (parse_netmask(ans->netmask, &np) < 0) {
                        ERR_AT(pl, ans->netmask_src, "netmask %s is not contiguous (its one bits must come first)",
                               ans->netmask);
                        return false;
                }
                if (have_prefix && np != prefix) {
                        ERR_AT(pl, ans->netmask_src, "netmask %s (/%u) contradicts the address's /%u", ans->netmask,
                               np, prefix);
                        return false;
                }
                prefix = np;
                have_prefix = true;
        }

        _cleanup_free_ char *a_s = ip_str(pl, addr), *net_s = ip_str(pl, vs->subnet);
        if (!ipv4_in_subnet(addr, vs->subnet, vs->prefix)) {
                ERR_AT(pl, addr_src, "address %s is outside VLAN %u's subnet %s/%u", strna(a_s), vs->id,
                       strna(net_s), vs->prefix);
                ok = false;
        } else if (have_prefix && prefix != vs->prefix)
                WARN_AT(pl, ans->netmask ? ans->netmask_src : ans->address_src,
                        "prefix /%u differs from the site's /%u for VLAN %u", prefix, vs->prefix, vs->id);
        if (prefix < 31) {
                uint32_t mask = prefix_to_mask(prefix);
                if ((addr & ~mask) == 0 || (addr & ~mask) == ~mask) {
                        ERR_AT(pl, addr_src, "address %s/%u is the subnet's network or broadcast address",
                               strna(a_s), prefix);
                        ok = false;
                }
        }

        if (ans && ans->gateway) {
                gw_src = ans->gateway_src;
                if (parse_ipv4(ans->gateway, &gw) < 0) {
                        ERR_AT(pl, ans->gateway_src, "invalid gateway '%s'", ans->gateway);
                        return false;
                }
        }
        if (gw != 0) {
                _cleanup_free_ char *g_s = ip_str(pl, gw), *sub_s = ip_str(pl, addr & prefix_to_mask(prefix));
                if (!ipv4_in_subnet(gw, addr, prefix)) {
                        ERR_AT(pl, gw_src, "gateway %s is outside the subnet %s/%u of VLAN %u", strna(g_s),
                               strna(sub_s), prefix, vs->id);
                        ok = false;
                } else if (gw == addr) {
                        ERR_AT(pl, gw_src, "gateway %s is this host's own address", strna(g_s));
                        ok = false;
                }
        }
        if (!ok)
                return false;
        *ret_addr = (struct net_addr) { addr, prefix };
        *ret_gateway = gw;
        return true;
}

static void plan_vlans(struct planner *pl, const char *parent) {
        const struct profile *prof = pl->in->profile;
        const struct site *s = pl->in->site;

        /* Where the default route goes: a VLAN answer with its own gateway and no --nodefroute (kickstart
         * semantics), else the site's default VLAN. One default route per family, never two. */
        int64_t def = -1;
        size_t n_explicit = 0;
        for (size_t i = 0; i < pl->a->n_vlans; i++) {
                const struct net_vlan_answer *v = &pl->a->vlans[i];
                if (v->gateway && !v->nodefroute) {
                        if (n_explicit++ > 0)
                                ERR_AT(pl, v->src, "VLAN %" PRId64 " also claims the default route (VLAN %" PRId64
                                       " has it already); add --nodefroute to one of them", v->id, def);
                        else
                                def = v->id;
                }
        }
        if (def < 0 && s->default_vlan) {
                const struct net_vlan_answer *v = find_vlan_answer(pl->a, s->default_vlan);
                if (v && v->nodefroute)
                        explain(pl, "no default route: the answers say --nodefroute for the site's default VLAN %u",
                                s->default_vlan);
                else if (!profile_has_vlan(prof, s->default_vlan))
                        diag_warning(pl->d, NULL, 0, 0, "the site's default VLAN %u is not one of role %s's VLANs: "
                                     "no default route", s->default_vlan, strna(prof->role));
                else
                        def = s->default_vlan;
        }

        _cleanup_free_ uint16_t *ids = calloc(prof->n_vlans + 1, sizeof *ids);
        if (!ids) {
                pl->oom = true;
                return;
        }
        if (prof->n_vlans > 0)
                memcpy(ids, prof->vlans, prof->n_vlans * sizeof *ids);
        qsort(ids, prof->n_vlans, sizeof *ids, u16_cmp);

        for (size_t i = 0; i < prof->n_vlans; i++) {
                uint16_t id = ids[i];
                if (i > 0 && ids[i - 1] == id)
                        continue;
                if (id < 1 || id > 4094) {
                        diag_error(pl->d, NULL, 0, 0, "role %s: VLAN id %u is out of range 1..4094",
                                   strna(prof->role), id);
                        continue;
                }
                const struct vlan_spec *vs = find_site_vlan(s, id);
                if (!vs) {
                        diag_error(pl->d, NULL, 0, 0, "role %s sits on VLAN %u, which the site does not define",
                                   strna(prof->role), id);
                        continue;
                }
                const struct net_vlan_answer *ans = find_vlan_answer(pl->a, id);
                struct net_addr addr;
                uint32_t gw;
                if (!plan_vlan_addressing(pl, vs, ans, &addr, &gw))
                        continue;

                _cleanup_free_ char *name = strprintf("%s.%u", parent, id);
                if (!name || !ifname_valid(name)) {
                        if (name)
                                diag_error(pl->d, NULL, 0, 0, "VLAN link name '%s' is not a valid interface name",
                                           name);
                        else
                                pl->oom = true;
                        continue;
                }
                struct net_link *l = add_link(pl, NET_LINK_VLAN, name);
                if (!l)
                        return;
                l->parent = strdup(parent);
                l->addrs = calloc(1, sizeof *l->addrs);
                if (!l->parent || !l->addrs) {
                        pl->oom = true;
                        return;
                }
                l->vlan_id = id;
                l->addrs[0] = addr;
                l->n_addrs = 1;
                l->gateway = gw;
                l->mtu = ans ? ans->mtu : 0;
                l->default_route = id == def && gw != 0;

                _cleanup_free_ char *a_s = ip_str(pl, addr.addr), *g_s = gw ? ip_str(pl, gw) : NULL;
                explain(pl, "%s: VLAN %u (%s) %s/%u%s%s%s, address from %s", name, id, strna(vs->name), strna(a_s),
                        addr.prefix, l->default_route ? ", default route via " : "",
                        l->default_route ? strna(g_s) : "", l->default_route ? (ans && ans->gateway ?
                        " (answers)" : " (site default VLAN)") : "", ans && ans->address ? "the answers" : "the site");
                if (id == def && gw == 0)
                        diag_warning(pl->d, vs->src.file, vs->src.line, vs->src.col,
                                     "default VLAN %u has no gateway: no default route", id);
        }
}

static void plan_dns(struct planner *pl) {
        const struct site *s = pl->in->site;
        if (pl->a->n_nameservers > 0) {
                for (size_t i = 0; i < pl->a->n_nameservers; i++) {
                        uint32_t x;
                        if (parse_ipv4(pl->a->nameservers[i], &x) < 0)
                                ERR_AT(pl, pl->a->nameservers_src, "invalid name server '%s' (an IPv4 address)",
                                       pl->a->nameservers[i]);
                        else if (strv_extend(&pl->p->dns, pl->a->nameservers[i]) < 0)
                                pl->oom = true;
                }
                explain(pl, "DNS servers from the answers");
        } else {
                for (char **n = s->dns; n && *n; n++) {
                        uint32_t x;
                        if (parse_ipv4(*n, &x) < 0)
                                diag_error(pl->d, NULL, 0, 0, "site DNS server '%s' is not an IPv4 address", *n);
                        else if (strv_extend(&pl->p->dns, *n) < 0)
                                pl->oom = true;
                }
                if (s->dns)
                        explain(pl, "DNS servers from the site");
        }
        if (pl->a->n_search > 0) {
                for (size_t i = 0; i < pl->a->n_search; i++) {
                        const char *why = hostname_invalid_reason(pl->a->search[i]);
                        if (why)
                                ERR_AT(pl, pl->a->nameservers_src, "invalid search domain '%s': %s", pl->a->search[i],
                                       why);
                        else if (strv_extend(&pl->p->search, pl->a->search[i]) < 0)
                                pl->oom = true;
                }
        } else if (s->domain && strv_extend(&pl->p->search, s->domain) < 0)
                pl->oom = true;
}

/* Mode: the answers' over the profile's, except that a VM has no LACP partner (a Proxmox bridge is
 * not one), so 802.3ad becomes active-backup there whoever asked for it: the same kickstart serves
 * the bare-metal host and its VM twin. */
static void plan_bond_mode(struct planner *pl, struct net_bond_params *params, const char *bond_name, bool mode_given) {
        const struct net_plan_input *in = pl->in;
        if (in->virtual_machine && params->mode == BOND_MODE_8023AD) {
                params->mode = BOND_MODE_ACTIVE_BACKUP;
                explain(pl, "%s mode active-backup: a virtual machine has no LACP partner (the %s says 802.3ad)",
                        bond_name, mode_given ? "answers" : "role");
        } else if (mode_given)
                explain(pl, "%s mode %s: from the answers", bond_name, strna(net_bond_mode_name(params->mode)));
        else
                explain(pl, "%s mode %s: from role %s", bond_name, strna(net_bond_mode_name(params->mode)),
                        strna(in->profile->role));
        if (params->arp_interval > 0 && (params->mode == BOND_MODE_8023AD || params->mode == BOND_MODE_BALANCE_TLB ||
                                         params->mode == BOND_MODE_BALANCE_ALB))
                diag_error(pl->d, NULL, 0, 0, "ARP monitoring (arp_interval) does not work with bond mode %s; "
                           "use miimon", strna(net_bond_mode_name(params->mode)));
        pl->p->lacp_fallback = params->mode == BOND_MODE_8023AD;
        if (pl->p->lacp_fallback)
                explain(pl, "%s: if no LACP partner answers, fall back to active-backup", bond_name);
}

/* The primary member: the one the answers name (a member), else for active-backup the first. */
static void plan_bond_primary(struct planner *pl, struct net_bond_params *params,
                              const struct net_bond_option *primary_opt, const struct nic *const *members,
                              size_t n_members) {
        if (primary_opt) {
                const struct nic *pn = nic_find(pl->in->nics, primary_opt->value ? primary_opt->value : "");
                bool member = false;
                for (size_t i = 0; pn && i < n_members; i++)
                        member = member || members[i] == pn;
                if (!member)
                        ERR_AT(pl, primary_opt->src, "bond primary '%s' is not a bond member", strna(primary_opt->value));
                else if (!(params->primary = strdup(pn->name)))
                        pl->oom = true;
        } else if (params->mode == BOND_MODE_ACTIVE_BACKUP && n_members > 0 &&
                   !(params->primary = strdup(members[0]->name)))
                pl->oom = true;
}

/* The members as links enslaved to the bond, and the bond (taking params' primary over). */
static void plan_bond_links(struct planner *pl, struct net_bond_params *params, const char *bond_name, uint32_t mtu,
                            const struct nic *const *members, size_t n_members) {
        for (size_t i = 0; i < n_members; i++) {
                struct net_link *l = add_link(pl, NET_LINK_ETHER, members[i]->name);
                if (!l)
                        break;
                l->mac = strdup(members[i]->mac);
                l->master = strdup(bond_name);
                l->optional = true;
                if (!l->mac || !l->master)
                        pl->oom = true;
        }
        struct net_link *b = add_link(pl, NET_LINK_BOND, bond_name);
        if (!b)
                return;
        b->bond = *params;
        params->primary = NULL;
        b->mtu = mtu;
        /* The first member's MAC: stable across reboots and distinct between clones, where networkd's
         * default (a hash of machine-id) repeats if machine-id was cloned (systemd/systemd#13712) and
         * can flip while the links are down (#42457). */
        b->mac = strdup(members[0]->mac);
        if (!b->mac)
                pl->oom = true;
}

int net_plan_build(const struct net_plan_input *in, struct diags *d, struct net_plan **ret) {
        static const struct net_answers none = {};
        if (!in || !in->profile || !in->site || !in->nics)
                return -EINVAL;

        _cleanup_(net_plan_freep) struct net_plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        struct planner pl = { .in = in, .a = in->answers ? in->answers : &none, .d = d, .p = p };
        size_t errors_before = d->n_errors;

        plan_host(&pl);

        const struct bond_spec *bs = &in->profile->bond;
        const char *bond_name = bs->name ? bs->name : "bond0";
        if (!ifname_valid(bond_name))
                diag_error(d, bs->src.file, bs->src.line, bs->src.col, "bond name '%s' is not a valid interface name",
                           bond_name);

        struct net_bond_params params;
        const struct net_bond_option *primary_opt;
        bool mode_given;
        plan_bond_options(&pl, &params, &primary_opt, &mode_given);
        check_vlan_answers(&pl);

        const struct nic *members[8];
        size_t n_members = plan_members(&pl, members, ELEMENTSOF(members));
        plan_bond_mode(&pl, &params, bond_name, mode_given);
        plan_bond_primary(&pl, &params, primary_opt, members, n_members);

        uint32_t mtu = pl.a->mtu ? pl.a->mtu : bs->mtu;
        if (mtu && (mtu < 68 || mtu > 65535))
                ERR_AT(&pl, pl.a->mtu ? pl.a->mtu_src : bs->src, "MTU %" PRIu32 " is out of range 68..65535", mtu);

        if (n_members > 0 && d->n_errors == errors_before)
                plan_bond_links(&pl, &params, bond_name, mtu, members, n_members);
        /* Even after an error above: every bad VLAN answer is reported in one run, not one per run. */
        plan_vlans(&pl, bond_name);
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].kind == NET_LINK_VLAN && p->links[i].mtu > mtu && mtu)
                        diag_error(d, NULL, 0, 0, "%s: MTU %" PRIu32 " is larger than %s's %" PRIu32,
                                   p->links[i].name, p->links[i].mtu, bond_name, mtu);
        free(params.primary);
        plan_dns(&pl);

        if (pl.oom || d->oom)
                return -ENOMEM;
        if (d->n_errors > errors_before)
                return -EINVAL;
        *ret = TAKE_PTR(p);
        return 0;
}

int net_plan_to_active_backup(const struct net_plan *p, struct net_plan **ret) {
        _cleanup_(net_plan_freep) struct net_plan *c = calloc(1, sizeof *c);
        if (!c)
                return -ENOMEM;
        c->links = calloc(p->n_links + 1, sizeof *c->links);
        c->hostname = p->hostname ? strdup(p->hostname) : NULL;
        c->dns = strv_copy(p->dns);
        c->search = strv_copy(p->search);
        c->explain = strv_copy(p->explain);
        if (!c->links || (p->hostname && !c->hostname) || (p->dns && !c->dns) || (p->search && !c->search) ||
            (p->explain && !c->explain))
                return -ENOMEM;
        const char *first_member = NULL;
        for (size_t i = 0; i < p->n_links; i++) {
                int r = net_link_copy(&p->links[i], &c->links[i]);
                if (r < 0)
                        return r;
                c->n_links++;
                if (p->links[i].kind == NET_LINK_ETHER && p->links[i].master && !first_member)
                        first_member = p->links[i].name;
        }
        for (size_t i = 0; i < c->n_links; i++) {
                struct net_link *l = &c->links[i];
                if (l->kind != NET_LINK_BOND)
                        continue;
                l->bond.mode = BOND_MODE_ACTIVE_BACKUP;
                if (!l->bond.primary && first_member && !(l->bond.primary = strdup(first_member)))
                        return -ENOMEM;
                char *s = strprintf("%s mode active-backup: fallback, no LACP partner answered", l->name);
                if (!s || strv_push(&c->explain, s) < 0)
                        return -ENOMEM;
        }
        c->lacp_fallback = false;
        *ret = TAKE_PTR(c);
        return 0;
}

/* ---- output ------------------------------------------------------------------------------------- */

static void addr_json(struct json *j, const struct net_addr *a) {
        _cleanup_free_ char *s = format_ipv4(a->addr);
        _cleanup_free_ char *c = s ? strprintf("%s/%u", s, a->prefix) : NULL;
        json_string(j, c);
}

void net_plan_to_json(const struct net_plan *p, struct json *j) {
        json_begin_object(j);
        json_kv_string(j, "hostname", p->hostname);
        json_kv_bool(j, "lacp_fallback", p->lacp_fallback);
        json_key(j, "links");
        json_begin_array(j);
        for (size_t i = 0; i < p->n_links; i++) {
                const struct net_link *l = &p->links[i];
                json_begin_object(j);
                json_kv_string(j, "name", l->name);
                json_kv_string(j, "kind", net_link_kind_name(l->kind));
                if (l->mac)
                        json_kv_string(j, "mac", l->mac);
                if (l->master)
                        json_kv_string(j, "master", l->master);
                if (l->kind == NET_LINK_VLAN) {
                        json_kv_string(j, "parent", l->parent);
                        json_kv_uint(j, "vlan_id", l->vlan_id);
                }
                if (l->mtu)
                        json_kv_uint(j, "mtu", l->mtu);
                if (l->kind == NET_LINK_BOND) {
                        json_key(j, "bond");
                        json_begin_object(j);
                        json_kv_string(j, "mode", net_bond_mode_name(l->bond.mode));
                        json_kv_uint(j, "miimon", l->bond.miimon);
                        if (l->bond.mode == BOND_MODE_8023AD)
                                json_kv_string(j, "lacp_rate", net_lacp_rate_name(l->bond.lacp_rate));
                        json_kv_string(j, "xmit_hash_policy", net_xmit_hash_name(l->bond.xmit_hash_policy));
                        if (l->bond.primary)
                                json_kv_string(j, "primary", l->bond.primary);
                        if (l->bond.arp_interval) {
                                json_kv_uint(j, "arp_interval", l->bond.arp_interval);
                                json_key(j, "arp_ip_targets");
                                json_begin_array(j);
                                for (size_t k = 0; k < l->bond.n_arp_ip_targets; k++) {
                                        _cleanup_free_ char *t = format_ipv4(l->bond.arp_ip_targets[k]);
                                        json_string(j, t);
                                }
                                json_end_array(j);
                        }
                        json_end_object(j);
                }
                if (l->n_addrs > 0) {
                        json_key(j, "addresses");
                        json_begin_array(j);
                        for (size_t k = 0; k < l->n_addrs; k++)
                                addr_json(j, &l->addrs[k]);
                        json_end_array(j);
                }
                if (l->gateway) {
                        _cleanup_free_ char *g = format_ipv4(l->gateway);
                        json_kv_string(j, "gateway", g);
                        json_kv_bool(j, "default_route", l->default_route);
                }
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "dns");
        json_begin_array(j);
        for (char **s = p->dns; s && *s; s++)
                json_string(j, *s);
        json_end_array(j);
        json_key(j, "search");
        json_begin_array(j);
        for (char **s = p->search; s && *s; s++)
                json_string(j, *s);
        json_end_array(j);
        json_key(j, "explain");
        json_begin_array(j);
        for (char **s = p->explain; s && *s; s++)
                json_string(j, *s);
        json_end_array(j);
        json_end_object(j);
}

char *net_plan_to_text(const struct net_plan *p) {
        struct buf b = {};
        buf_printf(&b, "host %s\n", strna(p->hostname));
        for (size_t i = 0; i < p->n_links; i++) {
                const struct net_link *l = &p->links[i];
                buf_printf(&b, "  %-6s %-12s", net_link_kind_name(l->kind), l->name);
                if (l->kind == NET_LINK_ETHER)
                        buf_printf(&b, " mac %s%s%s", l->mac, l->master ? " master " : "", strempty(l->master));
                if (l->kind == NET_LINK_BOND) {
                        buf_printf(&b, " mode %s miimon %" PRIu32, net_bond_mode_name(l->bond.mode), l->bond.miimon);
                        if (l->bond.mode == BOND_MODE_8023AD)
                                buf_printf(&b, " lacp_rate %s xmit_hash_policy %s", net_lacp_rate_name(l->bond.lacp_rate),
                                           net_xmit_hash_name(l->bond.xmit_hash_policy));
                        if (l->bond.primary)
                                buf_printf(&b, " primary %s", l->bond.primary);
                }
                if (l->kind == NET_LINK_VLAN)
                        buf_printf(&b, " id %u on %s", l->vlan_id, l->parent);
                for (size_t k = 0; k < l->n_addrs; k++) {
                        _cleanup_free_ char *a = format_ipv4(l->addrs[k].addr);
                        buf_printf(&b, " %s/%u", strna(a), l->addrs[k].prefix);
                }
                if (l->default_route) {
                        _cleanup_free_ char *g = format_ipv4(l->gateway);
                        buf_printf(&b, " default via %s", strna(g));
                }
                if (l->mtu)
                        buf_printf(&b, " mtu %" PRIu32, l->mtu);
                buf_putc(&b, '\n');
        }
        _cleanup_free_ char *dns = strv_join(p->dns, ", "), *search = strv_join(p->search, ", ");
        buf_printf(&b, "  dns    %s search %s\n", dns ? dns : "-", search ? search : "-");
        for (char **s = p->explain; s && *s; s++)
                buf_printf(&b, "  why: %s\n", *s);
        return buf_steal(&b);
}
