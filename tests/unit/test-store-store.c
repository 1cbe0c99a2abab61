/* SPDX-License-Identifier: MIT */
/* The store's contract: one suite, run against every backend available. SQLite always;
 * PostgreSQL when its server programs are installed (initdb, postgres): the test starts
 * its own server on a loopback port with a temporary data directory, as an unprivileged
 * user when run as root, and stops it at the end. */

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <ftw.h>
#include <glob.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/time-util.h"
#include "store/store-internal.h"
#include "store/store.h"
#include "tests.h"

#define URL_MAX 512

static char tmpdir[64];
static unsigned n_databases;

/* ---- PostgreSQL, started by the test ---- */

static struct {
        char bindir[PATH_MAX];
        char dir[128];
        int port;
        pid_t pid;
        uid_t uid;
        gid_t gid;
        Store *admin; /* on the "postgres" database: creates the others */
} pg = {.pid = -1};

static bool executable_in(const char *dir, const char *name) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, name);
        return access(path, X_OK) == 0;
}

/* initdb and postgres live in a versioned directory on Debian, off PATH. */
static bool find_pg_bindir(char ret[PATH_MAX]) {
        const char *path = getenv("PATH");
        if (path) {
                char *copy = strdup(path), *save = NULL;
                ASSERT_TRUE(copy);
                for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
                        if (executable_in(d, "initdb") && executable_in(d, "postgres")) {
                                snprintf(ret, PATH_MAX, "%s", d);
                                free(copy);
                                return true;
                        }
                free(copy);
        }
        glob_t g;
        bool found = false;
        if (glob("/usr/lib/postgresql/*/bin", 0, NULL, &g) == 0) {
                for (size_t i = g.gl_pathc; i > 0 && !found; i--) /* the newest version */
                        if (executable_in(g.gl_pathv[i - 1], "initdb") &&
                                executable_in(g.gl_pathv[i - 1], "postgres")) {
                                snprintf(ret, PATH_MAX, "%s", g.gl_pathv[i - 1]);
                                found = true;
                        }
                globfree(&g);
        }
        return found;
}

/* Start argv as the PostgreSQL user, output to the log; it dies with us. */
static pid_t spawn_pg(char *const argv[]) {
        pid_t parent = getpid();
        char log[256];
        snprintf(log, sizeof log, "%s/log", pg.dir);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                if (getuid() == 0 && (setgroups(0, NULL) < 0 || setgid(pg.gid) < 0 || setuid(pg.uid) < 0))
                        _exit(127);
                /* after setuid(), which clears it */
                if (prctl(PR_SET_PDEATHSIG, SIGQUIT) < 0 || getppid() != parent)
                        _exit(127);
                execv(argv[0], argv);
                _exit(127);
        }
        return pid;
}

static void print_pg_log(void) {
        char path[256], buf[4096];
        snprintf(path, sizeof path, "%s/log", pg.dir);
        FILE *f = fopen(path, "re");
        if (!f)
                return;
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, stderr);
        fclose(f);
}

static int free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof a;
        ASSERT_EQ(bind(fd, (struct sockaddr *) &a, sizeof a), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &a, &len), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static void pg_url(const char *db, char url[URL_MAX]) {
        snprintf(url, URL_MAX, "postgres://coderunner@127.0.0.1:%d/%s", pg.port, db);
}

/* Whether PostgreSQL could be started; false (with a message) when it is not installed. */
static bool pg_start(void) {
        if (!find_pg_bindir(pg.bindir)) {
                fprintf(stderr, "PostgreSQL server programs (initdb, postgres) not found: "
                                "skipping the PostgreSQL backend\n");
                return false;
        }
        pg.uid = getuid();
        pg.gid = getgid();
        if (pg.uid == 0) { /* PostgreSQL refuses to run as root */
                struct passwd *pw = getpwnam("nobody");
                ASSERT_TRUE(pw);
                pg.uid = pw->pw_uid;
                pg.gid = pw->pw_gid;
        }
        snprintf(pg.dir, sizeof pg.dir, "%s/pg", tmpdir);
        ASSERT_EQ(mkdir(pg.dir, 0700), 0);
        ASSERT_EQ(chown(pg.dir, pg.uid, pg.gid), 0);

        char initdb[PATH_MAX + 16], postgres[PATH_MAX + 16], data[256], port[16];
        snprintf(initdb, sizeof initdb, "%s/initdb", pg.bindir);
        snprintf(postgres, sizeof postgres, "%s/postgres", pg.bindir);
        snprintf(data, sizeof data, "%s/data", pg.dir);
        char *const initdb_argv[] = {initdb, "-D", data, "-U", "coderunner", "--auth=trust", "-E", "UTF8",
                "--no-locale", "--no-sync", NULL};
        int status;
        pid_t pid = spawn_pg(initdb_argv);
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                print_pg_log();
                ASSERT_TRUE(!"initdb failed");
        }

        pg.port = free_port();
        snprintf(port, sizeof port, "%d", pg.port);
        char *const postgres_argv[] = {postgres, "-D", data, "-p", port, "-k", pg.dir, "-c",
                "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c",
                "full_page_writes=off", "-c", "max_connections=60", NULL};
        pg.pid = spawn_pg(postgres_argv);

        /* Ready when a Store opens; the server takes a second or so. */
        char url[URL_MAX], err[STORE_ERROR_MAX] = "";
        pg_url("postgres", url);
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        for (;;) {
                int r = store_open(url, err, &pg.admin);
                if (r == 0)
                        break;
                if (now_usec(CLOCK_MONOTONIC) > deadline || waitpid(pg.pid, &status, WNOHANG) == pg.pid) {
                        fprintf(stderr, "PostgreSQL did not start: %s\n", err);
                        print_pg_log();
                        ASSERT_TRUE(!"PostgreSQL did not start");
                }
                nanosleep(&(struct timespec){.tv_nsec = 20 * 1000 * 1000}, NULL);
        }
        return true;
}

static void pg_stop(void) {
        pg.admin = store_close(pg.admin);
        if (pg.pid > 0) {
                int status;
                ASSERT_EQ(kill(pg.pid, SIGINT), 0); /* fast shutdown */
                ASSERT_EQ(waitpid(pg.pid, &status, 0), pg.pid);
                pg.pid = -1;
        }
}

/* ---- fresh databases ---- */

static void fresh_url(const char *backend, char url[URL_MAX]) {
        unsigned n = ++n_databases;
        if (strcmp(backend, "sqlite") == 0) {
                snprintf(url, URL_MAX, "sqlite:%s/db%u.sqlite", tmpdir, n);
                return;
        }
        char sql[64], name[32];
        snprintf(name, sizeof name, "db%u", n);
        snprintf(sql, sizeof sql, "CREATE DATABASE %s", name);
        ASSERT_EQ(store_exec_sql(pg.admin, sql), 0);
        pg_url(name, url);
}

static Store *open_ok(const char *url) {
        char err[STORE_ERROR_MAX] = "";
        Store *s = NULL;
        int r = store_open(url, err, &s);
        if (r < 0)
                fprintf(stderr, "store_open(%s): %s (%s)\n", url, strerror(-r), err);
        ASSERT_EQ(r, 0);
        return s;
}

/* ---- submissions to store ---- */

static void bytes_set(Bytes *b, const void *data, size_t len) {
        free(b->data);
        if (!data) {
                *b = (Bytes){};
                return;
        }
        b->data = malloc(len + 1);
        ASSERT_TRUE(b->data);
        memcpy(b->data, data, len);
        b->data[len] = '\0';
        b->len = len;
}

static void bytes_str(Bytes *b, const char *s) {
        bytes_set(b, s, s ? strlen(s) : 0);
}

static void bytes_random(Bytes *b, size_t len) {
        char *d = malloc(len + 1);
        ASSERT_TRUE(d);
        for (size_t got = 0; got < len;) {
                ssize_t n = getrandom(d + got, len - got, 0);
                ASSERT_TRUE(n > 0);
                got += (size_t) n;
        }
        d[len] = '\0';
        free(b->data);
        *b = (Bytes){.data = d, .len = len};
}

static void assert_bytes_eq(const Bytes *a, const Bytes *b) {
        ASSERT_EQ(!a->data, !b->data); /* NULL stays NULL, empty stays empty */
        ASSERT_EQ(a->len, b->len);
        if (a->data) {
                ASSERT_TRUE(memcmp(a->data, b->data, a->len) == 0);
                ASSERT_EQ(b->data[b->len], '\0');
        }
}

/* A submission with every input field away from its default. Blobs hold NUL bytes,
 * invalid UTF-8, an empty string next to NULL. */
