/* SPDX-License-Identifier: MIT */
/* Kickstart parser: the shipped files and a worked example parse clean and fill the model as
 * written; every bad input names the right line:col with the right message.
 *
 * KS_CORPUS_DIR=dir makes the bad-input test also write each input there (fuzz seed corpus). */
#include <crypt.h>
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
#include "kickstart.h"
#include "parse.h"
#include "util.h"

static const char *const shipped[] = {
        "kickstart/lab-id1.ks",   "kickstart/lab-db1.ks",  "kickstart/lab-app1.ks",
        "kickstart/lab-comm1.ks", "kickstart/lab-voip1.ks", "kickstart/lab-biz1.ks",
        "kickstart/lab-erp1.ks",  "kickstart/lab-it1.ks",   "kickstart/lab-infra1.ks",
};

static void dump_corpus(const char *name, const char *data, size_t size);

static void print_diags(const struct diags *d) {
        diags_print(d, stderr);
}

static uint32_t ip(const char *s) {
        uint32_t a = 0;
        assert_int_equal(parse_ipv4(s, &a), 0);
        return a;
}

static void test_shipped(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(shipped); i++) {
                struct diags d = {};
                _cleanup_(ks_freep) struct ks *ks = NULL;
                int r = ks_load_file(shipped[i], &d, &ks);
                if (r < 0 || d.n > 0) {
                        fprintf(stderr, "%s: r=%d\n", shipped[i], r);
                        print_diags(&d);
                }
                assert_int_equal(r, 0);
                assert_int_equal(d.n, 0); /* no warnings either */
                assert_non_null(ks);
                assert_false(ks_has_secrets(ks));
                assert_true(ks->n_networks >= 2);
                assert_non_null(ks->addon.role);
                assert_true(ks->addon.n_disks >= 1);
                assert_true(ks->rootpw.lock);

                /* Every host: the first line carries the bond, VLAN 20, the default route and the name. */
                const struct ks_network *n = &ks->networks[0];
                assert_string_equal(n->device, "bond0");
                assert_null(n->bondslaves);
                assert_int_equal(n->bondopts.set, KS_BONDOPT_MODE | KS_BONDOPT_MIIMON | KS_BONDOPT_LACP_RATE |
                                                          KS_BONDOPT_XMIT_HASH_POLICY);
                assert_int_equal(n->bondopts.mode, BOND_MODE_8023AD);
                assert_int_equal(n->bondopts.miimon, 100);
                assert_int_equal(n->bondopts.lacp_rate, LACP_RATE_FAST);
                assert_int_equal(n->bondopts.xmit_hash_policy, XMIT_HASH_LAYER3_4);
                assert_int_equal(n->vlanid, 20);
                assert_int_equal(n->gateway, ip("10.0.50.1"));
                assert_false(n->nodefroute);
                assert_ptr_equal(ks_hostname_network(ks), n);
                for (size_t j = 1; j < ks->n_networks; j++) {
                        assert_true(ks->networks[j].nodefroute);
                        assert_int_equal(ks->networks[j].gateway, 0);
                }
                for (size_t j = 0; j < ks->n_parts; j++) {
                        const char *alias = ks_part_disk_alias(&ks->parts[j]);
                        assert_non_null(alias);
                        assert_non_null(ks_find_disk(ks, alias));
                        assert_int_equal(ks->parts[j].fstype, KS_FSTYPE_XFS);
                        assert_true(ks->parts[j].grow);
                }
                diags_done(&d);
        }
}

static void test_shipped_db(void **state) {
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_load_file("kickstart/lab-db1.ks", &d, &ks), 0);

        assert_int_equal(ks->n_networks, 3);
        const struct ks_network *n = &ks->networks[0];
        assert_int_equal(n->bootproto, KS_BOOTPROTO_STATIC);
        assert_int_equal(n->ip, ip("10.0.50.12"));
        assert_int_equal(n->prefix, 24);
        assert_int_equal(n->n_nameservers, 1);
        assert_int_equal(n->nameservers[0], ip("10.0.50.11"));
        assert_string_equal(n->hostname, "lab-db1.domain.com");
        /* One command per line, as Anaconda reads them; every option remembers its column. */
        assert_int_equal(n->src.line, 8);
        assert_int_equal(n->src.col, 1);
        assert_int_equal(n->vlanid_src.line, 8);
        assert_int_equal(n->vlanid_src.col, 100);
        assert_int_equal(n->hostname_src.line, 8);
        assert_string_equal(n->src.file, "kickstart/lab-db1.ks");
        assert_int_equal(ks->networks[1].vlanid, 10);
        assert_int_equal(ks->networks[1].ip, ip("10.0.10.12"));
        assert_int_equal(ks->networks[2].vlanid, 40);
        assert_int_equal(ks->networks[2].ip, ip("10.0.40.12"));

        assert_int_equal(ks->n_parts, 2);
        assert_string_equal(ks->parts[0].mount, "/var/lib/postgresql");
        assert_string_equal(ks->parts[0].ondisk, "@database");
        assert_string_equal(ks->parts[0].fsoptions, "noatime");
        assert_int_equal(ks->parts[0].size_mib, 1024);
        assert_string_equal(ks->parts[1].mount, "/var/backups/postgresql");

        assert_string_equal(ks->addon.role, "db");
        const struct ks_disk *db = ks_find_disk(ks, "database");
        assert_non_null(db);
        assert_int_equal(db->classes, DISK_CLASS_NVME);
        assert_int_equal(db->transports, 0);
        assert_int_equal(db->min_size, 500 * GiB);
        assert_int_equal(db->max_size, 0);
        assert_int_equal(db->count, 1);
        assert_int_equal(db->expect, KS_DISK_EXPECT_EMPTY);
        const struct ks_disk *bk = ks_find_disk(ks, "backups");
        assert_int_equal(bk->classes, DISK_CLASS_HDD);
        assert_int_equal(bk->transports, TRANSPORT_SAS | TRANSPORT_SATA);
        assert_int_equal(bk->min_size, TiB);

        const struct ks_join *j = ks_find_join(ks, KS_JOIN_IPA);
        assert_non_null(j);
        assert_string_equal(j->server, "lab-id1.domain.com");
        assert_string_equal(j->otp_file, "/run/credentials/rackstack/ipa-otp");
        assert_string_equal(j->realm, "DOMAIN.COM");
        assert_non_null(ks_find_join(ks, KS_JOIN_ZABBIX));
        j = ks_find_join(ks, KS_JOIN_GRAYLOG);
        assert_int_equal(j->port, 12201);
        assert_null(ks_find_join(ks, KS_JOIN_IPA_SERVER));
        assert_string_equal(ks->timezone.zone, "Etc/UTC");
        assert_true(ks->timezone.utc);
        assert_int_equal(ks->n_timesources, 1);
        assert_string_equal(ks->timesources[0].server, "10.0.50.11");
        assert_int_equal(ks->clearpart.mode, KS_CLEARPART_NONE);
        diags_done(&d);
}

