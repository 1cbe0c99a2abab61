/* SPDX-License-Identifier: MIT */
/* Memory allocator for the accounting test and the memory bomb.
 *
 *   alloc MIB
 *
 * Allocates MIB MiB in 1 MiB blocks and writes every page of each (so that it is really
 * charged), then prints "allocated MIB" and exits 0. If an allocation fails it prints
 * "RESULT alloc fail <ERRNO> after=<MiB>" and exits 1. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK (1024 * 1024)

int main(int argc, char **argv) {
        unsigned long mib;
        char *end;

        if (argc != 2) {
                fprintf(stderr, "usage: alloc MIB\n");
                return 2;
        }
        errno = 0;
        mib = strtoul(argv[1], &end, 10);
        if (errno != 0 || end == argv[1] || *end != '\0') {
                fprintf(stderr, "alloc: bad size '%s'\n", argv[1]);
                return 2;
        }

        for (unsigned long i = 0; i < mib; i++) {
                /* mmap, not malloc: every block is fresh anonymous memory, never reused. */
                char *p = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p == MAP_FAILED) {
                        printf("RESULT alloc fail %s after=%lu\n", strerrorname_np(errno), i);
                        return 1;
                }
                memset(p, 0x5a, BLOCK);
        }
        printf("allocated %lu\n", mib);
        return 0;
}
