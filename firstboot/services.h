/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "apps.h"
#include "json.h"
#include "profile.h"
#include "status.h"

/* The services step: render each service's configuration from the host's facts (RAM, CPUs, the
 * data disk, the site's addresses), write the firewall, then enable and start what the image
 * holds and check each answers on its ports. A service whose source is a vendor repository or
 * registry is fetched now if reachable; otherwise it is recorded as skipped with the reason, never
 * faked. Each service's result is a status entry "service/<name>". */

struct services_ctx {
        const char *root;  /* "/" on the server; elsewhere only files are written (tests, offline) */
        int root_fd;
        const struct profile *profile;
        const struct site *site;
        const struct host_spec *host; /* NULL: no site entry */
        const struct ks *ks;          /* the answers, may be NULL: their address on a VLAN wins over the site's */
        struct status *status;
        bool dry_run;      /* print what would be written and run; write nothing */
        /* Facts; 0/NULL = probe the running system. */
        uint64_t ram;
        unsigned cpus;
        const char *base;  /* "debian-12", "ubuntu-24.04" */
        unsigned probe_timeout_sec; /* vendor reachability; 0 = 3 */
        unsigned answer_timeout_sec; /* how long a started service has to answer; 0 = 120 */

        /* Filled by services_run(): status.json's "services" key (each service's source, state and
         * reason; PostgreSQL's budget and the values it was tuned to). */
        struct json report;
        char *pg_report; /* a JSON object, or NULL */
        /* The database host's consumers (db-wiring.h), from its credentials; NULL when it has none. */
        struct db_wiring_set *dbw;
        char *dbw_error; /* the wiring or a password of it could not be read */
        bool units_enabled; /* one systemctl enable for all units went through */
        struct vendor_json vendor; /* the image's vendor.json (empty when it has none) */
        bool have_quadlet;             /* the image's podman has Quadlet (podman >= 4.4) */
        char **credentials;            /* file names in /run/credentials/rackstack */
};

/* 0 when every service the image holds is running and answering (skipped ones included), or a
 * negative errno after status_fail(). */
int services_run(struct services_ctx *c);

/* "debian-12" from <root>/etc/os-release (ID and VERSION_ID). */
int os_base(int root_fd, char **ret);
/* MemTotal from /proc/meminfo, in bytes. */
int mem_total(uint64_t *ret);
