/* SPDX-License-Identifier: MIT */
/* judge0_body_parse_form(): form bodies read as Rack 2's parse_nested_query reads them. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "json/judge0.h"
#include "tests.h"

/* The body's object as compact JSON, keys sorted. */
static char *parse_ok(const char *form) {
        Judge0Body *b = NULL;
        char err[128] = "";
        int r = judge0_body_parse_form(form, strlen(form), &b, err, sizeof err);
        if (r < 0)
                fprintf(stderr, "%s: %d %s\n", form, r, err);
        ASSERT_EQ(r, 0);
        char *s = json_dumps(judge0_body_json(b), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        ASSERT_TRUE(s);
        judge0_body_free(b);
        return s;
}

static void expect(const char *form, const char *json) {
        char *s = parse_ok(form);
        if (strcmp(s, json) != 0)
                fprintf(stderr, "%s\n  got:      %s\n  expected: %s\n", form, s, json);
        ASSERT_TRUE(strcmp(s, json) == 0);
        free(s);
}

static void expect_bad(const char *form, size_t len, const char *message) {
        Judge0Body *b = (Judge0Body *) 0x1;
        char err[128] = "";
        ASSERT_EQ(judge0_body_parse_form(form, len, &b, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(b == (Judge0Body *) 0x1); /* not written */
        if (strcmp(err, message) != 0)
                fprintf(stderr, "got: %s\nexpected: %s\n", err, message);
        ASSERT_TRUE(strcmp(err, message) == 0);
}

static void test_flat(void) {
        expect("", "{}");
        expect("&&;", "{}");
        expect("source_code=print(1)&language_id=71",
                "{\"language_id\":\"71\",\"source_code\":\"print(1)\"}");
        expect("a=1+2%2B3%0a&b=%e3%81%82", "{\"a\":\"1 2+3\\n\",\"b\":\"\\u3042\"}");
        expect("a=1;b=2; c=3", "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"}"); /* Rack 2 splits at ';' */
        expect("a=1&a=2", "{\"a\":\"2\"}"); /* a later key wins */
        expect("a&b=", "{\"a\":null,\"b\":\"\"}");
        expect("=x&[]=y", "{}"); /* no name: dropped */
        expect("a=x=y", "{\"a\":\"x=y\"}");
        expect("a=%00b", "{\"a\":\"\\u0000b\"}");
        /* A NUL in a key: another key, which names nothing (as in JSON). */
        expect("a%00b=1&a=2", "{\"a\":\"2\",\"a\\u0001b\":\"1\"}");
}

static void test_nested(void) {
        expect("a[b]=1&a[c]=2", "{\"a\":{\"b\":\"1\",\"c\":\"2\"}}");
        expect("a[]=1&a[]=2", "{\"a\":[\"1\",\"2\"]}");
        expect("a[b][c]=1", "{\"a\":{\"b\":{\"c\":\"1\"}}}");
        /* A batch: a new object when the last one has the key already. */
        expect("submissions[][source_code]=x&submissions[][language_id]=71&"
               "submissions[][source_code]=y&submissions[][language_id]=50",
                "{\"submissions\":[{\"language_id\":\"71\",\"source_code\":\"x\"},"
                "{\"language_id\":\"50\",\"source_code\":\"y\"}]}");
        expect("s[][a][b]=1&s[][a][c]=2&s[][a][b]=3",
                "{\"s\":[{\"a\":{\"b\":\"1\",\"c\":\"2\"}},{\"a\":{\"b\":\"3\"}}]}");
        expect("a%5Bb%5D=1", "{\"a\":{\"b\":\"1\"}}"); /* escaped brackets are brackets */
        expect("a]=1", "{\"a\":\"1\"}");
}

static void test_bad(void) {
        expect_bad("a=%zz", 5, "malformed form: invalid %-encoding");
        expect_bad("a=%4", 4, "malformed form: invalid %-encoding");
        expect_bad("%=1", 3, "malformed form: invalid %-encoding");
        expect_bad("a=%ff", 5, "malformed form: the value of 'a' is not UTF-8");
        expect_bad("%ff=1", 5, "malformed form: a key is not UTF-8 text");

        expect_bad("a=1&a[]=2", 9, "malformed form: expected an array for 'a'");
        expect_bad("a[]=1&a[b]=2", 12, "malformed form: expected an object for 'a'");
        expect_bad("a=1&a[b]=2", 10, "malformed form: expected an object for 'a'");
        /* Nesting: 32 levels at most (Rack allows 100). */
        char deep[256] = "a";
        size_t o = 1;
        for (int i = 0; i < 31; i++, o += 3)
                memcpy(deep + o, "[b]", 4);
        char *s = parse_ok(deep);
        free(s);
        memcpy(deep + o, "[b]=1", 6);
        expect_bad(deep, strlen(deep), "malformed form: the key is nested too deep");
        /* Bytes after the length are not read. */
        Judge0Body *b = NULL;
        ASSERT_EQ(judge0_body_parse_form("a=1%zz", 3, &b, NULL, 0), 0);
        judge0_body_free(b);
}

static char *multipart_ok(const char *ct, const char *body, size_t len) {
        Judge0Body *b = NULL;
        char err[128] = "";
        int r = judge0_body_parse_multipart(ct, body, len, &b, err, sizeof err);
        if (r < 0)
                fprintf(stderr, "%d %s\n", r, err);
        ASSERT_EQ(r, 0);
        char *s = json_dumps(judge0_body_json(b), JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
        ASSERT_TRUE(s);
        judge0_body_free(b);
        return s;
}

static void expect_multipart(const char *ct, const char *body, size_t len, const char *json) {
        char *s = multipart_ok(ct, body, len);
        if (strcmp(s, json) != 0)
                fprintf(stderr, "got:      %s\nexpected: %s\n", s, json);
        ASSERT_TRUE(strcmp(s, json) == 0);
        free(s);
}

static void expect_multipart_bad(const char *ct, const char *body, const char *message) {
        Judge0Body *b = (Judge0Body *) 0x1;
        char err[128] = "";
        ASSERT_EQ(judge0_body_parse_multipart(ct, body, strlen(body), &b, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(b == (Judge0Body *) 0x1);
        if (strcmp(err, message) != 0)
                fprintf(stderr, "got: %s\nexpected: %s\n", err, message);
        ASSERT_TRUE(strcmp(err, message) == 0);
}

static void test_multipart(void) {
        static const char ct[] = "multipart/form-data; boundary=XyZ";
        /* What curl -F source_code=@a.py -F language_id=71 sends, with a preamble. */
        static const char body[] =
                "preamble\r\n--XyZ\r\n"
                "Content-Disposition: form-data; name=\"source_code\"; filename=\"a.py\"\r\n"
                "Content-Type: text/x-python\r\n\r\n"
                "print(1)\r\n--X\r\nno\r\n"
                "\r\n--XyZ\r\n"
                "content-disposition: form-data; name=language_id\r\n\r\n"
                "71\r\n--XyZ\r\n"
                "Content-Disposition: form-data\r\n\r\nnameless\r\n--XyZ\r\n"
                "Content-Disposition: form-data; name=\"s[][k]\"\r\n\r\na\0b\r\n"
                "--XyZ--\r\nepilogue --XyZ";
        expect_multipart(ct, body, sizeof body - 1,
                "{\"language_id\":\"71\",\"s\":[{\"k\":\"a\\u0000b\"}],"
                "\"source_code\":\"print(1)\\r\\n--X\\r\\nno\\r\\n\"}");
        /* A quoted boundary, the body starting with it, an empty part list. */
        expect_multipart("multipart/form-data; charset=utf-8; BOUNDARY=\"a b\"", "--a b--", 7, "{}");
        expect_multipart(ct, "--XyZ\r\n\r\nx\r\n--XyZ--", 20, "{}"); /* no headers: no name */

        expect_multipart_bad("multipart/form-data", "--XyZ--",
                "malformed multipart body: the Content-Type has no boundary");
        expect_multipart_bad("multipart/form-data; boundary=", "----",
                "malformed multipart body: the Content-Type has no boundary");
        expect_multipart_bad(ct, "nothing", "malformed multipart body: no boundary in the body");
        expect_multipart_bad(ct, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nx",
                "malformed multipart body: a part does not end");
        expect_multipart_bad(ct, "--XyZ\r\nContent-Disposition: form-data; name=a",
                "malformed multipart body: a part's headers do not end");
        expect_multipart_bad(
                ct, "--XyZjunk", "malformed multipart body: a boundary is not followed by a line end");
        expect_multipart_bad(ct, "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n\xff\r\n--XyZ--",
                "malformed form: the value of 'a' is not UTF-8");
        /* A boundary above RFC 2046's 70 characters. */
        char longct[160] = "multipart/form-data; boundary=";
        memset(longct + strlen(longct), 'b', 71);
        expect_multipart_bad(longct, "--b", "malformed multipart body: the Content-Type has no boundary");
}

int main(void) {
        test_flat();
        test_nested();
        test_bad();
        test_multipart();
        return 0;
}
