/* SPDX-License-Identifier: MIT */
/* Rate limits (GCRA) and daily counters, in memory or in Redis.
 *
 * GCRA keeps one number per key, its theoretical arrival time (TAT): when the bucket would
 * be empty of debt. With interval T = 1/rate, a request at `now` sees the delay
 * d = max(TAT - now, 0) (the debt, in time) and is allowed when d + T <= burst × T; then
 * TAT = now + d + T. Everything a client is told follows from d alone (decide()), so the
 * memory backend and the Redis script only have to agree on d and on that one comparison.
 *
 * Memory: two hash tables (rates, counters), each bounded by max_keys with an LRU list,
 * under one mutex; keys hashed with SipHash under a random secret (client addresses are
 * chosen by clients). Rates run on CLOCK_MONOTONIC, counters' days on CLOCK_REALTIME.
 * Redis: one script per decision, timed by the server's TIME; a small connection pool. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/ratelimit.h"
#include "redis/redis.h"
#include "secure/secure.h"

#define USEC_PER_DAY (86400 * USEC_PER_SEC)
#define PREFIX_MAX 128
#define PREFIX_DEFAULT "coderunner:ratelimit"
#define POOL_MAX 8
/* Buckets of a memory table at most (more keys than this share buckets). */
#define BUCKETS_MAX (UINT64_C(1) << 20)

/* ---- the decision, shared by both backends ---- */

static bool rate_valid(double rate, uint32_t burst) {
        return isfinite(rate) && rate > 0 && rate <= RATELIMIT_RATE_MAX && burst >= 1 &&
               burst / rate <= RATELIMIT_WINDOW_MAX;
}

static bool key_valid(const char *key) {
        if (!key)
                return false;
        size_t n = strnlen(key, RATELIMIT_KEY_MAX + 1);
        return n >= 1 && n <= RATELIMIT_KEY_MAX;
}

static bool amount_valid(double x) {
        return isfinite(x) && x >= 0;
}

static uint64_t usec_up(double x) {
        return x <= 0 ? 0 : (uint64_t) ceil(x);
}

/* Whether a request that finds delay d (usec) is allowed. The Redis script computes the
 * same expression in the same order (RATE_SCRIPT): keep them alike. */
static bool admits(double d, double interval, uint32_t burst) {
        return d + interval - burst * interval <= 0;
}

/* What a request that found delay d is told. */
static void decide(bool allowed, double d, double interval, uint32_t burst, RateDecision *ret) {
        *ret = (RateDecision){.allowed = allowed, .limit = burst};
        if (!allowed) {
                ret->reset_usec = usec_up(d);
                ret->retry_after_usec = MAX(usec_up(d + interval - burst * interval), UINT64_C(1));
                return;
        }
        /* the debt after this request is d + T: what is left of burst × T, in requests
         * (the epsilon absorbs the rounding of (burst - 1) × T / T) */
        double left = floor((burst * interval - (d + interval)) / interval + 1e-9);
        ret->remaining = left <= 0 ? 0 : left >= burst - 1 ? burst - 1 : (uint32_t) left;
        ret->reset_usec = usec_up(d + interval);
}

/* The UTC day of a time (usec since the epoch), and the usec until it ends. */
static int64_t utc_day(uint64_t usec, uint64_t *ret_reset_usec) {
        int64_t day = (int64_t) (usec / USEC_PER_DAY);
        *ret_reset_usec = (uint64_t) (day + 1) * USEC_PER_DAY - usec;
        return day;
}

/* ---- memory: a bounded hash table with an LRU list ---- */

typedef struct Entry {
        struct Entry *chain; /* the next in its bucket */
        struct Entry *newer, *older; /* the LRU list */
        uint64_t hash;
        double value; /* rates: the TAT (usec, CLOCK_MONOTONIC); counters: the total */
        int64_t day; /* counters: the UTC day of value */
        size_t len;
        char key[];
} Entry;

typedef struct Table {
        Entry **buckets;
        size_t mask;
        size_t n, max;
        Entry *newest, *oldest;
} Table;

