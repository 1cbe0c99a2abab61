/* SPDX-License-Identifier: MIT */
/* The queue's dispatch: pick the backend from the url, validate arguments. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue-internal.h"

struct Queue {
        const QueueOps *ops;
        QueueBackend *backend;
};

void queue_set_error(char *errbuf, const char *fmt, ...) {
        if (!errbuf)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, QUEUE_ERROR_MAX, fmt, ap);
        va_end(ap);
}

static const struct {
        const char *prefix;
        const QueueOps *ops;
} schemes[] = {
        {"memory:", &queue_memory_ops},
#if HAVE_HIREDIS
        {"redis://", &queue_redis_ops},
#endif
};

int queue_open(const char *url, uint64_t max, const char *consumer, char *errbuf, Queue **ret) {
        if (!url || max == 0) {
                queue_set_error(errbuf, "the queue needs a url and a bound of at least 1");
                return -EINVAL;
        }
        const QueueOps *ops = NULL;
        for (size_t i = 0; i < ELEMENTSOF(schemes) && !ops; i++)
                if (strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
                        ops = schemes[i].ops;
        if (!ops) {
                bool redis = strncmp(url, "redis://", 8) == 0;
                queue_set_error(errbuf,
                        redis ? "this build has no Redis support (libhiredis)"
                              : "unknown queue url \"%s\" (memory: or redis://host:port)",
                        url);
                return redis ? -EPROTONOSUPPORT : -EINVAL;
        }
        Queue *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->ops = ops;
        int r = ops->open(url, max, consumer, errbuf, &q->backend);
        if (r < 0) {
                free(q);
                return r;
        }
        *ret = q;
        return 0;
}

Queue *queue_free(Queue *q) {
        if (!q)
                return NULL;
        q->ops->free(q->backend);
        free(q);
        return NULL;
}

const char *queue_backend(const Queue *q) {
        return q->ops->name;
}

int queue_push(Queue *q, const char *const *tokens, size_t n, bool force) {
        if (n == 0)
                return 0;
        if (!tokens)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (!queue_token_valid(tokens[i]))
                        return -EINVAL;
        return q->ops->push(q->backend, tokens, n, force);
}

int queue_claim(Queue *q, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret) {
        if (!ret || lease_usec == 0)
                return -EINVAL;
        return q->ops->claim(q->backend, lease_usec, timeout_usec, ret);
}

static bool job_valid(const QueueJob *job) {
        return job && queue_token_valid(job->token) && memchr(job->id, '\0', sizeof job->id);
}

int queue_ack(Queue *q, const QueueJob *job) {
        return job_valid(job) ? q->ops->ack(q->backend, job) : -EINVAL;
}

int queue_release(Queue *q, const QueueJob *job) {
        return job_valid(job) ? q->ops->release(q->backend, job) : -EINVAL;
}

int queue_extend(Queue *q, const QueueJob *job, uint64_t lease_usec) {
        if (!job_valid(job) || lease_usec == 0)
                return -EINVAL;
        return q->ops->extend(q->backend, job, lease_usec);
}

int queue_dead(Queue *q, const QueueJob *job, const char *reason) {
        return job_valid(job) ? q->ops->dead(q->backend, job, reason ? reason : "") : -EINVAL;
}

int queue_ping(Queue *q) {
        return q->ops->ping(q->backend);
}

int queue_stats(Queue *q, QueueStats *ret) {
        return q->ops->stats(q->backend, ret);
}

void queue_close(Queue *q) {
        q->ops->close(q->backend);
}
