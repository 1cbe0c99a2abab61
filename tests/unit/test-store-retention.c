/* SPDX-License-Identifier: MIT */
/* The background purger: it purges what the policy no longer keeps, in steps, woken by
 * retention_kick(), and stops promptly however long its interval. */

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "base/time-util.h"
#include "store/retention.h"
#include "tests.h"

enum { N = 2 * RETENTION_STEP_ROWS + 7 };

static void create_finished(Store *s, size_t i) {
        _cleanup_(submission_done) Submission sub = {};
        submission_init(&sub);
        ASSERT_EQ(submission_new_token(sub.token), 0);
        char src[64];
        snprintf(src, sizeof src, "print(%zu)\n", i);
        sub.source_code = (Bytes){.data = strdup(src), .len = strlen(src)};
        ASSERT_TRUE(sub.source_code.data);
        sub.language_id = 71;
        ASSERT_EQ(store_create(s, &sub), 0);
        Submission res;
        submission_init(&res);
        memcpy(res.token, sub.token, sizeof res.token);
        res.status_id = 3;
        ASSERT_EQ(store_finish(s, &res), 0);
        submission_done(&res);
}

/* Wait (with a deadline) until the purger has purged at least n. */
static void wait_purged(Retention *r, uint64_t n) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        RetentionStats st;
        for (;;) {
                retention_stats(r, &st);
                if (st.purged >= n)
                        break;
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                struct timespec ts = {0, 1000000};
                nanosleep(&ts, NULL);
        }
        ASSERT_EQ(st.purged, n);
        ASSERT_EQ(st.last_error, 0);
}

int main(void) {
        char err[STORE_ERROR_MAX];
        Store *s = NULL;
        Retention *r = NULL;
        const StoreRetention off = {}, tiny = {.max_bytes = 1};
        uint64_t live;

        ASSERT_EQ(store_open("sqlite::memory:", err, &s), 0);
        ASSERT_EQ(retention_start(s, &off, USEC_PER_SEC, &r), -EINVAL);
        ASSERT_EQ(retention_start(s, &tiny, 0, &r), -EINVAL);
        ASSERT_EQ(retention_start(NULL, &tiny, USEC_PER_SEC, &r), -EINVAL);
        ASSERT_TRUE(r == NULL);

        /* more than two steps' worth, purged by the first pass */
        for (size_t i = 0; i < N; i++)
                create_finished(s, i);
        const uint64_t hour = 3600 * USEC_PER_SEC;
        ASSERT_EQ(retention_start(s, &tiny, hour, &r), 0);
        wait_purged(r, N);
        ASSERT_EQ(store_live_bytes(s, &live), 0);
        ASSERT_EQ(live, 0u);

        /* a kick runs a pass now, not in an hour */
        create_finished(s, N);
        retention_kick(r);
        wait_purged(r, N + 1);
        RetentionStats st;
        retention_stats(r, &st);
        ASSERT_TRUE(st.runs >= 2);
        ASSERT_TRUE(st.freed_bytes > 0);

        /* stops while sleeping for an hour */
        r = retention_stop(r);
        ASSERT_TRUE(r == NULL);
        ASSERT_TRUE(retention_stop(NULL) == NULL);
        store_close(s);
        return 0;
}
