/* SPDX-License-Identifier: MIT */
/* Outgoing HTTP against real servers on loopback: the project's own HTTP server, and a raw
 * socket server for what it would never send (keep-alive accounting, a body without a
 * length, too many headers, a reply that is not HTTP). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/time-util.h"
#include "http-test-server.h"
#include "httpc-results.h"
#include "httpc/httpc.h"
#include "tests.h"

/* Submit one request and wait for its completion. */
static void roundtrip(HttpcClient *c, const HttpcRequest *req, Result *res) {
        reset_waiter();
        memset(res, 0, sizeof *res);
        ASSERT_EQ(httpc_submit(c, req, on_done, res), 0);
        wait_finished(1);
        ASSERT_EQ(res->calls, 1u);
}

static size_t thread_count(void) {
        DIR *d = opendir("/proc/self/task");
        ASSERT_TRUE(d);
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static char url_buf[128];
static const char *url(const TestServer *s, const char *path) {
        snprintf(url_buf, sizeof url_buf, "%s%s", s->url, path);
        return url_buf;
}

/* ---- the tests ---- */

static void test_bad_requests(HttpcClient *c, TestServer *s) {
        static const struct {
                const char *method, *url;
        } bad[] = {
                {"get", "http://127.0.0.1:1/"},
                {"", "http://127.0.0.1:1/"},
                {"GET X", "http://127.0.0.1:1/"},
                {"GET", "ftp://127.0.0.1/"},
                {"GET", "file:///etc/passwd"},
                {"GET", "not a url"},
                {"GET", "/relative"},
        };
        Result res = {};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = bad[i].method, .url = bad[i].url},
                                  on_done, &res),
                        -EINVAL);
        HttpcHeader crlf = {"X-Test", "a\r\nX-Injected: 1"}, colon = {"X:Test", "a"};
        ASSERT_EQ(httpc_submit(c,
                          &(HttpcRequest){
                                  .method = "GET", .url = url(s, "/echo"), .headers = &crlf, .n_headers = 1},
                          on_done, &res),
                -EINVAL);
        ASSERT_EQ(
                httpc_submit(c,
                        &(HttpcRequest){
                                .method = "GET", .url = url(s, "/echo"), .headers = &colon, .n_headers = 1},
                        on_done, &res),
                -EINVAL);
        ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/echo")}, NULL, NULL),
                -EINVAL);
        ASSERT_TRUE(!res.called);
}

static void test_methods(HttpcClient *c, TestServer *s) {
        HttpcHeader h[] = {{"X-Test", "hello"}, {"Content-Type", "text/plain"}};
        Result res;
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/echo"), .headers = h, .n_headers = 1},
                &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_TRUE(res.sent);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strcmp(res.body, "1 GET x-test=hello x-internal=- ") == 0);
        ASSERT_EQ(res.body_len, strlen(res.body));
        ASSERT_TRUE(strncmp(res.content_type, "text/plain", 10) == 0);
        ASSERT_TRUE(res.name_lower);

        static const char body[] = "a body\0with a NUL";
        roundtrip(c,
                &(HttpcRequest){.method = "POST",
                        .url = url(s, "/echo"),
                        .headers = h,
                        .n_headers = 2,
                        .body = body,
                        .body_len = 6},
                &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strcmp(res.body, "1 POST x-test=hello x-internal=- a body") == 0);

        /* A body larger than curl's own buffers, and no Expect: 100-continue wait. */
        size_t big = 200 * 1000;
        char *large = malloc(big);
        ASSERT_TRUE(large);
        memset(large, 'b', big);
        roundtrip(c,
                &(HttpcRequest){.method = "PUT", .url = url(s, "/echo"), .body = large, .body_len = big},
                &res);
        free(large);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strncmp(res.body, "1 PUT x-test=- x-internal=- bbbb", 32) == 0);
        ASSERT_EQ(res.body_len, strlen("1 PUT x-test=- x-internal=- ") + big);

        roundtrip(c, &(HttpcRequest){.method = "DELETE", .url = url(s, "/echo")}, &res);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strcmp(res.body, "1 DELETE x-test=- x-internal=- ") == 0);
        roundtrip(c, &(HttpcRequest){.method = "POST", .url = url(s, "/echo")}, &res);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strcmp(res.body, "1 POST x-test=- x-internal=- ") == 0);

        /* Any status is an answer. */
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/status/503")}, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 503u);
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/nowhere")}, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 404u);
}

