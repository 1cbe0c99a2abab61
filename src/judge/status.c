/* SPDX-License-Identifier: MIT */
/* The status of a finished sandbox run in Judge0's order
 * (app/jobs/isolate_job.rb): TO, then SG by signal, then RE, then XX. Our sandbox reports
 * two verdicts isolate has not, each mapped to the status Judge0 would show for the same
 * event with its cgroup setup:
 *   - ML (the OOM killer fired): 12 "Runtime Error (Other)". Judge0 has no memory status
 *     (issue #298); the caller adds the message and sets memory_limit_exceeded.
 *   - OL (killed when its output passed the cap): 12 as well. Judge0 has no output limit
 *     at all (stdout is a file bounded by max_file_size, which ends in SIGXFSZ, 8); a kill
 *     for our cap is neither a clean exit nor a signal the program caused. The sandbox's
 *     message ("Output limit exceeded (stdout)") says which. */

#include <signal.h>
#include <string.h>

#include "base/macro.h"
#include "judge/judge.h"

/* Decided by the signal or the message rather than by the verdict alone. */
#define BY_SIGNAL (-1)
#define BY_MESSAGE (-2)

static const int status_of_box[_BOX_STATUS_MAX] = {
        [BOX_STATUS_OK] = 0, /* ran cleanly: the caller compares the output */
        [BOX_STATUS_TO] = STATUS_TIME_LIMIT,
        [BOX_STATUS_SG] = BY_SIGNAL,
        [BOX_STATUS_RE] = STATUS_NZEC,
        [BOX_STATUS_ML] = STATUS_RUNTIME_OTHER,
        [BOX_STATUS_OL] = STATUS_RUNTIME_OTHER,
        [BOX_STATUS_XX] = BY_MESSAGE,
};

/* Judge0 matches exitsig against the numbers 11, 25, 8 and 6: Linux's values of these. */
static const struct {
        int signal;
        int status;
} status_of_signal[] = {
        {SIGSEGV, STATUS_SIGSEGV},
        {SIGXFSZ, STATUS_SIGXFSZ},
        {SIGFPE, STATUS_SIGFPE},
        {SIGABRT, STATUS_SIGABRT},
};

/* XX becomes Exec Format Error when the program itself could not be executed. Judge0
 * matches isolate's "execve(...): <error>"; our sandbox says "cannot execute PATH: <error>"
 * (src/sandbox/run.c). Any other XX is the sandbox failing: Internal Error. */
#define EXEC_FAILED_PREFIX "cannot execute "
static const char *const exec_errors[] = {
        "Exec format error",
        "Permission denied",
        "No such file or directory",
};

/* "cannot execute PATH: ERROR", with a non-empty PATH and ERROR one of exec_errors. */
static int status_of_message(const char *message, size_t size) {
        size_t len = strnlen(message, size), prefix = strlen(EXEC_FAILED_PREFIX);

        if (len <= prefix || memcmp(message, EXEC_FAILED_PREFIX, prefix) != 0)
                return STATUS_INTERNAL_ERROR;
        const char *rest = message + prefix; /* "PATH: ERROR" */
        size_t rest_len = len - prefix;
        for (size_t i = 0; i < ELEMENTSOF(exec_errors); i++) {
                size_t n = strlen(exec_errors[i]);
                if (rest_len >= 1 + 2 + n && memcmp(rest + rest_len - n - 2, ": ", 2) == 0 &&
                        memcmp(rest + rest_len - n, exec_errors[i], n) == 0)
                        return STATUS_EXEC_FORMAT_ERROR;
        }
        return STATUS_INTERNAL_ERROR;
}

int judge_status_of_run(const BoxResult *r) {
        if (!r || (unsigned) r->status >= _BOX_STATUS_MAX)
                return STATUS_INTERNAL_ERROR;

        int status = status_of_box[r->status];
        if (status == BY_SIGNAL) {
                for (size_t i = 0; i < ELEMENTSOF(status_of_signal); i++)
                        if (status_of_signal[i].signal == r->signal)
                                return status_of_signal[i].status;
                return STATUS_RUNTIME_OTHER;
        }
        if (status == BY_MESSAGE)
                return status_of_message(r->message, sizeof r->message);
        return status;
}
