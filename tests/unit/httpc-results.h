/* SPDX-License-Identifier: MIT */
#pragma once

/* Completions of outgoing requests (httpc's and the upstream pool's), collected for the
 * tests: what each done function saw, how many have finished, and waits with deadlines. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time-util.h"
#include "httpc/httpc.h"
#include "tests.h"

#define DEADLINE_USEC (30 * USEC_PER_SEC)

typedef struct Result {
        bool called;
        unsigned calls;
        int error;
        bool sent;
        unsigned status;
        char body[256];
        size_t body_len;
        char content_type[64];
        char mixed[32]; /* X-Mixed-Case */
        bool name_lower;
        pthread_t thread;
} Result;

typedef struct Waiter {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        unsigned finished;
} Waiter;

static Waiter waiter = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

static inline void on_done(HttpcResponse *r, void *userdata) {
        Result *res = userdata;
        pthread_mutex_lock(&waiter.lock);
        res->calls++;
        res->called = true;
        res->error = r->error;
        res->sent = r->sent;
        res->status = r->status;
        res->thread = pthread_self();
        if (r->body) {
                res->body_len = r->body_len;
                snprintf(res->body, sizeof res->body, "%s", r->body);
                ASSERT_EQ(r->body[r->body_len], '\0');
        }
        const char *ct = httpc_response_header(r, "Content-TYPE");
        snprintf(res->content_type, sizeof res->content_type, "%s", ct ? ct : "");
        const char *mixed = httpc_response_header(r, "X-MIXED-case");
        snprintf(res->mixed, sizeof res->mixed, "%s", mixed ? mixed : "");
        for (size_t i = 0; i < r->n_headers; i++)
                if (strcmp(r->headers[i].name, "content-type") == 0 ||
                        strcmp(r->headers[i].name, "x-mixed-case") == 0)
                        res->name_lower = true;
        /* Taking the body over is allowed. */
        free(r->body);
        r->body = NULL;
        waiter.finished++;
        pthread_cond_broadcast(&waiter.cond);
        pthread_mutex_unlock(&waiter.lock);
}

static inline void wait_finished(unsigned n) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        pthread_mutex_lock(&waiter.lock);
        while (waiter.finished < n) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_nsec += 50 * 1000 * 1000;
                if (ts.tv_nsec >= 1000000000) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000;
                }
                pthread_cond_timedwait(&waiter.cond, &waiter.lock, &ts);
        }
        pthread_mutex_unlock(&waiter.lock);
}

static inline void reset_waiter(void) {
        pthread_mutex_lock(&waiter.lock);
        waiter.finished = 0;
        pthread_mutex_unlock(&waiter.lock);
}

static inline void wait_until(bool (*cond)(void *), void *arg) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        while (!cond(arg)) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        }
}

/* ---- streamed answers (HttpcRequest.on_data) ---- */

typedef struct Streamed {
        pthread_mutex_t lock;
        unsigned heads; /* on_data calls with len 0 */
        unsigned status;
        char content_type[64];
        char data[256];
        size_t len;
        atomic_bool abandon; /* what abandoned() answers */
        bool refuse; /* on_data refuses the first chunk */
} Streamed;

static inline int on_chunk(const HttpcResponse *head, const char *data, size_t len, void *userdata) {
        Streamed *st = userdata;
        pthread_mutex_lock(&st->lock);
        if (len == 0) {
                st->heads++;
                st->status = head->status;
                const char *ct = httpc_response_header(head, "content-type");
                snprintf(st->content_type, sizeof st->content_type, "%s", ct ? ct : "");
        } else {
                ASSERT_EQ(st->heads, 1u); /* the head came first */
                ASSERT_TRUE(st->len + len < sizeof st->data);
                memcpy(st->data + st->len, data, len);
                st->len += len;
                st->data[st->len] = '\0';
        }
        bool refuse = len > 0 && st->refuse;
        pthread_mutex_unlock(&st->lock);
        return refuse ? -1 : 0;
}

static inline bool on_abandoned(void *userdata) {
        return atomic_load(&((Streamed *) userdata)->abandon);
}

/* The completion and the stream share the userdata: a Result first. */
typedef struct StreamCase {
        Result res; /* first: on_done's */
        Streamed st;
} StreamCase;

static inline int chunk_of_case(const HttpcResponse *head, const char *data, size_t len, void *userdata) {
        return on_chunk(head, data, len, &((StreamCase *) userdata)->st);
}

static inline bool abandoned_of_case(void *userdata) {
        return on_abandoned(&((StreamCase *) userdata)->st);
}

static inline size_t streamed_len(StreamCase *sc) {
        pthread_mutex_lock(&sc->st.lock);
        size_t n = sc->st.len;
        pthread_mutex_unlock(&sc->st.lock);
        return n;
}

static inline bool has_head(void *arg) {
        StreamCase *sc = arg;
        pthread_mutex_lock(&sc->st.lock);
        bool h = sc->st.heads > 0;
        pthread_mutex_unlock(&sc->st.lock);
        return h;
}

static inline bool has_11(void *arg) {
        return streamed_len(arg) >= 11;
}

static inline bool has_5(void *arg) {
        return streamed_len(arg) >= 5;
}