#define N_CONCURRENT 200

/* Many transfers at once, every completion on the client's one thread. */
static void test_concurrent(TestServer *s) {
        size_t threads_before = thread_count();
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_connections_per_host = 16}, &c), 0);
        ASSERT_EQ(thread_count(), threads_before + 1);
        static Result res[N_CONCURRENT];
        reset_waiter();
        unsigned gets = s->hits_get;
        for (size_t i = 0; i < N_CONCURRENT; i++)
                ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/echo")}, on_done,
                                  &res[i]),
                        0);
        wait_finished(N_CONCURRENT);
        for (size_t i = 0; i < N_CONCURRENT; i++) {
                ASSERT_EQ(res[i].calls, 1u);
                ASSERT_EQ(res[i].error, 0);
                ASSERT_EQ(res[i].status, 200u);
                ASSERT_TRUE(pthread_equal(res[i].thread, res[0].thread));
        }
        ASSERT_TRUE(!pthread_equal(res[0].thread, pthread_self()));
        ASSERT_EQ(s->hits_get - gets, (unsigned) N_CONCURRENT);
        ASSERT_EQ(thread_count(), threads_before + 1);
        httpc_stop(c);
        ASSERT_EQ(thread_count(), threads_before);
}

static size_t holds_target;
static bool holds_reached(void *arg) {
        return test_server_held(arg) >= holds_target;
}

/* Transfers that last do not hold up the others to the same host: no cap on connections in
 * use, only on those kept idle. */
static void test_no_queue_behind_long_ones(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_connections_per_host = 4}, &c), 0);
        static Result holds[80];
        reset_waiter();
        holds_target = test_server_held(s) + 80;
        for (size_t i = 0; i < 80; i++)
                ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/hold")}, on_done,
                                  &holds[i]),
                        0);
        wait_until(holds_reached, s);
        static Result quick;
        ASSERT_EQ(
                httpc_submit(c,
                        &(HttpcRequest){
                                .method = "GET", .url = url(s, "/echo"), .timeout_usec = 20 * USEC_PER_SEC},
                        on_done, &quick),
                0);
        wait_finished(1);
        ASSERT_EQ(quick.calls, 1u);
        ASSERT_EQ(quick.status, 200u);
        test_server_release(s);
        wait_finished(81);
        for (size_t i = 0; i < 80; i++) {
                ASSERT_EQ(holds[i].calls, 1u);
                ASSERT_EQ(holds[i].status, 200u);
        }
        httpc_stop(c);
}

static void test_refused_and_timeout(HttpcClient *c, TestServer *s) {
        Result res;
        char dead[64];
        snprintf(dead, sizeof dead, "http://127.0.0.1:%u/echo", (unsigned) free_loopback_port());
        roundtrip(c, &(HttpcRequest){.method = "POST", .url = dead, .body = "x", .body_len = 1}, &res);
        ASSERT_EQ(res.error, -ECONNREFUSED);
        ASSERT_TRUE(!res.sent);
        ASSERT_EQ(res.status, 0u);

        /* The server takes the request and never answers. */
        unsigned held = s->hits_hold;
        roundtrip(c,
                &(HttpcRequest){
                        .method = "GET", .url = url(s, "/hold"), .timeout_usec = 200 * USEC_PER_MSEC},
                &res);
        ASSERT_EQ(res.error, -ETIMEDOUT);
        ASSERT_TRUE(res.sent);
        ASSERT_EQ(s->hits_hold, held + 1);
}

