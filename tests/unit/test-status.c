/* SPDX-License-Identifier: MIT */
/* status.json and the last console line: the contract tests and users rely on. */
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
#include "fileio.h"
#include "run-steps.h"
#include "status.h"
#include "util.h"

static char *finish_to_string(struct status *st, char **ret_console) {
        char dir[] = "/tmp/test-status-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        /* capture the console line */
        fflush(stdout);
        int saved = dup(1);
        _cleanup_free_ char *console_path = strprintf("%s/console", dir);
        int cfd = open(console_path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        assert_true(cfd >= 0 && saved >= 0);
        dup2(cfd, 1);
        assert_int_equal(status_finish(st, fd), 0);
        fflush(stdout);
        dup2(saved, 1);
        close(saved);
        close(cfd);
        char *json = NULL;
        assert_int_equal(read_file_full(fd, STATUS_PATH, 1 << 20, &json, NULL), 0);
        assert_int_equal(read_file_full(AT_FDCWD, console_path, 4096, ret_console, NULL), 0);
        close(fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
        return json;
}

static void test_finished(void **state) {
        _cleanup_(status_done) struct status st = {};
        assert_int_equal(status_step(&st, "answers", "done", "OEMDRV volume"), 0);
        assert_int_equal(status_step(&st, "storage", "done", NULL), 0);
        assert_int_equal(status_attach(&st, "network", "{\"links\": []}"), 0);
        assert_int_equal(status_attach(&st, "network", "{\"links\": [\"bond0\"]}"), 0); /* replaces */
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_to_string(&st, &console);
        assert_string_equal(console, "rackstack-firstboot: finished\n");
        assert_non_null(strstr(json, "\"state\": \"finished\""));
        assert_non_null(strstr(json, "\"step\": null"));
        assert_non_null(strstr(json, "\"reason\": \"OEMDRV volume\""));
        assert_non_null(strstr(json, "\"network\": {\"links\": [\"bond0\"]}"));
        assert_null(strstr(json, "\"links\": []"));
}

static void test_failed(void **state) {
        _cleanup_(status_done) struct status st = {};
        assert_int_equal(status_step(&st, "answers", "done", NULL), 0);
        assert_int_equal(status_fail(&st, "storage.plan", "no disk for \"database\""), 0);
        assert_int_equal(status_fail(&st, "storage", "later failure"), 0); /* the first one wins */
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_to_string(&st, &console);
        assert_string_equal(console, "rackstack-firstboot: FAILED at storage.plan: no disk for \"database\"\n");
        assert_non_null(strstr(json, "\"state\": \"failed\""));
        assert_non_null(strstr(json, "\"step\": \"storage.plan\""));
        assert_non_null(strstr(json, "\"reason\": \"no disk for \\\"database\\\"\""));
        assert_null(strstr(json, "later failure"));
}

/* A failing step's own reason reaches status.json: the network step over a root whose profile does
 * not load names the file and line, not a fixed sentence. */
static void test_network_step_reason(void **state) {
        char root[] = "/tmp/test-status-root-XXXXXX";
        assert_non_null(mkdtemp(root));
        _cleanup_free_ char *dir = strprintf("%s/usr/share/rackstack", root);
        _cleanup_free_ char *mk = strprintf("mkdir -p %s", dir);
        assert_int_equal(system(mk), 0);
        _cleanup_free_ char *prof = strprintf("%s/profile.yaml", dir);
        const char *bad = "role: db\nno_such_key: [1\n";
        assert_int_equal(write_file_atomic(AT_FDCWD, prof, bad, strlen(bad), 0644), 0);
        _cleanup_(status_done) struct status st = { .quiet = true };
        struct run_ctx c = { .root = root, .root_fd = -EBADF, .status = &st };
        int r = step_network(&c);
        assert_int_equal(r, -EINVAL);
        _cleanup_free_ char *console = NULL;
        _cleanup_free_ char *json = finish_to_string(&st, &console);
        assert_non_null(strstr(json, "\"step\": \"network\""));
        assert_non_null(strstr(json, "the profile or site does not load: "));
        assert_non_null(strstr(json, "profile.yaml:3:1: YAML syntax"));
        assert_null(strstr(json, "could not be brought up"));
        _cleanup_free_ char *rm = strprintf("rm -rf %s", root);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = { cmocka_unit_test(test_finished), cmocka_unit_test(test_failed),
                                            cmocka_unit_test(test_network_step_reason) };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
