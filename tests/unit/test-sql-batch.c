/* SPDX-License-Identifier: MIT */
/* The import's statement batcher (firstboot/sql-batch.h): which ';' end a statement under
 * PostgreSQL's lexical rules, which of them psql is told not to send yet ("\;"), and that the output
 * does not depend on how the input is cut. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "sql-batch.h"

/* The whole of in, fed in pieces of chunk bytes (0: at once); *n_statements the terminators seen. */
static char *batch(const char *in, unsigned per, size_t max_bytes, size_t chunk, size_t *n_statements) {
        struct sql_batch s;
        sql_batch_init(&s, per, max_bytes);
        struct buf out = {};
        size_t len = strlen(in);
        if (!chunk)
                chunk = len ? len : 1;
        for (size_t i = 0; i < len; i += chunk)
                sql_batch_feed(&s, in + i, len - i < chunk ? len - i : chunk, &out);
        if (n_statements)
                *n_statements = s.statements;
        char *r = buf_steal(&out);
        assert_non_null(r);
        return r;
}

static void expect(const char *in, unsigned per, const char *want, size_t want_statements) {
        size_t n = 0;
        _cleanup_free_ char *got = batch(in, per, SIZE_MAX, 0, &n);
        assert_string_equal(got, want);
        assert_int_equal(n, want_statements);
}

static void test_plain_statements(void **state) {
        (void) state;
        expect("a;b;c;d;e;", 2, "a\\;b;c\\;d;e\\;", 5);
        expect("a;\nb;\n", 1, "a;\nb;\n", 2);
        expect("INSERT INTO t VALUES (1);\nINSERT INTO t VALUES (2);\n", 1000,
               "INSERT INTO t VALUES (1)\\;\nINSERT INTO t VALUES (2)\\;\n", 2);
        expect("", 5, "", 0);
}

static void test_quotes(void **state) {
        (void) state;
        /* standard strings: '' stays inside, a backslash is an ordinary character */
        expect("SELECT 'a;b';SELECT 'it''s; here';", 5, "SELECT 'a;b'\\;SELECT 'it''s; here'\\;", 2);
        expect("SELECT 'a\\';SELECT 1;", 5, "SELECT 'a\\'\\;SELECT 1\\;", 2);
        /* escape strings: \' does not end them (Zabbix's data.sql has 3,556 lines with E'…') */
        expect("SELECT E'a\\';b';SELECT e'\\\\';", 5, "SELECT E'a\\';b'\\;SELECT e'\\\\'\\;", 2);
        /* "the'…'" is an identifier and a standard string, not an escape string */
        expect("SELECT the'\\';SELECT 1;", 5, "SELECT the'\\'\\;SELECT 1\\;", 2);
        /* quoted identifiers, "" inside */
        expect("SELECT \"a;\"\"b\";", 5, "SELECT \"a;\"\"b\"\\;", 1);
        /* a quote that ends right before the terminator */
        expect("'x';'y';", 1, "'x';'y';", 2);
}

static void test_dollar_quotes(void **state) {
        (void) state;
        /* Zabbix's schema: plpgsql bodies in $func$ … $func$ with statements of their own */
        expect("CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $func$ begin x; y; end $func$;SELECT 1;", 5,
               "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $func$ begin x; y; end $func$\\;SELECT 1\\;", 2);
        expect("SELECT $$a;$b;$$;", 5, "SELECT $$a;$b;$$\\;", 1);
        /* another tag inside does not close it; "$$$x$" closes "$x$" after a stray '$' */
        expect("SELECT $x$ $y$; $$; $$x$;", 5, "SELECT $x$ $y$; $$; $$x$\\;", 1);
        /* not dollar quotes: a parameter, a '$' inside an identifier, bcrypt's "$2y$10$…" in a string */
        expect("SELECT $1;SELECT a$b;SELECT '$2y$10$x;';", 5, "SELECT $1\\;SELECT a$b\\;SELECT '$2y$10$x;'\\;", 3);
}

static void test_comments(void **state) {
        (void) state;
        expect("-- a; 'b\nSELECT 1;", 5, "-- a; 'b\nSELECT 1\\;", 1);
        expect("/* a; /* b; */ c; */ SELECT 1;", 5, "/* a; /* b; */ c; */ SELECT 1\\;", 1);
        expect("/*/ ; */SELECT 1;", 5, "/*/ ; */SELECT 1\\;", 1);
        /* a minus and a slash that start nothing */
        expect("SELECT 1 - -1;SELECT 4/2;", 5, "SELECT 1 - -1\\;SELECT 4/2\\;", 2);
}

