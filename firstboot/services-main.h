/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>

#include "status.h"

/* The services step of a run: loads the image's profile and site (or the given files), finds this
 * host in the site (the kickstart's --hostname, else the role's host) and runs services_run().
 * Records its results in st; negative errno after status_fail(). */
int services_step(const char *root, const char *profile_path, const char *site_path, const char *ks_path,
                  bool dry_run, struct status *st);

/* Verbs, each with its own options (argv[0] is the verb). */
int verb_services(int argc, char **argv);
int verb_render(int argc, char **argv);
