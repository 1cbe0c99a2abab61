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
#include "redis-server.h"
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

/* ---- Redis ---- */

static RedisServer server;
static unsigned streams;

static void redis_url(char *buf, size_t size, const char *stream) {
        snprintf(buf, size, "redis://127.0.0.1:%d?stream=%s", server.port, stream);
}

/* Every open gets a stream of its own, so each contract step starts empty. */
static Queue *open_redis(uint64_t max, const char *consumer) {
        char url[128], stream[32];
        snprintf(stream, sizeof stream, "test-%u", ++streams);
        redis_url(url, sizeof url, stream);
        Queue *q = NULL;
        char err[QUEUE_ERROR_MAX];
        int r = queue_open(url, max, consumer, err, &q);
        if (r != 0) {
                fprintf(stderr, "queue_open(%s): %d %s\n", url, r, err);
                abort();
        }
        ASSERT_TRUE(strcmp(queue_backend(q), "redis") == 0);
        return q;
}

static Queue *open_stream(const char *stream, uint64_t max, const char *consumer) {
        char url[128];
        redis_url(url, sizeof url, stream);
        Queue *q = NULL;
        ASSERT_EQ(queue_open(url, max, consumer, NULL, &q), 0);
        return q;
}

static void redis_urls(void) {
        Queue *q = NULL;
        char err[QUEUE_ERROR_MAX], url[512];
        static const char *const bad[] = {
                "redis://",
                "redis://:pw@",
                "redis://127.0.0.1:0",
                "redis://127.0.0.1:65536",
                "redis://127.0.0.1:6379x",
                "redis://127.0.0.1/x",
                "redis://127.0.0.1?stream=",
                "redis://127.0.0.1?stream=a b",
                "redis://127.0.0.1?queue=x",
                "redis://127.0.0.1?stream",
                "redis://[::1",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                int r = queue_open(bad[i], 1, NULL, err, &q);
                if (r != -EINVAL || err[0] == '\0') {
                        fprintf(stderr, "queue_open(%s) = %d (%s), wanted -EINVAL with a reason\n", bad[i],
                                r, err);
                        abort();
                }
        }
        snprintf(url, sizeof url, "redis://127.0.0.1:%d?stream=%0200d", server.port, 1);
        ASSERT_EQ(queue_open(url, 1, NULL, err, &q), -EINVAL); /* a stream name too long */
        redis_url(url, sizeof url, "x");
        ASSERT_EQ(queue_open(url, 1, "two words", err, &q), -EINVAL);
        /* Nobody listens: refused, with the address in the reason. */
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_server_free_port());
        ASSERT_EQ(queue_open(url, 1, NULL, err, &q), -ECONNREFUSED);
        ASSERT_TRUE(strstr(err, "127.0.0.1") != NULL);
        /* A password the server does not want: the server's own words. */
        snprintf(url, sizeof url, "redis://:secret@127.0.0.1:%d", server.port);
        ASSERT_EQ(queue_open(url, 1, NULL, err, &q), -EIO);
        ASSERT_TRUE(strstr(err, "AUTH") != NULL);
        /* A database other than 0: SELECT. */
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/3?stream=db3", server.port);
        ASSERT_EQ(queue_open(url, 1, "c", err, &q), 0);
        ASSERT_EQ(queue_push(q, one1, 1, false), 0);
        queue_free(q);
        snprintf(url, sizeof url, "redis://127.0.0.1:%d/4?stream=db3", server.port);
        ASSERT_EQ(queue_open(url, 1, "c", err, &q), 0);
        expect_stats(q, 0, 0); /* another database: another stream */
        queue_free(q);
        /* A producer has no consumer name: it cannot claim. */
        q = open_stream("producer", 1, NULL);
        QueueJob j;
        ASSERT_EQ(queue_claim(q, LEASE, 0, &j), -EINVAL);
        queue_free(q);
}

/* Two consumers never hold the same job at once; a consumer that stops without acking
 * loses its job to another when its lease ends. */
