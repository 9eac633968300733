/* SPDX-License-Identifier: MIT */
/* A kickstart's part lines refine the role's partitions by mount point, and name no others. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "kickstart.h"
#include "profile.h"
#include "storage-answers.h"

static void test_lab_db1(void **state) {
        struct diags d = {};
        struct profile *p = NULL;
        struct ks *ks = NULL;
        assert_int_equal(profile_load("profiles", "db", &d, &p), 0);
        assert_int_equal(ks_load_file("kickstart/lab-db1.ks", &d, &ks), 0);
        assert_int_equal(storage_apply_ks_parts(ks, p->disks, p->n_disks, &d), 0);
        assert_int_equal(d.n_errors, 0);
        const struct disk_spec *db = &p->disks[1];
        assert_string_equal(db->name, "database");
        assert_string_equal(db->parts[0].label, "database");
        assert_string_equal(db->parts[0].options, "noatime");
        assert_int_equal(db->parts[0].fs, FS_XFS);
        assert_string_equal(p->disks[2].parts[0].label, "backups");
        ks_free(ks);
        profile_free(p);
        diags_done(&d);
}

static void test_unknown_mount(void **state) {
        static const char text[] = "part /srv/elsewhere --ondisk=@database --size=1024 --grow --fstype=xfs\n"
                                   "%addon com_rackstack\nrole db\ndisk database class=nvme size>=500G count=1\n%end\n";
        struct diags d = {};
        struct profile *p = NULL;
        struct ks *ks = NULL;
        assert_int_equal(profile_load("profiles", "db", &d, &p), 0);
        assert_int_equal(ks_parse_buffer("x.ks", text, strlen(text), &d, &ks), 0);
        assert_int_equal(storage_apply_ks_parts(ks, p->disks, p->n_disks, &d), -EINVAL);
        assert_true(d.n_errors >= 1);
        assert_non_null(strstr(d.items[d.n - 1].message, "no partition mounted at '/srv/elsewhere'"));
        assert_int_equal(d.items[d.n - 1].line, 1);
        assert_int_equal(d.items[d.n - 1].col, 6);
        ks_free(ks);
        profile_free(p);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_lab_db1),
                cmocka_unit_test(test_unknown_mount),
        };
        return cmocka_run_group_tests_name("storage-answers", tests, NULL, NULL);
}
