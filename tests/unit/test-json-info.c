/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/judge0.h"
#include "tests.h"

static void expect_text(char *got, const char *expected) {
        ASSERT_TRUE(got);
        if (strcmp(got, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", got, expected);
                abort();
        }
        free(got);
}

/* Judge0 CE 1.13.1's active languages, in id order. */
static const Judge0Language ce[] = {
        {.id = 43, .name = "Plain Text"},
        {.id = 44, .name = "Executable"},
        {.id = 45, .name = "Assembly (NASM 2.14.02)"},
        {.id = 46, .name = "Bash (5.0.0)"},
        {.id = 47, .name = "Basic (FBC 1.07.1)"},
        {.id = 48, .name = "C (GCC 7.4.0)"},
        {.id = 49, .name = "C (GCC 8.3.0)"},
        {.id = 50, .name = "C (GCC 9.2.0)"},
        {.id = 51, .name = "C# (Mono 6.6.0.161)"},
        {.id = 52, .name = "C++ (GCC 7.4.0)"},
        {.id = 53, .name = "C++ (GCC 8.3.0)"},
        {.id = 54, .name = "C++ (GCC 9.2.0)"},
        {.id = 55, .name = "Common Lisp (SBCL 2.0.0)"},
        {.id = 56, .name = "D (DMD 2.089.1)"},
        {.id = 57, .name = "Elixir (1.9.4)"},
        {.id = 58, .name = "Erlang (OTP 22.2)"},
        {.id = 59, .name = "Fortran (GFortran 9.2.0)"},
        {.id = 60, .name = "Go (1.13.5)"},
        {.id = 61, .name = "Haskell (GHC 8.8.1)"},
        {.id = 62, .name = "Java (OpenJDK 13.0.1)"},
        {.id = 63, .name = "JavaScript (Node.js 12.14.0)"},
        {.id = 64, .name = "Lua (5.3.5)"},
        {.id = 65, .name = "OCaml (4.09.0)"},
        {.id = 66, .name = "Octave (5.1.0)"},
        {.id = 67, .name = "Pascal (FPC 3.0.4)"},
        {.id = 68, .name = "PHP (7.4.1)"},
        {.id = 69, .name = "Prolog (GNU Prolog 1.4.5)"},
        {.id = 70, .name = "Python (2.7.17)"},
        {.id = 71, .name = "Python (3.8.1)"},
        {.id = 72, .name = "Ruby (2.7.0)"},
        {.id = 73, .name = "Rust (1.40.0)"},
        {.id = 74, .name = "TypeScript (3.7.4)"},
        {.id = 75, .name = "C (Clang 7.0.1)"},
        {.id = 76, .name = "C++ (Clang 7.0.1)"},
        {.id = 77, .name = "COBOL (GnuCOBOL 2.2)"},
        {.id = 78, .name = "Kotlin (1.3.70)"},
        {.id = 79, .name = "Objective-C (Clang 7.0.1)"},
        {.id = 80, .name = "R (4.0.0)"},
        {.id = 81, .name = "Scala (2.13.2)"},
        {.id = 82, .name = "SQL (SQLite 3.27.2)"},
        {.id = 83, .name = "Swift (5.2.3)"},
        {.id = 84, .name = "Visual Basic.Net (vbnc 0.0.0.5943)"},
        {.id = 85, .name = "Perl (5.28.1)"},
        {.id = 86, .name = "Clojure (1.10.1)"},
        {.id = 87, .name = "F# (.NET Core SDK 3.1.202)"},
        {.id = 88, .name = "Groovy (3.0.3)"},
        {.id = 89, .name = "Multi-file program"},
};

static void test_languages(void) {
        char *out;

        /* The order Judge0 CE's GET /languages answers with (PostgreSQL, en_US collation). */
        ASSERT_EQ(judge0_languages_encode(ce, ELEMENTSOF(ce), false, &out), 0);
        expect_text(out,
                "[{\"id\":45,\"name\":\"Assembly (NASM 2.14.02)\"},{\"id\":46,\"name\":\"Bash (5.0.0)\"},"
                "{\"id\":47,\"name\":\"Basic (FBC 1.07.1)\"},{\"id\":75,\"name\":\"C (Clang 7.0.1)\"},"
                "{\"id\":76,\"name\":\"C++ (Clang 7.0.1)\"},{\"id\":48,\"name\":\"C (GCC 7.4.0)\"},"
                "{\"id\":52,\"name\":\"C++ (GCC 7.4.0)\"},{\"id\":49,\"name\":\"C (GCC 8.3.0)\"},"
                "{\"id\":53,\"name\":\"C++ (GCC 8.3.0)\"},{\"id\":50,\"name\":\"C (GCC 9.2.0)\"},"
                "{\"id\":54,\"name\":\"C++ (GCC 9.2.0)\"},{\"id\":86,\"name\":\"Clojure (1.10.1)\"},"
                "{\"id\":51,\"name\":\"C# (Mono 6.6.0.161)\"},{\"id\":77,\"name\":\"COBOL (GnuCOBOL 2.2)\"},"
                "{\"id\":55,\"name\":\"Common Lisp (SBCL 2.0.0)\"},{\"id\":56,\"name\":\"D (DMD 2.089.1)\"},"
                "{\"id\":57,\"name\":\"Elixir (1.9.4)\"},{\"id\":58,\"name\":\"Erlang (OTP 22.2)\"},"
                "{\"id\":44,\"name\":\"Executable\"},{\"id\":87,\"name\":\"F# (.NET Core SDK 3.1.202)\"},"
                "{\"id\":59,\"name\":\"Fortran (GFortran 9.2.0)\"},{\"id\":60,\"name\":\"Go (1.13.5)\"},"
                "{\"id\":88,\"name\":\"Groovy (3.0.3)\"},{\"id\":61,\"name\":\"Haskell (GHC 8.8.1)\"},"
                "{\"id\":62,\"name\":\"Java (OpenJDK 13.0.1)\"},{\"id\":63,\"name\":\"JavaScript (Node.js "
                "12.14.0)\"},"
                "{\"id\":78,\"name\":\"Kotlin (1.3.70)\"},{\"id\":64,\"name\":\"Lua (5.3.5)\"},"
                "{\"id\":89,\"name\":\"Multi-file program\"},{\"id\":79,\"name\":\"Objective-C (Clang "
                "7.0.1)\"},"
                "{\"id\":65,\"name\":\"OCaml (4.09.0)\"},{\"id\":66,\"name\":\"Octave (5.1.0)\"},"
                "{\"id\":67,\"name\":\"Pascal (FPC 3.0.4)\"},{\"id\":85,\"name\":\"Perl (5.28.1)\"},"
                "{\"id\":68,\"name\":\"PHP (7.4.1)\"},{\"id\":43,\"name\":\"Plain Text\"},"
                "{\"id\":69,\"name\":\"Prolog (GNU Prolog 1.4.5)\"},{\"id\":70,\"name\":\"Python "
                "(2.7.17)\"},"
                "{\"id\":71,\"name\":\"Python (3.8.1)\"},{\"id\":80,\"name\":\"R (4.0.0)\"},"
                "{\"id\":72,\"name\":\"Ruby (2.7.0)\"},{\"id\":73,\"name\":\"Rust (1.40.0)\"},"
                "{\"id\":81,\"name\":\"Scala (2.13.2)\"},{\"id\":82,\"name\":\"SQL (SQLite 3.27.2)\"},"
                "{\"id\":83,\"name\":\"Swift (5.2.3)\"},{\"id\":74,\"name\":\"TypeScript (3.7.4)\"},"
                "{\"id\":84,\"name\":\"Visual Basic.Net (vbnc 0.0.0.5943)\"}]");

        /* Archived ones: only in /languages/all. Case breaks a tie, lower case first. */
        const Judge0Language some[] = {
                {.id = 46, .name = "Bash (5.0.0)"},
                {.id = 1, .name = "Bash (4.4)", .is_archived = true},
                {.id = 2, .name = "Bash (4.0)", .is_archived = true},
                {.id = 3, .name = "bash (4.0)", .is_archived = true},
                {.id = 47, .name = "Basic (FBC 1.07.1)"},
                {.id = 9, .name = NULL},
        };
        ASSERT_EQ(judge0_languages_encode(some, ELEMENTSOF(some), false, &out), 0);
        expect_text(out, "[{\"id\":9,\"name\":null},{\"id\":46,\"name\":\"Bash (5.0.0)\"},"
                         "{\"id\":47,\"name\":\"Basic (FBC 1.07.1)\"}]");
        ASSERT_EQ(judge0_languages_encode(some, ELEMENTSOF(some), true, &out), 0);
        expect_text(out, "[{\"id\":9,\"name\":null,\"is_archived\":false},"
                         "{\"id\":3,\"name\":\"bash (4.0)\",\"is_archived\":true},"
                         "{\"id\":2,\"name\":\"Bash (4.0)\",\"is_archived\":true},"
                         "{\"id\":1,\"name\":\"Bash (4.4)\",\"is_archived\":true},"
                         "{\"id\":46,\"name\":\"Bash (5.0.0)\",\"is_archived\":false},"
                         "{\"id\":47,\"name\":\"Basic (FBC 1.07.1)\",\"is_archived\":false}]");
        ASSERT_EQ(judge0_languages_encode(NULL, 0, false, &out), 0);
        expect_text(out, "[]");
}

static void test_language(void) {
        char *out;
        Judge0Language py = {71, "Python (3.8.1)", "script.py", NULL,
                "/usr/local/python-3.8.1/bin/python3 script.py", false, false};
        ASSERT_EQ(judge0_language_encode(&py, &out), 0);
        expect_text(out,
                "{\"id\":71,\"name\":\"Python (3.8.1)\",\"is_archived\":false,\"source_file\":\"script.py\","
                "\"compile_cmd\":null,\"run_cmd\":\"/usr/local/python-3.8.1/bin/python3 script.py\"}");
        Judge0Language c = {50, "C (GCC 9.2.0)", "main.c", "gcc %s main.c", "./a.out", true, false};
        ASSERT_EQ(judge0_language_encode(&c, &out), 0);
        expect_text(out,
                "{\"id\":50,\"name\":\"C (GCC 9.2.0)\",\"is_archived\":true,\"source_file\":\"main.c\","
                "\"compile_cmd\":\"gcc %s main.c\",\"run_cmd\":\"./a.out\"}");
        Judge0Language project = {.id = 89, .name = "Multi-file program", .is_project = true};
        ASSERT_EQ(judge0_language_encode(&project, &out), 0);
        expect_text(out,
                "{\"id\":89,\"name\":\"Multi-file program\",\"is_archived\":false,\"source_file\":null,"
                "\"compile_cmd\":null,\"run_cmd\":null}");
}

static void test_statuses(void) {
        static const Judge0Status statuses[] = {
                {1, "In Queue"},
                {2, "Processing"},
                {3, "Accepted"},
                {4, "Wrong Answer"},
                {5, "Time Limit Exceeded"},
                {6, "Compilation Error"},
                {7, "Runtime Error (SIGSEGV)"},
                {8, "Runtime Error (SIGXFSZ)"},
                {9, "Runtime Error (SIGFPE)"},
                {10, "Runtime Error (SIGABRT)"},
                {11, "Runtime Error (NZEC)"},
                {12, "Runtime Error (Other)"},
                {13, "Internal Error"},
                {14, "Exec Format Error"},
        };
        char *out;
        ASSERT_EQ(judge0_statuses_encode(statuses, ELEMENTSOF(statuses), &out), 0);
        expect_text(out,
                "[{\"id\":1,\"description\":\"In Queue\"},{\"id\":2,\"description\":\"Processing\"},"
                "{\"id\":3,\"description\":\"Accepted\"},{\"id\":4,\"description\":\"Wrong Answer\"},"
                "{\"id\":5,\"description\":\"Time Limit Exceeded\"},"
                "{\"id\":6,\"description\":\"Compilation Error\"},"
                "{\"id\":7,\"description\":\"Runtime Error (SIGSEGV)\"},"
                "{\"id\":8,\"description\":\"Runtime Error (SIGXFSZ)\"},"
                "{\"id\":9,\"description\":\"Runtime Error (SIGFPE)\"},"
                "{\"id\":10,\"description\":\"Runtime Error (SIGABRT)\"},"
                "{\"id\":11,\"description\":\"Runtime Error (NZEC)\"},"
                "{\"id\":12,\"description\":\"Runtime Error (Other)\"},"
                "{\"id\":13,\"description\":\"Internal Error\"},"
                "{\"id\":14,\"description\":\"Exec Format Error\"}]");
}

static void test_config_info(void) {
        Judge0Rules rules;
        Judge0ConfigInfo c;
        char *out;

        judge0_rules_init(&rules);
        judge0_config_info_init(&c);
        ASSERT_EQ(judge0_config_info_encode(&c, &out), -EINVAL); /* no rules */
        c.rules = &rules;
        /* Judge0 CE 1.13.1's defaults: 39 keys, in order, reals for times and durations. */
        ASSERT_EQ(judge0_config_info_encode(&c, &out), 0);
        expect_text(out,
                "{\"maintenance_mode\":false,\"enable_wait_result\":true,\"enable_compiler_options\":true,"
                "\"allowed_languages_for_compile_options\":[],\"enable_command_line_arguments\":true,"
                "\"enable_submission_delete\":false,\"enable_callbacks\":true,\"callbacks_max_tries\":3,"
                "\"callbacks_timeout\":5.0,\"enable_additional_files\":true,\"max_queue_size\":100,"
                "\"cpu_time_limit\":5.0,\"max_cpu_time_limit\":15.0,\"cpu_extra_time\":1.0,"
                "\"max_cpu_extra_time\":5.0,\"wall_time_limit\":10.0,\"max_wall_time_limit\":20.0,"
                "\"memory_limit\":128000,\"max_memory_limit\":512000,\"stack_limit\":64000,"
                "\"max_stack_limit\":128000,\"max_processes_and_or_threads\":60,"
                "\"max_max_processes_and_or_threads\":120,\"enable_per_process_and_thread_time_limit\":"
                "false,"
                "\"allow_enable_per_process_and_thread_time_limit\":true,"
                "\"enable_per_process_and_thread_memory_limit\":false,"
                "\"allow_enable_per_process_and_thread_memory_limit\":true,\"max_file_size\":1024,"
                "\"max_max_file_size\":4096,\"number_of_runs\":1,\"max_number_of_runs\":20,"
                "\"redirect_stderr_to_stdout\":false,\"max_extract_size\":10240,"
                "\"enable_batched_submissions\":true,\"max_submission_batch_size\":20,"
                "\"submission_cache_duration\":1.0,\"use_docs_as_homepage\":false,\"allow_enable_network\":"
                "true,"
                "\"enable_network\":false}");

        const char *const allowed[] = {"C", "C++", "Java", NULL};
        rules.allowed_languages_for_compiler_options = allowed;
        rules.cpu_time_limit_usec = 2500000;
        rules.max_wall_time_limit_usec = 150000000;
        c.submission_cache_duration_usec = 100000;
        c.maintenance_mode = true;
        ASSERT_EQ(judge0_config_info_encode(&c, &out), 0);
        ASSERT_TRUE(strstr(out, "\"maintenance_mode\":true,"));
        ASSERT_TRUE(strstr(out, "\"allowed_languages_for_compile_options\":[\"C\",\"C++\",\"Java\"],"));
        ASSERT_TRUE(strstr(out, "\"cpu_time_limit\":2.5,"));
        ASSERT_TRUE(strstr(out, "\"max_wall_time_limit\":150.0,"));
        ASSERT_TRUE(strstr(out, "\"submission_cache_duration\":0.1,"));
        ASSERT_TRUE(strstr(out, "\"max_cpu_time_limit\":15.0,"));
        size_t keys = 0;
        for (const char *p = out; (p = strstr(p, "\":")); p++)
                keys++;
        ASSERT_EQ(keys, 39u);
        free(out);
}

static void test_about_workers(void) {
        char *out;
        ASSERT_EQ(judge0_about_encode("1.13.1", "https://judge0.com", "https://github.com/judge0/judge0",
                          "Herman Zvonimir Došilović <hermanz.dosilovic@gmail.com>", &out),
                0);
        expect_text(out, "{\"version\":\"1.13.1\",\"homepage\":\"https://judge0.com\","
                         "\"source_code\":\"https://github.com/judge0/judge0\","
                         "\"maintainer\":\"Herman Zvonimir Došilović <hermanz.dosilovic@gmail.com>\"}");
        ASSERT_EQ(judge0_about_encode("1.13.1", NULL, NULL, NULL, &out), 0);
        expect_text(
                out, "{\"version\":\"1.13.1\",\"homepage\":null,\"source_code\":null,\"maintainer\":null}");

        Judge0WorkerQueue q[] = {{"1.13.1", 2, 4, 3, 1, 0, 5}};
        ASSERT_EQ(judge0_workers_encode(q, 1, &out), 0);
        expect_text(out,
                "[{\"queue\":\"1.13.1\",\"size\":2,\"available\":4,\"idle\":3,\"working\":1,\"paused\":0,"
                "\"failed\":5}]");
        ASSERT_EQ(judge0_workers_encode(NULL, 0, &out), 0);
        expect_text(out, "[]");
}

int main(void) {
        test_languages();
        test_language();
        test_statuses();
        test_config_info();
        test_about_workers();
        return 0;
}
