/* SPDX-License-Identifier: MIT */
/* What a box left in a workdir it was lent: made harmless before anyone else may reach it.
 * A box owns everything it wrote (its uid); a setuid or setgid file of that uid would let
 * any local user who can reach the directory become the box uid, and from there read the
 * environment of a later run under the same uid. The walk strips those bits at any depth
 * without recursion: it keeps one directory open and goes back up through "..", checking
 * that each step up lands where it came from. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "sandbox/sandbox-internal.h"

typedef struct Level {
        dev_t dev; /* the directory we left to go down */
        ino_t ino;
        long pos; /* where its listing resumes */
} Level;

/* chmod through an O_PATH descriptor of the entry itself, never a path: a link swapped in
 * meanwhile is not followed. */
static int strip_bits(int dirfd, const char *name, uid_t owner) {
        /* One look without opening anything: most entries have nothing to strip. */
        struct stat first;
        if (fstatat(dirfd, name, &first, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        if ((!S_ISREG(first.st_mode) && !S_ISDIR(first.st_mode)) || !(first.st_mode & (S_ISUID | S_ISGID)) ||
                first.st_uid != owner)
                return 0;
        _cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
                return 0;
        if (!(st.st_mode & (S_ISUID | S_ISGID)) || st.st_uid != owner)
                return 0;
        char proc[64];
        snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
        if (chmod(proc, st.st_mode & 01777 & ~(mode_t) (S_ISUID | S_ISGID)) < 0)
                return -errno;
        return 1;
}

int workdir_strip_setid(int top_fd, uid_t owner, uint64_t *ret_stripped) {
        _cleanup_free_ Level *stack = NULL;
        size_t depth = 0, cap = 0;
        uint64_t stripped = 0;
        int r = 0;

        int fd = openat(top_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        DIR *d = fdopendir(fd);
        if (!d) {
                r = -errno;
                close(fd);
                return r;
        }
        for (;;) {
                errno = 0;
                struct dirent *e = readdir(d);
                if (!e) {
                        if (errno != 0 && r == 0)
                                r = -errno;
                        if (depth == 0)
                                break;
                        /* back up one level, to the same directory and the same place */
                        int up = openat(dirfd(d), "..", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        closedir(d);
                        d = NULL;
                        struct stat st;
                        const Level *l = &stack[--depth];
                        if (up < 0 || fstat(up, &st) < 0 || st.st_dev != l->dev || st.st_ino != l->ino) {
                                safe_close(up);
                                return -ESTALE; /* the tree moved under us */
                        }
                        d = fdopendir(up);
                        if (!d) {
                                r = -errno;
                                close(up);
                                return r;
                        }
                        seekdir(d, l->pos);
                        continue;
                }
                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                int k = strip_bits(dirfd(d), e->d_name, owner);
                if (k > 0)
                        stripped++;
                else if (k < 0 && r == 0)
                        r = k;
                if (e->d_type != DT_DIR && e->d_type != DT_UNKNOWN)
                        continue;
                int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (sub < 0) {
                        if (errno != ENOTDIR && errno != ELOOP && r == 0)
                                r = -errno;
                        continue;
                }
                struct stat here;
                if (fstat(dirfd(d), &here) < 0) {
                        r = -errno;
                        close(sub);
                        break;
                }
                if (depth == cap) {
                        size_t ncap = cap ? cap * 2 : 64;
                        Level *n = realloc(stack, ncap * sizeof *n);
                        if (!n) {
                                r = -ENOMEM;
                                close(sub);
                                break;
                        }
                        stack = n;
                        cap = ncap;
                }
                stack[depth++] = (Level){.dev = here.st_dev, .ino = here.st_ino, .pos = telldir(d)};
                closedir(d);
                d = fdopendir(sub);
                if (!d) {
                        r = -errno;
                        close(sub);
                        return r;
                }
        }
        if (d)
                closedir(d);
        if (r == 0 && ret_stripped)
                *ret_stripped = stripped;
        return r;
}
