/* SPDX-License-Identifier: MIT */
#pragma once

#include "diag.h"
#include "profile.h"

/* Parse a kickstart and check it against the site (and its role's profile). */
void validate_kickstart(const char *path, const struct site *site, struct diags *d);
