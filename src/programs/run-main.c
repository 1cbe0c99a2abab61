/* SPDX-License-Identifier: MIT */
/* coderunner run FILE: judge one source file locally. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <float.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/json-writer.h"
#include "base/log.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "judge/judge.h"
#include "model/limits.h"
#include "lang/language.h"
#include "programs/cli-limits.h"
#include "programs/cli-slot.h"
#include "programs/programs.h"

#define MAX_SOURCE (UINT64_C(64) * 1024 * 1024)
#define MAX_INPUT_BYTES (UINT64_C(256) * 1024 * 1024)
#define MAX_TESTS 1024

static const char run_help[] =
        "Usage: coderunner run FILE [OPTIONS]\n"
        "\n"
        "Compile and run FILE in the sandbox, like a Judge0 submission, and print the verdict.\n"
        "\n"
        "  --lang=ID|NAME          language (Judge0 id, or name as in `coderunner languages`);\n"
        "                          guessed from FILE's extension by default\n"
        "  --stdin=FILE            standard input\n"
        "  --expected=FILE         expected output (verdict Accepted / Wrong Answer)\n"
        "  --tests=DIR             test cases: pairs NAME.in / NAME.out, one compilation for all\n"
        "  --compare=MODE          default (Judge0's whitespace rule), exact, or numbers[:TOLERANCE]\n"
        "  --stop-on-failure       with --tests: stop at the first failing test\n"
        "  --checker=FILE          a checker (testlib's conventions) decides each test from\n"
        "                          input.txt, output.txt and answer.txt instead of --compare\n"
        "  --interactor=FILE       an interactor talks with the program through its stdin and\n"
        "                          stdout, and decides each test like a checker (with --checker\n"
        "                          too, the checker then reads what the interactor wrote)\n"
        "  --checker-lang=ID|NAME, --interactor-lang=ID|NAME\n"
        "                          their languages (default: from the file name)\n"
        "  --checker-time=SEC (5) --checker-wall-time=SEC (10) --checker-mem=KIB (256000)\n"
        "                          the checker's and interactor's own limits\n"
        "  --args=ARGS             command-line arguments of the program\n"
        "  --compiler-options=OPTS options for the compiler (%s in the compile command)\n"
        "  --runs=N                run N times, average time and memory (number_of_runs)\n"
        "  --stderr-to-stdout      one stream for both\n"
        "  --network               allow the network (enable_network)\n"
        "  --additional-files=ZIP  a zip extracted next to the source (Judge0's additional_files)\n"
        "  --cache-dir=DIR         compile cache (default: $XDG_CACHE_HOME/coderunner or "
        "~/.cache/coderunner)\n"
        "  --no-cache              compile every time\n"
        "  --json                  print the result as Judge0-shaped JSON\n"
        "\n"
        "Limits (Judge0's defaults):\n"
        "  --time=SEC (5) --extra-time=SEC (1) --wall-time=SEC (10) --mem=KIB (128000)\n"
        "  --stack=KIB (64000) --processes=N (60) --fsize=KIB (1024) --output-limit=KIB\n"
        "  --per-process-time --per-process-memory  (Judge0's enable_per_process_and_thread_*)\n"
        "\n"
        "Exit status: 0 when a verdict was reached (whatever it is), 1 on a usage error, 2 when\n"
        "the submission could not be judged.\n";

enum {
        OPT_LANG = 256,
        OPT_STDIN,
        OPT_EXPECTED,
        OPT_TESTS,
        OPT_COMPARE,
        OPT_STOP,
        OPT_ARGS,
        OPT_COMPILER_OPTIONS,
        OPT_RUNS,
        OPT_STDERR_TO_STDOUT,
        OPT_NETWORK,
        OPT_ADDITIONAL_FILES,
        OPT_CACHE_DIR,
        OPT_NO_CACHE,
        OPT_JSON,
        OPT_LANGUAGES_DIR,
        OPT_CHECKER,
        OPT_INTERACTOR,
        OPT_CHECKER_LANG,
        OPT_INTERACTOR_LANG,
        OPT_CHECKER_TIME,
        OPT_CHECKER_WALL_TIME,
        OPT_CHECKER_MEM,
};

static int read_input(const char *path, uint64_t max, const char *what, char **ret, size_t *ret_len) {
        int r = read_file_at(AT_FDCWD, path, (size_t) max, ret, ret_len);
        if (r == -EFBIG)
                return log_error(r, "%s %s: larger than %" PRIu64 " bytes", what, path, max);
        if (r < 0)
                return log_error(r, "%s %s: %s", what, path, strerror(-r));
        return 0;
}

typedef struct TestFiles {
        JudgeTest *tests;
        char **names;
        size_t n;
} TestFiles;

static void test_files_done(TestFiles *t) {
        for (size_t i = 0; i < t->n; i++) {
                free((char *) t->tests[i].stdin_data);
                free((char *) t->tests[i].expected);
                free(t->names[i]);
        }
        free(t->tests);
        free(t->names);
        *t = (TestFiles){};
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* DIR/NAME.in with DIR/NAME.out (the expected output; optional). */
static int load_tests(const char *dir, TestFiles *ret) {
        DIR *d = opendir(dir);
        if (!d)
                return log_error(errno, "--tests=%s: %s", dir, strerror(errno));
        char **names = NULL;
        size_t n = 0;
        int r = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t l = strlen(e->d_name);
                if (l <= 3 || strcmp(e->d_name + l - 3, ".in") != 0)
                        continue;
                if (n >= MAX_TESTS) {
                        r = log_error(E2BIG, "--tests=%s: more than %d tests", dir, MAX_TESTS);
                        break;
                }
                char **nn = realloc(names, (n + 1) * sizeof *names);
                if (!nn || !(nn[n] = strndup(e->d_name, l - 3))) {
                        names = nn ? nn : names;
                        r = log_error(ENOMEM, "out of memory");
                        break;
                }
                names = nn;
                n++;
        }
        closedir(d);
        if (r == 0 && n == 0)
                r = log_error(ENOENT, "--tests=%s: no NAME.in files", dir);
        if (r < 0) {
                for (size_t i = 0; i < n; i++)
                        free(names[i]);
                free(names);
                return r;
        }
        qsort(names, n, sizeof *names, cmp_str);
        TestFiles t = {.names = names, .n = n, .tests = calloc(n, sizeof(JudgeTest))};
        if (!t.tests) {
                test_files_done(&t);
                return log_error(ENOMEM, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *in = NULL, *out = NULL;
                char *data;
                size_t len;
                if (asprintf(&in, "%s/%s.in", dir, names[i]) < 0 ||
                        asprintf(&out, "%s/%s.out", dir, names[i]) < 0) {
                        test_files_done(&t);
                        return log_error(ENOMEM, "out of memory");
                }
                r = read_input(in, MAX_INPUT_BYTES, "test input", &data, &len);
                if (r < 0) {
                        test_files_done(&t);
                        return r;
                }
                t.tests[i].stdin_data = data;
                t.tests[i].stdin_len = len;
                if (access(out, F_OK) == 0) {
                        r = read_input(out, MAX_INPUT_BYTES, "expected output", &data, &len);
                        if (r < 0) {
                                test_files_done(&t);
                                return r;
                        }
                        t.tests[i].expected = data;
                        t.tests[i].expected_len = len;
                        t.tests[i].has_expected = true;
                }
        }
        *ret = t;
        return 0;
}

