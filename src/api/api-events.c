/* SPDX-License-Identifier: MIT */
/* GET /submissions/:token/events (an extension): the submission's life as Server-Sent
 * Events. Each stream is a streamed answer of src/http (no thread held); the notifier's
 * progress (status 2, each test case) is written into the streams of its token on the
 * notifier's thread, the result ("result": GET's body) on the API's wait thread when the
 * worker publishes it, and then the stream ends. The wait thread's tick sends the
 * heartbeats (SSE comments) and drops the streams whose clients are gone. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "base/macro.h"
#include "base/time-util.h"

struct EventStream {
        EventStream *next;
        char token[SUBMISSION_TOKEN_LEN + 1];
        HttpStream *http; /* the producer's reference */
        Judge0EncodeOptions o;
        int last_status; /* the last status event sent (0: none yet) */
        uint64_t last_write_usec; /* CLOCK_MONOTONIC */
};

static void stream_free(EventStream *s) {
        if (!s)
                return;
        http_stream_unref(s->http);
        free(s);
}

/* "event: NAME\ndata: JSON\n\n" (data is one line: compact JSON). Under stream_lock or
 * with s taken off the list. */
static int send_event(EventStream *s, const char *name, const char *json, bool last) {
        _cleanup_free_ char *buf = NULL;
        int n = asprintf(&buf, "event: %s\ndata: %s\n\n", name, json);
        if (n < 0) {
                buf = NULL;
                return -ENOMEM;
        }
        s->last_write_usec = now_usec(CLOCK_MONOTONIC);
        return http_stream_send(s->http, buf, (size_t) n, last);
}

static int send_status(EventStream *s, int status_id) {
        if (status_id <= s->last_status)
                return 0; /* statuses only move forward: a repeat or a late one says nothing */
        _cleanup_free_ char *json = NULL;
        int r = judge0_event_status_encode(s->token, status_id, &s->o, &json);
        if (r < 0)
                return r;
        s->last_status = status_id;
        return send_event(s, "status", json, false);
}

/* The last events of a final submission: its status, then the result; the stream ends. */
static void send_final(EventStream *s, const Submission *sub) {
        _cleanup_free_ char *json = NULL;
        if (send_status(s, sub->status_id) < 0 || judge0_submission_encode(sub, &s->o, &json) < 0)
                http_stream_end(s->http);
        else
                (void) send_event(s, "result", json, true);
}

static void list_add(Api *a, EventStream *s) {
        s->next = a->streams;
        a->streams = s;
        atomic_fetch_add(&a->n_streams, 1);
}

/* Take s off the list if it is still there (under stream_lock); whether it was. */
static bool list_take(Api *a, EventStream *s) {
        for (EventStream **p = &a->streams; *p; p = &(*p)->next)
                if (*p == s) {
                        *p = s->next;
                        s->next = NULL;
                        atomic_fetch_sub(&a->n_streams, 1);
                        return true;
                }
        return false;
}

static bool list_has(Api *a, EventStream *s) {
        for (EventStream *p = a->streams; p; p = p->next)
                if (p == s)
                        return true;
        return false;
}

/* Take the streams of token (NULL: all) off the list. */
static EventStream *take_streams(Api *a, const char *token) {
        EventStream *taken = NULL;
        pthread_mutex_lock(&a->stream_lock);
        for (EventStream **p = &a->streams; *p;) {
                EventStream *s = *p;
                if (!token || strcmp(s->token, token) == 0) {
                        *p = s->next;
                        s->next = taken;
                        taken = s;
                        atomic_fetch_sub(&a->n_streams, 1);
                } else
                        p = &s->next;
        }
        pthread_mutex_unlock(&a->stream_lock);
        return taken;
}

/* Read token's submission and end the streams with its result when it is final; the
 * others go back on the list. */
static void finish_streams(Api *a, EventStream *list) {
        while (list) {
                EventStream *s = list;
                list = s->next;
                Submission sub;
                submission_init(&sub);
                int r = store_get(a->store, s->token, &sub);
                if (r >= 0 && !status_is_final(sub.status_id)) {
                        (void) send_status(s, sub.status_id);
                        pthread_mutex_lock(&a->stream_lock);
                        list_add(a, s);
                        pthread_mutex_unlock(&a->stream_lock);
                        submission_done(&sub);
                        continue;
                }
                if (r >= 0)
                        send_final(s, &sub);
                else
                        http_stream_end(s->http); /* deleted meanwhile, or the store fails */
                submission_done(&sub);
                stream_free(s);
        }
}

void api_events_published(Api *a, const char *token) {
        finish_streams(a, take_streams(a, token));
}

void api_events_end_all(Api *a) {
        for (EventStream *s = take_streams(a, NULL); s;) {
                EventStream *next = s->next;
                http_stream_end(s->http);
                stream_free(s);
                s = next;
        }
}

