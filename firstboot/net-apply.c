/* SPDX-License-Identifier: MIT */
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <sys/stat.h>

#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>

#include "cleanup.h"
#include "fileio.h"
#include "link.h"
#include "parse.h"
#include "util.h"

/* <linux/if.h> has it but clashes with <net/if.h>. */
#ifndef IFF_LOWER_UP
#define IFF_LOWER_UP 0x10000
#endif

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_sock *, nl_socket_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)

const struct link_ops *link_ops_for(enum net_link_kind kind) {
        switch (kind) {
        case NET_LINK_ETHER: return &link_ether_ops;
        case NET_LINK_BOND: return &link_bond_ops;
        case NET_LINK_VLAN: return &link_vlan_ops;
        default: return NULL;
        }
}

int nl_to_errno(int nlerr) {
        switch (nlerr < 0 ? -nlerr : nlerr) {
        case 0: return 0;
        case NLE_NOMEM: return -ENOMEM;
        case NLE_EXIST: return -EEXIST;
        case NLE_OBJ_NOTFOUND: return -ENOENT;
        case NLE_NODEV: return -ENODEV;
        case NLE_PERM: return -EPERM;
        case NLE_NOACCESS: return -EACCES;
        case NLE_INVAL: case NLE_MISSING_ATTR: return -EINVAL;
        case NLE_BUSY: return -EBUSY;
        case NLE_AGAIN: return -EAGAIN;
        case NLE_RANGE: return -ERANGE;
        case NLE_OPNOTSUPP: return -EOPNOTSUPP;
        case NLE_AF_NOSUPPORT: return -EAFNOSUPPORT;
        case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
        case NLE_NOADDR: return -EADDRNOTAVAIL;
        case NLE_MSGSIZE: return -EMSGSIZE;
        default: return -EIO;
        }
}

int net_fail(struct net_apply_ctx *c, int r, const char *fmt, ...) {
        if (c->res->failed_step)
                return r; /* the first failure is the one that matters */
        va_list ap;
        va_start(ap, fmt);
        c->res->failed_step = strvprintf(fmt, ap);
        va_end(ap);
        c->res->error = r;
        return r;
}

void net_check_add(struct net_result *r, const char *name, const char *subject, bool passed, bool fatal,
                   const char *fmt, ...) {
        struct net_check *a = realloc(r->checks, (r->n_checks + 1) * sizeof *a);
        if (!a)
                return;
        r->checks = a;
        va_list ap;
        va_start(ap, fmt);
        a[r->n_checks++] = (struct net_check) {
                .name = strdup(name), .subject = strdup(subject), .passed = passed, .fatal = fatal && !passed,
                .detail = strvprintf(fmt, ap),
        };
        va_end(ap);
}

int net_link_ifindex(struct net_apply_ctx *c, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(c->sock, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r) == -ENOENT ? -ENODEV : nl_to_errno(r);
        return rtnl_link_get_ifindex(link);
}

int net_link_set_up(struct net_apply_ctx *c, const char *name, bool up, uint32_t mtu) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL, *change = NULL;
        int r = rtnl_link_get_kernel(c->sock, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r);
        change = rtnl_link_alloc();
        if (!change)
                return -ENOMEM;
        if (up)
                rtnl_link_set_flags(change, IFF_UP);
        else
                rtnl_link_unset_flags(change, IFF_UP);
        if (mtu)
                rtnl_link_set_mtu(change, mtu);
        r = rtnl_link_change(c->sock, link, change, 0);
        return r < 0 ? nl_to_errno(r) : 0;
}

int net_link_delete(struct net_apply_ctx *c, const char *name) {
        _cleanup_(rtnl_link_putp) struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(c->sock, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r) == -ENOENT || nl_to_errno(r) == -ENODEV ? 0 : nl_to_errno(r);
        r = rtnl_link_delete(c->sock, link);
        return r < 0 ? nl_to_errno(r) : 0;
}

