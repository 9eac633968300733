/* SPDX-License-Identifier: MIT */
/* Hostile profile and site text through every renderer that writes a config or a script: a newline,
 * a quote, a backslash, $( ) and ; must be rendered harmlessly (quoted, or inert in a comment) or
 * refused. The pg_hba.conf and import.sh cases are the ones a review found. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "netplan.h"
#include "proxmox.h"
#include "render.h"
#include "util.h"

#define S(x) ((char *) (x))

static const char *const hostile[] = {
        "x\nhost all all 0.0.0.0/0 trust",
        "x\r\nINJECTED",
        "a\"b\\c",
        "it's $(touch /tmp/pwned) `id`; rm -rf / #",
        "tab\there\x01\x7f",
};

/* No line of text begins with what follows the newline in the hostile value. */
static void no_injected_line(const char *text) {
        for (const char *l = text; l && *l; l += strcspn(l, "\n"), l += *l == '\n') {
                if (strncmp(l, "host all all 0.0.0.0/0 trust", 28) == 0 || strncmp(l, "INJECTED", 8) == 0 ||
                    strncmp(l, "rm -rf", 6) == 0)
                        fail_msg("injected line: %.60s", l);
        }
}

static char *put(void (*f)(struct buf *, const char *), const char *s) {
        struct buf b = {};
        f(&b, s);
        return buf_steal(&b);
}

static void test_helpers(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                _cleanup_free_ char *c = put(buf_put_comment_text, hostile[i]);
                assert_null(strpbrk(c, "\n\r\x01\x7f"));
                _cleanup_free_ char *y = put(buf_put_yaml_quoted, hostile[i]);
                assert_null(strpbrk(y, "\n\r\x01\x7f"));
                _cleanup_free_ char *n = put(buf_put_nft_string, hostile[i]);
                size_t nl = strlen(n);
                assert_true(nl >= 2 && n[0] == '"' && n[nl - 1] == '"');
                n[nl - 1] = 0;
                assert_null(strpbrk(n + 1, "\"\\\n\r\x01\x7f"));
                _cleanup_free_ char *r = put(buf_put_redis_arg, hostile[i]);
                assert_null(strpbrk(r, "\n\r\x01"));
        }
        _cleanup_free_ char *q = put(buf_put_sh_quoted, "it's $(x)");
        assert_string_equal(q, "'it'\\''s $(x)'");
        _cleanup_free_ char *y = put(buf_put_yaml_quoted, "a\"b\\c\nd\x01");
        assert_string_equal(y, "\"a\\\"b\\\\c\\nd\\x01\"");
        _cleanup_free_ char *plain = put(buf_put_yaml_scalar, "bond0.40"), *odd = put(buf_put_yaml_scalar, "-x: y");
        assert_string_equal(plain, "bond0.40");
        assert_string_equal(odd, "\"-x: y\"");
        struct buf b = {};
        assert_int_equal(buf_put_pg_quoted(&b, "a'b\\c"), 0);
        _cleanup_free_ char *pg = buf_steal(&b);
        assert_string_equal(pg, "'a''b\\\\c'");
        struct buf b2 = {};
        assert_int_equal(buf_put_pg_quoted(&b2, "a\nb"), -EINVAL);
        assert_int_equal(b2.len, 0);
        buf_done(&b2);
        assert_true(boot_word_ok("lab-db1"));
        assert_true(boot_word_ok("http://next-server/rackstack/lab-db1"));
        assert_false(boot_word_ok("db init=/bin/sh"));
        assert_false(boot_word_ok("db\nboot"));
        assert_false(boot_word_ok("a;b"));
        assert_false(boot_word_ok(""));
}

static void test_pg_hba(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                struct vlan_spec v = { .id = 40, .name = S(hostile[i]), .subnet = 0x0a002800, .prefix = 24 };
                const struct vlan_spec *vs[] = { &v };
                _cleanup_free_ char *t = pg_hba_render(vs, 1);
                assert_non_null(t);
                no_injected_line(t);
                /* Six fixed lines, one per VLAN, whatever the name. */
                size_t lines = 0;
                for (const char *p = t; (p = strchr(p, '\n')); p++)
                        lines++;
                assert_int_equal(lines, 7);
        }
        /* postgresql.conf: a listen list that cannot be quoted is refused, not written. */
        struct pg_tune t = {};
        struct pg_tune_input in = { .ram = 8ull << 30, .max_connections = 100, .cpus = 2 };
        assert_int_equal(pg_tune_compute(&in, &t), 0);
        assert_null(pg_tune_render(&t, "localhost\nlisten_addresses = '*'"));
        _cleanup_free_ char *ok = pg_tune_render(&t, "localhost,10.0.40.12");
        assert_non_null(strstr(ok, "listen_addresses = 'localhost,10.0.40.12'\n"));
}

