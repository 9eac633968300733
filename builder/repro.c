/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fileio.h"
#include "gpt.h"
#include "log.h"
#include "parse.h"
#include "process.h"
#include "progress.h"
#include "repro.h"
#include "spawn-run.h"
#include "util.h"
#include "walk.h"

void file_diffs_free(struct file_diff *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(d[i].name);
                free(d[i].where);
        }
        free(d);
}

int repro_compare_files(const char *a, const char *b, struct file_diff *d) {
        _cleanup_close_ int fa = open(a, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        _cleanup_close_ int fb = open(b, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fa < 0 || fb < 0)
                return -errno;
        struct stat sa, sb;
        if (fstat(fa, &sa) < 0 || fstat(fb, &sb) < 0)
                return -errno;
        const size_t chunk = 1 << 20;
        _cleanup_free_ unsigned char *ba = malloc(chunk), *bb = malloc(chunk);
        if (!ba || !bb)
                return -ENOMEM;

        struct file_diff r = { .size_a = (uint64_t) sa.st_size, .size_b = (uint64_t) sb.st_size };
        bool differ = false;
        uint64_t common = MIN(r.size_a, r.size_b);
        for (uint64_t off = 0; off < common; off += chunk) {
                if (interrupted())
                        return -EINTR;
                size_t want = (size_t) MIN((uint64_t) chunk, common - off), na, nb;
                int k = pread_full(fa, ba, want, off, &na);
                if (k >= 0)
                        k = pread_full(fb, bb, want, off, &nb);
                if (k < 0)
                        return k;
                if (na != want || nb != want)
                        return -EIO; /* changed under us */
                if (memcmp(ba, bb, want) == 0)
                        continue;
                for (size_t i = 0; i < want; i++)
                        if (ba[i] != bb[i]) {
                                if (!differ)
                                        r.first = off + i;
                                differ = true;
                                r.last = off + i;
                                r.n_differ++;
                        }
        }
        if (r.size_a != r.size_b)
                differ = true;
        if (!differ)
                return 0;
        *d = r;
        return 1;
}

static int list_visit(enum walk_event ev, const struct walk_entry *e, void *userdata) {
        char ***l = userdata;
        if (ev != WALK_FILE || !S_ISREG(e->st->st_mode) || strv_contains(*l, e->path))
                return 0;
        return strv_extend(l, e->path) < 0 ? -ENOMEM : 0;
}

/* Regular files under dir, as paths relative to it ("pxe/initrd.img"), depth-first. */
static int list_files(const char *dir, char ***l) {
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return walk_tree(fd, WALK_PATHS | WALK_STAT_SKIP, 16, list_visit, l);
}

static int name_cmp(const void *x, const void *y) {
        return strcmp(*(char *const *) x, *(char *const *) y);
}

int repro_compare_dirs(const char *a, const char *b, struct file_diff **ret, size_t *ret_n) {
        _cleanup_strv_free_ char **names = NULL;
        int r = list_files(a, &names);
        if (r >= 0)
                r = list_files(b, &names);
        if (r < 0)
                return r;
        if (names)
                qsort(names, strv_length(names), sizeof(char *), name_cmp);

        struct file_diff *out = NULL;
        size_t n = 0;
        for (char **f = names; f && *f; f++) {
                _cleanup_free_ char *pa = strprintf("%s/%s", a, *f), *pb = strprintf("%s/%s", b, *f);
                if (!pa || !pb) {
                        r = -ENOMEM;
                        break;
                }
                struct file_diff d = {};
                bool in_a = access(pa, F_OK) == 0, in_b = access(pb, F_OK) == 0;
                if (in_a && in_b) {
                        r = repro_compare_files(pa, pb, &d);
                        if (r < 0)
                                break;
                        if (r == 0)
                                continue;
                } else {
                        d.missing_a = !in_a;
                        d.missing_b = !in_b;
                }
                struct file_diff *m = realloc(out, (n + 1) * sizeof *out);
                if (!m) {
                        r = -ENOMEM;
                        break;
                }
                out = m;
                d.name = strdup(*f);
                out[n++] = d;
                if (!d.name) {
                        r = -ENOMEM;
                        break;
                }
                r = 0;
        }
        if (r < 0) {
                file_diffs_free(out, n);
                return r;
        }
        *ret = out;
        *ret_n = n;
        return (int) n;
}

enum { HEAD_BYTES = 6 * 4096 + 128 * 128 };

static char *tool_stdout(const char *const argv[]) {
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = true;
        char *out = NULL, *tail = NULL;
        int r = spawn_run(argv, &o, &tail, &out);
        free(tail);
        if (r != 0) {
                free(out);
                return NULL;
        }
        return out;
}

/* The value after "KEY" on the tool's line "KEY\tVALUE" (debugfs icheck/ncheck print a header line,
 * then one such line). */
static bool second_line_value(const char *text, uint64_t key, char **ret) {
        const char *l = text ? strchr(text, '\n') : NULL;
        if (!l)
                return false;
        l++;
        char *e;
        if (strtoull(l, &e, 10) != key || *e != '\t')
                return false;
        *ret = strndup(e + 1, strcspn(e + 1, "\n"));
        return *ret != NULL;
}

/* The inode whose slot in an inode table holds block `blk`, from dumpe2fs's per-group "Inode
 * table at A-B" lines. 0 if the block is in no inode table. */
static uint64_t inode_of_itable_block(const char *dump, uint64_t blk, uint64_t off_in_block, uint64_t bs) {
        const char *p = strstr(dump, "\nInodes per group:"), *q = strstr(dump, "\nInode size:");
        uint64_t ipg = 0, isz = 0;
        if (!p || !q || sscanf(p, "\nInodes per group: %" SCNu64, &ipg) != 1 ||
            sscanf(q, "\nInode size: %" SCNu64, &isz) != 1 || !ipg || !isz)
                return 0;
        uint64_t group = 0;
        for (const char *l = strstr(dump, "Inode table at "); l; l = strstr(l + 1, "Inode table at "), group++) {
                uint64_t a, b;
                if (sscanf(l, "Inode table at %" SCNu64 "-%" SCNu64, &a, &b) != 2)
                        return 0;
                if (blk >= a && blk <= b)
                        return group * ipg + ((blk - a) * bs + off_in_block) / isz + 1;
        }
        return 0;
}

char *repro_locate_in_disk(const char *path, uint64_t offset) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return NULL;
        /* enough for the MBR, the header and 128 entries at 512- or 4096-byte sectors */
        _cleanup_free_ unsigned char *head = malloc(HEAD_BYTES);
        size_t n = 0;
        if (!head || pread_full(fd, head, HEAD_BYTES, 0, &n) < 0)
                return NULL;
        uint64_t start = 0;
        _cleanup_free_ char *name = NULL;
        uint32_t ss = 512;
        int part = gpt_find_partition(head, n, ss, offset, &start, &name);
        if (part == -EBADMSG)
                part = gpt_find_partition(head, n, ss = 4096, offset, &start, &name);
        if (part < 0)
                return NULL;
        if (part == 0)
                return strdup(offset < 34 * (uint64_t) ss ? "the MBR or primary GPT"
                                                          : "outside every partition (GPT or gap)");

        unsigned char sb[1024];
        bool ext4 = pread_full(fd, sb, sizeof sb, start + 1024, &n) >= 0 && n == sizeof sb && sb[56] == 0x53 &&
                    sb[57] == 0xef;
        if (!ext4)
                return strprintf("partition %d '%s' at +%" PRIu64, part, name, offset - start);

        uint32_t log_bs = sb[24] | (uint32_t) sb[25] << 8 | (uint32_t) sb[26] << 16 | (uint32_t) sb[27] << 24;
        uint64_t bs = 1024u << MIN(log_bs, 6u);
        uint64_t rel = offset - start, blk = rel / bs;
        _cleanup_free_ char *dev = strprintf("%s?offset=%" PRIu64, path, start);
        _cleanup_free_ char *icheck = strprintf("icheck %" PRIu64, blk);
        if (!dev || !icheck)
                return NULL;
        const char *argv_i[] = { "debugfs", "-R", icheck, dev, NULL };
        _cleanup_free_ char *out_i = tool_stdout(argv_i), *ino_s = NULL;
        uint64_t ino = 0;
        const char *what = "data of";
        if (second_line_value(out_i, blk, &ino_s) && !startswith(ino_s, "<"))
                (void) parse_uint64(ino_s, &ino);
        if (ino == 0) {
                const char *argv_d[] = { "dumpe2fs", dev, NULL };
                _cleanup_free_ char *dump = tool_stdout(argv_d);
                ino = dump ? inode_of_itable_block(dump, blk, rel % bs, bs) : 0;
                what = "inode of";
        }
        if (ino == 0)
                return strprintf("partition %d '%s' (ext4) at +%" PRIu64 ", block %" PRIu64
                                 ": filesystem metadata (no file's data, no inode table)",
                                 part, name, rel, blk);
        _cleanup_free_ char *ncheck = strprintf("ncheck %" PRIu64, ino);
        if (!ncheck)
                return NULL;
        const char *argv_n[] = { "debugfs", "-R", ncheck, dev, NULL };
        _cleanup_free_ char *out_n = tool_stdout(argv_n), *file = NULL;
        if (!second_line_value(out_n, ino, &file))
                file = strdup("(no name: a reserved or unlinked inode)");
        return strprintf("partition %d '%s' (ext4) at +%" PRIu64 ", block %" PRIu64 ": %s inode %" PRIu64 " %s", part,
                         name, rel, blk, what, ino, strna(file));
}

