/* SPDX-License-Identifier: MIT */
/* bench-box: what one sandboxed execution costs, measured side by side in one run.
 *
 * Cases (interleaved rounds after a warm-up, medians):
 *   bare        fork + execve + waitpid, stdio on /dev/null
 *   supervisor  box_client_run() against a resident supervisor started once
 *   inprocess   box_run() on a BoxContext made once
 *   cli         fork+exec of `coderunner box run ...`
 *   cli-connect the same through the supervisor of `supervisor` (--connect)
 *   bwrap       bubblewrap with the arguments of a typical sandboxed run
 *
 * All cases are interleaved: round r runs every case once, starting at case r mod N, so
 * drift and background noise hit every case alike. W warm-up rounds are discarded, then R
 * rounds are recorded. Only successful runs enter the statistics; failures are counted.
 * A benchmark, not a test: it prints numbers and ratios and asserts nothing. */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/macro.h"
#include "sandbox/box.h"

#include "bench-util.h"

extern char **environ;

/* The limits every sandboxed case runs under (the same for the library and the CLI). */
#define BENCH_WALL_TIME_SEC 5
#define BENCH_MEMORY_KIB 262144
#define BENCH_PROCESSES 64

#define BENCH_MAX_PROGRAM_ARGS 64
#define BENCH_MAX_ARGV (BENCH_MAX_PROGRAM_ARGS + 32)
#define BENCH_PROBE_OUTPUT_MAX 4096

/* The supervisor gets two slots: a connection holds a slot for as long as it is open, so the
 * harness's own client takes one and each `box run --connect` needs the other (with one slot
 * it would wait forever). The in-process context takes the next slot, so that it never
 * shares a box uid with the supervisor. */
#define BENCH_SUPERVISOR_SLOTS 2
#define BENCH_INPROCESS_SLOT BENCH_SUPERVISOR_SLOTS

typedef enum CaseId {
        CASE_BARE,
        CASE_SUPERVISOR,
        CASE_INPROCESS,
        CASE_CLI,
        CASE_CLI_CONNECT,
        CASE_BWRAP,
        _CASE_MAX,
} CaseId;

typedef struct Bench Bench;

/* One execution of a case. Returns 0 when the program ran and succeeded, 1 when the run
 * failed (reason in msg), -errno when the harness itself failed (reason in msg).
 * *ret_ns is the wall time of the execution; *ret_inner_us is what the sandbox itself
 * reported as the program's wall time (library cases only, else untouched). When
 * probe_output is set, the process cases capture stderr so that msg can quote it. */
typedef int (*RunFn)(
        Bench *b, bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns, uint64_t *ret_inner_us);

typedef struct Case {
        const char *name; /* key in --cases and in the JSON */
        const char *title; /* label in the table */
        RunFn run;

        bool selected;
        bool available;
        char reason[BENCH_REASON_MAX]; /* why not available */

        uint64_t *samples_ns; /* successful recorded runs, in order */
        size_t n_samples;
        uint64_t *inner_us; /* sandbox-reported wall time of the same runs (library cases) */
        size_t n_inner;
        BenchTally tally;
        uint32_t unenforced; /* union of BoxResult.unenforced seen */
} Case;

struct Bench {
        unsigned warmup;
        unsigned rounds;
        const char *cli; /* path of the coderunner binary, or NULL */
        const char *bwrap; /* path of bwrap */
        const char *json_path;

        char **program; /* NULL-terminated argv of the measured program */
        size_t n_program;

        int null_fd;

        BoxSpec spec;
        BoxSupervisor *supervisor;
        BoxClient *client;
        BoxContext *context;

        char *cli_argv[BENCH_MAX_ARGV];
        char *cli_connect_argv[BENCH_MAX_ARGV];
        char *bwrap_argv[BENCH_MAX_ARGV];
        char connect_arg[PATH_MAX + 16];
        char symlink_targets[3][PATH_MAX];

        Case cases[_CASE_MAX];
};

/* ---- process cases ---- */

/* Fork, exec argv[0] with stdin/stdout on /dev/null, wait. stderr goes to /dev/null too,
 * or into a pipe whose first line is quoted in msg when capture is set. */
