/* SPDX-License-Identifier: MIT */
/* Verification before commit: carrier, the LACP partner, and the gateway answering ARP. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>

#include "cleanup.h"
#include "fileio.h"
#include "net-apply.h"
#include "parse.h"
#include "util.h"

static void sleep_ms(unsigned ms) {
        struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int net_wait_carrier(const char *sysfs_root, const char *ifname, unsigned timeout_ms) {
        _cleanup_free_ char *path = strprintf("%s/class/net/%s/carrier", sysfs_root, ifname);
        if (!path)
                return -ENOMEM;
        double deadline = now_monotonic() + timeout_ms / 1000.0;
        for (;;) {
                _cleanup_free_ char *s = NULL;
                int r = read_file_full(AT_FDCWD, path, 64, &s, NULL);
                if (r == -ENOENT)
                        return -ENODEV;
                /* EINVAL while the link is down: not an error, just no carrier yet. */
                if (r >= 0 && s[0] == '1')
                        return 1;
                if (now_monotonic() >= deadline)
                        return 0;
                sleep_ms(100);
        }
}

void bond_proc_info_done(struct bond_proc_info *i) {
        free(i->mode);
        free(i->mii_status);
        free(i->partner_mac);
        *i = (struct bond_proc_info) {};
}

static char *value_after(const char *line, const char *key) {
        const char *p = line;
        while (*p == ' ' || *p == '\t')
                p++;
        if (!startswith(p, key))
                return NULL;
        p += strlen(key);
        while (*p == ' ' || *p == '\t')
                p++;
        return strdup(p);
}

int bond_proc_parse(const char *text, struct bond_proc_info *ret) {
        struct bond_proc_info i = {};
        _cleanup_strv_free_ char **lines = NULL;
        int r = strv_split(text, "\n", &lines);
        if (r < 0)
                return r;
        bool in_slave = false, seen_mode = false;
        for (char **l = lines; l && *l; l++) {
                char *v;
                if ((v = value_after(*l, "Bonding Mode:"))) {
                        free(i.mode);
                        i.mode = v;
                        seen_mode = true;
                } else if ((v = value_after(*l, "Slave Interface:"))) {
                        free(v);
                        in_slave = true;
                        i.n_slaves++;
                } else if ((v = value_after(*l, "MII Status:"))) {
                        if (in_slave) {
                                i.n_slaves_up += streq(v, "up");
                                free(v);
                        } else if (!i.mii_status)
                                i.mii_status = v;
                        else
                                free(v);
                } else if (!in_slave && (v = value_after(*l, "Partner Mac Address:"))) {
                        /* Without a partner the kernel shows the aggregator with an all-zero MAC. */
                        if (is_mac_address(v) && !streq(v, "00:00:00:00:00:00") && !i.partner_mac)
                                i.partner_mac = v;
                        else
                                free(v);
                }
        }
        if (!seen_mode) {
                bond_proc_info_done(&i);
                return -EINVAL;
        }
        *ret = i;
        return 0;
}

int net_wait_lacp_partner(const char *proc_root, const char *bond, unsigned timeout_ms, char **ret_partner) {
        _cleanup_free_ char *path = strprintf("%s/net/bonding/%s", proc_root, bond);
        if (!path)
                return -ENOMEM;
        double deadline = now_monotonic() + timeout_ms / 1000.0;
        for (;;) {
                _cleanup_free_ char *text = NULL;
                int r = read_file_full(AT_FDCWD, path, 1 << 20, &text, NULL);
                if (r < 0)
                        return r;
                struct bond_proc_info info;
                r = bond_proc_parse(text, &info);
                if (r < 0)
                        return r;
                if (info.partner_mac) {
                        *ret_partner = TAKE_PTR(info.partner_mac);
                        bond_proc_info_done(&info);
                        return 1;
                }
                bond_proc_info_done(&info);
                if (now_monotonic() >= deadline)
                        return 0;
                sleep_ms(250);
        }
}

