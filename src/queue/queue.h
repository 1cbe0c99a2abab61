/* SPDX-License-Identifier: MIT */
#pragma once

/* The in-process job queue of the embedded service: submission tokens, first in first
 * out, taken by worker threads. Bounded: at most `max` tokens wait (Judge0's
 * MAX_QUEUE_SIZE); tokens being judged are not counted. Thread-safe. The store stays the
 * truth: on restart, what is unfinished in the store is queued again (worker module). */

#include <stdbool.h>
#include <stddef.h>

#include "model/submission.h"

typedef struct Queue Queue;

/* max: the ceiling of waiting tokens (>= 1). *ret is the caller's: queue_free(). */
int queue_new(size_t max, Queue **ret);
/* Wakes nobody: call queue_close() first and join the consumers. Accepts NULL. */
Queue *queue_free(Queue *q);

/* Whether n more tokens fit now. */
bool queue_has_room(Queue *q, size_t n);
/* Append a token. -EAGAIN when full (unless force: restart re-queueing never drops a
 * token), -ESHUTDOWN after queue_close(), -ENOMEM. */
int queue_push(Queue *q, const char *token, bool force);
/* Take the oldest token, waiting for one. -ESHUTDOWN once closed. */
int queue_pop(Queue *q, char ret[SUBMISSION_TOKEN_LEN + 1]);
/* Wake every consumer; queue_pop() fails from now on. */
void queue_close(Queue *q);
size_t queue_length(Queue *q);
size_t queue_max(Queue *q);
