/* SPDX-License-Identifier: MIT */
/* The notifier's dispatch: pick the backend from the url, keep the subscribers. And the
 * in-process backend, which delivers on the publisher's thread. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/parse-util.h"
#include "notify/notify-internal.h"

struct Notify {
        const NotifyOps *ops;
        NotifyBackend *backend;
        pthread_rwlock_t lock;
        struct {
                NotifyFn fn; /* one of the two */
                NotifyProgressFn progress_fn;
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
                if (n->subs[i].fn)
                        n->subs[i].fn(n->subs[i].userdata, token, status_id);
        pthread_rwlock_unlock(&n->lock);
}

void notify_deliver_progress(Notify *n, const NotifyProgress *p) {
        pthread_rwlock_rdlock(&n->lock);
        for (size_t i = 0; i < n->n_subs; i++)
                if (n->subs[i].progress_fn)
                        n->subs[i].progress_fn(n->subs[i].userdata, p);
        pthread_rwlock_unlock(&n->lock);
}

/* ---- the wire form of progress ---- */

#define STATUS_ID_MAX 99
/* The largest measure carried (a day in microseconds is 8.64e10; memory in KiB). */
#define MEASURE_MAX INT64_C(1000000000000000)

static const char kind_letter[_NOTIFY_KIND_MAX] = {[NOTIFY_STATUS] = 's', [NOTIFY_TEST] = 't'};

static bool measure_ok(int64_t v) {
        return v >= -1 && v <= MEASURE_MAX;
}

int notify_progress_format(const NotifyProgress *p, char buf[static NOTIFY_PROGRESS_MAX]) {
        if ((unsigned) p->kind >= _NOTIFY_KIND_MAX || !submission_token_valid(p->token) ||
                p->status_id < 0 || p->status_id > STATUS_ID_MAX)
                return -EINVAL;
        int n;
        if (p->kind == NOTIFY_STATUS)
                n = snprintf(buf, NOTIFY_PROGRESS_MAX, "%s s %d", p->token, p->status_id);
        else {
                if (!measure_ok(p->time_usec) || !measure_ok(p->wall_time_usec) ||
                        !measure_ok(p->memory_kib) || p->exit_code < -1 || p->exit_signal < -1)
                        return -EINVAL;
                n = snprintf(buf, NOTIFY_PROGRESS_MAX,
                        "%s t %" PRIu32 " %d %" PRId64 " %" PRId64 " %" PRId64 " %d %d %d", p->token,
                        p->index, p->status_id, p->time_usec, p->wall_time_usec, p->memory_kib, p->exit_code,
                        p->exit_signal, p->memory_limit_exceeded ? 1 : 0);
        }
        if (n < 0 || n >= NOTIFY_PROGRESS_MAX)
                return -EINVAL;
        return n;
}

/* One field of at most 20 bytes, "-1" or a decimal up to max. */
static int field_i64(const char **p, const char *end, int64_t max, int64_t *ret) {
        const char *s = *p;
        size_t n = 0;
        while (s + n < end && s[n] != ' ')
                n++;
        char tmp[24];
        if (n == 0 || n >= sizeof tmp)
                return -EBADMSG;
        memcpy(tmp, s, n);
        tmp[n] = '\0';
        *p = s + n < end ? s + n + 1 : end;
        if (strcmp(tmp, "-1") == 0) {
                *ret = -1;
                return 0;
        }
        uint64_t v;
        if (parse_u64_max(tmp, (uint64_t) max, &v) < 0)
                return -EBADMSG;
        *ret = (int64_t) v;
        return 0;
}

int notify_progress_parse(const char *s, size_t len, NotifyProgress *ret) {
        if (len >= NOTIFY_PROGRESS_MAX || len < SUBMISSION_TOKEN_LEN + 4 || s[SUBMISSION_TOKEN_LEN] != ' ' ||
                s[SUBMISSION_TOKEN_LEN + 2] != ' ' || memchr(s, '\0', len))
                return -EBADMSG;
        NotifyProgress p = {};
        memcpy(p.token, s, SUBMISSION_TOKEN_LEN);
        if (!submission_token_valid(p.token))
                return -EBADMSG;
        char letter = s[SUBMISSION_TOKEN_LEN + 1];
        p.kind = _NOTIFY_KIND_MAX;
        for (size_t k = 0; k < _NOTIFY_KIND_MAX; k++)
                if (kind_letter[k] == letter)
                        p.kind = (NotifyKind) k;
        if (p.kind == _NOTIFY_KIND_MAX)
                return -EBADMSG;
        const char *at = s + SUBMISSION_TOKEN_LEN + 3, *end = s + len;
        int64_t v[8];
        size_t want = p.kind == NOTIFY_STATUS ? 1 : 8;
        static const int64_t max[8] = {
                UINT32_MAX, STATUS_ID_MAX, MEASURE_MAX, MEASURE_MAX, MEASURE_MAX, INT32_MAX, INT32_MAX, 1};
        for (size_t i = 0; i < want; i++) {
                if (at >= end || field_i64(&at, end, want == 1 ? STATUS_ID_MAX : max[i], &v[i]) < 0)
                        return -EBADMSG;
        }
        if (at != end || end[-1] == ' ')
                return -EBADMSG;
        if (p.kind == NOTIFY_STATUS) {
                if (v[0] < 0)
                        return -EBADMSG;
                p.status_id = (int) v[0];
        } else {
                if (v[0] < 0 || v[1] < 0 || v[7] < 0)
                        return -EBADMSG;
                p.index = (uint32_t) v[0];
                p.status_id = (int) v[1];
                p.time_usec = v[2];
                p.wall_time_usec = v[3];
                p.memory_kib = v[4];
                p.exit_code = (int) v[5];
                p.exit_signal = (int) v[6];
                p.memory_limit_exceeded = v[7] == 1;
        }
        *ret = p;
        return 0;
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

static int memory_publish_progress(NotifyBackend *b, const NotifyProgress *p, const char *wire) {
        notify_deliver_progress(b->owner, p);
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
        .publish_progress = memory_publish_progress,
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

static int subscribe(Notify *n, NotifyFn fn, NotifyProgressFn progress_fn, void *userdata) {
        if (!fn && !progress_fn)
                return -EINVAL;
        int r = 0;
        pthread_rwlock_wrlock(&n->lock);
        if (n->n_subs == NOTIFY_MAX_SUBSCRIBERS)
                r = -ENOSPC;
        else {
                n->subs[n->n_subs].fn = fn;
                n->subs[n->n_subs].progress_fn = progress_fn;
                n->subs[n->n_subs].userdata = userdata;
                n->n_subs++;
        }
        pthread_rwlock_unlock(&n->lock);
        return r;
}

int notify_subscribe(Notify *n, NotifyFn fn, void *userdata) {
        return fn ? subscribe(n, fn, NULL, userdata) : -EINVAL;
}

int notify_publish_progress(Notify *n, const NotifyProgress *p) {
        char wire[NOTIFY_PROGRESS_MAX];
        int r = notify_progress_format(p, wire);
        if (r < 0)
                return r;
        return n->ops->publish_progress(n->backend, p, wire);
}

int notify_subscribe_progress(Notify *n, NotifyProgressFn fn, void *userdata) {
        return fn ? subscribe(n, NULL, fn, userdata) : -EINVAL;
}

int notify_ping(Notify *n) {
        return n->ops->ping(n->backend);
}
