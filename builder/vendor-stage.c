/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apt-trust.h"
#include "cleanup.h"
#include "fileio.h"
#include "http.h"
#include "log.h"
#include "progress.h"
#include "spawn-run.h"
#include "util.h"
#include "layer.h"
#include "vendor.h"
#include "vendor-stage.h"

/* Network steps give up after this long: an unreachable source is an error in seconds. */
#define VENDOR_TIMEOUT_SEC 20
#define VENDOR_TIMEOUT_STR "20"

static bool is_vendor(const struct service_spec *s) {
        return s->source == SERVICE_SOURCE_APT || s->source == SERVICE_SOURCE_OCI;
}

int vendor_maps_init(struct build_ctx *ctx, char **opt_maps) {
        size_t n_opt = strv_length(opt_maps), n_site = ctx->site ? ctx->site->n_mirrors : 0;
        struct mirror_map *m = calloc(n_opt + n_site + 1, sizeof *m);
        if (!m)
                return -ENOMEM;
        size_t k = 0;
        int r = 0;
        for (size_t i = 0; i < n_opt && r >= 0; i++) {
                r = mirror_map_parse_arg(opt_maps[i], &m[k]);
                if (r == -EINVAL)
                        r = log_error_errno(r, "--mirror %s: expected FROM=TO, e.g. docker.io=http://127.0.0.1:5000 "
                                            "or https://download.jitsi.org=http://apt-cache/jitsi", opt_maps[i]);
                else if (r >= 0)
                        k++;
        }
        for (size_t i = 0; i < n_site && r >= 0; i++) {
                m[k].from = strdup(ctx->site->mirrors[i].from);
                m[k].to = strdup(ctx->site->mirrors[i].to);
                m[k].src = ctx->site->mirrors[i].src;
                if (!m[k].from || !m[k].to)
                        r = -ENOMEM;
                k++;
        }
        if (r < 0) {
                for (size_t i = 0; i < k; i++)
                        mirror_map_done(&m[i]);
                free(m);
                return r;
        }
        ctx->vendor_maps = m;
        ctx->n_vendor_maps = k;
        return 0;
}

void vendor_ctx_done(struct build_ctx *ctx) {
        for (size_t i = 0; i < ctx->n_vendor; i++)
                vendor_entry_done(&ctx->vendor[i]);
        free(ctx->vendor);
        ctx->vendor = NULL;
        ctx->n_vendor = 0;
        for (size_t i = 0; i < ctx->n_vendor_maps; i++)
                mirror_map_done(&ctx->vendor_maps[i]);
        free(ctx->vendor_maps);
        ctx->vendor_maps = NULL;
        ctx->n_vendor_maps = 0;
}

static int run_tool(struct build_ctx *ctx, const char *const argv[], bool capture, char **ret_out, char **ret_tail) {
        struct spawn_opts o = SPAWN_OPTS_INIT;
        o.capture_stdout = capture;
        o.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
        o.tail_lines = 6;
        return spawn_run(argv, &o, ret_tail, ret_out);
}

/* Collapse a tool's last lines into one, for an error message. */
static char *one_line(const char *s) {
        char *v = strdup(strempty(s));
        if (!v)
                return NULL;
        for (char *c = v; *c; c++)
                if (*c == '\n')
                        *c = ' ';
        size_t n = strlen(v);
        while (n > 0 && v[n - 1] == ' ')
                v[--n] = 0;
        return v;
}

