/* SPDX-License-Identifier: MIT */
#pragma once

/* What the notifier's dispatch (notify.c) shares with its backends. The dispatch keeps
 * the subscribers; a backend calls notify_deliver() for each notification it receives. */

#include "config.h"
#include "notify/notify.h"

typedef struct NotifyBackend NotifyBackend;

typedef struct NotifyOps {
        const char *name;
        /* owner: passed back to notify_deliver() from the backend's thread */
        int (*open)(const char *url, Notify *owner, char *errbuf, NotifyBackend **ret);
        void (*free)(NotifyBackend *b); /* stops the backend's thread first */
        int (*publish)(NotifyBackend *b, const char *token, int status_id);
        /* wire: notify_progress_format()'s text */
        int (*publish_progress)(NotifyBackend *b, const NotifyProgress *p, const char *wire);
        int (*ping)(NotifyBackend *b);
} NotifyOps;

extern const NotifyOps notify_memory_ops;
#if HAVE_HIREDIS
extern const NotifyOps notify_redis_ops;
#endif

void notify_set_error(char *errbuf, const char *fmt, ...) _printf_(2, 3);
/* Call every subscriber of n (from a backend, on any thread). */
void notify_deliver(Notify *n, const char *token, int status_id);
/* Call every progress subscriber of n. */
void notify_deliver_progress(Notify *n, const NotifyProgress *p);
