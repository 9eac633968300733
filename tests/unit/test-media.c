/* SPDX-License-Identifier: MIT */
/* Unit tests for the install media's pure parts: templates, modules.dep closure, ELF DT_NEEDED,
 * the ISO label, --pxe-url checks, and the libarchive initrd read back by cpio. */
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
#include "skip.h"

#include "build.h"
#include "cleanup.h"
#include "elf-deps.h"
#include "fileio.h"
#include "initrd-writer.h"
#include "installer.h"
#include "kmod-deps.h"
#include "media.h"
#include "spawn-run.h"
#include "template.h"
#include "util.h"

static char **V(const char *words) {
        char **l = NULL;
        assert_int_equal(strv_split(words, " ", &l), 0);
        return l;
}

static void test_template(void **state) {
        const char *vars[] = { "HOST", "lab-db1", "PXE_URL", "http://10.0.2.2:8080", "EMPTY", "", NULL };
        char *out = NULL, *unknown = NULL;
        assert_int_equal(template_expand("host @HOST@ url=@PXE_URL@/x @EMPTY@.", vars, &out, NULL), 0);
        assert_string_equal(out, "host lab-db1 url=http://10.0.2.2:8080/x .");
        free(out);
        /* Lone '@', lower case and e-mail-like text stay as they are. */
        assert_int_equal(template_expand("a@b.c @ @lower@ @@ end@", vars, &out, NULL), 0);
        assert_string_equal(out, "a@b.c @ @lower@ @@ end@");
        free(out);
        assert_int_equal(template_expand("", vars, &out, NULL), 0);
        assert_string_equal(out, "");
        free(out);
        assert_int_equal(template_expand("x @HSOT@ y", vars, &out, &unknown), -ENOKEY);
        assert_string_equal(unknown, "HSOT");
        free(unknown);
}

static char *make_tmpdir(void) {
        char *d = strdup("/var/tmp/test-media-XXXXXX");
        assert_non_null(d);
        assert_non_null(mkdtemp(d));
        return d;
}

static void rm_rf(const char *d) {
        const char *argv[] = { "rm", "-rf", "--", d, NULL };
        assert_int_equal(spawn_run(argv, NULL, NULL, NULL), 0);
}

static ssize_t index_of(char *const *l, const char *path) {
        for (size_t i = 0; l[i]; i++)
                if (streq(l[i], path))
                        return (ssize_t) i;
        return -1;
}

/* The resolver over depmod's indexes of a fake module tree (tests/unit/fake-module-tree.sh):
 * hard dependencies (modules.dep), soft ones (modules.softdep, ext4's "pre: crypto-crc32c"
 * through modules.alias), a "post:" soft dependency, a built-in and a missing module. */
