/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/judge0.h"
#include "tests.h"

/* A few of Judge0 CE's languages, one archived, and the project language. */
static const Judge0Language languages[] = {
        {4, "C (gcc 7.2.0)", "main.c", "gcc %s main.c", "./a.out", true, false},
        {50, "C (GCC 9.2.0)", "main.c", "gcc %s main.c", "./a.out", false, false},
        {54, "C++ (GCC 9.2.0)", "main.cpp", "g++ %s main.cpp", "./a.out", false, false},
        {62, "Java (OpenJDK 13.0.1)", "Main.java", "javac %s Main.java", "java Main", false, false},
        {71, "Python (3.8.1)", "script.py", NULL, "python3 script.py", false, false},
        {73, "Rust (1.40.0)", "main.rs", "rustc %s main.rs", "./main", false, false},
        {89, "Multi-file program", NULL, NULL, NULL, false, true},
};

static int lookup(void *userdata, int id, Judge0Language *ret) {
        int *calls = userdata;
        if (calls)
                (*calls)++;
        for (size_t i = 0; i < ELEMENTSOF(languages); i++)
                if (languages[i].id == id) {
                        *ret = languages[i];
                        return 0;
                }
        return -ENOENT;
}

static Judge0Rules rules(void) {
        Judge0Rules r;
        judge0_rules_init(&r);
        r.language_lookup = lookup;
        return r;
}

/* Decode body; on success *s is filled, on -EINVAL *errors_json holds the 422 map. */
static int decode_with(const char *body, bool b64, const Judge0Rules *r, Submission *s, char **errors_json) {
        _cleanup_judge0_body_ Judge0Body *b = NULL;
        _cleanup_judge0_errors_ Judge0Errors *e = NULL;
        char err[256];

        ASSERT_EQ(judge0_body_parse(body, strlen(body), &b, err, sizeof err), 0);
        ASSERT_EQ(judge0_errors_new(&e), 0);
        int ret = judge0_body_decode_submission(b, b64, r, e, s);
        if (ret == -EINVAL)
                ASSERT_EQ(judge0_errors_encode(e, errors_json), 0);
        else
                ASSERT_TRUE(judge0_errors_empty(e));
        return ret;
}

static void decode_ok(const char *body, bool b64, const Judge0Rules *r, Submission *s) {
        char *errors = NULL;
        int ret = decode_with(body, b64, r, s, &errors);
        if (ret != 0) {
                fprintf(stderr, "decode of %s: %d %s\n", body, ret, errors ? errors : "");
                abort();
        }
}

static void decode_invalid(const char *body, bool b64, const Judge0Rules *r, const char *expected) {
        Submission s = {.language_id = 12345};
        char *errors = NULL;
        ASSERT_EQ(decode_with(body, b64, r, &s, &errors), -EINVAL);
        ASSERT_EQ(s.language_id, 12345); /* untouched */
        if (strcmp(errors, expected) != 0) {
                fprintf(stderr, "body:     %s\ngot:      %s\nexpected: %s\n", body, errors, expected);
                abort();
        }
        free(errors);
}

static bool bytes_eq(const Bytes *b, const char *s, size_t len) {
        return b->data && b->len == len && memcmp(b->data, s, len) == 0 && b->data[len] == '\0';
}
#define BYTES_EQ(b, lit) bytes_eq(&(b), lit, sizeof(lit) - 1)

