/* SPDX-License-Identifier: MIT */
#pragma once

/* Result notifications: a worker publishes "this token reached this status"; the
 * processes that wait on results (API nodes: wait=true, SSE streams) subscribe
 * and wake their own waiting requests on their own threads. One interface, two backends:
 *   - in-process ("memory:"): publish calls the subscribers at once, on the publisher's
 *     thread;
 *   - Redis pub/sub ("redis://host:port[/db][?channel=NAME]"): publish is a PUBLISH on the
 *     channel (default "coderunner:done"); each subscriber is a connection of its own read
 *     by a thread of the Notify, which calls the subscribers there.
 * A notification is a hint, not the truth: it may be lost (a subscriber reconnecting) or
 * come twice. A waiter subscribes first, then reads the store, and reads it again when a
 * notification for its token comes (and on a timer as a fallback).
 *
 * Besides "finished", a worker publishes progress (NotifyProgress): the submission went
 * to Processing, and each test case's verdict and measures as it finishes (no outputs:
 * a message stays small, at most NOTIFY_PROGRESS_MAX bytes on the wire; the outputs come
 * with the result in the store). Subscribers of progress (SSE streams) get them in the
 * order published by one worker.
 *
 * NotifyFn runs on a thread that is not the caller's: it must be quick and must not call
 * back into the Notify (hand the token to the waiter's own thread). Thread-safe. */

#include <stdbool.h>
#include <stdint.h>

#include "base/macro.h"
#include "model/submission.h"

typedef struct Notify Notify;

#define NOTIFY_ERROR_MAX 256

typedef void (*NotifyFn)(void *userdata, const char *token, int status_id);

/* Open a notifier. errbuf: NULL or NOTIFY_ERROR_MAX bytes for a one-line reason.
 * Errors: -EINVAL (url), -EPROTONOSUPPORT (a backend this build lacks), connection errors.
 * *ret is the caller's: notify_free(). */
int notify_open(const char *url, char *errbuf, Notify **ret);
/* Stop delivering (joins the backend's thread) and free. Accepts NULL. */
Notify *notify_free(Notify *n);
static inline void notify_freep(Notify **n) {
        notify_free(*n);
}
#define _cleanup_notify_free_ _cleanup_(notify_freep)

const char *notify_backend(const Notify *n);

/* Tell the subscribers that token reached status_id (3..14 final; 0: it could not be
 * judged and was left as it was). */
int notify_publish(Notify *n, const char *token, int status_id);
/* Call fn for every notification from now on (at most NOTIFY_MAX_SUBSCRIBERS per Notify).
 * -ENOSPC when full. The subscription lasts until notify_free(). */
#define NOTIFY_MAX_SUBSCRIBERS 8
int notify_subscribe(Notify *n, NotifyFn fn, void *userdata);
typedef enum NotifyKind {
        NOTIFY_STATUS, /* the submission's status changed (to 2, Processing) */
        NOTIFY_TEST, /* a test case finished */
        _NOTIFY_KIND_MAX,
} NotifyKind;

typedef struct NotifyProgress {
        NotifyKind kind;
        char token[SUBMISSION_TOKEN_LEN + 1];
        int status_id; /* STATUS: the new status; TEST: the test's verdict (0..99) */
        /* TEST only: */
        uint32_t index; /* 0-based */
        int64_t time_usec, wall_time_usec, memory_kib; /* -1 = null */
        int exit_code, exit_signal; /* -1 = null */
        bool memory_limit_exceeded;
} NotifyProgress;

/* The longest progress message on the wire ("TOKEN t 1 3 ..."), NUL included. */
#define NOTIFY_PROGRESS_MAX 256
/* The wire form of a progress message: "TOKEN s STATUS" or
 * "TOKEN t INDEX STATUS TIME WALL MEMORY EXIT SIGNAL MLE" (decimal, -1 for null, MLE 0/1).
 * Returns the length written (NUL-terminated) or -EINVAL for a bad token or value. */
int notify_progress_format(const NotifyProgress *p, char buf[static NOTIFY_PROGRESS_MAX]);
/* Decode len bytes of that form (hostile: every field checked, nothing trailing).
 * -EBADMSG when they are not one. */
int notify_progress_parse(const char *s, size_t len, NotifyProgress *ret);

typedef void (*NotifyProgressFn)(void *userdata, const NotifyProgress *p);
/* Tell the progress subscribers; -EINVAL for a bad message. */
int notify_publish_progress(Notify *n, const NotifyProgress *p);
/* Call fn for every progress message from now on (shares NOTIFY_MAX_SUBSCRIBERS). */
int notify_subscribe_progress(Notify *n, NotifyProgressFn fn, void *userdata);

/* Whether deliveries flow now (Redis: the subscriber connection is up). */
int notify_ping(Notify *n);