int net_check_carrier(struct net_apply_ctx *c, const char *ifname, bool fatal) {
        int r = net_wait_carrier(c->opts->sysfs_root, ifname, c->opts->carrier_timeout_ms);
        if (r > 0)
                net_check_add(c->res, "carrier", ifname, true, fatal, "link detected");
        else if (r < 0)
                net_check_add(c->res, "carrier", ifname, false, fatal, "cannot read carrier: %s", strerror(-r));
        else
                net_check_add(c->res, "carrier", ifname, false, fatal, "no carrier within %u ms",
                              c->opts->carrier_timeout_ms);
        return r > 0;
}

static struct nl_addr *ipv4_nl_addr(uint32_t a, unsigned prefix) {
        uint32_t be = htonl(a);
        struct nl_addr *x = nl_addr_build(AF_INET, &be, 4);
        if (x)
                nl_addr_set_prefixlen(x, (int) prefix);
        return x;
}

static int address_change(struct net_apply_ctx *c, const char *ifname, const struct net_addr *a, bool add) {
        int ifindex = net_link_ifindex(c, ifname);
        if (ifindex < 0)
                return ifindex;
        _cleanup_(rtnl_addr_putp) struct rtnl_addr *ra = rtnl_addr_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *local = ipv4_nl_addr(a->addr, a->prefix);
        if (!ra || !local)
                return -ENOMEM;
        rtnl_addr_set_ifindex(ra, ifindex);
        rtnl_addr_set_family(ra, AF_INET);
        int r = rtnl_addr_set_local(ra, local);
        if (r < 0)
                return nl_to_errno(r);
        rtnl_addr_set_prefixlen(ra, (int) a->prefix);
        if (add && a->prefix < 31) {
                _cleanup_(nl_addr_putp) struct nl_addr *bcast = ipv4_nl_addr(a->addr | ~prefix_to_mask(a->prefix), 32);
                if (!bcast)
                        return -ENOMEM;
                rtnl_addr_set_broadcast(ra, bcast);
        }
        r = add ? rtnl_addr_add(c->sock, ra, NLM_F_REPLACE) : rtnl_addr_delete(c->sock, ra, 0);
        return r < 0 ? nl_to_errno(r) : 0;
}

static int default_route_add(struct net_apply_ctx *c, const struct net_link *l) {
        int ifindex = net_link_ifindex(c, l->name);
        if (ifindex < 0)
                return ifindex;
        _cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
        _cleanup_(nl_addr_putp) struct nl_addr *dst = ipv4_nl_addr(0, 0), *gw = ipv4_nl_addr(l->gateway, 32);
        struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
        if (!rt || !dst || !gw || !nh) {
                if (nh)
                        rtnl_route_nh_free(nh);
                return -ENOMEM;
        }
        rtnl_route_set_family(rt, AF_INET);
        rtnl_route_set_table(rt, RT_TABLE_MAIN);
        rtnl_route_set_protocol(rt, RTPROT_STATIC);
        rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
        rtnl_route_set_type(rt, RTN_UNICAST);
        int r = rtnl_route_set_dst(rt, dst);
        if (r < 0) {
                rtnl_route_nh_free(nh);
                return nl_to_errno(r);
        }
        rtnl_route_nh_set_ifindex(nh, ifindex);
        rtnl_route_nh_set_gateway(nh, gw);
        rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
        /* Replace: a default route left by DHCP in the initramfs, or by an earlier run, gives way. */
        r = rtnl_route_add(c->sock, rt, NLM_F_REPLACE);
        return r < 0 ? nl_to_errno(r) : 0;
}

