/* SPDX-License-Identifier: MIT */
#pragma once

/* `rackstack-firstboot install --source SRC [--ks FILE] [--target DEV] [--dry-run] [--no-reboot] ...`
 * Returns the exit status: 0 ok, 1 failure, 2 bad usage or bad input. */
int verb_install(int argc, char **argv);
