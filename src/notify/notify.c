/* SPDX-License-Identifier: MIT */
/* The notifier's dispatch: pick the backend from the url, keep the subscribers. And the
 * in-process backend, which delivers on the publisher's thread. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify/notify-internal.h"

struct Notify {
        const NotifyOps *ops;
        NotifyBackend *backend;
        pthread_rwlock_t lock;
        struct {
                NotifyFn fn;
                void *userdata;
        } subs[NOTIFY_MAX_SUBSCRIBERS];
        size_t n_subs;
};

void notify_set_error(char *errbuf, const char *fmt, ...) {
        if (!errbuf)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, NOTIFY_ERROR_MAX, fmt, ap);
        va_end(ap);
}

void notify_deliver(Notify *n, const char *token, int status_id) {
        pthread_rwlock_rdlock(&n->lock);
        for (size_t i = 0; i < n->n_subs; i++)
                n->subs[i].fn(n->subs[i].userdata, token, status_id);
        pthread_rwlock_unlock(&n->lock);
}

/* ---- in-process ---- */

struct NotifyBackend {
        Notify *owner;
};

static int memory_open(const char *url, Notify *owner, char *errbuf, NotifyBackend **ret) {
        if (strcmp(url, "memory:") != 0) {
                notify_set_error(errbuf, "the in-process notifier's url is \"memory:\", not \"%s\"", url);
                return -EINVAL;
        }
        NotifyBackend *b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        b->owner = owner;
        *ret = b;
        return 0;
}

static void memory_free(NotifyBackend *b) {
        free(b);
}

static int memory_publish(NotifyBackend *b, const char *token, int status_id) {
        notify_deliver(b->owner, token, status_id);
        return 0;
}

static int memory_ping(NotifyBackend *b) {
        return 0;
}

const NotifyOps notify_memory_ops = {
        .name = "memory",
        .open = memory_open,
        .free = memory_free,
        .publish = memory_publish,
        .ping = memory_ping,
};

/* ---- dispatch ---- */

static const struct {
        const char *prefix;
        const NotifyOps *ops;
} schemes[] = {
        {"memory:", &notify_memory_ops},
#if HAVE_HIREDIS
        {"redis://", &notify_redis_ops},
#endif
};

int notify_open(const char *url, char *errbuf, Notify **ret) {
        const NotifyOps *ops = NULL;
        for (size_t i = 0; url && i < ELEMENTSOF(schemes) && !ops; i++)
                if (strncmp(url, schemes[i].prefix, strlen(schemes[i].prefix)) == 0)
                        ops = schemes[i].ops;
        if (!ops) {
                bool redis = url && strncmp(url, "redis://", 8) == 0;
                notify_set_error(errbuf,
                        redis ? "this build has no Redis support (libhiredis)"
                              : "unknown notify url \"%s\" (memory: or redis://host:port)",
                        url ? url : "");
                return redis ? -EPROTONOSUPPORT : -EINVAL;
        }
        Notify *n = calloc(1, sizeof *n);
        if (!n)
                return -ENOMEM;
        n->ops = ops;
        pthread_rwlock_init(&n->lock, NULL);
        int r = ops->open(url, n, errbuf, &n->backend);
        if (r < 0) {
                pthread_rwlock_destroy(&n->lock);
                free(n);
                return r;
        }
        *ret = n;
        return 0;
}

Notify *notify_free(Notify *n) {
        if (!n)
                return NULL;
        n->ops->free(n->backend);
        pthread_rwlock_destroy(&n->lock);
        free(n);
        return NULL;
}

const char *notify_backend(const Notify *n) {
        return n->ops->name;
}

int notify_publish(Notify *n, const char *token, int status_id) {
        if (!submission_token_valid(token))
                return -EINVAL;
        return n->ops->publish(n->backend, token, status_id);
}

int notify_subscribe(Notify *n, NotifyFn fn, void *userdata) {
        if (!fn)
                return -EINVAL;
        int r = 0;
        pthread_rwlock_wrlock(&n->lock);
        if (n->n_subs == NOTIFY_MAX_SUBSCRIBERS)
                r = -ENOSPC;
        else {
                n->subs[n->n_subs].fn = fn;
                n->subs[n->n_subs].userdata = userdata;
                n->n_subs++;
        }
        pthread_rwlock_unlock(&n->lock);
        return r;
}

int notify_ping(Notify *n) {
        return n->ops->ping(n->backend);
}
