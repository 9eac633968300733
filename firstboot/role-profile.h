/* SPDX-License-Identifier: MIT */
#pragma once

#include "profile.h"

/* The image's own role profile: what `storage`, `plan` and `install` lay out. */
#define IMAGE_PROFILE "/usr/share/rackstack/profile.yaml"
/* Where `make install` puts the profiles directory, for --role without --profiles. */
#define DEFAULT_PROFILES RACKSTACK_DATADIR "/profiles"

/* The role profile the disk verbs use: --profile FILE, else --role ROLE from --profiles DIR (default
 * DEFAULT_PROFILES), else the image's IMAGE_PROFILE. Diagnostics are printed. 0 and *ret (NULL when
 * none of them is given and the image has no profile), -EINVAL for a profile that does not load,
 * other negative errno. */
int role_profile_load(const char *profile, const char *profiles, const char *role, struct profile **ret);
