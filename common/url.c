/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "url.h"
#include "util.h"

void url_done(struct url *u) {
        free(u->scheme);
        free(u->host);
        free(u->port);
        free(u->path);
        *u = (struct url) {};
}

/* HOST[:PORT] between h and end into u's host and port. */
static int parse_authority(const char *h, const char *end, struct url *u) {
        const char *hend, *port = NULL;
        if (*h == '[') {
                const char *rb = memchr(h, ']', end - h);
                if (!rb)
                        return -EINVAL;
                hend = rb + 1;
                if (hend < end && *hend == ':')
                        port = hend + 1;
                else if (hend != end)
                        return -EINVAL;
                h++;
                hend = rb;
        } else {
                const char *colon = memchr(h, ':', end - h);
                hend = colon ? colon : end;
                if (colon)
                        port = colon + 1;
        }
        if (memchr(h, '@', end - h))
                return -EINVAL;
        u->host = strndup(h, hend - h);
        u->port = port ? strndup(port, end - port) : NULL;
        if (!u->host || (port && !u->port))
                return -ENOMEM;
        return 0;
}

static bool port_valid(const char *p) {
        if (!*p || strlen(p) > 5 || strspn(p, "0123456789") != strlen(p))
                return false;
        long v = strtol(p, NULL, 10);
        return v >= 1 && v <= 65535;
}

static int parse_web(struct url *u) {
        if (!*u->host)
                return -EINVAL;
        if (!u->port && !(u->port = strdup(streq(u->scheme, "https") ? "443" : "80")))
                return -ENOMEM;
        if (!port_valid(u->port))
                return -EINVAL;
        char *hash = strchr(u->path, '#');
        if (hash)
                *hash = '\0';
        for (const char *c = u->path; *c; c++)
                if ((unsigned char) *c <= ' ' || *c == 0x7f)
                        return -EINVAL;
        return 0;
}

int url_parse(const char *url, struct url *ret) {
        const char *sep = url ? strstr(url, "://") : NULL;
        if (!sep || sep == url || strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") !=
                                          (size_t) (sep - url))
                return -EINVAL;
        _cleanup_(url_done) struct url u = {};
        if (!(u.scheme = strndup(url, sep - url)))
                return -ENOMEM;
        for (char *c = u.scheme; *c; c++)
                *c = (char) tolower((unsigned char) *c);
        const char *h = sep + 3, *end = h + strcspn(h, "/?#");
        int r = parse_authority(h, end, &u);
        if (r < 0)
                return r;
        if (!(u.path = *end == '/' ? strdup(end) : strprintf("/%s", end)))
                return -ENOMEM;
        if (streq(u.scheme, "http") || streq(u.scheme, "https"))
                r = parse_web(&u);
        else if (u.port && !port_valid(u.port))
                r = -EINVAL;
        else if (!u.port && !(u.port = strdup("")))
                r = -ENOMEM;
        if (r < 0)
                return r;
        *ret = u;
        u = (struct url) {};
        return 0;
}
