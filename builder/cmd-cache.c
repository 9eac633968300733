/* SPDX-License-Identifier: MIT */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cache-reclaim.h"
#include "cleanup.h"
#include "commands.h"
#include "fileio.h"
#include "log.h"
#include "parse.h"
#include "progress.h"
#include "rootfs.h"
#include "util.h"

static void usage(FILE *f) {
        fputs("usage: rackstack-build cache list [--cache DIR]\n"
              "       rackstack-build cache prune [--cache DIR] --keep-free SIZE|--max-size SIZE|--all\n"
              "                                   [--copies-only] [--dry-run]\n"
              "\n"
              "list: the cache's entries (bases and role layers), their size, their unpacked copies and last use.\n"
              "prune: remove what no build is using, least recently used first: the unpacked copies (remade\n"
              "from the tarball in a minute) before whole entries (a cold build), until SIZE is free on the\n"
              "cache's filesystem (--keep-free), the cache holds at most SIZE (--max-size), or nothing is left\n"
              "(--all). --copies-only keeps every tarball; --dry-run says what would go.\n",
              f);
}

static char *when(time_t t) {
        struct tm tm;
        char buf[32];
        if (!localtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm))
                return strdup("-");
        return strdup(buf);
}

static int list(const char *dir, struct cache_item *items, size_t n) {
        printf("%-6s %-12s %9s %9s %-16s %s\n", "KIND", "KEY", "TARBALL", "COPIES", "LAST USED", "STATE");
        uint64_t total = 0;
        for (size_t i = 0; i < n; i++) {
                const struct cache_item *it = &items[i];
                _cleanup_free_ char *t = format_size_human(it->tar_bytes), *c = format_size_human(it->copy_bytes),
                                    *w = when(it->last_used);
                if (!t || !c || !w)
                        return log_error_errno(-ENOMEM, "Out of memory");
                printf("%-6s %.12s %9s %9s %-16s %s\n", it->kind, it->key, it->has_tar ? t : "-",
                       it->has_copies ? c : "-", w, it->busy ? "in use" : "-");
                total += it->tar_bytes + it->copy_bytes;
        }
        _cleanup_free_ char *s = format_size_human(total);
        printf("%zu entries, %s in %s\n", n, strna(s), dir);
        return 0;
}

int cmd_cache(int argc, char **argv) {
        enum { ARG_CACHE = 0x100, ARG_KEEP_FREE, ARG_MAX_SIZE, ARG_ALL, ARG_COPIES_ONLY, ARG_DRY_RUN };
        static const struct option options[] = {
                { "cache", required_argument, NULL, ARG_CACHE },
                { "keep-free", required_argument, NULL, ARG_KEEP_FREE },
                { "max-size", required_argument, NULL, ARG_MAX_SIZE },
                { "all", no_argument, NULL, ARG_ALL },
                { "copies-only", no_argument, NULL, ARG_COPIES_ONLY },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        const char *cache = NULL, *keep_free_s = NULL, *max_size_s = NULL;
        bool all = false, copies_only = false, dry_run = false;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0)
                switch (c) {
                case ARG_CACHE: cache = optarg; break;
                case ARG_KEEP_FREE: keep_free_s = optarg; break;
                case ARG_MAX_SIZE: max_size_s = optarg; break;
                case ARG_ALL: all = true; break;
                case ARG_COPIES_ONLY: copies_only = true; break;
                case ARG_DRY_RUN: dry_run = true; break;
                case 'h': usage(stdout); return 0;
                default:
                        usage(stderr);
                        return log_error_errno(-EINVAL, "cache: unknown option or missing argument: %s", argv[optind - 1]);
                }
        const char *verb = optind < argc ? argv[optind] : NULL;
        if (!verb || optind + 1 != argc || (!streq(verb, "list") && !streq(verb, "prune"))) {
                usage(stderr);
                return log_error_errno(-EINVAL, "cache: expected list or prune");
        }
        bool prune = streq(verb, "prune");
        uint64_t keep_free = 0, max_size = 0;
        if (keep_free_s && parse_size(keep_free_s, &keep_free) < 0)
                return log_error_errno(-EINVAL, "Bad --keep-free '%s': a size such as 12G or 500M", keep_free_s);
        if (max_size_s && parse_size(max_size_s, &max_size) < 0)
                return log_error_errno(-EINVAL, "Bad --max-size '%s': a size such as 40G or 500M", max_size_s);
        if (prune && (!!keep_free_s + !!max_size_s + all) != 1)
                return log_error_errno(-EINVAL, "cache prune: say how much goes: one of --keep-free SIZE, --max-size SIZE, --all");
        if (!prune && (keep_free_s || max_size_s || all || copies_only || dry_run))
                return log_error_errno(-EINVAL, "cache list takes only --cache");

        _cleanup_free_ char *dir = cache ? strdup(cache) : cache_dir_default();
        if (!dir)
                return log_error_errno(-ENOMEM, "No cache directory (no $HOME)");
        struct cache_item *items = NULL;
        size_t n = 0;
        int r = cache_scan(dir, &items, &n);
        if (r < 0)
                return log_error_errno(r, "Failed to read the cache %s: %m", dir);
        if (!prune) {
                r = list(dir, items, n);
                cache_items_free(items, n);
                return r;
        }

        uint64_t want = UINT64_MAX, total = 0, avail = 0;
        for (size_t i = 0; i < n; i++)
                total += items[i].tar_bytes + items[i].copy_bytes;
        if (keep_free_s) {
                r = fs_available(dir, &avail);
                if (r < 0) {
                        cache_items_free(items, n);
                        return log_error_errno(r, "Failed to read the free space of %s: %m", dir);
                }
                want = avail >= keep_free ? 0 : keep_free - avail;
        } else if (max_size_s)
                want = total > max_size ? total - max_size : 0;
        struct reclaim_plan p = {};
        r = reclaim_plan_make(items, n, want, copies_only, &p);
        if (r < 0) {
                cache_items_free(items, n);
                return log_error_errno(r, "Out of memory");
        }
        uint64_t freed = 0;
        size_t busy = 0;
        for (size_t i = 0; i < n; i++)
                if (items[i].busy) {
                        printf("keeping the %s entry %.12s: a build is using it\n", items[i].kind, items[i].key);
                        busy++;
                }
        if (dry_run)
                for (size_t i = 0; i < p.n_steps; i++) {
                        const struct cache_item *it = &items[p.steps[i].item];
                        _cleanup_free_ char *s = format_size_human(p.steps[i].bytes);
                        printf("would remove %s of the %s entry %.12s (%s)\n",
                               p.steps[i].what == RECLAIM_ENTRY ? "the whole" : "the unpacked copies", it->kind, it->key,
                               strna(s));
                }
        else {
                size_t taken = 0; /* entries a build took after the scan */
                r = reclaim_apply(dir, items, &p, keep_free_s ? keep_free : 0, &freed, &taken);
                busy += taken;
        }
        _cleanup_free_ char *ps = format_size_human(dry_run ? p.bytes : freed), *ts = format_size_human(total);
        reclaim_plan_done(&p);
        cache_items_free(items, n);
        if (r < 0)
                return log_error_errno(r, "Failed to prune %s: %m", dir);
        printf("%s %s of %s in %s%s\n", dry_run ? "would free" : "freed", strna(ps), strna(ts), dir,
               busy ? "; entries in use by a build were kept" : "");
        return 0;
}
