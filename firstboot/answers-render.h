/* SPDX-License-Identifier: MIT */
#pragma once

#include "answer-set.h"
#include "diag.h"
#include "kickstart.h"
#include "profile.h"

/* The completed answers as one kickstart, so that the rest of firstboot reads one file and every
 * answer passes the kickstart validators a second time. The network lines and rootpw are written
 * from the answer set (the bond options from the original kickstart's lines); every other line of
 * the original text is kept as it was, and the %addon role is the answered one. Pure: text in, text
 * out. original may be NULL (no kickstart was found). An original network line the answers cannot
 * carry (--bootproto=dhcp, a device other than the role's bond: an Anaconda kickstart's usual line) is
 * left out with a warning in d (may be NULL) at its line. */
int answers_render_ks(const struct answer_set *set, const struct ks *ks, const char *original,
                      const struct profile *profile, const struct site *site, struct diags *d, char **ret);