static int table_init(Table *t, size_t max) {
        size_t n = 16;
        while (n < max && n < BUCKETS_MAX)
                n <<= 1;
        *t = (Table){.mask = n - 1, .max = max};
        t->buckets = calloc(n, sizeof *t->buckets);
        return t->buckets ? 0 : -ENOMEM;
}

static void table_done(Table *t) {
        for (Entry *e = t->newest, *next; e; e = next) {
                next = e->older;
                free(e);
        }
        free(t->buckets);
        *t = (Table){0};
}

static void lru_unlink(Table *t, Entry *e) {
        *(e->newer ? &e->newer->older : &t->newest) = e->older;
        *(e->older ? &e->older->newer : &t->oldest) = e->newer;
        e->newer = e->older = NULL;
}

static void lru_push(Table *t, Entry *e) {
        e->older = t->newest;
        e->newer = NULL;
        *(t->newest ? &t->newest->newer : &t->oldest) = e;
        t->newest = e;
}

static void table_evict_oldest(Table *t) {
        Entry *e = t->oldest;
        Entry **p = &t->buckets[e->hash & t->mask];
        while (*p != e)
                p = &(*p)->chain;
        *p = e->chain;
        lru_unlink(t, e);
        free(e);
        t->n--;
}

/* The entry of key, made the most recently used; when absent and create, a new one (value
 * and day 0, the least recently used entry evicted when the table is full): *ret_new
 * says so. Without create, *ret is NULL when absent. */
static int table_get(
        Table *t, const uint8_t *seed, const char *key, bool create, Entry **ret, bool *ret_new) {
        size_t len = strlen(key);
        uint64_t h = secure_shorthash(seed, key, len);
        for (Entry *e = t->buckets[h & t->mask]; e; e = e->chain)
                if (e->hash == h && e->len == len && memcmp(e->key, key, len) == 0) {
                        lru_unlink(t, e);
                        lru_push(t, e);
                        *ret = e;
                        *ret_new = false;
                        return 0;
                }
        if (!create) {
                *ret = NULL;
                *ret_new = false;
                return 0;
        }
        Entry *e = malloc(sizeof *e + len + 1);
        if (!e)
                return -ENOMEM;
        if (t->n >= t->max)
                table_evict_oldest(t);
        *e = (Entry){.chain = t->buckets[h & t->mask], .hash = h, .len = len};
        memcpy(e->key, key, len + 1);
        t->buckets[h & t->mask] = e;
        lru_push(t, e);
        t->n++;
        *ret = e;
        *ret_new = true;
        return 0;
}

/* ---- Redis: scripts (KEYS[1]: the key's state) ---- */

#define LUA_NOW \
        "local t = redis.call('TIME')\n" \
        "local now = tonumber(t[1]) * 1000000 + tonumber(t[2])\n"

/* ARGV: interval (usec, %.17g), burst -> {allowed 0/1, delay d before the request (%.17g)}.
 * The state is the TAT in usec of the server's clock; it expires once it is in the past
 * (an absent key is a full bucket). */
static const RedisScript rate_script = {
        .name = "ratelimit take",
        .source = LUA_NOW "local interval = tonumber(ARGV[1])\n"
                          "local burst = tonumber(ARGV[2])\n"
                          "local tat = tonumber(redis.call('GET', KEYS[1])) or now\n"
                          "local d = math.max(tat - now, 0)\n"
                          "local ds = string.format('%.17g', d)\n"
                          "if d + interval - burst * interval > 0 then return {0, ds} end\n"
                          "redis.call('SET', KEYS[1], string.format('%.17g', now + d + interval), 'PX', "
                          "math.ceil((d + interval) / 1000) + 1)\n"
                          "return {1, ds}\n",
};

/* The counter: a hash {d = its UTC day, t = the total}, expiring a day after its day. */
#define LUA_DAY \
        LUA_NOW "local day = math.floor(tonumber(t[1]) / 86400)\n" \
                "local reset = (day + 1) * 86400000000 - now\n" \
                "local cur = redis.call('HMGET', KEYS[1], 'd', 't')\n" \
                "local total = '0'\n" \
                "if tonumber(cur[1]) == day and cur[2] then total = cur[2] end\n"

