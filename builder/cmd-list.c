/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>

#include "cleanup.h"
#include "commands.h"
#include "log.h"
#include "parse.h"
#include "profile.h"
#include "util.h"

static char *disks_summary(const struct profile *p) {
        struct buf b = {};
        for (size_t i = 0; i < p->n_disks; i++) {
                const struct disk_spec *d = &p->disks[i];
                _cleanup_free_ char *size = format_size(d->min_size);
                struct buf cls = {};
                for (unsigned bit = DISK_CLASS_SSD; bit <= DISK_CLASS_HDD; bit <<= 1)
                        if (d->classes & bit) {
                                if (cls.len)
                                        buf_putc(&cls, '|');
                                buf_puts(&cls, disk_class_to_string(bit));
                        }
                _cleanup_free_ char *c = buf_steal(&cls);
                buf_printf(&b, "%s%s %s %s", i ? ", " : "", d->name, strna(c), strna(size));
        }
        return buf_steal(&b);
}

static char *services_summary(const struct profile *p) {
        struct buf b = {};
        size_t shown = 0;
        for (size_t i = 0; i < p->n_services; i++) {
                const struct service_spec *s = &p->services[i];
                /* The base's agents are on every host; the list is about what makes the role. */
                if (streq(s->name, "chrony") || streq(s->name, "rsyslog") || startswith(s->name, "zabbix-agent2"))
                        continue;
                buf_printf(&b, "%s%s", shown++ ? ", " : "", s->name);
        }
        if (!b.data)
                return strdup("-");
        return buf_steal(&b);
}

int cmd_list(int argc, char **argv) {
        static const struct option options[] = {
                { "profiles", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *override = NULL;
        int c;
        optind = 1;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case 'p': override = optarg; break;
                case 'h': printf("rackstack-build list [--profiles DIR]\n"); return 0;
                default: return -EINVAL;
                }

        _cleanup_free_ char *dir = profiles_dir(override);
        _cleanup_free_ char *site_path = strprintf("%s/site.yaml", dir);
        if (!dir || !site_path)
                return log_error_errno(-ENOMEM, "Out of memory");

        struct diags d = {};
        _cleanup_(site_freep) struct site *site = NULL;
        int r = site_load_file(site_path, &d, &site);
        if (r < 0) {
                diags_print(&d, stderr);
                diags_done(&d);
                return -EINVAL;
        }

        printf("%-6s %-11s %-12s %-62s %s\n", "ROLE", "HOST", "ADDRESS", "DISKS", "SERVICES");
        int ret = 0;
        for (size_t i = 0; i < n_role_names; i++) {
                _cleanup_(profile_freep) struct profile *p = NULL;
                if (profile_load(dir, role_names[i], &d, &p) < 0) {
                        ret = -EINVAL;
                        continue;
                }
                const struct host_spec *h = site_find_host_by_role(site, p->role);
                _cleanup_free_ char *addr = h ? format_ipv4(host_address_on(h, site->default_vlan)) : NULL;
                _cleanup_free_ char *disks = disks_summary(p), *svcs = services_summary(p);
                printf("%-6s %-11s %-12s %-62s %s\n", p->role, h ? h->name : "-", addr ? addr : "-", strna(disks),
                       strna(svcs));
        }
        diags_print(&d, stderr);
        diags_done(&d);
        return ret;
}
