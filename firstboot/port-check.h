/* SPDX-License-Identifier: MIT */
/* Does a service answer on its port, by the port's protocol? A TCP port answers when it accepts a
 * connection; a UDP port has no handshake to try (a datagram to a closed port is merely dropped or
 * answered by an ICMP error some time later), so it answers when a UDP socket is bound to it, as the
 * kernel's /proc/net/udp and /proc/net/udp6 show. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

/* The protocols a service's port is checked with: those the profile's port table lists for it
 * (a range covering it counts); TCP when the table does not list it. */
unsigned port_check_protos(const struct profile *p, uint16_t port);

/* Is a UDP socket bound to port on addr (IPv4, host byte order) or on a wildcard address, in the
 * text of /proc/net/udp (ipv6 false) or /proc/net/udp6 (ipv6 true: "::", or the IPv4-mapped addr)?
 * 1 yes, 0 no, -EBADMSG when the text is not in that format. */
int udp_bound_in_proc_text(const char *text, bool ipv6, uint32_t addr, uint16_t port);

/* The same, read from the running kernel's /proc/net/udp and /proc/net/udp6. 0 bound,
 * -ECONNREFUSED nothing bound, other negative errno when neither file can be read. */
int udp_bound(uint32_t addr, uint16_t port);

/* "tcp", "udp" or "tcp or udp", for the report. */
const char *port_protos_to_string(unsigned protos);
