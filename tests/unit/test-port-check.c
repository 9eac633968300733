/* SPDX-License-Identifier: MIT */
/* The services step's "does it answer" check by protocol (firstboot/port-check.h): which protocol a
 * service's port is checked with, the reading of /proc/net/udp{,6}, and that against real sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "diag.h"
#include "port-check.h"
#include "profile.h"

static void test_protos_from_port_table(void **state) {
        (void) state;
        struct port_spec ports[] = {
                { .port = 80, .port_end = 80, .protos = PROTO_TCP },
                { .port = 5060, .port_end = 5060, .protos = PROTO_TCP | PROTO_UDP },
                { .port = 10000, .port_end = 20000, .protos = PROTO_UDP },
        };
        struct profile p = { .ports = ports, .n_ports = 3 };
        assert_int_equal(port_check_protos(&p, 80), PROTO_TCP);
        assert_int_equal(port_check_protos(&p, 5060), PROTO_TCP | PROTO_UDP);
        assert_int_equal(port_check_protos(&p, 10000), PROTO_UDP);
        assert_int_equal(port_check_protos(&p, 12201), PROTO_UDP);
        assert_int_equal(port_check_protos(&p, 20000), PROTO_UDP);
        assert_int_equal(port_check_protos(&p, 20001), PROTO_TCP); /* not listed: TCP as before */
        assert_int_equal(port_check_protos(NULL, 5060), PROTO_TCP);
        assert_string_equal(port_protos_to_string(PROTO_UDP), "udp");
        assert_string_equal(port_protos_to_string(PROTO_TCP | PROTO_UDP), "tcp or udp");
}

/* The seed's voip role: Asterisk's SIP port is UDP-capable, so it is not checked by TCP alone (it
 * was, and firstboot reported Asterisk FAILED on a server where it listened on UDP 5060). */
static void test_voip_profile(void **state) {
        (void) state;
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *p = NULL;
        int r = profile_load("profiles", "voip", &d, &p);
        if (r < 0)
                diags_print(&d, stderr);
        diags_done(&d);
        assert_int_equal(r, 0);
        const struct service_spec *ast = NULL;
        for (size_t i = 0; i < p->n_services; i++)
                if (strcmp(p->services[i].name, "asterisk") == 0)
                        ast = &p->services[i];
        assert_non_null(ast);
        /* 5060 is checked, and by UDP among others; 5061 (TLS) is not, as the packaged
         * configuration has no TLS transport: a check there could only fail. */
        bool sip = false;
        for (size_t i = 0; i < ast->n_ports; i++) {
                sip |= ast->ports[i] == 5060;
                assert_int_not_equal(ast->ports[i], 5061);
        }
        assert_true(sip);
        assert_true(port_check_protos(p, 5060) & PROTO_UDP);
}

/* Lines as the kernel prints them (trimmed at the inode column's end is not allowed: the whole line). */
static const char udp4[] =
        "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "  283: 00000000:13C4 00000000:0000 07 00000000:00000000 00:00000000 00000000   106        0 23456 2 0000000000000000 0\n"
        "  400: 0100007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 1234 2 0000000000000000 0\n"
        "  401: 0132000A:2F7A 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 1235 2 0000000000000000 0\n";
static const char udp6[] =
        "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"
        "   10: 00000000000000000000000000000000:0202 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 99 2 0000000000000000 0\n"
        "   11: 0000000000000000FFFF00000100007F:0203 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 98 2 0000000000000000 0\n"
        "   12: 000080FE000000000000000001000000:0204 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 97 2 0000000000000000 0\n";

static void test_proc_text(void **state) {
        (void) state;
        const uint32_t lo = INADDR_LOOPBACK, vlan = 0x0a003201; /* 10.0.50.1 */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, lo, 5060), 1);   /* 0.0.0.0:5060 */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, vlan, 5060), 1); /* wildcard covers any */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, lo, 53), 1);     /* 127.0.0.1:53 */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, vlan, 53), 0);   /* not on 10.0.50.1 */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, vlan, 12154), 1); /* 10.0.50.1:12154 */
        assert_int_equal(udp_bound_in_proc_text(udp4, false, lo, 12154), 0);
        assert_int_equal(udp_bound_in_proc_text(udp4, false, lo, 5061), 0);
        assert_int_equal(udp_bound_in_proc_text(udp6, true, lo, 514), 1);     /* [::]:514 */
        assert_int_equal(udp_bound_in_proc_text(udp6, true, lo, 515), 1);     /* [::ffff:127.0.0.1]:515 */
        assert_int_equal(udp_bound_in_proc_text(udp6, true, vlan, 515), 0);
        assert_int_equal(udp_bound_in_proc_text(udp6, true, lo, 516), 0);     /* fe80::1 is not ours */
        /* header only: nothing bound; garbage: an error, never "answers" */
        assert_int_equal(udp_bound_in_proc_text("  sl  local_address\n", false, lo, 5060), 0);
        assert_int_equal(udp_bound_in_proc_text("hdr\n  1: 0100007F 00000000:0000 07\n", false, lo, 5060), -EBADMSG);
        assert_int_equal(udp_bound_in_proc_text("hdr\n  1: 0100007F:XYZW 00000000:0000 07\n", false, lo, 5060), -EBADMSG);
        assert_int_equal(udp_bound_in_proc_text("", false, lo, 5060), -EBADMSG);
}

static uint16_t bound_port(int fd) {
        struct sockaddr_storage ss;
        socklen_t l = sizeof ss;
        assert_int_equal(getsockname(fd, (struct sockaddr *) &ss, &l), 0);
        return ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *) &ss)->sin6_port : ((struct sockaddr_in *) &ss)->sin_port);
}

/* Against the running kernel: a bound UDP socket is seen, a TCP listener on the same number is not
 * a UDP answer, a socket on another address is not ours, a closed one is gone. */
static void test_real_sockets(void **state) {
        (void) state;
        int u = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(u >= 0);
        struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(bind(u, (struct sockaddr *) &sin, sizeof sin), 0);
        uint16_t port = bound_port(u);
        assert_int_equal(udp_bound(INADDR_LOOPBACK, port), 0);
        assert_int_equal(udp_bound(0x0a000001, port), -ECONNREFUSED); /* bound to 127.0.0.1 only */
        close(u);
        assert_int_equal(udp_bound(INADDR_LOOPBACK, port), -ECONNREFUSED);

        int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(t >= 0);
        assert_int_equal(bind(t, (struct sockaddr *) &sin, sizeof sin), 0);
        assert_int_equal(listen(t, 1), 0);
        assert_int_equal(udp_bound(INADDR_LOOPBACK, bound_port(t)), -ECONNREFUSED);
        close(t);

        int u6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in6 any6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
        if (u6 >= 0 && bind(u6, (struct sockaddr *) &any6, sizeof any6) == 0) {
                assert_int_equal(udp_bound(INADDR_LOOPBACK, bound_port(u6)), 0); /* [::] takes IPv4 too */
                assert_int_equal(udp_bound(0x0a000001, bound_port(u6)), 0);
        } else
                fprintf(stderr, "no IPv6 here: the [::] case is covered by the /proc text test only\n");
        if (u6 >= 0)
                close(u6);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_protos_from_port_table),
                cmocka_unit_test(test_voip_profile),
                cmocka_unit_test(test_proc_text),
                cmocka_unit_test(test_real_sockets),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