static void test_body_cap(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_response_body = 1000}, &c), 0);
        Result res;
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/big?n=1000")}, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.body_len, 1000u);
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/big?n=1001")}, &res);
        ASSERT_EQ(res.error, -EMSGSIZE);
        ASSERT_TRUE(res.sent);
        ASSERT_EQ(res.status, 200u);
        ASSERT_EQ(res.body_len, 0u);

        /* Waited for: the status of the answer stays with the error. */
        HttpcResponse r;
        ASSERT_EQ(httpc_wait(c, &(HttpcRequest){.method = "GET", .url = url(s, "/big?n=5000")}, &r), 0);
        ASSERT_EQ(r.error, -EMSGSIZE);
        ASSERT_EQ(r.status, 200u);
        ASSERT_TRUE(!r.body);
        httpc_response_done(&r);
        ASSERT_EQ(httpc_wait(c, &(HttpcRequest){.method = "GET", .url = url(s, "/big?n=10")}, &r), 0);
        ASSERT_EQ(r.error, 0);
        ASSERT_EQ(r.body_len, 10u);
        httpc_response_done(&r);
        httpc_stop(c);
}

/* ---- streamed answers ---- */

/* The server sees a client gone when it writes (as the API's heartbeats do). */
static bool stream_gone(void *arg) {
        return http_stream_closed(arg) || http_stream_send(arg, ":\n", 2, false) < 0;
}

static void stream_submit(HttpcClient *c, TestServer *s, const char *path, StreamCase *sc) {
        reset_waiter();
        memset(sc, 0, sizeof *sc);
        pthread_mutex_init(&sc->st.lock, NULL);
        HttpcRequest req = {.method = "GET",
                .url = url(s, path),
                .timeout_usec = 30 * USEC_PER_SEC,
                .on_data = chunk_of_case,
                .abandoned = abandoned_of_case};
        ASSERT_EQ(httpc_submit(c, &req, on_done, sc), 0);
}

/* A 2xx answer of a streaming request goes to on_data as it comes (the head first, then
 * each chunk before the next is even written), unbounded by max_response_body; the
 * consumer ends it by abandoned() or by refusing a chunk; another status is kept. */
static void test_stream(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_response_body = 4}, &c), 0);
        StreamCase sc;

        stream_submit(c, s, "/stream", &sc);
        HttpStream *hs = test_server_take_stream(s);
        /* (the server sends its head with the first chunk) */
        ASSERT_EQ(http_stream_send(hs, "hello", 5, false), 0);
        wait_until(has_5, &sc);
        ASSERT_EQ(sc.st.heads, 1u);
        ASSERT_EQ(sc.st.status, 200u);
        ASSERT_TRUE(strcmp(sc.st.content_type, "text/event-stream") == 0);
        ASSERT_EQ(http_stream_send(hs, " world", 6, false), 0);
        wait_until(has_11, &sc);
        ASSERT_TRUE(strcmp(sc.st.data, "hello world") == 0);
        ASSERT_TRUE(!sc.res.called); /* still running */
        http_stream_end(hs);
        http_stream_unref(hs);
        wait_finished(1);
        ASSERT_EQ(sc.res.error, 0);
        ASSERT_EQ(sc.res.status, 200u);
        ASSERT_EQ(sc.res.body_len, 0u);

        /* Abandoned while nothing moves: ended within libcurl's progress interval. */
        stream_submit(c, s, "/stream", &sc);
        hs = test_server_take_stream(s);
        ASSERT_EQ(http_stream_send(hs, ":", 1, false), 0);
        wait_until(has_head, &sc);
        atomic_store(&sc.st.abandon, true);
        wait_finished(1);
        ASSERT_EQ(sc.res.error, -ECANCELED);
        wait_until(stream_gone, hs); /* the server sees its client go */
        http_stream_unref(hs);

        /* A chunk refused. */
        stream_submit(c, s, "/stream", &sc);
        sc.st.refuse = true;
        hs = test_server_take_stream(s);
        ASSERT_EQ(http_stream_send(hs, "x", 1, false), 0);
        wait_finished(1);
        ASSERT_EQ(sc.res.error, -ECANCELED);
        ASSERT_EQ(sc.st.len, 1u);
        wait_until(stream_gone, hs);
        http_stream_unref(hs);

        /* Not 2xx: kept whole (and bounded), for done; on_data never sees it. */
        httpc_stop(c);
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        stream_submit(c, s, "/status/503", &sc);
        wait_finished(1);
        ASSERT_EQ(sc.res.error, 0);
        ASSERT_EQ(sc.res.status, 503u);
        ASSERT_TRUE(strstr(sc.res.body, "busy"));
        ASSERT_EQ(sc.st.heads, 0u);
        httpc_stop(c);
}

