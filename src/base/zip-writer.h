/* SPDX-License-Identifier: MIT */
#pragma once

/* Writing a zip archive in memory, entries stored (no compression): what a client would
 * send as Judge0's additional_files, made on the server from files given one by one (the
 * Piston route). No library: the format of stored entries is a header, the bytes and a
 * central directory, with a CRC-32 each. No ZIP64: at most ZIP_WRITER_MAX_ENTRIES entries
 * and ZIP_WRITER_MAX_BYTES in all. */

#include <stddef.h>
#include <stdint.h>

#define ZIP_WRITER_MAX_ENTRIES 1000
#define ZIP_WRITER_MAX_BYTES (UINT32_C(1) << 30)

typedef struct ZipEntry {
        const char *name; /* a relative path, '/' separated; not checked here */
        const void *data;
        size_t len;
} ZipEntry;

/* The archive of the n entries (regular files, mode 0644), in order. On success *ret is a
 * malloc'd buffer of *ret_len bytes the caller frees. -E2BIG for more than
 * ZIP_WRITER_MAX_ENTRIES entries, -EFBIG past ZIP_WRITER_MAX_BYTES, -ENOMEM. */
int zip_write(const ZipEntry *entries, size_t n, uint8_t **ret, size_t *ret_len);

/* CRC-32 (ISO-HDLC, the zip and gzip one) of len bytes. */
uint32_t zip_crc32(const void *data, size_t len);
