/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "queue/queue.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"
#define T3 "33333333-3333-4333-8333-333333333333"

static void *consumer(void *arg) {
        char tok[SUBMISSION_TOKEN_LEN + 1];
        return (void *) (long) queue_pop(arg, tok);
}

int main(void) {
        Queue *q = NULL;
        char tok[SUBMISSION_TOKEN_LEN + 1];
        ASSERT_EQ(queue_new(0, &q), -EINVAL);
        ASSERT_EQ(queue_new(2, &q), 0);
        ASSERT_EQ(queue_max(q), 2u);
        ASSERT_TRUE(queue_has_room(q, 2));
        ASSERT_TRUE(!queue_has_room(q, 3));
        ASSERT_EQ(queue_push(q, "short", false), -EINVAL);
        ASSERT_EQ(queue_push(q, T1, false), 0);
        ASSERT_EQ(queue_push(q, T2, false), 0);
        ASSERT_EQ(queue_push(q, T3, false), -EAGAIN); /* full */
        ASSERT_EQ(queue_push(q, T3, true), 0); /* forced: never dropped */
        ASSERT_EQ(queue_length(q), 3u);
        ASSERT_EQ(queue_pop(q, tok), 0);
        ASSERT_TRUE(strcmp(tok, T1) == 0); /* first in, first out */
        ASSERT_EQ(queue_pop(q, tok), 0);
        ASSERT_TRUE(strcmp(tok, T2) == 0);
        ASSERT_EQ(queue_pop(q, tok), 0);
        ASSERT_TRUE(strcmp(tok, T3) == 0);
        ASSERT_EQ(queue_length(q), 0u);

        /* Growth past the initial ring, order kept. */
        Queue *big = NULL;
        ASSERT_EQ(queue_new(1000, &big), 0);
        for (int i = 0; i < 200; i++)
                ASSERT_EQ(queue_push(big, i % 2 ? T1 : T2, false), 0);
        for (int i = 0; i < 200; i++) {
                ASSERT_EQ(queue_pop(big, tok), 0);
                ASSERT_TRUE(strcmp(tok, i % 2 ? T1 : T2) == 0);
        }
        queue_free(big);

        /* A waiting consumer is woken by close. */
        pthread_t th;
        ASSERT_EQ(pthread_create(&th, NULL, consumer, q), 0);
        queue_close(q);
        void *ret;
        ASSERT_EQ(pthread_join(th, &ret), 0);
        ASSERT_EQ((long) ret, -ESHUTDOWN);
        ASSERT_EQ(queue_push(q, T1, true), -ESHUTDOWN);
        queue_free(q);
        return 0;
}
