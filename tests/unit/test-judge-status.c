/* SPDX-License-Identifier: MIT */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "judge/judge.h"
#include "tests.h"

static void test_descriptions(void) {
        static const char *const expected[] = {
                [1] = "In Queue",
                [2] = "Processing",
                [3] = "Accepted",
                [4] = "Wrong Answer",
                [5] = "Time Limit Exceeded",
                [6] = "Compilation Error",
                [7] = "Runtime Error (SIGSEGV)",
                [8] = "Runtime Error (SIGXFSZ)",
                [9] = "Runtime Error (SIGFPE)",
                [10] = "Runtime Error (SIGABRT)",
                [11] = "Runtime Error (NZEC)",
                [12] = "Runtime Error (Other)",
                [13] = "Internal Error",
                [14] = "Exec Format Error",
        };

        ASSERT_EQ(_STATUS_MAX, 15);
        for (int id = 1; id <= 14; id++) {
                const char *d = status_description(id);
                ASSERT_TRUE(d && strcmp(d, expected[id]) == 0);
        }
        ASSERT_TRUE(status_description(0) == NULL);
        ASSERT_TRUE(status_description(15) == NULL);
        ASSERT_TRUE(status_description(-1) == NULL);
        ASSERT_TRUE(status_description(1000) == NULL);
}

static int status_of(BoxStatus s, int signal, const char *message) {
        BoxResult r = {.status = s, .exit_code = -1, .signal = signal};
        snprintf(r.message, sizeof r.message, "%s", message);
        return judge_status_of_run(&r);
}

static void test_run_status(void) {
        ASSERT_EQ(status_of(BOX_STATUS_OK, 0, ""), 0);
        ASSERT_EQ(status_of(BOX_STATUS_TO, 0, "Time limit exceeded"), STATUS_TIME_LIMIT);
        ASSERT_EQ(status_of(BOX_STATUS_TO, SIGKILL, "Time limit exceeded (wall clock)"), STATUS_TIME_LIMIT);

        /* Judge0 matches the numbers 11, 25, 8 and 6. */
        ASSERT_EQ(status_of(BOX_STATUS_SG, 11, "Caught fatal signal 11"), 7);
        ASSERT_EQ(status_of(BOX_STATUS_SG, 25, "Caught fatal signal 25"), 8);
        ASSERT_EQ(status_of(BOX_STATUS_SG, 8, "Caught fatal signal 8"), 9);
        ASSERT_EQ(status_of(BOX_STATUS_SG, 6, "Caught fatal signal 6"), 10);
        ASSERT_EQ(status_of(BOX_STATUS_SG, SIGKILL, "Caught fatal signal 9"), 12);
        ASSERT_EQ(status_of(BOX_STATUS_SG, SIGBUS, "Caught fatal signal 7"), 12);
        ASSERT_EQ(status_of(BOX_STATUS_SG, SIGTERM, ""), 12);
        ASSERT_EQ(status_of(BOX_STATUS_SG, 0, ""), 12);

        ASSERT_EQ(status_of(BOX_STATUS_RE, 0, "Exited with error status 1"), STATUS_NZEC);
        ASSERT_EQ(status_of(BOX_STATUS_ML, SIGKILL, "Memory limit exceeded"), STATUS_RUNTIME_OTHER);
        ASSERT_EQ(status_of(BOX_STATUS_OL, SIGKILL, "Output limit exceeded (stdout)"), STATUS_RUNTIME_OTHER);

        /* XX: the program could not be executed → 14; the sandbox failed → 13. */
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute /box/a.out: Exec format error"), 14);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute ./run: Permission denied"), 14);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute python3: No such file or directory"), 14);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute x: Argument list too long"), 13);
        ASSERT_EQ(
                status_of(BOX_STATUS_XX, 0, "sandbox setup failed while mounting /proc: Permission denied"),
                13);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "the sandbox's init ended without a result (status 0x9)"), 13);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, ""), 13);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute : Exec format error"), 13); /* no path */
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "cannot execute x: Exec format error (really)"), 13);
        ASSERT_EQ(status_of(BOX_STATUS_XX, 0, "Exec format error"), 13);

        /* An unterminated message is read within its array. */
        BoxResult r = {.status = BOX_STATUS_XX};
        memset(r.message, 'x', sizeof r.message);
        ASSERT_EQ(judge_status_of_run(&r), 13);
        const char *tail = ": Exec format error";
        memcpy(r.message, "cannot execute ", strlen("cannot execute "));
        memcpy(r.message + sizeof r.message - strlen(tail), tail, strlen(tail));
        ASSERT_EQ(judge_status_of_run(&r), 14);

        /* Out of range. */
        r.status = _BOX_STATUS_MAX;
        ASSERT_EQ(judge_status_of_run(&r), 13);
        r.status = (BoxStatus) -1;
        ASSERT_EQ(judge_status_of_run(&r), 13);
        ASSERT_EQ(judge_status_of_run(NULL), 13);
}

int main(void) {
        test_descriptions();
        test_run_status();
        return 0;
}
