/* SPDX-License-Identifier: MIT */
#pragma once

/* The workers: threads that claim a job from the queue (with a lease), claim the
 * submission in the store (1 -> 2), judge it with the judge pipeline through the resident
 * sandbox supervisor (one BoxClient per thread), store the result (first final result
 * wins), acknowledge the job, publish the result (notify) and queue its callback:
 * Judge0's 8 default fields, base64, whatever the create request asked.
 *
 * A heartbeat thread extends the leases of the jobs being judged and keeps the pool's
 * record in the store's worker registry (its counters and the languages it serves),
 * from which API nodes learn what the cluster serves. A job delivered more than
 * max_deliveries times (its workers died each time) is moved to the dead letters and
 * its submission ends as 13 Internal Error with a message that says so.
 *
 * Nothing here knows HTTP: the API learns of results through the notifier and the store. */

#include <stdbool.h>
#include <stdint.h>

#include "callback/callback.h"
#include "judge/judge.h"
#include "lang/language.h"
#include "model/worker-info.h"
#include "model/live.h"
#include "notify/notify.h"
#include "queue/queue.h"
#include "store/store.h"

typedef struct WorkerPoolConfig {
        unsigned n; /* threads (>= 1) */
        const char *id; /* this pool's id in the registry (unique in the cluster) */
        const char *box_socket; /* the sandbox supervisor's socket */
        const Catalogue *catalogue; /* stays the caller's, alive while the pool runs */
        Store *store; /* shared; stays the caller's */
        Queue *queue; /* stays the caller's */
        Notify *notify; /* results are published here; stays the caller's */
        JudgeConfig judge; /* its strings stay the caller's */
        uint32_t max_deliveries; /* a job delivered more often is dead-lettered (0 = 3) */
        uint64_t lease_usec; /* a job's lease, extended while it runs (0 = 30 s) */
        uint64_t heartbeat_usec; /* registry and lease refresh period (0 = 2 s) */
        CallbackSender *callbacks; /* NULL = callback_url is ignored; stays the caller's */
        /* Interactive runs (in memory in coderunner serve, through Redis on a worker node):
         * a claimed token with a channel there runs on it. NULL = none; stays the caller's. */
        LiveRegistry *live;
} WorkerPoolConfig;

typedef struct WorkerPool WorkerPool;

/* Queue again every submission the store has In Queue or Processing (restart safety of
 * the embedded service, whose queue lives in its memory). Returns how many were queued. */
int worker_requeue_unfinished(Store *store, Queue *queue);

/* Start the threads. Each connects to the supervisor first: an error there stops
 * everything. The registry record is written once before this returns. *ret is the
 * caller's: worker_pool_stop(). */
int worker_pool_start(const WorkerPoolConfig *cfg, WorkerPool **ret);
/* Stop claiming and wait up to grace_usec for the jobs being judged to finish. true when
 * none is left; else the pool hands the rest back: their results (cut short when the
 * caller then stops the sandbox supervisor) are not written, their jobs not acknowledged,
 * their submissions stay Processing for the next delivery (a restart, a lease's end).
 * Then worker_pool_stop(). Accepts NULL. */
bool worker_pool_drain(WorkerPool *p, uint64_t grace_usec);
/* Drain: stop claiming, let the jobs being judged finish, remove the registry record,
 * join the threads and free. Accepts NULL. */
WorkerPool *worker_pool_stop(WorkerPool *p);
void worker_pool_stats(WorkerPool *p, WorkerStats *ret);