void api_events_tick(Api *a) {
        if (atomic_load(&a->n_streams) == 0)
                return;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        EventStream *gone = NULL;
        pthread_mutex_lock(&a->stream_lock);
        for (EventStream **p = &a->streams; *p;) {
                EventStream *s = *p;
                bool drop = http_stream_closed(s->http);
                if (!drop && now - s->last_write_usec >= a->cfg.event_heartbeat_usec) {
                        s->last_write_usec = now;
                        drop = http_stream_send(s->http, ": keep-alive\n\n", 14, false) < 0;
                }
                if (drop) {
                        *p = s->next;
                        s->next = gone;
                        gone = s;
                        atomic_fetch_sub(&a->n_streams, 1);
                } else
                        p = &s->next;
        }
        pthread_mutex_unlock(&a->stream_lock);
        for (EventStream *s = gone; s;) {
                EventStream *next = s->next;
                http_stream_end(s->http);
                stream_free(s);
                s = next;
        }
}

/* The notifier's progress, on its thread: written into the streams of the token now. */
void api_events_progress(void *userdata, const NotifyProgress *p) {
        Api *a = userdata;
        if (atomic_load(&a->n_streams) == 0)
                return;
        pthread_mutex_lock(&a->stream_lock);
        for (EventStream *s = a->streams; s; s = s->next) {
                if (strcmp(s->token, p->token) != 0)
                        continue;
                if (p->kind == NOTIFY_STATUS) {
                        (void) send_status(s, p->status_id);
                        continue;
                }
                /* A test runs while Processing, whether or not that was heard. */
                (void) send_status(s, STATUS_PROCESSING);
                SubmissionTest t = {
                        .status_id = p->status_id,
                        .time_usec = p->time_usec,
                        .wall_time_usec = p->wall_time_usec,
                        .memory_kib = p->memory_kib,
                        .exit_code = p->exit_code,
                        .exit_signal = p->exit_signal,
                        .memory_limit_exceeded = p->memory_limit_exceeded,
                };
                _cleanup_free_ char *json = NULL;
                if (judge0_event_test_encode(s->token, p->index, &t, &s->o, &json) >= 0)
                        (void) send_event(s, "test", json, false);
        }
        pthread_mutex_unlock(&a->stream_lock);
}

void api_submission_events(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        Judge0Fields fields;
        Submission sub;
        if (!api_submission_lookup(a, req, params[0], &fields, &sub))
                return;
        submission_done(&sub);
        if (atomic_load(&a->shutting_down)) {
                http_reply_error(req, 503, "the server is shutting down");
                return;
        }
        EventStream *s = calloc(1, sizeof *s);
        if (!s) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        snprintf(s->token, sizeof s->token, "%s", params[0]);
        api_encode_options(a, fields, api_query_true(req, "base64_encoded"), &s->o);
        s->last_write_usec = now_usec(CLOCK_MONOTONIC);

        /* The cap, and the registration before the store is read again: what is published
         * from now on reaches the stream, what was before is in the store. */
        pthread_mutex_lock(&a->stream_lock);
        bool full = atomic_load(&a->n_streams) >= a->cfg.max_event_streams;
        int r = full ? -EBUSY : 0;
        if (!full) {
                (void) http_reply_header(req, "Cache-Control", "no-cache");
                (void) http_reply_header(req, "X-Accel-Buffering", "no");
                r = http_reply_stream(req, 200, "text/event-stream; charset=utf-8", &s->http);
                if (r >= 0)
                        list_add(a, s);
        }
        pthread_mutex_unlock(&a->stream_lock);
        if (r < 0) {
                free(s);
                if (full) {
                        (void) http_reply_header(req, "Retry-After", "1");
                        char msg[96];
                        snprintf(msg, sizeof msg,
                                "too many event streams (max_event_streams = %" PRIu32 "): retry later",
                                a->cfg.max_event_streams);
                        http_reply_error(req, 503, msg);
                } else
                        api_reply_internal(req, r);
                return;
        }
        /* From here on s may be ended and freed by another thread (its result published):
         * it is looked at only while it is on the list, under stream_lock. */
        char note[64];
        snprintf(note, sizeof note, "token=%s events=true", params[0]);
        http_request_set_log_note(req, note);

        submission_init(&sub);
        r = store_get(a->store, params[0], &sub);
        bool final = r < 0 || status_is_final(sub.status_id);
        pthread_mutex_lock(&a->stream_lock);
        bool mine = false;
        if (final) /* whoever takes the stream off the list ends it: here or the wait thread */
                mine = list_take(a, s);
        else if (list_has(a, s))
                (void) send_status(s, sub.status_id);
        pthread_mutex_unlock(&a->stream_lock);
        if (mine) {
                if (r >= 0)
                        send_final(s, &sub);
                else
                        http_stream_end(s->http);
                stream_free(s);
        }
        submission_done(&sub);
}