static void test_defaults(void) {
        Judge0Rules r = rules();
        Submission s;

        decode_ok("{\"source_code\":\"print(1)\",\"language_id\":71}", false, &r, &s);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "print(1)"));
        ASSERT_EQ(s.language_id, 71);
        ASSERT_EQ(s.number_of_runs, 1u);
        ASSERT_EQ(s.cpu_time_limit_usec, 5000000u);
        ASSERT_EQ(s.cpu_extra_time_usec, 1000000u);
        ASSERT_EQ(s.wall_time_limit_usec, 10000000u);
        ASSERT_EQ(s.memory_limit_kib, 128000u);
        ASSERT_EQ(s.stack_limit_kib, 64000u);
        ASSERT_EQ(s.max_processes_and_or_threads, 60u);
        ASSERT_EQ(s.max_file_size_kib, 1024u);
        ASSERT_TRUE(!s.enable_per_process_and_thread_time_limit &&
                    !s.enable_per_process_and_thread_memory_limit);
        ASSERT_TRUE(!s.redirect_stderr_to_stdout && !s.enable_network);
        ASSERT_TRUE(!s.stdin_data.data && !s.expected_output.data && !s.compiler_options.data &&
                    !s.command_line_arguments.data && !s.additional_files.data && !s.callback_url.data);
        ASSERT_EQ(s.status_id, 1);
        ASSERT_EQ(s.token[0], '\0');
        ASSERT_EQ(s.n_tests, 0u);
        ASSERT_EQ(s.compare, COMPARE_DEFAULT);
        ASSERT_TRUE(s.tolerance == 0 && !s.stop_on_failure);
        ASSERT_EQ(s.time_usec, -1);
        submission_done(&s);

        /* The configured defaults, not Judge0's. */
        r.cpu_time_limit_usec = 2000000;
        r.memory_limit_kib = 256000;
        r.enable_network = true;
        r.redirect_stderr_to_stdout = true;
        r.enable_per_process_and_thread_time_limit = true;
        r.number_of_runs = 3;
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"cpu_time_limit\":null,\"stdin\":null}", false,
                &r, &s);
        ASSERT_EQ(s.cpu_time_limit_usec, 2000000u);
        ASSERT_EQ(s.memory_limit_kib, 256000u);
        ASSERT_TRUE(s.enable_network && s.redirect_stderr_to_stdout &&
                    s.enable_per_process_and_thread_time_limit);
        ASSERT_EQ(s.number_of_runs, 3u);
        ASSERT_TRUE(!s.stdin_data.data);
        submission_done(&s);

        /* Only null falls back: explicit false is kept, and an explicit 0 too where it is a
         * value (no extra time); where 0 would turn a limit off, it means the maximum. */
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"cpu_time_limit\":0,\"cpu_extra_time\":0,"
                  "\"stack_limit\":0,\"max_file_size\":0,\"enable_network\":false,"
                  "\"redirect_stderr_to_stdout\":false,\"enable_per_process_and_thread_time_limit\":false,"
                  "\"stdin\":\"\",\"expected_output\":\"\"}",
                false, &r, &s);
        ASSERT_EQ(s.cpu_time_limit_usec, r.max_cpu_time_limit_usec);
        ASSERT_EQ(s.cpu_extra_time_usec, 0u);
        ASSERT_EQ(s.stack_limit_kib, r.max_stack_limit_kib);
        ASSERT_EQ(s.max_file_size_kib, r.max_max_file_size_kib);
        ASSERT_TRUE(s.cpu_time_limit_usec > 0 && s.stack_limit_kib > 0 && s.max_file_size_kib > 0);
        ASSERT_TRUE(!s.enable_network && !s.redirect_stderr_to_stdout &&
                    !s.enable_per_process_and_thread_time_limit);
        ASSERT_TRUE(BYTES_EQ(s.stdin_data, "") && BYTES_EQ(s.expected_output, "")); /* "" is not null */
        submission_done(&s);

        /* A default that the maximum refuses is refused, as Rails validates it too. */
        r = rules();
        r.cpu_time_limit_usec = 20000000;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71}", false, &r,
                "{\"cpu_time_limit\":[\"must be less than or equal to 15.0\"]}");
}

static void test_values(void) {
        Judge0Rules r = rules();
        Submission s;

        /* Everything settable, with the types Rails casts. */
        decode_ok(
                "{\"source_code\":\"int main(){}\",\"language_id\":\"50\",\"stdin\":\"1 2\\n\","
                "\"expected_output\":\"3\\n\",\"compiler_options\":\"-O2\",\"command_line_arguments\":\"a "
                "b\","
                "\"number_of_runs\":\" 3 \",\"cpu_time_limit\":\"2.5\",\"cpu_extra_time\":0.5,"
                "\"wall_time_limit\":12,\"memory_limit\":\"2048.9\",\"stack_limit\":1e3,"
                "\"max_processes_and_or_threads\":120,\"enable_per_process_and_thread_time_limit\":\"true\","
                "\"enable_per_process_and_thread_memory_limit\":1,\"max_file_size\":4096,"
                "\"redirect_stderr_to_stdout\":\"t\",\"callback_url\":\"http://example.com/cb\","
                "\"additional_files\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\",\"enable_network\":\"off\","
                "\"status_id\":3,\"token\":\"mine\",\"stdout\":\"forged\",\"unknown\":[1]}",
                false, &r, &s);
        ASSERT_EQ(s.language_id, 50);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "int main(){}"));
        ASSERT_TRUE(BYTES_EQ(s.stdin_data, "1 2\n"));
        ASSERT_TRUE(BYTES_EQ(s.expected_output, "3\n"));
        ASSERT_TRUE(BYTES_EQ(s.compiler_options, "-O2"));
        ASSERT_TRUE(BYTES_EQ(s.command_line_arguments, "a b"));
        ASSERT_EQ(s.number_of_runs, 3u);
        ASSERT_EQ(s.cpu_time_limit_usec, 2500000u);
        ASSERT_EQ(s.cpu_extra_time_usec, 500000u);
        ASSERT_EQ(s.wall_time_limit_usec, 12000000u);
        ASSERT_EQ(s.memory_limit_kib, 2048u); /* Rails truncates for an integer column */
        ASSERT_EQ(s.stack_limit_kib, 1000u);
        ASSERT_EQ(s.max_processes_and_or_threads, 120u);
        ASSERT_TRUE(
                s.enable_per_process_and_thread_time_limit && s.enable_per_process_and_thread_memory_limit);
        ASSERT_EQ(s.max_file_size_kib, 4096u);
        ASSERT_TRUE(s.redirect_stderr_to_stdout && !s.enable_network);
        ASSERT_TRUE(BYTES_EQ(s.callback_url, "http://example.com/cb"));
        ASSERT_EQ(s.additional_files.len, 22u); /* an empty zip, always base64 */
        ASSERT_TRUE(memcmp(s.additional_files.data, "PK\5\6", 4) == 0);
        /* Output fields cannot be set. */
        ASSERT_EQ(s.status_id, 1);
        ASSERT_EQ(s.token[0], '\0');
        ASSERT_TRUE(!s.stdout_data.data);
        submission_done(&s);

        /* Microseconds from decimals; a blank string is null; 71.9 is 71; NUL bytes kept;
         * an integer where text is expected is its digits (Rails). */
        decode_ok("{\"source_code\":123,\"language_id\":71.9,\"cpu_time_limit\":\"0.000001\","
                  "\"wall_time_limit\":\"\",\"memory_limit\":\"  \",\"stdin\":\"a\\u0000b\","
                  "\"enable_network\":\"\"}",
                false, &r, &s);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "123"));
        ASSERT_EQ(s.language_id, 71);
        ASSERT_EQ(s.cpu_time_limit_usec, 1u);
        ASSERT_EQ(s.wall_time_limit_usec, 10000000u);
        ASSERT_EQ(s.memory_limit_kib, 128000u);
        ASSERT_TRUE(bytes_eq(&s.stdin_data, "a\0b", 3));
        ASSERT_TRUE(!s.enable_network);
        submission_done(&s);

        /* Bounds are inclusive. */
        decode_ok(
                "{\"source_code\":\"x\",\"language_id\":71,\"cpu_time_limit\":15,\"cpu_extra_time\":\"5.0\","
                "\"wall_time_limit\":1,\"memory_limit\":2048,\"stack_limit\":128000,\"number_of_runs\":20,"
                "\"max_processes_and_or_threads\":1,\"max_file_size\":4096}",
                false, &r, &s);
        ASSERT_EQ(s.cpu_time_limit_usec, 15000000u);
        ASSERT_EQ(s.cpu_extra_time_usec, 5000000u);
        ASSERT_EQ(s.wall_time_limit_usec, 1000000u);
        ASSERT_EQ(s.memory_limit_kib, 2048u);
        ASSERT_EQ(s.stack_limit_kib, 128000u);
        ASSERT_EQ(s.number_of_runs, 20u);
        ASSERT_EQ(s.max_processes_and_or_threads, 1u);
        submission_done(&s);

        /* The lookup is asked once, with the id. */
        int calls = 0;
        r.userdata = &calls;
        decode_ok("{\"source_code\":\"x\",\"language_id\":54}", false, &r, &s);
        ASSERT_EQ(calls, 1);
        submission_done(&s);
}

