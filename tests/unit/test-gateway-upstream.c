/* SPDX-License-Identifier: MIT */
/* The upstream pool against three real HTTP servers on loopback: balancing, ejection and
 * return, retries only where safe, the configured headers. No timing is asserted: every
 * wait is for a condition, with a deadline. */
#include <errno.h>
#include <string.h>

#include "gateway/upstream.h"
#include "http-test-server.h"
#include "httpc-results.h"
#include "tests.h"

#define N_SERVERS 3
#define HOUR (3600 * USEC_PER_SEC)
#define UPSTREAM_TEST_MAX_NODES 8

static TestServer servers[N_SERVERS];
static const char *urls[N_SERVERS];

static UpstreamConfig config(void) {
        return (UpstreamConfig){
                .urls = urls,
                .n_urls = N_SERVERS,
                .health_interval_usec = HOUR, /* the first round only, unless a test wants more */
                .timeout_usec = 10 * USEC_PER_SEC,
        };
}

/* Forward and wait for the answer. */
static void forward(Upstream *u, const char *method, const char *path, const char *body, Result *res) {
        reset_waiter();
        memset(res, 0, sizeof *res);
        ASSERT_EQ(
                upstream_forward(u, method, path, NULL, 0, body, body ? strlen(body) : 0, on_done, res), 0);
        wait_finished(1);
        ASSERT_EQ(res->calls, 1u);
}

static UpstreamNodeStats node_stats(Upstream *u, size_t i) {
        UpstreamNodeStats st[UPSTREAM_TEST_MAX_NODES];
        ASSERT_TRUE(upstream_stats(u, st, UPSTREAM_TEST_MAX_NODES) > i);
        return st[i];
}

static bool first_round_done(void *arg) {
        Upstream *u = arg;
        UpstreamNodeStats st[UPSTREAM_TEST_MAX_NODES];
        size_t n = upstream_stats(u, st, UPSTREAM_TEST_MAX_NODES);
        for (size_t i = 0; i < n; i++)
                if (st[i].last_check_usec == 0)
                        return false;
        return true;
}

static void test_bad_config(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.n_urls = 0;
        ASSERT_EQ(upstream_start(&c, &u), -EINVAL);
        static const char *const bad[][1] = {
                {"http://127.0.0.1:1/"}, {"ftp://127.0.0.1"}, {"127.0.0.1:2358"}, {""}};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                c = config();
                c.urls = bad[i];
                c.n_urls = 1;
                ASSERT_EQ(upstream_start(&c, &u), -EINVAL);
        }
        c = config();
        HttpcHeader crlf = {"X-Internal", "a\r\nX-Evil: 1"};
        c.headers = &crlf;
        c.n_headers = 1;
        ASSERT_EQ(upstream_start(&c, &u), -EINVAL);
        c = config();
        c.fall = 1001;
        ASSERT_EQ(upstream_start(&c, &u), -EINVAL);
        ASSERT_TRUE(!u);
        ASSERT_EQ(upstream_stop(NULL), NULL);

        c = config();
        ASSERT_EQ(upstream_start(&c, &u), 0);
        Result res = {};
        ASSERT_EQ(upstream_forward(u, "GET", "echo", NULL, 0, NULL, 0, on_done, &res), -EINVAL);
        ASSERT_EQ(upstream_forward(u, "get", "/echo", NULL, 0, NULL, 0, on_done, &res), -EINVAL);
        ASSERT_EQ(upstream_forward(u, "GET", "/echo", NULL, 0, NULL, 0, NULL, NULL), -EINVAL);
        ASSERT_TRUE(!res.called);
        upstream_stop(u);
}

static unsigned server_id(const Result *res) {
        ASSERT_TRUE(res->body[0] >= '1' && res->body[0] <= '0' + N_SERVERS);
        return (unsigned) (res->body[0] - '0');
}

static bool all_held_6(void *arg) {
        size_t n = 0;
        for (size_t i = 0; i < N_SERVERS; i++)
                n += test_server_held(&servers[i]);
        return n == 6;
}

