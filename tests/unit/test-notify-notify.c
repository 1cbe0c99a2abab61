/* SPDX-License-Identifier: MIT */
/* The notifier's contract on the in-process backend, and the Redis backend against a
 * redis-server of the test's own (when one is installed): a publish on one Notify reaches
 * the subscribers of another, and deliveries resume after the server restarts. */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "base/time-util.h"
#include "notify/notify.h"
#include "redis-server.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"

typedef struct Seen {
        char token[SUBMISSION_TOKEN_LEN + 1];
        int status_id;
        unsigned calls;
} Seen;

static void on_done(void *userdata, const char *token, int status_id) {
        Seen *s = userdata;
        memcpy(s->token, token, sizeof s->token);
        s->status_id = status_id;
        s->calls++;
}

/* ---- Redis ---- */

/* What a subscriber saw, filled on the Notify's thread. */
typedef struct Inbox {
        pthread_mutex_t lock;
        pthread_cond_t changed;
        Seen seen;
} Inbox;

static void on_inbox(void *userdata, const char *token, int status_id) {
        Inbox *in = userdata;
        pthread_mutex_lock(&in->lock);
        on_done(&in->seen, token, status_id);
        pthread_cond_broadcast(&in->changed);
        pthread_mutex_unlock(&in->lock);
}

/* Wait (10 s at most) until the inbox has seen `calls` notifications. */
static bool inbox_wait(Inbox *in, unsigned calls) {
        uint64_t until = now_usec(CLOCK_REALTIME) + 10 * USEC_PER_SEC;
        struct timespec ts = {
                .tv_sec = (time_t) (until / USEC_PER_SEC), .tv_nsec = (long) (until % USEC_PER_SEC * 1000)};
        pthread_mutex_lock(&in->lock);
        while (in->seen.calls < calls && pthread_cond_timedwait(&in->changed, &in->lock, &ts) == 0)
                ;
        bool ok = in->seen.calls >= calls;
        pthread_mutex_unlock(&in->lock);
        return ok;
}

/* Wait (10 s at most) until n's subscription is up (or down). */
static bool wait_subscribed(Notify *n, bool up) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while ((notify_ping(n) == 0) != up) {
                if (now_usec(CLOCK_MONOTONIC) > until)
                        return false;
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        return true;
}

#define T2 "22222222-2222-4222-8222-222222222222"

static void redis_notify(void) {
        RedisServer server = {};
        redis_server_start(&server);
        char url[128], err[NOTIFY_ERROR_MAX];
        Notify *pub = NULL, *sub = NULL, *other = NULL;

        snprintf(url, sizeof url, "redis://127.0.0.1:%d?chan=x", server.port);
        ASSERT_EQ(notify_open(url, err, &pub), -EINVAL);
        ASSERT_TRUE(strstr(err, "chan") != NULL);
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_server_free_port());
        ASSERT_EQ(notify_open(url, err, &pub), -ECONNREFUSED);

        snprintf(url, sizeof url, "redis://127.0.0.1:%d?channel=test:done", server.port);
        ASSERT_EQ(notify_open(url, err, &pub), 0);
        ASSERT_TRUE(strcmp(notify_backend(pub), "redis") == 0);
        ASSERT_EQ(notify_open(url, err, &sub), 0);
        ASSERT_EQ(notify_ping(sub), 0); /* subscribed once open returns */
        snprintf(url, sizeof url, "redis://127.0.0.1:%d?channel=elsewhere", server.port);
        ASSERT_EQ(notify_open(url, err, &other), 0);
        Inbox in = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
        Inbox elsewhere = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
        ASSERT_EQ(notify_subscribe(sub, on_inbox, &in), 0);
        ASSERT_EQ(notify_subscribe(other, on_inbox, &elsewhere), 0);

        ASSERT_EQ(notify_publish(pub, T1, 100), -EINVAL);
        ASSERT_EQ(notify_publish(pub, T1, 3), 0);
        ASSERT_TRUE(inbox_wait(&in, 1));
        ASSERT_TRUE(strcmp(in.seen.token, T1) == 0);
        ASSERT_EQ(in.seen.status_id, 3);

        /* The server goes away and comes back on the same port: the subscriber reconnects. */
        redis_server_kill(&server);
        ASSERT_TRUE(notify_publish(pub, T2, 4) < 0);
        ASSERT_TRUE(wait_subscribed(sub, false)); /* ping tells */
        ASSERT_EQ(notify_ping(sub), -ENOTCONN);
        redis_server_start(&server);
        ASSERT_TRUE(wait_subscribed(sub, true));
        ASSERT_EQ(notify_publish(pub, T2, 4), 0);
        ASSERT_TRUE(inbox_wait(&in, 2));
        ASSERT_TRUE(strcmp(in.seen.token, T2) == 0);
        ASSERT_EQ(in.seen.status_id, 4);
        /* Another channel heard none of it; the last delivery came only once. */
        ASSERT_EQ(elsewhere.seen.calls, 0u);
        ASSERT_EQ(in.seen.calls, 2u);

        /* Free stops the subscriber thread promptly even while the server is down. */
        redis_server_kill(&server);
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        notify_free(sub);
        notify_free(other);
        notify_free(pub);
        ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) - t0 < 5 * USEC_PER_SEC);
        redis_server_stop(&server);
}

int main(void) {
        Notify *n = NULL;
        char err[NOTIFY_ERROR_MAX];
        ASSERT_EQ(notify_open("memory:x", err, &n), -EINVAL);
        ASSERT_EQ(notify_open("amqp://x", err, &n), -EINVAL);
        ASSERT_TRUE(strstr(err, "amqp://x") != NULL);
        ASSERT_EQ(notify_open("memory:", err, &n), 0);
        ASSERT_TRUE(strcmp(notify_backend(n), "memory") == 0);
        ASSERT_EQ(notify_ping(n), 0);
        ASSERT_EQ(notify_publish(n, T1, 3), 0); /* nobody listens: fine */
        Seen a = {}, b = {};
        ASSERT_EQ(notify_subscribe(n, NULL, NULL), -EINVAL);
        ASSERT_EQ(notify_subscribe(n, on_done, &a), 0);
        ASSERT_EQ(notify_subscribe(n, on_done, &b), 0);
        ASSERT_EQ(notify_publish(n, "short", 3), -EINVAL);
        ASSERT_EQ(notify_publish(n, T1, 4), 0);
        ASSERT_EQ(a.calls, 1u);
        ASSERT_EQ(b.calls, 1u);
        ASSERT_TRUE(strcmp(a.token, T1) == 0);
        ASSERT_EQ(a.status_id, 4);
        for (unsigned i = 2; i < NOTIFY_MAX_SUBSCRIBERS; i++)
                ASSERT_EQ(notify_subscribe(n, on_done, &b), 0);
        ASSERT_EQ(notify_subscribe(n, on_done, &b), -ENOSPC);
        notify_free(n);

        if (redis_server_installed())
                redis_notify();
        else
                fprintf(stderr, "notify: redis skipped (no redis-server installed)\n");
        return 0;
}
