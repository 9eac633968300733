/* SPDX-License-Identifier: MIT */
/* image.json, what a signed image says it is, and the role check install makes with it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "image-identity.h"

static void test_parse_and_check(void **state) {
        static const char good[] = "{\n  \"role\": \"db\",\n  \"host\": \"lab-db1\",\n  \"base\": \"ubuntu-24.04\",\n"
                                   "  \"version\": \"0.1.0\",\n  \"build_time\": 1764979200\n}\n";
        struct diags d = {};
        struct image_identity id = {};
        assert_int_equal(image_identity_parse(good, sizeof good - 1, "image.json", &d, &id), 0);
        assert_string_equal(id.role, "db");
        assert_string_equal(id.host, "lab-db1");
        assert_string_equal(id.base, "ubuntu-24.04");
        assert_int_equal(id.build_time, 1764979200);
        char *reason = NULL;
        assert_int_equal(image_identity_check_role(&id, "db", &reason), 0);
        assert_int_equal(image_identity_check_role(&id, NULL, &reason), 0);
        assert_int_equal(image_identity_check_role(&id, "web", &reason), -EMEDIUMTYPE);
        assert_non_null(strstr(reason, "the db role's (host lab-db1), but the answers are for role web"));
        free(reason);
        image_identity_done(&id);

        static const char *const bad[] = {
                "{\"host\": \"x\", \"build_time\": 1}",
                "{\"role\": \"db\"}",
                "{\"role\": \"db\", \"build_time\": \"yesterday\"}",
                "[1, 2]",
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                struct image_identity x = {};
                assert_int_equal(image_identity_parse(bad[i], strlen(bad[i]), "image.json", &d, &x), -EINVAL);
                assert_null(x.role);
        }
        assert_true(d.n_errors >= 4);
        diags_done(&d);
}

/* install over a disk that holds a system: another role's, or a newer build, refused unless told. */
static void test_check_installed(void **state) {
        (void) state;
        struct image_identity img = { .role = (char *) "db", .host = (char *) "lab-db1", .base = (char *) "ubuntu-24.04",
                                      .version = (char *) "0.2.0", .build_time = 1764979200 };
        struct image_identity disk = img;
        char *reason = NULL;
        assert_int_equal(image_identity_check_installed(&img, &disk, false, false, &reason), 0); /* the same build */
        disk.build_time = img.build_time - 1;
        assert_int_equal(image_identity_check_installed(&img, &disk, false, false, &reason), 0); /* an upgrade */
        disk.build_time = img.build_time + 1;
        assert_int_equal(image_identity_check_installed(&img, &disk, false, false, &reason), -ESTALE);
        assert_non_null(strstr(reason, "is older than the build on the disk (role db, host lab-db1, ubuntu-24.04, "
                                       "rackstack 0.2.0, built 2025-12-06 00:00:01 UTC (1764979201))"));
        assert_non_null(strstr(reason, "--allow-downgrade"));
        free(reason);
        assert_int_equal(image_identity_check_installed(&img, &disk, true, false, &reason), -ESTALE);
        free(reason);
        assert_int_equal(image_identity_check_installed(&img, &disk, false, true, &reason), 0);
        disk.role = (char *) "web";
        disk.build_time = img.build_time - 1;
        assert_int_equal(image_identity_check_installed(&img, &disk, false, true, &reason), -EMEDIUMTYPE);
        assert_non_null(strstr(reason, "the disk holds the web role's system (host lab-db1) and the image is the db "
                                       "role's; --any-role"));
        free(reason);
        assert_int_equal(image_identity_check_installed(&img, &disk, true, false, &reason), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_and_check),
                cmocka_unit_test(test_check_installed),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
