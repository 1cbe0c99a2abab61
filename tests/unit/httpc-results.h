/* SPDX-License-Identifier: MIT */
#pragma once

/* Completions of outgoing requests (httpc's and the upstream pool's), collected for the
 * tests: what each done function saw, how many have finished, and waits with deadlines. */

#include <pthread.h>
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
