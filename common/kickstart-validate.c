/* SPDX-License-Identifier: MIT */
/* The kickstart rules that span lines or options: run once the whole file is read, so that each
 * error can name both places involved. */
#include <string.h>

#include "cleanup.h"
#include "kickstart-internal.h"
#include "parse.h"
#include "util.h"

#define ERR_AT(p, s, ...) ks_err(p, (s).line, (s).col, __VA_ARGS__)

const char *ks_part_disk_alias(const struct ks_part *x) {
        return x->ondisk && x->ondisk[0] == '@' ? x->ondisk + 1 : NULL;
}

const struct ks_network *ks_hostname_network(const struct ks *ks) {
        for (size_t i = 0; i < ks->n_networks; i++)
                if (ks->networks[i].hostname)
                        return &ks->networks[i];
        return NULL;
}

static bool is_bond_line(const struct ks_network *n) {
        return ks_given(n->bondslaves_src) || ks_given(n->bondopts_src);
}

static void validate_network_line(struct ks_parser *p, const struct ks_network *n) {
        if (!n->device) {
                if (!ks_given(n->device_src))
                        ERR_AT(p, n->src, "'network' needs --device=");
                return;
        }
        bool is_static = ks_given(n->bootproto_src) && n->bootproto == KS_BOOTPROTO_STATIC;
        if (is_static && (!ks_given(n->ip_src) || !ks_given(n->netmask_src)))
                ERR_AT(p, n->bootproto_src, "--bootproto=static needs --ip= and --netmask=");
        if (ks_given(n->ip_src) && !is_static)
                ERR_AT(p, n->ip_src, "--ip needs --bootproto=static");
        if (ks_given(n->netmask_src) && !ks_given(n->ip_src))
                ERR_AT(p, n->netmask_src, "--netmask needs --ip=");
        if (ks_given(n->ip_src) && ks_given(n->netmask_src) && n->prefix < 31) {
                uint32_t host = n->ip & ~prefix_to_mask(n->prefix);
                if (host == 0 || host == ~prefix_to_mask(n->prefix))
                        ERR_AT(p, n->ip_src, "--ip is the %s address of its subnet",
                               host == 0 ? "network" : "broadcast");
        }
        if (ks_given(n->gateway_src)) {
                if (!ks_given(n->ip_src) || !ks_given(n->netmask_src))
                        ERR_AT(p, n->gateway_src, "--gateway needs --ip= and --netmask=");
                else if (!ipv4_in_subnet(n->gateway, n->ip, n->prefix)) {
                        _cleanup_free_ char *g = format_ipv4(n->gateway),
                                            *net = format_ipv4(n->ip & prefix_to_mask(n->prefix));
                        ERR_AT(p, n->gateway_src, "gateway %s is outside the subnet %s/%u of --ip", strna(g), strna(net),
                               n->prefix);
                } else if (n->gateway == n->ip)
                        ERR_AT(p, n->gateway_src, "--gateway is the host's own address");
        }
        if (ks_given(n->interfacename_src) && !ks_given(n->vlanid_src))
                ERR_AT(p, n->interfacename_src, "--interfacename names a VLAN device and needs --vlanid=");
        if (is_bond_line(n) && (is_mac_address(n->device) || streq(n->device, "link") || streq(n->device, "bootif")))
                ERR_AT(p, n->device_src, "a bond needs an interface name in --device (as bond0), not '%s'", n->device);
}

static void validate_networks(struct ks_parser *p) {
        struct ks *ks = p->ks;
        const struct ks_network *defroute = NULL, *host = NULL;

        for (size_t i = 0; i < ks->n_networks; i++) {
                const struct ks_network *n = &ks->networks[i];
                validate_network_line(p, n);
                if (!n->device)
                        continue;

                for (size_t j = 0; j < i; j++) {
                        const struct ks_network *m = &ks->networks[j];
                        if (!m->device || strcasecmp(m->device, n->device) != 0)
                                continue;
                        if (m->vlanid == n->vlanid) {
                                if (n->vlanid)
                                        ERR_AT(p, n->device_src, "network device '%s' VLAN %u is already configured at %u:%u",
                                               n->device, n->vlanid, m->src.line, m->src.col);
                                else
                                        ERR_AT(p, n->device_src, "network device '%s' is already configured at %u:%u",
                                               n->device, m->src.line, m->src.col);
                        }
                        if (ks_given(n->bondopts_src) && ks_given(m->bondopts_src))
                                ERR_AT(p, n->bondopts_src, "bond options for '%s' are already given at %u:%u", n->device,
                                       m->bondopts_src.line, m->bondopts_src.col);
                        if (ks_given(n->bondslaves_src) && ks_given(m->bondslaves_src))
                                ERR_AT(p, n->bondslaves_src, "bond members of '%s' are already given at %u:%u",
                                       n->device, m->bondslaves_src.line, m->bondslaves_src.col);
                }
                for (size_t j = 0; j < i && n->ip; j++)
                        if (ks->networks[j].ip == n->ip) {
                                _cleanup_free_ char *a = format_ipv4(n->ip);
                                ERR_AT(p, n->ip_src, "address %s is already used at %u:%u", strna(a),
                                       ks->networks[j].ip_src.line, ks->networks[j].ip_src.col);
                        }

                if (ks_given(n->gateway_src) && !n->nodefroute) {
                        if (defroute)
                                ERR_AT(p, n->gateway_src,
                                       "a second default route (the first is at %u:%u); add --nodefroute to one of them",
                                       defroute->gateway_src.line, defroute->gateway_src.col);
                        else
                                defroute = n;
                }
                if (n->hostname) {
                        if (host && strcasecmp(host->hostname, n->hostname) != 0)
                                ERR_AT(p, n->hostname_src, "host name '%s' contradicts '%s' given at %u:%u", n->hostname,
                                       host->hostname, host->hostname_src.line, host->hostname_src.col);
                        else if (!host)
                                host = n;
                }
        }
        /* Lines dropped for their errors do not count as "no network line". */
        if (ks->n_networks == 0 && p->d->n_errors == p->errors_at_start)
                ks_warn(p, 0, 0, "no 'network' line: firstboot will ask for the host's name and addresses");
}