static void test_base64(void) {
        Judge0Rules r = rules();
        Submission s;

        /* source_code, stdin, expected_output are base64 when asked; line-wrapped input works. */
        decode_ok("{\"source_code\":\"cHJpbnQoMSk=\\n\",\"language_id\":50,"
                  "\"stdin\":\"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFh\\nYQ==\\n\","
                  "\"expected_output\":\"AP8=\",\"compiler_options\":\"-O2\",\"command_line_arguments\":"
                  "\"YQ==\"}",
                true, &r, &s);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "print(1)"));
        ASSERT_TRUE(BYTES_EQ(s.stdin_data, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
        ASSERT_TRUE(bytes_eq(&s.expected_output, "\0\xff", 2));
        ASSERT_TRUE(BYTES_EQ(s.command_line_arguments, "YQ==")); /* never base64 */
        submission_done(&s);

        /* Unpadded, as Ruby's decode64 takes it. */
        decode_ok("{\"source_code\":\"cHJpbnQoMSk\",\"language_id\":71,\"stdin\":\"YQ\"}", true, &r, &s);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "print(1)"));
        ASSERT_TRUE(BYTES_EQ(s.stdin_data, "a"));
        submission_done(&s);

        /* Not base64: refused, where Judge0 would decode garbage or drop a part. */
        decode_invalid("{\"source_code\":\"print(1)\",\"language_id\":71,\"stdin\":\"@@\",\"expected_"
                       "output\":\"YQ=Q\"}",
                true, &r,
                "{\"source_code\":[\"is not valid base64\"],\"stdin\":[\"is not valid base64\"],"
                "\"expected_output\":[\"is not valid base64\"]}");
        /* additional_files is base64 whatever base64_encoded says. */
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"additional_files\":\"not a zip!\"}",
                false, &r, "{\"additional_files\":[\"is not valid base64\"]}");
        /* An empty additional_files is no zip at all. */
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"additional_files\":\"\"}", false, &r, &s);
        ASSERT_TRUE(!s.additional_files.data);
        submission_done(&s);
}