/* Why apt_trust_check() refused: the service, and the URLs as the profile has them (with the mirror). */
static int apt_trust_error(const struct service_spec *s, const struct apt_source *src, const char *kvia, const char *via,
                           const char *rel_url, int r, const struct apt_trust_failure *f) {
        switch (f->step) {
        case APT_TRUST_FETCH_KEY:
                return log_error_errno(-EHOSTUNREACH, "service '%s': cannot fetch the signing key from %s%s: %s",
                                       s->name, s->key_url, kvia, strna(f->detail));
        case APT_TRUST_LIST_KEY:
                if (r != -EBADMSG)
                        return log_error_errno(r, "service '%s': gpg failed: %m", s->name);
                return log_error_errno(-EBADMSG, "service '%s': %s%s holds no OpenPGP key", s->name, s->key_url, kvia);
        case APT_TRUST_PIN:
                return log_error_errno(-EBADMSG, "service '%s': the key from %s%s has fingerprint %s, but the profile "
                                       "pins %s: refusing to trust it", s->name, s->key_url, kvia, strna(f->detail),
                                       s->key_fingerprint);
        case APT_TRUST_KEYRING:
                return log_error_errno(r, "service '%s': cannot make its keyring: %s", s->name, strempty(f->detail));
        case APT_TRUST_FETCH_RELEASE:
                return log_error_errno(-EHOSTUNREACH, "service '%s': repository %s%s does not answer: %s: %s", s->name,
                                       src->url, via, rel_url, strna(f->detail));
        case APT_TRUST_VERIFY:
        default: {
                _cleanup_free_ char *l = one_line(f->detail);
                return log_error_errno(r, "service '%s': the signature of repository %s%s does not verify with key "
                                       "%s: %s", s->name, src->url, via, s->key_fingerprint, strna(l));
        }
        }
}

static int plan_apt(struct build_ctx *ctx, struct vendor_entry *e, const char *gnupg) {
        const struct service_spec *s = e->service;
        _cleanup_(apt_source_done) struct apt_source src = {};
        int r = apt_source_parse(s->repo, &src);
        if (r < 0)
                return log_error_errno(r == -ENOMEM ? r : -EINVAL, "service '%s': cannot read its repo line '%s'",
                                       s->name, s->repo);
        _cleanup_free_ char *repo_url = NULL, *key_url = NULL;
        const struct mirror_map *used_repo = NULL, *used_key = NULL;
        if (mirror_map_url(ctx->vendor_maps, ctx->n_vendor_maps, src.url, &repo_url, &used_repo) < 0 ||
            mirror_map_url(ctx->vendor_maps, ctx->n_vendor_maps, s->key_url, &key_url, &used_key) < 0)
                return -ENOMEM;
        _cleanup_free_ char *via = used_repo ? strprintf(" (mirror %s)", repo_url) : strdup("");
        _cleanup_free_ char *kvia = used_key ? strprintf(" (mirror %s)", key_url) : strdup("");
        _cleanup_free_ char *base = strdup(src.signed_by + strlen("/usr/share/keyrings/"));
        _cleanup_free_ char *keyfile = strprintf("%s/vendor/%s.key", ctx->work_dir, s->name);
        _cleanup_free_ char *keyring = strprintf("%s/vendor/%s", ctx->work_dir, strna(base));
        _cleanup_free_ char *inrelease = strprintf("%s/vendor/%s.InRelease", ctx->work_dir, s->name);
        _cleanup_free_ char *rel_url = apt_source_inrelease_url(&src, repo_url);
        if (!via || !kvia || !base || !keyfile || !keyring || !inrelease || !rel_url)
                return -ENOMEM;

        /* The key by its fingerprint, only it in the keyring, InRelease signed by it: common/apt-trust.c. */
        struct apt_trust t = {
                .key_url = key_url, .fingerprint = s->key_fingerprint, .inrelease_url = rel_url, .gnupg = gnupg,
                .keyfile = keyfile, .keyring = keyring, .inrelease = inrelease, .file_mode = 0644,
                .http = { .timeout_usec = VENDOR_TIMEOUT_SEC * 1000000ULL, .retries = 1, .max_size = 64 << 20,
                          .allow_https = true },
        };
        struct spawn_opts so = SPAWN_OPTS_INIT;
        so.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
        so.tail_lines = 6;
        spawn_proc_opts(&so, &t.proc);
        _cleanup_(apt_trust_failure_done) struct apt_trust_failure f = {};
        r = apt_trust_check(&t, &f);
        if (r < 0)
                return apt_trust_error(s, &src, kvia, via, rel_url, r, &f);

        _cleanup_free_ char *rel = NULL;
        size_t rel_size = 0;
        r = read_file_full(AT_FDCWD, inrelease, 64 << 20, &rel, &rel_size);
        if (r < 0)
                return r;
        e->release_sha256 = sha256_hex(rel, rel_size);
        e->repo = strdup(s->repo);
        e->fingerprint = strdup(s->key_fingerprint);
        e->keyring = strdup(src.signed_by);
        e->mirror = used_repo ? strdup(repo_url) : NULL;
        if (!e->release_sha256 || !e->repo || !e->fingerprint || !e->keyring || (used_repo && !e->mirror))
                return -ENOMEM;
        stage_note("vendor", "%s: key %s checked, %s%s signed (InRelease %.12s)", s->name, s->key_fingerprint, src.url,
                   via, e->release_sha256);
        return 0;
}

