/* SPDX-License-Identifier: MIT */
/* Run a fuzz target over a corpus without libFuzzer: every regular file in the directories
 * (or the files) named on the command line, in name order, each in a buffer of exactly
 * its size so that AddressSanitizer sees any read past the end. Exits non-zero when an
 * argument cannot be read or holds no input at all: an empty corpus is a broken test. */

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

/* Larger than any input worth replaying (the wire format stops at 256 KiB). */
#define MAX_INPUT_SIZE (4 * 1024 * 1024)

static int read_input(int dirfd, const char *name, uint8_t **ret, size_t *ret_len) {
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
        _cleanup_free_ uint8_t *buf = NULL;
        struct stat st;
        size_t got = 0;

        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EISDIR;
        if (st.st_size > MAX_INPUT_SIZE)
                return -EFBIG;
        /* Exactly the size of the input (malloc(0) included), so that one byte past the end
         * is already outside the buffer. */
        buf = malloc((size_t) st.st_size);
        if (!buf && st.st_size > 0)
                return -ENOMEM;
        while (got < (size_t) st.st_size) {
                ssize_t n = RETRY_EINTR(read(fd, buf + got, (size_t) st.st_size - got));
                if (n < 0)
                        return negative_errno();
                if (n == 0)
                        return -EIO; /* shrank while we read it */
                got += (size_t) n;
        }
        *ret = TAKE_PTR(buf);
        *ret_len = got;
        return 0;
}

static int replay_one(int dirfd, const char *dir, const char *name) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;

        int r = read_input(dirfd, name, &buf, &len);
        if (r < 0) {
                fprintf(stderr, "replay: %s%s%s: %s\n", dir, *dir ? "/" : "", name, strerror(-r));
                return r;
        }
        LLVMFuzzerTestOneInput(buf, len);
        return 0;
}

static int not_hidden(const struct dirent *de) {
        return de->d_name[0] != '.';
}

/* Replays every file of a directory; returns how many, or -errno (already reported). */
static int replay_dir(const char *path) {
        _cleanup_close_ int dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent **names = NULL;
        int r = 0;

        int n = dirfd < 0 ? -1 : scandirat(dirfd, ".", &names, not_hidden, alphasort);
        if (n < 0) {
                r = negative_errno();
                fprintf(stderr, "replay: %s: %s\n", path, strerror(-r));
                return r;
        }
        for (int i = 0; i < n; i++) {
                if (r >= 0)
                        r = replay_one(dirfd, path, names[i]->d_name);
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : n;
}

int main(int argc, char *argv[]) {
        size_t total = 0;
        struct stat st;

        if (argc < 2) {
                fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
                return 2;
        }
        for (int i = 1; i < argc; i++) {
                int r;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: %s: %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (S_ISDIR(st.st_mode))
                        r = replay_dir(argv[i]);
                else
                        r = replay_one(AT_FDCWD, "", argv[i]);
                if (r < 0)
                        return 1;
                total += S_ISDIR(st.st_mode) ? (size_t) r : 1;
        }
        if (total == 0) {
                fprintf(stderr, "replay: no inputs found\n");
                return 1;
        }
        printf("replayed %zu inputs\n", total);
        return 0;
}
