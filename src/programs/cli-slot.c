/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "programs/cli-slot.h"

unsigned cli_slot_acquire(int *ret_fd) {
        static const char dir[] = "/run/coderunner/cli-slots";
        struct stat st;

        *ret_fd = -1;
        if (geteuid() != 0)
                return 0;
        (void) mkdir("/run/coderunner", 0755);
        (void) mkdir(dir, 0700);
        if (lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077))
                return CLI_SLOT_BASE + (unsigned) getpid() % CLI_SLOTS;
        int dfd = open(dir, O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (dfd < 0)
                return CLI_SLOT_BASE + (unsigned) getpid() % CLI_SLOTS;
        unsigned start = (unsigned) getpid() % CLI_SLOTS;
        for (unsigned i = 0; i < CLI_SLOTS; i++) {
                unsigned n = (start + i) % CLI_SLOTS;
                char name[16];
                snprintf(name, sizeof name, "%u", n);
                int fd = openat(dfd, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0)
                        continue;
                if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
                        close(dfd);
                        *ret_fd = fd;
                        return CLI_SLOT_BASE + n;
                }
                close(fd);
        }
        close(dfd);
        return CLI_SLOT_BASE + start;
}
