/* SPDX-License-Identifier: MIT */
#pragma once

/* The Judge0 CE 1.13.1 endpoints (../shared/reference/judge0-api.md §1), plus /health and
 * /metrics, as an HTTP route table. Submissions are validated and encoded by json/,
 * stored in store/, queued in queue/ and judged by worker/, which reports back through
 * api_notify(): a create with wait=true is answered then (or after wait_timeout_usec with
 * the submission as it is, like Judge0's master). */

#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "json/judge0.h"
#include "lang/language.h"
#include "queue/queue.h"
#include "store/store.h"
#include "worker/worker.h"

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
        /* Whitespace-separated lists; empty or NULL = off. */
        const char *authn_header, *authn_token;
        const char *authz_header, *authz_token;
        const char *allow_ip, *disallow_ip;
        Judge0ConfigInfo config_info; /* its rules pointer is set by api_new() */
} ApiConfig;

typedef struct Api Api;

/* Strings of cfg are copied; store, queue and catalogue stay the caller's and must outlive
 * the Api. *ret is the caller's: api_free(). */
int api_new(const ApiConfig *cfg, Store *store, Queue *queue, const Catalogue *catalogue, Api **ret);
/* Answer every waiting request, stop the wait timer and free. Accepts NULL. */
Api *api_free(Api *a);
/* For /workers, /health and /metrics (may be called once each, before serving). */
void api_set_workers(Api *a, WorkerPool *workers);
void api_set_http(Api *a, HttpServer *http);

/* The route table, static; handlers take the Api as userdata. */
const HttpRoute *api_routes(size_t *ret_n);

/* A WorkerNotify: token reached status_id (0: it could not be judged). */
void api_notify(void *api, const char *token, int status_id);
/* Answer every waiting request now with the submission as it is (shutdown). */
void api_release_waiters(Api *a);