/* "docker.io/library/nextcloud:28-fpm" -> "docker.io/library/nextcloud" */
static char *image_repo(const char *ref) {
        const char *slash = strrchr(ref, '/');
        const char *at = strchr(ref, '@');
        if (at)
                return strndup(ref, (size_t) (at - ref));
        const char *colon = strrchr(ref, ':');
        if (colon && slash && colon > slash)
                return strndup(ref, (size_t) (colon - ref));
        return strdup(ref);
}

static int skopeo_inspect(struct build_ctx *ctx, const char *ref, bool tls, const char *format, char **ret_out,
                          char **ret_tail) {
        _cleanup_free_ char *tlsopt = strprintf("--tls-verify=%s", tls ? "true" : "false");
        _cleanup_free_ char *what = strprintf("docker://%s", ref);
        if (!tlsopt || !what)
                return -ENOMEM;
        const char *argv[] = { "skopeo", "--command-timeout", VENDOR_TIMEOUT_STR "s", "inspect",
                               "--retry-times", "0", tlsopt, "--format", format, what, NULL };
        return run_tool(ctx, argv, true, ret_out, ret_tail);
}

static int plan_oci(struct build_ctx *ctx, struct vendor_entry *e, const char *pinned) {
        const struct service_spec *s = e->service;
        _cleanup_free_ char *ref = NULL;
        bool tls;
        const struct mirror_map *used = NULL;
        if (mirror_map_image(ctx->vendor_maps, ctx->n_vendor_maps, s->image, &ref, &tls, &used) < 0)
                return -ENOMEM;
        _cleanup_free_ char *via = used ? strprintf(" (mirror %s%s)", tls ? "" : "http://", ref) : strdup("");
        _cleanup_free_ char *repo = image_repo(ref);
        if (!via || !repo)
                return -ENOMEM;
        const char *want = s->digest ?: pinned;
        _cleanup_free_ char *by = want ? strprintf("%s@%s", repo, want) : strdup(ref);
        if (!by)
                return -ENOMEM;
        _cleanup_free_ char *out = NULL, *tail = NULL;
        int r = skopeo_inspect(ctx, by, tls, "{{.Digest}}", &out, &tail);
        if (r != 0) {
                _cleanup_free_ char *l = one_line(tail);
                if (want)
                        return log_error_errno(-EBADMSG, "service '%s': image %s%s has no manifest with the pinned digest "
                                               "%s (%s): the digest does not match", s->name, s->image, via, want, strna(l));
                return log_error_errno(-EHOSTUNREACH, "service '%s': cannot resolve image %s%s: %s", s->name, s->image,
                                       via, strna(l));
        }
        _cleanup_free_ char *digest = one_line(out);
        if (!digest)
                return -ENOMEM;
        if (want && !streq(digest, want))
                return log_error_errno(-EBADMSG, "service '%s': image %s%s served digest %s for pinned %s", s->name,
                                       s->image, via, digest, want);
        if (!oci_digest_valid(digest))
                return log_error_errno(-EBADMSG, "service '%s': image %s%s: the registry gave no sha256 digest ('%s')",
                                       s->name, s->image, via, digest);
        e->image = strdup(s->image);
        e->digest = TAKE_PTR(digest);
        e->pinned = want != NULL;
        e->mirror = used ? strprintf("%s%s", tls ? "" : "http://", ref) : NULL;
        if (!e->image || (used && !e->mirror))
                return -ENOMEM;
        if (!e->pinned)
                log_warning("service '%s': image %s is not pinned: the tag resolved to %s now; put it in the profile as "
                            "digest: or build with --pin-from a manifest that has it", s->name, s->image, e->digest);
        stage_note("vendor", "%s: %s%s -> %s%s", s->name, s->image, via, e->digest, e->pinned ? " (pinned)" : " (not pinned)");
        return 0;
}

