/* SPDX-License-Identifier: MIT */
/* Test driver for image_assemble() without the rest of the builder: a hand-built profile whose
 * OS disk is given on the command line, and the resulting layout printed as JSON.
 *
 *   image-tool [--sde=N] [--role=R] [--base=debian-12] [--profiles=DIR] TREE OUT.raw SIZE PART...
 *   --profiles=DIR: the role's real profile (DIR/R.yaml) instead of PARTs
 *   --lower=DIR --upper=DIR: TREE is an overlay of these, as a warm build's (ext4-delta.h)
 *   PART = name,type,size,fs[,mount]   size: 512M | 10% | grow    type: esp|bios-boot|root|...
 *   (no PART: the seed's OS disk: esp 512M vfat /boot/efi, bios-boot 1M, root grow ext4 /) */
#include <getopt.h>
#include <inttypes.h>

#include "build.h"
#include "cleanup.h"
#include "image.h"
#include "log.h"
#include "parse.h"
#include "util.h"

static int parse_part(const char *arg, struct partition_spec *ret) {
        char **f = NULL;
        int r = strv_split(arg, ",", &f);
        if (r < 0)
                return r;
        size_t n = strv_length(f);
        if (n < 4 || n > 5)
                return -EINVAL;
        struct partition_spec p = { .name = f[0], .type = _PART_TYPE_MAX, .fs = _FS_MAX };
        for (int t = 0; t < _PART_TYPE_MAX; t++)
                if (streq(part_type_to_string(t), f[1]))
                        p.type = t;
        for (int t = 0; t < _FS_MAX; t++)
                if (streq(fs_type_to_string(t), f[3]))
                        p.fs = t;
        if (p.type == _PART_TYPE_MAX || p.fs == _FS_MAX)
                return -EINVAL;
        if (streq(f[2], "grow"))
                p.grow = true;
        else if (endswith(f[2], "%")) {
                f[2][strlen(f[2]) - 1] = 0;
                uint32_t pc;
                if (parse_uint32_range(f[2], 1, 100, &pc) < 0)
                        return -EINVAL;
                p.percent = pc;
        } else if (parse_size(f[2], &p.size) < 0)
                return -EINVAL;
        p.mount = n == 5 ? f[4] : NULL;
        p.src = (struct src) { "cmdline", 1, 1 };
        *ret = p; /* the strings stay allocated for the program's life */
        return 0;
}

int main(int argc, char **argv) {
        struct base_info base = { .name = "debian-12", .suite = "bookworm" };
        struct profile prof = { .role = (char *) "test" };
        int64_t sde = -1;
        const char *profiles = NULL, *lower = NULL, *upper = NULL;
        int c, r;

        log_set_program("image-tool");
        static const struct option opts[] = {
                { "sde", required_argument, NULL, 's' },
                { "role", required_argument, NULL, 'r' },
                { "base", required_argument, NULL, 'b' },
                { "debug", no_argument, NULL, 'd' },
                { "profiles", required_argument, NULL, 'p' },
                { "lower", required_argument, NULL, 'L' },
                { "upper", required_argument, NULL, 'U' },
                {},
        };
        while ((c = getopt_long(argc, argv, "", opts, NULL)) >= 0)
                switch (c) {
                case 's': {
                        uint64_t v;
                        if (parse_uint64(optarg, &v) < 0)
                                return 2;
                        sde = (int64_t) v;
                        break;
                }
                case 'r':
                        prof.role = optarg;
                        break;
                case 'b':
                        base.name = optarg;
                        break;
                case 'd':
                        log_set_level(LOG_LEVEL_DEBUG);
                        break;
                case 'p':
                        profiles = optarg;
                        break;
                case 'L':
                        lower = optarg;
                        break;
                case 'U':
                        upper = optarg;
                        break;
                default:
                        return 2;
                }
        if (argc - optind < 3) {
                fprintf(stderr, "usage: image-tool [--sde=N] [--role=R] [--base=B] TREE OUT SIZE [PART...]\n");
                return 2;
        }
        const char *tree = argv[optind], *out = argv[optind + 1];
        uint64_t size;
        if (parse_size(argv[optind + 2], &size) < 0) {
                fprintf(stderr, "bad size %s\n", argv[optind + 2]);
                return 2;
        }

        struct partition_spec parts[16];
        size_t n = 0;
        if (argc - optind == 3) {
                parts[n++] = (struct partition_spec) { .name = (char *) "esp", .type = PART_ESP, .size = 512 * MiB,
                                                       .fs = FS_VFAT, .mount = (char *) "/boot/efi" };
                parts[n++] = (struct partition_spec) { .name = (char *) "bios-boot", .type = PART_BIOS_BOOT,
                                                       .size = 1 * MiB, .fs = FS_NONE };
                parts[n++] = (struct partition_spec) { .name = (char *) "root", .type = PART_ROOT, .grow = true,
                                                       .fs = FS_EXT4, .mount = (char *) "/" };
        }
        for (int i = optind + 3; i < argc && n < ELEMENTSOF(parts); i++)
                if (parse_part(argv[i], &parts[n++]) < 0) {
                        fprintf(stderr, "bad partition %s\n", argv[i]);
                        return 2;
                }
        struct disk_spec disk = { .name = (char *) "os", .os = true, .parts = parts, .n_parts = n,
                                  .src = { "cmdline", 1, 1 } };
        prof.disks = &disk;
        prof.n_disks = 1;

        struct profile *loaded = NULL;
        if (profiles) {
                struct diags dg = {};
                r = profile_load(profiles, prof.role, &dg, &loaded);
                diags_print(&dg, stderr);
                diags_done(&dg);
                if (r < 0)
                        return 2;
        }

        char work[] = "/tmp/image-tool.XXXXXX";
        if (!mkdtemp(work))
                return 1;
        struct build_ctx ctx = {
                .profile = loaded ? loaded : &prof,
                .base = &base,
                .tree_dir = (char *) tree,
                .work_dir = work,
                .source_date_epoch = sde,
                .image_size = size,
                .layer_lower = (char *) lower,
                .layer_upper = (char *) upper,
        };
        struct image_layout l = {};
        double t0 = now_monotonic();
        r = image_assemble(&ctx, out, &l);
        double dt = now_monotonic() - t0;
        _cleanup_free_ char *cmd = strprintf("rm -rf '%s'", work);
        if (cmd && system(cmd) != 0)
                fprintf(stderr, "could not remove %s\n", work);
        if (r < 0)
                return 1;

        printf("{\"seconds\": %.2f, \"disk_size\": %" PRIu64 ", \"disk_guid\": \"%s\", \"parts\": [", dt, l.disk_size,
               l.disk_guid);
        for (size_t i = 0; i < l.n_parts; i++) {
                const struct image_part *p = &l.parts[i];
                printf("%s{\"name\": \"%s\", \"type\": \"%s\", \"fs\": \"%s\", \"mount\": %s%s%s, \"offset\": %" PRIu64
                       ", \"size\": %" PRIu64 ", \"part_uuid\": \"%s\", \"fs_uuid\": %s%s%s}",
                       i ? ", " : "", p->name, part_type_to_string(p->type), fs_type_to_string(p->fs),
                       p->mount ? "\"" : "", p->mount ? p->mount : "null", p->mount ? "\"" : "", p->offset, p->size,
                       p->part_uuid, p->fs_uuid ? "\"" : "", p->fs_uuid ? p->fs_uuid : "null", p->fs_uuid ? "\"" : "");
        }
        printf("]}\n");
        image_layout_done(&l);
        profile_free(loaded);
        return 0;
}
