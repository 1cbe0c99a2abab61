/* SPDX-License-Identifier: MIT */
/* The client side of the supervisor protocol against a real supervisor: a connection the
 * supervisor closed while idle is made again transparently, and a connection that finds
 * every slot taken gets -EBUSY at once and succeeds once a slot is free; a run's streams
 * and its control fd are live: the program reads its stdin as it comes, and a control
 * byte ends it. (Runs real
 * sandboxes: as root, or rootless where user namespaces are allowed; skipped otherwise.) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* A service connects as root, then becomes its unprivileged user (client_uid): its
 * connection closed while idle, it must be able to connect again to the supervisor's
 * private socket, and be served. */
static void test_client_uid_reconnects(void) {
        if (geteuid() != 0)
                return;
        const uid_t user = 65534;
        BoxSupervisor *sup = NULL;
        ASSERT_EQ(box_supervisor_start(&(BoxSupervisorConfig){.slots = 1,
                                               .client_uid = user,
                                               .idle_timeout_usec = 200 * USEC_PER_MSEC,
                                               .read_timeout_usec = 200 * USEC_PER_MSEC},
                          &sup),
                0);
        pid_t pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                BoxClient *c = NULL;
                ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &c), 0);
                ASSERT_EQ(run_true(c), 0);
                ASSERT_EQ(setgroups(0, NULL), 0);
                ASSERT_EQ(setresgid(user, user, user), 0);
                ASSERT_EQ(setresuid(user, user, user), 0);
                run_until_served(c, "the service after it dropped root"); /* connects again */
                BoxClient *d = NULL;
                ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &d), 0);
                box_client_free(d);
                box_client_free(c);
                _exit(0);
        }
        int status;
        ASSERT_EQ(waitpid(pid, &status, 0), pid);
        ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        box_supervisor_free(sup);
}

typedef struct LiveRun {
        BoxClient *c;
        BoxSpec spec;
        BoxResult res;
        int r;
} LiveRun;

static void *live_run(void *arg) {
        LiveRun *l = arg;
        l->r = box_client_run(l->c, &l->spec, &l->res);
        return NULL;
}

/* The program answers a line as it comes, then waits for input that never comes: the
 * control byte ends it (SIGKILL, SG, the reason said), long before its wall time. */
static void test_live_streams_and_control(void) {
        BoxSupervisor *sup = start(600 * USEC_PER_SEC);
        int in[2], out[2], ctl[2];
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in), 0);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, out), 0);
        ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
        char *argv[] = {(char *) "/bin/sh", (char *) "-c", (char *) "read a; echo got $a; read b", NULL};
        LiveRun l = {};
        ASSERT_EQ(box_client_connect(box_supervisor_socket(sup), &l.c), 0);
        box_spec_init(&l.spec);
        l.spec.argv = argv;
        l.spec.wall_time_usec = 60 * USEC_PER_SEC;
        l.spec.stdin_fd = in[1];
        l.spec.stdout_fd = out[1];
        l.spec.control_fd = ctl[1];
        pthread_t t;
        ASSERT_EQ(pthread_create(&t, NULL, live_run, &l), 0);
        ASSERT_EQ(write(in[0], "hi\n", 3), 3);
        char buf[64] = "";
        size_t got = 0;
        while (got < 7) { /* "got hi\n" comes while the program runs */
                ssize_t n = read(out[0], buf + got, sizeof buf - 1 - got);
                ASSERT_TRUE(n > 0);
                got += (size_t) n;
        }
        ASSERT_TRUE(strcmp(buf, "got hi\n") == 0);
        uint64_t t0 = now_usec(CLOCK_MONOTONIC);
        ASSERT_EQ(write(ctl[0], "\x0f", 1), 1); /* signal 15 */
        ASSERT_EQ(pthread_join(t, NULL), 0);
        ASSERT_EQ(l.r, 0);
        ASSERT_EQ(l.res.status, BOX_STATUS_SG);
        ASSERT_EQ(l.res.signal, 9);
        ASSERT_TRUE(strstr(l.res.message, "killed on request (signal 15)") != NULL);
        ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) - t0 < 30 * USEC_PER_SEC);
        for (int i = 0; i < 2; i++) {
                close(in[i]);
                close(out[i]);
                close(ctl[i]);
        }
        box_client_free(l.c);
        box_supervisor_free(sup);
}

int main(void) {
        test_live_streams_and_control();
        test_busy();
        test_idle_reconnect();
        test_client_uid_reconnects();
        return 0;
}
