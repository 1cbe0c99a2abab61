/* SPDX-License-Identifier: MIT */
/* Directory trees written by sandboxed programs, handled without trusting them. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "judge/judge-internal.h"

#define TREE_MAX_DEPTH 64

/* A DIR stream over its own descriptor of the directory dirfd (which stays the caller's). */
static DIR *dir_open(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        DIR *d = fdopendir(fd);
        if (!d) {
                int err = errno;
                close(fd);
                errno = err;
        }
        return d;
}

typedef struct CopyState {
        uint64_t bytes, max_bytes;
        uint32_t files, max_files;
} CopyState;

static int copy_file(int src_dirfd, const char *name, int dst_dirfd, mode_t mode, CopyState *st) {
        _cleanup_close_ int in =
                openat(src_dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (in < 0)
                return -errno;
        struct stat s;
        if (fstat(in, &s) < 0)
                return -errno;
        if (!S_ISREG(s.st_mode))
                return 0; /* swapped for something else meanwhile: skip it */
        _cleanup_close_ int out = openat(dst_dirfd, name,
                O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (mode & 0111) ? 0755 : 0644);
        if (out < 0)
                return -errno;
        char buf[65536];
        for (;;) {
                ssize_t n = read(in, buf, sizeof buf);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                st->bytes += (uint64_t) n;
                if (st->max_bytes && st->bytes > st->max_bytes)
                        return -EFBIG;
                int r = write_all(out, buf, (size_t) n);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int copy_dir(int src, int dst, CopyState *st, unsigned depth) {
        if (depth > TREE_MAX_DEPTH)
                return -ELOOP;
        DIR *d = dir_open(src);
        if (!d)
                return -errno;
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                struct stat s;
                if (fstatat(src, e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = -errno;
                        break;
                }
                if (!S_ISREG(s.st_mode) && !S_ISDIR(s.st_mode))
                        continue; /* symlinks, fifos, sockets, devices: never copied */
                if (++st->files > st->max_files && st->max_files) {
                        r = -E2BIG;
                        break;
                }
                if (S_ISREG(s.st_mode)) {
                        r = copy_file(src, e->d_name, dst, s.st_mode, st);
                        continue;
                }
                if (mkdirat(dst, e->d_name, 0755) < 0) {
                        r = -errno;
                        break;
                }
                _cleanup_close_ int sub_src =
                        openat(src, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_close_ int sub_dst =
                        openat(dst, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub_src < 0 || sub_dst < 0) {
                        r = -errno;
                        break;
                }
                r = copy_dir(sub_src, sub_dst, st, depth + 1);
        }
        closedir(d);
        return r;
}

int tree_copy(int src_dirfd, int dst_dirfd, uint64_t max_bytes, uint32_t max_files) {
        CopyState st = {.max_bytes = max_bytes, .max_files = max_files};
        return copy_dir(src_dirfd, dst_dirfd, &st, 0);
}

static int clear_dir(int dirfd, unsigned depth) {
        if (depth > TREE_MAX_DEPTH)
                return -ELOOP;
        DIR *d = dir_open(dirfd);
        if (!d)
                return -errno;
        int r = 0;
        for (struct dirent *e; (e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd, e->d_name, 0) == 0)
                        continue;
                if (errno != EISDIR && errno != EPERM) {
                        if (r == 0)
                                r = -errno;
                        continue;
                }
                /* a directory: empty it (never through a symlink: O_NOFOLLOW), then remove */
                _cleanup_close_ int sub =
                        openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        if (r == 0)
                                r = -errno;
                        continue;
                }
                (void) fchmod(sub, 0700); /* a program may have left it unwritable */
                int k = clear_dir(sub, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
                if (unlinkat(dirfd, e->d_name, AT_REMOVEDIR) < 0 && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

int tree_clear(int dirfd) {
        return clear_dir(dirfd, 0);
}

int tree_remove(int parent_dirfd, const char *name) {
        _cleanup_close_ int fd = openat(parent_dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        (void) fchmod(fd, 0700);
        int r = tree_clear(fd);
        if (unlinkat(parent_dirfd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

static int size_dir(int dirfd, uint64_t *total, unsigned depth) {
        if (depth > TREE_MAX_DEPTH)
                return -ELOOP;
        DIR *d = dir_open(dirfd);
        if (!d)
                return -errno;
        int r = 0;
        for (struct dirent *e; r == 0 && (e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                struct stat s;
                if (fstatat(dirfd, e->d_name, &s, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISREG(s.st_mode))
                        *total += (uint64_t) s.st_size;
                else if (S_ISDIR(s.st_mode)) {
                        _cleanup_close_ int sub =
                                openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        if (sub >= 0)
                                r = size_dir(sub, total, depth + 1);
                }
        }
        closedir(d);
        return r;
}

int tree_size(int dirfd, uint64_t *ret) {
        uint64_t total = 0;
        int r = size_dir(dirfd, &total, 0);
        if (r < 0)
                return r;
        *ret = total;
        return 0;
}