/* One build as a child process of ours (the same binary), with our stdout and stderr: its progress
 * shows as it happens. On an interrupt it gets SIGTERM and cleans up after itself. */
static int run_build(char **argv) {
        struct proc_opts o = PROC_OPTS_INIT;
        o.program = "/proc/self/exe";
        o.in = PROC_IN_INHERIT;
        o.pdeath_signal = SIGTERM; /* if we are killed, the build is told to stop and clean up */
        o.cancel = &build_interrupted;
        o.stop_grace_ms = 30 * 60 * 1000;
        int r = proc_run((const char *const *) argv, &o, NULL, NULL);
        return interrupted() ? -EINTR : r;
}

/* The one host directory a build made in dir. */
static char *host_dir(const char *dir) {
        _cleanup_closedir_ DIR *d = opendir(dir);
        if (!d)
                return NULL;
        struct dirent *de;
        char *found = NULL;
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && de->d_type == DT_DIR) {
                        free(found);
                        found = strdup(de->d_name);
                }
        return found;
}

static void print_diff(const struct file_diff *d) {
        if (d->missing_a || d->missing_b) {
                log_error("  %s: only in the %s build", d->name, d->missing_a ? "second" : "first");
                return;
        }
        if (d->n_differ == 0) {
                log_error("  %s: sizes differ (%" PRIu64 " and %" PRIu64 " bytes), the common part is identical", d->name,
                          d->size_a, d->size_b);
                return;
        }
        log_error("  %s: %" PRIu64 " byte%s differ%s, first at byte %" PRIu64 " (0x%" PRIx64 "), last at %" PRIu64
                  " (0x%" PRIx64 ")%s", d->name, d->n_differ, d->n_differ == 1 ? "" : "s", d->n_differ == 1 ? "s" : "", d->first, d->first, d->last, d->last,
                  d->size_a != d->size_b ? ", and the sizes differ" : "");
        if (d->where)
                log_error("    the first difference is in %s", d->where);
}

