/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"
#include "connect.h"
#include "join.h"
#include "parse.h"
#include "util.h"

/* ---- configuration ------------------------------------------------------------------------------------ */

static int add_time_server(char ***l, const char *s, uint32_t own_addr, const char *fqdn) {
        uint32_t a;
        /* the identity server does not take time from itself */
        if ((parse_ipv4(s, &a) >= 0 && a == own_addr) || (fqdn && streq(s, fqdn)) || strv_contains(*l, s))
                return 0;
        return strv_extend(l, s);
}

int join_config_build(const struct ks *ks, const struct site *site, const char *fqdn, const char *role,
                      uint32_t own_addr, struct join_config *ret) {
        struct join_config c = { .wait_sec = join_wait_bound() };
        int r = -ENOMEM;
        if (!(c.fqdn = strdup(fqdn)) || !(c.role = strdup(role ? role : "unknown")))
                goto fail;
        if (ks) {
                c.ipa = ks_find_join(ks, KS_JOIN_IPA);
                c.ipa_server = ks_find_join(ks, KS_JOIN_IPA_SERVER);
                c.zabbix = ks_find_join(ks, KS_JOIN_ZABBIX);
                c.graylog = ks_find_join(ks, KS_JOIN_GRAYLOG);
        }
        /* Time: the kickstart's timesource lines, else the site's NTP (the identity server), else the
         * IPA server itself. */
        for (size_t i = 0; ks && i < ks->n_timesources; i++)
                if ((r = add_time_server(&c.time_servers, ks->timesources[i].server, own_addr, fqdn)) < 0)
                        goto fail;
        for (char **n = site && !c.time_servers ? site->ntp : NULL; n && *n; n++)
                if ((r = add_time_server(&c.time_servers, *n, own_addr, fqdn)) < 0)
                        goto fail;
        if (!c.time_servers && c.ipa && (r = add_time_server(&c.time_servers, c.ipa->server, own_addr, fqdn)) < 0)
                goto fail;
        if (c.ipa_server && site)
                for (size_t i = 0; i < site->n_vlans; i++) {
                        _cleanup_free_ char *net = format_ipv4(site->vlans[i].subnet);
                        char *cidr = net ? strprintf("%s/%u", net, site->vlans[i].prefix) : NULL;
                        if (!cidr || (r = strv_push(&c.serve_subnets, cidr)) < 0) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        if (c.ipa && !(c.dns_name = strdup(c.ipa->server)))
                goto fail;
        if (c.ipa_server && !(c.dns_name = strdup(fqdn)))
                goto fail;
        *ret = c;
        return 0;
fail:
        join_config_done(&c);
        return r < 0 ? r : -ENOMEM;
}

void join_config_done(struct join_config *c) {
        free(c->fqdn);
        free(c->role);
        strv_free(c->time_servers);
        strv_free(c->serve_subnets);
        free(c->dns_name);
        *c = (struct join_config) {};
}

/* ---- renderers ---------------------------------------------------------------------------------------- */

char *join_render_chrony_sources(char *const *servers) {
        struct buf b = {};
        buf_puts(&b, "# rackstack-firstboot: the site's time source (the identity server); Kerberos needs clocks\n"
                     "# within five minutes of each other. chrony.conf reads this through 'sourcedir'.\n");
        for (char *const *s = servers; s && *s; s++)
                buf_printf(&b, "server %s iburst\n", *s);
        return buf_steal(&b);
}

char *join_render_chrony_serve(char *const *subnets) {
        struct buf b = {};
        buf_puts(&b, "# rackstack-firstboot: the identity server is the site's time source. It serves the site's\n"
                     "# subnets, and keeps serving its own clock when no upstream source answers.\n");
        for (char *const *s = subnets; s && *s; s++)
                buf_printf(&b, "allow %s\n", *s);
        buf_puts(&b, "local stratum 10\n");
        return buf_steal(&b);
}

char *join_render_zabbix(const char *fqdn, const char *role, const char *server, const char *psk_identity) {
        return strprintf("# rackstack-firstboot: Zabbix agent 2, registered by the server's autoregistration action\n"
                         "# (it matches HostMetadata on the role), encrypted with the site's PSK.\n"
                         "Server=%s\n"
                         "ServerActive=%s\n"
                         "Hostname=%s\n"
                         "HostMetadata=rackstack role=%s\n"
                         "TLSConnect=psk\n"
                         "TLSAccept=psk\n"
                         "TLSPSKIdentity=%s\n"
                         "TLSPSKFile=/" JOIN_ZABBIX_PSK "\n",
                         server, server, fqdn, role, psk_identity);
}

char *join_render_rsyslog(const char *target, uint16_t port) {
        return strprintf("# rackstack-firstboot: every message to Graylog's syslog TCP input (RFC 5424). The queue is\n"
                         "# disk-assisted: what Graylog cannot take now waits in /var/spool/rsyslog (at most 1 GiB),\n"
                         "# survives a restart, and is sent when it answers again.\n"
                         "action(type=\"omfwd\" target=\"%s\" port=\"%u\" protocol=\"tcp\"\n"
                         "       template=\"RSYSLOG_SyslogProtocol23Format\"\n"
                         "       queue.type=\"LinkedList\" queue.filename=\"rackstack_graylog\"\n"
                         "       queue.maxDiskSpace=\"1g\" queue.saveOnShutdown=\"on\"\n"
                         "       action.resumeRetryCount=\"-1\" action.resumeInterval=\"10\")\n",
                         target, port);
}

/* ---- waiting ------------------------------------------------------------------------------------------ */

unsigned join_wait_bound(void) {
        const char *e = secure_getenv("RACKSTACK_JOIN_WAIT");
        uint32_t v;
        if (e && parse_uint32_range(e, 0, 24 * 3600, &v) >= 0)
                return v;
        return JOIN_WAIT_DEFAULT;
}

int join_retry(int (*probe)(void *userdata), void *userdata, unsigned bound_sec, unsigned *ret_attempts) {
        double deadline = now_monotonic() + bound_sec, pause = 1;
        unsigned attempts = 0;
        int r;
        for (;;) {
                attempts++;
                r = probe(userdata);
                if (r >= 0)
                        break;
                double left = deadline - now_monotonic();
                if (left <= 0)
                        break;
                double p = MIN(pause, left);
                struct timespec ts = { .tv_sec = (time_t) p, .tv_nsec = (long) ((p - (double) (time_t) p) * 1e9) };
                nanosleep(&ts, NULL);
                pause = MIN(pause * 2, 30);
        }
        if (ret_attempts)
                *ret_attempts = attempts;
        return r;
}

/* ---- probes ------------------------------------------------------------------------------------------- */

static int resolve(const char *host, const char *service, int socktype, struct addrinfo **ret) {
        return net_resolve(host, service, AF_INET, socktype, ret);
}

int join_probe_resolve(const char *name) {
        struct addrinfo *ai = NULL;
        int r = resolve(name, NULL, SOCK_STREAM, &ai);
        if (ai)
                freeaddrinfo(ai);
        return r;
}

static int wait_fd(int fd, short events, unsigned timeout_ms) {
        struct pollfd p = { .fd = fd, .events = events };
        int k;
        while ((k = poll(&p, 1, (int) timeout_ms)) < 0 && errno == EINTR)
                ;
        if (k < 0)
                return -errno;
        return k == 0 ? -ETIMEDOUT : 0;
}

int join_probe_tcp(const char *host, uint16_t port, unsigned timeout_ms) {
        char svc[8];
        snprintf(svc, sizeof svc, "%u", port);
        _cleanup_close_ int fd = -1;
        return net_connect(host, svc, AF_INET, (int) timeout_ms, &fd);
}

int join_probe_ntp(const char *server, unsigned timeout_ms) {
        struct addrinfo *ai = NULL;
        int r = resolve(server, "123", SOCK_DGRAM, &ai);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(ai->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                freeaddrinfo(ai);
                return -errno;
        }
        r = connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 ? -errno : 0;
        freeaddrinfo(ai);
        if (r < 0)
                return r;
        /* SNTP (RFC 4330): LI 0, version 4, mode 3 (client); the rest may be zero */
        uint8_t pkt[48] = { 0x23 };
        if (send(fd, pkt, sizeof pkt, 0) < 0)
                return -errno;
        r = wait_fd(fd, POLLIN, timeout_ms);
        if (r < 0)
                return r;
        uint8_t reply[68];
        ssize_t k = recv(fd, reply, sizeof reply, 0);
        if (k < 0)
                return -errno;
        /* a server's answer: mode 4, and a stratum (0 is a kiss-of-death) */
        if (k < 48 || (reply[0] & 7) != 4 || reply[1] == 0)
                return -EPROTO;
        return 0;
}

struct tcp_probe {
        const char *host;
        uint16_t port;
};
static int probe_tcp(void *u) {
        const struct tcp_probe *p = u;
        return join_probe_tcp(p->host, p->port, 3000);
}

int join_wait_tcp(const char *host, uint16_t port, unsigned bound_sec, unsigned *ret_attempts) {
        struct tcp_probe p = { host, port };
        return join_retry(probe_tcp, &p, bound_sec, ret_attempts);
}
