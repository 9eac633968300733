/* SPDX-License-Identifier: MIT */
/* Kernel command line words and inst.ks= source specs.
 *
 * KS_CORPUS_DIR=dir makes the tests write each command line there (fuzz seed corpus). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "kcmdline.h"
#include "util.h"

static void dump_corpus(const char *name, const char *data) {
        const char *dir = getenv("KS_CORPUS_DIR");
        if (!dir)
                return;
        _cleanup_free_ char *path = strprintf("%s/%s", dir, name);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        fputs(data, f);
        assert_int_equal(fclose(f), 0);
}

static void test_words(void **state) {
        static const char line[] = "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=1234-abcd ro quiet "
                                   "console=ttyS0,115200 inst.ks=hd:LABEL=OEMDRV:/ks.cfg  \"a b\"=\"c d\" "
                                   "x=\"1 2\"3 empty= console=tty0 \t novalue\n";
        dump_corpus("proc-cmdline", line);
        _cleanup_(kcmdline_freep) struct kcmdline *c = NULL;
        assert_int_equal(kcmdline_parse(line, &c), 0);
        assert_int_equal(c->n, 11);
        assert_string_equal(c->entries[0].key, "BOOT_IMAGE");
        assert_string_equal(c->entries[0].value, "/vmlinuz-6.1.0");
        /* Only the first '=' splits. */
        assert_string_equal(c->entries[1].key, "root");
        assert_string_equal(c->entries[1].value, "UUID=1234-abcd");
        assert_string_equal(c->entries[2].key, "ro");
        assert_null(c->entries[2].value);
        assert_string_equal(c->entries[6].key, "a b");
        assert_string_equal(c->entries[6].value, "c d");
        assert_string_equal(c->entries[7].value, "1 23");
        assert_string_equal(c->entries[8].key, "empty");
        assert_string_equal(c->entries[8].value, "");
        assert_string_equal(c->entries[10].key, "novalue");

        /* Last wins for lookups, but both are kept. */
        assert_string_equal(kcmdline_get(c, "console"), "tty0");
        assert_string_equal(c->entries[4].value, "ttyS0,115200");
        assert_true(kcmdline_has(c, "quiet"));
        assert_null(kcmdline_get(c, "quiet"));
        assert_false(kcmdline_has(c, "splash"));
        assert_null(kcmdline_get(c, "splash"));
        assert_string_equal(kcmdline_get(c, "inst.ks"), "hd:LABEL=OEMDRV:/ks.cfg");
}

static void test_words_edge(void **state) {
        _cleanup_(kcmdline_freep) struct kcmdline *c = NULL, *e = NULL, *u = NULL;
        assert_int_equal(kcmdline_parse("", &c), 0);
        assert_int_equal(c->n, 0);
        assert_int_equal(kcmdline_parse("   \n", &e), 0);
        assert_int_equal(e->n, 0);
        /* An unterminated quote runs to the end, as in the kernel. */
        assert_int_equal(kcmdline_parse("a=\"b c", &u), 0);
        assert_int_equal(u->n, 1);
        assert_string_equal(u->entries[0].value, "b c");
}

struct good_source {
        const char *spec;
        enum ks_source_kind kind;
        enum ks_hd_by hd_by;
        const char *device, *path, *host;
        uint16_t port;
};

static const struct good_source good[] = {
        { "/run/install/ks.cfg", KS_SOURCE_PATH, 0, NULL, "/run/install/ks.cfg", NULL, 0 },
        { "file:/ks.cfg", KS_SOURCE_PATH, 0, NULL, "/ks.cfg", NULL, 0 },
        { "hd:LABEL=OEMDRV:/ks.cfg", KS_SOURCE_HD, KS_HD_BY_LABEL, "OEMDRV", "/ks.cfg", NULL, 0 },
        { "hd:UUID=2c6f-19ab:/kickstart/lab-db1.ks", KS_SOURCE_HD, KS_HD_BY_UUID, "2c6f-19ab", "/kickstart/lab-db1.ks",
          NULL, 0 },
        { "hd:sdb1:/ks.cfg", KS_SOURCE_HD, KS_HD_BY_NAME, "sdb1", "/ks.cfg", NULL, 0 },
        { "hd:/dev/vdb:/ks.cfg", KS_SOURCE_HD, KS_HD_BY_NAME, "/dev/vdb", "/ks.cfg", NULL, 0 },
        { "cdrom", KS_SOURCE_CDROM, 0, NULL, "/ks.cfg", NULL, 0 },
        { "cdrom:/kickstart/lab-it1.ks", KS_SOURCE_CDROM, 0, NULL, "/kickstart/lab-it1.ks", NULL, 0 },
        { "http://10.0.50.19/ks/lab-db1.ks", KS_SOURCE_HTTP, 0, NULL, "/ks/lab-db1.ks", "10.0.50.19", 0 },
        { "http://deploy.domain.com:8080/ks?host=db", KS_SOURCE_HTTP, 0, NULL, "/ks?host=db", "deploy.domain.com", 8080 },
        { "https://deploy.domain.com", KS_SOURCE_HTTPS, 0, NULL, "/", "deploy.domain.com", 0 },
};

