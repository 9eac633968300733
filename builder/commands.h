/* SPDX-License-Identifier: MIT */
#pragma once

/* The verbs of rackstack-build. Each returns 0, or a negative errno after reporting;
 * -EINVAL means bad usage or bad input (exit status 2). */
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_secrets(int argc, char **argv);
int cmd_cache(int argc, char **argv);

/* The directory holding profiles/, kickstart/, overlays/, iso/: $RACKSTACK_DATADIR, else the
 * source tree when run from it, else the installed data directory. Never NULL. */
const char *data_dir(void);
/* profiles/ under data_dir(), or the --profiles override. */
char *profiles_dir(const char *override);
