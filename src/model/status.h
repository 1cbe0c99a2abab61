/* SPDX-License-Identifier: MIT */
#pragma once

/* Judge0's statuses: ids and descriptions are Judge0 CE's, the one table of them. 1 and 2
 * are a submission's states before a result; 3..14 are final. */

#include <stdbool.h>

enum {
        STATUS_IN_QUEUE = 1,
        STATUS_PROCESSING = 2,
        STATUS_ACCEPTED = 3,
        STATUS_WRONG_ANSWER = 4,
        STATUS_TIME_LIMIT = 5,
        STATUS_COMPILATION_ERROR = 6,
        STATUS_SIGSEGV = 7,
        STATUS_SIGXFSZ = 8,
        STATUS_SIGFPE = 9,
        STATUS_SIGABRT = 10,
        STATUS_NZEC = 11,
        STATUS_RUNTIME_OTHER = 12,
        STATUS_INTERNAL_ERROR = 13,
        STATUS_EXEC_FORMAT_ERROR = 14,
        _STATUS_MAX,
};

/* Judge0's description of a status ("Accepted"); NULL when unknown. */
const char *status_description(int status_id);
/* 3..14. */
static inline bool status_is_final(int status_id) {
        return status_id >= STATUS_ACCEPTED && status_id < _STATUS_MAX;
}
