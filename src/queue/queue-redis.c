/* SPDX-License-Identifier: MIT */
/* The Redis Streams queue: a cluster's. Keys, for a stream NAME:
 *   NAME         the stream; entries {token}; consumer group "workers";
 *   NAME:leases  a sorted set: member an entry id a consumer holds, score its lease's end
 *                in milliseconds of the Redis server's clock (so every job has its own
 *                lease, and the consumers' clocks do not matter);
 *   NAME:dead    the dead letters: entries {token, reason, deliveries}.
 * Acked entries are deleted, so waiting = XLEN - the group's pending count. Every step that
 * reads and writes (push, claim, extend, dead) is one Lua script, atomic on the server.
 * A claim that has to wait blocks on XREAD for new entries (at most WAIT_SLICE at a time,
 * and never past the next lease's end), then runs the claim script again.
 *
 * Connections are not thread-safe: the queue keeps a pool, and a call takes one for its
 * duration (a blocked claim does not hold up the acks of other threads). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "queue/queue-internal.h"
#include "redis/redis.h"

#define GROUP "workers"
#define STREAM_MAX 128
#define CONSUMER_MAX 128
#define POOL_MAX 8
/* A waiting claim looks at the leases and at close() at least this often. */
#define WAIT_SLICE_MSEC 100
/* The most tokens one push script takes (one command's arguments are bounded). */
#define PUSH_CHUNK (REDIS_MAX_ARGS - 16)
/* The dead letters kept (older ones are trimmed). */
#define DEAD_KEPT "100000"

struct QueueBackend {
        char *url;
        char stream[STREAM_MAX], leases[STREAM_MAX + 8], dead[STREAM_MAX + 8];
        char consumer[CONSUMER_MAX];
        bool has_consumer;
        uint64_t max;
        char max_text[24];
        atomic_bool closed;
        pthread_mutex_t lock; /* the pool */
        Redis *idle[POOL_MAX];
        size_t n_idle;
};

/* ---- scripts (KEYS: stream, leases, dead; ARGV[1]: the group) ---- */

#define LUA_NOW \
        "local t = redis.call('TIME')\n" \
        "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n"

/* ARGV: group, max, force, token... -> the number pushed, or -1 when full. */
static const RedisScript push_script = {
        .name = "push",
        .source =
                "local waiting = redis.call('XLEN', KEYS[1]) - redis.call('XPENDING', KEYS[1], ARGV[1])[1]\n"
                "local n = #ARGV - 3\n"
                "if ARGV[3] ~= '1' and waiting + n > tonumber(ARGV[2]) then return -1 end\n"
                "for i = 4, #ARGV do redis.call('XADD', KEYS[1], '*', 'token', ARGV[i]) end\n"
                "return n\n",
};

/* ARGV: group, consumer, lease_ms -> {id, token, deliveries}, or {'', last id, ms to the
 * next lease's end or -1}. An expired lease first (XCLAIM counts the delivery), then a new
 * entry. */
static const RedisScript claim_script = {
        .name = "claim",
        .source = LUA_NOW
        "local lease = tonumber(ARGV[3])\n"
        "while true do\n"
        "  local e = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1)\n"
        "  if #e == 0 then break end\n"
        "  local id = e[1]\n"
        "  local c = redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, id)\n"
        "  local p = redis.call('XPENDING', KEYS[1], ARGV[1], id, id, 1)\n"
        "  if #c > 0 and c[1] and #p > 0 then\n"
        "    redis.call('ZADD', KEYS[2], now + lease, id)\n"
        "    return {id, c[1][2][2], p[1][4]}\n"
        "  end\n"
        "  redis.call('ZREM', KEYS[2], id)\n"
        "  redis.call('XACK', KEYS[1], ARGV[1], id)\n"
        "end\n"
        "local r = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', 1, 'STREAMS', "
        "KEYS[1], '>')\n"
        "if r and #r[1][2] > 0 then\n"
        "  local e = r[1][2][1]\n"
        "  redis.call('ZADD', KEYS[2], now + lease, e[1])\n"
        "  return {e[1], e[2][2], 1}\n"
        "end\n"
        "local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)\n"
        "local lastid = '0-0'\n"
        "if #last > 0 then lastid = last[1][1] end\n"
        "local nxt = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')\n"
        "local wait = -1\n"
        "if #nxt > 0 then wait = tonumber(nxt[2]) - now end\n"
        "return {'', lastid, wait}\n",
};

/* ARGV: group, consumer, id, deliveries, lease_ms -> 1, or 0 when the job is no longer
 * this consumer's delivery. */
