/* SPDX-License-Identifier: MIT */
/* Unit tests for the trust features' pure parts: the debugfs script that pins ext4 inode times,
 * SHA256SUMS parsing for verify, key path naming, comparing builds, GPT lookup, package pins. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cleanup.h"
#include "ext4-times.h"
#include "util.h"
#include "verify.h"

#define S(x) ((char *) (x))
#include "repro.h"
#include "pin.h"
#include "ed25519.h"
#include "signed-sums.h"
#include "progress.h"
#include "rootfs.h"

static unsigned count(const char *s, const char *needle) {
        unsigned n = 0;
        for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        return n;
}

static void test_ext4_times_script(void **state) {
        /* Shaped like dumpe2fs 1.47.0: group 0 full, group 1 with holes, group 2 empty (all free). */
        static const char text[] = "Filesystem volume name:   root\n"
                                   "Inodes per group:         16\n"
                                   "Group 0: (Blocks 0-32767) csum 0x62ce [ITABLE_ZEROED]\n"
                                   "  Free inodes: \n"
                                   "Group 1: (Blocks 32768-65535) csum 0xbb8c [ITABLE_ZEROED]\n"
                                   "  Free blocks: 40000-40010\n"
                                   "  Free inodes: 19-20, 22, 25-32\n"
                                   "Group 2: (Blocks 65536-98303) csum 0x150d [INODE_UNINIT, ITABLE_ZEROED]\n"
                                   "  Free inodes: 33-48\n";
        _cleanup_free_ char *s = NULL;
        unsigned n = 0;
        assert_int_equal(ext4_times_script(text, 1700000000, &s, &n), 0);
        /* 1..16, then 17, 18, 21, 23, 24. */
        assert_int_equal(n, 16 + 5);
        assert_int_equal(count(s, "\n"), 3 * n);
        assert_non_null(strstr(s, "sif <1> ctime @1700000000\nsif <1> atime @1700000000\nsif <1> crtime @1700000000\n"));
        assert_non_null(strstr(s, "sif <16> ctime"));
        assert_non_null(strstr(s, "sif <17> ctime"));
        assert_non_null(strstr(s, "sif <18> ctime"));
        assert_null(strstr(s, "sif <19> "));
        assert_null(strstr(s, "sif <20> "));
        assert_non_null(strstr(s, "sif <21> ctime"));
        assert_null(strstr(s, "sif <22> "));
        assert_non_null(strstr(s, "sif <24> crtime"));
        assert_null(strstr(s, "sif <25> "));
        assert_null(strstr(s, "sif <33> "));
}

static void test_ext4_times_script_bad(void **state) {
        static const char *const bad[] = {
                "not dumpe2fs at all\n",
                "Inodes per group:         16\n", /* no groups */
                "Inodes per group:         0\nGroup 0: (Blocks 0-1)\n  Free inodes: \n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 5-x\n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 9-3\n",
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 12-40\n", /* beyond the group */
                "Inodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 12-14, 13\n", /* not ascending */
                "Filesystem volume name: x\nInodes per group:         16\nGroup 0: (Blocks 0-1)\n  Free inodes: 17\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char *s = NULL;
                unsigned n = 0;
                int r = ext4_times_script(bad[i], 1, &s, &n);
                if (r != -EBADMSG)
                        fail_msg("case %zu: %d", i, r);
                assert_null(s);
        }
}

#define H64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_signing_pub_for_key(void **state) {
        _cleanup_free_ char *a = signing_pub_for_key("/k/site.key"), *b = signing_pub_for_key("/k/site");
        assert_string_equal(a, "/k/site.pub");
        assert_string_equal(b, "/k/site.pub");
}

static void write_bytes(const char *path, const char *data, size_t n) {
        FILE *f = fopen(path, "we");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, n, f), n);
        assert_int_equal(fclose(f), 0);
}

