/* SPDX-License-Identifier: MIT */
#pragma once

/* The system settings a kickstart gives that an image-based first boot applies on the installed
 * system: lang, keyboard, timezone, services, user (with sshkey) and what happens once the run has
 * finished. Pure: renderers and argument lists here, applied by system-step.c. */

#include "kickstart.h"

/* /etc/default/locale for lang LOCALE: "LANG=en_US.UTF-8\n". */
char *system_render_locale(const char *locale);
/* The line locale-gen's /etc/locale.gen needs for locale ("en_US.UTF-8 UTF-8"); NULL for C, C.UTF-8
 * and POSIX, which need no generating. */
char *system_locale_gen_line(const char *locale);
/* /etc/default/keyboard (console-setup; Debian's and Ubuntu's X and console both read it) for a
 * keyboard line: X layouts "us" and "de (nodeadkeys)" become XKBLAYOUT="us,de",
 * XKBVARIANT=",nodeadkeys"; a console keymap alone ("de-nodeadkeys") gives its layout and variant. */
char *system_render_keyboard(const struct ks_keyboard *k);
/* /etc/vconsole.conf (systemd-vconsole-setup): KEYMAP=, from --vckeymap or the first X layout. */
char *system_render_vconsole(const struct ks_keyboard *k);
/* The target of /etc/localtime for a zone: "/usr/share/zoneinfo/Europe/Paris". */
char *system_zoneinfo_path(const char *zone);
/* The unit file name systemctl takes for a kickstart service name: "sshd" → "sshd.service"; a
 * name with a unit suffix is kept. */
char *system_unit_name(const char *name);
/* groupadd/useradd argument lists that create u in root (useradd --root); *ret_groupadd is NULL
 * unless --gid asks for a primary group with that number. Supplementary groups are those of
 * u->groups that exist in the target's /etc/group text (group_file, may be NULL): the others are
 * returned in *ret_missing for a warning. */
int system_useradd_argv(const char *root, const struct ks_user *u, const char *group_file, char ***ret_groupadd,
                        char ***ret_useradd, char ***ret_missing);
/* "reboot", "poweroff" or "halt": the systemctl verb for what the kickstart asks after the run;
 * NULL for none. */
const char *system_power_verb(enum ks_power power);

/* The role's /etc/nftables.conf (as nft_render writes it) with the kickstart's firewall opens
 * (--port, --service, --ssh/--http/--smtp/--ftp) added to the input chain. The role's rules are
 * kept whole: nothing is removed, and SSH stays management-only. *ret_warnings says, one line each,
 * what was opened that the role drops, and what was not applied (--disabled, --trust,
 * --remove-service, an unknown service, SSH). -EINVAL when rules has no input chain of ours. */
int system_firewall_merge(const char *rules, const struct ks_firewall *fw, char **ret, char ***ret_warnings);