static void test_sources(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                const struct good_source *g = &good[i];
                _cleanup_free_ char *line = strprintf("quiet inst.ks=%s\n", g->spec);
                _cleanup_free_ char *name = strprintf("good-%zu", i);
                dump_corpus(name, line);
                struct diags d = {};
                _cleanup_(ks_source_freep) struct ks_source *s = NULL;
                int r = ks_source_parse(g->spec, &d, &s);
                if (r < 0) {
                        fprintf(stderr, "%s: %d\n", g->spec, r);
                        diags_print(&d, stderr);
                }
                assert_int_equal(r, 0);
                assert_int_equal(d.n, 0);
                assert_int_equal(s->kind, g->kind);
                assert_string_equal(s->path, g->path);
                if (g->kind == KS_SOURCE_HD) {
                        assert_int_equal(s->hd_by, g->hd_by);
                        assert_string_equal(s->device, g->device);
                } else
                        assert_null(s->device);
                if (g->host) {
                        assert_string_equal(s->host, g->host);
                        assert_string_equal(s->url, g->spec);
                } else
                        assert_null(s->host);
                assert_int_equal(s->port, g->port);
                assert_false(s->has_sha256);
        }
}

struct bad_source {
        const char *spec;
        int error;
        unsigned col;
        const char *message;
};

static const struct bad_source bad[] = {
        { "nfs:server:/ks.cfg", -EPROTONOSUPPORT, 1, "unsupported kickstart source scheme" },
        { "ftp://host/ks.cfg", -EPROTONOSUPPORT, 1, "unsupported kickstart source scheme" },
        { "ks.cfg", -EINVAL, 1, "invalid kickstart source" },
        { "", -EINVAL, 1, "invalid kickstart source" },
        { "hd:sdb1", -EINVAL, 4, "is not hd:DEVICE:/PATH" },
        { "hd::/ks.cfg", -EINVAL, 4, "is not hd:DEVICE:/PATH" },
        { "hd:LABEL=:/ks.cfg", -EINVAL, 4, "invalid device" },
        { "hd:UUID=xyz:/ks.cfg", -EINVAL, 4, "invalid device" },
        { "hd:/etc/passwd:/ks.cfg", -EINVAL, 4, "invalid device" },
        { "hd:sdb1:/", -EINVAL, 9, "invalid path" },
        { "cdrom:ks.cfg", -EINVAL, 7, "invalid path" },
        { "http://", -EINVAL, 8, "invalid host" },
        { "http://bad_host/ks", -EINVAL, 8, "invalid host" },
        { "http://300.1.1.1/ks", -EINVAL, 8, "invalid host" },
        { "https://h:0/ks", -EINVAL, 11, "invalid port" },
        { "https://h:99999/ks", -EINVAL, 11, "invalid port" },
        { "https://h:80x/ks", -EINVAL, 11, "invalid port" },
};

static void test_bad_sources(void **state) {
        size_t failures = 0;
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                const struct bad_source *b = &bad[i];
                _cleanup_free_ char *line = strprintf("inst.ks=%s", b->spec);
                _cleanup_free_ char *name = strprintf("bad-%zu", i);
                dump_corpus(name, line);
                struct diags d = {};
                struct ks_source *s = NULL;
                int r = ks_source_parse(b->spec, &d, &s);
                bool ok = r == b->error && !s && d.n_errors == 1 && d.items[0].col == b->col &&
                          strstr(d.items[0].message, b->message);
                if (!ok) {
                        fprintf(stderr, "'%s': r=%d, want %d at col %u '%s'; got:\n", b->spec, r, b->error, b->col,
                                b->message);
                        diags_print(&d, stderr);
                        failures++;
                }
                ks_source_free(s);
                diags_done(&d);
        }
        assert_int_equal(failures, 0);
        /* Without diags, the same answers. */
        struct ks_source *s = NULL;
        assert_int_equal(ks_source_parse("nfs:x:/y", NULL, &s), -EPROTONOSUPPORT);
        assert_int_equal(ks_source_parse("hd:x", NULL, &s), -EINVAL);
        assert_null(s);
}

