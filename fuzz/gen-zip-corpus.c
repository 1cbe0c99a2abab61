/* SPDX-License-Identifier: MIT */
/* Writes the seeds of corpus/zip with libzip: one small archive per way in, good or bad.
 * Run by hand, not by the tests:
 *
 *   build/fuzz/gen-zip-corpus fuzz/corpus/zip
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "base/fd-util.h"
#include "base/macro.h"

#define NO_MODE UINT32_MAX
#define DIR_ENTRY NULL

typedef struct Entry {
        const char *name;
        const char *data; /* DIR_ENTRY: zip_dir_add */
        size_t len; /* 0: strlen(data) */
        uint32_t unix_mode;
        zip_int32_t method;
} Entry;

static int dirfd_out = -EBADF;

static void die(const char *what, const char *detail) {
        fprintf(stderr, "gen-zip-corpus: %s: %s\n", what, detail);
        exit(1);
}

static void write_seed(const char *name, const uint8_t *buf, size_t len) {
        int fd = openat(dirfd_out, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0 || write_all(fd, buf, len) < 0)
                die(name, strerror(errno));
        close(fd);
        printf("%s: %zu bytes\n", name, len);
}

/* Build a zip in memory; the caller frees the bytes. */
static uint8_t *build(const Entry *entries, size_t n, const char *password, size_t *ret_len) {
        zip_error_t e;
        zip_error_init(&e);
        zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &e);
        if (!src)
                die("zip_source_buffer_create", zip_error_strerror(&e));
        zip_source_keep(src);
        zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &e);
        if (!za)
                die("zip_open_from_source", zip_error_strerror(&e));

        for (size_t i = 0; i < n; i++) {
                const Entry *en = &entries[i];
                zip_int64_t idx;

                if (en->data) {
                        size_t len = en->len ? en->len : strlen(en->data);
                        zip_source_t *s = zip_source_buffer(za, en->data, len, 0);
                        idx = s ? zip_file_add(za, en->name, s, 0) : -1;
                } else
                        idx = zip_dir_add(za, en->name, 0);
                if (idx < 0)
                        die(en->name, zip_strerror(za));
                if (en->unix_mode == NO_MODE)
                        zip_file_set_external_attributes(za, (zip_uint64_t) idx, 0, ZIP_OPSYS_DOS, 0);
                else
                        zip_file_set_external_attributes(
                                za, (zip_uint64_t) idx, 0, ZIP_OPSYS_UNIX, en->unix_mode << 16);
                if (en->data && zip_set_file_compression(za, (zip_uint64_t) idx, en->method, 0) < 0)
                        die(en->name, zip_strerror(za));
                if (password &&
                        zip_file_set_encryption(za, (zip_uint64_t) idx, ZIP_EM_TRAD_PKWARE, password) < 0)
                        die(en->name, zip_strerror(za));
        }
        if (zip_close(za) < 0)
                die("zip_close", zip_strerror(za));

        zip_stat_t st;
        if (zip_source_open(src) < 0 || zip_source_stat(src, &st) < 0)
                die("zip_source_open", zip_error_strerror(zip_source_error(src)));
        uint8_t *buf = malloc(st.size);
        if (!buf || zip_source_read(src, buf, st.size) != (zip_int64_t) st.size)
                die("zip_source_read", "short read");
        zip_source_close(src);
        zip_source_free(src);
        zip_error_fini(&e);
        *ret_len = st.size;
        return buf;
}

static void seed(const char *name, const Entry *entries, size_t n) {
        size_t len;
        _cleanup_free_ uint8_t *buf = build(entries, n, NULL, &len);
        write_seed(name, buf, len);
}

/* Make the headers of a one-entry archive claim `size` uncompressed bytes. */
static void lie_about_size(uint8_t *buf, size_t len, uint32_t size) {
        for (size_t i = 0; i + 46 <= len; i++) {
                size_t at = memcmp(buf + i, "PK\3\4", 4) == 0   ? 22
                            : memcmp(buf + i, "PK\1\2", 4) == 0 ? 24
                                                                : 0;
                for (size_t b = 0; at && b < 4; b++)
                        buf[i + at + b] = (uint8_t) (size >> (8 * b));
        }
}