/* gpg starts an agent for the temporary keyring: it must not outlive the build. */
static void kill_agent(struct build_ctx *ctx, const char *gnupg) {
        const char *argv[] = { "gpgconf", "--homedir", gnupg, "--kill", "all", NULL };
        (void) run_tool(ctx, argv, false, NULL, NULL);
}

int vendor_plan(struct build_ctx *ctx) {
        const struct profile *p = ctx->profile;
        size_t n = 0;
        for (size_t i = 0; i < p->n_services; i++)
                n += is_vendor(&p->services[i]);
        ctx->vendor = calloc(n ? n : 1, sizeof(struct vendor_entry));
        if (!ctx->vendor)
                return -ENOMEM;
        unsigned fetch = 0, deferred = 0;
        for (size_t i = 0; i < p->n_services; i++) {
                const struct service_spec *s = &p->services[i];
                if (!is_vendor(s))
                        continue;
                struct vendor_entry *e = &ctx->vendor[ctx->n_vendor++];
                e->service = s;
                if (s->bases && !strv_contains(s->bases, ctx->base->name)) {
                        e->state = VENDOR_NOT_FOR_BASE;
                        e->reason = "not on this base";
                } else if (s->fetch == SERVICE_FETCH_FIRSTBOOT) {
                        e->state = VENDOR_DEFERRED;
                        e->reason = "fetch: firstboot in the profile";
                        deferred++;
                } else if (ctx->defer_vendor) {
                        e->state = VENDOR_DEFERRED;
                        e->reason = "built with --defer-vendor";
                        deferred++;
                } else {
                        e->state = VENDOR_IN_IMAGE;
                        fetch++;
                }
        }
        if (!fetch) {
                if (n)
                        stage_note("vendor", "%zu vendor service%s, none fetched at build time (%u deferred to first boot)",
                                   n, n == 1 ? "" : "s", deferred);
                return 0;
        }
        if (!find_executable("gpg") || !find_executable("gpgv") || !find_executable("skopeo"))
                return log_error_errno(-ENOENT, "Vendor services are fetched at build time: install gnupg, gpgv and "
                                       "skopeo (or build with --defer-vendor)");
        stage_start("vendor", "checking %u vendor source%s", fetch, fetch == 1 ? "" : "s");
        double t0 = now_monotonic();
        _cleanup_free_ char *dir = strprintf("%s/vendor", ctx->work_dir);
        _cleanup_free_ char *gnupg = strprintf("%s/vendor/gnupg", ctx->work_dir);
        if (!dir || !gnupg)
                return -ENOMEM;
        if ((mkdir(dir, 0700) < 0 && errno != EEXIST) || (mkdir(gnupg, 0700) < 0 && errno != EEXIST))
                return log_error_errno(-errno, "Failed to create %s: %m", gnupg);
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                struct vendor_entry *e = &ctx->vendor[i];
                if (e->state != VENDOR_IN_IMAGE)
                        continue;
                const char *pinned = NULL;
                for (size_t k = 0; k < ctx->n_digest_pins; k++)
                        if (streq(ctx->digest_pins[k].name, e->service->name))
                                pinned = ctx->digest_pins[k].version;
                int r = e->service->source == SERVICE_SOURCE_APT ? plan_apt(ctx, e, gnupg) : plan_oci(ctx, e, pinned);
                if (r < 0) {
                        kill_agent(ctx, gnupg);
                        stage_fail("vendor", r, "vendor source of %s", e->service->name);
                        return r;
                }
                if (interrupted()) {
                        kill_agent(ctx, gnupg);
                        return -EINTR;
                }
        }
        kill_agent(ctx, gnupg);
        stage_done("vendor", 0, "%u source%s checked in %.1f s", fetch, fetch == 1 ? "" : "s", now_monotonic() - t0);
        return 0;
}

