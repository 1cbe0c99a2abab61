/* SPDX-License-Identifier: MIT */
/* bench-judge: what the judge pipeline adds to compiling and running a program, and what its
 * compile cache and its shared compilations save, measured side by side in one run.
 *
 * The pipeline runs the way a worker runs it: judge_submission() on a Judge whose runner is
 * a resident supervisor (box_supervisor_start() with two slots, one BoxClient). Cases:
 *   c-pipeline        C (GCC) hello world, cache disabled: compile + run in the sandbox
 *   c-bare            the same without a sandbox: a fresh directory, main.c written, the
 *                     catalogue's compile command by /bin/sh -c, then its run command
 *                     (./a.out) exec'd directly, output captured, the directory removed
 *   py-pipeline       Python print("hello"): one run in the sandbox
 *   py-bare           the catalogue's run command (python3 -E -s script.py) exec'd directly
 *   cache-hit         C, cache enabled, the same source every time (stored once before)
 *   cache-miss        C, cache enabled, a source that differs every time by a comment
 *   tests-one         one C submission with 10 test cases (one compilation), no cache
 *   tests-separate    10 C submissions of the same program, one test each, no cache
 *
 * Every pipeline case also says where its time went: the harness's runner wraps
 * box_client_run() and adds up the time spent in it, so the rest is the judge's own code
 * (directories, copies, cache, memfds). The bare cases split the same way: the time in
 * fork+exec+wait versus the rest.
 *
 * All cases are interleaved: round r runs every case once, starting at case r mod N, so
 * drift and background noise hit every case alike. W warm-up rounds are discarded, then R
 * rounds are recorded. Only successful runs (Accepted, the expected output) enter the
 * statistics; failures are counted. A benchmark, not a test: it prints numbers and ratios
 * and asserts nothing. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fd-util.h"
#include "base/json-writer.h"
#include "base/macro.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "sandbox/box.h"

#include "bench-util.h"

/* The languages measured: Judge0 CE ids in the catalogue. */
#define BENCH_LANG_C "50"
#define BENCH_LANG_PYTHON "71"

/* Two slots, one BoxClient: what a worker with one judging thread holds (a connection holds a
 * slot for as long as it is open). */
#define BENCH_SUPERVISOR_SLOTS 2

#define BENCH_TESTS 10
#define BENCH_OUTPUT_MAX 4096 /* bytes of a bare step's output read back */
#define BENCH_MAX_RUN_ARGS 32 /* words of a run command exec'd without a shell */
#define BENCH_ENV_MAX (LANG_MAX_ENV + 4)
#define BENCH_SOURCE_MAX 1024
#define BENCH_TREE_MAX_DEPTH 16

/* The target: the pipeline costs at most this much more than bare, per step. */
#define BENCH_OVERHEAD_TARGET_MS 2.0

/* The environment the judge gives compile and run commands (judge.c), and the PATH the
 * sandbox adds when none is given. */
#define BENCH_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

static const char c_hello[] = "#include <stdio.h>\n"
                              "\n"
                              "int main(void) {\n"
                              "        puts(\"hello\");\n"
                              "        return 0;\n"
                              "}\n";
static const char py_hello[] = "print(\"hello\")\n";
static const char hello_output[] = "hello\n";

/* The program of the test-case cases: prints twice the number it reads. */
static const char c_double[] = "#include <stdio.h>\n"
                               "#include <stdlib.h>\n"
                               "\n"
                               "int main(void) {\n"
                               "        char line[64];\n"
                               "\n"
                               "        if (!fgets(line, sizeof(line), stdin))\n"
                               "                return 1;\n"
                               "        printf(\"%ld\\n\", 2 * strtol(line, NULL, 10));\n"
                               "        return 0;\n"
                               "}\n";

/* Judge0 CE's default limits for a submission. */
static const Limits judge0_limits = {
        .cpu_time_usec = 5000000,
        .extra_time_usec = 1000000,
        .wall_time_usec = 10000000,
        .memory_kib = 128000,
        .stack_kib = 64000,
        .fsize_kib = 1024,
        .processes = 60,
};

typedef enum CaseId {
        CASE_C_PIPELINE,
        CASE_C_BARE,
        CASE_PY_PIPELINE,
        CASE_PY_BARE,
        CASE_CACHE_HIT,
        CASE_CACHE_MISS,
        CASE_TESTS_ONE,
        CASE_TESTS_SEPARATE,
        _CASE_MAX,
} CaseId;

/* Where the time of one execution went. */
typedef enum PartId {
        PART_PROCESSES, /* pipeline: in box_client_run(); bare: in fork+exec+wait */
        PART_PROGRAM, /* pipeline: the programs' wall time as the sandbox reported it */
        PART_REST, /* the total minus PART_PROCESSES */
        _PART_MAX,
} PartId;

typedef enum LangId {
        LANG_C,
        LANG_PYTHON,
        _LANG_MAX,
} LangId;

typedef struct Sample {
        uint64_t ns;
        uint64_t parts_ns[_PART_MAX];
} Sample;

typedef struct Bench Bench;

/* One execution of a case. Returns 0 when it succeeded (Accepted with the expected output),
 * 1 when it failed (reason in msg), -errno when the harness itself failed (reason in msg). */
typedef int (*RunFn)(Bench *b, char *msg, size_t msgsz, Sample *ret);

typedef struct Case {
        const char *name; /* key in --cases and in the JSON */
        const char *title; /* label in the table */
        RunFn run;
        LangId lang;
        bool pipeline; /* needs the judge (and so the supervisor) */
        const char *part_titles[_PART_MAX]; /* NULL: not measured for this case */

        bool selected;
        bool available;
        char reason[BENCH_REASON_MAX];

        uint64_t *samples_ns; /* successful recorded runs, in order */
        uint64_t *parts_ns[_PART_MAX];
        size_t n_samples;
        BenchTally tally;
} Case;

/* A pair of cases compared in one table. steps > 0: the subject does the baseline's work
 * plus overhead, reported per step against the target. */
typedef struct Comparison {
        const char *name; /* key in the JSON */
        const char *title;
        CaseId subject;
        CaseId baseline;
        const char *ratio_title; /* column header of subject/baseline */
        unsigned steps;
        const char *target; /* the summary line */
} Comparison;

typedef struct LangBench {
        const Language *lang;
        char *env[BENCH_ENV_MAX + 1];
        char *compile_cmd; /* compile_cmd with no options (NULL for interpreted languages) */
        char *run_words; /* storage of run_argv */
        char *run_argv[BENCH_MAX_RUN_ARGS + 1];
        char reason[BENCH_REASON_MAX]; /* why its cases cannot run, "" when they can */
} LangBench;