void repro_report(const char *dir_a, struct file_diff *d, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (!d[i].where && d[i].n_differ > 0) {
                        _cleanup_free_ char *pa = strprintf("%s/%s", dir_a, d[i].name);
                        d[i].where = pa ? repro_locate_in_disk(pa, d[i].first) : NULL;
                }
                print_diff(&d[i]);
        }
}

/* Move the files of a finished build into dest, SHA256SUMS last (its signature just before it):
 * whoever sees the new SHA256SUMS sees a complete set. */
static int publish_dir(const char *src, const char *dest) {
        int r = mkdir_parents_at(AT_FDCWD, dest, 0755);
        if (r < 0)
                return r;
        _cleanup_strv_free_ char **names = NULL;
        r = list_files(src, &names);
        if (r < 0)
                return r;
        static const char *const last[] = { "SHA256SUMS.sig", "SHA256SUMS" };
        for (int pass = 0; pass < 3; pass++)
                for (char **f = names; f && *f; f++) {
                        int rank = streq(*f, last[0]) ? 1 : streq(*f, last[1]) ? 2 : 0;
                        if (rank != pass)
                                continue;
                        _cleanup_free_ char *from = strprintf("%s/%s", src, *f), *to = strprintf("%s/%s", dest, *f);
                        if (!from || !to)
                                return -ENOMEM;
                        /* pxe/..., proxmox/...: their directory first */
                        if (strchr(*f, '/') && (r = mkdir_parents_of(AT_FDCWD, to, 0755)) < 0)
                                return r;
                        if (rename(from, to) < 0)
                                return -errno;
                }
        return fsync_parent_dir(AT_FDCWD, dest);
}