static void test_required(void) {
        Judge0Rules r = rules();

        /* v1.13.1 reports both messages for a missing language_id (two spaces: nil). */
        decode_invalid("{}", false, &r,
                "{\"source_code\":[\"can't be blank\"],"
                "\"language_id\":[\"can't be blank\",\"language with id  doesn't exist\"]}");
        decode_invalid("{\"source_code\":\" \\n\\t\",\"language_id\":null}", false, &r,
                "{\"source_code\":[\"can't be blank\"],"
                "\"language_id\":[\"can't be blank\",\"language with id  doesn't exist\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":999}", false, &r,
                "{\"language_id\":[\"language with id 999 doesn't exist\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":-1}", false, &r,
                "{\"language_id\":[\"language with id -1 doesn't exist\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":99999999999}", false, &r,
                "{\"language_id\":[\"language with id 99999999999 doesn't exist\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":4}", false, &r,
                "{\"language_id\":[\"language with id 4 is archived and cannot be used anymore\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":\"abc\"}", false, &r,
                "{\"language_id\":[\"is not a number\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":true}", false, &r,
                "{\"language_id\":[\"is not a number\"]}");

        /* No lookup: no language exists. */
        r.language_lookup = NULL;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71}", false, &r,
                "{\"language_id\":[\"language with id 71 doesn't exist\"]}");
}

static void test_project(void) {
        Judge0Rules r = rules();
        Submission s;

        decode_invalid("{\"language_id\":89,\"source_code\":\"x\"}", false, &r,
                "{\"source_code\":[\"must be blank\"],\"additional_files\":[\"can't be blank\"]}");
        decode_invalid("{\"language_id\":89,\"additional_files\":\"\"}", false, &r,
                "{\"additional_files\":[\"can't be blank\"]}");
        decode_ok("{\"language_id\":89,\"source_code\":\"  "
                  "\",\"additional_files\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\"}",
                false, &r, &s);
        ASSERT_EQ(s.language_id, 89);
        ASSERT_EQ(s.additional_files.len, 22u);
        submission_done(&s);
        /* A project has no compile command: no compiler options. */
        decode_invalid("{\"language_id\":89,\"additional_files\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\","
                       "\"compiler_options\":\"-O2\"}",
                false, &r,
                "{\"compiler_options\":[\"setting compiler options is only allowed for compiled "
                "languages\"]}");
}

static void test_ranges(void) {
        Judge0Rules r = rules();

        /* Every range failing at once: Judge0's order, Rails' wording; float maxima with ".0". */
        decode_invalid(
                "{\"source_code\":\"x\",\"language_id\":71,\"max_file_size\":4097,\"stack_limit\":-1,"
                "\"memory_limit\":2047,\"wall_time_limit\":0.5,\"cpu_extra_time\":5.5,"
                "\"cpu_time_limit\":15.000001,\"number_of_runs\":0,\"max_processes_and_or_threads\":0}",
                false, &r,
                "{\"number_of_runs\":[\"must be greater than 0\"],"
                "\"cpu_time_limit\":[\"must be less than or equal to 15.0\"],"
                "\"cpu_extra_time\":[\"must be less than or equal to 5.0\"],"
                "\"wall_time_limit\":[\"must be greater than or equal to 1\"],"
                "\"memory_limit\":[\"must be greater than or equal to 2048\"],"
                "\"stack_limit\":[\"must be greater than or equal to 0\"],"
                "\"max_processes_and_or_threads\":[\"must be greater than 0\"],"
                "\"max_file_size\":[\"must be less than or equal to 4096\"]}");
        decode_invalid(
                "{\"source_code\":\"x\",\"language_id\":71,\"number_of_runs\":21,\"cpu_time_limit\":-0.1,"
                "\"cpu_extra_time\":-1,\"wall_time_limit\":\"20.5\",\"memory_limit\":512001,"
                "\"stack_limit\":128001,\"max_processes_and_or_threads\":121,\"max_file_size\":-1}",
                false, &r,
                "{\"number_of_runs\":[\"must be less than or equal to 20\"],"
                "\"cpu_time_limit\":[\"must be greater than or equal to 0\"],"
                "\"cpu_extra_time\":[\"must be greater than or equal to 0\"],"
                "\"wall_time_limit\":[\"must be less than or equal to 20.0\"],"
                "\"memory_limit\":[\"must be less than or equal to 512000\"],"
                "\"stack_limit\":[\"must be less than or equal to 128000\"],"
                "\"max_processes_and_or_threads\":[\"must be less than or equal to 120\"],"
                "\"max_file_size\":[\"must be greater than or equal to 0\"]}");
        /* A configured maximum that is not whole prints as Ruby prints the Float. */
        /* An integer field is checked as the integer it becomes. */
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"number_of_runs\":0.5,\"memory_limit\":"
                       "\"2047.9\","
                       "\"max_processes_and_or_threads\":0.99}",
                false, &r,
                "{\"number_of_runs\":[\"must be greater than 0\"],"
                "\"memory_limit\":[\"must be greater than or equal to 2048\"],"
                "\"max_processes_and_or_threads\":[\"must be greater than 0\"]}");
        r.max_cpu_time_limit_usec = 2500000;
        r.cpu_time_limit_usec = 1000000;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"cpu_time_limit\":\"1e1\"}", false, &r,
                "{\"cpu_time_limit\":[\"must be less than or equal to 2.5\"]}");
}

