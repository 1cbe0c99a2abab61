/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "json/judge0.h"
#include "worker/worker.h"

#define WORKER_LEASE_USEC (3600 * USEC_PER_SEC)
#define WORKER_CLAIM_WAIT_USEC (5 * USEC_PER_SEC)

typedef struct Worker {
        WorkerPool *pool;
        pthread_t thread;
        bool started;
        BoxClient *client;
        Judge *judge;
} Worker;

struct WorkerPool {
        WorkerPoolConfig cfg;
        Worker *workers;
        unsigned n;
        atomic_uint busy;
        atomic_uint_fast64_t judged, failed, run_usec_total;
        atomic_uint_fast64_t by_status[STORE_STATUS_SLOTS];
        atomic_uint_fast64_t duration_buckets[WORKER_DURATION_BUCKETS + 1]; /* not cumulative */
};

const uint64_t worker_duration_bounds_usec[WORKER_DURATION_BUCKETS] = {
        5000,
        10000,
        25000,
        50000,
        100000,
        250000,
        500000,
        1000000,
        2500000,
        5000000,
        10000000,
        30000000,
};

int worker_requeue_unfinished(Store *store, Queue *queue) {
        char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = NULL;
        size_t n = 0;
        int r = store_unfinished(store, &tokens, &n);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                const char *t = tokens[i];
                r = queue_push(queue, &t, 1, true);
                if (r < 0) {
                        free(tokens);
                        return r;
                }
        }
        free(tokens);
        return (int) (n > INT32_MAX ? INT32_MAX : n);
}

static int set_bytes(Bytes *b, const char *data, size_t len) {
        free(b->data);
        *b = (Bytes){};
        if (!data)
                return 0;
        char *d = malloc(len + 1);
        if (!d)
                return -ENOMEM;
        memcpy(d, data, len);
        d[len] = '\0';
        *b = (Bytes){d, len};
        return 0;
}

static int set_cstring(Bytes *b, const char *s) {
        return set_bytes(b, s, s ? strlen(s) : 0);
}

static JudgeLimits limits_of(const Submission *s) {
        return (JudgeLimits){
                .cpu_time_usec = s->cpu_time_limit_usec,
                .extra_time_usec = s->cpu_extra_time_usec,
                .wall_time_usec = s->wall_time_limit_usec,
                .memory_kib = s->memory_limit_kib,
                .stack_kib = s->stack_limit_kib,
                .fsize_kib = s->max_file_size_kib,
                .processes = s->max_processes_and_or_threads,
                .per_process_time = s->enable_per_process_and_thread_time_limit,
                .per_process_memory = s->enable_per_process_and_thread_memory_limit,
        };
}

/* Copy one outcome's results into a Submission's or a test's fields. */
static int outcome_fields(const JudgeOutcome *o, int *status_id, Bytes *out, Bytes *err, Bytes *message,
        int64_t *time_usec, int64_t *wall_usec, int64_t *memory_kib, int *exit_code, int *exit_signal,
        bool *mle) {
        int r;
        *status_id = o->status_id;
        if ((r = set_bytes(out, o->stdout_data, o->stdout_len)) < 0 ||
                (r = set_bytes(err, o->stderr_data, o->stderr_len)) < 0 ||
                (r = set_cstring(message, o->message)) < 0)
                return r;
        *time_usec = (int64_t) o->time_usec;
        *wall_usec = (int64_t) o->wall_time_usec;
        *memory_kib = (int64_t) o->memory_kib;
        *exit_code = o->exit_code;
        *exit_signal = o->exit_signal > 0 ? o->exit_signal : -1;
        *mle = o->memory_limit_exceeded;
        return 0;
}

