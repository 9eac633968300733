/* SPDX-License-Identifier: MIT */
#pragma once

#include <sys/types.h>

#include "http.h"
#include "process.h"

/* The trust an apt source gets, the same in the builder (a vendor service fetched at build time)
 * and in firstboot (one deferred to the first boot):
 *
 *   1. the signing key is fetched from key_url (an URL is where to look, not trust);
 *   2. its primary fingerprints are listed with `gpg --show-keys` (common/vendor.c's colon parser);
 *   3. anything but the pinned fingerprint is refused;
 *   4. only the pinned key is exported into the keyring (whatever else the file carried);
 *   5. the repository's InRelease is fetched and checked with gpgv against that keyring alone.
 *
 * Nothing here prints: a failure says which step and hands back what the caller's message needs,
 * so that each program keeps its own wording. */

struct apt_trust {
        const char *key_url;       /* as fetched: through the mirror when one is mapped */
        const char *fingerprint;   /* the pinned primary fingerprint */
        const char *inrelease_url; /* as fetched */
        const char *gnupg;         /* gpg's home directory: made by the caller, 0700 */
        /* Where the fetched key, the one-key keyring and the fetched InRelease are written. */
        const char *keyfile, *keyring, *inrelease;
        mode_t file_mode;          /* of the fetched key and InRelease */
        struct http_options http;  /* both fetches */
        /* How gpg and gpgv run (log, tail lines, environment, own group, cancel flag, timeout):
         * out and err are set per run, the rest is taken as it is. */
        struct proc_opts proc;
};

enum apt_trust_step {
        APT_TRUST_FETCH_KEY,     /* error: http_get_buffer()'s or the write's; detail: http_strerror() or NULL */
        APT_TRUST_LIST_KEY,      /* -EBADMSG: no key in the file (detail: gpg's last lines); else gpg did not run */
        APT_TRUST_PIN,           /* -EBADMSG; detail: the fingerprints the file holds, ", "-separated */
        APT_TRUST_KEYRING,       /* gpg --import/--export: -EIO (failed) or -errno; detail: its last lines */
        APT_TRUST_FETCH_RELEASE, /* as APT_TRUST_FETCH_KEY */
        APT_TRUST_VERIFY,        /* gpgv: -EBADMSG (no good signature) or -errno; detail: its last lines */
};

struct apt_trust_failure {
        enum apt_trust_step step;
        char *detail; /* see the step; may be NULL */
};

void apt_trust_failure_done(struct apt_trust_failure *f);

/* Steps 1-5. 0: the keyring holds the pinned key only and InRelease verified against it. Negative
 * errno otherwise (-ENOMEM too), with *ret_failure (written only then) saying at which step and
 * why; the caller frees it with apt_trust_failure_done(). */
int apt_trust_check(const struct apt_trust *t, struct apt_trust_failure *ret_failure);
