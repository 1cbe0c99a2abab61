/* SPDX-License-Identifier: MIT */
/* GET /health (liveness and readiness: the store answers, the workers run),
 * GET /metrics (Prometheus text format 0.0.4) and GET /openapi.json. None is Judge0's. */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "json/openapi.h"

void api_health(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        int r = store_ping(a->store);
        int q = queue_ping(a->queue);
        QueueStats qs = {};
        if (q >= 0)
                q = queue_stats(a->queue, &qs);
        WorkerStats ws = {};
        size_t live = 0;
        if (r >= 0)
                (void) api_worker_stats(a, &ws, &live);
        /* Writes too: a store that answers but cannot write (a full disk) is not ready. */
        StoreHealth h;
        api_store_health(a, &h);
        if (r >= 0 && h.error < 0)
                r = h.error;
        /* An API node is ready when it can store and queue; in serve the workers must run
         * too (they are part of the same process). */
        bool ok = r >= 0 && q >= 0 && (!a->local_stats || ws.threads > 0) && !atomic_load(&a->shutting_down);
        char store_error[96] = "null";
        if (r < 0)
                snprintf(store_error, sizeof store_error, "\"%s\"", strerror(-r)); /* no quotes in them */
        char *json = NULL;
        if (asprintf(&json,
                    "{\"status\":\"%s\",\"store\":\"%s\",\"store_ok\":%s,\"store_error\":%s,\"queue\":\"%"
                    "s\","
                    "\"queue_ok\":%s,\"queue_length\":%" PRIu64 ",\"queue_max\":%" PRIu64
                    ",\"workers\":%u,\"workers_busy\":%u,\"worker_pools\":%zu}",
                    ok ? "ok" : "unavailable", store_backend(a->store), r >= 0 ? "true" : "false",
                    store_error, queue_backend(a->queue), q >= 0 ? "true" : "false", qs.waiting, qs.max,
                    ws.threads, ws.busy, live) < 0) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        http_reply_json(req, ok ? 200 : 503, json);
}