static int gateway_check(struct net_apply_ctx *c, const struct net_link *l) {
        _cleanup_free_ char *gw = format_ipv4(l->gateway);
        _cleanup_free_ char *subject = strprintf("%s -> %s", l->name, strna(gw));
        if (!subject)
                return -ENOMEM;
        uint8_t mac[6];
        int r = arp_probe(l->name, l->addrs[0].addr, l->gateway, c->opts->arp_timeout_ms, mac);
        if (r > 0) {
                net_check_add(c->res, "gateway-arp", subject, true, true, "answered from %02x:%02x:%02x:%02x:%02x:%02x",
                              mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
                return 0;
        }
        if (r < 0)
                net_check_add(c->res, "gateway-arp", subject, false, true, "ARP probe failed: %s", strerror(-r));
        else
                net_check_add(c->res, "gateway-arp", subject, false, true, "no ARP answer within %u ms",
                              c->opts->arp_timeout_ms);
        return net_fail(c, r < 0 ? r : -EHOSTUNREACH, "check gateway-arp %s", subject);
}

/* Creation order: the bond before the VLANs on it. Apply order: members into the (down) bond, then the
 * bond up, then its VLANs. */
static const enum net_link_kind create_order[] = { NET_LINK_BOND, NET_LINK_VLAN };
static const enum net_link_kind apply_order[] = { NET_LINK_ETHER, NET_LINK_BOND, NET_LINK_VLAN };

static int apply_once(struct net_apply_ctx *c) {
        const struct net_plan *p = c->plan;
        int r;
        for (size_t k = 0; k < ELEMENTSOF(create_order); k++)
                for (size_t i = 0; i < p->n_links; i++) {
                        const struct net_link *l = &p->links[i];
                        const struct link_ops *ops = link_ops_for(l->kind);
                        if (l->kind == create_order[k] && ops->create && (r = ops->create(c, l)) < 0)
                                return r;
                }
        for (size_t k = 0; k < ELEMENTSOF(apply_order); k++)
                for (size_t i = 0; i < p->n_links; i++) {
                        const struct net_link *l = &p->links[i];
                        if (l->kind == apply_order[k] && (r = link_ops_for(l->kind)->apply(c, l)) < 0)
                                return r;
                }
        for (size_t i = 0; i < p->n_links; i++)
                for (size_t k = 0; k < p->links[i].n_addrs; k++) {
                        const struct net_addr *a = &p->links[i].addrs[k];
                        r = address_change(c, p->links[i].name, a, true);
                        if (r < 0) {
                                _cleanup_free_ char *s = format_ipv4(a->addr);
                                return net_fail(c, r, "add address %s/%u to %s", strna(s), a->prefix,
                                                p->links[i].name);
                        }
                }
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].default_route && (r = default_route_add(c, &p->links[i])) < 0)
                        return net_fail(c, r, "add default route via %s", p->links[i].name);

        if (!c->opts->verify)
                return 0;
        for (size_t k = 0; k < ELEMENTSOF(apply_order); k++)
                for (size_t i = 0; i < p->n_links; i++) {
                        const struct net_link *l = &p->links[i];
                        const struct link_ops *ops = link_ops_for(l->kind);
                        if (l->kind == apply_order[k] && ops->verify && (r = ops->verify(c, l)) < 0)
                                return r;
                }
        for (size_t i = 0; i < p->n_links; i++)
                if (p->links[i].default_route && p->links[i].n_addrs > 0 && (r = gateway_check(c, &p->links[i])) < 0)
                        return r;
        return 0;
}

static int rollback_with(struct net_apply_ctx *c) {
        const struct net_plan *p = c->plan;
        int ret = 0;
        /* Reverse order: VLANs, then the bond (which releases its members). */
        for (size_t i = p->n_links; i-- > 0;) {
                const struct net_link *l = &p->links[i];
                int r = link_ops_for(l->kind)->rollback(c, l);
                if (r < 0 && ret == 0)
                        ret = r;
                if (l->kind == NET_LINK_ETHER && !l->master)
                        for (size_t k = 0; k < l->n_addrs; k++) {
                                r = address_change(c, l->name, &l->addrs[k], false);
                                if (r < 0 && r != -EADDRNOTAVAIL && r != -ENOENT && ret == 0)
                                        ret = r;
                        }
        }
        return ret;
}

