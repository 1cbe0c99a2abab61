/* SPDX-License-Identifier: MIT */
/* The HTTP wrapper on a loopback port: routes and parameters, the ".json" suffix, 404, 405,
 * CORS preflight, 413, query and headers, and a suspended request answered from another
 * thread, a streamed answer; which Accept-Encoding values allow gzip. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/http.h"
#include "tests.h"

static void on_hello(HttpRequest *req, const char *const *params, void *userdata) {
        const char *who = http_request_query(req, "who");
        const char *h = http_request_header(req, "x-test");
        char *body = NULL;
        ASSERT_TRUE(asprintf(&body, "{\"who\":\"%s\",\"h\":\"%s\"}", who ? who : "", h ? h : "") > 0);
        http_reply_json(req, 200, body);
}

static void on_item(HttpRequest *req, const char *const *params, void *userdata) {
        size_t len;
        const char *b = http_request_body(req, &len);
        char *body = NULL;
        ASSERT_TRUE(asprintf(&body, "%s %s %zu", params[0], http_request_method(req), len) > 0);
        ASSERT_TRUE(strlen(b) == len);
        http_reply(req, 201, "text/plain", body, strlen(body));
}

static void *answer_later(void *arg) {
        usleep(100 * 1000);
        http_reply_error(arg, 202, "later");
        return NULL;
}

static void on_wait(HttpRequest *req, const char *const *params, void *userdata) {
        pthread_t t;
        http_request_suspend(req);
        ASSERT_EQ(pthread_create(&t, NULL, answer_later, req), 0);
        pthread_detach(t);
}

/* A streamed answer: the handler hands the stream to the test (one at a time). */
static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stream_cond = PTHREAD_COND_INITIALIZER;
static HttpStream *stream_given;

static void on_stream(HttpRequest *req, const char *const *params, void *userdata) {
        HttpStream *st = NULL;
        ASSERT_EQ(http_reply_header(req, "X-Stream", "yes"), 0);
        ASSERT_EQ(http_reply_stream(req, 200, "text/event-stream", &st), 0);
        HttpStream *again = NULL;
        ASSERT_EQ(http_reply_stream(req, 200, "text/plain", &again), -EALREADY);
        ASSERT_EQ(http_stream_send(st, "first\n", 6, false), 0); /* before MHD has it */
        pthread_mutex_lock(&stream_lock);
        stream_given = st;
        pthread_cond_broadcast(&stream_cond);
        pthread_mutex_unlock(&stream_lock);
}

static HttpStream *take_stream(void) {
        pthread_mutex_lock(&stream_lock);
        while (!stream_given)
                pthread_cond_wait(&stream_cond, &stream_lock);
        HttpStream *st = stream_given;
        stream_given = NULL;
        pthread_mutex_unlock(&stream_lock);
        return st;
}

static int connect_to(uint16_t port);

/* The producer: events from another thread while the client reads; the pending bound; a
 * client that leaves is seen as gone. */
static void test_stream(uint16_t port) {
        int fd = connect_to(port);
        const char *req = "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n";
        ASSERT_EQ(write(fd, req, strlen(req)), (ssize_t) strlen(req));
        HttpStream *st = take_stream();
        ASSERT_EQ(http_stream_send(st, "second\n", 7, false), 0);
        ASSERT_EQ(http_stream_send(st, "third\n", 6, true), 0);
        ASSERT_EQ(http_stream_send(st, "late\n", 5, false), -EPIPE);
        char buf[4096];
        size_t len = 0;
        for (ssize_t n; (n = read(fd, buf + len, sizeof buf - 1 - len)) > 0;) {
                len += (size_t) n;
                buf[len] = '\0';
                if (strstr(buf, "\r\n0\r\n\r\n")) /* the last chunk */
                        break;
        }
        buf[len] = '\0';
        ASSERT_TRUE(strncmp(buf, "HTTP/1.1 200", 12) == 0);
        ASSERT_TRUE(strstr(buf, "Transfer-Encoding: chunked"));
        ASSERT_TRUE(strstr(buf, "X-Stream: yes"));
        char *a = strstr(buf, "first"), *b = strstr(buf, "second"), *c = strstr(buf, "third");
        ASSERT_TRUE(a && b && c && a < b && b < c);
        ASSERT_TRUE(!strstr(buf, "late"));
        close(fd);
        http_stream_unref(st);

        /* More than the bound pending at once: refused, and the stream ends. */
        fd = connect_to(port);
        ASSERT_EQ(write(fd, req, strlen(req)), (ssize_t) strlen(req));
        st = take_stream();
        char *big = calloc(1, HTTP_STREAM_MAX_PENDING + 1);
        ASSERT_TRUE(big);
        ASSERT_EQ(http_stream_send(st, big, HTTP_STREAM_MAX_PENDING + 1, false), -ENOBUFS);
        ASSERT_EQ(http_stream_send(st, "x", 1, false), -EPIPE);
        free(big);
        close(fd);
        http_stream_unref(st);

        /* The client leaves: the next sends wake the connection, MHD sees it closed. */
        fd = connect_to(port);
        ASSERT_EQ(write(fd, req, strlen(req)), (ssize_t) strlen(req));
        st = take_stream();
        close(fd);
        for (unsigned i = 0; !http_stream_closed(st); i++) {
                ASSERT_TRUE(i < 1000); /* 10 s */
                (void) http_stream_send(st, ": ping\n\n", 8, false);
                usleep(10 * 1000);
        }
        ASSERT_EQ(http_stream_send(st, "x", 1, false), -EPIPE);
        http_stream_unref(st);
}

