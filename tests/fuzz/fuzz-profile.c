/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes through the profile loader (YAML tree, typed pass, validation) and,
 * the same bytes, through the site loader; a loaded pair is cross-checked. */
#include <stddef.h>
#include <stdint.h>

#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct diags d = {};
        struct profile *p = NULL;
        struct site *s = NULL;
        (void) profile_load_buffer("fuzz.yaml", (const char *) data, size, &d, &p);
        (void) site_load_buffer("site.yaml", (const char *) data, size, &d, &s);
        if (p && s && p->role)
                profile_check_site(p, s, &d);
        if (p)
                (void) profile_os_disk(p);
        profile_free(p);
        site_free(s);
        diags_done(&d);
        return 0;
}