/* Ties go round robin; otherwise the node with the fewest requests outstanding. */
static void test_balancing(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        ASSERT_EQ(upstream_start(&c, &u), 0);
        ASSERT_EQ(upstream_healthy(u), (size_t) N_SERVERS);
        unsigned before[N_SERVERS];
        for (size_t i = 0; i < N_SERVERS; i++)
                before[i] = servers[i].hits_get;
        Result res;
        for (int k = 0; k < 30; k++) {
                forward(u, "GET", "/echo?k=1", NULL, &res);
                ASSERT_EQ(res.error, 0);
                ASSERT_EQ(res.status, 200u);
                ASSERT_EQ(server_id(&res), (unsigned) (k % N_SERVERS) + 1);
        }
        for (size_t i = 0; i < N_SERVERS; i++) {
                ASSERT_EQ(servers[i].hits_get - before[i], 10u);
                ASSERT_EQ(node_stats(u, i).requests, 10u);
                ASSERT_EQ(node_stats(u, i).outstanding, 0u);
        }

        /* Six requests held by the servers: two each. */
        static Result held[6];
        reset_waiter();
        for (size_t k = 0; k < 6; k++)
                ASSERT_EQ(upstream_forward(u, "GET", "/hold", NULL, 0, NULL, 0, on_done, &held[k]), 0);
        wait_until(all_held_6, NULL);
        for (size_t i = 0; i < N_SERVERS; i++) {
                ASSERT_EQ(test_server_held(&servers[i]), 2u);
                ASSERT_EQ(node_stats(u, i).outstanding, 2u);
        }
        /* The first node's answered: it alone has none outstanding, and takes what comes. */
        test_server_release(&servers[0]);
        wait_finished(2);
        unsigned gets[N_SERVERS];
        for (size_t i = 0; i < N_SERVERS; i++)
                gets[i] = servers[i].hits_get;
        static Result more[5];
        for (size_t k = 0; k < 5; k++) {
                pthread_mutex_lock(&waiter.lock);
                unsigned target = waiter.finished + 1;
                pthread_mutex_unlock(&waiter.lock);
                ASSERT_EQ(upstream_forward(u, "GET", "/echo", NULL, 0, NULL, 0, on_done, &more[k]), 0);
                wait_finished(target);
                ASSERT_EQ(more[k].status, 200u);
                ASSERT_EQ(server_id(&more[k]), 1u);
        }
        ASSERT_EQ(servers[0].hits_get - gets[0], 5u);
        ASSERT_EQ(servers[1].hits_get - gets[1], 0u);
        ASSERT_EQ(servers[2].hits_get - gets[2], 0u);
        for (size_t i = 1; i < N_SERVERS; i++)
                test_server_release(&servers[i]);
        wait_finished(2 + 5 + 4);
        for (size_t k = 0; k < 6; k++) {
                ASSERT_EQ(held[k].calls, 1u);
                ASSERT_EQ(held[k].status, 200u);
                ASSERT_TRUE(strstr(held[k].body, "released"));
        }
        upstream_stop(u);
}

/* The configured headers go with every request, health checks included, and replace a
 * client's header of the same name. */
static void test_headers(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        HttpcHeader internal = {"X-Internal", "s3cret"};
        c.headers = &internal;
        c.n_headers = 1;
        unsigned health[N_SERVERS], with[N_SERVERS];
        for (size_t i = 0; i < N_SERVERS; i++) {
                health[i] = servers[i].hits_health;
                with[i] = servers[i].hits_health_internal;
        }
        ASSERT_EQ(upstream_start(&c, &u), 0);
        wait_until(first_round_done, u);
        for (size_t i = 0; i < N_SERVERS; i++) {
                ASSERT_TRUE(servers[i].hits_health > health[i]);
                ASSERT_EQ(servers[i].hits_health - health[i], servers[i].hits_health_internal - with[i]);
        }
        HttpcHeader h[] = {{"X-Test", "t"}, {"x-INTERNAL", "forged"}};
        Result res;
        reset_waiter();
        memset(&res, 0, sizeof res);
        ASSERT_EQ(upstream_forward(u, "POST", "/echo", h, 2, "body", 4, on_done, &res), 0);
        wait_finished(1);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strcmp(res.body + 1, " POST x-test=t x-internal=s3cret body") == 0);
        upstream_stop(u);
}