static const HttpRoute routes[] = {
        {"GET", "/stream", on_stream},
        {"GET", "/hello", on_hello},
        {"GET", "/items/wait", on_wait},
        {"POST", "/items/:id", on_item},
        {"DELETE", "/items/:id", on_item},
};

static int connect_to(uint16_t port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        ASSERT_TRUE(fd >= 0);
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ASSERT_EQ(connect(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        return fd;
}

/* One request on a fresh connection; the whole response in a malloc'd string. */
static char *roundtrip(uint16_t port, const char *request) {
        int fd = connect_to(port);
        ASSERT_EQ(write(fd, request, strlen(request)), (ssize_t) strlen(request));
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        ASSERT_TRUE(buf);
        for (;;) {
                ssize_t n = read(fd, buf + len, cap - 1 - len);
                if (n <= 0)
                        break;
                len += (size_t) n;
                ASSERT_TRUE(len < cap - 1);
        }
        buf[len] = '\0';
        close(fd);
        return buf;
}

static uint16_t free_port(void) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = {.sin_family = AF_INET};
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t l = sizeof sa;
        ASSERT_EQ(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        ASSERT_EQ(getsockname(fd, (struct sockaddr *) &sa, &l), 0);
        close(fd);
        return ntohs(sa.sin_port);
}

/* The router alone: http_route_match() and http_path_normalize(). */
static void test_route_match(void) {
        static const HttpRoute table[] = {
                {"GET", "/", on_hello},
                {"GET", "/a/b", on_hello},
                {"GET", "/a/:x", on_hello},
                {"DELETE", "/a/:x", on_hello},
                {"GET", "/p/:x/q/:y", on_hello},
        };
        static const struct {
                const char *method, *path;
                int result;
                const char *p0, *p1;
        } cases[] = {
                {"GET", "/", 0, NULL, NULL},
                {"GET", "", 0, NULL, NULL},
                {"GET", "///", 0, NULL, NULL},
                {"GET", "/a/b", 1, NULL, NULL}, /* a literal route before a pattern */
                {"GET", "//a//b/", 1, NULL, NULL},
                {"GET", "/a/c", 2, "c", NULL},
                {"DELETE", "/a/b", 3, "b", NULL},
                {"POST", "/a/b", -EOPNOTSUPP, NULL, NULL},
                {"get", "/a/b", -EOPNOTSUPP, NULL, NULL},
                {"GET", "/a", -ENOENT, NULL, NULL},
                {"GET", "/a/b/c", -ENOENT, NULL, NULL},
                {"GET", "/p/1/q/2", 4, "1", "2"},
                {"GET", "/p/1/r/2", -ENOENT, NULL, NULL},
                {"GET", "/1/2/3/4/5/6/7/8/9/10/11/12/13/14/15/16/17", -ENOENT, NULL, NULL},
        };
        char buf[HTTP_MAX_PATH];
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                const char *params[HTTP_MAX_PARAMS + 1] = {"untouched"};
                int r = http_route_match(table, 5, cases[i].method, cases[i].path, buf, params);
                ASSERT_EQ(r, cases[i].result);
                if (r < 0) {
                        ASSERT_TRUE(strcmp(params[0], "untouched") == 0);
                        continue;
                }
                ASSERT_TRUE(cases[i].p0 ? params[0] && strcmp(params[0], cases[i].p0) == 0 : !params[0]);
                if (cases[i].p0)
                        ASSERT_TRUE(
                                cases[i].p1 ? params[1] && strcmp(params[1], cases[i].p1) == 0 : !params[1]);
        }

        char *longpath = malloc(HTTP_MAX_PATH + 1);
        ASSERT_TRUE(longpath);
        memset(longpath, 'a', HTTP_MAX_PATH);
        longpath[0] = '/';
        longpath[HTTP_MAX_PATH] = '\0';
        const char *params[HTTP_MAX_PARAMS + 1];
        ASSERT_EQ(http_route_match(table, 5, "GET", longpath, buf, params), -ENAMETOOLONG);
        http_path_normalize(longpath, buf);
        ASSERT_EQ(strlen(buf), (size_t) HTTP_MAX_PATH - 1);
        free(longpath);

        http_path_normalize("/languages.json", buf);
        ASSERT_TRUE(strcmp(buf, "/languages") == 0);
        http_path_normalize("/a.json.json", buf);
        ASSERT_TRUE(strcmp(buf, "/a.json") == 0);
        http_path_normalize(".json", buf); /* nothing would be left */
        ASSERT_TRUE(strcmp(buf, ".json") == 0);
        http_path_normalize("/x.jso", buf);
        ASSERT_TRUE(strcmp(buf, "/x.jso") == 0);
}

/* The Allow header: the table's methods in a fixed order, HEAD with GET, OPTIONS. */
static void test_allow_methods(void) {
        static const HttpRoute judge0[] = {
                {"POST", "/s", on_hello},
                {"GET", "/s", on_hello},
                {"DELETE", "/s/:t", on_hello},
                {"GET", "/t", on_hello},
        };
        static const HttpRoute post_only[] = {{"POST", "/s", on_hello}};
        static const HttpRoute bad[] = {{"GET", "/s", on_hello}, {"TRACE", "/s", on_hello}};
        char buf[64];
        ASSERT_EQ(http_allow_methods(judge0, 4, buf, sizeof buf), 32);
        ASSERT_TRUE(strcmp(buf, "GET, HEAD, POST, DELETE, OPTIONS") == 0);
        ASSERT_EQ(http_allow_methods(post_only, 1, buf, sizeof buf), 13);
        ASSERT_TRUE(strcmp(buf, "POST, OPTIONS") == 0);
        ASSERT_EQ(http_allow_methods(NULL, 0, buf, sizeof buf), 7);
        ASSERT_TRUE(strcmp(buf, "OPTIONS") == 0);
        ASSERT_EQ(http_allow_methods(bad, 2, buf, sizeof buf), -EINVAL);
        ASSERT_EQ(http_allow_methods(judge0, 4, buf, 32), -ENOBUFS); /* no room for the NUL */
        ASSERT_EQ(http_allow_methods(judge0, 4, buf, 33), 32);
}

/* Accept-Encoding: gzip by name or by "*", refused by q=0, malformed qualities ignored. */
static void test_accepts_gzip(void) {
        static const struct {
                const char *value;
                bool gzip;
        } cases[] = {
                {NULL, false},
                {"", false},
                {"identity", false},
                {"gzip", true},
                {"GZIP", true},
                {"x-gzip", true},
                {"gzip, deflate, br, zstd", true},
                {"br;q=1.0, gzip;q=0.8, *;q=0.1", true},
                {"deflate, br", false},
                {"gzip;q=0", false},
                {"gzip;q=0.000", false},
                {"gzip; q=0.001", true},
                {"gzip ; q=0 , deflate", false},
                {"*", true},
                {"*;q=0", false},
                {"gzip;q=0, *", false}, /* a coding named explicitly wins over "*" */
                {"*;q=0, gzip", true},
                {"gzip;q=2", false}, /* malformed qualities: the element is ignored */
                {"gzip;q=1.5", false},
                {"gzip;q=0.5x", false},
                {"gzip;q=", false},
                {"gzip;level=9", true}, /* other parameters do not matter */
                {"gzipx, xgzip, gzi", false},
                {",,gzip,,", true},
                {" \tgzip\t ", true},
        };
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                if (http_accepts_gzip(cases[i].value) != cases[i].gzip) {
                        fprintf(stderr, "Accept-Encoding: \"%s\": expected %s\n",
                                cases[i].value ? cases[i].value : "(none)",
                                cases[i].gzip ? "gzip" : "identity");
                        ASSERT_TRUE(false);
                }
        }
}

