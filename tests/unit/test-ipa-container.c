/* SPDX-License-Identifier: MIT */
/* FreeIPA in its container on the id role (firstboot/ipa-container.h): the install options file
 * (and that a real xargs, as the container's ipa-server-configure-first reads it, gives back the
 * intended words), the podman exec argv, the "configured" check of the volume, the id role's
 * unit (hostname, read-only, its own DNS, the data disk), and join/ipa-dns's apply through a
 * podman stand-in that runs the kinit/ipa stand-ins as exec would. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "apps.h"
#include "cleanup.h"
#include "fileio.h"
#include "ipa-container.h"
#include "ipa-dns.h"
#include "profile.h"
#include "util.h"

#define D64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_options(void **state) {
        struct ipa_install_opts o = { .domain = "domain.com", .realm = "DOMAIN.COM", .admin_password = "adm1n",
                                      .ds_password = "dm-pass", .ip = "10.0.50.11" };
        _cleanup_free_ char *t = NULL;
        assert_int_equal(ipa_install_options_render(&o, &t), 0);
        assert_string_equal(t, "-U\n--domain=domain.com\n--realm=DOMAIN.COM\n--no-ntp\n--admin-password=adm1n\n"
                               "--ds-password=dm-pass\n--setup-dns\n--no-forwarders\n--auto-reverse\n"
                               "--allow-zone-overlap\n--ip-address=10.0.50.11\n");
        /* never --hostname: the container's README forbids it (the name is podman's -h) */
        assert_null(strstr(t, "hostname"));
        free(t), t = NULL;
        /* no DM password: the admin's; no realm, no address: left out */
        o = (struct ipa_install_opts) { .domain = "domain.com", .admin_password = "a b" };
        assert_int_equal(ipa_install_options_render(&o, &t), 0);
        assert_string_equal(t, "-U\n--domain=domain.com\n--no-ntp\n--admin-password=a\\ b\n--ds-password=a\\ b\n"
                               "--setup-dns\n--no-forwarders\n--auto-reverse\n--allow-zone-overlap\n");
}

static void test_options_bad(void **state) {
        const char *bad[] = { "", "a\nb", "tab\there", "del\x7f" };
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
                char *t = NULL;
                struct ipa_install_opts o = { .domain = "domain.com", .admin_password = bad[i] };
                assert_int_equal(ipa_install_options_render(&o, &t), -EINVAL);
                assert_null(t);
                o = (struct ipa_install_opts) { .domain = "domain.com", .admin_password = "ok", .ds_password = bad[i] };
                assert_int_equal(ipa_install_options_render(&o, &t), -EINVAL);
                o = (struct ipa_install_opts) { .domain = bad[i], .admin_password = "ok" };
                assert_int_equal(ipa_install_options_render(&o, &t), -EINVAL);
                assert_null(t);
        }
        struct ipa_install_opts o = { .admin_password = "ok" };
        char *t = NULL;
        assert_int_equal(ipa_install_options_render(&o, &t), -EINVAL);
}

/* The container runs `xargs -a OPTIONS ipa-server-install`: a real xargs must give back each
 * option as one word, whatever the password holds (space, quotes, backslash, $, #, *). */