/* research/firstboot.md §3, adapted: our %addon name, no raid/volgroup/logvol (not supported). */
static const char firstboot_example[] =
        "# --- network: 802.3ad over eno1+eno2, service VLAN 110 (default route), storage VLAN 120\n"
        "network --device=bond0 --bondslaves=eno1,eno2 --bondopts=mode=802.3ad,miimon=100,lacp_rate=fast,"
        "xmit_hash_policy=layer3+4 --vlanid=110 --bootproto=static --ip=10.10.110.21 --netmask=255.255.255.0 "
        "--gateway=10.10.110.1 --nameserver=10.10.110.10,10.10.110.11 --hostname=db01.corp.example --onboot=yes "
        "--activate\n"
        "network --device=bond0 --vlanid=120 --bootproto=static --ip=10.10.120.21 --netmask=255.255.255.0 "
        "--nodefroute --onboot=yes\n"
        "ignoredisk --only-use=/dev/disk/by-id/wwn-0x5002538e4a1b2c01,/dev/disk/by-id/nvme-eui.0025388b91b2c3d4\n"
        "clearpart --all --initlabel --disklabel=gpt --drives=/dev/disk/by-id/wwn-0x5002538e4a1b2c01\n"
        "zerombr\n"
        "part /boot/efi --fstype=efi --size=600 --ondisk=/dev/disk/by-id/wwn-0x5002538e4a1b2c01\n"
        "part biosboot --size=1 --ondisk=/dev/disk/by-id/wwn-0x5002538e4a1b2c01\n"
        "part / --size=40960 --grow --fstype=ext4 --ondisk=/dev/disk/by-id/wwn-0x5002538e4a1b2c01\n"
        "part swap --size=8192 --ondisk=/dev/disk/by-id/wwn-0x5002538e4a1b2c01\n"
        "# NVMe not in clearpart: must be empty or the run stops. Alias form via %addon:\n"
        "part /var/lib/postgresql --ondisk=@pgdata --size=1 --grow --fstype=xfs --label=pgdata\n"
        "bootloader --location=mbr --boot-drive=/dev/disk/by-id/wwn-0x5002538e4a1b2c01 --append=\"console=ttyS0,115200 quiet\" --timeout=5\n"
        "rootpw --lock\n"
        "user --name=ops --groups=sudo,adm --iscrypted --password=$6$rounds=656000$saltsalt$hashhashhash\n"
        "sshkey --username=ops 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx ops@example'\n"
        "timezone Europe/Paris --utc\n"
        "timesource --ntp-server=10.10.110.10\n"
        "%post --interpreter=/bin/bash --log=/root/ks-post.log --erroronfail\n"
        "echo done > /root/done\n"
        "  %end  \n"
        "\n"
        "%addon com_rackstack\n"
        "role db\n"
        "disk pgdata class=nvme transport=nvme size>=1.5T count=1 expect=empty\n"
        "join ipa otp-file=/run/credentials/firstboot/ipa-otp server=idm01.corp.example\n"
        "status-url https://deploy.corp.example:8443/status\n"
        "token-file /run/credentials/rackstack/token\n"
        "%end\n";

static void check_example(const struct ks *ks) {
        assert_int_equal(ks->n_networks, 2);
        const struct ks_network *n = &ks->networks[0];
        assert_int_equal(strv_length(n->bondslaves), 2);
        assert_string_equal(n->bondslaves[1], "eno2");
        assert_int_equal(n->n_nameservers, 2);
        assert_int_equal(n->nameservers[1], ip("10.10.110.11"));
        assert_true(n->onboot);
        assert_true(n->activate);
        assert_string_equal(ks->ignoredisk.only_use[1], "/dev/disk/by-id/nvme-eui.0025388b91b2c3d4");
        assert_int_equal(ks->clearpart.mode, KS_CLEARPART_ALL);
        assert_true(ks->clearpart.initlabel);
        assert_string_equal(ks->clearpart.disklabel, "gpt");
        assert_true(ks_given(ks->zerombr_src));
        assert_int_equal(ks->n_parts, 5);
        assert_int_equal(ks->parts[0].fstype, KS_FSTYPE_EFI);
        assert_int_equal(ks->parts[1].kind, KS_PART_BIOSBOOT);
        assert_int_equal(ks->parts[1].fstype, KS_FSTYPE_BIOSBOOT);
        assert_int_equal(ks->parts[3].kind, KS_PART_SWAP);
        assert_null(ks->parts[3].mount);
        assert_string_equal(ks_part_disk_alias(&ks->parts[4]), "pgdata");
        assert_string_equal(ks->bootloader.append, "console=ttyS0,115200 quiet");
        assert_int_equal(ks->bootloader.timeout, 5);
        assert_int_equal(ks->n_users, 1);
        assert_string_equal(ks->users[0].groups[1], "adm");
        assert_string_equal(ks->users[0].password, "$6$rounds=656000$saltsalt$hashhashhash");
        assert_true(ks_has_secrets(ks));
        assert_string_equal(ks->sshkeys[0].key, "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx ops@example");
        assert_int_equal(ks->n_scripts, 1);
        assert_int_equal(ks->scripts[0].kind, KS_SCRIPT_POST);
        assert_string_equal(ks->scripts[0].body, "echo done > /root/done\n");
        assert_string_equal(ks->scripts[0].interpreter, "/bin/bash");
        assert_true(ks->scripts[0].erroronfail);
        assert_int_equal(ks_find_disk(ks, "pgdata")->min_size, 1536 * GiB);
        assert_string_equal(ks->addon.status_url, "https://deploy.corp.example:8443/status");
        assert_string_equal(ks->addon.token_file, "/run/credentials/rackstack/token");
}