/* ARGV: amount, ceiling (0: none) -> {added 0/1, total, usec until the day ends}. */
static const RedisScript count_add_script = {
        .name = "ratelimit count add",
        .source = LUA_DAY
        "local ceiling = tonumber(ARGV[2])\n"
        "if ceiling > 0 and tonumber(total) + tonumber(ARGV[1]) > ceiling then\n"
        "  return {0, total, reset}\n"
        "end\n"
        "if tonumber(cur[1]) ~= day then redis.call('HSET', KEYS[1], 'd', day, 't', '0') end\n"
        "total = redis.call('HINCRBYFLOAT', KEYS[1], 't', ARGV[1])\n"
        "redis.call('EXPIREAT', KEYS[1], (day + 2) * 86400)\n"
        "return {1, total, reset}\n",
};

/* -> {1, total, usec until the day ends} */
static const RedisScript count_get_script = {
        .name = "ratelimit count get",
        .source = LUA_DAY "return {1, total, reset}\n",
};

/* ---- the limiter ---- */

struct RateLimiter {
        bool redis;
        pthread_mutex_t lock; /* memory: the tables; redis: the pool */
        /* memory */
        uint8_t seed[SECURE_SHORTHASH_KEY];
        Table rates, counters;
        /* redis */
        char *url;
        char prefix[PREFIX_MAX];
        Redis *idle[POOL_MAX];
        size_t n_idle;
};

_printf_(2, 3) static void set_error(char *errbuf, const char *fmt, ...) {
        if (!errbuf)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, RATELIMIT_ERROR_MAX, fmt, ap);
        va_end(ap);
}

RateLimiter *ratelimit_free(RateLimiter *l) {
        if (!l)
                return NULL;
        table_done(&l->rates);
        table_done(&l->counters);
        for (size_t i = 0; i < l->n_idle; i++)
                redis_free(l->idle[i]);
        free(l->url);
        pthread_mutex_destroy(&l->lock);
        explicit_bzero(l->seed, sizeof l->seed);
        free(l);
        return NULL;
}

const char *ratelimit_backend(const RateLimiter *l) {
        return l->redis ? "redis" : "memory";
}

static int connect_one(RateLimiter *l, char *errbuf, Redis **ret) {
        char prefix[PREFIX_MAX];
        RedisOption opt = {.key = "prefix", .value = prefix, .size = sizeof prefix};
        return redis_open(l->url, &opt, 1, errbuf, ret);
}

/* A Redis failure as the header promises it: the server unreachable, or it misbehaved. */
static int redis_failure(int q) {
        switch (q) {
        case -ENOMEM:
        case -EINVAL:
        case -E2BIG:
        case -EIO:
                return q;
        default:
                return -ECONNREFUSED;
        }
}

/* Run one script on a pooled connection (connections are not thread-safe: each call has
 * one to itself); a connection that failed is kept, it connects again on its next use. */
static int run_script(RateLimiter *l, const RedisScript *s, char kind, const char *key, size_t n_args,
        const char *const *args, RedisReply **ret) {
        char full[PREFIX_MAX + RATELIMIT_KEY_MAX + 8];
        snprintf(full, sizeof full, "%s:%c:%s", l->prefix, kind, key);
        pthread_mutex_lock(&l->lock);
        Redis *r = l->n_idle > 0 ? l->idle[--l->n_idle] : NULL;
        pthread_mutex_unlock(&l->lock);
        if (!r) {
                int q = connect_one(l, NULL, &r);
                if (q < 0)
                        return redis_failure(q);
        }
        const char *keys[] = {full};
        int q = redis_script(r, s, 1, keys, n_args, args, ret);
        pthread_mutex_lock(&l->lock);
        if (l->n_idle < POOL_MAX) {
                l->idle[l->n_idle++] = r;
                r = NULL;
        }
        pthread_mutex_unlock(&l->lock);
        redis_free(r);
        return q < 0 ? redis_failure(q) : 0;
}