/* A checker's or interactor's source and language (--checker-lang or its file name). */
static int load_helper(Catalogue *cat, const Language *lang, const char *path, const char *lang_arg,
        const char *what, char **ret_source, size_t *ret_len, const Limits *limits, JudgeProgram *ret) {
        const Language *hl =
                lang_arg ? catalogue_find(cat, lang_arg) : catalogue_guess_by_filename(cat, path);
        if (!hl)
                return log_error(EINVAL, "%s=%s: cannot tell the language; use %s-lang", what, path, what);
        if (hl->is_project)
                return log_error(
                        EINVAL, "%s=%s: a checker or an interactor is a single source file", what, path);
        if (hl != lang) {
                Catalogue one = {.langs = (Language *) hl, .n = 1};
                catalogue_detect(&one);
        }
        if (!hl->installed)
                return log_error(ENOENT, "%s=%s: %s is not installed", what, path, hl->name_template);
        int r = read_input(path, MAX_SOURCE, what, ret_source, ret_len);
        if (r < 0)
                return r;
        *ret = (JudgeProgram){
                .language = hl, .source = *ret_source, .source_len = *ret_len, .limits = *limits};
        return 0;
}

static void json_seconds(FILE *f, uint64_t usec, bool present) {
        char buf[32];
        if (!present) {
                fputs("null", f);
                return;
        }
        format_seconds(usec, buf);
        /* Judge0 sends time as a decimal string */
        fprintf(f, "\"%s\"", buf);
}

