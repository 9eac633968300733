/* SPDX-License-Identifier: MIT */
/* Unit tests for the builder's pure parts and file handling: cache keys, mirror resolution,
 * image size, formats, dpkg-query parsing, manifest JSON, SHA256SUMS (checked with sha256sum -c),
 * spawn, hygiene and the libarchive pack/unpack round trip. */
#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cmocka.h>
#include "skip.h"

#include "build.h"
#include "cleanup.h"
#include "fileio.h"
#include "hygiene.h"
#include "keyring.h"
#include "layer.h"
#include "mirror.h"
#include "outputs.h"
#include "progress.h"
#include "rootfs.h"
#include "spawn-run.h"
#include "unpack.h"
#include "util.h"

#define S(x) ((char *) (x))

/* A string vector from space-separated words (string literals are const under -Wwrite-strings). */
static char **V(const char *words) {
        char **l = NULL;
        assert_int_equal(strv_split(words, " ", &l), 0);
        return l;
}

static char *make_tmpdir(void) {
        char *d = strdup("/var/tmp/test-build-XXXXXX");
        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

static void rm_rf(const char *d) {
        const char *argv[] = { "rm", "-rf", "--", d, NULL };
        assert_int_equal(spawn_run(argv, NULL, NULL, NULL), 0);
}

static void write_text(const char *dir, const char *rel, const char *text) {
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        _cleanup_free_ char *parent = strdup(rel);
        char *slash = strrchr(parent, '/');
        if (slash) {
                *slash = 0;
                assert_int_equal(mkdir_parents_at(dfd, parent, 0755), 0);
        }
        assert_int_equal(write_file_atomic(dfd, rel, text, strlen(text), 0644), 0);
}

/* ---- cache key ------------------------------------------------------------------------------ */

static void test_cache_key(void **state) {
        const struct base_info *deb = base_find("debian-12"), *ubu = base_find("ubuntu-24.04");
        assert_non_null(deb);
        assert_non_null(ubu);
        assert_null(base_find("debian-11"));
        _cleanup_strv_free_ char **a = V("systemd linux-image-amd64 udev");
        _cleanup_strv_free_ char **b = V("udev systemd linux-image-amd64 udev"); /* order and duplicates */
        _cleanup_strv_free_ char **c = V("udev systemd linux-image-amd64 chrony");
        _cleanup_free_ char *ka = cache_key("rootfs", NULL, deb, "http://m/debian", a, "x");
        _cleanup_free_ char *kb = cache_key("rootfs", NULL, deb, "http://m/debian", b, "x");
        _cleanup_free_ char *kc = cache_key("rootfs", NULL, deb, "http://m/debian", c, "x");
        _cleanup_free_ char *km = cache_key("rootfs", NULL, deb, "http://other/debian", a, "x");
        _cleanup_free_ char *ku = cache_key("rootfs", NULL, ubu, "http://m/debian", a, "x");
        _cleanup_free_ char *ko = cache_key("rootfs", NULL, deb, "http://m/debian", a, "y");
        _cleanup_free_ char *kp = cache_key("layer", ka, deb, "http://m/debian", a, "x");
        _cleanup_free_ char *kp2 = cache_key("layer", kc, deb, "http://m/debian", a, "x");
        assert_non_null(ka);
        assert_int_equal(strlen(ka), 64);
        assert_int_equal(strspn(ka, "0123456789abcdef"), 64);
        assert_string_equal(ka, kb);
        assert_string_not_equal(ka, kc);
        assert_string_not_equal(ka, km);
        assert_string_not_equal(ka, ku);
        assert_string_not_equal(ka, ko);
        assert_string_not_equal(ka, kp);
        assert_string_not_equal(kp, kp2);
        /* Deterministic across calls: the nine roles must find the same base. */
        _cleanup_free_ char *ka2 = cache_key("rootfs", NULL, deb, "http://m/debian", a, "x");
        assert_string_equal(ka, ka2);

        /* An entry's key: its family at an archive state, on a parent */
        _cleanup_free_ char *s1 = cache_key_at(ka, NULL, "1111"), *s1b = cache_key_at(ka, NULL, "1111");
        _cleanup_free_ char *s2 = cache_key_at(ka, NULL, "2222"), *su = cache_key_at(ka, NULL, NULL);
        _cleanup_free_ char *su2 = cache_key_at(ka, NULL, "unknown"), *sp = cache_key_at(ka, kc, "1111");
        assert_non_null(s1);
        assert_int_equal(strspn(s1, "0123456789abcdef"), 64);
        assert_string_equal(s1, s1b);
        assert_string_not_equal(s1, s2);  /* a security update makes a new base */
        assert_string_not_equal(s1, su);
        assert_string_equal(su, su2);
        assert_string_not_equal(s1, sp);
        assert_string_not_equal(s1, ka);
}

/* The layer's options in its key: a profile's debconf selections change it; a profile without them
 * keeps the text (and so the key) it had before selections existed, so the other roles' cached
 * layers stay warm. */
static void test_layer_options_debconf(void **state) {
        _cleanup_strv_free_ char **none = calloc(1, sizeof(char *));
        _cleanup_strv_free_ char **sq = NULL, **my = NULL, **sq2 = NULL;
        assert_non_null(none);
        assert_int_equal(strv_extend(&sq, "roundcube-core roundcube/database-type select sqlite3"), 0);
        assert_int_equal(strv_extend(&my, "roundcube-core roundcube/database-type select mysql"), 0);
        assert_int_equal(strv_extend(&sq2, "roundcube-core roundcube/database-type select sqlite3"), 0);
        assert_int_equal(strv_extend(&sq2, "postfix postfix/mailname string mail.example.org"), 0);
        _cleanup_free_ char *o0 = layer_options_text("", NULL), *o0n = layer_options_text(NULL, none);
        _cleanup_free_ char *ov = layer_options_text("zammad|deb …|FP|SHA;", NULL);
        _cleanup_free_ char *os = layer_options_text("", sq), *om = layer_options_text("", my);
        _cleanup_free_ char *os2 = layer_options_text("", sq2), *ovs = layer_options_text("zammad|deb …|FP|SHA;", sq);
        _cleanup_free_ char *os_again = layer_options_text(NULL, sq);
        /* what the key held before: the literal text, unchanged */
        assert_string_equal(o0, "apt-get-chroot;no-recommends");
        assert_string_equal(o0n, "apt-get-chroot;no-recommends");
        assert_string_equal(ov, "apt-get-chroot;no-recommends;vendor=zammad|deb …|FP|SHA;");
        assert_true(startswith(os, "apt-get-chroot;no-recommends;debconf="));
        assert_int_equal(strlen(os), strlen("apt-get-chroot;no-recommends;debconf=") + 64);
        assert_true(startswith(ovs, ov));
        assert_string_equal(os, os_again);
        assert_string_not_equal(os, om);
        assert_string_not_equal(os, os2);
        /* and through to the layer's family */
        const struct base_info *deb = base_find("debian-12");
        _cleanup_strv_free_ char **pk = V("roundcube roundcube-sqlite3 php-fpm");
        _cleanup_free_ char *k0 = cache_key("layer", NULL, deb, "http://m/debian", pk, o0);
        _cleanup_free_ char *ks = cache_key("layer", NULL, deb, "http://m/debian", pk, os);
        _cleanup_free_ char *km = cache_key("layer", NULL, deb, "http://m/debian", pk, om);
        assert_non_null(k0);
        assert_string_not_equal(k0, ks);
        assert_string_not_equal(ks, km);
}

static void test_base_packages(void **state) {
        _cleanup_strv_free_ char **d = NULL, **u = NULL;
        assert_int_equal(rootfs_packages(base_find("debian-12"), &d), 0);
        assert_int_equal(rootfs_packages(base_find("ubuntu-24.04"), &u), 0);
        assert_true(strv_contains(d, "linux-image-amd64"));
        assert_true(strv_contains(u, "linux-image-generic"));
        assert_true(strv_contains(d, "libssl3"));
        assert_true(strv_contains(u, "libssl3t64"));
        const char *must[] = { "systemd", "systemd-sysv", "udev", "netplan.io", "openssh-server", "chrony",
                               "grub-efi-amd64-bin", "grub-pc-bin", "grub2-common", "initramfs-tools", "kmod",
                               "iproute2", "ca-certificates", "libblkid1", "libnl-3-200", "libnl-route-3-200",
                               "libyaml-0-2", "xfsprogs", "e2fsprogs", "dosfstools", "parted", "util-linux" };
        for (size_t i = 0; i < ELEMENTSOF(must); i++)
                assert_true(strv_contains(d, must[i]) && strv_contains(u, must[i]));
        /* The disk-installing GRUB packages must never be pulled in. */
        assert_false(strv_contains(d, "grub-pc") || strv_contains(d, "grub-efi-amd64"));
        for (size_t i = 1; d[i]; i++)
                assert_true(strcmp(d[i - 1], d[i]) < 0);
}

static void test_layer_packages(void **state) {
        _cleanup_strv_free_ char **svc_pk = V("postgresql redis-server");
        _cleanup_strv_free_ char **oci_pk = V("should-not-appear");
        _cleanup_strv_free_ char **role_pk = V("redis-server pgbouncer");
        char pg[] = "pg", role[] = "db";
        struct service_spec svcs[] = {
                { .name = pg, .source = SERVICE_SOURCE_DISTRO, .fetch = SERVICE_FETCH_BUILD, .packages = svc_pk },
                { .name = pg, .source = SERVICE_SOURCE_OCI, .fetch = SERVICE_FETCH_BUILD, .packages = oci_pk },
                { .name = pg, .source = SERVICE_SOURCE_DISTRO, .fetch = SERVICE_FETCH_FIRSTBOOT, .packages = oci_pk },
        };
        struct profile p = { .role = role, .packages = role_pk, .services = svcs, .n_services = 3 };
        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(layer_packages(&p, "debian-12", &l), 0);
        assert_int_equal(strv_length(l), 3);
        assert_string_equal(l[0], "pgbouncer");
        assert_string_equal(l[1], "postgresql");
        assert_string_equal(l[2], "redis-server");
}

/* The role layer's apt run is skipped only when each asked-for package is installed in the base
 * and was asked for there (not pulled in as a dependency). */
static void test_tree_has_packages(void **state) {
        _cleanup_free_ char *d = make_tmpdir();
        _cleanup_close_ int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        _cleanup_strv_free_ char **one = V("udev");
        assert_int_equal(tree_has_packages(dfd, one), 0); /* no dpkg status: not a base */
        write_text(d, "var/lib/dpkg/status",
                   "Package: udev\nStatus: install ok installed\nArchitecture: amd64\n\n"
                   "Package: openssh-server\nStatus: install ok installed\n\n"
                   "Package: libssl3\nStatus: install ok installed\nDepends: libc6\n\n"
                   "Package: nano\nStatus: deinstall ok config-files\n\n"
                   "Package: chrony\nStatus: install ok unpacked\n"); /* no blank line at the end */
        assert_int_equal(tree_has_packages(dfd, one), 1);
        _cleanup_strv_free_ char **two = V("openssh-server udev");
        assert_int_equal(tree_has_packages(dfd, two), 1);
        _cleanup_strv_free_ char **removed = V("udev nano");
        assert_int_equal(tree_has_packages(dfd, removed), 0);
        _cleanup_strv_free_ char **half = V("chrony");
        assert_int_equal(tree_has_packages(dfd, half), 0);
        _cleanup_strv_free_ char **missing = V("udev postgresql");
        assert_int_equal(tree_has_packages(dfd, missing), 0);
        _cleanup_strv_free_ char **versioned = V("udev=252");
        assert_int_equal(tree_has_packages(dfd, versioned), 0);
        /* A field value containing the name is not a paragraph of it. */
        _cleanup_strv_free_ char **libc = V("libc6");
        assert_int_equal(tree_has_packages(dfd, libc), 0);
        /* Installed as a dependency: apt-get install would mark it manual, a change. */
        write_text(d, "var/lib/apt/extended_states",
                   "Package: libssl3\nArchitecture: amd64\nAuto-Installed: 1\n\n"
                   "Package: udev\nArchitecture: amd64\nAuto-Installed: 0\n");
        _cleanup_strv_free_ char **dep = V("udev libssl3");
        assert_int_equal(tree_has_packages(dfd, dep), 0);
        assert_int_equal(tree_has_packages(dfd, two), 1);
        rm_rf(d);
}

/* ---- mirror --------------------------------------------------------------------------------- */

static const char debian_sources[] =
        "Types: deb\n"
        "# http://snapshot.debian.org/archive/debian/20250520T000000Z\n"
        "URIs: http://deb.debian.org/debian\n"
        "Suites: bookworm bookworm-updates\n"
        "Components: main\n"
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
        "\n"
        "Types: deb\n"
        "URIs: http://deb.debian.org/debian-security\n"
        "Suites: bookworm-security\n"
        "Components: main\n";

static void test_sources_deb822(void **state) {
        _cleanup_free_ char *m = NULL, *s = NULL;
        assert_int_equal(sources_find_mirror(debian_sources, true, "bookworm", &m), 0);
        assert_string_equal(m, "http://deb.debian.org/debian");
        assert_int_equal(sources_find_mirror(debian_sources, true, "bookworm-security", &s), 0);
        assert_string_equal(s, "http://deb.debian.org/debian-security");
        char *x = NULL;
        assert_int_equal(sources_find_mirror(debian_sources, true, "noble", &x), -ENOENT);
        assert_null(x);

        /* deb-src only, disabled stanzas and continuation lines */
        static const char tricky[] = "Types: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\n"
                                     "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\n\n"
                                     "Types: deb\nURIs:\n http://mirror.example/debian\n http://second.example/debian\n"
                                     "Suites: bookworm\nComponents: main\n";
        _cleanup_free_ char *t = NULL;
        assert_int_equal(sources_find_mirror(tricky, true, "bookworm", &t), 0);
        assert_string_equal(t, "http://mirror.example/debian");
}

static void test_sources_one_line(void **state) {
        static const char list[] = "# comment\n"
                                   "deb-src http://src.example/ubuntu noble main\n"
                                   "deb [arch=amd64 signed-by=/usr/share/keyrings/x.gpg] http://mirror.example/ubuntu noble-security main\n"
                                   "deb [ arch=amd64 ] http://mirror.example/ubuntu noble main universe # trailing\n";
        _cleanup_free_ char *m = NULL;
        assert_int_equal(sources_find_mirror(list, false, "noble", &m), 0);
        assert_string_equal(m, "http://mirror.example/ubuntu");
        char *x = NULL;
        assert_int_equal(sources_find_mirror(list, false, "bookworm", &x), -ENOENT);
}

static void test_os_release(void **state) {
        const struct base_info *deb = base_find("debian-12"), *ubu = base_find("ubuntu-24.04");
        static const char debian[] = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n"
                                     "VERSION_CODENAME=bookworm\nID=debian\n";
        static const char ubuntu[] = "NAME=\"Ubuntu\"\nVERSION_ID=\"24.04\"\nID=ubuntu\nID_LIKE=debian\n"
                                     "VERSION_CODENAME=noble\n";
        static const char ubuntu22[] = "ID=ubuntu\nVERSION_ID=\"22.04\"\nVERSION_CODENAME=jammy\n";
        static const char nocodename[] = "ID='debian'\nVERSION_ID='12'\n";
        assert_true(os_release_matches(debian, deb));
        assert_false(os_release_matches(debian, ubu));
        assert_true(os_release_matches(ubuntu, ubu));
        assert_false(os_release_matches(ubuntu, deb)); /* ID_LIKE=debian is not Debian */
        assert_false(os_release_matches(ubuntu22, ubu));
        assert_true(os_release_matches(nocodename, deb));
        assert_false(os_release_matches("", deb));
}

static void test_mirror_resolve(void **state) {
        _cleanup_free_ char *root = make_tmpdir();
        const struct base_info *deb = base_find("debian-12"), *ubu = base_find("ubuntu-24.04");
        write_text(root, "etc/os-release", "ID=debian\nVERSION_ID=\"12\"\nVERSION_CODENAME=bookworm\n");
        write_text(root, "etc/apt/sources.list.d/debian.sources", debian_sources);
        const char *origin;
        char *m;

        assert_int_equal(mirror_resolve("http://opt.example/debian/", "http://env.example/debian", deb, root, &m, &origin), 0);
        assert_string_equal(m, "http://opt.example/debian"); /* trailing slash dropped */
        assert_string_equal(origin, "--mirror");
        free(m);
        assert_int_equal(mirror_resolve(NULL, "http://env.example/debian", deb, root, &m, &origin), 0);
        assert_string_equal(m, "http://env.example/debian");
        assert_string_equal(origin, "$RACKSTACK_MIRROR");
        free(m);
        assert_int_equal(mirror_resolve(NULL, "", deb, root, &m, &origin), 0);
        assert_string_equal(m, "http://deb.debian.org/debian");
        assert_string_equal(origin, "host apt source");
        free(m);
        /* A Debian host does not lend its mirror to an Ubuntu base. */
        assert_int_equal(mirror_resolve(NULL, NULL, ubu, root, &m, &origin), 0);
        assert_string_equal(m, "http://archive.ubuntu.com/ubuntu");
        assert_string_equal(origin, "official archive");
        free(m);

        /* The security suite: the host's source for it when the mirror is the host's; next to a
         * .../debian mirror; Ubuntu's archive carries it; an override wins. */
        assert_int_equal(security_mirror_resolve(NULL, deb, "http://deb.debian.org/debian", "host apt source", root,
                                                 &m, &origin), 0);
        assert_string_equal(m, "http://deb.debian.org/debian-security");
        assert_string_equal(origin, "host apt source");
        free(m);
        assert_int_equal(security_mirror_resolve(NULL, deb, "http://local:3142/debian", "--mirror", root, &m, &origin), 0);
        assert_string_equal(m, "http://local:3142/debian-security");
        assert_string_equal(origin, "next to the mirror");
        free(m);
        assert_int_equal(security_mirror_resolve(NULL, deb, "http://local/mirror", "--mirror", root, &m, &origin), 0);
        assert_string_equal(m, "http://deb.debian.org/debian-security");
        assert_string_equal(origin, "official archive");
        free(m);
        assert_int_equal(security_mirror_resolve(NULL, ubu, "http://archive.ubuntu.com/ubuntu", "official archive", root,
                                                 &m, &origin), 0);
        assert_string_equal(m, "http://archive.ubuntu.com/ubuntu");
        free(m);
        assert_int_equal(security_mirror_resolve("http://sec.example/ds/", deb, "http://deb.debian.org/debian",
                                                 "host apt source", root, &m, &origin), 0);
        assert_string_equal(m, "http://sec.example/ds");
        assert_string_equal(origin, "$RACKSTACK_SECURITY_MIRROR");
        free(m);

        /* A local mirror in sources.list wins over the official archive too. */
        write_text(root, "etc/apt/sources.list.d/debian.sources", "Types: deb-src\nURIs: http://x/\nSuites: bookworm\n");
        write_text(root, "etc/apt/sources.list", "deb http://local.example:3142/debian bookworm main\n");
        assert_int_equal(mirror_resolve(NULL, NULL, deb, root, &m, &origin), 0);
        assert_string_equal(m, "http://local.example:3142/debian");
        assert_string_equal(origin, "host apt source");
        free(m);
        rm_rf(root);
}

static void test_url_split(void **state) {
        char *s, *h, *p, *path;
        assert_int_equal(url_split("http://deb.debian.org/debian", &s, &h, &p, &path), 0);
        assert_string_equal(s, "http");
        assert_string_equal(h, "deb.debian.org");
        assert_string_equal(p, "80");
        assert_string_equal(path, "/debian");
        free(s), free(h), free(p), free(path);
        assert_int_equal(url_split("https://[::1]:8443", &s, &h, &p, &path), 0);
        assert_string_equal(h, "::1");
        assert_string_equal(p, "8443");
        assert_string_equal(path, "/");
        free(s), free(h), free(p), free(path);
        assert_int_equal(url_split("deb.debian.org/debian", &s, &h, &p, &path), -EINVAL);
        assert_int_equal(url_split("http://host:port/x", &s, &h, &p, &path), -EINVAL);
        assert_int_equal(url_split("http://user:pw@host/x", &s, &h, &p, &path), -EINVAL);
        /* A local mirror: no host, and its path kept whole. */
        assert_int_equal(url_split("file:///srv/mirror a", &s, &h, &p, &path), 0);
        assert_string_equal(s, "file");
        assert_string_equal(h, "");
        assert_string_equal(path, "/srv/mirror a");
        free(s), free(h), free(p), free(path);
}

static void test_mirror_probe_unreachable(void **state) {
        /* Nothing listens on port 1 of localhost: a quick, clear error, not a hang. */
        char *reason = NULL;
        double t = now_monotonic();
        int r = mirror_probe("http://127.0.0.1:1/debian", "bookworm", 2000, &reason);
        assert_true(r < 0);
        assert_non_null(reason);
        assert_non_null(strstr(reason, "127.0.0.1"));
        assert_true(now_monotonic() - t < 3);
        free(reason);
        reason = NULL;
        assert_int_equal(mirror_probe("ftp://x/debian", "bookworm", 100, &reason), -EPROTONOSUPPORT);
        free(reason);
        reason = NULL;
        _cleanup_free_ char *root = make_tmpdir();
        write_text(root, "debian/dists/bookworm/Release", "Suite: bookworm\n");
        _cleanup_free_ char *url = strprintf("file://%s/debian", root);
        assert_int_equal(mirror_probe(url, "bookworm", 100, &reason), 0);
        assert_true(mirror_probe(url, "noble", 100, &reason) < 0);
        free(reason);
        rm_rf(root);
}

/* A one-shot HTTP server in a child process: answers the first connection with `response`. */
static pid_t serve_once(const char *response, int *ret_port) {
        int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s >= 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(bind(s, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(s, 1), 0);
        socklen_t l = sizeof a;
        assert_int_equal(getsockname(s, (struct sockaddr *) &a, &l), 0);
        *ret_port = ntohs(a.sin_port);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int c = accept(s, NULL, NULL);
                char req[4096];
                (void) !read(c, req, sizeof req);
                (void) !write(c, response, strlen(response));
                close(c);
                _exit(0);
        }
        close(s);
        return pid;
}

static void test_archive_state(void **state) {
        int port;
        pid_t pid = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc", &port);
        _cleanup_free_ char *mirror = strprintf("http://127.0.0.1:%d/debian", port);
        const char *mirrors[] = { mirror }, *suites[] = { "bookworm" };
        char *hex = NULL, *reason = NULL;
        assert_int_equal(archive_state_read(mirrors, suites, 1, 3000, &hex, &reason), 0);
        assert_int_equal(waitpid(pid, NULL, 0), pid);
        /* sha256("bookworm " + sha256("abc") + "\n") */
        _cleanup_free_ char *abc = sha256_hex("abc", 3);
        _cleanup_free_ char *line = strprintf("bookworm %s\n", abc);
        _cleanup_free_ char *want = sha256_hex(line, strlen(line));
        assert_string_equal(hex, want);
        free(hex);
        hex = NULL;
        /* not over HTTP: unknown, said why */
        const char *files[] = { "file:///srv/debian" };
        assert_int_equal(archive_state_read(files, suites, 1, 100, &hex, &reason), -EPROTONOSUPPORT);
        assert_null(hex);
        assert_non_null(strstr(reason, "not an http:// mirror"));
        free(reason);
        reason = NULL;
        /* nobody there */
        const char *dead[] = { "http://127.0.0.1:1/debian" };
        assert_true(archive_state_read(dead, suites, 1, 1000, &hex, &reason) < 0);
        assert_non_null(strstr(reason, "bookworm"));
        free(reason);
}

static void test_deb_extract(void **state) {
        _cleanup_free_ char *d = make_tmpdir();
        write_text(d, "pkg/DEBIAN/control", "Package: k\nVersion: 1\nArchitecture: all\nMaintainer: t <t@t>\n"
                                            "Description: t\n");
        write_text(d, "pkg/usr/share/keyrings/test-keyring.gpg", "KEYDATA");
        _cleanup_free_ char *pkg = strprintf("%s/pkg", d), *deb = strprintf("%s/k.deb", d);
        const char *argv[] = { "dpkg-deb", "--root-owner-group", "-Zxz", "--build", pkg, deb, NULL };
        if (!find_executable("dpkg-deb")) {
                rm_rf(d);
                skip_because("dpkg-deb missing");
        }
        assert_int_equal(spawn_run(argv, NULL, NULL, NULL), 0);
        _cleanup_free_ char *data = NULL;
        size_t size = 0;
        assert_int_equal(read_file_full(AT_FDCWD, deb, 1 << 20, &data, &size), 0);
        char *key = NULL;
        size_t key_size = 0;
        assert_int_equal(deb_extract_member(data, size, "usr/share/keyrings/test-keyring.gpg", &key, &key_size), 0);
        assert_int_equal(key_size, 7);
        assert_memory_equal(key, "KEYDATA", 7);
        free(key);
        assert_int_equal(deb_extract_member(data, size, "usr/share/keyrings/other.gpg", &key, &key_size), -ENOENT);
        assert_int_equal(deb_extract_member("garbage", 7, "x", &key, &key_size), -EBADMSG);
        rm_rf(d);
}

/* ---- sizes and formats ---------------------------------------------------------------------- */

static void test_image_size(void **state) {
        assert_int_equal(build_image_size(0), 2 * GiB);
        assert_int_equal(build_image_size(500 * MiB), 2 * GiB);
        /* 1200 MiB -> 1560 + 600 = 2160 -> 2304 MiB (9 x 256) */
        assert_int_equal(build_image_size(1200 * MiB), 2304 * MiB);
        /* 3 GiB -> 3993.6 + 600 = 4593.6 MiB -> 4608 MiB */
        assert_int_equal(build_image_size(3 * GiB), 4608 * MiB);
        for (uint64_t t = 0; t < 8 * GiB; t += 77 * MiB + 12345) {
                uint64_t s = build_image_size(t);
                assert_int_equal(s % (256 * MiB), 0);
                assert_true(s >= t + t * 3 / 10 + 600 * MiB);
                assert_true(s < t + t * 3 / 10 + 600 * MiB + 256 * MiB || s == 2 * GiB);
        }
}

static void test_formats(void **state) {
        unsigned m;
        assert_int_equal(build_parse_formats("raw,qcow2", &m), 0);
        assert_int_equal(m, BUILD_FORMAT_RAW | BUILD_FORMAT_QCOW2);
        assert_int_equal(build_parse_formats("qcow2", &m), 0);
        assert_int_equal(m, BUILD_FORMAT_QCOW2);
        assert_int_equal(build_parse_formats("raw,vmdk", &m), -EINVAL);
        assert_int_equal(build_parse_formats("", &m), -EINVAL);
        assert_int_equal(build_parse_formats(",", &m), -EINVAL);
}

/* ---- manifest and sums ---------------------------------------------------------------------- */

static void test_dpkg_query(void **state) {
        struct pkg_version *v;
        size_t n;
        assert_int_equal(parse_dpkg_query("zlib1g\t1:1.2.13.dfsg-1\tamd64\nadduser\t3.134\tall\n\n", &v, &n), 0);
        assert_int_equal(n, 2);
        assert_string_equal(v[0].name, "adduser");
        assert_string_equal(v[1].version, "1:1.2.13.dfsg-1");
        assert_string_equal(v[1].arch, "amd64");
        struct manifest m = { .pkgs = v, .n_pkgs = n };
        manifest_done(&m);
        assert_int_equal(parse_dpkg_query("broken line\n", &v, &n), -EBADMSG);
        assert_int_equal(parse_dpkg_query("", &v, &n), 0);
        assert_int_equal(n, 0);
}

static void test_manifest_json(void **state) {
        struct image_part parts[] = {
                { .name = S("esp"), .type = PART_ESP, .fs = FS_VFAT, .mount = S("/boot/efi"), .offset = 1 * MiB,
                  .size = 512 * MiB, .part_uuid = S("C12A7328-F81F-11D2-BA4B-00A0C93EC93B"), .fs_uuid = S("1AB0-E5F0") },
                { .name = S("root"), .type = PART_ROOT, .fs = FS_EXT4, .mount = S("/"), .offset = 514 * MiB, .size = GiB },
        };
        struct image_layout layout = { .disk_size = 2 * GiB, .disk_guid = S("G"), .parts = parts, .n_parts = 2 };
        struct input_file in[] = { { .label = S("profile"), .path = S("/p/db.yaml"), .sha256 = S("ab") } };
        struct pkg_version pk[] = { { .name = S("bash"), .version = S("5.2\"x"), .arch = S("amd64") } };
        struct artifact art[] = { { .name = S("lab-db1.raw"), .size = 2 * GiB, .sha256 = S("cd") } };
        struct manifest m = { .tool_version = "0.1.0", .role = "db", .host = "lab-db1", .base = "debian-12",
                              .suite = "bookworm", .mirror = "http://m", .rootfs_key = "k1", .layer_key = "k2",
                              .source_date_epoch = 1700000000, .inputs = in, .n_inputs = 1, .pkgs = pk,
                              .n_pkgs = 1, .layout = &layout, .artifacts = art, .n_artifacts = 1 };
        _cleanup_free_ char *j = manifest_to_json(&m);
        assert_non_null(j);
        assert_non_null(strstr(j, "\"tool_version\": \"0.1.0\""));
        assert_non_null(strstr(j, "\"source_date_epoch\": 1700000000"));
        assert_non_null(strstr(j, "\"offset\": 538968064")); /* 514 MiB */
        assert_non_null(strstr(j, "\"fs\": \"vfat\""));
        assert_non_null(strstr(j, "\"version\": \"5.2\\\"x\""));
        assert_non_null(strstr(j, "\"fs_uuid\": null"));
        assert_non_null(strstr(j, "\"size\": 2147483648"));
        /* and a JSON parser accepts it */
        _cleanup_free_ char *dir = make_tmpdir();
        write_text(dir, "m.json", j);
        _cleanup_free_ char *path = strprintf("%s/m.json", dir);
        const char *argv[] = { "python3", "-c",
                               "import json,sys; d=json.load(open(sys.argv[1])); "
                               "assert d['layout']['partitions'][1]['offset']==514*2**20; "
                               "assert d['packages'][0]['version']=='5.2\"x'",
                               path, NULL };
        assert_int_equal(spawn_run(argv, NULL, NULL, NULL), 0);
        rm_rf(dir);

        /* The services: installed, deferred (vendor), not for this base. */
        struct diags d = {};
        _cleanup_(profile_freep) struct profile *prof = NULL;
        assert_int_equal(profile_load("profiles", "db", &d, &prof), 0);
        diags_done(&d);
        m.profile = prof;
        _cleanup_free_ char *js = manifest_to_json(&m);
        assert_non_null(js);
        assert_non_null(strstr(js, "\"name\": \"postgresql\",\n      \"source\": \"distro\",\n      \"fetch\": \"build\",\n"
                                   "      \"origin\": null,\n      \"state\": \"installed\""));
        /* Without the build's vendor results (m.vendor), vendor services are "deferred". */
        assert_non_null(strstr(js, "\"name\": \"elasticsearch\",\n      \"source\": \"apt\",\n      \"fetch\": \"build\",\n"
                                   "      \"origin\": \"deb [signed-by=/usr/share/keyrings/elasticsearch.gpg] "
                                   "https://artifacts.elastic.co/packages/8.x/apt stable main\",\n"
                                   "      \"state\": \"deferred\",\n      \"reason\": \"not fetched by this build\""));
        assert_non_null(strstr(js, "\"name\": \"zabbix-agent2-vendor\",\n      \"source\": \"apt\",\n      \"fetch\": \"build\",\n"));
        assert_non_null(strstr(js, "\"state\": \"not-for-base\""));
        m.profile = NULL;

        m.layout = NULL;
        m.source_date_epoch = -1;
        _cleanup_free_ char *j2 = manifest_to_json(&m);
        assert_non_null(strstr(j2, "\"layout\": null"));
        assert_non_null(strstr(j2, "\"source_date_epoch\": null"));
}

static void test_sha256sums(void **state) {
        _cleanup_free_ char *dir = make_tmpdir();
        write_text(dir, "a.raw", "hello\n");
        write_text(dir, "manifest.json", "{}\n");
        /* a sparse file: holes hash as zeros, as sha256sum reads them */
        _cleanup_free_ char *sparse = strprintf("%s/b.qcow2", dir);
        int fd = open(sparse, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 3 * MiB + 17), 0);
        assert_int_equal(pwrite(fd, "x", 1, 2 * MiB), 1);
        close(fd);

        const char *names[] = { "a.raw", "b.qcow2", "manifest.json" };
        struct artifact art[3];
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", dir, names[i]);
                art[i].name = (char *) names[i];
                assert_int_equal(sha256_file(p, NULL, &art[i].sha256, &art[i].size), 0);
        }
        assert_string_equal(art[0].sha256, "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03");
        assert_int_equal(art[1].size, 3 * MiB + 17);
        _cleanup_free_ char *sums = sha256sums_text(art, 3);
        assert_non_null(sums);
        write_text(dir, "SHA256SUMS", sums);
        const char *argv[] = { "sha256sum", "--strict", "-c", "SHA256SUMS", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.cwd = dir;
        _cleanup_free_ char *tail = NULL;
        assert_int_equal(spawn_run(argv, &o, &tail, NULL), 0);
        assert_non_null(strstr(tail, "b.qcow2: OK"));

        /* and it notices a change */
        write_text(dir, "a.raw", "hellO\n");
        assert_int_equal(spawn_run(argv, &o, NULL, NULL), 1);
        for (size_t i = 0; i < 3; i++)
                free(art[i].sha256);
        struct artifact bad = { .name = S("new\nline"), .sha256 = S("00") };
        assert_null(sha256sums_text(&bad, 1));
        rm_rf(dir);
}

