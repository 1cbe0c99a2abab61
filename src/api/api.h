/* SPDX-License-Identifier: MIT */
#pragma once

/* The Judge0 CE 1.13.1 endpoints, plus /health and /metrics, as an HTTP route table.
 * Submissions are validated and encoded by json/, stored in store/ and queued in queue/;
 * the API never judges. Workers (in this process or in others) publish each result on
 * the notifier; a create with wait=true is answered then, on the API's own thread (or
 * after wait_timeout_usec with the submission as it is, like Judge0's master).
 *
 * Which languages are served, and how many workers run, comes from the store's worker
 * registry (what live workers advertise), never from what is installed where the API
 * runs: the catalogue given to api_new() is only the languages' data. */

#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "json/judge0.h"
#include "lang/language.h"
#include "model/worker-info.h"
#include "notify/notify.h"
#include "queue/queue.h"
#include "store/store.h"

typedef struct ApiConfig {
        Judge0Rules rules; /* language_lookup is set by api_new() */
        bool maintenance_mode;
        const char *maintenance_message;
        bool enable_wait_result;
        bool enable_submission_delete;
        bool enable_batched_submissions;
        uint32_t max_submission_batch_size;
        uint32_t max_per_page; /* GET /submissions: a larger per_page is a 400 */
        uint64_t wait_timeout_usec;
        /* GET /submissions/:token/events: at most this many streams open (more: 503), a
         * heartbeat comment after this long without an event (0: 1000 and 15 s). */
        uint32_t max_event_streams;
        uint64_t event_heartbeat_usec;
        uint64_t worker_timeout_usec; /* a worker silent longer is not alive (0 = 10 s) */
        /* Whitespace-separated lists; empty or NULL = off. */
        const char *authn_header, *authn_token;
        const char *authz_header, *authz_token;
        const char *allow_ip, *disallow_ip;
        Judge0ConfigInfo config_info; /* its rules pointer is set by api_new() */
} ApiConfig;

typedef struct Api Api;

/* Strings of cfg are copied; store, queue, notify and catalogue stay the caller's and must
 * outlive the Api (it subscribes to notify). *ret is the caller's: api_free(). */
int api_new(const ApiConfig *cfg, Store *store, Queue *queue, Notify *notify, const Catalogue *catalogue,
        Api **ret);
/* Answer every waiting request, stop the wait thread and free. Accepts NULL. */
Api *api_free(Api *a);
/* The counters of workers that run in this process (coderunner serve): /workers,
 * /health and /metrics read them at once instead of the registry's last heartbeat.
 * Call before serving. */
typedef void (*ApiLocalStats)(void *userdata, WorkerStats *ret);
void api_set_local_workers(Api *a, ApiLocalStats fn, void *userdata);
void api_set_http(Api *a, HttpServer *http);
/* Interactive runs (GET /api/v2/connect): the live registry through which the API meets
 * the workers (in memory in coderunner serve, through Redis on an API node); without it the
 * route answers 501. Stays the caller's; call before serving. */
typedef struct LiveRegistry LiveRegistry;
void api_set_live(Api *a, LiveRegistry *live);

/* The route table, static; handlers take the Api as userdata. */
const HttpRoute *api_routes(size_t *ret_n);
/* Answer every waiting request now with the submission as it is (shutdown). */
void api_release_waiters(Api *a);
/* The start of a shutdown: new submissions get 503 ("the server is shutting down"), every
 * waiting request is answered now with its token and the submission as it is (as a wait
 * that timed out), and so is every wait=true that comes after; /health answers 503. */
void api_shutdown(Api *a);
