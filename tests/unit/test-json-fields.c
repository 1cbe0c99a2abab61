/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/judge0.h"
#include "tests.h"

static Judge0Fields parse_ok(const char *s) {
        Judge0Fields f = {.mask = 12345};
        char *error = NULL;
        ASSERT_EQ(judge0_fields_parse(s, &f, &error), 0);
        ASSERT_TRUE(error == NULL);
        return f;
}

static void parse_invalid(const char *s, const char *message) {
        Judge0Fields f = {.mask = 12345};
        char *error = NULL;
        ASSERT_EQ(judge0_fields_parse(s, &f, &error), -EINVAL);
        ASSERT_TRUE(f.mask == 12345 && !f.all && !f.defaults); /* untouched */
        ASSERT_TRUE(error);
        if (strcmp(error, message) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", error, message);
                abort();
        }
        free(error);
}

static bool is_default(Judge0Fields f) {
        return f.defaults && !f.all && f.mask == JUDGE0_FIELDS_DEFAULT_MASK;
}

static void test_names(void) {
        /* Judge0's 35, in the order of fields=*, then ours. */
        static const char *const names[] = {"source_code", "language_id", "stdin", "expected_output",
                "stdout", "status_id", "created_at", "finished_at", "time", "memory", "stderr", "token",
                "number_of_runs", "cpu_time_limit", "cpu_extra_time", "wall_time_limit", "memory_limit",
                "stack_limit", "max_processes_and_or_threads", "enable_per_process_and_thread_time_limit",
                "enable_per_process_and_thread_memory_limit", "max_file_size", "compile_output", "exit_code",
                "exit_signal", "message", "wall_time", "compiler_options", "command_line_arguments",
                "redirect_stderr_to_stdout", "callback_url", "additional_files", "enable_network", "status",
                "language", "compare", "tolerance", "stop_on_failure", "memory_limit_exceeded", "tests",
                "checker", "interactor", "score"};
        ASSERT_EQ(ELEMENTSOF(names), (size_t) _JUDGE0_FIELD_MAX);
        ASSERT_EQ(_JUDGE0_FIELD_JUDGE0_MAX, 35);
        for (int i = 0; i < _JUDGE0_FIELD_MAX; i++)
                ASSERT_TRUE(strcmp(judge0_field_name((Judge0Field) i), names[i]) == 0);
        ASSERT_TRUE(judge0_field_name(_JUDGE0_FIELD_MAX) == NULL);
        ASSERT_TRUE(judge0_field_name((Judge0Field) -1) == NULL);
}

static void test_parse(void) {
        ASSERT_TRUE(is_default(parse_ok(NULL)));
        ASSERT_TRUE(is_default(parse_ok("")));
        ASSERT_TRUE(is_default(parse_ok(","))); /* Ruby's split drops trailing empties */
        ASSERT_TRUE(is_default(parse_ok(",,,")));

        Judge0Fields f = parse_ok("*");
        ASSERT_TRUE(f.all && !f.defaults);
        f = parse_ok("stdout,*,status"); /* "*" wins over the names given with it */
        ASSERT_TRUE(f.all);

        f = parse_ok("stdout");
        ASSERT_TRUE(!f.all && !f.defaults && f.mask == JUDGE0_FIELD_BIT(JUDGE0_FIELD_STDOUT));
        f = parse_ok("status,stdout,stdout,token,");
        ASSERT_TRUE(!f.all && !f.defaults);
        ASSERT_EQ(f.mask, JUDGE0_FIELD_BIT(JUDGE0_FIELD_STATUS) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_STDOUT) |
                                  JUDGE0_FIELD_BIT(JUDGE0_FIELD_TOKEN));
        f = parse_ok("token,time,memory,stdout,stderr,compile_output,message,status");
        ASSERT_TRUE(f.mask == JUDGE0_FIELDS_DEFAULT_MASK && !f.defaults); /* named, not the default */
        f = parse_ok("tests,memory_limit_exceeded");
        ASSERT_EQ(f.mask,
                JUDGE0_FIELD_BIT(JUDGE0_FIELD_TESTS) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_MEMORY_LIMIT_EXCEEDED));
}

static void test_invalid(void) {
        /* Judge0's message: the unknown names in order, joined by ", ". */
        parse_invalid("id", "invalid fields: [id]");
        parse_invalid("stdout, stderr", "invalid fields: [ stderr]"); /* no trimming */
        parse_invalid("a,stdout,b", "invalid fields: [a, b]");
        parse_invalid("x,x", "invalid fields: [x, x]");
        parse_invalid(",stdout", "invalid fields: []"); /* a leading empty piece */
        parse_invalid("stdout,,stderr", "invalid fields: []");
        parse_invalid("a,,b", "invalid fields: [a, , b]");
        parse_invalid("STDOUT", "invalid fields: [STDOUT]");
        parse_invalid("**", "invalid fields: [**]");
        /* "*" does not hide an invalid name: Judge0 refuses it (its check comes first). */
        parse_invalid("*,bogus", "invalid fields: [bogus]");
        parse_invalid("stdout,*,nonsense", "invalid fields: [nonsense]");
        parse_invalid("*,,*", "invalid fields: []");
        parse_invalid(" *", "invalid fields: [ *]");
        parse_invalid("\xff", "invalid fields: [\xff]");
}

int main(void) {
        test_names();
        test_parse();
        test_invalid();
        return 0;
}
