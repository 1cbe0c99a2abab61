/* SPDX-License-Identifier: MIT */
/* The rate limiter's contract: one suite, run on the memory backend and on Redis (the test
 * starts its own redis-server on loopback when one is installed). Rates are chosen so that
 * no assertion depends on how fast the test runs: 0.001/s (an interval of 1000 s) where
 * nothing may refill during the test, and where refill is the point, the decision's own
 * retry_after is waited for and only bounds are asserted. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/ratelimit.h"
#include "redis-server.h"
#include "redis/redis.h"
#include "tests.h"

#define SLOW 0.001 /* requests per second: nothing refills while the test runs */
#define SLOW_INTERVAL (1000 * USEC_PER_SEC)
/* How long a test may take at most, for bounds that allow for elapsed time. */
#define SLACK (60 * USEC_PER_SEC)

#define ASSERT_IN(x, lo, hi) \
        do { \
                double _x = (double) (x), _lo = (double) (lo), _hi = (double) (hi); \
                if (!(_x >= _lo && _x <= _hi)) { \
                        fprintf(stderr, "%s:%d: %s = %.17g, not in [%.17g, %.17g]\n", __FILE__, __LINE__, \
                                #x, _x, _lo, _hi); \
                        abort(); \
                } \
        } while (0)
#define ASSERT_EQ_NUM(x, want) ASSERT_IN(x, want, want)

typedef RateLimiter *(*OpenFn)(size_t max_keys);

static RateDecision take(RateLimiter *l, const char *key, double rate, uint32_t burst) {
        RateDecision d;
        int r = ratelimit_take(l, key, rate, burst, &d);
        if (r != 0) {
                fprintf(stderr, "ratelimit_take(%s) = %d\n", key, r);
                abort();
        }
        ASSERT_EQ_NUM(d.limit, burst);
        return d;
}

static void sleep_usec(uint64_t usec) {
        struct timespec ts = {.tv_sec = (time_t) (usec / USEC_PER_SEC),
                .tv_nsec = (long) (usec % USEC_PER_SEC * NSEC_PER_USEC)};
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* A burst is admitted, the next request refused; the headers' values follow from rate and
 * burst. */
static void burst(RateLimiter *l) {
        const uint32_t b = 5;
        for (uint32_t i = 1; i <= b; i++) {
                RateDecision d = take(l, "key:a", SLOW, b);
                ASSERT_TRUE(d.allowed);
                ASSERT_EQ_NUM(d.remaining, b - i);
                ASSERT_EQ_NUM(d.retry_after_usec, 0);
                /* the debt after i requests: i intervals, less the time the test took */
                ASSERT_IN(d.reset_usec, i * SLOW_INTERVAL - SLACK, i * SLOW_INTERVAL);
        }
        for (int i = 0; i < 3; i++) {
                RateDecision d = take(l, "key:a", SLOW, b);
                ASSERT_TRUE(!d.allowed);
                ASSERT_EQ_NUM(d.remaining, 0);
                /* one interval until one more request; the whole debt until the bucket is full */
                ASSERT_IN(d.retry_after_usec, SLOW_INTERVAL - SLACK, SLOW_INTERVAL);
                ASSERT_IN(d.reset_usec, b * SLOW_INTERVAL - SLACK, b * SLOW_INTERVAL);
        }
        /* a refused request costs nothing: a larger burst on the same key admits exactly
         * the difference */
        ASSERT_TRUE(take(l, "key:a", SLOW, b + 2).allowed);
        ASSERT_TRUE(take(l, "key:a", SLOW, b + 2).allowed);
        ASSERT_TRUE(!take(l, "key:a", SLOW, b + 2).allowed);
        /* burst 1: one request, then none */
        ASSERT_TRUE(take(l, "key:one", SLOW, 1).allowed);
        RateDecision d = take(l, "key:one", SLOW, 1);
        ASSERT_TRUE(!d.allowed);
        ASSERT_IN(d.retry_after_usec, SLOW_INTERVAL - SLACK, SLOW_INTERVAL);
}

/* Keys do not share buckets, whatever their bytes. */
static void keys(RateLimiter *l) {
        char longest[RATELIMIT_KEY_MAX + 1];
        memset(longest, 'k', RATELIMIT_KEY_MAX);
        longest[RATELIMIT_KEY_MAX] = '\0';
        static const char *const names[] = {"key:b", "key:b ", "key:B", "ip:198.18.0.7", "ip:198.18.0.70",
                "a:b:c", "x", "sp ace\t\x01\xff"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                ASSERT_TRUE(take(l, names[i], SLOW, 1).allowed);
                ASSERT_TRUE(!take(l, names[i], SLOW, 1).allowed);
        }
        ASSERT_TRUE(take(l, longest, SLOW, 1).allowed);
        ASSERT_TRUE(!take(l, longest, SLOW, 1).allowed);
        longest[RATELIMIT_KEY_MAX - 1] = '\0'; /* its prefix is another key */
        ASSERT_TRUE(take(l, longest, SLOW, 1).allowed);
        /* a rate and a counter of the same name are different things */
        bool ok;
        double total;
        uint64_t reset;
        ASSERT_EQ(ratelimit_count_add(l, "x", 3, 0, &ok, &total, &reset), 0);
        ASSERT_TRUE(ok);
        ASSERT_EQ_NUM(total, 3);
        ASSERT_TRUE(!take(l, "x", SLOW, 1).allowed);
}

/* Refill: wait what the decision says, and one more request is admitted. */
static void refill(RateLimiter *l) {
        const double rate = 1000; /* an interval of 1 ms */
        ASSERT_TRUE(take(l, "key:r", rate, 2).allowed);
        ASSERT_TRUE(take(l, "key:r", rate, 2).allowed);
        RateDecision d = take(l, "key:r", rate, 2);
        if (d.allowed) /* the two took over a millisecond: drain what refilled */
                d = take(l, "key:r", rate, 2);
        while (d.allowed)
                d = take(l, "key:r", rate, 2);
        ASSERT_IN(d.retry_after_usec, 1, 1000);
        ASSERT_IN(d.reset_usec, 1000, 2000);
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 10 * USEC_PER_SEC;
        while (!d.allowed) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                sleep_usec(d.retry_after_usec);
                d = take(l, "key:r", rate, 2);
                if (!d.allowed)
                        ASSERT_IN(d.retry_after_usec, 1, 1000);
        }
        /* a full bucket again after reset_usec */
        d = take(l, "key:full", rate, 3);
        d = take(l, "key:full", rate, 3);
        ASSERT_IN(d.reset_usec, 1, 2000);
        while (d.remaining < 2) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                sleep_usec(d.reset_usec);
                d = take(l, "key:full", rate, 3);
                ASSERT_TRUE(d.allowed);
        }
        ASSERT_EQ_NUM(d.remaining, 2);
}

