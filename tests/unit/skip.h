/* SPDX-License-Identifier: MIT */
#pragma once
/* cmocka's skip() passes in the exit status; tests/run-all.sh counts a skip from the output. This
 * line gives it the reason too ("SKIP test_name -- reason"). Include after <cmocka.h>. */
#include <stdio.h>

#define skip_because(why)                                               \
        do {                                                            \
                printf("SKIP %s -- %s\n", __func__, (why));             \
                fflush(stdout);                                         \
                skip();                                                 \
        } while (0)
