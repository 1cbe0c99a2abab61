/* SPDX-License-Identifier: MIT */
/* The live registry's Redis backend: an API node's registry and a worker's, meeting only in
 * a Redis of the test's own, carry stdin, signals, output and events both ways in order;
 * a program that does not read its stdin pushes back (nothing lost, Redis holds a bounded
 * amount); a session that ends first has its run refused or killed; a worker that goes
 * away ends the session, and so does a Redis that goes away; and nothing is left in Redis
 * afterwards. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/time-util.h"
#include "live/live-redis.h"
#include "redis-server.h"
#include "redis/redis.h"
#include "tests.h"

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"
#define T3 "33333333-3333-4333-8333-333333333333"
#define T4 "44444444-4444-4444-8444-444444444444"
#define T5 "55555555-5555-4555-8555-555555555555"
#define T6 "66666666-6666-4666-8666-666666666666"
#define T7 "77777777-7777-4777-8777-777777777777"
#define DEADLINE_USEC (30 * USEC_PER_SEC) /* a bound on a loaded machine, not a timing */

/* Read exactly len bytes from fd within the deadline. */
static void read_exactly(int fd, void *buf, size_t len) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        size_t got = 0;
        while (got < len) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < until);
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ASSERT_TRUE(poll(&p, 1, 100) >= 0);
                if (!p.revents)
                        continue;
                ssize_t n = recv(fd, (char *) buf + got, len - got, MSG_DONTWAIT);
                ASSERT_TRUE(n > 0 || (n < 0 && errno == EAGAIN));
                if (n > 0)
                        got += (size_t) n;
        }
}

static LiveEvent read_event(int fd) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        for (;;) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < until);
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ASSERT_TRUE(poll(&p, 1, 100) >= 0);
                LiveEvent e;
                int r = live_event_recv(fd, &e);
                if (r == 0)
                        return e;
                ASSERT_EQ(r, -EAGAIN);
        }
}

/* fd reaches its end (the other side closed) within the deadline. */
static void wait_eof(int fd) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        for (;;) {
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < until);
                struct pollfd p = {.fd = fd, .events = POLLIN};
                ASSERT_TRUE(poll(&p, 1, 100) >= 0);
                char c[4096];
                ssize_t n = recv(fd, c, sizeof c, MSG_DONTWAIT);
                if (n == 0 || (n < 0 && errno != EAGAIN))
                        return;
        }
}

/* How many keys matching pattern Redis holds. */
static long long count_keys(Redis *r, const char *pattern) {
        RedisReply *reply = NULL;
        ASSERT_EQ(redis_call(r, &reply, "KEYS", pattern, NULL), 0);
        long long n = (long long) reply->n;
        redis_reply_free(reply);
        return n;
}

/* Wait until Redis holds n keys matching pattern. */
static void wait_keys_of(Redis *r, const char *pattern, long long n) {
        uint64_t until = now_usec(CLOCK_MONOTONIC) + DEADLINE_USEC;
        while (count_keys(r, pattern) != n) {
                if (now_usec(CLOCK_MONOTONIC) >= until) {
                        RedisReply *reply = NULL;
                        ASSERT_EQ(redis_call(r, &reply, "KEYS", pattern, NULL), 0);
                        for (size_t i = 0; i < reply->n; i++)
                                fprintf(stderr, "left in redis: %s\n", reply->elements[i].str);
                        redis_reply_free(reply);
                        abort();
                }
                poll(NULL, 0, 20);
        }
}

static void wait_keys(Redis *r, long long n) {
        wait_keys_of(r, "t:live:*", n);
}

static void register_one(LiveRegistry *api_reg, const char *token, LiveChannel *ret_api) {
        LiveChannel worker;
        ASSERT_EQ(live_channel_new(ret_api, &worker), 0);
        ASSERT_EQ(live_register(api_reg, token, &worker), 0);
        ASSERT_TRUE(worker.stdin_fd < 0); /* taken over */
}

