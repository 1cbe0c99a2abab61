/* SPDX-License-Identifier: MIT */
/* Signals aimed outside the box.
 *
 *   killer all       kill(-1, SIGKILL): every process we may signal
 *   killer parent    kill(getppid(), SIGKILL)
 *   killer pgrp      kill(-getpgrp(), SIGKILL) from a child, sparing nobody in the group
 *
 * Prints "RESULT kill-<what> ok" or "RESULT kill-<what> fail <ERRNO>" and exits 0. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void report(const char *what, int r) {
        if (r == 0)
                printf("RESULT kill-%s ok\n", what);
        else
                printf("RESULT kill-%s fail %s\n", what, strerrorname_np(errno));
        fflush(stdout);
}

int main(int argc, char **argv) {
        if (argc != 2) {
                fprintf(stderr, "usage: killer all|parent|pgrp\n");
                return 2;
        }
        printf("ppid=%d\n", (int) getppid());
        if (strcmp(argv[1], "all") == 0) {
                report("all", kill(-1, SIGKILL));
        } else if (strcmp(argv[1], "parent") == 0) {
                report("parent", kill(getppid(), SIGKILL));
        } else if (strcmp(argv[1], "pgrp") == 0) {
                /* Our own group dies with the child; what must survive is the outside. */
                pid_t pid = fork();

                if (pid == 0) {
                        report("pgrp", kill(-getpgrp(), SIGKILL));
                        _exit(0);
                }
                waitpid(pid, NULL, 0);
        } else {
                fprintf(stderr, "killer: unknown target '%s'\n", argv[1]);
                return 2;
        }
        return 0;
}
