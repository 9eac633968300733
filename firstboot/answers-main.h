/* SPDX-License-Identifier: MIT */
#pragma once

#include "answer-set.h"
#include "kickstart.h"
#include "profile.h"

/* `rackstack-firstboot answers [--explain] [--json] [--prompt|--ask-all] [--out FILE] ...`: find the
 * kickstart, collect every answer with its source, ask at the console for what is missing, and write
 * the completed answers as one kickstart. Returns the exit status (0, 1 failure, 2 bad input). */
int verb_answers(int argc, char **argv);