static void make_input(Submission *s, unsigned seed, size_t n_tests) {
        static const char binary[] = "a\0b\xff\xfe\x80 \xc3\x28";
        submission_init(s);
        ASSERT_EQ(submission_new_token(s->token), 0);
        char src[64];
        snprintf(src, sizeof src, "int main(void) { return %u; }\n", seed);
        bytes_str(&s->source_code, src);
        s->language_id = 50 + (int) seed % 7;
        bytes_set(&s->stdin_data, binary, sizeof binary - 1);
        bytes_str(&s->expected_output, ""); /* empty, not NULL */
        bytes_str(&s->compiler_options, "-O2 -lm");
        bytes_str(&s->command_line_arguments, "--flag 'x y'");
        bytes_set(&s->additional_files, "PK\x03\x04\0\0", 6);
        bytes_str(&s->callback_url, NULL);
        s->number_of_runs = 3;
        s->cpu_time_limit_usec = 2500000 + seed;
        s->cpu_extra_time_usec = 500001;
        s->wall_time_limit_usec = 7000002;
        s->memory_limit_kib = 256003;
        s->stack_limit_kib = 32004;
        s->max_processes_and_or_threads = 17;
        s->enable_per_process_and_thread_time_limit = true;
        s->enable_per_process_and_thread_memory_limit = true;
        s->max_file_size_kib = (uint64_t) INT64_MAX; /* the largest the store takes */
        s->redirect_stderr_to_stdout = true;
        s->enable_network = true;
        s->compare = COMPARE_NUMBERS;
        s->tolerance = 1e-6 + seed;
        s->stop_on_failure = true;
        bytes_set(&s->checker.source_code, binary, sizeof binary - 1);
        s->checker.language_id = 54;
        s->checker.cpu_time_limit_usec = 300001 + seed;
        s->checker.memory_limit_kib = 65536;
        s->interactor.wall_time_limit_usec = 3000002; /* none (language 0), limits kept */
        if (n_tests > 0) {
                s->tests = calloc(n_tests, sizeof *s->tests);
                ASSERT_TRUE(s->tests);
                s->n_tests = n_tests;
        }
        for (size_t i = 0; i < n_tests; i++) {
                SubmissionTest *t = &s->tests[i];
                char in[32];
                snprintf(in, sizeof in, "%zu %u\n", i, seed);
                if (i % 3 == 1)
                        bytes_str(&t->stdin_data, NULL);
                else if (i % 3 == 2)
                        bytes_set(&t->stdin_data, binary, sizeof binary - 1);
                else
                        bytes_str(&t->stdin_data, in);
                bytes_str(&t->expected_output, i % 2 ? "" : "42\n");
                t->status_id = 0;
                t->time_usec = t->wall_time_usec = t->memory_kib = -1;
                t->exit_code = t->exit_signal = -1;
        }
}

/* Results for s (a copy of its token and tests count): every result field set. */
static void make_result(const Submission *s, Submission *res, int status, const char *out) {
        submission_init(res);
        memcpy(res->token, s->token, sizeof res->token);
        res->status_id = status;
        bytes_str(&res->stdout_data, out);
        bytes_set(&res->stderr_data, "warn\0ing\xff", 9);
        bytes_str(&res->compile_output, "");
        bytes_str(&res->message, NULL);
        res->time_usec = 12345;
        res->wall_time_usec = 0; /* zero is a value, not null */
        res->memory_kib = 6789;
        res->exit_code = 0;
        res->exit_signal = -1;
        res->memory_limit_exceeded = true;
        res->score = 1.75;
        if (s->n_tests > 0) {
                res->tests = calloc(s->n_tests, sizeof *res->tests);
                ASSERT_TRUE(res->tests);
                res->n_tests = s->n_tests;
        }
        for (size_t i = 0; i < s->n_tests; i++) {
                SubmissionTest *t = &res->tests[i];
                t->status_id = i % 2 ? 4 : 3;
                bytes_str(&t->stdout_data, i % 2 ? "41\n" : "42\n");
                bytes_str(&t->stderr_data, i % 2 ? "" : NULL);
                bytes_set(&t->message, "m\0", 2);
                t->time_usec = (int64_t) (1000 + i);
                t->wall_time_usec = -1;
                t->memory_kib = (int64_t) (2000 + i);
                t->exit_code = (int) i;
                t->exit_signal = i % 2 ? 9 : -1;
                t->memory_limit_exceeded = i % 2;
                t->points = i % 2 ? 0.25 : i == 0 ? -1 : 1; /* null, and values */
        }
}

static void assert_input_eq(const Submission *a, const Submission *b) {
        ASSERT_TRUE(strcmp(a->token, b->token) == 0);
        assert_bytes_eq(&a->source_code, &b->source_code);
        ASSERT_EQ(a->language_id, b->language_id);
        assert_bytes_eq(&a->stdin_data, &b->stdin_data);
        assert_bytes_eq(&a->expected_output, &b->expected_output);
        assert_bytes_eq(&a->compiler_options, &b->compiler_options);
        assert_bytes_eq(&a->command_line_arguments, &b->command_line_arguments);
        assert_bytes_eq(&a->additional_files, &b->additional_files);
        assert_bytes_eq(&a->callback_url, &b->callback_url);
        ASSERT_EQ(a->number_of_runs, b->number_of_runs);
        ASSERT_EQ(a->cpu_time_limit_usec, b->cpu_time_limit_usec);
        ASSERT_EQ(a->cpu_extra_time_usec, b->cpu_extra_time_usec);
        ASSERT_EQ(a->wall_time_limit_usec, b->wall_time_limit_usec);
        ASSERT_EQ(a->memory_limit_kib, b->memory_limit_kib);
        ASSERT_EQ(a->stack_limit_kib, b->stack_limit_kib);
        ASSERT_EQ(a->max_processes_and_or_threads, b->max_processes_and_or_threads);
        ASSERT_EQ(a->enable_per_process_and_thread_time_limit, b->enable_per_process_and_thread_time_limit);
        ASSERT_EQ(a->enable_per_process_and_thread_memory_limit,
                b->enable_per_process_and_thread_memory_limit);
        ASSERT_EQ(a->max_file_size_kib, b->max_file_size_kib);
        ASSERT_EQ(a->redirect_stderr_to_stdout, b->redirect_stderr_to_stdout);
        ASSERT_EQ(a->enable_network, b->enable_network);
        ASSERT_EQ(a->compare, b->compare);
        ASSERT_TRUE(a->tolerance == b->tolerance);
        ASSERT_EQ(a->stop_on_failure, b->stop_on_failure);
        const SubmissionProgram *pa[] = {&a->checker, &a->interactor}, *pb[] = {&b->checker, &b->interactor};
        for (size_t i = 0; i < ELEMENTSOF(pa); i++) {
                assert_bytes_eq(&pa[i]->source_code, &pb[i]->source_code);
                ASSERT_EQ(pa[i]->language_id, pb[i]->language_id);
                ASSERT_EQ(pa[i]->cpu_time_limit_usec, pb[i]->cpu_time_limit_usec);
                ASSERT_EQ(pa[i]->wall_time_limit_usec, pb[i]->wall_time_limit_usec);
                ASSERT_EQ(pa[i]->memory_limit_kib, pb[i]->memory_limit_kib);
        }
        ASSERT_EQ(a->n_tests, b->n_tests);
        for (size_t i = 0; i < a->n_tests; i++) {
                assert_bytes_eq(&a->tests[i].stdin_data, &b->tests[i].stdin_data);
                assert_bytes_eq(&a->tests[i].expected_output, &b->tests[i].expected_output);
        }
}

static void assert_test_result_eq(const SubmissionTest *a, const SubmissionTest *b) {
        ASSERT_EQ(a->status_id, b->status_id);
        assert_bytes_eq(&a->stdout_data, &b->stdout_data);
        assert_bytes_eq(&a->stderr_data, &b->stderr_data);
        assert_bytes_eq(&a->message, &b->message);
        ASSERT_EQ(a->time_usec, b->time_usec);
        ASSERT_EQ(a->wall_time_usec, b->wall_time_usec);
        ASSERT_EQ(a->memory_kib, b->memory_kib);
        ASSERT_EQ(a->exit_code, b->exit_code);
        ASSERT_EQ(a->exit_signal, b->exit_signal);
        ASSERT_EQ(a->memory_limit_exceeded, b->memory_limit_exceeded);
        ASSERT_TRUE(a->points == b->points);
}

