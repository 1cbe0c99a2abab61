/* SPDX-License-Identifier: MIT */
/* The client side of the supervisor protocol against a real supervisor: a connection the
 * supervisor closed while idle is made again transparently, and a connection that finds
 * every slot taken gets -EBUSY at once and succeeds once a slot is free. (Runs real
 * sandboxes: as root, or rootless where user namespaces are allowed; skipped otherwise.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time-util.h"
#include "sandbox/box.h"
#include "tests.h"

static int run_true(BoxClient *c) {
        char *argv[] = {(char *) "/bin/true", NULL};
        BoxSpec spec;
        box_spec_init(&spec);
        spec.argv = argv;
        spec.wall_time_usec = 5 * USEC_PER_SEC;
        BoxResult res;
        int r = box_client_run(c, &spec, &res);
        if (r == 0)
                ASSERT_EQ(res.status, BOX_STATUS_OK);
        return r;
}

/* Run until it is not busy, within a deadline; the answer must then be a result. */
static void run_until_served(BoxClient *c, const char *who) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 20 * USEC_PER_SEC;
        int r;
        while ((r = run_true(c)) == -EBUSY && now_usec(CLOCK_MONOTONIC) < deadline)
                ;
        if (r != 0)
                fprintf(stderr, "%s: %s\n", who, strerror(-r));
        ASSERT_EQ(r, 0);
}

static BoxSupervisor *start(uint64_t idle_timeout_usec) {
        BoxSupervisor *sup = NULL;
        int r = box_supervisor_start(&(BoxSupervisorConfig){.slots = 1,
                                             .client_uid = (uid_t) -1,
                                             .idle_timeout_usec = idle_timeout_usec,
                                             .read_timeout_usec = 200 * USEC_PER_MSEC},
                &sup);
        if (r < 0) {
                fprintf(stderr, "no sandbox here (%s): skipped\n", strerror(-r));
                exit(77);
        }
        return sup;
}

/* One slot, held by a: b is answered busy at once, and served once a lets go. */
static void test_busy(void) {
        BoxSupervisor *sup = start(600 * USEC_PER_SEC);
        BoxClient *a = NULL, *b = NULL;
        ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &a), 0);
        ASSERT_EQ(run_true(a), 0);
        ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &b), 0);
        ASSERT_EQ(run_true(b), -EBUSY);
        ASSERT_EQ(run_true(b), -EBUSY); /* connected again, still busy */
        box_client_free(a);
        run_until_served(b, "b");
        box_client_free(b);
        box_supervisor_free(sup);
}

/* One slot, idle connections dropped after 200 ms: b is served only once a's connection
 * was dropped, and a's next run connects again by itself. */
static void test_idle_reconnect(void) {
        BoxSupervisor *sup = start(200 * USEC_PER_MSEC);
        BoxClient *a = NULL, *b = NULL;
        ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &a), 0);
        ASSERT_EQ(run_true(a), 0);
        ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &b), 0);
        run_until_served(b, "b");
        run_until_served(a, "a");
        ASSERT_EQ(run_true(a), 0);
        box_client_free(a);
        box_client_free(b);
        box_supervisor_free(sup);
}

int main(void) {
        test_busy();
        test_idle_reconnect();
        return 0;
}
