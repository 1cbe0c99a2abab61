/* SPDX-License-Identifier: MIT */
/* The seccomp program, compiled at build time (see seccomp-gen.c). */

#include "sandbox/sandbox-internal.h"
#include "seccomp-program.h"

void seccomp_program_get(struct sock_fprog *ret) {
        ret->len = (unsigned short) ELEMENTSOF(seccomp_program);
        ret->filter = (struct sock_filter *) seccomp_program;
}