static void assert_result_eq(const Submission *a, const Submission *b) {
        ASSERT_EQ(a->status_id, b->status_id);
        assert_bytes_eq(&a->stdout_data, &b->stdout_data);
        assert_bytes_eq(&a->stderr_data, &b->stderr_data);
        assert_bytes_eq(&a->compile_output, &b->compile_output);
        assert_bytes_eq(&a->message, &b->message);
        ASSERT_EQ(a->time_usec, b->time_usec);
        ASSERT_EQ(a->wall_time_usec, b->wall_time_usec);
        ASSERT_EQ(a->memory_kib, b->memory_kib);
        ASSERT_EQ(a->exit_code, b->exit_code);
        ASSERT_EQ(a->exit_signal, b->exit_signal);
        ASSERT_EQ(a->memory_limit_exceeded, b->memory_limit_exceeded);
        ASSERT_TRUE(a->score == b->score);
        ASSERT_EQ(a->n_tests, b->n_tests);
        for (size_t i = 0; i < a->n_tests; i++)
                assert_test_result_eq(&a->tests[i], &b->tests[i]);
}

/* A stored submission that nobody judged yet. */
static void assert_pristine(const Submission *g) {
        ASSERT_EQ(g->status_id, 1);
        ASSERT_TRUE(
                !g->stdout_data.data && !g->stderr_data.data && !g->compile_output.data && !g->message.data);
        ASSERT_EQ(g->time_usec, -1);
        ASSERT_EQ(g->wall_time_usec, -1);
        ASSERT_EQ(g->memory_kib, -1);
        ASSERT_EQ(g->exit_code, -1);
        ASSERT_EQ(g->exit_signal, -1);
        ASSERT_EQ(g->memory_limit_exceeded, false);
        ASSERT_EQ(g->finished_at_usec, -1);
        ASSERT_TRUE(g->score == -1);
        for (size_t i = 0; i < g->n_tests; i++) {
                const SubmissionTest *t = &g->tests[i];
                ASSERT_EQ(t->status_id, 1);
                ASSERT_TRUE(!t->stdout_data.data && !t->stderr_data.data && !t->message.data);
                ASSERT_TRUE(t->time_usec == -1 && t->wall_time_usec == -1 && t->memory_kib == -1);
                ASSERT_TRUE(t->exit_code == -1 && t->exit_signal == -1 && !t->memory_limit_exceeded);
                ASSERT_TRUE(t->points == -1);
        }
}

/* ---- the contract ---- */

static void test_round_trip(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {}, res = {}, again = {};

        ASSERT_EQ(store_ping(s), 0);
        make_input(&in, 1, 4);
        /* outputs and bookkeeping given to create are ignored */
        in.status_id = 3;
        in.attempts = 9;
        bytes_str(&in.stdout_data, "ignored");
        int64_t before = (int64_t) now_usec(CLOCK_REALTIME);
        ASSERT_EQ(store_create(s, &in), 0);
        int64_t after = (int64_t) now_usec(CLOCK_REALTIME);

        ASSERT_EQ(store_get(s, in.token, &got), 0);
        assert_input_eq(&in, &got);
        assert_pristine(&got);
        ASSERT_EQ(got.attempts, 0u);
        /* PostgreSQL's clock is this machine's too; allow for rounding */
        ASSERT_TRUE(got.created_at_usec >= before - 1000 && got.created_at_usec <= after + 1000);

        /* the whole result, tests included */
        uint32_t attempts = 0;
        ASSERT_EQ(store_claim(s, in.token, &attempts), 0);
        ASSERT_EQ(attempts, 1u);
        make_result(&in, &res, 11, "out\0put");
        before = (int64_t) now_usec(CLOCK_REALTIME);
        ASSERT_EQ(store_finish(s, &res), 0);
        after = (int64_t) now_usec(CLOCK_REALTIME);
        ASSERT_EQ(store_get(s, in.token, &again), 0);
        assert_input_eq(&in, &again);
        assert_result_eq(&res, &again);
        ASSERT_EQ(again.attempts, 1u);
        ASSERT_EQ(again.created_at_usec, got.created_at_usec);
        ASSERT_TRUE(again.finished_at_usec >= before - 1000 && again.finished_at_usec <= after + 1000);

        /* a submission as Judge0 clients send it: defaults, NULLs, no tests */
        _cleanup_(submission_done) Submission bare = {}, bare_got = {};
        submission_init(&bare);
        ASSERT_EQ(submission_new_token(bare.token), 0);
        bytes_str(&bare.source_code, "print(1)");
        bare.language_id = 71;
        ASSERT_EQ(store_create(s, &bare), 0);
        ASSERT_EQ(store_get(s, bare.token, &bare_got), 0);
        assert_input_eq(&bare, &bare_got);
        assert_pristine(&bare_got);
        ASSERT_EQ(bare_got.n_tests, 0u);
        ASSERT_TRUE(bare_got.tests == NULL);
}

static void test_errors(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {}, bad = {};
        char unknown[SUBMISSION_TOKEN_LEN + 1];
        uint32_t attempts = 77;

        make_input(&in, 2, 0);
        ASSERT_EQ(store_create(s, &in), 0);
        ASSERT_EQ(store_create(s, &in), -EEXIST);

        ASSERT_EQ(submission_new_token(unknown), 0);
        ASSERT_EQ(store_get(s, unknown, &got), -ENOENT);
        ASSERT_EQ(store_get(s, "batch", &got), -ENOENT);
        ASSERT_EQ(store_get(s, "", &got), -ENOENT);
        char upper[SUBMISSION_TOKEN_LEN + 1];
        memcpy(upper, "ABCDEF00-0000-4000-8000-000000000000", sizeof upper);
        ASSERT_EQ(store_get(s, upper, &got), -ENOENT);
        ASSERT_EQ(store_delete(s, unknown), -ENOENT);
        ASSERT_EQ(store_claim(s, unknown, &attempts), -ENOENT);
        ASSERT_EQ(attempts, 77u); /* untouched on failure */

        /* malformed input never reaches the database */
        make_input(&bad, 3, 1);
        memcpy(bad.token, upper, sizeof bad.token);
        ASSERT_EQ(store_create(s, &bad), -EINVAL);
        ASSERT_EQ(submission_new_token(bad.token), 0);
        bad.number_of_runs = (uint32_t) INT32_MAX + 1;
        ASSERT_EQ(store_create(s, &bad), -ERANGE);
        bad.number_of_runs = 1;
        bad.memory_limit_kib = (uint64_t) INT64_MAX + 1;
        ASSERT_EQ(store_create(s, &bad), -ERANGE);
        bad.memory_limit_kib = 1;
        bad.tolerance = INFINITY;
        ASSERT_EQ(store_create(s, &bad), -EINVAL);
        bad.tolerance = 0;
        char *keep = bad.source_code.data;
        bad.source_code.data = NULL; /* a length without data */
        ASSERT_EQ(store_create(s, &bad), -EINVAL);
        bad.source_code.data = keep;
        SubmissionTest *tests = bad.tests;
        bad.tests = NULL;
        ASSERT_EQ(store_create(s, &bad), -EINVAL);
        bad.tests = tests;
        ASSERT_EQ(store_get(s, bad.token, &got), -ENOENT);
        ASSERT_EQ(store_create(s, &bad), 0);

        /* finish: only final statuses, only known tokens */
        _cleanup_(submission_done) Submission res = {};
        make_result(&in, &res, 1, "x");
        ASSERT_EQ(store_finish(s, &res), -EINVAL);
        res.status_id = 2;
        ASSERT_EQ(store_finish(s, &res), -EINVAL);
        res.status_id = 15;
        ASSERT_EQ(store_finish(s, &res), -EINVAL);
        res.status_id = 3;
        memcpy(res.token, unknown, sizeof res.token);
        ASSERT_EQ(store_finish(s, &res), -ENOENT);

        /* more test results than tests: refused, and nothing of it is written */
        _cleanup_(submission_done) Submission res2 = {};
        make_result(&bad, &res2, 4, "y");
        SubmissionTest *more = realloc(res2.tests, 2 * sizeof *more);
        ASSERT_TRUE(more);
        res2.tests = more;
        res2.tests[1] = (SubmissionTest){.time_usec = -1, .wall_time_usec = -1, .memory_kib = -1};
        res2.n_tests = 2;
        ASSERT_EQ(store_finish(s, &res2), -EINVAL);
        submission_done(&got);
        ASSERT_EQ(store_get(s, bad.token, &got), 0);
        assert_pristine(&got);
        /* fewer test results than tests: the others stay as they were */
        res2.n_tests = 0;
        ASSERT_EQ(store_finish(s, &res2), 0);
        res2.n_tests = 2;
        submission_done(&got);
        ASSERT_EQ(store_get(s, bad.token, &got), 0);
        ASSERT_EQ(got.status_id, 4);
        ASSERT_EQ(got.tests[0].status_id, 1);
}

