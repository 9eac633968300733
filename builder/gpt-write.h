/* SPDX-License-Identifier: MIT */
#pragma once

#include "gpt.h"
#include "image.h"

/* Write the GPT for layout l onto the disk image at path (which already has l->disk_size bytes):
 * libparted makes the table, partition names and the protective MBR; then the type GUIDs (the
 * Discoverable Partitions types, which libparted 3.5 cannot set), the partition GUIDs and the
 * disk GUID are written into both the primary and the backup table and their CRCs redone. */
int gpt_write(const char *path, const struct image_layout *l);
