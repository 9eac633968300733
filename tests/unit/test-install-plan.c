/* SPDX-License-Identifier: MIT */
/* The installer's plan: SHA256SUMS parsing, the zstd frame header, which disks count as the boot
 * medium, the choice of the OS disk (boot medium excluded, too small refused, a disk with data
 * refused unless clearpart names it, ignoredisk), and the backup GPT moved to a larger disk's end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cleanup.h"
#include "gpt.h"
#include "install-plan.h"

#define STRV(...) ((char **) (const char *[]) { __VA_ARGS__, NULL })

static const char *const HEX_A = "6726d22c70d6b4c9729a4a22aa6175f02ff9e0e8a212179d7f37955cadc1ff86";
static const char *const HEX_B = "f95c51de1a725b4562e8e7d41dfb6e590782c40fcb73de53425b6dd6735858e8";

/* ---- SHA256SUMS ---------------------------------------------------------------------------------- */

static int parse(const char *text, struct sha256sums *s, struct diags *d) {
        return sha256sums_parse(text, strlen(text), "SHA256SUMS", d, s);
}

static void test_sums_upper_case_and_pick(void **state) {
        _cleanup_free_ char *upper = strdup(HEX_A);
        for (char *p = upper; *p; p++)
                if (*p >= 'a' && *p <= 'f')
                        *p = (char) (*p - 'a' + 'A');
        /* gz listed first: zst is still preferred */
        _cleanup_free_ char *text = strprintf("%s  lab-db1.raw.gz\n%s  lab-db1.raw.zst\n", upper, HEX_B);
        struct sha256sums s = {};
        struct diags d = {};
        assert_int_equal(parse(text, &s, &d), 0);
        assert_string_equal(sha256sums_lookup(&s, "lab-db1.raw.gz"), HEX_A);
        assert_string_equal(sha256sums_pick_image(&s), "lab-db1.raw.zst");
        sha256sums_done(&s);
        diags_done(&d);

        _cleanup_free_ char *only_gz = strprintf("%s  lab-db1.raw.gz\n%s  lab-db1.raw\n", HEX_A, HEX_B);
        assert_int_equal(parse(only_gz, &s, &d), 0);
        assert_string_equal(sha256sums_pick_image(&s), "lab-db1.raw.gz");
        sha256sums_done(&s);
        diags_done(&d);

        _cleanup_free_ char *none = strprintf("%s  lab-db1.raw\n%s  sub/x.raw.zst\n", HEX_A, HEX_B);
        assert_int_equal(parse(none, &s, &d), 0);
        assert_null(sha256sums_pick_image(&s));
        sha256sums_done(&s);
        diags_done(&d);
}

/* ---- zstd frame header --------------------------------------------------------------------------- */

static void test_zstd_fcs(void **state) {
        uint64_t v = 0;
        /* FCS flag 2 (4 bytes), window descriptor present: 256 MiB */
        static const uint8_t f4[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x84, 0x70, 0x00, 0x00, 0x00, 0x10 };
        assert_int_equal(zstd_frame_content_size(f4, sizeof f4, &v), 0);
        assert_int_equal(v, 256 * MiB);
        /* FCS flag 3 (8 bytes), single segment: 5 GiB */
        static const uint8_t f8[] = { 0x28, 0xb5, 0x2f, 0xfd, 0xe0, 0x00, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00, 0x00 };
        assert_int_equal(zstd_frame_content_size(f8, sizeof f8, &v), 0);
        assert_int_equal(v, 5 * GiB);
        /* FCS flag 1 (2 bytes, +256) with a 1-byte dictionary id */
        static const uint8_t f2[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x41, 0x70, 0x07, 0x00, 0x01 };
        assert_int_equal(zstd_frame_content_size(f2, sizeof f2, &v), 0);
        assert_int_equal(v, 256 + 256);
        /* single segment, flag 0: one byte */
        static const uint8_t f1[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x20, 0x2a };
        assert_int_equal(zstd_frame_content_size(f1, sizeof f1, &v), 0);
        assert_int_equal(v, 42);
        /* no content size (streamed input) */
        static const uint8_t f0[] = { 0x28, 0xb5, 0x2f, 0xfd, 0x04, 0x70 };
        assert_int_equal(zstd_frame_content_size(f0, sizeof f0, &v), -ENODATA);
        /* truncated, wrong magic (gzip) */
        assert_int_equal(zstd_frame_content_size(f4, 7, &v), -EAGAIN);
        assert_int_equal(zstd_frame_content_size(f4, 3, &v), -EAGAIN);
        static const uint8_t gz[] = { 0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00 };
        assert_int_equal(zstd_frame_content_size(gz, sizeof gz, &v), -EBADMSG);
        assert_int_equal(zstd_frame_content_size(gz, 2, &v), -EBADMSG);
}

