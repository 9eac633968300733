/* SPDX-License-Identifier: MIT */
/* A main() for the fuzz harnesses when they are not built with libFuzzer: run
 * LLVMFuzzerTestOneInput once on each file given, or on every file in each directory given, so the
 * seed corpora are regression tests under any compiler (and under ASan with SANITIZE=1). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path, size_t *n) {
        char *data = NULL;
        size_t size = 0;
        int r = read_file_full(AT_FDCWD, path, 64 * 1024 * 1024, &data, &size);
        if (r < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(-r));
                return r;
        }
        /* Exactly size bytes, so ASan sees any read past the end. */
        uint8_t *copy = malloc(size ? size : 1);
        if (!copy) {
                free(data);
                return -ENOMEM;
        }
        memcpy(copy, data, size);
        free(data);
        LLVMFuzzerTestOneInput(copy, size);
        free(copy);
        (*n)++;
        return 0;
}

static int replay(const char *path, size_t *n) {
        struct stat st;
        if (stat(path, &st) < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        if (!S_ISDIR(st.st_mode))
                return replay_file(path, n);

        struct dirent **names = NULL;
        int k = scandir(path, &names, NULL, alphasort);
        if (k < 0) {
                fprintf(stderr, "%s: %m\n", path);
                return -errno;
        }
        int ret = 0;
        for (int i = 0; i < k; i++) {
                if (names[i]->d_name[0] != '.') {
                        _cleanup_free_ char *p = strprintf("%s/%s", path, names[i]->d_name);
                        int r = p ? replay(p, n) : -ENOMEM;
                        if (r < 0 && ret == 0)
                                ret = r;
                }
                free(names[i]);
        }
        free(names);
        return ret;
}

int main(int argc, char **argv) {
        size_t n = 0;
        int ret = 0;
        for (int i = 1; i < argc; i++)
                if (replay(argv[i], &n) < 0)
                        ret = 1;
        printf("replayed %zu inputs\n", n);
        return ret;
}
