/* SPDX-License-Identifier: MIT */
/* The background purger: one thread, a condition variable to sleep on (woken early by
 * retention_kick() and retention_stop()), store_purge() in steps until a step purges
 * less than a full batch. */

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/time-util.h"
#include "store/retention.h"

struct Retention {
        Store *store;
        StoreRetention policy;
        uint64_t interval_usec;
        pthread_t thread;
        pthread_mutex_t lock;
        pthread_cond_t wake; /* on CLOCK_MONOTONIC */
        bool stop, kicked; /* under lock */
        RetentionStats stats; /* under lock */
};

static bool stopping(Retention *r) {
        pthread_mutex_lock(&r->lock);
        bool s = r->stop;
        pthread_mutex_unlock(&r->lock);
        return s;
}

/* One pass: steps until the policy keeps everything that is left. */
static int pass(Retention *r, uint64_t *ret_purged, uint64_t *ret_freed) {
        uint64_t purged = 0, freed = 0;
        for (;;) {
                uint64_t n, bytes;
                int e = store_purge(r->store, &r->policy, RETENTION_STEP_ROWS, &n, &bytes);
                if (e < 0)
                        return e;
                purged += n;
                freed += bytes;
                pthread_mutex_lock(&r->lock);
                r->stats.purged += n;
                r->stats.freed_bytes += bytes;
                pthread_mutex_unlock(&r->lock);
                if (n < RETENTION_STEP_ROWS || stopping(r))
                        break;
        }
        *ret_purged = purged;
        *ret_freed = freed;
        return 0;
}

static void *retention_thread(void *arg) {
        Retention *r = arg;

        for (;;) {
                uint64_t purged = 0, freed = 0;
                int e = pass(r, &purged, &freed);
                if (e < 0)
                        log_warning(e, "retention: cannot purge: %s (retried in %llu s)", strerror(-e),
                                (unsigned long long) (r->interval_usec / USEC_PER_SEC));
                else if (purged > 0)
                        log_info("retention: purged=%llu freed_bytes=%llu", (unsigned long long) purged,
                                (unsigned long long) freed);

                pthread_mutex_lock(&r->lock);
                r->stats.runs++;
                r->stats.last_error = e < 0 ? e : 0;
                uint64_t deadline = now_usec(CLOCK_MONOTONIC) + r->interval_usec;
                struct timespec ts = {.tv_sec = (time_t) (deadline / USEC_PER_SEC),
                        .tv_nsec = (long) (deadline % USEC_PER_SEC) * 1000};
                while (!r->stop && !r->kicked)
                        if (pthread_cond_timedwait(&r->wake, &r->lock, &ts) == ETIMEDOUT)
                                break;
                r->kicked = false;
                bool stop = r->stop;
                pthread_mutex_unlock(&r->lock);
                if (stop)
                        return NULL;
        }
}

int retention_start(Store *store, const StoreRetention *policy, uint64_t interval_usec, Retention **ret) {
        pthread_condattr_t attr;
        int e;

        if (!store || !policy || interval_usec == 0 || (policy->max_age_usec == 0 && policy->max_bytes == 0))
                return -EINVAL;
        Retention *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        *r = (Retention){.store = store, .policy = *policy, .interval_usec = interval_usec};
        pthread_mutex_init(&r->lock, NULL);
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&r->wake, &attr);
        pthread_condattr_destroy(&attr);
        e = pthread_create(&r->thread, NULL, retention_thread, r);
        if (e != 0) {
                pthread_cond_destroy(&r->wake);
                pthread_mutex_destroy(&r->lock);
                free(r);
                return -e;
        }
        *ret = r;
        return 0;
}

void retention_kick(Retention *r) {
        if (!r)
                return;
        pthread_mutex_lock(&r->lock);
        r->kicked = true;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
}

void retention_stats(Retention *r, RetentionStats *ret) {
        pthread_mutex_lock(&r->lock);
        *ret = r->stats;
        pthread_mutex_unlock(&r->lock);
}

Retention *retention_stop(Retention *r) {
        if (!r)
                return NULL;
        pthread_mutex_lock(&r->lock);
        r->stop = true;
        pthread_cond_signal(&r->wake);
        pthread_mutex_unlock(&r->lock);
        pthread_join(r->thread, NULL);
        pthread_cond_destroy(&r->wake);
        pthread_mutex_destroy(&r->lock);
        free(r);
        return NULL;
}