static void test_example(void **state) {
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        dump_corpus("good-example", firstboot_example, strlen(firstboot_example));
        int r = ks_parse_buffer("example.ks", firstboot_example, strlen(firstboot_example), &d, &ks);
        print_diags(&d);
        assert_int_equal(r, 0);
        assert_int_equal(d.n, 0);
        check_example(ks);
        diags_done(&d);
}

/* The same file with CRLF line ends and a UTF-8 BOM, as a Windows editor saves it, means the same. */
static void test_crlf_bom(void **state) {
        struct buf b = {};
        buf_puts(&b, "\xef\xbb\xbf");
        for (const char *c = firstboot_example; *c; c++) {
                if (*c == '\n')
                        buf_putc(&b, '\r');
                buf_putc(&b, *c);
        }
        size_t len = b.len;
        _cleanup_free_ char *data = buf_steal(&b);
        dump_corpus("good-example-crlf-bom", data, len);
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        int r = ks_parse_buffer("crlf.ks", data, len, &d, &ks);
        print_diags(&d);
        assert_int_equal(r, 0);
        assert_int_equal(d.n, 0);
        check_example(ks);
        /* Columns count from after the BOM. */
        assert_int_equal(ks->networks[0].src.line, 2);
        assert_int_equal(ks->networks[0].src.col, 1);
        diags_done(&d);
}

static void test_quoting(void **state) {
        static const char in[] =
                "bootloader --append \"a=\\\"b c\\\" d\\\\e\" --location 'mbr'\n"
                "user --name=o\\ps --password='$6$x$y' \\\n"
                "   --iscrypted # a comment \"with an unbalanced quote\n"
                "part /srv/a\\ b --size=1 --label=\"\"\n"
                "network --device=bond0 --bondopts=\"mode=active-backup;arp_ip_target=10.0.0.1,10.0.0.2;arp_interval=200\"\n"
                "%addon com_rackstack\n"
                "role   \"it\"   # trailing comment\n"
                "%end\n";
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        int r = ks_parse_buffer("q.ks", in, strlen(in), &d, &ks);
        print_diags(&d);
        /* The empty --label is refused; everything else is accepted. */
        assert_int_equal(r, -EINVAL);
        assert_int_equal(d.n_errors, 1);
        /* The continued line is read, with a warning: Anaconda would not join it. */
        assert_int_equal(d.items[0].severity, DIAG_WARNING);
        assert_int_equal(d.items[0].line, 2);
        assert_non_null(strstr(d.items[0].message, "line continued with '\\'"));
        assert_int_equal(d.items[1].line, 4);
        assert_int_equal(d.items[1].col, 33);
        assert_non_null(strstr(d.items[1].message, "'--label' needs a value"));
        diags_done(&d);

        static const char in2[] =
                "bootloader --append \"a=\\\"b c\\\" d\\\\e\" --location 'mbr'\n"
                "user --name=o\\ps --password='$6$x$y' \\\n"
                "   --iscrypted # a comment \"with an unbalanced quote\n"
                "part /srv/a\\ b --size=1\n"
                "network --device=bond0 --bondopts=\"mode=active-backup;arp_ip_target=10.0.0.1,10.0.0.2;arp_interval=200\"\n"
                "%addon com_rackstack\n"
                "role   \"it\"   # trailing comment\n"
                "%end\n";
        r = ks_parse_buffer("q.ks", in2, strlen(in2), &d, &ks);
        print_diags(&d);
        assert_int_equal(r, 0);
        assert_string_equal(ks->bootloader.append, "a=\"b c\" d\\e");
        assert_string_equal(ks->bootloader.location, "mbr");
        assert_string_equal(ks->users[0].name, "ops");
        assert_string_equal(ks->users[0].password, "$6$x$y");
        assert_int_equal(ks->users[0].iscrypted_src.line, 3);
        assert_int_equal(ks->users[0].iscrypted_src.col, 4);
        assert_string_equal(ks->parts[0].mount, "/srv/a b");
        const struct ks_bondopts *b = &ks->networks[0].bondopts;
        assert_int_equal(b->mode, BOND_MODE_ACTIVE_BACKUP);
        assert_int_equal(b->n_arp_ip_targets, 2);
        assert_int_equal(b->arp_ip_targets[1], ip("10.0.0.2"));
        assert_int_equal(b->arp_interval, 200);
        assert_string_equal(ks->addon.role, "it");
        diags_done(&d);
}

struct bad {
        const char *name;
        const char *input;
        unsigned line, col;
        const char *message;
        size_t size; /* 0: strlen(input) */
};

#define NET "network --device=bond0 "
#define NETS "network --device=bond0 --bootproto=static --ip=10.0.0.5 --netmask=255.255.255.0 "

