/* SPDX-License-Identifier: MIT */
#include <stddef.h>

#include "model/status.h"

static const char *const descriptions[_STATUS_MAX] = {
        [STATUS_IN_QUEUE] = "In Queue",
        [STATUS_PROCESSING] = "Processing",
        [STATUS_ACCEPTED] = "Accepted",
        [STATUS_WRONG_ANSWER] = "Wrong Answer",
        [STATUS_TIME_LIMIT] = "Time Limit Exceeded",
        [STATUS_COMPILATION_ERROR] = "Compilation Error",
        [STATUS_SIGSEGV] = "Runtime Error (SIGSEGV)",
        [STATUS_SIGXFSZ] = "Runtime Error (SIGXFSZ)",
        [STATUS_SIGFPE] = "Runtime Error (SIGFPE)",
        [STATUS_SIGABRT] = "Runtime Error (SIGABRT)",
        [STATUS_NZEC] = "Runtime Error (NZEC)",
        [STATUS_RUNTIME_OTHER] = "Runtime Error (Other)",
        [STATUS_INTERNAL_ERROR] = "Internal Error",
        [STATUS_EXEC_FORMAT_ERROR] = "Exec Format Error",
};

const char *status_description(int status_id) {
        if (status_id < 0 || status_id >= _STATUS_MAX)
                return NULL;
        return descriptions[status_id];
}
