/* SPDX-License-Identifier: MIT */
/* The profile and site loaders: the shipped files load and agree; every bad input is reported at
 * its FILE:LINE:COL with a message that says what is wrong. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "fileio.h"
#include "parse.h"
#include "profile.h"
#include "util.h"

static char tmpdir[] = "/tmp/rackstack-test-profile-XXXXXX";

static void write_file(const char *name, const char *text) {
        _cleanup_free_ char *path = strprintf("%s/%s", tmpdir, name);
        assert_non_null(path);
        assert_int_equal(write_file_atomic(AT_FDCWD, path, text, strlen(text), 0644), 0);
}

static const char *const BASE =
        "disks:\n"
        "  - name: os\n"
        "    os: true\n"
        "    class: ssd\n"
        "    min-size: 50G\n"
        "    partitions:\n"
        "      - { name: esp, type: esp, size: 512M, fs: vfat, mount: /boot/efi }\n"
        "      - { name: bios, type: bios-boot, size: 1M, fs: none }\n"
        "      - { name: root, type: root, size: grow, fs: ext4, mount: / }\n"
        "network:\n"
        "  bond: { name: bond0, mode: 802.3ad, members: 2, speed: 1G }\n"
        "  vlans: [10, 20]\n";

static const char *const GOOD_ROLE =
        "inherits: base\n"
        "role: db\n"
        "hardware: { cores: 8, ram: 32G }\n"
        "disks:\n"
        "  - name: database\n"
        "    class: nvme\n"
        "    min-size: 500G\n"
        "    partitions:\n"
        "      - { name: pgdata, size: grow, fs: xfs, mount: /var/lib/postgresql }\n";

/* Each case: a role file (with base.yaml as above), where the first error must be, and what it says. */
static const struct bad_case {
        const char *name;
        const char *role;
        unsigned line, col;
        const char *message;
} bad_cases[] = {
        { "unknown key with hint", "inherits: base\nrole: db\nhardwar: { cores: 8, ram: 32G }\n", 3, 1,
          "unknown key 'hardwar' in a profile; did you mean 'hardware'?" },
        { "unknown nested key", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G, gpus: 2 }\n", 3, 33,
          "unknown key 'gpus'" },
        { "wrong type", "inherits: base\nrole: db\nhardware: [8, 32G]\n", 3, 11, "expected a mapping, got a list" },
        { "bad size unit", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32X }\n", 3, 28, "'32X' is not a size" },
        { "size without number", "inherits: base\nrole: db\nhardware: { cores: 8, ram: G }\n", 3, 28, "is not a size" },
        { "VLAN 0", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [0] }\n", 4, 20,
          "VLAN id '0' is outside 1..4094" },
        { "VLAN 4095", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [4095] }\n", 4,
          20, "VLAN id '4095' is outside 1..4094" },
        { "VLAN twice", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [20] }\n", 4, 20,
          "VLAN 20 listed twice" },
        { "unknown bond mode", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { mode: lacp } }\n",
          4, 26, "unknown bond mode 'lacp'" },
        { "unknown bond option", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { arp: 1 } }\n",
          4, 20, "unknown key 'arp' in the bond" },
        { "bad lacp rate", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { lacp-rate: quick } }\n",
          4, 31, "unknown LACP rate 'quick'" },
        { "bad speed", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { speed: fast } }\n", 4,
          27, "not a link speed" },
        { "duplicate mount point",
          "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: ssd\n"
          "    min-size: 100G\n    partitions:\n      - { name: d, size: grow, fs: xfs, mount: / }\n",
          5, 5, "holds a root partition but is not the OS disk" },
        { "layout does not fit", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n"
          "    class: ssd\n    min-size: 100G\n    partitions:\n      - { name: a, size: 200G, fs: xfs, mount: /a }\n",
          5, 5, "needs 200.0 GiB, more than its class's minimum 100 GiB" },
        { "two grows", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: ssd\n"
          "    min-size: 100G\n    partitions:\n      - { name: a, size: grow, fs: xfs, mount: /a }\n"
          "      - { name: b, size: grow, fs: xfs, mount: /b }\n",
          5, 5, "at most one may grow" },
        { "percent over 100", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: ssd\n"
          "    min-size: 100G\n    partitions:\n      - { name: a, size: 120%, fs: xfs, mount: /a }\n",
          9, 26, "percentage '120%' is outside 1%..100%" },
        { "partition size not a size", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n"
          "    class: ssd\n    min-size: 100G\n    partitions:\n      - { name: a, size: lots, fs: xfs, mount: /a }\n",
          9, 26, "'lots' is not a partition size; write a size (512M, 50G), a percentage (20%) or 'grow'" },
        { "unknown class", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: tape\n"
          "    min-size: 100G\n    partitions:\n      - { name: a, size: grow, fs: xfs, mount: /a }\n",
          6, 12, "unknown disk class 'tape'" },
        { "unknown fs", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: ssd\n"
          "    min-size: 100G\n    partitions:\n      - { name: a, size: grow, fs: zfs, mount: /a }\n",
          9, 36, "unknown filesystem 'zfs'" },
        { "relative mount", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - name: data\n    class: ssd\n"
          "    min-size: 100G\n    partitions:\n      - { name: a, size: grow, fs: xfs, mount: data }\n",
          9, 48, "must be an absolute, normalised path" },
        { "missing role", "inherits: base\nhardware: { cores: 8, ram: 32G }\n", 1, 1, "missing required key 'role'" },
        { "unknown role", "inherits: base\nrole: dbb\nhardware: { cores: 8, ram: 32G }\n", 2, 7,
          "unknown role 'dbb'; did you mean 'db'?" },
        { "missing parent", "inherits: nothere\nrole: db\n", 1, 11, "inherited profile 'nothere' not found" },
        { "bad port", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nports:\n  - { port: 70000, proto: tcp, service: x }\n",
          5, 13, "not a port or a port range" },
        { "bad proto", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nports:\n  - { port: 22, proto: sctp, service: x }\n",
          5, 24, "unknown protocol 'sctp'" },
        { "overlapping ports", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nports:\n"
          "  - { port: 10000-20000, proto: udp, service: rtp }\n  - { port: 15000, proto: udp, service: x }\n",
          6, 5, "overlaps" },
        { "apt service without key", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, repo: 'deb x y z', packages: [es] }\n",
          5, 5, "needs repo, key-url, key-fingerprint and packages (a key URL alone is not trust)" },
        { "apt service without fingerprint", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, repo: 'deb [signed-by=/usr/share/keyrings/es.gpg] https://a.example/apt stable main', "
          "key-url: https://a.example/k, packages: [es] }\n",
          5, 5, "needs repo, key-url, key-fingerprint and packages" },
        { "apt key ID instead of a fingerprint", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, key-fingerprint: EF8B479E2DC1389C }\n",
          5, 47, "'EF8B479E2DC1389C' is not an OpenPGP fingerprint" },
        { "apt fingerprint not hex", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, key-fingerprint: 'Z6A9 CD05 95D6 AFA2 4729 0D3B EF8B 479E 2DC1 389C' }\n",
          5, 47, "is not an OpenPGP fingerprint" },
        { "OCI digest not sha256", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, image: 'docker.io/library/traefik:v2.11', unit: t.service, digest: 'md5:abc' }\n",
          5, 97, "'md5:abc' is not an image digest" },
        { "OCI digest given twice", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, unit: t.service, image: 'docker.io/library/traefik@sha256:"
          "0000000000000000000000000000000000000000000000000000000000000000', digest: 'sha256:"
          "0000000000000000000000000000000000000000000000000000000000000000' }\n",
          5, 5, "the image names its digest twice" },
        { "apt repo without signed-by", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, repo: 'deb https://a.example/apt stable main', key-url: https://a.example/k, "
          "key-fingerprint: '66A9 CD05 95D6 AFA2 4729 0D3B EF8B 479E 2DC1 389C', packages: [es] }\n",
          5, 5, "repo must be a one-line source" },
        { "apt key-url not a URL", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: es, source: apt, repo: 'deb [signed-by=/usr/share/keyrings/es.gpg] https://a.example/apt stable main', "
          "key-url: /etc/es.key, key-fingerprint: '66A9 CD05 95D6 AFA2 4729 0D3B EF8B 479E 2DC1 389C', packages: [es] }\n",
          5, 5, "key-url '/etc/es.key' is not an http(s) URL" },
        { "OCI image without registry", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, image: 'traefik:v2.11', unit: traefik.service }\n",
          5, 5, "image 'traefik:v2.11' must name its registry and a tag or digest" },
        { "OCI image without tag", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, image: docker.io/library/traefik, unit: traefik.service }\n",
          5, 5, "must name its registry and a tag or digest" },
        { "OCI image without unit", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, image: 'docker.io/library/traefik:v2.11' }\n",
          5, 5, "names no unit to run it" },
        { "OCI image with packages", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: tr, source: oci, image: 'docker.io/library/traefik:v2.11', unit: t.service, packages: [x] }\n",
          5, 5, "packages, repo, key-url and key-fingerprint are for source distro or apt" },
        { "distro service with image", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: pg, source: distro, packages: [postgresql], image: 'docker.io/library/postgres:16' }\n",
          5, 5, "repo, key-url, key-fingerprint, image and digest are for source apt or oci" },
        { "unknown fetch time", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: pg, source: distro, packages: [postgresql], fetch: later }\n",
          5, 64, "unknown fetch time 'later' (one of: build, firstboot)" },
        { "memory share too large", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], memory: 95% }\n",
          5, 66, "memory share '95%' is outside 1%..90% of the host's RAM" },
        { "memory not a size", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], memory: lots }\n",
          5, 66, "'lots' is not a memory size; write a size (512M, 4G) or a share of the RAM (25%)" },
        { "unknown need, near one", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], needs: [postgress] }\n",
          5, 66, "unknown need 'postgress'; did you mean 'postgresql'?" },
        { "unknown need", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], needs: [mainframe] }\n",
          5, 66, "unknown need 'mainframe' (one of: postgresql, mysql, redis, smtp, ldap, oidc, route, backup)" },
        { "memory shares add up past 90%", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], memory: 50% }\n"
          "  - { name: e, source: distro, packages: [x], memory: 45% }\n",
          5, 5, "set aside 95% of the RAM" },
        { "service key typo", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nservices:\n"
          "  - { name: r, source: distro, packages: [redis-server], memroy: 1G }\n",
          5, 58, "unknown key 'memroy' in a service; did you mean 'memory'?" },
        { "duplicate key", "inherits: base\nrole: db\nrole: db\n", 3, 1, "duplicate key 'role'" },
        { "yaml syntax", "inherits: base\nrole: [db\n", 3, 1, "YAML syntax" },
        { "alias", "inherits: base\nrole: &r db\n", 2, 7, "anchors are not supported" },
        { "tab in indentation", "inherits: base\nhardware:\n\tcores: 8\n", 3, 1, "YAML syntax" },        { "leading zero VLAN (1.1 octal)", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [040] }\n", 4, 20, "'040' has a leading zero: YAML 1.1 reads it as octal" },
        { "yes as boolean", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - { name: os, os: yes }\n", 5, 21, "'yes' is a boolean in YAML 1.1 but a string in YAML 1.2" },
        { "on as boolean", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - { name: os, os: On }\n", 5, 21, "'On' is a boolean in YAML 1.1" },
        { "hex number", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { miimon: 0x64 } }\n", 4, 28, "'0x64' is a hexadecimal number" },
        { "octal 0o", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [0o40] }\n", 4, 20, "'0o40' is an octal or binary number" },
        { "digit separators", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { miimon: 1_000 } }\n", 4, 28, "'1_000' has '_' digit separators" },
        { "base 60", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { miimon: 1:40 } }\n", 4, 28, "is a base-60 number in YAML 1.1" },
        { "exponent without dot", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { bond: { miimon: 1e3 } }\n", 4, 28, "is a number in YAML 1.2 but a string in YAML 1.1" },
        { "quoted VLAN is a string", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [\"40\"] }\n", 4, 20, "'40' is quoted, so it is a string in YAML, not a VLAN id" },
        { "quoted boolean is a string", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - { name: os, os: 'true' }\n", 5, 21, "'true' is quoted, so it is a string in YAML, not a boolean" },
        { "newline in a disk name", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndisks:\n  - { name: \"data\\nrm -rf /\", class: nvme }\n", 5, 13, "a line break (byte 0x0a) at character 5 of a value" },
        { "escape character in a key", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\n\"net\\ework\": {}\n", 4, 1, "a control character (byte 0x1b)" },
        { "tab in a quoted value", "inherits: base\nrole: \"d\\tb\"\nhardware: { cores: 8, ram: 32G }\n", 2, 7, "a tab (byte 0x09)" },
        { "C1 control in a value", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nx: \"a\\u0085b\"\n", 4, 4, "a control character (byte 0x85)" },
        { "debconf password", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - mysql-server mysql-server/root_password password hunter2\n",
          5, 5, "'mysql-server mysql-server/root_password password …': type 'password' is refused: secrets never go into an image (images are shared and signed)" },
        { "debconf three fields", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - roundcube-core roundcube/database-type select\n",
          5, 5, "a debconf selection is four fields, OWNER QUESTION TYPE VALUE" },
        { "debconf one field", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - sqlite3\n",
          5, 5, "four fields" },
        { "debconf unknown type", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - roundcube-core roundcube/database-type selected sqlite3\n",
          5, 5, "unknown debconf type (one of: select, multiselect, string, boolean, note, text, title, error)" },
        { "debconf flag is no type", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - roundcube-core roundcube/database-type seen true\n",
          5, 5, "unknown debconf type" },
        { "debconf owner not a package", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - Roundcube roundcube/database-type select sqlite3\n",
          5, 5, "the owner (first field) must be a package name" },
        { "debconf commented out", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - \"#roundcube-core roundcube/database-type select sqlite3\"\n",
          5, 5, "the owner (first field) must be a package name" },
        { "debconf question without owner", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - roundcube-core database-type select sqlite3\n",
          5, 5, "the question (second field) is a debconf template name, OWNER/NAME" },
        { "debconf boolean yes", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - roundcube-core roundcube/dbconfig-install boolean yes\n",
          5, 5, "a boolean's value is true or false" },
        { "debconf continued line", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - postfix postfix/mailname string mail.example\\\\\n",
          5, 5, "ends in a backslash" },
        { "debconf tab", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - \"roundcube-core roundcube/database-type\\tselect sqlite3\"\n",
          5, 5, "a tab (byte 0x09)" },
        { "debconf line break", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - \"postfix postfix/mailname string a\\nb\"\n",
          5, 5, "a line break (byte 0x0a)" },
        { "debconf not a list", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf: roundcube-core\n",
          4, 10, "expected a list, got a scalar" },
        { "debconf item a mapping", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\ndebconf:\n  - { roundcube-core: x }\n",
          5, 5, "expected a scalar, got a mapping" },
};

static int setup(void **state) {
        assert_non_null(mkdtemp(tmpdir));
        write_file("base.yaml", BASE);
        return 0;
}

static int teardown(void **state) {
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", tmpdir);
        return system(cmd) == 0 ? 0 : -1;
}

static void test_good_role(void **state) {
        write_file("db.yaml", GOOD_ROLE);
        struct diags d = {};
        struct profile *p = NULL;
        int r = profile_load(tmpdir, "db", &d, &p);
        diags_print(&d, stderr);
        assert_int_equal(r, 0);
        assert_int_equal(d.n, 0);
        assert_string_equal(p->role, "db");
        assert_int_equal(p->cores, 8);
        assert_true(p->ram == 32 * GiB);
        /* Inherited OS disk first, the role's own after it. */
        assert_int_equal(p->n_disks, 2);
        assert_string_equal(p->disks[0].name, "os");
        assert_true(p->disks[0].os);
        assert_int_equal(p->disks[0].n_parts, 3);
        assert_int_equal(p->disks[0].parts[0].type, PART_ESP);
        assert_true(p->disks[0].parts[0].size == 512 * MiB);
        assert_true(p->disks[0].parts[2].grow);
        assert_int_equal(p->disks[1].classes, DISK_CLASS_NVME);
        assert_true(p->disks[1].min_size == 500 * GiB);
        /* A mount point that the spec knows gets its type from it; a data volume defaults to xfs. */
        assert_int_equal(p->disks[1].parts[0].type, PART_LINUX);
        assert_int_equal(p->disks[1].parts[0].fs, FS_XFS);
        assert_int_equal(p->bond.mode, BOND_MODE_8023AD);
        assert_int_equal(p->bond.speed_mbps, 1000);
        assert_int_equal(p->n_vlans, 2);
        assert_string_equal(p->chain[1] + strlen(tmpdir) + 1, "base.yaml");
        profile_free(p);
        diags_done(&d);
}

static void test_bad_cases(void **state) {
        bool all_ok = true;
        for (size_t i = 0; i < ELEMENTSOF(bad_cases); i++) {
                const struct bad_case *c = &bad_cases[i];
                write_file("db.yaml", c->role);
                struct diags d = {};
                struct profile *p = NULL;
                int r = profile_load(tmpdir, "db", &d, &p);
                if (r >= 0 || d.n_errors == 0) {
                        fprintf(stderr, "case '%s': expected an error, got none\n", c->name);
                        fail();
                }
                assert_null(p);
                const struct diag *x = &d.items[0];
                bool ok = endswith(x->file, "db.yaml") && x->line == c->line && x->col == c->col &&
                          strstr(x->message, c->message);
                if (!ok) {
                        fprintf(stderr, "case '%s': want db.yaml:%u:%u '%s'\n got:\n", c->name, c->line, c->col,
                                c->message);
                        diags_print(&d, stderr);
                        all_ok = false;
                }
                diags_done(&d);
        }
        assert_true(all_ok);
}

static void test_duplicate_mount_names_both(void **state) {
        write_file("db.yaml", bad_cases[12].role);
        struct diags d = {};
        struct profile *p = NULL;
        assert_true(profile_load(tmpdir, "db", &d, &p) < 0);
        bool found = false;
        for (size_t i = 0; i < d.n; i++)
                if (strstr(d.items[i].message, "mount point '/' is used twice") && d.items[i].line == 9)
                        found = true;
        if (!found)
                diags_print(&d, stderr);
        assert_true(found);
        diags_done(&d);
}

/* debconf selections: checked and normalised, one per question; a role answers again what the
 * profile it inherits answered, and the resolved profile (as the image carries it) loads to the
 * same selections. */
static void test_debconf(void **state) {
        write_file("dcbase.yaml", "inherits: base\n"
                                  "debconf:\n"
                                  "  - postfix postfix/main_mailer_type select Internet Site\n"
                                  "  - roundcube-core roundcube/database-type select mysql\n");
        write_file("db.yaml", "inherits: dcbase\n"
                              "role: db\n"
                              "hardware: { cores: 8, ram: 32G }\n"
                              "debconf:\n"
                              "  - roundcube-core   roundcube/database-type select sqlite3  \n"
                              "  - postfix postfix/mailname string mail.example.org\n"
                              "  - roundcube-core roundcube/dbconfig-install boolean true\n");
        struct diags d = {};
        struct profile *p = NULL, *q = NULL;
        int r = profile_load(tmpdir, "db", &d, &p);
        diags_print(&d, stderr);
        assert_int_equal(r, 0);
        assert_int_equal(strv_length(p->debconf), 4);
        assert_string_equal(p->debconf[0], "postfix postfix/main_mailer_type select Internet Site");
        assert_string_equal(p->debconf[1], "roundcube-core roundcube/database-type select sqlite3");
        assert_string_equal(p->debconf[2], "postfix postfix/mailname string mail.example.org");
        assert_string_equal(p->debconf[3], "roundcube-core roundcube/dbconfig-install boolean true");

        static const char *const skip[] = { "inherits", NULL };
        _cleanup_free_ char *text = NULL;
        assert_int_equal(yaml_dump(p->tree, skip, &text), 0);
        assert_int_equal(profile_load_buffer("profile.yaml", text, strlen(text), &d, &q), 0);
        assert_int_equal(strv_length(q->debconf), 4);
        for (size_t i = 0; i < 4; i++)
                assert_string_equal(q->debconf[i], p->debconf[i]);
        profile_free(q);
        profile_free(p);

        /* a password is refused, and its diagnostic does not repeat it */
        write_file("db.yaml", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\n"
                              "debconf: [\"mysql-server   mysql-server/root_password  password  hunter2 x\"]\n");
        assert_true(profile_load(tmpdir, "db", &d, &p) < 0);
        assert_int_equal(d.n_errors, 1);
        assert_non_null(strstr(d.items[0].message, "'mysql-server   mysql-server/root_password password …'"));
        assert_null(strstr(d.items[0].message, "hunter2"));
        diags_done(&d);
        d = (struct diags) {};

        /* none given: none kept */
        write_file("db.yaml", GOOD_ROLE);
        assert_int_equal(profile_load(tmpdir, "db", &d, &p), 0);
        assert_null(p->debconf);
        profile_free(p);
        assert_int_equal(d.n, 0);
        diags_done(&d);
}

/* The line parser on its own, as anything but the loader would call it (the loader refuses control
 * characters in every value before this sees them). */
static void test_debconf_line(void **state) {
        static const struct {
                const char *in, *out;
        } good[] = {
                { "roundcube-core roundcube/database-type select sqlite3", "roundcube-core roundcube/database-type select sqlite3" },
                { "  a+b.c-d  a/b   multiselect  x, y z  ", "a+b.c-d a/b multiselect x, y z" },
                { "d-i debian-installer/locale string en_US.UTF-8", "d-i debian-installer/locale string en_US.UTF-8" },
                { "pk pk/q boolean false", "pk pk/q boolean false" },
                { "pk pk/q note a \\ in the middle", "pk pk/q note a \\ in the middle" },
        };
        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *out = NULL;
                const char *why = NULL;
                assert_int_equal(debconf_line_parse(good[i].in, &out, &why), 0);
                assert_string_equal(out, good[i].out);
        }
        static const struct {
                const char *in;
                int r;
                const char *why;
        } bad[] = {
                { "pk pk/q password secret", -EPERM, "secrets never go into an image" },
                { "pk pk/q string a\tb", -EINVAL, "a control character" },
                { "pk pk/q string a\nb", -EINVAL, "a control character" },
                { "pk pk/q string a\x7f", -EINVAL, "a control character" },
                { "", -EINVAL, "four fields" },
                { "pk pk/q string   ", -EINVAL, "four fields" },
                { "pk /q string a", -EINVAL, "OWNER/NAME" },
                { "pk q/ string a", -EINVAL, "OWNER/NAME" },
                { "pk pk/q boolean truee", -EINVAL, "true or false" },
                { "pk pk/q string a\\  ", -EINVAL, "backslash" },
                { "pk pk/q Select a", -EINVAL, "unknown debconf type" },
                { "p_q pk/q string a", -EINVAL, "package name" },
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *out = (char *) 1;
                const char *why = NULL;
                assert_int_equal(debconf_line_parse(bad[i].in, &out, &why), bad[i].r);
                assert_ptr_equal(out, (char *) 1);
                assert_non_null(why);
                if (!strstr(why, bad[i].why))
                        fail_msg("'%s': '%s' does not say '%s'", bad[i].in, why, bad[i].why);
        }
        /* every type debconf knows but password is accepted */
        for (const char *const *t = debconf_types; *t; t++) {
                _cleanup_free_ char *line = strprintf("pk pk/q %s %s", *t, streq(*t, "boolean") ? "true" : "x"), *out = NULL;
                const char *why = NULL;
                assert_int_equal(debconf_line_parse(line, &out, &why), 0);
        }
}

static void test_all_errors_reported(void **state) {
        write_file("db.yaml", "inherits: base\nrole: db\nhardware: { cores: 0, ram: 1X }\nnetwork: { vlans: [0, 5000] }\n");
        struct diags d = {};
        struct profile *p = NULL;
        assert_true(profile_load(tmpdir, "db", &d, &p) < 0);
        assert_int_equal(d.n_errors, 4);
        diags_done(&d);
}

static void test_inheritance_cycle(void **state) {
        write_file("a.yaml", "inherits: b\nrole: db\n");
        write_file("b.yaml", "inherits: a\n");
        struct diags d = {};
        struct profile *p = NULL;
        assert_int_equal(profile_load(tmpdir, "a", &d, &p), -ELOOP);
        assert_true(d.n_errors >= 1);
        assert_non_null(strstr(d.items[0].message, "inheritance cycle"));
        assert_true(endswith(d.items[0].file, "b.yaml"));
        assert_int_equal(d.items[0].line, 1);
        assert_int_equal(d.items[0].col, 11);
        diags_done(&d);
}

static void test_unknown_role_file(void **state) {
        struct diags d = {};
        struct profile *p = NULL;
        assert_int_equal(profile_load(tmpdir, "infr", &d, &p), -ENOENT);
        assert_non_null(strstr(d.items[0].message, "did you mean 'infra'?"));
        diags_done(&d);
}

/* ---- site ---- */

static const char *const GOOD_SITE =
        "domain: domain.com\n"
        "default-vlan: 20\n"
        "dns: [10.0.50.11]\n"
        "vlans:\n"
        "  - { id: 10, name: management, subnet: 10.0.10.0/24, gateway: 10.0.10.1 }\n"
        "  - { id: 20, name: infrastructure, subnet: 10.0.50.0/24, gateway: 10.0.50.1 }\n"
        "hosts:\n"
        "  - { name: lab-db1, role: db, addresses: { 10: 10.0.10.12, 20: 10.0.50.12 } }\n"
        "routes:\n"
        "  - { name: db, backend: lab-db1, port: 5432 }\n";

static const struct bad_case bad_sites[] = {
        { "bad CIDR", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/33 }\nhosts: []\n", 4,
          32, "not a subnet in CIDR form" },
        { "host bits", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.1/24 }\nhosts: []\n", 4,
          32, "has host bits set" },
        { "gateway outside", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24, gateway: 10.0.51.1 }\nhosts: []\n",
          4, 55, "gateway 10.0.51.1 is outside VLAN 20's subnet" },
        { "bad address", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts:\n  - { name: h, role: db, addresses: { 20: 256.1.1.1 } }\n", 6, 43, "not an IPv4 address" },
        { "address outside", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts:\n  - { name: h, role: db, addresses: { 20: 10.0.40.1 } }\n", 6, 43, "is outside VLAN 20's subnet" },
        { "vlan 4095", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 4095, name: x, subnet: 10.0.50.0/24 }\nhosts: []\n", 4,
          11, "VLAN id '4095' is outside 1..4094" },
        { "host underscore", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts:\n  - { name: lab_db1, role: db, addresses: { 20: 10.0.50.2 } }\n", 6, 13, "may not contain '_'" },
        { "unknown role", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts:\n  - { name: h, role: dbs, addresses: { 20: 10.0.50.2 } }\n", 6, 5, "did you mean 'db'?" },
        { "route to nowhere", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts: []\nroutes:\n  - { name: a, backend: nohost, port: 80 }\n", 7, 5, "unknown host 'nohost'" },
        { "unknown key", "domain: d.com\ndefault-vlan: 20\nvlan: []\nhosts: []\n", 3, 1, "did you mean 'vlans'?" },
        { "duplicate address", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\n"
          "hosts:\n  - { name: a, role: db, addresses: { 20: 10.0.50.2 } }\n  - { name: b, role: id, addresses: { 20: 10.0.50.2 } }\n",
          7, 43, "is also host 'a''s" },        { "newline in a VLAN name", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: \"db\\nhost all all 0.0.0.0/0 trust\", subnet: 10.0.50.0/24 }\nhosts: []\n", 4, 21, "a line break (byte 0x0a) at character 3 of a value" },
        { "leading-zero port (1.1 octal)", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\nhosts:\n  - { name: h, role: db, addresses: { 20: 10.0.50.2 } }\nroutes:\n  - { name: a, backend: h, port: 012470 }\n", 8, 34, "'012470' has a leading zero" },
        { "quoted port is a string", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: 20, name: x, subnet: 10.0.50.0/24 }\nhosts:\n  - { name: h, role: db, addresses: { 20: 10.0.50.2 } }\nroutes:\n  - { name: a, backend: h, port: \"80\" }\n", 8, 34, "'80' is quoted, so it is a string in YAML, not a port" },
        { "quoted VLAN id", "domain: d.com\ndefault-vlan: 20\nvlans:\n  - { id: \"20\", name: x, subnet: 10.0.50.0/24 }\nhosts: []\n", 4, 11, "'20' is quoted, so it is a string in YAML, not a VLAN id" },
};

static void test_good_site(void **state) {
        struct diags d = {};
        struct site *s = NULL;
        assert_int_equal(site_load_buffer("site.yaml", GOOD_SITE, strlen(GOOD_SITE), &d, &s), 0);
        assert_int_equal(d.n, 0);
        const struct host_spec *h = site_find_host_by_role(s, "db");
        assert_non_null(h);
        uint32_t a;
        assert_int_equal(parse_ipv4("10.0.50.12", &a), 0);
        assert_int_equal(host_address_on(h, 20), a);
        assert_int_equal(host_address_on(h, 40), 0);
        assert_int_equal(s->n_routes, 1);
        site_free(s);
}

static void test_bad_sites(void **state) {
        bool all_ok = true;
        for (size_t i = 0; i < ELEMENTSOF(bad_sites); i++) {
                const struct bad_case *c = &bad_sites[i];
                struct diags d = {};
                struct site *s = NULL;
                assert_true(site_load_buffer("site.yaml", c->role, strlen(c->role), &d, &s) < 0);
                assert_null(s);
                bool ok = d.n > 0 && d.items[0].line == c->line && d.items[0].col == c->col &&
                          strstr(d.items[0].message, c->message);
                if (!ok) {
                        fprintf(stderr, "site case '%s': want %u:%u '%s'\n got:\n", c->name, c->line, c->col, c->message);
                        diags_print(&d, stderr);
                        all_ok = false;
                }
                diags_done(&d);
        }
        assert_true(all_ok);
}

static void test_profile_site_cross(void **state) {
        /* The role sits on VLAN 40, which the site lacks. */
        write_file("db.yaml", "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\nnetwork: { vlans: [40] }\n");
        struct diags d = {};
        struct profile *p = NULL;
        struct site *s = NULL;
        assert_int_equal(profile_load(tmpdir, "db", &d, &p), 0);
        assert_int_equal(site_load_buffer("site.yaml", GOOD_SITE, strlen(GOOD_SITE), &d, &s), 0);
        profile_check_site(p, s, &d);
        assert_int_equal(d.n_errors, 1);
        assert_non_null(strstr(d.items[0].message, "VLAN 40, which the site does not define"));
        assert_int_equal(d.items[0].line, 4);
        assert_int_equal(d.items[0].col, 20);
        diags_done(&d);
        profile_free(p);
        site_free(s);
}

/* The shipped files: every role loads, agrees with the site, and carries the seed's facts. */
static void test_shipped(void **state) {
        struct diags d = {};
        struct site *s = NULL;
        assert_int_equal(site_load_file("profiles/site.yaml", &d, &s), 0);
        assert_int_equal(s->n_hosts, 9);
        assert_int_equal(s->n_routes, 15);
        site_check_roles(s, "profiles", &d);
        static const struct {
                const char *role;
                unsigned cores;
                uint64_t ram;
                size_t disks;
                uint32_t speed;
        } want[] = {
                { "id", 6, 16 * GiB, 2, 1000 },   { "db", 8, 32 * GiB, 3, 10000 },  { "app", 8, 24 * GiB, 3, 1000 },
                { "comm", 6, 16 * GiB, 3, 1000 }, { "voip", 6, 12 * GiB, 2, 1000 }, { "biz", 8, 24 * GiB, 3, 1000 },
                { "erp", 10, 32 * GiB, 3, 1000 }, { "it", 6, 16 * GiB, 2, 1000 },   { "infra", 4, 12 * GiB, 3, 10000 },
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                struct profile *p = NULL;
                assert_int_equal(profile_load("profiles", want[i].role, &d, &p), 0);
                profile_check_site(p, s, &d);
                assert_int_equal(p->cores, want[i].cores);
                assert_true(p->ram == want[i].ram);
                assert_int_equal(p->n_disks, want[i].disks);
                assert_int_equal(p->bond.speed_mbps, want[i].speed);
                assert_int_equal(p->bond.members, 2);
                assert_non_null(profile_os_disk(p));
                assert_true(profile_os_disk(p)->min_size == 50 * GiB);
                /* Roundcube's database is SQLite from the image's build (dbconfig-common's question);
                 * no other role answers debconf */
                if (streq(want[i].role, "comm"))
                        assert_true(strv_contains(p->debconf, "roundcube-core roundcube/database-type select sqlite3"));
                else
                        assert_null(p->debconf);
                profile_free(p);
        }
        diags_print(&d, stderr);
        assert_int_equal(d.n, 0);
        site_free(s);
}

/* The image carries the resolved profile as yaml_dump() writes it: it must load to the same model. */
/* True/TRUE/False are booleans in YAML 1.1 and 1.2 alike: accepted. A quoted number that is a
 * string (a name) stays a string. */
static void test_yaml_core_booleans(void **state) {
        static const char *const spellings[] = { "true", "True", "TRUE" };
        for (size_t i = 0; i < ELEMENTSOF(spellings); i++) {
                _cleanup_free_ char *role = strprintf(
                        "inherits: base\nrole: db\nhardware: { cores: 8, ram: 32G }\n"
                        "disks:\n  - { name: os, os: %s }\n", spellings[i]);
                write_file("db.yaml", role);
                struct diags d = {};
                struct profile *p = NULL;
                int r = profile_load(tmpdir, "db", &d, &p);
                if (r < 0)
                        diags_print(&d, stderr);
                assert_int_equal(r, 0);
                profile_free(p);
                diags_done(&d);
        }
}

static void test_dump_roundtrip(void **state) {
        for (size_t i = 0; i < n_role_names; i++) {
                struct diags d = {};
                struct profile *p = NULL, *q = NULL;
                assert_int_equal(profile_load("profiles", role_names[i], &d, &p), 0);
                static const char *const skip[] = { "inherits", NULL };
                char *text = NULL;
                assert_int_equal(yaml_dump(p->tree, skip, &text), 0);
                assert_null(strstr(text, "inherits"));
                int r = profile_load_buffer("profile.yaml", text, strlen(text), &d, &q);
                if (r < 0) {
                        diags_print(&d, stderr);
                        fprintf(stderr, "%s\n", text);
                }
                assert_int_equal(r, 0);
                assert_string_equal(q->role, p->role);
                assert_int_equal(q->cores, p->cores);
                assert_true(q->ram == p->ram);
                assert_int_equal(q->n_disks, p->n_disks);
                for (size_t k = 0; k < p->n_disks; k++) {
                        assert_int_equal(q->disks[k].n_parts, p->disks[k].n_parts);
                        assert_int_equal(q->disks[k].classes, p->disks[k].classes);
                        assert_true(q->disks[k].min_size == p->disks[k].min_size);
                        for (size_t j = 0; j < p->disks[k].n_parts; j++)
                                assert_string_equal(strempty(q->disks[k].parts[j].mount), strempty(p->disks[k].parts[j].mount));
                }
                assert_int_equal(q->n_services, p->n_services);
                assert_int_equal(q->n_ports, p->n_ports);
                assert_int_equal(q->n_vlans, p->n_vlans);
                assert_int_equal(q->bond.mode, p->bond.mode);
                for (size_t k = 0; k < p->n_services; k++)
                        if (p->services[k].repo)
                                assert_string_equal(q->services[k].repo, p->services[k].repo);
                free(text);
                profile_free(p);
                profile_free(q);
                diags_done(&d);
        }
}

static void test_sizes(void **state) {
        uint64_t v;
        assert_int_equal(parse_size("50G", &v), 0);
        assert_true(v == 50 * GiB);
        assert_int_equal(parse_size("1.5T", &v), 0);
        assert_true(v == TiB + TiB / 2);
        assert_int_equal(parse_size("512M", &v), 0);
        assert_true(v == 512 * MiB);
        assert_int_equal(parse_size("4096", &v), 0);
        assert_true(v == 4096);
        assert_int_equal(parse_size("10GiB", &v), 0);
        assert_true(v == 10 * GiB);
        assert_int_equal(parse_size("10g", &v), -EINVAL);
        assert_int_equal(parse_size("-1G", &v), -EINVAL);
        assert_int_equal(parse_size("1.5", &v), -EINVAL);
        assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
        assert_int_equal(parse_size("20000000T", &v), -ERANGE);
        _cleanup_free_ char *s = format_size(1536 * MiB);
        assert_string_equal(s, "1536M");
        unsigned prefix;
        assert_int_equal(parse_netmask("255.255.252.0", &prefix), 0);
        assert_int_equal(prefix, 22);
        assert_int_equal(parse_netmask("255.0.255.0", &prefix), -EINVAL);
        assert_non_null(hostname_invalid_reason("a_b"));
        assert_null(hostname_invalid_reason("lab-db1.domain.com"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sizes),
                cmocka_unit_test(test_good_role),
                cmocka_unit_test(test_bad_cases),
                cmocka_unit_test(test_duplicate_mount_names_both),
                cmocka_unit_test(test_debconf),
                cmocka_unit_test(test_debconf_line),
                cmocka_unit_test(test_all_errors_reported),
                cmocka_unit_test(test_inheritance_cycle),
                cmocka_unit_test(test_unknown_role_file),
                cmocka_unit_test(test_good_site),
                cmocka_unit_test(test_bad_sites),
                cmocka_unit_test(test_profile_site_cross),
                cmocka_unit_test(test_shipped),
                cmocka_unit_test(test_dump_roundtrip),
                cmocka_unit_test(test_yaml_core_booleans),
        };
        return cmocka_run_group_tests_name("profile", tests, setup, teardown);
}