static void invalid(RateLimiter *l) {
        RateDecision d = {.allowed = true, .limit = 77};
        static const double bad_rates[] = {0, -1, NAN, INFINITY, -INFINITY, RATELIMIT_RATE_MAX * 1.01};
        for (size_t i = 0; i < ELEMENTSOF(bad_rates); i++)
                ASSERT_EQ(ratelimit_take(l, "k", bad_rates[i], 1, &d), -EINVAL);
        ASSERT_EQ(ratelimit_take(l, "k", 1, 0, &d), -EINVAL);
        /* a bucket that would take more than a year to refill */
        ASSERT_EQ(ratelimit_take(l, "k", SLOW, 40000, &d), -EINVAL);
        ASSERT_EQ(ratelimit_take(l, "k", 1e-9, 1, &d), -EINVAL);
        char big[RATELIMIT_KEY_MAX + 2];
        memset(big, 'k', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        ASSERT_EQ(ratelimit_take(l, NULL, 1, 1, &d), -EINVAL);
        ASSERT_EQ(ratelimit_take(l, "", 1, 1, &d), -EINVAL);
        ASSERT_EQ(ratelimit_take(l, big, 1, 1, &d), -EINVAL);
        ASSERT_TRUE(d.allowed && d.limit == 77); /* untouched on failure */
        /* the edges are allowed */
        ASSERT_TRUE(take(l, "edge:max", RATELIMIT_RATE_MAX, 1).allowed);
        ASSERT_TRUE(take(l, "edge:window", 1, (uint32_t) RATELIMIT_WINDOW_MAX).allowed);
        ASSERT_EQ(ratelimit_take(l, "edge:window", 1, (uint32_t) RATELIMIT_WINDOW_MAX + 1, &d), -EINVAL);

        bool ok = true;
        double total = -1;
        uint64_t reset = 1;
        static const double bad[] = {-1, -0.001, NAN, INFINITY};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_EQ(ratelimit_count_add(l, "c", bad[i], 0, &ok, &total, &reset), -EINVAL);
                ASSERT_EQ(ratelimit_count_add(l, "c", 1, bad[i], &ok, &total, &reset), -EINVAL);
        }
        ASSERT_EQ(ratelimit_count_add(l, NULL, 1, 0, &ok, &total, &reset), -EINVAL);
        ASSERT_EQ(ratelimit_count_add(l, "", 1, 0, &ok, &total, &reset), -EINVAL);
        ASSERT_EQ(ratelimit_count_add(l, big, 1, 0, &ok, &total, &reset), -EINVAL);
        ASSERT_EQ(ratelimit_count_get(l, big, &total), -EINVAL);
        ASSERT_EQ(ratelimit_count_get(l, "", &total), -EINVAL);
        ASSERT_TRUE(ok && total == -1 && reset == 1);
        ASSERT_EQ(ratelimit_count_get(l, "c", &total), 0);
        ASSERT_EQ_NUM(total, 0); /* nothing was added */
        RateAccuracy a;
        ASSERT_EQ(ratelimit_accuracy(l, "k", 1, 1, 0, &a), -EINVAL);
}

