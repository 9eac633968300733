/* SPDX-License-Identifier: MIT */
#include "options.h"
#include "util.h"

void options_done(struct options *o) {
        strv_free(o->only_use);
        strv_free(o->clear);
}
