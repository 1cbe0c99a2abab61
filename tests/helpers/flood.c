/* SPDX-License-Identifier: MIT */
/* Output flood.
 *
 *   flood stdout|stderr [KIB]
 *
 * Writes 'x' bytes to the stream: forever, or exactly KIB KiB and then exit 0. Exits 1 when
 * a write fails. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char buf[64 * 1024];

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t k = write(fd, p, n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        return -1;
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int main(int argc, char **argv) {
        unsigned long long left = 0;
        int forever = 1, fd;

        if (argc < 2 || (strcmp(argv[1], "stdout") != 0 && strcmp(argv[1], "stderr") != 0)) {
                fprintf(stderr, "usage: flood stdout|stderr [KIB]\n");
                return 2;
        }
        fd = strcmp(argv[1], "stdout") == 0 ? STDOUT_FILENO : STDERR_FILENO;
        if (argc > 2) {
                char *end;

                errno = 0;
                left = strtoull(argv[2], &end, 10) * 1024;
                if (errno != 0 || end == argv[2] || *end != '\0') {
                        fprintf(stderr, "flood: bad size '%s'\n", argv[2]);
                        return 2;
                }
                forever = 0;
        }
        memset(buf, 'x', sizeof buf);
        while (forever || left > 0) {
                size_t n = sizeof buf;

                if (!forever && left < n)
                        n = (size_t) left;
                if (write_all(fd, buf, n) < 0)
                        return 1;
                if (!forever)
                        left -= n;
        }
        return 0;
}