static int spawn_and_wait(
        Bench *b, char *const *argv, bool capture, char *msg, size_t msgsz, uint64_t *ret_ns) {
        _cleanup_close_ int rfd = -EBADF, wfd = -EBADF;
        char out[BENCH_PROBE_OUTPUT_MAX];
        size_t out_len = 0;
        uint64_t t0, t1;
        pid_t pid;
        int st, err_fd = b->null_fd;

        if (capture) {
                int p[2];

                if (pipe2(p, O_CLOEXEC) < 0) {
                        bench_set_msg(msg, msgsz, "pipe2: %s", strerror(errno));
                        return -errno;
                }
                rfd = p[0];
                wfd = p[1];
                err_fd = wfd;
        }

        t0 = bench_now_ns();
        pid = fork();
        if (pid < 0) {
                int r = -errno;
                bench_set_msg(msg, msgsz, "fork: %s", strerror(errno));
                return r;
        }
        if (pid == 0) {
                /* Only async-signal-safe calls from here to execve(). */
                if (dup2(b->null_fd, STDIN_FILENO) < 0 || dup2(b->null_fd, STDOUT_FILENO) < 0 ||
                        dup2(err_fd, STDERR_FILENO) < 0)
                        _exit(126);
                execve(argv[0], argv, environ);
                _exit(127);
        }

        if (capture) {
                wfd = safe_close(wfd);
                for (;;) {
                        ssize_t n;
                        char sink[512];

                        if (out_len < sizeof(out) - 1)
                                n = read(rfd, out + out_len, sizeof(out) - 1 - out_len);
                        else
                                n = read(rfd, sink, sizeof(sink));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        if (out_len < sizeof(out) - 1)
                                out_len += (size_t) n;
                }
                out[out_len] = '\0';
        }

        if (RETRY_EINTR(waitpid(pid, &st, 0)) < 0) {
                int r = -errno;
                bench_set_msg(msg, msgsz, "waitpid: %s", strerror(errno));
                return r;
        }
        t1 = bench_now_ns();
        *ret_ns = t1 - t0;

        if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
                return 0;

        if (capture && out_len > 0) {
                char line[BENCH_REASON_MAX / 2], status[64];

                bench_first_line(out, line, sizeof(line));
                bench_describe_wait_status(st, status, sizeof(status));
                bench_set_msg(msg, msgsz, "%s: %s", status, line);
        } else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
                bench_set_msg(msg, msgsz, "exit status 127 (execve of %s failed?)", argv[0]);
        else
                bench_describe_wait_status(st, msg, msgsz);
        return 1;
}

static int run_bare(Bench *b, bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        _unused_ uint64_t *ret_inner_us) {
        return spawn_and_wait(b, b->program, probe_output, msg, msgsz, ret_ns);
}

static int run_cli(Bench *b, bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        _unused_ uint64_t *ret_inner_us) {
        return spawn_and_wait(b, b->cli_argv, probe_output, msg, msgsz, ret_ns);
}

static int run_cli_connect(Bench *b, bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        _unused_ uint64_t *ret_inner_us) {
        return spawn_and_wait(b, b->cli_connect_argv, probe_output, msg, msgsz, ret_ns);
}

static int run_bwrap(Bench *b, bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        _unused_ uint64_t *ret_inner_us) {
        return spawn_and_wait(b, b->bwrap_argv, probe_output, msg, msgsz, ret_ns);
}

/* ---- library cases ---- */

static int check_box_result(Case *c, const char *what, int r, const BoxResult *res, char *msg, size_t msgsz,
        uint64_t *ret_inner_us) {
        if (r < 0) {
                bench_set_msg(msg, msgsz, "%s: %s", what, strerror(-r));
                return 1;
        }
        c->unenforced |= res->unenforced;
        *ret_inner_us = res->wall_time_usec;
        if (res->status == BOX_STATUS_OK)
                return 0;

        const char *limit = box_limit_to_string(res->limit);
        char line[BENCH_REASON_MAX / 2];

        bench_first_line(res->message, line, sizeof(line));
        bench_set_msg(msg, msgsz, "status %s%s%s, exit code %d, signal %d%s%s",
                box_status_to_string(res->status), limit ? " limit " : "", limit ? limit : "",
                res->exit_code, res->signal, line[0] ? ": " : "", line);
        return 1;
}