char *vendor_check_render(const struct build_ctx *ctx) {
        struct buf b = {};
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                const struct vendor_entry *e = &ctx->vendor[i];
                const struct service_spec *s = e->service;
                bool oci = s->source == SERVICE_SOURCE_OCI;
                buf_printf(&b, "%s %s %s %s via=%s", s->name, vendor_state_to_string(e->state), oci ? "oci" : "apt",
                           oci ? s->image : strna(s->repo), e->mirror ?: "-");
                if (e->state != VENDOR_IN_IMAGE)
                        buf_printf(&b, " pin=none reason=\"%s\"\n", strna(e->reason));
                else if (oci)
                        buf_printf(&b, " pin=digest:%s:%s\n", strna(e->digest), e->pinned ? "pinned" : "unpinned");
                else
                        buf_printf(&b, " pin=key:%s inrelease=%s\n", strna(e->fingerprint), strna(e->release_sha256));
        }
        if (!b.data && !b.oom)
                return strdup("");
        return buf_steal(&b);
}

int vendor_layer_packages(const struct build_ctx *ctx, char ***pkgs) {
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                const struct vendor_entry *e = &ctx->vendor[i];
                if (e->state != VENDOR_IN_IMAGE || e->service->source != SERVICE_SOURCE_APT)
                        continue;
                for (char **p = e->service->packages; p && *p; p++)
                        if (!strv_contains(*pkgs, *p) && strv_extend(pkgs, *p) < 0)
                                return -ENOMEM;
        }
        return 0;
}

char *vendor_layer_key_part(const struct build_ctx *ctx) {
        struct buf b = {};
        buf_puts(&b, "");
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                const struct vendor_entry *e = &ctx->vendor[i];
                if (e->state == VENDOR_IN_IMAGE && e->service->source == SERVICE_SOURCE_APT)
                        buf_printf(&b, "%s|%s|%s|%s;", e->service->name, e->repo, e->fingerprint, e->release_sha256);
        }
        return buf_steal(&b);
}

/* While building, the source points at the mirror; the image keeps the upstream line. */
int vendor_layer_sources(struct build_ctx *ctx, int treefd, bool mirrored) {
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                const struct vendor_entry *e = &ctx->vendor[i];
                if (e->state != VENDOR_IN_IMAGE || e->service->source != SERVICE_SOURCE_APT)
                        continue;
                _cleanup_(apt_source_done) struct apt_source src = {};
                int r = apt_source_parse(e->repo, &src);
                if (r < 0)
                        return r;
                _cleanup_free_ char *line = apt_source_line(&src, mirrored && e->mirror ? e->mirror : src.url);
                _cleanup_free_ char *text = line ? strprintf("# %s: %s (rackstack-build; key %s)\n%s\n", e->service->name,
                                                             strna(e->service->description), e->fingerprint, line)
                                                 : NULL;
                _cleanup_free_ char *list = strprintf("etc/apt/sources.list.d/rackstack-%s.list", e->service->name);
                _cleanup_free_ char *keyring = strprintf("%s/vendor/%s", ctx->work_dir,
                                                         e->keyring + strlen("/usr/share/keyrings/"));
                if (!text || !list || !keyring)
                        return -ENOMEM;
                if ((r = mkdir_parents_at(treefd, "etc/apt/sources.list.d", 0755)) < 0 ||
                    (r = write_file_atomic(treefd, list, text, strlen(text), 0644)) < 0)
                        return log_error_errno(r, "Failed to write /%s: %m", list);
                if (mirrored && (r = copy_file_into(keyring, treefd, e->keyring + 1, 0644)) < 0)
                        return log_error_errno(r, "Failed to install %s: %m", e->keyring);
        }
        return 0;
}

