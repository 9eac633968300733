/* SPDX-License-Identifier: MIT */
#pragma once

#include "run.h"

/* The steps of a first-boot run, in the order firstboot/run.c runs them. */
int step_answers(struct run_ctx *c);
int step_storage(struct run_ctx *c);
int step_network(struct run_ctx *c);
/* services-main.c: firewall, service configuration, start and answer checks (services.h). */
int step_services(struct run_ctx *c);
/* system-step.c: lang, keyboard, timezone, user, sshkey and services from the kickstart. */
int step_system(struct run_ctx *c);
/* After the run has finished (status.json and the last line written): the kickstart's reboot,
 * poweroff or halt, on a real boot (root "/") only. */
void system_power_after(const struct ks *ks, const char *root);
/* Where events go (the %addon's status-url, signed with the token); never fails the run. */
int step_report(struct run_ctx *c);
/* Host name, /etc/hosts, machine-id, SSH host keys, the identity record and the clone-check unit. */
int step_identity(struct run_ctx *c);
/* join/time, join/dns, join/identity, join/monitoring, join/logs, join/report (firstboot/join.h). */
int step_join(struct run_ctx *c);

/* `rackstack-firstboot identity [--check-clone]`, which rackstack-identity.service runs every boot. */
int verb_identity(int argc, char **argv);