struct Bench {
        unsigned warmup;
        unsigned rounds;
        const char *json_path;
        const char *languages_dir;

        int null_fd;
        Catalogue catalogue;
        LangBench langs[_LANG_MAX];

        char tmp_path[PATH_MAX]; /* everything this run writes, removed at the end */
        int tmp_fd;
        char cache_path[PATH_MAX];

        BoxSupervisor *supervisor;
        BoxClient *client;
        Judge *judge; /* cache disabled */
        Judge *judge_cached; /* cache in cache_path */
        char judge_reason[BENCH_REASON_MAX]; /* why there is no judge, "" when there is */

        /* What the runner saw during one execution. */
        uint64_t runner_ns;
        uint64_t runner_program_us;
        unsigned runner_calls;

        double load_before[3]; /* load average when the rounds started (-1: unknown) */
        uint64_t seq; /* names bare directories and makes cache-miss sources unique */
        char test_stdin[BENCH_TESTS][24];
        char test_expected[BENCH_TESTS][24];
        JudgeTest tests[BENCH_TESTS];

        Case cases[_CASE_MAX];
};

/* ---- files ---- */

static int remove_tree_at(int parent_fd, const char *name, unsigned depth) {
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        int r = 0;

        if (unlinkat(parent_fd, name, 0) == 0)
                return 0;
        if (errno == ENOENT)
                return 0;
        if (errno != EISDIR && errno != EPERM)
                return -errno;
        if (depth > BENCH_TREE_MAX_DEPTH)
                return -ELOOP;
        fd = openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd); /* the DIR owns it now */
        for (struct dirent *e; (e = readdir(d));) {
                int k;

                if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                        continue;
                k = remove_tree_at(dirfd(d), e->d_name, depth + 1);
                if (k < 0 && r == 0)
                        r = k;
        }
        (void) closedir(d);
        if (unlinkat(parent_fd, name, AT_REMOVEDIR) < 0 && r == 0)
                r = -errno;
        return r;
}

static int write_file_at(int dirfd, const char *name, const char *data, size_t len) {
        _cleanup_close_ int fd =
                openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);

        if (fd < 0)
                return -errno;
        return write_all(fd, data, len);
}

/* ---- the runner: box_client_run(), timed ---- */

static int bench_runner(void *userdata, const BoxSpec *spec, BoxResult *ret) {
        Bench *b = userdata;
        uint64_t t0 = bench_now_ns();
        int r;

        r = judge_runner_box_client(b->client, spec, ret);
        b->runner_ns += bench_now_ns() - t0;
        b->runner_calls++;
        if (r >= 0)
                b->runner_program_us += ret->wall_time_usec;
        return r;
}

/* ---- pipeline cases ---- */

static void describe_result(const JudgeResult *res, char *msg, size_t msgsz) {
        const JudgeOutcome *o = res->n_tests ? &res->tests[res->overall_index] : NULL;
        const char *desc = status_description(res->status_id);
        char line[BENCH_REASON_MAX / 2];

        if (res->status_id == STATUS_COMPILATION_ERROR)
                bench_first_line(res->compile_output, line, sizeof(line));
        else if (o && o->message)
                bench_first_line(o->message, line, sizeof(line));
        else if (o && o->stderr_len)
                bench_first_line(o->stderr_data, line, sizeof(line));
        else if (o)
                bench_first_line(o->stdout_data, line, sizeof(line));
        else
                line[0] = '\0';
        bench_set_msg(msg, msgsz, "status %d (%s)%s%s", res->status_id, desc ? desc : "?",
                line[0] ? ": " : "", line);
}

/* Judge s on j, timed, adding to *sample. want_hit: 1 a cache hit is expected, 0 a compilation,
 * -1 either. */
static int judge_timed(Bench *b, Judge *j, const JudgeSubmission *s, int want_hit, char *msg, size_t msgsz,
        Sample *sample) {
        JudgeResult res;
        uint64_t t0, ns;
        size_t n_tests = s->n_tests ? s->n_tests : 1;
        int r;

        b->runner_ns = 0;
        b->runner_program_us = 0;
        b->runner_calls = 0;
        t0 = bench_now_ns();
        r = judge_submission(j, s, &res);
        ns = bench_now_ns() - t0;
        if (r < 0) {
                bench_set_msg(msg, msgsz, "judge_submission: %s", strerror(-r));
                return 1;
        }

        r = 0;
        if (res.status_id != STATUS_ACCEPTED || res.n_tests != n_tests) {
                describe_result(&res, msg, msgsz);
                r = 1;
        }
        for (size_t i = 0; r == 0 && i < res.n_tests; i++)
                if (!res.tests[i].ran || res.tests[i].status_id != STATUS_ACCEPTED) {
                        bench_set_msg(msg, msgsz, "test %zu: status %d", i + 1, res.tests[i].status_id);
                        r = 1;
                }
        if (r == 0 && want_hit >= 0 && res.cache_hit != (want_hit == 1)) {
                bench_set_msg(msg, msgsz, "expected a cache %s, got a %s", want_hit ? "hit" : "miss",
                        res.cache_hit ? "hit" : "miss");
                r = 1;
        }
        judge_result_done(&res);

        sample->ns += ns;
        sample->parts_ns[PART_PROCESSES] += b->runner_ns;
        sample->parts_ns[PART_PROGRAM] += b->runner_program_us * 1000;
        sample->parts_ns[PART_REST] += ns - MIN(ns, b->runner_ns);
        return r;
}

static JudgeSubmission submission(const Language *lang, const char *source, size_t len) {
        return (JudgeSubmission){
                .language = lang,
                .source = source,
                .source_len = len,
                .limits = judge0_limits,
                .expected = hello_output,
                .expected_len = sizeof(hello_output) - 1,
                .has_expected = true,
        };
}

static int run_c_pipeline(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        JudgeSubmission s = submission(b->langs[LANG_C].lang, c_hello, sizeof(c_hello) - 1);

        return judge_timed(b, b->judge, &s, 0, msg, msgsz, ret);
}

static int run_py_pipeline(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        JudgeSubmission s = submission(b->langs[LANG_PYTHON].lang, py_hello, sizeof(py_hello) - 1);

        return judge_timed(b, b->judge, &s, -1, msg, msgsz, ret);
}

static int run_cache_hit(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        JudgeSubmission s = submission(b->langs[LANG_C].lang, c_hello, sizeof(c_hello) - 1);

        return judge_timed(b, b->judge_cached, &s, 1, msg, msgsz, ret);
}

