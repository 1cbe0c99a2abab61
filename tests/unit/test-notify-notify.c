/* SPDX-License-Identifier: MIT */
/* The notifier's contract on the in-process backend, and the Redis backend against a
 * redis-server of the test's own (when one is installed): a publish on one Notify reaches
 * the subscribers of another, and deliveries resume after the server restarts. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
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

/* ---- progress ---- */

typedef struct SeenProgress {
        NotifyProgress last;
        unsigned calls;
        pthread_mutex_t lock;
        pthread_cond_t changed;
} SeenProgress;

static void on_progress(void *userdata, const NotifyProgress *p) {
        SeenProgress *s = userdata;
        pthread_mutex_lock(&s->lock);
        s->last = *p;
        s->calls++;
        pthread_cond_broadcast(&s->changed);
        pthread_mutex_unlock(&s->lock);
}

static bool progress_wait(SeenProgress *s, unsigned calls) {
        uint64_t until = now_usec(CLOCK_REALTIME) + 10 * USEC_PER_SEC;
        struct timespec ts = {
                .tv_sec = (time_t) (until / USEC_PER_SEC), .tv_nsec = (long) (until % USEC_PER_SEC * 1000)};
        pthread_mutex_lock(&s->lock);
        while (s->calls < calls && pthread_cond_timedwait(&s->changed, &s->lock, &ts) == 0)
                ;
        bool ok = s->calls >= calls;
        pthread_mutex_unlock(&s->lock);
        return ok;
}

static const NotifyProgress test_progress = {
        .kind = NOTIFY_TEST,
        .token = T1,
        .status_id = 4,
        .index = 2,
        .time_usec = 1234,
        .wall_time_usec = -1,
        .memory_kib = 4096,
        .exit_code = 1,
        .exit_signal = -1,
        .memory_limit_exceeded = true,
};

static bool progress_equal(const NotifyProgress *a, const NotifyProgress *b) {
        return a->kind == b->kind && strcmp(a->token, b->token) == 0 && a->status_id == b->status_id &&
               a->index == b->index && a->time_usec == b->time_usec &&
               a->wall_time_usec == b->wall_time_usec && a->memory_kib == b->memory_kib &&
               a->exit_code == b->exit_code && a->exit_signal == b->exit_signal &&
               a->memory_limit_exceeded == b->memory_limit_exceeded;
}

