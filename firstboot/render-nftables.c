/* SPDX-License-Identifier: MIT */
/* The host firewall from the role's ports: inbound is dropped except what the seed lists for the
 * role, SSH from the management VLAN, loopback, replies and ICMP. Outbound is open (the host
 * initiates its own joins, updates and log forwarding). One table of our own, so that a package
 * that adds its own table (podman's netavark does) does not clash with it. */
#include <string.h>

#include "cleanup.h"
#include "escape.h"
#include "render.h"
#include "util.h"

/* nft comments are double-quoted strings; the profile's service names are free text. */
static void put_comment(struct buf *b, const char *s) {
        buf_puts(b, " comment ");
        buf_put_nft_string(b, s);
}

char *nft_render(const struct profile *p, const struct vlan_spec *mgmt) {
        struct buf b = {};
        buf_puts(&b, "#!/usr/sbin/nft -f\n"
                     "# Written by rackstack-firstboot for the ");
        buf_put_comment_text(&b, strna(p->role));
        buf_puts(&b, " role: inbound allowed on exactly the role's ports\n"
                     "# (the seed's list), SSH from the management VLAN; everything else is dropped.\n"
                     "flush ruleset\n\n"
                     "table inet rackstack {\n"
                     "\tchain input {\n"
                     "\t\ttype filter hook input priority filter; policy drop;\n"
                     "\t\tiif \"lo\" accept\n"
                     "\t\tct state established,related accept\n"
                     "\t\tct state invalid drop\n"
                     "\t\tmeta l4proto icmp accept\n"
                     "\t\tmeta l4proto ipv6-icmp accept\n");
        if (mgmt) {
                uint32_t a = mgmt->subnet;
                buf_printf(&b, "\t\tip saddr %u.%u.%u.%u/%u tcp dport 22 accept", a >> 24, (a >> 16) & 0xff,
                           (a >> 8) & 0xff, a & 0xff, mgmt->prefix);
                _cleanup_free_ char *c = strprintf("SSH from VLAN %u (%s)", mgmt->id, strempty(mgmt->name));
                put_comment(&b, c);
                buf_putc(&b, '\n');
        }
        static const struct {
                unsigned bit;
                const char *name;
        } protos[] = { { PROTO_TCP, "tcp" }, { PROTO_UDP, "udp" } };
        for (size_t i = 0; i < p->n_ports; i++) {
                const struct port_spec *ps = &p->ports[i];
                /* SSH is management-only: the rule above, never open to every VLAN. */
                if (ps->port <= 22 && ps->port_end >= 22 && (ps->protos & PROTO_TCP) && ps->port == ps->port_end)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(protos); k++) {
                        if (!(ps->protos & protos[k].bit))
                                continue;
                        if (ps->port_end != ps->port)
                                buf_printf(&b, "\t\t%s dport %u-%u accept", protos[k].name, ps->port, ps->port_end);
                        else
                                buf_printf(&b, "\t\t%s dport %u accept", protos[k].name, ps->port);
                        put_comment(&b, ps->service);
                        buf_putc(&b, '\n');
                }
        }
        buf_puts(&b, "\t}\n\n"
                     "\tchain forward {\n"
                     "\t\ttype filter hook forward priority filter; policy drop;\n");
        /* Containers (podman's bridge) are routed: a published port is DNAT to the container, and the
         * container's own connections (to the database host, to the comm host's SMTP) leave through the
         * bridge. Only those: the host still forwards nothing else. podman publishes exactly the
         * profile's ports (firstboot/render-apps.c). */
        bool containers = false;
        for (size_t i = 0; i < p->n_services; i++)
                containers = containers || p->services[i].source == SERVICE_SOURCE_OCI;
        if (containers)
                buf_puts(&b, "\t\tct state established,related accept\n"
                             "\t\tct status dnat accept comment \"published container ports (podman)\"\n"
                             "\t\tiifname \"podman*\" accept comment \"containers' own connections\"\n");
        buf_puts(&b, "\t}\n\n"
                     "\tchain output {\n"
                     "\t\ttype filter hook output priority filter; policy accept;\n"
                     "\t}\n"
                     "}\n");
        return buf_steal(&b);
}
