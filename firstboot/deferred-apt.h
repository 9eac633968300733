/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "profile.h"

/* A deferred apt service (vendor.json "deferred": `fetch: firstboot` in the profile, or a build with
 * --defer-vendor), installed at first boot with the same trust as the builder gives it:
 *
 *   1. the repository's host (or the site's mirror for it) answers, else the service is skipped
 *      with the reason (no apt run, nothing written);
 *   2. the signing key is fetched from key-url (through the mirror mapping), and its primary
 *      fingerprints are listed with `gpg --show-keys`: anything but the profile's pinned
 *      fingerprint is refused, whatever the URL (a URL is where to look, not trust);
 *   3. only the pinned key is exported into the keyring the source's signed-by= names;
 *   4. the repository's InRelease is checked with gpgv against that keyring alone;
 *   5. the source line is written to /etc/apt/sources.list.d/rackstack-NAME.list (the URL this site
 *      reaches, i.e. the mirror when one is mapped; signed-by= as the profile has it);
 *   6. `apt-get update` of that one source (bounded: the distribution's archive need not answer),
 *      then `apt-get install` of the service's packages; when the install fails (a dependency the
 *      image's lists do not know) one full `apt-get update` and a second install: the one retry.
 *   Each apt run has a timeout, and apt itself Acquire::Retries. A failure after step 3 removes the
 *   keyring and the source again, so a host never trusts a key for a service it did not install.
 *
 * The plan is pure (from the profile's service, the site's mirrors and the root) and unit-tested;
 * deferred_apt_apply() runs it. With a root other than "/" apt works on that tree (Dir=, dpkg
 * --root=), as mmdebstrap's chrootless mode does: the integration test installs into a scratch root. */

#define DEFERRED_APT_UPDATE_TIMEOUT_SEC 300
#define DEFERRED_APT_INSTALL_TIMEOUT_SEC 1800
#define DEFERRED_APT_FETCH_TIMEOUT_SEC 20

struct deferred_apt_plan {
        char *service;
        char **packages;
        char *fingerprint;   /* the pinned one: 40 upper-case hex digits */
        char *key_url;       /* where the key is fetched (through the mirror when mapped) */
        char *keyring;       /* "/usr/share/keyrings/jitsi-keyring.gpg": in the system */
        char *inrelease_url; /* through the mirror when mapped */
        char *repo_url;      /* the repository as this site reaches it */
        char *mirror;        /* the mirror's URL for the repository; NULL = the vendor itself */
        char *probe_host, *probe_port; /* the repository's host and port, probed first */
        char *list_file;     /* relative to the root: "etc/apt/sources.list.d/rackstack-jitsi-meet.list" */
        char *list_line;     /* its content, one line */
        /* What apt is run with. update_argv reads only the service's source; full_update_argv every
         * source (the retry); install_argv installs the packages. */
        char **update_argv, **full_update_argv, **install_argv;
        char *apt_list;      /* the source list apt's update reads: list_file as a path apt sees */
        char *apt_list_line; /* its line: signed-by= under the root when the root is not "/" */
        bool apt_list_separate; /* root != "/": apt_list is a file of its own, beside the system's */
        unsigned update_timeout_sec, install_timeout_sec;
};

/* -EINVAL with *ret_why for a service that is not a complete apt service (repo, key-url, a full
 * key-fingerprint, packages, signed-by= under /usr/share/keyrings/). root: "/" on the server. */
int deferred_apt_plan_make(const struct service_spec *s, const struct mirror_map *maps, size_t n_maps, const char *root,
                           struct deferred_apt_plan *ret, char **ret_why);
void deferred_apt_plan_done(struct deferred_apt_plan *p);
/* The plan as JSON (`fetch-deferred --plan`), no secrets in it (there are none). */
char *deferred_apt_plan_json(const struct deferred_apt_plan *p);

/* What happened. */
enum deferred_apt_result {
        DEFERRED_APT_INSTALLED = 0,
        DEFERRED_APT_SKIPPED = 1, /* the source (or its mirror) does not answer: nothing was changed */
};

/* Run the plan against root (a directory fd and its path). 0 installed (*ret_done says what, with
 * the versions), 1 skipped (*ret_why says why), negative: failed or refused (*ret_why says why: a
 * key with another fingerprint, a signature that does not verify, apt's last lines). */
int deferred_apt_apply(const struct deferred_apt_plan *p, int root_fd, const char *root, unsigned probe_timeout_sec,
                       char **ret_done, char **ret_why);

/* `rackstack-firstboot fetch-deferred [--root DIR] [--profile FILE] [--site FILE] [--mirror FROM=TO]...
 *  [--plan] SERVICE...`: install deferred apt services now, as the services step does (for tests and
 *  for an operator whose network came later). Exit 0 all installed, 1 any skipped or failed, 2 bad usage. */
int verb_fetch_deferred(int argc, char **argv);
