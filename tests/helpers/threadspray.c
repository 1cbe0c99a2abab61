/* SPDX-License-Identifier: MIT */
/* Thread spray.
 *
 *   threadspray          create sleeping threads forever, retrying when refused (never exits)
 *   threadspray count    create sleeping threads until pthread_create() fails, then print
 *                        "RESULT threadspray fail <ERRNO> count=<N>" and exit 0 */

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void *sleeper(void *arg) {
        for (;;)
                pause();
        return arg;
}

int main(int argc, char **argv) {
        int count = argc > 1 && strcmp(argv[1], "count") == 0;
        unsigned long n = 0;
        pthread_attr_t attr;

        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 64 * 1024);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        for (;;) {
                pthread_t t;
                int r = pthread_create(&t, &attr, sleeper, NULL);

                if (r == 0) {
                        if (++n > 100000 && count) {
                                printf("RESULT threadspray ok count=%lu\n", n);
                                return 0;
                        }
                        continue;
                }
                if (count) {
                        printf("RESULT threadspray fail %s count=%lu\n", strerrorname_np(r), n);
                        return 0;
                }
        }
}
