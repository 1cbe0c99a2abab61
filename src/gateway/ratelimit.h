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

typedef struct RateDecision {
        bool allowed;
        uint32_t limit; /* the burst: RateLimit-Limit */
        uint32_t remaining; /* requests still allowed now: RateLimit-Remaining */
        uint64_t reset_usec; /* until the bucket is full again: RateLimit-Reset */
        uint64_t retry_after_usec; /* when refused: until one request is allowed */
} RateDecision;

/* redis_url NULL or "" = in memory. In memory, at most max_keys keys are tracked (the
 * least recently used go first; a forgotten key starts with a full bucket). *ret:
 * ratelimit_free(). */
int ratelimit_new(const char *redis_url, size_t max_keys, char *errbuf, RateLimiter **ret);
RateLimiter *ratelimit_free(RateLimiter *l);
static inline void ratelimit_freep(RateLimiter **l) {
        ratelimit_free(*l);
}
const char *ratelimit_backend(const RateLimiter *l); /* "memory" or "redis" */

/* One request of key (any bytes up to 200, e.g. "key:k_ab12" or "ip:198.18.0.7")
 * at rate per second (> 0) with burst (>= 1). -EINVAL for a bad rate or burst. */
int ratelimit_take(RateLimiter *l, const char *key, double rate, uint32_t burst, RateDecision *ret);

/* Add amount (>= 0) to the counter of key for the current UTC day, unless the sum would
 * exceed ceiling (0 = no ceiling): then nothing is added and *ret_allowed is false.
 * *ret_total: the counter after the call; *ret_reset_usec: until the day ends (UTC).
 * Counters expire a day after their day ends. */
int ratelimit_count_add(RateLimiter *l, const char *key, double amount, double ceiling, bool *ret_allowed,
        double *ret_total, uint64_t *ret_reset_usec);
/* The counter of key for the current UTC day (0 when none). */
int ratelimit_count_get(RateLimiter *l, const char *key, double *ret_total);
