/* SPDX-License-Identifier: MIT */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cleanup.h"
#include "gpt-write.h"
#include "image-config.h"
#include "image-plan.h"
#include "util.h"

#define P(n, t, ...) ((struct partition_spec) { .name = (char *) (n), .type = (t), __VA_ARGS__ })

static struct disk_spec disk_of(struct partition_spec *parts, size_t n) {
        return (struct disk_spec) { .name = (char *) "os", .os = true, .parts = parts, .n_parts = n,
                                    .src = { "base.yaml", 3, 5 } };
}

/* The seed's OS disk: esp 512M, bios-boot 1M, root grow. */
static void test_seed_layout(void **state) {
        struct partition_spec parts[] = {
                P("esp", PART_ESP, .size = 512 * MiB, .fs = FS_VFAT, .mount = (char *) "/boot/efi"),
                P("bios-boot", PART_BIOS_BOOT, .size = 1 * MiB),
                P("root", PART_ROOT, .grow = true, .fs = FS_EXT4, .mount = (char *) "/"),
        };
        struct disk_spec d = disk_of(parts, 3);
        struct diags dg = {};
        struct image_layout l = {};

        assert_int_equal(image_layout_plan(&d, 4 * GiB, "seed", &dg, &l), 0);
        assert_int_equal(l.n_parts, 3);
        assert_int_equal(l.parts[0].offset, 1 * MiB);
        assert_int_equal(l.parts[0].size, 512 * MiB);
        assert_int_equal(l.parts[1].offset, 513 * MiB);
        assert_int_equal(l.parts[1].size, 1 * MiB);
        assert_int_equal(l.parts[2].offset, 514 * MiB);
        /* The last MiB holds the backup GPT, so root ends 1 MiB before the end. */
        assert_int_equal(l.parts[2].offset + l.parts[2].size, 4 * GiB - 1 * MiB);
        assert_null(l.parts[1].fs_uuid);
        assert_int_equal(strlen(l.parts[0].fs_uuid), 9); /* FAT serial XXXX-XXXX */
        assert_int_equal(l.parts[0].fs_uuid[4], '-');
        assert_int_equal(strlen(l.parts[2].fs_uuid), 36);
        assert_string_equal(l.parts[2].mount, "/");
        for (size_t i = 0; i < l.n_parts; i++)
                assert_int_equal(l.parts[i].offset % MiB, 0);
        image_layout_done(&l);
        diags_done(&dg);
}

/* A disk size that is not a whole number of MiB: the end is still aligned, and the backup GPT
 * (33 sectors) is never overlapped. */
static void test_unaligned_disk(void **state) {
        struct partition_spec parts[] = { P("root", PART_ROOT, .grow = true, .fs = FS_EXT4, .mount = (char *) "/") };
        struct disk_spec d = disk_of(parts, 1);
        struct diags dg = {};
        struct image_layout l = {};
        uint64_t size = 100 * MiB + 40 * 512;

        assert_int_equal(image_layout_plan(&d, size, "seed", &dg, &l), 0);
        assert_int_equal(l.parts[0].offset + l.parts[0].size, 100 * MiB);
        image_layout_done(&l);

        /* 100 MiB + 16 sectors: the backup GPT does not fit after 100 MiB, so root ends at 99 MiB. */
        assert_int_equal(image_layout_plan(&d, 100 * MiB + 16 * 512, "seed", &dg, &l), 0);
        assert_int_equal(l.parts[0].offset + l.parts[0].size, 99 * MiB);
        image_layout_done(&l);

        assert_int_equal(image_layout_plan(&d, 100 * MiB + 3, "seed", &dg, &l), -EINVAL);
        diags_done(&dg);
}

static void test_percent_rounding_and_caps(void **state) {
        struct partition_spec parts[] = {
                P("esp", PART_ESP, .size = 100 * MiB + 1, .fs = FS_VFAT, .mount = (char *) "/boot/efi"),
                P("var", PART_VAR, .percent = 10, .fs = FS_EXT4, .mount = (char *) "/var"),
                P("tmp", PART_TMP, .percent = 50, .max_size = 300 * MiB, .fs = FS_EXT4, .mount = (char *) "/var/tmp"),
                P("root", PART_ROOT, .grow = true, .max_size = 1 * GiB, .fs = FS_EXT4, .mount = (char *) "/"),
        };
        struct disk_spec d = disk_of(parts, 4);
        struct diags dg = {};
        struct image_layout l = {};

        assert_int_equal(image_layout_plan(&d, 10 * GiB, NULL, &dg, &l), 0);
        assert_int_equal(l.parts[0].size, 101 * MiB);                    /* fixed rounds up */
        assert_int_equal(l.parts[1].size, 1 * GiB);                      /* 10% of 10 GiB, exactly */
        assert_int_equal(l.parts[2].size, 300 * MiB);                    /* capped */
        assert_int_equal(l.parts[3].size, 1 * GiB);                      /* grow capped */
        for (size_t i = 1; i < l.n_parts; i++)
                assert_int_equal(l.parts[i].offset, l.parts[i - 1].offset + l.parts[i - 1].size);
        image_layout_done(&l);
        diags_done(&dg);
}

