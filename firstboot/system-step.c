/* SPDX-License-Identifier: MIT */
/* The system step of a first-boot run: what the kickstart says about the installed system itself
 * (lang, keyboard, timezone, services, user, sshkey), applied in the target root with the
 * renderers of system-plan.c; and the power action after the run (system_power_after, called by
 * run.c once status.json and the last console line are written). Anything that cannot be applied
 * is a warning, not a failure: the host still comes up with the image's setting. */
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cmd.h"
#include "fileio.h"
#include "log.h"
#include "run-steps.h"
#include "shadow.h"
#include "system-plan.h"
#include "util.h"

static int write_in_root(struct run_ctx *c, const char *rel, const char *text) {
        _cleanup_free_ char *path = strprintf("%s/%s", c->root, rel);
        if (!path || !text)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, path, 0755);
        if (r >= 0)
                r = write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644);
        if (r < 0)
                log_warning_errno(r, "Cannot write %s: %m", path);
        return r;
}

/* Run argv; a failure is a warning with the program's last words. */
static int run_warn(char *const argv[]) {
        int status = 0;
        _cleanup_free_ char *tail = NULL;
        int r = cmd_run_tail(argv, &status, &tail);
        if (r < 0)
                return log_warning_errno(r, "Cannot run %s: %m", argv[0]), r;
        if (status != 0) {
                log_warning("%s exited with %d: %s", argv[0], status, strempty(tail));
                return -EIO;
        }
        return 0;
}

/* lang: /etc/default/locale, once the locale exists. A locale other than C needs generating; an
 * image without the locales package cannot, and LANG naming a missing locale makes every program
 * complain, so the image's setting stays then (with a warning). */
static void apply_lang(struct run_ctx *c, const struct ks_lang *l) {
        _cleanup_free_ char *gen = system_locale_gen_line(l->locale);
        if (gen) {
                _cleanup_free_ char *lg = strprintf("%s/usr/sbin/locale-gen", c->root);
                if (!lg || access(lg, X_OK) < 0) {
                        log_warning("lang %s: the image has no locales package to generate it; the image's locale stays",
                                    l->locale);
                        return;
                }
                _cleanup_free_ char *gen_nl = strprintf("%s\n", gen);
                if (write_in_root(c, "etc/locale.gen", gen_nl) < 0)
                        return;
                char *argv[] = { (char *) "chroot", (char *) c->root, (char *) "/usr/sbin/locale-gen", NULL };
                if (run_warn(argv) < 0)
                        return;
        }
        _cleanup_free_ char *text = system_render_locale(l->locale);
        if (write_in_root(c, "etc/default/locale", text) >= 0)
                printf("rackstack-firstboot: locale %s\n", l->locale);
}

static void apply_keyboard(struct run_ctx *c, const struct ks_keyboard *k) {
        _cleanup_free_ char *kb = system_render_keyboard(k), *vc = system_render_vconsole(k);
        if (write_in_root(c, "etc/default/keyboard", kb) >= 0 && write_in_root(c, "etc/vconsole.conf", vc) >= 0)
                printf("rackstack-firstboot: keyboard %s\n", k->vckeymap ? k->vckeymap : k->xlayouts[0]);
}

static void apply_timezone(struct run_ctx *c, const char *zone) {
        _cleanup_free_ char *target = system_zoneinfo_path(zone);
        _cleanup_free_ char *in_root = target ? strprintf("%s%s", c->root, target) : NULL;
        _cleanup_free_ char *link = strprintf("%s/etc/localtime", c->root), *tmp = strprintf("%s/etc/.localtime.rs", c->root);
        if (!in_root || !link || !tmp)
                return;
        if (access(in_root, R_OK) < 0) {
                log_warning("timezone %s: %s is not in the image (tzdata); the image's time zone stays", zone, target);
                return;
        }
        (void) unlink(tmp);
        if (symlink(target, tmp) < 0 || rename(tmp, link) < 0) {
                log_warning_errno(-errno, "Cannot point %s at %s: %m", link, target);
                (void) unlink(tmp);
                return;
        }
        _cleanup_free_ char *tz = strprintf("%s\n", zone);
        if (write_in_root(c, "etc/timezone", tz) >= 0)
                printf("rackstack-firstboot: time zone %s\n", zone);
}

