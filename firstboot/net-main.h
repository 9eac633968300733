/* SPDX-License-Identifier: MIT */
#pragma once

/* `rackstack-firstboot network [--plan] [--json] [--apply] [--root DIR] [--sysfs DIR] ...`
 * Returns the exit status: 0 ok, 1 failure, 2 bad usage or bad input. */
int verb_network(int argc, char **argv);

struct status;
/* The same, and with --apply the live result (links, members, addresses, routes, checks; also when
 * it failed) is attached to st as "network" for status.json. */
int network_run(int argc, char **argv, struct status *st);
