/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/judge0.h"
#include "tests.h"

static const char *status_description(int id) {
        static const char *const d[] = {NULL, "In Queue", "Processing", "Accepted", "Wrong Answer",
                "Time Limit Exceeded", "Compilation Error", "Runtime Error (SIGSEGV)",
                "Runtime Error (SIGXFSZ)", "Runtime Error (SIGFPE)", "Runtime Error (SIGABRT)",
                "Runtime Error (NZEC)", "Runtime Error (Other)", "Internal Error", "Exec Format Error"};
        return id > 0 && id < (int) ELEMENTSOF(d) ? d[id] : NULL;
}

static const char *language_name(void *userdata, int id) {
        ASSERT_TRUE(userdata == (void *) 0x1);
        return id == 71 ? "Python (3.8.1)" : NULL;
}

static void expect_text(char *got, const char *expected) {
        ASSERT_TRUE(got);
        if (strcmp(got, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", got, expected);
                abort();
        }
        free(got);
}

static void set(Bytes *b, const char *s, size_t len) {
        free(b->data);
        b->data = malloc(len + 1);
        ASSERT_TRUE(b->data);
        memcpy(b->data, s, len);
        b->data[len] = '\0';
        b->len = len;
}
#define SET(b, lit) set(&(b), lit, sizeof(lit) - 1)

/* An Accepted Python submission, as the worker leaves it. */
static void finished(Submission *s) {
        submission_init(s);
        snprintf(s->token, sizeof s->token, "%s", "d85cd024-1548-4165-96c7-7bc88673f194");
        SET(s->source_code, "print(\"h\xc3\xa9llo\")\n");
        s->language_id = 71;
        SET(s->stdin_data, "world");
        SET(s->expected_output, "hello\n");
        SET(s->stdout_data, "hello\n");
        SET(s->stderr_data, "");
        SET(s->command_line_arguments, "a b");
        s->status_id = 3;
        s->created_at_usec = INT64_C(1712122851306999);
        s->finished_at_usec = INT64_C(1712122851815000);
        s->time_usec = 1234;
        s->wall_time_usec = 25400;
        s->memory_kib = 3420;
        s->exit_code = 0;
}

static char *encode(const Submission *s, const char *fields, bool b64) {
        Judge0EncodeOptions o = {
                .base64_encoded = b64,
                .status_description = status_description,
                .language_name = language_name,
                .userdata = (void *) 0x1,
        };
        char *error = NULL, *out = NULL;
        ASSERT_EQ(judge0_fields_parse(fields, &o.fields, &error), 0);
        ASSERT_EQ(judge0_submission_encode(s, &o, &out), 0);
        return out;
}

static void test_default_fields(void) {
        Submission s;
        finished(&s);
        /* Judge0's 8, in its order (not the order of the default list). */
        expect_text(encode(&s, NULL, false),
                "{\"stdout\":\"hello\\n\",\"time\":\"0.001\",\"memory\":3420,\"stderr\":null,"
                "\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\",\"compile_output\":null,\"message\":"
                "null,"
                "\"status\":{\"id\":3,\"description\":\"Accepted\"}}");
        expect_text(encode(&s, "", true),
                "{\"stdout\":\"aGVsbG8K\\n\",\"time\":\"0.001\",\"memory\":3420,\"stderr\":null,"
                "\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\",\"compile_output\":null,\"message\":"
                "null,"
                "\"status\":{\"id\":3,\"description\":\"Accepted\"}}");
        submission_done(&s);
}

static void test_all_fields(void) {
        Submission s;
        finished(&s);
        expect_text(encode(&s, "*", false),
                "{\"source_code\":\"print(\\\"h\xc3\xa9llo\\\")\\n\",\"language_id\":71,\"stdin\":\"world\","
                "\"expected_output\":\"hello\\n\",\"stdout\":\"hello\\n\",\"status_id\":3,"
                "\"created_at\":\"2024-04-03T05:40:51.306Z\",\"finished_at\":\"2024-04-03T05:40:51.815Z\","
                "\"time\":\"0.001\",\"memory\":3420,\"stderr\":null,"
                "\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\",\"number_of_runs\":1,"
                "\"cpu_time_limit\":\"5.0\",\"cpu_extra_time\":\"1.0\",\"wall_time_limit\":\"10.0\","
                "\"memory_limit\":128000,\"stack_limit\":64000,\"max_processes_and_or_threads\":60,"
                "\"enable_per_process_and_thread_time_limit\":false,"
                "\"enable_per_process_and_thread_memory_limit\":false,\"max_file_size\":1024,"
                "\"compile_output\":null,\"exit_code\":0,\"exit_signal\":null,\"message\":null,"
                "\"wall_time\":\"0.025\",\"compiler_options\":null,\"command_line_arguments\":\"a b\","
                "\"redirect_stderr_to_stdout\":false,\"callback_url\":null,\"additional_files\":null,"
                "\"enable_network\":false,\"status\":{\"id\":3,\"description\":\"Accepted\"},"
                "\"language\":{\"id\":71,\"name\":\"Python (3.8.1)\"}}");

        /* base64: the seven text fields (message included); never compiler_options,
         * command_line_arguments or callback_url; additional_files always. */
        SET(s.message, "Exited with error status 1");
        SET(s.compiler_options, "-O2");
        SET(s.callback_url, "http://cb");
        SET(s.additional_files, "PK\5\6\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0");
        SET(s.compile_output, "\xff\xfeok");
        s.cpu_time_limit_usec = 2500000;
        s.cpu_extra_time_usec = 100000;
        s.wall_time_limit_usec = 1;
        s.enable_network = true;
        s.exit_signal = 9;
        expect_text(encode(&s, "*", true),
                "{\"source_code\":\"cHJpbnQoImjDqWxsbyIpCg==\\n\",\"language_id\":71,\"stdin\":\"d29ybGQ="
                "\\n\","
                "\"expected_output\":\"aGVsbG8K\\n\",\"stdout\":\"aGVsbG8K\\n\",\"status_id\":3,"
                "\"created_at\":\"2024-04-03T05:40:51.306Z\",\"finished_at\":\"2024-04-03T05:40:51.815Z\","
                "\"time\":\"0.001\",\"memory\":3420,\"stderr\":null,"
                "\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\",\"number_of_runs\":1,"
                "\"cpu_time_limit\":\"2.5\",\"cpu_extra_time\":\"0.1\",\"wall_time_limit\":\"0.000001\","
                "\"memory_limit\":128000,\"stack_limit\":64000,\"max_processes_and_or_threads\":60,"
                "\"enable_per_process_and_thread_time_limit\":false,"
                "\"enable_per_process_and_thread_memory_limit\":false,\"max_file_size\":1024,"
                "\"compile_output\":\"//5vaw==\\n\",\"exit_code\":0,\"exit_signal\":9,"
                "\"message\":\"RXhpdGVkIHdpdGggZXJyb3Igc3RhdHVzIDE=\\n\","
                "\"wall_time\":\"0.025\",\"compiler_options\":\"-O2\",\"command_line_arguments\":\"a b\","
                "\"redirect_stderr_to_stdout\":false,\"callback_url\":\"http://cb\","
                "\"additional_files\":\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\\n\","
                "\"enable_network\":true,\"status\":{\"id\":3,\"description\":\"Accepted\"},"
                "\"language\":{\"id\":71,\"name\":\"Python (3.8.1)\"}}");
        /* additional_files is base64 without base64_encoded too; bytes that are not UTF-8
         * become U+FFFD. */
        expect_text(encode(&s, "compile_output,additional_files", false),
                "{\"compile_output\":\"\xef\xbf\xbd\xef\xbf\xbdok\",\"additional_files\":"
                "\"UEsFBgAAAAAAAAAAAAAAAAAAAAAAAA==\\n\"}");
        submission_done(&s);
}

static void test_selected_fields(void) {
        Submission s;
        finished(&s);
        /* Judge0's order, whatever the order asked, duplicates once. */
        expect_text(encode(&s, "status,language,stdout,token,stdout", false),
                "{\"stdout\":\"hello\\n\",\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\","
                "\"status\":{\"id\":3,\"description\":\"Accepted\"},\"language\":{\"id\":71,\"name\":"
                "\"Python (3.8.1)\"}}");
        expect_text(encode(&s, "status_id,language_id", false), "{\"language_id\":71,\"status_id\":3}");
        /* Unknown ids give null names; long outputs wrap every 60 characters. */
        s.status_id = 99;
        s.language_id = 1000;
        char x[100];
        memset(x, 'x', sizeof x);
        set(&s.stdout_data, x, sizeof x);
        expect_text(encode(&s, "stdout,status,language", true),
                "{\"stdout\":\"eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\\n"
                "eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4eHh4\\neHh4eHh4eHh4eA==\\n\","
                "\"status\":{\"id\":99,\"description\":null},\"language\":{\"id\":1000,\"name\":null}}");
        submission_done(&s);
}

static void test_values(void) {
        Submission s;

        /* A submission still in the queue: nulls everywhere for the outputs. */
        submission_init(&s);
        snprintf(s.token, sizeof s.token, "%s", "t");
        s.language_id = 71;
        s.created_at_usec = 1000;
        expect_text(encode(&s,
                            "stdout,time,memory,stderr,exit_code,exit_signal,message,wall_time,created_at,"
                            "finished_at,status",
                            false),
                "{\"stdout\":null,\"created_at\":\"1970-01-01T00:00:00.001Z\",\"finished_at\":null,\"time\":"
                "null,"
                "\"memory\":null,\"stderr\":null,\"exit_code\":null,\"exit_signal\":null,\"message\":null,"
                "\"wall_time\":null,\"status\":{\"id\":1,\"description\":\"In Queue\"}}");

        /* exit_code: 0 once a run finished without one (time limit, signal); null for a
         * compilation error or an internal error. */
        static const struct {
                int status;
                const char *exit_code;
        } cases[] = {
                {1, "null"},
                {2, "null"},
                {3, "0"},
                {4, "0"},
                {5, "0"},
                {6, "null"},
                {7, "0"},
                {11, "0"},
                {12, "0"},
                {13, "null"},
                {14, "0"},
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char expected[64];
                s.status_id = cases[i].status;
                snprintf(expected, sizeof expected, "{\"exit_code\":%s}", cases[i].exit_code);
                expect_text(encode(&s, "exit_code", false), expected);
        }
        s.exit_code = 139;
        expect_text(encode(&s, "exit_code", false), "{\"exit_code\":139}");

        /* Measured times in milliseconds, rounded; 0 is "0.0". */
        s.time_usec = 0;
        s.wall_time_usec = 1500;
        expect_text(encode(&s, "time,wall_time", false), "{\"time\":\"0.0\",\"wall_time\":\"0.002\"}");
        s.time_usec = 2499;
        s.wall_time_usec = 15000000;
        expect_text(encode(&s, "time,wall_time", false), "{\"time\":\"0.002\",\"wall_time\":\"15.0\"}");

        /* Empty outputs are null; empty inputs are "". An empty token is null. */
        SET(s.stdout_data, "");
        SET(s.compile_output, "");
        SET(s.message, "");
        SET(s.stdin_data, "");
        SET(s.source_code, "");
        s.token[0] = '\0';
        expect_text(encode(&s, "source_code,stdin,stdout,token,compile_output,message", true),
                "{\"source_code\":\"\",\"stdin\":\"\",\"stdout\":null,\"token\":null,\"compile_output\":"
                "null,"
                "\"message\":null}");
        /* NUL bytes are text too. */
        set(&s.stdout_data, "a\0b", 3);
        expect_text(encode(&s, "stdout", false), "{\"stdout\":\"a\\u0000b\"}");
        expect_text(encode(&s, "stdout", true), "{\"stdout\":\"YQBi\\n\"}");
        submission_done(&s);
}

static void test_extensions(void) {
        Submission s;

        /* A plain submission shows Judge0's shape, even when memory ran out... */
        finished(&s);
        s.memory_limit_exceeded = true;
        char *plain = encode(&s, NULL, false);
        ASSERT_TRUE(strstr(plain, "memory_limit_exceeded") == NULL);
        free(plain);
        plain = encode(&s, "*", false);
        ASSERT_TRUE(strstr(plain, "memory_limit_exceeded") == NULL && strstr(plain, "compare") == NULL);
        free(plain);
        /* ...unless the field is asked for by name. */
        expect_text(encode(&s, "memory_limit_exceeded,tests,compare,tolerance,stop_on_failure", false),
                "{\"compare\":\"default\",\"tolerance\":0.0,\"stop_on_failure\":false,"
                "\"memory_limit_exceeded\":true,\"tests\":null}");
        submission_done(&s);

        /* A submission with tests: their results follow, with the default fields too. */
        finished(&s);
        free(s.stdin_data.data);
        free(s.expected_output.data);
        s.stdin_data = s.expected_output = (Bytes){};
        s.tests = calloc(2, sizeof *s.tests);
        ASSERT_TRUE(s.tests);
        s.n_tests = 2;
        s.compare = COMPARE_NUMBERS;
        s.tolerance = 0.001;
        s.stop_on_failure = true;
        SubmissionTest *t = &s.tests[0];
        SET(t->stdin_data, "1");
        SET(t->expected_output, "2");
        SET(t->stdout_data, "2\n");
        t->status_id = 3;
        t->time_usec = 1000;
        t->wall_time_usec = 3000;
        t->memory_kib = 100;
        t->exit_code = 0;
        t->exit_signal = -1;
        t->points = 1;
        t = &s.tests[1];
        SET(t->stdin_data, "x");
        SET(t->stderr_data, "killed");
        SET(t->message, "Memory limit exceeded");
        t->status_id = 12;
        t->time_usec = 5000;
        t->wall_time_usec = 6000;
        t->memory_kib = 2048;
        t->exit_code = -1;
        t->exit_signal = 9;
        t->memory_limit_exceeded = true;
        t->points = 0.5;
        s.score = 1.5;
        expect_text(encode(&s, NULL, false),
                "{\"stdout\":\"hello\\n\",\"time\":\"0.001\",\"memory\":3420,\"stderr\":null,"
                "\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\",\"compile_output\":null,\"message\":"
                "null,"
                "\"status\":{\"id\":3,\"description\":\"Accepted\"},\"memory_limit_exceeded\":false,"
                "\"tests\":[{\"stdout\":\"2\\n\",\"time\":\"0.001\",\"memory\":100,\"stderr\":null,\"exit_"
                "code\":0,"
                "\"exit_signal\":null,\"message\":null,\"wall_time\":\"0.003\","
                "\"status\":{\"id\":3,\"description\":\"Accepted\"},\"memory_limit_exceeded\":false,"
                "\"points\":1.0},"
                "{\"stdout\":null,\"time\":\"0.005\",\"memory\":2048,\"stderr\":\"killed\",\"exit_code\":0,"
                "\"exit_signal\":9,\"message\":\"Memory limit exceeded\",\"wall_time\":\"0.006\","
                "\"status\":{\"id\":12,\"description\":\"Runtime Error "
                "(Other)\"},\"memory_limit_exceeded\":true,\"points\":0.5}],\"score\":1.5}");
        /* "*" adds the inputs, the tests' too, base64 as asked. */
        char *all = encode(&s, "*", true);
        ASSERT_TRUE(
                strstr(all, "\"language\":{\"id\":71,\"name\":\"Python (3.8.1)\"},\"compare\":\"numbers\","
                            "\"tolerance\":0.001,\"stop_on_failure\":true,\"memory_limit_exceeded\":false,"
                            "\"tests\":[{\"stdin\":\"MQ==\\n\",\"expected_output\":\"Mg==\\n\","
                            "\"stdout\":\"Mgo=\\n\","));
        ASSERT_TRUE(strstr(all, "{\"stdin\":\"eA==\\n\",\"expected_output\":null,\"stdout\":null,"));
        ASSERT_TRUE(strstr(all, "\"message\":\"TWVtb3J5IGxpbWl0IGV4Y2VlZGVk\\n\""));
        free(all);
        /* Named fields only; a test shows its stdin when stdin is asked for. */
        expect_text(encode(&s, "tests,stdin", false),
                "{\"stdin\":null,\"tests\":[{\"stdin\":\"1\",\"stdout\":\"2\\n\",\"time\":\"0.001\","
                "\"memory\":100,"
                "\"stderr\":null,\"exit_code\":0,\"exit_signal\":null,\"message\":null,\"wall_time\":\"0."
                "003\","
                "\"status\":{\"id\":3,\"description\":\"Accepted\"},\"memory_limit_exceeded\":false,"
                "\"points\":1.0},"
                "{\"stdin\":\"x\",\"stdout\":null,\"time\":\"0.005\",\"memory\":2048,\"stderr\":\"killed\","
                "\"exit_code\":0,\"exit_signal\":9,\"message\":\"Memory limit "
                "exceeded\",\"wall_time\":\"0.006\","
                "\"status\":{\"id\":12,\"description\":\"Runtime Error "
                "(Other)\"},\"memory_limit_exceeded\":true,\"points\":0.5}]}");
        /* A checker is an input, shown when named or by "*"; none is null. */
        s.checker.language_id = 71;
        SET(s.checker.source_code, "c");
        expect_text(encode(&s, "checker,interactor,score", false),
                "{\"checker\":{\"source_code\":\"c\",\"language_id\":71,\"cpu_time_limit\":\"5.0\","
                "\"wall_time_limit\":\"10.0\",\"memory_limit\":256000},\"interactor\":null,\"score\":1.5}");
        s.score = -1;
        expect_text(encode(&s, "score", false), "{\"score\":null}");
        submission_done(&s);
}

static void test_collections(void) {
        Submission a, b;
        finished(&a);
        finished(&b);
        snprintf(b.token, sizeof b.token, "%s", "other");
        b.status_id = 2;
        b.tolerance = 0.25; /* a real: the whole document's precision follows */
        b.compare = COMPARE_NUMBERS;
        Judge0EncodeOptions o = {.fields = {.mask = JUDGE0_FIELD_BIT(JUDGE0_FIELD_TOKEN)}};
        const Submission *subs[] = {&a, NULL, &b};
        char *out;

        ASSERT_EQ(judge0_submission_batch_encode(subs, 3, &o, &out), 0);
        expect_text(out, "{\"submissions\":[{\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\"},null,"
                         "{\"token\":\"other\"}]}");
        o.fields = JUDGE0_FIELDS_ALL;
        ASSERT_EQ(judge0_submission_batch_encode(subs + 2, 1, &o, &out), 0);
        ASSERT_TRUE(strstr(out, "\"tolerance\":0.25,"));
        free(out);
        ASSERT_EQ(judge0_submission_batch_encode(NULL, 0, &o, &out), 0);
        expect_text(out, "{\"submissions\":[]}");

        o.fields = (Judge0Fields){.mask = JUDGE0_FIELD_BIT(JUDGE0_FIELD_STATUS_ID)};
        Judge0Page page = {.current_page = 1, .next_page = 2, .total_pages = 5, .total_count = 9};
        const Submission *list[] = {&a, &b};
        ASSERT_EQ(judge0_submission_list_encode(list, 2, &page, &o, &out), 0);
        expect_text(out,
                "{\"submissions\":[{\"status_id\":3},{\"status_id\":2}],\"meta\":{\"current_page\":1,"
                "\"next_page\":2,\"prev_page\":null,\"total_pages\":5,\"total_count\":9}}");

        ASSERT_EQ(judge0_token_encode("d85cd024-1548-4165-96c7-7bc88673f194", &out), 0);
        expect_text(out, "{\"token\":\"d85cd024-1548-4165-96c7-7bc88673f194\"}");

        _cleanup_judge0_errors_ Judge0Errors *e = NULL;
        ASSERT_EQ(judge0_errors_new(&e), 0);
        ASSERT_EQ(judge0_errors_add(
                          e, "language_id", "language with id 1 is archived and cannot be used anymore"),
                0);
        Judge0BatchResult items[] = {{.token = "a"}, {.errors = e}, {.token = "b"}};
        ASSERT_EQ(judge0_batch_created_encode(items, 3, &out), 0);
        expect_text(out,
                "[{\"token\":\"a\"},{\"language_id\":[\"language with id 1 is archived and cannot be used "
                "anymore\"]},{\"token\":\"b\"}]");
        submission_done(&a);
        submission_done(&b);
}

int main(void) {
        test_default_fields();
        test_all_fields();
        test_selected_fields();
        test_values();
        test_extensions();
        test_collections();
        return 0;
}