static void test_types(void) {
        Judge0Rules r = rules();

        decode_invalid(
                "{\"source_code\":5.5,\"language_id\":71,\"number_of_runs\":\"abc\",\"cpu_time_limit\":true,"
                "\"cpu_extra_time\":[1],\"wall_time_limit\":{},\"memory_limit\":\"0x800\","
                "\"stack_limit\":\"1.\",\"max_processes_and_or_threads\":\"1e\","
                "\"enable_per_process_and_thread_time_limit\":\"yes\","
                "\"enable_per_process_and_thread_memory_limit\":2,\"max_file_size\":\"Infinity\","
                "\"compiler_options\":[\"-O2\"],\"command_line_arguments\":false,\"callback_url\":{},"
                "\"enable_network\":\"False\",\"stdin\":true,\"expected_output\":1.5,"
                "\"redirect_stderr_to_stdout\":[]}",
                false, &r,
                "{\"source_code\":[\"is not a string\"],"
                "\"number_of_runs\":[\"is not a number\"],\"cpu_time_limit\":[\"is not a number\"],"
                "\"cpu_extra_time\":[\"is not a number\"],\"wall_time_limit\":[\"is not a number\"],"
                "\"memory_limit\":[\"is not a number\"],\"stack_limit\":[\"is not a number\"],"
                "\"max_processes_and_or_threads\":[\"is not a number\"],"
                "\"enable_per_process_and_thread_time_limit\":[\"is not a boolean\"],"
                "\"enable_per_process_and_thread_memory_limit\":[\"is not a boolean\"],"
                "\"max_file_size\":[\"is not a number\"],"
                "\"compiler_options\":[\"is not a string\"],\"command_line_arguments\":[\"is not a "
                "string\"],"
                "\"callback_url\":[\"is not a string\"],\"enable_network\":[\"is not a boolean\"],"
                "\"stdin\":[\"is not a string\"],\"expected_output\":[\"is not a string\"],"
                "\"redirect_stderr_to_stdout\":[\"is not a boolean\"]}");
}

static void test_options(void) {
        Judge0Rules r = rules();
        Submission s;
        char body[4096];

        /* Interpreted languages take no compiler options; blank ones are no options. */
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"compiler_options\":\"-O2\"}", false, &r,
                "{\"compiler_options\":[\"setting compiler options is only allowed for compiled "
                "languages\"]}");
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"compiler_options\":\"  \"}", false, &r, &s);
        submission_done(&s);

        /* ALLOWED_LANGUAGES_FOR_COMPILER_OPTIONS: a name prefix followed by a space. */
        const char *const allowed[] = {"C", "C++", "Java", NULL};
        r.allowed_languages_for_compiler_options = allowed;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":73,\"compiler_options\":\"-O\"}", false, &r,
                "{\"compiler_options\":[\"setting compiler options is only allowed for C, C++ and Java\"]}");
        decode_ok("{\"source_code\":\"x\",\"language_id\":54,\"compiler_options\":\"-O2\"}", false, &r, &s);
        submission_done(&s);
        decode_ok("{\"source_code\":\"x\",\"language_id\":62,\"compiler_options\":\"-g\"}", false, &r, &s);
        submission_done(&s);
        const char *const one[] = {"Rust", NULL};
        r.allowed_languages_for_compiler_options = one;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":50,\"compiler_options\":\"-O2\"}", false, &r,
                "{\"compiler_options\":[\"setting compiler options is only allowed for Rust\"]}");
        const char *const two[] = {"C", "Rust", NULL};
        r.allowed_languages_for_compiler_options = two;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":54,\"compiler_options\":\"-O2\"}", false, &r,
                "{\"compiler_options\":[\"setting compiler options is only allowed for C and Rust\"]}");

        /* Everything switched off. */
        r = rules();
        r.enable_compiler_options = false;
        r.enable_command_line_arguments = false;
        r.enable_callbacks = false;
        r.enable_additional_files = false;
        r.allow_enable_network = false;
        r.allow_enable_per_process_and_thread_time_limit = false;
        r.allow_enable_per_process_and_thread_memory_limit = false;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":50,\"compiler_options\":\"-O2\","
                       "\"command_line_arguments\":\"a\",\"callback_url\":\"http://x\","
                       "\"additional_files\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\",\"enable_network\":true,"
                       "\"enable_per_process_and_thread_time_limit\":true,"
                       "\"enable_per_process_and_thread_memory_limit\":\"1\"}",
                false, &r,
                "{\"enable_per_process_and_thread_time_limit\":[\"this option cannot be enabled\"],"
                "\"enable_per_process_and_thread_memory_limit\":[\"this option cannot be enabled\"],"
                "\"compiler_options\":[\"setting compiler options is not allowed\"],"
                "\"command_line_arguments\":[\"setting command line arguments is not allowed\"],"
                "\"callback_url\":[\"setting callback is not allowed\"],"
                "\"additional_files\":[\"setting additional files is not allowed\"],"
                "\"enable_network\":[\"enabling network is not allowed\"]}");
        /* ...but false, blank and null are fine. */
        decode_ok("{\"source_code\":\"x\",\"language_id\":50,\"compiler_options\":\"\",\"command_line_"
                  "arguments\":\" \","
                  "\"callback_url\":null,\"additional_files\":\"\",\"enable_network\":false,"
                  "\"enable_per_process_and_thread_time_limit\":false}",
                false, &r, &s);
        submission_done(&s);

        /* 512 characters (Rails counts characters, not bytes). */
        r = rules();
        char opts[1200];
        for (int i = 0; i < 512; i++)
                memcpy(opts + 2 * i, "\xc3\xa9", 2); /* é */
        opts[1024] = '\0';
        snprintf(body, sizeof body,
                "{\"source_code\":\"x\",\"language_id\":50,\"compiler_options\":\"%s\",\"command_line_"
                "arguments\":\"%s\"}",
                opts, opts);
        decode_ok(body, false, &r, &s);
        ASSERT_EQ(s.compiler_options.len, 1024u);
        submission_done(&s);
        memset(opts, 'a', 513);
        opts[513] = '\0';
        snprintf(body, sizeof body,
                "{\"source_code\":\"x\",\"language_id\":71,\"compiler_options\":\"%s\",\"command_line_"
                "arguments\":\"%s\"}",
                opts, opts);
        decode_invalid(body, false, &r,
                "{\"compiler_options\":[\"is too long (maximum is 512 characters)\","
                "\"setting compiler options is only allowed for compiled languages\"],"
                "\"command_line_arguments\":[\"is too long (maximum is 512 characters)\"]}");
}