/* A whole session: stdin and a signal down, output and events up, in order. */
static void test_session(LiveRegistry *api_reg, LiveRegistry *worker_reg, Redis *r) {
        LiveChannel api, run;
        register_one(api_reg, T1, &api);
        LiveChannel again;
        ASSERT_EQ(live_channel_new(&run, &again), 0);
        live_channel_close(&run);
        ASSERT_EQ(live_register(api_reg, T1, &again), -EEXIST);
        /* What the client types before the worker claims the run waits for it. */
        ASSERT_EQ(write(api.stdin_fd, "early\n", 6), 6);
        ASSERT_EQ(live_take(worker_reg, T1, &run), 0);
        ASSERT_EQ(live_take(worker_reg, T1, &again), -ECANCELED); /* taken once */
        char b[64] = "";
        read_exactly(run.stdin_fd, b, 6);
        ASSERT_TRUE(memcmp(b, "early\n", 6) == 0);
        /* Line by line, each answered before the next. */
        for (int i = 0; i < 20; i++) {
                char line[16], echo[16];
                int n = snprintf(line, sizeof line, "line %d\n", i);
                ASSERT_EQ(write(api.stdin_fd, line, (size_t) n), n);
                read_exactly(run.stdin_fd, b, (size_t) n);
                ASSERT_TRUE(memcmp(b, line, (size_t) n) == 0);
                ASSERT_EQ(write(run.stdout_fd, b, (size_t) n), n);
                read_exactly(api.stdout_fd, echo, (size_t) n);
                ASSERT_TRUE(memcmp(echo, line, (size_t) n) == 0);
        }
        uint8_t sig = SIGTERM;
        ASSERT_EQ(write(api.control_fd, &sig, 1), 1);
        uint8_t got = 0;
        read_exactly(run.control_fd, &got, 1);
        ASSERT_EQ(got, SIGTERM);
        /* Output then its event: the event comes after all of it. */
        ASSERT_EQ(write(run.stderr_fd, "oops", 4), 4);
        LiveEvent e = {.kind = LIVE_EXIT, .run = 1, .exit_code = -1, .signal = SIGTERM};
        memcpy(e.status, "SG", 3);
        ASSERT_EQ(live_event_send(run.events_fd, &e), 0);
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
        LiveEvent ev = read_event(api.events_fd);
        char err[4];
        ASSERT_EQ(recv(api.stderr_fd, err, sizeof err, MSG_DONTWAIT), 4); /* there before the event */
        ASSERT_TRUE(memcmp(err, "oops", 4) == 0);
        ASSERT_TRUE(ev.kind == LIVE_EXIT && ev.signal == SIGTERM && strcmp(ev.status, "SG") == 0);
        ASSERT_EQ(read_event(api.events_fd).kind, (uint32_t) LIVE_DONE);
        live_drop(api_reg, T1);
        live_channel_close(&api);
        wait_keys(r, 0); /* a run that ended leaves nothing */
}

/* Write to `to` until it refuses more for a second (nobody reads the other end of the
 * bridge); then Redis holds at most about a window of `stream`, and once `from` is read
 * everything arrives, in order. */
static void fill_then_read(int to, int from, Redis *r, const char *stream) {
        static uint8_t chunk[4096];
        size_t sent = 0;
        uint64_t quiet_since = now_usec(CLOCK_MONOTONIC);
        while (now_usec(CLOCK_MONOTONIC) - quiet_since < USEC_PER_SEC) {
                for (size_t i = 0; i < sizeof chunk; i++)
                        chunk[i] = (uint8_t) ((sent + i) % 251);
                ssize_t n = send(to, chunk, sizeof chunk, MSG_DONTWAIT);
                if (n > 0) {
                        sent += (size_t) n;
                        quiet_since = now_usec(CLOCK_MONOTONIC);
                } else
                        poll(NULL, 0, 10);
                ASSERT_TRUE(sent < 64u * 1024 * 1024); /* no bound: the test fails */
        }
        RedisReply *reply = NULL;
        ASSERT_EQ(redis_call(r, &reply, "MEMORY", "USAGE", stream, "SAMPLES", "0", NULL), 0);
        long long bytes = reply->type == REDIS_TYPE_INTEGER ? reply->integer : 0;
        redis_reply_free(reply);
        ASSERT_TRUE(bytes < 4 * (long long) LIVE_REDIS_WINDOW);
        static uint8_t in[1 << 16];
        for (size_t got = 0; got < sent;) {
                size_t n = sent - got < sizeof in ? sent - got : sizeof in;
                read_exactly(from, in, n);
                for (size_t i = 0; i < n; i++)
                        ASSERT_EQ(in[i], (uint8_t) ((got + i) % 251));
                got += n;
        }
}

