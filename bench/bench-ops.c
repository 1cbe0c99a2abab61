/* SPDX-License-Identifier: MIT */
/* The operations a submission costs a cluster's shared services, one kind at a time: the
 * store module's create, claim, finish and get against a PostgreSQL (or SQLite) store, and
 * the queue module's push, claim and ack against a Redis queue -- the very code the API
 * nodes and workers run. THREADS threads (each with its own connections) do N operations of
 * one kind between them, then the next kind: rate, latency percentiles and, when the
 * server's pid is given, the server's CPU time per operation (from /proc: the process and
 * its children, live and reaped), which is what one core of that server can carry.
 *
 *     bench-ops --store=postgres://... --queue=redis://...?stream=ops [--notify=redis://...]
 *               [--n=5000] [--threads=4] [--store-pid=PID] [--queue-pid=PID]
 *
 * Then the two hops a waiting request's result takes, one at a time with a pause between so
 * that the receiver sleeps as it does in a cluster: a push until a consumer blocked in its
 * claim has the job (API node -> worker), and a notification's publish until a subscriber
 * has it (worker -> API node; the queue's Redis, or --notify=URL).
 *
 * Prints one JSON document on stdout. bench/bench_cluster.py runs it with the servers it
 * starts. A benchmark, not a test. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/macro.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "bench-util.h"
#include "model/submission.h"
#include "notify/notify.h"
#include "queue/queue.h"
#include "store/store.h"

#define MAX_THREADS 64
#define MAX_N 10000000
#define LEASE_USEC (600 * USEC_PER_SEC)

typedef enum Op {
        OP_STORE_CREATE,
        OP_STORE_CLAIM,
        OP_STORE_FINISH,
        OP_STORE_GET,
        OP_QUEUE_PUSH,
        OP_QUEUE_CLAIM,
        OP_QUEUE_ACK,
        _OP_MAX,
} Op;

static const char *const op_names[_OP_MAX] = {
        [OP_STORE_CREATE] = "store_create",
        [OP_STORE_CLAIM] = "store_claim",
        [OP_STORE_FINISH] = "store_finish",
        [OP_STORE_GET] = "store_get",
        [OP_QUEUE_PUSH] = "queue_push",
        [OP_QUEUE_CLAIM] = "queue_claim",
        [OP_QUEUE_ACK] = "queue_ack",
};

typedef struct Shared {
        const char *store_url, *queue_url;
        size_t n, n_threads;
        pthread_barrier_t start, done;
        uint64_t *lat_ns; /* n samples per operation, thread t's at [t * per ... ) */
} Shared;

typedef struct Thread {
        Shared *sh;
        size_t index, first, count; /* its slice of the n operations */
        pthread_t tid;
        Store *store;
        Queue *queue;
        char (*tokens)[SUBMISSION_TOKEN_LEN + 1];
        QueueJob *jobs;
        int error;
        char what[160];
} Thread;

static void fclosep(FILE **f) {
        if (*f)
                fclose(*f);
}

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static const char C_TRIVIAL[] = "int main(void) { return 0; }\n";

static int bytes_dup(Bytes *b, const char *s) {
        b->data = strdup(s);
        if (!b->data)
                return -ENOMEM;
        b->len = strlen(s);
        return 0;
}

/* What POST /submissions stores for a trivial C program: Judge0's defaults. */
static int make_input(const char *token, Submission *s) {
        submission_init(s);
        memcpy(s->token, token, sizeof s->token);
        s->language_id = 50;
        return bytes_dup(&s->source_code, C_TRIVIAL);
}

/* What a worker writes for it: Accepted, a line of output, times and memory. */
static int make_result(const char *token, Submission *s) {
        submission_init(s);
        memcpy(s->token, token, sizeof s->token);
        s->status_id = 3;
        s->time_usec = 1000;
        s->wall_time_usec = 1500;
        s->memory_kib = 1024;
        s->exit_code = 0;
        s->exit_signal = -1;
        return bytes_dup(&s->stdout_data, "hi\n");
}

