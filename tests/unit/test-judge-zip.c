/* SPDX-License-Identifier: MIT */
/* judge_extract_zip() on archives built here with libzip, in memory: what it extracts and
 * every way an archive tries to write where it should not. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "judge/judge.h"
#include "tests.h"

#define KIB 1024u
#define MIB (1024u * 1024u)
#define NO_MODE UINT32_MAX

typedef struct Entry {
        const char *name;
        const void *data; /* NULL: a directory entry (zip_dir_add) */
        size_t len;
        uint32_t unix_mode; /* NO_MODE: DOS attributes, no Unix mode */
} Entry;

/* A zip of the entries, in a malloc'd buffer. */
static uint8_t *build_zip(const Entry *entries, size_t n, size_t *ret_len) {
        zip_error_t e;
        zip_error_init(&e);
        zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &e);
        ASSERT_TRUE(src);
        zip_source_keep(src);
        zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &e);
        ASSERT_TRUE(za);

        for (size_t i = 0; i < n; i++) {
                zip_int64_t idx;
                if (entries[i].data) {
                        zip_source_t *s = zip_source_buffer(za, entries[i].data, entries[i].len, 0);
                        ASSERT_TRUE(s);
                        idx = zip_file_add(za, entries[i].name, s, 0);
                        if (idx < 0)
                                zip_source_free(s);
                } else
                        idx = zip_dir_add(za, entries[i].name, 0);
                if (idx < 0) {
                        fprintf(stderr, "cannot add %s: %s\n", entries[i].name, zip_strerror(za));
                        abort();
                }
                if (entries[i].unix_mode == NO_MODE)
                        ASSERT_EQ(zip_file_set_external_attributes(
                                          za, (zip_uint64_t) idx, 0, ZIP_OPSYS_DOS, 0),
                                0);
                else
                        ASSERT_EQ(zip_file_set_external_attributes(za, (zip_uint64_t) idx, 0, ZIP_OPSYS_UNIX,
                                          entries[i].unix_mode << 16),
                                0);
        }
        ASSERT_EQ(zip_close(za), 0);

        zip_stat_t st;
        ASSERT_EQ(zip_source_open(src), 0);
        ASSERT_EQ(zip_source_stat(src, &st), 0);
        uint8_t *buf = malloc(st.size);
        ASSERT_TRUE(buf);
        ASSERT_EQ(zip_source_read(src, buf, st.size), (zip_int64_t) st.size);
        zip_source_close(src);
        zip_source_free(src);
        zip_error_fini(&e);
        *ret_len = st.size;
        return buf;
}

static uint8_t *build_one(const char *name, const char *data, uint32_t mode, size_t *ret_len) {
        Entry e = {name, data, data ? strlen(data) : 0, mode};
        return build_zip(&e, 1, ret_len);
}

/* Replace every occurrence of `from` by `to` (same length) in the archive's bytes: the
 * names in the local and the central headers, which no checksum covers. */
static void patch_bytes(uint8_t *buf, size_t len, const char *from, const char *to, size_t n) {
        size_t hits = 0;
        for (size_t i = 0; i + n <= len; i++)
                if (memcmp(buf + i, from, n) == 0) {
                        memcpy(buf + i, to, n);
                        hits++;
                }
        ASSERT_EQ(hits, 2u);
}

static void put_le32(uint8_t *p, uint32_t v) {
        for (int i = 0; i < 4; i++)
                p[i] = (uint8_t) (v >> (8 * i));
}

/* Make every header of a one-entry archive claim `size` uncompressed bytes. */
static void patch_uncompressed_size(uint8_t *buf, size_t len, uint32_t size) {
        size_t hits = 0;
        for (size_t i = 0; i + 46 <= len; i++) {
                if (memcmp(buf + i, "PK\3\4", 4) == 0) {
                        put_le32(buf + i + 22, size);
                        hits++;
                } else if (memcmp(buf + i, "PK\1\2", 4) == 0) {
                        put_le32(buf + i + 24, size);
                        hits++;
                }
        }
        ASSERT_EQ(hits, 2u);
}

