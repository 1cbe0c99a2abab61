/* SPDX-License-Identifier: MIT */
/* Redis pub/sub notifications. A notification is one PUBLISH of "TOKEN STATUS" on the
 * channel. The subscriber is a thread with a connection of its own: it SUBSCRIBEs, hands
 * every message to notify_deliver(), and when the connection drops (or stays silent past a
 * PING) connects and subscribes again, backing off from BACKOFF_MIN to BACKOFF_MAX.
 * Publishing uses a second connection, behind a mutex. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "base/time-util.h"
#include "notify/notify-internal.h"
#include "redis/redis.h"

#define CHANNEL_MAX 128
#define BACKOFF_MIN_USEC (100 * USEC_PER_MSEC)
#define BACKOFF_MAX_USEC (2 * USEC_PER_SEC)
/* The thread looks at notify_free() at least this often. */
#define READ_SLICE_USEC (100 * USEC_PER_MSEC)
/* Silence this long: PING the server; and as long again without an answer: reconnect. */
#define KEEPALIVE_USEC (10 * USEC_PER_SEC)
/* The longest status number a notification carries. */
#define STATUS_ID_MAX 99

struct NotifyBackend {
        Notify *owner;
        char channel[CHANNEL_MAX];
        pthread_mutex_t publish_lock;
        Redis *publisher;
        Redis *subscriber; /* the thread's */
        pthread_t thread;
        pthread_mutex_t lock; /* stop, up, attempts */
        pthread_cond_t changed;
        bool stop, up;
        unsigned attempts; /* subscriptions tried, for notify_open() to wait on the first */
};

static void set_up(NotifyBackend *b, bool up, bool attempted) {
        pthread_mutex_lock(&b->lock);
        b->up = up;
        if (attempted)
                b->attempts++;
        pthread_cond_broadcast(&b->changed);
        pthread_mutex_unlock(&b->lock);
}

/* Sleep up to usec unless told to stop; whether to go on. */
static bool pause_unless_stopped(NotifyBackend *b, uint64_t usec) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + usec;
        struct timespec ts = {.tv_sec = (time_t) (until / USEC_PER_SEC),
                .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC)};
        pthread_mutex_lock(&b->lock);
        while (!b->stop && pthread_cond_timedwait(&b->changed, &b->lock, &ts) != ETIMEDOUT)
                ;
        bool go_on = !b->stop;
        pthread_mutex_unlock(&b->lock);
        return go_on;
}

static bool stopped(NotifyBackend *b) {
        pthread_mutex_lock(&b->lock);
        bool s = b->stop;
        pthread_mutex_unlock(&b->lock);
        return s;
}

static bool reply_is(const RedisReply *r, size_t i, const char *s) {
        const char *v = redis_reply_str(redis_reply_at(r, i));
        return v && strcasecmp(v, s) == 0;
}

/* SUBSCRIBE, and read its confirmation. */
static int subscribe(NotifyBackend *b) {
        const char *argv[] = {"SUBSCRIBE", b->channel};
        int q = redis_send(b->subscriber, ELEMENTSOF(argv), argv, NULL);
        if (q < 0)
                return q;
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        q = redis_read(b->subscriber, REDIS_COMMAND_TIMEOUT_USEC, &reply);
        if (q < 0)
                return q;
        return reply_is(reply, 0, "subscribe") ? 0 : -EIO;
}

/* A "message" reply: deliver its "TOKEN STATUS" or its progress ("TOKEN s ...",
 * "TOKEN t ..."); anything else is ignored. */
static void deliver(NotifyBackend *b, const RedisReply *reply) {
        if (!reply_is(reply, 0, "message"))
                return;
        const RedisReply *payload = redis_reply_at(reply, 2);
        if (!payload || payload->type != REDIS_TYPE_STRING || payload->len < SUBMISSION_TOKEN_LEN + 2 ||
                payload->str[SUBMISSION_TOKEN_LEN] != ' ')
                return;
        if (payload->str[SUBMISSION_TOKEN_LEN + 1] >= 'a' && payload->str[SUBMISSION_TOKEN_LEN + 1] <= 'z') {
                NotifyProgress p;
                if (notify_progress_parse(payload->str, payload->len, &p) == 0)
                        notify_deliver_progress(b->owner, &p);
                return;
        }
        char token[SUBMISSION_TOKEN_LEN + 1];
        memcpy(token, payload->str, SUBMISSION_TOKEN_LEN);
        token[SUBMISSION_TOKEN_LEN] = '\0';
        uint64_t status;
        if (strlen(payload->str) != payload->len ||
                parse_u64_max(payload->str + SUBMISSION_TOKEN_LEN + 1, STATUS_ID_MAX, &status) < 0)
                return;
        notify_deliver(b->owner, token, (int) status);
}