static void test_parentheses_and_psql(void **state) {
        (void) state;
        /* psql does not end a statement inside parentheses */
        expect("CREATE RULE r AS ON INSERT TO t DO ALSO (a; b);SELECT 1;", 5,
               "CREATE RULE r AS ON INSERT TO t DO ALSO (a; b)\\;SELECT 1\\;", 2);
        /* psql's own "\;" stays and is not counted; a meta-command's line is its own */
        expect("a\\;b;\\set x 'y;'\nc;", 5, "a\\;b\\;\\set x 'y;'\nc\\;", 2);
}

static void test_batches_and_bytes(void **state) {
        (void) state;
        size_t n;
        /* 1000 per batch, but a query ends once it has reached max_bytes */
        _cleanup_free_ char *got = batch("aaaaaaaaaa;b;c;d;", 1000, 8, 0, &n);
        assert_string_equal(got, "aaaaaaaaaa;b\\;c\\;d\\;");
        assert_int_equal(n, 4);
}

static void test_unterminated(void **state) {
        (void) state;
        static const struct {
                const char *in;
                bool unterminated;
        } cases[] = {
                { "SELECT 'abc", true }, { "SELECT E'a\\", true }, { "SELECT \"x", true }, { "SELECT $t$ x", true },
                { "/* x", true },        { "SELECT 'a';", false },  { "-- x", false },     { "SELECT 'a'", false },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                struct sql_batch s;
                struct buf out = {};
                sql_batch_init(&s, 10, SIZE_MAX);
                sql_batch_feed(&s, cases[i].in, strlen(cases[i].in), &out);
                assert_int_equal(sql_batch_unterminated(&s), cases[i].unterminated);
                buf_done(&out);
        }
}

/* Everything above at once, cut at every size: the output is the same. */
static void test_chunking(void **state) {
        (void) state;
        static const char sample[] =
                "SET client_min_messages = error;\nBEGIN;\n-- x; 'y\n/* a; /* b */ ; */\n"
                "CREATE FUNCTION f() AS $func$ begin a; end $func$;\n"
                "INSERT INTO t VALUES (1,'it''s;',E'\\';',\"q;\"\"\",$$;$$,$1);\n"
                "INSERT INTO t VALUES (2,'$2y$10$;');\nSELECT 1 - -1;\nCOMMIT;\n";
        size_t n0;
        _cleanup_free_ char *whole = batch(sample, 3, SIZE_MAX, 0, &n0);
        assert_int_equal(n0, 7);
        for (size_t chunk = 1; chunk <= sizeof(sample); chunk++) {
                size_t n;
                _cleanup_free_ char *cut = batch(sample, 3, SIZE_MAX, chunk, &n);
                assert_string_equal(cut, whole);
                assert_int_equal(n, n0);
        }
        /* and psql sees the same text: the "\;" are the only change */
        _cleanup_free_ char *plain = batch(sample, 1, SIZE_MAX, 0, NULL);
        assert_string_equal(plain, sample);
}

static void test_filter(void **state) {
        (void) state;
        int in[2], out[2];
        assert_int_equal(pipe(in), 0);
        assert_int_equal(pipe(out), 0);
        static const char text[] = "a;b;'c;'\n";
        assert_int_equal(write(in[1], text, strlen(text)), (ssize_t) strlen(text));
        close(in[1]);
        assert_int_equal(sql_batch_filter(in[0], out[1], 2, SIZE_MAX), 0);
        close(out[1]);
        char got[64] = {};
        assert_true(read(out[0], got, sizeof(got) - 1) > 0);
        assert_string_equal(got, "a\\;b;'c;'\n");
        close(in[0]);
        close(out[0]);
        /* ending inside a quote is said */
        assert_int_equal(pipe(in), 0);
        assert_int_equal(pipe(out), 0);
        assert_int_equal(write(in[1], "'x", 2), 2);
        close(in[1]);
        assert_int_equal(sql_batch_filter(in[0], out[1], 2, SIZE_MAX), -EBADMSG);
        close(in[0]);
        close(out[1]);
        close(out[0]);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_plain_statements),  cmocka_unit_test(test_quotes),
                cmocka_unit_test(test_dollar_quotes),     cmocka_unit_test(test_comments),
                cmocka_unit_test(test_parentheses_and_psql), cmocka_unit_test(test_batches_and_bytes),
                cmocka_unit_test(test_unterminated),      cmocka_unit_test(test_chunking),
                cmocka_unit_test(test_filter),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