static bool node_unhealthy(void *arg) {
        Upstream *u = arg;
        return upstream_healthy(u) == N_SERVERS - 2 && !node_stats(u, 1).healthy &&
               !node_stats(u, 2).healthy;
}

static bool all_healthy(void *arg) {
        return upstream_healthy(arg) == N_SERVERS;
}

/* A node that stops answering its health checks (or answers them 503) is ejected after
 * fall checks and gets no traffic; it returns after rise good ones. */
static void test_ejection(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.health_interval_usec = 20 * USEC_PER_MSEC;
        c.fall = 2;
        c.rise = 2;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        servers[1].health = HEALTH_SILENT;
        servers[2].health = HEALTH_503;
        wait_until(node_unhealthy, u);
        ASSERT_EQ(node_stats(u, 1).ejections, 1u);
        ASSERT_EQ(node_stats(u, 2).ejections, 1u);
        ASSERT_TRUE(node_stats(u, 0).healthy);
        unsigned gets[N_SERVERS];
        for (size_t i = 0; i < N_SERVERS; i++)
                gets[i] = servers[i].hits_get;
        Result res;
        for (int k = 0; k < 10; k++) {
                forward(u, "GET", "/echo", NULL, &res);
                ASSERT_EQ(res.status, 200u);
                ASSERT_EQ(server_id(&res), 1u);
        }
        ASSERT_EQ(servers[0].hits_get - gets[0], 10u);
        ASSERT_EQ(servers[1].hits_get, gets[1]);
        ASSERT_EQ(servers[2].hits_get, gets[2]);

        servers[1].health = HEALTH_OK;
        servers[2].health = HEALTH_OK;
        wait_until(all_healthy, u);
        unsigned back[N_SERVERS] = {};
        for (int k = 0; k < 30; k++) {
                forward(u, "GET", "/echo", NULL, &res);
                ASSERT_EQ(res.status, 200u);
                back[server_id(&res) - 1]++;
        }
        for (size_t i = 0; i < N_SERVERS; i++)
                ASSERT_EQ(back[i], 10u);
        upstream_stop(u);
        test_server_release(&servers[1]); /* the checks it held */
}

/* Retries: a connection never made, any method, on another node; an answer of 502/503/504
 * once more for a GET, never for a POST. */
static void test_retries(void) {
        char dead[64];
        snprintf(dead, sizeof dead, "http://127.0.0.1:%u", (unsigned) free_loopback_port());
        const char *with_dead[] = {dead, servers[0].url, servers[1].url};
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.urls = with_dead;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        unsigned posts = servers[0].hits_post + servers[1].hits_post;
        Result res;
        forward(u, "POST", "/echo", "once", &res); /* the dead node is first in the round */
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 200u);
        ASSERT_TRUE(strstr(res.body, " POST x-test=- x-internal=- once"));
        ASSERT_EQ(servers[0].hits_post + servers[1].hits_post, posts + 1);
        UpstreamNodeStats st = node_stats(u, 0);
        ASSERT_EQ(st.requests, 1u);
        ASSERT_EQ(st.failures, 1u);
        /* Its failed first check and the failed connection: fall = 2. */
        wait_until(first_round_done, u);
        ASSERT_TRUE(!node_stats(u, 0).healthy);
        upstream_stop(u);

        c = config();
        c.max_tries = 3;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        unsigned hits = 0;
        for (size_t i = 0; i < N_SERVERS; i++)
                hits += servers[i].hits_503;
        forward(u, "GET", "/status/503", NULL, &res);
        ASSERT_EQ(res.error, 0);
        ASSERT_EQ(res.status, 503u);
        unsigned now = 0;
        for (size_t i = 0; i < N_SERVERS; i++)
                now += servers[i].hits_503;
        ASSERT_EQ(now, hits + 2);
        forward(u, "POST", "/status/503", "x", &res);
        ASSERT_EQ(res.status, 503u);
        hits = now;
        now = 0;
        for (size_t i = 0; i < N_SERVERS; i++)
                now += servers[i].hits_503;
        ASSERT_EQ(now, hits + 1);
        /* 503s are the nodes' answers, not failed checks. */
        ASSERT_EQ(upstream_healthy(u), (size_t) N_SERVERS);
        upstream_stop(u);
}

