/* SPDX-License-Identifier: MIT */
#include <inttypes.h>

#include "cleanup.h"
#include "net-answers.h"
#include "parse.h"
#include "util.h"

void net_answers_store_done(struct net_answers_store *s) {
        strv_free(s->strings);
        free(s->members);
        free(s->options);
        free(s->vlans);
        free(s->nameservers);
        *s = (struct net_answers_store) {};
}

/* Keep s in the store and hand back the stored copy; NULL on OOM. */
static const char *keep(struct net_answers_store *st, char *s) {
        if (!s || strv_push(&st->strings, s) < 0)
                return NULL;
        return s;
}

static const char *keep_copy(struct net_answers_store *st, const char *s) {
        return keep(st, strdup(s));
}

static int add_option(struct net_answers_store *st, size_t *cap, const char *key, char *value, struct src src) {
        const char *v = keep(st, value);
        if (!v)
                return -ENOMEM;
        if (st->answers.n_bond_options == *cap) {
                size_t n = *cap ? *cap * 2 : 8;
                struct net_bond_option *a = realloc(st->options, n * sizeof *a);
                if (!a)
                        return -ENOMEM;
                st->options = a;
                *cap = n;
        }
        st->options[st->answers.n_bond_options++] = (struct net_bond_option) { key, v, src };
        st->answers.bond_options = st->options;
        return 0;
}

static int add_bondopts(struct net_answers_store *st, size_t *cap, const struct ks_network *n) {
        const struct ks_bondopts *o = &n->bondopts;
        static const char *const ad_select[] = { "stable", "bandwidth", "count" };
        struct src s = n->bondopts_src;
        int r = 0;
        if (r >= 0 && (o->set & KS_BONDOPT_MODE))
                r = add_option(st, cap, "mode", strdup(strempty(net_bond_mode_name(o->mode))), s);
        if (r >= 0 && (o->set & KS_BONDOPT_MIIMON))
                r = add_option(st, cap, "miimon", strprintf("%" PRIu32, o->miimon), s);
        if (r >= 0 && (o->set & KS_BONDOPT_LACP_RATE))
                r = add_option(st, cap, "lacp_rate", strdup(strempty(net_lacp_rate_name(o->lacp_rate))), s);
        if (r >= 0 && (o->set & KS_BONDOPT_XMIT_HASH_POLICY))
                r = add_option(st, cap, "xmit_hash_policy", strdup(strempty(net_xmit_hash_name(o->xmit_hash_policy))), s);
        if (r >= 0 && (o->set & KS_BONDOPT_PRIMARY))
                r = add_option(st, cap, "primary", strdup(strempty(o->primary)), s);
        if (r >= 0 && (o->set & KS_BONDOPT_UPDELAY))
                r = add_option(st, cap, "updelay", strprintf("%" PRIu32, o->updelay), s);
        if (r >= 0 && (o->set & KS_BONDOPT_DOWNDELAY))
                r = add_option(st, cap, "downdelay", strprintf("%" PRIu32, o->downdelay), s);
        if (r >= 0 && (o->set & KS_BONDOPT_ARP_INTERVAL))
                r = add_option(st, cap, "arp_interval", strprintf("%" PRIu32, o->arp_interval), s);
        if (r >= 0 && (o->set & KS_BONDOPT_ARP_IP_TARGET)) {
                struct buf b = {};
                for (size_t i = 0; i < o->n_arp_ip_targets; i++) {
                        _cleanup_free_ char *ip = format_ipv4(o->arp_ip_targets[i]);
                        buf_printf(&b, "%s%s", i ? "," : "", strna(ip));
                }
                r = add_option(st, cap, "arp_ip_target", buf_steal(&b), s);
        }
        if (r >= 0 && (o->set & KS_BONDOPT_AD_SELECT))
                r = add_option(st, cap, "ad_select",
                               strdup((unsigned) o->ad_select < ELEMENTSOF(ad_select) ? ad_select[o->ad_select] : "?"), s);
        if (r >= 0 && (o->set & KS_BONDOPT_MIN_LINKS))
                r = add_option(st, cap, "min_links", strprintf("%" PRIu32, o->min_links), s);
        return r;
}

static bool strv_equal(char **a, char **b) {
        for (; a && b && *a && *b; a++, b++)
                if (!streq(*a, *b))
                        return false;
        return (!a || !*a) && (!b || !*b);
}

