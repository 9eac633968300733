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