/* Whether ROOT has a unit file called unit where systemd looks for them. */
static bool unit_exists(const char *root, const char *unit) {
        static const char *const dirs[] = { "etc/systemd/system", "usr/lib/systemd/system", "lib/systemd/system" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *p = strprintf("%s/%s/%s", root, dirs[i], unit);
                if (p && access(p, F_OK) == 0)
                        return true;
        }
        return false;
}

static void apply_units(struct run_ctx *c, char **names, const char *verb) {
        for (char **n = names; n && *n; n++) {
                _cleanup_free_ char *unit = system_unit_name(*n), *rootopt = strprintf("--root=%s", c->root);
                if (!unit || !rootopt)
                        return;
                if (!unit_exists(c->root, unit)) {
                        log_warning("services --%sd: the image has no unit %s; skipped", verb, unit);
                        continue;
                }
                char *argv[] = { (char *) "systemctl", rootopt, (char *) verb, unit, NULL };
                if (run_warn(argv) >= 0)
                        printf("rackstack-firstboot: %s %sd\n", unit, verb);
        }
}

/* name's line in ROOT/etc/passwd (fgetpwent: the target's, not the running system's). */
static int find_passwd(const char *root, const char *name, uid_t *ret_uid, gid_t *ret_gid, char **ret_home) {
        _cleanup_free_ char *path = strprintf("%s/etc/passwd", root);
        if (!path)
                return -ENOMEM;
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        for (struct passwd *pw; (pw = fgetpwent(f));)
                if (streq(pw->pw_name, name)) {
                        char *home = strdup(pw->pw_dir);
                        if (!home)
                                return -ENOMEM;
                        *ret_uid = pw->pw_uid, *ret_gid = pw->pw_gid, *ret_home = home;
                        return 0;
                }
        return -ENOENT;
}

static void apply_user(struct run_ctx *c, const struct ks_user *u) {
        uid_t uid;
        gid_t gid;
        _cleanup_free_ char *home = NULL, *groups = NULL, *gpath = strprintf("%s/etc/group", c->root);
        if (find_passwd(c->root, u->name, &uid, &gid, &home) == 0)
                log_warning("user %s is already in the image: not created again (its password and keys are set)", u->name);
        else {
                (void) (gpath ? read_file_full(AT_FDCWD, gpath, 1 << 20, &groups, NULL) : 0);
                _cleanup_strv_free_ char **ga = NULL, **ua = NULL, **missing = NULL;
                if (system_useradd_argv(c->root, u, groups, &ga, &ua, &missing) < 0)
                        return;
                for (char **m = missing; m && *m; m++)
                        log_warning("user %s: the image has no group %s; not added to it", u->name, *m);
                if ((ga && run_warn(ga) < 0) || run_warn(ua) < 0)
                        return;
                printf("rackstack-firstboot: user %s created\n", u->name);
        }
        if (u->password) {
                int r = shadow_apply(c->root, u->name, u->password);
                if (r < 0)
                        log_warning_errno(r, "Cannot set %s's password: %m", u->name);
        }
}

/* sshkey: appended to the user's ~/.ssh/authorized_keys, owned by the user, mode 0600. */
static void apply_sshkey(struct run_ctx *c, const struct ks_sshkey *k) {
        uid_t uid;
        gid_t gid;
        _cleanup_free_ char *home = NULL;
        if (find_passwd(c->root, k->username, &uid, &gid, &home) < 0) {
                log_warning("sshkey --username=%s: no such user in the image; the key is not installed", k->username);
                return;
        }
        _cleanup_free_ char *dir = strprintf("%s%s/.ssh", c->root, home);
        _cleanup_free_ char *file = dir ? strprintf("%s/authorized_keys", dir) : NULL;
        if (!file)
                return;
        if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || chown(dir, uid, gid) < 0) {
                log_warning_errno(-errno, "Cannot make %s: %m", dir);
                return;
        }
        _cleanup_close_ int fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0 || fchown(fd, uid, gid) < 0 || dprintf(fd, "%s\n", k->key) < 0) {
                log_warning_errno(-errno, "Cannot write %s: %m", file);
                return;
        }
        printf("rackstack-firstboot: SSH key installed for %s\n", k->username);
}

