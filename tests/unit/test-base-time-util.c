/* SPDX-License-Identifier: MIT */
#include <stdint.h>
#include <time.h>

#include "base/time-util.h"
#include "tests.h"

static uint64_t ts_usec(const struct timespec *ts) {
        return (uint64_t) ts->tv_sec * 1000000 + (uint64_t) ts->tv_nsec / 1000;
}

static void test_constants(void) {
        ASSERT_EQ(USEC_PER_SEC, 1000000u);
        ASSERT_EQ(USEC_PER_MSEC, 1000u);
        ASSERT_EQ(NSEC_PER_USEC, 1000u);
        ASSERT_EQ(USEC_PER_SEC / USEC_PER_MSEC, 1000u);
        ASSERT_EQ(USEC_INFINITY, UINT64_MAX);
}

/* now_usec() is clock_gettime() in microseconds: a reading taken between two calls
 * lies between them (on clocks that are never stepped back). */
static void test_matches_clock_gettime(clockid_t clock) {
        struct timespec ts;

        for (int i = 0; i < 1000; i++) {
                uint64_t a = now_usec(clock);
                ASSERT_EQ(clock_gettime(clock, &ts), 0);
                uint64_t b = now_usec(clock);
                ASSERT_TRUE(a > 0);
                ASSERT_TRUE(a <= ts_usec(&ts));
                ASSERT_TRUE(ts_usec(&ts) <= b);
        }
}

static void test_monotonic(void) {
        uint64_t prev = now_usec(CLOCK_MONOTONIC);
        for (int i = 0; i < 10000; i++) {
                uint64_t t = now_usec(CLOCK_MONOTONIC);
                ASSERT_TRUE(t >= prev);
                prev = t;
        }
}

static void test_realtime(void) {
        time_t before = time(NULL);
        uint64_t t = now_usec(CLOCK_REALTIME);
        time_t after = time(NULL);
        /* time() may truncate differently from the vDSO clock: allow a second each side. */
        ASSERT_TRUE(t / USEC_PER_SEC + 1 >= (uint64_t) before);
        ASSERT_TRUE(t / USEC_PER_SEC <= (uint64_t) after + 1);
}

/* Spin (no sleep) until the process CPU clock moves, with a deadline. */
static void test_cpu_clock_advances(void) {
        uint64_t start = now_usec(CLOCK_PROCESS_CPUTIME_ID);
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 5 * USEC_PER_SEC;
        volatile uint64_t sink = 0;

        while (now_usec(CLOCK_PROCESS_CPUTIME_ID) <= start) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
                for (int i = 0; i < 10000; i++)
                        sink = sink + (uint64_t) i;
        }
}

static void test_bad_clock(void) {
        /* Not a clock: 0 rather than garbage. */
        ASSERT_EQ(now_usec((clockid_t) 12345), 0u);
}

int main(void) {
        test_constants();
        test_matches_clock_gettime(CLOCK_MONOTONIC);
        test_matches_clock_gettime(CLOCK_BOOTTIME);
        test_monotonic();
        test_realtime();
        test_cpu_clock_advances();
        test_bad_clock();
        return 0;
}