/* The folders of checks whose process was killed: a live check holds an flock on its .lock. */
static void remove_stale_checks(const char *out_dir) {
        _cleanup_closedir_ DIR *d = opendir(out_dir);
        if (!d)
                return;
        struct dirent *de;
        while ((de = readdir(d))) {
                if (!startswith(de->d_name, ".reproducible-"))
                        continue;
                _cleanup_free_ char *path = strprintf("%s/%s", out_dir, de->d_name);
                _cleanup_free_ char *lock = path ? strprintf("%s/.lock", path) : NULL;
                if (!lock)
                        return;
                _cleanup_close_ int fd = open(lock, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
                struct stat st;
                /* No lock yet: one between mkdtemp() and its flock, unless it is old. */
                if (fd < 0 && (stat(path, &st) < 0 || time(NULL) - st.st_mtime < 3600))
                        continue;
                if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) < 0)
                        continue;
                stage_note("reproducible", "removing %s, left by a check that was killed", path);
                (void) remove_tree(path);
        }
}

int build_check_reproducible(char **child_argv, const char *out_dir) {
        int r = mkdir_parents_at(AT_FDCWD, out_dir, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", out_dir);
        /* In the output directory so the accepted build is moved, not copied, into place. */
        _cleanup_free_ char *tmp = strprintf("%s/.reproducible-XXXXXX", out_dir);
        if (!tmp || !mkdtemp(tmp))
                return log_error_errno(-errno, "Failed to create a directory in %s: %m", out_dir);
        _cleanup_free_ char *lock = strprintf("%s/.lock", tmp);
        _cleanup_close_ int lock_fd = lock ? open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
                r = log_error_errno(-errno, "Failed to lock %s: %m", tmp);
                (void) remove_tree(tmp);
                return r;
        }
        remove_stale_checks(out_dir);
        _cleanup_free_ char *out1 = strprintf("%s/1", tmp), *out2 = strprintf("%s/2", tmp);
        _cleanup_free_ char *host = NULL, *dir1 = NULL, *dir2 = NULL, *dest = NULL;
        struct file_diff *d = NULL;
        size_t nd = 0;
        double tc;
        _cleanup_strv_free_ char **argv = strv_copy(child_argv);
        size_t n = strv_length(argv);
        if (!out1 || !out2 || !argv || strv_extend(&argv, "--out") < 0 || strv_extend(&argv, out1) < 0) {
                r = -ENOMEM;
                goto drop;
        }

        double t0 = now_monotonic();
        stage_note("reproducible", "first build, into %s (SOURCE_DATE_EPOCH=%s)", out1, getenv("SOURCE_DATE_EPOCH"));
        r = run_build(argv);
        if (r == 0) {
                free(argv[n + 1]);
                argv[n + 1] = strdup(out2);
                if (!argv[n + 1]) {
                        r = -ENOMEM;
                        goto drop;
                }
                /* The same base and role-layer tarballs from the cache (checked by their sums); the
                 * unpacking, overlays, hygiene, image assembly, qcow2, manifest and sums run again,
                 * in a new work directory. */
                stage_note("reproducible", "second build, into %s", out2);
                r = run_build(argv);
        }
        if (r != 0) {
                if (r > 0)
                        log_error("--check-reproducible: a build failed (exit status %d); see its messages above", r);
                r = r == -EINTR ? r : r == 2 ? -EINVAL : r > 0 ? -EIO : r;
                goto drop;
        }

        host = host_dir(out1);
        dir1 = host ? strprintf("%s/%s", out1, host) : NULL;
        dir2 = host ? strprintf("%s/%s", out2, host) : NULL;
        dest = host ? strprintf("%s/%s", out_dir, host) : NULL;
        if (!dir1 || !dir2 || !dest) {
                r = log_error_errno(-ENOENT, "--check-reproducible: the first build left no host directory in %s", out1);
                goto drop;
        }
        tc = now_monotonic();
        r = repro_compare_dirs(dir1, dir2, &d, &nd);
        if (r < 0) {
                log_error_errno(r, "Failed to compare %s and %s: %m", dir1, dir2);
                goto drop;
        }
        if (nd > 0) {
                log_error("Not reproducible: %zu file%s of %s differ between two builds of the same inputs:", nd,
                          nd == 1 ? "" : "s", host);
                repro_report(dir1, d, nd);
                log_error("Both builds are kept for inspection: %s and %s", dir1, dir2);
                file_diffs_free(d, nd);
                stage_fail("reproducible", -EBADMSG, "%zu files differ", nd);
                return -EBADMSG;
        }
        file_diffs_free(d, nd);
        r = publish_dir(dir1, dest);
        if (r < 0) {
                log_error_errno(r, "Failed to move the build from %s to %s: %m", dir1, dest);
                goto drop;
        }
        (void) remove_tree(tmp);
        stage_done("reproducible", 0, "two builds are bit-identical (compared in %.1f s, %.1f s in all); published to %s",
                   now_monotonic() - tc, now_monotonic() - t0, dest);
        return 0;

drop:
        (void) remove_tree(tmp);
        return r;
}
