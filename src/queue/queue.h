/* SPDX-License-Identifier: MIT */
#pragma once

/* The job queue: submission tokens waiting for a worker. One interface, two backends:
 *   - in-process ("memory:"), the embedded service's: a ring and a table of claimed jobs
 *     behind a mutex;
 *   - Redis Streams ("redis://host:port[/db]"), a cluster's: one stream, one consumer
 *     group, entries claimed with XREADGROUP, each job's lease end in a sorted set by the
 *     server's clock, taken over with XCLAIM once it has passed, dead letters moved to a
 *     second stream (queue-redis.c).
 * The store stays the truth: a token is queued after its submission was stored, and the
 * store's state machine makes a job delivered twice harmless (claim refuses a final
 * submission, the first final result wins).
 *
 * Delivery is at least once. A claimed job belongs to its consumer until its lease
 * passes; the consumer acks it when the result is stored, extends the lease while it
 * runs, or releases it to give it back at once (shutdown). A job whose lease passed is
 * delivered again, to any consumer, with `deliveries` one higher; after too many the
 * consumer moves it to the dead letters (queue_dead()).
 *
 * Bounded: at most `max` jobs wait (Judge0's MAX_QUEUE_SIZE: the jobs no worker has taken
 * yet; claimed ones do not count). queue_push() is the admission: it checks the room and
 * appends all of its tokens in one atomic step, or refuses them all.
 *
 * Thread-safe: every call may come from any thread. Errors are negative errno values;
 * besides the per-function ones, a networked backend may return -ECONNREFUSED,
 * -ECONNRESET, -ETIMEDOUT or -EIO when its server is unreachable (the next call
 * reconnects), and any call may return -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"
#include "model/submission.h"

typedef struct Queue Queue;

/* Room for the one-line reason queue_open() gives on failure. */
#define QUEUE_ERROR_MAX 256
/* A backend's id of one delivery (a Redis stream entry id: "1700000000000-0"). */
#define QUEUE_JOB_ID_MAX 48

typedef struct QueueJob {
        char token[SUBMISSION_TOKEN_LEN + 1];
        char id[QUEUE_JOB_ID_MAX];
        uint32_t deliveries; /* 1 the first time a job is claimed */
} QueueJob;

typedef struct QueueStats {
        uint64_t waiting; /* pushed, not claimed */
        uint64_t pending; /* claimed, not acked (lease running or passed) */
        uint64_t dead; /* moved to the dead letters, ever (Redis: those kept) */
        uint64_t max; /* the bound on waiting */
} QueueStats;

/* Open a queue.
 * url: "memory:" (in-process) or "redis://[:password@]host[:port][/db][?stream=NAME]"
 * (NAME defaults to "coderunner"; the group is NAME's, the dead letters NAME:dead).
 * max: the bound (>= 1). consumer: this process's name among the group's consumers
 * (Redis; a worker's id, unique in the cluster; NULL for a producer that never claims).
 * errbuf: NULL, or QUEUE_ERROR_MAX bytes for a one-line reason on failure.
 * Errors: -EINVAL (url), -EPROTONOSUPPORT (a backend this build lacks), and the
 * connection errors above. *ret is the caller's: queue_free(). */
int queue_open(const char *url, uint64_t max, const char *consumer, char *errbuf, Queue **ret);
/* Wakes nobody: call queue_close() first and join the consumers. Accepts NULL. */
Queue *queue_free(Queue *q);
static inline void queue_freep(Queue **q) {
        queue_free(*q);
}
#define _cleanup_queue_free_ _cleanup_(queue_freep)

/* "memory" or "redis". */
const char *queue_backend(const Queue *q);

/* Append tokens[0..n) as one step: all of them, or none when waiting + n > max
 * (-EAGAIN: "queue is full"), unless force (re-queueing what the store holds unfinished
 * never drops a token). -EINVAL for a malformed token, -ESHUTDOWN after queue_close(). */
int queue_push(Queue *q, const char *const *tokens, size_t n, bool force);
/* Take the oldest waiting job, or one whose lease has passed, for lease_usec. Waits up to
 * timeout_usec for one (0: do not wait). On success *ret is filled. -EAGAIN when none came
 * in time, -ESHUTDOWN once closed. */
int queue_claim(Queue *q, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret);
/* The job is done: forget it. Acking a job whose lease was taken over is harmless. */
int queue_ack(Queue *q, const QueueJob *job);
/* Give the job back now: the next claim may take it (its deliveries still count). */
int queue_release(Queue *q, const QueueJob *job);
/* The job still runs: its lease ends lease_usec from now. -ENOENT when it is no longer
 * this consumer's (acked, or taken over). */
int queue_extend(Queue *q, const QueueJob *job, uint64_t lease_usec);
/* Move the job to the dead letters (with the reason) and forget it. */
int queue_dead(Queue *q, const QueueJob *job, const char *reason);
/* Whether the backend answers (Redis: PING, reconnecting when needed). */
int queue_ping(Queue *q);
int queue_stats(Queue *q, QueueStats *ret);
/* Wake every consumer waiting in queue_claim(); every later claim and push fails with
 * -ESHUTDOWN. */
void queue_close(Queue *q);