/* usec until the UTC day ends, now. */
static uint64_t day_left(void) {
        uint64_t now = now_usec(CLOCK_REALTIME), day = 86400 * USEC_PER_SEC;
        return day - now % day;
}

static void add(
        RateLimiter *l, const char *key, double amount, double ceiling, bool want_ok, double want_total) {
        bool ok;
        double total;
        uint64_t reset;
        uint64_t before = day_left();
        ASSERT_EQ(ratelimit_count_add(l, key, amount, ceiling, &ok, &total, &reset), 0);
        uint64_t after = day_left();
        if (ok != want_ok || total != want_total) {
                fprintf(stderr, "count_add(%s, %g, %g) = %d %.17g, wanted %d %.17g\n", key, amount, ceiling,
                        ok, total, want_ok, want_total);
                abort();
        }
        if (after <= before) /* the day did not end during the call */
                ASSERT_IN(reset, after, before + 1);
        else
                ASSERT_IN(reset, 1, 86400 * USEC_PER_SEC);
}

static void counters(RateLimiter *l) {
        double total = -1;
        ASSERT_EQ(ratelimit_count_get(l, "quota:k1", &total), 0);
        ASSERT_EQ_NUM(total, 0);
        add(l, "quota:k1", 4, 10, true, 4);
        add(l, "quota:k1", 6, 10, true, 10); /* exactly at the ceiling */
        add(l, "quota:k1", 1, 10, false, 10); /* one past: refused, and not added */
        add(l, "quota:k1", 0.25, 10, false, 10);
        add(l, "quota:k1", 0, 10, true, 10);
        ASSERT_EQ(ratelimit_count_get(l, "quota:k1", &total), 0);
        ASSERT_EQ_NUM(total, 10);
        add(l, "quota:k1", 5, 12, false, 10); /* a ceiling is per call */
        add(l, "quota:k1", 5, 15, true, 15);
        add(l, "quota:k1", 100, 0, true, 115); /* no ceiling */
        /* fractions (CPU-seconds) */
        for (int i = 1; i <= 4; i++)
                add(l, "quota:cpu", 0.25, 1, true, 0.25 * i);
        add(l, "quota:cpu", 0.25, 1, false, 1);
        /* another key is untouched */
        ASSERT_EQ(ratelimit_count_get(l, "quota:k2", &total), 0);
        ASSERT_EQ_NUM(total, 0);
        /* outputs are optional */
        ASSERT_EQ(ratelimit_count_add(l, "quota:k2", 2, 0, NULL, NULL, NULL), 0);
        ASSERT_EQ(ratelimit_count_get(l, "quota:k2", &total), 0);
        ASSERT_EQ_NUM(total, 2);
}

