/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "profile.h"

/* The seed's disk layouts for the nine roles (base.yaml's OS disk plus each role's data disks),
 * built in code. This stands in for profile_load() until the loader lands on main: `plan` and
 * `storage` use it with --role when no profile file is given, and the unit tests use it as the
 * nine roles' disk specs. */

int seed_disk_specs(const char *role, struct disk_spec **ret, size_t *ret_n);
void disk_specs_free(struct disk_spec *specs, size_t n);
