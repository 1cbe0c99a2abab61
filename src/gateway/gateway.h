/* SPDX-License-Identifier: MIT */
#pragma once

/* The gateway: the only door into a cluster. It authenticates (API keys, browser
 * sessions), limits (rates, quotas), validates and caps requests, and forwards the allowed
 * routes to the API nodes with an internal credential that they require; it records who
 * created each submission (ownership) and keeps each owner's history; it serves the
 * client configuration. Metadata lives in a Meta store; rate state in memory or Redis.
 *
 * Threads: handlers run on the HTTP server's threads and never wait for an API node (the
 * request is suspended and answered from the upstream client's thread); one reconciler
 * thread reads the results of unfinished submissions of the history and drains the
 * outbox of history writes kept while the metadata store was down. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/ratelimit.h"
#include "gateway/upstream.h"
#include "http/http.h"
#include "meta/meta.h"

typedef struct GatewayConfig {
        /* The internal credential: added to every request to an API node as
         * internal_header (API nodes are configured with it as their authn header and
         * token); admin requests also carry admin_header with the same secret. */
        const char *internal_header; /* "X-Coderunner-Internal" */
        const char *admin_header; /* "X-Coderunner-Admin" */
        const char *internal_secret;
        /* Cookies are signed with this secret (HMAC-SHA256); Secure cookies when set. */
        const char *session_secret;
        bool cookie_secure;
        uint64_t session_ttl_usec;
        bool accounts; /* register / login / logout */
        /* Rates (requests per second and burst): a key without its own, a session, and
         * every client address. */
        double key_rate, session_rate, ip_rate;
        uint32_t key_burst, session_burst, ip_burst;
        /* Quotas of sessions (keys carry their own): 0 = none. */
        uint32_t session_quota_day;
        uint32_t session_concurrent;
        /* Whitespace-separated addresses whose X-Forwarded-For is believed (the edge, the
         * code-client); "" = none. */
        const char *trusted_proxies;
        uint64_t key_cache_usec; /* how long a key or session read is reused (revocation delay) */
        uint64_t outage_cache_usec; /* how long it is reused while the store is down */
        size_t outbox_max; /* history writes kept while the store is down */
        uint64_t reconcile_interval_usec;
        size_t max_body; /* bytes */
        /* Live streams open at once (event streams and interactive runs together): more
         * are 503. 0 = GATEWAY_DEFAULT_MAX_STREAMS. */
        uint64_t max_streams;
} GatewayConfig;
#define GATEWAY_DEFAULT_MAX_STREAMS 1024

typedef struct Gateway Gateway;

/* meta, limiter and upstream stay the caller's and must outlive the gateway. Strings of
 * cfg are copied. *ret: gateway_free(). */
int gateway_new(
        const GatewayConfig *cfg, Meta *meta, RateLimiter *limiter, Upstream *upstream, Gateway **ret);
/* Stop the reconciler (a last drain of the outbox is tried) and free. Accepts NULL. */
Gateway *gateway_free(Gateway *g);
void gateway_set_http(Gateway *g, HttpServer *http);
/* Refuse new live streams and end those open (event streams and interactive runs), and
 * wait until they are gone (each ends within its bounds; a warning after 5 s): before the
 * HTTP server drains, and before the upstream pool stops. Accepts NULL. */
void gateway_stop_streams(Gateway *g);
/* The route table (static): handlers take the Gateway as userdata. */
const HttpRoute *gateway_routes(size_t *ret_n);

/* API keys, for the command line and the tests. */
typedef struct GatewayKeySpec {
        const char *name;
        uint32_t scopes; /* META_SCOPE_*; 0 = submit|read */
        double rate;
        uint32_t burst;
        uint32_t quota_day;
        double cpu_seconds_day;
        uint32_t concurrent;
        const int *languages;
        size_t n_languages;
        double max_cpu_time_limit, max_wall_time_limit;
        uint64_t max_memory_limit;
} GatewayKeySpec;
#define GATEWAY_KEY_TEXT_MAX 64
/* Create a key: its text (shown once) in ret_text, its record in ret (may be NULL). */
int gateway_key_create(
        Meta *meta, const GatewayKeySpec *spec, char ret_text[GATEWAY_KEY_TEXT_MAX], MetaKey *ret);
/* "submit,read,admin" -> bits; -EINVAL naming nothing known. */
int gateway_scopes_parse(const char *s, uint32_t *ret);
void gateway_scopes_format(uint32_t scopes, char *buf, size_t size);
/* Whether a client configuration key and value are valid; a reason in errbuf if not. */
bool gateway_client_config_valid(const char *key, const char *value, char *errbuf, size_t errlen);
