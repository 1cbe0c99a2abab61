/* SPDX-License-Identifier: MIT */
/* Write a file larger than the file size limit.
 *
 *   bigfile PATH KIB [ignore]
 *
 * Writes KIB KiB to PATH in 1 KiB chunks. By default SIGXFSZ keeps its default action (the
 * process dies of it); with "ignore" the signal is ignored and the failing write reports
 * the errno. Prints "RESULT bigfile ok bytes=<N>" or "RESULT bigfile fail <ERRNO> bytes=<N>"
 * and exits 0. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
        unsigned long long kib, total = 0;
        char chunk[1024], *end;
        int fd;

        if (argc < 3) {
                fprintf(stderr, "usage: bigfile PATH KIB [ignore]\n");
                return 2;
        }
        errno = 0;
        kib = strtoull(argv[2], &end, 10);
        if (errno != 0 || end == argv[2] || *end != '\0') {
                fprintf(stderr, "bigfile: bad size '%s'\n", argv[2]);
                return 2;
        }
        if (argc > 3 && strcmp(argv[3], "ignore") == 0)
                signal(SIGXFSZ, SIG_IGN);
        memset(chunk, 'b', sizeof chunk);

        fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
                printf("RESULT bigfile fail %s bytes=0\n", strerrorname_np(errno));
                return 0;
        }
        for (unsigned long long i = 0; i < kib; i++) {
                ssize_t n = write(fd, chunk, sizeof chunk);

                if (n < 0 && errno == EINTR) {
                        i--;
                        continue;
                }
                if (n < 0) {
                        printf("RESULT bigfile fail %s bytes=%llu\n", strerrorname_np(errno), total);
                        return 0;
                }
                total += (unsigned long long) n;
                if ((size_t) n < sizeof chunk) {
                        printf("RESULT bigfile fail SHORT bytes=%llu\n", total);
                        return 0;
                }
        }
        printf("RESULT bigfile ok bytes=%llu\n", total);
        return 0;
}
