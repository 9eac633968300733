/* SPDX-License-Identifier: MIT */
/* firstboot/render-roundcube.c: nginx's site for Roundcube, the PHP-FPM it uses, the login-page check. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps.h"
#include "cleanup.h"
#include "fileio.h"
#include "util.h"

static void test_render(void **state) {
        _cleanup_free_ char *s = roundcube_nginx_render("8.3");
        assert_non_null(s);
        assert_non_null(strstr(s, "\tlisten 80 default_server;\n"));
        assert_non_null(strstr(s, "\troot /var/lib/roundcube/public_html;\n"));
        assert_non_null(strstr(s, "\t\tfastcgi_pass unix:/run/php/php8.3-fpm.sock;\n"));
        assert_non_null(strstr(s, "include snippets/fastcgi-php.conf;"));
        assert_non_null(strstr(s, "location ~ ^/(config|temp|logs|bin|SQL|installer)(/|$) { deny all; }"));
        /* a version that is not one is not put in a path */
        assert_null(roundcube_nginx_render("8.3/../../x"));
        assert_null(roundcube_nginx_render(""));
        assert_null(roundcube_nginx_render(NULL));
}

static void mk(const char *root, const char *rel) {
        _cleanup_free_ char *p = strprintf("%s/%s", root, rel);
        char *slash = strrchr(p, '/');
        *slash = 0;
        assert_int_equal(mkdir_parents_at(AT_FDCWD, p, 0755), 0);
        *slash = '/';
        assert_int_equal(write_file_atomic(AT_FDCWD, p, "x", 1, 0644), 0);
}

static void test_fpm_version(void **state) {
        char tmpl[] = "/tmp/test-roundcube-XXXXXX";
        assert_non_null(mkdtemp(tmpl));
        _cleanup_close_ int fd = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        char *v = NULL;
        assert_int_equal(php_fpm_version(fd, &v), -ENOENT); /* no /etc/php */
        mk(tmpl, "etc/php/8.2/cli/php.ini");                 /* PHP, but no FPM */
        assert_int_equal(php_fpm_version(fd, &v), -ENOENT);
        mk(tmpl, "etc/php/8.3/fpm/php-fpm.conf");
        mk(tmpl, "etc/php/8.10/fpm/php-fpm.conf"); /* numerically newer, not as text */
        mk(tmpl, "etc/php/mods-available/fpm/php-fpm.conf");
        assert_int_equal(php_fpm_version(fd, &v), 0);
        assert_string_equal(v, "8.10");
        free(v);
        _cleanup_free_ char *cmd = strprintf("rm -rf %s", tmpl);
        assert_int_equal(system(cmd), 0);
}

static void test_login_page(void **state) {
        /* what Roundcube 1.6's login task serves (elastic skin, shortened) */
        static const char page[] =
                "<!DOCTYPE html><html lang=\"en\"><head><title>Roundcube Webmail :: Welcome to Roundcube Webmail</title>"
                "<form id=\"login-form\" name=\"login-form\" method=\"post\" class=\"propform\" action=\"./?_task=login\">"
                "<input type=\"hidden\" name=\"_task\" value=\"login\"><table><tbody><tr><td class=\"input\">"
                "<input name=\"_user\" id=\"rcmloginuser\" required size=\"40\" autocapitalize=\"off\" autocomplete=\"off\" type=\"text\"></td></tr>"
                "<tr><td class=\"input\"><input name=\"_pass\" id=\"rcmloginpwd\" required size=\"40\" autocomplete=\"off\" type=\"password\">"
                "</td></tr></tbody></table><button type=\"submit\" id=\"rcmloginsubmit\">Login</button></form></html>";
        assert_true(roundcube_login_page(page));
        assert_false(roundcube_login_page("<html><head><title>Welcome to nginx!</title></head></html>"));
        assert_false(roundcube_login_page("<html><body><h1>DATABASE ERROR: CONNECTION FAILED!</h1></body></html>"));
        /* PHP not run: the source of the login action served as text */
        assert_false(roundcube_login_page("<?php\n$input_user = new html_inputfield(['id' => 'rcmloginuser']); "
                                          "// id=\"rcmloginuser\" id=\"rcmloginpwd\" _task"));
        assert_false(roundcube_login_page(NULL));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_render),
                cmocka_unit_test(test_fpm_version),
                cmocka_unit_test(test_login_page),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