static HttpcClient *wait_client;
static int wait_from_done;
static void on_done_wait(HttpcResponse *r, void *userdata) {
        HttpcResponse unused;
        wait_from_done = httpc_wait(wait_client, userdata, &unused);
        on_done(r, &(Result){});
}

/* A done function that waits would wait for its own thread. */
static void test_wait_from_done(TestServer *s) {
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &wait_client), 0);
        HttpcRequest req = {.method = "GET", .url = url(s, "/echo")};
        reset_waiter();
        ASSERT_EQ(httpc_submit(wait_client, &req, on_done_wait, &req), 0);
        wait_finished(1);
        ASSERT_EQ(wait_from_done, -EDEADLK);
        wait_client = httpc_stop(wait_client);
}

static atomic_int allowed_calls;
static atomic_int allowed_family;
static atomic_uint allowed_addr;
static atomic_bool allow;

static bool address_allowed(int family, const void *addr) {
        allowed_calls++;
        allowed_family = family;
        if (family == AF_INET)
                allowed_addr = ntohl(((const struct in_addr *) addr)->s_addr);
        return allow;
}

static void test_address_allowed(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.address_allowed = address_allowed}, &c), 0);
        unsigned gets = s->hits_get;
        Result res;
        allow = false;
        char by_name[64];
        snprintf(by_name, sizeof by_name, "http://localhost:%u/echo", (unsigned) s->port);
        for (int i = 0; i < 2; i++) {
                roundtrip(c, &(HttpcRequest){.method = "GET", .url = i ? by_name : url(s, "/echo")}, &res);
                ASSERT_EQ(res.error, -EACCES);
                ASSERT_TRUE(!res.sent);
                ASSERT_EQ(res.status, 0u);
        }
        ASSERT_EQ(s->hits_get, gets);
        ASSERT_TRUE(allowed_calls >= 2);

        allow = true;
        allowed_calls = 0;
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = url(s, "/echo")}, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 200u);
        ASSERT_EQ(allowed_calls, 1);
        ASSERT_EQ(allowed_family, AF_INET);
        ASSERT_EQ(allowed_addr, (unsigned) INADDR_LOOPBACK);
        ASSERT_EQ(s->hits_get, gets + 1);
        httpc_stop(c);
}

static size_t held_target;
static bool held_reached(void *arg) {
        return test_server_held(arg) >= held_target;
}

/* Stopping: transfers without a timeout that would never end are cancelled, one with a
 * timeout ends by it, the others are answered; each completion comes exactly once. */
static void test_stop(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        static Result res[4 + 1 + 20];
        reset_waiter();
        size_t held = test_server_held(s);
        for (size_t i = 0; i < 4; i++)
                ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/hold")}, on_done,
                                  &res[i]),
                        0);
        held_target = held + 4;
        wait_until(held_reached, s);
        ASSERT_EQ(test_server_held(s), held + 4);
        ASSERT_EQ(httpc_submit(c,
                          &(HttpcRequest){.method = "GET",
                                  .url = url(s, "/hold"),
                                  .timeout_usec = 300 * USEC_PER_MSEC},
                          on_done, &res[4]),
                0);
        for (size_t i = 5; i < 25; i++)
                ASSERT_EQ(httpc_submit(c,
                                  &(HttpcRequest){.method = "GET",
                                          .url = url(s, "/echo"),
                                          .timeout_usec = 10 * USEC_PER_SEC},
                                  on_done, &res[i]),
                        0);
        httpc_stop(c);
        ASSERT_EQ(waiter.finished, 25u);
        for (size_t i = 0; i < 4; i++) {
                ASSERT_EQ(res[i].calls, 1u);
                ASSERT_EQ(res[i].error, -ECANCELED);
        }
        ASSERT_EQ(res[4].calls, 1u);
        ASSERT_TRUE(res[4].error == -ETIMEDOUT || res[4].error == -ECANCELED);
        for (size_t i = 5; i < 25; i++) {
                ASSERT_EQ(res[i].calls, 1u);
                ASSERT_TRUE(res[i].error == -ECANCELED || (res[i].error == 0 && res[i].status == 200));
        }
}