static int do_op(Thread *t, Op op, size_t i) {
        _cleanup_(submission_done) Submission s = {};
        const char *token = t->tokens[i];
        int r;
        switch (op) {
        case OP_STORE_CREATE:
                r = make_input(token, &s);
                return r < 0 ? r : store_create(t->store, &s);
        case OP_STORE_CLAIM: {
                uint32_t attempts;
                return store_claim(t->store, token, &attempts);
        }
        case OP_STORE_FINISH:
                r = make_result(token, &s);
                return r < 0 ? r : store_finish(t->store, &s);
        case OP_STORE_GET:
                return store_get(t->store, token, &s);
        case OP_QUEUE_PUSH:
                return queue_push(t->queue, &token, 1, false);
        case OP_QUEUE_CLAIM:
                /* Another thread may have taken the entry this one pushed: any entry will do. */
                return queue_claim(t->queue, LEASE_USEC, 0, &t->jobs[i]);
        case OP_QUEUE_ACK:
                return queue_ack(t->queue, &t->jobs[i]);
        default:
                return -EINVAL;
        }
}

static void *thread_main(void *arg) {
        Thread *t = arg;
        for (Op op = 0; op < _OP_MAX; op++) {
                pthread_barrier_wait(&t->sh->start);
                for (size_t i = t->first; i < t->first + t->count && t->error == 0; i++) {
                        uint64_t t0 = bench_now_ns();
                        int r = do_op(t, op, i);
                        t->sh->lat_ns[op * t->sh->n + i] = bench_now_ns() - t0;
                        if (r < 0) {
                                t->error = r;
                                snprintf(t->what, sizeof t->what, "%s #%zu: %s", op_names[op], i,
                                        strerror(-r));
                        }
                }
                pthread_barrier_wait(&t->sh->done);
        }
        return NULL;
}

/* CPU ticks of pid and its descendants (utime, stime, cutime, cstime); 0 when pid is 0. */
static uint64_t tree_ticks(pid_t pid) {
        if (pid <= 0)
                return 0;
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        uint64_t total = 0;
        _cleanup_(fclosep) FILE *f = fopen(path, "re");
        char line[1024];
        if (f && fgets(line, sizeof line, f)) {
                char *p = strrchr(line, ')');
                /* After ") ": state is field 3; utime is field 14. */
                for (int field = 2; p && field < 17; field++) {
                        p = strchr(p + 1, ' ');
                        if (p && field + 1 >= 14) {
                                uint64_t v = strtoull(p + 1, NULL, 10);
                                total += v;
                        }
                }
        }
        snprintf(path, sizeof path, "/proc/%d/task", (int) pid);
        _cleanup_(closedirp) DIR *d = opendir(path);
        for (struct dirent *de; d && (de = readdir(d));) {
                if (de->d_name[0] == '.')
                        continue;
                char cpath[300];
                snprintf(cpath, sizeof cpath, "/proc/%d/task/%s/children", (int) pid, de->d_name);
                _cleanup_(fclosep) FILE *c = fopen(cpath, "re");
                unsigned long child;
                char buf[4096];
                size_t n = c ? fread(buf, 1, sizeof buf - 1, c) : 0;
                buf[n] = '\0';
                for (char *s = buf, *end; *s; s = end) {
                        child = strtoul(s, &end, 10);
                        if (end == s)
                                break;
                        total += tree_ticks((pid_t) child);
                }
        }
        return total;
}

/* ---- the hops ---- */

#define HOP_PAUSE_NSEC (2 * 1000 * 1000)
#define HOP_DEADLINE_SEC 5

typedef struct Hop {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        uint64_t at_ns; /* when the awaited event arrived; 0: not yet */
        char token[SUBMISSION_TOKEN_LEN + 1]; /* the awaited notification's */
        Queue *queue; /* the claimer's */
        QueueJob job;
        bool stop;
        int error;
} Hop;

static void hop_arrived(Hop *h, int error, const QueueJob *job) {
        uint64_t now = bench_now_ns();
        pthread_mutex_lock(&h->lock);
        if (error < 0)
                h->error = error;
        else
                h->at_ns = now;
        if (job)
                h->job = *job;
        pthread_cond_signal(&h->cond);
        pthread_mutex_unlock(&h->lock);
}

static void on_notification(void *userdata, const char *token, int status_id) {
        Hop *h = userdata;
        (void) status_id;
        pthread_mutex_lock(&h->lock);
        bool mine = strcmp(token, h->token) == 0;
        pthread_mutex_unlock(&h->lock);
        if (mine)
                hop_arrived(h, 0, NULL);
}