static int run_supervisor(Bench *b, _unused_ bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        uint64_t *ret_inner_us) {
        BoxResult res;
        uint64_t t0;
        int r;

        memset(&res, 0, sizeof(res));
        t0 = bench_now_ns();
        r = box_client_run(b->client, &b->spec, &res);
        *ret_ns = bench_now_ns() - t0;
        return check_box_result(
                &b->cases[CASE_SUPERVISOR], "box_client_run", r, &res, msg, msgsz, ret_inner_us);
}

static int run_inprocess(Bench *b, _unused_ bool probe_output, char *msg, size_t msgsz, uint64_t *ret_ns,
        uint64_t *ret_inner_us) {
        BoxResult res;
        uint64_t t0;
        int r;

        memset(&res, 0, sizeof(res));
        t0 = bench_now_ns();
        r = box_run(b->context, &b->spec, &res);
        *ret_ns = bench_now_ns() - t0;
        return check_box_result(&b->cases[CASE_INPROCESS], "box_run", r, &res, msg, msgsz, ret_inner_us);
}

/* ---- set-up ---- */

static const Case case_table[_CASE_MAX] = {
        [CASE_BARE] = {.name = "bare", .title = "fork+exec+wait (bare)", .run = run_bare},
        [CASE_SUPERVISOR] = {.name = "supervisor",
                .title = "library: resident supervisor",
                .run = run_supervisor},
        [CASE_INPROCESS] = {.name = "inprocess",
                .title = "library: in-process box_run",
                .run = run_inprocess},
        [CASE_CLI] = {.name = "cli", .title = "CLI: coderunner box run", .run = run_cli},
        [CASE_CLI_CONNECT] = {.name = "cli-connect",
                .title = "CLI: box run --connect",
                .run = run_cli_connect},
        [CASE_BWRAP] = {.name = "bwrap", .title = "bwrap --unshare-all", .run = run_bwrap},
};

_printf_(2, 3) static void case_unavailable(Case *c, const char *fmt, ...) {
        va_list ap;

        c->available = false;
        va_start(ap, fmt);
        (void) vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
        va_end(ap);
}

static int push_arg(char **argv, size_t *n, char *arg) {
        if (*n + 1 >= BENCH_MAX_ARGV)
                return -E2BIG;
        argv[(*n)++] = arg;
        argv[*n] = NULL;
        return 0;
}

/* coderunner box run --quiet <limits> [--connect=SOCKET] [--result=FILE] -- PROGRAM. connect_arg
 * and result_arg are storage for the two optional arguments. */
static int build_cli_argv(Bench *b, char **argv, const char *connect_socket, char *connect_arg,
        size_t connect_arg_size, const char *result_path, char *result_arg, size_t result_arg_size) {
        static char wall[32], mem[32], procs[32];
        size_t n = 0;
        int r = 0;

        (void) snprintf(wall, sizeof(wall), "--wall-time=%d", BENCH_WALL_TIME_SEC);
        (void) snprintf(mem, sizeof(mem), "--mem=%d", BENCH_MEMORY_KIB);
        (void) snprintf(procs, sizeof(procs), "--processes=%d", BENCH_PROCESSES);

        char *fixed[] = {
                (char *) b->cli, (char *) "box", (char *) "run", (char *) "--quiet", wall, mem, procs};
        for (size_t i = 0; i < ELEMENTSOF(fixed) && r >= 0; i++)
                r = push_arg(argv, &n, fixed[i]);
        if (connect_socket && r >= 0) {
                (void) snprintf(connect_arg, connect_arg_size, "--connect=%s", connect_socket);
                r = push_arg(argv, &n, connect_arg);
        }
        if (result_path && r >= 0) {
                (void) snprintf(result_arg, result_arg_size, "--result=%s", result_path);
                r = push_arg(argv, &n, result_arg);
        }
        if (r >= 0)
                r = push_arg(argv, &n, (char *) "--");
        for (size_t i = 0; i < b->n_program && r >= 0; i++)
                r = push_arg(argv, &n, b->program[i]);
        return r;
}

/* bwrap --unshare-all --ro-bind /usr /usr <the host's /bin /lib /lib64> --proc /proc --dev /dev
 * --die-with-parent -- PROGRAM. On a merged-/usr host /bin, /lib and /lib64 are symlinks and are
 * recreated as such; otherwise they are bound read-only. */