static int run_cache_miss(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        char source[BENCH_SOURCE_MAX];
        int n;

        n = snprintf(source, sizeof(source), "/* submission %" PRIu64 " */\n%s", ++b->seq, c_hello);
        if (n < 0 || (size_t) n >= sizeof(source)) {
                bench_set_msg(msg, msgsz, "the source does not fit in %d bytes", BENCH_SOURCE_MAX);
                return -ENOBUFS;
        }
        JudgeSubmission s = submission(b->langs[LANG_C].lang, source, (size_t) n);

        return judge_timed(b, b->judge_cached, &s, 0, msg, msgsz, ret);
}

static JudgeSubmission tests_submission(Bench *b, const JudgeTest *tests, size_t n) {
        JudgeSubmission s = submission(b->langs[LANG_C].lang, c_double, sizeof(c_double) - 1);

        s.has_expected = false;
        s.expected = NULL;
        s.expected_len = 0;
        s.tests = tests;
        s.n_tests = n;
        return s;
}

static int run_tests_one(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        JudgeSubmission s = tests_submission(b, b->tests, BENCH_TESTS);

        return judge_timed(b, b->judge, &s, 0, msg, msgsz, ret);
}

static int run_tests_separate(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        for (size_t i = 0; i < BENCH_TESTS; i++) {
                JudgeSubmission s = tests_submission(b, &b->tests[i], 1);
                int r;

                r = judge_timed(b, b->judge, &s, 0, msg, msgsz, ret);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ---- bare cases ---- */

/* Fork, exec argv in dirfd with env, stdin on /dev/null, stdout into out_fd, stderr into
 * err_fd; wait. 0 when it exited 0, 1 when not (msg quotes err_fd's first line), -errno
 * when the harness failed. */
static int spawn_in(Bench *b, int dirfd, char *const *argv, char *const *env, int out_fd, int err_fd,
        char *msg, size_t msgsz) {
        pid_t pid;
        int st;

        pid = fork();
        if (pid < 0) {
                int r = -errno;
                bench_set_msg(msg, msgsz, "fork: %s", strerror(errno));
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls from here to execve(). */
                if (fchdir(dirfd) < 0 || dup2(b->null_fd, STDIN_FILENO) < 0 ||
                        dup2(out_fd, STDOUT_FILENO) < 0 || dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(126);
                execve(argv[0], argv, env);
                _exit(127);
        }
        if (RETRY_EINTR(waitpid(pid, &st, 0)) < 0) {
                int r = -errno;
                bench_set_msg(msg, msgsz, "waitpid: %s", strerror(errno));
                return r;
        }
        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;

        char out[BENCH_OUTPUT_MAX], line[BENCH_REASON_MAX / 2], status[64];
        ssize_t n = pread(err_fd, out, sizeof(out) - 1, 0);

        out[n > 0 ? n : 0] = '\0';
        bench_first_line(out, line, sizeof(line));
        bench_describe_wait_status(st, status, sizeof(status));
        bench_set_msg(msg, msgsz, "%s: %s%s%s", argv[0], status, line[0] ? ": " : "", line);
        return 1;
}

/* The same as the pipeline without a sandbox: a fresh directory, the source written, the
 * compile command (if any) by /bin/sh -c with stdout and stderr in one memfd, the run
 * command exec'd with stdout and stderr in memfds, the directory removed. */
static int run_bare(
        Bench *b, LangId id, const char *source, size_t len, char *msg, size_t msgsz, Sample *ret) {
        const LangBench *lb = &b->langs[id];
        _cleanup_close_ int dir_fd = -EBADF, compile_fd = -EBADF, out_fd = -EBADF, err_fd = -EBADF;
        char name[64], out[BENCH_OUTPUT_MAX] = "";
        uint64_t t0, t1, s0, spawn_ns = 0;
        ssize_t n = 0;
        int r;

        (void) snprintf(name, sizeof(name), "bare-%" PRIu64, ++b->seq);
        t0 = bench_now_ns();
        if (mkdirat(b->tmp_fd, name, 0755) < 0) {
                r = -errno;
                bench_set_msg(msg, msgsz, "mkdir %s: %s", name, strerror(errno));
                return r;
        }
        dir_fd = openat(b->tmp_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dir_fd < 0) {
                r = -errno;
                bench_set_msg(msg, msgsz, "open %s: %s", name, strerror(errno));
                goto out;
        }
        r = write_file_at(dir_fd, lb->lang->source_file, source, len);
        if (r < 0) {
                bench_set_msg(msg, msgsz, "writing %s: %s", lb->lang->source_file, strerror(-r));
                goto out;
        }

        if (lb->compile_cmd) {
                char *argv[] = {(char *) "/bin/sh", (char *) "-c", lb->compile_cmd, NULL};

                compile_fd = memfd_create("compile", MFD_CLOEXEC);
                if (compile_fd < 0) {
                        r = -errno;
                        bench_set_msg(msg, msgsz, "memfd_create: %s", strerror(errno));
                        goto out;
                }
                s0 = bench_now_ns();
                r = spawn_in(b, dir_fd, argv, lb->env, compile_fd, compile_fd, msg, msgsz);
                spawn_ns += bench_now_ns() - s0;
                if (r != 0)
                        goto out;
        }

        out_fd = memfd_create("stdout", MFD_CLOEXEC);
        err_fd = memfd_create("stderr", MFD_CLOEXEC);
        if (out_fd < 0 || err_fd < 0) {
                r = -errno;
                bench_set_msg(msg, msgsz, "memfd_create: %s", strerror(errno));
                goto out;
        }
        s0 = bench_now_ns();
        r = spawn_in(b, dir_fd, lb->run_argv, lb->env, out_fd, err_fd, msg, msgsz);
        spawn_ns += bench_now_ns() - s0;
        if (r != 0)
                goto out;
        n = pread(out_fd, out, sizeof(out) - 1, 0);
        if (n < 0) {
                r = -errno;
                bench_set_msg(msg, msgsz, "reading the output: %s", strerror(errno));
                goto out;
        }
        out[n] = '\0';

out:
        dir_fd = safe_close(dir_fd);
        {
                int k = remove_tree_at(b->tmp_fd, name, 0);
                if (k < 0 && r == 0) {
                        r = k;
                        bench_set_msg(msg, msgsz, "removing %s: %s", name, strerror(-k));
                }
        }
        t1 = bench_now_ns();
        if (r != 0)
                return r;

        ret->ns = t1 - t0;
        ret->parts_ns[PART_PROCESSES] = spawn_ns;
        ret->parts_ns[PART_REST] = ret->ns - MIN(ret->ns, spawn_ns);
        if ((size_t) n != strlen(hello_output) || memcmp(out, hello_output, (size_t) n) != 0) {
                char line[BENCH_REASON_MAX / 2];

                bench_first_line(out, line, sizeof(line));
                bench_set_msg(msg, msgsz, "unexpected output: '%s'", line);
                return 1;
        }
        return 0;
}

static int run_c_bare(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        return run_bare(b, LANG_C, c_hello, sizeof(c_hello) - 1, msg, msgsz, ret);
}

static int run_py_bare(Bench *b, char *msg, size_t msgsz, Sample *ret) {
        return run_bare(b, LANG_PYTHON, py_hello, sizeof(py_hello) - 1, msg, msgsz, ret);
}

/* ---- the cases ---- */

#define PIPELINE_PARTS \
        { \
                [PART_PROCESSES] = "in the sandbox (box_client_run)", \
                [PART_PROGRAM] = "program wall, as the sandbox saw it", \
                [PART_REST] = "the judge's own code", \
        }
#define BARE_PARTS \
        { [PART_PROCESSES] = "in fork+exec+wait", [PART_REST] = "dir, source, memfds, removal", }

static const Case case_table[_CASE_MAX] = {
        [CASE_C_PIPELINE] = {.name = "c-pipeline",
                .title = "judge_submission, no cache",
                .run = run_c_pipeline,
                .lang = LANG_C,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
        [CASE_C_BARE] = {.name = "c-bare",
                .title = "bare: sh -c compile; ./a.out",
                .run = run_c_bare,
                .lang = LANG_C,
                .part_titles = BARE_PARTS},
        [CASE_PY_PIPELINE] = {.name = "py-pipeline",
                .title = "judge_submission",
                .run = run_py_pipeline,
                .lang = LANG_PYTHON,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
        [CASE_PY_BARE] = {.name = "py-bare",
                .title = "bare: python3 -E -s script.py",
                .run = run_py_bare,
                .lang = LANG_PYTHON,
                .part_titles = BARE_PARTS},
        [CASE_CACHE_HIT] = {.name = "cache-hit",
                .title = "same source: cache hit",
                .run = run_cache_hit,
                .lang = LANG_C,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
        [CASE_CACHE_MISS] = {.name = "cache-miss",
                .title = "new source: compile + store",
                .run = run_cache_miss,
                .lang = LANG_C,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
        [CASE_TESTS_ONE] = {.name = "tests-one",
                .title = "1 submission, 10 tests",
                .run = run_tests_one,
                .lang = LANG_C,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
        [CASE_TESTS_SEPARATE] = {.name = "tests-separate",
                .title = "10 submissions, 1 test each",
                .run = run_tests_separate,
                .lang = LANG_C,
                .pipeline = true,
                .part_titles = PIPELINE_PARTS},
};

static const Comparison comparisons[] = {
        {
                .name = "c",
                .title = "C (GCC) hello world, compile + run: the pipeline vs the same without a sandbox",
                .subject = CASE_C_PIPELINE,
                .baseline = CASE_C_BARE,
                .ratio_title = "x bare",
                .steps = 2,
                .target = "pipeline overhead per step within 2 ms of bare (C: compile + run)",
        },
        {
                .name = "python",
                .title = "Python print(\"hello\"), one run: the pipeline vs the same without a sandbox",
                .subject = CASE_PY_PIPELINE,
                .baseline = CASE_PY_BARE,
                .ratio_title = "x bare",
                .steps = 1,
                .target = "pipeline overhead per step within 2 ms of bare (Python: run)",
        },
        {
                .name = "cache",
                .title = "C hello world, cache enabled: a cached compilation vs a compilation every time",
                .subject = CASE_CACHE_HIT,
                .baseline = CASE_CACHE_MISS,
                .ratio_title = "x miss",
                .target = "cache hit vs miss",
        },
        {
                .name = "tests",
                .title = "10 test cases: one submission (one compilation) vs 10 submissions, no cache",
                .subject = CASE_TESTS_ONE,
                .baseline = CASE_TESTS_SEPARATE,
                .ratio_title = "x 10 sub.",
                .target = "10 tests with one compile vs 10 submissions",
        },
};

_printf_(2, 3) static void case_unavailable(Case *c, const char *fmt, ...) {
        va_list ap;

        c->available = false;
        va_start(ap, fmt);
        (void) vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
        va_end(ap);
}

/* ---- set-up ---- */

/* compile_cmd with its "%s" (the submission's options) replaced by nothing, as the judge
 * does for a submission without compiler_options. */
static char *expand_compile(const char *cmd) {
        const char *at = strstr(cmd, "%s");
        char *out;

        if (!at)
                return strdup(cmd);
        if (asprintf(&out, "%.*s%s", (int) (at - cmd), cmd, at + 2) < 0)
                return NULL;
        return out;
}

/* The run command as an argv, without a shell: only plain words are accepted. */
static int split_run_cmd(LangBench *lb) {
        size_t n = 0;

        if (strpbrk(lb->lang->run_cmd, "\"'\\$`;&|<>*?()[]{}~#\n")) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "the run command needs a shell: %s",
                        lb->lang->run_cmd);
                return -EINVAL;
        }
        lb->run_words = strdup(lb->lang->run_cmd);
        if (!lb->run_words)
                return -ENOMEM;
        for (char *p = lb->run_words; *p;) {
                p += strspn(p, " \t");
                if (!*p)
                        break;
                if (n == BENCH_MAX_RUN_ARGS) {
                        bench_set_msg(lb->reason, sizeof(lb->reason),
                                "the run command has more than %d words", BENCH_MAX_RUN_ARGS);
                        return -E2BIG;
                }
                lb->run_argv[n++] = p;
                p += strcspn(p, " \t");
                if (*p)
                        *p++ = '\0';
        }
        lb->run_argv[n] = NULL;
        if (n == 0) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "the run command is empty");
                return -EINVAL;
        }
        return 0;
}

/* The language, detected, with what the bare case needs. */
static void setup_language(Bench *b, LangId id, const char *what) {
        LangBench *lb = &b->langs[id];
        const Language *l = catalogue_find(&b->catalogue, what);
        size_t ne = 0;

        if (!l) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "language %s is not in the catalogue %s", what,
                        b->languages_dir);
                return;
        }
        lb->lang = l;
        if (!l->installed) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "%s is not installed (Debian packages: %s)",
                        l->name_template, l->packages ? l->packages : "?");
                return;
        }
        if (l->is_project) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "%s is a multi-file language", l->name);
                return;
        }
        lb->env[ne++] = (char *) "LANG=C.UTF-8";
        lb->env[ne++] = (char *) "HOME=/tmp";
        for (size_t i = 0; i < l->n_env && ne < BENCH_ENV_MAX - 1; i++)
                lb->env[ne++] = l->env[i];
        lb->env[ne++] = (char *) BENCH_PATH;
        lb->env[ne] = NULL;
        if (l->compile_cmd && !(lb->compile_cmd = expand_compile(l->compile_cmd))) {
                bench_set_msg(lb->reason, sizeof(lb->reason), "out of memory");
                return;
        }
        (void) split_run_cmd(lb);
}

