/* SPDX-License-Identifier: MIT */
#pragma once

#include "image.h"

/* Write the GPT for layout l onto the disk image at path (which already has l->disk_size bytes):
 * libparted makes the table, partition names and the protective MBR; then the type GUIDs (the
 * Discoverable Partitions types, which libparted 3.5 cannot set), the partition GUIDs and the
 * disk GUID are written into both the primary and the backup table and their CRCs redone. */
int gpt_write(const char *path, const struct image_layout *l);

/* Parse "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into the GPT's mixed-endian byte order. */
int gpt_guid_from_string(const char *s, uint8_t ret[static 16]);
uint32_t gpt_crc32(const void *data, size_t size);