static const RedisScript extend_script = {
        .name = "extend",
        .source = LUA_NOW "local p = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[3], ARGV[3], 1)\n"
                          "if #p == 0 or p[1][2] ~= ARGV[2] or tonumber(p[1][4]) ~= tonumber(ARGV[4]) then "
                          "return 0 end\n"
                          "if not redis.call('ZSCORE', KEYS[2], ARGV[3]) then return 0 end\n"
                          "redis.call('ZADD', KEYS[2], now + tonumber(ARGV[5]), ARGV[3])\n"
                          "return 1\n",
};

/* ARGV: group, id -> forget the job. */
static const RedisScript ack_script = {
        .name = "ack",
        .source = "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
                  "redis.call('XDEL', KEYS[1], ARGV[2])\n"
                  "redis.call('ZREM', KEYS[2], ARGV[2])\n"
                  "return 1\n",
};

/* ARGV: group, id, token, reason, deliveries, kept -> the dead letter added, the job
 * forgotten. */
static const RedisScript dead_script = {
        .name = "dead",
        .source = "if redis.call('ZSCORE', KEYS[2], ARGV[2]) then\n"
                  "  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[6], '*', 'token', ARGV[3], 'reason', "
                  "ARGV[4], "
                  "'deliveries', ARGV[5])\n"
                  "end\n"
                  "redis.call('XACK', KEYS[1], ARGV[1], ARGV[2])\n"
                  "redis.call('XDEL', KEYS[1], ARGV[2])\n"
                  "redis.call('ZREM', KEYS[2], ARGV[2])\n"
                  "return 1\n",
};

/* ARGV: group -> {waiting, pending, dead}. */
static const RedisScript stats_script = {
        .name = "stats",
        .source = "local pending = redis.call('XPENDING', KEYS[1], ARGV[1])[1]\n"
                  "return {redis.call('XLEN', KEYS[1]) - pending, pending, redis.call('XLEN', KEYS[3])}\n",
};

/* ---- connections ---- */

static int connect_one(QueueBackend *b, char *errbuf, Redis **ret) {
        char stream[STREAM_MAX];
        RedisOption opt = {.key = "stream", .value = stream, .size = sizeof stream};
        return redis_open(b->url, &opt, 1, errbuf, ret);
}

static int take(QueueBackend *b, Redis **ret) {
        pthread_mutex_lock(&b->lock);
        Redis *r = b->n_idle > 0 ? b->idle[--b->n_idle] : NULL;
        pthread_mutex_unlock(&b->lock);
        if (r) {
                *ret = r;
                return 0;
        }
        return connect_one(b, NULL, ret);
}

static void give_back(QueueBackend *b, Redis *r) {
        pthread_mutex_lock(&b->lock);
        if (b->n_idle < POOL_MAX) {
                b->idle[b->n_idle++] = r;
                r = NULL;
        }
        pthread_mutex_unlock(&b->lock);
        redis_free(r);
}

static int create_group(Redis *r, const char *stream) {
        int q = redis_call(r, NULL, "XGROUP", "CREATE", stream, GROUP, "0", "MKSTREAM", NULL);
        if (q == -EIO && strncmp(redis_error(r), "BUSYGROUP", 9) == 0)
                return 0;
        return q;
}

/* Run a script; when the group is gone (a Redis that lost its data), create it again and
 * retry once. */
static int run(QueueBackend *b, Redis *r, const RedisScript *s, size_t n_args, const char *const *args,
        RedisReply **ret) {
        const char *keys[] = {b->stream, b->leases, b->dead};
        int q = redis_script(r, s, ELEMENTSOF(keys), keys, n_args, args, ret);
        if (q != -EIO || strncmp(redis_error(r), "NOGROUP", 7) != 0)
                return q;
        q = create_group(r, b->stream);
        if (q < 0)
                return q;
        return redis_script(r, s, ELEMENTSOF(keys), keys, n_args, args, ret);
}

/* Take a connection, run one script, give the connection back. */
static int run_once(
        QueueBackend *b, const RedisScript *s, size_t n_args, const char *const *args, RedisReply **ret) {
        Redis *r;
        int q = take(b, &r);
        if (q < 0)
                return q;
        q = run(b, r, s, n_args, args, ret);
        give_back(b, r);
        return q;
}

/* ---- the operations ---- */

static bool name_valid(const char *s, size_t max) {
        size_t n = strnlen(s, max);
        if (n == 0 || n == max)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= ' ' || s[i] == 0x7f)
                        return false;
        return true;
}

/* A stream entry id: digits, '-', digits. */
static bool id_valid(const char *s) {
        size_t a = strspn(s, "0123456789");
        if (a == 0 || s[a] != '-')
                return false;
        size_t c = strspn(s + a + 1, "0123456789");
        return c > 0 && s[a + 1 + c] == '\0';
}

