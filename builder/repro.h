/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Comparing two builds of the same inputs (--check-reproducible), for any output format: which
 * files differ, where, and for a raw disk which partition and which file inside an ext4 holds
 * the first difference. */

struct file_diff {
        char *name;          /* file name, the same in both directories */
        bool missing_a, missing_b;
        uint64_t size_a, size_b;
        uint64_t first, last; /* first and last differing byte in the common length */
        uint64_t n_differ;    /* differing bytes in the common length */
        char *where;          /* for a raw disk: "partition 3 'root' (ext4) at +1234: /etc/passwd", or NULL */
};

void file_diffs_free(struct file_diff *d, size_t n);

/* Compare two files byte by byte. Returns 0 if identical, 1 if not (d filled), or a negative errno. */
int repro_compare_files(const char *a, const char *b, struct file_diff *d);
/* Compare every regular file in directories a and b (by name). *ret gets the differing ones,
 * sorted by name. Returns their number, or a negative errno. */
int repro_compare_dirs(const char *a, const char *b, struct file_diff **ret, size_t *ret_n);

/* A description of where `offset` of the disk image at path falls: the partition, and when it is
 * an ext4, the file whose data block it is (debugfs icheck/ncheck) or "filesystem metadata".
 * NULL when the file is not a GPT disk. */
char *repro_locate_in_disk(const char *path, uint64_t offset);

/* Log each difference (as errors): file, byte range, and for a disk image where the first
 * difference lies (fills d[i].where). dir_a is where the files of the first build are. */
void repro_report(const char *dir_a, struct file_diff *d, size_t n);

/* `build ... --check-reproducible`: run the build twice (argv: the child build command without
 * --out; the two runs get --out TMP/1 and TMP/2) and compare. Identical: the first build's files
 * are moved into out_dir/<host>/. Different: each differing file is named with its byte range and
 * both builds are kept for inspection. Returns 0, -EBADMSG when the builds differ, or another
 * negative errno. */
int build_check_reproducible(char **child_argv, const char *out_dir);