static const char storage_conf[] =
        "# rackstack-build: the role's container images are in the image itself, in a read-only\n"
        "# store podman reads besides its own (nothing is pulled on first boot). See vendor.json.\n"
        "[storage]\n"
        "driver = \"overlay\"\n"
        "runroot = \"/run/containers/storage\"\n"
        "graphroot = \"/var/lib/containers/storage\"\n"
        "\n"
        "[storage.options]\n"
        "additionalimagestores = [\"" VENDOR_IMAGE_STORE "\"]\n";

/* Apparent bytes under dir (du), for the images' sizes. */
static int store_bytes(struct build_ctx *ctx, const char *dir, uint64_t *ret) {
        const char *argv[] = { "du", "-s", "-B1", "--apparent-size", dir, NULL };
        _cleanup_free_ char *out = NULL;
        int r = run_tool(ctx, argv, true, &out, NULL);
        if (r != 0)
                return r < 0 ? r : -EIO;
        *ret = strtoull(strempty(out), NULL, 10);
        return 0;
}

static unsigned images_in_image(const struct build_ctx *ctx) {
        unsigned n = 0;
        for (size_t i = 0; i < ctx->n_vendor; i++)
                n += ctx->vendor[i].state == VENDOR_IN_IMAGE && ctx->vendor[i].service->source == SERVICE_SOURCE_OCI;
        return n;
}

bool vendor_has_images(const struct build_ctx *ctx) {
        return images_in_image(ctx) > 0;
}