/* ---- disks by hand ------------------------------------------------------------------------------ */

struct fake {
        const char *name;
        uint64_t size;
        unsigned cls;
        unsigned transport;
        const char *sigs; /* comma-separated types on the raw disk */
        const char *label; /* of an iso9660 signature */
        bool root, removable;
};

static void add_disk(struct disk_set *s, const struct fake *f) {
        s->disks = realloc(s->disks, (s->n_disks + 1) * sizeof *s->disks);
        assert_non_null(s->disks);
        struct disk_info *d = &s->disks[s->n_disks++];
        *d = (struct disk_info) {
                .name = strdup(f->name),
                .devnode = strprintf("/dev/%s", f->name),
                .size = f->size,
                .logical_sector_size = 512,
                .physical_sector_size = 512,
                .rotational = f->cls == DISK_CLASS_HDD,
                .removable = f->removable,
                .transport = f->cls == DISK_CLASS_NVME ? TRANSPORT_NVME : f->transport,
                .serial = strprintf("SER-%s", f->name),
                .holds_root = f->root,
                .boot_medium = f->root,
        };
        if (f->sigs) {
                _cleanup_strv_free_ char **l = NULL;
                assert_int_equal(strv_split(f->sigs, ",", &l), 0);
                for (char **t = l; *t; t++) {
                        d->sigs = realloc(d->sigs, (d->n_sigs + 1) * sizeof *d->sigs);
                        d->sigs[d->n_sigs++] = (struct disk_signature) {
                                .type = strdup(*t), .usage = strdup("other"),
                                .label = streq(*t, "iso9660") && f->label ? strdup(f->label) : NULL,
                        };
                }
        }
}

static struct disk_set *make_set(const struct fake *f, size_t n) {
        struct disk_set *s = calloc(1, sizeof *s);
        assert_non_null(s);
        for (size_t i = 0; i < n; i++)
                add_disk(s, &f[i]);
        return s;
}

static void test_boot_media(void **state) {
        static const struct fake f[] = {
                { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },                                 /* holds the source */
                { "sdb", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "iso9660", "OTHER" },              /* USB stick */
                { "sdc", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "iso9660", "OTHER", false, true }, /* removable */
                { "sdd", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "iso9660", "RACKSTACK-DB" },       /* our label */
                { "sde", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "iso9660", "MEDIUM" },             /* = the source's */
                { "sdf", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "iso9660", "OTHER" },              /* a fixed disk */
                { "sdg", 8 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "gpt,ext4" },                      /* USB, not a medium */
        };
        _cleanup_(disk_set_freep) struct disk_set *s = make_set(f, ELEMENTSOF(f));
        install_mark_boot_media(s, "sda", "MEDIUM");
        static const bool want[] = { true, true, true, true, true, false, false };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                assert_int_equal(s->disks[i].boot_medium, want[i]);

        /* no source disk (HTTP), no label: only the USB/removable ISO and our label */
        _cleanup_(disk_set_freep) struct disk_set *t = make_set(f, ELEMENTSOF(f));
        install_mark_boot_media(t, NULL, NULL);
        static const bool want2[] = { false, true, true, true, false, false, false };
        for (size_t i = 0; i < ELEMENTSOF(want2); i++)
                assert_int_equal(t->disks[i].boot_medium, want2[i]);
}

