/* SPDX-License-Identifier: MIT */
/* Live answers through the gateway: GET /submissions/:token/events (Server-Sent Events)
 * relayed chunk by chunk from an API node, and the count of live streams (these and the
 * interactive runs of gateway-connect.c) against the gateway's cap and each owner's
 * concurrency quota. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/gateway-internal.h"
#include "model/submission.h"

/* How long gateway_stop_streams() waits for the live streams to end before it says so. */
#define STREAMS_STOP_WAIT_USEC (5 * USEC_PER_SEC)

/* ---- the count ---- */

int gw_streams_init(Gateway *g) {
        g->stream_owners = calloc(MAX(g->cfg.max_streams, 1), sizeof *g->stream_owners);
        if (!g->stream_owners)
                return -ENOMEM;
        pthread_mutex_init(&g->streams_lock, NULL);
        pthread_cond_init(&g->streams_cond, NULL);
        return 0;
}

void gw_streams_done(Gateway *g) {
        free(g->stream_owners);
        pthread_cond_destroy(&g->streams_cond);
        pthread_mutex_destroy(&g->streams_lock);
}

/* The owner's slot (streams_lock held), or NULL. */
static GwStreamOwner *owner_slot(Gateway *g, const char *owner) {
        for (size_t i = 0; i < g->n_stream_owners; i++)
                if (strcmp(g->stream_owners[i].owner, owner) == 0)
                        return &g->stream_owners[i];
        return NULL;
}

bool gw_stream_admit(Gateway *g, HttpRequest *req, const Principal *p) {
        uint32_t quota = p->kind == PRINCIPAL_KEY ? p->key.concurrent : g->cfg.session_concurrent;
        pthread_mutex_lock(&g->streams_lock);
        GwStreamOwner *o = owner_slot(g, p->owner);
        bool full = g->stopping_streams || g->n_streams >= g->cfg.max_streams;
        bool over = !full && quota && o && o->n >= quota;
        if (!full && !over) {
                if (!o) { /* n_stream_owners <= n_streams < max_streams: a slot is free */
                        o = &g->stream_owners[g->n_stream_owners++];
                        snprintf(o->owner, sizeof o->owner, "%s", p->owner);
                        o->n = 0;
                }
                o->n++;
                g->n_streams++;
        }
        uint64_t used = o ? o->n : 0;
        pthread_mutex_unlock(&g->streams_lock);
        if (full) {
                atomic_fetch_add(&g->m.stream_refused[0], 1);
                char msg[128];
                snprintf(msg, sizeof msg,
                        "the gateway has too many live streams open (max_streams = %" PRIu64 ")",
                        g->cfg.max_streams);
                gw_reply_unavailable(req, msg);
                return false;
        }
        if (over) {
                atomic_fetch_add(&g->m.stream_refused[1], 1);
                char *json = NULL;
                int r = gwjson_quota_error_encode(
                        "too many live streams open", "concurrent_streams", quota, (double) used, 0, &json);
                gw_reply_encoded(req, 429, r, json);
                return false;
        }
        return true;
}

void gw_stream_release(Gateway *g, const char *owner) {
        pthread_mutex_lock(&g->streams_lock);
        GwStreamOwner *o = owner_slot(g, owner);
        if (o && --o->n == 0)
                *o = g->stream_owners[--g->n_stream_owners];
        g->n_streams--;
        pthread_cond_broadcast(&g->streams_cond);
        pthread_mutex_unlock(&g->streams_lock);
}

uint64_t gw_streams_open(Gateway *g) {
        pthread_mutex_lock(&g->streams_lock);
        uint64_t n = g->n_streams;
        pthread_mutex_unlock(&g->streams_lock);
        return n;
}

bool gw_streams_stopping(Gateway *g) {
        pthread_mutex_lock(&g->streams_lock);
        bool stopping = g->stopping_streams;
        pthread_mutex_unlock(&g->streams_lock);
        return stopping;
}

