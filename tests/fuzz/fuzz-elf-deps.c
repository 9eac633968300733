/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as an ELF file for the installer's DT_NEEDED reader. (Module
 * dependencies are libkmod's, over depmod's indexes.) */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "elf-deps.h"
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

        return 0;
}