static void test_kmod_resolve(void **state) {
        if (!find_executable("depmod") || !find_executable("cc"))
                skip_because("depmod or cc missing (make deps)");
        _cleanup_free_ char *d = make_tmpdir(), *cmd = strprintf("sh tests/unit/fake-module-tree.sh %s", d);
        assert_int_equal(system(cmd), 0);
        _cleanup_free_ char *moddir = strprintf("%s/lib/modules/9.9.9", d);
        _cleanup_strv_free_ char **names = V("ext4 xfs usb-storage isofs nosuch");
        struct kmod_resolution r = {};
        assert_int_equal(kmod_resolve(moddir, names, &r), 0);
        _cleanup_free_ char *j = strv_join(r.paths, " ");
        print_message("load order: %s\n", j);
        static const char *const all[] = { "kernel/lib/crc16.ko", "kernel/fs/jbd2.ko", "kernel/fs/ext4.ko",
                                           "kernel/crypto/crc32c_generic.ko", "kernel/arch/crc32c-intel.ko",
                                           "kernel/lib/libcrc32c.ko", "kernel/fs/xfs.ko",
                                           "kernel/drivers/usb-storage.ko", "kernel/drivers/uas.ko" };
        assert_int_equal(strv_length(r.paths), ELEMENTSOF(all)); /* each once */
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                assert_true(index_of(r.paths, all[i]) >= 0);
        /* before ext4: its dependencies and both crc32c drivers (the soft dependency by alias) */
        ssize_t ext4 = index_of(r.paths, "kernel/fs/ext4.ko");
        assert_true(index_of(r.paths, "kernel/fs/jbd2.ko") < ext4);
        assert_true(index_of(r.paths, "kernel/lib/crc16.ko") < index_of(r.paths, "kernel/fs/jbd2.ko"));
        assert_true(index_of(r.paths, "kernel/crypto/crc32c_generic.ko") < ext4);
        assert_true(index_of(r.paths, "kernel/arch/crc32c-intel.ko") < ext4);
        assert_true(index_of(r.paths, "kernel/lib/libcrc32c.ko") < index_of(r.paths, "kernel/fs/xfs.ko"));
        /* a "post:" soft dependency loads after its module */
        assert_true(index_of(r.paths, "kernel/drivers/uas.ko") > index_of(r.paths, "kernel/drivers/usb-storage.ko"));
        assert_int_equal(strv_length(r.builtin), 1);
        assert_string_equal(r.builtin[0], "isofs");
        assert_int_equal(strv_length(r.missing), 1);
        assert_string_equal(r.missing[0], "nosuch");
        kmod_resolution_done(&r);

        /* a module file that is not in the tree */
        _cleanup_free_ char *gone = strprintf("%s/kernel/fs/jbd2.ko", moddir);
        assert_int_equal(unlink(gone), 0);
        _cleanup_strv_free_ char **e = V("ext4");
        assert_int_equal(kmod_resolve(moddir, e, &r), -EBADMSG);
        rm_rf(d);

        char *n = kmod_name_normalize("kernel/drivers/usb/storage/usb-storage.ko.xz");
        assert_string_equal(n, "usb_storage");
        free(n);
}

static void read_path(const char *path, char **ret, size_t *ret_n) {
        assert_int_equal(read_file_full(AT_FDCWD, path, 64 << 20, ret, ret_n), 0);
}

static void test_elf_deps(void **state) {
        /* Our own firstboot binary: dynamic, with libc among its libraries. */
        _cleanup_free_ char *exe = realpath("/proc/self/exe", NULL);
        assert_non_null(exe);
        _cleanup_free_ char *data = NULL;
        size_t n = 0;
        read_path(exe, &data, &n);
        struct elf_deps d = {};
        assert_int_equal(elf_deps_parse(data, n, &d), 0);
        assert_non_null(d.interp);
        assert_true(startswith(d.interp, "/lib"));
        assert_true(strv_contains(d.needed, "libc.so.6"));
        assert_true(strv_contains(d.needed, "libcmocka.so.0"));
        elf_deps_done(&d);

        /* Every truncation is an error or a consistent answer, never a crash (ASan run). */
        for (size_t cut = 0; cut < 4096 && cut < n; cut += 7) {
                int r = elf_deps_parse(data, cut, &d);
                if (r == 0)
                        elf_deps_done(&d);
                else
                        assert_true(r == -EBADMSG || r == -EPROTONOSUPPORT);
        }
        assert_int_equal(elf_deps_parse("#!/bin/sh\n", 10, &d), -EBADMSG);
        char elf32[64] = "\177ELF\001\001";
        assert_int_equal(elf_deps_parse(elf32, sizeof elf32, &d), -EPROTONOSUPPORT);

        /* A static binary has neither, when busybox-static is installed. */
        if (access("/bin/busybox", R_OK) == 0) {
                _cleanup_free_ char *bb = NULL;
                read_path("/bin/busybox", &bb, &n);
                if (elf_deps_parse(bb, n, &d) == 0) {
                        assert_null(d.interp);
                        assert_null(d.needed[0]);
                        elf_deps_done(&d);
                }
        }
}