static void test_qcow2(void **state) {
        if (!find_executable("qemu-img"))
                skip_because("qemu-img missing");
        _cleanup_free_ char *d = make_tmpdir();
        _cleanup_free_ char *raw = strprintf("%s/x.raw", d), *q = strprintf("%s/x.qcow2", d);
        int fd = open(raw, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(ftruncate(fd, 64 * MiB), 0);
        assert_int_equal(pwrite(fd, "rackstack", 9, 17 * MiB), 9);
        close(fd);
        assert_int_equal(write_qcow2(raw, q), 0);
        const char *cmp[] = { "qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw, q, NULL };
        assert_int_equal(spawn_run(cmp, NULL, NULL, NULL), 0);
        const char *info[] = { "qemu-img", "info", "--output=json", q, NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        _cleanup_free_ char *out = NULL;
        assert_int_equal(spawn_run(info, &o, NULL, &out), 0);
        assert_non_null(strstr(out, "\"format\": \"qcow2\""));
        /* no temporary left next to it */
        _cleanup_free_ char *tmp = strprintf("%s.tmp.%d", q, (int) getpid());
        assert_true(access(tmp, F_OK) < 0);
        /* a failing conversion leaves nothing either */
        _cleanup_free_ char *missing = strprintf("%s/none.raw", d), *q2 = strprintf("%s/y.qcow2", d);
        assert_true(write_qcow2(missing, q2) < 0);
        assert_true(access(q2, F_OK) < 0);
        rm_rf(d);
}

/* ---- spawn and progress --------------------------------------------------------------------- */

static void test_spawn(void **state) {
        const char *ok[] = { "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo err >&2; exit 3", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.tail_lines = 2;
        _cleanup_free_ char *tail = NULL;
        assert_int_equal(spawn_run(ok, &o, &tail, NULL), 3);
        assert_string_equal(tail, "line5\nerr");

        const char *out[] = { "sh", "-c", "echo out; echo err >&2", NULL };
        o = (struct spawn_opts) SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        _cleanup_free_ char *t2 = NULL, *so = NULL;
        assert_int_equal(spawn_run(out, &o, &t2, &so), 0);
        assert_string_equal(so, "out\n");
        assert_string_equal(t2, "err");

        const char *missing[] = { "/nonexistent/tool", NULL };
        assert_int_equal(spawn_run(missing, NULL, NULL, NULL), -ENOENT);

        const char *envtest[] = { "sh", "-c", "test \"$FOO\" = bar && test -z \"$TMPDIR_LEAK\"", NULL };
        const char *env[] = { "FOO=bar", NULL };
        o = (struct spawn_opts) SPAWN_OPTS_INIT;
        o.env = env;
        o.clean_env = true;
        setenv("TMPDIR_LEAK", "x", 1);
        assert_int_equal(spawn_run(envtest, &o, NULL, NULL), 0);
        unsetenv("TMPDIR_LEAK");

        /* An interrupt kills the child (and its children) quickly. */
        const char *slow[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
        build_interrupted = SIGINT;
        double t = now_monotonic();
        assert_int_equal(spawn_run(slow, NULL, NULL, NULL), -EINTR);
        assert_true(now_monotonic() - t < 6);
        build_interrupted = 0;

        _cleanup_free_ char *s = tail_lines("a\nb\nc\n", 6, 2);
        assert_string_equal(s, "b\nc");
        const char *av[] = { "apt-get", "install", "a b", NULL };
        _cleanup_free_ char *line = argv_to_string(av);
        assert_string_equal(line, "apt-get install 'a b'");
        assert_true(find_executable("sh"));
        assert_false(find_executable("no-such-tool-here"));
}

/* Processes whose command line holds `marker`. */
static int count_processes(const char *marker) {
        _cleanup_closedir_ DIR *d = opendir("/proc");
        assert_non_null(d);
        int n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                _cleanup_free_ char *path = strprintf("/proc/%s/cmdline", de->d_name);
                char buf[256] = {};
                _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
                ssize_t k = fd < 0 ? -1 : read(fd, buf, sizeof buf - 1);
                for (ssize_t i = 0; i < k; i++)
                        if (!buf[i])
                                buf[i] = ' ';
                if (k > 0 && strstr(buf, marker))
                        n++;
        }
        return n;
}

/* A build killed with SIGKILL while apt runs: not even what the tool started in the background
 * survives it (the tool's PID namespace ends with it). Needs root, as the apt steps do. */
static bool can_unshare_pid(void) {
        pid_t p = fork();
        if (p == 0)
                _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
        int st;
        return p > 0 && waitpid(p, &st, 0) == p && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static void test_spawn_killed_build_leaves_no_process(void **state) {
        if (geteuid() != 0 || !can_unshare_pid())
                skip_because("needs root and unshare(CLONE_NEWPID)");
        _cleanup_free_ char *marker = strprintf("300.%d", (int) getpid());
        _cleanup_free_ char *env_m = strprintf("M=%s", marker);
        pid_t build = fork();
        assert_true(build >= 0);
        if (build == 0) {
                const char *argv[] = { "sh", "-c", "sleep \"$M\" & sleep \"$M\"; :", NULL };
                const char *env[] = { env_m, NULL };
                struct spawn_opts o = SPAWN_OPTS_INIT;
                o.private_mounts = true;
                o.env = env;
                _exit(spawn_run(argv, &o, NULL, NULL) == 0 ? 0 : 1);
        }
        int seen = 0;
        for (int i = 0; i < 200 && (seen = count_processes(marker)) < 2; i++)
                usleep(50 * 1000);
        assert_int_equal(seen, 2);
        assert_int_equal(kill(build, SIGKILL), 0);
        assert_int_equal(waitpid(build, NULL, 0), build);
        for (int i = 0; i < 100 && (seen = count_processes(marker)) > 0; i++)
                usleep(50 * 1000);
        assert_int_equal(seen, 0);

        /* and a tool in its own namespace still hands back its exit status and output */
        const char *argv[] = { "sh", "-c", "echo inside; sleep 60 & exit 7", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.private_mounts = true;
        _cleanup_free_ char *tail = NULL;
        assert_int_equal(spawn_run(argv, &o, &tail, NULL), 7);
        assert_string_equal(tail, "inside");
}

static void test_progress_json(void **state) {
        _cleanup_free_ char *j = progress_event_json("rootfs", "done", 689169920, 12.3456, "cached (key 1a2b)");
        assert_string_equal(j, "{\"stage\":\"rootfs\",\"state\":\"done\",\"bytes\":689169920,\"elapsed\":12.346,"
                               "\"message\":\"cached (key 1a2b)\"}");
        _cleanup_free_ char *j2 = progress_event_json("image", "start", 0, 0, NULL);
        assert_string_equal(j2, "{\"stage\":\"image\",\"state\":\"start\",\"bytes\":0,\"elapsed\":0.000}");
}

/* ---- hygiene -------------------------------------------------------------------------------- */

static void test_hygiene(void **state) {
        _cleanup_free_ char *t = make_tmpdir();
        write_text(t, "etc/ssh/ssh_host_ed25519_key", "secret");
        write_text(t, "etc/ssh/ssh_host_ed25519_key.pub", "pub");
        write_text(t, "etc/ssh/sshd_config", "Port 22\n");
        write_text(t, "etc/machine-id", "0123456789abcdef0123456789abcdef\n");
        write_text(t, "var/lib/dbus/machine-id", "0123456789abcdef0123456789abcdef\n");
        write_text(t, "var/lib/systemd/random-seed", "seed");
        write_text(t, "etc/hostname", "buildhost\n");
        write_text(t, "etc/resolv.conf", "nameserver 192.0.2.1\n");
        write_text(t, "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease", "x");
        write_text(t, "var/lib/apt/lists/partial/.keep", "");
        write_text(t, "var/cache/apt/pkgcache.bin", "x");
        write_text(t, "var/cache/apt/archives/bash_5.2_amd64.deb", "x");
        write_text(t, "var/log/apt/history.log", "installed things");
        write_text(t, "var/log/dpkg.log", "lots");
        write_text(t, "var/log/dpkg.log.1", "older");
        write_text(t, "var/log/syslog.2.gz", "older");
        write_text(t, "tmp/junk/file", "x");
        write_text(t, "usr/bin/tool", "#!/bin/sh\n");

        /* a file from the future, and a symlink */
        _cleanup_free_ char *tool = strprintf("%s/usr/bin/tool", t);
        struct timespec future[2] = { { .tv_sec = 4000000000 }, { .tv_sec = 4000000000 } };
        assert_int_equal(utimensat(AT_FDCWD, tool, future, 0), 0);
        _cleanup_free_ char *lnk = strprintf("%s/usr/bin/link", t);
        assert_int_equal(symlink("tool", lnk), 0);

        struct hygiene_report rep;
        assert_int_equal(hygiene_apply(t, 1700000000, &rep), 0);

        struct stat st;
#define GONE(rel) do { _cleanup_free_ char *_p = strprintf("%s/%s", t, rel); \
                assert_int_equal(lstat(_p, &st), -1); } while (0)
#define SIZE(rel, sz) do { _cleanup_free_ char *_p = strprintf("%s/%s", t, rel); \
                assert_int_equal(lstat(_p, &st), 0); assert_int_equal(st.st_size, sz); } while (0)
        GONE("etc/ssh/ssh_host_ed25519_key");
        GONE("etc/ssh/ssh_host_ed25519_key.pub");
        SIZE("etc/ssh/sshd_config", 8);
        SIZE("etc/machine-id", 0);
        GONE("var/lib/dbus/machine-id");
        GONE("var/lib/systemd/random-seed");
        GONE("etc/hostname");
        GONE("etc/resolv.conf");
        GONE("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease");
        _cleanup_free_ char *partial = strprintf("%s/var/lib/apt/lists/partial", t);
        assert_int_equal(stat(partial, &st), 0);
        GONE("var/cache/apt/pkgcache.bin");
        GONE("var/cache/apt/archives/bash_5.2_amd64.deb");
        SIZE("var/log/apt/history.log", 0);
        SIZE("var/log/dpkg.log", 0);
        GONE("var/log/dpkg.log.1");
        GONE("var/log/syslog.2.gz");
        GONE("tmp/junk");
        _cleanup_free_ char *tmp = strprintf("%s/tmp", t);
        assert_int_equal(stat(tmp, &st), 0);
        assert_int_equal(stat(tool, &st), 0);
        assert_int_equal(st.st_mtime, 1700000000);
        assert_true(rep.removed >= 10);
        assert_int_equal(rep.truncated, 2);
        assert_true(rep.clamped >= 1);
        rm_rf(t);
}

/* ---- pack / unpack -------------------------------------------------------------------------- */

static void test_pack_unpack(void **state) {
        if (geteuid() != 0) {
                skip_because("owners and device nodes need root");
                return;
        }
        _cleanup_free_ char *src = make_tmpdir(), *dst = make_tmpdir(), *tmpd = make_tmpdir();
        write_text(src, "usr/bin/su", "suid");
        write_text(src, "etc/shadow", "root:*:");
        write_text(src, "var/lib/x/data", "data");
        _cleanup_free_ char *su = strprintf("%s/usr/bin/su", src), *shadow = strprintf("%s/etc/shadow", src);
        _cleanup_free_ char *data = strprintf("%s/var/lib/x/data", src), *hard = strprintf("%s/var/lib/x/hard", src);
        _cleanup_free_ char *lnk = strprintf("%s/bin", src), *dev = strprintf("%s/null", src);
        assert_int_equal(chmod(su, 04755), 0);
        assert_int_equal(chmod(shadow, 0640), 0);
        assert_int_equal(chown(shadow, 0, 42), 0);
        assert_int_equal(chown(data, 105, 109), 0);
        assert_int_equal(link(data, hard), 0);
        assert_int_equal(symlink("usr/bin", lnk), 0);
        assert_int_equal(mknod(dev, S_IFCHR | 0666, makedev(1, 3)), 0);
        /* a socket left by a package's postinst (spamassassin's gpg-agent): skipped, not an error */
        _cleanup_free_ char *sock = strprintf("%s/var/lib/x/S.gpg-agent", src);
        {
                int sfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_un sa = { .sun_family = AF_UNIX };
                assert_true(sfd >= 0 && strlen(sock) < sizeof sa.sun_path);
                memcpy(sa.sun_path, sock, strlen(sock));
                assert_int_equal(bind(sfd, (struct sockaddr *) &sa, sizeof sa), 0);
                close(sfd);
        }
        /* file capabilities live in an xattr; a user xattr stands in for it portably */
        assert_int_equal(setxattr(su, "user.rackstack", "v", 1, 0), 0);
        struct timespec old[2] = { { .tv_sec = 1600000000 }, { .tv_sec = 1600000000 } };
        assert_int_equal(utimensat(AT_FDCWD, data, old, 0), 0);

        _cleanup_free_ char *tar = strprintf("%s/t.tar", tmpd);
        int fd = open(tar, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        uint64_t bytes = 0;
        assert_int_equal(pack_tree(src, fd, &bytes), 0);
        close(fd);
        _cleanup_free_ char *sum = NULL;
        assert_int_equal(sha256_file(tar, NULL, &sum, NULL), 0);

        /* a wrong sum is caught */
        assert_int_equal(unpack_tarball(tar, dst, "0000000000000000000000000000000000000000000000000000000000000000",
                                        NULL), -EBADMSG);
        rm_rf(dst);
        assert_int_equal(mkdir(dst, 0755), 0);
        assert_int_equal(unpack_tarball(tar, dst, sum, &bytes), 0);

        struct stat st, st2;
        _cleanup_free_ char *d_sock = strprintf("%s/var/lib/x/S.gpg-agent", dst);
        assert_int_equal(lstat(d_sock, &st), -1);
        _cleanup_free_ char *d_su = strprintf("%s/usr/bin/su", dst), *d_shadow = strprintf("%s/etc/shadow", dst);
        _cleanup_free_ char *d_data = strprintf("%s/var/lib/x/data", dst), *d_hard = strprintf("%s/var/lib/x/hard", dst);
        _cleanup_free_ char *d_lnk = strprintf("%s/bin", dst), *d_dev = strprintf("%s/null", dst);
        assert_int_equal(stat(d_su, &st), 0);
        assert_int_equal(st.st_mode & 07777, 04755);
        assert_int_equal(stat(d_shadow, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(st.st_gid, 42);
        assert_int_equal(stat(d_data, &st), 0);
        assert_int_equal(st.st_uid, 105);
        assert_int_equal(st.st_gid, 109);
        assert_int_equal(st.st_mtime, 1600000000);
        assert_int_equal(stat(d_hard, &st2), 0);
        assert_int_equal(st.st_ino, st2.st_ino); /* still one file */
        char target[64] = {};
        assert_int_equal(readlink(d_lnk, target, sizeof target - 1), 7);
        assert_string_equal(target, "usr/bin");
        assert_int_equal(lstat(d_dev, &st), 0);
        assert_true(S_ISCHR(st.st_mode));
        assert_int_equal(st.st_rdev, makedev(1, 3));
        char v[4] = {};
        assert_int_equal(getxattr(d_su, "user.rackstack", v, sizeof v), 1);
        assert_string_equal(v, "v");
        /* nothing escaped the destination */
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        assert_non_null(cwd);
        rm_rf(src);
        rm_rf(dst);
        rm_rf(tmpd);
}

/* ---- cache entries -------------------------------------------------------------------------- */

/* sha256_file hashes a file's holes as zeroes without reading them: the same sum as over its bytes,
 * for holes at the start, between data and at the end, and for a file without holes. */
static void test_sha256_sparse(void **state) {
        (void) state;
        char dir[] = "/tmp/test-sha-sparse.XXXXXX";
        assert_non_null(mkdtemp(dir));
        const size_t size = 5 * 1048576 + 123;
        unsigned char *bytes = calloc(1, size);
        assert_non_null(bytes);
        /* data at [1 MiB, 1 MiB + 100 KiB) and [3 MiB + 5, 3 MiB + 70 KiB); the rest holes */
        const size_t at[] = { 1048576, 3 * 1048576 + 5 }, len[] = { 100 * 1024, 70 * 1024 };
        _cleanup_free_ char *path = strprintf("%s/sparse", dir), *dense = strprintf("%s/dense", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        for (size_t i = 0; i < 2; i++) {
                for (size_t k = 0; k < len[i]; k++)
                        bytes[at[i] + k] = (unsigned char) (k * 7 + i + 1);
                assert_int_equal(pwrite(fd, bytes + at[i], len[i], (off_t) at[i]), (ssize_t) len[i]);
        }
        assert_int_equal(ftruncate(fd, (off_t) size), 0);
        close(fd);
        fd = open(dense, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, bytes, size), (ssize_t) size);
        close(fd);

        _cleanup_free_ char *want = sha256_hex(bytes, size), *got = NULL, *got_dense = NULL;
        uint64_t n = 0, n_dense = 0;
        assert_int_equal(sha256_file(path, NULL, &got, &n), 0);
        assert_int_equal(sha256_file(dense, NULL, &got_dense, &n_dense), 0);
        assert_string_equal(got, want);
        assert_string_equal(got_dense, want);
        assert_true(n == size && n_dense == size);
        free(bytes);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(unlink(dense), 0);
        assert_int_equal(rmdir(dir), 0);
}

static void test_cache_entry(void **state) {
        _cleanup_free_ char *cache = make_tmpdir();
        const char *key = "abc123";
        struct cache_entry e = CACHE_ENTRY_INIT;
        assert_int_equal(cache_entry_lock(cache, "rootfs", key, &e), 0);
        assert_false(cache_entry_present(&e));
        _cleanup_free_ char *tmp = strprintf("%s.tmp.1", e.path);
        write_text("/", tmp + 1, "tarball");
        assert_int_equal(cache_entry_commit(&e, tmp), 0);
        assert_true(access(tmp, F_OK) < 0);
        assert_true(cache_entry_present(&e));
        /* the sum file reads as sha256sum does */
        _cleanup_free_ char *dir = strprintf("%s/rootfs", cache);
        const char *argv[] = { "sha256sum", "--strict", "-c", "abc123.tar.sha256", NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.cwd = dir;
        assert_int_equal(spawn_run(argv, &o, NULL, NULL), 0);

        /* A second locker (another build) must wait: flock from a child shell with -n fails. */
        _cleanup_free_ char *lock = strprintf("%s/rootfs/abc123.lock", cache);
        const char *fl[] = { "flock", "-n", lock, "true", NULL };
        assert_int_equal(spawn_run(fl, NULL, NULL, NULL), 1);
        cache_entry_share(&e);
        const char *fls[] = { "flock", "-n", "-s", lock, "true", NULL };
        assert_int_equal(spawn_run(fls, NULL, NULL, NULL), 0);
        cache_entry_done(&e);
        assert_int_equal(spawn_run(fl, NULL, NULL, NULL), 0);

        struct cache_entry e2 = CACHE_ENTRY_INIT;
        assert_int_equal(cache_entry_lock(cache, "rootfs", key, &e2), 0);
        assert_true(cache_entry_present(&e2));
        cache_entry_discard(&e2);
        assert_false(cache_entry_present(&e2));
        cache_entry_done(&e2);
        rm_rf(cache);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cache_key),
                cmocka_unit_test(test_layer_options_debconf),
                cmocka_unit_test(test_base_packages),
                cmocka_unit_test(test_layer_packages),
                cmocka_unit_test(test_tree_has_packages),
                cmocka_unit_test(test_sources_deb822),
                cmocka_unit_test(test_sources_one_line),
                cmocka_unit_test(test_os_release),
                cmocka_unit_test(test_mirror_resolve),
                cmocka_unit_test(test_url_split),
                cmocka_unit_test(test_mirror_probe_unreachable),
                cmocka_unit_test(test_archive_state),
                cmocka_unit_test(test_deb_extract),
                cmocka_unit_test(test_image_size),
                cmocka_unit_test(test_formats),
                cmocka_unit_test(test_dpkg_query),
                cmocka_unit_test(test_manifest_json),
                cmocka_unit_test(test_sha256sums),
                cmocka_unit_test(test_qcow2),
                cmocka_unit_test(test_spawn),
                cmocka_unit_test(test_spawn_killed_build_leaves_no_process),
                cmocka_unit_test(test_progress_json),
                cmocka_unit_test(test_hygiene),
                cmocka_unit_test(test_pack_unpack),
                cmocka_unit_test(test_cache_entry),
                cmocka_unit_test(test_sha256_sparse),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
