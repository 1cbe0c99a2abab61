/* SPDX-License-Identifier: MIT */
#pragma once

/* What the queue's dispatch (queue.c) shares with its backends (queue-memory.c,
 * queue-redis.c). queue.c validates arguments; a backend gets well-formed tokens, a
 * non-NULL job and lease_usec > 0. */

#include "config.h"
#include "queue/queue.h"

typedef struct QueueBackend QueueBackend;

typedef struct QueueOps {
        const char *name;
        /* target: the url after the scheme's "memory:" / the whole "redis://..." url */
        int (*open)(const char *url, uint64_t max, const char *consumer, char *errbuf, QueueBackend **ret);
        void (*free)(QueueBackend *b);
        int (*push)(QueueBackend *b, const char *const *tokens, size_t n, bool force);
        int (*claim)(QueueBackend *b, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret);
        int (*ack)(QueueBackend *b, const QueueJob *job);
        int (*release)(QueueBackend *b, const QueueJob *job);
        int (*extend)(QueueBackend *b, const QueueJob *job, uint64_t lease_usec);
        int (*dead)(QueueBackend *b, const QueueJob *job, const char *reason);
        int (*ping)(QueueBackend *b);
        int (*stats)(QueueBackend *b, QueueStats *ret);
        void (*close)(QueueBackend *b);
} QueueOps;

extern const QueueOps queue_memory_ops;
#if HAVE_HIREDIS
extern const QueueOps queue_redis_ops;
#endif

/* Write a one-line reason into errbuf (may be NULL; QUEUE_ERROR_MAX bytes). */
void queue_set_error(char *errbuf, const char *fmt, ...) _printf_(2, 3);
/* Whether s is a submission token (a lowercase UUID's shape). */
static inline bool queue_token_valid(const char *s) {
        return submission_token_valid(s);
}