/* A number Redis sent as text (%.17g, or HINCRBYFLOAT's): -EIO when it is not one. */
static int reply_double(const RedisReply *r, double *ret) {
        const char *s = redis_reply_str(r);
        if (!s || !*s)
                return -EIO;
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (*end || errno != 0 || !isfinite(v))
                return -EIO;
        *ret = v;
        return 0;
}

static int reply_flag(const RedisReply *r, bool *ret) {
        long long v;
        if (redis_reply_integer(r, &v) < 0 || (v != 0 && v != 1))
                return -EIO;
        *ret = v == 1;
        return 0;
}

int ratelimit_new(const char *redis_url, size_t max_keys, char *errbuf, RateLimiter **ret) {
        bool redis = redis_url && *redis_url;
        if (!redis && max_keys == 0) {
                set_error(errbuf, "the memory rate limiter needs room for at least one key");
                return -EINVAL;
        }
        _cleanup_(ratelimit_freep) RateLimiter *l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        pthread_mutex_init(&l->lock, NULL);
        l->redis = redis;
        if (!redis) {
                secure_random(l->seed, sizeof l->seed);
                if (table_init(&l->rates, max_keys) < 0 || table_init(&l->counters, max_keys) < 0)
                        return -ENOMEM;
                *ret = TAKE_PTR(l);
                return 0;
        }
        l->url = strdup(redis_url);
        if (!l->url)
                return -ENOMEM;
        snprintf(l->prefix, sizeof l->prefix, PREFIX_DEFAULT);
        RedisOption opt = {.key = "prefix", .value = l->prefix, .size = sizeof l->prefix};
        char err[REDIS_ERROR_MAX] = "";
        Redis *r;
        int q = redis_open(redis_url, &opt, 1, err, &r);
        if (q < 0) {
                set_error(errbuf, "%s", err);
                return q == -EINVAL || q == -ENOMEM ? q : redis_failure(q);
        }
        if (!*l->prefix) {
                redis_free(r);
                set_error(errbuf, "the rate limiter's key prefix is empty");
                return -EINVAL;
        }
        l->idle[l->n_idle++] = r;
        *ret = TAKE_PTR(l);
        return 0;
}

static int memory_take(RateLimiter *l, const char *key, double interval, uint32_t burst, RateDecision *ret) {
        double now = (double) now_usec(CLOCK_MONOTONIC);
        pthread_mutex_lock(&l->lock);
        Entry *e;
        bool fresh;
        int q = table_get(&l->rates, l->seed, key, true, &e, &fresh);
        if (q < 0) {
                pthread_mutex_unlock(&l->lock);
                return q;
        }
        double d = fresh ? 0 : MAX(e->value - now, 0.0);
        bool allowed = admits(d, interval, burst);
        if (allowed)
                e->value = now + d + interval;
        pthread_mutex_unlock(&l->lock);
        decide(allowed, d, interval, burst, ret);
        return 0;
}

/* Run a script whose arguments are two numbers (written so that Lua reads them back
 * exactly). */
static int run_numbers(RateLimiter *l, const RedisScript *s, char kind, const char *key, double x, double y,
        RedisReply **ret) {
        char a[32], b[32];
        snprintf(a, sizeof a, "%.17g", x);
        snprintf(b, sizeof b, "%.17g", y);
        const char *args[] = {a, b};
        return run_script(l, s, kind, key, ELEMENTSOF(args), args, ret);
}

static int redis_take(RateLimiter *l, const char *key, double interval, uint32_t burst, RateDecision *ret) {
        _cleanup_redis_reply_free_ RedisReply *reply = NULL;
        int q = run_numbers(l, &rate_script, 'r', key, interval, burst, &reply);
        if (q < 0)
                return q;
        bool allowed;
        double d;
        if (reply_flag(redis_reply_at(reply, 0), &allowed) < 0 ||
                reply_double(redis_reply_at(reply, 1), &d) < 0 || d < 0)
                return -EIO;
        decide(allowed, d, interval, burst, ret);
        return 0;
}