static void validate_parts(struct ks_parser *p) {
        struct ks *ks = p->ks;
        for (size_t i = 0; i < ks->n_parts; i++) {
                const struct ks_part *x = &ks->parts[i];
                bool ok_kind = ks_given(x->mount_src);
                if (!ok_kind)
                        continue;

                if (ks_given(x->fstype_src)) {
                        if (x->kind == KS_PART_SWAP && x->fstype != KS_FSTYPE_SWAP)
                                ERR_AT(p, x->fstype_src, "'part swap' takes --fstype=swap or none");
                        else if (x->kind == KS_PART_BIOSBOOT && x->fstype != KS_FSTYPE_BIOSBOOT)
                                ERR_AT(p, x->fstype_src, "'part biosboot' takes --fstype=biosboot or none");
                        else if (x->kind == KS_PART_MOUNT &&
                                 (x->fstype == KS_FSTYPE_SWAP || x->fstype == KS_FSTYPE_BIOSBOOT))
                                ERR_AT(p, x->fstype_src, "--fstype=%s is written 'part %s', without a mount point",
                                       ks_fstype_to_string(x->fstype), ks_fstype_to_string(x->fstype));
                        else if (x->fstype == KS_FSTYPE_EFI && !streq(strempty(x->mount), "/boot/efi"))
                                ERR_AT(p, x->fstype_src, "--fstype=efi is for the EFI System Partition, /boot/efi");
                }
                if (x->mount && streq(x->mount, "/boot/efi") && x->fstype != KS_FSTYPE_UNSET &&
                    x->fstype != KS_FSTYPE_EFI && x->fstype != KS_FSTYPE_VFAT)
                        ERR_AT(p, x->fstype_src, "/boot/efi needs --fstype=efi");

                if (ks_given(x->onpart_src)) {
                        if (ks_given(x->ondisk_src))
                                ERR_AT(p, x->ondisk_src, "--onpart reuses an existing partition; --ondisk does not apply");
                        if (ks_given(x->grow_src))
                                ERR_AT(p, x->grow_src, "--onpart reuses an existing partition; --grow does not apply");
                } else if (!ks_given(x->size_src) && !x->grow)
                        ERR_AT(p, x->src, "'part' needs --size= (MiB), --grow or --onpart=");
                if (x->noformat && !ks_given(x->onpart_src))
                        ERR_AT(p, x->noformat_src, "--noformat keeps an existing file system and needs --onpart=");
                if (ks_given(x->maxsize_src)) {
                        if (!x->grow)
                                ERR_AT(p, x->maxsize_src, "--maxsize limits --grow and needs it");
                        else if (ks_given(x->size_src) && x->maxsize_mib < x->size_mib)
                                ERR_AT(p, x->maxsize_src, "--maxsize is smaller than --size");
                }

                const char *alias = ks_part_disk_alias(x);
                if (alias && !ks_find_disk(ks, alias)) {
                        _cleanup_free_ const char **names = calloc(ks->addon.n_disks + 1, sizeof(char *));
                        for (size_t j = 0; names && j < ks->addon.n_disks; j++)
                                names[j] = ks->addon.disks[j].name;
                        const char *m = names ? closest_match(alias, names) : NULL;
                        ERR_AT(p, x->ondisk_src, "unknown disk alias '@%s': declare it with 'disk %s …' in %%addon "
                               "com_rackstack%s%s%s", alias, alias, m ? "; did you mean '@" : "", m ? m : "",
                               m ? "'?" : "");
                }

                for (size_t j = 0; j < i; j++) {
                        const struct ks_part *y = &ks->parts[j];
                        if (x->mount && y->mount && streq(x->mount, y->mount))
                                ERR_AT(p, x->mount_src, "mount point '%s' is already used at %u:%u", x->mount,
                                       y->mount_src.line, y->mount_src.col);
                        if (x->kind == KS_PART_SWAP && y->kind == KS_PART_SWAP && ks_given(y->mount_src) &&
                            streq(strempty(x->ondisk), strempty(y->ondisk)))
                                ERR_AT(p, x->mount_src, "a second swap partition on the same disk (first at %u:%u)",
                                       y->mount_src.line, y->mount_src.col);
                        /* Two unbounded --grow on one disk would split the rest by a rule nobody reads. */
                        if (x->grow && !ks_given(x->maxsize_src) && y->grow && !ks_given(y->maxsize_src) &&
                            streq(strempty(x->ondisk), strempty(y->ondisk)))
                                ERR_AT(p, x->grow_src,
                                       "two partitions grow without --maxsize on %s%s%s (the other at %u:%u)",
                                       x->ondisk ? "disk '" : "the same disk", x->ondisk ? x->ondisk : "",
                                       x->ondisk ? "'" : "", y->grow_src.line, y->grow_src.col);
                }
        }
}

