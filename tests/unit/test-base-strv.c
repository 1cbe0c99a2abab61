/* SPDX-License-Identifier: MIT */
#include <string.h>

#include "base/strv.h"
#include "tests.h"

int main(void) {
        _cleanup_strv_free_ char **l = NULL;
        ASSERT_EQ(strv_length(l), 0u);
        ASSERT_EQ(strv_extend(&l, "A=1"), 0);
        ASSERT_EQ(strv_extend(&l, "PATH=/bin"), 0);
        ASSERT_EQ(strv_length(l), 2u);
        ASSERT_TRUE(strcmp(l[1], "PATH=/bin") == 0);
        ASSERT_TRUE(l[2] == NULL);
        char **p = strv_find_env(l, "PATH", 4);
        ASSERT_TRUE(p && p == &l[1]);
        ASSERT_TRUE(strv_find_env(l, "PAT", 3) == NULL);
        ASSERT_TRUE(strv_find_env(l, "B", 1) == NULL);
        return 0;
}