static void test_too_small(void **state) {
        struct partition_spec parts[] = {
                P("esp", PART_ESP, .size = 512 * MiB, .fs = FS_VFAT, .mount = (char *) "/boot/efi"),
                P("bios-boot", PART_BIOS_BOOT, .size = 1 * MiB),
                P("root", PART_ROOT, .grow = true, .fs = FS_EXT4, .mount = (char *) "/"),
        };
        struct disk_spec d = disk_of(parts, 3);
        struct diags dg = {};
        struct image_layout l = { .n_parts = 12345 };

        /* 514 MiB used + 1 MiB for the backup GPT: the grow partition gets nothing. */
        assert_int_equal(image_layout_plan(&d, 515 * MiB, "seed", &dg, &l), -ENOSPC);
        assert_int_equal(l.n_parts, 12345); /* untouched on failure */
        assert_int_equal(dg.n_errors, 1);
        assert_string_equal(dg.items[0].file, "base.yaml");
        assert_int_equal(dg.items[0].line, 3);
        assert_non_null(strstr(dg.items[0].message, "need 513M plus at least 1M to grow, but a 515M image"));
        diags_done(&dg);

        assert_int_equal(image_layout_plan(&d, 516 * MiB, "seed", &dg, &l), 0);
        assert_int_equal(l.parts[2].size, 1 * MiB);
        image_layout_done(&l);
        diags_done(&dg);

        assert_int_equal(image_layout_plan(&d, 1 * MiB, "seed", &dg, &l), -ENOSPC);
        diags_done(&dg);
}

static void test_bad_specs(void **state) {
        struct diags dg = {};
        struct image_layout l = {};

        struct partition_spec two_grow[] = {
                P("a", PART_LINUX, .grow = true, .fs = FS_EXT4),
                P("b", PART_ROOT, .grow = true, .fs = FS_EXT4, .mount = (char *) "/"),
        };
        struct disk_spec d = disk_of(two_grow, 2);
        assert_int_equal(image_layout_plan(&d, 1 * GiB, NULL, &dg, &l), -EINVAL);
        assert_non_null(strstr(dg.items[0].message, "only one"));
        diags_done(&dg);

        struct partition_spec no_size[] = { P("a", PART_LINUX, .fs = FS_EXT4) };
        d = disk_of(no_size, 1);
        assert_int_equal(image_layout_plan(&d, 1 * GiB, NULL, &dg, &l), -EINVAL);
        diags_done(&dg);

        struct partition_spec over[] = { P("a", PART_LINUX, .percent = 60), P("b", PART_LINUX, .percent = 50) };
        d = disk_of(over, 2);
        assert_int_equal(image_layout_plan(&d, 1 * GiB, NULL, &dg, &l), -EINVAL);
        diags_done(&dg);

        d = disk_of(NULL, 0);
        assert_int_equal(image_layout_plan(&d, 1 * GiB, NULL, &dg, &l), -EINVAL);
        diags_done(&dg);
}

/* Same seed, same GUIDs; different role or epoch, different ones; no seed, random. */
static void test_guid_derivation(void **state) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL, *r1 = NULL, *r2 = NULL, *s = NULL;

        assert_int_equal(uuid_derive("rackstack:db:1700000000", "part:root", &a), 0);
        assert_int_equal(uuid_derive("rackstack:db:1700000000", "part:root", &b), 0);
        assert_int_equal(uuid_derive("rackstack:db:1700000001", "part:root", &c), 0);
        assert_string_equal(a, b);
        assert_string_not_equal(a, c);
        assert_int_equal(strlen(a), 36);
        assert_int_equal(a[14], '4');                  /* version 4 */
        assert_non_null(strchr("89ab", a[19]));       /* RFC 4122 variant */
        assert_int_equal(uuid_derive(NULL, "x", &r1), 0);
        assert_int_equal(uuid_derive(NULL, "x", &r2), 0);
        assert_string_not_equal(r1, r2);
        assert_int_equal(fat_serial_derive("seed", "fs:esp", &s), 0);
        assert_int_equal(strlen(s), 9);
        for (const char *p = s; *p; p++)
                assert_non_null(strchr("0123456789ABCDEF-", *p));
}

