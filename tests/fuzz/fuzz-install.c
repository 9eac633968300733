/* SPDX-License-Identifier: MIT */
/* libFuzzer harness: any bytes as what an install source serves — SHA256SUMS text (parsed, then
 * an image picked and looked up), a zstd frame header, and a GPT header plus entry array for the
 * backup relocation — none of which the installer trusts before checking. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpt.h"
#include "install-plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct diags d = {};
        struct sha256sums s = {};
        if (sha256sums_parse((const char *) data, size, "SHA256SUMS", &d, &s) >= 0) {
                const char *img = sha256sums_pick_image(&s);
                if (img && !sha256sums_lookup(&s, img))
                        abort();
                sha256sums_done(&s);
        }
        diags_done(&d);

        uint64_t v;
        (void) zstd_frame_content_size(data, size, &v);

        /* a 512-byte header, then the entries; the disk 64 GiB */
        if (size >= 512) {
                uint8_t *hdr = malloc(512), *backup = malloc(512);
                if (hdr && backup) {
                        memcpy(hdr, data, 512);
                        uint64_t be, old;
                        if (gpt_relocate_backup(hdr, 512, data + 512, size - 512, (64ULL << 30) / 512, backup, &be,
                                                &old) >= 0 && be >= (64ULL << 30) / 512)
                                abort();
                }
                free(hdr);
                free(backup);
        }
        return 0;
}
