/* SPDX-License-Identifier: MIT */
/* Joining the cluster: the configuration from the answers and the site, the chrony, Zabbix and
 * rsyslog renderers, the bounded retry, the probes, and the join step itself on a temporary root
 * (skips, a service that never answers, one that does, resume from the journal, refused secrets). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "creds-place.h"
#include "fileio.h"
#include "join.h"
#include "journal.h"
#include "kickstart.h"
#include "parse.h"
#include "profile.h"
#include "run-steps.h"
#include "util.h"

static struct site *load_site(void) {
        struct site *s = NULL;
        struct diags d = {};
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        diags_done(&d);
        return s;
}

static struct ks *parse_ks(const char *text) {
        struct ks *ks = NULL;
        struct diags d = {};
        int r = ks_parse_buffer("t.ks", text, strlen(text), &d, &ks);
        diags_print(&d, stderr);
        diags_done(&d);
        assert_int_equal(r, 0);
        return ks;
}

static uint32_t ip(const char *s) {
        uint32_t a;
        assert_int_equal(parse_ipv4(s, &a), 0);
        return a;
}

static void test_config(void **state) {
        _cleanup_(site_freep) struct site *site = load_site();
        _cleanup_(ks_freep) struct ks *db = NULL;
        struct diags d = {};
        assert_int_equal(ks_load_file("kickstart/lab-db1.ks", &d, &db), 0);
        diags_done(&d);
        struct join_config c = {};
        assert_int_equal(join_config_build(db, site, "lab-db1.domain.com", "db", ip("10.0.50.12"), &c), 0);
        assert_non_null(c.ipa);
        assert_null(c.ipa_server);
        assert_non_null(c.zabbix);
        assert_non_null(c.graylog);
        assert_int_equal(strv_length(c.time_servers), 1);
        assert_string_equal(c.time_servers[0], "10.0.50.11"); /* the kickstart's timesource */
        assert_null(c.serve_subnets);
        assert_string_equal(c.dns_name, "lab-id1.domain.com");
        join_config_done(&c);

        /* the identity server serves time to the site's subnets and takes none from itself */
        _cleanup_(ks_freep) struct ks *id = NULL;
        assert_int_equal(ks_load_file("kickstart/lab-id1.ks", &d, &id), 0);
        diags_done(&d);
        assert_int_equal(join_config_build(id, site, "lab-id1.domain.com", "id", ip("10.0.50.11"), &c), 0);
        assert_non_null(c.ipa_server);
        assert_null(c.time_servers);
        assert_int_equal(strv_length(c.serve_subnets), site->n_vlans);
        assert_true(strv_contains(c.serve_subnets, "10.0.50.0/24"));
        assert_true(strv_contains(c.serve_subnets, "10.0.100.0/22"));
        assert_string_equal(c.dns_name, "lab-id1.domain.com");
        join_config_done(&c);

        /* no timesource in the answers: the site's NTP */
        _cleanup_(ks_freep) struct ks *bare = parse_ks("%addon com_rackstack\nrole db\n%end\n");
        assert_int_equal(join_config_build(bare, site, "lab-db1.domain.com", "db", ip("10.0.50.12"), &c), 0);
        assert_string_equal(c.time_servers[0], "10.0.50.11");
        assert_null(c.ipa);
        assert_null(c.dns_name);
        join_config_done(&c);
}