static void redis_free_backend(QueueBackend *b) {
        if (!b)
                return;
        for (size_t i = 0; i < b->n_idle; i++)
                redis_free(b->idle[i]);
        pthread_mutex_destroy(&b->lock);
        free(b->url);
        free(b);
}

static int redis_open_backend(
        const char *url, uint64_t max, const char *consumer, char *errbuf, QueueBackend **ret) {
        if (consumer && !name_valid(consumer, CONSUMER_MAX)) {
                queue_set_error(errbuf, "a consumer name is 1 to %d printable characters without spaces",
                        CONSUMER_MAX - 1);
                return -EINVAL;
        }
        QueueBackend *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        pthread_mutex_init(&b->lock, NULL);
        b->url = strdup(url);
        if (!b->url) {
                redis_free_backend(b);
                return -ENOMEM;
        }
        snprintf(b->stream, sizeof b->stream, "coderunner");
        RedisOption opt = {.key = "stream", .value = b->stream, .size = sizeof b->stream};
        char err[REDIS_ERROR_MAX] = "";
        Redis *r = NULL;
        int q = redis_open(url, &opt, 1, err, &r);
        if (q == 0) {
                q = create_group(r, b->stream);
                if (q < 0)
                        snprintf(err, sizeof err, "%s", redis_error(r));
        }
        if (q < 0) {
                queue_set_error(errbuf, "%s", err);
                redis_free(r);
                redis_free_backend(b);
                return q;
        }
        snprintf(b->leases, sizeof b->leases, "%s:leases", b->stream);
        snprintf(b->dead, sizeof b->dead, "%s:dead", b->stream);
        if (consumer) {
                snprintf(b->consumer, sizeof b->consumer, "%s", consumer);
                b->has_consumer = true;
        }
        b->max = max;
        snprintf(b->max_text, sizeof b->max_text, "%" PRIu64, max);
        b->idle[b->n_idle++] = r;
        *ret = b;
        return 0;
}

static int redis_push(QueueBackend *b, const char *const *tokens, size_t n, bool force) {
        if (atomic_load(&b->closed))
                return -ESHUTDOWN;
        if (n > PUSH_CHUNK) {
                if (!force) /* more than the bound can ever be (an API node's bound is far lower) */
                        return n > b->max ? -EAGAIN : -E2BIG;
                /* A forced re-queue needs no atomic admission: push it a chunk at a time. */
                for (size_t i = 0; i < n; i += PUSH_CHUNK) {
                        int q = redis_push(b, tokens + i, MIN(n - i, (size_t) PUSH_CHUNK), true);
                        if (q < 0)
                                return q;
                }
                return 0;
        }
        _cleanup_free_ const char **args = calloc(n + 3, sizeof *args);
        if (!args)
                return -ENOMEM;
        args[0] = GROUP;
        args[1] = b->max_text;
        args[2] = force ? "1" : "0";
        memcpy(args + 3, tokens, n * sizeof *tokens);
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q = run_once(b, &push_script, n + 3, args, &reply);
        if (q < 0)
                return q;
        long long pushed;
        if (redis_reply_integer(reply, &pushed) < 0)
                return -EIO;
        return pushed < 0 ? -EAGAIN : 0;
}

/* One claim attempt: 1 and *ret filled, or 0 with the stream's last id and the time to the
 * next lease's end (-1: none). */
static int claim_once(QueueBackend *b, Redis *r, uint64_t lease_usec, QueueJob *ret, char *ret_last,
        size_t last_size, long long *ret_next_ms) {
        char lease[24];
        snprintf(lease, sizeof lease, "%" PRIu64, MAX(lease_usec / USEC_PER_MSEC, (uint64_t) 1));
        const char *args[] = {GROUP, b->consumer, lease};
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q = run(b, r, &claim_script, ELEMENTSOF(args), args, &reply);
        if (q < 0)
                return q;
        const char *id = redis_reply_str(redis_reply_at(reply, 0));
        const char *token_or_last = redis_reply_str(redis_reply_at(reply, 1));
        long long n;
        if (!id || !token_or_last || redis_reply_integer(redis_reply_at(reply, 2), &n) < 0)
                return -EIO;
        if (id[0] == '\0') {
                snprintf(ret_last, last_size, "%s", token_or_last);
                *ret_next_ms = n;
                return 0;
        }
        if (strlen(id) >= sizeof ret->id || !queue_token_valid(token_or_last) || n < 1 || n > UINT32_MAX)
                return -EIO;
        *ret = (QueueJob){.deliveries = (uint32_t) n};
        memcpy(ret->id, id, strlen(id) + 1);
        memcpy(ret->token, token_or_last, sizeof ret->token);
        return 1;
}

