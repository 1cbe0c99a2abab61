/* SPDX-License-Identifier: MIT */
/* The in-process queue: the embedded service's. Waiting jobs in a ring (first in, first
 * out), claimed ones in a table with their lease's end; a claim takes a job whose lease
 * passed before a waiting one, so a consumer thread that stopped without acking (it
 * cannot crash alone: it is a thread) still has its job judged. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "queue/queue-internal.h"

typedef struct Entry {
        char token[SUBMISSION_TOKEN_LEN + 1];
        uint64_t seq; /* the job's id, the same for each of its deliveries */
        uint32_t deliveries;
        uint64_t lease_end_usec; /* pending entries: CLOCK_MONOTONIC */
} Entry;

struct QueueBackend {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        Entry *ring; /* waiting: grows past max only for forced pushes */
        size_t cap, head, len;
        Entry *pending; /* claimed, not acked; unordered */
        size_t n_pending, cap_pending;
        uint64_t max, next_seq, dead;
        bool closed;
};

static int memory_open(
        const char *url, uint64_t max, const char *consumer, char *errbuf, QueueBackend **ret) {
        if (strcmp(url, "memory:") != 0) {
                queue_set_error(errbuf, "the in-process queue's url is \"memory:\", not \"%s\"", url);
                return -EINVAL;
        }
        QueueBackend *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->max = max;
        b->next_seq = 1;
        pthread_mutex_init(&b->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&b->changed, &ca);
        pthread_condattr_destroy(&ca);
        *ret = b;
        return 0;
}

static void memory_free(QueueBackend *b) {
        if (!b)
                return;
        pthread_mutex_destroy(&b->lock);
        pthread_cond_destroy(&b->changed);
        free(b->ring);
        free(b->pending);
        free(b);
}

/* Room for n more waiting entries. */
static int reserve_ring(QueueBackend *b, size_t n) {
        if (b->len + n <= b->cap)
                return 0;
        size_t ncap = b->cap ? b->cap : 64;
        while (ncap < b->len + n)
                ncap *= 2;
        Entry *e = calloc(ncap, sizeof *e);
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < b->len; i++)
                e[i] = b->ring[(b->head + i) % b->cap];
        free(b->ring);
        b->ring = e;
        b->cap = ncap;
        b->head = 0;
        return 0;
}

static int memory_push(QueueBackend *b, const char *const *tokens, size_t n, bool force) {
        int r = 0;
        pthread_mutex_lock(&b->lock);
        if (b->closed)
                r = -ESHUTDOWN;
        else if (!force && (n > b->max || b->len > b->max - n))
                r = -EAGAIN;
        else
                r = reserve_ring(b, n);
        for (size_t i = 0; r == 0 && i < n; i++) {
                Entry *e = &b->ring[(b->head + b->len) % b->cap];
                *e = (Entry){.seq = b->next_seq++};
                memcpy(e->token, tokens[i], sizeof e->token);
                b->len++;
        }
        if (r == 0)
                pthread_cond_broadcast(&b->changed);
        pthread_mutex_unlock(&b->lock);
        return r;
}

static void job_of(const Entry *e, QueueJob *ret) {
        *ret = (QueueJob){.deliveries = e->deliveries};
        memcpy(ret->token, e->token, sizeof ret->token);
        snprintf(ret->id, sizeof ret->id, "%" PRIu64, e->seq);
}

static Entry *find_pending(QueueBackend *b, const QueueJob *job) {
        for (size_t i = 0; i < b->n_pending; i++) {
                char id[QUEUE_JOB_ID_MAX];
                snprintf(id, sizeof id, "%" PRIu64, b->pending[i].seq);
                if (strcmp(id, job->id) == 0)
                        return &b->pending[i];
        }
        return NULL;
}

/* The pending entry whose lease ended first, if it has; and the earliest end in any case. */
static Entry *expired_pending(QueueBackend *b, uint64_t now, uint64_t *ret_next_end) {
        Entry *best = NULL;
        *ret_next_end = USEC_INFINITY;
        for (size_t i = 0; i < b->n_pending; i++) {
                Entry *e = &b->pending[i];
                if (e->lease_end_usec < *ret_next_end)
                        *ret_next_end = e->lease_end_usec;
                if (e->lease_end_usec <= now && (!best || e->lease_end_usec < best->lease_end_usec))
                        best = e;
        }
        return best;
}

static void remove_pending(QueueBackend *b, Entry *e) {
        *e = b->pending[--b->n_pending];
}