static void test_order(void) {
        Judge0Rules r = rules();
        char body[2048];
        char opts[600];

        /* A field keeps the place where it first failed: compiler_options' length (7) comes
         * before language_id's existence (8), which joins its presence (3) if that failed. */
        memset(opts, 'x', 513);
        opts[513] = '\0';
        snprintf(body, sizeof body,
                "{\"language_id\":1000,\"memory_limit\":1,\"compiler_options\":\"%s\",\"enable_network\":"
                "\"x\","
                "\"tolerance\":-1,\"stdin\":1.5}",
                opts);
        decode_invalid(body, false, &r,
                "{\"source_code\":[\"can't be blank\"],"
                "\"memory_limit\":[\"must be greater than or equal to 2048\"],"
                "\"compiler_options\":[\"is too long (maximum is 512 characters)\"],"
                "\"language_id\":[\"language with id 1000 doesn't exist\"],"
                "\"enable_network\":[\"is not a boolean\"],"
                "\"stdin\":[\"is not a string\"],"
                "\"tolerance\":[\"must be greater than or equal to 0\"]}");
}

static void test_extensions(void) {
        Judge0Rules r = rules();
        Submission s;

        decode_ok(
                "{\"source_code\":\"x\",\"language_id\":71,\"tests\":[{\"stdin\":\"1\",\"expected_output\":"
                "\"2\"},"
                "{\"stdin\":null},{}],\"compare\":\"numbers\",\"tolerance\":0.001,\"stop_on_failure\":true}",
                false, &r, &s);
        ASSERT_EQ(s.n_tests, 3u);
        ASSERT_TRUE(BYTES_EQ(s.tests[0].stdin_data, "1") && BYTES_EQ(s.tests[0].expected_output, "2"));
        ASSERT_TRUE(!s.tests[1].stdin_data.data && !s.tests[1].expected_output.data);
        ASSERT_TRUE(!s.tests[2].stdin_data.data);
        for (size_t i = 0; i < 3; i++) {
                ASSERT_EQ(s.tests[i].status_id, 1);
                ASSERT_TRUE(s.tests[i].time_usec == -1 && s.tests[i].wall_time_usec == -1 &&
                            s.tests[i].memory_kib == -1 && s.tests[i].exit_code == -1 &&
                            s.tests[i].exit_signal == -1);
        }
        ASSERT_EQ(s.compare, COMPARE_NUMBERS);
        ASSERT_TRUE(s.tolerance == 0.001);
        ASSERT_TRUE(s.stop_on_failure);
        submission_done(&s);

        /* The tests' strings follow base64_encoded; [] is no tests. */
        decode_ok("{\"source_code\":\"eA==\",\"language_id\":71,\"tests\":[{\"stdin\":\"MQ==\\n\","
                  "\"expected_output\":\"Mg==\"}],"
                  "\"compare\":\"exact\"}",
                true, &r, &s);
        ASSERT_EQ(s.n_tests, 1u);
        ASSERT_TRUE(BYTES_EQ(s.tests[0].stdin_data, "1") && BYTES_EQ(s.tests[0].expected_output, "2"));
        ASSERT_EQ(s.compare, COMPARE_EXACT);
        submission_done(&s);
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"tests\":[],\"stdin\":\"s\",\"compare\":"
                  "\"default\","
                  "\"tolerance\":0,\"stop_on_failure\":\"false\"}",
                false, &r, &s);
        ASSERT_EQ(s.n_tests, 0u);
        ASSERT_TRUE(s.tests == NULL);
        ASSERT_TRUE(BYTES_EQ(s.stdin_data, "s"));
        submission_done(&s);

        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"tests\":{},\"compare\":\"fuzzy\","
                       "\"tolerance\":\"abc\",\"stop_on_failure\":\"maybe\"}",
                false, &r,
                "{\"tests\":[\"is not an array\"],\"compare\":[\"is not included in the list\"],"
                "\"tolerance\":[\"is not a number\"],\"stop_on_failure\":[\"is not a boolean\"]}");
        decode_invalid("{\"source_code\":\"eA==\",\"language_id\":71,\"tests\":[1,{\"stdin\":2.5,\"expected_"
                       "output\":\"@\"},"
                       "{\"stdin\":\"ok!\"}],\"stdin\":\"cw==\",\"expected_output\":\"ZQ==\",\"compare\":1,"
                       "\"tolerance\":0.5}",
                true, &r,
                "{\"tests[0]\":[\"is not an object\"],\"tests[1].stdin\":[\"is not a string\"],"
                "\"tests[1].expected_output\":[\"is not valid base64\"],"
                "\"tests[2].stdin\":[\"is not valid base64\"],"
                "\"stdin\":[\"must be blank when tests are given\"],"
                "\"expected_output\":[\"must be blank when tests are given\"],"
                "\"compare\":[\"is not included in the list\"],"
                "\"tolerance\":[\"is only allowed when compare is numbers\"]}");
        r.max_tests = 2;
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"tests\":[{},{},{}]}", false, &r,
                "{\"tests\":[\"is too long (maximum is 2 test cases)\"]}");
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"tests\":[{},{}]}", false, &r, &s);
        ASSERT_EQ(s.n_tests, 2u);
        submission_done(&s);
}

