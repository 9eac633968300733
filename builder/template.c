/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "cleanup.h"
#include "template.h"
#include "util.h"

static bool name_char(char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int template_expand(const char *text, const char *const *vars, char **ret, char **ret_unknown) {
        struct buf b = {};
        const char *p = text;
        while (*p) {
                const char *at = strchr(p, '@');
                if (!at) {
                        buf_puts(&b, p);
                        break;
                }
                buf_put(&b, p, at - p);
                const char *e = at + 1;
                while (name_char(*e))
                        e++;
                if (*e != '@' || e == at + 1) {
                        buf_putc(&b, '@');
                        p = at + 1;
                        continue;
                }
                const char *value = NULL;
                for (const char *const *v = vars; v && v[0] && v[1]; v += 2)
                        if (strlen(v[0]) == (size_t) (e - at - 1) && strneq(v[0], at + 1, e - at - 1))
                                value = v[1];
                if (!value) {
                        buf_done(&b);
                        if (ret_unknown && !(*ret_unknown = strndup(at + 1, e - at - 1)))
                                return -ENOMEM;
                        return -ENOKEY;
                }
                buf_puts(&b, value);
                p = e + 1;
        }
        char *s = b.data ? buf_steal(&b) : strdup("");
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}
