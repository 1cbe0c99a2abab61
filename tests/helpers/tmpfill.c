/* SPDX-License-Identifier: MIT */
/* Fill a file system until it refuses.
 *
 *   tmpfill [DIR [CHUNK_KIB]]
 *
 * Writes DIR/fill (default /tmp/fill) in chunks of CHUNK_KIB KiB (default 1024, at most
 * 1024) until a write fails, then prints "RESULT tmpfill fail <ERRNO> bytes=<N>" and exits 0.
 * A small chunk keeps the writer's own memory tiny: the file system's pages are then the
 * only big thing in the box, and they belong to no process the OOM killer could pick. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (1024 * 1024)

static char chunk[CHUNK];

int main(int argc, char **argv) {
        const char *dir = argc > 1 ? argv[1] : "/tmp";
        char path[PATH_MAX];
        unsigned long long total = 0;
        size_t size = CHUNK;
        int fd;

        if (snprintf(path, sizeof path, "%s/fill", dir) >= (int) sizeof path)
                return 2;
        if (argc > 2) {
                char *end;
                unsigned long kib;

                errno = 0;
                kib = strtoul(argv[2], &end, 10);
                if (errno != 0 || end == argv[2] || *end != '\0' || kib == 0 || kib > CHUNK / 1024) {
                        fprintf(stderr, "tmpfill: bad chunk size '%s'\n", argv[2]);
                        return 2;
                }
                size = kib * 1024;
        }
        memset(chunk, 'f', size);

        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0) {
                printf("RESULT tmpfill fail %s bytes=0\n", strerrorname_np(errno));
                return 0;
        }
        for (;;) {
                ssize_t n = write(fd, chunk, size);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        printf("RESULT tmpfill fail %s bytes=%llu\n", strerrorname_np(errno), total);
                        break;
                }
                if (n == 0) {
                        printf("RESULT tmpfill fail ZERO bytes=%llu\n", total);
                        break;
                }
                total += (unsigned long long) n;
        }
        fflush(stdout);
        return 0;
}
