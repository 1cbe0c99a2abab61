/* SPDX-License-Identifier: MIT */
/* Output comparison: Judge0's rule, byte equality, and numbers within a tolerance.
 *
 * Judge0 (app/jobs/isolate_job.rb) compares
 *     text.split("\n").collect(&:rstrip).join("\n").rstrip
 * of the expected output and of stdout. We compute the same normalised text lazily, one
 * byte at a time from each side (two cursors), so that nothing is allocated and any bytes
 * work, NUL included. Ruby's rstrip removes trailing NUL as well as ASCII whitespace, so
 * the set stripped here is space, \t, \r, \v, \f and \0 (and \n where a whole trailing
 * line goes). Two differences from Judge0, both deliberate:
 *   - Judge0 compares the raw text when Ruby refuses to split it (invalid UTF-8); we
 *     normalise any bytes the same way, so a stray Latin-1 byte does not turn trailing
 *     whitespace significant.
 *   - Judge0 stores an empty stdout as null, so any expected output, `""` included, is a
 *     Wrong Answer for a program that prints nothing (null != ""). That rule belongs to the
 *     caller (judge.c keeps it for the default mode), which knows whether stdout was
 *     empty: here "" equals "" (and "\n"). */

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "judge/judge.h"

/* Ruby's rstrip set, without \n (lines hold none; the whole-text strip adds it). */
static bool is_line_space(char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '\0';
}

/* Walks the normalised form of one text. */
typedef struct Cursor {
        const char *p;
        size_t pos;
        size_t end; /* the whole-text rstrip: nothing at or after it is emitted */
        size_t keep; /* bytes before this one are emitted as they are (a run already judged) */
} Cursor;

static void cursor_init(Cursor *c, const char *p, size_t len) {
        size_t end = len;

        /* After the per-line strip, the whole-text strip removes exactly the trailing run
         * of stripped bytes and newlines. */
        while (end > 0 && (is_line_space(p[end - 1]) || p[end - 1] == '\n'))
                end--;
        *c = (Cursor){.p = p, .end = end};
}

/* The next byte of the normalised text, or -1 at its end. */
static int cursor_next(Cursor *c) {
        if (c->pos >= c->end)
                return -1;
        if (c->pos >= c->keep && is_line_space(c->p[c->pos])) {
                /* A run of blanks: dropped when it ends its line, kept otherwise. Each run is
                 * scanned once, so the walk stays linear. */
                size_t run = c->pos;
                while (run < c->end && is_line_space(c->p[run]))
                        run++;
                if (run < c->end && c->p[run] != '\n')
                        c->keep = run;
                else
                        c->pos = run; /* the newline (or nothing: end is never blank) */
                if (c->pos >= c->end)
                        return -1;
        }
        return (unsigned char) c->p[c->pos++];
}

static bool compare_default(const char *a, size_t a_len, const char *b, size_t b_len) {
        Cursor ca, cb;

        cursor_init(&ca, a, a_len);
        cursor_init(&cb, b, b_len);
        for (;;) {
                int x = cursor_next(&ca), y = cursor_next(&cb);
                if (x != y)
                        return false;
                if (x < 0)
                        return true;
        }
}

/* Token separators of JUDGE_COMPARE_NUMBERS. */
static bool is_token_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* The next token at or after *pos: its start and length; false when none is left. */
static bool next_token(const char *p, size_t len, size_t *pos, const char **ret_tok, size_t *ret_len) {
        size_t i = *pos, start;

        while (i < len && is_token_space(p[i]))
                i++;
        if (i >= len) {
                *pos = i;
                return false;
        }
        start = i;
        while (i < len && !is_token_space(p[i]))
                i++;
        *pos = i;
        *ret_tok = p + start;
        *ret_len = i - start;
        return true;
}

/* A decimal number longer than this is compared as a string. */
#define MAX_NUMBER_TOKEN 255

/* A finite decimal number ("12", "-0.5", "1e3", ".5"); not hex, inf or nan, which strtod()
 * would take too. Parsed from a bounded NUL-terminated copy: the token is not terminated. */
static bool parse_number(const char *tok, size_t len, double *ret) {
        char buf[MAX_NUMBER_TOKEN + 1];
        char *end;

        if (len == 0 || len > MAX_NUMBER_TOKEN)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!strchr("0123456789+-.eE", tok[i]) || tok[i] == '\0')
                        return false;
        memcpy(buf, tok, len);
        buf[len] = '\0';
        double v = strtod(buf, &end);
        /* ERANGE: an underflow still gives a usable (tiny) value; an overflow is not finite. */
        if (end != buf + len || !isfinite(v))
                return false;
        *ret = v;
        return true;
}

static bool token_matches(double tolerance, const char *a, size_t a_len, const char *b, size_t b_len) {
        double x, y;

        if (parse_number(a, a_len, &x) && parse_number(b, b_len, &y)) {
                double d = fabs(x - y);
                if (d <= tolerance || d <= tolerance * MAX(fabs(x), fabs(y)))
                        return true;
        }
        return a_len == b_len && memcmp(a, b, a_len) == 0;
}

static bool compare_numbers(double tolerance, const char *a, size_t a_len, const char *b, size_t b_len) {
        size_t pa = 0, pb = 0;

        for (;;) {
                const char *ta = NULL, *tb = NULL;
                size_t la = 0, lb = 0;
                bool ha = next_token(a, a_len, &pa, &ta, &la);
                bool hb = next_token(b, b_len, &pb, &tb, &lb);
                if (ha != hb)
                        return false; /* one has more tokens */
                if (!ha)
                        return true;
                if (!token_matches(tolerance, ta, la, tb, lb))
                        return false;
        }
}

bool judge_compare(JudgeCompare mode, double tolerance, const char *out, size_t out_len,
        const char *expected, size_t expected_len) {
        /* NULL with a length of 0 is an empty text. */
        if ((!out && out_len) || (!expected && expected_len))
                return false;
        if (!out)
                out = "";
        if (!expected)
                expected = "";

        switch (mode) {
        case JUDGE_COMPARE_DEFAULT:
                return compare_default(out, out_len, expected, expected_len);
        case JUDGE_COMPARE_EXACT:
                return out_len == expected_len && memcmp(out, expected, out_len) == 0;
        case JUDGE_COMPARE_NUMBERS:
                return compare_numbers(tolerance, out, out_len, expected, expected_len);
        }
        return false;
}
