/* SPDX-License-Identifier: MIT */
/* Exhaust a file system's inodes with empty files (no data, only kernel memory).
 *
 *   inodefill [DIR]
 *
 * Creates DIR/0, DIR/1, ... (default DIR /tmp) until creating one fails, then prints
 * "RESULT inodefill fail <ERRNO> count=<N>" and exits 0. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        const char *dir = argc > 1 ? argv[1] : "/tmp";
        unsigned long n = 0;
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0) {
                printf("RESULT inodefill fail %s count=0\n", strerrorname_np(errno));
                return 0;
        }
        for (;; n++) {
                char name[32];
                int fd;

                snprintf(name, sizeof name, "%lu", n);
                fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
                if (fd < 0) {
                        printf("RESULT inodefill fail %s count=%lu\n", strerrorname_np(errno), n);
                        return 0;
                }
                close(fd);
        }
}
