/* SPDX-License-Identifier: MIT */
#pragma once

/* The submission as Judge0 CE 1.13.1 knows it, plus
 * our additive extensions. Plain data: no JSON, HTTP or storage here. Byte fields are
 * (pointer, length) pairs and may hold any bytes (NUL included); NULL = Judge0's null.
 * Times are microseconds; memory and sizes KiB (Judge0's KB). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUBMISSION_TOKEN_LEN 36 /* a UUID v4, "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx" */

typedef struct Bytes {
        char *data; /* NUL-terminated as a convenience; NULL = null */
        size_t len;
} Bytes;

/* One test case of the many-test-cases extension. */
typedef struct SubmissionTest {
        Bytes stdin_data;
        Bytes expected_output;
        /* results */
        int status_id;
        Bytes stdout_data, stderr_data, message;
        int64_t time_usec, wall_time_usec; /* -1 = null */
        int64_t memory_kib; /* -1 = null */
        int exit_code, exit_signal; /* -1 = null */
        bool memory_limit_exceeded;
        double points; /* -1 = null; 0..1 */
} SubmissionTest;

/* A checker or an interactor of the extensions: language_id 0 = none. */
typedef struct SubmissionProgram {
        Bytes source_code;
        int language_id;
        uint64_t cpu_time_limit_usec;
        uint64_t wall_time_limit_usec;
        uint64_t memory_limit_kib;
} SubmissionProgram;

typedef enum CompareMode {
        COMPARE_DEFAULT, /* Judge0's whitespace rule */
        COMPARE_EXACT,
        COMPARE_NUMBERS,
} CompareMode;

typedef struct Submission {
        char token[SUBMISSION_TOKEN_LEN + 1];

        /* input (settable on create) */
        Bytes source_code;
        int language_id;
        Bytes stdin_data;
        Bytes expected_output;
        Bytes compiler_options; /* never base64 */
        Bytes command_line_arguments; /* never base64 */
        Bytes additional_files; /* the zip's bytes (base64 on the wire, always) */
        Bytes callback_url;
        uint32_t number_of_runs;
        uint64_t cpu_time_limit_usec;
        uint64_t cpu_extra_time_usec;
        uint64_t wall_time_limit_usec;
        uint64_t memory_limit_kib;
        uint64_t stack_limit_kib;
        uint32_t max_processes_and_or_threads;
        bool enable_per_process_and_thread_time_limit;
        bool enable_per_process_and_thread_memory_limit;
        uint64_t max_file_size_kib;
        bool redirect_stderr_to_stdout;
        bool enable_network;

        /* extensions (additive; a Judge0 client sends none of them) */
        SubmissionTest *tests; /* many test cases, one compilation */
        size_t n_tests;
        CompareMode compare;
        double tolerance;
        bool stop_on_failure;
        SubmissionProgram checker; /* testlib's conventions (docs/JUDGING.md) */
        SubmissionProgram interactor;

        /* output */
        int status_id; /* 1..14 */
        Bytes stdout_data;
        Bytes stderr_data;
        Bytes compile_output;
        Bytes message;
        int64_t time_usec; /* -1 = null; CPU, averaged over runs */
        int64_t wall_time_usec; /* -1 = null */
        int64_t memory_kib; /* -1 = null; peak, averaged over runs */
        int exit_code; /* -1 = null */
        int exit_signal; /* -1 = null */
        bool memory_limit_exceeded;
        double score; /* -1 = null; the sum of the tests' points */

        /* bookkeeping */
        int64_t created_at_usec; /* since the epoch, UTC */
        int64_t finished_at_usec; /* -1 = null */
        /* -1, or when the retention policy purged it: a tombstone, whose Bytes are all null
         * and tests gone (store_purge()) */
        int64_t purged_at_usec;
        uint32_t attempts; /* how many times a worker took it (dead-letter after too many) */
} Submission;

/* Judge0's defaults (config.rb). */
void submission_init(Submission *s);
/* Free every Bytes and the tests; the struct is left as after submission_init(). */
void submission_done(Submission *s);
/* Whether t is a submission token's shape: 36 characters, lowercase hex digits and the
 * four dashes of a UUID. */
bool submission_token_valid(const char *t);
/* A fresh random token (UUID v4 from getrandom). */
int submission_new_token(char ret[SUBMISSION_TOKEN_LEN + 1]);