/* A line this role can use: on the bond, static, its VLAN link named as ours are. 0 usable, 1
 * not (said in d), 2 an Anaconda-style DHCP line (warned: only its --hostname and name servers are
 * taken), -ENOMEM. */
static int line_check(const struct ks_network *n, const char *bond_name, struct diags *d) {
        /* "network --bootproto=dhcp --device=link --hostname=…" is how most Anaconda kickstarts name a
         * host. Asking for no address of ours, it loses nothing when the role's bond and VLANs are
         * addressed from the site instead, as the hostless path does; DHCP on one of our VLANs, or
         * with an address, asks for something this role does not do and stays an error below. */
        if (n->bootproto == KS_BOOTPROTO_DHCP && ks_given(n->bootproto_src) && !n->ip && !n->vlanid) {
                diag_warning(d, n->src.file, n->src.line, n->src.col,
                             "'network --device=%s --bootproto=dhcp' is not applied: this role's network is %s "
                             "with its VLANs, addressed from the site%s", n->device, bond_name,
                             n->hostname ? " (its --hostname is kept)" : "");
                return 2;
        }
        if (!streq(n->device, bond_name)) {
                diag_error(d, n->device_src.file, n->device_src.line, n->device_src.col,
                           "network --device=%s: this role's network is bond %s, with its VLANs; describe it "
                           "with --device=%s lines", n->device, bond_name, bond_name);
                return 1;
        }
        if (n->bootproto == KS_BOOTPROTO_DHCP && (ks_given(n->bootproto_src) || n->ip || n->vlanid)) {
                const struct src *b = ks_given(n->bootproto_src) ? &n->bootproto_src : &n->src;
                diag_error(d, b->file, b->line, b->col, "DHCP is not supported: give --bootproto=static "
                           "with --ip and --netmask (or leave the address to the site)");
                return 1;
        }
        if (n->interfacename) {
                _cleanup_free_ char *want = strprintf("%s.%u", bond_name, n->vlanid);
                if (!want)
                        return -ENOMEM;
                if (!streq(n->interfacename, want))
                        diag_error(d, n->interfacename_src.file, n->interfacename_src.line, n->interfacename_src.col,
                                   "--interfacename=%s: VLAN links are named %s", n->interfacename, want);
        }
        return 0;
}

/* --hostname: the first line that gives one; another line may repeat it, not contradict it. */
static int take_hostname(struct net_answers_store *st, const struct ks_network *n, const struct ks_network **from,
                         struct diags *d) {
        if (!n->hostname)
                return 0;
        if (*from && !streq((*from)->hostname, n->hostname)) {
                diag_error(d, n->hostname_src.file, n->hostname_src.line, n->hostname_src.col,
                           "--hostname=%s contradicts --hostname=%s on line %u", n->hostname, (*from)->hostname,
                           (*from)->hostname_src.line);
                return 0;
        }
        if (*from)
                return 0;
        *from = n;
        st->answers.hostname = keep_copy(st, n->hostname);
        st->answers.hostname_src = n->hostname_src;
        return st->answers.hostname ? 0 : -ENOMEM;
}

/* --bondslaves: as --hostname. */
static int take_members(struct net_answers_store *st, const struct ks_network *n, const struct ks_network **from,
                        struct diags *d) {
        if (!n->bondslaves)
                return 0;
        if (*from && !strv_equal((*from)->bondslaves, n->bondslaves)) {
                diag_error(d, n->bondslaves_src.file, n->bondslaves_src.line, n->bondslaves_src.col,
                           "--bondslaves differs from line %u's", (*from)->bondslaves_src.line);
                return 0;
        }
        if (*from)
                return 0;
        *from = n;
        size_t k = strv_length(n->bondslaves);
        st->members = calloc(k + 1, sizeof *st->members);
        if (!st->members)
                return -ENOMEM;
        for (size_t j = 0; j < k; j++)
                if (!(st->members[j] = keep_copy(st, n->bondslaves[j])))
                        return -ENOMEM;
        st->answers.bond_members = st->members;
        st->answers.n_bond_members = k;
        st->answers.bond_members_src = n->bondslaves_src;
        return 0;
}