static int setup_judges(Bench *b) {
        JudgeConfig cfg;
        JudgeRunner runner = {bench_runner, b, NULL};
        int r;

        r = box_supervisor_start(
                &(BoxSupervisorConfig){.slots = BENCH_SUPERVISOR_SLOTS, .client_uid = (uid_t) -1},
                &b->supervisor);
        if (r < 0) {
                bench_set_msg(
                        b->judge_reason, sizeof(b->judge_reason), "box_supervisor_start: %s", strerror(-r));
                return r;
        }
        r = box_client_connect(box_supervisor_socket(b->supervisor), &b->client);
        if (r < 0) {
                bench_set_msg(b->judge_reason, sizeof(b->judge_reason), "box_client_connect(%s): %s",
                        box_supervisor_socket(b->supervisor), strerror(-r));
                return r;
        }

        judge_config_defaults(&cfg);
        cfg.work_dir = b->tmp_path;
        r = judge_new(&cfg, runner, &b->judge);
        if (r < 0) {
                bench_set_msg(b->judge_reason, sizeof(b->judge_reason), "judge_new: %s", strerror(-r));
                return r;
        }
        cfg.cache_dir = b->cache_path;
        r = judge_new(&cfg, runner, &b->judge_cached);
        if (r < 0) {
                bench_set_msg(b->judge_reason, sizeof(b->judge_reason), "judge_new (cache %s): %s",
                        b->cache_path, strerror(-r));
                return r;
        }
        return 0;
}

