/* SPDX-License-Identifier: MIT */
/* Traefik's routing table from the site: the seed's "name.domain -> host:port" list becomes a
 * file-provider dynamic configuration, one router and one service per route. Backends are addressed
 * by their address on the site's default VLAN (the one the seed's server list uses), so routing does
 * not depend on DNS being up; port 443 backends are spoken to over TLS. */
#include <errno.h>
#include <string.h>

#include "cleanup.h"

#include "escape.h"
#include "render.h"
#include "util.h"

int traefik_render(const struct site *s, char **ret, const struct route_spec **ret_bad) {
        struct buf b = {};
        buf_printf(&b,
                   "# Written by rackstack-firstboot from the site's routing table (%zu routes).\n"
                   "# Traefik's file provider watches this file.\n"
                   "http:\n"
                   "  routers:\n",
                   s->n_routes);
        for (size_t i = 0; i < s->n_routes; i++) {
                const struct route_spec *r = &s->routes[i];
                /* A backtick or a control character would end the rule's Host(`...`) matcher. */
                if (strpbrk(r->name, "`") || strpbrk(s->domain, "`") || !boot_word_ok(r->name)) {
                        buf_done(&b);
                        if (ret_bad)
                                *ret_bad = r;
                        return -EINVAL;
                }
                _cleanup_free_ char *rule = strprintf("Host(`%s.%s`)", r->name, s->domain);
                if (!rule) {
                        buf_done(&b);
                        return -ENOMEM;
                }
                buf_puts(&b, "    ");
                buf_put_yaml_scalar(&b, r->name);
                buf_puts(&b, ":\n      rule: ");
                buf_put_yaml_quoted(&b, rule);
                buf_puts(&b, "\n      entryPoints: [websecure]\n      service: ");
                buf_put_yaml_scalar(&b, r->name);
                buf_puts(&b, "\n      tls: {}\n");
        }
        buf_puts(&b, "  services:\n");
        for (size_t i = 0; i < s->n_routes; i++) {
                const struct route_spec *r = &s->routes[i];
                const struct host_spec *h = site_find_host(s, r->backend);
                uint32_t a = h ? host_address_on(h, s->default_vlan) : 0;
                if (!a) {
                        buf_done(&b);
                        if (ret_bad)
                                *ret_bad = r;
                        return -ENOENT;
                }
                buf_puts(&b, "    ");
                buf_put_yaml_scalar(&b, r->name);
                buf_printf(&b,
                           ":\n"
                           "      loadBalancer:\n"
                           "%s"
                           "        servers:\n"
                           "          - url: \"%s://%u.%u.%u.%u:%u\"  # ",
                           r->port == 443 ? "        serversTransport: site-ca\n" : "",
                           r->port == 443 ? "https" : "http", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff,
                           a & 0xff, r->port);
                buf_put_comment_text(&b, r->backend);
                buf_putc(&b, '\n');
        }
        /* TLS from the site CA: the proxy's certificate (its SANs are every routed name, see
         * rackstack-build secrets) for every router, and the site CA to trust HTTPS backends. */
        buf_puts(&b, "  serversTransports:\n"
                     "    site-ca:\n"
                     "      rootCAs: [\"" TRAEFIK_TLS_DIR "/ca.crt\"]\n"
                     "tls:\n"
                     "  stores:\n"
                     "    default:\n"
                     "      defaultCertificate:\n"
                     "        certFile: " TRAEFIK_TLS_DIR "/tls.crt\n"
                     "        keyFile: " TRAEFIK_TLS_DIR "/tls.key\n"
                     "  certificates:\n"
                     "    - certFile: " TRAEFIK_TLS_DIR "/tls.crt\n"
                     "      keyFile: " TRAEFIK_TLS_DIR "/tls.key\n");
        char *t = buf_steal(&b);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}
