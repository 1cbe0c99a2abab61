/* SPDX-License-Identifier: MIT */
/* The live channels of interactive runs: the sockets go where they should, events travel
 * whole and are checked on arrival, and the registry hands a channel out once, refusing a
 * run whose session ended first. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "model/live.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"

static void test_channel(void) {
        LiveChannel api, worker;
        ASSERT_EQ(live_channel_new(&api, &worker), 0);
        /* stdin: API -> worker; stdout: worker -> API. */
        ASSERT_EQ(write(api.stdin_fd, "in", 2), 2);
        char b[8] = "";
        ASSERT_EQ(read(worker.stdin_fd, b, sizeof b), 2);
        ASSERT_EQ(write(worker.stdout_fd, "out", 3), 3);
        ASSERT_EQ(read(api.stdout_fd, b, sizeof b), 3);
        LiveEvent e = {.kind = LIVE_EXIT, .run = 1, .exit_code = 3, .signal = 0};
        memcpy(e.status, "RE", 3);
        memcpy(e.message, "bye", 4);
        ASSERT_EQ(live_event_send(worker.events_fd, &e), 0);
        LiveEvent got;
        ASSERT_EQ(live_event_recv(api.events_fd, &got), 0);
        ASSERT_TRUE(got.kind == LIVE_EXIT && got.run == 1 && got.exit_code == 3 &&
                    strcmp(got.status, "RE") == 0 && strcmp(got.message, "bye") == 0);
        ASSERT_EQ(live_event_recv(api.events_fd, &got), -EAGAIN);
        /* Hostile records: a short one, an unknown kind, an unterminated string. */
        ASSERT_EQ(send(worker.events_fd, "x", 1, 0), 1);
        ASSERT_EQ(live_event_recv(api.events_fd, &got), -EBADMSG);
        e.kind = _LIVE_EVENT_KIND_MAX;
        ASSERT_EQ(live_event_send(worker.events_fd, &e), 0);
        ASSERT_EQ(live_event_recv(api.events_fd, &got), -EBADMSG);
        e.kind = LIVE_DONE;
        memset(e.status, 'x', sizeof e.status);
        ASSERT_EQ(live_event_send(worker.events_fd, &e), 0);
        ASSERT_EQ(live_event_recv(api.events_fd, &got), -EBADMSG);
        /* One side gone: the other hears it, without a SIGPIPE. */
        live_channel_close(&api);
        ASSERT_EQ(live_event_send(worker.events_fd, &e), -EPIPE);
        live_channel_close(&worker);
        ASSERT_TRUE(worker.stdin_fd < 0 && worker.events_fd < 0);
}

static void test_registry(void) {
        LiveRegistry *r = NULL;
        ASSERT_EQ(live_registry_new(&r), 0);
        LiveChannel api, worker, again, taken;
        ASSERT_EQ(live_channel_new(&api, &worker), 0);
        ASSERT_EQ(live_register(r, T1, &worker), 0);
        ASSERT_TRUE(worker.stdin_fd < 0); /* taken over */
        ASSERT_EQ(live_channel_new(&api, &again), 0);
        live_channel_close(&api);
        ASSERT_EQ(live_register(r, T1, &again), -EEXIST);
        ASSERT_TRUE(again.stdin_fd < 0); /* closed */
        ASSERT_EQ(live_register(r, "short", &again), -EINVAL);
        ASSERT_EQ(live_take(r, T1, &taken), 0);
        ASSERT_TRUE(taken.stdin_fd >= 0);
        ASSERT_EQ(live_take(r, T1, &taken), -ENOENT); /* once */
        live_channel_close(&taken);
        /* A session that ended before the worker came: the run is not to happen. */
        ASSERT_EQ(live_channel_new(&api, &worker), 0);
        ASSERT_EQ(live_register(r, T1, &worker), 0);
        live_drop(r, T1);
        live_drop(r, T1);
        ASSERT_EQ(live_take(r, T1, &taken), -ECANCELED);
        ASSERT_EQ(live_take(r, T1, &taken), -ENOENT);
        live_channel_close(&api);
        /* Forgotten (never queued): gone, its worker's ends closed, nothing counted. */
        ASSERT_EQ(live_channel_new(&api, &worker), 0);
        ASSERT_EQ(live_register(r, T1, &worker), 0);
        live_forget(r, T1);
        live_forget(r, T1);
        char c;
        ASSERT_EQ(read(api.stdout_fd, &c, 1), 0);
        ASSERT_EQ(live_take(r, T1, &taken), -ENOENT);
        live_channel_close(&api);
        /* The ceiling. */
        char token[SUBMISSION_TOKEN_LEN + 1];
        for (unsigned i = 0; i <= LIVE_MAX_CHANNELS; i++) {
                snprintf(token, sizeof token, "11111111-1111-4111-8111-%012u", i);
                LiveChannel w = {-1, -1, -1, -1, -1}; /* no fds: the count is what is tested */
                ASSERT_EQ(live_register(r, token, &w), i < LIVE_MAX_CHANNELS ? 0 : -ENOSPC);
        }
        live_registry_free(r); /* closes what is left */
}

int main(void) {
        test_channel();
        test_registry();
        return 0;
}