static void test_cmdline_source(void **state) {
        static const char sum[] = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08";
        _cleanup_free_ char *line = strprintf("ro ks=cdrom inst.ks=hd:LABEL=OEMDRV:/ks.cfg inst.ks.sha256=%s", sum);
        dump_corpus("sha256", line);
        _cleanup_(kcmdline_freep) struct kcmdline *c = NULL;
        assert_int_equal(kcmdline_parse(line, &c), 0);
        struct diags d = {};
        _cleanup_(ks_source_freep) struct ks_source *s = NULL;
        /* inst.ks wins over the older ks=. */
        assert_int_equal(kcmdline_ks_source(c, &d, &s), 0);
        assert_int_equal(s->kind, KS_SOURCE_HD);
        assert_true(s->has_sha256);
        assert_int_equal(s->sha256[0], 0x9f);
        assert_int_equal(s->sha256[31], 0x08);
        s = ks_source_free(s);

        _cleanup_(kcmdline_freep) struct kcmdline *old = NULL, *none = NULL, *bare = NULL, *badsum = NULL;
        assert_int_equal(kcmdline_parse("ro ks=cdrom", &old), 0);
        assert_int_equal(kcmdline_ks_source(old, &d, &s), 0);
        assert_int_equal(s->kind, KS_SOURCE_CDROM);
        s = ks_source_free(s);

        assert_int_equal(kcmdline_parse("ro quiet", &none), 0);
        assert_int_equal(kcmdline_ks_source(none, &d, &s), -ENOENT);
        assert_int_equal(d.n, 0);

        assert_int_equal(kcmdline_parse("inst.ks", &bare), 0);
        assert_int_equal(kcmdline_ks_source(bare, &d, &s), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        assert_non_null(strstr(d.items[0].message, "needs a value"));
        diags_done(&d);

        assert_int_equal(kcmdline_parse("inst.ks=cdrom inst.ks.sha256=abc", &badsum), 0);
        assert_int_equal(kcmdline_ks_source(badsum, &d, &s), -EINVAL);
        assert_null(s);
        assert_non_null(strstr(d.items[0].message, "64 hex digits"));
        diags_done(&d);
}

static void test_sha256(void **state) {
        uint8_t h[32] = {}, z[32] = {};
        assert_int_equal(parse_sha256_hex("00112233445566778899aabbccddeeff00112233445566778899AABBCCDDEEFF", h), 0);
        assert_int_equal(h[1], 0x11);
        assert_int_equal(h[31], 0xff);
        memset(h, 0, sizeof(h));
        assert_int_equal(parse_sha256_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeef", h), -EINVAL);
        assert_int_equal(parse_sha256_hex("00112233445566778899aabbccddeeff00112233445566778899aabbccddeefg", h), -EINVAL);
        assert_int_equal(parse_sha256_hex(NULL, h), -EINVAL);
        assert_memory_equal(h, z, 32); /* untouched on failure */
}

static void test_prompt_keys(void **state) {
        _cleanup_(kcmdline_freep) struct kcmdline *none = NULL, *ok = NULL, *badv = NULL, *big = NULL, *forced = NULL,
                                                  *off = NULL;
        struct diags d = {};
        uint64_t usec = 42;
        assert_int_equal(kcmdline_parse("quiet console=ttyS0", &none), 0);
        assert_int_equal(kcmdline_prompt_timeout(none, &d, &usec), -ENOENT);
        assert_int_equal(usec, 42);
        assert_false(kcmdline_prompt_forced(none));

        /* last wins, as everywhere on the command line */
        assert_int_equal(kcmdline_parse("rackstack.prompt_timeout=9 rackstack.prompt_timeout=5 rackstack.prompt", &ok), 0);
        assert_int_equal(kcmdline_prompt_timeout(ok, &d, &usec), 0);
        assert_int_equal(usec, 5000000);
        assert_true(kcmdline_prompt_forced(ok));
        assert_int_equal(d.n, 0);

        assert_int_equal(kcmdline_parse("rackstack.prompt_timeout=5s", &badv), 0);
        assert_int_equal(kcmdline_prompt_timeout(badv, &d, &usec), -EINVAL);
        assert_int_equal(usec, 5000000);
        assert_non_null(strstr(d.items[0].message, "not '5s'"));
        diags_done(&d);
        assert_int_equal(kcmdline_parse("rackstack.prompt_timeout=0 rackstack.prompt=no", &big), 0);
        assert_int_equal(kcmdline_prompt_timeout(big, NULL, &usec), -EINVAL);
        assert_false(kcmdline_prompt_forced(big));
        assert_int_equal(kcmdline_parse("rackstack.prompt=1", &forced), 0);
        assert_true(kcmdline_prompt_forced(forced));
        assert_int_equal(kcmdline_parse("rackstack.prompt_timeout rackstack.prompt=maybe", &off), 0);
        assert_int_equal(kcmdline_prompt_timeout(off, NULL, &usec), -EINVAL);
        assert_false(kcmdline_prompt_forced(off));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_words),       cmocka_unit_test(test_words_edge),
                cmocka_unit_test(test_sources),     cmocka_unit_test(test_bad_sources),
                cmocka_unit_test(test_cmdline_source), cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_prompt_keys),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
