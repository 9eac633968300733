/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as a kernel command line, then the kickstart source it names, the
 * prompt's timeout and the consoles it would ask on. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kcmdline.h"
#include "prompt.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* /proc/cmdline is text without NULs; cut at the first one as a reader would. */
        char *s = strndup((const char *) data, size);
        if (!s)
                return 0;
        struct kcmdline *c = NULL;
        if (kcmdline_parse(s, &c) >= 0) {
                struct diags d = {};
                struct ks_source *src = NULL;
                if (kcmdline_ks_source(c, &d, &src) >= 0)
                        ks_source_free(src);
                uint64_t usec;
                (void) kcmdline_prompt_timeout(c, &d, &usec);
                (void) kcmdline_prompt_forced(c);
                diags_done(&d);
                /* the consoles the prompt would ask on */
                char **consoles = NULL;
                if (prompt_kernel_consoles(s, &consoles) >= 0)
                        strv_free(consoles);
                /* Every word's value as a source spec, so the spec parser sees varied input. */
                for (size_t i = 0; i < c->n; i++) {
                        src = NULL;
                        if (ks_source_parse(c->entries[i].value, NULL, &src) >= 0)
                                ks_source_free(src);
                }
                kcmdline_free(c);
        }
        free(s);
        return 0;
}
