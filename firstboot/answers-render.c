/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "answers-render.h"
#include "cleanup.h"
#include "net-plan.h"
#include "parse.h"
#include "util.h"

static bool command_is(const char *line, const char *word) {
        while (*line == ' ' || *line == '\t')
                line++;
        size_t n = strlen(word);
        return strncmp(line, word, n) == 0 && (line[n] == 0 || isspace((unsigned char) line[n]));
}

/* The bond options the kickstart gave, as --bondopts= wants them. */
static void put_bondopts(struct buf *b, const struct ks *ks) {
        for (size_t i = 0; ks && i < ks->n_networks; i++) {
                const struct ks_bondopts *o = &ks->networks[i].bondopts;
                if (!o->set)
                        continue;
                const char *sep = " --bondopts=";
                if (o->set & KS_BONDOPT_MODE)
                        buf_printf(b, "%smode=%s", sep, net_bond_mode_name(o->mode)), sep = ",";
                if (o->set & KS_BONDOPT_MIIMON)
                        buf_printf(b, "%smiimon=%" PRIu32, sep, o->miimon), sep = ",";
                if (o->set & KS_BONDOPT_LACP_RATE)
                        buf_printf(b, "%slacp_rate=%s", sep, net_lacp_rate_name(o->lacp_rate)), sep = ",";
                if (o->set & KS_BONDOPT_XMIT_HASH_POLICY)
                        buf_printf(b, "%sxmit_hash_policy=%s", sep, net_xmit_hash_name(o->xmit_hash_policy)), sep = ",";
                if ((o->set & KS_BONDOPT_PRIMARY) && o->primary)
                        buf_printf(b, "%sprimary=%s", sep, o->primary), sep = ",";
                return;
        }
}

static int put_network(struct buf *b, const struct answer_set *set, const struct ks *ks, const struct profile *p,
                       const struct site *site) {
        const char *bond = p && p->bond.name ? p->bond.name : "bond0";
        /* The VLAN line that carries the default route, host name and DNS: the site's default VLAN when
         * it has a gateway, else the first VLAN that has one, else the site's default VLAN, else the
         * first. Other VLANs keep their gateway (a subnet router) but never a second default route. */
        uint16_t carrier = 0, with_gw = 0, site_default = 0;
        for (size_t i = 0; p && i < p->n_vlans; i++) {
                _cleanup_free_ char *kg = strprintf("vlan.%u.gateway", p->vlans[i]);
                if (!kg)
                        return -ENOMEM;
                const char *gw = answer_set_value(set, kg);
                bool has_gw = gw && !streq(gw, "none");
                bool is_default = site && site->default_vlan == p->vlans[i];
                if (is_default)
                        site_default = p->vlans[i];
                if (is_default && has_gw)
                        carrier = p->vlans[i];
                if (has_gw && !with_gw)
                        with_gw = p->vlans[i];
        }
        if (!carrier)
                carrier = with_gw ? with_gw : site_default ? site_default : p && p->n_vlans ? p->vlans[0] : 0;
        bool first = true;
        /* the carrier first: Anaconda reads the bond's options from the first line of a device */
        for (int pass = 0; pass < 2; pass++)
                for (size_t i = 0; p && i < p->n_vlans; i++) {
                        uint16_t id = p->vlans[i];
                        if ((pass == 0) != (id == carrier))
                                continue;
                        _cleanup_free_ char *ka = strprintf("vlan.%u.address", id), *kg = strprintf("vlan.%u.gateway", id);
                        if (!ka || !kg)
                                return -ENOMEM;
                        const char *addr = answer_set_value(set, ka), *gw = answer_set_value(set, kg);
                        uint32_t a;
                        unsigned prefix;
                        if (!addr || parse_cidr(addr, &a, &prefix) < 0)
                                return -EINVAL;
                        _cleanup_free_ char *ip = format_ipv4(a), *mask = format_ipv4(prefix_to_mask(prefix));
                        buf_printf(b, "network --device=%s", bond);
                        if (first) {
                                put_bondopts(b, ks);
                                const char *m = answer_set_value(set, "bond.members");
                                if (m && !streq(m, "auto"))
                                        buf_printf(b, " --bondslaves=%s", m);
                        }
                        buf_printf(b, " --vlanid=%u --bootproto=static --ip=%s --netmask=%s", id, strna(ip), strna(mask));
                        if (gw && !streq(gw, "none"))
                                buf_printf(b, " --gateway=%s", gw);
                        if (id != carrier || !gw || streq(gw, "none"))
                                buf_puts(b, " --nodefroute");
                        if (id == carrier) {
                                const char *dns = answer_set_value(set, "dns"), *hn = answer_set_value(set, "hostname");
                                if (dns)
                                        buf_printf(b, " --nameserver=%s", dns);
                                if (hn)
                                        buf_printf(b, " --hostname=%s", hn);
                        }
                        buf_puts(b, " --onboot=yes --activate\n");
                        first = false;
                }
        return 0;
}

