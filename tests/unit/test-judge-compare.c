/* SPDX-License-Identifier: MIT */
#include <stdlib.h>
#include <string.h>

#include "judge/judge.h"
#include "tests.h"

#define ASSERT_FALSE(expr) ASSERT_TRUE(!(expr))

/* Both orders: every mode is symmetric. */
static bool cmp(JudgeCompare mode, double tol, const char *a, size_t a_len, const char *b, size_t b_len) {
        bool r = judge_compare(mode, tol, a, a_len, b, b_len);
        ASSERT_EQ(judge_compare(mode, tol, b, b_len, a, a_len), r);
        return r;
}
/* String literals with their exact length, embedded NULs included. */
#define SAME(mode, tol, a, b) cmp(mode, tol, a, sizeof(a) - 1, b, sizeof(b) - 1)
#define DEF(a, b) SAME(JUDGE_COMPARE_DEFAULT, 0, a, b)
#define EXACT(a, b) SAME(JUDGE_COMPARE_EXACT, 0, a, b)
#define NUM(tol, a, b) SAME(JUDGE_COMPARE_NUMBERS, tol, a, b)

static void test_default(void) {
        ASSERT_TRUE(DEF("hello", "hello"));
        ASSERT_TRUE(DEF("", ""));
        /* Trailing whitespace on each line: spaces, tabs, \r, \v, \f (and NUL, like Ruby's rstrip). */
        ASSERT_TRUE(DEF("1 2 3   \n4\t\t\n", "1 2 3\n4"));
        ASSERT_TRUE(DEF("a\r\nb\r\n", "a\nb"));
        ASSERT_TRUE(DEF("a \t\r\v\f\nb", "a\nb"));
        ASSERT_TRUE(DEF("a\0\0\nb\0", "a\nb"));
        /* Trailing blank lines, empty or made of blanks. */
        ASSERT_TRUE(DEF("a\n\n\n", "a"));
        ASSERT_TRUE(DEF("a\n  \n\t\n\r\n", "a\n"));
        ASSERT_TRUE(DEF("", "\n"));
        ASSERT_TRUE(DEF("", " \n \r\n\n"));
        ASSERT_TRUE(DEF("x  \n\n  \n", "x"));

        /* Leading whitespace is significant, on any line. */
        ASSERT_FALSE(DEF(" a", "a"));
        ASSERT_FALSE(DEF("\ta", "a"));
        ASSERT_FALSE(DEF("\na", "a"));
        ASSERT_FALSE(DEF("a\n b", "a\nb"));
        /* Blank lines in the middle are significant, and a line made of blanks is an empty line. */
        ASSERT_FALSE(DEF("a\n\nb", "a\nb"));
        ASSERT_TRUE(DEF("a\n   \nb", "a\n\nb"));
        ASSERT_FALSE(DEF("a\n \n\nb", "a\n\nb"));
        /* Whitespace inside a line is significant. */
        ASSERT_FALSE(DEF("a  b", "a b"));
        ASSERT_FALSE(DEF("a\tb", "a b"));
        ASSERT_TRUE(DEF("a \t b   ", "a \t b"));
        ASSERT_FALSE(DEF("a\rb", "ab"));
        ASSERT_FALSE(DEF("a\0b", "ab"));
        ASSERT_TRUE(DEF("a\0b\n", "a\0b"));
        /* Case-sensitive. */
        ASSERT_FALSE(DEF("Hello", "hello"));
        ASSERT_FALSE(DEF("YES\n", "yes\n"));
        /* Not a prefix match. */
        ASSERT_FALSE(DEF("a", "ab"));
        ASSERT_FALSE(DEF("a\nb", "a"));
        ASSERT_FALSE(DEF("", "a"));
        ASSERT_FALSE(DEF("\n", "a"));
        /* Any bytes: invalid UTF-8 is normalised the same way. */
        ASSERT_TRUE(DEF("\xff\xfe \n", "\xff\xfe"));
        ASSERT_FALSE(DEF("\xff", "\xfe"));

        /* Long runs of blanks stay linear and right either way. */
        size_t n = 1 << 20;
        char *a = malloc(n + 2), *b = malloc(n + 2);
        ASSERT_TRUE(a && b);
        memset(a, ' ', n);
        a[n] = 'x';
        memset(b, ' ', n);
        b[n] = 'x';
        ASSERT_TRUE(cmp(JUDGE_COMPARE_DEFAULT, 0, a, n + 1, b, n + 1));
        b[n] = 'y';
        ASSERT_FALSE(cmp(JUDGE_COMPARE_DEFAULT, 0, a, n + 1, b, n + 1));
        b[n] = '\n';
        b[n + 1] = 'x';
        ASSERT_FALSE(cmp(JUDGE_COMPARE_DEFAULT, 0, a, n + 1, b, n + 2));
        ASSERT_TRUE(cmp(JUDGE_COMPARE_DEFAULT, 0, a, n, "", 0));
        ASSERT_TRUE(cmp(JUDGE_COMPARE_DEFAULT, 0, b + 1, n + 1, "\nx", 2));
        free(a);
        free(b);

        /* NULL with no bytes is an empty text. */
        ASSERT_TRUE(judge_compare(JUDGE_COMPARE_DEFAULT, 0, NULL, 0, "\n", 1));
        ASSERT_TRUE(judge_compare(JUDGE_COMPARE_DEFAULT, 0, NULL, 0, NULL, 0));
        ASSERT_FALSE(judge_compare(JUDGE_COMPARE_DEFAULT, 0, NULL, 0, "a", 1));
        /* Only the given bytes are read. */
        ASSERT_TRUE(judge_compare(JUDGE_COMPARE_DEFAULT, 0, "abc", 2, "ab\n", 3));
}

