/* SPDX-License-Identifier: MIT */
/* The `fields` parameter (app/services/fields/ in Judge0): which attributes of a
 * submission a response shows. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json/judge0.h"

static const char *const field_names[_JUDGE0_FIELD_MAX] = {
        [JUDGE0_FIELD_SOURCE_CODE] = "source_code",
        [JUDGE0_FIELD_LANGUAGE_ID] = "language_id",
        [JUDGE0_FIELD_STDIN] = "stdin",
        [JUDGE0_FIELD_EXPECTED_OUTPUT] = "expected_output",
        [JUDGE0_FIELD_STDOUT] = "stdout",
        [JUDGE0_FIELD_STATUS_ID] = "status_id",
        [JUDGE0_FIELD_CREATED_AT] = "created_at",
        [JUDGE0_FIELD_FINISHED_AT] = "finished_at",
        [JUDGE0_FIELD_TIME] = "time",
        [JUDGE0_FIELD_MEMORY] = "memory",
        [JUDGE0_FIELD_STDERR] = "stderr",
        [JUDGE0_FIELD_TOKEN] = "token",
        [JUDGE0_FIELD_NUMBER_OF_RUNS] = "number_of_runs",
        [JUDGE0_FIELD_CPU_TIME_LIMIT] = "cpu_time_limit",
        [JUDGE0_FIELD_CPU_EXTRA_TIME] = "cpu_extra_time",
        [JUDGE0_FIELD_WALL_TIME_LIMIT] = "wall_time_limit",
        [JUDGE0_FIELD_MEMORY_LIMIT] = "memory_limit",
        [JUDGE0_FIELD_STACK_LIMIT] = "stack_limit",
        [JUDGE0_FIELD_MAX_PROCESSES_AND_OR_THREADS] = "max_processes_and_or_threads",
        [JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT] = "enable_per_process_and_thread_time_limit",
        [JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT] =
                "enable_per_process_and_thread_memory_limit",
        [JUDGE0_FIELD_MAX_FILE_SIZE] = "max_file_size",
        [JUDGE0_FIELD_COMPILE_OUTPUT] = "compile_output",
        [JUDGE0_FIELD_EXIT_CODE] = "exit_code",
        [JUDGE0_FIELD_EXIT_SIGNAL] = "exit_signal",
        [JUDGE0_FIELD_MESSAGE] = "message",
        [JUDGE0_FIELD_WALL_TIME] = "wall_time",
        [JUDGE0_FIELD_COMPILER_OPTIONS] = "compiler_options",
        [JUDGE0_FIELD_COMMAND_LINE_ARGUMENTS] = "command_line_arguments",
        [JUDGE0_FIELD_REDIRECT_STDERR_TO_STDOUT] = "redirect_stderr_to_stdout",
        [JUDGE0_FIELD_CALLBACK_URL] = "callback_url",
        [JUDGE0_FIELD_ADDITIONAL_FILES] = "additional_files",
        [JUDGE0_FIELD_ENABLE_NETWORK] = "enable_network",
        [JUDGE0_FIELD_STATUS] = "status",
        [JUDGE0_FIELD_LANGUAGE] = "language",
        [JUDGE0_FIELD_COMPARE] = "compare",
        [JUDGE0_FIELD_TOLERANCE] = "tolerance",
        [JUDGE0_FIELD_STOP_ON_FAILURE] = "stop_on_failure",
        [JUDGE0_FIELD_MEMORY_LIMIT_EXCEEDED] = "memory_limit_exceeded",
        [JUDGE0_FIELD_TESTS] = "tests",
        [JUDGE0_FIELD_CHECKER] = "checker",
        [JUDGE0_FIELD_INTERACTOR] = "interactor",
        [JUDGE0_FIELD_SCORE] = "score",
};

_Static_assert(_JUDGE0_FIELD_JUDGE0_MAX == 35, "Judge0 CE 1.13.1 has 35 submission fields");
_Static_assert(_JUDGE0_FIELD_MAX <= 64, "a field mask is 64 bits");

const char *judge0_field_name(Judge0Field f) {
        if ((unsigned) f >= _JUDGE0_FIELD_MAX)
                return NULL;
        return field_names[f];
}

static int field_lookup(const char *s, size_t len) {
        for (size_t i = 0; i < _JUDGE0_FIELD_MAX; i++)
                if (strlen(field_names[i]) == len && memcmp(field_names[i], s, len) == 0)
                        return (int) i;
        return -1;
}

int judge0_fields_parse(const char *s, Judge0Fields *ret, char **error) {
        if (!s || !*s) {
                *ret = JUDGE0_FIELDS_DEFAULT;
                return 0;
        }

        /* Ruby's split(",") drops the empty pieces at the end ("a,b,," is a and b). */
        size_t end = strlen(s);
        while (end > 0 && s[end - 1] == ',')
                end--;

        uint64_t mask = 0;
        size_t n_invalid = 0, invalid_chars = 0;
        bool all = false;
        for (size_t i = 0; i < end;) {
                const char *comma = memchr(s + i, ',', end - i);
                size_t len = (comma ? (size_t) (comma - s) : end) - i;
                if (len == 1 && s[i] == '*')
                        all = true;
                else {
                        int f = field_lookup(s + i, len);
                        if (f >= 0)
                                mask |= JUDGE0_FIELD_BIT(f);
                        else {
                                n_invalid++;
                                invalid_chars += len;
                        }
                }
                i += len + 1;
        }

        /* An invalid name is refused even next to "*" (Judge0 collects the invalid names
         * before it looks for "*"); "*" wins over the valid ones. */
        if (n_invalid > 0) {
                static const char prefix[] = "invalid fields: [";
                /* The names joined by ", ": at most the input's length plus one byte per
                 * separator. */
                size_t size = sizeof prefix - 1 + invalid_chars + 2 * n_invalid + 2;
                char *m = malloc(size);
                if (!m)
                        return -ENOMEM;
                size_t o = sizeof prefix - 1;
                memcpy(m, prefix, o);
                size_t k = 0;
                for (size_t i = 0; i < end;) {
                        const char *comma = memchr(s + i, ',', end - i);
                        size_t len = (comma ? (size_t) (comma - s) : end) - i;
                        if (!(len == 1 && s[i] == '*') && field_lookup(s + i, len) < 0) {
                                if (k++ > 0) {
                                        memcpy(m + o, ", ", 2);
                                        o += 2;
                                }
                                memcpy(m + o, s + i, len);
                                o += len;
                        }
                        i += len + 1;
                }
                m[o++] = ']';
                m[o] = '\0';
                *error = m;
                return -EINVAL;
        }
        if (all) {
                *ret = JUDGE0_FIELDS_ALL;
                return 0;
        }
        if (mask == 0) {
                *ret = JUDGE0_FIELDS_DEFAULT;
                return 0;
        }
        *ret = (Judge0Fields){.mask = mask};
        return 0;
}
