/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "model/limits.h"
#include "model/submission.h"

static void bytes_free(Bytes *b) {
        free(b->data);
        *b = (Bytes){};
}

void submission_init(Submission *s) {
        *s = (Submission){
                .number_of_runs = JUDGE0_NUMBER_OF_RUNS,
                .cpu_time_limit_usec = JUDGE0_CPU_TIME_LIMIT * UINT64_C(1000000),
                .cpu_extra_time_usec = JUDGE0_CPU_EXTRA_TIME * UINT64_C(1000000),
                .wall_time_limit_usec = JUDGE0_WALL_TIME_LIMIT * UINT64_C(1000000),
                .memory_limit_kib = JUDGE0_MEMORY_LIMIT,
                .stack_limit_kib = JUDGE0_STACK_LIMIT,
                .max_processes_and_or_threads = JUDGE0_MAX_PROCESSES_AND_OR_THREADS,
                .max_file_size_kib = JUDGE0_MAX_FILE_SIZE,
                .status_id = 1,
                .time_usec = -1,
                .wall_time_usec = -1,
                .memory_kib = -1,
                .exit_code = -1,
                .exit_signal = -1,
                .finished_at_usec = -1,
                .purged_at_usec = -1,
                .score = -1,
        };
        s->checker = s->interactor = (SubmissionProgram){
                .cpu_time_limit_usec = HELPER_CPU_TIME_LIMIT * UINT64_C(1000000),
                .wall_time_limit_usec = HELPER_WALL_TIME_LIMIT * UINT64_C(1000000),
                .memory_limit_kib = HELPER_MEMORY_LIMIT,
        };
}

void submission_done(Submission *s) {
        Bytes *fields[] = {&s->source_code, &s->stdin_data, &s->expected_output, &s->compiler_options,
                &s->command_line_arguments, &s->additional_files, &s->callback_url, &s->stdout_data,
                &s->stderr_data, &s->compile_output, &s->message, &s->checker.source_code,
                &s->interactor.source_code};
        for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
                bytes_free(fields[i]);
        for (size_t i = 0; i < s->n_tests; i++) {
                SubmissionTest *t = &s->tests[i];
                bytes_free(&t->stdin_data);
                bytes_free(&t->expected_output);
                bytes_free(&t->stdout_data);
                bytes_free(&t->stderr_data);
                bytes_free(&t->message);
        }
        free(s->tests);
        submission_init(s);
}

bool submission_token_valid(const char *t) {
        if (!t)
                return false;
        for (size_t i = 0; i < SUBMISSION_TOKEN_LEN; i++) {
                if (i == 8 || i == 13 || i == 18 || i == 23) {
                        if (t[i] != '-')
                                return false;
                } else if (!((t[i] >= '0' && t[i] <= '9') || (t[i] >= 'a' && t[i] <= 'f')))
                        return false;
        }
        return t[SUBMISSION_TOKEN_LEN] == '\0';
}

int submission_new_token(char ret[SUBMISSION_TOKEN_LEN + 1]) {
        uint8_t b[16];
        size_t got = 0;
        while (got < sizeof b) {
                ssize_t n = getrandom(b + got, sizeof b - got, 0);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t) n;
        }
        b[6] = (uint8_t) ((b[6] & 0x0f) | 0x40); /* version 4 */
        b[8] = (uint8_t) ((b[8] & 0x3f) | 0x80); /* variant 10 */
        static const char hex[] = "0123456789abcdef";
        size_t o = 0;
        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        ret[o++] = '-';
                ret[o++] = hex[b[i] >> 4];
                ret[o++] = hex[b[i] & 15];
        }
        ret[o] = '\0';
        return 0;
}
