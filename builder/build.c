/* SPDX-License-Identifier: MIT */
#include "build.h"
#include "log.h"

int build_main(int argc, char **argv) {
        return log_error_errno(-EOPNOTSUPP, "build: not implemented yet");
}
