/* SPDX-License-Identifier: MIT */
/* A stored-only zip writer (PKWARE APPNOTE 4.3): per entry a local header, the name and the
 * bytes; then one central directory record per entry and the end record. Every number is
 * little-endian. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/zip-writer.h"

#define LOCAL_HEADER 30u
#define CENTRAL_HEADER 46u
#define END_RECORD 22u
#define VERSION_MADE_BY_UNIX 0x0314u /* Unix, spec 2.0: the external attributes hold a mode */
#define VERSION_NEEDED 20u
#define MODE_FILE_0644 0100644u
#define DOS_DATE_1980_01_01 0x0021u

uint32_t zip_crc32(const void *data, size_t len) {
        const uint8_t *p = data;
        uint32_t c = UINT32_MAX;
        for (size_t i = 0; i < len; i++) {
                c ^= p[i];
                for (int k = 0; k < 8; k++)
                        c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
        }
        return ~c;
}

static uint8_t *put16(uint8_t *p, uint32_t v) {
        p[0] = (uint8_t) v;
        p[1] = (uint8_t) (v >> 8);
        return p + 2;
}

static uint8_t *put32(uint8_t *p, uint32_t v) {
        p = put16(p, v & 0xffffu);
        return put16(p, v >> 16);
}

/* The fields a local header and a central record share, from "version needed" on. */
static uint8_t *put_common(uint8_t *p, uint32_t crc, uint32_t size, uint32_t name_len) {
        p = put16(p, VERSION_NEEDED);
        p = put16(p, 0); /* flags */
        p = put16(p, 0); /* stored */
        p = put16(p, 0); /* time 00:00:00 */
        p = put16(p, DOS_DATE_1980_01_01);
        p = put32(p, crc);
        p = put32(p, size); /* compressed */
        p = put32(p, size);
        p = put16(p, name_len);
        return put16(p, 0); /* extra field */
}

int zip_write(const ZipEntry *entries, size_t n, uint8_t **ret, size_t *ret_len) {
        if (n > ZIP_WRITER_MAX_ENTRIES)
                return -E2BIG;
        uint64_t total = END_RECORD;
        for (size_t i = 0; i < n; i++) {
                size_t nl = strlen(entries[i].name);
                if (nl > UINT16_MAX || entries[i].len > ZIP_WRITER_MAX_BYTES)
                        return -EFBIG;
                total += LOCAL_HEADER + CENTRAL_HEADER + 2 * (uint64_t) nl + entries[i].len;
                if (total > ZIP_WRITER_MAX_BYTES)
                        return -EFBIG;
        }
        uint8_t *buf = malloc(total), *p = buf;
        uint32_t *crcs = calloc(n ? n : 1, sizeof *crcs);
        uint32_t *offsets = calloc(n ? n : 1, sizeof *offsets);
        if (!buf || !crcs || !offsets) {
                free(buf);
                free(crcs);
                free(offsets);
                return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++) {
                const ZipEntry *e = &entries[i];
                uint32_t nl = (uint32_t) strlen(e->name);
                crcs[i] = zip_crc32(e->data, e->len);
                offsets[i] = (uint32_t) (p - buf);
                p = put32(p, 0x04034b50u);
                p = put_common(p, crcs[i], (uint32_t) e->len, nl);
                memcpy(p, e->name, nl);
                p += nl;
                if (e->len)
                        memcpy(p, e->data, e->len);
                p += e->len;
        }
        uint32_t dir_start = (uint32_t) (p - buf);
        for (size_t i = 0; i < n; i++) {
                const ZipEntry *e = &entries[i];
                uint32_t nl = (uint32_t) strlen(e->name);
                p = put32(p, 0x02014b50u);
                p = put16(p, VERSION_MADE_BY_UNIX);
                p = put_common(p, crcs[i], (uint32_t) e->len, nl);
                p = put16(p, 0); /* comment */
                p = put16(p, 0); /* disk */
                p = put16(p, 0); /* internal attributes */
                p = put32(p, (uint32_t) MODE_FILE_0644 << 16);
                p = put32(p, offsets[i]);
                memcpy(p, e->name, nl);
                p += nl;
        }
        uint32_t dir_size = (uint32_t) (p - buf) - dir_start;
        p = put32(p, 0x06054b50u);
        p = put16(p, 0); /* this disk */
        p = put16(p, 0); /* the directory's disk */
        p = put16(p, (uint32_t) n);
        p = put16(p, (uint32_t) n);
        p = put32(p, dir_size);
        p = put32(p, dir_start);
        p = put16(p, 0); /* comment */
        free(crcs);
        free(offsets);
        *ret = buf;
        *ret_len = (size_t) (p - buf);
        return 0;
}
