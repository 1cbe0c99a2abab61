/* SPDX-License-Identifier: MIT */
#pragma once

/* What the files of src/gateway share: the Gateway, the principal of a request, and the
 * steps every handler takes (authenticate, limit, forward). */

#include <pthread.h>
#include <stdatomic.h>

#include "gateway/gateway.h"
#include "json/gateway.h"
#include "json/judge0.h"
#include "json/piston.h"
#include "model/submission.h"

#define GW_COOKIE "coderunner_session"
#define GW_CACHE_SLOTS 4096 /* a power of two */

typedef enum PrincipalKind {
        PRINCIPAL_KEY,
        PRINCIPAL_SESSION,
} PrincipalKind;

/* Who sent a request. */
typedef struct Principal {
        PrincipalKind kind;
        char owner[META_ID_MAX]; /* "key:<id>", "user:<id>" or "session:<hash prefix>" */
        uint32_t scopes;
        MetaKey key; /* PRINCIPAL_KEY */
        MetaSession session; /* PRINCIPAL_SESSION */
        char user_name[META_NAME_MAX]; /* "" = anonymous */
        char client_ip[64];
        /* A key limited to some languages: their ids ("71,54"), sent to the API nodes as
         * PISTON_LANGUAGES_HEADER, which refuse a Piston runtime of another id (only their
         * catalogue knows a runtime's id). "" = any. */
        char languages[META_MAX_LANGUAGES * 11 + 1];
} Principal;

typedef struct KeySlot {
        char hash[META_ID_MAX];
        MetaKey key;
        bool found; /* false: the store said there is no such key */
        uint64_t at; /* CLOCK_MONOTONIC µs of the read, 0 = empty */
} KeySlot;

typedef struct SessionSlot {
        char id_hash[META_ID_MAX];
        MetaSession session;
        char user_name[META_NAME_MAX];
        uint64_t at;
} SessionSlot;

/* Who owns a token: it never changes, so once read it is kept (the store leaves the path
 * of a GET). */
typedef struct OwnerSlot {
        char token[SUBMISSION_TOKEN_LEN + 1];
        char owner[META_ID_MAX];
} OwnerSlot;

typedef struct GwMetrics {
        atomic_uint_fast64_t allowed, limited, quota_refused[3], auth_failed, limiter_fallbacks;
        atomic_uint_fast64_t meta_calls, meta_usec, meta_errors, history_lost;
        atomic_uint_fast64_t upstream_errors;
        atomic_uint_fast64_t stream_refused[2]; /* past max_streams, past the owner's quota */
} GwMetrics;

enum { QUOTA_SUBMISSIONS, QUOTA_CPU, QUOTA_CONCURRENT };

/* The live streams of one owner (event streams and interactive runs). */
typedef struct GwStreamOwner {
        char owner[META_ID_MAX];
        uint64_t n;
} GwStreamOwner;

struct Gateway {
        GatewayConfig cfg; /* strings owned */
        Meta *meta;
        RateLimiter *limiter, *fallback;
        Upstream *up;
        HttpServer *http;
        struct TrustedNet *trusted; /* trusted proxies: addresses and networks */
        size_t n_trusted;

        pthread_mutex_t lock; /* the caches and the outbox */
        KeySlot *keys;
        SessionSlot *sessions;
        OwnerSlot *owners;
        MetaHistory *outbox; /* a ring of outbox_max */
        size_t outbox_head, outbox_len;
        pthread_mutex_t drain_lock; /* one writer of the outbox at a time */
        atomic_bool meta_down;

        pthread_t reconciler;
        bool reconciler_started;
        pthread_mutex_t stop_lock;
        pthread_cond_t stop_cond;
        bool stop;

        /* Live streams: at most cfg.max_streams, and per owner its concurrency quota. */
        pthread_mutex_t streams_lock;
        pthread_cond_t streams_cond; /* one ended */
        uint64_t n_streams;
        GwStreamOwner *stream_owners; /* n_stream_owners of cfg.max_streams */
        size_t n_stream_owners;
        bool stopping_streams; /* gateway_stop_streams(): none starts, those open end */
        bool streams_ready; /* gw_streams_init() succeeded */

        GwMetrics m;
};

/* ---- gateway.c ---- */

