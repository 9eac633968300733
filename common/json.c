/* SPDX-License-Identifier: MIT */
#include <inttypes.h>
#include <math.h>

#include "json.h"

static void indent(struct json *j) {
        if (!j->pretty)
                return;
        buf_putc(&j->out, '\n');
        for (unsigned i = 0; i < j->depth; i++)
                buf_puts(&j->out, "  ");
}

static void value_prefix(struct json *j) {
        if (j->after_key) {
                j->after_key = false;
                return;
        }
        if (j->depth > 0) {
                if (j->need_comma[j->depth])
                        buf_putc(&j->out, ',');
                j->need_comma[j->depth] = true;
                indent(j);
        }
}

void json_escape(struct buf *b, const char *s) {
        buf_putc(b, '"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                switch (*p) {
                case '"': buf_puts(b, "\\\""); break;
                case '\\': buf_puts(b, "\\\\"); break;
                case '\n': buf_puts(b, "\\n"); break;
                case '\r': buf_puts(b, "\\r"); break;
                case '\t': buf_puts(b, "\\t"); break;
                default:
                        if (*p < 0x20)
                                buf_printf(b, "\\u%04x", *p);
                        else
                                buf_putc(b, (char) *p);
                }
        }
        buf_putc(b, '"');
}

static void open_container(struct json *j, char c) {
        value_prefix(j);
        buf_putc(&j->out, c);
        if (j->depth + 1 < ELEMENTSOF(j->need_comma))
                j->depth++;
        j->need_comma[j->depth] = false;
}

static void close_container(struct json *j, char c) {
        bool had = j->need_comma[j->depth];
        if (j->depth > 0)
                j->depth--;
        if (had)
                indent(j);
        buf_putc(&j->out, c);
}

void json_begin_object(struct json *j) { open_container(j, '{'); }
void json_end_object(struct json *j) { close_container(j, '}'); }
void json_begin_array(struct json *j) { open_container(j, '['); }
void json_end_array(struct json *j) { close_container(j, ']'); }

void json_raw(struct json *j, const char *text) {
        value_prefix(j);
        buf_puts(&j->out, text ? text : "null");
}

void json_key(struct json *j, const char *key) {
        value_prefix(j);
        json_escape(&j->out, key);
        buf_puts(&j->out, j->pretty ? ": " : ":");
        j->after_key = true;
}

void json_string(struct json *j, const char *s) {
        value_prefix(j);
        if (!s)
                buf_puts(&j->out, "null");
        else
                json_escape(&j->out, s);
}

void json_uint(struct json *j, uint64_t v) {
        value_prefix(j);
        buf_printf(&j->out, "%" PRIu64, v);
}

void json_int(struct json *j, int64_t v) {
        value_prefix(j);
        buf_printf(&j->out, "%" PRId64, v);
}

void json_double(struct json *j, double v) {
        value_prefix(j);
        if (isfinite(v))
                buf_printf(&j->out, "%.3f", v);
        else
                buf_puts(&j->out, "null");
}

void json_bool(struct json *j, bool v) {
        value_prefix(j);
        buf_puts(&j->out, v ? "true" : "false");
}

void json_null(struct json *j) {
        value_prefix(j);
        buf_puts(&j->out, "null");
}

void json_kv_string(struct json *j, const char *key, const char *s) { json_key(j, key); json_string(j, s); }
void json_kv_uint(struct json *j, const char *key, uint64_t v) { json_key(j, key); json_uint(j, v); }
void json_kv_int(struct json *j, const char *key, int64_t v) { json_key(j, key); json_int(j, v); }
void json_kv_bool(struct json *j, const char *key, bool v) { json_key(j, key); json_bool(j, v); }
void json_kv_double(struct json *j, const char *key, double v) { json_key(j, key); json_double(j, v); }
