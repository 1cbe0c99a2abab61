/* SPDX-License-Identifier: MIT */
/* Directory trees written by sandboxed programs, handled without trusting them. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "judge/judge-internal.h"

#define TREE_MAX_DEPTH 64

typedef struct CopyState {
        uint64_t bytes, max_bytes;
        uint32_t files, max_files;
} CopyState;

/* Copy len bytes at off from in to the same offset of out. */
static int copy_range(int in, int out, off_t off, off_t len, CopyState *st) {
        char buf[65536];
        while (len > 0) {
                size_t want = len < (off_t) sizeof buf ? (size_t) len : sizeof buf;
                ssize_t n = pread(in, buf, want, off);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return 0; /* the file shrank meanwhile */
                st->bytes += (uint64_t) n;
                if (st->max_bytes && st->bytes > st->max_bytes)
                        return -EFBIG;
                for (size_t done = 0; done < (size_t) n;) {
                        ssize_t w = pwrite(out, buf + done, (size_t) n - done, off + (off_t) done);
                        if (w < 0) {
                                if (errno == EINTR)
                                        continue;
                                return -errno;
                        }
                        done += (size_t) w;
                }
                off += n;
                len -= n;
        }
        return 0;
}

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
        /* Only the data is copied: the holes of a sparse file stay holes (a compile step
         * that makes a few large sparse files must not turn into real memory per run).
         * What counts against max_bytes is the data, which is what a copy costs. */
        off_t end = s.st_size, pos = 0;
        while (pos < end) {
                off_t data = lseek(in, pos, SEEK_DATA);
                if (data < 0) {
                        if (errno == ENXIO)
                                break; /* only a hole is left */
                        return -errno;
                }
                off_t hole = lseek(in, data, SEEK_HOLE);
                if (hole < 0)
                        return -errno;
                if (hole > end)
                        hole = end;
                int r = copy_range(in, out, data, hole - data, st);
                if (r < 0)
                        return r;
                pos = hole;
        }
        if (ftruncate(out, end) < 0)
                return -errno;
        return 0;
}

static int copy_dir(int src, int dst, CopyState *st, unsigned depth) {
        if (depth > TREE_MAX_DEPTH)
                return -ELOOP;
        DIR *d = dir_open_at(src);
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

/* How deep clear_dir() descends before it moves what is below to the top instead. */
#define TREE_CLEAR_DEPTH 16

typedef struct ClearState {
        int top; /* the directory being cleared */
        uint64_t moved; /* subtrees moved up to the top in this pass */
        uint64_t seq; /* names of the moved subtrees */
} ClearState;

/* Move the directory `name` in dirfd to the top under a fresh name: it is cleared in the
 * next pass, from depth 0. */
static int move_to_top(int dirfd, const char *name, ClearState *cs) {
        for (unsigned tries = 0; tries < 1000; tries++) {
                char tmp[64];
                snprintf(tmp, sizeof tmp, ".deep-%" PRIu64, ++cs->seq);
                if (renameat2(dirfd, name, cs->top, tmp, RENAME_NOREPLACE) == 0) {
                        cs->moved++;
                        return 0;
                }
                if (errno != EEXIST)
                        return -errno;
        }
        return -EEXIST;
}

/* Remove everything below dirfd. Recursion stops at TREE_CLEAR_DEPTH (so neither the
 * stack nor the open descriptors grow with the tree): what lies deeper is renamed to the
 * top, and the caller passes again. */
static int clear_dir(int dirfd, ClearState *cs, unsigned depth) {
        DIR *d = dir_open_at(dirfd);
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
                int k = depth + 1 >= TREE_CLEAR_DEPTH ? move_to_top(dirfd, e->d_name, cs)
                                                      : clear_dir(sub, cs, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
                if (k == 0 && depth + 1 >= TREE_CLEAR_DEPTH)
                        continue; /* moved: nothing left here */
                if (unlinkat(dirfd, e->d_name, AT_REMOVEDIR) < 0 && r == 0)
                        r = -errno;
        }
        closedir(d);
        return r;
}

int tree_clear(int dirfd) {
        ClearState cs = {.top = dirfd};
        int r;
        /* Each pass removes everything down to TREE_CLEAR_DEPTH and moves the rest up, so
         * a tree of depth D is gone after D / TREE_CLEAR_DEPTH + 1 passes. A pass that
         * moved nothing is the last. */
        do {
                cs.moved = 0;
                r = clear_dir(dirfd, &cs, 0);
        } while (cs.moved > 0);
        return r;
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
        DIR *d = dir_open_at(dirfd);
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
                        *total += (uint64_t) s.st_blocks * 512; /* what it costs: holes are free */
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
