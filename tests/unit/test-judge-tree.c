/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "judge/judge-internal.h"
#include "tests.h"

static void put(int dirfd, const char *name, const char *data, mode_t mode) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
        ASSERT_TRUE(fd >= 0);
        ASSERT_EQ(write_all(fd, data, strlen(data)), 0);
        close(fd);
}

/* A chain of `depth` directories `name` below dirfd, with a file at the bottom. */
static void make_deep(int dirfd, const char *name, unsigned depth) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(fd >= 0);
        for (unsigned i = 0; i < depth; i++) {
                ASSERT_EQ(mkdirat(fd, name, 0755), 0);
                int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_TRUE(sub >= 0);
                close(fd);
                fd = sub;
        }
        put(fd, "bottom", "x", 0644);
        /* and an unwritable directory down there */
        ASSERT_EQ(mkdirat(fd, "locked", 0755), 0);
        int locked = openat(fd, "locked", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        put(locked, "f", "y", 0644);
        ASSERT_EQ(fchmod(locked, 0), 0);
        close(locked);
        close(fd);
}

static void test_clear_any_depth(int root) {
        ASSERT_EQ(mkdirat(root, "deep", 0755), 0);
        int deep = openat(root, "deep", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_deep(deep, "d", 1000);
        make_deep(deep, "e", 3);
        ASSERT_EQ(tree_clear(deep), 0);
        struct stat st;
        ASSERT_TRUE(fstatat(deep, "d", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        int fd = openat(deep, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        unsigned left = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
                        left++;
        closedir(d);
        ASSERT_EQ(left, 0u);
        close(deep);
        /* and tree_remove of a deep tree */
        ASSERT_EQ(mkdirat(root, "deep2", 0755), 0);
        deep = openat(root, "deep2", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        make_deep(deep, "d", 300);
        close(deep);
        ASSERT_EQ(tree_remove(root, "deep2"), 0);
        ASSERT_TRUE(fstatat(root, "deep2", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_EQ(tree_remove(root, "deep"), 0);
}

static void test_copy_keeps_holes(int root) {
        ASSERT_EQ(mkdirat(root, "sparse", 0755), 0);
        ASSERT_EQ(mkdirat(root, "sparse-copy", 0755), 0);
        int src = openat(root, "sparse", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int dst = openat(root, "sparse-copy", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int fd = openat(src, "big", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
        ASSERT_TRUE(fd >= 0);
        /* 1 GiB apparent, two small pieces of data */
        ASSERT_EQ(pwrite(fd, "head", 4, 0), 4);
        ASSERT_EQ(pwrite(fd, "tail", 4, (off_t) 1 << 29), 4);
        ASSERT_EQ(ftruncate(fd, (off_t) 1 << 30), 0);
        close(fd);
        /* the copy costs the data, not the apparent size: well under a 1 MiB bound */
        ASSERT_EQ(tree_copy(src, dst, 1024 * 1024, 0), 0);
        struct stat st;
        ASSERT_EQ(fstatat(dst, "big", &st, 0), 0);
        ASSERT_EQ((uint64_t) st.st_size, (uint64_t) 1 << 30);
        ASSERT_TRUE((uint64_t) st.st_blocks * 512 <= 1024 * 1024);
        uint64_t size;
        ASSERT_EQ(tree_size(dst, &size), 0);
        ASSERT_TRUE(size <= 1024 * 1024);
        fd = openat(dst, "big", O_RDONLY | O_CLOEXEC);
        char buf[5] = "";
        ASSERT_EQ(pread(fd, buf, 4, (off_t) 1 << 29), 4);
        ASSERT_EQ(strcmp(buf, "tail"), 0);
        ASSERT_EQ(pread(fd, buf, 4, 0), 4);
        ASSERT_EQ(strcmp(buf, "head"), 0);
        close(fd);
        close(src);
        close(dst);
        ASSERT_EQ(tree_remove(root, "sparse"), 0);
        ASSERT_EQ(tree_remove(root, "sparse-copy"), 0);
}

int main(void) {
        char tmpl[] = "/tmp/test-judge-tree-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl) != NULL);
        int root = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        ASSERT_EQ(mkdirat(root, "src", 0755), 0);
        ASSERT_EQ(mkdirat(root, "dst", 0755), 0);
        ASSERT_EQ(mkdirat(root, "outside", 0755), 0);
        int src = openat(root, "src", O_RDONLY | O_DIRECTORY);
        int dst = openat(root, "dst", O_RDONLY | O_DIRECTORY);
        int outside = openat(root, "outside", O_RDONLY | O_DIRECTORY);
        put(outside, "secret", "do not copy me\n", 0644);

        /* a tree with a program, nested dirs, and what a hostile program would leave */
        put(src, "a.out",
                "\x7f"
                "ELF...",
                0755);
        put(src, "data.txt", "hello\n", 0644);
        ASSERT_EQ(mkdirat(src, "pkg", 0755), 0);
        int pkg = openat(src, "pkg", O_RDONLY | O_DIRECTORY);
        put(pkg, "Main.class", "cafebabe", 0644);
        char link[4200];
        snprintf(link, sizeof link, "%s/outside/secret", tmpl);
        ASSERT_EQ(symlinkat(link, src, "evil"), 0);
        ASSERT_EQ(symlinkat(tmpl, pkg, "up"), 0);
        ASSERT_EQ(mkfifoat(src, "fifo", 0644), 0);

        uint64_t size;
        ASSERT_EQ(tree_size(src, &size), 0);
        /* allocated blocks: at least the data, at most a few pages per file */
        ASSERT_TRUE(size >= strlen("\x7f"
                                   "ELF...") +
                                    strlen("hello\n") + strlen("cafebabe"));
        ASSERT_TRUE(size <= 3 * 16384);

        ASSERT_EQ(tree_copy(src, dst, 0, 0), 0);
        struct stat st;
        ASSERT_EQ(fstatat(dst, "a.out", &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_TRUE(S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0755);
        ASSERT_EQ(fstatat(dst, "data.txt", &st, AT_SYMLINK_NOFOLLOW), 0);
        ASSERT_TRUE((st.st_mode & 0777) == 0644);
        ASSERT_EQ(fstatat(dst, "pkg/Main.class", &st, AT_SYMLINK_NOFOLLOW), 0);
        /* links and special files are not copied, and never followed */
        ASSERT_TRUE(fstatat(dst, "evil", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_TRUE(fstatat(dst, "pkg/up", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);
        ASSERT_TRUE(fstatat(dst, "fifo", &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT);

        /* bounds */
        ASSERT_EQ(mkdirat(root, "small", 0755), 0);
        int small = openat(root, "small", O_RDONLY | O_DIRECTORY);
        ASSERT_EQ(tree_copy(src, small, 4, 0), -EFBIG);
        ASSERT_EQ(tree_clear(small), 0);
        ASSERT_EQ(tree_copy(src, small, 0, 2), -E2BIG);

        /* removal does not follow links out of the tree */
        ASSERT_EQ(tree_remove(root, "src"), 0);
        ASSERT_TRUE(fstatat(root, "src", &st, 0) < 0 && errno == ENOENT);
        ASSERT_EQ(fstatat(outside, "secret", &st, 0), 0);
        /* an unwritable directory left by a program is removed too */
        ASSERT_EQ(fchmod(openat(dst, "pkg", O_RDONLY | O_DIRECTORY), 0500), 0);
        ASSERT_EQ(tree_remove(root, "dst"), 0);
        ASSERT_EQ(tree_remove(root, "does-not-exist"), 0);

        test_clear_any_depth(root);
        test_copy_keeps_holes(root);

        ASSERT_EQ(tree_remove(root, "small"), 0);
        ASSERT_EQ(tree_remove(root, "outside"), 0);
        ASSERT_EQ(rmdir(tmpl), 0);
        return 0;
}