static int memory_claim(QueueBackend *b, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret) {
        uint64_t deadline = timeout_usec == 0 ? 0 : now_usec(CLOCK_MONOTONIC) + timeout_usec;
        pthread_mutex_lock(&b->lock);
        for (;;) {
                if (b->closed) {
                        pthread_mutex_unlock(&b->lock);
                        return -ESHUTDOWN;
                }
                uint64_t now = now_usec(CLOCK_MONOTONIC), next_end;
                Entry *e = expired_pending(b, now, &next_end);
                if (e) {
                        e->deliveries++;
                        e->lease_end_usec = now + lease_usec;
                        job_of(e, ret);
                        break;
                }
                if (b->len > 0) {
                        if (b->n_pending == b->cap_pending) {
                                size_t ncap = b->cap_pending ? b->cap_pending * 2 : 16;
                                Entry *p = reallocarray(b->pending, ncap, sizeof *p);
                                if (!p) {
                                        pthread_mutex_unlock(&b->lock);
                                        return -ENOMEM;
                                }
                                b->pending = p;
                                b->cap_pending = ncap;
                        }
                        e = &b->pending[b->n_pending++];
                        *e = b->ring[b->head];
                        b->head = (b->head + 1) % b->cap;
                        b->len--;
                        e->deliveries++;
                        e->lease_end_usec = now + lease_usec;
                        job_of(e, ret);
                        break;
                }
                if (now >= deadline) {
                        pthread_mutex_unlock(&b->lock);
                        return -EAGAIN;
                }
                uint64_t until = MIN(deadline, next_end);
                struct timespec ts = {
                        .tv_sec = (time_t) (until / USEC_PER_SEC),
                        .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC),
                };
                pthread_cond_timedwait(&b->changed, &b->lock, &ts);
        }
        pthread_mutex_unlock(&b->lock);
        return 0;
}

static int memory_ack(QueueBackend *b, const QueueJob *job) {
        pthread_mutex_lock(&b->lock);
        Entry *e = find_pending(b, job);
        if (e)
                remove_pending(b, e);
        pthread_mutex_unlock(&b->lock);
        return 0;
}

static int memory_release(QueueBackend *b, const QueueJob *job) {
        pthread_mutex_lock(&b->lock);
        Entry *e = find_pending(b, job);
        if (e) {
                e->lease_end_usec = 0; /* the next claim takes it first */
                pthread_cond_broadcast(&b->changed);
        }
        pthread_mutex_unlock(&b->lock);
        return 0;
}

static int memory_extend(QueueBackend *b, const QueueJob *job, uint64_t lease_usec) {
        pthread_mutex_lock(&b->lock);
        Entry *e = find_pending(b, job);
        int r = e && e->deliveries == job->deliveries ? 0 : -ENOENT;
        if (r == 0)
                e->lease_end_usec = now_usec(CLOCK_MONOTONIC) + lease_usec;
        pthread_mutex_unlock(&b->lock);
        return r;
}

static int memory_dead(QueueBackend *b, const QueueJob *job, const char *reason) {
        pthread_mutex_lock(&b->lock);
        Entry *e = find_pending(b, job);
        if (e) {
                remove_pending(b, e);
                b->dead++;
        }
        pthread_mutex_unlock(&b->lock);
        return 0;
}

static int memory_ping(QueueBackend *b) {
        pthread_mutex_lock(&b->lock);
        int r = b->closed ? -ESHUTDOWN : 0;
        pthread_mutex_unlock(&b->lock);
        return r;
}

static int memory_stats(QueueBackend *b, QueueStats *ret) {
        pthread_mutex_lock(&b->lock);
        *ret = (QueueStats){.waiting = b->len, .pending = b->n_pending, .dead = b->dead, .max = b->max};
        pthread_mutex_unlock(&b->lock);
        return 0;
}

static void memory_close(QueueBackend *b) {
        pthread_mutex_lock(&b->lock);
        b->closed = true;
        pthread_cond_broadcast(&b->changed);
        pthread_mutex_unlock(&b->lock);
}

const QueueOps queue_memory_ops = {
        .name = "memory",
        .open = memory_open,
        .free = memory_free,
        .push = memory_push,
        .claim = memory_claim,
        .ack = memory_ack,
        .release = memory_release,
        .extend = memory_extend,
        .dead = memory_dead,
        .ping = memory_ping,
        .stats = memory_stats,
        .close = memory_close,
};