/* A program that does not read its stdin: the client's input backs up to its own socket;
 * a client that does not read: the program's output backs up to the program. */
static void test_backpressure(LiveRegistry *api_reg, LiveRegistry *worker_reg, Redis *r) {
        LiveChannel api, run;
        register_one(api_reg, T2, &api);
        ASSERT_EQ(live_take(worker_reg, T2, &run), 0);
        fill_then_read(api.stdin_fd, run.stdin_fd, r, "t:live:" T2 ":down");
        fill_then_read(run.stdout_fd, api.stdout_fd, r, "t:live:" T2 ":up");
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
        ASSERT_EQ(read_event(api.events_fd).kind, (uint32_t) LIVE_DONE);
        live_drop(api_reg, T2);
        live_channel_close(&api);
        wait_keys(r, 0);
}

/* Sessions that end first, sides that go away. */
static void test_ends(LiveRegistry *api_reg, LiveRegistry *worker_reg, Redis *r) {
        LiveChannel api, run;
        ASSERT_EQ(live_take(worker_reg, T3, &run), -ENOENT); /* never registered */
        /* Dropped before a worker claimed it: the run is refused, the mark expires. */
        register_one(api_reg, T3, &api);
        live_drop(api_reg, T3);
        live_channel_close(&api);
        RedisReply *reply = NULL;
        ASSERT_EQ(redis_call(r, &reply, "PTTL", "t:live:" T3, NULL), 0);
        ASSERT_TRUE(reply->type == REDIS_TYPE_INTEGER && reply->integer > 0); /* never for ever */
        redis_reply_free(reply);
        ASSERT_EQ(live_take(worker_reg, T3, &run), -ECANCELED);
        wait_keys(r, 0); /* refused once: then forgotten */
        /* Forgotten (never queued): as if never registered. */
        register_one(api_reg, T3, &api);
        live_forget(api_reg, T3);
        wait_eof(api.events_fd);
        live_channel_close(&api);
        wait_keys(r, 0);
        ASSERT_EQ(live_take(worker_reg, T3, &run), -ENOENT);
        /* The session ends mid-run: the run is killed even without the client's signal. */
        register_one(api_reg, T4, &api);
        ASSERT_EQ(live_take(worker_reg, T4, &run), 0);
        live_drop(api_reg, T4);
        live_channel_close(&api);
        uint8_t sig = 0;
        read_exactly(run.control_fd, &sig, 1);
        ASSERT_EQ(sig, SIGKILL);
        wait_eof(run.stdin_fd);
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
        /* Its worker goes away (its heartbeat ends): the session sees the run end. */
        register_one(api_reg, T5, &api);
        ASSERT_EQ(live_take(worker_reg, T5, &run), 0);
        ASSERT_EQ(redis_call(r, NULL, "DEL", "t:live:" T5 ":w", NULL), 0);
        wait_eof(api.events_fd);
        live_channel_close(&api);
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
}

/* The session ends while the client read nothing (the output's window is full): the run
 * is killed, and its end is still seen (what it wrote meanwhile is dropped), so that its
 * bridge ends and leaves nothing. */
