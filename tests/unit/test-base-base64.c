/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "tests.h"

static void check_encode(const char *in, size_t len, const char *expected) {
        char *out = NULL;
        size_t out_len = 0;
        ASSERT_EQ(base64_encode(in, len, &out, &out_len), 0);
        ASSERT_EQ(out_len, strlen(expected));
        ASSERT_EQ(out_len, base64_encoded_size(len));
        ASSERT_TRUE(strcmp(out, expected) == 0);
        free(out);
}

static void check_decode(const char *in, const char *expected, size_t expected_len) {
        char *out = NULL;
        size_t out_len = 0;
        ASSERT_EQ(base64_decode(in, strlen(in), &out, &out_len), 0);
        ASSERT_EQ(out_len, expected_len);
        ASSERT_TRUE(memcmp(out, expected, expected_len) == 0);
        ASSERT_EQ(out[out_len], '\0');
        free(out);
}

static void check_invalid(const char *in) {
        char *out = (char *) 1;
        size_t out_len = 7;
        ASSERT_EQ(base64_decode(in, strlen(in), &out, &out_len), -EINVAL);
        ASSERT_TRUE(out == (char *) 1 && out_len == 7); /* untouched */
}

static void test_encode(void) {
        /* Ruby's Base64.encode64: padded, and a newline at the end. */
        check_encode("", 0, "");
        check_encode("f", 1, "Zg==\n");
        check_encode("fo", 2, "Zm8=\n");
        check_encode("foo", 3, "Zm9v\n");
        check_encode("foob", 4, "Zm9vYg==\n");
        check_encode("hello, Judge0\n", 14, "aGVsbG8sIEp1ZGdlMAo=\n");
        check_encode("\0\xff\xfe", 3, "AP/+\n");

        /* 45 bytes are exactly 60 characters: one line. 46 bytes start a second one. */
        char buf[200];
        memset(buf, 'a', sizeof buf);
        check_encode(buf, 45, "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n");
        check_encode(buf, 46, "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\nYQ==\n");
        check_encode(buf, 90,
                "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n"
                "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\n");

        ASSERT_EQ(base64_encoded_size(0), 0u);
        ASSERT_EQ(base64_encoded_size(1), 5u);
        ASSERT_EQ(base64_encoded_size(45), 61u);
        ASSERT_EQ(base64_encoded_size(46), 66u);
        ASSERT_EQ(base64_encoded_size(SIZE_MAX), 0u); /* does not fit */
}

static void test_decode(void) {
        check_decode("", "", 0);
        check_decode("Zg==", "f", 1);
        check_decode("Zm8=", "fo", 2);
        check_decode("Zm9v", "foo", 3);
        check_decode("Zm9vYg==", "foob", 4);
        check_decode("AP/+", "\0\xff\xfe", 3);
        /* Whitespace anywhere: encode64's own output, CRLF lines, blanks. */
        check_decode("aGVsbG8sIEp1ZGdlMAo=\n", "hello, Judge0\n", 14);
        check_decode("YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\r\nYQ==\r\n",
                "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 46);
        check_decode(" Z m 9\tv\vY\fg = = ", "foob", 4);
        check_decode("\n\n", "", 0);
        /* Unused low bits of the last character are ignored. */
        check_decode("Zh==", "f", 1);
        check_decode("Zm9=", "fo", 2);
        check_decode("Zh", "f", 1);

        /* Ruby's decode64 (Ruby 3.1.2 gave each of these): padding optional, short, long. */
        check_decode("aGk", "hi", 2);
        check_decode("aA", "h", 1);
        check_decode("aA=", "h", 1);
        check_decode("aGk==", "hi", 2);
        check_decode("aGk=====\n", "hi", 2);
        check_decode("Zm9vYg", "foob", 4);
        check_decode("Zm9vYmE", "fooba", 5);
        check_decode("=", "", 0);
        check_decode("====", "", 0);
        /* A '=' in the first two places of a group is skipped, as Ruby does. */
        check_decode("=aGk", "hi", 2);
        check_decode("a=Gk", "hi", 2);
        check_decode("aGkA=aGk=", "hi\0hi", 5);
        check_decode("aGkAx=Gk", "hi\0\xc4i", 5);
        check_decode("Zg==\n\n", "f", 1);

        /* Round trip of every byte value, at every length up to 300. */
        unsigned char all[300];
        for (size_t i = 0; i < sizeof all; i++)
                all[i] = (unsigned char) (i * 7 + 3);
        for (size_t len = 0; len <= sizeof all; len++) {
                char *enc, *dec;
                size_t enc_len, dec_len;
                ASSERT_EQ(base64_encode(all, len, &enc, &enc_len), 0);
                ASSERT_EQ(base64_decode(enc, enc_len, &dec, &dec_len), 0);
                ASSERT_EQ(dec_len, len);
                ASSERT_TRUE(memcmp(dec, all, len) == 0);
                free(enc);
                free(dec);
        }
}

static void test_invalid(void) {
        /* A lone last character: Ruby drops it. */
        check_invalid("Z");
        check_invalid("a=");
        check_invalid("Zm9vY");
        check_invalid("Zm9vY===");
        check_invalid("aGkAx");
        /* Data after the '=' that ends it: Ruby stops at that '='. */
        check_invalid("Zg==Zg=="); /* two encodings end to end */
        check_invalid("aGk=aGk=");
        check_invalid("Zg=a");
        check_invalid("aGk==x");
        check_invalid("aA=Gk");
        /* Outside the alphabet: Ruby skips it. */
        check_invalid("Zm9v!");
        check_invalid("aGk=!!");
        check_invalid("Zm-_"); /* the URL alphabet is not ours */
        check_invalid("Zm9\xc3\xa9");
        check_invalid("print(42)"); /* text sent without encoding it */
        char nul[] = "Zm\0v";
        char *out;
        size_t out_len;
        ASSERT_EQ(base64_decode(nul, 4, &out, &out_len), -EINVAL);
}

int main(void) {
        test_encode();
        test_decode();
        test_invalid();
        return 0;
}
