/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static enum log_level max_level = LOG_LEVEL_INFO;
static const char *program;

void log_set_level(enum log_level level) {
        max_level = level;
}

enum log_level log_get_level(void) {
        return max_level;
}

void log_set_program(const char *name) {
        program = name;
}

int log_internal(enum log_level level, int error, const char *fmt, ...) {
        int saved = errno;

        if (level > max_level)
                return error < 0 ? error : -abs(error);

        /* "%m" refers to the error we were handed, not whatever errno happens to hold. */
        if (error != 0)
                errno = abs(error);

        static const char *const prefix[] = {
                [LOG_LEVEL_ERR] = "error: ",
                [LOG_LEVEL_WARNING] = "warning: ",
                [LOG_LEVEL_NOTICE] = "",
                [LOG_LEVEL_INFO] = "",
                [LOG_LEVEL_DEBUG] = "debug: ",
        };

        va_list ap;
        va_start(ap, fmt);
        if (program)
                fprintf(stderr, "%s: ", program);
        fputs(prefix[level], stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);

        errno = saved;
        return error < 0 ? error : -abs(error);
}