static void validate_disks(struct ks_parser *p) {
        struct ks *ks = p->ks;
        const struct ks_ignoredisk *ig = &ks->ignoredisk;
        const struct ks_clearpart *cp = &ks->clearpart;

        /* Nearly every Anaconda kickstart says "clearpart --all --initlabel". Accepted: the storage
         * planner bounds it by the role's disk layout (only the disks the plan assigns to role disks
         * are cleared; never the boot medium or the running root's disk), and the plan names them. */
        if (ks_given(cp->src) && cp->mode == KS_CLEARPART_ALL && !cp->drives && !ig->only_use)
                ks_warn(p, cp->mode_src.line, cp->mode_src.col,
                        "'clearpart --all' names no disks (no --drives=, no 'ignoredisk --only-use='): only the disks "
                        "the role's disk layout assigns are cleared; other disks are left alone");
        if (ks_given(ig->src) && ig->only_use)
                for (char **c = cp->drives; c && *c; c++)
                        if (!strv_contains(ig->only_use, *c))
                                ERR_AT(p, cp->drives_src, "clearpart drive '%s' is not in 'ignoredisk --only-use'", *c);
        if (ks_given(cp->src) && cp->mode != KS_CLEARPART_ALL && cp->mode != KS_CLEARPART_LIST &&
            ks_given(cp->initlabel_src))
                ERR_AT(p, cp->initlabel_src, "--initlabel needs --all or --list (it relabels the cleared disks)");

        char **lists[] = { ig->only_use, ig->drives, cp->drives };
        const struct src *list_srcs[] = { &ig->only_use_src, &ig->drives_src, &cp->drives_src };
        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                for (char **c = lists[i]; c && *c; c++)
                        if ((*c)[0] == '@' && !ks_find_disk(ks, *c + 1))
                                ERR_AT(p, *list_srcs[i], "unknown disk alias '%s'", *c);

        const char *boot = ks->bootloader.boot_drive;
        if (boot && boot[0] == '@' && !ks_find_disk(ks, boot + 1))
                ERR_AT(p, ks->bootloader.boot_drive_src, "unknown disk alias '%s'", boot);
}

static void validate_users(struct ks_parser *p) {
        struct ks *ks = p->ks;
        for (size_t i = 0; i < ks->n_users; i++)
                for (size_t j = 0; j < i; j++)
                        if (ks->users[i].name && ks->users[j].name && streq(ks->users[i].name, ks->users[j].name))
                                ERR_AT(p, ks->users[i].name_src, "user '%s' is already defined at %u:%u",
                                       ks->users[i].name, ks->users[j].src.line, ks->users[j].src.col);
}

static void validate_addon(struct ks_parser *p) {
        const struct ks_addon *a = &p->ks->addon;
        /* The image knows its role; the kickstart's role is a cross-check, so its absence only warns. */
        if (!ks_given(a->src))
                ks_warn(p, 0, 0, "no '%%addon com_rackstack' section: the role is not cross-checked against the image");
        else if (!a->role)
                ks_warn(p, a->src.line, a->src.col,
                        "no 'role' in %%addon com_rackstack: the role is not cross-checked against the image");
}

void ks_validate(struct ks_parser *p) {
        if (p->n_commands == 0) {
                if (p->d->n_errors == p->errors_at_start)
                        ks_err(p, 0, 0, "the kickstart is empty");
                return;
        }
        validate_networks(p);
        validate_parts(p);
        validate_disks(p);
        validate_users(p);
        validate_addon(p);
}
