/* SPDX-License-Identifier: MIT */
#pragma once

/* Cleanup wrappers for the libraries we link. Kept apart from cleanup.h so that code which
 * uses none of them does not pull every library's headers. */

#include <archive.h>
#include <blkid/blkid.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <parted/parted.h>
#include <yaml.h>

#include "cleanup.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_probe, blkid_free_probe)
DEFINE_TRIVIAL_CLEANUP_FUNC(blkid_cache, blkid_put_cache)
DEFINE_TRIVIAL_CLEANUP_FUNC(PedDevice *, ped_device_destroy)
DEFINE_TRIVIAL_CLEANUP_FUNC(PedDisk *, ped_disk_destroy)
DEFINE_TRIVIAL_CLEANUP_FUNC(PedConstraint *, ped_constraint_destroy)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY *, EVP_PKEY_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_MD_CTX *, EVP_MD_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(EVP_PKEY_CTX *, EVP_PKEY_CTX_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(BIO *, BIO_free_all)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct archive *, archive_read_free)
static inline void archive_write_freep(struct archive **a) {
        if (*a)
                archive_write_free(*a);
}
static inline void yaml_parser_deletep(yaml_parser_t **p) {
        if (*p)
                yaml_parser_delete(*p);
}