static int setup_tmp(Bench *b) {
        const char *base = getenv("TMPDIR");

        if (!base || !*base)
                base = "/tmp";
        if (snprintf(b->tmp_path, sizeof(b->tmp_path), "%s/bench-judge-XXXXXX", base) >=
                (int) sizeof(b->tmp_path))
                return -ENAMETOOLONG;
        if (!mkdtemp(b->tmp_path)) {
                int r = -errno;
                b->tmp_path[0] = '\0';
                return r;
        }
        /* The judge's own directory below it must be reachable by the box users. */
        if (chmod(b->tmp_path, 0711) < 0)
                return -errno;
        b->tmp_fd = open(b->tmp_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (b->tmp_fd < 0)
                return -errno;
        if (snprintf(b->cache_path, sizeof(b->cache_path), "%s/cache", b->tmp_path) >=
                (int) sizeof(b->cache_path))
                return -ENAMETOOLONG;
        return 0;
}

static int setup(Bench *b) {
        char err[512] = "";
        Case *c;
        int r;

        r = setup_tmp(b);
        if (r < 0) {
                fprintf(stderr, "bench-judge: temporary directory %s: %s\n", b->tmp_path, strerror(-r));
                return r;
        }
        /* The supervisor before the catalogue's detection: it forks before this process has
         * anything else going. A failure leaves the pipeline cases unavailable, with why. */
        (void) setup_judges(b);

        r = catalogue_load(b->languages_dir, &b->catalogue, err, sizeof(err));
        if (r < 0) {
                fprintf(stderr, "bench-judge: languages: %s\n", err[0] ? err : strerror(-r));
                return r;
        }
        catalogue_detect(&b->catalogue);
        setup_language(b, LANG_C, BENCH_LANG_C);
        setup_language(b, LANG_PYTHON, BENCH_LANG_PYTHON);

        for (size_t i = 0; i < BENCH_TESTS; i++) {
                (void) snprintf(b->test_stdin[i], sizeof(b->test_stdin[i]), "%zu\n", i + 1);
                (void) snprintf(b->test_expected[i], sizeof(b->test_expected[i]), "%zu\n", 2 * (i + 1));
                b->tests[i] = (JudgeTest){
                        .stdin_data = b->test_stdin[i],
                        .stdin_len = strlen(b->test_stdin[i]),
                        .expected = b->test_expected[i],
                        .expected_len = strlen(b->test_expected[i]),
                        .has_expected = true,
                };
        }

        for (size_t i = 0; i < _CASE_MAX; i++) {
                c = &b->cases[i];
                if (!c->selected)
                        continue;
                if (b->langs[c->lang].reason[0])
                        case_unavailable(c, "%s", b->langs[c->lang].reason);
                else if (c->pipeline && b->judge_reason[0])
                        case_unavailable(c, "%s", b->judge_reason);
        }

        /* The cache-hit case needs its entry: store it once. */
        c = &b->cases[CASE_CACHE_HIT];
        if (c->selected && c->available) {
                JudgeSubmission s = submission(b->langs[LANG_C].lang, c_hello, sizeof(c_hello) - 1);
                char msg[BENCH_REASON_MAX] = "";
                Sample sample = {};

                if (judge_timed(b, b->judge_cached, &s, 0, msg, sizeof(msg), &sample) != 0)
                        case_unavailable(c, "storing the cache entry: %s", msg);
        }

        /* One untimed probe run per case: a case that cannot run even once is unavailable,
         * with the reason it gave, rather than 50 failures. */
        for (size_t i = 0; i < _CASE_MAX; i++) {
                char msg[BENCH_REASON_MAX] = "";
                Sample sample = {};

                c = &b->cases[i];
                if (!c->selected || !c->available)
                        continue;
                r = c->run(b, msg, sizeof(msg), &sample);
                if (r != 0)
                        case_unavailable(c, "probe run failed: %s", msg);
        }
        return 0;
}

/* ---- measuring ---- */

static void run_one(void *userdata, size_t index, bool recorded) {
        Bench *b = userdata;
        Case *c = &b->cases[index];
        char msg[BENCH_REASON_MAX] = "";
        Sample sample = {};
        int r;

        r = c->run(b, msg, sizeof(msg), &sample);
        if (!bench_tally_add(&c->tally, recorded, r, msg))
                return;
        c->samples_ns[c->n_samples] = sample.ns;
        for (size_t p = 0; p < _PART_MAX; p++)
                c->parts_ns[p][c->n_samples] = sample.parts_ns[p];
        c->n_samples++;
}

static int measure(Bench *b) {
        size_t order[_CASE_MAX], n = 0;

        for (size_t i = 0; i < _CASE_MAX; i++) {
                Case *c = &b->cases[i];

                if (!c->selected || !c->available)
                        continue;
                order[n++] = i;
                c->samples_ns = calloc(b->rounds, sizeof(uint64_t));
                if (!c->samples_ns)
                        return -ENOMEM;
                for (size_t p = 0; p < _PART_MAX; p++) {
                        c->parts_ns[p] = calloc(b->rounds, sizeof(uint64_t));
                        if (!c->parts_ns[p])
                                return -ENOMEM;
                }
        }
        if (n == 0)
                return 0;

        if (getloadavg(b->load_before, 3) != 3)
                b->load_before[0] = b->load_before[1] = b->load_before[2] = -1;
        bench_interleave(b->warmup, b->rounds, order, n, run_one, b);
        return 0;
}

static bool case_usable(const Case *c) {
        return c->selected && c->available && c->n_samples > 0;
}

static BenchStats case_stats(const Case *c) {
        return bench_compute_stats(c->samples_ns, c->n_samples, 1e6);
}

static BenchStats part_stats(const Case *c, PartId p) {
        return bench_compute_stats(c->parts_ns[p], c->n_samples, 1e6);
}

/* The numbers of one comparison; valid only when both cases have samples. */
typedef struct Verdict {
        bool valid;
        double subject_ms, baseline_ms, ratio, difference_ms, per_step_ms;
        bool met; /* steps > 0 only */
} Verdict;

static Verdict comparison_verdict(const Bench *b, const Comparison *cmp) {
        const Case *s = &b->cases[cmp->subject], *base = &b->cases[cmp->baseline];
        Verdict v = {.valid = false};

        if (!case_usable(s) || !case_usable(base))
                return v;
        v.subject_ms = case_stats(s).median_ms;
        v.baseline_ms = case_stats(base).median_ms;
        if (v.baseline_ms <= 0)
                return v;
        v.valid = true;
        v.ratio = v.subject_ms / v.baseline_ms;
        v.difference_ms = v.subject_ms - v.baseline_ms;
        if (cmp->steps > 0) {
                v.per_step_ms = v.difference_ms / cmp->steps;
                v.met = v.per_step_ms <= BENCH_OVERHEAD_TARGET_MS;
        }
        return v;
}

/* Why a comparison has no verdict. */
static void comparison_missing(const Bench *b, const Comparison *cmp, char *out, size_t outsz) {
        const CaseId ids[] = {cmp->subject, cmp->baseline};

        bench_set_msg(out, outsz, "not measured");
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                const Case *c = &b->cases[ids[i]];

                if (!c->selected) {
                        bench_set_msg(out, outsz, "%s not selected", c->name);
                        return;
                }
                if (!c->available) {
                        bench_set_msg(out, outsz, "%s unavailable: %s", c->name, c->reason);
                        return;
                }
                if (c->n_samples == 0) {
                        bench_set_msg(
                                out, outsz, "%s: no successful run (%s)", c->name, c->tally.first_failure);
                        return;
                }
        }
}