static void json_outcome(FILE *f, const JudgeOutcome *o, bool with_status, bool with_points) {
        fputs("\"stdout\":", f);
        if (o->stdout_data)
                json_write_string(f, o->stdout_data, o->stdout_len);
        else
                fputs("null", f);
        fputs(",\"stderr\":", f);
        if (o->stderr_data)
                json_write_string(f, o->stderr_data, o->stderr_len);
        else
                fputs("null", f);
        fputs(",\"time\":", f);
        json_seconds(f, o->time_usec, o->ran);
        fputs(",\"wall_time\":", f);
        json_seconds(f, o->wall_time_usec, o->ran);
        if (o->ran)
                fprintf(f, ",\"memory\":%" PRIu64, o->memory_kib);
        else
                fputs(",\"memory\":null", f);
        fputs(",\"message\":", f);
        json_write_cstring(f, o->message);
        if (o->ran)
                fprintf(f, ",\"exit_code\":%d", o->exit_code >= 0 ? o->exit_code : 0);
        else
                fputs(",\"exit_code\":null", f);
        if (o->exit_signal > 0)
                fprintf(f, ",\"exit_signal\":%d", o->exit_signal);
        else
                fputs(",\"exit_signal\":null", f);
        if (with_status && o->status_id == 0)
                fputs(",\"status\":null", f); /* skipped (stop on failure) */
        else if (with_status) {
                fprintf(f, ",\"status\":{\"id\":%d,\"description\":", o->status_id);
                json_write_cstring(f, status_description(o->status_id));
                fputc('}', f);
        }
        fprintf(f, ",\"memory_limit_exceeded\":%s", o->memory_limit_exceeded ? "true" : "false");
        if (with_points && o->ran)
                fprintf(f, ",\"points\":%.*g", DBL_DECIMAL_DIG, o->points);
        else if (with_points)
                fputs(",\"points\":null", f);
}

static void print_json(const JudgeResult *r, const Language *l, bool with_tests, bool with_points,
        const char *const *names) {
        FILE *f = stdout;
        const JudgeOutcome *o = &r->tests[r->overall_index];
        fputc('{', f);
        json_outcome(f, o, false, false);
        fprintf(f, ",\"status\":{\"id\":%d,\"description\":", r->status_id);
        json_write_cstring(f, status_description(r->status_id));
        fputs("},\"compile_output\":", f);
        if (r->compile_output)
                json_write_string(f, r->compile_output, r->compile_output_len);
        else
                fputs("null", f);
        fprintf(f, ",\"language\":{\"id\":%d,\"name\":", l->id);
        json_write_cstring(f, l->name ? l->name : l->name_template);
        fprintf(f, "},\"compiled\":%s,\"cache_hit\":%s", r->compiled ? "true" : "false",
                r->cache_hit ? "true" : "false");
        if (with_points)
                fprintf(f, ",\"score\":%.*g", DBL_DECIMAL_DIG, r->score);
        if (with_tests) {
                fputs(",\"tests\":[", f);
                for (size_t i = 0; i < r->n_tests; i++) {
                        fputs(i ? ",{\"name\":" : "{\"name\":", f);
                        json_write_cstring(f, names ? names[i] : NULL);
                        fputc(',', f);
                        json_outcome(f, &r->tests[i], true, with_points);
                        fputc('}', f);
                }
                fputc(']', f);
        }
        fputs("}\n", f);
}

