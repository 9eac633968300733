/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "macro.h"

/* Build progress: one line per stage on stderr with the elapsed time since the build began
 *         [  12.3s] rootfs: cached (key 1a2b3c4d5e6f)
 * a progress bar for long copies when stderr is a TTY, and with --json one event per line on
 * stdout for CI:
 *         {"stage":"rootfs","state":"done","bytes":689169920,"elapsed":12.345,"message":"cached"} */

void progress_init(bool json);
double progress_elapsed(void);

void stage_start(const char *stage, const char *fmt, ...) _printf_(2, 3);
void stage_done(const char *stage, uint64_t bytes, const char *fmt, ...) _printf_(3, 4);
/* error is a negative errno (or 0); the message says what failed. */
void stage_fail(const char *stage, int error, const char *fmt, ...) _printf_(3, 4);
/* A note inside a stage (human output only). */
void stage_note(const char *stage, const char *fmt, ...) _printf_(2, 3);

/* Redraw the bar for a long copy; a no-op unless stderr is a TTY and not --json. Call with
 * done == total (or progress_bar_end) to finish the line. */
void progress_bar(const char *what, uint64_t done, uint64_t total);
void progress_bar_end(void);

/* The JSON event line for a stage transition, without the newline (exposed for the unit test). */
char *progress_event_json(const char *stage, const char *state, uint64_t bytes, double elapsed,
                          const char *message);