void gateway_stop_streams(Gateway *g) {
        if (!g)
                return;
        uint64_t until = now_usec(CLOCK_REALTIME) + STREAMS_STOP_WAIT_USEC;
        struct timespec ts = {.tv_sec = (time_t) (until / USEC_PER_SEC),
                .tv_nsec = (long) (until % USEC_PER_SEC * NSEC_PER_USEC)};
        pthread_mutex_lock(&g->streams_lock);
        g->stopping_streams = true;
        while (g->n_streams > 0 && pthread_cond_timedwait(&g->streams_cond, &g->streams_lock, &ts) == 0)
                ;
        if (g->n_streams > 0)
                log_warning(0, "stopping: %" PRIu64 " live streams still open after %d s", g->n_streams,
                        (int) (STREAMS_STOP_WAIT_USEC / USEC_PER_SEC));
        /* They use the gateway: none may outlive it. Each ends within its own bounds (a
         * peer that does not read holds a send CONNECT_SEND_TIMEOUT_SEC at most). */
        while (g->n_streams > 0)
                pthread_cond_wait(&g->streams_cond, &g->streams_lock);
        pthread_mutex_unlock(&g->streams_lock);
}

/* ---- GET /submissions/:token/events ---- */

typedef struct Relay {
        Gateway *g;
        HttpRequest *req; /* until the stream starts (or the answer is relayed) */
        HttpStream *stream;
        char owner[META_ID_MAX];
} Relay;

/* The API node's answer began (len 0) or goes on: on the httpc client's thread. */
static int relay_data(const HttpcResponse *head, const char *data, size_t len, void *userdata) {
        Relay *rl = userdata;
        if (!rl->stream) {
                (void) http_reply_header(rl->req, "Cache-Control", "no-cache");
                (void) http_reply_header(rl->req, "X-Accel-Buffering", "no");
                const char *ct = httpc_response_header(head, "content-type");
                int r = http_reply_stream(rl->req, head->status, ct ? ct : "text/event-stream", &rl->stream);
                rl->req = NULL; /* answered, whatever r says */
                if (r < 0)
                        return r;
        }
        return len > 0 ? http_stream_send(rl->stream, data, len, false) : 0;
}

static bool relay_abandoned(void *userdata) {
        Relay *rl = userdata;
        return (rl->stream && http_stream_closed(rl->stream)) || gw_streams_stopping(rl->g);
}

static void relay_done(HttpcResponse *resp, void *userdata) {
        Relay *rl = userdata;
        if (resp->error < 0 && resp->error != -ECANCELED)
                atomic_fetch_add(&rl->g->m.upstream_errors, 1);
        if (rl->stream) /* the upstream ended, or the client left: either ends the other */
                http_stream_end(rl->stream);
        else if (!rl->req) /* answered already: the stream could not start */
                ;
        else if (resp->error == -ECANCELED) /* stopping before the node answered */
                gw_reply_unavailable(rl->req, "the gateway is stopping");
        else
                gw_relay(rl->req, resp);
        http_stream_unref(rl->stream);
        gw_stream_release(rl->g, rl->owner);
        free(rl);
}

void gw_submission_events(HttpRequest *req, const char *const *params, void *userdata) {
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_READ) || !gw_owns(g, req, &p, params[0]) ||
                !gw_stream_admit(g, req, &p))
                return;
        Relay *rl = calloc(1, sizeof *rl);
        char base[80];
        snprintf(base, sizeof base, "/submissions/%s/events", params[0]);
        const char *const names[] = {"base64_encoded", "fields", NULL};
        _cleanup_free_ char *path = gw_path_with_query(req, base, names);
        if (!rl || !path) {
                free(rl);
                gw_stream_release(g, p.owner);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        *rl = (Relay){.g = g, .req = req};
        snprintf(rl->owner, sizeof rl->owner, "%s", p.owner);
        char rid[32];
        HttpcHeader h[GW_UPSTREAM_HEADERS_MAX];
        size_t n = gw_upstream_headers(g, req, &p, "text/event-stream", NULL, rid, h);
        char note[64];
        snprintf(note, sizeof note, "token=%s events=true", params[0]);
        http_request_set_log_note(req, note);
        http_request_suspend(req);
        int r = upstream_stream(g->up, path, h, n, relay_data, relay_abandoned, relay_done, rl);
        if (r < 0) {
                free(rl);
                gw_stream_release(g, p.owner);
                if (r == -EAGAIN)
                        gw_reply_unavailable(req, "the gateway has too many requests in flight");
                else
                        http_reply_error(req, 502, "the gateway could not forward the request");
        }
}
