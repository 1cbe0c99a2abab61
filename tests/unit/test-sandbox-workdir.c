/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

static uid_t box_uid;

static void put(int dirfd, const char *name, mode_t mode, uid_t owner) {
        int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        if (owner != geteuid())
                ASSERT_EQ(fchown(fd, owner, owner), 0);
        ASSERT_EQ(fchmod(fd, mode), 0); /* after fchown, which clears the bits */
        close(fd);
}

static mode_t mode_of(int dirfd, const char *name) {
        struct stat st;
        ASSERT_EQ(fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_mode & 07777;
}

/* Remove everything below dirfd (the test's own tree: a few hundred levels at most). */
static void remove_all(int dirfd) {
        int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        ASSERT_TRUE(d != NULL);
        for (struct dirent *e; (e = readdir(d));) {
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                if (unlinkat(dirfd, e->d_name, 0) == 0)
                        continue;
                int sub = openat(dirfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                ASSERT_TRUE(sub >= 0);
                remove_all(sub);
                close(sub);
                ASSERT_EQ(unlinkat(dirfd, e->d_name, AT_REMOVEDIR), 0);
        }
        closedir(d);
}

int main(void) {
        /* As root the files belong to a box uid, as anyone else to us. */
        box_uid = geteuid() == 0 ? 60123 : geteuid();
        uid_t other = geteuid() == 0 ? 60124 : (uid_t) -1;
        char tmpl[] = "/tmp/test-sandbox-workdir-XXXXXX";
        ASSERT_TRUE(mkdtemp(tmpl) != NULL);
        int root = open(tmpl, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ASSERT_TRUE(root >= 0);
        ASSERT_EQ(mkdirat(root, "box", 0755), 0);
        ASSERT_EQ(mkdirat(root, "outside", 0755), 0);
        int box = openat(root, "box", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int outside = openat(root, "outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        put(box, "suid", 04755, box_uid);
        put(box, "sgid", 02755, box_uid);
        put(box, "plain", 0755, box_uid);
        put(outside, "host-suid", 04755, geteuid());
        ASSERT_EQ(symlinkat("../outside/host-suid", box, "link"), 0);
        if (other != (uid_t) -1)
                put(box, "not-the-box", 04755, other);

        /* a chain 300 deep, a setuid file at the bottom and a setgid directory on the way */
        int fd = openat(box, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        for (int i = 0; i < 300; i++) {
                ASSERT_EQ(mkdirat(fd, "d", 0755), 0);
                int sub = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                ASSERT_TRUE(sub >= 0);
                if (i == 150) {
                        if (box_uid != geteuid())
                                ASSERT_EQ(fchown(sub, box_uid, box_uid), 0);
                        ASSERT_EQ(fchmod(sub, 02755), 0);
                }
                /* siblings after the deep one: the listing must resume after coming back */
                if (i < 3)
                        put(fd, "z-after", 04700, box_uid);
                close(fd);
                fd = sub;
        }
        put(fd, "bottom", 06755, box_uid);
        close(fd);

        int top = openat(root, "box", O_PATH | O_DIRECTORY | O_CLOEXEC);
        uint64_t n = 0;
        ASSERT_EQ(workdir_strip_setid(top, box_uid, &n), 0);
        ASSERT_EQ(mode_of(box, "suid"), 0755u);
        ASSERT_EQ(mode_of(box, "sgid"), 0755u);
        ASSERT_EQ(mode_of(box, "plain"), 0755u);
        ASSERT_EQ(mode_of(box, "z-after"), 0700u);
        ASSERT_EQ(mode_of(box, "d/z-after"), 0700u);
        ASSERT_EQ(mode_of(box, "d/d/z-after"), 0700u);
        /* never through a link, never what someone else owns */
        ASSERT_EQ(mode_of(outside, "host-suid"), 04755u);
        if (other != (uid_t) -1)
                ASSERT_EQ(mode_of(box, "not-the-box"), 04755u);
        char path[4096] = "";
        size_t len = 0;
        for (int i = 0; i < 151; i++)
                len += (size_t) snprintf(path + len, sizeof path - len, "%sd", i ? "/" : "");
        ASSERT_EQ(mode_of(box, path), 0755u);
        for (int i = 151; i < 300; i++)
                len += (size_t) snprintf(path + len, sizeof path - len, "/d");
        snprintf(path + len, sizeof path - len, "/bottom");
        ASSERT_EQ(mode_of(box, path), 0755u);
        ASSERT_EQ(n, 7u); /* suid, sgid, three z-after, the directory, bottom */

        /* a second pass has nothing left to do */
        ASSERT_EQ(workdir_strip_setid(top, box_uid, &n), 0);
        ASSERT_EQ(n, 0u);

        close(top);
        close(box);
        close(outside);
        remove_all(root);
        close(root);
        ASSERT_EQ(rmdir(tmpl), 0);
        return 0;
}