static void test_options_xargs(void **state) {
        const char *pw = "p a'ss\"w\\rd $HOME #*?;&|<>`x` \xc3\xa9";
        struct ipa_install_opts o = { .domain = "domain.com", .realm = "DOMAIN.COM", .admin_password = pw,
                                      .ds_password = "d m", .ip = "10.0.50.11" };
        _cleanup_free_ char *t = NULL;
        assert_int_equal(ipa_install_options_render(&o, &t), 0);
        /* a long password escaped throughout still renders whole (the buffer is sized for it) */
        char longpw[600];
        memset(longpw, ' ', sizeof longpw - 1);
        longpw[sizeof longpw - 1] = 0;
        struct ipa_install_opts lo = { .domain = "domain.com", .admin_password = longpw, .ds_password = longpw };
        _cleanup_free_ char *lt = NULL;
        assert_int_equal(ipa_install_options_render(&lo, &lt), 0);
        assert_int_equal(strlen(lt), 129 + 2 * 2 * (sizeof longpw - 1));
        char dir[] = "/tmp/test-ipa-container-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *opts = strprintf("%s/opts", dir), *out = strprintf("%s/out", dir);
        assert_int_equal(write_file_atomic(AT_FDCWD, opts, t, strlen(t), 0600), 0);
        _cleanup_free_ char *cmd = strprintf("xargs -a %s printf '%%s\\n' >%s", opts, out);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *got = NULL, *want = strprintf(
                "-U\n--domain=domain.com\n--realm=DOMAIN.COM\n--no-ntp\n--admin-password=%s\n--ds-password=d m\n"
                "--setup-dns\n--no-forwarders\n--auto-reverse\n--allow-zone-overlap\n--ip-address=10.0.50.11\n", pw);
        assert_int_equal(read_file_full(AT_FDCWD, out, 1 << 20, &got, NULL), 0);
        assert_string_equal(got, want);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

static void test_exec_argv(void **state) {
        const char *env[] = { "KRB5CCNAME=FILE:/data/x/ccache", NULL }, *cmd[] = { "ipa", "dnszone-show", "d.", NULL };
        _cleanup_free_ const char **a = ipa_container_exec_argv(NULL, "freeipa-server", env, cmd);
        const char *want[] = { "podman", "exec", "-i", "-e", "KRB5CCNAME=FILE:/data/x/ccache", "freeipa-server",
                               "ipa", "dnszone-show", "d.", NULL };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++)
                if (want[i])
                        assert_string_equal(a[i], want[i]);
                else
                        assert_null(a[i]);
        _cleanup_free_ const char **b = ipa_container_exec_argv("/x/podman", "c", NULL, cmd);
        assert_string_equal(b[0], "/x/podman");
        assert_string_equal(b[3], "c");
        assert_string_equal(b[4], "ipa");
        assert_null(b[7]);
}

static void test_configured(void **state) {
        const char *conf = "[global]\nbasedn = dc=domain,dc=com\nrealm = DOMAIN.COM\ndomain = domain.com\n";
        const char *log = "Mon Dec 7 x /usr/sbin/ipa-server-configure-first\n...\nFreeIPA server configured.\n";
        assert_true(ipa_container_configured(conf, log, "DOMAIN.COM"));
        assert_true(ipa_container_configured(conf, log, NULL));
        assert_false(ipa_container_configured(conf, log, "OTHER.COM"));
        assert_false(ipa_container_configured(conf, "FreeIPA server configuration failed.\n", "DOMAIN.COM"));
        assert_false(ipa_container_configured(NULL, log, NULL));
        assert_false(ipa_container_configured(conf, NULL, NULL));
}