static const char *colour(int status, bool tty) {
        if (!tty)
                return "";
        return status == STATUS_ACCEPTED       ? "\033[1;32m"
               : status == STATUS_WRONG_ANSWER ? "\033[1;31m"
                                               : "\033[1;33m";
}

static void print_human(const JudgeResult *r, const char *const *names, bool show_output, bool with_points) {
        bool tty = isatty(STDOUT_FILENO);
        const char *reset = tty ? "\033[0m" : "";
        if (r->status_id == STATUS_COMPILATION_ERROR) {
                printf("%s%s%s\n", colour(r->status_id, tty), status_description(r->status_id), reset);
                if (r->compile_output)
                        fwrite(r->compile_output, 1, r->compile_output_len, stdout);
                return;
        }
        if (r->compile_output && r->compile_output_len)
                fwrite(r->compile_output, 1, r->compile_output_len, stderr);
        for (size_t i = 0; i < r->n_tests; i++) {
                const JudgeOutcome *o = &r->tests[i];
                char t[32];
                format_seconds(o->time_usec, t);
                if (names)
                        printf("%-16s ", names[i]);
                if (!o->ran) {
                        printf("skipped\n");
                        continue;
                }
                printf("%s%s%s  %s s  %" PRIu64 " KiB", colour(o->status_id, tty),
                        status_description(o->status_id), reset, t, o->memory_kib);
                if (with_points)
                        printf("  %g points", o->points);
                if (o->message && (o->status_id != STATUS_ACCEPTED || with_points))
                        printf("  (%s)", o->message);
                putchar('\n');
                if (show_output) {
                        if (o->stdout_data)
                                fwrite(o->stdout_data, 1, o->stdout_len, stdout);
                        if (o->stderr_data)
                                fwrite(o->stderr_data, 1, o->stderr_len, stderr);
                }
        }
        if (names) {
                size_t passed = 0;
                for (size_t i = 0; i < r->n_tests; i++)
                        passed += r->tests[i].status_id == STATUS_ACCEPTED;
                printf("%s%s%s: %zu of %zu tests passed\n", colour(r->status_id, tty),
                        status_description(r->status_id), reset, passed, r->n_tests);
        }
        if (with_points)
                printf("score: %g\n", r->score);
}