static void test_renderers(void **state) {
        char *servers[] = { (char *) "10.0.50.11", (char *) "ntp2.domain.com", NULL };
        _cleanup_free_ char *src = join_render_chrony_sources(servers);
        assert_non_null(strstr(src, "\nserver 10.0.50.11 iburst\nserver ntp2.domain.com iburst\n"));
        char *subnets[] = { (char *) "10.0.10.0/24", (char *) "10.0.50.0/24", NULL };
        _cleanup_free_ char *serve = join_render_chrony_serve(subnets);
        assert_non_null(strstr(serve, "\nallow 10.0.10.0/24\nallow 10.0.50.0/24\nlocal stratum 10\n"));

        _cleanup_free_ char *z = join_render_zabbix("lab-db1.domain.com", "db", "lab-comm1.domain.com", "rackstack");
        static const char *const zl[] = {
                "\nServer=lab-comm1.domain.com\n", "\nServerActive=lab-comm1.domain.com\n", "\nHostname=lab-db1.domain.com\n",
                "\nHostMetadata=rackstack role=db\n", "\nTLSConnect=psk\n", "\nTLSAccept=psk\n",
                "\nTLSPSKIdentity=rackstack\n", "\nTLSPSKFile=/etc/zabbix/rackstack.psk\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(zl); i++)
                if (!strstr(z, zl[i]))
                        fail_msg("zabbix config lacks %s", zl[i]);

        _cleanup_free_ char *rs = join_render_rsyslog("lab-infra1.domain.com", 1514);
        static const char *const rl[] = {
                "action(type=\"omfwd\" target=\"lab-infra1.domain.com\" port=\"1514\" protocol=\"tcp\"",
                "template=\"RSYSLOG_SyslogProtocol23Format\"", "queue.type=\"LinkedList\"",
                "queue.filename=\"rackstack_graylog\"", "queue.saveOnShutdown=\"on\"", "action.resumeRetryCount=\"-1\"",
                "queue.maxDiskSpace=\"1g\"",
        };
        for (size_t i = 0; i < ELEMENTSOF(rl); i++)
                if (!strstr(rs, rl[i]))
                        fail_msg("rsyslog config lacks %s", rl[i]);
        /* rsyslogd itself accepts it, when it is here to ask */
        if (access("/usr/sbin/rsyslogd", X_OK) == 0) {
                char path[] = "/tmp/test-join-rsyslog-XXXXXX";
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                assert_int_equal(write(fd, rs, strlen(rs)), (ssize_t) strlen(rs));
                close(fd);
                _cleanup_free_ char *cmd = strprintf("/usr/sbin/rsyslogd -N1 -f %s >/dev/null 2>&1", path);
                assert_int_equal(system(cmd), 0);
                unlink(path);
        } else
                print_message("rsyslogd missing: the rendered configuration is not validated by it\n");
}

static int count_fail(void *u) {
        (*(int *) u)++;
        return -ECONNREFUSED;
}
static int succeed_third(void *u) {
        return ++(*(int *) u) >= 3 ? 0 : -ETIMEDOUT;
}

static void test_retry_bound(void **state) {
        int n = 0;
        unsigned attempts = 0;
        double t0 = now_monotonic();
        assert_int_equal(join_retry(count_fail, &n, 2, &attempts), -ECONNREFUSED);
        double took = now_monotonic() - t0;
        /* pauses 1 s, then what is left of the bound: tries at 0, 1 and 2 s */
        assert_int_equal(attempts, (unsigned) n);
        assert_true(attempts >= 2 && attempts <= 4);
        assert_true(took >= 1.9 && took < 3.5);
        n = 0;
        assert_int_equal(join_retry(succeed_third, &n, 30, &attempts), 0);
        assert_int_equal(attempts, 3); /* 1 s + 2 s of backoff */
        n = 0;
        assert_int_equal(join_retry(count_fail, &n, 0, &attempts), -ECONNREFUSED);
        assert_int_equal(attempts, 1);
}

/* A local TCP listener that accepts in the background (the kernel's backlog does it for us). */
static int listen_tcp(uint16_t *ret_port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(fd, 16), 0);
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        *ret_port = ntohs(a.sin_port);
        return fd;
}

static uint16_t closed_port(void) {
        uint16_t p;
        int fd = listen_tcp(&p);
        close(fd);
        return p;
}

static void *ntp_server(void *u) {
        int fd = *(int *) u;
        uint8_t buf[64];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t k = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *) &from, &len);
        if (k >= 48) {
                uint8_t reply[48] = { 0x24, 2 }; /* mode 4 (server), stratum 2 */
                sendto(fd, reply, sizeof reply, 0, (struct sockaddr *) &from, len);
        }
        return NULL;
}

static void test_probes(void **state) {
        uint16_t port;
        int lfd = listen_tcp(&port);
        assert_int_equal(join_probe_tcp("127.0.0.1", port, 2000), 0);
        close(lfd);
        assert_int_equal(join_probe_tcp("127.0.0.1", closed_port(), 2000), -ECONNREFUSED);
        assert_int_equal(join_probe_resolve("localhost"), 0);
        assert_int_equal(join_probe_resolve("no-such-host.invalid"), -EHOSTUNREACH);

        /* NTP: a stand-in server on a local port, reached through the probe's port override below */
        int ufd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = htons(123) };
        if (bind(ufd, (struct sockaddr *) &a, sizeof a) < 0) {
                print_message("cannot bind 127.0.0.1:123 (%s): the NTP answer is not exercised here\n", strerror(errno));
                close(ufd);
        } else {
                pthread_t t;
                assert_int_equal(pthread_create(&t, NULL, ntp_server, &ufd), 0);
                assert_int_equal(join_probe_ntp("127.0.0.1", 2000), 0);
                pthread_join(t, NULL);
                /* nobody answers now */
                assert_int_equal(join_probe_ntp("127.0.0.1", 300), -ETIMEDOUT);
                close(ufd);
        }
}

/* ---- the step on a temporary root ---------------------------------------------------------------------- */

