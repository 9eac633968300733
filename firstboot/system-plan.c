/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "system-plan.h"
#include "util.h"

static bool locale_is_builtin(const char *l) {
        return streq(l, "C") || streq(l, "POSIX") || streq(l, "C.UTF-8") || streq(l, "C.utf8");
}

char *system_render_locale(const char *locale) {
        return strprintf("# Written by rackstack-firstboot from the kickstart's 'lang' line\nLANG=%s\n", locale);
}

char *system_locale_gen_line(const char *locale) {
        if (locale_is_builtin(locale))
                return NULL;
        /* locale.gen names the charset after the locale: "en_US.UTF-8 UTF-8", "de_DE ISO-8859-1" */
        const char *dot = strchr(locale, '.');
        if (!dot)
                return strprintf("%s ISO-8859-1", locale);
        _cleanup_free_ char *cs = strndup(dot + 1, strcspn(dot + 1, "@"));
        if (!cs)
                return NULL;
        if (strcasecmp(cs, "utf8") == 0 || strcasecmp(cs, "utf-8") == 0)
                return strprintf("%.*s.UTF-8%s UTF-8", (int) (dot - locale), locale, dot + 1 + strlen(cs));
        return strprintf("%s %s", locale, cs);
}

/* "de (nodeadkeys)" → layout "de", variant "nodeadkeys"; "de-nodeadkeys" (a console keymap) the
 * same; "us" → "us", "". */
static int split_layout(const char *s, char **ret_layout, char **ret_variant) {
        size_t n = strcspn(s, " (-");
        const char *v = s + n;
        v += strspn(v, " (-");
        _cleanup_free_ char *layout = strndup(s, n), *variant = strndup(v, strcspn(v, ")"));
        if (!layout || !variant)
                return -ENOMEM;
        *ret_layout = TAKE_PTR(layout);
        *ret_variant = TAKE_PTR(variant);
        return 0;
}

char *system_render_keyboard(const struct ks_keyboard *k) {
        struct buf layouts = {}, variants = {};
        char *const single[] = { k->vckeymap, NULL };
        char *const *l = k->xlayouts ? k->xlayouts : single;
        for (size_t i = 0; l[i]; i++) {
                _cleanup_free_ char *layout = NULL, *variant = NULL;
                if (split_layout(l[i], &layout, &variant) < 0) {
                        buf_done(&layouts);
                        buf_done(&variants);
                        return NULL;
                }
                buf_printf(&layouts, "%s%s", i ? "," : "", layout);
                buf_printf(&variants, "%s%s", i ? "," : "", variant);
        }
        _cleanup_free_ char *ls = buf_steal(&layouts), *vs = buf_steal(&variants);
        if (!ls || !vs)
                return NULL;
        return strprintf("# Written by rackstack-firstboot from the kickstart's 'keyboard' line\n"
                         "XKBMODEL=\"pc105\"\nXKBLAYOUT=\"%s\"\nXKBVARIANT=\"%s\"\nXKBOPTIONS=\"\"\n\nBACKSPACE=\"guess\"\n",
                         ls, vs);
}

char *system_render_vconsole(const struct ks_keyboard *k) {
        if (k->vckeymap)
                return strprintf("KEYMAP=%s\n", k->vckeymap);
        _cleanup_free_ char *layout = NULL, *variant = NULL;
        if (!k->xlayouts || !k->xlayouts[0] || split_layout(k->xlayouts[0], &layout, &variant) < 0)
                return NULL;
        return isempty(variant) ? strprintf("KEYMAP=%s\n", layout) : strprintf("KEYMAP=%s-%s\n", layout, variant);
}

char *system_zoneinfo_path(const char *zone) {
        return strprintf("/usr/share/zoneinfo/%s", zone);
}

char *system_unit_name(const char *name) {
        static const char *const suffixes[] = { ".service", ".socket", ".timer", ".target", ".path", ".mount" };
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++)
                if (endswith(name, suffixes[i]))
                        return strdup(name);
        return strprintf("%s.service", name);
}

