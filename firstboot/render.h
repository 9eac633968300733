/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "profile.h"

/* Service configuration rendered from the host's facts: pure functions from numbers, the profile
 * and the site to text. The services step writes what these return; the unit tests check them. */

/* ---- PostgreSQL: PGTune's formulas (le0pard/pgtune, "web" workload, Linux) ----------------------- */

struct pg_tune_input {
        uint64_t ram;             /* bytes PostgreSQL may plan for (the budget, not the host's RAM) */
        unsigned cpus;            /* 0 = unknown: no parallel settings, as PGTune without a CPU count */
        bool hdd;                 /* the data directory's disk rotates */
        unsigned max_connections; /* the seed's 500 */
};

/* Memory settings are in kB, as PostgreSQL and PGTune count them. A 0 in an optional field means
 * "not set" (PostgreSQL's default stands). */
struct pg_tune {
        uint64_t ram_kb;
        unsigned max_connections;
        uint64_t shared_buffers_kb;
        uint64_t effective_cache_size_kb;
        uint64_t maintenance_work_mem_kb;
        uint64_t autovacuum_work_mem_kb; /* optional */
        uint64_t work_mem_kb;
        uint64_t wal_buffers_kb;
        uint64_t min_wal_size_kb, max_wal_size_kb;
        double checkpoint_completion_target;
        unsigned default_statistics_target;
        double random_page_cost;
        unsigned effective_io_concurrency;
        bool huge_pages_try;
        unsigned max_worker_processes; /* optional, with the three below */
        unsigned max_parallel_workers_per_gather;
        unsigned max_parallel_workers;
        unsigned max_parallel_maintenance_workers;
};

/* -EINVAL for a budget under 256 MiB (PGTune's own lower bound) or no connections. */
int pg_tune_compute(const struct pg_tune_input *in, struct pg_tune *ret);
/* "8GB", "16MB", "271872kB": the largest unit that divides evenly, as PGTune and SHOW print them. */
char *pg_size_to_string(uint64_t kb);
/* The conf.d drop-in: the tuned values plus where the data lives and who may connect.
 * listen: "localhost,10.0.40.12". Returns NULL on OOM. */
char *pg_tune_render(const struct pg_tune *t, const char *listen);

/* RAM set aside for the role's other services (their "memory" in the profile), PostgreSQL itself
 * excluded, counting only services meant for this base (NULL = all). The budget is what is left,
 * but never less than a quarter of the RAM. */
uint64_t pg_budget(const struct profile *p, const char *base, uint64_t ram, uint64_t *ret_reserved);

/* pg_hba.conf lines: local peer, loopback and each subnet with scram-sha-256. */
char *pg_hba_render(const struct vlan_spec *const *vlans, size_t n_vlans);

/* ---- Redis ------------------------------------------------------------------------------------- */

/* A file redis.conf includes last: listen on loopback and addr (0 = loopback only), and hold the
 * cache to the memory the profile sets aside for it (0 = no limit), evicting least recently used
 * keys when full rather than refusing writes. Redis refuses clients beyond loopback without a
 * password (protected mode): password is required with an address. */
char *redis_render(uint32_t addr, uint64_t maxmemory, const char *password);

/* ---- nftables ---------------------------------------------------------------------------------- */

/* /etc/nftables.conf: inbound dropped except loopback, established/related, ICMP/ICMPv6, SSH from
 * the management subnet, and exactly the role's ports (SSH excepted: it is management-only). */
char *nft_render(const struct profile *p, const struct vlan_spec *mgmt);

/* ---- Traefik ----------------------------------------------------------------------------------- */

/* Traefik's file-provider dynamic configuration (YAML): one router and one service per site route,
 * <name>.<domain> -> http://<backend's address on default VLAN>:<port>. -ENOENT when a route names
 * a host the site does not have (ret_bad names the route). */
int traefik_render(const struct site *s, char **ret, const struct route_spec **ret_bad);
/* Where the proxy's certificate, key and the site CA are (from the host's credentials). */
#define TRAEFIK_TLS_DIR "/etc/traefik/tls"
