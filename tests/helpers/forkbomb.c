/* SPDX-License-Identifier: MIT */
/* Fork bomb.
 *
 *   forkbomb          every process forks forever (the classic bomb; never exits)
 *   forkbomb count    fork children that wait forever until fork() fails, then print
 *                     "RESULT forkbomb fail <ERRNO> count=<N>" and exit 0, leaving the
 *                     children behind for the sandbox to kill */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int count_mode(void) {
        unsigned long n = 0;

        for (;;) {
                pid_t pid = fork();

                if (pid == 0) {
                        for (;;)
                                pause();
                }
                if (pid < 0) {
                        if (errno == EINTR)
                                continue;
                        printf("RESULT forkbomb fail %s count=%lu\n", strerrorname_np(errno), n);
                        return 0;
                }
                if (++n > 100000) {
                        printf("RESULT forkbomb ok count=%lu\n", n);
                        return 0;
                }
        }
}

int main(int argc, char **argv) {
        if (argc > 1 && strcmp(argv[1], "count") == 0)
                return count_mode();
        for (;;)
                (void) fork();
}
