/* SPDX-License-Identifier: MIT */
#pragma once

/* A small HTTP server over libmicrohttpd (the only module that includes it): a route
 * table (method + path pattern -> handler), query and header access, JSON replies, CORS,
 * Rails' optional ".json" suffix, a request body ceiling (413), and suspended requests:
 * a handler may leave a request unanswered (http_request_suspend()) and answer it later
 * from any thread with http_reply(); no thread is held while it waits.
 *
 * Ownership: an HttpRequest belongs to the server. A handler answers it exactly once with
 * http_reply*() before returning, or calls http_request_suspend() and then answers it
 * exactly once later (from any thread); the request stays valid until it is answered. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HttpServer HttpServer;
typedef struct HttpRequest HttpRequest;

#define HTTP_MAX_PARAMS 4
/* The longest path kept, the NUL included: longer ones are cut (and then found nowhere). */
#define HTTP_MAX_PATH 2048

/* params: the ":name" segments of the pattern, in order. */
typedef void (*HttpHandler)(HttpRequest *req, const char *const *params, void *userdata);

typedef struct HttpRoute {
        const char *method; /* "GET", "POST", "DELETE" */
        const char *pattern; /* "/submissions/:token"; literal segments match exactly */
        HttpHandler handler;
} HttpRoute;

/* The router, without a server (what dispatch uses, and the fuzz target): the first route
 * of routes[0..n_routes) whose pattern matches path and whose method is method. Segments
 * are split at '/', empty ones ignored ("//a/" is "/a"), at most 16.
 * On success returns the route's index; ret_params[] holds the ":name" segments in order
 * (pointing into buf, HTTP_MAX_PATH bytes that the caller provides), then NULL.
 * -ENOENT: no route has this path; -EOPNOTSUPP: some have, none with this method (the
 * server answers 404 for both, as Rails does, but serves static files only for the first);
 * -ENAMETOOLONG: path has HTTP_MAX_PATH bytes or more. ret_params is written on success
 * only. */
int http_route_match(const HttpRoute *routes, size_t n_routes, const char *method, const char *path,
        char buf[HTTP_MAX_PATH], const char *ret_params[HTTP_MAX_PARAMS + 1]);

/* The methods the server answers, as an Allow header's value, into buf (size bytes): the
 * route table's, HEAD with GET (the static files), and OPTIONS (the CORS preflight), in
 * the order GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS ("GET, HEAD, POST, OPTIONS").
 * A request with any other method (TRACE, CONNECT, "get"...) is answered 405 with it.
 * -EINVAL when a route's method is not one of these, -ENOBUFS when buf is too small. */
int http_allow_methods(const HttpRoute *routes, size_t n_routes, char *buf, size_t size);

/* The path the router sees for a request's url (its query already split off): cut to
 * HTTP_MAX_PATH - 1 bytes, and without Rails' optional ".json" suffix. */
void http_path_normalize(const char *url, char ret[HTTP_MAX_PATH]);

typedef struct HttpServerConfig {
        const char *bind; /* IPv4 or IPv6 address literal */
        uint16_t port;
        unsigned threads; /* MHD's thread pool (epoll); 0 = 2 */
        /* Past either limit (0 = none), a connection is still accepted, and its request
         * answered 503 with Retry-After: 1 and {"error":"..."} (a fixed answer, built once),
         * then closed. Past max_connections + max(max_connections / 4, 64) (with 0:
         * HTTP_UNLIMITED_CONNECTIONS + ...) connections are closed at once, unanswered: the
         * ceiling of what refused clients may hold. */
        unsigned max_connections;
        unsigned max_connections_per_ip;
        unsigned connection_timeout_sec;
        size_t max_body; /* bytes; more is 413 {"error":"request body is too large"} */
        const HttpRoute *routes; /* tried in order: put literal routes first */
        size_t n_routes;
        void *userdata; /* given to every handler */
        /* Static files (the web IDE) for GET requests no route answers, and for "/":
         * NULL = none. Its regular files (no symlink followed; at most 4096 files and
         * 128 MiB) are read into memory at start: a server that gives up root afterwards
         * still serves them, and a request never touches the disk. */
        const char *static_dir;
} HttpServerConfig;

/* What max_connections 0 stands for when sizing the tables. */
#define HTTP_UNLIMITED_CONNECTIONS 65536

typedef struct HttpStats {
        uint64_t refused; /* requests answered 503 past a connection limit (not in requests) */
        uint64_t requests; /* answered */
        uint64_t by_class[6]; /* [1..5]: 1xx..5xx */
        uint64_t suspended; /* waiting right now */
} HttpStats;

/* Start listening. -EADDRINUSE, -EINVAL (bad address), -EIO. *ret is the caller's:
 * http_server_free() stops the server (answer every suspended request first). */
int http_server_start(const HttpServerConfig *cfg, HttpServer **ret);
/* Stop accepting connections (the listening socket is closed: a new client is refused by
 * the kernel); the connections open are still served. Accepts NULL. */
void http_server_quiesce(HttpServer *s);
/* Wait up to timeout_usec until every request read has been answered and its answer sent
 * (suspended ones included: answer them first). true when none is left. Accepts NULL. */
