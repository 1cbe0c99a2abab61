/* SPDX-License-Identifier: MIT */
#pragma once

/* Rate limits and quotas of the gateway.
 *
 * Rates: GCRA (the generic cell rate algorithm: one stored "theoretical arrival time"
 * per key), rate r per second with a burst of b requests. Counters: per key and period
 * (a UTC day), added to atomically and checked against a ceiling.
 * Two backends: in memory (one gateway) and Redis (every gateway shares the state; each
 * decision is one Lua script, atomic, timed by the Redis server's clock so that gateways
 * with skewed clocks agree). A Redis that fails answers -ECONNREFUSED/-EIO and the caller
 * decides (the gateway falls back to its memory limiter and says so in /metrics). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct RateLimiter RateLimiter;

#define RATELIMIT_ERROR_MAX 256
#define RATELIMIT_KEY_MAX 200
/* Rates above this are refused: one request's interval (1/rate) must stay well above the
 * precision of the clocks' microseconds, else requests would not advance the state. */
#define RATELIMIT_RATE_MAX 100000.0
/* burst / rate (the time a full bucket takes to refill) at most, in seconds: a year. */
#define RATELIMIT_WINDOW_MAX (365.0 * 86400)

typedef struct RateDecision {
        bool allowed;
        uint32_t limit; /* the burst: RateLimit-Limit */
        uint32_t remaining; /* requests still allowed now: RateLimit-Remaining */
        uint64_t reset_usec; /* until the bucket is full again: RateLimit-Reset */
        uint64_t retry_after_usec; /* when refused: until one request is allowed */
} RateDecision;

/* redis_url NULL or "" = in memory. In memory, at most max_keys (>= 1) keys are tracked
 * for rates and as many for counters (the least recently used go first; a forgotten key
 * starts with a full bucket, a forgotten counter at 0; many client addresses never push
 * out the counters of keys). Redis: "redis://…[?prefix=NAME]" (redis/redis.h; the keys
 * are NAME:r:KEY and NAME:c:KEY, NAME "coderunner:ratelimit" by default), connected
 * once here to check it. errbuf: NULL or RATELIMIT_ERROR_MAX bytes for a one-line reason.
 * *ret: ratelimit_free(). */
int ratelimit_new(const char *redis_url, size_t max_keys, char *errbuf, RateLimiter **ret);
RateLimiter *ratelimit_free(RateLimiter *l);
static inline void ratelimit_freep(RateLimiter **l) {
        ratelimit_free(*l);
}
const char *ratelimit_backend(const RateLimiter *l); /* "memory" or "redis" */

/* One request of key (1 to RATELIMIT_KEY_MAX bytes, e.g. "key:k_ab12" or
 * "ip:198.18.0.7") at rate per second (0 < rate <= RATELIMIT_RATE_MAX) with burst (>= 1,
 * burst / rate <= RATELIMIT_WINDOW_MAX). -EINVAL for a bad key, rate or burst. */
int ratelimit_take(RateLimiter *l, const char *key, double rate, uint32_t burst, RateDecision *ret);

/* Add amount (finite, >= 0) to the counter of key for the current UTC day, unless the sum would
 * exceed ceiling (finite, >= 0; 0 = no ceiling; a sum exactly at the ceiling is allowed):
 * then nothing is added and *ret_allowed is false.
 * *ret_total: the counter after the call; *ret_reset_usec: until the day ends (UTC).
 * Counters expire a day after their day ends. */
int ratelimit_count_add(RateLimiter *l, const char *key, double amount, double ceiling, bool *ret_allowed,
        double *ret_total, uint64_t *ret_reset_usec);
/* The counter of key for the current UTC day (0 when none). */
int ratelimit_count_get(RateLimiter *l, const char *key, double *ret_total);

/* Accuracy, for benchmarks: take requests of key as fast as one thread can for
 * duration_usec (> 0) at rate and burst. */
typedef struct RateAccuracy {
        uint64_t requests, admitted;
        double elapsed_sec; /* from before the first request to after the last */
        double allowed; /* what GCRA admits in that time at most: burst + rate × elapsed */
} RateAccuracy;
int ratelimit_accuracy(RateLimiter *l, const char *key, double rate, uint32_t burst, uint64_t duration_usec,
        RateAccuracy *ret);