#define RACE_EACH 1000

typedef struct Racer {
        RateLimiter *l;
        unsigned admitted;
} Racer;

static void *race(void *arg) {
        Racer *r = arg;
        for (int i = 0; i < RACE_EACH; i++)
                r->admitted += take(r->l, "key:race", SLOW, RACE_EACH * 2).allowed;
        for (int i = 0; i < RACE_EACH; i++) {
                bool ok;
                ASSERT_EQ(ratelimit_count_add(r->l, "quota:race", 1, RACE_EACH * 2 + 7, &ok, NULL, NULL), 0);
        }
        return NULL;
}

/* Decisions are atomic: 4 threads × RACE_EACH requests on a burst of 2 × RACE_EACH admit
 * exactly the burst, and as many additions of 1 stop exactly at their ceiling. */
static void concurrent(RateLimiter *l) {
        Racer r[4];
        pthread_t t[4];
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                r[i] = (Racer){.l = l};
                ASSERT_EQ(pthread_create(&t[i], NULL, race, &r[i]), 0);
        }
        unsigned admitted = 0;
        for (size_t i = 0; i < ELEMENTSOF(t); i++) {
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
                admitted += r[i].admitted;
        }
        ASSERT_EQ_NUM(admitted, RACE_EACH * 2);
        double total;
        ASSERT_EQ(ratelimit_count_get(l, "quota:race", &total), 0);
        ASSERT_EQ_NUM(total, RACE_EACH * 2 + 7);
}

/* The accuracy helper of the benchmark: never more than GCRA allows, always the burst. */
static void accuracy(RateLimiter *l) {
        RateAccuracy a;
        ASSERT_EQ(ratelimit_accuracy(l, "key:accuracy", 2000, 20, 50 * USEC_PER_MSEC, &a), 0);
        ASSERT_TRUE(a.requests >= a.admitted);
        ASSERT_TRUE(a.elapsed_sec >= 0.05);
        ASSERT_EQ_NUM(a.allowed, 20 + 2000 * a.elapsed_sec);
        ASSERT_IN(a.admitted, 20, a.allowed * 1.001 + 1);
}

static void contract(const char *name, OpenFn open) {
        void (*steps[])(RateLimiter *) = {burst, keys, refill, invalid, counters, concurrent, accuracy};
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                RateLimiter *l = open(1000);
                steps[i](l);
                ratelimit_free(l);
        }
        fprintf(stderr, "ratelimit contract: %s ok\n", name);
}

/* ---- memory ---- */

static RateLimiter *open_memory(size_t max_keys) {
        RateLimiter *l = NULL;
        char err[RATELIMIT_ERROR_MAX];
        ASSERT_EQ(ratelimit_new(NULL, max_keys, err, &l), 0);
        ASSERT_TRUE(strcmp(ratelimit_backend(l), "memory") == 0);
        return l;
}

/* At most max_keys keys: the least recently used goes (and comes back with a full
 * bucket); counters are not pushed out by many rate keys. */
