/* SPDX-License-Identifier: MIT */
/* Service configuration from host facts: PostgreSQL by PGTune's formulas (the seed's 32 GiB values
 * exactly), the firewall from the role's ports, Traefik's routes from the site. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cleanup.h"
#include "profile.h"
#include "render.h"
#include "util.h"

#define GiB (UINT64_C(1) << 30)
#define MB UINT64_C(1024) /* in kB */

/* By hand from PGTune's formulas, web workload, 500 connections, no CPU count (as the seed). */
static const struct pg_case {
        unsigned gib;
        bool hdd;
        const char *shared_buffers, *effective_cache_size, *maintenance_work_mem, *work_mem, *wal_buffers;
        const char *random_page_cost;
        unsigned io;
        bool huge;
} pg_cases[] = {
        { 2, false, "512MB", "1536MB", "128MB", "4MB", "16MB", "1.1", 200, false },
        { 8, false, "2GB", "6GB", "512MB", "4MB", "16MB", "1.1", 200, true },
        { 16, false, "4GB", "12GB", "1GB", "8MB", "16MB", "1.1", 200, true },
        { 32, false, "8GB", "24GB", "2GB", "16MB", "16MB", "1.1", 200, true },
        { 64, false, "16GB", "48GB", "4GB", "32MB", "16MB", "1.1", 200, true },
        { 2, true, "512MB", "1536MB", "128MB", "4MB", "16MB", "4", 2, false },
        { 8, true, "2GB", "6GB", "512MB", "4MB", "16MB", "4", 2, true },
        { 16, true, "4GB", "12GB", "1GB", "8MB", "16MB", "4", 2, true },
        { 32, true, "8GB", "24GB", "2GB", "16MB", "16MB", "4", 2, true },
        { 64, true, "16GB", "48GB", "4GB", "32MB", "16MB", "4", 2, true },
};

static void assert_line(const char *text, const char *line) {
        _cleanup_free_ char *needle = strprintf("\n%s\n", line);
        if (!strstr(text, needle)) {
                fprintf(stderr, "missing line '%s' in:\n%s\n", line, text);
                fail();
        }
}

static void test_pg_sizes(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(pg_cases); i++) {
                const struct pg_case *c = &pg_cases[i];
                struct pg_tune t;
                struct pg_tune_input in = { .ram = c->gib * GiB, .hdd = c->hdd, .max_connections = 500 };
                assert_int_equal(pg_tune_compute(&in, &t), 0);
                _cleanup_free_ char *conf = pg_tune_render(&t, "localhost,10.0.40.12");
                assert_non_null(conf);
                fprintf(stderr, "--- %u GiB %s\n%s", c->gib, c->hdd ? "HDD" : "SSD", conf);
                char *l;
#define LINE(fmt, ...)                                          \
        do {                                                    \
                l = strprintf(fmt, __VA_ARGS__);                \
                assert_line(conf, l);                           \
                free(l);                                        \
        } while (0)
                LINE("shared_buffers = %s", c->shared_buffers);
                LINE("effective_cache_size = %s", c->effective_cache_size);
                LINE("maintenance_work_mem = %s", c->maintenance_work_mem);
                LINE("work_mem = %s", c->work_mem);
                LINE("wal_buffers = %s", c->wal_buffers);
                LINE("random_page_cost = %s", c->random_page_cost);
                LINE("effective_io_concurrency = %u", c->io);
                LINE("huge_pages = %s", c->huge ? "try" : "off");
                LINE("max_connections = %u", 500);
                LINE("listen_addresses = '%s'", "localhost,10.0.40.12");
                assert_null(strstr(conf, "max_worker_processes")); /* no CPU count given */
#undef LINE
        }
}

/* The seed's configuration block for lab-db1, verbatim: 32 GiB, SSD, 500 connections. */
static void test_pg_seed(void **state) {
        static const char *const seed[] = {
                "shared_buffers = 8GB",         "effective_cache_size = 24GB",
                "max_connections = 500",        "work_mem = 16MB",
                "maintenance_work_mem = 2GB",   "checkpoint_completion_target = 0.9",
                "wal_buffers = 16MB",           "default_statistics_target = 100",
                "random_page_cost = 1.1",       "effective_io_concurrency = 200",
        };
        /* The db role has 8 cores: with the CPU count given the seed's values are the same (8
         * worker processes is PostgreSQL's default too), plus PGTune's parallel settings. */
        for (unsigned cpus = 0; cpus <= 8; cpus += 8) {
                struct pg_tune t;
                struct pg_tune_input in = { .ram = 32 * GiB, .cpus = cpus, .max_connections = 500 };
                assert_int_equal(pg_tune_compute(&in, &t), 0);
                _cleanup_free_ char *conf = pg_tune_render(&t, NULL);
                assert_non_null(conf);
                for (size_t i = 0; i < ELEMENTSOF(seed); i++)
                        assert_line(conf, seed[i]);
                if (cpus) {
                        assert_line(conf, "max_worker_processes = 8");
                        assert_line(conf, "max_parallel_workers_per_gather = 4");
                        assert_line(conf, "max_parallel_maintenance_workers = 4");
                }
        }
}

