/* SPDX-License-Identifier: MIT */
#pragma once

/* The one URL parser, for kickstart/HTTP fetches and for mirrors: SCHEME://HOST[:PORT][/PATH].
 * HOST may be a bracketed IPv6 literal; user info (user:pw@) is refused: credentials do not belong
 * in a kickstart or mirror URL. */
struct url {
        char *scheme; /* lower-case */
        char *host;   /* without brackets; may be empty for a scheme other than http(s) (file:///srv) */
        char *port;   /* digits, 1..65535; 80 or 443 when http(s) names none; else "" */
        char *path;   /* starts with '/'; for http(s), the query kept, the fragment dropped, and no
                       * space or control character (it would split the request line) */
};

/* 0 with *ret, -EINVAL if url is not of that form, -ENOMEM. */
int url_parse(const char *url, struct url *ret);
void url_done(struct url *u);
