/* SPDX-License-Identifier: MIT */
#pragma once

/* The workers of the embedded service: threads that take a token from the queue, claim
 * the submission in the store (1 -> 2), judge it with the judge pipeline through the
 * resident sandbox supervisor (one BoxClient per thread), store the result (first final
 * result wins), report it (notify) and queue its callback: Judge0's 8 default fields,
 * base64, whatever the create request asked. */

#include <stdint.h>

#include "callback/callback.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "queue/queue.h"
#include "store/store.h"

/* Called from a worker thread after a submission reached a final status (or could not
 * be judged and was left as it was: status_id 0). */
typedef void (*WorkerNotify)(void *userdata, const char *token, int status_id);

typedef struct WorkerPoolConfig {
        unsigned n; /* threads (>= 1) */
        const char *box_socket; /* the sandbox supervisor's socket */
        const Catalogue *catalogue; /* stays the caller's, alive while the pool runs */
        Store *store; /* shared; stays the caller's */
        Queue *queue; /* stays the caller's */
        JudgeConfig judge; /* its strings stay the caller's */
        uint32_t max_attempts; /* a job taken more often ends as Internal Error */
        CallbackSender *callbacks; /* NULL = callback_url is ignored; stays the caller's */
        WorkerNotify notify;
        void *userdata;
} WorkerPoolConfig;

typedef struct WorkerPool WorkerPool;

/* Upper bounds (microseconds) of the judge-duration histogram's buckets; +Inf is extra. */
#define WORKER_DURATION_BUCKETS 12
extern const uint64_t worker_duration_bounds_usec[WORKER_DURATION_BUCKETS];

typedef struct WorkerStats {
        unsigned threads;
        unsigned busy;
        uint64_t judged; /* final results written */
        uint64_t by_status[STORE_STATUS_SLOTS]; /* results written, by status */
        uint64_t failed; /* jobs that could not be judged at all */
        uint64_t run_usec_total; /* wall time spent judging */
        /* judge durations of the results written: [i] counts those <= bound i (cumulative,
         * as Prometheus has it); [WORKER_DURATION_BUCKETS] counts them all */
        uint64_t duration_buckets[WORKER_DURATION_BUCKETS + 1];
} WorkerStats;

/* Queue again every submission the store has In Queue or Processing (restart safety).
 * Returns how many were queued. */
int worker_requeue_unfinished(Store *store, Queue *queue);

/* Start the threads. Each connects to the supervisor first: an error there stops
 * everything. *ret is the caller's: worker_pool_stop() after queue_close(). */
int worker_pool_start(const WorkerPoolConfig *cfg, WorkerPool **ret);
/* Join the threads (close the queue first) and free. Accepts NULL. */
WorkerPool *worker_pool_stop(WorkerPool *p);
void worker_pool_stats(WorkerPool *p, WorkerStats *ret);
