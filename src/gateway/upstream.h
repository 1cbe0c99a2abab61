/* SPDX-License-Identifier: MIT */
#pragma once

/* The gateway's API nodes: a pool of upstream base URLs, load-balanced by least
 * outstanding requests among the healthy ones (ties: round robin), with active health
 * checks (GET /health every interval: ejected after fall consecutive failures, returned
 * after rise consecutive successes; a connect failure of a proxied request counts as a
 * failed check), retries only where safe (a connection never established: any method, on
 * another node; a GET whose node failed or answered 502/503/504: once more on another node),
 * and timeouts. Runs on an httpc client: no thread is held per request. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "httpc/httpc.h"

typedef struct Upstream Upstream;

typedef struct UpstreamConfig {
        const char *const *urls; /* "http://198.18.0.2:2358", no trailing slash; n_urls */
        size_t n_urls;
        uint64_t health_interval_usec; /* 0 = 1 s */
        unsigned fall; /* 0 = 2 */
        unsigned rise; /* 0 = 2 */
        uint64_t connect_timeout_usec; /* 0 = 1 s */
        uint64_t timeout_usec; /* per try; 0 = 30 s (a wait=true request may last that long) */
        unsigned max_tries; /* 0 = 2 */
        /* Added to every request, health checks included (the internal credential). */
        const HttpcHeader *headers;
        size_t n_headers;
        HttpcConfig httpc;
} UpstreamConfig;

typedef struct UpstreamNodeStats {
        const char *url;
        bool healthy;
        uint64_t outstanding;
        uint64_t requests, failures, ejections;
        uint64_t last_check_usec; /* CLOCK_MONOTONIC of the last check, 0 = none yet */
} UpstreamNodeStats;

/* Start health checks (the first round runs at once; a node is healthy until it fails
 * fall checks). A check fails unless it is answered 2xx within the interval (1 s at least).
 * -EINVAL: no url or more than 64, a url that is not http(s)://... or ends in '/', a bad
 * header, fall or rise over 1000. *ret: upstream_stop(). */
int upstream_start(const UpstreamConfig *cfg, Upstream **ret);
/* Stop the checks, wait for the requests in flight (each bounded by timeout_usec; their
 * done functions run) and free. Accepts NULL; returns NULL. */
Upstream *upstream_stop(Upstream *u);

/* Forward a request (path_and_query begins with '/'; headers and body copied; a header with
 * the name of a configured one is dropped, the configured value sent instead). done is
 * called once with the final answer or error: -EHOSTUNREACH when no node is healthy (then
 * at once, from the caller's thread), else from the httpc client's thread, the last try's
 * answer or error (-ECANCELED when the pool stops). When it fails (-EINVAL, -EAGAIN,
 * -ENOMEM), done is not called. */
int upstream_forward(Upstream *u, const char *method, const char *path_and_query, const HttpcHeader *headers,
        size_t n_headers, const void *body, size_t body_len, HttpcDone done, void *userdata);

/* A streamed GET (Server-Sent Events): as upstream_forward(), but a 2xx answer's body goes
 * to on_data as it arrives (httpc's streaming, src/httpc/httpc.h: first the head with len
 * 0, then each chunk; < 0 ends it), and abandoned (NULL: never) is asked about once a
 * second, true ending it. Until a node answers 2xx the pool's failover holds (a connection
 * never established, or a 502/503/504, is tried on another node); once the stream started it
 * is never retried. done comes once at the end (-ECANCELED when on_data or abandoned ended
 * it), with the answer of a status that did not stream. */
typedef int (*UpstreamData)(const HttpcResponse *head, const char *data, size_t len, void *userdata);
int upstream_stream(Upstream *u, const char *path_and_query, const HttpcHeader *headers, size_t n_headers,
        UpstreamData on_data, bool (*abandoned)(void *userdata), HttpcDone done, void *userdata);

/* For a connection the caller opens itself (a WebSocket): the node a request would go to,
 * not one of *tried (which gains it), counted in flight until upstream_release(). 0 with
 * *ret_url (its base url, malloc'd) and *ret_node; -EHOSTUNREACH when none is left. */
int upstream_acquire(Upstream *u, uint64_t *tried, char **ret_url, size_t *ret_node);
/* The connection of upstream_acquire() ended; connect_failed: it could not be opened (a
 * failed check, as for a proxied request). */
void upstream_release(Upstream *u, size_t node, bool connect_failed);

/* A snapshot: n_nodes entries written into ret (at most max); url points into u. */
size_t upstream_stats(Upstream *u, UpstreamNodeStats *ret, size_t max);
/* How many nodes are healthy now. */
size_t upstream_healthy(Upstream *u);
