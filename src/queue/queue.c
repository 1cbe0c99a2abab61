/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "queue/queue.h"

typedef char Token[SUBMISSION_TOKEN_LEN + 1];

struct Queue {
        pthread_mutex_t lock;
        pthread_cond_t nonempty;
        Token *ring; /* grows past max only for forced pushes */
        size_t cap, head, len, max;
        bool closed;
};

int queue_new(size_t max, Queue **ret) {
        if (max == 0)
                return -EINVAL;
        Queue *q = calloc(1, sizeof *q);
        if (!q)
                return -ENOMEM;
        q->cap = max < 64 ? max : 64;
        q->ring = calloc(q->cap, sizeof *q->ring);
        if (!q->ring) {
                free(q);
                return -ENOMEM;
        }
        q->max = max;
        pthread_mutex_init(&q->lock, NULL);
        pthread_cond_init(&q->nonempty, NULL);
        *ret = q;
        return 0;
}

Queue *queue_free(Queue *q) {
        if (!q)
                return NULL;
        pthread_mutex_destroy(&q->lock);
        pthread_cond_destroy(&q->nonempty);
        free(q->ring);
        free(q);
        return NULL;
}

static int grow(Queue *q) {
        size_t ncap = q->cap * 2;
        Token *n = calloc(ncap, sizeof *n);
        if (!n)
                return -ENOMEM;
        for (size_t i = 0; i < q->len; i++)
                memcpy(n[i], q->ring[(q->head + i) % q->cap], sizeof(Token));
        free(q->ring);
        q->ring = n;
        q->cap = ncap;
        q->head = 0;
        return 0;
}

bool queue_has_room(Queue *q, size_t n) {
        pthread_mutex_lock(&q->lock);
        bool ok = q->len + n <= q->max;
        pthread_mutex_unlock(&q->lock);
        return ok;
}

int queue_push(Queue *q, const char *token, bool force) {
        if (strlen(token) != SUBMISSION_TOKEN_LEN)
                return -EINVAL;
        int r = 0;
        pthread_mutex_lock(&q->lock);
        if (q->closed)
                r = -ESHUTDOWN;
        else if (!force && q->len >= q->max)
                r = -EAGAIN;
        else if (q->len == q->cap)
                r = grow(q);
        if (r == 0) {
                memcpy(q->ring[(q->head + q->len) % q->cap], token, sizeof(Token));
                q->len++;
                pthread_cond_signal(&q->nonempty);
        }
        pthread_mutex_unlock(&q->lock);
        return r;
}

int queue_pop(Queue *q, char ret[SUBMISSION_TOKEN_LEN + 1]) {
        pthread_mutex_lock(&q->lock);
        while (q->len == 0 && !q->closed)
                pthread_cond_wait(&q->nonempty, &q->lock);
        if (q->closed) {
                pthread_mutex_unlock(&q->lock);
                return -ESHUTDOWN;
        }
        memcpy(ret, q->ring[q->head], sizeof(Token));
        q->head = (q->head + 1) % q->cap;
        q->len--;
        pthread_mutex_unlock(&q->lock);
        return 0;
}

void queue_close(Queue *q) {
        pthread_mutex_lock(&q->lock);
        q->closed = true;
        pthread_cond_broadcast(&q->nonempty);
        pthread_mutex_unlock(&q->lock);
}

size_t queue_length(Queue *q) {
        pthread_mutex_lock(&q->lock);
        size_t n = q->len;
        pthread_mutex_unlock(&q->lock);
        return n;
}

size_t queue_max(Queue *q) {
        return q->max;
}
