/* SPDX-License-Identifier: MIT */
/* Redis: the seed's cache, session store and queue on the database server. It answers the other
 * servers on the database VLAN, and its memory is what the profile sets aside for it, so that
 * PostgreSQL's budget (which assumes exactly that) holds. */
#include <inttypes.h>

#include "escape.h"
#include "render.h"
#include "util.h"

char *redis_render(uint32_t addr, uint64_t maxmemory, const char *password) {
        if (addr && !password)
                return NULL;
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot; included at the end of redis.conf, so it wins.\n");
        if (addr)
                buf_printf(&b, "bind 127.0.0.1 -::1 %u.%u.%u.%u\n", addr >> 24, (addr >> 16) & 0xff, (addr >> 8) & 0xff,
                           addr & 0xff);
        else
                buf_puts(&b, "bind 127.0.0.1 -::1\n");
        if (password) {
                buf_puts(&b, "requirepass ");
                buf_put_redis_arg(&b, password);
                buf_putc(&b, '\n');
        }
        if (maxmemory) {
                buf_printf(&b, "maxmemory %" PRIu64 "mb\n", maxmemory >> 20);
                buf_puts(&b, "maxmemory-policy allkeys-lru\n");
        }
        return buf_steal(&b);
}
