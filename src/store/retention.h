/* SPDX-License-Identifier: MIT */
#pragma once

/* The background purger of `coderunner serve`: a thread that applies a StoreRetention
 * every interval, in steps of store_purge() so that requests sharing the Store interleave
 * with it (each step holds the Store's mutex for one bounded transaction). */

#include <stdint.h>

#include "store/store.h"

typedef struct Retention Retention;

/* Rows purged by one store_purge() step. */
#define RETENTION_STEP_ROWS 100

typedef struct RetentionStats {
        uint64_t runs; /* passes over the policy completed */
        uint64_t purged; /* submissions purged since the start */
        uint64_t freed_bytes; /* their inputs and outputs */
        int last_error; /* 0, or the -errno of the last pass that failed */
} RetentionStats;

/* Start the thread: a first pass at once, then one every interval_usec (> 0). store and
 * policy stay the caller's; store must outlive retention_stop(). A failing pass is logged
 * and retried at the next interval.
 * Errors: -EINVAL (interval 0, a policy that purges nothing), -ENOMEM, -EAGAIN (no thread).
 * On success *ret is the caller's: retention_stop(). */
int retention_start(Store *store, const StoreRetention *policy, uint64_t interval_usec, Retention **ret);

/* Wake the thread for a pass now (tests, and a store that reports ENOSPC). */
void retention_kick(Retention *r);

/* A snapshot of the counters. */
void retention_stats(Retention *r, RetentionStats *ret);

/* Stop the thread (a step in progress completes) and free everything. Accepts NULL;
 * returns NULL. */
Retention *retention_stop(Retention *r);