static int open_socket(struct nl_sock **ret) {
        struct nl_sock *sock = nl_socket_alloc();
        if (!sock)
                return -ENOMEM;
        int r = nl_connect(sock, NETLINK_ROUTE);
        if (r < 0) {
                nl_socket_free(sock);
                return nl_to_errno(r);
        }
        *ret = sock;
        return 0;
}

/* What a call that reports no result works with: its own netlink socket, the default options, and
 * a result nobody reads. */
struct quiet_ctx {
        struct net_apply_options opts;
        struct net_result res;
        struct net_apply_ctx c;
};

static int quiet_ctx_open(struct quiet_ctx *q, const struct net_plan *plan) {
        *q = (struct quiet_ctx) { .opts = NET_APPLY_OPTIONS_DEFAULT };
        q->c = (struct net_apply_ctx) { .plan = plan, .opts = &q->opts, .res = &q->res };
        return open_socket(&q->c.sock);
}

static void quiet_ctx_done(struct quiet_ctx *q) {
        nl_socket_freep(&q->c.sock);
        net_result_done(&q->res);
}

int net_rollback(const struct net_plan *plan) {
        _cleanup_(quiet_ctx_done) struct quiet_ctx q = {};
        int r = quiet_ctx_open(&q, plan);
        return r < 0 ? r : rollback_with(&q.c);
}

/* ---- reading back what the kernel has ----------------------------------------------------------- */

static char *nl_addr_str(struct nl_addr *a) {
        char tmp[128];
        return strdup(nl_addr2str(a, tmp, sizeof tmp));
}

static void read_back(struct net_apply_ctx *c) {
        const struct net_plan *p = c->plan;
        struct net_result *res = c->res;
        _cleanup_(nl_cache_freep) struct nl_cache *links = NULL, *addrs = NULL, *routes = NULL;
        if (rtnl_link_alloc_cache(c->sock, AF_UNSPEC, &links) < 0 || rtnl_addr_alloc_cache(c->sock, &addrs) < 0 ||
            rtnl_route_alloc_cache(c->sock, AF_INET, 0, &routes) < 0)
                return;

        res->links = calloc(p->n_links + 1, sizeof *res->links);
        if (!res->links)
                return;
        for (size_t i = 0; i < p->n_links; i++) {
                _cleanup_(rtnl_link_putp) struct rtnl_link *l = rtnl_link_get_by_name(links, p->links[i].name);
                if (!l)
                        continue;
                struct net_live_link *ll = &res->links[res->n_links++];
                unsigned flags = rtnl_link_get_flags(l);
                const char *type = rtnl_link_get_type(l);
                *ll = (struct net_live_link) {
                        .name = strdup(p->links[i].name), .kind = type ? strdup(type) : NULL,
                        .ifindex = rtnl_link_get_ifindex(l), .up = flags & IFF_UP, .lower_up = flags & IFF_LOWER_UP,
                        .mtu = rtnl_link_get_mtu(l),
                };
                int master = rtnl_link_get_master(l);
                if (master > 0) {
                        char tmp[IF_NAMESIZE + 1];
                        if (rtnl_link_i2name(links, master, tmp, sizeof tmp))
                                ll->master = strdup(tmp);
                }
                for (struct nl_object *o = nl_cache_get_first(addrs); o; o = nl_cache_get_next(o)) {
                        struct rtnl_addr *a = (struct rtnl_addr *) o;
                        if (rtnl_addr_get_ifindex(a) != ll->ifindex || rtnl_addr_get_family(a) != AF_INET)
                                continue;
                        char *s = nl_addr_str(rtnl_addr_get_local(a));
                        if (s)
                                strv_push(&ll->addrs, s);
                }
        }
        for (struct nl_object *o = nl_cache_get_first(routes); o; o = nl_cache_get_next(o)) {
                struct rtnl_route *rt = (struct rtnl_route *) o;
                if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(rt) < 1)
                        continue;
                struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
                int ifindex = rtnl_route_nh_get_ifindex(nh);
                const char *dev = NULL;
                for (size_t i = 0; i < res->n_links; i++)
                        if (res->links[i].ifindex == ifindex)
                                dev = res->links[i].name;
                if (!dev)
                        continue;
                struct net_live_route *a = realloc(res->routes, (res->n_routes + 1) * sizeof *a);
                if (!a)
                        return;
                res->routes = a;
                struct nl_addr *dst = rtnl_route_get_dst(rt), *gw = rtnl_route_nh_get_gateway(nh);
                a[res->n_routes++] = (struct net_live_route) {
                        .dst = !dst || nl_addr_get_prefixlen(dst) == 0 ? strdup("default") : nl_addr_str(dst),
                        .gateway = gw ? nl_addr_str(gw) : NULL, .dev = strdup(dev),
                };
        }
}