/* ---- the plan --------------------------------------------------------------------------------------- */

struct run {
        struct sha256sums sums;
        struct disk_set *set;
        struct install_plan *plan;
};

static void run_done(struct run *r) {
        install_plan_free(r->plan);
        disk_set_free(r->set);
        sha256sums_done(&r->sums);
}

static const struct disk_spec os_spec = { .name = (char *) "os", .os = true, .classes = DISK_CLASS_SSD, .min_size = 50 * GiB,
                                          .count = 1 };

static void plan(struct run *r, const struct fake *f, size_t n, const char *boot, const struct storage_answers *a,
                 const struct install_input *extra) {
        *r = (struct run) {};
        _cleanup_free_ char *text = strprintf("%s  image.raw.zst\n%s  lab-db1.raw\n", HEX_A, HEX_B);
        struct diags d = {};
        assert_int_equal(sha256sums_parse(text, strlen(text), "S", &d, &r->sums), 0);
        diags_done(&d);
        r->set = make_set(f, n);
        install_mark_boot_media(r->set, boot, NULL);
        struct install_input in = extra ? *extra : (struct install_input) {};
        in.source = "/run/medium";
        in.sums = &r->sums;
        if (!in.n_specs) {
                in.specs = &os_spec;
                in.n_specs = 1;
        }
        in.answers = a;
        in.disks = r->set;
        assert_int_equal(install_plan_build(&in, &r->plan), 0);
}

static const char *target(const struct run *r) {
        return r->plan->target >= 0 ? r->set->disks[r->plan->target].name : NULL;
}

static bool errors_mention(const struct run *r, const char *a, const char *b) {
        for (char **e = r->plan->errors; e && *e; e++)
                if (strstr(*e, a) && (!b || strstr(*e, b)))
                        return true;
        return false;
}

static const struct fake machine[] = {
        { "nvme0n1", 500 * GiB, DISK_CLASS_NVME },                                     /* the database disk */
        { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },                            /* the OS disk */
        { "sdb", 1024 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS },                           /* backups */
        { "sdc", 16 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "iso9660", "RACKSTACK-DB" },  /* the stick */
};

static void test_plan_chooses_the_ssd(void **state) {
        _cleanup_(run_done) struct run r;
        plan(&r, machine, ELEMENTSOF(machine), "sdc", NULL, NULL);
        assert_true(install_plan_ok(r.plan));
        assert_string_equal(target(&r), "sda");
        assert_string_equal(r.plan->target_devnode, "/dev/sda");
        assert_string_equal(r.plan->image, "image.raw.zst");
        assert_string_equal(r.plan->image_sha256, HEX_A);
        assert_string_equal(r.plan->raw_name, "lab-db1.raw");
        assert_string_equal(r.plan->raw_sha256, HEX_B);
        assert_null(r.plan->wipe);
        assert_false(r.plan->verify_signature);
        /* the stick is the boot medium, and says so */
        assert_string_equal(r.plan->disks->verdicts[3].state, "boot-medium");

        struct buf b = {};
        install_plan_render(r.plan, r.set, &b);
        _cleanup_free_ char *text = buf_steal(&b);
        assert_non_null(strstr(text, "target:  /dev/sda"));
        assert_non_null(strstr(text, "boot medium"));
        assert_non_null(strstr(text, "plan: ok"));
}