bool http_server_drain(HttpServer *s, uint64_t timeout_usec);
HttpServer *http_server_free(HttpServer *s);
static inline void http_server_freep(HttpServer **s) {
        http_server_free(*s);
}
void http_server_stats(HttpServer *s, HttpStats *ret);

const char *http_request_method(const HttpRequest *r);
/* The path with the ".json" suffix removed. */
const char *http_request_path(const HttpRequest *r);
/* A query-string parameter (decoded), or NULL. */
const char *http_request_query(HttpRequest *r, const char *name);
/* Whether an Accept-Encoding value lets the answer be gzip (RFC 9110 12.5.3): "gzip" or
 * "x-gzip" with a quality above 0, or else "*" with one; NULL or "" (identity only) is
 * false. An element with a malformed quality is ignored. */
bool http_accepts_gzip(const char *accept_encoding);
/* A request header (case-insensitive name), or NULL. */
const char *http_request_header(HttpRequest *r, const char *name);
/* The body (NUL-terminated; "" when none). */
const char *http_request_body(const HttpRequest *r, size_t *ret_len);
/* The peer's address as text. */
const char *http_request_client_ip(const HttpRequest *r);
uint64_t http_request_id(const HttpRequest *r);
/* Added to the request's log line (e.g. "token=..."); copied; the last one wins. */
void http_request_set_log_note(HttpRequest *r, const char *note);

/* Answer: body is taken over (malloc'd, may be NULL for an empty body) whatever happens.
 * content_type NULL = no Content-Type. Thread-safe for suspended requests. */
void http_reply(HttpRequest *r, unsigned status, const char *content_type, char *body, size_t len);
/* A header for the answer still to come (Set-Cookie, Retry-After, RateLimit-*...): name
 * and value copied; call before http_reply*(). -EINVAL for an empty name, a name with ':'
 * or blanks, or CR/LF in either; -ENOBUFS past HTTP_MAX_REPLY_HEADERS; -EALREADY when the
 * request was answered already. Thread-safe like http_reply(). */
#define HTTP_MAX_REPLY_HEADERS 16
int http_reply_header(HttpRequest *r, const char *name, const char *value);
/* JSON body (malloc'd, taken over); NULL = empty body. */
void http_reply_json(HttpRequest *r, unsigned status, char *json);
/* {"error":"message"}. */
void http_reply_error(HttpRequest *r, unsigned status, const char *message);
/* Leave the request unanswered when the handler returns; answer it later. */
void http_request_suspend(HttpRequest *r);

/* A streamed answer (Server-Sent Events): the status and headers go out at once, the body
 * is what the producer sends, as it sends it (chunked), until it ends the stream. No
 * thread is held: the connection sleeps (suspended) while nothing is pending. What is
 * pending is bounded (HTTP_STREAM_MAX_PENDING): a client that does not read is cut off.
 *
 * Ownership: http_reply_stream() answers req (as http_reply() does) and gives the
 * producer one reference to the stream, which it drops with http_stream_unref() (after
 * http_stream_end(), or when http_stream_send() says the client is gone). The server
 * keeps its own reference until the connection closes. Thread-safe. */
typedef struct HttpStream HttpStream;
#define HTTP_STREAM_MAX_PENDING (1024u * 1024)
/* -ENOMEM; -EALREADY when req was answered already. *ret is the caller's. */
int http_reply_stream(HttpRequest *req, unsigned status, const char *content_type, HttpStream **ret);
/* Queue data (copied). last: the stream ends after it (then the bound does not apply: the
 * last answer may be as large as any reply). -EPIPE: the client is gone, or the stream
 * ended; -ENOBUFS: more than HTTP_STREAM_MAX_PENDING would be pending (the stream is then
 * ended: the client is too slow); -ENOMEM. */
int http_stream_send(HttpStream *s, const char *data, size_t len, bool last);
/* End the stream (what is pending still goes out). Idempotent. */
void http_stream_end(HttpStream *s);
/* Whether the connection is gone (closed by the client, timed out, or ended and sent). */
bool http_stream_closed(HttpStream *s);
HttpStream *http_stream_unref(HttpStream *s);

/* A WebSocket (RFC 6455, src/http/websocket.h frames it): http_reply_websocket() checks
 * the opening handshake (GET, Upgrade: websocket, Connection: upgrade, Sec-WebSocket-
 * Version: 13, a Sec-WebSocket-Key) and answers 101; once the answer is out, fn is called
 * on one of the server's threads (it must not block: hand the socket to a thread of the
 * caller) with the connection's socket (blocking mode; never close() it) and the bytes
 * the client sent after its request (the first frames, if any). The connection is the
 * caller's from then on: http_upgraded_close() ends it, exactly once. When the 101 could
 * not be sent, fn is called once with fd -1 (and u NULL) instead: let go of userdata.
 * -EINVAL: not a
 * WebSocket handshake (nothing answered: answer 400); -EALREADY: answered already. */
typedef struct HttpUpgraded HttpUpgraded;
typedef void (*HttpUpgradeFn)(void *userdata, int fd, const char *extra, size_t extra_len, HttpUpgraded *u);
int http_reply_websocket(HttpRequest *req, HttpUpgradeFn fn, void *userdata);
void http_upgraded_close(HttpUpgraded *u);
static inline void http_stream_unrefp(HttpStream **s) {
        http_stream_unref(*s);
}