static void redis_consumers(void) {
        Queue *a = open_stream("consumers", 10, "worker-a"), *b = open_stream("consumers", 10, "worker-b");
        const char *const two[] = {T1, T2};
        QueueJob ja, jb, j;
        ASSERT_EQ(queue_push(a, two, 2, false), 0);
        claim_token(a, T1, 1, &ja);
        claim_token(b, T2, 1, &jb);
        ASSERT_EQ(queue_claim(b, LEASE, 0, &j), -EAGAIN);
        ASSERT_EQ(queue_claim(a, LEASE, 0, &j), -EAGAIN);
        ASSERT_EQ(queue_extend(b, &ja, LEASE), -ENOENT); /* not b's */
        ASSERT_EQ(queue_ack(b, &jb), 0);

        /* worker-a "dies" holding T3 with a short lease; worker-b gets it after. */
        ASSERT_EQ(queue_push(a, one3, 1, false), 0);
        ASSERT_EQ(queue_claim(a, SHORT_LEASE, 0, &j), 0);
        ASSERT_TRUE(strcmp(j.token, T3) == 0);
        QueueJob taken;
        ASSERT_EQ(queue_claim(b, LEASE, 30 * USEC_PER_SEC, &taken), 0);
        ASSERT_TRUE(strcmp(taken.token, T3) == 0);
        ASSERT_EQ(taken.deliveries, 2u);
        ASSERT_TRUE(strcmp(taken.id, j.id) == 0);
        ASSERT_EQ(queue_extend(a, &j, LEASE), -ENOENT); /* a came back: too late */
        ASSERT_EQ(queue_extend(b, &taken, LEASE), 0);
        ASSERT_EQ(queue_claim(a, LEASE, 0, &j), -EAGAIN); /* b's lease runs */
        ASSERT_EQ(queue_ack(b, &taken), 0);
        ASSERT_EQ(queue_ack(a, &ja), 0);
        expect_stats(a, 0, 0);
        queue_free(a);
        queue_free(b);
}

#define PUSHERS 4
#define PUSH_BOUND 25

typedef struct PushArgs {
        Queue *q;
        unsigned pushed; /* tokens */
        unsigned refused;
} PushArgs;

static void *pusher(void *arg) {
        PushArgs *a = arg;
        const char *const pair[] = {T1, T2};
        /* Pairs and singles, until a few refusals: the bound must hold across all threads. */
        for (unsigned i = 0; a->refused < 20; i++) {
                size_t n = i % 2 + 1;
                int r = queue_push(a->q, pair, n, false);
                ASSERT_TRUE(r == 0 || r == -EAGAIN);
                if (r == 0)
                        a->pushed += (unsigned) n;
                else
                        a->refused++;
        }
        return NULL;
}

static void redis_concurrent_push(void) {
        PushArgs args[PUSHERS];
        pthread_t th[PUSHERS];
        for (size_t i = 0; i < PUSHERS; i++) {
                args[i] = (PushArgs){.q = open_stream("pushers", PUSH_BOUND, NULL)};
                ASSERT_EQ(pthread_create(&th[i], NULL, pusher, &args[i]), 0);
        }
        unsigned pushed = 0;
        for (size_t i = 0; i < PUSHERS; i++) {
                ASSERT_EQ(pthread_join(th[i], NULL), 0);
                pushed += args[i].pushed;
        }
        QueueStats st;
        ASSERT_EQ(queue_stats(args[0].q, &st), 0);
        if (st.waiting != pushed || pushed > PUSH_BOUND || pushed < PUSH_BOUND - 1) {
                fprintf(stderr, "concurrent pushes: %u accepted, %llu waiting, bound %d\n", pushed,
                        (unsigned long long) st.waiting, PUSH_BOUND);
                abort();
        }
        for (size_t i = 0; i < PUSHERS; i++)
                queue_free(args[i].q);
}

/* A forced re-queue longer than one script call takes goes in chunks; an unforced push
 * that long is refused whole. */
static void redis_big_push(void) {
        enum { N = 5000 };
        static const char *tokens[N];
        for (size_t i = 0; i < N; i++)
                tokens[i] = i % 2 ? T1 : T2;
        Queue *q = open_stream("big", 10, NULL);
        ASSERT_EQ(queue_push(q, tokens, N, false), -EAGAIN);
        expect_stats(q, 0, 0);
        ASSERT_EQ(queue_push(q, tokens, N, true), 0);
        expect_stats(q, N, 0);
        queue_free(q);
}

/* A server that goes away: the call that finds out fails, the next one connects again (and
 * recreates the group an empty server lost). */
static void redis_reconnect(void) {
        Queue *q = open_stream("reconnect", 10, "worker-1");
        ASSERT_EQ(queue_push(q, one1, 1, false), 0);
        redis_server_kill(&server);
        int r = queue_push(q, one2, 1, false);
        ASSERT_TRUE(r == -ECONNRESET || r == -ECONNREFUSED);
        ASSERT_EQ(queue_ping(q), -ECONNREFUSED);
        redis_server_start(&server);
        ASSERT_EQ(queue_push(q, one2, 1, false), 0);
        QueueJob j;
        claim_token(q, T2, 1, &j); /* no persistence: T1 went with the old server */
        ASSERT_EQ(queue_ack(q, &j), 0);
        queue_free(q);
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

        if (!redis_server_installed()) {
                fprintf(stderr, "queue contract: redis skipped (no redis-server installed)\n");
                return 0;
        }
        redis_server_start(&server);
        contract("redis", open_redis);
        redis_urls();
        redis_consumers();
        redis_concurrent_push();
        redis_big_push();
        redis_reconnect();
        redis_server_stop(&server);
        return 0;
}