static const struct bad bad_cases[] = {
        { "empty", "", 0, 0, "the kickstart is empty" },
        { "only-comments", "# nothing\n\n   # here\n", 0, 0, "the kickstart is empty" },
        { "unknown-command", "rootpw --lock\nnetwrk --device=bond0\n", 2, 1,
          "unknown command 'netwrk'; did you mean 'network'?" },
        { "unknown-option", NET "--vlandi=10\n", 1, 24, "unknown option '--vlandi' for 'network'; did you mean '--vlanid'?" },
        { "unknown-option-part", "part /srv --size=1 --fstyp=xfs\n", 1, 20, "did you mean '--fstype'?" },
        { "anaconda-layout-refused", "raid /boot --level=1\n", 1, 1, "'raid' is refused: rackstack does not create RAID" },
        { "post-no-end", "rootpw --lock\n%post\necho hi\n", 2, 1, "'%post' without '%end'" },
        { "pre-then-post", "%pre\necho\n%post\necho\n%end\n", 1, 1, "'%pre' without '%end' (before the section at line 3)" },
        { "addon-no-end", "%addon com_rackstack\nrole db\n", 1, 1, "'%addon' without '%end'" },
        { "addon-then-post", "%addon com_rackstack\nrole db\n%post\n%end\n", 1, 1, "'%addon' without '%end' (before '%post'" },
        { "stray-end", "rootpw --lock\n%end\n", 2, 1, "'%end' without a section" },
        { "include", "rootpw --lock\n%include /tmp/part.ks\n", 2, 1, "'%include' is not supported" },
        { "unknown-section", "%pakages\n@core\n%end\n", 1, 1, "unknown section '%pakages'" },
        { "stray-cr", "rootpw --lock\rtimezone Etc/UTC\n", 1, 14, "stray carriage return" },
        { "stray-cr-in-script", "%post\necho a\rb\n%end\n", 2, 7, "stray carriage return" },
        { "nul-byte", "rootpw --lock\nti\0mezone Etc/UTC\n", 2, 3, "NUL byte", 32 },
        { "unbalanced-double", "bootloader --append=\"console=ttyS0\n", 1, 21, "unterminated double quote" },
        { "unbalanced-single", "rootpw --lock\nbootloader --append='quiet\n", 2, 21, "unterminated single quote" },
        { "size-10G", "part /srv --size=10G\n", 1, 18, "write 10240, not '10G'" },
        { "size-zero", "part /srv --size=0\n", 1, 18, "invalid size '0'" },
        { "two-grow", "part /a --size=1 --grow --ondisk=sdb\npart /b --size=1 --grow --ondisk=sdb\n", 2, 18,
          "two partitions grow without --maxsize on disk 'sdb' (the other at 1:18)" },
        { "two-grow-alias",
          "part /a --size=1 --grow --ondisk=@d\npart /b --size=1 --grow --ondisk=@d\n"
          "%addon com_rackstack\nrole db\ndisk d class=ssd\n%end\n",
          2, 18, "two partitions grow without --maxsize on disk '@d'" },
        { "duplicate-mount", "part /srv --size=1\npart /srv --size=2\n", 2, 6, "mount point '/srv' is already used at 1:6" },
        { "anaconda-fstype-refused", "part /srv --size=1 --fstype=ext3\n", 1, 29, "'--fstype=ext3' is refused" },
        { "fstype-swap-on-mount", "part /srv --size=1 --fstype=swap\n", 1, 20, "--fstype=swap is written 'part swap'" },
        { "maxsize-without-grow", "part /srv --size=1 --maxsize=10\n", 1, 20, "--maxsize limits --grow" },
        { "part-no-size", "part /srv --fstype=xfs\n", 1, 1, "'part' needs --size=" },
        { "part-relative", "part srv --size=1\n", 1, 6, "'part' needs a mount point" },
        { "unknown-alias", "part /srv --size=1 --ondisk=@dat\n%addon com_rackstack\nrole db\ndisk data\n%end\n", 1, 20,
          "unknown disk alias '@dat'" },
        { "vlanid-0", NET "--vlanid=0\n", 1, 33, "VLAN id 0 is reserved" },
        { "vlanid-4095", NET "--vlanid=4095\n", 1, 33, "VLAN id 4095 is reserved" },
        { "vlanid-4096", NET "--vlanid=4096\n", 1, 33, "invalid VLAN id '4096'" },
        { "vlanid-minus-1", NET "--vlanid=-1\n", 1, 33, "invalid VLAN id '-1'" },
        { "vlanid-minus-1-spaced", NET "--vlanid -1\n", 1, 33, "invalid VLAN id '-1'" },
        { "vlanid-abc", NET "--vlanid=abc\n", 1, 33, "invalid VLAN id 'abc'" },
        { "bond-mode-9", NET "--bondopts=mode=9\n", 1, 40, "invalid value '9' for bond option 'mode'" },
        { "bond-mode-name", NET "--bondopts=mode=802.3da\n", 1, 40, "did you mean '802.3ad'?" },
        { "bond-unknown-opt", NET "--bondopts=mode=802.3ad,lacp_rat=fast\n", 1, 48,
          "unknown bond option 'lacp_rat'; did you mean 'lacp_rate'?" },
        { "bond-lacp-rate", NET "--bondopts=lacp_rate=medium\n", 1, 45, "invalid value 'medium' for bond option 'lacp_rate'" },
        { "bond-hash", NET "--bondopts=xmit_hash_policy=layer4\n", 1, 52, "invalid value 'layer4' for bond option 'xmit_hash_policy'" },
        { "bond-comma-in-value", NET "--bondopts=mode=active-backup,arp_ip_target=10.0.0.1,10.0.0.2\n", 1, 77,
          "bond option '10.0.0.2' is not KEY=VALUE (when a value holds a comma, separate the options with ';')" },
        { "bond-twice", NET "--bondopts=miimon=100,miimon=200\n", 1, 46, "bond option 'miimon' given twice" },
        { "ip-256", NET "--bootproto=static --ip=256.1.1.1 --netmask=255.255.255.0\n", 1, 48,
          "invalid IPv4 address '256.1.1.1' for '--ip'" },
        { "mask-noncontiguous", NET "--bootproto=static --ip=10.0.0.5 --netmask=255.0.255.0\n", 1, 67,
          "netmask '255.0.255.0' is not contiguous" },
        { "gateway-outside", NETS "--gateway=10.0.1.1\n", 1, 81, "gateway 10.0.1.1 is outside the subnet 10.0.0.0/24" },
        { "ip-without-static", NET "--ip=10.0.0.5 --netmask=255.255.255.0\n", 1, 24, "--ip needs --bootproto=static" },
        { "static-without-ip", NET "--bootproto=static\n", 1, 24, "--bootproto=static needs --ip= and --netmask=" },
        { "hostname-underscore", NET "--hostname=lab_db1\n", 1, 35, "host names may not contain '_'" },
        { "hostname-label-64",
          NET "--hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example\n", 1, 35,
          "label is longer than 63 characters" },
        { "hostname-254",
          NET "--hostname=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."
          "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
          1, 35, "longer than 253 characters" },
        { "duplicate-device-vlan", NET "--vlanid=20\n" NET "--vlanid=20\n", 2, 9,
          "network device 'bond0' VLAN 20 is already configured at 1:1" },
        { "two-default-routes",
          NETS "--vlanid=10 --gateway=10.0.0.1\n"
               "network --device=bond0 --bootproto=static --ip=10.0.1.5 --netmask=255.255.255.0 --vlanid=20 --gateway=10.0.1.1\n",
          2, 93, "a second default route (the first is at 1:93)" },
        { "option-twice", NET "--vlanid=10 --vlanid=20\n", 1, 36, "option '--vlanid' given twice (first at 1:24)" },
        { "activate-contradiction", NET "--activate --no-activate\n", 1, 35, "'--no-activate' contradicts '--activate'" },
        { "flag-with-value", NET "--nodefroute=yes\n", 1, 24, "option '--nodefroute' takes no value" },
        { "option-no-value", NET "--vlanid\n", 1, 24, "option '--vlanid' needs a value" },
        { "bad-nameserver", NET "--nameserver=10.0.0.1,10.0.0\n", 1, 46, "invalid name server '10.0.0'" },
        { "bad-mtu", NET "--mtu=100000\n", 1, 30, "invalid value '100000' for '--mtu'" },
        { "rootpw-not-hash", "rootpw --iscrypted secret\n", 1, 20, "is not a crypt(3) hash" },
        { "rootpw-nothing", "rootpw\n", 1, 1, "'rootpw' needs a password (a hash with --iscrypted), or --lock" },
        { "user-bad-group", "user --name=ops --groups=wheel,Bad\n", 1, 17, "invalid group name 'Bad'" },
        { "user-no-name", "user --groups=wheel\n", 1, 1, "'user' needs --name=" },
        { "clearpart-all-none", "clearpart --all --none\n", 1, 17, "'--none' contradicts '--all'" },
        { "ignoredisk-both", "ignoredisk --only-use=sda --drives=sdb\n", 1, 27, "--only-use or --drives, not both" },
        { "ignoredisk-unknown-alias", "ignoredisk --only-use=@os,@dta\n%addon com_rackstack\nrole db\ndisk os\ndisk data\n%end\n",
          1, 12, "unknown disk alias '@dta'" },
        { "network-positional", NET "eth0\n", 1, 24, "unexpected argument 'eth0' to 'network'" },
        { "ignoredisk-neither", "ignoredisk\n", 1, 1, "'ignoredisk' needs --only-use= or --drives=" },
        { "singleton-twice", "timezone Etc/UTC\ntimezone Etc/UTC\n", 2, 1, "'timezone' given twice (first at 1:1)" },
        { "timezone-bad", "timezone ../etc/passwd\n", 1, 10, "invalid time zone" },
        { "timesource-none", "timesource --nts\n", 1, 1, "'timesource' needs --ntp-server=" },
        { "sshkey-not-key", "sshkey --username=root AAAA\n", 1, 24, "not an OpenSSH public key" },
        { "line-too-long", NULL, 2, 1, "line too long" },
        { "addon-unknown-name", "%addon com_rackstak\nrole db\n%end\n", 1, 8,
          "unknown %addon 'com_rackstak'; only com_rackstack is read; did you mean 'com_rackstack'?" },
        { "addon-unknown-keyword", "%addon com_rackstack\nrole db\nrol db\n%end\n", 3, 1,
          "unknown %addon com_rackstack keyword 'rol'; did you mean 'role'?" },
        { "addon-unknown-role", "%addon com_rackstack\nrole dbs\n%end\n", 2, 6, "unknown role 'dbs'" },
        { "addon-disk-class", "%addon com_rackstack\nrole db\ndisk d class=ssd|flash\n%end\n", 3, 18,
          "unknown disk class 'flash'" },
        { "addon-disk-size", "%addon com_rackstack\nrole db\ndisk d size>=lots\n%end\n", 3, 14, "invalid size 'lots'" },
        { "addon-disk-prop", "%addon com_rackstack\nrole db\ndisk d clas=ssd\n%end\n", 3, 8,
          "unknown disk property 'clas'; did you mean 'class'?" },
        { "addon-disk-twice", "%addon com_rackstack\nrole db\ndisk d\ndisk d\n%end\n", 4, 6, "disk 'd' declared twice" },
        { "addon-join-missing", "%addon com_rackstack\nrole db\njoin ipa server=id.example\n%end\n", 3, 6,
          "'join ipa' needs otp-file=" },
        { "addon-join-inline-secret", "%addon com_rackstack\nrole db\njoin ipa otp=abc server=id.example otp-file=/x\n%end\n",
          3, 10, "'join ipa' takes no 'otp'" },
        { "addon-join-relative", "%addon com_rackstack\nrole db\njoin zabbix psk-file=psk server=z.example\n%end\n", 3, 22,
          "'psk-file' needs an absolute path" },
        { "addon-status-url", "%addon com_rackstack\nrole db\nstatus-url ftp://x/y\n%end\n", 3, 12, "invalid status URL" },
};

