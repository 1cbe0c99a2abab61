/* SPDX-License-Identifier: MIT */
/* zip_write(): what it writes is read back by libzip (the judge's reader), byte for byte,
 * and the bounds refuse. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "base/zip-writer.h"
#include "tests.h"

static void test_crc32(void) {
        /* The check value of CRC-32/ISO-HDLC. */
        ASSERT_EQ(zip_crc32("123456789", 9), 0xcbf43926u);
        ASSERT_EQ(zip_crc32("", 0), 0u);
}

static void test_roundtrip(void) {
        static const char bin[] = {0, 1, 2, (char) 0xff, 0};
        const ZipEntry entries[] = {
                {"helper.py", "def f():\n    return 42\n", 23},
                {"data/input.bin", bin, sizeof bin},
                {"empty.txt", "", 0},
        };
        uint8_t *buf = NULL;
        size_t len = 0;
        ASSERT_EQ(zip_write(entries, 3, &buf, &len), 0);
        zip_error_t e;
        zip_error_init(&e);
        zip_source_t *src = zip_source_buffer_create(buf, len, 0, &e);
        ASSERT_TRUE(src);
        zip_t *za = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &e);
        ASSERT_TRUE(za);
        ASSERT_EQ(zip_get_num_entries(za, 0), 3);
        for (size_t i = 0; i < 3; i++) {
                zip_stat_t st;
                ASSERT_EQ(zip_stat_index(za, i, 0, &st), 0);
                ASSERT_EQ(strcmp(st.name, entries[i].name), 0);
                ASSERT_EQ(st.size, entries[i].len);
                zip_uint8_t opsys;
                zip_uint32_t attr;
                ASSERT_EQ(zip_file_get_external_attributes(za, i, 0, &opsys, &attr), 0);
                ASSERT_EQ(opsys, ZIP_OPSYS_UNIX);
                ASSERT_EQ(attr >> 16, 0100644u);
                zip_file_t *f = zip_fopen_index(za, i, 0);
                ASSERT_TRUE(f);
                char data[64];
                zip_int64_t got = zip_fread(f, data, sizeof data);
                ASSERT_EQ(got, (zip_int64_t) entries[i].len);
                ASSERT_EQ(memcmp(data, entries[i].data, entries[i].len), 0);
                zip_fclose(f);
        }
        zip_close(za);
        free(buf);
}

static void test_limits(void) {
        uint8_t *buf = NULL;
        size_t len = 0;
        ZipEntry *many = calloc(ZIP_WRITER_MAX_ENTRIES + 1, sizeof *many);
        ASSERT_TRUE(many);
        for (size_t i = 0; i <= ZIP_WRITER_MAX_ENTRIES; i++)
                many[i] = (ZipEntry){"f", "", 0};
        ASSERT_EQ(zip_write(many, ZIP_WRITER_MAX_ENTRIES + 1, &buf, &len), -E2BIG);
        ASSERT_EQ(zip_write(many, ZIP_WRITER_MAX_ENTRIES, &buf, &len), 0);
        free(buf);
        free(many);
        /* A size past the bound is refused before anything is read. */
        ZipEntry huge = {"big", "", (size_t) ZIP_WRITER_MAX_BYTES + 1};
        ASSERT_EQ(zip_write(&huge, 1, &buf, &len), -EFBIG);
}

int main(void) {
        test_crc32();
        test_roundtrip();
        test_limits();
        return 0;
}