static int claim_loop(QueueBackend *b, Redis *r, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + timeout_usec;
        for (;;) {
                if (atomic_load(&b->closed))
                        return -ESHUTDOWN;
                char last[QUEUE_JOB_ID_MAX];
                long long next_ms;
                int q = claim_once(b, r, lease_usec, ret, last, sizeof last, &next_ms);
                if (q != 0)
                        return q < 0 ? q : 0;
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now >= deadline)
                        return -EAGAIN;
                /* Wait for a new entry, the next lease's end, close(), or the deadline. */
                uint64_t wait_ms = MIN((deadline - now) / USEC_PER_MSEC, (uint64_t) WAIT_SLICE_MSEC);
                if (next_ms >= 0)
                        wait_ms = MIN(wait_ms, (uint64_t) next_ms);
                char block[24];
                snprintf(block, sizeof block, "%" PRIu64, MAX(wait_ms, (uint64_t) 1));
                q = redis_call(
                        r, NULL, "XREAD", "COUNT", "1", "BLOCK", block, "STREAMS", b->stream, last, NULL);
                if (q < 0)
                        return q;
        }
}

static int redis_claim(QueueBackend *b, uint64_t lease_usec, uint64_t timeout_usec, QueueJob *ret) {
        if (!b->has_consumer)
                return -EINVAL;
        Redis *r;
        int q = take(b, &r);
        if (q < 0)
                return q;
        q = claim_loop(b, r, lease_usec, timeout_usec, ret);
        give_back(b, r);
        return q;
}

static int redis_ack(QueueBackend *b, const QueueJob *job) {
        if (!id_valid(job->id))
                return -EINVAL;
        const char *args[] = {GROUP, job->id};
        return run_once(b, &ack_script, ELEMENTSOF(args), args, NULL);
}

static int redis_release(QueueBackend *b, const QueueJob *job) {
        if (!id_valid(job->id))
                return -EINVAL;
        Redis *r;
        int q = take(b, &r);
        if (q < 0)
                return q;
        /* Score 0: the lease ended long ago, the next claim takes it first. */
        q = redis_call(r, NULL, "ZADD", b->leases, "XX", "0", job->id, NULL);
        give_back(b, r);
        return q;
}

static int redis_extend(QueueBackend *b, const QueueJob *job, uint64_t lease_usec) {
        if (!id_valid(job->id) || !b->has_consumer)
                return -EINVAL;
        char deliveries[16], lease[24];
        snprintf(deliveries, sizeof deliveries, "%" PRIu32, job->deliveries);
        snprintf(lease, sizeof lease, "%" PRIu64, MAX(lease_usec / USEC_PER_MSEC, (uint64_t) 1));
        const char *args[] = {GROUP, b->consumer, job->id, deliveries, lease};
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q = run_once(b, &extend_script, ELEMENTSOF(args), args, &reply);
        if (q < 0)
                return q;
        long long ok;
        if (redis_reply_integer(reply, &ok) < 0)
                return -EIO;
        return ok == 1 ? 0 : -ENOENT;
}

static int redis_dead(QueueBackend *b, const QueueJob *job, const char *reason) {
        if (!id_valid(job->id))
                return -EINVAL;
        char deliveries[16];
        snprintf(deliveries, sizeof deliveries, "%" PRIu32, job->deliveries);
        const char *args[] = {GROUP, job->id, job->token, reason, deliveries, DEAD_KEPT};
        return run_once(b, &dead_script, ELEMENTSOF(args), args, NULL);
}

static int redis_ping(QueueBackend *b) {
        if (atomic_load(&b->closed))
                return -ESHUTDOWN;
        Redis *r;
        int q = take(b, &r);
        if (q < 0)
                return q;
        q = redis_call(r, NULL, "PING", NULL);
        give_back(b, r);
        return q;
}

static int redis_stats(QueueBackend *b, QueueStats *ret) {
        const char *args[] = {GROUP};
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q = run_once(b, &stats_script, ELEMENTSOF(args), args, &reply);
        if (q < 0)
                return q;
        long long v[3];
        for (size_t i = 0; i < ELEMENTSOF(v); i++)
                if (redis_reply_integer(redis_reply_at(reply, i), &v[i]) < 0 || v[i] < 0)
                        return -EIO;
        *ret = (QueueStats){.waiting = (uint64_t) v[0],
                .pending = (uint64_t) v[1],
                .dead = (uint64_t) v[2],
                .max = b->max};
        return 0;
}

static void redis_close(QueueBackend *b) {
        atomic_store(&b->closed, true);
}

const QueueOps queue_redis_ops = {
        .name = "redis",
        .open = redis_open_backend,
        .free = redis_free_backend,
        .push = redis_push,
        .claim = redis_claim,
        .ack = redis_ack,
        .release = redis_release,
        .extend = redis_extend,
        .dead = redis_dead,
        .ping = redis_ping,
        .stats = redis_stats,
        .close = redis_close,
};
