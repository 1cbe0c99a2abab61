/* SPDX-License-Identifier: MIT */
#pragma once

/* Result notifications: a worker publishes "this token reached this status"; the
 * processes that wait on results (API nodes: wait=true, later SSE and WebSocket) subscribe
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
/* Whether deliveries flow now (Redis: the subscriber connection is up). */
int notify_ping(Notify *n);