static void memory_bound(void) {
        RateLimiter *l = open_memory(3);
        ASSERT_TRUE(take(l, "k1", SLOW, 1).allowed);
        ASSERT_TRUE(take(l, "k2", SLOW, 1).allowed);
        ASSERT_TRUE(take(l, "k3", SLOW, 1).allowed);
        ASSERT_TRUE(!take(l, "k1", SLOW, 1).allowed); /* k1 used: k2 is now the oldest */
        ASSERT_TRUE(take(l, "k4", SLOW, 1).allowed); /* k2 goes */
        ASSERT_TRUE(!take(l, "k1", SLOW, 1).allowed);
        ASSERT_TRUE(!take(l, "k3", SLOW, 1).allowed);
        ASSERT_TRUE(!take(l, "k4", SLOW, 1).allowed);
        ASSERT_TRUE(take(l, "k2", SLOW, 1).allowed); /* forgotten: a full bucket; k1 goes */
        ASSERT_TRUE(take(l, "k1", SLOW, 1).allowed);

        ASSERT_EQ(ratelimit_count_add(l, "quota:q", 5, 0, NULL, NULL, NULL), 0);
        char key[32];
        for (int i = 0; i < 100; i++) {
                snprintf(key, sizeof key, "ip:198.18.0.%d", i);
                ASSERT_TRUE(take(l, key, SLOW, 1).allowed);
        }
        double total;
        ASSERT_EQ(ratelimit_count_get(l, "quota:q", &total), 0);
        ASSERT_EQ_NUM(total, 5);
        /* counters have their own bound */
        for (int i = 0; i < 3; i++) {
                snprintf(key, sizeof key, "quota:%d", i);
                ASSERT_EQ(ratelimit_count_add(l, key, 1, 0, NULL, NULL, NULL), 0);
        }
        ASSERT_EQ(ratelimit_count_get(l, "quota:q", &total), 0);
        ASSERT_EQ_NUM(total, 0);
        ratelimit_free(l);

        /* one key: every new key replaces it */
        l = open_memory(1);
        ASSERT_TRUE(take(l, "a", SLOW, 1).allowed);
        ASSERT_TRUE(!take(l, "a", SLOW, 1).allowed);
        ASSERT_TRUE(take(l, "b", SLOW, 1).allowed);
        ASSERT_TRUE(take(l, "a", SLOW, 1).allowed);
        ratelimit_free(l);

        char err[RATELIMIT_ERROR_MAX] = "";
        ASSERT_EQ(ratelimit_new(NULL, 0, err, &l), -EINVAL);
        ASSERT_TRUE(err[0] != '\0');
        ASSERT_EQ(ratelimit_new("", 0, NULL, &l), -EINVAL);
        ASSERT_TRUE(ratelimit_free(NULL) == NULL);
}

/* ---- Redis ---- */

static RedisServer server;
static unsigned prefixes;

static RateLimiter *open_prefix(const char *prefix) {
        char url[160], err[RATELIMIT_ERROR_MAX] = "";
        snprintf(url, sizeof url, "redis://127.0.0.1:%d?prefix=%s", server.port, prefix);
        RateLimiter *l = NULL;
        int r = ratelimit_new(url, 0, err, &l);
        if (r != 0) {
                fprintf(stderr, "ratelimit_new(%s) = %d %s\n", url, r, err);
                abort();
        }
        ASSERT_TRUE(strcmp(ratelimit_backend(l), "redis") == 0);
        return l;
}

/* Every open gets a prefix of its own, so each contract step starts empty. */
static RateLimiter *open_redis(size_t max_keys) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "test-%u", ++prefixes);
        return open_prefix(prefix);
}

/* One command on a connection of the test's own: an integer answer. */
static long long redis_int(const char *cmd, const char *arg) {
        char url[64];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
        Redis *r = NULL;
        ASSERT_EQ(redis_open(url, NULL, 0, NULL, &r), 0);
        RedisReply *reply = NULL;
        ASSERT_EQ(redis_call(r, &reply, cmd, arg, NULL), 0);
        long long v;
        ASSERT_EQ(redis_reply_integer(reply, &v), 0);
        redis_reply_free(reply);
        redis_free(r);
        return v;
}

static void redis_urls(void) {
        RateLimiter *l = NULL;
        char err[RATELIMIT_ERROR_MAX], url[160];
        static const char *const bad[] = {"redis://", "redis://127.0.0.1:0",
                "redis://127.0.0.1?prefix=", "redis://127.0.0.1?prefix=a b", "redis://127.0.0.1?stream=x",
                "memory:"};
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                int r = ratelimit_new(bad[i], 0, err, &l);
                if (r != -EINVAL || err[0] == '\0') {
                        fprintf(stderr, "ratelimit_new(%s) = %d (%s), wanted -EINVAL with a reason\n",
                                bad[i], r, err);
                        abort();
                }
        }
        /* nobody listens: refused, with the address in the reason */
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", redis_server_free_port());
        ASSERT_EQ(ratelimit_new(url, 0, err, &l), -ECONNREFUSED);
        ASSERT_TRUE(strstr(err, "127.0.0.1") != NULL);
}

/* Two limiters (two gateways) on one Redis and prefix share every bucket and counter; a
 * other prefix is another world. */
