/* SPDX-License-Identifier: MIT */
/* Host identity: the clone decision, the record, the names and /etc/hosts, and applying a plan
 * to a temporary root (machine-id, D-Bus link, host keys, join invalidation). */
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

#include "cleanup.h"
#include "fileio.h"
#include "identity.h"
#include "journal.h"
#include "kickstart.h"
#include "parse.h"
#include "profile.h"
#include "util.h"

static char **macs(const char *a, const char *b) {
        char **l = NULL;
        if (a)
                assert_int_equal(strv_extend(&l, a), 0);
        if (b)
                assert_int_equal(strv_extend(&l, b), 0);
        return l;
}

#define U1 "0b7c5f38-6a4e-4e8b-9d55-0d3f1f6f4a01"
#define U2 "5d0f8b20-9c7e-4b4c-8f4e-3a7a4cf2b902"
#define M1 "52:54:00:00:00:11"
#define M2 "52:54:00:00:00:12"
#define M3 "52:54:00:00:00:31"
#define M4 "52:54:00:00:00:32"

static void test_decide(void **state) {
        static const struct {
                const char *what;
                bool have_rec;
                const char *rec_uuid, *rec_m1, *rec_m2;
                const char *now_uuid, *now_m1, *now_m2;
                bool mid_ok, keys;
                enum identity_verdict verdict;
                bool new_mid, new_keys, redo, record;
                const char *reason_has;
        } cases[] = {
                { "first boot: systemd's machine-id and the drop-in's keys are kept", false, NULL, NULL, NULL, U1, M1, M2,
                  true, true, IDENTITY_FIRST, false, false, false, true, "no identity" },
                { "first boot without machine-id gets one; keys are ssh.service's drop-in's", false, NULL, NULL, NULL, U1, M1,
                  M2, false, false, IDENTITY_FIRST, true, false, false, true, NULL },
                { "same machine", true, U1, M1, M2, U1, M1, M2, true, true, IDENTITY_SAME, false, false, false, false,
                  "same machine" },
                { "same machine, MACs listed in another order", true, U1, M2, M1, U1, M1, M2, true, true, IDENTITY_SAME,
                  false, false, false, false, NULL },
                { "a replaced NIC is the same machine, recorded anew", true, U1, M1, M2, U1, M1, M3, true, true,
                  IDENTITY_SAME, false, false, false, true, "NIC changed" },
                { "new UUID and new MACs: a clone", true, U1, M1, M2, U2, M3, M4, true, true, IDENTITY_CLONE, true, true,
                  true, true, "product_uuid " U1 " -> " U2 " and MACs" },
                { "new UUID, same MACs: a clone (the UUID is the machine)", true, U1, M1, M2, U2, M1, M2, true, true,
                  IDENTITY_CLONE, true, true, true, true, "product_uuid" },
                { "same UUID, none of the MACs: a clone (hypervisors that keep the UUID)", true, U1, M1, M2, U1, M3, M4,
                  true, true, IDENTITY_CLONE, true, true, true, true, "none of the MACs" },
                { "no UUID then or now: MACs decide (clone)", true, NULL, M1, M2, NULL, M3, M4, true, true, IDENTITY_CLONE,
                  true, true, true, true, "none of the MACs" },
                { "no UUID then or now: MACs decide (same)", true, NULL, M1, M2, NULL, M2, NULL, true, true, IDENTITY_SAME,
                  false, false, false, true, NULL },
                { "a UUID readable now but not then is learnt, not a clone", true, NULL, M1, M2, U1, M1, M2, true, true,
                  IDENTITY_SAME, false, false, false, true, NULL },
                { "no NICs now (driver missing): the UUID alone decides", true, U1, M1, M2, U1, NULL, NULL, true, true,
                  IDENTITY_SAME, false, false, false, true, NULL },
                { "same machine whose machine-id was emptied gets one", true, U1, M1, M2, U1, M1, M2, false, true,
                  IDENTITY_SAME, true, false, false, true, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("case: %s\n", cases[i].what);
                struct identity_record rec = {
                        .product_uuid = (char *) cases[i].rec_uuid, .macs = macs(cases[i].rec_m1, cases[i].rec_m2),
                        .generation = 3,
                };
                struct identity_facts now = { .product_uuid = (char *) cases[i].now_uuid,
                                              .macs = macs(cases[i].now_m1, cases[i].now_m2) };
                if (now.macs && now.macs[1] && strcmp(now.macs[0], now.macs[1]) > 0) {
                        char *t = now.macs[0];
                        now.macs[0] = now.macs[1];
                        now.macs[1] = t;
                }
                struct identity_plan p = {};
                assert_int_equal(identity_decide(cases[i].have_rec ? &rec : NULL, &now, cases[i].mid_ok, cases[i].keys, &p), 0);
                assert_int_equal(p.verdict, cases[i].verdict);
                assert_int_equal(p.new_machine_id, cases[i].new_mid);
                assert_int_equal(p.new_host_keys, cases[i].new_keys);
                assert_int_equal(p.redo_join, cases[i].redo);
                assert_int_equal(p.record, cases[i].record);
                if (cases[i].reason_has && !strstr(p.reason, cases[i].reason_has))
                        fail_msg("reason '%s' lacks '%s'", p.reason, cases[i].reason_has);
                if (p.verdict == IDENTITY_CLONE)
                        assert_int_equal(p.generation, 4);
                else if (cases[i].have_rec)
                        assert_int_equal(p.generation, 3);
                else
                        assert_int_equal(p.generation, 1);
                identity_plan_done(&p);
                strv_free(rec.macs);
                strv_free(now.macs);
        }
}

static void test_record_roundtrip(void **state) {
        struct identity_record r = { .product_uuid = (char *) U1, .macs = macs(M1, M2),
                                     .machine_id = (char *) "0123456789abcdef0123456789abcdef",
                                     .hostname = (char *) "lab-db1.domain.com", .generation = 2 };
        _cleanup_free_ char *text = identity_record_render(&r);
        assert_non_null(text);
        assert_non_null(strstr(text, "\"product_uuid\": \"" U1 "\""));
        struct identity_record back = {};
        assert_int_equal(identity_record_parse(text, strlen(text), &back), 0);
        assert_string_equal(back.product_uuid, U1);
        assert_string_equal(back.machine_id, r.machine_id);
        assert_string_equal(back.hostname, r.hostname);
        assert_int_equal(back.generation, 2);
        assert_int_equal(strv_length(back.macs), 2);
        assert_string_equal(back.macs[1], M2);
        identity_record_done(&back);
        strv_free(r.macs);

        /* a machine without a UUID records null, and reads back NULL, not the string "null" */
        struct identity_record n = { .generation = 1 };
        _cleanup_free_ char *t2 = identity_record_render(&n);
        assert_int_equal(identity_record_parse(t2, strlen(t2), &back), 0);
        assert_null(back.product_uuid);
        assert_null(back.macs);
        identity_record_done(&back);

        static const char bad[] = "[1, 2";
        assert_int_equal(identity_record_parse(bad, strlen(bad), &back), -EBADMSG);
        static const char bad_gen[] = "{\"generation\": 0}";
        assert_int_equal(identity_record_parse(bad_gen, strlen(bad_gen), &back), -EBADMSG);
}

static struct site *load_site(void) {
        struct site *s = NULL;
        struct diags d = {};
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        diags_done(&d);
        return s;
}

static struct ks *parse_ks(const char *text) {
        struct ks *ks = NULL;
        struct diags d = {};
        int r = ks_parse_buffer("t.ks", text, strlen(text), &d, &ks);
        diags_print(&d, stderr);
        diags_done(&d);
        assert_int_equal(r, 0);
        return ks;
}

static void test_names_and_hosts(void **state) {
        _cleanup_(site_freep) struct site *site = load_site();
        const struct host_spec *db = site_find_host(site, "lab-db1");
        assert_non_null(db);

        /* the kickstart's FQDN; the address is the site's on the infrastructure VLAN (20), not VLAN 10's */
        _cleanup_(ks_freep) struct ks *ks = NULL;
        struct diags d = {};
        assert_int_equal(ks_load_file("kickstart/lab-db1.ks", &d, &ks), 0);
        diags_done(&d);
        struct identity_names n = {};
        assert_int_equal(identity_names_resolve(ks, site, db, &n), 0);
        assert_string_equal(n.fqdn, "lab-db1.domain.com");
        assert_string_equal(n.shortname, "lab-db1");
        _cleanup_free_ char *a = format_ipv4(n.addr);
        assert_string_equal(a, "10.0.50.12");
        assert_string_equal(n.source, "kickstart");
        _cleanup_free_ char *hosts = identity_render_hosts(&n);
        assert_non_null(strstr(hosts, "\n10.0.50.12\tlab-db1.domain.com lab-db1\n"));
        assert_non_null(strstr(hosts, "127.0.0.1\tlocalhost\n"));
        assert_null(strstr(hosts, "127.0.1.1"));
        identity_names_done(&n);

        /* no kickstart: the site's host of the role, in the site's domain */
        assert_int_equal(identity_names_resolve(NULL, site, db, &n), 0);
        assert_string_equal(n.fqdn, "lab-db1.domain.com");
        assert_string_equal(n.source, "site");
        assert_int_equal(n.addr, db->addresses[1].vlan == 20 ? db->addresses[1].addr : host_address_on(db, 20));
        identity_names_done(&n);

        /* a short --hostname gets the site's domain; no site host: the kickstart's --ip */
        _cleanup_(ks_freep) struct ks *ks2 = parse_ks(
                "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.77 --netmask=255.255.255.0 "
                "--hostname=Spare1\n");
        assert_int_equal(identity_names_resolve(ks2, site, NULL, &n), 0);
        assert_string_equal(n.fqdn, "spare1.domain.com");
        _cleanup_free_ char *a2 = format_ipv4(n.addr);
        assert_string_equal(a2, "10.0.50.77");
        identity_names_done(&n);

        /* nothing to name the host by */
        assert_int_equal(identity_names_resolve(NULL, site, NULL, &n), -ENOENT);

        /* no address known: no line for us at all, never 127.0.1.1 */
        struct identity_names bare = { .fqdn = (char *) "x.domain.com", .shortname = (char *) "x" };
        _cleanup_free_ char *h2 = identity_render_hosts(&bare);
        assert_null(strstr(h2, "x.domain.com"));
        assert_null(strstr(h2, "127.0.1.1"));
}

static void test_machine_id(void **state) {
        for (int i = 0; i < 20; i++) {
                _cleanup_free_ char *id = NULL;
                assert_int_equal(machine_id_generate(&id), 0);
                assert_true(machine_id_valid(id));
                assert_int_equal(id[12], '4'); /* v4 */
        }
        assert_false(machine_id_valid(""));
        assert_false(machine_id_valid("uninitialized"));
        assert_false(machine_id_valid("00000000000000000000000000000000"));
        assert_false(machine_id_valid("0123456789ABCDEF0123456789abcdef"));
        assert_true(machine_id_valid("0123456789abcdef0123456789abcdef"));
}

static void put(const char *dir, const char *rel, const char *content) {
        _cleanup_free_ char *p = strprintf("%s/%s", dir, rel);
        _cleanup_free_ char *parent = strndup(p, strrchr(p, '/') - p);
        assert_int_equal(mkdir_parents_at(AT_FDCWD, parent, 0755), 0);
        assert_int_equal(write_file_atomic(AT_FDCWD, p, content, strlen(content), 0644), 0);
}

static void test_probe(void **state) {
        char dir[] = "/tmp/test-identity-sysfs-XXXXXX";
        assert_non_null(mkdtemp(dir));
        put(dir, "class/dmi/id/product_uuid", "5D0F8B20-9C7E-4B4C-8F4E-3A7A4CF2B902\n");
        /* a bond member shows the bond's MAC; the permanent one is in bonding_slave */
        put(dir, "class/net/enp1s0/address", "52:54:00:00:00:99\n");
        put(dir, "class/net/enp1s0/bonding_slave/perm_hwaddr", "52:54:00:00:00:12\n");
        put(dir, "class/net/enp1s0/device/vendor", "0x1af4\n");
        put(dir, "class/net/enp0s9/address", "52:54:00:00:00:11\n");
        put(dir, "class/net/enp0s9/device/vendor", "0x1af4\n");
        put(dir, "class/net/bond0/address", "52:54:00:00:00:99\n"); /* no device: virtual */
        put(dir, "class/net/lo/address", "00:00:00:00:00:00\n");
        struct identity_facts f = {};
        assert_int_equal(identity_probe(dir, &f), 0);
        assert_string_equal(f.product_uuid, "5d0f8b20-9c7e-4b4c-8f4e-3a7a4cf2b902");
        assert_int_equal(strv_length(f.macs), 2);
        assert_string_equal(f.macs[0], "52:54:00:00:00:11");
        assert_string_equal(f.macs[1], "52:54:00:00:00:12");
        identity_facts_done(&f);

        /* firmware placeholders count as no UUID */
        put(dir, "class/dmi/id/product_uuid", "03000200-0400-0500-0006-000700080009\n");
        assert_int_equal(identity_probe(dir, &f), 0);
        assert_null(f.product_uuid);
        identity_facts_done(&f);
        put(dir, "class/dmi/id/product_uuid", "00000000-0000-0000-0000-000000000000\n");
        assert_int_equal(identity_probe(dir, &f), 0);
        assert_null(f.product_uuid);
        identity_facts_done(&f);

        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

static char *read_rel(int fd, const char *p) {
        char *d = NULL;
        if (read_file_full(fd, p, 1 << 20, &d, NULL) < 0)
                return NULL;
        return d;
}

static void test_apply_clone(void **state) {
        char dir[] = "/tmp/test-identity-root-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        put(dir, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        put(dir, "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
        put(dir, "etc/ssh/ssh_host_ed25519_key", "OLD KEY\n");
        put(dir, "etc/ssh/ssh_host_ed25519_key.pub", "OLD PUB\n");
        put(dir, "etc/ssh/sshd_config", "# kept\n");
        /* the first run joined (time) and ran storage */
        struct journal *j = NULL;
        assert_int_equal(journal_open(fd, NULL, &j), 0);
        assert_int_equal(journal_begin(j, "join/time", NULL), 0);
        assert_int_equal(journal_done(j, "join/time", NULL), 0);
        assert_int_equal(journal_begin(j, "fstab", NULL), 0);
        assert_int_equal(journal_done(j, "fstab", NULL), 0);
        journal_free(j);

        struct identity_facts f = { .product_uuid = (char *) U2, .macs = macs(M3, M4) };
        struct identity_plan p = { .verdict = IDENTITY_CLONE, .new_machine_id = true, .new_host_keys = true,
                                   .redo_join = true, .record = true, .generation = 2 };
        bool have_keygen = access("/usr/bin/ssh-keygen", X_OK) == 0;
        if (!have_keygen)
                p.new_host_keys = false;
        assert_int_equal(identity_apply(fd, dir, &p, &f, "lab-db1.domain.com"), 0);

        _cleanup_free_ char *mid = NULL;
        assert_int_equal(identity_read_machine_id(fd, &mid), 0);
        assert_true(machine_id_valid(mid));
        assert_string_not_equal(mid, "0123456789abcdef0123456789abcdef");
        char link[256] = {};
        assert_true(readlinkat(fd, "var/lib/dbus/machine-id", link, sizeof link - 1) > 0);
        assert_string_equal(link, "/etc/machine-id");
        if (have_keygen) {
                _cleanup_free_ char *key = read_rel(fd, "etc/ssh/ssh_host_ed25519_key.pub");
                assert_non_null(key);
                assert_true(startswith(key, "ssh-ed25519 "));
                _cleanup_free_ char *priv = read_rel(fd, "etc/ssh/ssh_host_ed25519_key");
                assert_non_null(priv);
                assert_null(strstr(priv, "OLD KEY"));
                _cleanup_free_ char *conf = read_rel(fd, "etc/ssh/sshd_config");
                assert_string_equal(conf, "# kept\n");
                /* our fingerprint is ssh-keygen's */
                _cleanup_free_ char *fp = NULL;
                assert_int_equal(identity_host_key_fingerprint(fd, &fp), 0);
                _cleanup_free_ char *cmd = strprintf("ssh-keygen -lf %s/etc/ssh/ssh_host_ed25519_key.pub", dir);
                FILE *pp = popen(cmd, "r");
                char line[512] = {};
                assert_non_null(fgets(line, sizeof line, pp));
                pclose(pp);
                if (!strstr(line, fp))
                        fail_msg("ssh-keygen says %s, we say %s", line, fp);
        } else
                print_message("ssh-keygen missing: host key regeneration not exercised\n");

        assert_int_equal(journal_open(fd, NULL, &j), 0);
        assert_false(journal_is_done(j, "join/time")); /* redone */
        assert_true(journal_is_done(j, "fstab"));      /* storage is the original's */
        journal_free(j);
        assert_int_equal(faccessat(fd, IDENTITY_REJOIN_PATH, F_OK, 0), 0);

        struct identity_record rec = {};
        assert_int_equal(identity_record_load(fd, &rec), 0);
        assert_string_equal(rec.product_uuid, U2);
        assert_string_equal(rec.machine_id, mid);
        assert_int_equal(rec.generation, 2);
        assert_string_equal(rec.macs[0], M3);
        identity_record_done(&rec);

        /* the unit that runs the check every boot */
        assert_int_equal(identity_install_unit(fd), 0);
        _cleanup_free_ char *unit = read_rel(fd, "etc/systemd/system/rackstack-identity.service");
        assert_non_null(strstr(unit, "ExecStart=/usr/bin/rackstack-firstboot identity --check-clone"));
        assert_non_null(strstr(unit, "Before=sysinit.target systemd-networkd.service"));
        assert_true(readlinkat(fd, "etc/systemd/system/sysinit.target.wants/rackstack-identity.service", link,
                               sizeof link - 1) > 0);

        strv_free(f.macs);
        close(fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

/* A build-time snakeoil pair (one key for every server from the image) is replaced by the server's
 * own, for its name, with the key's owner and mode kept; an image without one gets none. */
static void test_new_snakeoil(void **state) {
        (void) state;
        if (access("/usr/bin/openssl", X_OK) != 0)
                skip();
        char dir[] = "/tmp/test-identity-tls-XXXXXX";
        assert_non_null(mkdtemp(dir));
        int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(identity_new_snakeoil(fd, dir, "lab-comm1.domain.com"), 0); /* none: nothing made */
        assert_int_equal(faccessat(fd, "etc/ssl/private", F_OK, 0), -1);
        put(dir, "etc/ssl/private/ssl-cert-snakeoil.key", "BUILD HOST KEY\n");
        put(dir, "etc/ssl/certs/ssl-cert-snakeoil.pem", "BUILD HOST CERT\n");
        assert_int_equal(fchmodat(fd, "etc/ssl/private/ssl-cert-snakeoil.key", 0640, 0), 0);
        assert_int_equal(identity_new_snakeoil(fd, dir, "lab-comm1.domain.com"), 0);
        struct stat st;
        assert_int_equal(fstatat(fd, "etc/ssl/private/ssl-cert-snakeoil.key", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(faccessat(fd, "etc/ssl/private/ssl-cert-snakeoil.key.new", F_OK, 0), -1);
        _cleanup_free_ char *k = read_rel(fd, "etc/ssl/private/ssl-cert-snakeoil.key");
        assert_null(strstr(k, "BUILD HOST"));
        /* openssl says: the cert names the server, and the key is its key */
        _cleanup_free_ char *cmd = strprintf(
                "cd %s/etc/ssl && openssl x509 -in certs/ssl-cert-snakeoil.pem -noout -subject -ext subjectAltName &&"
                " test \"$(openssl x509 -in certs/ssl-cert-snakeoil.pem -noout -pubkey)\" ="
                " \"$(openssl pkey -in private/ssl-cert-snakeoil.key -pubout)\" && echo same-key", dir);
        FILE *pp = popen(cmd, "r");
        char out[1024] = {};
        assert_true(fread(out, 1, sizeof out - 1, pp) > 0);
        assert_int_equal(pclose(pp), 0);
        assert_non_null(strstr(out, "CN = lab-comm1.domain.com"));
        assert_non_null(strstr(out, "DNS:lab-comm1.domain.com"));
        assert_non_null(strstr(out, "same-key"));
        close(fd);
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        assert_int_equal(system(rm), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_decide),        cmocka_unit_test(test_record_roundtrip),
                cmocka_unit_test(test_names_and_hosts), cmocka_unit_test(test_machine_id),
                cmocka_unit_test(test_probe),         cmocka_unit_test(test_apply_clone),
                cmocka_unit_test(test_new_snakeoil),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