static void test_pg_edges(void **state) {
        struct pg_tune t;
        struct pg_tune_input in = { .ram = 255 * 1024 * 1024, .max_connections = 500 };
        assert_int_equal(pg_tune_compute(&in, &t), -EINVAL);
        in.ram = 256 * 1024 * 1024;
        assert_int_equal(pg_tune_compute(&in, &t), 0);
        assert_int_equal(t.shared_buffers_kb, 64 * MB);
        assert_int_equal(t.wal_buffers_kb, 1 * MB); /* 3% of 64MB = 1966kB, rounded down to 1MB */
        in.max_connections = 0;
        assert_int_equal(pg_tune_compute(&in, &t), -EINVAL);
        /* 256 GiB: maintenance_work_mem stops at PGTune's 8GB cap, autovacuum at 2GB. */
        in = (struct pg_tune_input) { .ram = 256 * GiB, .max_connections = 500, .cpus = 32 };
        assert_int_equal(pg_tune_compute(&in, &t), 0);
        assert_int_equal(t.maintenance_work_mem_kb, 8 * 1024 * MB);
        assert_int_equal(t.autovacuum_work_mem_kb, 2 * 1024 * MB);
        assert_int_equal(t.max_parallel_workers_per_gather, 4);
        assert_int_equal(t.max_worker_processes, 32);
        /* An odd budget: values not a whole MB are rounded down to one. */
        in = (struct pg_tune_input) { .ram = 3 * GiB + 123 * 1024 * 1024 + 7, .max_connections = 100 };
        assert_int_equal(pg_tune_compute(&in, &t), 0);
        assert_int_equal(t.shared_buffers_kb % MB, 0);
        assert_true(t.shared_buffers_kb <= (3 * GiB + 123 * 1024 * 1024) / 1024 / 4);
        _cleanup_free_ char *a = pg_size_to_string(271872), *b = pg_size_to_string(16 * MB), *c = pg_size_to_string(8 * 1024 * MB);
        assert_string_equal(a, "271872kB");
        assert_string_equal(b, "16MB");
        assert_string_equal(c, "8GB");
}

/* The db role's other services set aside 64M + 10% + 5% + 25% + 10% of the RAM (PgBouncer, Redis,
 * MariaDB, and Elasticsearch and MongoDB too: deferred, not forgotten); PostgreSQL plans for the rest. */
static void test_pg_budget(void **state) {
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        assert_int_equal(profile_load("profiles", "db", &d, &p), 0);
        uint64_t reserved;
        uint64_t b = pg_budget(p, "debian-12", 32 * GiB, &reserved);
        uint64_t expect = 64ull << 20;
        expect += 32 * GiB / 100 * 50;
        assert_true(reserved == expect);
        assert_true(b == 32 * GiB - expect);
        /* A tiny machine: never less than a quarter. */
        struct service_spec big = { .name = (char *) "x", .memory = 3 * GiB };
        struct profile q = { .services = &big, .n_services = 1 };
        assert_true(pg_budget(&q, NULL, 2 * GiB, NULL) == GiB / 2);
        /* A service for another base sets nothing aside here. */
        char *bases[] = { (char *) "ubuntu-24.04", NULL };
        big.bases = bases;
        assert_true(pg_budget(&q, "debian-12", 2 * GiB, NULL) == 2 * GiB);
        diags_done(&d);
}

static void test_pg_hba(void **state) {
        struct vlan_spec v = { .id = 40, .name = (char *) "database", .subnet = 0x0a002800, .prefix = 24 };
        const struct vlan_spec *vl[] = { &v };
        _cleanup_free_ char *t = pg_hba_render(vl, 1);
        assert_non_null(t);
        assert_non_null(strstr(t, "host    all       all   10.0.40.0/24 scram-sha-256  # VLAN 40 database\n"));
        assert_non_null(strstr(t, "local   all       postgres          peer\n"));
        assert_null(strstr(t, "trust"));
}

static void load(const char *role, struct profile **ret_p, struct site **ret_s) {
        struct diags d = {};
        assert_int_equal(profile_load("profiles", role, &d, ret_p), 0);
        assert_int_equal(site_load_file("profiles/site.yaml", &d, ret_s), 0);
        diags_done(&d);
}

static size_t count(const char *hay, const char *needle) {
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p++)
                n++;
        return n;
}

static void test_nft_db(void **state) {
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        load("db", &p, &s);
        _cleanup_free_ char *t = nft_render(p, site_find_vlan(s, 10));
        assert_non_null(t);
        fprintf(stderr, "%s", t);
        assert_non_null(strstr(t, "policy drop;\n"));
        assert_line(t, "\t\tiif \"lo\" accept");
        assert_line(t, "\t\tct state established,related accept");
        assert_line(t, "\t\tip saddr 10.0.10.0/24 tcp dport 22 accept comment \"SSH from VLAN 10 (management)\"");
        assert_line(t, "\t\ttcp dport 5432 accept comment \"PostgreSQL\"");
        /* Redis is opened per consumer (db_consumers_nft_render), never to the whole VLAN */
        assert_null(strstr(t, "dport 6379"));
        assert_line(t, "\t\ttcp dport 9200 accept comment \"Elasticsearch\"");
        assert_line(t, "\t\ttcp dport 27017 accept comment \"MongoDB\"");
        /* exactly the role's three ports plus SSH: no SSH for everyone, no PgBouncer from outside */
        assert_int_equal(count(t, " dport "), 4);
        assert_int_equal(count(t, "dport 22 "), 1);
        assert_null(strstr(t, "6432"));
        assert_int_equal(count(t, "policy drop"), 2); /* input and forward */
}

