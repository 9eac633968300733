/* SPDX-License-Identifier: MIT */
/* The system step's renderers: what lang, keyboard, timezone, services and user become on the
 * installed system. The keyboard file is sourced by a real shell as console-setup does, and the
 * useradd/groupadd argument lists are run for real (useradd --root) on a scratch root when the
 * test runs as root. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "cmd.h"
#include "diag.h"
#include "fileio.h"
#include "profile.h"
#include "render.h"
#include "system-plan.h"
#include "util.h"

static struct ks *parse(const char *text) {
        struct diags d = {};
        struct ks *ks = NULL;
        int r = ks_parse_buffer("t.ks", text, strlen(text), &d, &ks);
        diags_print(&d, stderr);
        diags_done(&d);
        assert_int_equal(r, 0);
        return ks;
}

static void test_locale(void **state) {
        _cleanup_free_ char *f = system_render_locale("de_DE.UTF-8");
        assert_non_null(strstr(f, "\nLANG=de_DE.UTF-8\n"));
        _cleanup_free_ char *a = system_locale_gen_line("en_US.UTF-8"), *b = system_locale_gen_line("en_US.utf8"),
                            *c = system_locale_gen_line("de_DE"), *e = system_locale_gen_line("sr_RS.UTF-8@latin");
        assert_string_equal(a, "en_US.UTF-8 UTF-8");
        assert_string_equal(b, "en_US.UTF-8 UTF-8");
        assert_string_equal(c, "de_DE ISO-8859-1");
        assert_string_equal(e, "sr_RS.UTF-8@latin UTF-8");
        assert_null(system_locale_gen_line("C.UTF-8"));
        assert_null(system_locale_gen_line("POSIX"));
}

/* The file as console-setup reads it: sourced by sh. */
static char *source_var(const char *file_text, const char *var) {
        char path[] = "/tmp/test-system-kbd.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, file_text, strlen(file_text)), (ssize_t) strlen(file_text));
        close(fd);
        _cleanup_free_ char *script = strprintf(". %s && printf %%s \"$%s\"", path, var);
        FILE *p = popen(script ? script : "false", "r");
        assert_non_null(p);
        char buf[256] = "";
        size_t n = fread(buf, 1, sizeof buf - 1, p);
        buf[n] = 0;
        assert_int_equal(pclose(p), 0);
        unlink(path);
        return strdup(buf);
}

static void test_keyboard(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("keyboard --vckeymap=de-nodeadkeys --xlayouts='us','de (nodeadkeys)'\n");
        _cleanup_free_ char *kb = system_render_keyboard(&ks->keyboard), *vc = system_render_vconsole(&ks->keyboard);
        _cleanup_free_ char *layout = source_var(kb, "XKBLAYOUT"), *variant = source_var(kb, "XKBVARIANT");
        assert_string_equal(layout, "us,de");
        assert_string_equal(variant, ",nodeadkeys");
        assert_string_equal(vc, "KEYMAP=de-nodeadkeys\n");

        _cleanup_(ks_freep) struct ks *old = parse("keyboard de-latin1\n");
        _cleanup_free_ char *kb2 = system_render_keyboard(&old->keyboard);
        _cleanup_free_ char *l2 = source_var(kb2, "XKBLAYOUT"), *v2 = source_var(kb2, "XKBVARIANT");
        assert_string_equal(l2, "de");
        assert_string_equal(v2, "latin1");

        _cleanup_(ks_freep) struct ks *x = parse("keyboard --xlayouts='fr (azerty)'\n");
        _cleanup_free_ char *vc3 = system_render_vconsole(&x->keyboard);
        assert_string_equal(vc3, "KEYMAP=fr-azerty\n");
}