static char *long_line_input(size_t *ret_size) {
        struct buf b = {};
        buf_puts(&b, "rootpw --lock\nbootloader --append=");
        for (size_t i = 0; i < 1024 * 1024; i++)
                buf_putc(&b, 'x');
        buf_puts(&b, "\ntimezone Etc/UTC\n");
        *ret_size = b.len;
        return buf_steal(&b);
}

static void dump_corpus(const char *name, const char *data, size_t size) {
        const char *dir = getenv("KS_CORPUS_DIR");
        if (!dir)
                return;
        _cleanup_free_ char *path = strprintf("%s/%s.ks", dir, name);
        assert_non_null(path);
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, size, f), size);
        assert_int_equal(fclose(f), 0);
}

static void test_bad(void **state) {
        size_t failures = 0;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad *c = &bad_cases[i];
                _cleanup_free_ char *owned = NULL;
                const char *data = c->input;
                size_t size = c->size ? c->size : data ? strlen(data) : 0;
                if (!data)
                        data = owned = long_line_input(&size);
                if (!streq(c->name, "line-too-long")) {
                        _cleanup_free_ char *name = strprintf("bad-%s", c->name);
                        dump_corpus(name, data, size);
                }

                struct diags d = {};
                struct ks *ks = NULL;
                int r = ks_parse_buffer("t.ks", data, size, &d, &ks);
                bool found = false;
                for (size_t k = 0; k < d.n; k++)
                        if (d.items[k].severity == DIAG_ERROR && d.items[k].line == c->line && d.items[k].col == c->col &&
                            strstr(d.items[k].message, c->message))
                                found = true;
                if (r != -EINVAL || !found || ks) {
                        fprintf(stderr, "case %s: r=%d, want %u:%u '%s'; got:\n", c->name, r, c->line, c->col, c->message);
                        print_diags(&d);
                        failures++;
                }
                ks_free(ks);
                diags_done(&d);
        }
        assert_int_equal(failures, 0);
}

/* A plaintext password (rootpw, rootpw --plaintext, user --password) is accepted with a warning and
 * hashed at once: the parsed kickstart holds a SHA-512 crypt hash that verifies, and neither it nor
 * any message holds the plaintext. */
