/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <inttypes.h>
#include <string.h>

#include "cleanup.h"
#include "image-identity.h"
#include "install-plan.h"
#include "parse.h"
#include "util.h"

/* ---- SHA256SUMS ---------------------------------------------------------------------------------- */

const char *sha256sums_pick_image(const struct sha256sums *s) {
        static const char *const suffixes[] = { ".raw.zst", ".raw.gz" };
        for (size_t k = 0; k < ELEMENTSOF(suffixes); k++)
                for (size_t i = 0; s && i < s->n; i++)
                        if (endswith(s->items[i].name, suffixes[k]) && !strchr(s->items[i].name, '/'))
                                return s->items[i].name;
        return NULL;
}

/* RFC 8878 §3.1.1.1: magic, Frame_Header_Descriptor, [Window_Descriptor], [Dictionary_ID],
 * [Frame_Content_Size]. */
int zstd_frame_content_size(const void *p, size_t n, uint64_t *ret) {
        const uint8_t *b = p;
        static const uint8_t magic[4] = { 0x28, 0xb5, 0x2f, 0xfd };
        if (n < 5)
                return n < 4 && memcmp(b, magic, n) != 0 ? -EBADMSG : -EAGAIN;
        if (memcmp(b, magic, 4) != 0)
                return -EBADMSG;
        uint8_t fhd = b[4];
        unsigned fcs_flag = fhd >> 6, single_segment = (fhd >> 5) & 1, did_flag = fhd & 3;
        static const unsigned did_sizes[4] = { 0, 1, 2, 4 };
        unsigned fcs_size = fcs_flag == 0 ? (single_segment ? 1 : 0) : 1u << fcs_flag;
        if (fcs_size == 0)
                return -ENODATA;
        size_t at = 5 + (single_segment ? 0 : 1) + did_sizes[did_flag];
        if (n < at + fcs_size)
                return -EAGAIN;
        uint64_t v = 0;
        for (unsigned i = 0; i < fcs_size; i++)
                v |= (uint64_t) b[at + i] << (8 * i);
        if (fcs_size == 2)
                v += 256;
        *ret = v;
        return 0;
}

/* ---- the boot medium ------------------------------------------------------------------------------ */

static const struct disk_signature *iso_signature(const struct disk_info *d) {
        for (size_t i = 0; i < d->n_sigs; i++)
                if (!d->sigs[i].where && streq(d->sigs[i].type, "iso9660"))
                        return &d->sigs[i];
        return NULL;
}

void install_mark_boot_media(struct disk_set *s, const char *source_disk, const char *medium_label) {
        for (size_t i = 0; i < s->n_disks; i++) {
                struct disk_info *d = &s->disks[i];
                if (source_disk && streq(d->name, source_disk)) {
                        d->boot_medium = true;
                        continue;
                }
                const struct disk_signature *iso = iso_signature(d);
                if (!iso)
                        continue;
                const char *label = iso->label;
                if (d->removable || d->transport == TRANSPORT_USB ||
                    (label && (startswith(label, "RACKSTACK") || (medium_label && streq(label, medium_label)))))
                        d->boot_medium = true;
        }
}

/* ---- the plan --------------------------------------------------------------------------------------- */

struct install_plan *install_plan_free(struct install_plan *p) {
        if (!p)
                return NULL;
        free(p->source);
        free(p->image);
        free(p->image_sha256);
        free(p->raw_name);
        free(p->raw_sha256);
        free(p->target_devnode);
        free(p->target_id);
        free(p->wipe);
        free(p->wipe_allowed_by);
        free(p->ks);
        free(p->installed);
        disk_plan_free(p->disks);
        strv_free(p->errors);
        strv_free(p->notes);
        free(p);
        return NULL;
}

_printf_(3, 4) static void push(bool *oom, char ***l, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        char *s = strvprintf(fmt, ap);
        va_end(ap);
        if (!s || strv_push(l, s) < 0)
                *oom = true;
}

static char *strdup_or_null(const char *s, bool *oom) {
        if (!s)
                return NULL;
        char *t = strdup(s);
        if (!t)
                *oom = true;
        return t;
}

/* The raw image's name in SHA256SUMS: the compressed name without its compression suffix. */
static char *raw_name_for(const char *image) {
        const char *dot = strrchr(image, '.');
        return dot ? strndup(image, (size_t) (dot - image)) : strdup(image);
}