/* Judge sub and write its results into it; 0, or -errno when no verdict was reached. */
static int judge_one(Worker *w, Submission *sub, size_t *ret_tests) {
        const Language *lang = catalogue_find_id(w->pool->cfg.catalogue, sub->language_id);
        *ret_tests = 0;
        if (!lang || !lang->installed) {
                sub->status_id = STATUS_INTERNAL_ERROR;
                return set_cstring(&sub->message, "the language is not installed on this server");
        }
        _cleanup_free_ JudgeTest *tests = NULL;
        if (sub->n_tests > 0) {
                tests = calloc(sub->n_tests, sizeof *tests);
                if (!tests)
                        return -ENOMEM;
                for (size_t i = 0; i < sub->n_tests; i++) {
                        const SubmissionTest *t = &sub->tests[i];
                        tests[i] = (JudgeTest){
                                .stdin_data = t->stdin_data.data,
                                .stdin_len = t->stdin_data.len,
                                .expected = t->expected_output.data,
                                .expected_len = t->expected_output.len,
                                .has_expected = t->expected_output.data != NULL,
                        };
                }
        }
        JudgeSubmission js = {
                .language = lang,
                .source = sub->source_code.data ? sub->source_code.data : "",
                .source_len = sub->source_code.len,
                .additional_files = (const uint8_t *) sub->additional_files.data,
                .additional_files_len = sub->additional_files.len,
                .compiler_options = sub->compiler_options.data,
                .command_line_arguments = sub->command_line_arguments.data,
                .limits = limits_of(sub),
                .number_of_runs = sub->number_of_runs,
                .redirect_stderr_to_stdout = sub->redirect_stderr_to_stdout,
                .enable_network = sub->enable_network,
                .tests = tests,
                .n_tests = sub->n_tests,
                .stdin_data = sub->stdin_data.data,
                .stdin_len = sub->stdin_data.len,
                .expected = sub->expected_output.data,
                .expected_len = sub->expected_output.len,
                .has_expected = sub->expected_output.data != NULL,
                .compare = (JudgeCompare) sub->compare,
                .tolerance = sub->tolerance,
                .stop_on_failure = sub->stop_on_failure,
        };
        JudgeResult res;
        int r = judge_submission(w->judge, &js, &res);
        if (r < 0)
                return r;
        sub->status_id = res.status_id;
        r = set_bytes(&sub->compile_output, res.compile_output, res.compile_output_len);
        if (r >= 0 && res.n_tests > 0 && res.tests[res.overall_index].ran)
                r = outcome_fields(&res.tests[res.overall_index], &sub->status_id, &sub->stdout_data,
                        &sub->stderr_data, &sub->message, &sub->time_usec, &sub->wall_time_usec,
                        &sub->memory_kib, &sub->exit_code, &sub->exit_signal, &sub->memory_limit_exceeded);
        else if (r >= 0 && res.n_tests > 0)
                r = set_cstring(&sub->message, res.tests[res.overall_index].message);
        sub->status_id = res.status_id;
        /* The tests that ran are a prefix (stop_on_failure skips the rest). */
        size_t k = 0;
        for (; r >= 0 && k < sub->n_tests && k < res.n_tests && res.tests[k].ran; k++) {
                SubmissionTest *t = &sub->tests[k];
                r = outcome_fields(&res.tests[k], &t->status_id, &t->stdout_data, &t->stderr_data,
                        &t->message, &t->time_usec, &t->wall_time_usec, &t->memory_kib, &t->exit_code,
                        &t->exit_signal, &t->memory_limit_exceeded);
        }
        judge_result_done(&res);
        *ret_tests = k;
        return r;
}

static void send_callback(WorkerPool *p, const Submission *sub) {
        Judge0EncodeOptions o = {
                .fields = JUDGE0_FIELDS_DEFAULT,
                .base64_encoded = true,
                .status_description = status_description,
        };
        char *json = NULL;
        int r = judge0_submission_encode(sub, &o, &json);
        if (r >= 0)
                r = callback_send(p->cfg.callbacks, sub->callback_url.data, sub->token, json);
        if (r < 0)
                log_warning(r, "callback token=%s delivered=false error=\"%s\"", sub->token,
                        r == -EAGAIN ? "too many callbacks pending" : strerror(-r));
}