static void test_checker_interactor(void) {
        Judge0Rules r = rules();
        Submission s;

        /* The defaults: none, and the helper's own limits. */
        decode_ok("{\"source_code\":\"x\",\"language_id\":71}", false, &r, &s);
        ASSERT_EQ(s.checker.language_id, 0);
        ASSERT_EQ(s.interactor.language_id, 0);
        ASSERT_TRUE(!s.checker.source_code.data && s.score == -1);
        submission_done(&s);

        decode_ok("{\"source_code\":\"eA==\",\"language_id\":71,\"checker\":{\"source_code\":\"Yw==\","
                  "\"language_id\":50,\"cpu_time_limit\":\"0.5\",\"memory_limit\":65536}}",
                true, &r, &s);
        ASSERT_EQ(s.checker.language_id, 50);
        ASSERT_TRUE(BYTES_EQ(s.checker.source_code, "c")); /* base64 like the source */
        ASSERT_EQ(s.checker.cpu_time_limit_usec, UINT64_C(500000));
        ASSERT_EQ(s.checker.wall_time_limit_usec, UINT64_C(10000000));
        ASSERT_EQ(s.checker.memory_limit_kib, UINT64_C(65536));
        submission_done(&s);

        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"interactor\":{\"source_code\":\"i\","
                  "\"language_id\":71,\"wall_time_limit\":20}}",
                false, &r, &s);
        ASSERT_EQ(s.interactor.language_id, 71);
        ASSERT_TRUE(BYTES_EQ(s.interactor.source_code, "i"));
        ASSERT_EQ(s.interactor.wall_time_limit_usec, UINT64_C(20000000));
        submission_done(&s);

        /* Each field named under its object, Judge0's wording. */
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"checker\":{\"source_code\":\" \","
                       "\"language_id\":999,\"cpu_time_limit\":0,\"wall_time_limit\":21,"
                       "\"memory_limit\":\"lots\"},\"interactor\":[]}",
                false, &r,
                "{\"checker.source_code\":[\"can't be blank\"],"
                "\"checker.language_id\":[\"language with id 999 doesn't exist\"],"
                "\"checker.cpu_time_limit\":[\"must be greater than 0\"],"
                "\"checker.wall_time_limit\":[\"must be less than or equal to 20.0\"],"
                "\"checker.memory_limit\":[\"is not a number\"],"
                "\"interactor\":[\"is not an object\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"interactor\":{\"language_id\":89,"
                       "\"source_code\":\"x\"},\"checker\":{\"language_id\":4,\"source_code\":\"x\"}}",
                false, &r,
                "{\"checker.language_id\":[\"language with id 4 is archived and cannot be used anymore\"],"
                "\"interactor.language_id\":[\"must be a single-file language\"]}");
        decode_invalid("{\"source_code\":\"x\",\"language_id\":71,\"checker\":{}}", false, &r,
                "{\"checker.source_code\":[\"can't be blank\"],\"checker.language_id\":[\"can't be "
                "blank\"]}");
        /* The defaults stay within lower configured maxima. */
        r.max_memory_limit_kib = 200000;
        decode_ok("{\"source_code\":\"x\",\"language_id\":71,\"checker\":{\"source_code\":\"c\","
                  "\"language_id\":71}}",
                false, &r, &s);
        ASSERT_EQ(s.checker.memory_limit_kib, UINT64_C(200000));
        submission_done(&s);
}