int vendor_images_install(struct build_ctx *ctx) {
        unsigned n = images_in_image(ctx);
        if (!n)
                return 0;
        stage_start("images", "copying %u container image%s by digest", n, n == 1 ? "" : "s");
        double t0 = now_monotonic();
        _cleanup_free_ char *store = strprintf("%s%s", ctx->tree_dir, VENDOR_IMAGE_STORE);
        _cleanup_free_ char *runroot = strprintf("%s/vendor/runroot", ctx->work_dir);
        if (!store || !runroot)
                return -ENOMEM;
        int r = mkdir_parents_at(AT_FDCWD, store, 0755);
        if (r < 0)
                return log_error_errno(r, "Failed to create %s: %m", store);
        uint64_t total = 0, before = 0;
        (void) store_bytes(ctx, store, &before);
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                struct vendor_entry *e = &ctx->vendor[i];
                if (e->state != VENDOR_IN_IMAGE || e->service->source != SERVICE_SOURCE_OCI)
                        continue;
                const struct service_spec *s = e->service;
                _cleanup_free_ char *ref = NULL;
                bool tls;
                if (mirror_map_image(ctx->vendor_maps, ctx->n_vendor_maps, s->image, &ref, &tls, NULL) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *repo = image_repo(ref);
                _cleanup_free_ char *src = repo ? strprintf("docker://%s@%s", repo, e->digest) : NULL;
                /* Stored under the upstream name, so `podman images` and the units use that. */
                _cleanup_free_ char *dst = strprintf("containers-storage:[overlay@%s+%s]%s", store, runroot, s->image);
                _cleanup_free_ char *tlsopt = strprintf("--src-tls-verify=%s", tls ? "true" : "false");
                if (!src || !dst || !tlsopt)
                        return -ENOMEM;
                /* In a private mount namespace: the overlay driver bind-mounts its home, and that
                 * mount must not outlive the copy. By digest: skopeo checks what it receives. */
                const char *argv[] = { "skopeo", "--command-timeout", "600s", "copy", "--retry-times", "1", tlsopt,
                                       "--remove-signatures", src, dst, NULL };
                struct spawn_opts o = SPAWN_OPTS_INIT;
                o.private_mounts = true;
                o.log_fd = ctx->verbose ? STDERR_FILENO : ctx->log_fd;
                o.tail_lines = 6;
                _cleanup_free_ char *tail = NULL;
                r = spawn_run(argv, &o, &tail, NULL);
                if (r != 0) {
                        _cleanup_free_ char *l = one_line(tail);
                        stage_fail("images", r < 0 ? r : -EIO, "%s", s->name);
                        return log_error_errno(r < 0 ? r : -EIO, "service '%s': copying %s (%s) into the image failed: %s",
                                               s->name, src + strlen("docker://"), s->image, strna(l));
                }
                /* Size: what the image takes in the store, unpacked (du before and after). */
                uint64_t after = 0;
                if (store_bytes(ctx, store, &after) >= 0 && after > before)
                        e->size = after - before;
                before = after;
                total += e->size;
        }
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        r = mkdir_parents_at(treefd, "etc/containers", 0755);
        if (r >= 0)
                r = write_file_atomic(treefd, "etc/containers/storage.conf", storage_conf, strlen(storage_conf), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write /etc/containers/storage.conf: %m");
        /* Locks and the scratch directory are made afresh by podman on the booted system. */
        const char *const scratch[] = { "tmp", "mounts", NULL };
        for (size_t i = 0; scratch[i]; i++) {
                _cleanup_free_ char *d = strprintf("%s/%s", store, scratch[i]);
                if (d)
                        (void) remove_tree(d);
        }
        stage_done("images", total, "%u image%s, %.1f MiB in the image, %.1f s", n, n == 1 ? "" : "s",
                   total / 1048576.0, now_monotonic() - t0);
        return 0;
}

int vendor_record(struct build_ctx *ctx, const struct manifest *m) {
        for (size_t i = 0; i < ctx->n_vendor; i++) {
                struct vendor_entry *e = &ctx->vendor[i];
                if (e->state != VENDOR_IN_IMAGE || e->service->source != SERVICE_SOURCE_APT)
                        continue;
                size_t np = strv_length(e->service->packages);
                e->pkgs = calloc(np ? np : 1, sizeof *e->pkgs);
                if (!e->pkgs)
                        return -ENOMEM;
                for (size_t k = 0; k < np; k++) {
                        const char *name = e->service->packages[k], *version = NULL;
                        for (size_t j = 0; j < m->n_pkgs; j++)
                                if (streq(m->pkgs[j].name, name))
                                        version = m->pkgs[j].version;
                        if (!version)
                                return log_error_errno(-ENOENT, "service '%s': package %s is not in the image after apt "
                                                       "installed it", e->service->name, name);
                        e->pkgs[k].name = strdup(name);
                        e->pkgs[k].version = strdup(version);
                        e->n_pkgs++;
                        if (!e->pkgs[k].name || !e->pkgs[k].version)
                                return -ENOMEM;
                }
        }
        _cleanup_free_ char *json = vendor_json_render(ctx->vendor, ctx->n_vendor, true);
        if (!json)
                return -ENOMEM;
        _cleanup_close_ int treefd = open(ctx->tree_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (treefd < 0)
                return -errno;
        int r = mkdir_parents_at(treefd, "usr/share/rackstack", 0755);
        if (r >= 0)
                r = write_file_atomic(treefd, VENDOR_JSON_PATH + 1, json, strlen(json), 0644);
        if (r < 0)
                return log_error_errno(r, "Failed to write %s: %m", VENDOR_JSON_PATH);
        return 0;
}
