/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "answer-set.h"
#include "prompt-plan.h"

/* The console prompt's I/O loop: asks a prompt_plan's questions on every console at once and takes
 * the answers from whichever console a person types on first (tty1 or ttyS0: we cannot know which one
 * has a person in front of it). Each console is put in a raw mode we edit lines in ourselves, so that
 * echo can be off for passwords and Ctrl-C / Ctrl-D behave the same on a console that is not our
 * controlling terminal. Kernel messages are muted while it runs (they would scribble over the
 * question) and the terminals are restored however it ends. */

struct prompt_options {
        char **consoles;      /* device paths; NULL: the kernel's console= devices, else /dev/tty1 and /dev/ttyS0 */
        const char *cmdline;  /* for console=; NULL = /proc/cmdline */
        bool use_stdio;       /* also ask on stdin/stdout (a terminal or a pipe) */
        uint64_t timeout_usec; /* no keystroke on any console for this long: fail closed */
        bool mute_kernel;     /* klogctl(CONSOLE_OFF/ON) around the prompt */
};

/* Ask every question; each accepted answer is put into set with source "prompt" (a password as
 * "set", its SHA-512 crypt hash in set->rootpw_hash; an empty password as "locked"). Returns 0, or
 * -ETIMEDOUT (nobody answered), -EINTR (Ctrl-C or a signal), -EPIPE (end of input), -ENODEV (no console
 * could be opened), -ECANCELED (a confirmation was refused); *ret_reason says so in words for the
 * status line. */
int prompt_run(const struct prompt_plan *plan, struct prompt_input *in, struct answer_set *set,
               const struct prompt_options *o, char **ret_reason);

/* When no source names the host (a kickstart without 'network --hostname=', as most Anaconda ones
 * are): ask for it alone (prompt_plan_host), then collect the answers again from ai with the typed
 * host, so that the site's values for that host fill what the kickstart leaves out while the
 * kickstart's own values still win; in->known is pointed at the new set and in->host_asked set, for
 * prompt_plan_build() to plan the rest. Returns 1 when the host was asked, 0 when it was known, or
 * prompt_run()'s error with *ret_reason naming the missing host (never a guess in its place). */
int prompt_ask_host(const struct answers_input *ai, struct prompt_input *in, struct answer_set *set,
                    const struct prompt_options *o, char **ret_reason);

/* The consoles named by console= on a kernel command line, as /dev paths ("ttyS0,115200n8" ->
 * "/dev/ttyS0", "tty0" -> "/dev/tty1"); NULL when there is none. */
int prompt_kernel_consoles(const char *cmdline, char ***ret);

/* The disk confirmation on its own (the storage step's storage_confirm_t): shows the disks and wants
 * the word "wipe". userdata is a const struct prompt_options * (NULL: the kernel's consoles, the
 * kernel command line's timeout, kernel messages muted). */
int prompt_confirm_wipe(char **wipe, void *userdata, char **ret_reason);