static void process(Worker *w, const char *token) {
        WorkerPool *p = w->pool;
        Store *store = p->cfg.store;
        uint32_t attempts = 0;
        int r = store_claim(store, token, &attempts);
        if (r == -EALREADY || r == -ENOENT) {
                /* Delivered twice, or deleted meanwhile: nothing to do. */
                log_debug("worker token=%s skipped=%s", token, r == -EALREADY ? "final" : "deleted");
                return;
        }
        if (r < 0) {
                log_error(r, "worker token=%s claim failed: %s", token, strerror(-r));
                atomic_fetch_add(&p->failed, 1);
                p->cfg.notify(p->cfg.userdata, token, 0);
                return;
        }

        Submission sub;
        submission_init(&sub);
        r = store_get(store, token, &sub);
        if (r < 0) {
                log_error(r, "worker token=%s load failed: %s", token, strerror(-r));
                atomic_fetch_add(&p->failed, 1);
                p->cfg.notify(p->cfg.userdata, token, 0);
                return;
        }

        uint64_t start = now_usec(CLOCK_MONOTONIC);
        size_t n_tests = 0;
        if (p->cfg.max_attempts && attempts > p->cfg.max_attempts) {
                sub.status_id = STATUS_INTERNAL_ERROR;
                r = set_cstring(
                        &sub.message, "the submission was taken too many times (the worker crashed?)");
        } else
                r = judge_one(w, &sub, &n_tests);
        if (r < 0) {
                char buf[256];
                snprintf(buf, sizeof buf, "the submission could not be judged: %s", strerror(-r));
                sub.status_id = STATUS_INTERNAL_ERROR;
                n_tests = 0;
                (void) set_cstring(&sub.message, buf);
        }
        uint64_t dur = now_usec(CLOCK_MONOTONIC) - start;
        size_t all_tests = sub.n_tests;
        sub.n_tests = n_tests; /* store_finish() writes this many test results */
        r = store_finish(store, &sub);
        sub.n_tests = all_tests;
        if (r == 0) {
                atomic_fetch_add(&p->judged, 1);
                if (sub.status_id >= 0 && sub.status_id < STORE_STATUS_SLOTS)
                        atomic_fetch_add(&p->by_status[sub.status_id], 1);
                atomic_fetch_add(&p->run_usec_total, dur);
                size_t b = 0;
                while (b < WORKER_DURATION_BUCKETS && dur > worker_duration_bounds_usec[b])
                        b++;
                atomic_fetch_add(&p->duration_buckets[b], 1);
        } else if (r != -EALREADY) {
                log_error(r, "worker token=%s finish failed: %s", token, strerror(-r));
                atomic_fetch_add(&p->failed, 1);
        }
        log_info("judged token=%s language_id=%d status_id=%d time=%" PRId64 "us wall_time=%" PRId64
                 "us memory=%" PRId64 "KiB tests=%zu attempts=%" PRIu32 " duration_ms=%.3f%s",
                token, sub.language_id, sub.status_id, sub.time_usec, sub.wall_time_usec, sub.memory_kib,
                all_tests, attempts, dur / 1000.0, r == -EALREADY ? " already_final=true" : "");
        if (r == 0 && p->cfg.callbacks && sub.callback_url.data && sub.callback_url.len > 0)
                send_callback(p, &sub);
        int status = r == 0 || r == -EALREADY ? sub.status_id : 0;
        submission_done(&sub);
        p->cfg.notify(p->cfg.userdata, token, status);
}

static void *worker_thread(void *arg) {
        Worker *w = arg;
        QueueJob job;
        for (;;) {
                int r = queue_claim(w->pool->cfg.queue, WORKER_LEASE_USEC, WORKER_CLAIM_WAIT_USEC, &job);
                if (r == -EAGAIN)
                        continue;
                if (r < 0)
                        break;
                atomic_fetch_add(&w->pool->busy, 1);
                process(w, job.token);
                (void) queue_ack(w->pool->cfg.queue, &job);
                atomic_fetch_sub(&w->pool->busy, 1);
        }
        return NULL;
}

int worker_pool_start(const WorkerPoolConfig *cfg, WorkerPool **ret) {
        if (cfg->n == 0 || !cfg->notify)
                return -EINVAL;
        WorkerPool *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        p->workers = calloc(cfg->n, sizeof *p->workers);
        if (!p->workers) {
                free(p);
                return -ENOMEM;
        }
        p->n = cfg->n;
        int r = 0;
        for (unsigned i = 0; i < p->n && r >= 0; i++) {
                Worker *w = &p->workers[i];
                w->pool = p;
                r = box_client_connect(cfg->box_socket, &w->client);
                if (r < 0)
                        break;
                r = judge_new(&p->cfg.judge, (JudgeRunner){judge_runner_box_client, w->client}, &w->judge);
        }
        for (unsigned i = 0; i < p->n && r >= 0; i++) {
                r = -pthread_create(&p->workers[i].thread, NULL, worker_thread, &p->workers[i]);
                if (r == 0)
                        p->workers[i].started = true;
        }
        if (r < 0) {
                queue_close(cfg->queue);
                worker_pool_stop(p);
                return r;
        }
        *ret = p;
        return 0;
}

WorkerPool *worker_pool_stop(WorkerPool *p) {
        if (!p)
                return NULL;
        for (unsigned i = 0; i < p->n; i++) {
                Worker *w = &p->workers[i];
                if (w->started)
                        pthread_join(w->thread, NULL);
                judge_free(w->judge);
                box_client_free(w->client);
        }
        free(p->workers);
        free(p);
        return NULL;
}

void worker_pool_stats(WorkerPool *p, WorkerStats *ret) {
        *ret = (WorkerStats){
                .threads = p->n,
                .busy = atomic_load(&p->busy),
                .judged = atomic_load(&p->judged),
                .failed = atomic_load(&p->failed),
                .run_usec_total = atomic_load(&p->run_usec_total),
        };
        for (size_t i = 0; i < STORE_STATUS_SLOTS; i++)
                ret->by_status[i] = atomic_load(&p->by_status[i]);
        uint64_t cum = 0;
        for (size_t i = 0; i <= WORKER_DURATION_BUCKETS; i++) {
                cum += atomic_load(&p->duration_buckets[i]);
                ret->duration_buckets[i] = cum;
        }
}