static void test_label_and_url(void **state) {
        char *l = installer_label("lab-db1");
        assert_string_equal(l, "RACKSTACK_LAB_DB1");
        free(l);
        l = installer_label("a-very-long-host-name.example.com");
        assert_int_equal(strlen(l), 32);
        assert_string_equal(l, "RACKSTACK_A_VERY_LONG_HOST_NAME_");
        free(l);

        assert_int_equal(build_check_pxe_url(NULL), 0);
        assert_int_equal(build_check_pxe_url("http://10.0.2.2:8080/rackstack/lab-db1"), 0);
        assert_int_equal(build_check_pxe_url("http://next-server/x"), 0);
        assert_int_equal(build_check_pxe_url("https://h/x"), -EINVAL);
        assert_int_equal(build_check_pxe_url("http://h/x/"), -EINVAL);
        assert_int_equal(build_check_pxe_url("http://h/a b"), -EINVAL);
        assert_int_equal(build_check_pxe_url("http://h/'x"), -EINVAL);
        assert_int_equal(build_check_pxe_url("http://u@h/x"), -EINVAL);
        assert_int_equal(build_check_pxe_url("http://"), -EINVAL);
        unsigned m;
        assert_int_equal(build_parse_formats(BUILD_FORMATS_DEFAULT, &m), 0);
        assert_int_equal(m, BUILD_FORMAT_RAW | BUILD_FORMAT_QCOW2 | BUILD_FORMAT_ISO | BUILD_FORMAT_PXE |
                                 BUILD_FORMAT_PROXMOX);
}

/* The PXE boot configurations the builder writes pin the installer's squashfs and the kickstart;
 * the ISO's carry no pins (its SHA256SUMS, signed, lists them); a host name that is not a plain
 * word never reaches a boot loader's command line. */
static void test_boot_config_pins(void **state) {
        struct profile prof = { .role = (char *) "db" };
        struct host_spec host = { .name = (char *) "lab-db1" };
        struct build_ctx ctx = { .profile = &prof, .host = &host, .data_dir = (char *) "." };
        static const char live[] = "1111111111111111111111111111111111111111111111111111111111111111";
        static const char ks[] = "2222222222222222222222222222222222222222222222222222222222222222";
        const struct media_pins pins = { .live_sha256 = live, .ks_sha256 = ks };
        static const char *const pxe[] = { "boot.ipxe", "pxelinux.cfg/default", "grub-net.cfg" };
        for (size_t i = 0; i < ELEMENTSOF(pxe); i++) {
                _cleanup_free_ char *t = NULL;
                assert_int_equal(media_render(&ctx, "RACKSTACK_LAB_DB1", "http://next-server/rackstack/lab-db1", &pins,
                                              pxe[i], &t), 0);
                if (!strstr(t, "rackstack.live.sha256=" "1111111111111111111111111111111111111111111111111111111111111111") ||
                    !strstr(t, "inst.ks=http://next-server/rackstack/lab-db1/ks.cfg inst.ks.sha256=" "2222222222222222"))
                        fail_msg("%s has no pins:\n%s", pxe[i], t);
        }
        _cleanup_free_ char *iso = NULL;
        assert_int_equal(media_render(&ctx, "RACKSTACK_LAB_DB1", NULL, NULL, "grub.cfg", &iso), 0);
        assert_null(strstr(iso, "sha256"));
        host.name = (char *) "lab-db1 init=/bin/sh";
        _cleanup_free_ char *bad = NULL;
        assert_int_equal(media_render(&ctx, "RACKSTACK_LAB_DB1", NULL, NULL, "grub.cfg", &bad), -EINVAL);
        assert_null(bad);
}

