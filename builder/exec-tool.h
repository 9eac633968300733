/* SPDX-License-Identifier: MIT */
#pragma once

/* Run a helper tool (mke2fs, mkfs.vfat, mtools, grub-mkimage) to completion. argv[0] is looked up
 * in PATH; env_extra (NULL-terminated "NAME=value" strings, may be NULL) is added to our
 * environment. stdin is /dev/null; stdout and stderr are collected and, if the tool fails, logged
 * with the command line, so the caller only adds what it was trying to do. Returns 0 on exit
 * status 0, -EPROTO if the tool failed, or a negative errno if it could not be started. */
int tool_run(const char *const *argv, const char *const *env_extra);

/* The same, with the tool's stdout going to stdout_fd (a file the tool writes as "-"); its stderr
 * is collected as above. */
int tool_run_to(const char *const *argv, const char *const *env_extra, int stdout_fd);