static void test_redis(void **state) {
        _cleanup_free_ char *t = redis_render(0x0a002a0c, 1 << 30, "pw\nrequirepass \"\"\nbind 0.0.0.0");
        assert_non_null(t);
        assert_null(strstr(t, "\nbind 0.0.0.0"));
        assert_null(strstr(t, "\nrequirepass \"\"\n"));
        _cleanup_free_ char *plain = redis_render(0x0a002a0c, 1 << 30, "0123abcd");
        assert_non_null(strstr(plain, "\nrequirepass 0123abcd\n"));
}

static void test_import_sh(void **state) {
        struct diags d = {};
        struct profile *p = NULL;
        struct site *s = NULL;
        assert_int_equal(profile_load("profiles", "db", &d, &p), 0);
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        diags_done(&d);
        const struct host_spec *h = site_find_host_by_role(s, "db");
        struct proxmox_plan plan = {};
        assert_int_equal(proxmox_plan_build(p, h, &plan), 0);
        assert_true(plan.n_disks > 0);
        for (size_t i = 0; i < ELEMENTSOF(hostile); i++) {
                free(plan.disks[0].name);
                plan.disks[0].name = strdup(hostile[i]);
                free(plan.description);
                plan.description = strdup(hostile[i]);
                _cleanup_free_ char *sh = proxmox_import_render(&plan), *conf = proxmox_conf_render(&plan);
                assert_non_null(sh);
                assert_non_null(conf);
                /* The disk name sits in a comment, inert; the description in a quoted word. */
                no_injected_line(conf);
                _cleanup_free_ char *comment = NULL;
                {
                        struct buf c = {};
                        buf_puts(&c, "\n# ");
                        buf_put_comment_text(&c, hostile[i]);
                        buf_puts(&c, ": ");
                        comment = buf_steal(&c);
                }
                assert_non_null(strstr(sh, comment));
                /* bash parses it, and its variables (up to usage()) hold the text as given, having run nothing. */
                char path[] = "/tmp/test-escape-import.XXXXXX";
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                const char *end = strstr(sh, "\nusage() {");
                assert_non_null(end);
                assert_int_equal(write(fd, sh, end - sh), (ssize_t) (end - sh));
                close(fd);
                _cleanup_free_ char *out = strprintf("%s.out", path);
                _cleanup_free_ char *cmd = strprintf("bash -n %s && bash -c '. %s; printf %%s \"$DESCRIPTION\"' > %s", path,
                                                     path, out);
                assert_int_equal(system(cmd), 0);
                _cleanup_free_ char *got = NULL, *want = strprintf("rackstack %s (role db): %s", plan.host, hostile[i]);
                assert_int_equal(read_file_full(AT_FDCWD, out, 4096, &got, NULL), 0);
                assert_string_equal(got, want);
                unlink(out);
                unlink(path);
        }
        assert_int_equal(access("/tmp/pwned", F_OK), -1);
        proxmox_plan_done(&plan);
        profile_free(p);
        site_free(s);
}

static void test_netplan(void **state) {
        struct net_addr addr = { .addr = 0x0a002a0c, .prefix = 24 };
        struct net_link links[] = {
                { .kind = NET_LINK_ETHER, .name = S("eth0\n  evil: 1"), .mac = S("52:54:00:00:00:11"), .addrs = &addr,
                  .n_addrs = 1 },
        };
        char *dns[] = { S("1.1.1.1\"\n    - evil"), NULL };
        char *search[] = { S("d\\\"x"), NULL };
        struct net_plan np = { .hostname = S("h\nnetwork: {}"), .links = links, .n_links = 1, .dns = dns,
                               .search = search };
        _cleanup_free_ char *y = netplan_render(&np);
        assert_non_null(y);
        assert_null(strstr(y, "\n  evil"));
        assert_null(strstr(y, "\n    - evil"));
        assert_null(strstr(y, "\nnetwork: {}"));
        assert_non_null(strstr(y, "- \"1.1.1.1\\\"\\n    - evil\"\n")); /* the nameserver, quoted whole */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_helpers),
                cmocka_unit_test(test_pg_hba),
                cmocka_unit_test(test_redis),
                cmocka_unit_test(test_import_sh),
                cmocka_unit_test(test_netplan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