static void test_exact(void) {
        ASSERT_TRUE(EXACT("", ""));
        ASSERT_TRUE(EXACT("a b\n", "a b\n"));
        ASSERT_TRUE(EXACT("a\0b", "a\0b"));
        ASSERT_FALSE(EXACT("a\0b", "a\0c"));
        ASSERT_FALSE(EXACT("a\n", "a"));
        ASSERT_FALSE(EXACT("a ", "a"));
        ASSERT_FALSE(EXACT("a\r\n", "a\n"));
        ASSERT_FALSE(EXACT("", "\n"));
        ASSERT_FALSE(EXACT("A", "a"));
        ASSERT_TRUE(judge_compare(JUDGE_COMPARE_EXACT, 0, NULL, 0, "", 0));
}

static void test_numbers(void) {
        /* Tokens split on any whitespace, however much. */
        ASSERT_TRUE(NUM(0, "1 2 3", "1\n2\n3\n"));
        ASSERT_TRUE(NUM(0, "  1\t\t2\r\n3  ", "1 2 3"));
        ASSERT_TRUE(NUM(0, "", " \n\t"));
        /* Token counts must match. */
        ASSERT_FALSE(NUM(0, "1 2 3", "1 2"));
        ASSERT_FALSE(NUM(1e9, "1 2 3", "1 2 3 4"));
        ASSERT_FALSE(NUM(0, "", "0"));
        /* Same value, other spelling. */
        ASSERT_TRUE(NUM(0, "1e3", "1000"));
        ASSERT_TRUE(NUM(0, "1000.000", "1000"));
        ASSERT_TRUE(NUM(0, "+5", "5"));
        ASSERT_TRUE(NUM(0, ".5", "0.5"));
        ASSERT_TRUE(NUM(0, "-0", "0"));
        ASSERT_TRUE(NUM(0, "1E-2", "0.01"));
        /* Absolute tolerance. */
        ASSERT_TRUE(NUM(1e-6, "0.3333333", "0.33333333333"));
        ASSERT_FALSE(NUM(1e-9, "0.3333333", "0.33333333333"));
        ASSERT_TRUE(NUM(0.01, "1.00 2.01", "1 2"));
        ASSERT_FALSE(NUM(0.01, "1.00 2.05", "1 2"));
        ASSERT_TRUE(NUM(0.01, "1.00 2.02", "1 2")); /* relative: 0.01 * 2.02 */
        ASSERT_FALSE(NUM(0, "1.0000001", "1"));
        /* Relative tolerance: 1e-6 of a million is 1. */
        ASSERT_TRUE(NUM(1e-6, "1000000", "1000000.9"));
        ASSERT_FALSE(NUM(1e-6, "1000000", "1000002"));
        ASSERT_TRUE(NUM(1e-6, "1e20", "1.0000005e20"));
        ASSERT_FALSE(NUM(1e-6, "1e20", "1.00001e20"));
        /* Non-numeric tokens: equal strings only. */
        ASSERT_TRUE(NUM(0.5, "YES 1.0", "YES 1"));
        ASSERT_FALSE(NUM(0.5, "YES 1.0", "yes 1"));
        ASSERT_FALSE(NUM(1e9, "abc", "1"));
        ASSERT_FALSE(NUM(1e9, "1a", "1"));
        ASSERT_TRUE(NUM(0, "1a", "1a"));
        ASSERT_FALSE(NUM(1, "0x10", "16")); /* hex is not a number here */
        ASSERT_TRUE(NUM(0, "0x10", "0x10"));
        ASSERT_FALSE(NUM(1e9, "1-", "1"));
        ASSERT_FALSE(NUM(1e9, "a\0", "a"));
        /* nan and inf are not numbers: they equal only themselves, as strings. */
        ASSERT_FALSE(NUM(1e9, "nan", "0"));
        ASSERT_FALSE(NUM(1e9, "inf", "1e308"));
        ASSERT_FALSE(NUM(1e9, "-inf", "-1e308"));
        ASSERT_FALSE(NUM(1e9, "infinity", "inf"));
        ASSERT_TRUE(NUM(0, "nan", "nan"));
        ASSERT_TRUE(NUM(0, "inf", "inf"));
        ASSERT_FALSE(NUM(1e9, "NaN", "nan"));
        ASSERT_FALSE(NUM(1e9, "1e400", "1e308")); /* overflows: not finite */
        ASSERT_TRUE(NUM(0, "1e400", "1e400"));
        /* A token too long to parse is compared as a string. */
        char a[400], b[400];
        memset(a, '0', sizeof a);
        a[0] = '1';
        a[1] = '.';
        memcpy(b, a, sizeof b);
        ASSERT_TRUE(cmp(JUDGE_COMPARE_NUMBERS, 0, a, sizeof a, b, sizeof b));
        ASSERT_FALSE(cmp(JUDGE_COMPARE_NUMBERS, 1, a, sizeof a, "1", 1));
        ASSERT_TRUE(cmp(JUDGE_COMPARE_NUMBERS, 0, a, 255, "1", 1));
        /* Tokens are not terminated: the parse stays within the token. */
        ASSERT_TRUE(judge_compare(JUDGE_COMPARE_NUMBERS, 0, "12345", 2, "12", 2));
        /* A NaN or negative tolerance leaves only string equality. */
        ASSERT_TRUE(NUM(-1, "1.5", "1.5"));
        ASSERT_FALSE(NUM(-1, "1.5", "1.50"));
        ASSERT_TRUE(NUM(0, "1.5", "1.50"));
}

int main(void) {
        test_default();
        test_exact();
        test_numbers();
        return 0;
}