/* Whether /etc/group text has a group called name. */
static bool group_exists(const char *group_file, const char *name) {
        size_t n = strlen(name);
        for (const char *l = group_file; l && *l; l = strchrnul(l, '\n'), l += !!*l)
                if (strncmp(l, name, n) == 0 && l[n] == ':')
                        return true;
        return false;
}

static int push_pair(char ***argv, const char *opt, const char *value) {
        int r = strv_extend(argv, opt);
        return r < 0 ? r : strv_extend(argv, value);
}

int system_useradd_argv(const char *root, const struct ks_user *u, const char *group_file, char ***ret_groupadd,
                        char ***ret_useradd, char ***ret_missing) {
        _cleanup_strv_free_ char **ga = NULL, **ua = NULL, **missing = NULL, **have = NULL;
        char num[16];
        int r = 0;
        if (ks_given(u->gid_src)) {
                snprintf(num, sizeof num, "%u", u->gid);
                if ((r = strv_extend(&ga, "groupadd")) < 0 || (r = push_pair(&ga, "--root", root)) < 0 ||
                    (r = push_pair(&ga, "--gid", num)) < 0 || (r = strv_extend(&ga, u->name)) < 0)
                        return r;
        }
        if ((r = strv_extend(&ua, "useradd")) < 0 || (r = push_pair(&ua, "--root", root)) < 0 ||
            (r = strv_extend(&ua, "--create-home")) < 0)
                return r;
        /* with --gid the group made above is the primary one; else useradd makes NAME's own */
        if ((r = ga ? push_pair(&ua, "--gid", u->name) : strv_extend(&ua, "--user-group")) < 0)
                return r;
        if (ks_given(u->uid_src)) {
                snprintf(num, sizeof num, "%u", u->uid);
                if ((r = push_pair(&ua, "--uid", num)) < 0)
                        return r;
        }
        if ((u->homedir && (r = push_pair(&ua, "--home-dir", u->homedir)) < 0) ||
            (u->shell && (r = push_pair(&ua, "--shell", u->shell)) < 0) ||
            (u->gecos && (r = push_pair(&ua, "--comment", u->gecos)) < 0))
                return r;
        for (char **g = u->groups; g && *g; g++)
                if ((r = strv_extend(group_exists(group_file, *g) ? &have : &missing, *g)) < 0)
                        return r;
        if (have) {
                _cleanup_free_ char *joined = strv_join(have, ",");
                if (!joined || (r = push_pair(&ua, "--groups", joined)) < 0)
                        return r < 0 ? r : -ENOMEM;
        }
        if ((r = strv_extend(&ua, u->name)) < 0)
                return r;
        *ret_groupadd = TAKE_PTR(ga);
        *ret_useradd = TAKE_PTR(ua);
        *ret_missing = TAKE_PTR(missing);
        return 0;
}

const char *system_power_verb(enum ks_power power) {
        switch (power) {
        case KS_POWER_REBOOT: return "reboot";
        case KS_POWER_POWEROFF: return "poweroff";
        case KS_POWER_HALT: return "halt";
        default: return NULL;
        }
}

/* firewalld service names a kickstart uses most, and their ports. */
static const struct fw_service {
        const char *name;
        unsigned port;
        bool tcp, udp;
} fw_services[] = {
        { "ssh", 22, true, false },         { "http", 80, true, false },       { "https", 443, true, false },
        { "smtp", 25, true, false },        { "submission", 587, true, false }, { "smtps", 465, true, false },
        { "ftp", 21, true, false },         { "dns", 53, true, true },         { "ntp", 123, false, true },
        { "ldap", 389, true, false },       { "ldaps", 636, true, false },     { "kerberos", 88, true, true },
        { "postgresql", 5432, true, false }, { "mysql", 3306, true, false },   { "redis", 6379, true, false },
        { "zabbix-agent", 10050, true, false }, { "zabbix-server", 10051, true, false },
        { "syslog", 514, false, true },     { "snmp", 161, false, true },      { "cockpit", 9090, true, false },
        { "imaps", 993, true, false },      { "sip", 5060, true, true },
};