static void test_lifecycle(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {}, first = {}, second = {};
        uint32_t attempts = 0;

        make_input(&in, 4, 2);
        ASSERT_EQ(store_create(s, &in), 0);
        ASSERT_EQ(store_delete(s, in.token), -EBUSY); /* In Queue */
        ASSERT_EQ(store_claim(s, in.token, &attempts), 0);
        ASSERT_EQ(attempts, 1u);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        ASSERT_EQ(got.status_id, 2);
        ASSERT_EQ(got.attempts, 1u);
        ASSERT_EQ(store_delete(s, in.token), -EBUSY); /* Processing */
        /* delivered again after a worker died: 2 -> 2 */
        ASSERT_EQ(store_claim(s, in.token, NULL), 0);
        ASSERT_EQ(store_claim(s, in.token, &attempts), 0);
        ASSERT_EQ(attempts, 3u);

        make_result(&in, &first, 3, "first");
        make_result(&in, &second, 5, "second");
        second.tests[0].status_id = 5;
        ASSERT_EQ(store_finish(s, &first), 0);
        ASSERT_EQ(store_finish(s, &second), -EALREADY); /* the first final result wins */
        attempts = 99;
        ASSERT_EQ(store_claim(s, in.token, &attempts), -EALREADY); /* never judged twice */
        ASSERT_EQ(attempts, 99u);
        submission_done(&got);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        assert_result_eq(&first, &got);
        ASSERT_EQ(got.attempts, 3u);

        /* finished straight from In Queue (a dead-lettered job), with no test results */
        _cleanup_(submission_done) Submission dl = {}, dl_res = {};
        make_input(&dl, 5, 3);
        ASSERT_EQ(store_create(s, &dl), 0);
        submission_init(&dl_res);
        memcpy(dl_res.token, dl.token, sizeof dl_res.token);
        dl_res.status_id = 13;
        bytes_str(&dl_res.message, "delivered too many times");
        ASSERT_EQ(store_finish(s, &dl_res), 0);
        submission_done(&got);
        ASSERT_EQ(store_get(s, dl.token, &got), 0);
        ASSERT_EQ(got.status_id, 13);
        assert_bytes_eq(&dl_res.message, &got.message);
        ASSERT_EQ(got.n_tests, 3u);
        ASSERT_EQ(got.attempts, 0u);

        /* delete: gone with its tests */
        int64_t tests_before, tests_after;
        ASSERT_EQ(store_query_int(s, "SELECT count(*) FROM submission_tests", &tests_before), 0);
        ASSERT_EQ(store_delete(s, in.token), 0);
        ASSERT_EQ(store_query_int(s, "SELECT count(*) FROM submission_tests", &tests_after), 0);
        ASSERT_EQ(tests_after, tests_before - 2);
        submission_done(&got);
        ASSERT_EQ(store_get(s, in.token, &got), -ENOENT);
        ASSERT_EQ(store_delete(s, in.token), -ENOENT);
        ASSERT_EQ(store_claim(s, in.token, NULL), -ENOENT);
        ASSERT_EQ(store_finish(s, &first), -ENOENT);
        /* the token may be used again afterwards */
        ASSERT_EQ(store_create(s, &in), 0);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        assert_pristine(&got);
        ASSERT_EQ(got.n_tests, 2u);
}

/* ---- concurrency ---- */

typedef struct Racer {
        const char *url;
        Store *shared; /* or NULL: each racer opens its own */
        pthread_barrier_t *barrier;
        const char *token;
        int index;
        size_t n_tests;
        int rounds;
        int result;
        Submission *made;
        size_t n_made;
} Racer;

static void *finisher(void *arg) {
        Racer *r = arg;
        _cleanup_store_close_ Store *s = open_ok(r->url);
        _cleanup_(submission_done) Submission res = {}, fake = {};
        char out[32];
        submission_init(&fake);
        memcpy(fake.token, r->token, sizeof fake.token);
        fake.n_tests = r->n_tests;
        snprintf(out, sizeof out, "finisher %d", r->index);
        make_result(&fake, &res, 3 + r->index % 10, out);
        fake.n_tests = 0;
        pthread_barrier_wait(r->barrier);
        r->result = store_finish(s, &res);
        return NULL;
}

static void test_concurrent_finish(const char *url) {
        enum { THREADS = 8, ROUNDS = 12 };
        _cleanup_store_close_ Store *s = open_ok(url);

        for (int round = 0; round < ROUNDS; round++) {
                _cleanup_(submission_done) Submission in = {}, got = {};
                make_input(&in, 100 + (unsigned) round, round % 2 ? 3 : 0);
                ASSERT_EQ(store_create(s, &in), 0);
                if (round % 3 == 0)
                        ASSERT_EQ(store_claim(s, in.token, NULL), 0);

                pthread_barrier_t barrier;
                ASSERT_EQ(pthread_barrier_init(&barrier, NULL, THREADS), 0);
                Racer racers[THREADS];
                pthread_t threads[THREADS];
                for (int i = 0; i < THREADS; i++) {
                        racers[i] = (Racer){.url = url,
                                .barrier = &barrier,
                                .token = in.token,
                                .index = i,
                                .n_tests = in.n_tests};
                        ASSERT_EQ(pthread_create(&threads[i], NULL, finisher, &racers[i]), 0);
                }
                int winner = -1;
                for (int i = 0; i < THREADS; i++) {
                        ASSERT_EQ(pthread_join(threads[i], NULL), 0);
                        if (racers[i].result == 0) {
                                ASSERT_EQ(winner, -1); /* exactly one wins */
                                winner = i;
                        } else
                                ASSERT_EQ(racers[i].result, -EALREADY);
                }
                ASSERT_TRUE(winner >= 0);
                pthread_barrier_destroy(&barrier);

                char out[32];
                snprintf(out, sizeof out, "finisher %d", winner);
                ASSERT_EQ(store_get(s, in.token, &got), 0);
                ASSERT_EQ(got.status_id, 3 + winner % 10);
                ASSERT_EQ(got.stdout_data.len, strlen(out));
                ASSERT_TRUE(memcmp(got.stdout_data.data, out, got.stdout_data.len) == 0);
                for (size_t i = 0; i < got.n_tests; i++) /* the tests are the winner's too */
                        ASSERT_EQ(got.tests[i].status_id, i % 2 ? 4 : 3);
                ASSERT_EQ(store_claim(s, in.token, NULL), -EALREADY);
        }
}

static void *claimer(void *arg) {
        Racer *r = arg;
        _cleanup_store_close_ Store *s = open_ok(r->url);
        pthread_barrier_wait(r->barrier);
        r->result = 0;
        for (int i = 0; i < r->rounds; i++) {
                int k = store_claim(s, r->token, NULL);
                if (k < 0)
                        r->result = k;
        }
        return NULL;
}