/* The same read from a volume under a root: both files needed, the realm matched. */
static void test_volume_configured(void **state) {
        char dir[] = "/tmp/test-ipa-container-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        assert_false(ipa_container_volume_configured(root, "/var/lib/dirsrv", NULL));
        assert_int_equal(mkdir_parents_at(root, "var/lib/dirsrv/etc/ipa", 0755), 0);
        assert_int_equal(mkdir_parents_at(root, "var/lib/dirsrv/var/log", 0755), 0);
        const char *conf = "[global]\nrealm = DOMAIN.COM\n";
        assert_int_equal(write_file_atomic(root, "var/lib/dirsrv/etc/ipa/default.conf", conf, strlen(conf), 0644), 0);
        assert_false(ipa_container_volume_configured(root, "/var/lib/dirsrv", "DOMAIN.COM"));
        const char *log = "x\nFreeIPA server configured.\n";
        assert_int_equal(write_file_atomic(root, "var/lib/dirsrv/var/log/ipa-server-configure-first.log", log,
                                           strlen(log), 0644), 0);
        assert_true(ipa_container_volume_configured(root, "/var/lib/dirsrv", "DOMAIN.COM"));
        assert_false(ipa_container_volume_configured(root, "/var/lib/dirsrv", "OTHER.COM"));
        assert_false(ipa_container_volume_configured(root, "/srv/elsewhere", "DOMAIN.COM"));
        close(root);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

static const struct service_spec *svc(const struct profile *p, const char *name) {
        for (size_t i = 0; i < p->n_services; i++)
                if (streq(p->services[i].name, name))
                        return &p->services[i];
        fail_msg("no service %s", name);
        return NULL;
}

/* The id role's unit: what freeipa-container's README asks of podman, and its data on the data disk. */
static void test_id_unit(void **state) {
        struct diags d = {};
        struct profile *prof = NULL;
        struct site *s = NULL;
        assert_int_equal(profile_load("profiles", "id", &d, &prof), 0);
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        diags_done(&d);
        _cleanup_free_ char *data = app_data_host(prof, "freeipa-server");
        assert_string_equal(data, "/var/lib/dirsrv");
        struct vj_entry e = { .name = (char *) "freeipa-server", .source = SERVICE_SOURCE_OCI,
                              .image = (char *) "quay.io/freeipa/freeipa-server:almalinux-9", .digest = (char *) "sha256:" D64 };
        struct app_inputs in = { .profile = prof, .site = s, .host = site_find_host(s, "lab-id1"),
                                 .service = svc(prof, "freeipa-server"), .vendor = &e, .ram = 16ull << 30,
                                 .have_quadlet = true };
        struct app_plan p = {};
        _cleanup_free_ char *why = NULL;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        assert_string_equal(p.data_host, "/var/lib/dirsrv");
        assert_non_null(strstr(p.env, "\nIPA_SERVER_IP=10.0.50.11\n"));
        _cleanup_free_ char *q = app_quadlet_render(&p), *u = NULL;
        assert_non_null(strstr(q, "\nContainerName=freeipa-server\n"));
        assert_non_null(strstr(q, "\nHostName=lab-id1.domain.com\n"));
        assert_non_null(strstr(q, "\nReadOnly=true\n"));
        assert_non_null(strstr(q, "\nDNS=127.0.0.1\n"));
        assert_non_null(strstr(q, "\nVolume=/var/lib/dirsrv:/data\n"));
        assert_non_null(strstr(q, "\nPodmanArgs=--add-host=lab-id1.domain.com:10.0.50.11\n"));
        assert_non_null(strstr(q, "\nPublishPort=53:53\n"));
        assert_non_null(strstr(q, "\nPublishPort=53:53/udp\n"));
        assert_non_null(strstr(q, "\nPublishPort=88:88/udp\n"));
        assert_non_null(strstr(q, "\nPublishPort=464:464/udp\n"));
        assert_null(strstr(q, "389/udp"));
        assert_int_equal(p.health_port, 0); /* unconfigured until join/identity: nothing to check */
        assert_null(strstr(q, "PASSWORD"));
        p.quadlet = false;
        u = app_podman_unit_render(&p);
        assert_non_null(strstr(u, " --name=freeipa-server "));
        assert_non_null(strstr(u, " --hostname=lab-id1.domain.com --read-only --dns=127.0.0.1 "
                                  "--add-host=lab-id1.domain.com:10.0.50.11 --publish 53:53/udp --publish 88:88/udp "
                                  "--publish 464:464/udp "));
        assert_non_null(strstr(u, " --volume /var/lib/dirsrv:/data "));
        app_plan_done(&p);
        /* another image on the same host gets none of it */
        struct vj_entry k = { .name = (char *) "keycloak", .source = SERVICE_SOURCE_OCI,
                              .image = (char *) "quay.io/keycloak/keycloak:24.0", .digest = (char *) "sha256:" D64 };
        in.service = svc(prof, "keycloak");
        in.vendor = &k;
        assert_int_equal(app_plan_make(&in, &p, &why), 0);
        free(q);
        q = app_quadlet_render(&p);
        assert_null(strstr(q, "HostName="));
        assert_null(strstr(q, "ReadOnly="));
        assert_null(strstr(q, "/udp"));
        assert_int_equal(p.health_port, 8080);
        assert_null(strstr(p.env, "IPA_SERVER_IP"));
        app_plan_done(&p);
        profile_free(prof);
        site_free(s);
}

static void write_exec(const char *path, const char *text) {
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        assert_int_equal(fclose(f), 0);
        assert_int_equal(chmod(path, 0755), 0);
}

/* join/ipa-dns against the container: every kinit and ipa through `podman exec -i -e KRB5CCNAME=…
 * freeipa-server`, the cache in the volume (the stand-in maps /data to it, as the bind mount
 * would), the password on stdin and in no argv, the cache directory gone after. */
static void test_apply_container(void **state) {
        char dir[] = "/tmp/test-ipa-container-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *kinit = strprintf("%s/kinit", dir), *ipa = strprintf("%s/ipa", dir),
                            *podman = strprintf("%s/podman", dir), *pw = strprintf("%s/pw", dir),
                            *argvlog = strprintf("%s/argv", dir), *vol = strprintf("%s/vol", dir);
        assert_int_equal(mkdir(vol, 0700), 0);
        write_exec(kinit, "#!/bin/sh\nread -r p\n[ \"$p\" = s3cret ] && [ \"$1\" = admin@DOMAIN.COM ] || exit 1\n"
                          ": >\"${KRB5CCNAME#FILE:}\"\n");
        write_exec(ipa, "#!/bin/sh\n[ -f \"${KRB5CCNAME#FILE:}\" ] || exit 1\n"
                        "case \"$1\" in dnszone-show|dnsrecord-add) exit 0 ;; dnsrecord-show) exit 2 ;; *) exit 1 ;; esac\n");
        _cleanup_free_ char *podman_text = strprintf(
                "#!/bin/sh\necho \"$*\" >>%s\n"
                "[ \"$1 $2 $3\" = 'exec -i -e' ] && [ \"$5\" = freeipa-server ] || exit 125\n"
                "case \"$4\" in KRB5CCNAME=FILE:/data/rackstack-ipa-dns.*/ccache) ;; *) exit 125 ;; esac\n"
                "KRB5CCNAME=FILE:%s/${4#KRB5CCNAME=FILE:/data/}\nexport KRB5CCNAME\nshift 5\nexec \"$@\"\n",
                argvlog, vol);
        write_exec(podman, podman_text);
        write_exec(pw, "s3cret\n");
        assert_int_equal(chmod(pw, 0600), 0);

        _cleanup_(diags_done) struct diags d = {};
        _cleanup_(site_freep) struct site *s = NULL;
        _cleanup_(ipa_dns_plan_done) struct ipa_dns_plan p = {};
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        assert_int_equal(ipa_dns_plan_make(s, &d, &p), 0);
        int root = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(root >= 0);
        struct ipa_dns_ctx c = { .admin_password_file = pw, .root_fd = root, .realm = "DOMAIN.COM",
                                 .ipa_prog = ipa, .kinit_prog = kinit, .podman_prog = podman,
                                 .container = "freeipa-server", .data_host = vol, .data_container = "/data" };
        _cleanup_free_ char *done = NULL, *reason = NULL;
        int ar = ipa_dns_apply(&c, &p, &done, &reason);
        if (ar < 0)
                fail_msg("apply: %d %s", ar, strna(reason));
        assert_true(startswith(done, "domain.com.: 37 record(s) added, 0 already there"));
        _cleanup_free_ char *log = NULL;
        assert_int_equal(read_file_full(AT_FDCWD, argvlog, 1 << 20, &log, NULL), 0);
        _cleanup_free_ char *kinit_line = strprintf("freeipa-server %s admin@DOMAIN.COM\n", kinit);
        assert_non_null(strstr(log, kinit_line));
        assert_null(strstr(log, "s3cret"));
        /* the volume holds no cache directory any more */
        _cleanup_free_ char *ls = strprintf("test -z \"$(ls -A %s)\"", vol);
        assert_int_equal(system(ls), 0);

        write_exec(pw, "wrong\n");
        assert_int_equal(chmod(pw, 0600), 0);
        free(done), free(reason), done = reason = NULL;
        assert_int_equal(ipa_dns_apply(&c, &p, &done, &reason), -EACCES);
        assert_int_equal(system(ls), 0);

        close(root);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_options),    cmocka_unit_test(test_options_bad),
                cmocka_unit_test(test_options_xargs), cmocka_unit_test(test_exec_argv),
                cmocka_unit_test(test_configured), cmocka_unit_test(test_volume_configured),
                cmocka_unit_test(test_id_unit),
                cmocka_unit_test(test_apply_container),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
