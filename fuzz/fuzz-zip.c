/* SPDX-License-Identifier: MIT */
/* Fuzz target for judge_extract_zip() (src/judge/zip.c): the additional_files of a
 * submission are a zip from anyone who can reach the API. Every input is extracted into a
 * fresh directory "t" inside a fresh temporary directory; then, whatever the verdict:
 *   - only regular files and directories were made, all below "t" (nothing beside it);
 *   - no more bytes and files than the limits allow;
 *   - a failure is one of the errors the extractor documents, with a message.
 * The temporary directory is removed afterwards, without following anything. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/macro.h"
#include "fuzz.h"
#include "judge/judge.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

/* Small, so that a bomb costs little; few files, so that the tree stays shallow. */
#define FUZZ_MAX_BYTES (1024 * 1024)
#define FUZZ_MAX_FILES 64

typedef struct Tally {
        uint64_t bytes;
        uint32_t files;
} Tally;

/* Everything below dir: regular files and directories only. */
static void check_tree(int dir, Tally *t) {
        int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        DIR *d = fdopendir(fd);
        CHECK(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                CHECK(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0);
                CHECK(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
                CHECK(!(st.st_mode & (S_ISUID | S_ISGID | S_ISVTX)));
                t->files++;
                CHECK(t->files <= FUZZ_MAX_FILES);
                if (S_ISREG(st.st_mode)) {
                        t->bytes += (uint64_t) st.st_size;
                        CHECK(t->bytes <= FUZZ_MAX_BYTES);
                        CHECK((st.st_mode & 07777) == 0644 || (st.st_mode & 07777) == 0755);
                } else {
                        CHECK((st.st_mode & 07777) == 0755);
                        int sub = openat(
                                dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        CHECK(sub >= 0);
                        check_tree(sub, t);
                        close(sub);
                }
        }
        closedir(d);
}

/* Remove name in parent and everything below it, never following a symlink. */
static void remove_tree(int parent, const char *name) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                CHECK(errno == ENOTDIR || errno == ELOOP);
                CHECK(unlinkat(parent, name, 0) == 0);
                return;
        }
        DIR *d = fdopendir(fd);
        CHECK(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        remove_tree(dirfd(d), de->d_name);
        closedir(d);
        CHECK(unlinkat(parent, name, AT_REMOVEDIR) == 0);
}

/* Whether dir holds exactly one entry, name. */
static bool only_entry(int dir, const char *name) {
        int fd = openat(dir, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(fd >= 0);
        DIR *d = fdopendir(fd);
        CHECK(d);
        size_t n = 0, found = 0;
        struct dirent *de;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        n++;
                        found += strcmp(de->d_name, name) == 0;
                }
        closedir(d);
        return n == 1 && found == 1;
}

static bool documented_error(int r) {
        static const int errors[] = {
                -EINVAL, /* a refused entry */
                -EBADMSG, /* not a zip, corrupt data */
                -EOPNOTSUPP, /* a compression method libzip lacks */
                -E2BIG, /* too many entries or files */
                -EFBIG, /* too many bytes */
                -EEXIST, /* a name made twice */
                -ENOTDIR, /* a file where a directory is needed */
                -ENOMEM,
        };
        for (size_t i = 0; i < ELEMENTSOF(errors); i++)
                if (r == errors[i])
                        return true;
        return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *tmp = getenv("TMPDIR");
        char path[512], err[512];

        if (!tmp || !*tmp || strlen(tmp) > 256)
                tmp = "/tmp";
        snprintf(path, sizeof path, "%s/fuzz-zip-XXXXXX", tmp);
        CHECK(mkdtemp(path));
        int top = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CHECK(top >= 0);
        CHECK(mkdirat(top, "t", 0755) == 0);
        int target = openat(top, "t", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        CHECK(target >= 0);

        err[0] = '\0';
        int r = judge_extract_zip(target, data, size, FUZZ_MAX_BYTES, FUZZ_MAX_FILES, err, sizeof err);
        if (r < 0) {
                if (!documented_error(r)) {
                        fprintf(stderr, "unexpected error %d (%s): %s\n", r, strerror(-r), err);
                        abort();
                }
                CHECK(err[0] != '\0');
                CHECK(strnlen(err, sizeof err) < sizeof err);
        } else
                CHECK(r == 0 && err[0] == '\0');

        /* Whatever happened, the tree below "t" is sound and nothing was made beside it. */
        Tally t = {0};
        check_tree(target, &t);
        CHECK(only_entry(top, "t"));

        close(target);
        remove_tree(top, "t");
        close(top);
        CHECK(rmdir(path) == 0);
        return 0;
}
