/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/judge0.h"
#include "tests.h"

static void expect_text(char *got, const char *expected) {
        ASSERT_TRUE(got);
        if (strcmp(got, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", got, expected);
                abort();
        }
        free(got);
}

static void test_map(void) {
        _cleanup_judge0_errors_ Judge0Errors *e = NULL;
        char *s;

        ASSERT_EQ(judge0_errors_new(&e), 0);
        ASSERT_TRUE(judge0_errors_empty(e));
        ASSERT_EQ(judge0_errors_encode(e, &s), 0);
        expect_text(s, "{}");

        /* Fields stay where they first failed; messages append. */
        ASSERT_EQ(judge0_errors_add(e, "source_code", "can't be blank"), 0);
        ASSERT_EQ(judge0_errors_add(e, "language_id", "can't be blank"), 0);
        ASSERT_EQ(judge0_errors_add(e, "memory_limit", "must be greater than or equal to 2048"), 0);
        ASSERT_EQ(judge0_errors_add(e, "language_id", "language with id  doesn't exist"), 0);
        ASSERT_TRUE(!judge0_errors_empty(e));
        ASSERT_EQ(judge0_errors_count(e, "language_id"), 2u);
        ASSERT_EQ(judge0_errors_count(e, "stdin"), 0u);
        ASSERT_TRUE(strcmp(judge0_errors_get(e, "language_id", 1), "language with id  doesn't exist") == 0);
        ASSERT_TRUE(judge0_errors_get(e, "language_id", 2) == NULL);
        ASSERT_TRUE(judge0_errors_get(e, "stdin", 0) == NULL);
        ASSERT_EQ(judge0_errors_encode(e, &s), 0);
        expect_text(s, "{\"source_code\":[\"can't be blank\"],"
                       "\"language_id\":[\"can't be blank\",\"language with id  doesn't exist\"],"
                       "\"memory_limit\":[\"must be greater than or equal to 2048\"]}");

        /* A message that is not UTF-8 is repaired; a field that is not is refused. */
        ASSERT_EQ(judge0_errors_add(e, "x", "bad \xff"), 0);
        ASSERT_TRUE(strcmp(judge0_errors_get(e, "x", 0), "bad \xef\xbf\xbd") == 0);
        ASSERT_EQ(judge0_errors_add(e, "\xff", "m"), -EINVAL);

        judge0_errors_clear(e);
        ASSERT_TRUE(judge0_errors_empty(e));
        ASSERT_EQ(judge0_errors_add(e, "stdin", "is not a string"), 0);
        ASSERT_EQ(judge0_errors_encode(e, &s), 0);
        expect_text(s, "{\"stdin\":[\"is not a string\"]}");
        ASSERT_TRUE(judge0_errors_free(NULL) == NULL);
}

static void test_error_body(void) {
        char *s;
        ASSERT_EQ(judge0_error_body_encode("wait not allowed", &s), 0);
        expect_text(s, "{\"error\":\"wait not allowed\"}");
        ASSERT_EQ(judge0_error_body_encode("invalid fields: [\"x\\\xff]", &s), 0);
        expect_text(s, "{\"error\":\"invalid fields: [\\\"x\\\\\xef\xbf\xbd]\"}");
        ASSERT_EQ(judge0_error_body_encode(NULL, &s), 0);
        expect_text(s, "{\"error\":\"\"}");
}

int main(void) {
        test_map();
        test_error_body();
        return 0;
}