static void redis_shared(void) {
        RateLimiter *a = open_prefix("shared"), *b = open_prefix("shared"), *c = open_prefix("other");
        ASSERT_TRUE(take(a, "key:s", SLOW, 3).allowed);
        ASSERT_TRUE(take(b, "key:s", SLOW, 3).allowed);
        RateDecision d = take(a, "key:s", SLOW, 3);
        ASSERT_TRUE(d.allowed);
        ASSERT_EQ_NUM(d.remaining, 0);
        ASSERT_TRUE(!take(b, "key:s", SLOW, 3).allowed);
        ASSERT_TRUE(!take(a, "key:s", SLOW, 3).allowed);
        ASSERT_TRUE(take(c, "key:s", SLOW, 3).allowed);
        ASSERT_EQ(ratelimit_count_add(a, "quota:s", 7, 10, NULL, NULL, NULL), 0);
        bool ok;
        double total;
        ASSERT_EQ(ratelimit_count_add(b, "quota:s", 4, 10, &ok, &total, NULL), 0);
        ASSERT_TRUE(!ok);
        ASSERT_EQ_NUM(total, 7);
        ASSERT_EQ(ratelimit_count_get(c, "quota:s", &total), 0);
        ASSERT_EQ_NUM(total, 0);
        /* the state expires: a bucket once it is full again, a counter a day after its day */
        long long pttl = redis_int("PTTL", "shared:r:key:s");
        ASSERT_IN(pttl, 3 * SLOW_INTERVAL / 1000 - SLACK / 1000, 3 * SLOW_INTERVAL / 1000 + 1);
        long long ttl = redis_int("TTL", "shared:c:quota:s");
        ASSERT_IN(ttl, 86400, 2 * 86400);
        /* a server that forgot the scripts (SCRIPT FLUSH, a restart) gets them again */
        ASSERT_EQ(redis_int("EXISTS", "shared:r:key:s"), 1);
        char url[64];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d", server.port);
        Redis *r = NULL;
        ASSERT_EQ(redis_open(url, NULL, 0, NULL, &r), 0);
        ASSERT_EQ(redis_call(r, NULL, "SCRIPT", "FLUSH", NULL), 0);
        redis_free(r);
        ASSERT_TRUE(!take(a, "key:s", SLOW, 3).allowed);
        ASSERT_EQ(ratelimit_count_add(b, "quota:s", 3, 10, &ok, &total, NULL), 0);
        ASSERT_TRUE(ok);
        ASSERT_EQ_NUM(total, 10);
        ratelimit_free(a);
        ratelimit_free(b);
        ratelimit_free(c);
}

/* A Redis that goes away: an error code for each call, not a crash; back when it is. */
static void redis_down(void) {
        RateLimiter *l = open_prefix("down");
        ASSERT_TRUE(take(l, "key:d", SLOW, 2).allowed);
        redis_server_kill(&server);
        RateDecision d = {.limit = 77};
        bool ok = true;
        double total = -1;
        for (int i = 0; i < 3; i++) {
                ASSERT_EQ(ratelimit_take(l, "key:d", SLOW, 2, &d), -ECONNREFUSED);
                ASSERT_EQ(ratelimit_count_add(l, "quota:d", 1, 0, &ok, &total, NULL), -ECONNREFUSED);
                ASSERT_EQ(ratelimit_count_get(l, "quota:d", &total), -ECONNREFUSED);
        }
        ASSERT_TRUE(d.limit == 77 && ok && total == -1);
        redis_server_start(&server);
        /* no persistence: the bucket went with the old server */
        d = take(l, "key:d", SLOW, 2);
        ASSERT_TRUE(d.allowed);
        ASSERT_EQ_NUM(d.remaining, 1);
        ratelimit_free(l);
}

int main(void) {
        contract("memory", open_memory);
        memory_bound();

        if (!redis_server_installed()) {
                fprintf(stderr, "ratelimit contract: redis skipped (no redis-server installed)\n");
                return 0;
        }
        redis_server_start(&server);
        contract("redis", open_redis);
        redis_urls();
        redis_shared();
        redis_down();
        redis_server_stop(&server);
        return 0;
}
