/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sandbox/sandbox-internal.h"
#include "tests.h"

int main(void) {
        char dir[] = "/tmp/test-sandbox-uids-XXXXXX";
        ASSERT_TRUE(mkdtemp(dir) != NULL);
        char path[128];
        snprintf(path, sizeof path, "%s/box-uids.lock", dir);

        /* two instances: two open file descriptions of the registry */
        int a = uid_registry_open(path), b = uid_registry_open(path);
        ASSERT_TRUE(a >= 0 && b >= 0);
        ASSERT_EQ(uid_range_claim(a, 60000, 4), 0);
        /* any overlap is refused, an adjacent range is not */
        ASSERT_EQ(uid_range_claim(b, 60000, 4), -EBUSY);
        ASSERT_EQ(uid_range_claim(b, 60003, 1), -EBUSY);
        ASSERT_EQ(uid_range_claim(b, 59990, 11), -EBUSY);
        ASSERT_EQ(uid_range_claim(b, 59990, 10), 0);
        /* the holder itself may claim more */
        ASSERT_EQ(uid_range_claim(a, 60004, 2), 0);
        /* bad ranges */
        ASSERT_EQ(uid_range_claim(b, 65530, 8), -ERANGE);
        ASSERT_EQ(uid_range_claim(b, 70000, 0), -ERANGE);
        ASSERT_EQ(uid_range_claim(b, (uid_t) -2, 4), -ERANGE);

        /* the first free range: past both holders' locks and the skipped range */
        int c = uid_registry_open(path);
        ASSERT_TRUE(c >= 0);
        uid_t first = 0;
        ASSERT_EQ(uid_range_claim_free(c, 59990, 4, 60010, 60020, &first), 0);
        ASSERT_EQ(first, 60006u);
        ASSERT_EQ(uid_range_claim_free(c, 60006, 8, 60010, 60020, &first), 0);
        ASSERT_EQ(first, 60020u); /* 60006-60013 would cross the skipped range: after it */
        ASSERT_EQ(uid_range_claim_free(c, 65530, 8, 0, 0, &first), 0);
        ASSERT_EQ(first, 65536u); /* never 65534-65535 */

        /* closing the descriptor releases the range */
        close(a);
        ASSERT_EQ(uid_range_claim(b, 60000, 6), 0);

        /* a registry someone else could write is refused */
        ASSERT_EQ(chmod(path, 0666), 0);
        ASSERT_EQ(uid_registry_open(path), -EPERM);

        close(b);
        close(c);
        ASSERT_EQ(unlink(path), 0);
        ASSERT_EQ(rmdir(dir), 0);
        return 0;
}
