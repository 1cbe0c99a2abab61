/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/fd-util.h"
#include "base/macro.h"
#include "model/live-backend.h"

void live_channel_close(LiveChannel *ch) {
        ch->stdin_fd = safe_close(ch->stdin_fd);
        ch->stdout_fd = safe_close(ch->stdout_fd);
        ch->stderr_fd = safe_close(ch->stderr_fd);
        ch->events_fd = safe_close(ch->events_fd);
        ch->control_fd = safe_close(ch->control_fd);
}

int live_channel_new(LiveChannel *ret_api, LiveChannel *ret_worker) {
        int p[5][2];
        static const int types[5] = {SOCK_STREAM, SOCK_STREAM, SOCK_STREAM, SOCK_SEQPACKET, SOCK_STREAM};
        size_t made = 0;
        for (; made < 5; made++)
                if (socketpair(AF_UNIX, types[made] | SOCK_CLOEXEC, 0, p[made]) < 0)
                        break;
        if (made < 5) {
                int r = -errno;
                for (size_t i = 0; i < made; i++) {
                        safe_close(p[i][0]);
                        safe_close(p[i][1]);
                }
                return r;
        }
        /* [0]: the API's end, [1]: the worker's. */
        *ret_api = (LiveChannel){p[0][0], p[1][0], p[2][0], p[3][0], p[4][0]};
        *ret_worker = (LiveChannel){p[0][1], p[1][1], p[2][1], p[3][1], p[4][1]};
        /* One direction each: the program never writes its stdin, nor reads its output. */
        (void) shutdown(ret_worker->stdin_fd, SHUT_WR);
        (void) shutdown(ret_worker->stdout_fd, SHUT_RD);
        (void) shutdown(ret_worker->stderr_fd, SHUT_RD);
        return 0;
}

int live_event_send(int fd, const LiveEvent *e) {
        ssize_t n = RETRY_EINTR(send(fd, e, sizeof *e, MSG_NOSIGNAL));
        if (n < 0)
                return errno == ECONNRESET ? -EPIPE : -errno;
        return n == (ssize_t) sizeof *e ? 0 : -EIO;
}

int live_event_recv(int fd, LiveEvent *ret) {
        LiveEvent e;
        ssize_t n = RETRY_EINTR(recv(fd, &e, sizeof e, MSG_DONTWAIT));
        if (n < 0)
                return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -EPIPE;
        if (n == 0)
                return -EPIPE;
        if (n != (ssize_t) sizeof e || e.kind >= _LIVE_EVENT_KIND_MAX || e.run > 1 ||
                !memchr(e.status, '\0', sizeof e.status) || !memchr(e.message, '\0', sizeof e.message))
                return -EBADMSG;
        *ret = e;
        return 0;
}

typedef struct Entry {
        struct Entry *next;
        char token[SUBMISSION_TOKEN_LEN + 1];
        LiveChannel ch;
        bool dropped; /* the session ended first: no channel, the run is not to happen */
} Entry;

/* The local backend: the worker's ends wait in a list for the worker of this process. */
typedef struct LocalRegistry {
        LiveRegistry base;
        pthread_mutex_t lock;
        Entry *list;
        size_t n;
} LocalRegistry;

static const LiveRegistryOps local_ops;

int live_registry_new(LiveRegistry **ret) {
        LocalRegistry *r = calloc(1, sizeof *r);
        if (!r)
                return -ENOMEM;
        r->base.ops = &local_ops;
        pthread_mutex_init(&r->lock, NULL);
        *ret = &r->base;
        return 0;
}

static void local_free(LiveRegistry *base) {
        LocalRegistry *r = (LocalRegistry *) base;
        while (r->list) {
                Entry *e = r->list;
                r->list = e->next;
                live_channel_close(&e->ch);
                free(e);
        }
        pthread_mutex_destroy(&r->lock);
        free(r);
}

static Entry **find(LocalRegistry *r, const char *token) {
        Entry **p = &r->list;
        while (*p && strcmp((*p)->token, token) != 0)
                p = &(*p)->next;
        return p;
}

static int local_register(LiveRegistry *base, const char *token, LiveChannel *worker_ends) {
        LocalRegistry *r = (LocalRegistry *) base;
        Entry *e = calloc(1, sizeof *e);
        if (!e || !submission_token_valid(token)) {
                free(e);
                live_channel_close(worker_ends);
                return e ? -EINVAL : -ENOMEM;
        }
        memcpy(e->token, token, sizeof e->token);
        e->ch = *worker_ends;
        int ret = 0;
        pthread_mutex_lock(&r->lock);
        if (*find(r, token))
                ret = -EEXIST;
        else if (r->n >= LIVE_MAX_CHANNELS)
                ret = -ENOSPC;
        else {
                e->next = r->list;
                r->list = e;
                r->n++;
        }
        pthread_mutex_unlock(&r->lock);
        if (ret < 0) {
                live_channel_close(&e->ch);
                free(e);
        }
        *worker_ends = (LiveChannel){-1, -1, -1, -1, -1};
        return ret;
}

static Entry *unlink_entry(LocalRegistry *r, const char *token) {
        pthread_mutex_lock(&r->lock);
        Entry **p = find(r, token), *e = *p;
        if (e) {
                *p = e->next;
                r->n--;
        }
        pthread_mutex_unlock(&r->lock);
        return e;
}

static int local_take(LiveRegistry *base, const char *token, LiveChannel *ret) {
        Entry *e = unlink_entry((LocalRegistry *) base, token);
        if (!e)
                return -ENOENT;
        bool dropped = e->dropped;
        if (!dropped)
                *ret = e->ch;
        free(e);
        return dropped ? -ECANCELED : 0;
}

static void local_drop(LiveRegistry *base, const char *token) {
        LocalRegistry *r = (LocalRegistry *) base;
        pthread_mutex_lock(&r->lock);
        Entry *e = *find(r, token);
        if (e && !e->dropped) {
                live_channel_close(&e->ch);
                e->dropped = true; /* kept (counted) until the worker looks */
        }
        pthread_mutex_unlock(&r->lock);
}

static void local_forget(LiveRegistry *base, const char *token) {
        Entry *e = unlink_entry((LocalRegistry *) base, token);
        if (e)
                live_channel_close(&e->ch);
        free(e);
}

static const LiveRegistryOps local_ops = {
        .register_channel = local_register,
        .take = local_take,
        .drop = local_drop,
        .forget = local_forget,
        .free = local_free,
};

/* ---- the seam ---- */

LiveRegistry *live_registry_free(LiveRegistry *r) {
        if (r)
                r->ops->free(r);
        return NULL;
}

int live_register(LiveRegistry *r, const char *token, LiveChannel *worker_ends) {
        return r->ops->register_channel(r, token, worker_ends);
}

int live_take(LiveRegistry *r, const char *token, LiveChannel *ret) {
        return r->ops->take(r, token, ret);
}

void live_drop(LiveRegistry *r, const char *token) {
        r->ops->drop(r, token);
}

void live_forget(LiveRegistry *r, const char *token) {
        r->ops->forget(r, token);
}
