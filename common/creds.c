/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "creds.h"
#include "parse.h"
#include "util.h"

bool creds_name_valid(const char *name) {
        size_t n = strlen(name);
        if (n == 0 || n > 64)
                return false;
        if (!((name[0] >= 'a' && name[0] <= 'z') || (name[0] >= '0' && name[0] <= '9')))
                return false;
        for (const char *s = name; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-'))
                        return false;
        return true;
}

const struct cred *creds_find(const struct creds *c, const char *name) {
        for (size_t i = 0; i < c->n; i++)
                if (streq(c->v[i].name, name))
                        return &c->v[i];
        return NULL;
}

int creds_add(struct creds *c, const char *name, const void *data, size_t len) {
        if (!creds_name_valid(name))
                return -EINVAL;
        if (creds_find(c, name))
                return -EEXIST;
        struct cred *v = realloc(c->v, (c->n + 1) * sizeof *v);
        if (!v)
                return -ENOMEM;
        c->v = v;
        struct cred e = { .name = strdup(name), .data = malloc(len + 1), .len = len };
        if (!e.name || !e.data) {
                free(e.name);
                free(e.data);
                return -ENOMEM;
        }
        memcpy(e.data, data, len);
        e.data[len] = 0;
        c->v[c->n++] = e;
        return 0;
}

void creds_wipe_free(char *p, size_t len) {
        if (p)
                OPENSSL_cleanse(p, len);
        free(p);
}

void creds_done(struct creds *c) {
        for (size_t i = 0; i < c->n; i++) {
                free(c->v[i].name);
                creds_wipe_free(c->v[i].data, c->v[i].len);
        }
        free(c->v);
        free(c->host);
        *c = (struct creds) {};
}

char *creds_render(const struct creds *c, size_t *ret_len) {
        struct buf b = {};
        buf_printf(&b, CREDS_MAGIC " 1 %s\n", c->host ? c->host : "-");
        for (size_t i = 0; i < c->n; i++) {
                buf_printf(&b, "%s %zu\n", c->v[i].name, c->v[i].len);
                buf_put(&b, c->v[i].data, c->v[i].len);
                buf_putc(&b, '\n');
        }
        size_t len = b.len;
        char *out = buf_steal(&b); /* NULL, and freed, after an allocation failure */
        if (out && ret_len)
                *ret_len = len;
        return out;
}

/* One header line at data[*pos]: returns it (NUL-free, without '\n') in a new string. */
static int take_line(const char *data, size_t len, size_t *pos, char **ret) {
        const char *s = data + *pos, *nl = memchr(s, '\n', len - *pos);
        if (!nl)
                return -EINVAL;
        if (memchr(s, 0, (size_t) (nl - s)))
                return -EINVAL;
        char *l = strndup(s, (size_t) (nl - s));
        if (!l)
                return -ENOMEM;
        *pos += (size_t) (nl - s) + 1;
        *ret = l;
        return 0;
}

int creds_parse(const char *file, const char *data, size_t len, struct diags *d, struct creds *ret) {
        struct creds c = {};
        size_t pos = 0;
        unsigned line = 1;
        char *l = NULL;
        int r;
        if (len > CREDS_MAX) {
                diag_error(d, file, 0, 0, "larger than %u bytes: not a credentials bundle", CREDS_MAX);
                return -EINVAL;
        }
        if ((r = take_line(data, len, &pos, &l)) < 0) {
                if (r == -EINVAL)
                        diag_error(d, file, 1, 1, "expected '" CREDS_MAGIC " 1 HOST'");
                return r;
        }
        char host[65];
        int consumed = 0;
        if (sscanf(l, CREDS_MAGIC " 1 %64s%n", host, &consumed) != 1 || l[consumed]) {
                diag_error(d, file, 1, 1, "expected '" CREDS_MAGIC " 1 HOST', got '%.40s'", l);
                free(l);
                return -EINVAL;
        }
        free(l);
        l = NULL;
        if (!(c.host = strdup(host)))
                return -ENOMEM;
        while (pos < len) {
                line++;
                if ((r = take_line(data, len, &pos, &l)) < 0) {
                        if (r == -EINVAL)
                                diag_error(d, file, line, 1, "expected 'NAME LENGTH' and a newline");
                        goto fail;
                }
                char *sp = strchr(l, ' ');
                uint64_t n = 0;
                if (sp)
                        *sp = 0;
                if (!sp || parse_uint64(sp + 1, &n) < 0 || n > CREDS_MAX) {
                        diag_error(d, file, line, 1, "expected 'NAME LENGTH', got '%.40s'", l);
                        r = -EINVAL;
                        goto fail;
                }
                if (!creds_name_valid(l)) {
                        diag_error(d, file, line, 1, "'%s' is not a credential name ([a-z0-9][a-z0-9._-]*, at most 64)", l);
                        r = -EINVAL;
                        goto fail;
                }
                if (n + 1 > len - pos || data[pos + n] != '\n') {
                        diag_error(d, file, line, (unsigned) (sp - l) + 2,
                                   "'%s' claims %" PRIu64 " bytes, but the file ends or the value lacks its newline", l, n);
                        r = -EINVAL;
                        goto fail;
                }
                r = creds_add(&c, l, data + pos, (size_t) n);
                if (r == -EEXIST)
                        diag_error(d, file, line, 1, "'%s' appears twice", l);
                if (r < 0) {
                        r = r == -EEXIST ? -EINVAL : r;
                        goto fail;
                }
                /* the value's lines, then its own newline (the next header's line is counted at the top) */
                for (size_t i = pos; i < pos + n; i++)
                        line += data[i] == '\n';
                line++;
                pos += (size_t) n + 1;
                free(l);
                l = NULL;
        }
        *ret = c;
        return 0;
fail:
        free(l);
        creds_done(&c);
        return r;
}
