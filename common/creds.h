/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "diag.h"

/* A host's credentials bundle: what `rackstack-build secrets bundle` writes and firstboot places
 * as /run/credentials/rackstack/<name>. One file, so it travels beside the kickstart as one thing
 * (ks.cfg and rackstack.creds on the OEMDRV volume, or one URL pinned by sha256 like the kickstart):
 *
 *   rackstack-credentials 1 HOST\n
 *   NAME LENGTH\n
 *   <LENGTH bytes>\n          (repeated; the value is taken as bytes, PEM and all, no escaping)
 *
 * NAME is [a-z0-9][a-z0-9._-]* (at most 64): it becomes a file name and must not climb out of
 * the directory. A name appears once. The file is parsed whole before anything is placed. */

#define CREDS_MAGIC "rackstack-credentials"
#define CREDS_FILE "rackstack.creds"
#define CREDS_MAX (1024 * 1024)

struct cred {
        char *name;
        char *data; /* NUL-terminated too, for convenience; len excludes the NUL */
        size_t len;
};

struct creds {
        char *host;
        struct cred *v;
        size_t n;
};

bool creds_name_valid(const char *name);
/* Adds a copy of data; -EEXIST for a name already present, -EINVAL for a bad name. */
int creds_add(struct creds *c, const char *name, const void *data, size_t len);
const struct cred *creds_find(const struct creds *c, const char *name);
/* The bundle's bytes; NULL on OOM. The caller wipes and frees them (creds_wipe_free). */
char *creds_render(const struct creds *c, size_t *ret_len);
/* Errors as FILE:LINE:COL in d, -EINVAL; nothing is returned on any error. */
int creds_parse(const char *file, const char *data, size_t len, struct diags *d, struct creds *ret);
/* Wipes every value (OPENSSL_cleanse) before freeing. */
void creds_done(struct creds *c);
void creds_wipe_free(char *p, size_t len);