static void test_plaintext_hashed(void **state) {
        static const char *const cases[] = {
                "rootpw Correct-Horse-9\n",
                "rootpw --plaintext Correct-Horse-9\n",
                "user --name=ops --password=Correct-Horse-9\n",
                "user --name=ops --plaintext --password Correct-Horse-9\n",
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                struct diags d = {};
                struct ks *ks = NULL;
                assert_int_equal(ks_parse_buffer("t.ks", cases[i], strlen(cases[i]), &d, &ks), 0);
                const char *h = ks->n_users ? ks->users[0].password : ks->rootpw.password;
                assert_non_null(h);
                assert_true(strncmp(h, "$6$", 3) == 0);
                struct crypt_data cd = {};
                const char *again = crypt_r("Correct-Horse-9", h, &cd);
                assert_non_null(again);
                assert_string_equal(again, h);
                assert_int_equal(d.n_errors, 0);
                bool warned = false;
                for (size_t k = 0; k < d.n; k++) {
                        assert_null(strstr(d.items[k].message, "Correct-Horse"));
                        warned = warned || strstr(d.items[k].message, "plaintext password") != NULL;
                }
                assert_true(warned);
                ks_free(ks);
                diags_done(&d);
        }
}

/* All errors are collected, not only the first. */
static void test_all_errors(void **state) {
        static const char in[] = "netwrk\nrootpw --iscrypted secret\npart /srv --size=1G\ntimezone\n";
        struct diags d = {};
        struct ks *ks = NULL;
        assert_int_equal(ks_parse_buffer("t.ks", in, strlen(in), &d, &ks), -EINVAL);
        print_diags(&d);
        assert_null(ks);
        assert_int_equal(d.n_errors, 4);
        for (unsigned i = 0; i < 4; i++)
                assert_int_equal(d.items[i].line, i + 1);
        diags_done(&d);
}

static void test_warnings(void **state) {
        /* A missing role is a warning: the image knows its role, the kickstart only cross-checks it. */
        static const char no_role[] = "rootpw --lock\n%addon com_rackstack\ntoken-file /run/t\n%end\n";
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_parse_buffer("t.ks", no_role, strlen(no_role), &d, &ks), 0);
        assert_int_equal(d.n_errors, 0);
        bool role = false, net = false;
        for (size_t i = 0; i < d.n; i++) {
                assert_int_equal(d.items[i].severity, DIAG_WARNING);
                role = role || (strstr(d.items[i].message, "no 'role'") && d.items[i].line == 2);
                net = net || strstr(d.items[i].message, "no 'network' line");
        }
        assert_true(role);
        assert_true(net);
        diags_done(&d);
}

/* The RHEL 9 grammar table: every command and option of our own fixture is either applied or
 * ignored with a warning that says why (exit 0); the refused fixture is refused line by line, each
 * with its reason, and no valid Anaconda word is called unknown or given a "did you mean". */
static void test_grammar_fixtures(void **state) {
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        int r = ks_load_file("tests/fuzz/corpus/kickstart/grammar-ignored.ks", &d, &ks);
        print_diags(&d);
        assert_int_equal(r, 0);
        size_t ignored = 0;
        bool include_in_post = false;
        for (size_t i = 0; i < d.n; i++) {
                assert_int_equal(d.items[i].severity, DIAG_WARNING);
                assert_null(strstr(d.items[i].message, "unknown"));
                assert_null(strstr(d.items[i].message, "did you mean"));
                ignored += strstr(d.items[i].message, "is ignored") != NULL;
        }
        assert_true(ignored >= 24);
        for (size_t i = 0; i < ks->n_scripts; i++)
                include_in_post = include_in_post || strstr(ks->scripts[i].body, "%include /tmp/other.ks\n");
        assert_true(include_in_post);   /* script text, not a directive */
        assert_int_equal(ks->n_users, 2);
        assert_int_equal(ks->n_sshkeys, 1);
        assert_int_equal(ks->n_timesources, 1);
        assert_int_equal(ks->n_networks, 2);
        assert_string_equal(ks->networks[0].device, "link");
        /* a kernel bonding option rackstack does not set is a warning; the others still apply */
        assert_string_equal(ks->networks[1].device, "bond1");
        assert_true(ks->networks[1].bondopts.set & KS_BONDOPT_MODE);
        assert_true(ks->networks[1].bondopts.set & KS_BONDOPT_PRIMARY);
        assert_string_equal(ks->networks[0].hostname, "ks-ignored.example.com");
        /* applied since #18's second part: read into the kickstart, not warned about */
        assert_string_equal(ks->lang.locale, "en_US.UTF-8");
        assert_string_equal(ks->keyboard.vckeymap, "us");
        assert_string_equal(ks->keyboard.xlayouts[1], "de (nodeadkeys)");
        assert_string_equal(ks->services.enabled[0], "chronyd");
        assert_string_equal(ks->services.disabled[0], "cups");
        assert_int_equal(ks->power, KS_POWER_REBOOT);
        assert_int_equal(ks->users[0].uid, 1500);
        assert_string_equal(ks->users[0].homedir, "/srv/ops");
        assert_string_equal(ks->users[0].shell, "/bin/bash");
        assert_string_equal(ks->users[0].gecos, "Ops");
        diags_done(&d);

        struct ks *bad = NULL;
        assert_int_equal(ks_load_file("tests/fuzz/corpus/kickstart/grammar-refused.ks", &d, &bad), -EINVAL);
        assert_null(bad);
        /* Every line from 4 on has its error, and none is a guess at a misspelling. */
        for (unsigned line = 4; line <= 17; line++) {
                bool found = false;
                for (size_t i = 0; i < d.n; i++)
                        found = found || (d.items[i].severity == DIAG_ERROR && d.items[i].line == line);
                if (!found)
                        fprintf(stderr, "grammar-refused.ks line %u: no error\n", line);
                assert_true(found);
        }
        for (size_t i = 0; i < d.n; i++) {
                assert_null(strstr(d.items[i].message, "did you mean"));
                assert_null(strstr(d.items[i].message, "unknown"));
        }
        diags_done(&d);
}

static char *write_temp(const char *content, mode_t mode) {
        char *path = strdup("/tmp/test-kickstart-XXXXXX");
        assert_non_null(path);
        int fd = mkostemp(path, O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, content, strlen(content)), (ssize_t) strlen(content));
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
        return path;
}