/* One accept rule, unless the role's rules already have it or it is SSH. */
static void fw_open(struct buf *add, struct buf *warn, const char *rules, const char *proto, unsigned from, unsigned to,
                    const char *why) {
        _cleanup_free_ char *rule = from == to ? strprintf("%s dport %u accept", proto, from)
                                               : strprintf("%s dport %u-%u accept", proto, from, to);
        if (streq(proto, "tcp") && from <= 22 && to >= 22) {
                buf_printf(warn, "firewall %s: SSH stays open to the management VLAN only, as the role has it; not opened\n", why);
                return;
        }
        /* "\t\ttcp dport N accept": a rule for everyone, not the management VLAN's SSH line */
        _cleanup_free_ char *line = rule ? strprintf("\t\t%s", rule) : NULL;
        if (!line || strstr(rules, line))
                return;
        buf_printf(add, "\t\t%s comment \"kickstart: firewall %s\"\n", rule, why);
        if (from == to)
                buf_printf(warn, "firewall %s: opens %s port %u, which the role's rules drop\n", why, proto, from);
        else
                buf_printf(warn, "firewall %s: opens %s ports %u-%u, which the role's rules drop\n", why, proto, from, to);
}

static void fw_service(struct buf *add, struct buf *warn, const char *rules, const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(fw_services); i++)
                if (streq(fw_services[i].name, name)) {
                        _cleanup_free_ char *why = strprintf("--service=%s", name);
                        if (fw_services[i].tcp)
                                fw_open(add, warn, rules, "tcp", fw_services[i].port, fw_services[i].port, strna(why));
                        if (fw_services[i].udp)
                                fw_open(add, warn, rules, "udp", fw_services[i].port, fw_services[i].port, strna(why));
                        return;
                }
        buf_printf(warn, "firewall --service=%s: a service rackstack does not know the ports of; use --port=PORT:tcp\n", name);
}

static void fw_not_applied(struct buf *warn, const struct ks_firewall *fw) {
        if (fw->disabled)
                buf_puts(warn, "firewall --disabled: the role's rules stay in force (rackstack never turns the firewall off)\n");
        for (char **t = fw->trust; t && *t; t++)
                buf_printf(warn, "firewall --trust=%s: not applied (it would open every port on that device)\n", *t);
        for (char **t = fw->remove_services; t && *t; t++)
                buf_printf(warn, "firewall --remove-service=%s: not applied (the role's rules decide what stays open)\n", *t);
        if (fw->system_defaults)
                buf_puts(warn, "firewall --use-system-defaults: the role's rules are the defaults\n");
}

int system_firewall_merge(const char *rules, const struct ks_firewall *fw, char **ret, char ***ret_warnings) {
        const char *end = strstr(rules, "\n\t}\n\n\tchain forward");
        if (!strstr(rules, "table inet rackstack {") || !end)
                return -EINVAL;
        struct buf add = {}, warn = {};
        fw_not_applied(&warn, fw);
        for (char **q = fw->ports; q && *q; q++) {
                unsigned a, b;
                bool udp;
                _cleanup_free_ char *why = strprintf("--port=%s", *q);
                if (ks_firewall_port_parse(*q, &a, &b, &udp))
                        fw_open(&add, &warn, rules, udp ? "udp" : "tcp", a, b, strna(why));
        }
        for (char **q = fw->services; q && *q; q++)
                fw_service(&add, &warn, rules, *q);
        static const char *const flags[] = { "ssh", "http", "smtp", "ftp" };
        const bool given[] = { fw->ssh, fw->http, fw->smtp, fw->ftp };
        for (size_t i = 0; i < ELEMENTSOF(flags); i++)
                if (given[i])
                        fw_service(&add, &warn, rules, flags[i]);
        _cleanup_free_ char *a = buf_steal(&add), *w = buf_steal(&warn);
        char *out = strprintf("%.*s\n%s%s", (int) (end - rules), rules, strempty(a), end + 1);
        if (!out)
                return -ENOMEM;
        _cleanup_strv_free_ char **warnings = NULL;
        if (w && strv_split(w, "\n", &warnings) < 0) {
                free(out);
                return -ENOMEM;
        }
        *ret = out;
        *ret_warnings = TAKE_PTR(warnings);
        return 0;
}
