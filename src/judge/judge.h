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
#include "model/limits.h"
#include "model/status.h"
#include "sandbox/box.h"

/* How a sandbox run is made: in-process (BoxContext) or through the supervisor (BoxClient). */
typedef struct JudgeRunner {
        int (*run)(void *userdata, const BoxSpec *spec, BoxResult *ret);
        void *userdata;
        /* A second slot, for the interactor that runs at the same time as the program (run
         * with the same function, on another thread); NULL = interactors are refused. */
        void *peer_userdata;
} JudgeRunner;
int judge_runner_box_context(void *ctx, const BoxSpec *spec, BoxResult *ret);
int judge_runner_box_client(void *client, const BoxSpec *spec, BoxResult *ret);

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
        const Limits *limits; /* NULL = the submission's */
} JudgeTest;

typedef struct JudgeOutcome JudgeOutcome;

/* An interactive run (Piston's WebSocket): the program's streams are the caller's, read
 * and written while it runs, and the caller hears of each stage. */
typedef struct JudgeLive {
        int stdin_fd; /* the program reads what the caller writes to the other end */
        int stdout_fd, stderr_fd; /* the program's output, as produced (capped as usual) */
        int control_fd; /* the caller's requests to the sandbox (BoxSpec.control_fd), or -1 */
        void (*stage)(void *userdata, bool run); /* a stage starts: compile or run */
        /* a stage ended: the sandbox's result, and the compile stage's output */
        void (*exited)(void *userdata, bool run, const BoxResult *r, const char *output, size_t len);
        void *userdata;
} JudgeLive;

/* A checker or an interactor: a single-file program in any served language, compiled once
 * (through the compile cache) and run in the sandbox under its own limits. */
typedef struct JudgeProgram {
        const Language *language;
        const char *source;
        size_t source_len;
        Limits limits;
} JudgeProgram;

typedef struct JudgeSubmission {
        const Language *language;
        const char *source;
        size_t source_len;
        const uint8_t *additional_files; /* a zip (bytes), or NULL */
        size_t additional_files_len;
        const char *compiler_options; /* NULL = none */
        const char *command_line_arguments; /* NULL = none */
        Limits limits;
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
        /* testlib's conventions (exit codes 0 OK, 1 WA, 2 PE, 3 FAIL, 7 points): a checker
         * decides each test instead of the comparison, from /box/input.txt, output.txt and
         * answer.txt; an interactor talks with the program through its stdin and stdout
         * and decides the same way; with both, the checker judges the output.txt the
         * interactor wrote once it accepts. NULL = none. */
        const JudgeProgram *checker;
        const JudgeProgram *interactor;
        /* Called on the judging thread after each test case's verdict (NULL = none): live
         * progress. index is the test's; o is valid during the call only. */
        void (*on_test)(void *userdata, size_t index, const JudgeOutcome *o);
        void *on_test_userdata;
        /* NULL = none; with it, one run (no tests, one run): the output is the caller's
         * and not in the result */
        const JudgeLive *live;
} JudgeSubmission;

struct JudgeOutcome {
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
        double points; /* 0..1: 1 accepted, the checker's share for a partial answer, else 0 */
};

typedef struct JudgeResult {
        int status_id; /* overall: the first failing test's, else Accepted */
        char *compile_output; /* NULL when none */
        size_t compile_output_len;
        bool compiled; /* a compile step ran or came from the cache */
        bool cache_hit; /* the compilation came from the cache */
        JudgeOutcome *tests;
        size_t n_tests;
        size_t overall_index; /* the test whose fields stand for the submission */
        double score; /* the sum of the tests' points */
} JudgeResult;

typedef struct JudgeConfig {
        /* The work base: the service's private directory (0700, refused when someone else
         * owns it). NULL = <$TMPDIR, else /dev/shm, else /tmp>/coderunner-<euid>. Each
         * Judge makes its own directory in it, on a tmpfs of its own when root. */
        const char *work_dir;
        uint64_t work_max_kib; /* size of a Judge's tmpfs (0 = 512 MiB) */
        /* The unprivileged user the service becomes after start-up (owner_uid 0 = the
         * process's own): the work base and each Judge's tmpfs belong to it, so that the
         * Judges keep working once root is gone. */
        uid_t owner_uid;
        gid_t owner_gid;
        uint32_t work_max_inodes; /* its inodes (0 = 32768) */
        const char *cache_dir; /* compile cache (NULL = no cache) */
        uint64_t cache_max_bytes; /* LRU eviction above this */
        uint64_t cache_entry_max_bytes; /* a bigger compilation is not cached (0 = the total) */
        Limits compile_limits; /* Judge0: the MAX_* values */
        uint64_t max_extract_bytes; /* additional_files: total uncompressed size */
        uint32_t max_extract_files;
        uint64_t default_output_kib;
        uid_t box_uid_hint; /* unused by now */
} JudgeConfig;

void judge_config_defaults(JudgeConfig *cfg);

typedef struct Judge Judge;
/* Make a Judge: its directory in the work base (first reclaiming the directories of dead
 * instances there) and the compile cache. *ret is the caller's: judge_free(). */
int judge_new(const JudgeConfig *cfg, JudgeRunner runner, Judge **ret);
/* Remove the Judge's directory and everything in it, and free it. */
Judge *judge_free(Judge *j);
/* The Judge's directory (for tests and logs; changes when it had to be made again). */
const char *judge_work_dir(const Judge *j);
/* Whether the Judge's directory is a tmpfs of its own, bounded by work_max_kib and
 * work_max_inodes (false: not root, or not allowed to mount; a plain 0700 directory). */
bool judge_work_bounded(const Judge *j);
/* How many stale directories of dead instances judge_new() removed. */
unsigned judge_reclaimed_dirs(const Judge *j);

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

/* What a checker's or an interactor's run says about a test (testlib's conventions). */
typedef struct JudgeCheck {
        int status_id; /* 3, 4, or 13 when the checker itself failed */
        double points; /* 0..1 */
        char *message; /* malloc'd, NULL when none; one line, printable ASCII, bounded */
} JudgeCheck;
#define JUDGE_CHECK_MESSAGE_MAX 256
/* Decide from how the checker's run ended (its BoxResult) and what it wrote: exit code 0
 * accepted, 1 or 4 (testlib's "dirt") wrong answer, 2 or 8 (testlib's unexpected end of
 * file) presentation error (wrong answer, "Presentation error: "),
 * 3 or anything else (a limit, a signal, another code) the checker's failure (13,
 * "<who> failed: ", who being "Checker" or "Interactor"), 7 partial: "points X" (testlib's quitp()) first on stderr, else
 * stdout, with 0 <= X <= 1 (1 is accepted). The message is the first line of stderr, else
 * of stdout. *ret is the caller's (judge_check_done()). */
int judge_check_decide(const char *who, const BoxResult *box, const char *err, size_t err_len,
        const char *out, size_t out_len, JudgeCheck *ret);
void judge_check_done(JudgeCheck *c);

/* Extract a zip into dirfd safely: no absolute paths, no "..", no links, devices or
 * other special files, at most max_bytes in total and max_files entries; never
 * overwrites (O_EXCL). Errors name the entry and the reason in errbuf. */
int judge_extract_zip(int dirfd, const uint8_t *zip, size_t len, uint64_t max_bytes, uint32_t max_files,
        char *errbuf, size_t errlen);