static void test_plan_never_the_boot_medium(void **state) {
        /* the only disk that fits is the one the source is on */
        static const struct fake f[] = {
                { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },
                { "sdb", 1024 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS },
        };
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), "sda", NULL, NULL);
        assert_false(install_plan_ok(r.plan));
        assert_int_equal(r.plan->target, -1);
        assert_true(errors_mention(&r, "needs 1 ssd disk", NULL));
        assert_string_equal(r.plan->disks->verdicts[0].state, "boot-medium");

        /* naming it does not help */
        struct storage_answers a = { .only_use = STRV("sda"), .clear_drives = STRV("sda") };
        _cleanup_(run_done) struct run r2;
        plan(&r2, f, ELEMENTSOF(f), "sda", &a, NULL);
        assert_false(install_plan_ok(r2.plan));
        assert_true(errors_mention(&r2, "sda", "boot medium"));

        /* a USB stick carrying an ISO is a medium even when the source is elsewhere (HTTP) */
        static const struct fake g[] = {
                { "sda", 64 * GiB, DISK_CLASS_SSD, TRANSPORT_USB, "iso9660", "ANY" },
        };
        _cleanup_(run_done) struct run r3;
        plan(&r3, g, ELEMENTSOF(g), NULL, NULL, NULL);
        assert_false(install_plan_ok(r3.plan));
        assert_string_equal(r3.plan->disks->verdicts[0].state, "boot-medium");
}

static void test_plan_too_small(void **state) {
        static const struct fake f[] = {
                { "sda", 40 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },
                { "sdb", 1024 * GiB, DISK_CLASS_HDD, TRANSPORT_SAS }, /* big enough but not an ssd */
        };
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), NULL, NULL, NULL);
        assert_false(install_plan_ok(r.plan));
        assert_int_equal(r.plan->target, -1);
        assert_true(errors_mention(&r, "at least 50 GiB", NULL));
        assert_non_null(r.plan->disks->verdicts[0].reasons);
        assert_non_null(strstr(r.plan->disks->verdicts[0].reasons[0], "too small"));
        assert_non_null(strstr(r.plan->disks->verdicts[1].reasons[0], "hdd"));

        /* the image itself larger than the disk */
        static const struct fake g[] = { { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA } };
        struct install_input extra = { .raw_size = 61 * GiB };
        _cleanup_(run_done) struct run r2;
        plan(&r2, g, ELEMENTSOF(g), NULL, NULL, &extra);
        assert_false(install_plan_ok(r2.plan));
        assert_true(errors_mention(&r2, "larger than sda", NULL));

        /* a 4Kn disk: the image's GPT is for 512-byte sectors */
        _cleanup_(run_done) struct run r3;
        plan(&r3, g, ELEMENTSOF(g), NULL, NULL, NULL);
        assert_true(install_plan_ok(r3.plan));
        install_plan_free(r3.plan);
        r3.set->disks[0].logical_sector_size = 4096;
        struct install_input in = { .source = "/m", .sums = &r3.sums, .specs = &os_spec, .n_specs = 1, .disks = r3.set };
        assert_int_equal(install_plan_build(&in, &r3.plan), 0);
        assert_false(install_plan_ok(r3.plan));
        assert_true(errors_mention(&r3, "4096-byte sectors", NULL));
}

static void test_plan_data_disk(void **state) {
        static const struct fake f[] = {
                { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "gpt,xfs" },
        };
        /* refused without clearance, naming the disk and what is on it */
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), NULL, NULL, NULL);
        assert_false(install_plan_ok(r.plan));
        assert_true(errors_mention(&r, "sda refused", "gpt, xfs"));
        assert_true(errors_mention(&r, "sda refused", "clearpart does not name it"));

        /* clearpart --drives=sda */
        struct storage_answers a = { .clear_drives = STRV("sda") };
        _cleanup_(run_done) struct run r2;
        plan(&r2, f, ELEMENTSOF(f), NULL, &a, NULL);
        assert_true(install_plan_ok(r2.plan));
        assert_string_equal(target(&r2), "sda");
        assert_non_null(r2.plan->wipe);
        assert_non_null(strstr(r2.plan->wipe, "xfs"));

        /* clearpart --all bounded by ignoredisk --only-use */
        struct storage_answers b = { .clear_all = true, .only_use = STRV("/dev/sda") };
        _cleanup_(run_done) struct run r3;
        plan(&r3, f, ELEMENTSOF(f), NULL, &b, NULL);
        assert_true(install_plan_ok(r3.plan));
        assert_string_equal(target(&r3), "sda");

        /* clearpart --all alone would clear everything: refused */
        struct storage_answers c = { .clear_all = true };
        _cleanup_(run_done) struct run r4;
        plan(&r4, f, ELEMENTSOF(f), NULL, &c, NULL);
        assert_false(install_plan_ok(r4.plan));
}