static void test_body(void) {
        _cleanup_judge0_body_ Judge0Body *b = NULL;
        char err[256];

        ASSERT_EQ(judge0_body_parse("{\"a\":", 5, &b, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(strncmp(err, "malformed JSON: ", 16) == 0);
        ASSERT_EQ(judge0_body_parse("{} x", 4, &b, err, sizeof err), -EBADMSG);
        ASSERT_EQ(judge0_body_parse("\"\xff\"", 3, &b, err, sizeof err), -EBADMSG); /* not UTF-8 */
        ASSERT_EQ(judge0_body_parse("[1]", 3, &b, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(strcmp(err, "the body is not a JSON object") == 0);
        ASSERT_EQ(judge0_body_parse("42", 2, &b, NULL, 0), -EBADMSG);
        ASSERT_EQ(judge0_body_parse("{\"a\":1}", 6, &b, err, sizeof err), -EBADMSG); /* cut by len */
        ASSERT_TRUE(b == NULL);

        /* A blank body is an empty object (and then fails validation). */
        ASSERT_EQ(judge0_body_parse("", 0, &b, err, sizeof err), 0);
        ASSERT_TRUE(judge0_body_param(b, "wait") == NULL);
        b = judge0_body_free(b);
        ASSERT_EQ(judge0_body_parse(" \r\n\t", 4, &b, err, sizeof err), 0);
        b = judge0_body_free(b);

        /* Parameters Rails reads from the body: strings only. */
        const char *body = "{\"base64_encoded\":\"true\",\"wait\":true,\"fields\":\"stdout,stderr\",\"X-"
                           "Auth-Token\":\"t\"}";
        ASSERT_EQ(judge0_body_parse(body, strlen(body), &b, err, sizeof err), 0);
        ASSERT_TRUE(strcmp(judge0_body_param(b, "base64_encoded"), "true") == 0);
        ASSERT_TRUE(judge0_body_param(b, "wait") == NULL);
        ASSERT_TRUE(strcmp(judge0_body_param(b, "fields"), "stdout,stderr") == 0);
        ASSERT_TRUE(strcmp(judge0_body_param(b, "X-Auth-Token"), "t") == 0);
        ASSERT_TRUE(judge0_body_param(b, "missing") == NULL);
}

static int failing_lookup(void *userdata, int id, Judge0Language *ret) {
        return -EIO;
}

static void test_lookup_failure(void) {
        Judge0Rules r = rules();
        Submission s = {.language_id = 7};
        char *errors = NULL;
        r.language_lookup = failing_lookup;
        ASSERT_EQ(decode_with("{\"source_code\":\"x\",\"language_id\":71}", false, &r, &s, &errors), -EIO);
        ASSERT_EQ(s.language_id, 7);
}

static void test_batch(void) {
        Judge0Rules r = rules();
        _cleanup_judge0_body_ Judge0Body *b = NULL;
        _cleanup_judge0_errors_ Judge0Errors *e = NULL;
        Submission s;
        char err[256], *json;
        size_t n = 99;

        ASSERT_EQ(judge0_errors_new(&e), 0);
        ASSERT_EQ(judge0_body_parse("{}", 2, &b, err, sizeof err), 0);
        ASSERT_EQ(judge0_body_batch_size(b, &n, err, sizeof err), 0);
        ASSERT_EQ(n, 0u);
        ASSERT_EQ(judge0_body_decode_batch_item(b, 0, false, &r, e, &s), -ERANGE);
        b = judge0_body_free(b);

        ASSERT_EQ(judge0_body_parse("{\"submissions\":\"x\"}", 19, &b, err, sizeof err), 0);
        ASSERT_EQ(judge0_body_batch_size(b, &n, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(strcmp(err, "submissions is not an array") == 0);
        b = judge0_body_free(b);

        const char *body =
                "{\"submissions\":[{\"source_code\":\"eA==\",\"language_id\":71},7,{\"language_id\":71}]}";
        ASSERT_EQ(judge0_body_parse(body, strlen(body), &b, err, sizeof err), 0);
        ASSERT_EQ(judge0_body_batch_size(b, &n, err, sizeof err), 0);
        ASSERT_EQ(n, 3u);
        ASSERT_EQ(judge0_body_decode_batch_item(b, 0, true, &r, e, &s), 0);
        ASSERT_TRUE(BYTES_EQ(s.source_code, "x"));
        submission_done(&s);
        ASSERT_TRUE(judge0_errors_empty(e));
        ASSERT_EQ(judge0_body_decode_batch_item(b, 1, true, &r, e, &s), -EINVAL);
        ASSERT_EQ(judge0_errors_encode(e, &json), 0);
        ASSERT_TRUE(strcmp(json, "{\"base\":[\"is not a JSON object\"]}") == 0);
        free(json);
        judge0_errors_clear(e);
        ASSERT_EQ(judge0_body_decode_batch_item(b, 2, true, &r, e, &s), -EINVAL);
        ASSERT_EQ(judge0_errors_encode(e, &json), 0);
        ASSERT_TRUE(strcmp(json, "{\"source_code\":[\"can't be blank\"]}") == 0);
        free(json);
        ASSERT_EQ(judge0_body_decode_batch_item(b, 3, true, &r, e, &s), -ERANGE);
}

int main(void) {
        test_defaults();
        test_values();
        test_base64();
        test_required();
        test_project();
        test_ranges();
        test_types();
        test_options();
        test_order();
        test_extensions();
        test_checker_interactor();
        test_body();
        test_lookup_failure();
        test_batch();
        return 0;
}
