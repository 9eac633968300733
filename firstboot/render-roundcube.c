/* SPDX-License-Identifier: MIT */
/* Roundcube served for real on comm: nginx in front of PHP-FPM, with the distribution's package.
 * (The package's own web configuration is Apache's or lighttpd's; nginx gets this one.) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apps.h"
#include "cleanup.h"
#include "fileio.h"
#include "util.h"

/* "8.10" > "8.3": numerically, part by part. */
static int version_cmp(const char *a, const char *b) {
        while (*a || *b) {
                unsigned long x = strtoul(a, (char **) &a, 10), y = strtoul(b, (char **) &b, 10);
                if (x != y)
                        return x < y ? -1 : 1;
                if (*a == '.')
                        a++;
                if (*b == '.')
                        b++;
                if (!*a != !*b)
                        return *a ? 1 : -1;
        }
        return 0;
}

static bool version_like(const char *s) {
        if (!*s || !strchr("0123456789", *s))
                return false;
        for (; *s; s++)
                if (!strchr("0123456789.", *s))
                        return false;
        return true;
}

int php_fpm_version(int root_fd, char **ret) {
        _cleanup_close_ int fd = openat(root_fd, "etc/php", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = NULL;
        if (fd < 0)
                return -ENOENT;
        int r = opendir_dup(fd, &d);
        if (r < 0)
                return r;
        _cleanup_free_ char *best = NULL;
        for (struct dirent *de; (de = readdir(d));) {
                if (!version_like(de->d_name))
                        continue;
                _cleanup_free_ char *conf = strprintf("%s/fpm/php-fpm.conf", de->d_name);
                if (!conf || faccessat(fd, conf, F_OK, 0) < 0)
                        continue;
                if (!best || version_cmp(de->d_name, best) > 0) {
                        free(best);
                        if (!(best = strdup(de->d_name)))
                                break;
                }
        }
        closedir(d);
        if (!best)
                return -ENOENT;
        *ret = TAKE_PTR(best);
        return 0;
}

char *roundcube_nginx_render(const char *php_version) {
        if (!php_version || !version_like(php_version))
                return NULL;
        return strprintf(
                "# Written by rackstack-firstboot: Roundcube webmail (the distribution's package) through\n"
                "# PHP %s's FPM. Plain HTTP: the site's Traefik terminates TLS in front of it.\n"
                "server {\n"
                "\tlisten 80 default_server;\n"
                "\tlisten [::]:80 default_server;\n"
                "\tserver_name _;\n"
                "\troot " ROUNDCUBE_DOCROOT ";\n"
                "\tindex index.php;\n"
                "\tclient_max_body_size 25m;\n"
                "\n"
                "\t# what Roundcube's .htaccess keeps out of the web\n"
                "\tlocation ~ /\\. { deny all; }\n"
                "\tlocation ~ ^/(config|temp|logs|bin|SQL|installer)(/|$) { deny all; }\n"
                "\n"
                "\tlocation / {\n"
                "\t\ttry_files $uri $uri/ /index.php$is_args$args;\n"
                "\t}\n"
                "\tlocation ~ \\.php$ {\n"
                "\t\tinclude snippets/fastcgi-php.conf;\n"
                "\t\tfastcgi_pass unix:/run/php/php%s-fpm.sock;\n"
                "\t}\n"
                "}\n",
                php_version, php_version);
}

bool roundcube_login_page(const char *body) {
        /* Roundcube's login form: its user and password inputs (program/actions/login/index.php
         * names them rcmloginuser and rcmloginpwd), posted to the login task. A PHP source file
         * served as text would hold these words too, so "<?php" is a failure. */
        return body && strstr(body, "id=\"rcmloginuser\"") && strstr(body, "id=\"rcmloginpwd\"") &&
               strstr(body, "_task") && !strstr(body, "<?php");
}

int roundcube_dbconfig_sqlite(const char *conf, char **ret) {
        if (!conf)
                return -EINVAL;
        struct buf b = {};
        bool typed = false, sqlite = false, based = false;
        for (const char *l = conf; *l;) {
                size_t n = strcspn(l, "\n");
                const char *next = l + n + (l[n] == '\n');
                if (startswith(l, "dbc_dbtype=")) {
                        typed = true;
                        sqlite = strneq(l, "dbc_dbtype='sqlite3'", n) && n == strlen("dbc_dbtype='sqlite3'");
                        buf_puts(&b, "dbc_dbtype='sqlite3'\n");
                } else if (startswith(l, "dbc_basepath=")) {
                        based = true;
                        buf_puts(&b, "dbc_basepath='" ROUNDCUBE_SQLITE_DIR "'\n");
                } else {
                        buf_printf(&b, "%.*s\n", (int) n, l);
                }
                l = next;
        }
        if (!typed || sqlite) {
                buf_done(&b);
                if (!typed)
                        return -EBADMSG;
                *ret = NULL;
                return 0;
        }
        if (!based)
                buf_puts(&b, "dbc_basepath='" ROUNDCUBE_SQLITE_DIR "'\n");
        char *t = buf_steal(&b);
        if (!t)
                return -ENOMEM;
        *ret = t;
        return 0;
}