/* Time a call to the store, note an outage: r as it came. */
int gw_meta_result(Gateway *g, int r, uint64_t start);
/* A call to the store, timed. While the store is known to be down, no call is made
 * (-ECONNREFUSED at once: a request does not wait for a server that is not there); the
 * reconciler's ping finds out when it is back. */
#define GW_META(g, call) \
        ({ \
                uint64_t _s = now_usec(CLOCK_MONOTONIC); \
                atomic_load(&(g)->meta_down) ? -ECONNREFUSED : gw_meta_result((g), (call), _s); \
        })

/* Authenticate: 0 with *ret, or the request answered (401, 403, 503) and < 0.
 * allow_session: whether a session cookie may stand for a key here. */
int gw_authenticate(Gateway *g, HttpRequest *req, Principal *ret);
/* The session of the cookie, without answering: 0, -ENOENT (none or expired or forged),
 * or a store error. */
int gw_session_of_cookie(Gateway *g, HttpRequest *req, Principal *ret);
void gw_session_forget(Gateway *g, const char *id_hash);
/* The client's address (X-Forwarded-For from a trusted proxy). */
void gw_client_ip(Gateway *g, HttpRequest *req, char ret[64]);
/* Rate limit the address (p NULL) or the principal too: true when allowed (RateLimit-*
 * headers added), else answered 429. */
bool gw_limit(Gateway *g, HttpRequest *req, const Principal *p);
/* 403 unless p has scope. */
bool gw_require(HttpRequest *req, const Principal *p, uint32_t scope);
bool gw_is_admin(const Principal *p);
/* A JSON body answer; on encoding failure 500. */
void gw_reply_encoded(HttpRequest *req, unsigned status, int r, char *json);
void gw_reply_unavailable(HttpRequest *req, const char *what);

/* Keep a history record for later (the store is down): takes h's contents. false when
 * the outbox is full (h is freed). */
bool gw_outbox_push(Gateway *g, MetaHistory *h);
bool gw_outbox_full(Gateway *g);
/* Write what waits in the outbox now (when the store is up), so that what a handler reads
 * next (a history page, an owner's unfinished count) has every record accepted so far. */
void gw_outbox_flush(Gateway *g);
/* The owner of a token: the outbox, the owners seen before, then the store. 0 with ret
 * filled, -ENOENT (nobody's: unknown to this gateway), or a store error. */
int gw_token_owner(Gateway *g, const char *token, char ret[META_ID_MAX]);
/* Forget the owner kept for token (its history record was deleted). */
void gw_owner_forget(Gateway *g, const char *token);
/* The owner of a token waiting in the outbox: true with ret filled. */
bool gw_outbox_owner(Gateway *g, const char *token, char ret[META_ID_MAX]);

/* What to do with an API node's answer; the request is answered by it. */
typedef void (*GwAfter)(Gateway *g, HttpRequest *req, HttpcResponse *resp, void *ctx);
/* Forward to an API node (the request is suspended); after NULL relays the answer.
 * ctx is freed with ctx_free after after ran (or when forwarding fails). */
void gw_forward(Gateway *g, HttpRequest *req, const Principal *p, const char *method,
        const char *path_and_query, const char *content_type, const void *body, size_t len, GwAfter after,
        void *ctx, void (*ctx_free)(void *));
/* Relay an answer as it came (status, body, Content-Type, Retry-After); a transport
 * error as 502/503/504. */
void gw_relay(HttpRequest *req, HttpcResponse *resp);
/* path + the query parameters named (those present), encoded: malloc'd. */
char *gw_path_with_query(HttpRequest *req, const char *path, const char *const *names);

/* The headers of a request to an API node: the internal credential (and the admin one for
 * an admin), Accept, X-Request-Id (written into rid), X-Forwarded-For (p non-NULL) and
 * Content-Type (when given). Returns how many were written into h. */
#define GW_UPSTREAM_HEADERS_MAX 7
size_t gw_upstream_headers(Gateway *g, HttpRequest *req, const Principal *p, const char *accept,
        const char *content_type, char rid[static 32], HttpcHeader h[static GW_UPSTREAM_HEADERS_MAX]);

/* ---- gateway-proxy.c: Judge0 and Piston routes ---- */
/* Authenticate, limit, check the scope (0: none): false when the request was answered. */
bool gw_admit(Gateway *g, HttpRequest *req, Principal *p, uint32_t scope);
/* Whether p may see token: true, or answered (404 for a malformed or unknown token or
 * another's, 503) and false. */
