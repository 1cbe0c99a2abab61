/* SPDX-License-Identifier: MIT */
/* The queue's contract: one suite, run against every backend available. The in-process
 * backend always; Redis when redis-server is installed (the test starts its own on a
 * loopback port with a temporary directory, and stops it). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "base/time-util.h"
#include "queue/queue-internal.h"
#include "queue/queue.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"
#define T3 "33333333-3333-4333-8333-333333333333"
#define T4 "44444444-4444-4444-8444-444444444444"

#define LEASE (10 * USEC_PER_SEC)
#define SHORT_LEASE (50 * USEC_PER_MSEC)

static const char *const one1[] = {T1}, *const one2[] = {T2}, *const one3[] = {T3};

static void claim_token(Queue *q, const char *want, uint32_t deliveries, QueueJob *ret) {
        int r = queue_claim(q, LEASE, 0, ret);
        if (r != 0 || strcmp(ret->token, want) != 0 || ret->deliveries != deliveries) {
                fprintf(stderr, "claim: r=%d token=%s deliveries=%u, wanted %s %u\n", r,
                        r == 0 ? ret->token : "-", r == 0 ? ret->deliveries : 0, want, deliveries);
                abort();
        }
}

static void expect_stats(Queue *q, uint64_t waiting, uint64_t pending) {
        QueueStats st;
        ASSERT_EQ(queue_stats(q, &st), 0);
        if (st.waiting != waiting || st.pending != pending) {
                fprintf(stderr, "stats: waiting=%llu pending=%llu, wanted %llu %llu\n",
                        (unsigned long long) st.waiting, (unsigned long long) st.pending,
                        (unsigned long long) waiting, (unsigned long long) pending);
                abort();
        }
}

typedef struct ClaimArgs {
        Queue *q;
        int r;
        QueueJob job;
} ClaimArgs;

static void *blocking_claim(void *arg) {
        ClaimArgs *a = arg;
        a->r = queue_claim(a->q, LEASE, 60 * USEC_PER_SEC, &a->job);
        return NULL;
}

/* A producer and a consumer of the same queue: for Redis, two connections (as an API node
 * and a worker), for the in-process queue the same object. */
typedef Queue *(*OpenFn)(uint64_t max, const char *consumer);