static void test_file_mode(void **state) {
        static const char secret[] = "rootpw --iscrypted $y$j9T$abc$def\n%addon com_rackstack\nrole db\n%end\n"
                                     "network --device=bond0\n";
        _cleanup_free_ char *p644 = write_temp(secret, 0644), *p600 = write_temp(secret, 0600),
                            *plain = write_temp("rootpw --lock\n%addon com_rackstack\nrole db\n%end\nnetwork --device=eth0\n",
                                                0644);
        struct diags d = {};
        struct ks *ks = NULL;
        assert_int_equal(ks_load_file(p644, &d, &ks), -EACCES);
        assert_null(ks);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(d.items[0].line, 1);
        assert_int_equal(d.items[0].col, 20);
        assert_non_null(strstr(d.items[0].message, "mode 0644"));
        diags_done(&d);

        assert_int_equal(ks_load_file(p600, &d, &ks), 0);
        assert_true(ks_has_secrets(ks));
        assert_string_equal(ks->rootpw.password, "$y$j9T$abc$def");
        assert_int_equal(d.n, 0);
        ks = ks_free(ks);

        assert_int_equal(ks_load_file(plain, &d, &ks), 0);
        assert_false(ks_has_secrets(ks));
        ks = ks_free(ks);
        diags_done(&d);

        assert_int_equal(ks_load_file("/nonexistent/ks.cfg", &d, &ks), -ENOENT);
        assert_int_equal(d.n_errors, 1);
        diags_done(&d);
        assert_int_equal(ks_load_file("/tmp", &d, &ks), -EINVAL);
        diags_done(&d);
        unlink(p644);
        unlink(p600);
        unlink(plain);
}

/* ---- site --------------------------------------------------------------------------------------- */

struct test_site {
        struct site site;
        struct vlan_spec vlans[5];
        struct host_spec host;
        struct host_address addrs[3];
        char *dns[2], *ntp[2];
};

static void make_site(struct test_site *t) {
        *t = (struct test_site) {};
        static const struct {
                uint16_t id;
                const char *net;
                unsigned prefix;
                const char *gw;
        } v[] = {
                { 10, "10.0.10.0", 24, "10.0.10.1" }, { 20, "10.0.50.0", 24, "10.0.50.1" },
                { 30, "10.0.30.0", 24, "10.0.30.1" }, { 40, "10.0.40.0", 24, NULL },
                { 50, "10.0.100.0", 22, "10.0.100.1" },
        };
        for (size_t i = 0; i < 5; i++)
                t->vlans[i] = (struct vlan_spec) { .id = v[i].id, .name = (char *) "vlan", .subnet = ip(v[i].net),
                                                   .prefix = v[i].prefix, .gateway = v[i].gw ? ip(v[i].gw) : 0 };
        t->addrs[0] = (struct host_address) { .vlan = 20, .addr = ip("10.0.50.12") };
        t->addrs[1] = (struct host_address) { .vlan = 10, .addr = ip("10.0.10.12") };
        t->addrs[2] = (struct host_address) { .vlan = 40, .addr = ip("10.0.40.12") };
        t->host = (struct host_spec) { .name = (char *) "lab-db1", .role = (char *) "db", .addresses = t->addrs,
                                       .n_addresses = 3 };
        t->dns[0] = t->ntp[0] = (char *) "10.0.50.11";
        t->site = (struct site) { .domain = (char *) "domain.com", .default_vlan = 20, .dns = t->dns, .ntp = t->ntp,
                                  .timezone = (char *) "Etc/UTC", .vlans = t->vlans, .n_vlans = 5,
                                  .hosts = &t->host, .n_hosts = 1 };
}

static void site_case(struct test_site *t, unsigned line, unsigned col, const char *msg) {
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_load_file("kickstart/lab-db1.ks", &d, &ks), 0);
        ks_check_site(ks, &t->site, &d);
        if (!msg) {
                print_diags(&d);
                assert_int_equal(d.n, 0);
        } else {
                bool found = false;
                for (size_t i = 0; i < d.n; i++)
                        found = found || (d.items[i].line == line && d.items[i].col == col &&
                                          strstr(d.items[i].message, msg));
                if (!found) {
                        fprintf(stderr, "want %u:%u '%s', got:\n", line, col, msg);
                        print_diags(&d);
                }
                assert_true(found);
        }
        diags_done(&d);
}

static void test_site(void **state) {
        struct test_site t;
        make_site(&t);
        site_case(&t, 0, 0, NULL);

        make_site(&t);
        t.addrs[1].addr = ip("10.0.10.99");
        site_case(&t, 10, 55, "address 10.0.10.12 differs from the site's 10.0.10.99 for 'lab-db1' on VLAN 10");

        make_site(&t);
        t.host.role = (char *) "app";
        site_case(&t, 25, 1, "role 'db' differs from the site's role 'app'");

        make_site(&t);
        t.host.name = (char *) "lab-db2";
        site_case(&t, 8, 215, "host 'lab-db1' is not in the site; did you mean 'lab-db2'?");

        make_site(&t);
        t.site.domain = (char *) "example.org";
        site_case(&t, 8, 215, "not in the site's domain 'example.org'");

        make_site(&t);
        t.addrs[2].vlan = 30;
        site_case(&t, 12, 24, "host 'lab-db1' has no address on VLAN 40");

        make_site(&t);
        t.site.default_vlan = 10;
        site_case(&t, 8, 171, "default route on VLAN 20, but the site's default route is on VLAN 10");

        make_site(&t);
        t.vlans[1].gateway = ip("10.0.50.254");
        site_case(&t, 8, 171, "gateway 10.0.50.1 differs from the site's 10.0.50.254");

        make_site(&t);
        t.vlans[0].prefix = 16;
        site_case(&t, 10, 71, "netmask /24 differs from the site's /16 for VLAN 10");

        make_site(&t);
        t.dns[0] = (char *) "10.0.50.53";
        site_case(&t, 8, 191, "name server 10.0.50.11 is not one of the site's");
}

