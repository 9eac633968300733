/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "escape.h"
#include "fileio.h"
#include "netplan.h"
#include "parse.h"
#include "process.h"
#include "util.h"

static int link_name_cmp(const void *a, const void *b) {
        const struct net_link *x = *(const struct net_link *const *) a, *y = *(const struct net_link *const *) b;
        if (x->kind == NET_LINK_VLAN && y->kind == NET_LINK_VLAN && x->vlan_id != y->vlan_id)
                return x->vlan_id < y->vlan_id ? -1 : 1;
        return strcmp(x->name, y->name);
}

/* Links of one kind, sorted: the YAML must not depend on discovery order. */
static const struct net_link **sorted_links(const struct net_plan *p, enum net_link_kind kind, size_t *ret_n) {
        const struct net_link **v = calloc(p->n_links + 1, sizeof *v);
        if (!v)
                return NULL;
        size_t n = 0;
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].kind == kind)
                        v[n++] = &p->links[i];
        qsort(v, n, sizeof *v, link_name_cmp);
        *ret_n = n;
        return v;
}

/* Names come from the answers and the profile: plain when they are plain, else quoted. */
static void put_key(struct buf *b, const char *indent, const char *name) {
        buf_puts(b, indent);
        buf_put_yaml_scalar(b, name);
        buf_puts(b, ":\n");
}

static void put_value(struct buf *b, const char *prefix, const char *v) {
        buf_puts(b, prefix);
        buf_put_yaml_scalar(b, v);
        buf_putc(b, '\n');
}

static void put_addresses(struct buf *b, const struct net_link *l) {
        if (l->n_addrs == 0)
                return;
        buf_puts(b, "      addresses:\n");
        for (size_t i = 0; i < l->n_addrs; i++) {
                _cleanup_free_ char *a = format_ipv4(l->addrs[i].addr);
                if (!a) {
                        b->oom = true;
                        return;
                }
                buf_printf(b, "        - \"%s/%u\"\n", a, l->addrs[i].prefix);
        }
        if (l->default_route && l->gateway) {
                _cleanup_free_ char *g = format_ipv4(l->gateway);
                if (!g) {
                        b->oom = true;
                        return;
                }
                buf_printf(b, "      routes:\n        - to: default\n          via: \"%s\"\n", g);
        }
}

static void put_nameservers(struct buf *b, const struct net_plan *p) {
        if (!p->dns && !p->search)
                return;
        buf_puts(b, "      nameservers:\n");
        if (p->dns) {
                buf_puts(b, "        addresses:\n");
                for (char **s = p->dns; *s; s++) {
                        buf_puts(b, "          - ");
                        buf_put_yaml_quoted(b, *s);
                        buf_putc(b, '\n');
                }
        }
        if (p->search) {
                buf_puts(b, "        search:\n");
                for (char **s = p->search; *s; s++) {
                        buf_puts(b, "          - ");
                        buf_put_yaml_quoted(b, *s);
                        buf_putc(b, '\n');
                }
        }
}

/* DNS goes on the link that carries the default route, else on the first link with an address. */
static const struct net_link *dns_link(const struct net_plan *p) {
        const struct net_link *first = NULL;
        for (size_t i = 0; i < p->n_links; i++) {
                if (p->links[i].default_route)
                        return &p->links[i];
                if (!first && p->links[i].n_addrs > 0)
                        first = &p->links[i];
        }
        return first;
}

static void put_common(struct buf *b, const struct net_plan *p, const struct net_link *l) {
        if (l->mtu)
                buf_printf(b, "      mtu: %" PRIu32 "\n", l->mtu);
        /* Static only: no DHCP, and no IPv6 link-local on links that carry no address of their own. */
        buf_puts(b, "      dhcp4: false\n      dhcp6: false\n");
        if (l->n_addrs == 0)
                buf_puts(b, "      link-local: []\n");
        if (l->optional)
                buf_puts(b, "      optional: true\n");
        put_addresses(b, l);
        if (l == dns_link(p))
                put_nameservers(b, p);
}

