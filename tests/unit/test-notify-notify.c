/* SPDX-License-Identifier: MIT */
/* The notifier's contract on the in-process backend (the Redis backend's runs in the
 * cluster's tests, against a real redis-server). */
#include <errno.h>
#include <string.h>

#include "notify/notify.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"

typedef struct Seen {
        char token[SUBMISSION_TOKEN_LEN + 1];
        int status_id;
        unsigned calls;
} Seen;

static void on_done(void *userdata, const char *token, int status_id) {
        Seen *s = userdata;
        memcpy(s->token, token, sizeof s->token);
        s->status_id = status_id;
        s->calls++;
}

int main(void) {
        Notify *n = NULL;
        char err[NOTIFY_ERROR_MAX];
        ASSERT_EQ(notify_open("memory:x", err, &n), -EINVAL);
        ASSERT_EQ(notify_open("amqp://x", err, &n), -EINVAL);
        ASSERT_TRUE(strstr(err, "amqp://x") != NULL);
        ASSERT_EQ(notify_open("memory:", err, &n), 0);
        ASSERT_TRUE(strcmp(notify_backend(n), "memory") == 0);
        ASSERT_EQ(notify_ping(n), 0);
        ASSERT_EQ(notify_publish(n, T1, 3), 0); /* nobody listens: fine */
        Seen a = {}, b = {};
        ASSERT_EQ(notify_subscribe(n, NULL, NULL), -EINVAL);
        ASSERT_EQ(notify_subscribe(n, on_done, &a), 0);
        ASSERT_EQ(notify_subscribe(n, on_done, &b), 0);
        ASSERT_EQ(notify_publish(n, "short", 3), -EINVAL);
        ASSERT_EQ(notify_publish(n, T1, 4), 0);
        ASSERT_EQ(a.calls, 1u);
        ASSERT_EQ(b.calls, 1u);
        ASSERT_TRUE(strcmp(a.token, T1) == 0);
        ASSERT_EQ(a.status_id, 4);
        for (unsigned i = 2; i < NOTIFY_MAX_SUBSCRIBERS; i++)
                ASSERT_EQ(notify_subscribe(n, on_done, &b), 0);
        ASSERT_EQ(notify_subscribe(n, on_done, &b), -ENOSPC);
        notify_free(n);
        return 0;
}