/* Read messages until the connection fails or the Notify stops. */
static void listen_until_down(NotifyBackend *b) {
        uint64_t last_rx = now_usec(CLOCK_MONOTONIC);
        bool pinged = false;
        while (!stopped(b)) {
                _cleanup_redis_reply_free_ RedisReply *reply = NULL;
                int q = redis_read(b->subscriber, READ_SLICE_USEC, &reply);
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (q == 0) {
                        last_rx = now;
                        pinged = false;
                        deliver(b, reply);
                        continue;
                }
                if (q != -EAGAIN)
                        return;
                if (now - last_rx < KEEPALIVE_USEC)
                        continue;
                if (pinged) { /* no answer to the PING: the connection is gone quietly */
                        redis_disconnect(b->subscriber);
                        return;
                }
                const char *argv[] = {"PING"};
                if (redis_send(b->subscriber, 1, argv, NULL) < 0)
                        return;
                pinged = true;
                last_rx = now;
        }
}

static void *subscriber_thread(void *arg) {
        NotifyBackend *b = arg;
        uint64_t backoff = BACKOFF_MIN_USEC;
        while (!stopped(b)) {
                if (subscribe(b) < 0) {
                        redis_disconnect(b->subscriber);
                        set_up(b, false, true);
                        if (!pause_unless_stopped(b, backoff))
                                break;
                        backoff = MIN(backoff * 2, BACKOFF_MAX_USEC);
                        continue;
                }
                backoff = BACKOFF_MIN_USEC;
                set_up(b, true, true);
                listen_until_down(b);
                redis_disconnect(b->subscriber);
                set_up(b, false, false);
        }
        return NULL;
}

static void redis_notify_free(NotifyBackend *b) {
        if (!b)
                return;
        if (b->subscriber) { /* the thread runs once there is a subscriber */
                pthread_mutex_lock(&b->lock);
                b->stop = true;
                pthread_cond_broadcast(&b->changed);
                pthread_mutex_unlock(&b->lock);
                pthread_join(b->thread, NULL);
        }
        redis_free(b->subscriber);
        redis_free(b->publisher);
        pthread_mutex_destroy(&b->publish_lock);
        pthread_mutex_destroy(&b->lock);
        pthread_cond_destroy(&b->changed);
        free(b);
}

static int redis_notify_open(const char *url, Notify *owner, char *errbuf, NotifyBackend **ret) {
        NotifyBackend *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->owner = owner;
        pthread_mutex_init(&b->publish_lock, NULL);
        pthread_mutex_init(&b->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&b->changed, &ca);
        pthread_condattr_destroy(&ca);
        snprintf(b->channel, sizeof b->channel, "coderunner:done");
        RedisOption opt = {.key = "channel", .value = b->channel, .size = sizeof b->channel};
        char err[REDIS_ERROR_MAX] = "";
        int q = redis_open(url, &opt, 1, err, &b->publisher);
        if (q == 0)
                q = redis_clone(b->publisher, err, &b->subscriber);
        if (q == 0) {
                q = -pthread_create(&b->thread, NULL, subscriber_thread, b);
                if (q < 0) {
                        snprintf(err, sizeof err, "cannot start the subscriber thread: %s", strerror(-q));
                        b->subscriber = redis_free(b->subscriber);
                }
        }
        if (q < 0) {
                notify_set_error(errbuf, "%s", err);
                redis_notify_free(b);
                return q;
        }
        /* Deliveries flow once notify_open() returns: wait for the first subscription. */
        pthread_mutex_lock(&b->lock);
        while (b->attempts == 0)
                pthread_cond_wait(&b->changed, &b->lock);
        bool up = b->up;
        pthread_mutex_unlock(&b->lock);
        if (!up) {
                notify_set_error(
                        errbuf, "redis %s: cannot subscribe to %s", redis_address(b->publisher), b->channel);
                redis_notify_free(b);
                return -ECONNREFUSED;
        }
        *ret = b;
        return 0;
}

static int redis_notify_publish(NotifyBackend *b, const char *token, int status_id) {
        if (status_id < 0 || status_id > STATUS_ID_MAX)
                return -EINVAL;
        char payload[SUBMISSION_TOKEN_LEN + 16];
        snprintf(payload, sizeof payload, "%s %d", token, status_id);
        pthread_mutex_lock(&b->publish_lock);
        int q = redis_call(b->publisher, NULL, "PUBLISH", b->channel, payload, NULL);
        pthread_mutex_unlock(&b->publish_lock);
        return q;
}

static int redis_notify_publish_progress(NotifyBackend *b, const NotifyProgress *p, const char *wire) {
        pthread_mutex_lock(&b->publish_lock);
        int q = redis_call(b->publisher, NULL, "PUBLISH", b->channel, wire, NULL);
        pthread_mutex_unlock(&b->publish_lock);
        return q;
}

static int redis_notify_ping(NotifyBackend *b) {
        pthread_mutex_lock(&b->lock);
        bool up = b->up;
        pthread_mutex_unlock(&b->lock);
        return up ? 0 : -ENOTCONN;
}

const NotifyOps notify_redis_ops = {
        .name = "redis",
        .open = redis_notify_open,
        .free = redis_notify_free,
        .publish = redis_notify_publish,
        .publish_progress = redis_notify_publish_progress,
        .ping = redis_notify_ping,
};
