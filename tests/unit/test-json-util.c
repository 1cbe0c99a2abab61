/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "tests.h"

static void expect_dump(json_t *v, int precision, const char *expected) {
        char *s = NULL;
        ASSERT_TRUE(v);
        ASSERT_EQ(j0_dump(v, precision, &s), 0);
        if (strcmp(s, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", s, expected);
                abort();
        }
        free(s);
        json_decref(v);
}

static void test_utf8(void) {
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "a", 1), 1u);
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xc3\xa9", 2), 2u);
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xc3\xa9", 1), 0u); /* cut */
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xe3\x81\x82", 3), 3u);
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xf0\x9f\x98\x80", 4), 4u);
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xc0\x80", 2), 0u); /* overlong NUL */
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xed\xa0\x80", 3), 0u); /* surrogate */
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xf4\x90\x80\x80", 4), 0u); /* > U+10FFFF */
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\x80", 1), 0u);
        ASSERT_EQ(j0_utf8_len((const unsigned char *) "\xff", 1), 0u);
        ASSERT_TRUE(j0_utf8_valid("h\xc3\xa9llo", 6));
        ASSERT_TRUE(!j0_utf8_valid("h\xe9llo", 5));
        ASSERT_EQ(j0_utf8_chars("h\xc3\xa9llo \xe3\x81\x82", 10), 7u);
}

static void test_text(void) {
        /* Valid text as is, NUL included; each invalid byte as U+FFFD. */
        expect_dump(j0_text("a\0b\n\"", 5), 0, "\"a\\u0000b\\n\\\"\"");
        expect_dump(j0_text("", 0), 0, "\"\"");
        expect_dump(j0_text("\xe3\x81\x82", 3), 0, "\"\xe3\x81\x82\"");
        expect_dump(j0_text("a\xff"
                            "b\xc3",
                            4),
                0,
                "\"a\xef\xbf\xbd"
                "b\xef\xbf\xbd\"");
        expect_dump(j0_text("\xc0\x80", 2), 0, "\"\xef\xbf\xbd\xef\xbf\xbd\"");
        expect_dump(j0_cstring(NULL), 0, "null");
        expect_dump(j0_cstring("x"), 0, "\"x\"");
}

static void test_reals(void) {
        ASSERT_EQ(j0_real_precision(5.0), 1);
        ASSERT_EQ(j0_real_precision(0.1), 1);
        ASSERT_EQ(j0_real_precision(15.0), 2);
        ASSERT_EQ(j0_real_precision(150.0), 3); /* "150", not "1.5e+02" */
        ASSERT_EQ(j0_real_precision(0.001), 1);
        ASSERT_EQ(j0_real_precision(1.0 / 3.0), 16);
        expect_dump(json_real(5.0), j0_real_precision(5.0), "5.0");
        expect_dump(json_real(150.0), j0_real_precision(150.0), "150.0");
        expect_dump(json_real(0.1), j0_real_precision(0.1), "0.1");
        expect_dump(json_real(2.25), j0_real_precision(2.25), "2.25");
        double third = 1.0 / 3.0;
        char *s;
        json_t *v = json_real(third);
        ASSERT_EQ(j0_dump(v, j0_real_precision(third), &s), 0);
        ASSERT_TRUE(strtod(s, NULL) == third);
        free(s);
        json_decref(v);
}

static void test_seconds(void) {
        static const struct {
                uint64_t usec;
                const char *text;
        } cases[] = {
                {0, "0.0"},
                {1, "0.000001"},
                {1000, "0.001"},
                {100000, "0.1"},
                {1000000, "1.0"},
                {1500000, "1.5"},
                {2250000, "2.25"},
                {5000000, "5.0"},
                {15000000, "15.0"},
                {123456789, "123.456789"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char buf[32];
                j0_format_seconds(cases[i].usec, buf);
                ASSERT_TRUE(strcmp(buf, cases[i].text) == 0);
        }
}

static void test_timestamps(void) {
        char buf[40];
        ASSERT_TRUE(j0_format_timestamp(INT64_C(1712122851306999), buf));
        ASSERT_TRUE(strcmp(buf, "2024-04-03T05:40:51.306Z") == 0); /* truncated, as Rails */
        ASSERT_TRUE(j0_format_timestamp(0, buf));
        ASSERT_TRUE(strcmp(buf, "1970-01-01T00:00:00.000Z") == 0);
        ASSERT_TRUE(j0_format_timestamp(-1, buf));
        ASSERT_TRUE(strcmp(buf, "1969-12-31T23:59:59.999Z") == 0);
        ASSERT_TRUE(!j0_format_timestamp(INT64_MAX, buf)); /* beyond year 9999 */
}

static void test_set(void) {
        json_t *o = json_object();
        ASSERT_EQ(j0_set(o, "a", NULL), -ENOMEM);
        ASSERT_EQ(j0_set(o, "b", json_integer(1)), 0);
        json_t *a = json_array();
        ASSERT_EQ(j0_append(a, NULL), -ENOMEM);
        ASSERT_EQ(j0_append(a, json_true()), 0);
        ASSERT_EQ(j0_set(o, "c", a), 0);
        expect_dump(o, 0, "{\"b\":1,\"c\":[true]}");
}

/* Parse text as a body and dump it; dumped keys show U+0001 as \u0001. */
static void expect_load(const char *text, const char *expected) {
        json_t *v = NULL;
        char err[128] = "";
        int r = j0_load_body(text, strlen(text), &v, err, sizeof err);
        if (r != 0) {
                fprintf(stderr, "load of %s: %d %s\n", text, r, err);
                abort();
        }
        expect_dump(v, 0, expected);
}

static void test_load_body(void) {
        /* A key holding U+0000 is another key, which names nothing; values keep their NUL. */
        expect_load("{\"a\\u0000b\":1,\"a\":\"x\\u0000y\"}", "{\"a\\u0001b\":1,\"a\":\"x\\u0000y\"}");
        expect_load("{\"stdin\\u0000\" : {\"\\u0000\":[\"\\u0000\"]}, \"stdin\":\"s\"}",
                "{\"stdin\\u0001\":{\"\\u0001\":[\"\\u0000\"]},\"stdin\":\"s\"}");
        /* An escaped backslash before "u0000" is text, not an escape. */
        expect_load("{\"a\\\\u0000\":\"\\\\u0000\"}", "{\"a\\\\u0000\":\"\\\\u0000\"}");
        /* A string value followed by ':' is not a key, and nothing is parsed then. */
        json_t *v = NULL;
        char err[128] = "";
        const char *bad = "[\"\\u0000\":1]";
        ASSERT_EQ(j0_load_body(bad, strlen(bad), &v, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(v == NULL);
        ASSERT_TRUE(strncmp(err, "malformed JSON: ", 16) == 0 && strstr(err, "line 1, column 10"));
        /* Any value at the top; a NUL in a value kept. */
        expect_load("\"\\u0000\"", "\"\\u0000\"");
}

int main(void) {
        test_utf8();
        test_text();
        test_reals();
        test_seconds();
        test_timestamps();
        test_set();
        test_load_body();
        return 0;
}