static int build_bwrap_argv(Bench *b) {
        static const char *const top[] = {"/bin", "/lib", "/lib64"};
        char **argv = b->bwrap_argv;
        size_t n = 0;
        int r;

        char *head[] = {(char *) b->bwrap, (char *) "--unshare-all", (char *) "--ro-bind", (char *) "/usr",
                (char *) "/usr"};
        for (size_t i = 0; i < ELEMENTSOF(head); i++) {
                r = push_arg(argv, &n, head[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < ELEMENTSOF(top); i++) {
                struct stat st;

                if (lstat(top[i], &st) < 0)
                        continue; /* /lib64 does not exist everywhere */
                if (S_ISLNK(st.st_mode)) {
                        ssize_t len =
                                readlink(top[i], b->symlink_targets[i], sizeof(b->symlink_targets[i]) - 1);
                        if (len < 0)
                                return -errno;
                        b->symlink_targets[i][len] = '\0';
                        r = push_arg(argv, &n, (char *) "--symlink");
                        if (r >= 0)
                                r = push_arg(argv, &n, b->symlink_targets[i]);
                } else {
                        r = push_arg(argv, &n, (char *) "--ro-bind");
                        if (r >= 0)
                                r = push_arg(argv, &n, (char *) top[i]);
                }
                if (r >= 0)
                        r = push_arg(argv, &n, (char *) top[i]);
                if (r < 0)
                        return r;
        }
        char *tail[] = {(char *) "--proc", (char *) "/proc", (char *) "--dev", (char *) "/dev",
                (char *) "--die-with-parent", (char *) "--"};
        for (size_t i = 0; i < ELEMENTSOF(tail); i++) {
                r = push_arg(argv, &n, tail[i]);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < b->n_program; i++) {
                r = push_arg(argv, &n, b->program[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* `box run` exits 0 whatever the verdict (only a sandbox failure exits 2), so the timed runs
 * can check no more than that. The probe checks the verdict too: one extra run with
 * --result=FILE, whose record must say "status":"OK". */
static int verify_cli_verdict(Bench *b, bool connect, char *msg, size_t msgsz) {
        char *argv[BENCH_MAX_ARGV], connect_arg[PATH_MAX + 16], result_arg[PATH_MAX + 16];
        char path[] = "/tmp/bench-box-result-XXXXXX", record[1024], line[BENCH_REASON_MAX / 2];
        _cleanup_close_ int fd = -EBADF;
        uint64_t ns;
        ssize_t n;
        int r;

        fd = mkostemp(path, O_CLOEXEC);
        if (fd < 0) {
                bench_set_msg(msg, msgsz, "mkostemp: %s", strerror(errno));
                return -errno;
        }
        r = build_cli_argv(b, argv, connect ? box_supervisor_socket(b->supervisor) : NULL, connect_arg,
                sizeof(connect_arg), path, result_arg, sizeof(result_arg));
        if (r >= 0)
                r = spawn_and_wait(b, argv, true, msg, msgsz, &ns);
        if (r == 0) {
                n = pread(fd, record, sizeof(record) - 1, 0);
                if (n < 0) {
                        r = -errno;
                        bench_set_msg(msg, msgsz, "reading the --result record: %s", strerror(errno));
                } else {
                        record[n] = '\0';
                        if (!strstr(record, "\"status\":\"OK\"")) {
                                bench_first_line(record, line, sizeof(line));
                                bench_set_msg(msg, msgsz, "the verdict is not OK: %s",
                                        n ? line : "(empty record)");
                                r = 1;
                        }
                }
        } else if (r < 0 && msg[0] == '\0')
                bench_set_msg(msg, msgsz, "command line: %s", strerror(-r));
        (void) unlink(path);
        return r;
}

static void setup_cases(Bench *b) {
        Case *c;
        int r;

        c = &b->cases[CASE_BARE];
        if (c->selected && access(b->program[0], X_OK) < 0)
                case_unavailable(c, "%s is not executable: %s", b->program[0], strerror(errno));

        /* The supervisor first, so that it is forked before this process holds a context. */
        c = &b->cases[CASE_SUPERVISOR];
        if (c->selected || b->cases[CASE_CLI_CONNECT].selected) {
                BoxSupervisorConfig cfg = {
                        .socket_path = NULL,
                        .slots = BENCH_SUPERVISOR_SLOTS,
                        .client_uid = (uid_t) -1,
                };

                r = box_supervisor_start(&cfg, &b->supervisor);
                if (r < 0)
                        case_unavailable(c, "box_supervisor_start: %s", strerror(-r));
                else {
                        r = box_client_connect(box_supervisor_socket(b->supervisor), &b->client);
                        if (r < 0)
                                case_unavailable(c, "box_client_connect(%s): %s",
                                        box_supervisor_socket(b->supervisor), strerror(-r));
                }
        }

        c = &b->cases[CASE_INPROCESS];
        if (c->selected) {
                BoxContextConfig cfg = {
                        .slot = BENCH_INPROCESS_SLOT,
                        .quiet_probe = true,
                };

                r = box_context_new(&cfg, &b->context);
                if (r < 0)
                        case_unavailable(c, "box_context_new: %s", strerror(-r));
        }

        c = &b->cases[CASE_CLI];
        if (c->selected) {
                if (!b->cli)
                        case_unavailable(c, "no --cli=PATH given");
                else if (access(b->cli, X_OK) < 0)
                        case_unavailable(c, "%s is not executable: %s", b->cli, strerror(errno));
                else if ((r = build_cli_argv(b, b->cli_argv, NULL, NULL, 0, NULL, NULL, 0)) < 0)
                        case_unavailable(c, "command line: %s", strerror(-r));
        }

        c = &b->cases[CASE_CLI_CONNECT];
        if (c->selected) {
                if (!b->cli)
                        case_unavailable(c, "no --cli=PATH given");
                else if (access(b->cli, X_OK) < 0)
                        case_unavailable(c, "%s is not executable: %s", b->cli, strerror(errno));
                else if (!b->supervisor || !b->client)
                        case_unavailable(c, "needs the supervisor: %s", b->cases[CASE_SUPERVISOR].reason);
                else {
                        r = build_cli_argv(b, b->cli_connect_argv, box_supervisor_socket(b->supervisor),
                                b->connect_arg, sizeof(b->connect_arg), NULL, NULL, 0);
                        if (r < 0)
                                case_unavailable(c, "command line: %s", strerror(-r));
                }
        }

        c = &b->cases[CASE_BWRAP];
        if (c->selected) {
                if (access(b->bwrap, X_OK) < 0)
                        case_unavailable(c, "%s: %s", b->bwrap, strerror(errno));
                else if ((r = build_bwrap_argv(b)) < 0)
                        case_unavailable(c, "command line: %s", strerror(-r));
        }

        /* One untimed probe run per case: a case that cannot run even once is unavailable,
         * with the reason it gave, rather than 200 failures. */
        for (size_t i = 0; i < _CASE_MAX; i++) {
                char msg[BENCH_REASON_MAX] = "";
                uint64_t ns = 0, inner = 0;

                c = &b->cases[i];
                if (!c->selected || !c->available)
                        continue;
                r = c->run(b, true, msg, sizeof(msg), &ns, &inner);
                if (r != 0)
                        case_unavailable(c, "probe run failed: %s", msg);
                else if (i == CASE_CLI || i == CASE_CLI_CONNECT) {
                        r = verify_cli_verdict(b, i == CASE_CLI_CONNECT, msg, sizeof(msg));
                        if (r != 0)
                                case_unavailable(c, "probe run: %s", msg);
                }
        }

        /* The supervisor's client stays connected for cli-connect even when only that case is
         * selected; its own case is reported only when selected. */
        if (b->cases[CASE_SUPERVISOR].available && !b->cases[CASE_SUPERVISOR].selected)
                b->cases[CASE_SUPERVISOR].available = false;
}

/* ---- measuring ---- */

static void run_one(void *userdata, size_t index, bool recorded) {
        Bench *b = userdata;
        Case *c = &b->cases[index];
        char msg[BENCH_REASON_MAX] = "";
        uint64_t ns = 0, inner = UINT64_MAX;
        int r;

        r = c->run(b, false, msg, sizeof(msg), &ns, &inner);
        if (!bench_tally_add(&c->tally, recorded, r, msg))
                return;
        c->samples_ns[c->n_samples++] = ns;
        if (inner != UINT64_MAX)
                c->inner_us[c->n_inner++] = inner;
}

static int measure(Bench *b) {
        size_t order[_CASE_MAX], n = 0;

        for (size_t i = 0; i < _CASE_MAX; i++) {
                Case *c = &b->cases[i];

                if (!c->selected || !c->available)
                        continue;
                order[n++] = i;
                c->samples_ns = calloc(b->rounds ? b->rounds : 1, sizeof(uint64_t));
                c->inner_us = calloc(b->rounds ? b->rounds : 1, sizeof(uint64_t));
                if (!c->samples_ns || !c->inner_us)
                        return -ENOMEM;
        }
        bench_interleave(b->warmup, b->rounds, order, n, run_one, b);
        return 0;
}

static BenchStats case_stats(const Case *c) {
        return bench_compute_stats(c->samples_ns, c->n_samples, 1e6);
}

static BenchStats case_inner_stats(const Case *c) {
        return bench_compute_stats(c->inner_us, c->n_inner, 1e3);
}

/* ---- reporting ---- */

static void format_program(const Bench *b, char *buf, size_t size) {
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < b->n_program && off < size; i++) {
                int w = snprintf(buf + off, size - off, "%s%s", i ? " " : "", b->program[i]);
                if (w < 0)
                        break;
                off += (size_t) w;
        }
}

static void print_table(const Bench *b) {
        static const BenchTable table = {.title_width = 30, .ratio_width = 7};
        const Case *bare = &b->cases[CASE_BARE];
        BenchStats base = bare->available ? case_stats(bare) : (BenchStats){.valid = false};
        char program[1024];
        struct utsname u;

        format_program(b, program, sizeof(program));
        if (uname(&u) < 0)
                memset(&u, 0, sizeof(u));

        printf("bench-box: `%s`, %u warm-up + %u recorded rounds, interleaved\n", program, b->warmup,
                b->rounds);
        printf("host: Linux %s, %ld CPUs; limits: wall %d s, memory %d KiB, processes %d\n", u.release,
                sysconf(_SC_NPROCESSORS_ONLN), BENCH_WALL_TIME_SEC, BENCH_MEMORY_KIB, BENCH_PROCESSES);
        if (b->context)
                printf("in-process context: %s\n", box_context_describe(b->context));
        printf("\n");
        bench_table_header(&table, "x bare");

        for (size_t i = 0; i < _CASE_MAX; i++) {
                const Case *c = &b->cases[i];

                if (!c->selected)
                        continue;
                if (!c->available) {
                        bench_table_row_unavailable(&table, c->title);
                        continue;
                }

                BenchStats s = case_stats(c);
                if (!s.valid) {
                        bench_table_row_no_samples(&table, c->title, &c->tally);
                        continue;
                }
                char ratio[16];
                bench_format_ratio(ratio, sizeof(ratio), s, base, 2);
                bench_table_row(&table, c->title, &c->tally, s, ratio);
        }

        bool notes = false;
        for (size_t i = 0; i < _CASE_MAX; i++) {
                const Case *c = &b->cases[i];

                if (!c->selected)
                        continue;
                if (!notes) {
                        printf("\n");
                        notes = true;
                }
                bench_print_case_notes(c->name, c->available ? NULL : c->reason, &c->tally);
                if (!c->available)
                        continue;
                BenchStats in = case_inner_stats(c);
                BenchStats s = case_stats(c);
                if (in.valid && s.valid)
                        printf("note: %s: the sandbox reported a median wall time of %.2f ms for the "
                               "program "
                               "itself (%.2f ms of the %.2f ms median is outside it)\n",
                                c->name, in.median_ms, s.median_ms - in.median_ms, s.median_ms);
                if (c->unenforced)
                        printf("note: %s: limits reported unenforced:%s%s%s\n", c->name,
                                c->unenforced & BOX_UNENFORCED_MEMORY ? " memory" : "",
                                c->unenforced & BOX_UNENFORCED_PROCESSES ? " processes" : "",
                                c->unenforced & BOX_UNENFORCED_CPU_TREE ? " cpu-tree" : "");
        }
        if (b->cases[CASE_BWRAP].selected && b->cases[CASE_BWRAP].available) {
                printf("bwrap command:");
                for (size_t i = 0; b->bwrap_argv[i]; i++)
                        printf(" %s", b->bwrap_argv[i]);
                printf("\n");
        }
        fflush(stdout);
}

static void json_string(FILE *f, const char *s) {
        fputc('"', f);
        for (; s && *s; s++) {
                unsigned char ch = (unsigned char) *s;

                if (ch == '"' || ch == '\\')
                        fprintf(f, "\\%c", ch);
                else if (ch == '\n')
                        fputs("\\n", f);
                else if (ch < 0x20)
                        fprintf(f, "\\u%04x", ch);
                else
                        fputc(ch, f);
        }
        fputc('"', f);
}

static int write_json(const Bench *b) {
        const Case *bare = &b->cases[CASE_BARE];
        BenchStats base = bare->available ? case_stats(bare) : (BenchStats){.valid = false};
        struct utsname u;
        FILE *f;

        if (uname(&u) < 0)
                memset(&u, 0, sizeof(u));
        f = fopen(b->json_path, "we");
        if (!f)
                return -errno;

        fprintf(f, "{\n  \"program\": [");
        for (size_t i = 0; i < b->n_program; i++) {
                if (i)
                        fputs(", ", f);
                json_string(f, b->program[i]);
        }
        fprintf(f, "],\n  \"warmup\": %u,\n  \"rounds\": %u,\n  \"kernel\": ", b->warmup, b->rounds);
        json_string(f, u.release);
        fprintf(f,
                ",\n  \"cpus\": %ld,\n  \"limits\": {\"wall_time_sec\": %d, \"memory_kib\": %d, "
                "\"processes\": %d},\n",
                sysconf(_SC_NPROCESSORS_ONLN), BENCH_WALL_TIME_SEC, BENCH_MEMORY_KIB, BENCH_PROCESSES);
        fputs("  \"context\": ", f);
        if (b->context)
                json_string(f, box_context_describe(b->context));
        else
                fputs("null", f);
        fputs(",\n  \"cases\": [", f);

        bool first = true;
        for (size_t i = 0; i < _CASE_MAX; i++) {
                const Case *c = &b->cases[i];

                if (!c->selected)
                        continue;
                fputs(first ? "\n    {" : ",\n    {", f);
                first = false;
                fputs("\"name\": ", f);
                json_string(f, c->name);
                fputs(", \"title\": ", f);
                json_string(f, c->title);
                if (!c->available) {
                        fputs(", \"available\": false, \"reason\": ", f);
                        json_string(f, c->reason);
                        fputs("}", f);
                        continue;
                }

                BenchStats s = case_stats(c);
                fputs(", \"available\": true, ", f);
                bench_json_tally(f, &c->tally);
                fputs(", ", f);
                bench_json_stats(f, "", s);
                if (s.valid && base.valid && base.median_ms > 0)
                        fprintf(f, ", \"ratio_to_bare\": %.4f", s.median_ms / base.median_ms);
                else
                        fputs(", \"ratio_to_bare\": null", f);
                if (c->n_inner > 0) {
                        fputs(", ", f);
                        bench_json_stats(f, "reported_wall_", case_inner_stats(c));
                }
                fputs(", \"first_failure\": ", f);
                if (c->tally.failures)
                        json_string(f, c->tally.first_failure);
                else
                        fputs("null", f);
                fprintf(f, ", \"unenforced\": %u", c->unenforced);
                fputs(", ", f);
                bench_json_samples_us(f, c->samples_ns, c->n_samples);
                fputs("}", f);
        }
        fputs("\n  ]\n}\n", f);
        return bench_json_close(f);
}

/* ---- command line ---- */

static void help(void) {
        printf("Usage: bench-box [OPTIONS] [--] [PROGRAM [ARGS...]]\n"
               "\n"
               "Measure the wall time of one execution of PROGRAM (default /bin/true): bare, through the\n"
               "sandbox library (resident supervisor and in-process), through the CLI, and through bwrap.\n"
               "\n"
               "  --warmup=N      warm-up rounds, discarded (default 10)\n"
               "  --rounds=N      recorded rounds (default 200)\n"
               "  --cli=PATH      the coderunner binary (enables the cli and cli-connect cases)\n"
               "  --bwrap=PATH    bubblewrap (default /usr/bin/bwrap)\n"
               "  --cases=LIST    comma-separated subset of: "
               "bare,supervisor,inprocess,cli,cli-connect,bwrap\n"
               "  --json=FILE     also write the results as JSON\n"
               "  -h, --help      this text\n");
}

static int select_cases(Bench *b, const char *list) {
        const char *names[_CASE_MAX];
        bool selected[_CASE_MAX];
        int r;

        for (size_t i = 0; i < _CASE_MAX; i++)
                names[i] = b->cases[i].name;
        r = bench_select_cases("bench-box", list, names, selected, _CASE_MAX);
        if (r < 0)
                return r;
        for (size_t i = 0; i < _CASE_MAX; i++)
                b->cases[i].selected = selected[i];
        return 0;
}

static int parse_argv(Bench *b, int argc, char **argv) {
        enum { ARG_WARMUP = 0x100, ARG_ROUNDS, ARG_CLI, ARG_BWRAP, ARG_CASES, ARG_JSON };
        static const struct option options[] = {
                {"warmup", required_argument, NULL, ARG_WARMUP},
                {"rounds", required_argument, NULL, ARG_ROUNDS},
                {"cli", required_argument, NULL, ARG_CLI},
                {"bwrap", required_argument, NULL, ARG_BWRAP},
                {"cases", required_argument, NULL, ARG_CASES},
                {"json", required_argument, NULL, ARG_JSON},
                {"help", no_argument, NULL, 'h'},
                {},
        };
        static char *default_program[] = {(char *) "/bin/true", NULL};
        int opt, r;

        while ((opt = getopt_long(argc, argv, "+h", options, NULL)) >= 0) {
                switch (opt) {
                case ARG_WARMUP:
                        r = bench_parse_rounds("bench-box", "warmup", optarg, 0, &b->warmup);
                        if (r < 0)
                                return r;
                        break;
                case ARG_ROUNDS:
                        r = bench_parse_rounds("bench-box", "rounds", optarg, 1, &b->rounds);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CLI:
                        b->cli = optarg;
                        break;
                case ARG_BWRAP:
                        b->bwrap = optarg;
                        break;
                case ARG_CASES:
                        r = select_cases(b, optarg);
                        if (r < 0)
                                return r;
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
                b->program = argv + optind;
                b->n_program = (size_t) (argc - optind);
        } else {
                b->program = default_program;
                b->n_program = 1;
        }
        if (b->n_program > BENCH_MAX_PROGRAM_ARGS) {
                fprintf(stderr, "bench-box: at most %d program arguments\n", BENCH_MAX_PROGRAM_ARGS);
                return -E2BIG;
        }
        if (b->program[0][0] != '/') {
                fprintf(stderr, "bench-box: the program must be an absolute path, got '%s'\n",
                        b->program[0]);
                return -EINVAL;
        }
        return 1;
}

static void bench_done(Bench *b) {
        b->client = box_client_free(b->client);
        b->supervisor = box_supervisor_free(b->supervisor);
        b->context = box_context_free(b->context);
        for (size_t i = 0; i < _CASE_MAX; i++) {
                free(b->cases[i].samples_ns);
                free(b->cases[i].inner_us);
                b->cases[i].samples_ns = b->cases[i].inner_us = NULL;
        }
        b->null_fd = safe_close(b->null_fd);
}

int main(int argc, char **argv) {
        Bench b = {
                .warmup = 10,
                .rounds = 200,
                .bwrap = "/usr/bin/bwrap",
                .null_fd = -EBADF,
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

        /* A supervisor that dies must show up as failed runs, not kill the harness. */
        (void) signal(SIGPIPE, SIG_IGN);

        b.null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (b.null_fd < 0) {
                fprintf(stderr, "bench-box: /dev/null: %s\n", strerror(errno));
                return EXIT_FAILURE;
        }

        box_spec_init(&b.spec);
        b.spec.argv = b.program;
        b.spec.wall_time_usec = (uint64_t) BENCH_WALL_TIME_SEC * 1000000;
        b.spec.memory_kib = BENCH_MEMORY_KIB;
        b.spec.processes = BENCH_PROCESSES;

        setup_cases(&b);

        r = measure(&b);
        if (r < 0) {
                fprintf(stderr, "bench-box: %s\n", strerror(-r));
                bench_done(&b);
                return EXIT_FAILURE;
        }

        print_table(&b);
        if (b.json_path) {
                r = write_json(&b);
                if (r < 0) {
                        fprintf(stderr, "bench-box: %s: %s\n", b.json_path, strerror(-r));
                        bench_done(&b);
                        return EXIT_FAILURE;
                }
        }
        bench_done(&b);
        return EXIT_SUCCESS;
}