static void test_killed_with_full_window(LiveRegistry *api_reg, LiveRegistry *worker_reg, Redis *r) {
        LiveChannel api, run;
        register_one(api_reg, T7, &api);
        ASSERT_EQ(live_take(worker_reg, T7, &run), 0);
        static uint8_t chunk[4096];
        uint64_t quiet_since = now_usec(CLOCK_MONOTONIC);
        while (now_usec(CLOCK_MONOTONIC) - quiet_since < USEC_PER_SEC)
                if (send(run.stdout_fd, chunk, sizeof chunk, MSG_DONTWAIT) > 0)
                        quiet_since = now_usec(CLOCK_MONOTONIC);
                else
                        poll(NULL, 0, 10);
        live_drop(api_reg, T7);
        live_channel_close(&api);
        uint8_t sig = 0;
        read_exactly(run.control_fd, &sig, 1);
        ASSERT_EQ(sig, SIGKILL);
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
        wait_keys_of(r, "t:live:" T7 "*", 0);
}

/* Redis goes away mid-run and stays away: both sides give up (the run is killed, the
 * session sees its end). */
static void test_redis_gone(LiveRegistry *api_reg, LiveRegistry *worker_reg, RedisServer *server) {
        LiveChannel api, run;
        register_one(api_reg, T6, &api);
        ASSERT_EQ(live_take(worker_reg, T6, &run), 0);
        redis_server_kill(server);
        uint8_t sig = 0;
        read_exactly(run.control_fd, &sig, 1);
        ASSERT_EQ(sig, SIGKILL);
        wait_eof(api.events_fd);
        live_channel_close(&api);
        ASSERT_EQ(live_event_send(run.events_fd, &(LiveEvent){.kind = LIVE_DONE, .run = 1}), 0);
        live_channel_close(&run);
        redis_server_start(server); /* on its port again, empty */
}

int main(void) {
        if (!redis_server_installed()) {
                fprintf(stderr, "live-redis: skipped (no redis-server installed)\n");
                return 0;
        }
        signal(SIGPIPE, SIG_IGN);
        RedisServer server = {};
        redis_server_start(&server);
        char url[96], err[REDIS_ERROR_MAX];
        snprintf(url, sizeof url, "redis://127.0.0.1:%d?stream=t", server.port);
        LiveRegistry *api_reg = NULL, *worker_reg = NULL;
        ASSERT_EQ(live_registry_redis_new("redis://127.0.0.1:1", err, &api_reg), -ECONNREFUSED);
        ASSERT_EQ(live_registry_redis_new("redis://127.0.0.1:1?queue=x", err, &api_reg), -EINVAL);
        ASSERT_EQ(live_registry_redis_new(url, err, &api_reg), 0);
        ASSERT_EQ(live_registry_redis_new(url, err, &worker_reg), 0);
        Redis *r = NULL;
        ASSERT_EQ(redis_open(
                          url, &(RedisOption){.key = "stream", .value = (char[8]){}, .size = 8}, 1, err, &r),
                0);
        test_session(api_reg, worker_reg, r);
        test_backpressure(api_reg, worker_reg, r);
        test_ends(api_reg, worker_reg, r);
        test_killed_with_full_window(api_reg, worker_reg, r);
        test_redis_gone(api_reg, worker_reg, &server);
        live_registry_free(api_reg);
        live_registry_free(worker_reg);
        /* A side that went away may leave a record behind: never without an expiry. */
        RedisReply *keys = NULL;
        ASSERT_EQ(redis_call(r, &keys, "KEYS", "t:live:*", NULL), 0);
        for (size_t i = 0; i < keys->n; i++) {
                RedisReply *ttl = NULL;
                ASSERT_EQ(redis_call(r, &ttl, "PTTL", keys->elements[i].str, NULL), 0);
                ASSERT_TRUE(ttl->type == REDIS_TYPE_INTEGER && ttl->integer > 0);
                redis_reply_free(ttl);
        }
        redis_reply_free(keys);
        redis_free(r);
        redis_server_stop(&server);
        return 0;
}