static void test_gpt_guid_encoding(void **state) {
        uint8_t g[16];
        /* The ESP type GUID as it appears on disk (UEFI spec, table 5-7). */
        const uint8_t esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
        assert_int_equal(gpt_guid_from_string("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", g), 0);
        assert_memory_equal(g, esp, 16);
        assert_int_equal(gpt_guid_from_string("c12a7328-f81f-11d2-ba4b-00a0c93ec93b", g), 0);
        assert_memory_equal(g, esp, 16);
        assert_int_equal(gpt_guid_from_string("C12A7328-F81F-11D2-BA4B-00A0C93EC93", g), -EINVAL);
        assert_int_equal(gpt_guid_from_string("C12A7328+F81F-11D2-BA4B-00A0C93EC93B", g), -EINVAL);
        assert_int_equal(gpt_guid_from_string("G12A7328-F81F-11D2-BA4B-00A0C93EC93B", g), -EINVAL);
        assert_int_equal(gpt_crc32("123456789", 9), 0xcbf43926); /* the CRC-32 check value */
}

static void test_fstab(void **state) {
        struct partition_spec parts[] = {
                P("esp", PART_ESP, .size = 512 * MiB, .fs = FS_VFAT, .mount = (char *) "/boot/efi"),
                P("bios-boot", PART_BIOS_BOOT, .size = 1 * MiB),
                P("var", PART_VAR, .size = 1 * GiB, .fs = FS_EXT4, .mount = (char *) "/var",
                  .options = (char *) "noatime"),
                P("swap", PART_SWAP, .size = 1 * GiB, .fs = FS_SWAP),
                P("root", PART_ROOT, .grow = true, .fs = FS_EXT4, .mount = (char *) "/"),
        };
        struct disk_spec d = disk_of(parts, 5);
        struct diags dg = {};
        struct image_layout l = {};

        assert_int_equal(image_layout_plan(&d, 8 * GiB, "seed", &dg, &l), 0);
        _cleanup_free_ char *f = fstab_render(&d, &l);
        assert_non_null(f);
        char *root = strstr(f, l.parts[4].fs_uuid), *esp = strstr(f, l.parts[0].fs_uuid);
        char *var = strstr(f, l.parts[2].fs_uuid), *swap = strstr(f, l.parts[3].fs_uuid);
        assert_non_null(root);
        assert_non_null(esp);
        assert_non_null(var);
        assert_non_null(swap);
        assert_true(root < esp && root < var); /* root is mounted first */
        assert_non_null(strstr(esp, "umask=0077"));
        assert_non_null(strstr(var, "noatime"));
        assert_non_null(strstr(swap, "none  swap  sw"));
        assert_null(strstr(f, "bios-boot"));
        assert_non_null(strstr(root, "  /  ") ? root : strstr(root, " / "));
        image_layout_done(&l);
        diags_done(&dg);
}

static void test_grub_cfg(void **state) {
        struct grub_entry_spec e = { .title = "Debian GNU/Linux", .root_uuid = "0b5a1ab0-0000-4000-8000-000000000002",
                                     .kernel = "/vmlinuz", .initrd = "/initrd.img", .version = "6.1.0-56-amd64",
                                     .has_initrd_version = true };
        _cleanup_free_ char *c = grub_cfg_render(&e);
        assert_non_null(c);
        assert_non_null(strstr(c, "terminal_input serial console\n"));
        assert_non_null(strstr(c, "terminal_output serial console\n"));
        assert_non_null(strstr(c, "linux /vmlinuz root=UUID=0b5a1ab0-0000-4000-8000-000000000002 rw console=tty0 "
                                  "console=ttyS0,115200n8\n"));
        assert_non_null(strstr(c, "initrd /boot/initrd.img-6.1.0-56-amd64\n"));
        assert_non_null(strstr(c, "set timeout=1\n"));

        _cleanup_free_ char *early = grub_early_cfg_render("abc");
        assert_string_equal(early, "search --no-floppy --fs-uuid --set=root abc\nset prefix=($root)/boot/grub\n"
                                   "configfile $prefix/grub.cfg\n");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_seed_layout),        cmocka_unit_test(test_unaligned_disk),
                cmocka_unit_test(test_percent_rounding_and_caps), cmocka_unit_test(test_too_small),
                cmocka_unit_test(test_bad_specs),          cmocka_unit_test(test_guid_derivation),
                cmocka_unit_test(test_gpt_guid_encoding),  cmocka_unit_test(test_fstab),
                cmocka_unit_test(test_grub_cfg),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