/* An original network line the answers do not carry (DHCP, another device than the role's bond) is
 * replaced by the role's lines: said, not silent. */
static void warn_replaced(const struct ks *ks, unsigned line, const struct profile *p, struct diags *d) {
        const char *bond = p && p->bond.name ? p->bond.name : "bond0";
        for (size_t i = 0; d && ks && i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                if (n->src.line != line)
                        continue;
                bool dhcp = n->bootproto == KS_BOOTPROTO_DHCP && ks_given(n->bootproto_src);
                if (streq(n->device, bond) && !dhcp)
                        return;
                struct buf v = {};
                for (size_t k = 0; p && k < p->n_vlans; k++)
                        buf_printf(&v, "%s%u", k ? ", " : "", p->vlans[k]);
                _cleanup_free_ char *vl = buf_steal(&v);
                diag_warning(d, n->src.file, n->src.line, n->src.col,
                             "'network --device=%s%s' is not applied: this role's network is %s with VLANs %s, "
                             "addressed from the answers%s", n->device, dhcp ? " --bootproto=dhcp" : "", bond,
                             vl && *vl ? vl : "(none)", n->hostname ? " (its --hostname is kept)" : "");
                return;
        }
}

int answers_render_ks(const struct answer_set *set, const struct ks *ks, const char *original,
                      const struct profile *profile, const struct site *site, struct diags *d, char **ret) {
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot: the kickstart's answers completed at the console.\n");
        int r = put_network(&b, set, ks, profile, site);
        if (r < 0) {
                buf_done(&b);
                return r;
        }
        const char *pw = answer_set_value(set, "rootpw");
        if (set->rootpw_hash)
                buf_printf(&b, "rootpw --iscrypted %s\n", set->rootpw_hash);
        else if (ks && ks->rootpw.password && pw && streq(pw, "set"))
                buf_printf(&b, "rootpw --iscrypted %s\n", ks->rootpw.password);
        else
                buf_puts(&b, "rootpw --lock\n");

        /* the rest of the original, minus what was written above */
        const char *role = answer_set_value(set, "role");
        bool in_addon = false, in_section = false, skipping = false, had_addon = false;
        unsigned lineno = 0;
        for (const char *l = original; l && *l;) {
                lineno++;
                size_t n = strcspn(l, "\n");
                _cleanup_free_ char *line = strndup(l, n);
                l += n + (l[n] == '\n');
                if (!line) {
                        buf_done(&b);
                        return -ENOMEM;
                }
                bool continued = n > 0 && line[n - 1] == '\\';
                if (skipping) {
                        skipping = continued;
                        continue;
                }
                if (!in_section && (command_is(line, "network") || command_is(line, "rootpw"))) {
                        if (command_is(line, "network"))
                                warn_replaced(ks, lineno, profile, d);
                        skipping = continued;
                        continue;
                }
                if (command_is(line, "%addon")) {
                        in_section = true;
                        in_addon = strstr(line, "com_rackstack") != NULL;
                        had_addon = had_addon || in_addon;
                        buf_printf(&b, "%s\n", line);
                        if (in_addon && role)
                                buf_printf(&b, "role %s\n", role);
                        continue;
                }
                if (command_is(line, "%pre") || command_is(line, "%post") || command_is(line, "%packages"))
                        in_section = true;
                if (command_is(line, "%end"))
                        in_section = in_addon = false;
                if (in_addon && command_is(line, "role"))
                        continue;
                buf_printf(&b, "%s\n", line);
        }
        if (!had_addon && role)
                buf_printf(&b, "\n%%addon com_rackstack\nrole %s\n%%end\n", role);
        *ret = buf_steal(&b);
        return *ret ? 0 : -ENOMEM;
}