static void test_nft_protocols_and_ranges(void **state) {
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        load("voip", &p, &s);
        _cleanup_free_ char *t = nft_render(p, site_find_vlan(s, 10));
        assert_non_null(t);
        assert_line(t, "\t\tudp dport 10000-20000 accept comment \"RTP media\"");
        assert_line(t, "\t\ttcp dport 5060 accept comment \"SIP signalling\"");
        assert_line(t, "\t\tudp dport 5060 accept comment \"SIP signalling\"");
        assert_null(strstr(t, "udp dport 5061"));
        /* A quote in a service name cannot break out of the comment. */
        p->ports[0].service[0] = '"';
        _cleanup_free_ char *u = nft_render(p, NULL);
        assert_non_null(u);
        assert_null(strstr(u, "\"\""));
        assert_null(strstr(u, "dport 22"));
}

static void test_traefik(void **state) {
        _cleanup_(profile_freep) struct profile *p = NULL;
        _cleanup_(site_freep) struct site *s = NULL;
        load("infra", &p, &s);
        _cleanup_free_ char *t = NULL;
        const struct route_spec *bad = NULL;
        assert_int_equal(traefik_render(s, &t, &bad), 0);
        fprintf(stderr, "%s", t);
        assert_int_equal(s->n_routes, 15);
        assert_int_equal(count(t, "      rule: \"Host(`"), 15);
        assert_int_equal(count(t, "          - url: "), 15);
        assert_non_null(strstr(t, "    cloud:\n      rule: \"Host(`cloud.domain.com`)\"\n"));
        assert_non_null(strstr(t, "    chat:\n      loadBalancer:\n        servers:\n          - url: \"http://10.0.50.13:8065\"  # lab-app1\n"));
        assert_non_null(strstr(t, "          - url: \"https://10.0.50.14:443\"  # lab-comm1\n"));
        assert_non_null(strstr(t, "          - url: \"http://10.0.50.18:8084\"  # lab-it1\n"));
        assert_non_null(strstr(t, "          - url: \"http://10.0.50.11:8080\"  # lab-id1\n"));
        /* TLS from the site CA: the proxy's pair for every router, the CA for HTTPS backends only */
        assert_int_equal(count(t, "      tls: {}\n"), 15);
        assert_int_equal(count(t, "        serversTransport: site-ca\n"), 3); /* mail, voip, ipa: port 443 */
        assert_non_null(strstr(t, "    mail:\n      loadBalancer:\n        serversTransport: site-ca\n"));
        assert_non_null(strstr(t, "  serversTransports:\n    site-ca:\n      rootCAs: [\"/etc/traefik/tls/ca.crt\"]\n"));
        assert_non_null(strstr(t, "\ntls:\n  stores:\n    default:\n      defaultCertificate:\n"
                                  "        certFile: /etc/traefik/tls/tls.crt\n        keyFile: /etc/traefik/tls/tls.key\n"));
        /* A route to a host the site does not have is an error that names the route. */
        free(s->routes[3].backend);
        s->routes[3].backend = strdup("lab-nowhere");
        char *u = NULL;
        assert_int_equal(traefik_render(s, &u, &bad), -ENOENT);
        assert_null(u);
        assert_ptr_equal(bad, &s->routes[3]);
}

static void test_redis(void **state) {
        _cleanup_free_ char *a = redis_render(0x0a00280c, 3276ull << 20, "s3cret"), *b = redis_render(0, 0, NULL);
        assert_null(redis_render(0x0a00280c, 0, NULL)); /* beyond loopback only with a password */
        assert_non_null(a);
        assert_non_null(b);
        assert_line(a, "bind 127.0.0.1 -::1 10.0.40.12");
        assert_line(a, "maxmemory 3276mb");
        assert_line(a, "maxmemory-policy allkeys-lru");
        assert_line(a, "requirepass s3cret");
        assert_null(strstr(b, "requirepass"));
        assert_line(b, "bind 127.0.0.1 -::1");
        assert_null(strstr(b, "maxmemory"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pg_sizes),
                cmocka_unit_test(test_pg_seed),
                cmocka_unit_test(test_pg_edges),
                cmocka_unit_test(test_pg_budget),
                cmocka_unit_test(test_pg_hba),
                cmocka_unit_test(test_nft_db),
                cmocka_unit_test(test_nft_protocols_and_ranges),
                cmocka_unit_test(test_traefik),
                cmocka_unit_test(test_redis),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