struct fixture {
        char dir[64];
        int fd;
        struct site *site;
        struct ks *ks;
        struct status st;
        struct run_ctx c;
        struct options o;
};

static void fixture_init(struct fixture *f, const char *ks_text) {
        *f = (struct fixture) {};
        strcpy(f->dir, "/tmp/test-join-root-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        f->fd = open(f->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        f->site = load_site();
        f->ks = parse_ks(ks_text);
        f->st.quiet = true;
        f->o.root = f->dir;
        f->c = (struct run_ctx) { .o = &f->o, .root = f->dir, .root_fd = f->fd, .ks = f->ks, .site = f->site,
                                  .host = site_find_host(f->site, "lab-db1"), .status = &f->st };
}

static void fixture_reset_status(struct fixture *f) {
        status_done(&f->st);
        f->st.quiet = true;
}

static void fixture_done(struct fixture *f) {
        status_done(&f->st);
        ks_free(f->ks);
        site_free(f->site);
        close(f->fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", f->dir);
        assert_int_equal(system(rm), 0);
}

static const char *step_state(const struct status *st, const char *name, const char **ret_reason) {
        for (size_t i = st->n; i > 0; i--)
                if (streq(st->steps[i - 1].step, name)) {
                        if (ret_reason)
                                *ret_reason = st->steps[i - 1].reason;
                        return st->steps[i - 1].state;
                }
        return NULL;
}

#define DB_NET "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.12 --netmask=255.255.255.0 " \
               "--hostname=lab-db1.domain.com\n"

static void test_step_skips_without_join_lines(void **state) {
        struct fixture f;
        fixture_init(&f, DB_NET "%addon com_rackstack\nrole db\n%end\n");
        assert_int_equal(step_join(&f.c), RUN_SKIPPED);
        const char *why = NULL;
        assert_string_equal(step_state(&f.st, "join/time", &why), "skipped");
        assert_string_equal(why, "no 'join ipa' or 'join ipa-server' in the answers");
        assert_string_equal(step_state(&f.st, "join/dns", NULL), "skipped");
        assert_string_equal(step_state(&f.st, "join/identity", NULL), "skipped");
        assert_string_equal(step_state(&f.st, "join/monitoring", &why), "skipped");
        assert_string_equal(why, "no 'join zabbix' in the answers");
        assert_string_equal(step_state(&f.st, "join/logs", NULL), "skipped");
        assert_string_equal(step_state(&f.st, "join/report", NULL), "done");
        assert_string_equal(step_state(&f.st, "join", &why), "skipped");
        assert_null(f.st.failed_step);
        fixture_done(&f);
}

static void test_step_service_never_answers(void **state) {
        setenv("RACKSTACK_JOIN_WAIT", "2", 1);
        _cleanup_free_ char *ks = strprintf(DB_NET "%%addon com_rackstack\nrole db\njoin graylog server=127.0.0.1 port=%u\n%%end\n",
                                            closed_port());
        struct fixture f;
        fixture_init(&f, ks);
        double t0 = now_monotonic();
        int r = step_join(&f.c);
        double took = now_monotonic() - t0;
        assert_true(r < 0);
        assert_string_equal(f.st.failed_step, "join/logs");
        if (!strstr(f.st.reason, "Graylog 127.0.0.1 does not answer on ") || !strstr(f.st.reason, "/tcp within 2 s (") ||
            !strstr(f.st.reason, "Connection refused"))
                fail_msg("reason: %s", f.st.reason);
        assert_true(took >= 1.9 && took < 5);
        /* the configuration is written; the journal says the step began and did not finish */
        assert_int_equal(faccessat(f.fd, "etc/rsyslog.d/60-rackstack.conf", F_OK, 0), 0);
        struct journal *j = NULL;
        assert_int_equal(journal_open(f.fd, NULL, &j), 0);
        assert_non_null(journal_find(j, "join/logs"));
        assert_false(journal_is_done(j, "join/logs"));
        journal_free(j);

        /* the service comes up: the rerun resumes there and finishes */
        uint16_t port;
        int lfd = listen_tcp(&port);
        ks_free(f.ks);
        _cleanup_free_ char *ks2 = strprintf(DB_NET "%%addon com_rackstack\nrole db\njoin graylog server=127.0.0.1 port=%u\n%%end\n",
                                             port);
        f.ks = f.c.ks = parse_ks(ks2);
        fixture_reset_status(&f);
        assert_int_equal(step_join(&f.c), 0);
        const char *why = NULL;
        assert_string_equal(step_state(&f.st, "join/logs", &why), "done");
        assert_non_null(strstr(why, "rsyslog forwards to 127.0.0.1:"));
        assert_string_equal(step_state(&f.st, "join", NULL), "done");
        assert_int_equal(f.st.n_attachments, 1);
        assert_string_equal(f.st.attachments[0].key, "join");
        assert_non_null(strstr(f.st.attachments[0].json, "\"done\":[\"join/logs\"]"));

        /* a third run finds it in the journal and does not touch it; the bundle that run's answers
         * step placed again is removed again (join/report is not taken from the journal) */
        close(lfd);
        _cleanup_free_ char *place = strprintf("mkdir -p %s/" CREDS_DIR " && echo secret >%s/" CREDS_DIR "/db.nextcloud",
                                               f.dir, f.dir);
        assert_int_equal(system(place), 0);
        fixture_reset_status(&f);
        assert_int_equal(step_join(&f.c), 0);
        assert_string_equal(step_state(&f.st, "join/logs", &why), "done");
        assert_string_equal(why, "done by an earlier run (journal)");
        assert_string_equal(step_state(&f.st, "join/report", &why), "done");
        assert_true(faccessat(f.fd, CREDS_DIR "/db.nextcloud", F_OK, 0) < 0);
        fixture_done(&f);
        unsetenv("RACKSTACK_JOIN_WAIT");
}

static void test_step_refuses_open_secret(void **state) {
        setenv("RACKSTACK_JOIN_WAIT", "0", 1);
        struct fixture f;
        fixture_init(&f, DB_NET "%addon com_rackstack\nrole db\n"
                             "join zabbix psk-file=/run/credentials/psk server=127.0.0.1\n%end\n");
        assert_int_equal(mkdir_parents_at(f.fd, "run/credentials", 0700), 0);
        static const char psk[] = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n";
        assert_int_equal(write_file_atomic(f.fd, "run/credentials/psk", psk, strlen(psk), 0644), 0);
        assert_true(step_join(&f.c) < 0);
        assert_string_equal(f.st.failed_step, "join/monitoring");
        assert_string_equal(f.st.reason, "the secret file /run/credentials/psk: not a regular file owned by root with "
                                         "mode 0600 or stricter; refused");
        /* root-only: accepted; the PSK lands 0600 and the config names it; no server answers in 0 s */
        assert_int_equal(fchmodat(f.fd, "run/credentials/psk", 0600, 0), 0);
        fixture_reset_status(&f);
        assert_true(step_join(&f.c) < 0);
        assert_string_equal(f.st.failed_step, "join/monitoring");
        assert_non_null(strstr(f.st.reason, "Zabbix server 127.0.0.1 does not answer on 10051/tcp within 0 s (1 attempts)"));
        struct stat st;
        assert_int_equal(fstatat(f.fd, "etc/zabbix/rackstack.psk", &st, 0), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        _cleanup_free_ char *conf = NULL;
        assert_int_equal(read_file_full(f.fd, "etc/zabbix/zabbix_agent2.d/60-rackstack.conf", 1 << 16, &conf, NULL), 0);
        assert_non_null(strstr(conf, "HostMetadata=rackstack role=db\n"));
        /* the PSK itself is in no status text */
        for (size_t i = 0; i < f.st.n_events; i++)
                assert_null(strstr(f.st.events[i], "0123456789abcdef0123"));
        fixture_done(&f);
        unsetenv("RACKSTACK_JOIN_WAIT");
}

static void test_step_ipa_without_server(void **state) {
        /* a realm in the answers and no identity server: the bounded wait, then FAILED at join/time */
        setenv("RACKSTACK_JOIN_WAIT", "1", 1);
        struct fixture f;
        fixture_init(&f, DB_NET "timesource --ntp-server=127.0.0.1\n%addon com_rackstack\nrole db\n"
                             "join ipa otp-file=/run/otp server=lab-id1.domain.com realm=DOMAIN.COM\n%end\n");
        assert_true(step_join(&f.c) < 0);
        assert_string_equal(f.st.failed_step, "join/time");
        if (!strstr(f.st.reason, "time server 127.0.0.1 did not answer NTP within 1 s ("))
                fail_msg("reason: %s", f.st.reason);
        _cleanup_free_ char *src = NULL;
        assert_int_equal(read_file_full(f.fd, "etc/chrony/sources.d/rackstack.sources", 1 << 16, &src, NULL), 0);
        assert_non_null(strstr(src, "server 127.0.0.1 iburst\n"));
        fixture_done(&f);
        unsetenv("RACKSTACK_JOIN_WAIT");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_renderers),
                cmocka_unit_test(test_retry_bound),
                cmocka_unit_test(test_probes),
                cmocka_unit_test(test_step_skips_without_join_lines),
                cmocka_unit_test(test_step_service_never_answers),
                cmocka_unit_test(test_step_refuses_open_secret),
                cmocka_unit_test(test_step_ipa_without_server),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