bool gw_owns(Gateway *g, HttpRequest *req, const Principal *p, const char *token);
/* Why a request was refused, for an HTTP answer or a WebSocket's error message. */
typedef struct GwRefusal {
        unsigned status; /* 400 (Piston's {"message"}), 429 (a quota), 503 */
        char message[256];
        const char *quota; /* 429: the quota's name ("submissions_per_day") */
        double limit, used;
        int64_t resets_at; /* µs since the epoch; 0 = none */
} GwRefusal;
/* Answer a refusal: Piston's {"message"}, the quota's body with Retry-After, or 503. */
void gw_reply_refusal(HttpRequest *req, const GwRefusal *refusal);
/* The checks of a Piston run (POST /api/v2/execute's body, or a WebSocket's init) for p,
 * after its scope and rate: the key's languages (a key limited to some ids cannot run
 * Piston's named runtimes), its ceilings (Piston's wording; a run limit left out gets the
 * ceiling when that is below the API node's default: *ret_body is then the rewritten body
 * to send, else NULL), the quotas. 0; -EACCES with *refusal; -ENOMEM. A body the API node
 * will refuse anyway (malformed, a required field missing) passes to be answered there. */
int gw_piston_check(
        Gateway *g, const Principal *p, const char *body, size_t len, char **ret_body, GwRefusal *refusal);
/* A Piston run was accepted: it counts against the owner's daily quota. */
void gw_count_run(Gateway *g, const char *owner);

void gw_submission_create(HttpRequest *req, const char *const *params, void *userdata);
void gw_batch_create(HttpRequest *req, const char *const *params, void *userdata);
void gw_submission_get(HttpRequest *req, const char *const *params, void *userdata);
void gw_submission_delete(HttpRequest *req, const char *const *params, void *userdata);
void gw_submission_list(HttpRequest *req, const char *const *params, void *userdata);
void gw_batch_get(HttpRequest *req, const char *const *params, void *userdata);
void gw_pass_read(HttpRequest *req, const char *const *params, void *userdata);
void gw_pass_admin(HttpRequest *req, const char *const *params, void *userdata);
void gw_piston_execute(HttpRequest *req, const char *const *params, void *userdata);
/* Poll the results of unfinished submissions of the history (the reconciler). */
void gw_reconcile(Gateway *g);

/* ---- gateway-stream.c: live streams ---- */
int gw_streams_init(Gateway *g);
void gw_streams_done(Gateway *g);
/* Count a live stream of p: true, or answered (503 past max_streams or while stopping,
 * 429 past the owner's concurrency quota) and false. */
bool gw_stream_admit(Gateway *g, HttpRequest *req, const Principal *p);
void gw_stream_release(Gateway *g, const char *owner);
/* How many live streams are open. */
uint64_t gw_streams_open(Gateway *g);
/* Whether gateway_stop_streams() was called: every live stream ends. */
bool gw_streams_stopping(Gateway *g);
void gw_submission_events(HttpRequest *req, const char *const *params, void *userdata);

/* ---- gateway-connect.c: interactive runs ---- */
void gw_connect(HttpRequest *req, const char *const *params, void *userdata);

/* ---- gateway-session.c: sessions, accounts, history, client configuration ---- */
void gw_session_create(HttpRequest *req, const char *const *params, void *userdata);
void gw_session_get(HttpRequest *req, const char *const *params, void *userdata);
void gw_register(HttpRequest *req, const char *const *params, void *userdata);
void gw_login(HttpRequest *req, const char *const *params, void *userdata);
void gw_logout(HttpRequest *req, const char *const *params, void *userdata);
void gw_history_list(HttpRequest *req, const char *const *params, void *userdata);
void gw_history_delete(HttpRequest *req, const char *const *params, void *userdata);
void gw_client_config(HttpRequest *req, const char *const *params, void *userdata);
void gw_health(HttpRequest *req, const char *const *params, void *userdata);
void gw_metrics(HttpRequest *req, const char *const *params, void *userdata);

/* ---- gateway-share.c: the IDE's short share links ---- */
void gw_share_create(HttpRequest *req, const char *const *params, void *userdata);
void gw_share_get(HttpRequest *req, const char *const *params, void *userdata);