static void format_target(const Bench *b, const Comparison *cmp, char *out, size_t outsz) {
        Verdict v = comparison_verdict(b, cmp);

        if (!v.valid) {
                char why[BENCH_REASON_MAX];

                comparison_missing(b, cmp, why, sizeof(why));
                bench_set_msg(out, outsz, "UNKNOWN  %s", why);
        } else if (cmp->steps > 0)
                bench_set_msg(out, outsz,
                        "%-8s %+.2f ms per step (%.2f ms vs %.2f ms bare: %+.2f ms over %u step%s)",
                        v.met ? "MET" : "NOT MET", v.per_step_ms, v.subject_ms, v.baseline_ms,
                        v.difference_ms, cmp->steps, cmp->steps > 1 ? "s" : "");
        else
                bench_set_msg(out, outsz, "%-8s %.3fx (%.2f ms vs %.2f ms; %.1fx faster)", "ratio", v.ratio,
                        v.subject_ms, v.baseline_ms, v.subject_ms > 0 ? v.baseline_ms / v.subject_ms : 0.0);
}

/* ---- reporting ---- */

static const BenchTable table = {.title_width = 40, .ratio_width = 9};

static void print_case_rows(const Case *c, BenchStats base) {
        BenchStats s;
        char ratio[16];

        if (!c->selected)
                return;
        if (!c->available) {
                bench_table_row_unavailable(&table, c->title);
                return;
        }
        s = case_stats(c);
        if (!s.valid) {
                bench_table_row_no_samples(&table, c->title, &c->tally);
                return;
        }
        bench_format_ratio(ratio, sizeof(ratio), s, base, 3);
        bench_table_row(&table, c->title, &c->tally, s, ratio);
        for (size_t p = 0; p < _PART_MAX; p++) {
                char title[64];

                if (!c->part_titles[p])
                        continue;
                (void) snprintf(title, sizeof(title), "  %s", c->part_titles[p]);
                bench_table_row(&table, title, NULL, part_stats(c, p), "");
        }
}

static void print_comparison(const Bench *b, size_t idx) {
        const Comparison *cmp = &comparisons[idx];
        const Case *s = &b->cases[cmp->subject], *base = &b->cases[cmp->baseline];
        BenchStats bs = case_usable(base) ? case_stats(base) : (BenchStats){.valid = false};
        Verdict v = comparison_verdict(b, cmp);

        if (!s->selected && !base->selected)
                return;
        printf("== %zu. %s ==\n", idx + 1, cmp->title);
        bench_table_header(&table, cmp->ratio_title);
        print_case_rows(s, bs);
        print_case_rows(base, bs);
        if (v.valid) {
                printf("difference of the medians: %+.2f ms", v.difference_ms);
                if (cmp->steps > 0)
                        printf(" = %+.2f ms per step (%u step%s; target: within %.0f ms)", v.per_step_ms,
                                cmp->steps, cmp->steps > 1 ? "s" : "", BENCH_OVERHEAD_TARGET_MS);
                printf("\n");
                if (cmp->steps > 0) {
                        /* Where the overhead is: the sandbox runs against bare processes, and
                         * the judge's own code against the bare case's own bookkeeping. */
                        double box = part_stats(s, PART_PROCESSES).median_ms -
                                     part_stats(base, PART_PROCESSES).median_ms;
                        double own =
                                part_stats(s, PART_REST).median_ms - part_stats(base, PART_REST).median_ms;
                        printf("  of which (medians of the parts): sandbox vs bare processes %+.2f ms "
                               "(%+.2f per step), judge's own code vs bare bookkeeping %+.2f ms "
                               "(%+.2f per step)\n",
                                box, box / cmp->steps, own, own / cmp->steps);
                }
        }
        const Case *both[] = {s, base};
        for (size_t i = 0; i < ELEMENTSOF(both); i++) {
                const Case *c = both[i];

                if (c->selected)
                        bench_print_case_notes(c->name, c->available ? NULL : c->reason, &c->tally);
        }
        printf("\n");
}