static bool none_healthy(void *arg) {
        return upstream_healthy(arg) == 0;
}

/* Every node down: the last try's error while they are still thought healthy, then
 * -EHOSTUNREACH at once when they are ejected. */
static void test_all_down(void) {
        char dead[2][64];
        for (size_t i = 0; i < 2; i++)
                snprintf(dead[i], sizeof dead[i], "http://127.0.0.1:%u", (unsigned) free_loopback_port());
        const char *down[] = {dead[0], dead[1]};
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.urls = down;
        c.n_urls = 2;
        c.fall = 100;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        Result res;
        forward(u, "POST", "/echo", "x", &res);
        ASSERT_EQ(res.error, -ECONNREFUSED);
        ASSERT_TRUE(!res.sent);
        ASSERT_EQ(node_stats(u, 0).requests + node_stats(u, 1).requests, 2u);
        upstream_stop(u);

        c.fall = 1;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        wait_until(none_healthy, u);
        forward(u, "GET", "/echo", NULL, &res);
        ASSERT_EQ(res.error, -EHOSTUNREACH);
        ASSERT_TRUE(!res.sent);
        ASSERT_TRUE(pthread_equal(res.thread, pthread_self())); /* at once */
        ASSERT_EQ(node_stats(u, 0).requests + node_stats(u, 1).requests, 0u);
        upstream_stop(u);
}

#define N_THREADS 4
#define PER_THREAD 100

static Upstream *shared;
static Result many[N_THREADS][PER_THREAD];

static void *forward_many(void *arg) {
        Result *res = arg;
        for (size_t k = 0; k < PER_THREAD; k++)
                ASSERT_EQ(upstream_forward(shared, "GET", "/echo", NULL, 0, NULL, 0, on_done, &res[k]), 0);
        return NULL;
}

/* Forwarded from several threads at once (as the HTTP server's threads do): every request
 * answered once, the counts add up, nothing left outstanding. */
static void test_threads(void) {
        UpstreamConfig c = config();
        ASSERT_EQ(upstream_start(&c, &shared), 0);
        reset_waiter();
        pthread_t t[N_THREADS];
        for (size_t i = 0; i < N_THREADS; i++)
                ASSERT_EQ(pthread_create(&t[i], NULL, forward_many, many[i]), 0);
        for (size_t i = 0; i < N_THREADS; i++)
                ASSERT_EQ(pthread_join(t[i], NULL), 0);
        wait_finished(N_THREADS * PER_THREAD);
        for (size_t i = 0; i < N_THREADS; i++)
                for (size_t k = 0; k < PER_THREAD; k++) {
                        ASSERT_EQ(many[i][k].calls, 1u);
                        ASSERT_EQ(many[i][k].status, 200u);
                }
        uint64_t total = 0;
        for (size_t i = 0; i < N_SERVERS; i++) {
                UpstreamNodeStats st = node_stats(shared, i);
                ASSERT_EQ(st.outstanding, 0u);
                ASSERT_TRUE(st.requests > 0);
                total += st.requests;
        }
        ASSERT_EQ(total, (uint64_t) N_THREADS * PER_THREAD);
        shared = upstream_stop(shared);
}

/* Stopping with a request in flight: its done runs once, before upstream_stop() returns. */
static void test_stop(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.timeout_usec = 300 * USEC_PER_MSEC;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        static Result res;
        reset_waiter();
        ASSERT_EQ(upstream_forward(u, "GET", "/hold", NULL, 0, NULL, 0, on_done, &res), 0);
        upstream_stop(u);
        ASSERT_EQ(res.calls, 1u);
        ASSERT_TRUE(res.error == -ETIMEDOUT || res.error == -ECANCELED);
        for (size_t i = 0; i < N_SERVERS; i++)
                test_server_release(&servers[i]);
}

/* A streamed GET: the pool's failover until a node answers 2xx (a node that refuses the
 * connection, a 503), then the chunks as they come. */