/* The wire form: round trips, and every malformed message is refused. */
static void progress_wire(void) {
        char buf[NOTIFY_PROGRESS_MAX];
        NotifyProgress p;
        int n = notify_progress_format(&test_progress, buf);
        ASSERT_TRUE(n > 0);
        ASSERT_TRUE(strcmp(buf, T1 " t 2 4 1234 -1 4096 1 -1 1") == 0);
        ASSERT_EQ(notify_progress_parse(buf, (size_t) n, &p), 0);
        ASSERT_TRUE(progress_equal(&p, &test_progress));
        NotifyProgress st = {.kind = NOTIFY_STATUS, .token = T1, .status_id = 2};
        n = notify_progress_format(&st, buf);
        ASSERT_TRUE(strcmp(buf, T1 " s 2") == 0);
        ASSERT_EQ(notify_progress_parse(buf, (size_t) n, &p), 0);
        ASSERT_TRUE(p.kind == NOTIFY_STATUS && p.status_id == 2 && strcmp(p.token, T1) == 0);

        NotifyProgress bad = test_progress;
        bad.status_id = 100;
        ASSERT_EQ(notify_progress_format(&bad, buf), -EINVAL);
        bad = test_progress;
        bad.time_usec = -2;
        ASSERT_EQ(notify_progress_format(&bad, buf), -EINVAL);
        bad = test_progress;
        memcpy(bad.token, "short", 6);
        ASSERT_EQ(notify_progress_format(&bad, buf), -EINVAL);
        bad = test_progress;
        bad.kind = _NOTIFY_KIND_MAX;
        ASSERT_EQ(notify_progress_format(&bad, buf), -EINVAL);

        static const char *const hostile[] = {
                "",
                T1,
                T1 " s",
                T1 " s ",
                T1 " s 2 ",
                T1 " s  2",
                T1 " s -1",
                T1 " s 100",
                T1 " s 2x",
                T1 " x 2",
                T1 " s 2 3",
                T1 " t 2 4 1234 -1 4096 1 -1",
                T1 " t 2 4 1234 -1 4096 1 -1 1 9",
                T1 " t 2 4 1234 -1 4096 1 -1 2",
                T1 " t -1 4 1234 -1 4096 1 -1 1",
                T1 " t 2 4 -5 -1 4096 1 -1 1",
                T1 " t 2 4 99999999999999999999 -1 4096 1 -1 1",
                T1 " t 4294967296 4 1 1 1 1 1 1",
                "11111111-1111-4111-8111-11111111111! s 2",
        };
        for (size_t i = 0; i < sizeof hostile / sizeof *hostile; i++) {
                if (notify_progress_parse(hostile[i], strlen(hostile[i]), &p) != -EBADMSG) {
                        fprintf(stderr, "accepted: \"%s\"\n", hostile[i]);
                        ASSERT_TRUE(false);
                }
        }
        /* A NUL inside, and a message past the bound. */
        char nul[] = T1 " s 2";
        nul[SUBMISSION_TOKEN_LEN + 3] = '\0';
        ASSERT_EQ(notify_progress_parse(nul, sizeof nul - 1, &p), -EBADMSG);
        char big[NOTIFY_PROGRESS_MAX + 8];
        memset(big, '1', sizeof big);
        memcpy(big, T1 " s ", SUBMISSION_TOKEN_LEN + 3);
        ASSERT_EQ(notify_progress_parse(big, sizeof big, &p), -EBADMSG);
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

        /* Progress travels on the same channel, to the progress subscribers only. */
        SeenProgress prog = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
        ASSERT_EQ(notify_subscribe_progress(sub, on_progress, &prog), 0);
        ASSERT_EQ(notify_publish_progress(pub, &test_progress), 0);
        ASSERT_TRUE(progress_wait(&prog, 1));
        ASSERT_TRUE(progress_equal(&prog.last, &test_progress));
        ASSERT_EQ(notify_publish(pub, T1, 3), 0); /* in order after it */
        ASSERT_TRUE(inbox_wait(&in, 3));
        ASSERT_EQ(prog.calls, 1u);

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
        ASSERT_EQ(notify_subscribe_progress(n, on_progress, &b), -ENOSPC);
        notify_free(n);

        /* In-process progress: delivered at once, to its subscribers only. */
        progress_wire();
        ASSERT_EQ(notify_open("memory:", err, &n), 0);
        SeenProgress prog = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
        Seen done = {};
        ASSERT_EQ(notify_subscribe_progress(n, NULL, NULL), -EINVAL);
        ASSERT_EQ(notify_subscribe_progress(n, on_progress, &prog), 0);
        ASSERT_EQ(notify_subscribe(n, on_done, &done), 0);
        ASSERT_EQ(notify_publish_progress(n, &test_progress), 0);
        ASSERT_EQ(prog.calls, 1u);
        ASSERT_EQ(done.calls, 0u);
        ASSERT_TRUE(progress_equal(&prog.last, &test_progress));
        NotifyProgress bad = test_progress;
        bad.exit_code = -7;
        ASSERT_EQ(notify_publish_progress(n, &bad), -EINVAL);
        ASSERT_EQ(notify_publish(n, T1, 3), 0);
        ASSERT_EQ(prog.calls, 1u);
        ASSERT_EQ(done.calls, 1u);
        notify_free(n);

        if (redis_server_installed())
                redis_notify();
        else
                fprintf(stderr, "notify: redis skipped (no redis-server installed)\n");
        return 0;
}
