/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Run a program (with common/process.c) and wait for it. When input is given it is written to the
 * program's stdin through a pipe (how a one-time password reaches ipa-client-install without
 * showing in ps), and the pipe is closed after it; otherwise stdin is /dev/null. stdout and stderr
 * stay the caller's (the console and the journal under the unit). Returns -ENOENT if the program
 * does not exist, another negative errno if it could not be run, else 0 with *ret_status its exit
 * status (128+signal if killed). */
int cmd_run(char *const argv[], const void *input, size_t input_len, int *ret_status);

/* The same with stdin /dev/null and stdout and stderr captured: *ret_tail is their last 2 KiB on
 * one line (for a status reason), set with *ret_status on success. */
int cmd_run_tail(char *const argv[], int *ret_status, char **ret_tail);

/* Whether name is an executable in PATH (or a path that is). */
bool cmd_exists(const char *name);
