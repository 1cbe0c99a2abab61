/* SPDX-License-Identifier: MIT */
/* Die of a signal.
 *
 *   crash segv     write through a null pointer (SIGSEGV)
 *   crash abort    abort() (SIGABRT) */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
        if (argc == 2 && strcmp(argv[1], "segv") == 0) {
                volatile int *volatile p = NULL;

                *p = 1;
        } else if (argc == 2 && strcmp(argv[1], "abort") == 0) {
                abort();
        }
        fprintf(stderr, "usage: crash segv|abort\n");
        return 2;
}
