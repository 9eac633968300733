/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "sha256sums.h"
#include "util.h"

void sha256sums_done(struct sha256sums *s) {
        for (size_t i = 0; i < s->n; i++) {
                free(s->items[i].name);
                free(s->items[i].hex);
        }
        free(s->items);
        *s = (struct sha256sums) {};
}

const char *sha256sums_lookup(const struct sha256sums *s, const char *name) {
        for (size_t i = 0; s && i < s->n; i++)
                if (streq(s->items[i].name, name))
                        return s->items[i].hex;
        return NULL;
}

/* Offset of the first character that makes name[0..n) not a path below the directory (n for an
 * empty last part), or SIZE_MAX. */
static size_t bad_name_at(const char *s, size_t n) {
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '/') {
                        if (s[i] == '\\' || (unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                                return i;
                        continue;
                }
                size_t len = i - start;
                if (len == 0 || (len == 1 && s[start] == '.') || (len == 2 && s[start] == '.' && s[start + 1] == '.'))
                        return start;
                start = i + 1;
        }
        return SIZE_MAX;
}

/* One entry line (CR and LF removed); 0, or a diagnostic and -EINVAL. */
static int parse_entry(const char *l, size_t len, const char *origin, unsigned line, struct diags *d,
                       struct sha256sums *s) {
        size_t hexlen = 0;
        while (hexlen < len && hexlen < 64 && isxdigit((unsigned char) l[hexlen]))
                hexlen++;
        if (hexlen < 64 || len < 66 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*')) {
                diag_error(d, origin, line, hexlen < 64 ? hexlen + 1 : 65,
                           "expected \"<64 hex digits>  NAME\" (or \" *NAME\")");
                return -EINVAL;
        }
        const char *name = l + 66;
        size_t nlen = len - 66, skip = 0;
        if (nlen >= 2 && name[0] == '.' && name[1] == '/')
                skip = 2;
        if (nlen == skip) {
                diag_error(d, origin, line, 67, "no file name after the digest");
                return -EINVAL;
        }
        size_t bad = bad_name_at(name + skip, nlen - skip);
        if (bad != SIZE_MAX) {
                diag_error(d, origin, line, 67 + skip + bad,
                           "not a file below the directory (an empty, \".\" or \"..\" part, a leading '/', a "
                           "control character or a backslash)");
                return -EINVAL;
        }
        _cleanup_free_ char *n = strndup(name + skip, nlen - skip), *hex = strndup(l, 64);
        if (!n || !hex)
                return -ENOMEM;
        for (char *p = hex; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        if (sha256sums_lookup(s, n)) {
                diag_error(d, origin, line, 67, "'%s' is listed twice", n);
                return -EINVAL;
        }
        struct sha256sum *items = realloc(s->items, (s->n + 1) * sizeof *items);
        if (!items)
                return -ENOMEM;
        s->items = items;
        s->items[s->n++] = (struct sha256sum) { .name = TAKE_PTR(n), .hex = TAKE_PTR(hex) };
        return 0;
}

int sha256sums_parse(const char *text, size_t size, const char *origin, struct diags *d, struct sha256sums *ret) {
        _cleanup_(sha256sums_done) struct sha256sums s = {};
        bool bad = false;
        unsigned line = 0;
        for (size_t off = 0; off < size;) {
                const char *l = text + off;
                const char *nl = memchr(l, '\n', size - off);
                size_t len = nl ? (size_t) (nl - l) : size - off;
                off += len + (nl ? 1 : 0);
                line++;
                if (len && l[len - 1] == '\r')
                        len--;
                if (len == 0 || l[0] == '#')
                        continue;
                const char *nul = memchr(l, '\0', len);
                if (nul) {
                        diag_error(d, origin, line, (unsigned) (nul - l) + 1, "NUL byte in a SHA256SUMS line");
                        bad = true;
                        continue;
                }
                int r = parse_entry(l, len, origin, line, d, &s);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        bad = true;
        }
        if (!bad && s.n == 0) {
                diag_error(d, origin, 1, 0, "lists no file");
                bad = true;
        }
        if (d->oom)
                return -ENOMEM;
        if (bad)
                return -EINVAL;
        *ret = s;
        s = (struct sha256sums) {};
        return 0;
}