static void print_report(const Bench *b) {
        struct utsname u;

        if (uname(&u) < 0)
                memset(&u, 0, sizeof(u));
        printf("bench-judge: %u warm-up + %u recorded rounds, interleaved; runner: resident supervisor "
               "(%d slots, one client)\n",
                b->warmup, b->rounds, BENCH_SUPERVISOR_SLOTS);
        printf("host: Linux %s, %ld CPUs; submission limits: Judge0's defaults (cpu 5 s, wall 10 s, "
               "memory 128000 KiB)\n",
                u.release, sysconf(_SC_NPROCESSORS_ONLN));
        /* The numbers are only as good as the machine is quiet: say how busy it was. */
        if (b->load_before[0] >= 0)
                printf("load average when the rounds started: %.2f %.2f %.2f%s\n", b->load_before[0],
                        b->load_before[1], b->load_before[2],
                        b->load_before[0] > 0.5 * (double) sysconf(_SC_NPROCESSORS_ONLN)
                                ? " (busy: absolute times are noisy, ratios less so)"
                                : "");
        for (size_t i = 0; i < _LANG_MAX; i++) {
                const LangBench *lb = &b->langs[i];

                if (!lb->lang)
                        continue;
                printf("language %d: %s; compile: %s; run: %s\n", lb->lang->id,
                        lb->lang->name ? lb->lang->name : lb->lang->name_template,
                        lb->compile_cmd ? lb->compile_cmd : "-", lb->lang->run_cmd);
        }
        printf("\n");
        for (size_t i = 0; i < ELEMENTSOF(comparisons); i++)
                print_comparison(b, i);

        printf("== targets ==\n");
        for (size_t i = 0; i < ELEMENTSOF(comparisons); i++) {
                char line[2 * BENCH_REASON_MAX];

                format_target(b, &comparisons[i], line, sizeof(line));
                printf("  %-66s %s\n", comparisons[i].target, line);
        }
        fflush(stdout);
}

static const char *const part_keys[_PART_MAX] = {
        [PART_PROCESSES] = "processes",
        [PART_PROGRAM] = "program",
        [PART_REST] = "rest",
};

static void json_case(FILE *f, const Case *c) {
        fputs("{\"name\": ", f);
        json_write_cstring(f, c->name);
        fputs(", \"title\": ", f);
        json_write_cstring(f, c->title);
        if (!c->available) {
                fputs(", \"available\": false, \"reason\": ", f);
                json_write_cstring(f, c->reason);
                fputs("}", f);
                return;
        }
        fputs(", \"available\": true, ", f);
        bench_json_tally(f, &c->tally);
        fputs(", ", f);
        bench_json_stats(f, "", case_stats(c));
        fputs(", \"first_failure\": ", f);
        if (c->tally.failures)
                json_write_cstring(f, c->tally.first_failure);
        else
                fputs("null", f);
        fputs(", \"parts\": {", f);
        bool first = true;
        for (size_t p = 0; p < _PART_MAX; p++) {
                if (!c->part_titles[p])
                        continue;
                fprintf(f, "%s\"%s\": {\"title\": ", first ? "" : ", ", part_keys[p]);
                first = false;
                json_write_cstring(f, c->part_titles[p]);
                fputs(", ", f);
                bench_json_stats(f, "", part_stats(c, p));
                fputs("}", f);
        }
        fputs("}, ", f);
        bench_json_samples_us(f, c->samples_ns, c->n_samples);
        fputs("}", f);
}

static int write_json(const Bench *b) {
        struct utsname u;
        FILE *f;
        bool first;

        if (uname(&u) < 0)
                memset(&u, 0, sizeof(u));
        f = fopen(b->json_path, "we");
        if (!f)
                return -errno;

        fprintf(f, "{\n  \"warmup\": %u,\n  \"rounds\": %u,\n  \"kernel\": ", b->warmup, b->rounds);
        json_write_cstring(f, u.release);
        if (b->load_before[0] >= 0)
                fprintf(f, ",\n  \"load_average_before\": [%.2f, %.2f, %.2f]", b->load_before[0],
                        b->load_before[1], b->load_before[2]);
        fprintf(f,
                ",\n  \"cpus\": %ld,\n  \"runner\": {\"kind\": \"supervisor\", \"slots\": %d, \"clients\": "
                "1},\n",
                sysconf(_SC_NPROCESSORS_ONLN), BENCH_SUPERVISOR_SLOTS);
        fprintf(f, "  \"overhead_target_ms_per_step\": %.1f,\n  \"tests\": %d,\n  \"languages\": [",
                BENCH_OVERHEAD_TARGET_MS, BENCH_TESTS);
        first = true;
        for (size_t i = 0; i < _LANG_MAX; i++) {
                const LangBench *lb = &b->langs[i];

                if (!lb->lang)
                        continue;
                fprintf(f, "%s\n    {\"id\": %d, \"name\": ", first ? "" : ",", lb->lang->id);
                first = false;
                json_write_cstring(f, lb->lang->name ? lb->lang->name : lb->lang->name_template);
                fputs(", \"version\": ", f);
                json_write_cstring(f, lb->lang->version);
                fputs(", \"compile\": ", f);
                json_write_cstring(f, lb->compile_cmd);
                fputs(", \"run\": ", f);
                json_write_cstring(f, lb->lang->run_cmd);
                fputs("}", f);
        }
        fputs("\n  ],\n  \"cases\": [", f);
        first = true;
        for (size_t i = 0; i < _CASE_MAX; i++) {
                const Case *c = &b->cases[i];

                if (!c->selected)
                        continue;
                fputs(first ? "\n    " : ",\n    ", f);
                first = false;
                json_case(f, c);
        }
        fputs("\n  ],\n  \"comparisons\": [", f);
        for (size_t i = 0; i < ELEMENTSOF(comparisons); i++) {
                const Comparison *cmp = &comparisons[i];
                Verdict v = comparison_verdict(b, cmp);
                char line[2 * BENCH_REASON_MAX];

                format_target(b, cmp, line, sizeof(line));
                fprintf(f,
                        "%s\n    {\"name\": \"%s\", \"subject\": \"%s\", \"baseline\": \"%s\", \"target\": ",
                        i ? "," : "", cmp->name, b->cases[cmp->subject].name, b->cases[cmp->baseline].name);
                json_write_cstring(f, cmp->target);
                if (v.valid) {
                        fprintf(f,
                                ", \"subject_median_ms\": %.4f, \"baseline_median_ms\": %.4f, \"ratio\": "
                                "%.4f, "
                                "\"difference_ms\": %.4f",
                                v.subject_ms, v.baseline_ms, v.ratio, v.difference_ms);
                        if (cmp->steps > 0)
                                fprintf(f, ", \"steps\": %u, \"per_step_ms\": %.4f, \"met\": %s", cmp->steps,
                                        v.per_step_ms, v.met ? "true" : "false");
                        else
                                fputs(", \"met\": null", f);
                } else
                        fputs(", \"met\": null", f);
                fputs(", \"detail\": ", f);
                json_write_cstring(f, line);
                fputs("}", f);
        }
        fputs("\n  ]\n}\n", f);
        return bench_json_close(f);
}