char *netplan_render(const struct net_plan *p) {
        struct buf b = {};
        size_t n_eth = 0, n_bond = 0, n_vlan = 0;
        _cleanup_free_ const struct net_link **eth = sorted_links(p, NET_LINK_ETHER, &n_eth);
        _cleanup_free_ const struct net_link **bond = sorted_links(p, NET_LINK_BOND, &n_bond);
        _cleanup_free_ const struct net_link **vlan = sorted_links(p, NET_LINK_VLAN, &n_vlan);
        if (!eth || !bond || !vlan)
                return NULL;

        buf_puts(&b, "# Written by rackstack-firstboot. This is the only network configuration of this host:\n"
                     "# other netplan files were renamed *" NETPLAN_ASIDE_SUFFIX " and cloud-init's network\n"
                     "# configuration is disabled. Ethernets are matched by MAC, so kernel renames do not matter.\n");
        if (p->hostname) {
                buf_puts(&b, "# Host: ");
                buf_put_comment_text(&b, p->hostname);
                buf_putc(&b, '\n');
        }
        buf_puts(&b, "network:\n  version: 2\n  renderer: networkd\n");

        if (n_eth > 0) {
                buf_puts(&b, "  ethernets:\n");
                for (size_t i = 0; i < n_eth; i++) {
                        const struct net_link *l = eth[i];
                        put_key(&b, "    ", l->name);
                        if (l->mac)
                                buf_printf(&b, "      match:\n        macaddress: \"%s\"\n", l->mac);
                        put_common(&b, p, l);
                }
        }
        if (n_bond > 0) {
                buf_puts(&b, "  bonds:\n");
                for (size_t i = 0; i < n_bond; i++) {
                        const struct net_link *l = bond[i];
                        put_key(&b, "    ", l->name);
                        buf_puts(&b, "      interfaces:\n");
                        for (size_t k = 0; k < n_eth; k++)
                                if (eth[k]->master && streq(eth[k]->master, l->name))
                                        put_value(&b, "        - ", eth[k]->name);
                        if (l->mac)
                                buf_printf(&b, "      macaddress: \"%s\"\n", l->mac);
                        put_common(&b, p, l);
                        const struct net_bond_params *bp = &l->bond;
                        buf_printf(&b, "      parameters:\n        mode: %s\n", net_bond_mode_name(bp->mode));
                        if (bp->miimon)
                                buf_printf(&b, "        mii-monitor-interval: %" PRIu32 "\n", bp->miimon);
                        if (bp->mode == BOND_MODE_8023AD)
                                buf_printf(&b, "        lacp-rate: %s\n", net_lacp_rate_name(bp->lacp_rate));
                        if (bp->mode == BOND_MODE_8023AD || bp->mode == BOND_MODE_BALANCE_XOR ||
                            bp->mode == BOND_MODE_BALANCE_TLB)
                                buf_printf(&b, "        transmit-hash-policy: %s\n",
                                           net_xmit_hash_name(bp->xmit_hash_policy));
                        if (bp->primary && (bp->mode == BOND_MODE_ACTIVE_BACKUP || bp->mode == BOND_MODE_BALANCE_TLB ||
                                            bp->mode == BOND_MODE_BALANCE_ALB))
                                put_value(&b, "        primary: ", bp->primary);
                        if (bp->updelay)
                                buf_printf(&b, "        up-delay: %" PRIu32 "\n", bp->updelay);
                        if (bp->downdelay)
                                buf_printf(&b, "        down-delay: %" PRIu32 "\n", bp->downdelay);
                        if (bp->mode == BOND_MODE_8023AD && bp->ad_select)
                                buf_printf(&b, "        ad-select: %s\n", net_ad_select_name(bp->ad_select));
                        if (bp->arp_interval) {
                                buf_printf(&b, "        arp-interval: %" PRIu32 "\n        arp-ip-targets:\n",
                                           bp->arp_interval);
                                for (size_t k = 0; k < bp->n_arp_ip_targets; k++) {
                                        _cleanup_free_ char *t = format_ipv4(bp->arp_ip_targets[k]);
                                        buf_printf(&b, "          - \"%s\"\n", strna(t));
                                }
                        }
                        if (bp->min_links)
                                buf_printf(&b, "        min-links: %" PRIu32 "\n", bp->min_links);
                }
        }
        if (n_vlan > 0) {
                buf_puts(&b, "  vlans:\n");
                for (size_t i = 0; i < n_vlan; i++) {
                        const struct net_link *l = vlan[i];
                        put_key(&b, "    ", l->name);
                        buf_printf(&b, "      id: %u\n", l->vlan_id);
                        put_value(&b, "      link: ", l->parent);
                        put_common(&b, p, l);
                }
        }
        return buf_steal(&b);
}

