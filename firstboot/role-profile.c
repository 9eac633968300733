/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "diag.h"
#include "log.h"
#include "role-profile.h"

int role_profile_load(const char *profile, const char *profiles, const char *role, struct profile **ret) {
        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        int r;
        if (profile)
                r = profile_load_file(profile, &d, &p);
        else if (role)
                r = profile_load(profiles ? profiles : DEFAULT_PROFILES, role, &d, &p);
        else if (profiles) {
                log_error("--profiles needs --role");
                return -EINVAL;
        } else if (access(IMAGE_PROFILE, F_OK) == 0)
                r = profile_load_file(profile = IMAGE_PROFILE, &d, &p);
        else {
                *ret = NULL;
                return 0;
        }
        diags_print(&d, stderr);
        if (r < 0) {
                if (profile)
                        log_error_errno(r, "Failed to load the profile '%s': %m", profile);
                else
                        log_error_errno(r, "Failed to load role '%s' from %s: %m", role,
                                        profiles ? profiles : DEFAULT_PROFILES);
                return r == -ENOMEM ? r : -EINVAL;
        }
        *ret = TAKE_PTR(p);
        return 0;
}
