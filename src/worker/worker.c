/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "json/judge0.h"
#include "lang/judge0-ce.h"
#include "model/limits.h"
#include "worker/worker.h"
#include "config.h"

#define DEFAULT_LEASE_USEC (30 * USEC_PER_SEC)
#define DEFAULT_HEARTBEAT_USEC (2 * USEC_PER_SEC)
#define DEFAULT_MAX_DELIVERIES 3
#define CLAIM_WAIT_USEC (1 * USEC_PER_SEC) /* then the stop flag is looked at again */
/* A result the store cannot take is kept and written again after these pauses, doubling. */
#define FINISH_RETRY_FIRST_USEC (100 * USEC_PER_MSEC)
#define FINISH_RETRY_MAX_USEC (5 * USEC_PER_SEC)

typedef struct Worker {
        WorkerPool *pool;
        pthread_t thread;
        bool started;
        BoxClient *client;
        BoxClient *peer; /* a second slot: the interactor of an interactive submission */
        Judge *judge;
        /* the job being judged, for the heartbeat's lease extension (pool->lock) */
        QueueJob job;
        bool has_job;
} Worker;

struct WorkerPool {
        WorkerPoolConfig cfg;
        Worker *workers;
        unsigned n;
        atomic_bool stopping;
        atomic_bool abandon; /* past the grace period: hand the jobs back, write nothing */
        atomic_uint busy;
        atomic_uint_fast64_t judged, failed, run_usec_total;
        atomic_uint_fast64_t by_status[_STATUS_MAX];
        atomic_uint_fast64_t duration_buckets[WORKER_DURATION_BUCKETS + 1]; /* not cumulative */
        int64_t started_at_usec;

