/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "image-identity.h"
#include "parse.h"
#include "util.h"
#include "yaml-tree.h"

void image_identity_done(struct image_identity *id) {
        free(id->role);
        free(id->host);
        free(id->base);
        free(id->version);
        *id = (struct image_identity) {};
}

int image_identity_parse(const char *text, size_t size, const char *origin, struct diags *d,
                         struct image_identity *ret) {
        /* JSON is YAML: the one tree parser we have reads it, with locations. */
        struct ynode *root = NULL;
        int r = yaml_load_buffer(origin, text, size, d, &root);
        if (r < 0)
                return -EINVAL;
        const char *role = ynode_get_scalar(root, "role"), *when = ynode_get_scalar(root, "build_time");
        char *end = NULL;
        long long t = when ? strtoll(when, &end, 10) : 0;
        if (!role || !*role || !when || !end || *end || end == when) {
                diag_error(d, origin, 1, 1, "not an image identity: a string \"role\" and an integer \"build_time\" "
                                            "are required");
                ynode_free(root);
                return -EINVAL;
        }
        const char *host = ynode_get_scalar(root, "host"), *base = ynode_get_scalar(root, "base");
        const char *version = ynode_get_scalar(root, "version");
        struct image_identity id = { .role = strdup(role), .host = strdup(host ? host : "any"),
                                     .base = base ? strdup(base) : NULL, .version = version ? strdup(version) : NULL,
                                     .build_time = t };
        ynode_free(root);
        if (!id.role || !id.host || (base && !id.base) || (version && !id.version)) {
                image_identity_done(&id);
                return -ENOMEM;
        }
        *ret = id;
        return 0;
}

int image_identity_check_role(const struct image_identity *id, const char *want_role, char **ret_reason) {
        if (!want_role || streq(id->role, want_role))
                return 0;
        char *reason = strprintf("the image is the %s role's (host %s), but the answers are for role %s; "
                                 "--any-role installs it anyway", id->role, id->host, want_role);
        if (!reason)
                return -ENOMEM;
        *ret_reason = reason;
        return -EMEDIUMTYPE;
}

char *image_identity_describe(const struct image_identity *id) {
        char when[32] = "";
        time_t t = (time_t) id->build_time;
        struct tm tm;
        if (gmtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
        return strprintf("role %s, host %s, %s, rackstack %s, built %s (%" PRId64 ")", id->role, id->host,
                         strna(id->base), strna(id->version), when, id->build_time);
}

int image_identity_check_installed(const struct image_identity *image, const struct image_identity *disk,
                                   bool any_role, bool allow_downgrade, char **ret_reason) {
        char *reason = NULL;
        int r = 0;
        /* The disk is already allowed to be overwritten by the answers; these refuse the wrong
         * medium in the wrong machine: another role's server, or the build it was upgraded from. */
        if (!any_role && !streq(image->role, disk->role)) {
                reason = strprintf("the disk holds the %s role's system (host %s) and the image is the %s role's; "
                                   "--any-role installs it anyway", disk->role, disk->host, image->role);
                r = -EMEDIUMTYPE;
        } else if (!allow_downgrade && image->build_time < disk->build_time) {
                _cleanup_free_ char *have = image_identity_describe(disk), *want = image_identity_describe(image);
                reason = have && want ? strprintf("the image (%s) is older than the build on the disk (%s); "
                                                  "--allow-downgrade installs it anyway", want, have) : NULL;
                r = -ESTALE;
        }
        if (r == 0)
                return 0;
        if (!reason)
                return -ENOMEM;
        *ret_reason = reason;
        return r;
}