int net_apply(const struct net_plan *plan, const struct net_apply_options *opts, struct net_result *result) {
        struct net_result res = {};
        _cleanup_(net_plan_freep) struct net_plan *fallback = NULL;
        _cleanup_(nl_socket_freep) struct nl_sock *sock = NULL;
        int r = open_socket(&sock);
        if (r < 0) {
                res.failed_step = strdup("open rtnetlink socket");
                res.error = r;
                *result = res;
                return r;
        }

        struct net_apply_ctx c = { .sock = sock, .plan = plan, .opts = opts, .res = &res };
        r = apply_once(&c);
        if (r < 0 && c.lacp_missing && plan->lacp_fallback) {
                /* No LACP partner: the switch port is not in an 802.3ad group, or this is a VM after all.
                 * active-backup needs nothing from the switch. The failed check stays in the report. */
                (void) rollback_with(&c);
                r = net_plan_to_active_backup(plan, &fallback);
                if (r >= 0) {
                        res.fell_back = true;
                        free(res.failed_step);
                        res.failed_step = NULL;
                        res.error = 0;
                        c.plan = fallback;
                        c.lacp_missing = false;
                        r = apply_once(&c);
                }
        }
        if (r < 0) {
                if (res.error_detail == NULL && res.failed_step)
                        res.error_detail = strdup(strerror(-r));
                (void) rollback_with(&c);
                res.rolled_back = true;
        } else
                res.applied = true;

        const struct net_link *b = net_plan_bond(c.plan);
        res.bond_mode = b ? strdup(net_bond_mode_name(b->bond.mode)) : NULL;
        res.dns = strv_copy(c.plan->dns);
        read_back(&c);
        *result = res;
        return r < 0 ? r : 0;
}

void net_result_done(struct net_result *r) {
        free(r->bond_mode);
        free(r->failed_step);
        free(r->error_detail);
        for (size_t i = 0; i < r->n_checks; i++) {
                free(r->checks[i].name);
                free(r->checks[i].subject);
                free(r->checks[i].detail);
        }
        free(r->checks);
        for (size_t i = 0; i < r->n_links; i++) {
                free(r->links[i].name);
                free(r->links[i].kind);
                free(r->links[i].master);
                strv_free(r->links[i].addrs);
        }
        free(r->links);
        for (size_t i = 0; i < r->n_routes; i++) {
                free(r->routes[i].dst);
                free(r->routes[i].gateway);
                free(r->routes[i].dev);
        }
        free(r->routes);
        strv_free(r->dns);
        *r = (struct net_result) {};
}