static void test_plan_ignoredisk_and_data_answers(void **state) {
        static const struct fake f[] = {
                { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },
                { "sdb", 120 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA },
        };
        /* only-use picks the second */
        struct storage_answers a = { .only_use = STRV("sdb") };
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), NULL, &a, NULL);
        assert_true(install_plan_ok(r.plan));
        assert_string_equal(target(&r), "sdb");
        /* ignoredisk --drives hides the first */
        struct storage_answers b = { .ignore = STRV("sda") };
        _cleanup_(run_done) struct run r2;
        plan(&r2, f, ELEMENTSOF(f), NULL, &b, NULL);
        assert_string_equal(target(&r2), "sdb");

        /* the data disks' aliases and pins (as in kickstart/lab-db1.ks), with the role's data disks:
         * planned as the storage step will plan them after the reboot; that their disks are missing
         * here is said, and does not refuse the OS disk */
        struct {
                struct disk_spec specs[2];
        } role = { { os_spec, { .name = (char *) "database", .classes = DISK_CLASS_NVME, .min_size = 500 * GiB,
                                .count = 1 } } };
        struct partition_spec pg = { .name = (char *) "pgdata", .mount = (char *) "/var/lib/postgresql", .grow = true,
                                     .fs = FS_XFS };
        role.specs[1].parts = &pg;
        role.specs[1].n_parts = 1;
        struct install_input with_role = { .specs = role.specs, .n_specs = 2 };
        struct disk_alias al[] = { { .name = (char *) "database", .classes = DISK_CLASS_NVME, .count = 1 } };
        struct part_pin pins[] = { { .mount = (char *) "/var/lib/postgresql", .ondisk = (char *) "@database" } };
        struct storage_answers c = { .aliases = al, .n_aliases = 1, .pins = pins, .n_pins = 1 };
        _cleanup_(run_done) struct run r3;
        plan(&r3, f, ELEMENTSOF(f), NULL, &c, &with_role);
        assert_true(install_plan_ok(r3.plan));
        assert_non_null(target(&r3));
        bool said = false;
        for (char **n = r3.plan->notes; n && *n; n++)
                said = said || (strstr(*n, "after the reboot") && strstr(*n, "database"));
        assert_true(said);

        /* clearpart naming the alias that fits no disk here: it decides what may be written, so it
         * must resolve; refused */
        struct storage_answers e = c;
        e.clear_drives = STRV("@database");
        _cleanup_(run_done) struct run r4;
        plan(&r4, f, ELEMENTSOF(f), NULL, &e, &with_role);
        assert_false(install_plan_ok(r4.plan));
        assert_true(errors_mention(&r4, "clearpart --drives=@database", "matches no disk"));
}

/* The review's case: ignoredisk and clearpart mixing plain names and "@alias" names. sda carries an
 * ext4 that no clearpart line names; only sdb and the @database disk are named for clearing. The
 * installer once dropped the aliases, kept clearpart --all and stopped copying the other lists, and
 * so wrote the image over sda. */
