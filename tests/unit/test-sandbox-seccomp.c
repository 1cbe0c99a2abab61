/* SPDX-License-Identifier: MIT */
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

int main(void) {
        struct sock_fprog built, shipped;

        /* The program compiled into the binary is the policy, compiled now. */
        ASSERT_EQ(seccomp_build(&built), 0);
        seccomp_program_get(&shipped);
        ASSERT_EQ(built.len, shipped.len);
        ASSERT_TRUE(memcmp(built.filter, shipped.filter, built.len * sizeof(struct sock_filter)) == 0);

        /* It starts by loading the architecture, which it checks before anything else. */
        ASSERT_TRUE(shipped.len > 10);
        ASSERT_EQ(shipped.filter[0].code, BPF_LD | BPF_W | BPF_ABS);
        ASSERT_EQ(shipped.filter[0].k, (unsigned) offsetof(struct seccomp_data, arch));
        free(built.filter);
        return 0;
}
