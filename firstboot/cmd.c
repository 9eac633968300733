/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "process.h"

bool cmd_exists(const char *name) {
        return proc_have_program(name);
}

/* The kept output as one line of at most its last 2 KiB: the end of an error message is what
 * explains it, and a status reason is one line. */
static void one_line(char *s) {
        size_t len = strlen(s);
        if (len > 2048)
                memmove(s, s + len - 2048, 2048 + 1);
        len = strlen(s);
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
                s[--len] = 0;
        for (char *p = s; *p; p++)
                if (*p == '\n')
                        *p = ' ';
}

int cmd_run(char *const argv[], const void *input, size_t input_len, int *ret_status) {
        struct proc_opts o = PROC_OPTS_INIT;
        if (input) {
                o.in = PROC_IN_BUFFER;
                o.input = input;
                o.input_len = input_len;
        }
        int r = proc_run((const char *const *) argv, &o, NULL, NULL);
        if (r < 0)
                return r;
        *ret_status = r;
        return 0;
}

int cmd_run_tail(char *const argv[], int *ret_status, char **ret_tail) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.out = o.err = PROC_OUT_TAIL;
        o.tail_lines = 64;
        char *tail = NULL;
        int r = proc_run((const char *const *) argv, &o, &tail, NULL);
        if (r < 0) {
                free(tail);
                return r;
        }
        one_line(tail);
        *ret_tail = tail;
        *ret_status = r;
        return 0;
}