static void test_max_pending(TestServer *s) {
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_pending = 2}, &c), 0);
        static Result res[3];
        reset_waiter();
        for (size_t i = 0; i < 2; i++)
                ASSERT_EQ(httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/hold")}, on_done,
                                  &res[i]),
                        0);
        ASSERT_EQ(
                httpc_submit(c, &(HttpcRequest){.method = "GET", .url = url(s, "/hold")}, on_done, &res[2]),
                -EAGAIN);
        httpc_stop(c);
        ASSERT_EQ(waiter.finished, 2u);
        ASSERT_TRUE(!res[2].called);
}

static void test_fetch(TestServer *s) {
        HttpcResponse r = {};
        ASSERT_EQ(
                httpc_fetch(&(HttpcConfig){}, &(HttpcRequest){.method = "GET", .url = url(s, "/echo")}, &r),
                0);
        ASSERT_EQ(r.error, 0);
        ASSERT_EQ(r.status, 200u);
        ASSERT_TRUE(strcmp(r.body, "1 GET x-test=- x-internal=- ") == 0);
        ASSERT_TRUE(httpc_response_header(&r, "content-type"));
        httpc_response_done(&r);
        ASSERT_TRUE(!r.body && !r.headers);

        char dead[64];
        snprintf(dead, sizeof dead, "http://127.0.0.1:%u/", (unsigned) free_loopback_port());
        HttpcResponse untouched = {.status = 999};
        ASSERT_EQ(httpc_fetch(&(HttpcConfig){}, &(HttpcRequest){.method = "GET", .url = dead}, &untouched),
                -ECONNREFUSED);
        ASSERT_EQ(untouched.status, 999u);
        ASSERT_EQ(httpc_fetch(&(HttpcConfig){}, &(HttpcRequest){.method = "GET", .url = "gopher://x/"},
                          &untouched),
                -EINVAL);
}

/* ---- a raw server: one canned reply to every request, connections counted ---- */

typedef struct RawServer {
        int fd;
        int port;
        const char *reply;
        size_t reply_len;
        atomic_uint accepted;
        pthread_t thread;
} RawServer;

static void *raw_thread(void *arg) {
        RawServer *s = arg;
        for (;;) {
                int conn = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);
                if (conn < 0)
                        break;
                s->accepted++;
                char buf[8192];
                size_t len = 0;
                for (;;) {
                        ssize_t n = read(conn, buf + len, sizeof buf - 1 - len);
                        if (n <= 0)
                                break;
                        len += (size_t) n;
                        buf[len] = '\0';
                        char *end = strstr(buf, "\r\n\r\n");
                        if (!end)
                                continue;
                        ASSERT_EQ(write(conn, s->reply, s->reply_len), (ssize_t) s->reply_len);
                        len -= (size_t) (end + 4 - buf);
                        memmove(buf, end + 4, len);
                        if (strstr(s->reply, "Connection: close"))
                                break;
                }
                close(conn);
        }
        return NULL;
}

static void raw_start(RawServer *s, const char *reply, size_t reply_len) {
        memset(s, 0, sizeof *s);
        s->reply = reply;
        s->reply_len = reply_len;
        s->fd = listen_loopback(&s->port);
        ASSERT_EQ(pthread_create(&s->thread, NULL, raw_thread, s), 0);
}

