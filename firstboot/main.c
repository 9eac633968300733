/* SPDX-License-Identifier: MIT */
#include <stdio.h>

#include "log.h"

int main(int argc, char **argv) {
        log_set_program("rackstack-firstboot");
        fprintf(stderr, "usage: rackstack-firstboot [run|plan|storage|answers|install] ...\n");
        return 2;
}
