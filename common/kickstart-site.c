/* SPDX-License-Identifier: MIT */
/* A kickstart checked against the site inventory: the file is one host's answers, and the site
 * already says what most of them must be. Catching a copy-pasted address here beats an address
 * conflict on the wire. */
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "kickstart.h"
#include "parse.h"
#include "util.h"

#define SITE_ERR(d, ks, s, ...) diag_error((d), (ks)->file, (s).line, (s).col, __VA_ARGS__)

static const struct host_spec *find_host(const struct site *s, const char *name) {
        for (size_t i = 0; i < s->n_hosts; i++)
                if (s->hosts[i].name && strcasecmp(s->hosts[i].name, name) == 0)
                        return &s->hosts[i];
        return NULL;
}

static const struct vlan_spec *find_vlan(const struct site *s, uint16_t id) {
        for (size_t i = 0; i < s->n_vlans; i++)
                if (s->vlans[i].id == id)
                        return &s->vlans[i];
        return NULL;
}

static const struct host_address *address_on(const struct host_spec *h, uint16_t vlan) {
        for (size_t i = 0; i < h->n_addresses; i++)
                if (h->addresses[i].vlan == vlan)
                        return &h->addresses[i];
        return NULL;
}

static bool in_list(char **l, uint32_t addr) {
        for (; l && *l; l++) {
                uint32_t a;
                if (parse_ipv4(*l, &a) >= 0 && a == addr)
                        return true;
        }
        return false;
}

static void check_vlan_line(const struct ks *ks, const struct site *s, const struct host_spec *h,
                            const struct ks_network *n, struct diags *d) {
        _cleanup_free_ char *ip = format_ipv4(n->ip);
        if (n->vlanid == 0) {
                SITE_ERR(d, ks, n->ip_src, "address %s is not on a VLAN; the site puts every address on one",
                         strna(ip));
                return;
        }
        const struct vlan_spec *v = find_vlan(s, n->vlanid);
        if (!v) {
                SITE_ERR(d, ks, n->vlanid_src, "VLAN %u is not in the site", n->vlanid);
                return;
        }
        const struct host_address *want = address_on(h, n->vlanid);
        if (!want) {
                SITE_ERR(d, ks, n->vlanid_src, "host '%s' has no address on VLAN %u (%s) in the site", h->name,
                         n->vlanid, strna(v->name));
                return;
        }
        if (want->addr != n->ip) {
                _cleanup_free_ char *w = format_ipv4(want->addr);
                SITE_ERR(d, ks, n->ip_src, "address %s differs from the site's %s for '%s' on VLAN %u", strna(ip),
                         strna(w), h->name, n->vlanid);
        }
        if (ks_given(n->netmask_src) && n->prefix != v->prefix)
                SITE_ERR(d, ks, n->netmask_src, "netmask /%u differs from the site's /%u for VLAN %u", n->prefix,
                         v->prefix, n->vlanid);

        bool default_vlan = s->default_vlan == n->vlanid;
        if (ks_given(n->gateway_src)) {
                _cleanup_free_ char *g = format_ipv4(n->gateway), *sg = format_ipv4(v->gateway);
                if (v->gateway == 0)
                        SITE_ERR(d, ks, n->gateway_src, "VLAN %u has no gateway in the site", n->vlanid);
                else if (n->gateway != v->gateway)
                        SITE_ERR(d, ks, n->gateway_src, "gateway %s differs from the site's %s for VLAN %u", strna(g),
                                 strna(sg), n->vlanid);
                if (!default_vlan && !n->nodefroute)
                        SITE_ERR(d, ks, n->gateway_src,
                                 "default route on VLAN %u, but the site's default route is on VLAN %u; add --nodefroute",
                                 n->vlanid, s->default_vlan);
        } else if (default_vlan && v->gateway)
                SITE_ERR(d, ks, n->src, "VLAN %u carries the site's default route: add --gateway", n->vlanid);
        if (default_vlan && n->nodefroute)
                SITE_ERR(d, ks, n->nodefroute_src, "VLAN %u carries the site's default route: drop --nodefroute",
                         n->vlanid);
}