int install_plan_build(const struct install_input *in, struct install_plan **ret) {
        _cleanup_(install_plan_freep) struct install_plan *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        bool oom = false;
        p->target = -1;
        p->source = strdup_or_null(in->source, &oom);
        p->raw_size = in->raw_size;

        /* What will be checked, before anything is written. */
        const char *image = in->image ?: sha256sums_pick_image(in->sums);
        if (!image)
                push(&oom, &p->errors, "%s: SHA256SUMS lists no image (*.raw.zst or *.raw.gz)", strna(in->source));
        else {
                p->image = strdup_or_null(image, &oom);
                const char *hex = sha256sums_lookup(in->sums, image);
                if (!hex)
                        push(&oom, &p->errors, "%s: SHA256SUMS does not list %s: it cannot be verified", strna(in->source),
                             image);
                p->image_sha256 = strdup_or_null(hex, &oom);
                if (!endswith(image, ".zst") && !endswith(image, ".gz"))
                        push(&oom, &p->errors, "%s: the image must be compressed with zstd (.zst) or gzip (.gz)", image);
                _cleanup_free_ char *raw = raw_name_for(image);
                if (raw && !sha256sums_lookup(in->sums, raw)) {
                        /* image.raw.zst next to <host>.raw: the one raw image listed */
                        const char *only = NULL;
                        size_t n = 0;
                        for (size_t i = 0; in->sums && i < in->sums->n; i++)
                                if (endswith(in->sums->items[i].name, ".raw")) {
                                        only = in->sums->items[i].name;
                                        n++;
                                }
                        if (n == 1) {
                                free(raw);
                                raw = strdup(only);
                        }
                }
                if (!raw)
                        oom = true;
                else if (sha256sums_lookup(in->sums, raw)) {
                        p->raw_sha256 = strdup_or_null(sha256sums_lookup(in->sums, raw), &oom);
                        p->raw_name = TAKE_PTR(raw);
                } else
                        push(&oom, &p->notes, "SHA256SUMS lists no %s: only the compressed stream is checked", raw);
        }
        if (in->have_pubkey && !in->have_signature)
                push(&oom, &p->errors, "%s: no SHA256SUMS.sig, and this installer only writes signed images",
                     strna(in->source));
        p->verify_signature = in->have_pubkey && in->have_signature;
        if (in->have_signature && !in->have_pubkey)
                push(&oom, &p->notes, "SHA256SUMS.sig is there but this installer carries no key: not verified");

        /* The disk: the storage planner in its installer mode, with every role disk and the answers
         * as they are. */
        static const struct disk_spec default_os = {
                .name = (char *) "os", .classes = DISK_CLASS_SSD, .min_size = 50 * GiB, .count = 1, .os = true,
        };
        struct plan_input pi = {
                .specs = in->n_specs ? in->specs : &default_os, .n_specs = in->n_specs ? in->n_specs : 1,
                .answers = in->answers, .disks = in->disks, .install = true,
        };
        int r = disk_plan_build(&pi, &p->disks);
        if (r < 0)
                return r;
        for (char **e = p->disks->errors; e && *e; e++)
                push(&oom, &p->errors, "%s", *e);
        for (char **e = p->disks->notes; e && *e; e++)
                push(&oom, &p->notes, "%s", *e);
        const struct plan_disk *pd = NULL;
        for (size_t i = 0; i < p->disks->n_disks; i++)
                if (p->disks->disks[i].mode == PLAN_DISK_IMAGE)
                        pd = &p->disks->disks[i];
        if (disk_plan_ok(p->disks) && pd) {
                const struct disk_info *d = &in->disks->disks[pd->disk];
                p->target = (ssize_t) pd->disk;
                p->target_devnode = strdup_or_null(pd->devnode, &oom);
                p->target_id = strdup_or_null(pd->id, &oom);
                p->target_size = d->size;
                p->sector_size = d->logical_sector_size ?: 512;
                if (pd->wipe) {
                        p->wipe = strdup_or_null(pd->carries, &oom);
                        p->wipe_allowed_by = strdup_or_null(pd->allowed_by, &oom);
                }
                /* the builder writes its GPT for 512-byte sectors; on a 4Kn disk the firmware would look
                 * for it at byte 4096 */
                if (p->sector_size != 512)
                        push(&oom, &p->errors, "%s has %u-byte sectors; the image's GPT is laid out for 512-byte "
                             "sectors", d->name, p->sector_size);
                if (p->raw_size && p->raw_size > d->size) {
                        _cleanup_free_ char *hi = format_size_human(p->raw_size), *hd = format_size_human(d->size);
                        push(&oom, &p->errors, "the image is %s, larger than %s (%s)", strna(hi), d->name, strna(hd));
                }
        } else if (disk_plan_ok(p->disks))
                push(&oom, &p->errors, "no disk for the OS");

        p->ks = strdup_or_null(in->ks, &oom);
        if (oom)
                return -ENOMEM;
        *ret = TAKE_PTR(p);
        return 0;
}

