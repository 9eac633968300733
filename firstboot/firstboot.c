/* SPDX-License-Identifier: MIT */
/* Placeholder so libfirstboot.a is never empty; the steps land in their own files. */
#include "log.h"
int firstboot_placeholder(void);
int firstboot_placeholder(void) {
        return 0;
}