static void test_repro_compare(void **state) {
        char dir[] = "/tmp/test-trust-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *a = strprintf("%s/a", dir), *b = strprintf("%s/b", dir);
        _cleanup_free_ char *fa = strprintf("%s/a/x", dir), *fb = strprintf("%s/b/x", dir);
        _cleanup_free_ char *only = strprintf("%s/b/y", dir);
        assert_int_equal(mkdir(a, 0755), 0);
        assert_int_equal(mkdir(b, 0755), 0);
        write_bytes(fa, "abcdefgh", 8);
        write_bytes(fb, "abcdefgh", 8);
        struct file_diff d = {};
        assert_int_equal(repro_compare_files(fa, fb, &d), 0);
        write_bytes(fb, "abXdeYgh", 8);
        assert_int_equal(repro_compare_files(fa, fb, &d), 1);
        assert_int_equal(d.first, 2);
        assert_int_equal(d.last, 5);
        assert_int_equal(d.n_differ, 2);
        write_bytes(fb, "abcdefghi", 9);
        d = (struct file_diff) {};
        assert_int_equal(repro_compare_files(fa, fb, &d), 1);
        assert_int_equal(d.n_differ, 0);
        assert_int_equal(d.size_b, 9);

        write_bytes(only, "y", 1);
        /* Subdirectories (pxe/, proxmox/) are compared too. */
        _cleanup_free_ char *sa = strprintf("%s/a/pxe", dir), *sb = strprintf("%s/b/pxe", dir);
        _cleanup_free_ char *pa = strprintf("%s/a/pxe/initrd", dir), *pb = strprintf("%s/b/pxe/initrd", dir);
        assert_int_equal(mkdir(sa, 0755), 0);
        assert_int_equal(mkdir(sb, 0755), 0);
        write_bytes(pa, "one", 3);
        write_bytes(pb, "two", 3);
        struct file_diff *l = NULL;
        size_t n = 0;
        assert_int_equal(repro_compare_dirs(a, b, &l, &n), 3);
        assert_string_equal(l[0].name, "pxe/initrd");
        assert_string_equal(l[1].name, "x");
        assert_string_equal(l[2].name, "y");
        assert_true(l[2].missing_a);
        file_diffs_free(l, n);
        unlink(pa);
        unlink(pb);
        rmdir(sa);
        rmdir(sb);

        /* Not a disk: no location, and no crash. */
        assert_null(repro_locate_in_disk(fa, 3));
        unlink(fa);
        unlink(fb);
        unlink(only);
        rmdir(a);
        rmdir(b);
        rmdir(dir);
}

static void test_pins(void **state) {
        char path[] = "/tmp/test-trust-manifest-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        close(fd);
        /* As outputs.c writes it (pretty JSON), packages out of order. */
        static const char json[] = "{\n  \"role\": \"db\",\n  \"packages\": [\n"
                                   "    {\"name\": \"zlib1g\", \"version\": \"1:1.2.13.dfsg-1\", \"arch\": \"amd64\"},\n"
                                   "    {\"name\": \"bash\", \"version\": \"5.2.15-2+b7\", \"arch\": \"amd64\"},\n"
                                   "    {\"name\": \"postgresql-15\", \"version\": \"15.8-0+deb12u1\", \"arch\": \"amd64\"}\n"
                                   "  ]\n}\n";
        write_bytes(path, json, sizeof json - 1);
        struct pkg_version *p = NULL;
        size_t n = 0;
        assert_int_equal(pins_load(path, &p, &n), 0);
        assert_int_equal(n, 3);
        assert_string_equal(p[0].name, "bash");
        assert_string_equal(p[2].name, "zlib1g");
        assert_string_equal(p[2].version, "1:1.2.13.dfsg-1");

        _cleanup_free_ char *same = NULL;
        assert_int_equal(pins_compare(p, n, p, n, 20, &same), 0);
        assert_string_equal(same, "");

        struct pkg_version have[] = {
                { S("bash"), S("5.2.15-2+b7"), S("amd64") },
                { S("curl"), S("7.88.1-10"), S("amd64") },
                { S("postgresql-15"), S("15.10-0+deb12u1"), S("amd64") },
        };
        _cleanup_free_ char *rep = NULL;
        assert_int_equal(pins_compare(p, n, have, 3, 20, &rep), 3);
        assert_non_null(strstr(rep, "curl 7.88.1-10 (amd64): in this build, not pinned"));
        assert_non_null(strstr(rep, "postgresql-15: pinned 15.8-0+deb12u1 (amd64), this build has 15.10-0+deb12u1"));
        assert_non_null(strstr(rep, "zlib1g 1:1.2.13.dfsg-1 (amd64): pinned, not in this build"));
        _cleanup_free_ char *cut = NULL;
        assert_int_equal(pins_compare(p, n, have, 3, 1, &cut), 3);
        assert_non_null(strstr(cut, "... and 2 more"));
        pkg_versions_free(p, n);

        write_bytes(path, "{\"role\": \"db\"}\n", strlen("{\"role\": \"db\"}\n"));
        assert_int_equal(pins_load(path, &p, &n), -EINVAL);
        write_bytes(path, "{\"packages\": [{\"name\": \"x\"}]}\n", strlen("{\"packages\": [{\"name\": \"x\"}]}\n"));
        assert_int_equal(pins_load(path, &p, &n), -EINVAL);
        unlink(path);
        assert_int_equal(pins_load(path, &p, &n), -EINVAL);
}

/* A build killed while it made a cache entry left KEY.tar.tmp.PID: the next build to take the
 * entry's exclusive lock removes it; a present entry's neighbours are not touched. */
static void test_cache_stale_temporaries(void **state) {
        char dir[] = "/tmp/test-trust-cache-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *kind = strprintf("%s/layer", dir);
        _cleanup_free_ char *stale = strprintf("%s/layer/k1.tar.tmp.999999", dir);
        _cleanup_free_ char *other = strprintf("%s/layer/k2.tar.tmp.999999", dir);
        assert_int_equal(mkdir(kind, 0755), 0);
        write_bytes(stale, "half a tarball", 14);
        write_bytes(other, "another entry's", 15);
        progress_init(false);
        struct cache_entry e = CACHE_ENTRY_INIT;
        assert_int_equal(cache_entry_lock(dir, "layer", "k1", &e), 0);
        assert_int_equal(access(stale, F_OK), -1);
        assert_int_equal(access(other, F_OK), 0);
        cache_entry_done(&e);
        _cleanup_free_ char *lock = strprintf("%s/layer/k1.lock", dir);
        unlink(lock);
        unlink(other);
        rmdir(kind);
        rmdir(dir);
}