static void test_plan_mixed_alias_answers(void **state) {
        static const struct fake f[] = {
                { "nvme0n1", 500 * GiB, DISK_CLASS_NVME },
                { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "ext4" },
                { "sdb", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA, "gpt,xfs" },
        };
        struct disk_alias al[] = { { .name = (char *) "database", .classes = DISK_CLASS_NVME, .count = 1 } };
        struct storage_answers a = { .only_use = STRV("sda", "sdb", "@database"), .clear_all = true,
                                     .clear_drives = STRV("sdb", "@database"), .aliases = al, .n_aliases = 1 };
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), NULL, &a, NULL);
        assert_true(install_plan_ok(r.plan));
        assert_string_equal(target(&r), "sdb");
        assert_non_null(r.plan->wipe);
        /* the ext4 disk is never written */
        assert_true(strcmp(r.plan->disks->verdicts[1].state, "chosen") != 0);

        /* the alias first, the plain names after it: the same */
        struct storage_answers b = { .only_use = STRV("@database", "sda", "sdb"), .clear_all = true,
                                     .clear_drives = STRV("@database", "sdb"), .aliases = al, .n_aliases = 1 };
        _cleanup_(run_done) struct run r2;
        plan(&r2, f, ELEMENTSOF(f), NULL, &b, NULL);
        assert_true(install_plan_ok(r2.plan));
        assert_string_equal(target(&r2), "sdb");

        /* ignoredisk --drives with an alias next to a plain name: both hidden */
        struct storage_answers c = { .ignore = STRV("@database", "sdb"), .aliases = al, .n_aliases = 1 };
        _cleanup_(run_done) struct run r3;
        plan(&r3, f, ELEMENTSOF(f), NULL, &c, NULL);
        assert_false(install_plan_ok(r3.plan)); /* sda carries ext4, sdb is hidden */
        assert_int_equal(r3.plan->target, -1);

        /* an alias nothing defines, in clearpart: an error, never "clear everything" */
        struct storage_answers d = { .only_use = STRV("sda", "sdb"), .clear_all = true,
                                     .clear_drives = STRV("@nosuch"), .aliases = al, .n_aliases = 1 };
        _cleanup_(run_done) struct run r4;
        plan(&r4, f, ELEMENTSOF(f), NULL, &d, NULL);
        assert_false(install_plan_ok(r4.plan));
        assert_int_equal(r4.plan->target, -1);
        assert_true(errors_mention(&r4, "@nosuch", NULL));
}

static void test_plan_checks(void **state) {
        static const struct fake f[] = { { "sda", 60 * GiB, DISK_CLASS_SSD, TRANSPORT_SATA } };
        /* a key in the installer and no signature: refused */
        struct install_input k = { .have_pubkey = true };
        _cleanup_(run_done) struct run r;
        plan(&r, f, ELEMENTSOF(f), NULL, NULL, &k);
        assert_false(install_plan_ok(r.plan));
        assert_true(errors_mention(&r, "SHA256SUMS.sig", NULL));
        /* key and signature: verified */
        struct install_input ks = { .have_pubkey = true, .have_signature = true };
        _cleanup_(run_done) struct run r2;
        plan(&r2, f, ELEMENTSOF(f), NULL, NULL, &ks);
        assert_true(install_plan_ok(r2.plan));
        assert_true(r2.plan->verify_signature);
        /* an image SHA256SUMS does not list */
        struct install_input im = { .image = "other.raw.zst" };
        _cleanup_(run_done) struct run r3;
        plan(&r3, f, ELEMENTSOF(f), NULL, NULL, &im);
        assert_false(install_plan_ok(r3.plan));
        assert_true(errors_mention(&r3, "does not list other.raw.zst", NULL));
        /* an uncompressed image */
        struct install_input raw = { .image = "lab-db1.raw" };
        _cleanup_(run_done) struct run r4;
        plan(&r4, f, ELEMENTSOF(f), NULL, NULL, &raw);
        assert_false(install_plan_ok(r4.plan));
}

/* ---- the backup GPT --------------------------------------------------------------------------------- */