/* ---- scratch directories ---- */

static void rm_rf_at(int parent, const char *name) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0) {
                DIR *d = fdopendir(fd);
                ASSERT_TRUE(d);
                struct dirent *de;
                while ((de = readdir(d)))
                        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                                rm_rf_at(dirfd(d), de->d_name);
                closedir(d);
                ASSERT_EQ(unlinkat(parent, name, AT_REMOVEDIR), 0);
        } else
                ASSERT_EQ(unlinkat(parent, name, 0), 0);
}

typedef struct Scratch {
        char path[64];
        int fd; /* the scratch directory */
        int target; /* "target" inside it: where archives go; siblings are "outside" */
} Scratch;

static void scratch_new(Scratch *s) {
        snprintf(s->path, sizeof s->path, "/tmp/test-judge-zip-XXXXXX");
        ASSERT_TRUE(mkdtemp(s->path));
        s->fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(s->fd >= 0);
        ASSERT_EQ(mkdirat(s->fd, "target", 0755), 0);
        s->target = openat(s->fd, "target", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(s->target >= 0);
}

static void scratch_done(Scratch *s) {
        close(s->target);
        close(s->fd);
        rm_rf_at(AT_FDCWD, s->path);
}

static bool exists_at(int dirfd, const char *path) {
        struct stat st;
        return fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static size_t count_entries(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        DIR *d = fdopendir(fd);
        ASSERT_TRUE(d);
        size_t n = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

static void check_file(int dirfd, const char *path, const char *content, mode_t mode) {
        _cleanup_free_ char *data = NULL;
        size_t len;
        struct stat st;

        ASSERT_EQ(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_TRUE(S_ISREG(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, mode);
        ASSERT_EQ(read_file_at(dirfd, path, 1 * MIB, &data, &len), 0);
        ASSERT_EQ(len, strlen(content));
        ASSERT_TRUE(memcmp(data, content, len) == 0);
}

static void check_dir(int dirfd, const char *path) {
        struct stat st;
        ASSERT_EQ(fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_TRUE(S_ISDIR(st.st_mode));
        ASSERT_EQ(st.st_mode & 07777, 0755u);
}

/* Extract; expect r, and (on failure) a message holding `needle`. */
static void extract_expect(int dirfd, const uint8_t *zip, size_t len, uint64_t max_bytes, uint32_t max_files,
        int expected, const char *needle) {
        char err[512] = "untouched";

        int r = judge_extract_zip(dirfd, zip, len, max_bytes, max_files, err, sizeof err);
        if (r != expected || (needle && !strstr(err, needle))) {
                fprintf(stderr, "extract: got %d (%s), message \"%s\"; expected %d with \"%s\"\n", r,
                        r < 0 ? strerror(-r) : "ok", err, expected, needle ? needle : "");
                abort();
        }
        if (r == 0)
                ASSERT_TRUE(strcmp(err, "untouched") == 0); /* written only on failure */
        else
                ASSERT_TRUE(strnlen(err, sizeof err) < sizeof err && err[0]);
}

/* ---- tests ---- */

static void test_normal(void) {
        static const char script[] = "#!/bin/sh\necho hi\n";
        char big[200 * KIB];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (char) ('a' + i % 26);
        const Entry entries[] = {
                {"hello.txt", "Hello\n", 6, S_IFREG | 0644},
                {"run.sh", script, strlen(script), S_IFREG | 0700}, /* any x bit: 0755 */
                {"src/", NULL, 0, S_IFDIR | 0700},
                {"src/main.c", "int main(void) { return 0; }\n", 29, S_IFREG | 0600},
                {"a/b/c/deep.txt", "deep", 4, S_IFREG | 0644}, /* parents made on the way */
                {"a/b/", NULL, 0, S_IFDIR | 0755}, /* after them: no error */
                {"empty/", NULL, 0, S_IFDIR | 0755}, {"dos.txt", "from DOS", 8, NO_MODE},
                {"zero", "", 0, S_IFREG | 0644},
                {"typeless", "x", 1, 0111}, /* a mode without a type: a file */
                {"big.bin", big, sizeof big, S_IFREG | 0644},
                {"noslash", NULL, 0, S_IFDIR | 0755}, /* a directory by its mode */
        };
        Scratch s;
        size_t len;

        scratch_new(&s);
        _cleanup_free_ uint8_t *zip = build_zip(entries, ELEMENTSOF(entries), &len);
        mode_t old = umask(077); /* the modes are set whatever the umask */
        extract_expect(s.target, zip, len, 1 * MIB, 100, 0, NULL);
        umask(old);

        check_file(s.target, "hello.txt", "Hello\n", 0644);
        check_file(s.target, "run.sh", script, 0755);
        check_dir(s.target, "src");
        check_file(s.target, "src/main.c", "int main(void) { return 0; }\n", 0644);
        check_dir(s.target, "a");
        check_dir(s.target, "a/b");
        check_dir(s.target, "a/b/c");
        check_file(s.target, "a/b/c/deep.txt", "deep", 0644);
        check_dir(s.target, "empty");
        int empty = openat(s.target, "empty", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_EQ(count_entries(empty), 0u);
        close(empty);
        check_file(s.target, "dos.txt", "from DOS", 0644);
        check_file(s.target, "zero", "", 0644);
        check_file(s.target, "typeless", "x", 0755);
        check_dir(s.target, "noslash");
        {
                _cleanup_free_ char *data = NULL;
                size_t n;
                ASSERT_EQ(read_file_at(s.target, "big.bin", 1 * MIB, &data, &n), 0);
                ASSERT_TRUE(n == sizeof big && memcmp(data, big, n) == 0);
        }
        ASSERT_EQ(count_entries(s.target), 10u);
        ASSERT_EQ(count_entries(s.fd), 1u); /* nothing beside the target */

        /* The limits are inclusive: exactly the bytes and the inodes of the archive pass.
         * 8 files and 6 directories (src a a/b a/b/c empty noslash). */
        uint64_t total = 6 + strlen(script) + 29 + 4 + 8 + 0 + 1 + sizeof big;
        ASSERT_EQ(mkdirat(s.fd, "t2", 0755), 0);
        int t2 = openat(s.fd, "t2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        extract_expect(t2, zip, len, total, 14, 0, NULL);
        close(t2);
        ASSERT_EQ(mkdirat(s.fd, "t3", 0755), 0);
        int t3 = openat(s.fd, "t3", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        extract_expect(t3, zip, len, total - 1, 14, -EFBIG, "exceed");
        close(t3);
        ASSERT_EQ(mkdirat(s.fd, "t4", 0755), 0);
        int t4 = openat(s.fd, "t4", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        extract_expect(t4, zip, len, total, 13, -E2BIG, "more than 13 files and directories");
        close(t4);

        /* Without room for a message. */
        ASSERT_EQ(judge_extract_zip(s.target, zip, len, 1 * MIB, 100, NULL, 0), -EEXIST);
        scratch_done(&s);
}

static void test_bad_names(void) {
        char long_component[300], long_name[4200];
        memset(long_component, 'c', 256);
        long_component[256] = '\0';
        /* 31 components of 127 bytes and a slash, then a last one of 128: 4096 bytes. */
        memset(long_name, 'd', sizeof long_name);
        for (size_t i = 127; i < 31 * 128; i += 128)
                long_name[i] = '/';
        long_name[4096] = 'x';
        long_name[4097] = '\0';
        static const struct {
                const char *name;
                const char *quoted;
                const char *reason;
        } cases[] = {
                {"", "\"\"", "empty name"}, {"../x", "\"../x\"", "\"..\" path component"},
                {"/abs", "\"/abs\"", "absolute path"}, {"/", "\"/\"", "absolute path"},
                {"a/../../b", "\"a/../../b\"", "\"..\" path component"},
                {"a/..", "\"a/..\"", "\"..\" path component"}, {"..", "\"..\"", "\"..\" path component"},
                {"../", "\"../\"", "\"..\" path component"}, {"a\\b", "\"a\\x5cb\"", "backslash"},
                {"..\\..\\x", "\"..\\x5c..\\x5cx\"", "backslash"},
                {"a//b", "\"a//b\"", "empty path component"}, {"./a", "\"./a\"", "\".\" path component"},
                {"a/./b", "\"a/./b\"", "\".\" path component"},
                {"x\x1b[31m/../y", "\"x\\x1b[31m/../y\"", "\"..\""}, /* escaped in the message */
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Scratch s;
                size_t len;
                char needle[256];

                scratch_new(&s);
                _cleanup_free_ uint8_t *zip = build_one(cases[i].name, "evil", S_IFREG | 0644, &len);
                snprintf(needle, sizeof needle, "entry %s: %s", cases[i].quoted, cases[i].reason);
                extract_expect(s.target, zip, len, 1 * MIB, 100, -EINVAL, needle);
                ASSERT_EQ(count_entries(s.target), 0u);
                ASSERT_EQ(count_entries(s.fd), 1u);
                scratch_done(&s);
        }

        /* Length limits: a 255-byte component passes, 256 does not; 4096 bytes in all pass,
         * 4097 do not. */
        Scratch s;
        size_t len;
        scratch_new(&s);
        uint8_t *zip = build_one(long_component, "x", S_IFREG | 0644, &len);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EINVAL, "longer than 255");
        free(zip);
        long_component[255] = '\0';
        zip = build_one(long_component, "x", S_IFREG | 0644, &len);
        extract_expect(s.target, zip, len, 1 * MIB, 100, 0, NULL);
        ASSERT_TRUE(exists_at(s.target, long_component));
        free(zip);
        zip = build_one(long_name, "x", S_IFREG | 0644, &len);
        extract_expect(s.target, zip, len, 1 * MIB, 10000, -EINVAL, "longer than 4096");
        free(zip);
        long_name[4096] = '\0';
        zip = build_one(long_name, "x", S_IFREG | 0644, &len);
        extract_expect(s.target, zip, len, 1 * MIB, 10000, 0, NULL);
        free(zip);
        scratch_done(&s);

        /* Embedded NULs, made by renaming in the bytes. libzip reads them as spaces (it
         * hands names out as C strings), so what follows one is still checked. */
        scratch_new(&s);
        zip = build_one("okXXXXXXXXXXXX", "evil", S_IFREG | 0644, &len);
        patch_bytes(zip, len, "okXXXXXXXXXXXX", "ok\0/../../../x", 14);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EINVAL, "\"..\" path component");
        free(zip);
        zip = build_one("aXb", "nul", S_IFREG | 0644, &len);
        patch_bytes(zip, len, "aXb", "a\0b", 3);
        extract_expect(s.target, zip, len, 1 * MIB, 100, 0, NULL);
        check_file(s.target, "a b", "nul", 0644);
        ASSERT_EQ(count_entries(s.target), 1u);
        ASSERT_EQ(count_entries(s.fd), 1u);
        free(zip);
        scratch_done(&s);
}

static void test_special_files(void) {
        static const struct {
                uint32_t mode;
                const char *reason;
        } cases[] = {
                {S_IFLNK | 0777, "symbolic link"},
                {S_IFIFO | 0644, "fifo"},
                {S_IFCHR | 0644, "character device"},
                {S_IFBLK | 0644, "block device"},
                {S_IFSOCK | 0755, "socket"},
                {0170000, "unknown file type"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Scratch s;
                size_t len;

                scratch_new(&s);
                /* A link entry's data is its target. */
                _cleanup_free_ uint8_t *zip = build_one("link", "/etc/passwd", cases[i].mode, &len);
                extract_expect(s.target, zip, len, 1 * MIB, 100, -EINVAL, cases[i].reason);
                ASSERT_EQ(count_entries(s.target), 0u);
                scratch_done(&s);
        }

        /* The same in a directory, after good entries: those stay (the caller cleans up). */
        const Entry entries[] = {
                {"ok.txt", "ok", 2, S_IFREG | 0644},
                {"dir/evil", "../../../etc", 12, S_IFLNK | 0777},
        };
        Scratch s;
        size_t len;
        scratch_new(&s);
        _cleanup_free_ uint8_t *zip = build_zip(entries, ELEMENTSOF(entries), &len);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EINVAL, "entry \"dir/evil\": symbolic link");
        check_file(s.target, "ok.txt", "ok", 0644);
        ASSERT_TRUE(!exists_at(s.target, "dir/evil"));
        scratch_done(&s);
}

static void test_duplicates(void) {
        const Entry entries[] = {
                {"dup1", "first", 5, S_IFREG | 0644},
                {"dup2", "second", 6, S_IFREG | 0644},
        };
        Scratch s;
        size_t len;

        scratch_new(&s);
        _cleanup_free_ uint8_t *zip = build_zip(entries, ELEMENTSOF(entries), &len);
        patch_bytes(zip, len, "dup2", "dup1", 4);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EEXIST, "entry \"dup1\": cannot create");
        check_file(s.target, "dup1", "first", 0644); /* never overwritten */
        scratch_done(&s);

        /* A file where a directory is needed, and the other way round. */
        const Entry file_then_dir[] = {
                {"a", "file", 4, S_IFREG | 0644},
                {"a/b", "x", 1, S_IFREG | 0644},
        };
        scratch_new(&s);
        _cleanup_free_ uint8_t *zip2 = build_zip(file_then_dir, ELEMENTSOF(file_then_dir), &len);
        extract_expect(s.target, zip2, len, 1 * MIB, 100, -ENOTDIR, "entry \"a/b\"");
        check_file(s.target, "a", "file", 0644);
        scratch_done(&s);

        const Entry dir_then_file[] = {
                {"a/b", "x", 1, S_IFREG | 0644},
                {"a", "file", 4, S_IFREG | 0644},
        };
        scratch_new(&s);
        _cleanup_free_ uint8_t *zip3 = build_zip(dir_then_file, ELEMENTSOF(dir_then_file), &len);
        extract_expect(s.target, zip3, len, 1 * MIB, 100, -EEXIST, "entry \"a\"");
        check_file(s.target, "a/b", "x", 0644);
        scratch_done(&s);
}

static void test_too_many(void) {
        const Entry entries[] = {
                {"1", "1", 1, S_IFREG | 0644},
                {"2", "2", 1, S_IFREG | 0644},
                {"3", "3", 1, S_IFREG | 0644},
                {"4", "4", 1, S_IFREG | 0644},
                {"5", "5", 1, S_IFREG | 0644},
        };
        Scratch s;
        size_t len;

        scratch_new(&s);
        _cleanup_free_ uint8_t *zip = build_zip(entries, ELEMENTSOF(entries), &len);
        extract_expect(s.target, zip, len, 1 * MIB, 4, -E2BIG, "5 entries, more than 4");
        ASSERT_EQ(count_entries(s.target), 0u); /* refused before anything is written */
        extract_expect(s.target, zip, len, 1 * MIB, 5, 0, NULL);
        ASSERT_EQ(count_entries(s.target), 5u);
        scratch_done(&s);

        /* One entry, many directories: they count too. */
        scratch_new(&s);
        _cleanup_free_ uint8_t *deep = build_one("a/b/c/d/e/f", "x", S_IFREG | 0644, &len);
        extract_expect(s.target, deep, len, 1 * MIB, 3, -E2BIG, "entry \"a/b/c/d/e/f\": more than 3");
        ASSERT_TRUE(exists_at(s.target, "a/b/c"));
        ASSERT_TRUE(!exists_at(s.target, "a/b/c/d"));
        scratch_done(&s);

        scratch_new(&s);
        extract_expect(s.target, deep, len, 1 * MIB, 6, 0, NULL);
        check_file(s.target, "a/b/c/d/e/f", "x", 0644);
        scratch_done(&s);
}

static void test_bomb(void) {
        size_t n = 50 * MIB, len;
        char *zeros = calloc(1, n);
        ASSERT_TRUE(zeros);
        const Entry entries[] = {{"bomb", zeros, n, S_IFREG | 0644}};
        uint8_t *zip = build_zip(entries, 1, &len);
        free(zeros);
        ASSERT_TRUE(len < 1 * MIB); /* compressible indeed */

        /* An honest header: refused before writing. */
        Scratch s;
        struct stat st;
        scratch_new(&s);
        extract_expect(
                s.target, zip, len, 1 * MIB, 100, -EFBIG, "entry \"bomb\": the files exceed 1048576 bytes");
        ASSERT_TRUE(!exists_at(s.target, "bomb"));
        scratch_done(&s);

        /* A header that lies: stopped while writing, with at most the limit written. */
        patch_uncompressed_size(zip, len, 100);
        scratch_new(&s);
        extract_expect(
                s.target, zip, len, 1 * MIB, 100, -EFBIG, "entry \"bomb\": the files exceed 1048576 bytes");
        ASSERT_EQ(fstatat(s.target, "bomb", &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_TRUE(st.st_size <= 1 * MIB);
        ASSERT_TRUE(st.st_size > 0);
        scratch_done(&s);
        free(zip);

        /* The limit is on the total, not per file. */
        static char part[600 * KIB];
        const Entry two[] = {
                {"one", part, sizeof part, S_IFREG | 0644},
                {"two", part, sizeof part, S_IFREG | 0644},
        };
        zip = build_zip(two, ELEMENTSOF(two), &len);
        scratch_new(&s);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EFBIG, "entry \"two\"");
        ASSERT_EQ(fstatat(s.target, "one", &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_EQ((size_t) st.st_size, sizeof part);
        scratch_done(&s);
        free(zip);
}

static void test_symlink_in_target(void) {
        Scratch s;
        size_t len;

        scratch_new(&s);
        ASSERT_EQ(mkdirat(s.fd, "outside", 0755), 0);
        int out = openat(s.fd, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(out >= 0);
        int v = openat(s.fd, "victim", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        ASSERT_TRUE(v >= 0);
        ASSERT_EQ(write_all(v, "safe", 4), 0);
        close(v);

        char link[128];
        snprintf(link, sizeof link, "%s/victim", s.path);
        ASSERT_EQ(symlinkat(link, s.target, "file"), 0);
        snprintf(link, sizeof link, "%s/outside", s.path);
        ASSERT_EQ(symlinkat(link, s.target, "dir"), 0);
        ASSERT_EQ(symlinkat("../outside", s.target, "rel"), 0);

        /* A file over a symlink: O_EXCL refuses, the victim keeps its bytes. */
        _cleanup_free_ uint8_t *zip = build_one("file", "pwned", S_IFREG | 0644, &len);
        extract_expect(s.target, zip, len, 1 * MIB, 100, -EEXIST, "entry \"file\"");
        check_file(s.fd, "victim", "safe", 0644);

        /* Through a symlinked directory: never entered. */
        _cleanup_free_ uint8_t *zip2 = build_one("dir/x", "pwned", S_IFREG | 0644, &len);
        extract_expect(s.target, zip2, len, 1 * MIB, 100, -ENOTDIR, "entry \"dir/x\": cannot enter \"dir\"");
        _cleanup_free_ uint8_t *zip3 = build_one("rel/sub/", NULL, S_IFDIR | 0755, &len);
        extract_expect(s.target, zip3, len, 1 * MIB, 100, -ENOTDIR, "entry \"rel/sub/\"");
        ASSERT_EQ(count_entries(out), 0u);
        close(out);
        scratch_done(&s);
}

static void test_corrupt(void) {
        static char text[64 * KIB];
        uint32_t x = 1;
        for (size_t i = 0; i < sizeof text; i++) {
                x = x * 1103515245u + 12345u; /* letters that do not compress much */
                text[i] = (char) ('a' + (x >> 16) % 26);
        }
        const Entry entries[] = {
                {"a.txt", text, sizeof text, S_IFREG | 0644},
                {"b.txt", "bbb", 3, S_IFREG | 0644},
        };
        Scratch s;
        size_t len;
        _cleanup_free_ uint8_t *zip = build_zip(entries, ELEMENTSOF(entries), &len);

        /* Cut anywhere: no central directory, no archive. */
        for (size_t cut = 0; cut < len; cut += len / 7 + 1) {
                scratch_new(&s);
                _cleanup_free_ uint8_t *copy = malloc(cut ? cut : 1);
                ASSERT_TRUE(copy);
                memcpy(copy, zip, cut);
                extract_expect(s.target, copy, cut, 1 * MIB, 100, -EBADMSG, "not a zip archive");
                scratch_done(&s);
        }

        /* Damaged data: the compressed stream or its CRC does not hold. */
        scratch_new(&s);
        _cleanup_free_ uint8_t *bad = malloc(len);
        ASSERT_TRUE(bad);
        memcpy(bad, zip, len);
        for (size_t i = 30 + 5 + 100; i < 30 + 5 + 140; i++) /* inside a.txt's data */
                bad[i] ^= 0x55;
        extract_expect(s.target, bad, len, 1 * MIB, 100, -EBADMSG, "entry \"a.txt\"");
        scratch_done(&s);

        /* Not a zip at all. */
        scratch_new(&s);
        static const uint8_t garbage[] = "this is not a zip archive, just some text";
        extract_expect(s.target, garbage, sizeof garbage, 1 * MIB, 100, -EBADMSG, "not a zip archive");
        scratch_done(&s);

        /* An empty archive is fine and extracts nothing. */
        scratch_new(&s);
        static const uint8_t empty[22] = {'P', 'K', 5, 6}; /* the end record alone */
        extract_expect(s.target, empty, sizeof empty, 1 * MIB, 0, 0, NULL);
        ASSERT_EQ(count_entries(s.target), 0u);
        extract_expect(-EBADF, empty, sizeof empty, 1 * MIB, 0, -EINVAL, "invalid");
        /* Zero bytes are not an archive (libzip alone would take them for an empty one). */
        extract_expect(s.target, empty, 0, 1 * MIB, 0, -EBADMSG, "not a zip archive");
        scratch_done(&s);
}

static void test_encrypted(void) {
        Scratch s;
        zip_error_t e;

        zip_error_init(&e);
        zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &e);
        ASSERT_TRUE(src);
        zip_source_keep(src);
        zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &e);
        ASSERT_TRUE(za);
        zip_source_t *data = zip_source_buffer(za, "secret", 6, 0);
        zip_int64_t idx = zip_file_add(za, "secret.txt", data, 0);
        ASSERT_TRUE(idx >= 0);
        if (zip_file_set_encryption(za, (zip_uint64_t) idx, ZIP_EM_TRAD_PKWARE, "password") < 0 &&
                zip_file_set_encryption(za, (zip_uint64_t) idx, ZIP_EM_AES_256, "password") < 0) {
                fprintf(stderr, "libzip cannot encrypt here: skipping the encrypted entry\n");
                zip_discard(za);
                zip_source_free(src);
                return;
        }
        ASSERT_EQ(zip_close(za), 0);
        zip_stat_t st;
        ASSERT_EQ(zip_source_open(src), 0);
        ASSERT_EQ(zip_source_stat(src, &st), 0);
        _cleanup_free_ uint8_t *zip = malloc(st.size);
        ASSERT_TRUE(zip);
        ASSERT_EQ(zip_source_read(src, zip, st.size), (zip_int64_t) st.size);
        zip_source_close(src);
        zip_source_free(src);

        scratch_new(&s);
        extract_expect(s.target, zip, st.size, 1 * MIB, 100, -EINVAL, "entry \"secret.txt\": encrypted");
        ASSERT_EQ(count_entries(s.target), 0u);
        scratch_done(&s);
}

int main(void) {
        test_normal();
        test_bad_names();
        test_special_files();
        test_duplicates();
        test_too_many();
        test_bomb();
        test_symlink_in_target();
        test_corrupt();
        test_encrypted();
        return 0;
}
