/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as an ELF file for the installer's DT_NEEDED reader, and as a
 * modules.dep for its module closure. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf-deps.h"
#include "kmod-deps.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* A private copy, so reads past `size` are caught by ASan. */
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy)
                return 0;
        memcpy(copy, data, size);
        struct elf_deps d = {};
        if (elf_deps_parse(copy, size, &d) >= 0)
                elf_deps_done(&d);
        free(copy);

        char *text = strndup((const char *) data, size);
        if (!text)
                return 0;
        struct kmod_table t = {};
        if (kmod_table_parse(text, &t, NULL) >= 0) {
                char *names[4] = { NULL };
                for (size_t i = 0; i < t.n && i < 3; i++)
                        names[i] = t.v[i].name;
                char **paths = NULL, **missing = NULL;
                if (kmod_closure(&t, names, &paths, &missing) >= 0) {
                        strv_free(paths);
                        strv_free(missing);
                }
                kmod_table_done(&t);
        }
        free(text);
        return 0;
}