/* Claims are one statement each: no increment is lost. */
static void test_concurrent_claim(const char *url) {
        enum { THREADS = 6, ROUNDS = 10 };
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {};
        make_input(&in, 7, 0);
        ASSERT_EQ(store_create(s, &in), 0);

        pthread_barrier_t barrier;
        ASSERT_EQ(pthread_barrier_init(&barrier, NULL, THREADS), 0);
        Racer racers[THREADS];
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++) {
                racers[i] = (Racer){.url = url, .barrier = &barrier, .token = in.token, .rounds = ROUNDS};
                ASSERT_EQ(pthread_create(&threads[i], NULL, claimer, &racers[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                ASSERT_EQ(pthread_join(threads[i], NULL), 0);
                ASSERT_EQ(racers[i].result, 0);
        }
        pthread_barrier_destroy(&barrier);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        ASSERT_EQ(got.status_id, 2);
        ASSERT_EQ(got.attempts, (uint32_t) THREADS * ROUNDS);
}

static void *creator(void *arg) {
        Racer *r = arg;
        pthread_barrier_wait(r->barrier);
        r->made = calloc((size_t) r->rounds, sizeof *r->made);
        ASSERT_TRUE(r->made);
        for (int i = 0; i < r->rounds; i++) {
                make_input(&r->made[i], (unsigned) (r->index * 1000 + i), (size_t) i % 3);
                r->n_made++;
                ASSERT_EQ(store_create(r->shared, &r->made[i]), 0);
                Submission got;
                ASSERT_EQ(store_get(r->shared, r->made[i].token, &got), 0);
                assert_input_eq(&r->made[i], &got);
                submission_done(&got);
        }
        return NULL;
}

/* One Store shared by threads: its mutex serializes them. */
static void test_shared_store(const char *url) {
        enum { THREADS = 4, ROUNDS = 25 };
        _cleanup_store_close_ Store *s = open_ok(url);
        uint64_t before[STORE_STATUS_SLOTS], after[STORE_STATUS_SLOTS];
        ASSERT_EQ(store_count_by_status(s, before), 0);

        pthread_barrier_t barrier;
        ASSERT_EQ(pthread_barrier_init(&barrier, NULL, THREADS), 0);
        Racer racers[THREADS];
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++) {
                racers[i] = (Racer){.shared = s, .barrier = &barrier, .index = i, .rounds = ROUNDS};
                ASSERT_EQ(pthread_create(&threads[i], NULL, creator, &racers[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                ASSERT_EQ(pthread_join(threads[i], NULL), 0);
                for (size_t j = 0; j < racers[i].n_made; j++)
                        submission_done(&racers[i].made[j]);
                free(racers[i].made);
        }
        pthread_barrier_destroy(&barrier);
        ASSERT_EQ(store_count_by_status(s, after), 0);
        ASSERT_EQ(after[1], before[1] + THREADS * ROUNDS);
}

/* ---- listings ---- */

static void test_unfinished(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_free_ char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = NULL;
        size_t n = 99;
        Submission in[5];

        ASSERT_EQ(store_unfinished(s, &tokens, &n), 0);
        ASSERT_EQ(n, 0u);
        ASSERT_TRUE(tokens == NULL);

        for (size_t i = 0; i < ELEMENTSOF(in); i++) {
                make_input(&in[i], (unsigned) i, i % 2);
                ASSERT_EQ(store_create(s, &in[i]), 0);
        }
        ASSERT_EQ(store_claim(s, in[1].token, NULL), 0); /* Processing: still unfinished */
        _cleanup_(submission_done) Submission res = {}, res4 = {};
        make_result(&in[2], &res, 3, "done");
        ASSERT_EQ(store_finish(s, &res), 0);
        ASSERT_EQ(store_claim(s, in[4].token, NULL), 0);
        make_result(&in[4], &res4, 6, "");
        ASSERT_EQ(store_finish(s, &res4), 0);

        ASSERT_EQ(store_unfinished(s, &tokens, &n), 0);
        ASSERT_EQ(n, 3u); /* oldest first */
        ASSERT_TRUE(strcmp(tokens[0], in[0].token) == 0);
        ASSERT_TRUE(strcmp(tokens[1], in[1].token) == 0);
        ASSERT_TRUE(strcmp(tokens[2], in[3].token) == 0);
        for (size_t i = 0; i < ELEMENTSOF(in); i++)
                submission_done(&in[i]);
}

static void test_list(const char *url) {
        enum { N = 25 };
        _cleanup_store_close_ Store *s = open_ok(url);
        Submission in[N];
        Submission *list = NULL;
        size_t n = 0;
        uint64_t total = 0;

        /* empty */
        ASSERT_EQ(store_list(s, 1, 20, &list, &n, &total), 0);
        ASSERT_TRUE(list == NULL && n == 0 && total == 0);

        for (size_t i = 0; i < N; i++) {
                make_input(&in[i], (unsigned) i, i % 4);
                ASSERT_EQ(store_create(s, &in[i]), 0);
        }
        _cleanup_(submission_done) Submission res = {};
        make_result(&in[20], &res, 4, "listed");
        ASSERT_EQ(store_finish(s, &res), 0);

        /* 25 by 10: pages of 10, 10 and 5, newest first, then empty pages */
        static const struct {
                uint64_t page;
                uint32_t per_page;
                size_t n;
                size_t first; /* index in in[] of the first listed */
        } cases[] = {
                {1, 10, 10, 24},
                {2, 10, 10, 14},
                {3, 10, 5, 4},
                {4, 10, 0, 0},
                {1, 25, 25, 24},
                {1, 100, 25, 24},
                {2, 24, 1, 0},
                {5, 5, 5, 4},
                {6, 5, 0, 0},
                {1, 1, 1, 24},
                {25, 1, 1, 0},
                {26, 1, 0, 0},
                {1, 0, 0, 0}, /* no rows, only the total */
                {UINT64_MAX, 10, 0, 0}, /* far past the end: no overflow */
                {UINT64_MAX, UINT32_MAX, 0, 0},
                {2, UINT32_MAX, 0, 0},
        };
        for (size_t c = 0; c < ELEMENTSOF(cases); c++) {
                ASSERT_EQ(store_list(s, cases[c].page, cases[c].per_page, &list, &n, &total), 0);
                ASSERT_EQ(total, (uint64_t) N);
                ASSERT_EQ(n, cases[c].n);
                ASSERT_EQ(!list, n == 0);
                for (size_t i = 0; i < n; i++) {
                        const Submission *want = &in[cases[c].first - i];
                        assert_input_eq(want, &list[i]);
                        if (cases[c].first - i == 20)
                                assert_result_eq(&res, &list[i]);
                        else
                                assert_pristine(&list[i]);
                }
                list = store_list_free(list, n);
        }
        n = 7;
        ASSERT_EQ(store_list(s, 0, 10, &list, &n, &total), -EINVAL);
        ASSERT_EQ(n, 7u);

        /* the counts of the same database */
        uint64_t counts[STORE_STATUS_SLOTS];
        ASSERT_EQ(store_claim(s, in[3].token, NULL), 0);
        ASSERT_EQ(store_count_by_status(s, counts), 0);
        ASSERT_EQ(counts[0], 0u);
        ASSERT_EQ(counts[1], (uint64_t) N - 2);
        ASSERT_EQ(counts[2], 1u);
        ASSERT_EQ(counts[4], 1u);
        uint64_t sum = 0;
        for (size_t i = 0; i < STORE_STATUS_SLOTS; i++)
                sum += counts[i];
        ASSERT_EQ(sum, (uint64_t) N);

        for (size_t i = 0; i < N; i++)
                submission_done(&in[i]);
}

/* ---- statistics ---- */

/* Move one submission's created_at or finished_at (SQLite: *_usec) to usec after the epoch. */
static void set_time(Store *s, const char *column, const char *token, int64_t usec) {
        char sql[256];
        if (strcmp(store_backend(s), "sqlite") == 0)
                snprintf(sql, sizeof sql,
                        "UPDATE submissions SET %s_usec = %" PRId64 " WHERE token = '%.36s'", column, usec,
                        token);
        else
                snprintf(sql, sizeof sql,
                        "UPDATE submissions SET %s = timestamptz 'epoch' + %" PRId64
                        " * interval '1 microsecond' WHERE token = '%.36s'",
                        column, usec, token);
        ASSERT_EQ(store_exec_sql(s, sql), 0);
}

static void set_created(Store *s, const char *token, int64_t usec) {
        set_time(s, "created_at", token, usec);
}

static void test_statistics(const char *url) {
        enum { N = 12 };
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(store_statistics_done) StoreStatistics st = {};
        Submission in[N];
        /* 2026-01-01T00:00:00Z, and the same day shifted by some days */
        const int64_t since = INT64_C(1767225600000000), day = STORE_DAY_USEC;

        /* empty */
        ASSERT_EQ(store_statistics(s, since, &st), 0);
        ASSERT_EQ(st.total, 0u);
        ASSERT_TRUE(st.by_language == NULL && st.n_by_language == 0);
        for (size_t i = 0; i < STORE_STATISTICS_DAYS; i++)
                ASSERT_EQ(st.by_day[i], 0u);
        ASSERT_TRUE(st.size_bytes > 0);
        store_statistics_done(&st);
        ASSERT_EQ(store_statistics(s, -1, &st), -EINVAL);

        /* languages 50 + i % 7: 50 and 51 twice, the others once; then by id */
        for (size_t i = 0; i < N; i++) {
                make_input(&in[i], (unsigned) i, i % 2);
                ASSERT_EQ(store_create(s, &in[i]), 0);
        }
        _cleanup_(submission_done) Submission res = {};
        make_result(&in[0], &res, 3, "ok");
        ASSERT_EQ(store_finish(s, &res), 0);
        ASSERT_EQ(store_claim(s, in[1].token, NULL), 0);

        /* days: before the window, its first microsecond, its last, the last day, after */
        set_created(s, in[0].token, since - 1);
        set_created(s, in[1].token, since);
        set_created(s, in[2].token, since + day - 1);
        set_created(s, in[3].token, since + day);
        set_created(s, in[4].token, since + 30 * day + 5);
        set_created(s, in[5].token, since + 31 * day); /* past the window: not counted */
        for (size_t i = 6; i < N; i++)
                set_created(s, in[i].token, since + 7 * day + (int64_t) i);

        ASSERT_EQ(store_statistics(s, since, &st), 0);
        ASSERT_EQ(st.total, (uint64_t) N);
        ASSERT_EQ(st.by_status[1], (uint64_t) N - 2);
        ASSERT_EQ(st.by_status[2], 1u);
        ASSERT_EQ(st.by_status[3], 1u);
        ASSERT_EQ(st.by_day[0], 2u);
        ASSERT_EQ(st.by_day[1], 1u);
        ASSERT_EQ(st.by_day[7], (uint64_t) N - 6);
        ASSERT_EQ(st.by_day[30], 1u);
        uint64_t sum = 0;
        for (size_t i = 0; i < STORE_STATISTICS_DAYS; i++)
                sum += st.by_day[i];
        ASSERT_EQ(sum, (uint64_t) N - 2);

        static const StoreCount want[] = {{50, 2}, {51, 2}, {52, 2}, {53, 2}, {54, 2}, {55, 1}, {56, 1}};
        ASSERT_EQ(st.n_by_language, ELEMENTSOF(want));
        for (size_t i = 0; i < ELEMENTSOF(want); i++) {
                ASSERT_EQ(st.by_language[i].key, want[i].key);
                ASSERT_EQ(st.by_language[i].count, want[i].count);
        }

        for (size_t i = 0; i < N; i++)
                submission_done(&in[i]);
}

/* ---- blobs ---- */

static void test_large_blobs(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {}, res = {};

        make_input(&in, 9, 2);
        bytes_random(&in.source_code, 4 << 20);
        bytes_random(&in.additional_files, 2 << 20);
        bytes_random(&in.tests[1].expected_output, 1 << 20);
        ASSERT_EQ(store_create(s, &in), 0);
        make_result(&in, &res, 3, NULL);
        bytes_random(&res.stdout_data, 3 << 20);
        bytes_random(&res.tests[0].stdout_data, (1 << 20) + 1);
        ASSERT_EQ(store_finish(s, &res), 0);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        assert_input_eq(&in, &got);
        assert_result_eq(&res, &got);
}

/* ---- retention ---- */

static void set_finished(Store *s, const char *token, int64_t usec) {
        set_time(s, "finished_at", token, usec);
}

/* What a submission's inputs (and results, when res) hold, counted field by field. */
static uint64_t payload_of(const Submission *in, const Submission *res) {
        const Bytes *b[] = {&in->source_code, &in->stdin_data, &in->expected_output, &in->compiler_options,
                &in->command_line_arguments, &in->additional_files, &in->callback_url,
                &in->checker.source_code, &in->interactor.source_code};
        uint64_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(b); i++)
                n += b[i]->len;
        for (size_t i = 0; i < in->n_tests; i++)
                n += in->tests[i].stdin_data.len + in->tests[i].expected_output.len;
        if (res) {
                n += res->stdout_data.len + res->stderr_data.len + res->compile_output.len +
                     res->message.len;
                for (size_t i = 0; i < res->n_tests; i++)
                        n += res->tests[i].stdout_data.len + res->tests[i].stderr_data.len +
                             res->tests[i].message.len;
        }
        return n;
}

static void assert_tombstone(Store *s, const Submission *in, int status) {
        _cleanup_(submission_done) Submission got = {};
        ASSERT_EQ(store_get(s, in->token, &got), 0);
        ASSERT_TRUE(strcmp(got.token, in->token) == 0);
        ASSERT_EQ(got.status_id, status);
        ASSERT_EQ(got.language_id, in->language_id);
        ASSERT_TRUE(got.purged_at_usec > 0);
        ASSERT_TRUE(got.finished_at_usec >= 0);
        ASSERT_EQ(got.n_tests, 0u);
        const Bytes *b[] = {&got.source_code, &got.stdin_data, &got.expected_output, &got.compiler_options,
                &got.command_line_arguments, &got.additional_files, &got.callback_url, &got.stdout_data,
                &got.stderr_data, &got.compile_output, &got.message};
        for (size_t i = 0; i < ELEMENTSOF(b); i++)
                ASSERT_TRUE(b[i]->data == NULL && b[i]->len == 0);
}

static void assert_kept(Store *s, const Submission *in) {
        _cleanup_(submission_done) Submission got = {};
        ASSERT_EQ(store_get(s, in->token, &got), 0);
        ASSERT_EQ(got.purged_at_usec, -1);
        assert_input_eq(in, &got);
}

static void test_retention(const char *url) {
        enum { N = 8 };
        _cleanup_store_close_ Store *s = open_ok(url);
        Submission in[N], res[N];
        uint64_t live, purged, freed, want_live = 0;
        const StoreRetention off = {};
        int64_t now = (int64_t) now_usec(CLOCK_REALTIME), hour = INT64_C(3600000000);

        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, 0u);
        /* 0..5 finished, 6 Processing, 7 In Queue; 0..3 an hour per index in the past */
        for (size_t i = 0; i < N; i++) {
                make_input(&in[i], (unsigned) i, i % 3);
                bytes_random(&in[i].source_code, 1000 * (i + 1));
                ASSERT_EQ(store_create(s, &in[i]), 0);
                submission_init(&res[i]);
                want_live += payload_of(&in[i], NULL);
                if (i < 6) {
                        make_result(&in[i], &res[i], 3 + (int) i, "out");
                        ASSERT_EQ(store_finish(s, &res[i]), 0);
                        want_live += payload_of(&in[i], &res[i]) - payload_of(&in[i], NULL);
                }
        }
        ASSERT_EQ(store_claim(s, in[6].token, NULL), 0);
        for (size_t i = 0; i < 4; i++)
                set_finished(s, in[i].token, now - (int64_t) (10 - i) * hour);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, want_live);

        /* bad calls; the default policy purges nothing */
        ASSERT_EQ(store_purge(s, &off, 0, &purged, &freed), -EINVAL);
        ASSERT_EQ(store_purge(s, NULL, 10, &purged, &freed), -EINVAL);
        ASSERT_EQ(store_purge(s, &off, (size_t) INT32_MAX + 1, &purged, &freed), -EINVAL);
        ASSERT_EQ(store_purge(s, &off, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 0u);

        /* by age: older than 8.5 hours are 0 and 1 (10 and 9 hours), one step at a time */
        const StoreRetention age = {.max_age_usec = (uint64_t) (8 * hour + hour / 2)};
        ASSERT_EQ(store_purge(s, &age, 1, &purged, &freed), 0);
        ASSERT_EQ(purged, 1u);
        ASSERT_EQ(freed, payload_of(&in[0], &res[0]));
        assert_tombstone(s, &in[0], 3);
        assert_kept(s, &in[1]);
        ASSERT_EQ(store_purge(s, &age, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 1u);
        ASSERT_EQ(freed, payload_of(&in[1], &res[1]));
        assert_tombstone(s, &in[1], 4);
        ASSERT_EQ(store_purge(s, &age, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 0u);
        want_live -= payload_of(&in[0], &res[0]) + payload_of(&in[1], &res[1]);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, want_live);

        /* by size: one byte over the limit purges the oldest finished (2), not more */
        const StoreRetention size = {.max_bytes = want_live - 1};
        ASSERT_EQ(store_purge(s, &size, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 1u);
        assert_tombstone(s, &in[2], 5);
        assert_kept(s, &in[3]);
        want_live -= payload_of(&in[2], &res[2]);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, want_live);
        ASSERT_EQ(store_purge(s, &size, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 0u);

        /* the smallest limit purges every final one, never what is In Queue or Processing */
        const StoreRetention tiny = {.max_bytes = 1};
        ASSERT_EQ(store_purge(s, &tiny, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 3u);
        for (size_t i = 3; i < 6; i++)
                assert_tombstone(s, &in[i], 3 + (int) i);
        assert_kept(s, &in[6]);
        assert_kept(s, &in[7]);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, payload_of(&in[6], NULL) + payload_of(&in[7], NULL));
        ASSERT_EQ(store_purge(s, &tiny, 100, &purged, &freed), 0);
        ASSERT_EQ(purged, 0u);

        /* a tombstone: not listed nor counted, never finished or claimed again, deletable */
        _cleanup_(submission_done) Submission again = {};
        make_result(&in[0], &again, 3, "again");
        ASSERT_EQ(store_finish(s, &again), -ENOENT);
        ASSERT_EQ(store_claim(s, in[0].token, NULL), -ENOENT);
        Submission *list = NULL;
        size_t n;
        uint64_t total, counts[STORE_STATUS_SLOTS];
        ASSERT_EQ(store_list(s, 1, 100, &list, &n, &total), 0);
        ASSERT_EQ(total, 2u);
        ASSERT_EQ(n, 2u);
        list = store_list_free(list, n);
        ASSERT_EQ(store_count_by_status(s, counts), 0);
        ASSERT_EQ(counts[3], 0u);
        ASSERT_EQ(store_delete(s, in[0].token), 0);
        ASSERT_EQ(store_delete(s, in[0].token), -ENOENT);
        _cleanup_(submission_done) Submission gone = {};
        ASSERT_EQ(store_get(s, in[0].token, &gone), -ENOENT);

        /* finishing the last two adds their results to what the size policy counts */
        _cleanup_(submission_done) Submission last = {};
        make_result(&in[7], &last, 3, "last");
        ASSERT_EQ(store_finish(s, &last), 0);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, payload_of(&in[6], NULL) + payload_of(&in[7], &last));

        for (size_t i = 0; i < N; i++) {
                submission_done(&in[i]);
                submission_done(&res[i]);
        }
}

/* ---- write health ---- */

static void test_health(const char *url) {
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission a = {}, b = {}, res = {};
        bool sqlite = strcmp(store_backend(s), "sqlite") == 0;
        StoreHealth h;

        ASSERT_EQ(store_health(s, true, &h), 0);
        ASSERT_EQ(h.error, 0);
        ASSERT_EQ(h.failed_writes, 0u);
        make_input(&a, 1, 1);
        make_input(&b, 2, 0);
        ASSERT_EQ(store_create(s, &a), 0);

        /* the database refuses writes (as on a full disk): typed, and remembered */
        ASSERT_EQ(store_exec_sql(
                          s, sqlite ? "PRAGMA query_only = ON" : "SET default_transaction_read_only = on"),
                0);
        ASSERT_EQ(store_create(s, &b), -EROFS);
        make_result(&a, &res, 3, "ok");
        ASSERT_EQ(store_finish(s, &res), -EROFS);
        ASSERT_EQ(store_health(s, false, &h), 0);
        ASSERT_EQ(h.error, -EROFS);
        ASSERT_EQ(h.failed_writes, 2u);
        ASSERT_TRUE(h.since_usec > 0);
        uint64_t since = h.since_usec;
        /* reads and bad requests say nothing about it */
        _cleanup_(submission_done) Submission got = {};
        ASSERT_EQ(store_get(s, a.token, &got), 0);
        ASSERT_EQ(store_claim(s, "not-a-token", NULL), -ENOENT);
        /* the probe still fails: still failing, since the first failure */
        ASSERT_EQ(store_health(s, true, &h), 0);
        ASSERT_EQ(h.error, -EROFS);
        ASSERT_EQ(h.since_usec, since);
        ASSERT_EQ(h.failed_writes, 3u);
        /* without a probe, nothing changes when the database recovers */
        ASSERT_EQ(store_exec_sql(
                          s, sqlite ? "PRAGMA query_only = OFF" : "SET default_transaction_read_only = off"),
                0);
        ASSERT_EQ(store_health(s, false, &h), 0);
        ASSERT_EQ(h.error, -EROFS);
        /* the probe learns it: recovered by itself, no other write needed */
        ASSERT_EQ(store_health(s, true, &h), 0);
        ASSERT_EQ(h.error, 0);
        ASSERT_EQ(h.since_usec, 0u);
        ASSERT_EQ(h.failed_writes, 3u);
        /* and the result kept meanwhile is written */
        ASSERT_EQ(store_finish(s, &res), 0);
        ASSERT_EQ(store_create(s, &b), 0);

        ASSERT_TRUE(store_error_is_failure(-ENOSPC));
        ASSERT_TRUE(store_error_is_failure(-ECONNRESET));
        ASSERT_TRUE(!store_error_is_failure(-EEXIST));
        ASSERT_TRUE(!store_error_is_failure(-EAGAIN));
        ASSERT_TRUE(!store_error_is_failure(0));
}

/* SQLite: the pages of what is purged go back to the file system; the file shrinks. */
static void test_sqlite_reclaim(void) {
        enum { N = 40 };
        char url[URL_MAX];
        fresh_url("sqlite", url);
        _cleanup_store_close_ Store *s = open_ok(url);
        int64_t mode, before, after, free_pages;
        uint64_t purged, freed;

        ASSERT_EQ(store_query_int(s, "PRAGMA auto_vacuum", &mode), 0);
        ASSERT_EQ(mode, 2); /* incremental */
        for (size_t i = 0; i < N; i++) {
                _cleanup_(submission_done) Submission in = {}, res = {};
                make_input(&in, (unsigned) i, 1);
                bytes_random(&in.source_code, 64 << 10);
                ASSERT_EQ(store_create(s, &in), 0);
                make_result(&in, &res, 3, NULL);
                bytes_random(&res.stdout_data, 64 << 10);
                ASSERT_EQ(store_finish(s, &res), 0);
        }
        ASSERT_EQ(store_query_int(s, "PRAGMA page_count", &before), 0);
        const StoreRetention tiny = {.max_bytes = 1};
        ASSERT_EQ(store_purge(s, &tiny, 1000, &purged, &freed), 0);
        ASSERT_EQ(purged, (uint64_t) N);
        ASSERT_TRUE(freed >= (uint64_t) N * (128 << 10));
        ASSERT_EQ(store_query_int(s, "PRAGMA page_count", &after), 0);
        ASSERT_EQ(store_query_int(s, "PRAGMA freelist_count", &free_pages), 0);
        ASSERT_EQ(free_pages, 0);
        int64_t page;
        ASSERT_EQ(store_query_int(s, "PRAGMA page_size", &page), 0);
        /* the blobs' pages are gone, and the rows': what is left is the schema, the tombstones
         * and a few pages of indexes */
        ASSERT_TRUE((before - after) * page >= (int64_t) N * (128 << 10));
        ASSERT_TRUE(after <= 32);
}

/* ---- migrations ---- */

static void test_migrations(const char *url, const StoreMigration *builtin, size_t n_builtin) {
        char err[STORE_ERROR_MAX];
        int64_t v;
        _cleanup_(submission_done) Submission in = {}, got = {};
        Store *s;

        s = open_ok(url);
        ASSERT_EQ(store_query_int(s, "SELECT max(version) FROM schema_version", &v), 0);
        ASSERT_EQ(v, (int64_t) n_builtin);
        make_input(&in, 11, 1);
        ASSERT_EQ(store_create(s, &in), 0);
        s = store_close(s);

        /* opened again: nothing to do, nothing lost */
        s = open_ok(url);
        ASSERT_EQ(store_query_int(s, "SELECT count(*) FROM schema_version", &v), 0);
        ASSERT_EQ(v, (int64_t) n_builtin);
        ASSERT_EQ(store_get(s, in.token, &got), 0);
        assert_input_eq(&in, &got);
        s = store_close(s);

        /* a newer coderunner adds a migration; a later one fails half-way: rolled back */
        StoreMigration more[16];
        ASSERT_TRUE(n_builtin + 2 <= ELEMENTSOF(more));
        memcpy(more, builtin, n_builtin * sizeof *more);
        more[n_builtin] =
                (StoreMigration){(unsigned) n_builtin + 1, "extra", "CREATE TABLE extra (x INTEGER);"};
        more[n_builtin + 1] = (StoreMigration){(unsigned) n_builtin + 2, "broken",
                "CREATE TABLE extra2 (x INTEGER); INSERT INTO extra (x) VALUES (1); SELECT * FROM "
                "no_such_table;"};
        ASSERT_EQ(store_open_with_migrations(url, more, n_builtin + 1, err, &s), 0);
        ASSERT_EQ(store_query_int(s, "SELECT max(version) FROM schema_version", &v), 0);
        ASSERT_EQ(v, (int64_t) n_builtin + 1);
        s = store_close(s);
        err[0] = '\0';
        int r = store_open_with_migrations(url, more, n_builtin + 2, err, &s);
        ASSERT_TRUE(r < 0 && r != -EPROTONOSUPPORT);
        ASSERT_TRUE(strstr(err, "migration") && strstr(err, "broken"));
        ASSERT_TRUE(!strchr(err, '\n'));
        ASSERT_EQ(store_open_with_migrations(url, more, n_builtin + 1, err, &s), 0);
        ASSERT_EQ(store_query_int(s, "SELECT count(*) FROM extra", &v), 0);
        ASSERT_EQ(v, 0); /* the failed migration's insert is gone */
        ASSERT_TRUE(store_query_int(s, "SELECT count(*) FROM extra2", &v) < 0);
        s = store_close(s);

        /* this coderunner is now older than the database */
        err[0] = '\0';
        ASSERT_EQ(store_open(url, err, &s), -EPROTONOSUPPORT);
        ASSERT_TRUE(strstr(err, "newer"));

        /* a database from the far future */
        ASSERT_EQ(store_open_with_migrations(url, more, n_builtin + 1, err, &s), 0);
        ASSERT_EQ(store_exec_sql(s, "INSERT INTO schema_version (version, name) VALUES (999, 'future')"), 0);
        s = store_close(s);
        err[0] = '\0';
        ASSERT_EQ(store_open_with_migrations(url, more, n_builtin + 1, err, &s), -EPROTONOSUPPORT);
        ASSERT_TRUE(strstr(err, "999"));
        fprintf(stderr, "  (expected) %s\n", err);
}

typedef struct Opener {
        const char *url;
        pthread_barrier_t *barrier;
        int result;
        char err[STORE_ERROR_MAX];
} Opener;

static void *opener(void *arg) {
        Opener *o = arg;
        Store *s = NULL;
        pthread_barrier_wait(o->barrier);
        o->result = store_open(o->url, o->err, &s);
        store_close(s);
        return NULL;
}

/* Every node of a cluster starts at once on an empty database. */
static void test_concurrent_open(const char *url, size_t n_builtin) {
        enum { THREADS = 6 };
        pthread_barrier_t barrier;
        ASSERT_EQ(pthread_barrier_init(&barrier, NULL, THREADS), 0);
        Opener o[THREADS];
        pthread_t threads[THREADS];
        for (int i = 0; i < THREADS; i++) {
                o[i] = (Opener){.url = url, .barrier = &barrier};
                ASSERT_EQ(pthread_create(&threads[i], NULL, opener, &o[i]), 0);
        }
        for (int i = 0; i < THREADS; i++) {
                ASSERT_EQ(pthread_join(threads[i], NULL), 0);
                if (o[i].result < 0)
                        fprintf(stderr, "concurrent open: %s (%s)\n", strerror(-o[i].result), o[i].err);
                ASSERT_EQ(o[i].result, 0);
        }
        pthread_barrier_destroy(&barrier);
        _cleanup_store_close_ Store *s = open_ok(url);
        int64_t v;
        ASSERT_EQ(store_query_int(s, "SELECT count(*) FROM schema_version", &v), 0);
        ASSERT_EQ(v, (int64_t) n_builtin);
}

/* ---- per backend ---- */

static void run_contract(const char *backend, const StoreMigration *migrations, size_t n_migrations) {
        static const struct {
                const char *name;
                void (*fn)(const char *url);
        } tests[] = {
                {"round trip", test_round_trip},
                {"errors", test_errors},
                {"lifecycle", test_lifecycle},
                {"concurrent finish", test_concurrent_finish},
                {"concurrent claim", test_concurrent_claim},
                {"shared store", test_shared_store},
                {"unfinished", test_unfinished},
                {"list", test_list},
                {"statistics", test_statistics},
                {"large blobs", test_large_blobs},
                {"retention", test_retention},
                {"health", test_health},
        };
        char url[URL_MAX];

        for (size_t i = 0; i < ELEMENTSOF(tests); i++) {
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                fresh_url(backend, url);
                tests[i].fn(url);
                fprintf(stderr, "%s: %s ok (%.0f ms)\n", backend, tests[i].name,
                        (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
        }
        fresh_url(backend, url);
        test_migrations(url, migrations, n_migrations);
        fprintf(stderr, "%s: migrations ok\n", backend);
        fresh_url(backend, url);
        test_concurrent_open(url, n_migrations);
        fprintf(stderr, "%s: concurrent open ok\n", backend);
}

static void test_sqlite_urls(void) {
        char url[URL_MAX], err[STORE_ERROR_MAX];
        Store *s = NULL;

        /* a bare path, sqlite:// */
        snprintf(url, sizeof url, "%s/bare.sqlite", tmpdir);
        s = open_ok(url);
        ASSERT_TRUE(strcmp(store_backend(s), "sqlite") == 0);
        s = store_close(s);
        snprintf(url, sizeof url, "sqlite://%s/bare.sqlite", tmpdir);
        s = open_ok(url);
        s = store_close(s);
        s = open_ok("sqlite::memory:");
        ASSERT_EQ(store_ping(s), 0);
        s = store_close(s);

        ASSERT_EQ(store_open("mysql://localhost/x", err, &s), -EINVAL);
        ASSERT_EQ(store_open("", err, &s), -EINVAL);
        ASSERT_EQ(store_open("sqlite:", err, &s), -EINVAL);
        snprintf(url, sizeof url, "sqlite:%s/no/such/dir/x.sqlite", tmpdir);
        ASSERT_EQ(store_open(url, err, &s), -ENOENT);
        ASSERT_TRUE(strstr(err, "no/such/dir"));
        ASSERT_TRUE(s == NULL);

        /* not a database */
        snprintf(url, sizeof url, "%s/junk", tmpdir);
        FILE *f = fopen(url, "we");
        ASSERT_TRUE(f);
        for (int i = 0; i < 512; i++)
                fputs("not a database ", f);
        fclose(f);
        ASSERT_EQ(store_open(url, err, &s), -EBADMSG);
}

/* The connection is lost (a restart, a failover): reads carry on, writes fail once. */
static void test_pg_reconnect(void) {
        char url[URL_MAX], sql[256], err[STORE_ERROR_MAX];
        fresh_url("postgres", url);
        const char *db = strrchr(url, '/') + 1;
        _cleanup_store_close_ Store *s = open_ok(url);
        _cleanup_(submission_done) Submission in = {}, got = {};
        make_input(&in, 12, 1);
        ASSERT_EQ(store_create(s, &in), 0);

        for (int round = 0; round < 2; round++) {
                snprintf(sql, sizeof sql,
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '%s'",
                        db);
                int64_t n;
                ASSERT_EQ(store_query_int(pg.admin, sql, &n), 0);
                ASSERT_EQ(n, 1);
                snprintf(sql, sizeof sql, "SELECT count(*) FROM pg_stat_activity WHERE datname = '%s'", db);
                uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
                do {
                        ASSERT_EQ(store_query_int(pg.admin, sql, &n), 0);
                        ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                } while (n > 0);

                if (round == 0) {
                        ASSERT_EQ(store_get(s, in.token, &got), 0); /* retried */
                        assert_input_eq(&in, &got);
                } else {
                        int r = store_claim(s, in.token, NULL);
                        ASSERT_TRUE(r == -ECONNRESET);
                        ASSERT_EQ(store_claim(s, in.token, NULL), 0); /* reconnected */
                }
        }

        /* refused */
        char bad[URL_MAX];
        snprintf(bad, sizeof bad, "postgres://coderunner@127.0.0.1:%d/postgres", free_port());
        Store *t = NULL;
        ASSERT_EQ(store_open(bad, err, &t), -ECONNREFUSED);
        ASSERT_TRUE(strstr(err, "cannot connect"));
        ASSERT_EQ(store_open("postgres://[::1", err, &t), -EINVAL);
        ASSERT_TRUE(t == NULL);
        /* no such database */
        pg_url("no_such_db", bad);
        ASSERT_TRUE(store_open(bad, err, &t) < 0);
        ASSERT_TRUE(strstr(err, "no_such_db"));
        ASSERT_TRUE(strcmp(store_backend(s), "postgres") == 0);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

int main(void) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-store-XXXXXX");
        ASSERT_TRUE(mkdtemp(tmpdir));
        ASSERT_EQ(chmod(tmpdir, 0755), 0);

        test_sqlite_urls();
        run_contract("sqlite", store_sqlite_migrations, store_sqlite_n_migrations);
        test_sqlite_reclaim();
        fprintf(stderr, "sqlite: reclaim ok\n");

        if (pg_start()) {
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                run_contract("postgres", store_pg_migrations, store_pg_n_migrations);
                test_pg_reconnect();
                fprintf(stderr, "postgres: reconnect ok (contract: %.0f ms)\n",
                        (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);

                /* the server goes away: calls fail cleanly, no crash */
                char url[URL_MAX];
                pg_url("postgres", url);
                Store *s = open_ok(url);
                pg_stop();
                ASSERT_TRUE(store_ping(s) < 0);
                store_close(s);
        }

        ASSERT_EQ(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
        return 0;
}
