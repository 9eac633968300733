/* SPDX-License-Identifier: MIT */
/* PostgreSQL tuning by PGTune's formulas (le0pard/pgtune, src/features/configuration/
 * configurationSlice.js) for the "web" workload on Linux, which is what the seed's values are:
 * 32 GiB, SSD, 500 connections gives shared_buffers 8GB, effective_cache_size 24GB, work_mem 16MB,
 * maintenance_work_mem 2GB, wal_buffers 16MB, random_page_cost 1.1, effective_io_concurrency 200.
 *
 * One deliberate difference: memory values are rounded down to whole MiB. PGTune prints work_mem
 * for the seed's case as 16513kB; the seed writes 16MB, and kB precision on a per-sort budget is
 * false precision. Rounding down never gives PostgreSQL more than the formula does. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "escape.h"
#include "render.h"
#include "util.h"

#define KB_PER_MB UINT64_C(1024)
#define KB_PER_GB (UINT64_C(1024) * 1024)

static uint64_t floor_mb(uint64_t kb) {
        return kb >= KB_PER_MB ? kb / KB_PER_MB * KB_PER_MB : kb;
}

int pg_tune_compute(const struct pg_tune_input *in, struct pg_tune *ret) {
        if (!in || in->ram < 256 * 1024 * 1024ull || in->max_connections == 0)
                return -EINVAL;
        uint64_t ram_kb = in->ram / 1024;
        struct pg_tune t = {
                .ram_kb = ram_kb,
                .max_connections = in->max_connections,
                .shared_buffers_kb = ram_kb / 4,
                .effective_cache_size_kb = ram_kb * 3 / 4,
                .maintenance_work_mem_kb = ram_kb / 16,
                .min_wal_size_kb = 1024 * KB_PER_MB,
                .max_wal_size_kb = 4096 * KB_PER_MB,
                .checkpoint_completion_target = 0.9,
                .default_statistics_target = 100,
                .random_page_cost = in->hdd ? 4.0 : 1.1,
                .effective_io_concurrency = in->hdd ? 2 : 200,
        };
        /* PGTune caps maintenance_work_mem at 8GB, and then holds each autovacuum worker to 2GB. */
        if (t.maintenance_work_mem_kb > 8 * KB_PER_GB)
                t.maintenance_work_mem_kb = 8 * KB_PER_GB;
        if (t.maintenance_work_mem_kb >= 2 * KB_PER_GB)
                t.autovacuum_work_mem_kb = 2 * KB_PER_GB;

        /* 3% of shared_buffers, at most 16MB, rounded up to 16MB from 14MB, at least 32kB. */
        uint64_t wal = 3 * t.shared_buffers_kb / 100;
        if (wal > 16 * KB_PER_MB)
                wal = 16 * KB_PER_MB;
        if (wal > 14 * KB_PER_MB && wal < 16 * KB_PER_MB)
                wal = 16 * KB_PER_MB;
        if (wal < 32)
                wal = 32;
        t.wal_buffers_kb = wal;
        t.huge_pages_try = t.shared_buffers_kb >= 2 * KB_PER_GB;

        /* Parallel settings only with at least 4 CPUs; per gather at most 4 for this workload. */
        if (in->cpus >= 4) {
                unsigned half = (in->cpus + 1) / 2;
                t.max_worker_processes = in->cpus;
                t.max_parallel_workers_per_gather = half > 4 ? 4 : half;
                t.max_parallel_workers = in->cpus;
                t.max_parallel_maintenance_workers = half > 4 ? 4 : half;
        }
        /* (RAM - shared_buffers) / ((connections + worker processes) * 3); PostgreSQL's default of 8
         * worker processes when there are no parallel settings. At least 4MB. */
        unsigned workers = t.max_worker_processes ? t.max_worker_processes : 8;
        t.work_mem_kb = (ram_kb - t.shared_buffers_kb) / ((uint64_t) (in->max_connections + workers) * 3);
        if (t.work_mem_kb < 4 * KB_PER_MB)
                t.work_mem_kb = 4 * KB_PER_MB;

        t.shared_buffers_kb = floor_mb(t.shared_buffers_kb);
        t.effective_cache_size_kb = floor_mb(t.effective_cache_size_kb);
        t.maintenance_work_mem_kb = floor_mb(t.maintenance_work_mem_kb);
        t.work_mem_kb = floor_mb(t.work_mem_kb);
        t.wal_buffers_kb = floor_mb(t.wal_buffers_kb);
        *ret = t;
        return 0;
}

char *pg_size_to_string(uint64_t kb) {
        if (kb > 0 && kb % KB_PER_GB == 0)
                return strprintf("%" PRIu64 "GB", kb / KB_PER_GB);
        if (kb > 0 && kb % KB_PER_MB == 0)
                return strprintf("%" PRIu64 "MB", kb / KB_PER_MB);
        return strprintf("%" PRIu64 "kB", kb);
}

