/* SPDX-License-Identifier: MIT */
#pragma once

/* Judging one submission the way Judge0 does, and beyond: materialise the source and the
 * additional files, compile once (content-addressed cache), run each test case in a fresh
 * sandbox, decide the status in Judge0's order, compare outputs.
 * Nothing here knows HTTP, JSON or storage. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lang/language.h"
#include "model/status.h"
#include "sandbox/box.h"

/* How a sandbox run is made: in-process (BoxContext) or through the supervisor (BoxClient). */
typedef struct JudgeRunner {
        int (*run)(void *userdata, const BoxSpec *spec, BoxResult *ret);
        void *userdata;
} JudgeRunner;
int judge_runner_box_context(void *ctx, const BoxSpec *spec, BoxResult *ret);
int judge_runner_box_client(void *client, const BoxSpec *spec, BoxResult *ret);

typedef struct JudgeLimits {
        uint64_t cpu_time_usec;
        uint64_t extra_time_usec;
        uint64_t wall_time_usec;
        uint64_t memory_kib;
        uint64_t stack_kib;
        uint64_t fsize_kib;
        uint64_t output_kib; /* cap on stdout and on stderr (0 = the judge's default) */
        uint32_t processes;
        bool per_process_time; /* Judge0's enable_per_process_and_thread_time_limit */
        bool per_process_memory; /* Judge0's enable_per_process_and_thread_memory_limit */
} JudgeLimits;

typedef enum JudgeCompare {
        JUDGE_COMPARE_DEFAULT, /* Judge0's: right-strip each line, then the whole text */
        JUDGE_COMPARE_EXACT, /* byte for byte */
        JUDGE_COMPARE_NUMBERS, /* tokens by whitespace; numbers equal within the tolerance */
} JudgeCompare;

typedef struct JudgeTest {
        const char *stdin_data;
        size_t stdin_len;
        const char *expected;
        size_t expected_len;
        bool has_expected;
        const JudgeLimits *limits; /* NULL = the submission's */
} JudgeTest;

typedef struct JudgeSubmission {
        const Language *language;
        const char *source;
        size_t source_len;
        const uint8_t *additional_files; /* a zip (bytes), or NULL */
        size_t additional_files_len;
        const char *compiler_options; /* NULL = none */
        const char *command_line_arguments; /* NULL = none */
        JudgeLimits limits;
        uint32_t number_of_runs; /* 0 = 1; time and memory are averaged */
        bool redirect_stderr_to_stdout;
        bool enable_network;
        /* Test cases; none = one run with stdin/expected below (Judge0's shape). */
        const JudgeTest *tests;
        size_t n_tests;
        const char *stdin_data;
        size_t stdin_len;
        const char *expected;
        size_t expected_len;
        bool has_expected;
        JudgeCompare compare;
        double tolerance; /* JUDGE_COMPARE_NUMBERS: absolute or relative difference allowed */
        bool stop_on_failure;
} JudgeSubmission;

typedef struct JudgeOutcome {
        int status_id;
        char *stdout_data; /* NUL-terminated too; NULL when empty */
        size_t stdout_len;
        char *stderr_data;
        size_t stderr_len;
        char *message; /* NULL when none */
        int exit_code; /* -1 = null */
        int exit_signal; /* 0 = null */
        uint64_t time_usec;
        uint64_t wall_time_usec;
        uint64_t memory_kib;
        bool memory_limit_exceeded; /* extension: the OOM killer fired */
        bool ran; /* false when skipped (stop_on_failure) */
} JudgeOutcome;

typedef struct JudgeResult {
        int status_id; /* overall: the first failing test's, else Accepted */
        char *compile_output; /* NULL when none */
        size_t compile_output_len;
        bool compiled; /* a compile step ran or came from the cache */
        bool cache_hit; /* the compilation came from the cache */
        JudgeOutcome *tests;
        size_t n_tests;
        size_t overall_index; /* the test whose fields stand for the submission */
} JudgeResult;

typedef struct JudgeConfig {
        const char *work_dir; /* per-run directories go here (NULL = $TMPDIR or /tmp) */
        const char *cache_dir; /* compile cache (NULL = no cache) */
        uint64_t cache_max_bytes; /* LRU eviction above this */
        JudgeLimits compile_limits; /* Judge0: the MAX_* values */
        uint64_t max_extract_bytes; /* additional_files: total uncompressed size */
        uint32_t max_extract_files;
        uint64_t default_output_kib;
        uid_t box_uid_hint; /* unused by now */
} JudgeConfig;

void judge_config_defaults(JudgeConfig *cfg);

typedef struct Judge Judge;
int judge_new(const JudgeConfig *cfg, JudgeRunner runner, Judge **ret);
Judge *judge_free(Judge *j);

/* Judge one submission. Returns 0 with *ret filled (free with judge_result_done), or
 * -errno when no verdict could be reached at all (then nothing to free). */
int judge_submission(Judge *j, const JudgeSubmission *s, JudgeResult *ret);
void judge_result_done(JudgeResult *r);

/* ---- pieces, exposed for tests ---- */

/* Compare program output with the expected output under a mode. */
bool judge_compare(JudgeCompare mode, double tolerance, const char *out, size_t out_len,
        const char *expected, size_t expected_len);

/* The Judge0 status of a finished run (before output comparison): 0 when it ran cleanly
 * (exit 0), else 5, 7-14. */
int judge_status_of_run(const BoxResult *r);

/* Extract a zip into dirfd safely: no absolute paths, no "..", no links, devices or
 * other special files, at most max_bytes in total and max_files entries; never
 * overwrites (O_EXCL). Errors name the entry and the reason in errbuf. */
int judge_extract_zip(int dirfd, const uint8_t *zip, size_t len, uint64_t max_bytes, uint32_t max_files,
        char *errbuf, size_t errlen);