/* ---- command line ---- */

static void help(void) {
        printf("Usage: bench-judge [OPTIONS]\n"
               "\n"
               "Measure the judge pipeline (judge_submission through a resident supervisor) against the\n"
               "same work done without a sandbox, the compile cache's hit against a miss, and one\n"
               "submission with %d test cases against %d submissions. Needs root (the supervisor) and the\n"
               "catalogue's C (GCC, id %s) and Python (id %s) installed.\n"
               "\n"
               "  --warmup=N      warm-up rounds, discarded (default 5)\n"
               "  --rounds=N      recorded rounds (default 50)\n"
               "  --cases=LIST    comma-separated subset of: "
               "c-pipeline,c-bare,py-pipeline,py-bare,\n"
               "                  cache-hit,cache-miss,tests-one,tests-separate\n"
               "  --languages=DIR the language catalogue (default: %s)\n"
               "  --json=FILE     also write the results as JSON\n"
               "  -h, --help      this text\n",
                BENCH_TESTS, BENCH_TESTS, BENCH_LANG_C, BENCH_LANG_PYTHON, catalogue_default_dir());
}

static int select_cases(Bench *b, const char *list) {
        const char *names[_CASE_MAX];
        bool selected[_CASE_MAX];
        int r;

        for (size_t i = 0; i < _CASE_MAX; i++)
                names[i] = b->cases[i].name;
        r = bench_select_cases("bench-judge", list, names, selected, _CASE_MAX);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _CASE_MAX; i++)
                b->cases[i].selected = selected[i];
        return 0;
}

static int parse_argv(Bench *b, int argc, char **argv) {
        enum { ARG_WARMUP = 0x100, ARG_ROUNDS, ARG_CASES, ARG_LANGUAGES, ARG_JSON };
        static const struct option options[] = {
                {"warmup", required_argument, NULL, ARG_WARMUP},
                {"rounds", required_argument, NULL, ARG_ROUNDS},
                {"cases", required_argument, NULL, ARG_CASES},
                {"languages", required_argument, NULL, ARG_LANGUAGES},
                {"json", required_argument, NULL, ARG_JSON},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        int opt, r;

        while ((opt = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
                switch (opt) {
                case ARG_WARMUP:
                        r = bench_parse_rounds("bench-judge", "warmup", optarg, 0, &b->warmup);
                        if (r < 0)
                                return r;
                        break;
                case ARG_ROUNDS:
                        r = bench_parse_rounds("bench-judge", "rounds", optarg, 1, &b->rounds);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CASES:
                        r = select_cases(b, optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_LANGUAGES:
                        b->languages_dir = optarg;
                        break;
                case ARG_JSON:
                        b->json_path = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                default:
                        return -EINVAL;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "bench-judge: unexpected argument '%s'\n", argv[optind]);
                return -EINVAL;
        }
        return 1;
}

static void bench_done(Bench *b) {
        b->judge = judge_free(b->judge);
        b->judge_cached = judge_free(b->judge_cached);
        b->client = box_client_free(b->client);
        b->supervisor = box_supervisor_free(b->supervisor);
        for (size_t i = 0; i < _LANG_MAX; i++) {
                free(b->langs[i].compile_cmd);
                free(b->langs[i].run_words);
                b->langs[i] = (LangBench){};
        }
        catalogue_done(&b->catalogue);
        for (size_t i = 0; i < _CASE_MAX; i++) {
                free(b->cases[i].samples_ns);
                b->cases[i].samples_ns = NULL;
                for (size_t p = 0; p < _PART_MAX; p++) {
                        free(b->cases[i].parts_ns[p]);
                        b->cases[i].parts_ns[p] = NULL;
                }
        }
        b->tmp_fd = safe_close(b->tmp_fd);
        if (b->tmp_path[0]) {
                int r = remove_tree_at(AT_FDCWD, b->tmp_path, 0);
                if (r < 0)
                        fprintf(stderr, "bench-judge: removing %s: %s\n", b->tmp_path, strerror(-r));
                b->tmp_path[0] = '\0';
        }
        b->null_fd = safe_close(b->null_fd);
}

int main(int argc, char **argv) {
        Bench b = {
                .warmup = 5,
                .rounds = 50,
                .null_fd = -EBADF,
                .tmp_fd = -EBADF,
                .load_before = {-1, -1, -1},
        };
        int r;

        for (size_t i = 0; i < _CASE_MAX; i++) {
                b.cases[i] = case_table[i];
                b.cases[i].selected = true;
                b.cases[i].available = true;
        }

        r = parse_argv(&b, argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
        if (!b.languages_dir)
                b.languages_dir = catalogue_default_dir();

        /* A supervisor that dies must show up as failed runs, not kill the harness. */
        (void) signal(SIGPIPE, SIG_IGN);

        b.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (b.null_fd < 0) {
                fprintf(stderr, "bench-judge: /dev/null: %s\n", strerror(errno));
                return EXIT_FAILURE;
        }

        r = setup(&b);
        if (r >= 0)
                r = measure(&b);
        if (r < 0) {
                fprintf(stderr, "bench-judge: %s\n", strerror(-r));
                bench_done(&b);
                return EXIT_FAILURE;
        }

        print_report(&b);
        if (b.json_path) {
                r = write_json(&b);
                if (r < 0) {
                        fprintf(stderr, "bench-judge: %s: %s\n", b.json_path, strerror(-r));
                        bench_done(&b);
                        return EXIT_FAILURE;
                }
        }
        bench_done(&b);
        return EXIT_SUCCESS;
}