int ratelimit_take(RateLimiter *l, const char *key, double rate, uint32_t burst, RateDecision *ret) {
        if (!key_valid(key) || !rate_valid(rate, burst))
                return -EINVAL;
        double interval = (double) USEC_PER_SEC / rate;
        return l->redis ? redis_take(l, key, interval, burst, ret)
                        : memory_take(l, key, interval, burst, ret);
}

/* The memory counter of key for today (created when create), or NULL. */
static int memory_counter(
        RateLimiter *l, const char *key, bool create, uint64_t *ret_reset_usec, Entry **ret) {
        int64_t day = utc_day(now_usec(CLOCK_REALTIME), ret_reset_usec);
        bool fresh;
        int q = table_get(&l->counters, l->seed, key, create, ret, &fresh);
        if (q < 0)
                return q;
        if (*ret && (fresh || (*ret)->day != day)) {
                (*ret)->day = day;
                (*ret)->value = 0;
        }
        return 0;
}

int ratelimit_count_add(RateLimiter *l, const char *key, double amount, double ceiling, bool *ret_allowed,
        double *ret_total, uint64_t *ret_reset_usec) {
        if (!key_valid(key) || !amount_valid(amount) || !amount_valid(ceiling))
                return -EINVAL;
        bool allowed;
        double total;
        uint64_t reset;
        if (!l->redis) {
                pthread_mutex_lock(&l->lock);
                Entry *e;
                int q = memory_counter(l, key, true, &reset, &e);
                if (q < 0) {
                        pthread_mutex_unlock(&l->lock);
                        return q;
                }
                allowed = ceiling == 0 || e->value + amount <= ceiling;
                if (allowed)
                        e->value += amount;
                total = e->value;
                pthread_mutex_unlock(&l->lock);
        } else {
                _cleanup_redis_reply_free_ RedisReply *reply = NULL;
                int q = run_numbers(l, &count_add_script, 'c', key, amount, ceiling, &reply);
                if (q < 0)
                        return q;
                long long r;
                if (reply_flag(redis_reply_at(reply, 0), &allowed) < 0 ||
                        reply_double(redis_reply_at(reply, 1), &total) < 0 ||
                        redis_reply_integer(redis_reply_at(reply, 2), &r) < 0 || r <= 0)
                        return -EIO;
                reset = (uint64_t) r;
        }
        if (ret_allowed)
                *ret_allowed = allowed;
        if (ret_total)
                *ret_total = total;
        if (ret_reset_usec)
                *ret_reset_usec = reset;
        return 0;
}

int ratelimit_count_get(RateLimiter *l, const char *key, double *ret_total) {
        if (!key_valid(key))
                return -EINVAL;
        double total = 0;
        if (!l->redis) {
                uint64_t reset;
                pthread_mutex_lock(&l->lock);
                Entry *e;
                int q = memory_counter(l, key, false, &reset, &e);
                if (q == 0 && e)
                        total = e->value;
                pthread_mutex_unlock(&l->lock);
                if (q < 0)
                        return q;
        } else {
                _cleanup_redis_reply_free_ RedisReply *reply = NULL;
                int q = run_script(l, &count_get_script, 'c', key, 0, NULL, &reply);
                if (q < 0)
                        return q;
                if (reply_double(redis_reply_at(reply, 1), &total) < 0)
                        return -EIO;
        }
        *ret_total = total;
        return 0;
}

int ratelimit_accuracy(RateLimiter *l, const char *key, double rate, uint32_t burst, uint64_t duration_usec,
        RateAccuracy *ret) {
        if (duration_usec == 0)
                return -EINVAL;
        RateAccuracy a = {0};
        uint64_t start = now_usec(CLOCK_MONOTONIC), end;
        do {
                RateDecision d;
                int q = ratelimit_take(l, key, rate, burst, &d);
                if (q < 0)
                        return q;
                a.requests++;
                a.admitted += d.allowed;
                end = now_usec(CLOCK_MONOTONIC);
        } while (end - start < duration_usec);
        a.elapsed_sec = (double) (end - start) / USEC_PER_SEC;
        a.allowed = burst + rate * a.elapsed_sec;
        *ret = a;
        return 0;
}