/* The installer's check: a signed directory, all files or only the image it is about to write. */
static void test_signed_sums_verify(void **state) {
        char dir[] = "/tmp/test-trust-signed-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *prefix = strprintf("%s/k", dir), *pub = strprintf("%s/k.pub", dir);
        _cleanup_free_ char *key = strprintf("%s/k.key", dir), *out = strprintf("%s/out", dir);
        _cleanup_free_ char *fa = strprintf("%s/out/a.raw", dir), *fb = strprintf("%s/out/b.qcow2", dir);
        _cleanup_free_ char *sums = strprintf("%s/out/SHA256SUMS", dir), *sig = strprintf("%s/out/SHA256SUMS.sig", dir);
        assert_int_equal(ed25519_keygen(prefix, false), 0);
        assert_int_equal(mkdir(out, 0755), 0);
        write_bytes(fa, "raw image", 9);
        write_bytes(fb, "qcow2 image", 11);
        _cleanup_free_ char *ha = NULL, *hb = NULL;
        assert_int_equal(sha256_path_hex(fa, &ha), 0);
        assert_int_equal(sha256_path_hex(fb, &hb), 0);
        _cleanup_free_ char *text = strprintf("%s  a.raw\n%s  b.qcow2\n", ha, hb);
        write_bytes(sums, text, strlen(text));
        assert_int_equal(ed25519_sign_file(key, sums, sig), 0);
        assert_int_equal(signing_pub_check(pub), 0);
        assert_int_equal(signing_pub_check(key), -EBADMSG);

        struct sums_entry *e = NULL;
        size_t n = 0;
        const char *missing = NULL;
        struct diags d = {};
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), 0);
        assert_int_equal(n, 2);
        assert_int_equal(e[0].status, SUMS_OK);
        assert_int_equal(e[1].status, SUMS_OK);
        sums_entries_free(e, n);

        write_bytes(fb, "qcow2 imagE", 11);
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), 1);
        assert_int_equal(e[1].status, SUMS_MISMATCH);
        sums_entries_free(e, n);
        /* Only the raw image: the changed qcow2 is not looked at. */
        assert_int_equal(signed_sums_verify(out, pub, "a.raw", &e, &n, &missing, &d), 0);
        assert_int_equal(e[0].status, SUMS_OK);
        assert_int_equal(e[1].status, SUMS_UNCHECKED);
        sums_entries_free(e, n);
        assert_int_equal(signed_sums_verify(out, pub, "c.iso", &e, &n, &missing, &d), -ENOENT);
        assert_string_equal(missing, "c.iso");
        unlink(fa);
        assert_int_equal(signed_sums_verify(out, pub, "a.raw", &e, &n, &missing, &d), 1);
        assert_int_equal(e[0].status, SUMS_MISSING);
        sums_entries_free(e, n);

        /* SHA256SUMS changed after signing. */
        write_bytes(sums, text, strlen(text) - 1);
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), -EBADMSG);
        unlink(sig);
        missing = NULL;
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), -ENOENT);
        assert_string_equal(missing, SHA256SUMS_SIG);

        /* The signed list is read in the installer's grammar: a comment and CRLF are fine, a name
         * outside the directory is -EUCLEAN with its place. */
        write_bytes(fb, "qcow2 image", 11);
        write_bytes(fa, "raw image", 9);
        _cleanup_free_ char *lenient = strprintf("# signed\r\n%s  ./a.raw\r\n%s *b.qcow2\r\n", ha, hb);
        write_bytes(sums, lenient, strlen(lenient));
        assert_int_equal(ed25519_sign_file(key, sums, sig), 0);
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), 0);
        assert_int_equal(n, 2);
        assert_string_equal(e[0].name, "a.raw");
        sums_entries_free(e, n);
        _cleanup_free_ char *outside = strprintf("%s  a.raw\n%s  ../b.qcow2\n", ha, hb);
        write_bytes(sums, outside, strlen(outside));
        assert_int_equal(ed25519_sign_file(key, sums, sig), 0);
        assert_int_equal(signed_sums_verify(out, pub, NULL, &e, &n, &missing, &d), -EUCLEAN);
        assert_int_equal(d.n_errors, 1);
        assert_int_equal(d.items[0].line, 2);
        diags_done(&d);

        unlink(sig);
        unlink(fa);
        unlink(fb);
        unlink(sums);
        unlink(key);
        unlink(pub);
        rmdir(out);
        rmdir(dir);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_ext4_times_script),
                cmocka_unit_test(test_ext4_times_script_bad),
                cmocka_unit_test(test_signing_pub_for_key),
                cmocka_unit_test(test_repro_compare),
                cmocka_unit_test(test_pins),
                cmocka_unit_test(test_signed_sums_verify),
                cmocka_unit_test(test_cache_stale_temporaries),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