int net_write_resolv_conf(int root_fd, const struct net_plan *plan) {
        struct stat st;
        if (fstatat(root_fd, "etc/resolv.conf", &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                return 0;
        struct buf b = {};
        buf_puts(&b, "# Written by rackstack-firstboot; netplan carries the same servers.\n");
        for (char **s = plan->dns; s && *s; s++)
                buf_printf(&b, "nameserver %s\n", *s);
        if (plan->search) {
                _cleanup_free_ char *search = strv_join(plan->search, " ");
                buf_printf(&b, "search %s\n", strna(search));
        }
        size_t len = b.len;
        _cleanup_free_ char *text = buf_steal(&b);
        if (!text)
                return -ENOMEM;
        int r = mkdir_parents_at(root_fd, "etc", 0755);
        if (r < 0)
                return r;
        r = write_file_atomic(root_fd, "etc/resolv.conf", text, len, 0644);
        return r < 0 ? r : 1;
}

void net_result_to_json(const struct net_result *r, struct json *j) {
        json_begin_object(j);
        json_kv_bool(j, "applied", r->applied);
        json_kv_bool(j, "rolled_back", r->rolled_back);
        json_kv_bool(j, "fell_back", r->fell_back);
        json_kv_string(j, "bond_mode", r->bond_mode);
        json_kv_string(j, "failed_step", r->failed_step);
        if (r->error)
                json_kv_int(j, "error", r->error);
        if (r->error_detail)
                json_kv_string(j, "error_detail", r->error_detail);
        json_key(j, "checks");
        json_begin_array(j);
        for (size_t i = 0; i < r->n_checks; i++) {
                const struct net_check *c = &r->checks[i];
                json_begin_object(j);
                json_kv_string(j, "check", c->name);
                json_kv_string(j, "subject", c->subject);
                json_kv_bool(j, "passed", c->passed);
                json_kv_bool(j, "fatal", c->fatal);
                json_kv_string(j, "detail", c->detail);
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "links");
        json_begin_array(j);
        for (size_t i = 0; i < r->n_links; i++) {
                const struct net_live_link *l = &r->links[i];
                json_begin_object(j);
                json_kv_string(j, "name", l->name);
                json_kv_string(j, "kind", l->kind);
                json_kv_int(j, "ifindex", l->ifindex);
                json_kv_bool(j, "up", l->up);
                json_kv_bool(j, "carrier", l->lower_up);
                json_kv_uint(j, "mtu", l->mtu);
                json_kv_string(j, "master", l->master);
                json_key(j, "addresses");
                json_begin_array(j);
                for (char **a = l->addrs; a && *a; a++)
                        json_string(j, *a);
                json_end_array(j);
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "routes");
        json_begin_array(j);
        for (size_t i = 0; i < r->n_routes; i++) {
                json_begin_object(j);
                json_kv_string(j, "dst", r->routes[i].dst);
                json_kv_string(j, "gateway", r->routes[i].gateway);
                json_kv_string(j, "dev", r->routes[i].dev);
                json_end_object(j);
        }
        json_end_array(j);
        json_key(j, "dns");
        json_begin_array(j);
        for (char **s = r->dns; s && *s; s++)
                json_string(j, *s);
        json_end_array(j);
        json_end_object(j);
}

int net_nics_wake(const struct nic_list *nics, unsigned settle_ms) {
        _cleanup_(quiet_ctx_done) struct quiet_ctx q = {};
        int r = quiet_ctx_open(&q, NULL);
        if (r < 0)
                return r;
        int n = 0;
        for (size_t i = 0; i < nics->n; i++) {
                if (!nics->nics[i].physical || nics->nics[i].carrier)
                        continue;
                r = net_link_set_up(&q.c, nics->nics[i].name, true, 0);
                if (r < 0)
                        return r;
                n++;
        }
        double deadline = now_monotonic() + settle_ms / 1000.0;
        for (size_t i = 0; n > 0 && i < nics->n; i++) {
                if (!nics->nics[i].physical || nics->nics[i].carrier)
                        continue;
                double left = deadline - now_monotonic();
                if (left > 0)
                        (void) net_wait_carrier(q.opts.sysfs_root, nics->nics[i].name, (unsigned) (left * 1000));
        }
        return n;
}