int install_plan_check_installed(struct install_plan *p, const struct image_identity *image,
                                 const struct image_identity *disk, const char *unknown, bool any_role,
                                 bool allow_downgrade) {
        bool oom = false;
        _cleanup_free_ char *have = disk ? image_identity_describe(disk) : NULL, *reason = NULL;
        if (disk && !have)
                return -ENOMEM;
        free(p->installed);
        p->installed = disk ? strprintf("a rackstack system: %s", have) : strdup(unknown);
        if (!p->installed)
                return -ENOMEM;
        if (!image || !disk)
                return 0;
        int r = image_identity_check_installed(image, disk, any_role, allow_downgrade, &reason);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                push(&oom, &p->errors, "%s", reason);
        else if (!streq(image->role, disk->role))
                push(&oom, &p->notes, "--any-role: the %s role's system on %s is replaced by a %s image", disk->role,
                     strna(p->target_devnode), image->role);
        else if (image->build_time < disk->build_time)
                push(&oom, &p->notes, "--allow-downgrade: the image is older than the build on %s",
                     strna(p->target_devnode));
        return oom ? -ENOMEM : 0;
}

void install_plan_render(const struct install_plan *p, const struct disk_set *s, struct buf *b) {
        buf_printf(b, "source:  %s\n", strna(p->source));
        buf_printf(b, "image:   %s", strna(p->image));
        if (p->raw_size) {
                _cleanup_free_ char *h = format_size_human(p->raw_size);
                buf_printf(b, " (%s raw)", strna(h));
        }
        buf_putc(b, '\n');
        buf_printf(b, "check:   sha256 %s of the compressed stream%s%s%s\n", p->image_sha256 ? p->image_sha256 : "(none)",
                   p->raw_sha256 ? ", sha256 " : "", strempty(p->raw_sha256), p->raw_sha256 ? " of the raw image" : "");
        buf_printf(b, "check:   SHA256SUMS signature %s\n", p->verify_signature ? "verified with the baked key" : "not checked");
        if (p->target >= 0) {
                _cleanup_free_ char *h = format_size_human(p->target_size);
                buf_printf(b, "target:  %s (%s, %s)\n", p->target_devnode, strna(p->target_id), strna(h));
                if (p->installed)
                        buf_printf(b, "on it:   %s\n", p->installed);
                if (p->wipe)
                        buf_printf(b, "do:      overwrite what is on it (%s): allowed by %s\n", p->wipe,
                                   strna(p->wipe_allowed_by));
                buf_puts(b, "do:      stream the image onto it, verify, move the backup GPT to the disk's end\n");
                if (p->ks)
                        buf_printf(b, "do:      copy %s to /%s on the installed root\n", p->ks, KS_INSTALLED_PATH);
        }
        for (size_t i = 0; s && p->disks && i < s->n_disks && i < p->disks->n_verdicts; i++) {
                const struct disk_info *d = &s->disks[i];
                const struct disk_verdict *v = &p->disks->verdicts[i];
                _cleanup_free_ char *h = format_size_human(d->size);
                _cleanup_free_ char *sig = disk_info_signature_summary(d);
                buf_printf(b, "disk:    %-10s %-10s %-5s %-6s %-12s %s\n", d->name, strna(h),
                           disk_class_name(disk_info_class(d)), transport_name(d->transport),
                           (ssize_t) i == p->target ? "TARGET" : strna(v->state), sig && *sig ? sig : "empty");
                for (char **r = v->reasons; r && *r; r++)
                        buf_printf(b, "    why: %s\n", *r);
        }
        for (char **n = p->notes; n && *n; n++)
                buf_printf(b, "note: %s\n", *n);
        for (char **e = p->errors; e && *e; e++)
                buf_printf(b, "error: %s\n", *e);
        buf_printf(b, "%s\n", install_plan_ok(p) ? "plan: ok" : "plan: REFUSED, nothing will be written");
}
