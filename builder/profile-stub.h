/* SPDX-License-Identifier: MIT */
#pragma once

#include "profile.h"

/* TEMPORARY, until the profile loader (common/profile.c) lands on main: a hand-built profile and
 * site for a role, with the seed's host names and the db role's packages, so that the build
 * pipeline can run end to end. build.c calls these only through load_inputs(); delete this file
 * when wiring profile_load()/site_load_file(). */
int stub_profile_new(const char *role, struct profile **ret);
int stub_site_new(struct site **ret);
void stub_profile_free(struct profile *p);
void stub_site_free(struct site *s);
const struct host_spec *stub_find_host_by_role(const struct site *s, const char *role);