static void contract(const char *name, OpenFn open_queue) {
        fprintf(stderr, "queue contract: %s\n", name);
        Queue *q = open_queue(3, "worker-1");
        QueueJob j1, j2, j3, j;
        QueueStats st;

        /* Arguments. */
        const char *const bad[] = {"short"};
        ASSERT_EQ(queue_push(q, bad, 1, false), -EINVAL);
        const char *const upper[] = {"11111111-1111-4111-8111-11111111111A"};
        ASSERT_EQ(queue_push(q, upper, 1, false), -EINVAL);
        ASSERT_EQ(queue_claim(q, LEASE, 0, &j), -EAGAIN); /* empty: no wait */
        ASSERT_EQ(queue_ping(q), 0);

        /* The bound is one atomic admission: all of a push, or none. */
        const char *const four[] = {T1, T2, T3, T4};
        ASSERT_EQ(queue_push(q, four, 4, false), -EAGAIN);
        expect_stats(q, 0, 0);
        const char *const two[] = {T1, T2};
        ASSERT_EQ(queue_push(q, two, 2, false), 0);
        const char *const two_more[] = {T3, T4};
        ASSERT_EQ(queue_push(q, two_more, 2, false), -EAGAIN);
        ASSERT_EQ(queue_push(q, one3, 1, false), 0);
        ASSERT_EQ(queue_push(q, one3, 1, false), -EAGAIN); /* full */
        expect_stats(q, 3, 0);
        ASSERT_EQ(queue_stats(q, &st), 0);
        ASSERT_EQ(st.max, 3u);

        /* First in, first out; claimed jobs no longer count against the bound. */
        claim_token(q, T1, 1, &j1);
        expect_stats(q, 2, 1);
        const char *const two_again[] = {T4, T4};
        ASSERT_EQ(queue_push(q, two_again, 2, false), -EAGAIN);
        claim_token(q, T2, 1, &j2);
        claim_token(q, T3, 1, &j3);
        ASSERT_EQ(queue_claim(q, LEASE, 0, &j), -EAGAIN); /* all leased */
        ASSERT_EQ(queue_ack(q, &j1), 0);
        expect_stats(q, 0, 2);
        ASSERT_EQ(queue_push(q, one1, 1, false), 0);
        ASSERT_EQ(queue_push(q, four, 3, false), -EAGAIN); /* 1 waiting + 3 > 3 */
        ASSERT_EQ(queue_push(q, one1, 1, true), 0); /* forced past the bound */
        expect_stats(q, 2, 2);

        /* Released: delivered again at once, deliveries counted. */
        ASSERT_EQ(queue_release(q, &j2), 0);
        claim_token(q, T2, 2, &j2);
        ASSERT_EQ(queue_ack(q, &j2), 0);

        /* A lease that passes: the job goes to the next claim; the old holder may no longer
         * extend it. */
        ASSERT_EQ(queue_ack(q, &j3), 0);
        claim_token(q, T1, 1, &j1);
        ASSERT_EQ(queue_ack(q, &j1), 0);
        ASSERT_EQ(queue_claim(q, SHORT_LEASE, 0, &j), 0);
        ASSERT_TRUE(strcmp(j.token, T1) == 0);
        ASSERT_EQ(queue_extend(q, &j, LEASE), 0);
        ASSERT_EQ(queue_extend(q, &j, SHORT_LEASE), 0);
        QueueJob again;
        ASSERT_EQ(queue_claim(q, LEASE, 30 * USEC_PER_SEC, &again), 0); /* waits for the lease */
        ASSERT_TRUE(strcmp(again.token, T1) == 0);
        ASSERT_EQ(again.deliveries, j.deliveries + 1);
        ASSERT_EQ(queue_extend(q, &j, LEASE), -ENOENT);
        ASSERT_EQ(queue_ack(q, &again), 0);
        expect_stats(q, 0, 0);

        /* Dead letters. */
        ASSERT_EQ(queue_push(q, one3, 1, false), 0);
        claim_token(q, T3, 1, &j3);
        ASSERT_EQ(queue_dead(q, &j3, "delivered too many times"), 0);
        expect_stats(q, 0, 0);
        ASSERT_EQ(queue_stats(q, &st), 0);
        ASSERT_EQ(st.dead, 1u);
        ASSERT_EQ(queue_claim(q, LEASE, 0, &j), -EAGAIN);

        /* A waiting consumer is woken by a push, then by close. */
        ClaimArgs a = {.q = q};
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, blocking_claim, &a), 0);
        ASSERT_EQ(queue_push(q, one2, 1, false), 0);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_EQ(a.r, 0);
        ASSERT_TRUE(strcmp(a.job.token, T2) == 0);
        ASSERT_EQ(queue_ack(q, &a.job), 0);
        ASSERT_EQ(pthread_create(&th, NULL, blocking_claim, &a), 0);
        queue_close(q);
        ASSERT_EQ(pthread_join(th, NULL), 0);
        ASSERT_EQ(a.r, -ESHUTDOWN);
        ASSERT_EQ(queue_push(q, one1, 1, true), -ESHUTDOWN);
        queue_free(q);

        /* Many pushes and claims, order kept across the ring's growth. */
        q = open_queue(1000, "worker-1");
        for (int i = 0; i < 200; i++)
                ASSERT_EQ(queue_push(q, i % 2 ? one1 : one2, 1, false), 0);
        for (int i = 0; i < 200; i++) {
                ASSERT_EQ(queue_claim(q, LEASE, 0, &j), 0);
                ASSERT_TRUE(strcmp(j.token, i % 2 ? T1 : T2) == 0);
                ASSERT_EQ(queue_ack(q, &j), 0);
        }
        expect_stats(q, 0, 0);
        queue_free(q);
}

static Queue *open_memory(uint64_t max, const char *consumer) {
        Queue *q = NULL;
        char err[QUEUE_ERROR_MAX];
        ASSERT_EQ(queue_open("memory:", max, consumer, err, &q), 0);
        ASSERT_TRUE(strcmp(queue_backend(q), "memory") == 0);
        return q;
}

int main(void) {
        Queue *q = NULL;
        char err[QUEUE_ERROR_MAX];
        ASSERT_EQ(queue_open("memory:", 0, NULL, err, &q), -EINVAL);
        ASSERT_EQ(queue_open("memory:x", 1, NULL, err, &q), -EINVAL);
        ASSERT_TRUE(strstr(err, "memory:") != NULL);
        ASSERT_EQ(queue_open("kafka://x", 1, NULL, err, &q), -EINVAL);
        ASSERT_TRUE(queue_token_valid(T1));
        ASSERT_TRUE(!queue_token_valid("11111111_1111-4111-8111-111111111111"));
        ASSERT_TRUE(!queue_token_valid(NULL));

        contract("memory", open_memory);
        return 0;
}
