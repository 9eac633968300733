/* SPDX-License-Identifier: MIT */
#include <errno.h>
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