static void *claimer_main(void *arg) {
        Hop *h = arg;
        for (;;) {
                pthread_mutex_lock(&h->lock);
                bool stop = h->stop;
                pthread_mutex_unlock(&h->lock);
                if (stop)
                        return NULL;
                QueueJob job;
                int r = queue_claim(h->queue, LEASE_USEC, 200 * USEC_PER_MSEC, &job);
                if (r == -EAGAIN)
                        continue;
                hop_arrived(h, r, r < 0 ? NULL : &job);
                if (r < 0)
                        return NULL;
        }
}

/* The arrival time of the awaited event, or 0 (error or HOP_DEADLINE_SEC passed). */
static uint64_t hop_wait(Hop *h) {
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += HOP_DEADLINE_SEC;
        pthread_mutex_lock(&h->lock);
        while (h->at_ns == 0 && h->error == 0)
                if (pthread_cond_timedwait(&h->cond, &h->lock, &until) == ETIMEDOUT)
                        break;
        uint64_t at = h->at_ns;
        h->at_ns = 0;
        pthread_mutex_unlock(&h->lock);
        return at;
}

static void hop_pause(void) {
        struct timespec ts = {.tv_nsec = HOP_PAUSE_NSEC};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* m push -> claimed hops through queue (the claimer consumes with its own handle); the
 * latencies into lat. 0, or -errno. */
static int hops_queue(Hop *h, Queue *queue, size_t m, uint64_t *lat) {
        for (size_t i = 0; i < m; i++) {
                char token[SUBMISSION_TOKEN_LEN + 1];
                const char *tokens[] = {token};
                int r = submission_new_token(token);
                if (r < 0)
                        return r;
                hop_pause();
                uint64_t t0 = bench_now_ns();
                r = queue_push(queue, tokens, 1, false);
                if (r < 0)
                        return r;
                uint64_t t1 = hop_wait(h);
                if (t1 == 0)
                        return h->error < 0 ? h->error : -ETIMEDOUT;
                lat[i] = t1 - t0;
                r = queue_ack(queue, &h->job);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* m publish -> delivered hops through notify. */
static int hops_notify(Hop *h, Notify *notify, size_t m, uint64_t *lat) {
        for (size_t i = 0; i < m; i++) {
                char token[SUBMISSION_TOKEN_LEN + 1];
                int r = submission_new_token(token);
                if (r < 0)
                        return r;
                pthread_mutex_lock(&h->lock);
                memcpy(h->token, token, sizeof h->token);
                pthread_mutex_unlock(&h->lock);
                hop_pause();
                uint64_t t0 = bench_now_ns();
                r = notify_publish(notify, token, 3);
                if (r < 0)
                        return r;
                uint64_t t1 = hop_wait(h);
                if (t1 == 0)
                        return -ETIMEDOUT;
                lat[i] = t1 - t0;
        }
        return 0;
}

static int compare_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;
        return x < y ? -1 : x > y;
}

static double pct_us(const uint64_t *sorted, size_t n, double p) {
        size_t k = (size_t) ((double) (n - 1) * p / 100.0 + 0.5);
        return (double) sorted[MIN(k, n - 1)] / 1000.0;
}

static void print_hop(const char *name, uint64_t *lat, size_t m, bool first) {
        qsort(lat, m, sizeof *lat, compare_u64);
        printf("%s\n {\"name\": \"%s\", \"n\": %zu, \"p50_us\": %.1f, \"p99_us\": %.1f}", first ? "" : ",",
                name, m, pct_us(lat, m, 50), pct_us(lat, m, 99));
}

/* The two hops, printed as ', "hops": [...]'; 0, or 1 with the reason on stderr. */
static int run_hops(const Shared *sh, const char *notify_url, Queue *pusher, uint64_t *lat) {
        size_t m = MAX(MIN(sh->n / 5, (size_t) 1000), (size_t) 1);
        Hop h = {};
        pthread_mutex_init(&h.lock, NULL);
        pthread_cond_init(&h.cond, NULL);
        char err[STORE_ERROR_MAX] = "";
        _cleanup_notify_free_ Notify *notify = NULL;
        int r = queue_open(sh->queue_url, UINT32_MAX, "bench-ops-hop", err, &h.queue);
        if (r < 0) {
                fprintf(stderr, "bench-ops: queue %s: %s\n", sh->queue_url, err);
                return 1;
        }
        pthread_t claimer;
        r = -pthread_create(&claimer, NULL, claimer_main, &h);
        if (r < 0) {
                fprintf(stderr, "bench-ops: cannot start a thread: %s\n", strerror(-r));
                queue_free(h.queue);
                return 1;
        }
        printf(", \"hops\": [");
        r = hops_queue(&h, pusher, m, lat);
        if (r < 0)
                fprintf(stderr, "bench-ops: push -> claimed: %s\n", strerror(-r));
        else
                print_hop("queue_push_to_claimed", lat, m, true);
        pthread_mutex_lock(&h.lock);
        h.stop = true;
        pthread_mutex_unlock(&h.lock);
        pthread_join(claimer, NULL);
        queue_close(h.queue);
        queue_free(h.queue);
        if (r >= 0) {
                r = notify_open(notify_url, err, &notify);
                if (r < 0)
                        fprintf(stderr, "bench-ops: notify %s: %s\n", notify_url, err);
        }
        if (r >= 0)
                r = notify_subscribe(notify, on_notification, &h);
        /* The subscriber thread subscribes on its own: wait until deliveries flow. */
        for (int i = 0; r >= 0 && notify_ping(notify) < 0 && i < HOP_DEADLINE_SEC * 100; i++) {
                struct timespec ts = {.tv_nsec = 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
        }
        if (r >= 0) {
                r = hops_notify(&h, notify, m, lat);
                if (r < 0)
                        fprintf(stderr, "bench-ops: publish -> delivered: %s\n", strerror(-r));
                else
                        print_hop("notify_publish_to_delivered", lat, m, false);
        }
        printf("\n]");
        notify = notify_free(notify);
        pthread_cond_destroy(&h.cond);
        pthread_mutex_destroy(&h.lock);
        return r < 0 ? 1 : 0;
}

static int parse_pid(const char *s, pid_t *ret) {
        uint64_t v;
        int r = parse_u64_max(s, INT32_MAX, &v);
        if (r < 0)
                return r;
        *ret = (pid_t) v;
        return 0;
}

static int usage(void) {
        fprintf(stderr, "usage: bench-ops --store=URL --queue=URL [--notify=URL] [--n=N] [--threads=T] "
                        "[--store-pid=PID] [--queue-pid=PID]\n");
        return 2;
}

int main(int argc, char **argv) {
        Shared sh = {.n = 5000, .n_threads = 4};
        pid_t store_pid = 0, queue_pid = 0;
        char notify_url[512] = "";
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                uint64_t v;
                if (strncmp(a, "--store=", 8) == 0)
                        sh.store_url = a + 8;
                else if (strncmp(a, "--queue=", 8) == 0)
                        sh.queue_url = a + 8;
                else if (strncmp(a, "--n=", 4) == 0 && parse_u64_max(a + 4, MAX_N, &v) == 0 && v > 0)
                        sh.n = v;
                else if (strncmp(a, "--threads=", 10) == 0 && parse_u64_max(a + 10, MAX_THREADS, &v) == 0 &&
                         v > 0)
                        sh.n_threads = v;
                else if (strncmp(a, "--store-pid=", 12) == 0 && parse_pid(a + 12, &store_pid) == 0)
                        continue;
                else if (strncmp(a, "--queue-pid=", 12) == 0 && parse_pid(a + 12, &queue_pid) == 0)
                        continue;
                else if (strncmp(a, "--notify=", 9) == 0 && strlen(a + 9) < sizeof notify_url)
                        memcpy(notify_url, a + 9, strlen(a + 9) + 1);
                else {
                        fprintf(stderr, "bench-ops: bad argument: %s\n", a);
                        return usage();
                }
        }
        if (!sh.store_url || !sh.queue_url || strlen(sh.queue_url) >= sizeof notify_url)
                return usage();
        if (notify_url[0] == '\0') { /* the queue's Redis, without the queue's options */
                memcpy(notify_url, sh.queue_url, strlen(sh.queue_url) + 1);
                notify_url[strcspn(notify_url, "?")] = '\0';
        }
        if (sh.n_threads > sh.n)
                sh.n_threads = sh.n;

        int ret = 1;
        Thread th[MAX_THREADS] = {};
        _cleanup_free_ uint64_t *lat = calloc(_OP_MAX * sh.n, sizeof *lat);
        _cleanup_free_ char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = calloc(sh.n, sizeof *tokens);
        _cleanup_free_ QueueJob *jobs = calloc(sh.n, sizeof *jobs);
        _cleanup_free_ uint64_t *sorted = calloc(sh.n, sizeof *sorted);
        if (!lat || !tokens || !jobs || !sorted) {
                fprintf(stderr, "bench-ops: out of memory\n");
                return 1;
        }
        sh.lat_ns = lat;
        for (size_t i = 0; i < sh.n; i++)
                if (submission_new_token(tokens[i]) < 0) {
                        fprintf(stderr, "bench-ops: no random token\n");
                        return 1;
                }
        size_t started = 0;
        pthread_barrier_init(&sh.start, NULL, (unsigned) sh.n_threads + 1);
        pthread_barrier_init(&sh.done, NULL, (unsigned) sh.n_threads + 1);
        for (size_t t = 0; t < sh.n_threads; t++) {
                Thread *x = &th[t];
                char err[STORE_ERROR_MAX] = "", consumer[32];
                *x = (Thread){.sh = &sh, .index = t, .tokens = tokens, .jobs = jobs};
                x->first = sh.n * t / sh.n_threads;
                x->count = sh.n * (t + 1) / sh.n_threads - x->first;
                int r = store_open(sh.store_url, err, &x->store);
                if (r < 0) {
                        fprintf(stderr, "bench-ops: store %s: %s\n", sh.store_url, err);
                        goto out;
                }
                snprintf(consumer, sizeof consumer, "bench-ops-%zu", t);
                r = queue_open(sh.queue_url, UINT32_MAX, consumer, err, &x->queue);
                if (r < 0) {
                        fprintf(stderr, "bench-ops: queue %s: %s\n", sh.queue_url, err);
                        goto out;
                }
        }
        for (; started < sh.n_threads; started++) {
                int r = -pthread_create(&th[started].tid, NULL, thread_main, &th[started]);
                if (r < 0) {
                        fprintf(stderr, "bench-ops: cannot start a thread: %s\n", strerror(-r));
                        /* The barriers count every thread: nothing can run without them all. */
                        _exit(1);
                }
        }
        long hz = sysconf(_SC_CLK_TCK);
        printf("{\"n\": %zu, \"threads\": %zu, \"ops\": [", sh.n, sh.n_threads);
        for (Op op = 0; op < _OP_MAX; op++) {
                uint64_t s0 = tree_ticks(store_pid), q0 = tree_ticks(queue_pid);
                pthread_barrier_wait(&sh.start);
                uint64_t t0 = bench_now_ns();
                pthread_barrier_wait(&sh.done);
                uint64_t elapsed = bench_now_ns() - t0;
                bool is_store = op <= OP_STORE_GET;
                uint64_t ticks = is_store ? tree_ticks(store_pid) - s0 : tree_ticks(queue_pid) - q0;
                bool has_pid = (is_store ? store_pid : queue_pid) > 0;
                memcpy(sorted, lat + op * sh.n, sh.n * sizeof *sorted);
                qsort(sorted, sh.n, sizeof *sorted, compare_u64);
                printf("%s\n {\"name\": \"%s\", \"server\": \"%s\", \"elapsed_s\": %.4f, \"per_s\": %.1f, "
                       "\"p50_us\": %.1f, \"p99_us\": %.1f, ",
                        op ? "," : "", op_names[op], is_store ? "store" : "queue", (double) elapsed / 1e9,
                        (double) sh.n * 1e9 / (double) MAX(elapsed, (uint64_t) 1), pct_us(sorted, sh.n, 50),
                        pct_us(sorted, sh.n, 99));
                if (has_pid)
                        printf("\"server_cpu_us\": %.1f}",
                                (double) ticks * 1e6 / (double) hz / (double) sh.n);
                else
                        printf("\"server_cpu_us\": null}");
        }
        printf("\n]");
        ret = 0;
        for (size_t t = 0; t < started; t++) {
                pthread_join(th[t].tid, NULL);
                if (th[t].error) {
                        fprintf(stderr, "bench-ops: %s\n", th[t].what);
                        ret = 1;
                }
        }
        if (ret == 0)
                ret = run_hops(&sh, notify_url, th[0].queue, sorted);
        printf("}\n");
out:
        for (size_t t = 0; t < sh.n_threads; t++) {
                if (th[t].queue)
                        queue_close(th[t].queue);
                queue_free(th[t].queue);
                store_close(th[t].store);
        }
        return ret;
}