int run_main(int argc, char **argv) {
        static const struct option own_opts[] = {
                {"help", no_argument, NULL, 'h'},
                {"lang", required_argument, NULL, OPT_LANG},
                {"stdin", required_argument, NULL, OPT_STDIN},
                {"expected", required_argument, NULL, OPT_EXPECTED},
                {"tests", required_argument, NULL, OPT_TESTS},
                {"compare", required_argument, NULL, OPT_COMPARE},
                {"stop-on-failure", no_argument, NULL, OPT_STOP},
                {"args", required_argument, NULL, OPT_ARGS},
                {"compiler-options", required_argument, NULL, OPT_COMPILER_OPTIONS},
                {"runs", required_argument, NULL, OPT_RUNS},
                {"stderr-to-stdout", no_argument, NULL, OPT_STDERR_TO_STDOUT},
                {"network", no_argument, NULL, OPT_NETWORK},
                {"additional-files", required_argument, NULL, OPT_ADDITIONAL_FILES},
                {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
                {"no-cache", no_argument, NULL, OPT_NO_CACHE},
                {"json", no_argument, NULL, OPT_JSON},
                {"languages-dir", required_argument, NULL, OPT_LANGUAGES_DIR},
                {"checker", required_argument, NULL, OPT_CHECKER},
                {"interactor", required_argument, NULL, OPT_INTERACTOR},
                {"checker-lang", required_argument, NULL, OPT_CHECKER_LANG},
                {"interactor-lang", required_argument, NULL, OPT_INTERACTOR_LANG},
                {"checker-time", required_argument, NULL, OPT_CHECKER_TIME},
                {"checker-wall-time", required_argument, NULL, OPT_CHECKER_WALL_TIME},
                {"checker-mem", required_argument, NULL, OPT_CHECKER_MEM},
                {},
        };
        struct option opts[64];
        JudgeSubmission sub = {
                .limits =
                        {
                                .cpu_time_usec = 5 * USEC_PER_SEC,
                                .extra_time_usec = 1 * USEC_PER_SEC,
                                .wall_time_usec = 10 * USEC_PER_SEC,
                                .memory_kib = 128000,
                                .stack_kib = 64000,
                                .fsize_kib = 1024,
                                .processes = 60,
                        },
        };
        const char *lang_arg = NULL, *stdin_path = NULL, *expected_path = NULL, *tests_dir = NULL,
                   *zip_path = NULL, *cache_dir = NULL, *languages_dir = NULL, *checker_path = NULL,
                   *interactor_path = NULL, *checker_lang_arg = NULL, *interactor_lang_arg = NULL;
        bool json = false, no_cache = false;
        _cleanup_free_ char *source = NULL, *in = NULL, *expected = NULL, *zip = NULL, *default_cache = NULL,
                            *checker_source = NULL, *interactor_source = NULL;
        size_t source_len = 0, in_len = 0, expected_len = 0, zip_len = 0, checker_len = 0,
               interactor_len = 0;
        JudgeProgram checker = {}, interactor = {};
        Limits helper_limits = limits_of_helper(HELPER_CPU_TIME_LIMIT * USEC_PER_SEC,
                HELPER_WALL_TIME_LIMIT * USEC_PER_SEC, HELPER_MEMORY_LIMIT);
        Catalogue cat = {};
        TestFiles tf = {};
        Judge *judge = NULL;
        BoxContext *ctx = NULL, *peer_ctx = NULL;
        BoxClient *client = NULL, *peer_client = NULL;
        int c, r, ret = 1, slot_fd = -1, peer_slot_fd = -1;
        uint64_t v;

        /* Judge0's defaults, unless the shared limit options say otherwise. */
        CliLimits lim = {
                .cpu_time_usec = sub.limits.cpu_time_usec,
                .extra_time_usec = sub.limits.extra_time_usec,
                .wall_time_usec = sub.limits.wall_time_usec,
                .memory_kib = sub.limits.memory_kib,
                .stack_kib = sub.limits.stack_kib,
                .fsize_kib = sub.limits.fsize_kib,
                .processes = sub.limits.processes,
        };
        if (!cli_options_with_limits(own_opts, opts, ELEMENTSOF(opts)))
                return log_error(E2BIG, "internal error: option table"), 2;
        opterr = 0;
        optind = 1;
        /* Options may come before or after FILE. */
        while ((c = getopt_long(argc, argv, "h", opts, NULL)) >= 0) {
                switch (c) {
                case 'h':
                        fputs(run_help, stdout);
                        return 0;
                case OPT_RUNS:
                        r = parse_u64_max(optarg, 20, &v);
                        if (r < 0 || v == 0) {
                                log_error(0, "--runs=%s: expected a number from 1 to 20", optarg);
                                goto out;
                        }
                        sub.number_of_runs = (uint32_t) v;
                        break;
                case OPT_LANG:
                        lang_arg = optarg;
                        break;
                case OPT_STDIN:
                        stdin_path = optarg;
                        break;
                case OPT_EXPECTED:
                        expected_path = optarg;
                        break;
                case OPT_TESTS:
                        tests_dir = optarg;
                        break;
                case OPT_COMPARE: {
                        const char *colon = strchr(optarg, ':');
                        size_t n = colon ? (size_t) (colon - optarg) : strlen(optarg);
                        if (n == 7 && strncmp(optarg, "default", 7) == 0 && !colon)
                                sub.compare = JUDGE_COMPARE_DEFAULT;
                        else if (n == 5 && strncmp(optarg, "exact", 5) == 0 && !colon)
                                sub.compare = JUDGE_COMPARE_EXACT;
                        else if (n == 7 && strncmp(optarg, "numbers", 7) == 0) {
                                sub.compare = JUDGE_COMPARE_NUMBERS;
                                sub.tolerance = 1e-6;
                                if (colon) {
                                        char *end;
                                        errno = 0;
                                        sub.tolerance = strtod(colon + 1, &end);
                                        if (errno || *end || end == colon + 1 || !(sub.tolerance >= 0)) {
                                                log_error(0,
                                                        "--compare=%s: the tolerance must be a number >= 0",
                                                        optarg);
                                                goto out;
                                        }
                                }
                        } else {
                                log_error(0, "--compare=%s: expected default, exact or numbers[:TOLERANCE]",
                                        optarg);
                                goto out;
                        }
                        break;
                }
                case OPT_STOP:
                        sub.stop_on_failure = true;
                        break;
                case OPT_ARGS:
                        sub.command_line_arguments = optarg;
                        break;
                case OPT_COMPILER_OPTIONS:
                        sub.compiler_options = optarg;
                        break;
                case OPT_STDERR_TO_STDOUT:
                        sub.redirect_stderr_to_stdout = true;
                        break;
                case OPT_NETWORK:
                        sub.enable_network = true;
                        break;
                case OPT_ADDITIONAL_FILES:
                        zip_path = optarg;
                        break;
                case OPT_CACHE_DIR:
                        cache_dir = optarg;
                        break;
                case OPT_NO_CACHE:
                        no_cache = true;
                        break;
                case OPT_JSON:
                        json = true;
                        break;
                case OPT_LANGUAGES_DIR:
                        languages_dir = optarg;
                        break;
                case OPT_CHECKER:
                        checker_path = optarg;
                        break;
                case OPT_INTERACTOR:
                        interactor_path = optarg;
                        break;
                case OPT_CHECKER_LANG:
                        checker_lang_arg = optarg;
                        break;
                case OPT_INTERACTOR_LANG:
                        interactor_lang_arg = optarg;
                        break;
                case OPT_CHECKER_TIME:
                case OPT_CHECKER_WALL_TIME:
                        r = parse_seconds_usec(optarg, 60 * USEC_PER_SEC,
                                c == OPT_CHECKER_TIME ? &helper_limits.cpu_time_usec
                                                      : &helper_limits.wall_time_usec);
                        if (r < 0) {
                                log_error(0, "--%s=%s: expected seconds from 0 to 60",
                                        c == OPT_CHECKER_TIME ? "checker-time" : "checker-wall-time",
                                        optarg);
                                goto out;
                        }
                        break;
                case OPT_CHECKER_MEM:
                        r = parse_u64_max(optarg, 4 * 1024 * 1024, &helper_limits.memory_kib);
                        if (r < 0 || helper_limits.memory_kib < 2048) {
                                log_error(0, "--checker-mem=%s: expected KiB from 2048 to 4194304", optarg);
                                goto out;
                        }
                        break;
                default:
                        r = cli_limits_parse(c, optarg, &lim);
                        if (r > 0)
                                break;
                        if (r == 0)
                                log_error(0, "run: unknown option or missing value '%s' (see --help)",
                                        argv[optind - 1]);
                        goto out;
                }
        }
        if (optind >= argc) {
                log_error(0, "run: no file given (usage: coderunner run FILE [OPTIONS])");
                goto out;
        }
        if (optind + 1 < argc) {
                log_error(0, "run: one file at a time (got '%s' too)", argv[optind + 1]);
                goto out;
        }
        const char *file = argv[optind];
        sub.limits = (Limits){
                .cpu_time_usec = lim.cpu_time_usec,
                .extra_time_usec = lim.extra_time_usec,
                .wall_time_usec = lim.wall_time_usec,
                .memory_kib = lim.memory_kib,
                .stack_kib = lim.stack_kib,
                .fsize_kib = lim.fsize_kib,
                .output_kib = lim.output_kib,
                .processes = (uint32_t) lim.processes,
                .per_process_time = lim.per_process_time,
                .per_process_memory = lim.per_process_memory,
        };

        /* The languages. */
        char err[512] = "";
        r = catalogue_load(languages_dir ? languages_dir : catalogue_default_dir(), &cat, err, sizeof err);
        if (r < 0) {
                log_error(r, "languages: %s", err[0] ? err : strerror(-r));
                ret = 2;
                goto out;
        }
        const Language *lang =
                lang_arg ? catalogue_find(&cat, lang_arg) : catalogue_guess_by_filename(&cat, file);
        if (!lang) {
                if (lang_arg)
                        log_error(0, "--lang=%s: unknown language (see coderunner languages)", lang_arg);
                else
                        log_error(0, "%s: cannot tell the language from the file name; use --lang", file);
                goto out;
        }
        /* Only this language's toolchain is asked for its version (all of them take
         * seconds: several are JVMs). */
        Catalogue one = {.langs = (Language *) lang, .n = 1};
        catalogue_detect(&one);
        if (!lang->installed) {
                log_error(0, "%s: the toolchain is not installed (Debian packages: %s; or make languages)",
                        lang->name_template, lang->packages ? lang->packages : "?");
                goto out;
        }

        /* The checker and the interactor (both: the checker reads what the interactor wrote). */
        if (checker_path) {
                if (load_helper(&cat, lang, checker_path, checker_lang_arg, "--checker", &checker_source,
                            &checker_len, &helper_limits, &checker) < 0)
                        goto out;
                sub.checker = &checker;
        }
        if (interactor_path) {
                if (load_helper(&cat, lang, interactor_path, interactor_lang_arg, "--interactor",
                            &interactor_source, &interactor_len, &helper_limits, &interactor) < 0)
                        goto out;
                sub.interactor = &interactor;
        }
        bool with_points = checker_path || interactor_path;

        /* The inputs. */
        if (!lang->is_project && read_input(file, MAX_SOURCE, "source", &source, &source_len) < 0)
                goto out;
        if (stdin_path && read_input(stdin_path, MAX_INPUT_BYTES, "--stdin", &in, &in_len) < 0)
                goto out;
        if (expected_path &&
                read_input(expected_path, MAX_INPUT_BYTES, "--expected", &expected, &expected_len) < 0)
                goto out;
        if (lang->is_project && !zip_path)
                zip_path = file;
        if (zip_path && read_input(zip_path, MAX_SOURCE, "--additional-files", &zip, &zip_len) < 0)
                goto out;
        if (tests_dir && load_tests(tests_dir, &tf) < 0)
                goto out;
        sub.language = lang;
        sub.source = source ? source : "";
        sub.source_len = source_len;
        sub.stdin_data = in;
        sub.stdin_len = in_len;
        sub.expected = expected;
        sub.expected_len = expected_len;
        sub.has_expected = expected_path != NULL;
        sub.additional_files = (const uint8_t *) zip;
        sub.additional_files_len = zip_len;
        sub.tests = tf.tests;
        sub.n_tests = tf.n;

        /* The sandbox: the supervisor when one is named, else in-process. */
        JudgeRunner runner;
        const char *sock = getenv("CODERUNNER_BOX_SOCKET");
        if (sock && *sock) {
                r = box_client_connect(sock, &client);
                if (r < 0) {
                        log_error(
                                r, "cannot connect to the sandbox supervisor at %s: %s", sock, strerror(-r));
                        ret = 2;
                        goto out;
                }
                runner = (JudgeRunner){judge_runner_box_client, client, NULL};
                if (interactor_path) {
                        r = box_client_connect(sock, &peer_client);
                        if (r < 0) {
                                log_error(r, "cannot connect to the sandbox supervisor at %s: %s", sock,
                                        strerror(-r));
                                ret = 2;
                                goto out;
                        }
                        runner.peer_userdata = peer_client;
                }
        } else {
                unsigned slot = cli_slot_acquire(&slot_fd);
                r = box_context_new(&(BoxContextConfig){.slot = slot}, &ctx);
                if (r < 0) {
                        log_error(r, "cannot prepare the sandbox: %s", strerror(-r));
                        ret = 2;
                        goto out;
                }
                runner = (JudgeRunner){judge_runner_box_context, ctx, NULL};
                if (interactor_path) {
                        /* The interactor runs beside the program: a slot (box user) of its
                         * own. Its output goes to pipes that may close under it. */
                        (void) signal(SIGPIPE, SIG_IGN);
                        unsigned peer_slot = cli_slot_acquire(&peer_slot_fd);
                        r = box_context_new(&(BoxContextConfig){.slot = peer_slot}, &peer_ctx);
                        if (r < 0) {
                                log_error(r, "cannot prepare the sandbox: %s", strerror(-r));
                                ret = 2;
                                goto out;
                        }
                        runner.peer_userdata = peer_ctx;
                }
        }
        JudgeConfig cfg;
        judge_config_defaults(&cfg);
        if (!no_cache) {
                if (!cache_dir) {
                        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
                        if (xdg && *xdg)
                                r = asprintf(&default_cache, "%s/coderunner", xdg);
                        else
                                r = asprintf(&default_cache, "%s/.cache/coderunner",
                                        home && *home ? home : "/tmp");
                        if (r < 0) {
                                default_cache = NULL;
                                log_error(ENOMEM, "out of memory");
                                goto out;
                        }
                        /* $XDG_CACHE_HOME or ~/.cache may not exist yet: make the path. */
                        _cleanup_free_ char *parent = strdup(default_cache);
                        for (char *p = parent ? parent + 1 : NULL; p && (p = strchr(p, '/')); p++) {
                                *p = '\0';
                                (void) mkdir(parent, 0700);
                                *p = '/';
                        }
                        cache_dir = default_cache;
                }
                cfg.cache_dir = cache_dir;
        }
        r = judge_new(&cfg, runner, &judge);
        if (r < 0) {
                log_error(r, "cannot prepare the judge: %s", strerror(-r));
                ret = 2;
                goto out;
        }

        JudgeResult res;
        r = judge_submission(judge, &sub, &res);
        if (r < 0) {
                log_error(r, "cannot judge %s: %s", file, strerror(-r));
                ret = 2;
                goto out;
        }
        if (json)
                print_json(&res, lang, tests_dir != NULL, with_points, (const char *const *) tf.names);
        else
                print_human(
                        &res, tests_dir ? (const char *const *) tf.names : NULL, !tests_dir, with_points);
        ret = res.status_id == STATUS_INTERNAL_ERROR ? 2 : 0;
        if (ret == 2 && !json)
                log_error(0, "internal error: %s",
                        res.tests[res.overall_index].message ? res.tests[res.overall_index].message
                                                             : "unknown");
        judge_result_done(&res);
out:
        judge_free(judge);
        box_client_free(client);
        box_client_free(peer_client);
        box_context_free(ctx);
        box_context_free(peer_ctx);
        if (slot_fd >= 0)
                close(slot_fd);
        if (peer_slot_fd >= 0)
                close(peer_slot_fd);
        test_files_done(&tf);
        catalogue_done(&cat);
        return ret;
}
