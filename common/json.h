/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* A small streaming JSON writer over struct buf: enough for manifests, plans, status and
 * events. It tracks nesting so commas come out right; keys and strings are escaped. */

struct json {
        struct buf out;
        unsigned depth;
        bool need_comma[32];
        bool pretty;
        bool after_key;
};

void json_begin_object(struct json *j);
void json_end_object(struct json *j);
void json_begin_array(struct json *j);
void json_end_array(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s); /* NULL writes null */
void json_uint(struct json *j, uint64_t v);
void json_int(struct json *j, int64_t v);
void json_double(struct json *j, double v);
void json_bool(struct json *j, bool v);
void json_null(struct json *j);
/* A value already serialised by another writer (trusted: it is inserted as is). */
void json_raw(struct json *j, const char *text);

/* Shorthands for "key": value. */
void json_kv_string(struct json *j, const char *key, const char *s);
void json_kv_uint(struct json *j, const char *key, uint64_t v);
void json_kv_int(struct json *j, const char *key, int64_t v);
void json_kv_bool(struct json *j, const char *key, bool v);
void json_kv_double(struct json *j, const char *key, double v);

/* Escape s as a JSON string literal (with quotes) into b. */
void json_escape(struct buf *b, const char *s);