static void test_units_power_zone(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse("services --enabled=chronyd,fstrim.timer --disabled=cups\npoweroff\n");
        _cleanup_free_ char *a = system_unit_name(ks->services.enabled[0]), *b = system_unit_name(ks->services.enabled[1]);
        assert_string_equal(a, "chronyd.service");
        assert_string_equal(b, "fstrim.timer");
        assert_string_equal(system_power_verb(ks->power), "poweroff");
        assert_null(system_power_verb(KS_POWER_NONE));
        _cleanup_(ks_freep) struct ks *sd = parse("shutdown\n");
        assert_string_equal(system_power_verb(sd->power), "poweroff"); /* Anaconda: shutdown = poweroff */
        _cleanup_free_ char *z = system_zoneinfo_path("Europe/Paris");
        assert_string_equal(z, "/usr/share/zoneinfo/Europe/Paris");

        /* two power lines: the second is an error, as is anything but --eject/--kexec */
        struct diags d = {};
        struct ks *bad = NULL;
        static const char two[] = "reboot\npoweroff\nhalt --now\nkeyboard --vckeymap=us --switch=grp:alt_shift_toggle\n";
        assert_int_equal(ks_parse_buffer("t.ks", two, strlen(two), &d, &bad), -EINVAL);
        assert_int_equal(d.n_errors, 1); /* halt --now; a second power line is a warning: the last wins */
        diags_done(&d);
        _cleanup_(ks_freep) struct ks *last = parse("reboot\nshutdown\n");
        assert_int_equal(last->power, KS_POWER_POWEROFF);
        static const char opt[] = "halt --now\n";
        assert_int_equal(ks_parse_buffer("t.ks", opt, strlen(opt), &d, &bad), -EINVAL);
        assert_int_equal(d.n_errors, 1);
        diags_done(&d);
}

static void test_useradd(void **state) {
        _cleanup_(ks_freep) struct ks *ks = parse(
                "user --name=ops --groups=adm,nosuch --uid=1500 --gid=1600 --homedir=/srv/ops --shell=/bin/sh --gecos=\"Ops Team\"\n"
                "user --name=web\n");
        static const char group[] = "root:x:0:\nadm:x:4:\n";
        _cleanup_strv_free_ char **ga = NULL, **ua = NULL, **missing = NULL;
        assert_int_equal(system_useradd_argv("/mnt", &ks->users[0], group, &ga, &ua, &missing), 0);
        _cleanup_free_ char *g = strv_join(ga, " "), *u = strv_join(ua, " "), *m = strv_join(missing, " ");
        assert_string_equal(g, "groupadd --root /mnt --gid 1600 ops");
        assert_string_equal(u, "useradd --root /mnt --create-home --gid ops --uid 1500 --home-dir /srv/ops --shell /bin/sh "
                               "--comment Ops Team --groups adm ops");
        assert_string_equal(m, "nosuch");
        _cleanup_strv_free_ char **ga2 = NULL, **ua2 = NULL, **missing2 = NULL;
        assert_int_equal(system_useradd_argv("/mnt", &ks->users[1], NULL, &ga2, &ua2, &missing2), 0);
        assert_null(ga2);
        assert_null(missing2);
        _cleanup_free_ char *u2 = strv_join(ua2, " ");
        assert_string_equal(u2, "useradd --root /mnt --create-home --user-group web");

        /* The real tools on a scratch root: the line useradd writes is the one the kickstart asked for. */
        if (geteuid() != 0 || !cmd_exists("useradd")) {
                fprintf(stderr, "useradd part skipped: not root or no useradd\n");
                return;
        }
        char root[] = "/tmp/test-system-root.XXXXXX";
        assert_non_null(mkdtemp(root));
        _cleanup_free_ char *setup = strprintf("mkdir -p %1$s/etc %1$s/srv && printf 'root:x:0:0:root:/root:/bin/sh\\n' > %1$s/etc/passwd && "
                                               "printf 'root:x:0:\\nadm:x:4:\\n' > %1$s/etc/group && "
                                               "printf 'root:*:19000:0:99999:7:::\\n' > %1$s/etc/shadow && "
                                               "printf 'root:*::\\nadm:*::\\n' > %1$s/etc/gshadow", root);
        assert_int_equal(system(setup), 0);
        _cleanup_strv_free_ char **rg = NULL, **ru = NULL, **rm = NULL;
        assert_int_equal(system_useradd_argv(root, &ks->users[0], group, &rg, &ru, &rm), 0);
        int st = -1;
        assert_int_equal(cmd_run(rg, NULL, 0, &st), 0);
        assert_int_equal(st, 0);
        assert_int_equal(cmd_run(ru, NULL, 0, &st), 0);
        assert_int_equal(st, 0);
        _cleanup_free_ char *pw = NULL, *gr = NULL, *pwpath = strprintf("%s/etc/passwd", root),
                            *grpath = strprintf("%s/etc/group", root);
        assert_int_equal(read_file_full(AT_FDCWD, pwpath, 65536, &pw, NULL), 0);
        assert_int_equal(read_file_full(AT_FDCWD, grpath, 65536, &gr, NULL), 0);
        assert_non_null(strstr(pw, "\nops:x:1500:1600:Ops Team:/srv/ops:/bin/sh\n"));
        assert_non_null(strstr(gr, "\nops:x:1600:"));
        assert_non_null(strstr(gr, "adm:x:4:ops"));
        _cleanup_free_ char *rmcmd = strprintf("rm -rf %s", root);
        assert_int_equal(system(rmcmd), 0);
}