static void test_stream(void) {
        char dead[64];
        snprintf(dead, sizeof dead, "http://127.0.0.1:%u", (unsigned) free_loopback_port());
        const char *with_dead[] = {dead, servers[0].url};
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.urls = with_dead;
        c.n_urls = 2;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        StreamCase sc = {};
        pthread_mutex_init(&sc.st.lock, NULL);
        reset_waiter();
        ASSERT_EQ(upstream_stream(u, "/stream", NULL, 0, chunk_of_case, abandoned_of_case, on_done, &sc), 0);
        HttpStream *hs = test_server_take_stream(&servers[0]); /* the dead node was tried first */
        ASSERT_EQ(http_stream_send(hs, "hello", 5, false), 0);
        wait_until(has_5, &sc);
        ASSERT_EQ(sc.st.status, 200u);
        http_stream_end(hs);
        http_stream_unref(hs);
        wait_finished(1);
        ASSERT_EQ(sc.res.error, 0);
        ASSERT_EQ(node_stats(u, 0).failures, 1u);
        ASSERT_EQ(upstream_stream(u, "/stream", NULL, 0, NULL, NULL, on_done, &sc), -EINVAL);
        upstream_stop(u);

        /* A 503 is not streamed: the GET is tried once more elsewhere, and its answer kept. */
        ASSERT_EQ(upstream_start(&(UpstreamConfig){.urls = urls,
                                         .n_urls = N_SERVERS,
                                         .health_interval_usec = HOUR,
                                         .timeout_usec = 10 * USEC_PER_SEC},
                          &u),
                0);
        unsigned hits = 0, now = 0;
        for (size_t i = 0; i < N_SERVERS; i++)
                hits += servers[i].hits_503;
        memset(&sc, 0, sizeof sc);
        pthread_mutex_init(&sc.st.lock, NULL);
        reset_waiter();
        ASSERT_EQ(upstream_stream(u, "/status/503", NULL, 0, chunk_of_case, NULL, on_done, &sc), 0);
        wait_finished(1);
        for (size_t i = 0; i < N_SERVERS; i++)
                now += servers[i].hits_503;
        ASSERT_EQ(now, hits + 2);
        ASSERT_EQ(sc.res.status, 503u);
        ASSERT_EQ(sc.st.heads, 0u);
        upstream_stop(u);
}

/* Connections of the caller's own: the pool's choice, never a node tried, counted in
 * flight; connections that could not be opened eject a node as failed checks do. */
static void test_acquire(void) {
        Upstream *u = NULL;
        UpstreamConfig c = config();
        c.n_urls = 2;
        ASSERT_EQ(upstream_start(&c, &u), 0);
        uint64_t tried = 0;
        char *a = NULL, *b = NULL, *none = NULL;
        size_t na, nb, nn;
        ASSERT_EQ(upstream_acquire(u, &tried, &a, &na), 0);
        ASSERT_EQ(upstream_acquire(u, &tried, &b, &nb), 0);
        ASSERT_TRUE(na != nb);
        ASSERT_TRUE(strcmp(a, urls[na]) == 0 && strcmp(b, urls[nb]) == 0);
        ASSERT_EQ(tried, 3u);
        ASSERT_EQ(upstream_acquire(u, &tried, &none, &nn), -EHOSTUNREACH);
        ASSERT_EQ(node_stats(u, na).outstanding, 1u);
        upstream_release(u, nb, false);
        upstream_release(u, na, true);
        ASSERT_EQ(node_stats(u, na).outstanding, 0u);
        ASSERT_TRUE(node_stats(u, na).healthy);
        tried = UINT64_C(1) << nb; /* the same node again */
        free(a);
        ASSERT_EQ(upstream_acquire(u, &tried, &a, &na), 0);
        upstream_release(u, na, true); /* fall = 2 */
        ASSERT_TRUE(!node_stats(u, na).healthy);
        ASSERT_EQ(node_stats(u, na).failures, 2u);
        free(a);
        free(b);
        upstream_stop(u);
}

int main(void) {
        for (size_t i = 0; i < N_SERVERS; i++) {
                test_server_start(&servers[i], (int) i + 1);
                urls[i] = servers[i].url;
        }
        test_bad_config();
        test_balancing();
        test_headers();
        test_threads();
        test_ejection();
        test_retries();
        test_all_down();
        test_stop();
        test_stream();
        test_acquire();
        for (size_t i = 0; i < N_SERVERS; i++)
                test_server_stop(&servers[i]);
        return 0;
}
