/* SPDX-License-Identifier: MIT */
#pragma once

/* Outgoing HTTP, asynchronous: one thread drives every transfer of a client through
 * libcurl's multi interface (this module is the only one that includes libcurl), so a
 * thousand slow upstream requests cost no thread each. Callers submit a request with a
 * completion function, called once from the client's thread.
 *
 * Limits: a response body larger than max_response_body fails the transfer (-EMSGSIZE);
 * no redirects are followed; only http and https. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct HttpcClient HttpcClient;

typedef struct HttpcConfig {
        size_t max_response_body; /* bytes; 0 = 16 MiB */
        size_t max_pending; /* transfers queued or running; more: -EAGAIN; 0 = 4096 */
        /* Idle connections kept alive for reuse (libcurl keeps one cache per client, so this
         * is the pool of all hosts together; the oldest goes first). Connections in use are
         * not capped: one per running transfer, max_pending at most. 0 = 64 */
        size_t max_connections_per_host;
        /* When set, a connection to an address for which it returns false is refused
         * before connecting (-EACCES): family AF_INET/AF_INET6, addr in_addr/in6_addr. */
        bool (*address_allowed)(int family, const void *addr);
} HttpcConfig;

typedef struct HttpcHeader {
        const char *name;
        const char *value;
} HttpcHeader;

typedef struct HttpcResponse HttpcResponse;

typedef struct HttpcRequest {
        const char *method; /* "GET", "POST", "PUT", "DELETE"... */
        const char *url;
        const HttpcHeader *headers; /* sent as given; n_headers of them */
        size_t n_headers;
        const void *body; /* copied at submit; NULL = none */
        size_t body_len;
        uint64_t connect_timeout_usec; /* 0 = 2 s */
        uint64_t timeout_usec; /* the whole transfer; 0 = none */
        /* A streamed answer (Server-Sent Events, say): when on_data is set and the answer
         * is 2xx, its body is not kept (nor bounded by max_response_body) but handed to
         * on_data as it arrives, from the client's thread: once with len 0 as soon as the
         * header section is complete (head: status and headers; no body), then each chunk.
         * An on_data that returns < 0 ends the transfer (done gets -ECANCELED). Any other
         * status is kept and given to done as usual. done comes once at the end either way
         * (with an empty body after a streamed answer). userdata is done's. */
        int (*on_data)(const HttpcResponse *head, const char *data, size_t len, void *userdata);
        /* Asked from the client's thread while the transfer runs, about once a second when
         * nothing arrives and at every chunk: true ends it (done gets -ECANCELED). NULL =
         * never (a consumer that went away). */
        bool (*abandoned)(void *userdata);
} HttpcRequest;

typedef struct HttpcResponse {
        /* 0: an HTTP answer came (any status). Else -ECONNREFUSED, -EHOSTUNREACH,
         * -ETIMEDOUT, -ECONNRESET, -EMSGSIZE (body too large), -EPROTO (not HTTP),
         * -EACCES (address refused), -ECANCELED (client stopped), -ENOMEM, -EIO. */
        int error;
        /* Whether any byte of the request may have reached the server: false only when
         * the connection was never established (safe to retry anything). */
        bool sent;
        unsigned status; /* 0 unless a status line came (an error may still have one) */
        HttpcHeader *headers; /* names lower-case; n_headers; owned by the response */
        size_t n_headers;
        char *body; /* NUL-terminated; owned by the response */
        size_t body_len;
        uint64_t elapsed_usec;
} HttpcResponse;

/* The value of a response header (case-insensitive name), or NULL. */
const char *httpc_response_header(const HttpcResponse *r, const char *name);

/* done is called exactly once per submitted request, from the client's thread (or from
 * httpc_stop()'s caller with -ECANCELED). The response and everything in it is valid
 * during the call only; a done function may take over body by setting r->body = NULL. */
typedef void (*HttpcDone)(HttpcResponse *r, void *userdata);

/* Start the client's thread. *ret: httpc_stop(). */
int httpc_start(const HttpcConfig *cfg, HttpcClient **ret);
/* Finish the transfers running (each bounded by its timeout; those without one are
 * cancelled), cancel the queued ones, stop the thread and free. Not from a done function.
 * Accepts NULL; returns NULL. */
HttpcClient *httpc_stop(HttpcClient *c);
/* Queue a request (everything in req is copied). -EAGAIN when max_pending are queued,
 * -EINVAL (a bad method, url or header), -ECANCELED (the client is stopping: a done
 * function's retry), -ENOMEM. When it fails, done is not called. */
int httpc_submit(HttpcClient *c, const HttpcRequest *req, HttpcDone done, void *userdata);

/* Submit and wait, on a running client (from a done function: -EDEADLK): the submit's error, or 0
 * and *ret filled, its error field saying how the transfer ended (an error response keeps
 * its status when one came). httpc_response_done(ret) is the caller's. */
int httpc_wait(HttpcClient *c, const HttpcRequest *req, HttpcResponse *ret);
/* A blocking request, for command-line tools and tests: 0 and *ret filled (its
 * httpc_response_done() is the caller's), or the transport error. */
int httpc_fetch(const HttpcConfig *cfg, const HttpcRequest *req, HttpcResponse *ret);
void httpc_response_done(HttpcResponse *r);