static void test_read_list(void **state) {
        char path[] = "/var/tmp/test-media-list-XXXXXX";
        int fd = mkstemp(path);
        assert_true(fd >= 0);
        const char *text = "# comment\nsquashfs loop  # trailing\n\n\toverlay\nloop\n";
        assert_int_equal(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
        _cleanup_strv_free_ char **l = NULL;
        assert_int_equal(installer_read_list(path, &l), 0);
        _cleanup_free_ char *j = strv_join(l, ",");
        assert_string_equal(j, "squashfs,loop,overlay");
        unlink(path);
}

/* The initrd written in-process, listed by GNU cpio after zstd -d: the kernel's format. */
static void test_initrd(void **state) {
        char dir[] = "/var/tmp/test-media-XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *img = strprintf("%s/initrd.img", dir);
        struct initrd_writer w = {};
        assert_int_equal(initrd_writer_open(img, 1700000000, &w), 0);
        assert_int_equal(initrd_add_chrdev(&w, "dev/console", 0600, 5, 1), 0);
        assert_int_equal(initrd_add_data(&w, "init", "#!/bin/sh\necho hi\n", 18, 0755), 0);
        assert_int_equal(initrd_add_data(&w, "lib/modules/6.1/kernel/fs/a.ko", "", 0, 0644), 0);
        assert_int_equal(initrd_add_symlink(&w, "bin/sh", "busybox"), 0);
        assert_int_equal(initrd_add_dir(&w, "lib/modules", 0755), 0); /* already there: no second entry */
        assert_int_equal(initrd_writer_close(&w), 0);
        initrd_writer_done(&w);

        _cleanup_free_ char *cmd = strprintf("zstd -dc %s 2>/dev/null | cpio -itv --quiet 2>&1 || gzip -dc %s | "
                                             "cpio -itv --quiet", img, img);
        const char *argv[] = { "sh", "-c", cmd, NULL };
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        _cleanup_free_ char *tail = NULL, *out = NULL;
        assert_int_equal(spawn_run(argv, &o, &tail, &out), 0);
        assert_non_null(strstr(out, "crw-------   1 root     root       5,   1"));
        assert_non_null(strstr(out, "dev/console"));
        assert_non_null(strstr(out, "-rwxr-xr-x   1 root     root           18"));
        assert_non_null(strstr(out, "lib/modules/6.1/kernel/fs/a.ko"));
        assert_non_null(strstr(out, "bin/sh -> busybox"));
        /* Parents first, each once. */
        const char *p_lib = strstr(out, " lib\n"), *p_mod = strstr(out, " lib/modules\n");
        assert_non_null(p_lib);
        assert_non_null(p_mod);
        assert_true(p_lib < p_mod);
        assert_null(strstr(p_mod + 1, " lib/modules\n"));

        /* read_fd_decompressed: a zstd file comes back plain, a plain file as it is. */
        _cleanup_free_ char *zcmd = strprintf("printf 'module bytes' > %s/m.ko && zstd -q %s/m.ko -o %s/m.ko.zst", dir, dir,
                                              dir);
        const char *zargv[] = { "sh", "-c", zcmd, NULL };
        assert_int_equal(spawn_run(zargv, NULL, NULL, NULL), 0);
        static const char *const names[] = { "m.ko", "m.ko.zst" };
        for (size_t i = 0; i < 2; i++) {
                _cleanup_free_ char *p = strprintf("%s/%s", dir, names[i]);
                _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
                assert_true(fd >= 0);
                _cleanup_free_ char *data = NULL;
                size_t n = 0;
                assert_int_equal(read_fd_decompressed(fd, 1024, &data, &n), 0);
                assert_int_equal(n, 12);
                assert_memory_equal(data, "module bytes", 12);
        }
        _cleanup_free_ char *rm = strprintf("rm -rf %s", dir);
        const char *rargv[] = { "sh", "-c", rm, NULL };
        assert_int_equal(spawn_run(rargv, NULL, NULL, NULL), 0);
}

static void put(const char *root, const char *rel, const char *text) {
        _cleanup_close_ int dfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        _cleanup_free_ char *parent = strdup(rel);
        char *slash = strrchr(parent, '/');
        if (slash) {
                *slash = 0;
                assert_int_equal(mkdir_parents_at(dfd, parent, 0755), 0);
        }
        assert_int_equal(write_file_atomic(dfd, rel, text, strlen(text), 0644), 0);
}

/* The plan read from a made-up role tree: the newest kernel that has modules, the module closure
 * minus built-ins, and an ELF file's libraries found through the search path, with an absolute
 * symlink resolved inside the tree (not on the build host). */
static void test_installer_plan(void **state) {
        char root[] = "/var/tmp/test-media-tree-XXXXXX";
        assert_non_null(mkdtemp(root));
        put(root, "boot/vmlinuz-6.9.0-1", "k");
        put(root, "boot/vmlinuz-6.10.0-1", "k");
        put(root, "boot/vmlinuz-6.11.0-1", "k"); /* no modules: not chosen */
        put(root, "lib/modules/6.9.0-1/modules.dep", "");
        if (!find_executable("depmod") || !find_executable("cc"))
                skip_because("depmod or cc missing (make deps)");
        _cleanup_free_ char *cmd = strprintf("sh tests/unit/fake-module-tree.sh %s 6.10.0-1", root);
        assert_int_equal(system(cmd), 0);

        _cleanup_free_ char *elf = NULL;
        size_t n = 0;
        assert_int_equal(read_file_full(AT_FDCWD, "tests/fuzz/corpus/elf-deps/tiny.so", 1 << 20, &elf, &n), 0);
        _cleanup_free_ char *prog = strprintf("%s/usr/bin/prog", root);
        put(root, "usr/bin/prog", "");
        _cleanup_close_ int fd = open(prog, O_WRONLY | O_TRUNC | O_CLOEXEC);
        assert_int_equal(write(fd, elf, n), (ssize_t) n);
        /* libm: an absolute symlink that only makes sense inside the tree; libc: in /lib only. */
        put(root, "usr/lib/x86_64-linux-gnu/libm-tree-only.so", "not an ELF file");
        _cleanup_free_ char *link = strprintf("%s/usr/lib/x86_64-linux-gnu/libm.so.6", root);
        assert_int_equal(symlink("/usr/lib/x86_64-linux-gnu/libm-tree-only.so", link), 0);
        put(root, "lib/x86_64-linux-gnu/libc.so.6", "not an ELF file either");
        put(root, "etc/os-release", "ID=test\n");

        _cleanup_strv_free_ char **mods = V("ext4 isofs nosuch");
        _cleanup_strv_free_ char **net = V("xfs ext4");
        _cleanup_strv_free_ char **files = V("/usr/bin/prog /etc/os-release ?/etc/missing");
        struct installer_plan p = {};
        assert_int_equal(installer_plan_make(root, mods, net, files, &p), 0);
        assert_string_equal(p.kver, "6.10.0-1");
        assert_string_equal(p.kernel, "boot/vmlinuz-6.10.0-1");
        _cleanup_free_ char *m = strv_join(p.modules, " ");
        /* ext4 with its dependencies and the crc32c drivers its soft dependency names */
        assert_int_equal(strv_length(p.modules), 5);
        assert_string_equal(p.modules[4], "kernel/fs/ext4.ko");
        assert_true(strv_contains(p.modules, "kernel/crypto/crc32c_generic.ko"));
        _cleanup_free_ char *mn = strv_join(p.modules_net, " ");
        assert_string_equal(mn, "kernel/lib/libcrc32c.ko kernel/fs/xfs.ko"); /* none of `modules` again */
        _cleanup_free_ char *sk = strv_join(p.modules_skipped, " ");
        assert_string_equal(sk, "nosuch"); /* isofs is built in */
        _cleanup_free_ char *lf = strv_join(p.live_files, " ");
        assert_string_equal(lf, "usr/bin/prog usr/lib/x86_64-linux-gnu/libm.so.6 lib/x86_64-linux-gnu/libc.so.6 "
                                "etc/os-release");
        _cleanup_free_ char *ld = strv_join(p.lib_dirs, ":");
        assert_string_equal(ld, "usr/lib/x86_64-linux-gnu:lib/x86_64-linux-gnu");
        installer_plan_done(&p);

        /* A required file that is missing, and a library nowhere in the tree, are errors. */
        _cleanup_strv_free_ char **missing = V("/usr/bin/nothere");
        assert_int_equal(installer_plan_make(root, mods, net, missing, &p), -ENOENT);
        assert_int_equal(unlink(link), 0);
        assert_int_equal(installer_plan_make(root, mods, net, files, &p), -ENOENT);

        _cleanup_free_ char *rm = strprintf("rm -rf %s", root);
        const char *argv[] = { "sh", "-c", rm, NULL };
        assert_int_equal(spawn_run(argv, NULL, NULL, NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_template),     cmocka_unit_test(test_kmod_resolve),
                cmocka_unit_test(test_elf_deps),     cmocka_unit_test(test_label_and_url), cmocka_unit_test(test_boot_config_pins),
                cmocka_unit_test(test_read_list),    cmocka_unit_test(test_initrd),
                cmocka_unit_test(test_installer_plan),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