static void system_apply_firewall(struct run_ctx *c, const struct ks_firewall *fw);

int step_system(struct run_ctx *c) {
        const struct ks *ks = c->ks;
        if (!ks) {
                (void) status_step(c->status, "system", "skipped", "no kickstart");
                return RUN_SKIPPED;
        }
        if (c->dry_run) {
                (void) status_step(c->status, "system", "skipped", "dry run");
                return RUN_SKIPPED;
        }
        if (ks->lang.locale)
                apply_lang(c, &ks->lang);
        if (ks->keyboard.vckeymap || ks->keyboard.xlayouts)
                apply_keyboard(c, &ks->keyboard);
        if (ks->timezone.zone)
                apply_timezone(c, ks->timezone.zone);
        for (size_t i = 0; i < ks->n_users; i++)
                apply_user(c, &ks->users[i]);
        for (size_t i = 0; i < ks->n_sshkeys; i++)
                apply_sshkey(c, &ks->sshkeys[i]);
        apply_units(c, ks->services.enabled, "enable");
        apply_units(c, ks->services.disabled, "disable");
        if (ks_given(ks->firewall.src))
                system_apply_firewall(c, &ks->firewall);
        const char *verb = system_power_verb(ks->power);
        if (verb)
                printf("rackstack-firstboot: the kickstart asks to %s once the first boot has finished (line %u)\n",
                       verb, ks->power_src.line);
        (void) status_step(c->status, "system", "done", NULL);
        return 0;
}

void system_power_after(const struct ks *ks, const char *root) {
        const char *verb = ks ? system_power_verb(ks->power) : NULL;
        /* only on a real boot: a run on an image directory must not take the host down */
        if (!verb || !streq(root, "/"))
                return;
        char *argv[] = { (char *) "systemctl", (char *) "--no-block", (char *) verb, NULL };
        fflush(stdout);
        (void) run_warn(argv);
}

/* firewall: the role's /etc/nftables.conf with the kickstart's opens, checked with nft -c before it
 * replaces the file, and loaded on a real boot. */
static void system_apply_firewall(struct run_ctx *c, const struct ks_firewall *fw) {
        _cleanup_free_ char *path = strprintf("%s/etc/nftables.conf", c->root), *rules = NULL, *merged = NULL;
        if (!path)
                return;
        if (read_file_full(AT_FDCWD, path, 1 << 20, &rules, NULL) < 0) {
                log_warning("firewall: the image has no /etc/nftables.conf of the role; the kickstart's firewall line is not applied");
                return;
        }
        _cleanup_strv_free_ char **warnings = NULL;
        int r = system_firewall_merge(rules, fw, &merged, &warnings);
        if (r < 0) {
                log_warning("firewall: /etc/nftables.conf is not the role's (no 'table inet rackstack'); not changed");
                return;
        }
        for (char **w = warnings; w && *w; w++)
                log_warning("%s", *w);
        if (streq(merged, rules))
                return;
        _cleanup_free_ char *tmp = strprintf("%s.kickstart", path);
        if (!tmp || write_file_atomic(AT_FDCWD, tmp, merged, strlen(merged), 0644) < 0)
                return;
        char *check[] = { (char *) "nft", (char *) "-c", (char *) "-f", tmp, NULL };
        if (cmd_exists("nft") && run_warn(check) < 0) {
                log_warning("firewall: the merged rules do not pass nft -c; the role's rules stay");
                (void) unlink(tmp);
                return;
        }
        if (rename(tmp, path) < 0) {
                log_warning_errno(-errno, "Cannot replace %s: %m", path);
                (void) unlink(tmp);
                return;
        }
        printf("rackstack-firstboot: firewall: the kickstart's opens added to the role's rules\n");
        char *load[] = { (char *) "nft", (char *) "-f", (char *) "/etc/nftables.conf", NULL };
        if (streq(c->root, "/"))
                (void) run_warn(load);
}