/* What the site says whichever host this is: VLANs, name servers, time servers, the zone. */
static void check_site_wide(const struct ks *ks, const struct site *s, struct diags *d) {
        for (size_t i = 0; i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                for (size_t j = 0; j < n->n_nameservers; j++)
                        if (s->dns && !in_list(s->dns, n->nameservers[j])) {
                                _cleanup_free_ char *a = format_ipv4(n->nameservers[j]);
                                SITE_ERR(d, ks, n->nameserver_src, "name server %s is not one of the site's", strna(a));
                        }
        }
        for (size_t i = 0; i < ks->n_timesources; i++) {
                const struct ks_timesource *t = &ks->timesources[i];
                uint32_t a;
                if (s->ntp && !ks->timesources[i].pool && parse_ipv4(t->server, &a) >= 0 && !in_list(s->ntp, a))
                        diag_warning(d, ks->file, t->server_src.line, t->server_src.col,
                                     "time server %s is not one of the site's", t->server);
        }
        if (ks->timezone.zone && s->timezone && !streq(ks->timezone.zone, s->timezone))
                diag_warning(d, ks->file, ks->timezone.zone_src.line, ks->timezone.zone_src.col,
                             "time zone '%s' differs from the site's '%s'", ks->timezone.zone, s->timezone);
}

/* Without a host: an address is still checked for its VLAN (the site's plan), not against a host. */
static void check_hostless_addresses(const struct ks *ks, const struct site *s, struct diags *d) {
        for (size_t i = 0; i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                if (!n->ip)
                        continue;
                _cleanup_free_ char *ip = format_ipv4(n->ip);
                bool bond = n->bondslaves || n->bondopts.set || startswith(n->device, "bond");
                if (n->vlanid == 0 && !bond)
                        /* an Anaconda line for one NIC: the completed kickstart carries the role's lines */
                        diag_warning(d, ks->file, n->ip_src.line, n->ip_src.col,
                                     "address %s on --device=%s is not applied: the site puts every address on a "
                                     "VLAN of the role's bond, and firstboot writes those lines for the host it asks "
                                     "for", strna(ip), n->device);
                else if (n->vlanid == 0)
                        SITE_ERR(d, ks, n->ip_src, "address %s is not on a VLAN; the site puts every address on one",
                                 strna(ip));
                else if (!find_vlan(s, n->vlanid))
                        SITE_ERR(d, ks, n->vlanid_src, "VLAN %u is not in the site", n->vlanid);
        }
}

void ks_check_site(const struct ks *ks, const struct site *s, struct diags *d) {
        check_site_wide(ks, s, d);
        const struct ks_network *hn = ks_hostname_network(ks);
        if (!hn) {
                /* An Anaconda kickstart names no host more often than not: the host is asked at first
                 * boot, and the site's values for it fill what the file leaves out. */
                diag_warning(d, ks->file, 1, 1,
                             "no 'network --hostname=': the kickstart names no site host; rackstack-firstboot asks "
                             "for it at the console (and fails without one)");
                check_hostless_addresses(ks, s, d);
                return;
        }
        _cleanup_free_ char *shortname = strndup(hn->hostname, strcspn(hn->hostname, "."));
        if (!shortname) {
                d->oom = true;
                return;
        }
        const char *dot = strchr(hn->hostname, '.');
        if (dot && s->domain && strcasecmp(dot + 1, s->domain) != 0)
                SITE_ERR(d, ks, hn->hostname_src, "host name '%s' is not in the site's domain '%s'", hn->hostname,
                         s->domain);

        const struct host_spec *h = find_host(s, shortname);
        if (!h) {
                _cleanup_free_ const char **names = calloc(s->n_hosts + 1, sizeof(char *));
                for (size_t i = 0; names && i < s->n_hosts; i++)
                        names[i] = s->hosts[i].name;
                const char *m = names ? closest_match(shortname, names) : NULL;
                SITE_ERR(d, ks, hn->hostname_src, "host '%s' is not in the site%s%s%s", shortname,
                         m ? "; did you mean '" : "", m ? m : "", m ? "'?" : "");
                return;
        }

        if (ks->addon.role && h->role && !streq(ks->addon.role, h->role))
                SITE_ERR(d, ks, ks->addon.role_src, "role '%s' differs from the site's role '%s' for host '%s'",
                         ks->addon.role, h->role, h->name);

        for (size_t i = 0; i < ks->n_networks; i++)
                if (ks->networks[i].ip)
                        check_vlan_line(ks, s, h, &ks->networks[i], d);
        for (size_t i = 0; i < h->n_addresses; i++) {
                const struct host_address *a = &h->addresses[i];
                bool found = false;
                for (size_t j = 0; j < ks->n_networks && !found; j++)
                        found = ks->networks[j].ip && ks->networks[j].vlanid == a->vlan;
                if (!found) {
                        _cleanup_free_ char *ip = format_ipv4(a->addr);
                        diag_error(d, ks->file, hn->src.line, hn->src.col,
                                   "no 'network' line for VLAN %u, where the site gives '%s' the address %s", a->vlan,
                                   h->name, strna(ip));
                }
        }
}
