/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/time-util.h"
#include "tests.h"

static void test_parse_u64(void) {
        uint64_t v = 7;
        ASSERT_EQ(parse_u64("0", &v), 0);
        ASSERT_EQ(v, 0u);
        ASSERT_EQ(parse_u64("18446744073709551615", &v), 0);
        ASSERT_EQ(v, UINT64_MAX);
        ASSERT_EQ(parse_u64("18446744073709551616", &v), -ERANGE);
        ASSERT_EQ(parse_u64("", &v), -EINVAL);
        ASSERT_EQ(parse_u64("-1", &v), -EINVAL);
        ASSERT_EQ(parse_u64("+1", &v), -EINVAL);
        ASSERT_EQ(parse_u64("12a", &v), -EINVAL);
        ASSERT_EQ(parse_u64(" 1", &v), -EINVAL);
        ASSERT_EQ(parse_u64(NULL, &v), -EINVAL);
        ASSERT_EQ(parse_u64_max("65", 64, &v), -ERANGE);
        ASSERT_EQ(parse_u64_max("64", 64, &v), 0);
        ASSERT_EQ(v, 64u);
}

static void test_parse_seconds(void) {
        uint64_t v;
        ASSERT_EQ(parse_seconds_usec("2", UINT64_MAX, &v), 0);
        ASSERT_EQ(v, 2 * USEC_PER_SEC);
        ASSERT_EQ(parse_seconds_usec("0.3", UINT64_MAX, &v), 0);
        ASSERT_EQ(v, 300000u);
        ASSERT_EQ(parse_seconds_usec(".5", UINT64_MAX, &v), 0);
        ASSERT_EQ(v, 500000u);
        ASSERT_EQ(parse_seconds_usec("1.000001", UINT64_MAX, &v), 0);
        ASSERT_EQ(v, 1000001u);
        ASSERT_EQ(parse_seconds_usec("5.", UINT64_MAX, &v), 0);
        ASSERT_EQ(v, 5 * USEC_PER_SEC);
        ASSERT_EQ(parse_seconds_usec("1.0000001", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec(".", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec("-1", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec("1e3", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec("abc", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec("", UINT64_MAX, &v), -EINVAL);
        ASSERT_EQ(parse_seconds_usec("11", 10 * USEC_PER_SEC, &v), -ERANGE);
        ASSERT_EQ(parse_seconds_usec("99999999999999999999", UINT64_MAX, &v), -ERANGE);
}

static void test_format_seconds(void) {
        char buf[32];
        format_seconds(0, buf);
        ASSERT_TRUE(strcmp(buf, "0.000") == 0);
        format_seconds(301499, buf);
        ASSERT_TRUE(strcmp(buf, "0.301") == 0);
        format_seconds(2500000, buf);
        ASSERT_TRUE(strcmp(buf, "2.500") == 0);
}

int main(void) {
        test_parse_u64();
        test_parse_seconds();
        test_format_seconds();
        return 0;
}
