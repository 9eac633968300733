/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "json.h"
#include "kickstart.h"
#include "profile.h"

/* The host's answers, each with where it came from, for `rackstack-firstboot answers --explain` and
 * for the console prompt (which asks only for what is missing). Sources are offered in order of
 * authority: the kickstart (whichever source answers_find() chose), then the site, then the role
 * profile, then built-in defaults. The first value offered is kept; a later source that says
 * something else is not applied but remembered as "overruled", so nothing is overridden silently.
 * Only the prompt replaces a value (answer_set_replace), and the replaced value is remembered too.
 *
 * Keys: hostname (FQDN), role, vlan.<id>.address ("10.0.50.12/24"), vlan.<id>.gateway (an address or
 * "none"), dns (comma-separated), bond.mode, bond.members ("auto" or names/MACs, comma-separated),
 * disks.clear, rootpw ("set", "locked" or "none": never the hash). */

struct answer {
        char *key;
        char *value;      /* NULL: no source gave one */
        char *source;     /* "OEMDRV:/ks.cfg line 12", "site.yaml:40", "profile db.yaml:33", "prompt", "default" */
        char **overruled; /* strv "VALUE (SOURCE)" of later sources that disagreed, or a replaced value */
        bool secret;      /* the value stands for a secret; the secret itself is kept elsewhere */
};

struct answer_set {
        struct answer *items;
        size_t n;
        char *rootpw_hash; /* a crypt(3) hash typed at the prompt, never printed */
};

/* Offer a value from a source: 1 taken, 0 kept the earlier value (noted when it differs), -ENOMEM.
 * value NULL only declares the key (so that it is listed, and asked for). */
int answer_set_offer(struct answer_set *s, const char *key, const char *value, const char *source);
/* The prompt's answer: replaces, keeping the old value in overruled; the same value as before (a
 * default taken with Enter) keeps its source. 1 replaced, 0 unchanged. */
int answer_set_replace(struct answer_set *s, const char *key, const char *value, const char *source);
const struct answer *answer_set_get(const struct answer_set *s, const char *key);
const char *answer_set_value(const struct answer_set *s, const char *key);
void answer_set_done(struct answer_set *s);

/* "image ks.cfg" + line 12 -> "image ks.cfg line 12"; a profile or site location -> "site.yaml:40" or
 * "profile db.yaml:33" (base name of the file). */
char *answer_source_ks(const char *label, unsigned line);
char *answer_source_yaml(const char *kind, const struct src *s);

struct answers_input {
        const struct ks *ks;       /* NULL: no kickstart */
        const char *ks_label;      /* answers_find()'s label */
        const struct profile *profile;
        const struct site *site;
        const char *hostname;      /* the host typed at the prompt when no kickstart named one; NULL: none */
};

/* Fill the set from the kickstart, the prompt's host (in->hostname, source "prompt"), the site and
 * the profile, in that order: the kickstart's values win for what it states, and the site's values
 * are those of the host named (by the kickstart, else the prompt). A kickstart that names no host
 * leaves "hostname" missing and takes nothing host-specific from the site (never the role's site
 * host as a guess); only without any kickstart is the host the site's host of the image's role. */
int answers_collect(const struct answers_input *in, struct answer_set *ret);

/* The VLANs this host sits on (the profile's), for callers that iterate vlan.<id>.* keys. */
void answer_set_to_json(const struct answer_set *s, struct json *j);
/* One line per answer: key, value, source; overruled values indented below. */
char *answer_set_to_text(const struct answer_set *s);
