/* SPDX-License-Identifier: MIT */
#pragma once

#include <pthread.h>
#include <stdatomic.h>

#include "api/api.h"
#include "model/live.h"

typedef struct Waiter Waiter;
typedef struct EventStream EventStream;

/* The languages as the live workers advertise them: one per catalogue entry, installed
 * (not archived) when a live worker serves it, with that worker's name. A view is
 * replaced when what the workers advertise changes, and kept until api_free(): a pointer
 * from api_languages() stays valid. */
typedef struct LanguageView LanguageView;
struct LanguageView {
        Judge0Language *langs;
        size_t n;
        char *signature; /* the advertised (id, name) pairs, to notice a change */
        char **names; /* owned copies of the advertised names */
        size_t n_names;
        LanguageView *older;
};

/* A token whose result was published, for the wait thread. */
typedef struct Ready {
        struct Ready *next;
        char token[SUBMISSION_TOKEN_LEN + 1];
} Ready;

struct Api {
        ApiConfig cfg;
        Store *store;
        Queue *queue;
        Notify *notify;
        const Catalogue *catalogue;
        ApiLocalStats local_stats;
        void *local_stats_userdata;
        HttpServer *http;
        char **authn_tokens, **authz_tokens, **allow_ips, **disallow_ips;

        pthread_mutex_t view_lock; /* refreshes of the view, and view_failing */
        bool view_failing;
        LanguageView *_Atomic view;
        _Atomic uint64_t view_at_usec; /* CLOCK_MONOTONIC of the last refresh */

        pthread_mutex_t wait_lock;
        pthread_cond_t wait_cond;
        Waiter *waiters;
        Ready *ready; /* published tokens the wait thread has not looked at yet */
        size_t n_ready;
        bool stopping;
        pthread_t timer;
        bool timer_started;

        pthread_mutex_t stream_lock; /* the event streams (api-events.c) */
        EventStream *streams;
        atomic_uint_fast32_t n_streams;

        LiveRegistry *live; /* interactive runs (local or through Redis), else NULL */
        pthread_mutex_t live_lock;
        pthread_cond_t live_cond;
        unsigned n_live; /* WebSocket sessions (api-connect.c) */

        atomic_uint_fast64_t created, wait_timeouts;
        atomic_uint_fast64_t store_probe_usec; /* CLOCK_MONOTONIC of the last store probe */
        atomic_bool shutting_down; /* api_shutdown(): no new submissions, no new waits */

        /* GET /statistics, kept for a while as Judge0 does (api-statistics.c) */
        pthread_mutex_t stats_lock;
        char *stats_json;
        int64_t stats_created_usec, stats_until_usec; /* CLOCK_REALTIME */
};

/* Guards: the IP filter and authentication always; authorization when asked. Answer the
 * request (403/401) and return false when it must stop. */
bool api_guard(Api *a, HttpRequest *req, bool authz);

/* base64_encoded=true in the query (Judge0 compares with the string "true"). */
bool api_query_true(HttpRequest *req, const char *name);
/* Parse `fields` from the query; on error answer 400 and return false. */
bool api_fields(HttpRequest *req, const char *fields, Judge0Fields *ret);
void api_encode_options(Api *a, Judge0Fields fields, bool base64, Judge0EncodeOptions *ret);
/* The request's body when its Content-Type is application/json,
 * application/x-www-form-urlencoded or multipart/form-data (src/json/form.c), else an
 * empty object;
 * answers 400 {"error": "malformed JSON: ..."} and returns -EBADMSG on malformed JSON. */
int api_body(HttpRequest *req, Judge0Body **ret);
/* The languages now (refreshed from the registry at most once a second). Never NULL. */
const LanguageView *api_languages(Api *a);
/* The workers' counters: this process's when it runs them, else the sum of the live
 * workers' last heartbeats. *ret_live: how many worker pools are alive. */
int api_worker_stats(Api *a, WorkerStats *ret, size_t *ret_live);

/* The queue's counts (zero when it cannot say). */
QueueStats api_queue_stats(Api *a);
/* Answer with the error of a failed internal operation: 500 {"error": ...}. */
void api_reply_internal(HttpRequest *req, int r);
/* The store's write health, probing it (at most once a second) while it fails. */
void api_store_health(Api *a, StoreHealth *ret);
/* Refuse a new submission with 503 and a JSON error saying why when the store cannot take
 * writes (a full disk...) or the server is shutting down: true when refused. */
bool api_refuse_new(Api *a, HttpRequest *req);
/* Answer a failed store write: 503 {"error":"the store cannot take writes: ..."} when the
 * store is failing (store_error_is_failure()), else 500 as api_reply_internal(). */
void api_reply_store(HttpRequest *req, int r);
/* Store the submission under a fresh token (written into sub->token). */
int api_store_new(Api *a, Submission *sub);

/* The admission of stored submissions: push their tokens as one step. When the queue
 * refuses (full, down, shutting down), the submissions are discarded, req is answered
 * (503 with the reason) and a negative errno returned. */
int api_enqueue(Api *a, HttpRequest *req, const char *const *tokens, size_t n);
/* Remove a stored submission that was never queued (finished as Internal Error first:
 * the store deletes only final submissions; if the delete fails, that record remains). */