/* The role's rules plus the kickstart's opens: nothing of the role's is removed, SSH stays
 * management-only, every open is warned about, and the result passes nft -c when nft is here. */
static void test_firewall_merge(void **state) {
        struct port_spec ports[] = { { .port = 5432, .port_end = 5432, .protos = PROTO_TCP, .service = (char *) "PostgreSQL" } };
        struct profile prof = { .role = (char *) "db", .ports = ports, .n_ports = 1 };
        struct vlan_spec mgmt = { .id = 10, .name = (char *) "mgmt", .subnet = 0x0a000a00, .prefix = 24 };
        _cleanup_free_ char *rules = nft_render(&prof, &mgmt);
        assert_non_null(rules);
        _cleanup_(ks_freep) struct ks *ks = parse(
                "firewall --enabled --ssh --port=8080:tcp,5432:tcp,6000-6010:udp --service=https,nosuch --trust=eth1 --remove-service=ssh\n");
        _cleanup_free_ char *out = NULL;
        _cleanup_strv_free_ char **warn = NULL;
        assert_int_equal(system_firewall_merge(rules, &ks->firewall, &out, &warn), 0);
        /* the role's lines are all still there, in order */
        assert_non_null(strstr(out, "ip saddr 10.0.10.0/24 tcp dport 22 accept"));
        assert_non_null(strstr(out, "policy drop;"));
        assert_non_null(strstr(out, "tcp dport 8080 accept comment \"kickstart: firewall --port=8080:tcp\""));
        assert_non_null(strstr(out, "udp dport 6000-6010 accept"));
        assert_non_null(strstr(out, "tcp dport 443 accept"));
        assert_null(strstr(out, "\t\ttcp dport 22 accept"));       /* never SSH from everywhere */
        const char *first = strstr(out, "tcp dport 5432 accept");
        assert_non_null(first);
        assert_null(strstr(first + 1, "tcp dport 5432 accept"));  /* the role has it: not twice */
        _cleanup_free_ char *w = strv_join(warn, "\n");
        assert_non_null(strstr(w, "opens tcp port 8080, which the role's rules drop"));
        assert_non_null(strstr(w, "SSH stays open to the management VLAN only"));
        assert_non_null(strstr(w, "--trust=eth1: not applied"));
        assert_non_null(strstr(w, "--remove-service=ssh: not applied"));
        assert_non_null(strstr(w, "--service=nosuch"));
        assert_null(strstr(w, "5432"));

        _cleanup_(ks_freep) struct ks *off = parse("firewall --disabled\n");
        _cleanup_free_ char *same = NULL;
        _cleanup_strv_free_ char **w2 = NULL;
        assert_int_equal(system_firewall_merge(rules, &off->firewall, &same, &w2), 0);
        assert_string_equal(same, rules);
        assert_non_null(strstr(w2[0], "the role's rules stay in force"));
        assert_int_equal(system_firewall_merge("flush ruleset\n", &off->firewall, &same, &w2), -EINVAL);

        if (geteuid() != 0 || !cmd_exists("nft")) {
                fprintf(stderr, "nft -c part skipped: not root or no nft\n");
                return;
        }
        char path[] = "/tmp/test-system-nft.XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, out, strlen(out)), (ssize_t) strlen(out));
        close(fd);
        char *argv[] = { (char *) "nft", (char *) "-c", (char *) "-f", path, NULL };
        int st = -1;
        assert_int_equal(cmd_run(argv, NULL, 0, &st), 0);
        unlink(path);
        assert_int_equal(st, 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_locale),
                cmocka_unit_test(test_keyboard),
                cmocka_unit_test(test_units_power_zone),
                cmocka_unit_test(test_useradd),
                cmocka_unit_test(test_firewall_merge),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