int main(int argc, char *argv[]) {
        if (argc != 2) {
                fprintf(stderr, "usage: %s DIR\n", argv[0]);
                return 2;
        }
        dirfd_out = open(argv[1], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd_out < 0)
                die(argv[1], strerror(errno));

        static const char script[] = "#!/bin/sh\nexec python3 main.py \"$@\"\n";
        const Entry project[] = {
                {"compile", "#!/bin/sh\ngcc -O2 main.c\n", 0, S_IFREG | 0755, ZIP_CM_DEFLATE},
                {"run", script, 0, S_IFREG | 0755, ZIP_CM_STORE},
                {"src/", DIR_ENTRY, 0, S_IFDIR | 0755, 0},
                {"src/main.c", "int main(void) { return 0; }\n", 0, S_IFREG | 0644, ZIP_CM_DEFLATE},
                {"data/in/1.txt", "1 2 3\n", 0, S_IFREG | 0600, ZIP_CM_STORE},
                {"README", "from windows\r\n", 0, NO_MODE, ZIP_CM_DEFLATE},
        };
        seed("ok-project", project, ELEMENTSOF(project));

        const Entry traversal[] = {
                {"ok.txt", "ok", 0, S_IFREG | 0644, ZIP_CM_STORE},
                {"a/../../escape", "evil", 0, S_IFREG | 0644, ZIP_CM_STORE},
        };
        seed("bad-dotdot", traversal, ELEMENTSOF(traversal));
        const Entry absolute[] = {{"/tmp/escape", "evil", 0, S_IFREG | 0644, ZIP_CM_STORE}};
        seed("bad-absolute", absolute, 1);
        const Entry backslash[] = {{"..\\..\\escape", "evil", 0, S_IFREG | 0644, ZIP_CM_STORE}};
        seed("bad-backslash", backslash, 1);
        const Entry symlink[] = {
                {"link", "/etc/passwd", 0, S_IFLNK | 0777, ZIP_CM_STORE},
                {"link/x", "through it", 0, S_IFREG | 0644, ZIP_CM_STORE},
        };
        seed("bad-symlink", symlink, ELEMENTSOF(symlink));
        const Entry fifo[] = {{"fifo", "", 0, S_IFIFO | 0644, ZIP_CM_STORE}};
        seed("bad-fifo", fifo, 1);
        const Entry file_dir[] = {
                {"a", "file", 0, S_IFREG | 0644, ZIP_CM_STORE},
                {"a/b", "under a file", 0, S_IFREG | 0644, ZIP_CM_STORE},
        };
        seed("bad-file-then-dir", file_dir, ELEMENTSOF(file_dir));
        char deep_name[256] = "";
        for (size_t i = 0; i < 70; i++) /* 70 directories: over the target's 64 files */
                memcpy(deep_name + 2 * i, "d/", 3);
        memcpy(deep_name + 140, "f", 2);
        const Entry deep[] = {{deep_name, "deep", 0, S_IFREG | 0644, ZIP_CM_DEFLATE}};
        seed("bad-too-many-dirs", deep, 1);

        /* Two MiB of zeros: over the target's 1 MiB, in a few KiB. */
        size_t zeros_len = 2 * 1024 * 1024, len;
        char *zeros = calloc(1, zeros_len);
        if (!zeros)
                die("calloc", strerror(ENOMEM));
        const Entry bomb[] = {{"zeros", zeros, zeros_len, S_IFREG | 0644, ZIP_CM_DEFLATE}};
        uint8_t *buf = build(bomb, 1, NULL, &len);
        write_seed("bad-bomb", buf, len);
        lie_about_size(buf, len, 10);
        write_seed("bad-bomb-lying-header", buf, len);
        free(buf);
        free(zeros);

        const Entry secret[] = {{"secret.txt", "secret", 0, S_IFREG | 0644, ZIP_CM_STORE}};
        buf = build(secret, 1, "password", &len);
        write_seed("bad-encrypted", buf, len);
        free(buf);

        /* The project archive cut short, and with its first file's data damaged. */
        buf = build(project, ELEMENTSOF(project), NULL, &len);
        write_seed("bad-truncated", buf, len / 2);
        for (size_t i = 30 + strlen("compile"); i < 30 + strlen("compile") + 8 && i < len; i++)
                buf[i] ^= 0xa5;
        write_seed("bad-corrupt-data", buf, len);
        free(buf);

        static const uint8_t empty[22] = {'P', 'K', 5, 6};
        write_seed("ok-empty", empty, sizeof empty);
        close(dirfd_out);
        return 0;
}