/* --nameserver: every line's, once each, in order. */
static int add_nameservers(struct net_answers_store *st, const struct ks_network *n) {
        if (n->n_nameservers == 0)
                return 0;
        const char **a = realloc(st->nameservers, (st->answers.n_nameservers + n->n_nameservers + 1) * sizeof *a);
        if (!a)
                return -ENOMEM;
        st->nameservers = a;
        for (size_t j = 0; j < n->n_nameservers; j++) {
                const char *ns = keep(st, format_ipv4(n->nameservers[j]));
                if (!ns)
                        return -ENOMEM;
                bool dup = false;
                for (size_t k = 0; k < st->answers.n_nameservers; k++)
                        dup = dup || streq(st->nameservers[k], ns);
                if (!dup)
                        st->nameservers[st->answers.n_nameservers++] = ns;
        }
        st->answers.nameservers = st->nameservers;
        if (!ks_given(st->answers.nameservers_src))
                st->answers.nameservers_src = n->nameserver_src;
        return 0;
}

/* A line with --vlanid: that VLAN's address, gateway, MTU. */
static int add_vlan(struct net_answers_store *st, const struct ks_network *n) {
        struct net_vlan_answer *v = &st->vlans[st->answers.n_vlans++];
        *v = (struct net_vlan_answer) {
                .id = n->vlanid, .nodefroute = n->nodefroute, .mtu = n->mtu,
                .src = ks_given(n->vlanid_src) ? n->vlanid_src : n->src,
                .address_src = n->ip_src, .gateway_src = n->gateway_src,
        };
        if (n->ip) {
                char *a = ks_given(n->netmask_src) ? NULL : format_ipv4(n->ip);
                if (ks_given(n->netmask_src)) {
                        _cleanup_free_ char *ip = format_ipv4(n->ip);
                        a = ip ? strprintf("%s/%u", ip, n->prefix) : NULL;
                }
                if (!(v->address = keep(st, a)))
                        return -ENOMEM;
        }
        if (n->gateway && !(v->gateway = keep(st, format_ipv4(n->gateway))))
                return -ENOMEM;
        return 0;
}

int net_answers_from_ks(const struct ks *ks, const char *bond_name, struct diags *d, struct net_answers_store *ret) {
        _cleanup_(net_answers_store_done) struct net_answers_store st = {};
        size_t n_errors = d->n_errors, opt_cap = 0;
        const struct ks_network *members_from = NULL, *hostname_from = NULL;
        int r;

        st.vlans = calloc(ks->n_networks + 1, sizeof *st.vlans);
        if (!st.vlans)
                return -ENOMEM;

        for (size_t i = 0; i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                r = line_check(n, bond_name, d);
                if (r < 0)
                        return r;
                if (r == 2) {
                        r = take_hostname(&st, n, &hostname_from, d);
                        if (r >= 0)
                                r = add_nameservers(&st, n);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (r > 0)
                        continue;
                r = take_hostname(&st, n, &hostname_from, d);
                if (r >= 0)
                        r = take_members(&st, n, &members_from, d);
                if (r >= 0 && n->bondopts.set)
                        r = add_bondopts(&st, &opt_cap, n);
                if (r >= 0)
                        r = add_nameservers(&st, n);
                if (r < 0)
                        return r;
                if (!n->onboot || !n->activate) {
                        const struct src *o = !n->onboot ? &n->onboot_src : &n->activate_src;
                        diag_warning(d, o->file, o->line, o->col, "--onboot=no/--no-activate are ignored: "
                                     "firstboot brings every planned link up");
                }
                if (n->vlanid == 0) {
                        /* The bond's own line: members, options, MTU. An address here would be untagged. */
                        if (n->ip)
                                diag_error(d, n->ip_src.file, n->ip_src.line, n->ip_src.col,
                                           "--ip without --vlanid: this role's addresses live on its VLANs");
                        if (n->mtu) {
                                st.answers.mtu = n->mtu;
                                st.answers.mtu_src = n->mtu_src;
                        }
                } else if ((r = add_vlan(&st, n)) < 0)
                        return r;
        }
        st.answers.vlans = st.vlans;

        if (d->oom)
                return -ENOMEM;
        if (d->n_errors > n_errors)
                return -EINVAL;
        *ret = st;
        st = (struct net_answers_store) {};
        return 0;
}
