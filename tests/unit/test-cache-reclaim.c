/* SPDX-License-Identifier: MIT */
/* The order in which the cache gives room back (cache-reclaim.h): every unpacked copy before any
 * tarball, least recently used first, and no more than asked for. A change here changes which
 * builds go cold after a full disk: this pins it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cache-reclaim.h"

#define K(c) c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c c

/* Five entries: an old layer with copies, a recent layer with copies, the base (no copies, used by
 * every build: the most recent), a tree left without its tarball, and the oldest, held by a build. */
static struct cache_item items[] = {
        { .kind = (char *) "layer", .key = (char *) K("a"), .tar_bytes = 1000, .copy_bytes = 2500, .has_tar = true,
          .has_copies = true, .last_used = 100 },
        { .kind = (char *) "layer", .key = (char *) K("b"), .tar_bytes = 1200, .copy_bytes = 3000, .has_tar = true,
          .has_copies = true, .last_used = 300 },
        { .kind = (char *) "rootfs", .key = (char *) K("c"), .tar_bytes = 600, .has_tar = true, .last_used = 400 },
        { .kind = (char *) "layer", .key = (char *) K("d"), .copy_bytes = 700, .has_copies = true, .last_used = 200 },
        /* the oldest of all, but a build holds it */
        { .kind = (char *) "layer", .key = (char *) K("e"), .tar_bytes = 900, .copy_bytes = 900, .has_tar = true,
          .has_copies = true, .busy = true, .last_used = 50 },
};
#define N (sizeof items / sizeof items[0])

static void expect_step(const struct reclaim_plan *p, size_t i, size_t item, enum reclaim_kind what, uint64_t bytes) {
        assert_true(i < p->n_steps);
        assert_int_equal(p->steps[i].item, item);
        assert_int_equal(p->steps[i].what, what);
        assert_int_equal(p->steps[i].bytes, bytes);
}

static void test_copies_first_oldest_first(void **state) {
        struct reclaim_plan p;
        assert_int_equal(reclaim_plan_make(items, N, 3000, false, &p), 0);
        /* a's copies (2500) are not enough; d's (700) are next by age: 3200 >= 3000, stop. */
        assert_int_equal(p.n_steps, 2);
        expect_step(&p, 0, 0, RECLAIM_COPIES, 2500);
        expect_step(&p, 1, 3, RECLAIM_COPIES, 700);
        assert_int_equal(p.bytes, 3200);
        reclaim_plan_done(&p);
}

static void test_entries_after_every_copy(void **state) {
        struct reclaim_plan p;
        assert_int_equal(reclaim_plan_make(items, N, 7000, false, &p), 0);
        /* All copies (6200), then the oldest tarball (a, 1000): 7200. The base, used last, stays. */
        assert_int_equal(p.n_steps, 4);
        expect_step(&p, 0, 0, RECLAIM_COPIES, 2500);
        expect_step(&p, 1, 3, RECLAIM_COPIES, 700);
        expect_step(&p, 2, 1, RECLAIM_COPIES, 3000);
        expect_step(&p, 3, 0, RECLAIM_ENTRY, 1000);
        assert_int_equal(p.bytes, 7200);
        reclaim_plan_done(&p);
}

static void test_everything(void **state) {
        struct reclaim_plan p;
        assert_int_equal(reclaim_plan_make(items, N, UINT64_MAX, false, &p), 0);
        /* d has no tarball, e is in use: three copies, three tarballs, the base last. */
        assert_int_equal(p.n_steps, 6);
        expect_step(&p, 3, 0, RECLAIM_ENTRY, 1000);
        expect_step(&p, 4, 1, RECLAIM_ENTRY, 1200);
        expect_step(&p, 5, 2, RECLAIM_ENTRY, 600);
        assert_int_equal(p.bytes, 2500 + 700 + 3000 + 1000 + 1200 + 600);
        reclaim_plan_done(&p);
}

static void test_copies_only_and_nothing(void **state) {
        struct reclaim_plan p;
        assert_int_equal(reclaim_plan_make(items, N, UINT64_MAX, true, &p), 0);
        assert_int_equal(p.n_steps, 3);
        for (size_t i = 0; i < p.n_steps; i++)
                assert_int_equal(p.steps[i].what, RECLAIM_COPIES);
        reclaim_plan_done(&p);

        assert_int_equal(reclaim_plan_make(items, N, 0, false, &p), 0);
        assert_int_equal(p.n_steps, 0);
        assert_int_equal(p.bytes, 0);
        reclaim_plan_done(&p);

        assert_int_equal(reclaim_plan_make(NULL, 0, 100, false, &p), 0);
        assert_int_equal(p.n_steps, 0);
        reclaim_plan_done(&p);
}

static void test_ties(void **state) {
        /* The same last use: the larger first, then kind and key, whatever the input order. */
        struct cache_item t[] = {
                { .kind = (char *) "layer", .key = (char *) K("f"), .copy_bytes = 10, .has_copies = true, .last_used = 5 },
                { .kind = (char *) "layer", .key = (char *) K("e"), .copy_bytes = 10, .has_copies = true, .last_used = 5 },
                { .kind = (char *) "layer", .key = (char *) K("9"), .copy_bytes = 90, .has_copies = true, .last_used = 5 },
        };
        struct reclaim_plan p;
        assert_int_equal(reclaim_plan_make(t, 3, UINT64_MAX, true, &p), 0);
        assert_int_equal(p.n_steps, 3);
        expect_step(&p, 0, 2, RECLAIM_COPIES, 90);
        expect_step(&p, 1, 1, RECLAIM_COPIES, 10);
        expect_step(&p, 2, 0, RECLAIM_COPIES, 10);
        reclaim_plan_done(&p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_copies_first_oldest_first), cmocka_unit_test(test_entries_after_every_copy),
                cmocka_unit_test(test_everything),                cmocka_unit_test(test_copies_only_and_nothing),
                cmocka_unit_test(test_ties),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
