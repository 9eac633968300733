/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "gpt.h"

static void put_le(uint8_t *p, uint64_t v, int n) {
        for (int i = 0; i < n; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

static uint64_t get_le(const uint8_t *p, int n) {
        uint64_t v = 0;
        for (int i = n - 1; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}

/* A disk head at sector size ss: protective MBR, primary header at LBA 1, 128 entries of 128
 * bytes at LBA 2; entry 2 is "root" from LBA first to last (entry 1 unused). CRCs are right. */
static void make_head(uint8_t *head, uint32_t ss, uint64_t n_lbas, uint64_t first, uint64_t last) {
        uint8_t *h = head + ss, *ents = head + 2 * ss, *e = ents + 128;
        memset(head, 0, 2 * ss + 128 * 128);
        head[446 + 4] = 0xee;
        put_le(head + 446 + 12, n_lbas - 1, 4);
        head[510] = 0x55, head[511] = 0xaa;
        e[0] = 0xe3; /* a type GUID */
        put_le(e + 32, first, 8);
        put_le(e + 40, last, 8);
        e[56] = 'r', e[58] = 'o', e[60] = 'o', e[62] = 't';
        uint64_t entry_lbas = 128 * 128 / ss;
        memcpy(h, "EFI PART", 8);
        put_le(h + 8, 0x00010000, 4);
        put_le(h + 12, 92, 4);
        put_le(h + 24, 1, 8);
        put_le(h + 32, n_lbas - 1, 8);
        put_le(h + 40, 2 + entry_lbas, 8);
        put_le(h + 48, n_lbas - 2 - entry_lbas, 8);
        put_le(h + 72, 2, 8);
        put_le(h + 80, 128, 4);
        put_le(h + 84, 128, 4);
        put_le(h + 88, gpt_crc32(ents, 128 * 128), 4);
        gpt_header_reseal(h, 92);
}

static void test_crc_and_guid(void **state) {
        uint8_t g[16];
        const uint8_t esp[16] = { 0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11,
                                  0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e, 0xc9, 0x3b };
        assert_int_equal(gpt_crc32("123456789", 9), 0xcbf43926); /* the CRC-32 check value */
        assert_int_equal(gpt_guid_from_string("C12A7328-F81F-11D2-BA4B-00A0C93EC93B", g), 0);
        assert_memory_equal(g, esp, 16);
        assert_int_equal(gpt_guid_from_string("C12A7328-F81F-11D2-BA4B-00A0C93EC93", g), -EINVAL);
}

static void test_find_partition(void **state) {
        static const uint32_t sizes[] = { 512, 4096 };
        for (size_t k = 0; k < 2; k++) {
                uint32_t ss = sizes[k];
                size_t n = 2 * ss + 128 * 128;
                uint8_t *head = calloc(1, n);
                assert_non_null(head);
                make_head(head, ss, 1 << 20, 256, 511);
                uint64_t start = 0;
                char *name = NULL;
                assert_int_equal(gpt_find_partition(head, n, ss, 256 * (uint64_t) ss + 7, &start, &name), 2);
                assert_int_equal(start, 256 * (uint64_t) ss);
                assert_string_equal(name, "root");
                free(name);
                /* just past the end, before the start, inside the table */
                assert_int_equal(gpt_find_partition(head, n, ss, 512 * (uint64_t) ss, &start, &name), 0);
                assert_int_equal(gpt_find_partition(head, n, ss, 100, &start, &name), 0);
                /* the other sector size does not find this table */
                assert_int_equal(gpt_find_partition(head, n, ss == 512 ? 4096 : 512, 256 * 512, &start, &name),
                                 -EBADMSG);
                head[ss] = 'X';
                assert_int_equal(gpt_find_partition(head, n, ss, 256 * (uint64_t) ss, &start, &name), -EBADMSG);
                free(head);
        }
}

static void test_header_parse_limits(void **state) {
        uint8_t head[2 * 512 + 128 * 128];
        struct gpt_header h;
        make_head(head, 512, 1 << 20, 256, 511);
        assert_int_equal(gpt_header_parse(head + 512, 512, true, &h), 0);
        assert_int_equal(h.n_entries, 128);
        assert_int_equal(h.alternate_lba, (1 << 20) - 1);
        head[512 + 60] ^= 1; /* inside the CRC'd header */
        assert_int_equal(gpt_header_parse(head + 512, 512, true, &h), -EBADMSG);
        assert_int_equal(gpt_header_parse(head + 512, 512, false, &h), 0);
        make_head(head, 512, 1 << 20, 256, 511);
        put_le(head + 512 + 84, 100, 4); /* entry size below 128 */
        gpt_header_reseal(head + 512, 92);
        assert_int_equal(gpt_header_parse(head + 512, 512, true, &h), -EBADMSG);
        make_head(head, 512, 1 << 20, 256, 511);
        put_le(head + 512 + 80, 1u << 30, 4); /* an entry array of 128 GiB */
        gpt_header_reseal(head + 512, 92);
        assert_int_equal(gpt_header_parse(head + 512, 512, true, &h), -EBADMSG);
}

/* On a real file: an image's table moved to the end of a larger "disk", at both sector sizes,
 * then read back from where a firmware or sfdisk would look for each copy. */
static void test_move_backup_on_file(void **state) {
        static const uint32_t sizes[] = { 512, 4096 };
        for (size_t k = 0; k < 2; k++) {
                uint32_t ss = sizes[k];
                char path[] = "/tmp/test-gpt-XXXXXX";
                int fd = mkstemp(path);
                assert_true(fd >= 0);
                uint64_t image_lbas = 4096, disk_lbas = 65536, entry_lbas = 128 * 128 / ss;
                size_t n = 2 * ss + 128 * 128;
                uint8_t *head = calloc(1, n);
                assert_non_null(head);
                make_head(head, ss, image_lbas, 64, 1000);
                assert_int_equal(pwrite_exact(fd, head, n, 0), 0);
                /* the image's backup header where the image ended */
                assert_int_equal(pwrite_exact(fd, head + ss, ss, (image_lbas - 1) * ss), 0);
                assert_int_equal(ftruncate(fd, (off_t) (disk_lbas * ss)), 0);

                assert_int_equal(gpt_move_backup_to_end(fd, ss, disk_lbas * ss), 0);

                struct gpt_table p = {}, b = {};
                assert_int_equal(gpt_table_read(fd, ss, 1, true, &p), 0);
                assert_int_equal(p.h.alternate_lba, disk_lbas - 1);
                assert_int_equal(p.h.last_usable_lba, disk_lbas - 2 - entry_lbas);
                assert_int_equal(gpt_table_read(fd, ss, disk_lbas - 1, true, &b), 0);
                assert_int_equal(b.h.my_lba, disk_lbas - 1);
                assert_int_equal(b.h.alternate_lba, 1);
                assert_int_equal(b.h.entries_lba, disk_lbas - 1 - entry_lbas);
                assert_memory_equal(b.entries, p.entries, p.entries_size);
                struct gpt_entry e;
                assert_true(gpt_entry_get(b.entries, b.h.entry_size, 1, &e));
                assert_int_equal(e.first_lba, 64);
                assert_string_equal(e.name, "root");
                assert_false(gpt_signature_at(fd, (image_lbas - 1) * ss)); /* the stale copy is gone */
                uint8_t mbr[512];
                assert_int_equal(pread_exact(fd, mbr, sizeof mbr, 0), 0);
                assert_int_equal(get_le(mbr + 446 + 12, 4), disk_lbas - 1);
                gpt_table_done(&p);
                gpt_table_done(&b);

                /* a table that does not fit: nothing written */
                assert_int_equal(gpt_move_backup_to_end(fd, ss, 900 * ss), -ENOSPC);
                free(head);
                close(fd);
                unlink(path);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_crc_and_guid),
                cmocka_unit_test(test_find_partition),
                cmocka_unit_test(test_header_parse_limits),
                cmocka_unit_test(test_move_backup_on_file),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
