/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Make the tree fit to be copied onto many servers: nothing that must be unique per machine, nothing
 * from the build host, no caches or logs. Each server makes its own on first boot. */

struct hygiene_report {
        unsigned removed;   /* files removed */
        unsigned truncated; /* log files emptied */
        unsigned clamped;   /* entries whose mtime was clamped to SOURCE_DATE_EPOCH */
};

/* Remove SSH host keys, empty /etc/machine-id (and remove /var/lib/dbus/machine-id), drop apt lists
 * and caches, empty /var/log (keeping its directories), remove the random seed, /etc/hostname and
 * the build host's resolv.conf, empty /tmp and /var/tmp; then, if source_date_epoch >= 0, clamp
 * every mtime later than it. */
int hygiene_apply(const char *tree, int64_t source_date_epoch, struct hygiene_report *ret);
