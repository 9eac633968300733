/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "escape.h"

static bool is_control(unsigned char c) {
        return c < 0x20 || c == 0x7f;
}

void buf_put_comment_text(struct buf *b, const char *s) {
        for (; s && *s; s++)
                buf_putc(b, is_control((unsigned char) *s) ? '?' : *s);
}

void buf_put_sh_quoted(struct buf *b, const char *s) {
        buf_putc(b, '\'');
        for (; s && *s; s++) {
                if (*s == '\'')
                        buf_puts(b, "'\\''");
                else
                        buf_putc(b, *s);
        }
        buf_putc(b, '\'');
}

/* \\ \" and the C escapes both YAML and redis read; \xNN for the other control characters. */
static void put_c_escaped(struct buf *b, const char *s) {
        buf_putc(b, '"');
        for (; s && *s; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\') {
                        buf_putc(b, '\\');
                        buf_putc(b, (char) c);
                } else if (c == '\n')
                        buf_puts(b, "\\n");
                else if (c == '\t')
                        buf_puts(b, "\\t");
                else if (c == '\r')
                        buf_puts(b, "\\r");
                else if (is_control(c))
                        buf_printf(b, "\\x%02x", c);
                else
                        buf_putc(b, (char) c);
        }
        buf_putc(b, '"');
}

void buf_put_yaml_quoted(struct buf *b, const char *s) {
        put_c_escaped(b, s);
}

void buf_put_redis_arg(struct buf *b, const char *s) {
        if (s && *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-+/=") == strlen(s))
                buf_puts(b, s);
        else
                put_c_escaped(b, s);
}

void buf_put_nft_string(struct buf *b, const char *s) {
        buf_putc(b, '"');
        for (; s && *s; s++)
                if (*s != '"' && *s != '\\' && !is_control((unsigned char) *s))
                        buf_putc(b, *s);
        buf_putc(b, '"');
}

int buf_put_pg_quoted(struct buf *b, const char *s) {
        for (const char *p = s; p && *p; p++)
                if (is_control((unsigned char) *p))
                        return -EINVAL;
        buf_putc(b, '\'');
        for (; s && *s; s++) {
                if (*s == '\'' || *s == '\\')
                        buf_putc(b, *s);
                buf_putc(b, *s);
        }
        buf_putc(b, '\'');
        return 0;
}

bool boot_word_ok(const char *s) {
        if (!s || !*s)
                return false;
        return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-:/=,@") == strlen(s);
}

void buf_put_yaml_scalar(struct buf *b, const char *s) {
        static const char word[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._/-";
        if (s && *s && strchr(word, *s) && *s != '.' && *s != '/' && *s != '-' && *s != '_' &&
            strspn(s, word) == strlen(s))
                buf_puts(b, s);
        else
                buf_put_yaml_quoted(b, s);
}
