/* SPDX-License-Identifier: MIT */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"
#include "judge/judge.h"
#include "tests.h"

static BoxResult exited(int code) {
        return (BoxResult){.status = code ? BOX_STATUS_RE : BOX_STATUS_OK, .exit_code = code};
}

/* Decide from an exit code and stderr; check the status, the points and the message. */
static void check(int code, const char *err, int status, double points, const char *message) {
        BoxResult b = exited(code);
        JudgeCheck c;
        ASSERT_EQ(judge_check_decide("Checker", &b, err, err ? strlen(err) : 0, NULL, 0, &c), 0);
        if (c.status_id != status || fabs(c.points - points) > 1e-12 ||
                (message ? !c.message || strcmp(c.message, message) != 0 : c.message != NULL)) {
                fprintf(stderr, "exit %d, stderr \"%s\": got %d %g \"%s\", expected %d %g \"%s\"\n", code,
                        err ? err : "(null)", c.status_id, c.points, c.message ? c.message : "(null)",
                        status, points, message ? message : "(null)");
                ASSERT_TRUE(false);
        }
        judge_check_done(&c);
}

static void test_exit_codes(void) {
        check(0, NULL, STATUS_ACCEPTED, 1, NULL);
        check(0, "ok 3 numbers\n", STATUS_ACCEPTED, 1, "ok 3 numbers");
        check(1, "wrong answer expected 3, found 4\nmore\n", STATUS_WRONG_ANSWER, 0,
                "wrong answer expected 3, found 4");
        check(2, "  \n\nspaces\r\n", STATUS_WRONG_ANSWER, 0, "Presentation error: spaces");
        check(2, NULL, STATUS_WRONG_ANSWER, 0, "Presentation error");
        check(3, "no answer file", STATUS_INTERNAL_ERROR, 0, "Checker failed: no answer file");
        check(4, "wrong output format Extra information", STATUS_WRONG_ANSWER, 0,
                "wrong output format Extra information");
        check(8, "unexpected eof", STATUS_WRONG_ANSWER, 0, "Presentation error: unexpected eof");
        check(5, NULL, STATUS_INTERNAL_ERROR, 0, "Checker failed: exit code 5");
        check(42, "why", STATUS_INTERNAL_ERROR, 0, "Checker failed: exit code 42: why");
}

static void test_points(void) {
        check(7, "points 0.5 half of it\n", STATUS_WRONG_ANSWER, 0.5, "half of it");
        check(7, "points 0.25", STATUS_WRONG_ANSWER, 0.25, NULL);
        check(7, "0.75 no word", STATUS_WRONG_ANSWER, 0.75, "no word");
        check(7, "points 1 all", STATUS_ACCEPTED, 1, "all");
        check(7, "points 0", STATUS_WRONG_ANSWER, 0, NULL);
        check(7, "points 2.5e-1 x", STATUS_WRONG_ANSWER, 0.25, "x");
        /* Out of range, not a number, missing: the checker's failure. */
        static const char *const bad[] = {"points 1.5", "points -0.1", "points nan", "points inf",
                "points 0x1p-1", "points", "", "half", "points 0.5.5", NULL};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                BoxResult b = exited(7);
                JudgeCheck c;
                ASSERT_EQ(
                        judge_check_decide("Checker", &b, bad[i], bad[i] ? strlen(bad[i]) : 0, NULL, 0, &c),
                        0);
                ASSERT_EQ(c.status_id, STATUS_INTERNAL_ERROR);
                ASSERT_TRUE(c.points == 0);
                ASSERT_TRUE(c.message && strncmp(c.message, "Checker failed: ", 16) == 0);
                judge_check_done(&c);
        }
        /* stdout when stderr says nothing */
        BoxResult b = exited(7);
        JudgeCheck c;
        ASSERT_EQ(judge_check_decide("Checker", &b, "\n", 1, "points 0.5 out\n", 15, &c), 0);
        ASSERT_EQ(c.status_id, STATUS_WRONG_ANSWER);
        ASSERT_TRUE(c.points == 0.5 && strcmp(c.message, "out") == 0);
        judge_check_done(&c);
}

static void test_failures_and_bounds(void) {
        /* A limit or a signal is the checker's failure, whatever it printed. */
        BoxResult b = {.status = BOX_STATUS_TO, .limit = BOX_LIMIT_CPU, .exit_code = -1, .signal = 9};
        snprintf(b.message, sizeof b.message, "Time limit exceeded");
        JudgeCheck c;
        ASSERT_EQ(judge_check_decide("Interactor", &b, "ok", 2, NULL, 0, &c), 0);
        ASSERT_EQ(c.status_id, STATUS_INTERNAL_ERROR);
        ASSERT_TRUE(strcmp(c.message, "Interactor failed: Time limit exceeded") == 0);
        judge_check_done(&c);

        /* The message: one line, printable ASCII, bounded. */
        char big[4096];
        memset(big, 'a', sizeof big);
        big[0] = '\x01';
        big[1] = (char) 0xff;
        b = exited(1);
        ASSERT_EQ(judge_check_decide("Checker", &b, big, sizeof big, NULL, 0, &c), 0);
        ASSERT_EQ(strlen(c.message), (size_t) JUDGE_CHECK_MESSAGE_MAX);
        ASSERT_TRUE(c.message[0] == '?' && c.message[1] == '?' && c.message[2] == 'a');
        judge_check_done(&c);
        judge_check_done(NULL);
}

int main(void) {
        test_exit_codes();
        test_points();
        test_failures_and_bounds();
        return 0;
}
