/* SPDX-License-Identifier: MIT */
#pragma once

/* `rackstack-firstboot network [--plan] [--json] [--apply] [--root DIR] [--sysfs DIR] ...`
 * Returns the exit status: 0 ok, 1 failure, 2 bad usage or bad input. */
int verb_network(int argc, char **argv);