int main(void) {
        test_route_match();
        test_accepts_gzip();
        test_allow_methods();
        HttpServer *s = NULL;
        uint16_t port = free_port();
        HttpServerConfig cfg = {
                .bind = "127.0.0.1",
                .port = port,
                .threads = 2,
                .max_connections = 64,
                .max_connections_per_ip = 64,
                .connection_timeout_sec = 5,
                .max_body = 1024,
                .routes = routes,
                .n_routes = sizeof routes / sizeof routes[0],
        };
        ASSERT_EQ(http_server_start(&(HttpServerConfig){.bind = "not an address"}, &s), -EINVAL);
        ASSERT_EQ(http_server_start(&cfg, &s), 0);
        test_stream(port);

        char *r = roundtrip(port, "GET /hello.json?who=a%20b HTTP/1.1\r\nHost: x\r\nX-Test: t\r\n"
                                  "Connection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 200", 12) == 0);
        ASSERT_TRUE(strstr(r, "{\"who\":\"a b\",\"h\":\"t\"}"));
        ASSERT_TRUE(strstr(r, "Access-Control-Allow-Origin: *"));
        ASSERT_TRUE(strstr(r, "application/json"));
        free(r);

        r = roundtrip(port,
                "POST /items/42 HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
                "hello");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 201", 12) == 0);
        ASSERT_TRUE(strstr(r, "\r\n\r\n42 POST 5"));
        free(r);

        r = roundtrip(port, "DELETE /items/7 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(strstr(r, "\r\n\r\n7 DELETE 0"));
        free(r);

        /* Unknown path, wrong method: 404 with Rails' JSON. */
        r = roundtrip(port, "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 404", 12) == 0);
        ASSERT_TRUE(strstr(r, "{\"status\":404,\"error\":\"Not Found\"}"));
        free(r);
        r = roundtrip(port, "POST /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 404", 12) == 0);
        free(r);
        /* A method no route has (PUT here, TRACE, a lowercase "get"): 405 with Allow,
         * whatever the path. */
        static const char *const not_allowed[] = {
                "PUT /items/7", "TRACE /hello", "TRACE /nope", "CONNECT /hello", "get /hello", "FOO /"};
        for (size_t i = 0; i < sizeof not_allowed / sizeof not_allowed[0]; i++) {
                char req[128];
                snprintf(req, sizeof req, "%s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                        not_allowed[i]);
                r = roundtrip(port, req);
                ASSERT_TRUE(strncmp(r, "HTTP/1.1 405", 12) == 0);
                ASSERT_TRUE(strstr(r, "\r\nAllow: GET, HEAD, POST, DELETE, OPTIONS\r\n"));
                ASSERT_TRUE(strstr(r, "\r\n\r\n{\"error\":\"method not allowed\"}"));
                free(r);
        }

        /* CORS preflight. */
        r = roundtrip(port,
                "OPTIONS /items/7 HTTP/1.1\r\nHost: x\r\nOrigin: http://o\r\n"
                "Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: x-auth-token\r\n"
                "Connection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 200", 12) == 0);
        ASSERT_TRUE(strstr(r, "Access-Control-Allow-Headers: x-auth-token"));
        ASSERT_TRUE(strstr(r, "Access-Control-Allow-Methods: "));
        free(r);

        /* Bodies above the ceiling: by Content-Length, and by what arrives (chunked). */
        r = roundtrip(port,
                "POST /items/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 4096\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 413", 12) == 0);
        ASSERT_TRUE(strstr(r, "{\"error\":\"request body is too large\"}"));
        free(r);
        char chunked[4096];
        char big[1500];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = '\0';
        snprintf(chunked, sizeof chunked,
                "POST /items/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: "
                "close\r\n\r\n"
                "%zx\r\n%s\r\n0\r\n\r\n",
                strlen(big), big);
        r = roundtrip(port, chunked);
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 413", 12) == 0);
        free(r);

        /* Suspended, answered from another thread. */
        r = roundtrip(port, "GET /items/wait HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        ASSERT_TRUE(strncmp(r, "HTTP/1.1 202", 12) == 0);
        ASSERT_TRUE(strstr(r, "{\"error\":\"later\"}"));
        free(r);

        HttpStats st;
        http_server_stats(s, &st);
        ASSERT_EQ(st.suspended, 0u);
        http_server_free(s);
        return 0;
}
