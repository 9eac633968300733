/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "parse.h"
#include "util.h"

int parse_uint64(const char *s, uint64_t *ret) {
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;
        errno = 0;
        char *end;
        unsigned long long v = strtoull(s, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        if (*end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_uint32_range(const char *s, uint32_t min, uint32_t max, uint32_t *ret) {
        uint64_t v;
        int r = parse_uint64(s, &v);
        if (r < 0)
                return r;
        if (v < min || v > max)
                return -ERANGE;
        *ret = (uint32_t) v;
        return 0;
}

int parse_bool(const char *s, bool *ret) {
        static const char *const yes[] = { "yes", "true", "on", "1" };
        static const char *const no[] = { "no", "false", "off", "0" };
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (streq(s, yes[i])) {
                        *ret = true;
                        return 0;
                }
                if (streq(s, no[i])) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

int parse_size(const char *s, uint64_t *ret) {
        if (!s || !isdigit((unsigned char) s[0]))
                return -EINVAL;

        /* Integer part and an optional fraction of at most 3 digits, kept exact in thousandths. */
        uint64_t whole = 0, frac = 0, frac_div = 1;
        const char *p = s;
        while (isdigit((unsigned char) *p)) {
                if (whole > (UINT64_MAX - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (*p++ - '0');
        }
        if (*p == '.') {
                p++;
                if (!isdigit((unsigned char) *p))
                        return -EINVAL;
                while (isdigit((unsigned char) *p)) {
                        if (frac_div >= 1000)
                                return -EINVAL;
                        frac = frac * 10 + (*p++ - '0');
                        frac_div *= 10;
                }
        }

        uint64_t mult;
        switch (*p) {
        case 0: mult = 1; break;
        case 'K': mult = KiB; break;
        case 'M': mult = MiB; break;
        case 'G': mult = GiB; break;
        case 'T': mult = TiB; break;
        default: return -EINVAL;
        }
        if (*p) {
                p++;
                /* "50G", "50GiB" and "50GB" all mean GiB here; say so in the docs, accept all three. */
                if (streq(p, "iB") || streq(p, "B"))
                        p += strlen(p);
        }
        if (*p)
                return -EINVAL;
        if (mult == 1 && frac_div > 1)
                return -EINVAL;

        if (whole > UINT64_MAX / mult)
                return -ERANGE;
        uint64_t v = whole * mult;
        uint64_t f = frac * (mult / frac_div) + (frac * (mult % frac_div)) / frac_div;
        if (v > UINT64_MAX - f)
                return -ERANGE;
        *ret = v + f;
        return 0;
}

char *format_size(uint64_t bytes) {
        static const struct {
                char unit;
                uint64_t factor;
        } units[] = { { 'T', TiB }, { 'G', GiB }, { 'M', MiB }, { 'K', KiB } };
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (bytes >= units[i].factor && bytes % units[i].factor == 0)
                        return strprintf("%" PRIu64 "%c", bytes / units[i].factor, units[i].unit);
        return strprintf("%" PRIu64, bytes);
}

char *format_size_human(uint64_t bytes) {
        static const struct {
                const char *unit;
                uint64_t factor;
        } units[] = { { "TiB", TiB }, { "GiB", GiB }, { "MiB", MiB }, { "KiB", KiB } };
        for (size_t i = 0; i < ELEMENTSOF(units); i++)
                if (bytes >= units[i].factor) {
                        double v = (double) bytes / units[i].factor;
                        if (bytes % units[i].factor == 0)
                                return strprintf("%.0f %s", v, units[i].unit);
                        return strprintf("%.1f %s", v, units[i].unit);
                }
        return strprintf("%" PRIu64 " B", bytes);
}

int parse_ipv4(const char *s, uint32_t *ret) {
        /* inet_pton accepts exactly four decimal octets, no leading junk, no short forms. */
        struct in_addr a;
        if (!s || inet_pton(AF_INET, s, &a) != 1)
                return -EINVAL;
        *ret = ntohl(a.s_addr);
        return 0;
}

char *format_ipv4(uint32_t addr) {
        return strprintf("%u.%u.%u.%u", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff, addr & 0xff);
}

uint32_t prefix_to_mask(unsigned prefix) {
        return prefix == 0 ? 0 : UINT32_MAX << (32 - prefix);
}

int parse_cidr(const char *s, uint32_t *ret_addr, unsigned *ret_prefix) {
        const char *slash = strchr(s, '/');
        if (!slash)
                return -EINVAL;
        _cleanup_free_ char *a = strndup(s, slash - s);
        if (!a)
                return -ENOMEM;
        uint32_t addr, prefix;
        if (parse_ipv4(a, &addr) < 0)
                return -EINVAL;
        if (parse_uint32_range(slash + 1, 0, 32, &prefix) < 0)
                return -EINVAL;
        *ret_addr = addr;
        *ret_prefix = prefix;
        return 0;
}

int parse_netmask(const char *s, unsigned *ret_prefix) {
        uint32_t m;
        if (parse_ipv4(s, &m) < 0)
                return -EINVAL;
        unsigned prefix = (unsigned) __builtin_popcount(m);
        if (prefix_to_mask(prefix) != m)
                return -EINVAL;
        *ret_prefix = prefix;
        return 0;
}

bool ipv4_in_subnet(uint32_t addr, uint32_t net, unsigned prefix) {
        uint32_t mask = prefix_to_mask(prefix);
        return (addr & mask) == (net & mask);
}

const char *hostname_invalid_reason(const char *s) {
        size_t len = strlen(s);
        if (len == 0)
                return "host name is empty";
        if (len > 253)
                return "host name is longer than 253 characters";
        size_t label = 0;
        for (size_t i = 0; i <= len; i++) {
                char c = s[i];
                if (c == '.' || c == 0) {
                        if (label == 0)
                                return "host name has an empty label";
                        if (s[i - 1] == '-')
                                return "a host name label may not end with '-'";
                        label = 0;
                        continue;
                }
                if (label == 0 && c == '-')
                        return "a host name label may not start with '-'";
                if (!(isalnum((unsigned char) c) || c == '-'))
                        return c == '_' ? "host names may not contain '_'" :
                                          "host names may hold only letters, digits, '-' and '.'";
                if (++label > 63)
                        return "a host name label is longer than 63 characters";
        }
        return NULL;
}

bool is_mac_address(const char *s) {
        if (strlen(s) != 17)
                return false;
        for (size_t i = 0; i < 17; i++) {
                if (i % 3 == 2) {
                        if (s[i] != ':')
                                return false;
                } else if (!isxdigit((unsigned char) s[i]))
                        return false;
        }
        return true;
}