static void raw_stop(RawServer *s) {
        shutdown(s->fd, SHUT_RDWR);
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static void raw_get(RawServer *raw, HttpcClient *c, Result *res) {
        char u[64];
        snprintf(u, sizeof u, "http://127.0.0.1:%d/", raw->port);
        roundtrip(c, &(HttpcRequest){.method = "GET", .url = u, .timeout_usec = 5 * USEC_PER_SEC}, res);
}

static void test_raw(void) {
        HttpcClient *c = NULL;
        Result res;
        RawServer raw;

        /* Kept alive: one connection for every request. */
        static const char keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Mixed-Case:  Value \r\n\r\nok";
        raw_start(&raw, keep, strlen(keep));
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        for (int i = 0; i < 5; i++) {
                raw_get(&raw, c, &res);
                ASSERT_EQ(res.error, 0);
                ASSERT_EQ(res.status, 200u);
                ASSERT_TRUE(strcmp(res.body, "ok") == 0);
                ASSERT_TRUE(strcmp(res.mixed, "Value") == 0);
                ASSERT_TRUE(res.name_lower);
        }
        ASSERT_EQ(raw.accepted, 1u);
        c = httpc_stop(c);
        raw_stop(&raw);

        /* A body without a length, past the cap while it streams. */
        char *stream = malloc(4096);
        ASSERT_TRUE(stream);
        int n = snprintf(stream, 4096, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        memset(stream + n, 'z', 4096 - (size_t) n);
        raw_start(&raw, stream, 4096);
        ASSERT_EQ(httpc_start(&(HttpcConfig){.max_response_body = 1000}, &c), 0);
        raw_get(&raw, c, &res);
        ASSERT_EQ(res.error, -EMSGSIZE);
        ASSERT_TRUE(res.sent);
        c = httpc_stop(c);
        raw_stop(&raw);
        free(stream);

        /* Too many header lines. */
        char *many = malloc(64 * 1024);
        ASSERT_TRUE(many);
        size_t len = (size_t) snprintf(many, 64 * 1024, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
        for (int i = 0; i < 500; i++)
                len += (size_t) snprintf(many + len, 64 * 1024 - len, "X-H%d: v\r\n", i);
        len += (size_t) snprintf(many + len, 64 * 1024 - len, "\r\n");
        raw_start(&raw, many, len);
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        raw_get(&raw, c, &res);
        ASSERT_EQ(res.error, -EMSGSIZE);
        c = httpc_stop(c);
        raw_stop(&raw);
        free(many);

        /* Not HTTP at all. */
        static const char garbage[] = "SSH-2.0-OpenSSH_9.2\r\n\r\n";
        raw_start(&raw, garbage, strlen(garbage));
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        raw_get(&raw, c, &res);
        ASSERT_EQ(res.error, -EPROTO);
        ASSERT_TRUE(res.sent);
        c = httpc_stop(c);
        raw_stop(&raw);

        /* A redirect is an answer, never followed. */
        static const char redirect[] =
                "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n";
        raw_start(&raw, redirect, strlen(redirect));
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        raw_get(&raw, c, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 302u);
        c = httpc_stop(c);
        raw_stop(&raw);
}

int main(void) {
        TestServer s;
        test_server_start(&s, 1);
        HttpcClient *c = NULL;
        ASSERT_EQ(httpc_start(&(HttpcConfig){}, &c), 0);
        test_bad_requests(c, &s);
        test_methods(c, &s);
        test_refused_and_timeout(c, &s);
        httpc_stop(c);
        ASSERT_EQ(httpc_stop(NULL), NULL);

        test_concurrent(&s);
        test_no_queue_behind_long_ones(&s);
        test_body_cap(&s);
        test_address_allowed(&s);
        test_stop(&s);
        test_max_pending(&s);
        test_fetch(&s);
        test_wait_from_done(&s);
        test_stream(&s);
        test_raw();
        test_server_stop(&s);
        return 0;
}
