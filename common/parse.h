/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/* Parsers for the scalar values of profiles and kickstarts. Each returns 0 or -EINVAL/-ERANGE and
 * writes its output only on success. None accepts leading or trailing junk. */

/* "50G", "512M", "1T", "4096" (bytes), "1.5T". Units are binary (G = GiB), as the seed means them. */
int parse_size(const char *s, uint64_t *ret);
/* Render a size the way parse_size reads it, choosing the largest exact unit ("50G", "1536M"). */
char *format_size(uint64_t bytes);
/* A friendly approximate size for tables: "50 GiB", "1.5 TiB". */
char *format_size_human(uint64_t bytes);

int parse_uint64(const char *s, uint64_t *ret);
int parse_uint32_range(const char *s, uint32_t min, uint32_t max, uint32_t *ret);
int parse_bool(const char *s, bool *ret);

/* IPv4 in host byte order. */
int parse_ipv4(const char *s, uint32_t *ret);
char *format_ipv4(uint32_t addr);
/* "10.0.50.0/24" -> address and prefix length. */
int parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix);
/* A dotted netmask; -EINVAL if its ones are not contiguous. */
int parse_netmask(const char *s, unsigned *ret_prefix);
uint32_t prefix_to_mask(unsigned prefix);
bool ipv4_in_subnet(uint32_t addr, uint32_t net, unsigned prefix);

/* RFC 1123 host name: labels of 1..63 of [a-z0-9-], not starting or ending with '-', 253 in all.
 * Returns NULL if valid, else a static string saying why. */
const char *hostname_invalid_reason(const char *s);

/* A MAC address "52:54:00:12:34:56". */
bool is_mac_address(const char *s);