static void put32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static void put64(uint8_t *p, uint64_t v) {
        for (int i = 0; i < 8; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}
static uint64_t get64(const uint8_t *p) {
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | p[i];
        return v;
}
static uint32_t get32(const uint8_t *p) {
        return (uint32_t) get64((const uint8_t[8]) { p[0], p[1], p[2], p[3] });
}

static bool crc_ok(const uint8_t *hdr) {
        uint8_t copy[92];
        memcpy(copy, hdr, 92);
        put32(copy + 16, 0);
        return gpt_crc32(copy, 92) == get32(hdr + 16);
}

/* A 2 GiB image's table (4194304 sectors): 128 entries, one partition up to LBA 4000000. */
static void make_gpt(uint8_t hdr[512], uint8_t entries[128 * 128]) {
        memset(hdr, 0, 512);
        memset(entries, 0, 128 * 128);
        uint64_t n = 4194304;
        entries[0] = 0xe3; /* a type GUID */
        put64(entries + 32, 2048);
        put64(entries + 40, 4000000);
        memcpy(hdr, "EFI PART", 8);
        put32(hdr + 8, 0x00010000);
        put32(hdr + 12, 92);
        put64(hdr + 24, 1);
        put64(hdr + 32, n - 1);
        put64(hdr + 40, 34);
        put64(hdr + 48, n - 34);
        put64(hdr + 72, 2);
        put32(hdr + 80, 128);
        put32(hdr + 84, 128);
        put32(hdr + 88, gpt_crc32(entries, 128 * 128));
        put32(hdr + 16, gpt_crc32(hdr, 92));
}

static void test_gpt_relocate(void **state) {
        uint8_t hdr[512], entries[128 * 128], backup[512];
        make_gpt(hdr, entries);
        uint64_t disk = 60 * GiB / 512, be = 0, old = 0;
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, disk, backup, &be, &old), 0);
        assert_int_equal(old, 4194304 - 1);
        assert_int_equal(be, disk - 1 - 32);
        /* primary */
        assert_true(crc_ok(hdr));
        assert_int_equal(get64(hdr + 24), 1);
        assert_int_equal(get64(hdr + 32), disk - 1);
        assert_int_equal(get64(hdr + 48), disk - 34);
        assert_int_equal(get64(hdr + 72), 2);
        /* backup */
        assert_true(crc_ok(backup));
        assert_int_equal(get64(backup + 24), disk - 1);
        assert_int_equal(get64(backup + 32), 1);
        assert_int_equal(get64(backup + 48), disk - 34);
        assert_int_equal(get64(backup + 72), disk - 33);
        assert_memory_equal(backup + 56, hdr + 56, 16); /* disk GUID */

        /* damaged: header CRC, entries CRC, signature */
        make_gpt(hdr, entries);
        hdr[60] ^= 1;
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, disk, backup, &be, &old), -EBADMSG);
        make_gpt(hdr, entries);
        entries[100] ^= 1;
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, disk, backup, &be, &old), -EBADMSG);
        make_gpt(hdr, entries);
        hdr[0] = 'X';
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, disk, backup, &be, &old), -EBADMSG);
        /* a disk smaller than the partitions */
        make_gpt(hdr, entries);
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, 4000010, backup, &be, &old), -ENOSPC);
        /* the same size as the image: a no-op that still validates */
        make_gpt(hdr, entries);
        assert_int_equal(gpt_relocate_backup(hdr, 512, entries, sizeof entries, 4194304, backup, &be, &old), 0);
        assert_int_equal(get64(hdr + 48), 4194304 - 34);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_sums_upper_case_and_pick),
                cmocka_unit_test(test_zstd_fcs),
                cmocka_unit_test(test_boot_media),
                cmocka_unit_test(test_plan_chooses_the_ssd),
                cmocka_unit_test(test_plan_never_the_boot_medium),
                cmocka_unit_test(test_plan_too_small),
                cmocka_unit_test(test_plan_data_disk),
                cmocka_unit_test(test_plan_ignoredisk_and_data_answers),
                cmocka_unit_test(test_plan_mixed_alias_answers),
                cmocka_unit_test(test_plan_checks),
                cmocka_unit_test(test_gpt_relocate),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