        pthread_mutex_t lock; /* the workers' jobs; the heartbeat's wake-up */
        pthread_cond_t wake;
        pthread_t heartbeat;
        bool heartbeat_started;
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

static Limits limits_of(const Submission *s) {
        return (Limits){
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

static const Language *language_of(const WorkerPool *p, int id) {
        const Language *lang = catalogue_find_id(p->cfg.catalogue, id);
        if (!lang && judge0_ce_alias_of(id) > 0) /* 48: C (GCC) 50's toolchain */
                lang = catalogue_find_id(p->cfg.catalogue, judge0_ce_alias_of(id));
        return lang && lang->installed ? lang : NULL;
}

/* A checker or an interactor of sub as the judge takes it; 0 when there is none, 1 when
 * it is ready in *ret, -ENOENT when its language is not installed here. */
static int program_of(const WorkerPool *p, const SubmissionProgram *sp, JudgeProgram *ret) {
        if (sp->language_id == 0)
                return 0;
        const Language *lang = language_of(p, sp->language_id);
        if (!lang)
                return -ENOENT;
        *ret = (JudgeProgram){
                .language = lang,
                .source = sp->source_code.data ? sp->source_code.data : "",
                .source_len = sp->source_code.len,
                .limits = limits_of_helper(
                        sp->cpu_time_limit_usec, sp->wall_time_limit_usec, sp->memory_limit_kib),
        };
        return 1;
}

/* Live progress for the subscribers (SSE): a test case's verdict and measures, no outputs. */
typedef struct TestProgress {
        WorkerPool *pool;
        const char *token;
} TestProgress;

static void publish_progress(WorkerPool *p, const NotifyProgress *np) {
        int r = notify_publish_progress(p->cfg.notify, np);
        if (r < 0)
                log_warning(r, "worker token=%s publish progress failed: %s", np->token, strerror(-r));
}

static void on_test(void *userdata, size_t index, const JudgeOutcome *o) {
        const TestProgress *tp = userdata;
        NotifyProgress np = {
                .kind = NOTIFY_TEST,
                .status_id = o->status_id,
                .index = (uint32_t) index,
                .time_usec = (int64_t) o->time_usec,
                .wall_time_usec = (int64_t) o->wall_time_usec,
                .memory_kib = (int64_t) o->memory_kib,
                .exit_code = o->exit_code,
                .exit_signal = o->exit_signal > 0 ? o->exit_signal : -1,
                .memory_limit_exceeded = o->memory_limit_exceeded,
        };
        memcpy(np.token, tp->token, sizeof np.token);
        publish_progress(tp->pool, &np);
}

/* ---- interactive runs: the channel's events ---- */

static void live_send(const LiveChannel *ch, LiveEventKind kind, bool run, const BoxResult *r) {
        LiveEvent e = {.kind = kind, .run = run, .exit_code = -1};
        if (r) {
                e.exit_code = r->exit_code;
                e.signal = r->signal;
                if (r->status != BOX_STATUS_OK)
                        snprintf(e.status, sizeof e.status, "%s", box_status_to_string(r->status));
                snprintf(e.message, sizeof e.message, "%.*s", (int) sizeof e.message - 1, r->message);
        }
        (void) live_event_send(ch->events_fd, &e); /* a session gone: its run goes on, bounded */
}

static void live_stage(void *userdata, bool run) {
        live_send(userdata, LIVE_STAGE, run, NULL);
}

/* The compile stage's output goes out on stderr before its exit, as Piston has it. */
static void live_exited(void *userdata, bool run, const BoxResult *r, const char *output, size_t len) {
        const LiveChannel *ch = userdata;
        while (len > 0) {
                ssize_t n = send(ch->stderr_fd, output, len, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                output += n;
                len -= (size_t) n;
        }
        live_send(ch, LIVE_EXIT, run, r);
}

/* Judge sub and write its results into it; 0, or -errno when no verdict was reached. */
static int judge_one(Worker *w, Submission *sub, size_t *ret_tests) {
        const Language *lang = language_of(w->pool, sub->language_id);
        JudgeProgram checker, interactor;
        int has_checker, has_interactor;
        *ret_tests = 0;
        if (!lang) {
                sub->status_id = STATUS_INTERNAL_ERROR;
                return set_cstring(&sub->message, "the language is not installed on this server");
        }
        has_checker = program_of(w->pool, &sub->checker, &checker);
        has_interactor = program_of(w->pool, &sub->interactor, &interactor);
        if (has_checker < 0 || has_interactor < 0) {
                sub->status_id = STATUS_INTERNAL_ERROR;
                return set_cstring(&sub->message,
                        has_checker < 0 ? "the checker's language is not installed on this server"
                                        : "the interactor's language is not installed on this server");
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
                .checker = has_checker ? &checker : NULL,
                .interactor = has_interactor ? &interactor : NULL,
        };
        LiveChannel ch = {-1, -1, -1, -1, -1};
        JudgeLive live = {};
        int lr = w->pool->cfg.live ? live_take(w->pool->cfg.live, sub->token, &ch) : -ENOENT;
        if (lr == -ECANCELED) {
                sub->status_id = STATUS_INTERNAL_ERROR;
                return set_cstring(&sub->message, "the interactive session ended before the run started");
        }
        if (lr < 0 && lr != -ENOENT) { /* a session waits for this run: never run it without */
                char m[160];
                snprintf(m, sizeof m, "the interactive session could not be reached: %s", strerror(-lr));
                log_warning(lr, "token=%s %s", sub->token, m);
                sub->status_id = STATUS_INTERNAL_ERROR;
                return set_cstring(&sub->message, m);
        }
        if (lr == 0) {
                live = (JudgeLive){
                        .stdin_fd = ch.stdin_fd,
                        .stdout_fd = ch.stdout_fd,
                        .stderr_fd = ch.stderr_fd,
                        .control_fd = ch.control_fd,
                        .stage = live_stage,
                        .exited = live_exited,
                        .userdata = &ch,
                };
                js.live = &live;
        }
        TestProgress tp = {.pool = w->pool, .token = sub->token};
        if (sub->n_tests > 0) { /* the many-tests extension: each test as it finishes */
                js.on_test = on_test;
                js.on_test_userdata = &tp;
        }
        JudgeResult res;
        int r = judge_submission(w->judge, &js, &res);
        if (js.live) {
                if (r < 0 ||
                        (res.status_id == STATUS_INTERNAL_ERROR && res.n_tests > 0 && !res.tests[0].ran)) {
                        /* No stage ran to its end: say why, as the run stage's exit. */
                        BoxResult xx = {.status = BOX_STATUS_XX, .exit_code = -1};
                        snprintf(xx.message, sizeof xx.message, "%s",
                                r < 0 ? strerror(-r)
                                      : (res.tests[0].message ? res.tests[0].message : "internal error"));
                        live_send(&ch, LIVE_EXIT, true, &xx);
                }
                live_send(&ch, LIVE_DONE, true, NULL);
                live_channel_close(&ch);
        }
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
        sub->score = res.score;
        /* The tests that ran are a prefix (stop_on_failure skips the rest). */
        size_t k = 0;
        for (; r >= 0 && k < sub->n_tests && k < res.n_tests && res.tests[k].ran; k++) {
                SubmissionTest *t = &sub->tests[k];
                r = outcome_fields(&res.tests[k], &t->status_id, &t->stdout_data, &t->stderr_data,
                        &t->message, &t->time_usec, &t->wall_time_usec, &t->memory_kib, &t->exit_code,
                        &t->exit_signal, &t->memory_limit_exceeded);
                t->points = res.tests[k].points;
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

static void publish(WorkerPool *p, const char *token, int status_id) {
        int r = notify_publish(p->cfg.notify, token, status_id);
        if (r < 0)
                log_warning(r, "worker token=%s publish failed: %s", token, strerror(-r));
}

static void count_result(WorkerPool *p, int status_id, uint64_t dur) {
        atomic_fetch_add(&p->judged, 1);
        if (status_id >= 0 && status_id < _STATUS_MAX)
                atomic_fetch_add(&p->by_status[status_id], 1);
        atomic_fetch_add(&p->run_usec_total, dur);
        size_t b = 0;
        while (b < WORKER_DURATION_BUCKETS && dur > worker_duration_bounds_usec[b])
                b++;
        atomic_fetch_add(&p->duration_buckets[b], 1);
}

/* Sleep up to usec, woken early by worker_pool_stop(). false when stopping. */
static bool pause_unless_stopping(WorkerPool *p, uint64_t usec) {
        pthread_mutex_lock(&p->lock);
        if (!atomic_load(&p->stopping)) {
                uint64_t until = now_usec(CLOCK_MONOTONIC) + usec;
                struct timespec ts = {
                        .tv_sec = (time_t) (until / USEC_PER_SEC),
                        .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC),
                };
                pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        }
        pthread_mutex_unlock(&p->lock);
        return !atomic_load(&p->stopping);
}

/* Store a result. While the store fails (a full disk, a lost database), the result is
 * kept here and written again with bounded back-off: never lost for a transient failure,
 * never re-judged (the heartbeat keeps the job's lease). Gives up only when the pool
 * stops: the submission stays Processing in the store and the job unacknowledged, and
 * a restart (or the lease's end) delivers it again. */
static int finish_kept(WorkerPool *p, const Submission *sub) {
        uint64_t pause = FINISH_RETRY_FIRST_USEC;
        int first = 0;
        for (unsigned tries = 1;; tries++) {
                int r = store_finish(p->cfg.store, sub);
                if (r >= 0 || !(store_error_is_failure(r) || r == -EAGAIN)) {
                        if (first < 0 && r >= 0)
                                log_info("worker token=%s result written after tries=%u", sub->token, tries);
                        return r;
                }
                if (first == 0) {
                        first = r;
                        log_error(r, "worker token=%s cannot store the result: %s (kept, retried)",
                                sub->token, strerror(-r));
                }
                if (!pause_unless_stopping(p, pause)) {
                        log_warning(r,
                                "worker token=%s handed_back=true (stopping before the store took the "
                                "result)",
                                sub->token);
                        return r;
                }
                pause = MIN(pause * 2, FINISH_RETRY_MAX_USEC);
        }
}

/* Claim the submission in the store and read it. While the store fails (a database
 * outage), the job is held here and both are tried again with the same back-off as a
 * kept result: the heartbeat keeps its lease, so an outage longer than a few leases
 * neither delivers the job again nor counts deliveries that would end it as dead. Gives up
 * only when the pool stops (the job then goes back with its lease). On success *sub is
 * the caller's: submission_done(). */
static int load_kept(WorkerPool *p, const char *token, uint32_t *ret_attempts, Submission *sub) {
        uint64_t pause = FINISH_RETRY_FIRST_USEC;
        int first = 0;
        for (unsigned tries = 1;; tries++) {
                int r = store_claim(p->cfg.store, token, ret_attempts);
                if (r >= 0)
                        r = store_get(p->cfg.store, token, sub);
                if (r >= 0 || !(store_error_is_failure(r) || r == -EAGAIN)) {
                        if (first < 0 && r >= 0)
                                log_info("worker token=%s claimed after tries=%u", token, tries);
                        return r;
                }
                if (first == 0) {
                        first = r;
                        log_error(r, "worker token=%s cannot claim it in the store: %s (held, retried)",
                                token, strerror(-r));
                }
                if (!pause_unless_stopping(p, pause))
                        return r;
                pause = MIN(pause * 2, FINISH_RETRY_MAX_USEC);
        }
}

/* The outcome of one job for the queue: ack it (done, or nothing to do) or leave it to
 * its lease (the store failed: a later delivery retries). */
typedef enum JobOutcome {
        JOB_DONE,
        JOB_RETRY,
} JobOutcome;

static JobOutcome process(Worker *w, const QueueJob *job) {
        WorkerPool *p = w->pool;
        const char *token = job->token;
        uint32_t attempts = 0;
        Submission sub;
        submission_init(&sub);
        int r = load_kept(p, token, &attempts, &sub);
        if (r == -EALREADY || r == -ENOENT) {
                /* Delivered twice, or deleted meanwhile: nothing to do. */
                log_debug("worker token=%s skipped=%s", token, r == -EALREADY ? "final" : "deleted");
                return JOB_DONE;
        }
        if (r < 0) {
                log_error(r, "worker token=%s claim failed: %s", token, strerror(-r));
                atomic_fetch_add(&p->failed, 1);
                return JOB_RETRY;
        }

        NotifyProgress processing = {.kind = NOTIFY_STATUS, .status_id = STATUS_PROCESSING};
        memcpy(processing.token, token, sizeof processing.token);
        publish_progress(p, &processing);

        uint64_t start = now_usec(CLOCK_MONOTONIC);
        size_t n_tests = 0;
        uint32_t max = p->cfg.max_deliveries;
        bool dead = job->deliveries > max;
        if (dead) {
                char buf[200];
                snprintf(buf, sizeof buf,
                        "the submission was delivered %" PRIu32 " times and its worker stopped each time "
                        "(dead-lettered)",
                        job->deliveries);
                sub.status_id = STATUS_INTERNAL_ERROR;
                r = set_cstring(&sub.message, buf);
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
        if (atomic_load(&p->abandon)) {
                /* Stopped past the grace period: the run was cut short, its result is not one. */
                log_info("worker token=%s handed_back=true (stopping)", token);
                submission_done(&sub);
                return JOB_RETRY;
        }
        size_t all_tests = sub.n_tests;
        sub.n_tests = n_tests; /* store_finish() writes this many test results */
        r = finish_kept(p, &sub);
        sub.n_tests = all_tests;
        if (r == 0)
                count_result(p, sub.status_id, dur);
        else if (r != -EALREADY) {
                log_error(r, "worker token=%s finish failed: %s", token, strerror(-r));
                atomic_fetch_add(&p->failed, 1);
                submission_done(&sub);
                return JOB_RETRY;
        }
        log_info("judged token=%s language_id=%d status_id=%d time=%" PRId64 "us wall_time=%" PRId64
                 "us memory=%" PRId64 "KiB tests=%zu attempts=%" PRIu32 " deliveries=%" PRIu32
                 " duration_ms=%.3f%s%s",
                token, sub.language_id, sub.status_id, sub.time_usec, sub.wall_time_usec, sub.memory_kib,
                all_tests, attempts, job->deliveries, dur / 1000.0,
                r == -EALREADY ? " already_final=true" : "", dead ? " dead_letter=true" : "");
        if (dead)
                (void) queue_dead(p->cfg.queue, job, "delivered too many times");
        if (r == 0 && p->cfg.callbacks && sub.callback_url.data && sub.callback_url.len > 0)
                send_callback(p, &sub);
        int status = sub.status_id;
        submission_done(&sub);
        publish(p, token, status);
        return JOB_DONE;
}

static void set_job(Worker *w, const QueueJob *job) {
        pthread_mutex_lock(&w->pool->lock);
        w->has_job = job != NULL;
        if (job)
                w->job = *job;
        pthread_mutex_unlock(&w->pool->lock);
}

static void *worker_thread(void *arg) {
        Worker *w = arg;
        WorkerPool *p = w->pool;
        QueueJob job;
        while (!atomic_load(&p->stopping)) {
                int r = queue_claim(p->cfg.queue, p->cfg.lease_usec, CLAIM_WAIT_USEC, &job);
                if (r == -EAGAIN)
                        continue;
                if (r == -ESHUTDOWN)
                        break;
                if (r < 0) {
                        /* The queue is unreachable: wait a little, as long as we run. */
                        log_warning(r, "worker claim failed: %s", strerror(-r));
                        pthread_mutex_lock(&p->lock);
                        if (!atomic_load(&p->stopping)) {
                                struct timespec ts;
                                clock_gettime(CLOCK_MONOTONIC, &ts);
                                ts.tv_sec += 1;
                                pthread_cond_timedwait(&p->wake, &p->lock, &ts);
                        }
                        pthread_mutex_unlock(&p->lock);
                        continue;
                }
                atomic_fetch_add(&p->busy, 1);
                set_job(w, &job);
                JobOutcome o = process(w, &job);
                set_job(w, NULL);
                if (o == JOB_DONE)
                        (void) queue_ack(p->cfg.queue, &job);
                atomic_fetch_sub(&p->busy, 1);
        }
        return NULL;
}

/* ---- the registry and the leases ---- */

static int registry_record(WorkerPool *p, char **ret) {
        const Catalogue *cat = p->cfg.catalogue;
        _cleanup_free_ WorkerLanguage *langs = calloc(cat->n ? cat->n : 1, sizeof *langs);
        if (!langs)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < cat->n; i++)
                if (cat->langs[i].installed)
                        langs[n++] = (WorkerLanguage){cat->langs[i].id,
                                cat->langs[i].name ? cat->langs[i].name : cat->langs[i].name_template};
        char host[256] = "";
        (void) gethostname(host, sizeof host - 1);
        WorkerInfo wi = {
                .version = (char *) CODERUNNER_VERSION,
                .hostname = host,
                .languages = langs,
                .n_languages = n,
                .started_at_usec = p->started_at_usec,
        };
        worker_pool_stats(p, &wi.stats);
        return worker_info_format(&wi, ret);
}

static int beat(WorkerPool *p) {
        _cleanup_free_ char *info = NULL;
        int r = registry_record(p, &info);
        if (r >= 0)
                r = store_worker_beat(p->cfg.store, p->cfg.id, info);
        return r;
}

static void extend_leases(WorkerPool *p) {
        QueueJob jobs[64];
        size_t n = 0;
        pthread_mutex_lock(&p->lock);
        for (unsigned i = 0; i < p->n && n < ELEMENTSOF(jobs); i++)
                if (p->workers[i].has_job)
                        jobs[n++] = p->workers[i].job;
        pthread_mutex_unlock(&p->lock);
        for (size_t i = 0; i < n; i++) {
                int r = queue_extend(p->cfg.queue, &jobs[i], p->cfg.lease_usec);
                if (r < 0 && r != -ENOENT)
                        log_warning(r, "worker token=%s lease extension failed: %s", jobs[i].token,
                                strerror(-r));
        }
}

static void *heartbeat_thread(void *arg) {
        WorkerPool *p = arg;
        bool failing = false;
        pthread_mutex_lock(&p->lock);
        while (!atomic_load(&p->stopping)) {
                uint64_t until = now_usec(CLOCK_MONOTONIC) + p->cfg.heartbeat_usec;
                struct timespec ts = {
                        .tv_sec = (time_t) (until / USEC_PER_SEC),
                        .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC),
                };
                pthread_cond_timedwait(&p->wake, &p->lock, &ts);
                if (atomic_load(&p->stopping))
                        break;
                pthread_mutex_unlock(&p->lock);
                extend_leases(p);
                int r = beat(p);
                if (r < 0 && !failing)
                        log_warning(r, "worker id=%s heartbeat failed: %s", p->cfg.id, strerror(-r));
                else if (r >= 0 && failing)
                        log_info("worker id=%s heartbeat recovered", p->cfg.id);
                failing = r < 0;
                pthread_mutex_lock(&p->lock);
        }
        pthread_mutex_unlock(&p->lock);
        return NULL;
}

int worker_pool_start(const WorkerPoolConfig *cfg, WorkerPool **ret) {
        if (cfg->n == 0 || !cfg->notify || !cfg->id || !*cfg->id)
                return -EINVAL;
        WorkerPool *p = calloc(1, sizeof *p);
        if (!p)
                return -ENOMEM;
        p->cfg = *cfg;
        if (!p->cfg.max_deliveries)
                p->cfg.max_deliveries = DEFAULT_MAX_DELIVERIES;
        if (!p->cfg.lease_usec)
                p->cfg.lease_usec = DEFAULT_LEASE_USEC;
        if (!p->cfg.heartbeat_usec)
                p->cfg.heartbeat_usec = DEFAULT_HEARTBEAT_USEC;
        p->started_at_usec = (int64_t) now_usec(CLOCK_REALTIME);
        pthread_mutex_init(&p->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&p->wake, &ca);
        pthread_condattr_destroy(&ca);
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
                if (r >= 0)
                        r = box_client_connect(cfg->box_socket, &w->peer);
                if (r < 0)
                        break;
                r = judge_new(&p->cfg.judge, (JudgeRunner){judge_runner_box_client, w->client, w->peer},
                        &w->judge);
                if (r >= 0 && i == 0 && !judge_work_bounded(w->judge))
                        log_warning(0,
                                "worker id=%s: the work directories are plain directories, not bounded "
                                "tmpfs (no right to mount): a run may fill %s",
                                cfg->id, judge_work_dir(w->judge));
        }
        if (r >= 0) {
                r = beat(p);
                if (r < 0)
                        log_error(r, "worker id=%s cannot register in the store: %s", cfg->id, strerror(-r));
        }
        for (unsigned i = 0; i < p->n && r >= 0; i++) {
                r = -pthread_create(&p->workers[i].thread, NULL, worker_thread, &p->workers[i]);
                if (r == 0)
                        p->workers[i].started = true;
        }
        if (r >= 0) {
                r = -pthread_create(&p->heartbeat, NULL, heartbeat_thread, p);
                p->heartbeat_started = r == 0;
        }
        if (r < 0) {
                worker_pool_stop(p);
                return r;
        }
        *ret = p;
        return 0;
}

bool worker_pool_drain(WorkerPool *p, uint64_t grace_usec) {
        if (!p)
                return true;
        uint64_t until = now_usec(CLOCK_MONOTONIC) + grace_usec;
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stopping, true);
        pthread_cond_broadcast(&p->wake);
        /* The workers do not signal their end: look every 10 ms. */
        while (atomic_load(&p->busy) > 0 && now_usec(CLOCK_MONOTONIC) < until) {
                uint64_t t = MIN(now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_MSEC, until);
                struct timespec ts = {
                        .tv_sec = (time_t) (t / USEC_PER_SEC),
                        .tv_nsec = (long) (t % USEC_PER_SEC * NSEC_PER_USEC),
                };
                pthread_cond_timedwait(&p->wake, &p->lock, &ts);
        }
        bool idle = atomic_load(&p->busy) == 0;
        if (!idle)
                atomic_store(&p->abandon, true);
        pthread_mutex_unlock(&p->lock);
        return idle;
}

WorkerPool *worker_pool_stop(WorkerPool *p) {
        if (!p)
                return NULL;
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->stopping, true);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        /* The heartbeat first: the leases of the jobs still running are extended by nobody
         * from now on, so they are finished well within one lease. */
        if (p->heartbeat_started)
                pthread_join(p->heartbeat, NULL);
        for (unsigned i = 0; i < p->n; i++) {
                Worker *w = &p->workers[i];
                if (w->started)
                        pthread_join(w->thread, NULL);
                judge_free(w->judge);
                box_client_free(w->client);
                box_client_free(w->peer);
        }
        if (p->cfg.id) {
                int r = store_worker_remove(p->cfg.store, p->cfg.id);
                if (r < 0 && r != -ENOENT)
                        log_warning(
                                r, "worker id=%s cannot leave the registry: %s", p->cfg.id, strerror(-r));
        }
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
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
        for (size_t i = 0; i < _STATUS_MAX; i++)
                ret->by_status[i] = atomic_load(&p->by_status[i]);
        uint64_t cum = 0;
        for (size_t i = 0; i <= WORKER_DURATION_BUCKETS; i++) {
                cum += atomic_load(&p->duration_buckets[i]);
                ret->duration_buckets[i] = cum;
        }
}
