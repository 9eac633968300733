/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdarg.h>

#include "macro.h"

/* Logging for the programs. Code in common/ logs at debug level only; programs log an error once,
 * where they decide what to do, and pass the negative errno through:
 *         return log_error_errno(r, "Failed to open '%s': %m", path);
 * "%m" expands to strerror(-r). */

enum log_level {
        LOG_LEVEL_ERR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_NOTICE,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
};

void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Prefix for every line, normally the program name. */
void log_set_program(const char *name);

int log_internal(enum log_level level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error_errno(e, ...) log_internal(LOG_LEVEL_ERR, (e), __VA_ARGS__)
#define log_warning_errno(e, ...) log_internal(LOG_LEVEL_WARNING, (e), __VA_ARGS__)
#define log_debug_errno(e, ...) log_internal(LOG_LEVEL_DEBUG, (e), __VA_ARGS__)
#define log_error(...) log_internal(LOG_LEVEL_ERR, 0, __VA_ARGS__)
#define log_warning(...) log_internal(LOG_LEVEL_WARNING, 0, __VA_ARGS__)
#define log_notice(...) log_internal(LOG_LEVEL_NOTICE, 0, __VA_ARGS__)
#define log_info(...) log_internal(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_internal(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