void netplan_persist_result_done(struct netplan_persist_result *r) {
        strv_free(r->moved_aside);
        *r = (struct netplan_persist_result) {};
}

static int move_other_yaml_aside(int root_fd, char ***moved) {
        _cleanup_close_ int fd = openat(root_fd, "etc/netplan", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(fd);
        if (!d)
                return -errno;
        fd = -EBADF; /* owned by d now */

        _cleanup_strv_free_ char **names = NULL;
        for (struct dirent *de; (de = readdir(d));) {
                if (!endswith(de->d_name, ".yaml") && !endswith(de->d_name, ".yml"))
                        continue;
                if (streq(de->d_name, "60-rackstack.yaml"))
                        continue;
                if (strv_extend(&names, de->d_name) < 0)
                        return -ENOMEM;
        }
        int dfd = dirfd(d);
        for (char **n = names; n && *n; n++) {
                _cleanup_free_ char *to = strprintf("%s" NETPLAN_ASIDE_SUFFIX, *n);
                if (!to)
                        return -ENOMEM;
                if (renameat(dfd, *n, dfd, to) < 0)
                        return -errno;
                char *path = strprintf("etc/netplan/%s", *n);
                if (!path || strv_push(moved, path) < 0)
                        return -ENOMEM;
        }
        if (names && fsync(dfd) < 0)
                return -errno;
        return 0;
}

int netplan_persist(int root_fd, const struct net_plan *p, struct netplan_persist_result *ret) {
        _cleanup_free_ char *yaml = netplan_render(p);
        if (!yaml)
                return -ENOMEM;
        int r = mkdir_parents_at(root_fd, "etc/netplan", 0755);
        if (r < 0)
                return r;
        /* netplan warns about (and a later version may refuse) group/other-readable files. */
        r = write_file_atomic(root_fd, NETPLAN_FILE, yaml, strlen(yaml), 0600);
        if (r < 0)
                return r;

        /* Ours first, then the others aside: a crash in between leaves two writers, which a rerun
         * fixes, rather than none. */
        struct netplan_persist_result res = {};
        r = move_other_yaml_aside(root_fd, &res.moved_aside);
        if (r < 0) {
                netplan_persist_result_done(&res);
                return r;
        }

        struct stat st;
        if (fstatat(root_fd, "etc/cloud", &st, 0) >= 0 && S_ISDIR(st.st_mode)) {
                static const char text[] = "# Written by rackstack-firstboot: the network belongs to "
                                           "/etc/netplan/60-rackstack.yaml.\nnetwork: {config: disabled}\n";
                r = mkdir_parents_at(root_fd, "etc/cloud/cloud.cfg.d", 0755);
                if (r >= 0)
                        r = write_file_atomic(root_fd, NETPLAN_CLOUD_INIT_DISABLE, text, sizeof text - 1, 0644);
                if (r < 0) {
                        netplan_persist_result_done(&res);
                        return r;
                }
                res.cloud_init_disabled = true;
        }
        if (ret)
                *ret = res;
        else
                netplan_persist_result_done(&res);
        return 0;
}

int netplan_generate(const char *root_dir) {
        const char *argv[] = { "netplan", "generate", "--root-dir", root_dir, NULL };
        return proc_run(argv, NULL, NULL, NULL);
}