/* The nine shipped kickstarts against the whole site as the seed describes it: no diagnostics. */
static void test_site_all_hosts(void **state) {
        static const struct {
                const char *role;
                unsigned n;
                uint16_t vlans[3];
        } h[] = {
                { "id", 11, { 10, 20, 40 } },  { "db", 12, { 10, 20, 40 } },   { "app", 13, { 10, 20, 40 } },
                { "comm", 14, { 10, 20, 40 } }, { "voip", 15, { 10, 20, 30 } }, { "biz", 16, { 10, 20, 40 } },
                { "erp", 17, { 10, 20, 40 } },  { "it", 18, { 10, 20, 40 } },   { "infra", 19, { 10, 20, 0 } },
        };
        static const char *const nets[] = { [10] = "10.0.10", [20] = "10.0.50", [30] = "10.0.30", [40] = "10.0.40" };
        struct test_site t;
        make_site(&t);
        struct host_spec hosts[9];
        struct host_address addrs[9][3];
        char *names[9];
        for (size_t i = 0; i < 9; i++) {
                size_t n = 0;
                for (size_t j = 0; j < 3 && h[i].vlans[j]; j++) {
                        _cleanup_free_ char *a = strprintf("%s.%u", nets[h[i].vlans[j]], h[i].n);
                        addrs[i][n++] = (struct host_address) { .vlan = h[i].vlans[j], .addr = ip(a) };
                }
                names[i] = strprintf("lab-%s1", h[i].role);
                hosts[i] = (struct host_spec) { .name = names[i], .role = (char *) h[i].role, .addresses = addrs[i],
                                                .n_addresses = n };
        }
        t.site.hosts = hosts;
        t.site.n_hosts = 9;
        for (size_t i = 0; i < 9; i++) {
                _cleanup_free_ char *path = strprintf("kickstart/%s.ks", names[i]);
                struct diags d = {};
                _cleanup_(ks_freep) struct ks *ks = NULL;
                assert_int_equal(ks_load_file(path, &d, &ks), 0);
                ks_check_site(ks, &t.site, &d);
                print_diags(&d);
                assert_int_equal(d.n, 0);
                assert_string_equal(ks->addon.role, h[i].role);
                assert_int_equal(ks->n_networks, hosts[i].n_addresses);
                diags_done(&d);
        }
        /* A kickstart checked against another host's entry fails loudly. */
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_load_file("kickstart/lab-voip1.ks", &d, &ks), 0);
        hosts[4].addresses = addrs[3];
        ks_check_site(ks, &t.site, &d);
        assert_true(d.n_errors >= 2);
        diags_done(&d);
        for (size_t i = 0; i < 9; i++)
                free(names[i]);
}

/* An Anaconda kickstart names no host: a warning (firstboot asks for the host), and only what the
 * site says whichever host this is is checked: VLANs of addresses, name servers. */
static void test_site_no_hostname(void **state) {
        (void) state;
        struct test_site t;
        make_site(&t);
        static const struct {
                const char *text;
                size_t errors;
                const char *msg;
        } c[] = {
                { "network --bootproto=dhcp --device=link --activate\nrootpw --lock\n", 0, NULL },
                { "network --device=bond0 --vlanid=20 --bootproto=static --ip=10.0.50.77 --netmask=255.255.255.0 "
                  "--nameserver=10.0.50.11\nrootpw --lock\n", 0, NULL },
                { "network --device=link --bootproto=static --ip=192.168.122.50 --netmask=255.255.255.0\n", 0,
                  "address 192.168.122.50 on --device=link is not applied" },
                { "network --device=bond0 --bondslaves=ens3,ens4 --bootproto=static --ip=192.168.122.50 "
                  "--netmask=255.255.255.0\n", 1, "address 192.168.122.50 is not on a VLAN" },
                { "network --device=bond0 --vlanid=99 --bootproto=static --ip=10.0.99.5 --netmask=255.255.255.0\n", 1,
                  "VLAN 99 is not in the site" },
                { "network --device=link --nameserver=10.0.50.53\n", 1, "name server 10.0.50.53 is not one of the site's" },
        };
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                struct diags d = {};
                _cleanup_(ks_freep) struct ks *ks = NULL;
                assert_int_equal(ks_parse_buffer("anaconda.ks", c[i].text, strlen(c[i].text), &d, &ks), 0);
                ks_check_site(ks, &t.site, &d);
                bool warned = false, said = c[i].msg == NULL;
                for (size_t j = 0; j < d.n; j++) {
                        warned = warned || (d.items[j].severity == DIAG_WARNING &&
                                            strstr(d.items[j].message, "no 'network --hostname=': the kickstart names "
                                                                       "no site host; rackstack-firstboot asks"));
                        said = said || (c[i].msg && strstr(d.items[j].message, c[i].msg));
                }
                if (!warned || !said || d.n_errors != c[i].errors)
                        print_diags(&d);
                assert_true(warned);
                assert_true(said);
                assert_int_equal(d.n_errors, c[i].errors);
                diags_done(&d);
        }
}

/* "clearpart --all --initlabel" with no drive list (nearly every Anaconda kickstart): accepted with a
 * warning at the --all; the storage planner bounds it by the role's disk layout (test-disk-plan.c). */
static void test_clearpart_all_unbounded(void **state) {
        (void) state;
        static const char in[] = "rootpw --lock\nclearpart --all --initlabel\n";
        struct diags d = {};
        _cleanup_(ks_freep) struct ks *ks = NULL;
        assert_int_equal(ks_parse_buffer("t.ks", in, strlen(in), &d, &ks), 0);
        assert_int_equal(ks->clearpart.mode, KS_CLEARPART_ALL);
        assert_int_equal(d.n_errors, 0);
        bool warned = false;
        for (size_t i = 0; i < d.n; i++)
                warned = warned || (d.items[i].severity == DIAG_WARNING && d.items[i].line == 2 &&
                                    d.items[i].col == 11 && strstr(d.items[i].message, "'clearpart --all' names no disks"));
        assert_true(warned);
        diags_done(&d);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_clearpart_all_unbounded),
                cmocka_unit_test(test_shipped),    cmocka_unit_test(test_shipped_db), cmocka_unit_test(test_example),
                cmocka_unit_test(test_crlf_bom),   cmocka_unit_test(test_quoting),    cmocka_unit_test(test_bad),
                cmocka_unit_test(test_all_errors),
                cmocka_unit_test(test_plaintext_hashed), cmocka_unit_test(test_warnings),   cmocka_unit_test(test_file_mode),
                cmocka_unit_test(test_site),       cmocka_unit_test(test_site_all_hosts),
                cmocka_unit_test(test_site_no_hostname), cmocka_unit_test(test_grammar_fixtures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
