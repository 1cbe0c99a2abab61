/* SPDX-License-Identifier: MIT */
#pragma once

/* A real HTTP server on 127.0.0.1 (the project's own, src/http/) for the tests of outgoing
 * HTTP. Its routes:
 *   GET /health           200 "ok", 503 or never answered, as the test sets `health`
 *   any /echo             200 "<id> <METHOD> x-test=<X-Test> x-internal=<X-Internal> <body>"
 *   GET, POST /status/503 503
 *   GET /hold             held until test_server_release() (200 "released") or _stop() (503)
 *   GET /big?n=N          200 and N bytes
 *   GET /stream           a streamed answer (text/event-stream) the test writes, taken
 *                         with test_server_take_stream()
 * and counts what each route was asked. */

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "http/http.h"
#include "loopback.h"

#define TEST_SERVER_MAX_HELD 1024

enum { HEALTH_OK, HEALTH_503, HEALTH_SILENT };

typedef struct TestServer {
        int id;
        uint16_t port;
        char url[64]; /* "http://127.0.0.1:PORT" */
        HttpServer *http;
        atomic_int health;
        bool stopping; /* (lock) */
        atomic_uint hits_health, hits_health_internal, hits_get, hits_post, hits_other, hits_503, hits_hold,
                hits_big;
        pthread_mutex_t lock;
        HttpRequest *held[TEST_SERVER_MAX_HELD];
        size_t n_held;
        HttpStream *stream; /* (lock) the last GET /stream's, until taken */
} TestServer;

static inline void test_server_hold(TestServer *s, HttpRequest *r) {
        pthread_mutex_lock(&s->lock);
        if (s->stopping)
                http_reply_error(r, 503, "stopping");
        else {
                ASSERT_TRUE(s->n_held < TEST_SERVER_MAX_HELD);
                http_request_suspend(r);
                s->held[s->n_held++] = r;
        }
        pthread_mutex_unlock(&s->lock);
}

static inline void test_server_on_health(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        s->hits_health++;
        if (http_request_header(r, "X-Internal"))
                s->hits_health_internal++;
        int mode = s->health;
        if (mode == HEALTH_SILENT)
                test_server_hold(s, r);
        else if (mode == HEALTH_503)
                http_reply_error(r, 503, "unhealthy");
        else
                http_reply(r, 200, "text/plain", strdup("ok"), 2);
}

static inline void test_server_on_echo(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        const char *m = http_request_method(r);
        if (strcmp(m, "GET") == 0)
                s->hits_get++;
        else if (strcmp(m, "POST") == 0)
                s->hits_post++;
        else
                s->hits_other++;
        const char *t = http_request_header(r, "X-Test"), *internal = http_request_header(r, "X-Internal");
        size_t len = 0;
        const char *body = http_request_body(r, &len);
        char *out = NULL;
        int n = asprintf(&out, "%d %s x-test=%s x-internal=%s %s", s->id, m, t ? t : "-",
                internal ? internal : "-", body);
        ASSERT_TRUE(n >= 0);
        http_reply(r, 200, "text/plain", out, (size_t) n);
}

static inline void test_server_on_503(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        s->hits_503++;
        http_reply_error(r, 503, "busy");
}

static inline void test_server_on_hold(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        s->hits_hold++;
        test_server_hold(s, r);
}

static inline void test_server_on_big(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        s->hits_big++;
        const char *q = http_request_query(r, "n");
        size_t n = q ? strtoul(q, NULL, 10) : 0;
        char *body = malloc(n + 1);
        ASSERT_TRUE(body);
        memset(body, 'x', n);
        http_reply(r, 200, "application/octet-stream", body, n);
}

static inline void test_server_on_stream(HttpRequest *r, const char *const *params, void *userdata) {
        TestServer *s = userdata;
        HttpStream *st = NULL;
        ASSERT_EQ(http_reply_stream(r, 200, "text/event-stream", &st), 0);
        pthread_mutex_lock(&s->lock);
        ASSERT_TRUE(!s->stream);
        s->stream = st;
        pthread_mutex_unlock(&s->lock);
}

/* The stream of the last GET /stream, waited for (30 s at most): the caller's reference. */
static inline HttpStream *test_server_take_stream(TestServer *s) {
        for (int i = 0; i < 6000; i++) {
                pthread_mutex_lock(&s->lock);
                HttpStream *st = s->stream;
                s->stream = NULL;
                pthread_mutex_unlock(&s->lock);
                if (st)
                        return st;
                nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        }
        ASSERT_TRUE(!"GET /stream never came");
        return NULL;
}

static const HttpRoute test_server_routes[] = {
        {"GET", "/health", test_server_on_health},
        {"GET", "/echo", test_server_on_echo},
        {"POST", "/echo", test_server_on_echo},
        {"PUT", "/echo", test_server_on_echo},
        {"DELETE", "/echo", test_server_on_echo},
        {"GET", "/status/503", test_server_on_503},
        {"POST", "/status/503", test_server_on_503},
        {"GET", "/hold", test_server_on_hold},
        {"GET", "/big", test_server_on_big},
        {"GET", "/stream", test_server_on_stream},
};

static inline void test_server_start(TestServer *s, int id) {
        memset(s, 0, sizeof *s);
        s->id = id;
        pthread_mutex_init(&s->lock, NULL);
        int r = -EADDRINUSE;
        for (int attempt = 0; attempt < 20 && r == -EADDRINUSE; attempt++) {
                s->port = free_loopback_port();
                HttpServerConfig cfg = {
                        .bind = "127.0.0.1",
                        .port = s->port,
                        .threads = 2,
                        .connection_timeout_sec = 60,
                        .max_body = 1 << 20,
                        .routes = test_server_routes,
                        .n_routes = sizeof test_server_routes / sizeof test_server_routes[0],
                        .userdata = s,
                };
                r = http_server_start(&cfg, &s->http);
        }
        ASSERT_EQ(r, 0);
        snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", (unsigned) s->port);
}

/* Answer the requests held (503), then stop. */
static inline void test_server_stop(TestServer *s) {
        if (!s->http)
                return;
        http_server_quiesce(s->http);
        pthread_mutex_lock(&s->lock);
        s->stopping = true;
        for (size_t i = 0; i < s->n_held; i++)
                http_reply_error(s->held[i], 503, "stopping");
        s->n_held = 0;
        pthread_mutex_unlock(&s->lock);
        s->http = http_server_free(s->http);
}

/* Answer the requests held so far: 200 "released". */
static inline void test_server_release(TestServer *s) {
        pthread_mutex_lock(&s->lock);
        for (size_t i = 0; i < s->n_held; i++)
                http_reply(s->held[i], 200, "text/plain", strdup("released"), 8);
        s->n_held = 0;
        pthread_mutex_unlock(&s->lock);
}

static inline size_t test_server_held(TestServer *s) {
        pthread_mutex_lock(&s->lock);
        size_t n = s->n_held;
        pthread_mutex_unlock(&s->lock);
        return n;
}