void api_metrics(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        QueueStats qs = api_queue_stats(a);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        if (a->http) {
                HttpStats hs;
                http_server_stats(a->http, &hs);
                fputs("# HELP coderunner_http_requests_total HTTP requests answered, by status class.\n"
                      "# TYPE coderunner_http_requests_total counter\n",
                        f);
                for (int c = 1; c <= 5; c++)
                        fprintf(f, "coderunner_http_requests_total{code=\"%dxx\"} %" PRIu64 "\n", c,
                                hs.by_class[c]);
                fprintf(f,
                        "# HELP coderunner_http_waiting_requests Requests waiting for a result "
                        "(wait=true).\n"
                        "# TYPE coderunner_http_waiting_requests gauge\n"
                        "coderunner_http_waiting_requests %" PRIu64 "\n"
                        "# HELP coderunner_http_refused_total Requests answered 503 past a connection "
                        "limit.\n"
                        "# TYPE coderunner_http_refused_total counter\n"
                        "coderunner_http_refused_total %" PRIu64 "\n",
                        hs.suspended, hs.refused);
        }
        StoreHealth sh;
        (void) store_health(a->store, false, &sh);
        fprintf(f,
                "# HELP coderunner_store_failing 1 while the store cannot take writes (a full disk...).\n"
                "# TYPE coderunner_store_failing gauge\n"
                "coderunner_store_failing %d\n"
                "# HELP coderunner_store_failed_writes_total Writes the store failed (disk, database).\n"
                "# TYPE coderunner_store_failed_writes_total counter\n"
                "coderunner_store_failed_writes_total %" PRIu64 "\n",
                sh.error < 0, sh.failed_writes);
        fprintf(f,
                "# HELP coderunner_event_streams Open GET /submissions/:token/events streams.\n"
                "# TYPE coderunner_event_streams gauge\n"
                "coderunner_event_streams %" PRIu64 "\n"
                "# HELP coderunner_wait_timeouts_total wait=true requests answered before the result.\n"
                "# TYPE coderunner_wait_timeouts_total counter\n"
                "coderunner_wait_timeouts_total %" PRIu64 "\n"
                "# HELP coderunner_submissions_created_total Submissions accepted.\n"
                "# TYPE coderunner_submissions_created_total counter\n"
                "coderunner_submissions_created_total %" PRIu64 "\n"
                "# HELP coderunner_queue_length Submissions waiting for a worker.\n"
                "# TYPE coderunner_queue_length gauge\n"
                "coderunner_queue_length %" PRIu64 "\n"
                "# HELP coderunner_queue_max The queue's ceiling (MAX_QUEUE_SIZE).\n"
                "# TYPE coderunner_queue_max gauge\n"
                "coderunner_queue_max %" PRIu64 "\n",
                (uint64_t) atomic_load(&a->n_streams), (uint64_t) atomic_load(&a->wait_timeouts),
                (uint64_t) atomic_load(&a->created), qs.waiting, qs.max);
        WorkerStats ws;
        size_t live;
        if (api_worker_stats(a, &ws, &live) >= 0) {
                /* In a cluster: the sum of the live workers' last heartbeats. */
                fprintf(f,
                        "# HELP coderunner_worker_pools Live worker pools (processes).\n"
                        "# TYPE coderunner_worker_pools gauge\n"
                        "coderunner_worker_pools %zu\n"
                        "# HELP coderunner_queue_pending Jobs claimed by a worker, not acknowledged yet.\n"
                        "# TYPE coderunner_queue_pending gauge\n"
                        "coderunner_queue_pending %" PRIu64 "\n"
                        "# HELP coderunner_queue_dead_letters Jobs moved to the dead letters.\n"
                        "# TYPE coderunner_queue_dead_letters gauge\n"
                        "coderunner_queue_dead_letters %" PRIu64 "\n",
                        live, qs.pending, qs.dead);
                fprintf(f,
                        "# HELP coderunner_workers Worker threads.\n"
                        "# TYPE coderunner_workers gauge\n"
                        "coderunner_workers %u\n"
                        "# HELP coderunner_workers_busy Worker threads judging now.\n"
                        "# TYPE coderunner_workers_busy gauge\n"
                        "coderunner_workers_busy %u\n"
                        "# HELP coderunner_judge_failures_total Jobs that could not be judged or stored.\n"
                        "# TYPE coderunner_judge_failures_total counter\n"
                        "coderunner_judge_failures_total %" PRIu64 "\n"
                        "# HELP coderunner_judge_seconds_total Wall time spent judging.\n"
                        "# TYPE coderunner_judge_seconds_total counter\n"
                        "coderunner_judge_seconds_total %.6f\n",
                        ws.threads, ws.busy, ws.failed, ws.run_usec_total / 1e6);
                fputs("# HELP coderunner_judge_duration_seconds Time to judge a submission (compile and "
                      "runs).\n"
                      "# TYPE coderunner_judge_duration_seconds histogram\n",
                        f);
                for (size_t b = 0; b < WORKER_DURATION_BUCKETS; b++)
                        fprintf(f, "coderunner_judge_duration_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
                                worker_duration_bounds_usec[b] / 1e6, ws.duration_buckets[b]);
                fprintf(f,
                        "coderunner_judge_duration_seconds_bucket{le=\"+Inf\"} %" PRIu64 "\n"
                        "coderunner_judge_duration_seconds_sum %.6f\n"
                        "coderunner_judge_duration_seconds_count %" PRIu64 "\n",
                        ws.duration_buckets[WORKER_DURATION_BUCKETS], ws.run_usec_total / 1e6,
                        ws.duration_buckets[WORKER_DURATION_BUCKETS]);
                fputs("# HELP coderunner_judged_total Results written by the workers, by status.\n"
                      "# TYPE coderunner_judged_total counter\n",
                        f);
                for (int s = STATUS_ACCEPTED; s < _STATUS_MAX; s++)
                        fprintf(f, "coderunner_judged_total{status_id=\"%d\",status=\"%s\"} %" PRIu64 "\n",
                                s, status_description(s), ws.by_status[s]);
        }
        uint64_t counts[STORE_STATUS_SLOTS];
        if (store_count_by_status(a->store, counts) >= 0) {
                fputs("# HELP coderunner_submissions Stored submissions, by status.\n"
                      "# TYPE coderunner_submissions gauge\n",
                        f);
                for (int s = STATUS_IN_QUEUE; s < _STATUS_MAX; s++)
                        fprintf(f, "coderunner_submissions{status_id=\"%d\",status=\"%s\"} %" PRIu64 "\n", s,
                                status_description(s), counts[s]);
        }
        if (fclose(f) != 0) {
                free(buf);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}

void api_openapi(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        char *doc = NULL;
        OpenApiAuth auth = {
                .authn_header = a->authn_tokens ? a->cfg.authn_header : NULL,
                .authz_header = a->authz_tokens ? a->cfg.authz_header : NULL,
        };
        int r = openapi_render(api_openapi_json, api_openapi_json_len, &auth, &doc);
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        http_reply_json(req, 200, doc);
}