/* ---- ARP ---------------------------------------------------------------------------------------- */

static void put_be16(uint8_t *p, uint16_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}
static void put_be32(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) (v >> 24);
        p[1] = (uint8_t) (v >> 16);
        p[2] = (uint8_t) (v >> 8);
        p[3] = (uint8_t) v;
}
static uint32_t get_be32(const uint8_t *p) {
        return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

void arp_build_request(const uint8_t src_mac[6], uint32_t src_ip, uint32_t target_ip, uint8_t ret[ARP_PAYLOAD_SIZE]) {
        put_be16(ret + 0, ARPHRD_ETHER);
        put_be16(ret + 2, ETHERTYPE_IP);
        ret[4] = 6;
        ret[5] = 4;
        put_be16(ret + 6, ARPOP_REQUEST);
        memcpy(ret + 8, src_mac, 6);
        put_be32(ret + 14, src_ip);
        memset(ret + 18, 0, 6);
        put_be32(ret + 24, target_ip);
}

bool arp_is_reply(const uint8_t *pkt, size_t len, uint32_t src_ip, uint32_t target_ip, uint8_t ret_mac[6]) {
        if (len < ARP_PAYLOAD_SIZE)
                return false;
        if (pkt[0] != 0 || pkt[1] != ARPHRD_ETHER || pkt[2] != 0x08 || pkt[3] != 0x00 || pkt[4] != 6 || pkt[5] != 4)
                return false;
        if (pkt[6] != 0 || pkt[7] != ARPOP_REPLY)
                return false;
        if (get_be32(pkt + 14) != target_ip || get_be32(pkt + 24) != src_ip)
                return false;
        if (ret_mac)
                memcpy(ret_mac, pkt + 8, 6);
        return true;
}

int arp_probe(const char *ifname, uint32_t src_ip, uint32_t target_ip, unsigned timeout_ms, uint8_t ret_mac[6]) {
        if (strlen(ifname) >= IFNAMSIZ)
                return -EINVAL;
        /* SOCK_DGRAM: the kernel builds the Ethernet header (and the VLAN tag, on a VLAN link). */
        _cleanup_close_ int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, htons(ETH_P_ARP));
        if (fd < 0)
                return -errno;
        struct ifreq ifr = {};
        memcpy(ifr.ifr_name, ifname, strlen(ifname) + 1);
        if (ioctl(fd, SIOCGIFINDEX, &ifr) < 0)
                return -errno;
        int ifindex = ifr.ifr_ifindex;
        if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                return -errno;
        uint8_t mac[6];
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);

        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP), .sll_ifindex = ifindex };
        if (bind(fd, (struct sockaddr *) &sll, sizeof sll) < 0)
                return -errno;

        uint8_t req[ARP_PAYLOAD_SIZE];
        arp_build_request(mac, src_ip, target_ip, req);
        struct sockaddr_ll to = sll;
        to.sll_halen = 6;
        memset(to.sll_addr, 0xff, 6);

        /* One request now and one every second: a single frame can be lost while a bond settles. */
        double start = now_monotonic(), deadline = start + timeout_ms / 1000.0, next_send = start;
        for (;;) {
                double now = now_monotonic();
                if (now >= deadline)
                        return 0;
                if (now >= next_send) {
                        if (sendto(fd, req, sizeof req, 0, (struct sockaddr *) &to, sizeof to) < 0)
                                return -errno;
                        next_send = now + 1.0;
                }
                double wait = MIN(deadline, next_send) - now;
                struct pollfd pfd = { .fd = fd, .events = POLLIN };
                int n = poll(&pfd, 1, (int) (wait * 1000) + 1);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        continue;
                uint8_t buf[1500];
                ssize_t len;
                while ((len = recv(fd, buf, sizeof buf, 0)) >= 0)
                        if (arp_is_reply(buf, (size_t) len, src_ip, target_ip, ret_mac))
                                return 1;
                if (errno != EAGAIN && errno != EINTR)
                        return -errno;
        }
}
