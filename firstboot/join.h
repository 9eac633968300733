/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "kickstart.h"
#include "profile.h"

/* Joining the cluster: time, name resolution, identity (FreeIPA), monitoring (Zabbix agent 2),
 * logs (rsyslog to Graylog), then a report. Each step is check -> act -> verify and journalled as
 * join/<name> (firstboot/journal.h), so a rerun resumes at the first step not done.
 *
 * What runs is what the answers ask for: time, dns and identity need a "join ipa" or
 * "join ipa-server" line; monitoring a "join zabbix" line; logs a "join graylog" line. A step
 * without its line is skipped, saying so ("skipped: no 'join ipa' in the answers"): a single lab VM
 * has no identity server to enrol with, and pretending otherwise would be a lie.
 *
 * A cluster service that does not answer is retried with exponential backoff (1 s doubling, at most
 * 30 s apart) until the wait bound (RACKSTACK_JOIN_WAIT seconds, default 300), then the step fails
 * with what did not answer: "FAILED at join/time: time server lab-id1.domain.com did not answer NTP
 * within 300 s (9 attempts): …". */

#define JOIN_WAIT_DEFAULT 300
#define JOIN_ZABBIX_CONF "etc/zabbix/zabbix_agent2.d/60-rackstack.conf"
#define JOIN_ZABBIX_PSK "etc/zabbix/rackstack.psk"
#define JOIN_RSYSLOG_CONF "etc/rsyslog.d/60-rackstack.conf"
#define JOIN_CHRONY_SOURCES "etc/chrony/sources.d/rackstack.sources"
#define JOIN_CHRONY_SERVE "etc/chrony/conf.d/rackstack.conf"

/* What the join steps act on, derived from the answers and the site (pure). Pointers are borrowed
 * from the kickstart and the site except the owned strings. */
struct join_config {
        char *fqdn;
        char *role;
        const struct ks_join *ipa, *ipa_server, *zabbix, *graylog;
        char **time_servers;  /* owned; where chrony takes time from */
        char **serve_subnets; /* owned; CIDRs chrony serves (the identity server only) */
        char *dns_name;       /* owned; the name that must resolve (the IPA server) */
        unsigned wait_sec;
};

/* fqdn: this host's; role: the image's; own_addr: this host's address (0 if unknown). */
int join_config_build(const struct ks *ks, const struct site *site, const char *fqdn, const char *role,
                      uint32_t own_addr, struct join_config *ret);
void join_config_done(struct join_config *c);

/* Renderers (pure; NULL on OOM). */
char *join_render_chrony_sources(char *const *servers);
char *join_render_chrony_serve(char *const *subnets);
char *join_render_zabbix(const char *fqdn, const char *role, const char *server, const char *psk_identity);
char *join_render_rsyslog(const char *target, uint16_t port);

/* The wait bound from RACKSTACK_JOIN_WAIT (seconds), else JOIN_WAIT_DEFAULT. */
unsigned join_wait_bound(void);

/* Retry probe with backoff until it returns >= 0 or bound_sec pass. *ret_attempts counts tries. */
int join_retry(int (*probe)(void *userdata), void *userdata, unsigned bound_sec, unsigned *ret_attempts);

/* Probes: an SNTP request answered; a name resolving; a TCP connect. */
int join_probe_ntp(const char *server, unsigned timeout_ms);
int join_probe_resolve(const char *name);
int join_probe_tcp(const char *host, uint16_t port, unsigned timeout_ms);
/* join_retry of join_probe_tcp (3 s a try): the wait for a dependency's TCP port. */
int join_wait_tcp(const char *host, uint16_t port, unsigned bound_sec, unsigned *ret_attempts);