void api_discard(Api *a, const char *token, const char *reason);

/* Wait for token's result, answering req with status 201 then (or on timeout). */
void api_wait(Api *a, HttpRequest *req, const char *token, const Judge0EncodeOptions *o);
/* How a waiting request is answered, on the wait thread: r is store_get()'s result for the
 * token (sub filled when r >= 0: final, or as it is when the wait timed out or the API
 * stops); data is what api_wait_reply() was given, freed with free() afterwards. */
typedef void (*ApiWaitReply)(Api *a, HttpRequest *req, int r, const Submission *sub, void *data);
/* api_wait() with another answer (Piston's): takes data (malloc'd), even on failure. */
void api_wait_reply(Api *a, HttpRequest *req, const char *token, ApiWaitReply reply, void *data);

/* The event streams (api-events.c). A result was published for token: end its streams
 * with it (on the wait thread). */
void api_events_published(Api *a, const char *token);
/* The notifier's progress callback (userdata: the Api). */
void api_events_progress(void *userdata, const NotifyProgress *p);
/* Heartbeats, and the streams whose clients are gone dropped (on the wait thread). */
void api_events_tick(Api *a);
/* End every stream (shutdown). */
void api_events_end_all(Api *a);

/* The WebSocket sessions (api-connect.c): at most this many; wait until none is left
 * (they end by themselves once shutting_down is set). */
#define API_MAX_LIVE_SESSIONS 64
void api_live_wait_sessions(Api *a);

/* What GET /submissions/:token checks before it answers: the guards, `fields`, the stored
 * submission (404 unknown, 410 purged, 500). true with *ret filled (submission_done()),
 * else req is answered. */
bool api_submission_lookup(
        Api *a, HttpRequest *req, const char *token, Judge0Fields *ret_fields, Submission *ret);

/* A Piston execute body made a submission (api-piston.c), for execute and the WebSocket. */
#define API_PISTON_VERSION_MAX 64
typedef struct ApiPistonRun {
        const char *language; /* static, or the catalogue's: outlives the Api's requests */
        char version[API_PISTON_VERSION_MAX];
        bool compiled;
} ApiPistonRun;
/* -EBADMSG (malformed JSON) or -EINVAL (refused): Piston's 400 message in msg; *ret is
 * then the caller's (submission_done()), not stored yet. allowed: the request's
 * PISTON_LANGUAGES_HEADER (NULL: any language). */
int api_piston_prepare(Api *a, const char *body, size_t len, const char *allowed, Submission *ret,
        ApiPistonRun *ret_info, char *msg, size_t msglen);

/* "SIGKILL" for 9, into buf; NULL for no signal (Piston's names). */
const char *api_signal_name(int sig, char buf[static 16]);

/* The OpenAPI document (openapi/openapi.json), compiled in. */
extern const char api_openapi_json[];
extern const size_t api_openapi_json_len;

/* Handlers, one file per resource. */
void api_submission_create(HttpRequest *req, const char *const *params, void *userdata);
void api_submission_get(HttpRequest *req, const char *const *params, void *userdata);
void api_submission_events(HttpRequest *req, const char *const *params, void *userdata);
void api_submission_list(HttpRequest *req, const char *const *params, void *userdata);
void api_submission_delete(HttpRequest *req, const char *const *params, void *userdata);
void api_batch_create(HttpRequest *req, const char *const *params, void *userdata);
void api_batch_get(HttpRequest *req, const char *const *params, void *userdata);
void api_languages_list(HttpRequest *req, const char *const *params, void *userdata);
void api_languages_all(HttpRequest *req, const char *const *params, void *userdata);
void api_language_get(HttpRequest *req, const char *const *params, void *userdata);
void api_statuses(HttpRequest *req, const char *const *params, void *userdata);
void api_about(HttpRequest *req, const char *const *params, void *userdata);
void api_version(HttpRequest *req, const char *const *params, void *userdata);
void api_isolate(HttpRequest *req, const char *const *params, void *userdata);
void api_license(HttpRequest *req, const char *const *params, void *userdata);
void api_config_info(HttpRequest *req, const char *const *params, void *userdata);
void api_system_info(HttpRequest *req, const char *const *params, void *userdata);
void api_statistics(HttpRequest *req, const char *const *params, void *userdata);
void api_workers(HttpRequest *req, const char *const *params, void *userdata);
void api_authenticate(HttpRequest *req, const char *const *params, void *userdata);
void api_authorize(HttpRequest *req, const char *const *params, void *userdata);
void api_root(HttpRequest *req, const char *const *params, void *userdata);
void api_health(HttpRequest *req, const char *const *params, void *userdata);
void api_metrics(HttpRequest *req, const char *const *params, void *userdata);
void api_openapi(HttpRequest *req, const char *const *params, void *userdata);
void api_piston_runtimes(HttpRequest *req, const char *const *params, void *userdata);
void api_piston_execute(HttpRequest *req, const char *const *params, void *userdata);
void api_piston_connect(HttpRequest *req, const char *const *params, void *userdata);