static void put_size(struct buf *b, const char *key, uint64_t kb) {
        char *v = pg_size_to_string(kb);
        if (!v) {
                b->oom = true;
                return;
        }
        buf_printf(b, "%s = %s\n", key, v);
        free(v);
}

char *pg_tune_render(const struct pg_tune *t, const char *listen) {
        struct buf b = {};
        _cleanup_free_ char *ram = pg_size_to_string(t->ram_kb);
        buf_printf(&b,
                   "# Written by rackstack-firstboot: PGTune's formulas (web workload) for a %s budget,\n"
                   "# %u connections. Rewritten on a rerun; put local changes in a later file.\n",
                   ram ? ram : "?", t->max_connections);
        if (listen) {
                buf_puts(&b, "listen_addresses = ");
                if (buf_put_pg_quoted(&b, listen) < 0) {
                        buf_done(&b);
                        return NULL;
                }
                buf_putc(&b, '\n');
        }
        buf_printf(&b, "max_connections = %u\n", t->max_connections);
        put_size(&b, "shared_buffers", t->shared_buffers_kb);
        put_size(&b, "effective_cache_size", t->effective_cache_size_kb);
        put_size(&b, "maintenance_work_mem", t->maintenance_work_mem_kb);
        if (t->autovacuum_work_mem_kb)
                put_size(&b, "autovacuum_work_mem", t->autovacuum_work_mem_kb);
        buf_printf(&b, "checkpoint_completion_target = %.1f\n", t->checkpoint_completion_target);
        put_size(&b, "wal_buffers", t->wal_buffers_kb);
        buf_printf(&b, "default_statistics_target = %u\n", t->default_statistics_target);
        buf_printf(&b, "random_page_cost = %g\n", t->random_page_cost);
        buf_printf(&b, "effective_io_concurrency = %u\n", t->effective_io_concurrency);
        put_size(&b, "work_mem", t->work_mem_kb);
        buf_printf(&b, "huge_pages = %s\n", t->huge_pages_try ? "try" : "off");
        put_size(&b, "min_wal_size", t->min_wal_size_kb);
        put_size(&b, "max_wal_size", t->max_wal_size_kb);
        if (t->max_worker_processes) {
                buf_printf(&b, "max_worker_processes = %u\n", t->max_worker_processes);
                buf_printf(&b, "max_parallel_workers_per_gather = %u\n", t->max_parallel_workers_per_gather);
                buf_printf(&b, "max_parallel_workers = %u\n", t->max_parallel_workers);
                buf_printf(&b, "max_parallel_maintenance_workers = %u\n", t->max_parallel_maintenance_workers);
        }
        /* pg_stat_statements: the seed lists it on the database server. */
        buf_puts(&b, "shared_preload_libraries = 'pg_stat_statements'\n");
        return buf_steal(&b);
}

uint64_t pg_budget(const struct profile *p, const char *base, uint64_t ram, uint64_t *ret_reserved) {
        uint64_t reserved = 0;
        for (size_t i = 0; i < p->n_services; i++) {
                const struct service_spec *s = &p->services[i];
                if (s->name && streq(s->name, "postgresql"))
                        continue;
                if (s->bases && base && !strv_contains(s->bases, base))
                        continue;
                /* A service not fetched yet still gets its share: it is coming, and PostgreSQL
                 * tuned to the whole machine would leave it nothing. */
                reserved += s->memory + ram / 100 * s->memory_percent;
        }
        uint64_t floor = ram / 4;
        if (ret_reserved)
                *ret_reserved = reserved;
        return reserved < ram && ram - reserved > floor ? ram - reserved : floor;
}

char *pg_hba_render(const struct vlan_spec *const *vlans, size_t n_vlans) {
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot: local peer, loopback and the VLANs PostgreSQL listens on.\n"
                     "# TYPE  DATABASE  USER  ADDRESS  METHOD\n"
                     "local   all       postgres          peer\n"
                     "local   all       all               peer\n"
                     "host    all       all   127.0.0.1/32 scram-sha-256\n"
                     "host    all       all   ::1/128      scram-sha-256\n");
        for (size_t i = 0; i < n_vlans; i++) {
                uint32_t a = vlans[i]->subnet;
                buf_printf(&b, "host    all       all   %u.%u.%u.%u/%u scram-sha-256  # VLAN %u ", a >> 24,
                           (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff, vlans[i]->prefix, vlans[i]->id);
                buf_put_comment_text(&b, vlans[i]->name); /* site text: a newline would add a line */
                buf_putc(&b, '\n');
        }
        return buf_steal(&b);
}
