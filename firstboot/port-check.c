/* SPDX-License-Identifier: MIT */
/* The protocol-aware part of the services step's "does it answer" check (port-check.h). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "port-check.h"

unsigned port_check_protos(const struct profile *p, uint16_t port) {
        unsigned protos = 0;
        for (size_t i = 0; p && i < p->n_ports; i++)
                if (port >= p->ports[i].port && port <= p->ports[i].port_end)
                        protos |= p->ports[i].protos;
        return protos ? protos : PROTO_TCP;
}

const char *port_protos_to_string(unsigned protos) {
        if ((protos & PROTO_TCP) && (protos & PROTO_UDP))
                return "tcp or udp";
        return protos & PROTO_UDP ? "udp" : "tcp";
}

/* The local address of one line, "0100007F:13C4" or its 32-digit IPv6 form, matches addr:port?
 * /proc prints each 32-bit word of the address in host byte order (little-endian here, as the
 * kernel's own %08X of the raw word), the port in plain hex. */
static int local_matches(const char *hex, size_t hexlen, bool ipv6, uint32_t addr, uint16_t port) {
        char *end;
        unsigned long lport = strtoul(hex + hexlen + 1, &end, 16);
        if (end == hex + hexlen + 1 || lport > UINT16_MAX)
                return -EBADMSG;
        if (lport != port)
                return 0;
        uint32_t w[4] = {};
        for (size_t i = 0; i < hexlen / 8; i++) {
                char word[9] = {};
                memcpy(word, hex + 8 * i, 8);
                uint32_t v = (uint32_t) strtoul(word, &end, 16);
                if (*end)
                        return -EBADMSG;
                /* back to network order, then to host order as addr is given */
                w[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >> 8) & 0xff00) | (v >> 24);
        }
        if (!ipv6)
                return w[0] == 0 || w[0] == addr;
        bool wild = !w[0] && !w[1] && !w[2] && !w[3];
        bool mapped = !w[0] && !w[1] && w[2] == 0xffff && w[3] == addr;
        return wild || mapped;
}

int udp_bound_in_proc_text(const char *text, bool ipv6, uint32_t addr, uint16_t port) {
        size_t hexlen = ipv6 ? 32 : 8;
        const char *line = strchr(text, '\n'); /* the first line is the header */
        if (!line)
                return -EBADMSG;
        for (line++; *line; ) {
                const char *eol = strchrnul(line, '\n');
                const char *colon = strchr(line, ':'); /* "  12: " the slot number */
                if (colon && colon < eol) {
                        const char *hex = colon + 1;
                        while (*hex == ' ')
                                hex++;
                        if ((size_t) (eol - hex) < hexlen + 5 || hex[hexlen] != ':')
                                return -EBADMSG;
                        int r = local_matches(hex, hexlen, ipv6, addr, port);
                        if (r != 0)
                                return r;
                }
                line = *eol ? eol + 1 : eol;
        }
        return 0;
}

int udp_bound(uint32_t addr, uint16_t port) {
        static const char *const files[] = { "/proc/net/udp", "/proc/net/udp6" };
        int r = -ENOENT;
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *text = NULL;
                if (read_file_full(AT_FDCWD, files[i], 64 << 20, &text, NULL) < 0)
                        continue; /* a kernel without IPv6 has no udp6 */
                int q = udp_bound_in_proc_text(text, i == 1, addr, port);
                if (q != 0)
                        return q > 0 ? 0 : q;
                r = -ECONNREFUSED;
        }
        return r;
}
