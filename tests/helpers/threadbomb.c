/* SPDX-License-Identifier: MIT */
/* Memory bomb from many threads at once.
 *
 *   threadbomb [THREADS]
 *
 * Starts THREADS threads (default 8); each allocates and writes 1 MiB blocks forever, never
 * freeing them. Only the memory limit stops it. */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define BLOCK (1024 * 1024)

static void *eat(void *arg) {
        for (;;) {
                char *p = mmap(NULL, BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

                if (p != MAP_FAILED)
                        memset(p, 0x6b, BLOCK);
        }
        return arg;
}

int main(int argc, char **argv) {
        long n = 8;
        pthread_attr_t attr;

        if (argc > 1) {
                char *end;

                errno = 0;
                n = strtol(argv[1], &end, 10);
                if (errno != 0 || end == argv[1] || *end != '\0' || n < 1 || n > 1024) {
                        fprintf(stderr, "threadbomb: bad count '%s'\n", argv[1]);
                        return 2;
                }
        }
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        for (long i = 0; i < n; i++) {
                pthread_t t;
                int r = pthread_create(&t, &attr, eat, NULL);

                if (r != 0) {
                        fprintf(stderr, "threadbomb: pthread_create: %s\n", strerror(r));
                        break;
                }
        }
        eat(NULL);
        return 0;
}
