/* SPDX-License-Identifier: MIT */
/* The pool of API nodes. One lock guards every node's state; it is taken by
 * upstream_forward()'s callers, by the httpc client's thread (completions) and by the health
 * thread, which only submits the checks each interval (their answers arrive on the client's
 * thread too). */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/upstream.h"

#define UPSTREAM_DEFAULT_HEALTH_INTERVAL_USEC USEC_PER_SEC
#define UPSTREAM_DEFAULT_FALL 2
#define UPSTREAM_DEFAULT_RISE 2
#define UPSTREAM_DEFAULT_CONNECT_TIMEOUT_USEC USEC_PER_SEC
#define UPSTREAM_DEFAULT_TIMEOUT_USEC (30 * USEC_PER_SEC)
#define UPSTREAM_DEFAULT_MAX_TRIES 2
/* A node is one bit of a request's set of nodes tried. */
#define UPSTREAM_MAX_NODES 64
#define UPSTREAM_MAX_URL 1024
#define UPSTREAM_MAX_FALL_RISE 1000
/* A health check has the interval to answer, and at least this long. */
#define UPSTREAM_MIN_HEALTH_TIMEOUT_USEC USEC_PER_SEC
#define UPSTREAM_HEALTH_PATH "/health"

typedef struct Node {
        Upstream *u;
        char *url;
        char *health_url;
        bool healthy;
        bool checking; /* a health check is in flight */
        unsigned fails, oks; /* consecutive */
        uint64_t outstanding, requests, failures, ejections, last_check_usec;
} Node;

struct Upstream {
        UpstreamConfig cfg; /* defaults applied; urls and headers point at nothing kept */
        Node *nodes;
        size_t n_nodes;
        HttpcHeader *headers; /* the configured ones, copied */
        size_t n_headers;
        HttpcClient *client;
        pthread_t health;
        bool health_started;
        pthread_mutex_t lock;
        pthread_cond_t wake; /* the health thread's, on CLOCK_MONOTONIC */
        size_t next; /* round robin: where the search for the least outstanding starts */
        bool stopping;
};

typedef struct Forward {
        Upstream *u;
        char *method, *path;
        HttpcHeader *headers; /* the caller's (minus the configured names), then the configured */
        size_t n_headers, n_own; /* n_own: the ones copied here (freed with it) */
        void *body;
        size_t body_len;
        HttpcDone done;
        UpstreamData on_data; /* a streamed answer's */
        bool (*abandoned)(void *userdata);
        void *userdata;
        bool streamed; /* on_data saw the answer's head: it is the answer, never retried */
        unsigned tries;
        bool answer_retried; /* the one retry of a GET that reached a node was spent */
        uint64_t tried; /* the nodes, as bits */
        size_t node; /* of the try in flight */
} Forward;

static void headers_free(HttpcHeader *h, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free((char *) h[i].name);
                free((char *) h[i].value);
        }
        free(h);
}

static int header_copy(HttpcHeader *to, const HttpcHeader *from) {
        if (!from->name || !from->value)
                return -EINVAL;
        to->name = strdup(from->name);
        to->value = strdup(from->value);
        if (!to->name || !to->value) {
                free((char *) to->name);
                free((char *) to->value);
                return -ENOMEM;
        }
        return 0;
}

/* ---- node state (lock held) ---- */

static void node_failed(Node *n) {
        n->oks = 0;
        n->fails++;
        if (n->healthy && n->fails >= n->u->cfg.fall) {
                n->healthy = false;
                n->ejections++;
        }
}

static void node_succeeded(Node *n) {
        n->fails = 0;
        n->oks++;
        if (!n->healthy && n->oks >= n->u->cfg.rise)
                n->healthy = true;
}

/* The healthy node not in tried with the fewest requests outstanding; among equals the
 * first from the round-robin cursor on, which then moves past it. -1: none. */
static ssize_t pick(Upstream *u, uint64_t tried) {
        ssize_t best = -1;
        for (size_t k = 0; k < u->n_nodes; k++) {
                size_t i = (u->next + k) % u->n_nodes;
                const Node *n = &u->nodes[i];
                if (!n->healthy || (tried & (UINT64_C(1) << i)))
                        continue;
                if (best < 0 || n->outstanding < u->nodes[best].outstanding)
                        best = (ssize_t) i;
        }
        if (best >= 0)
                u->next = ((size_t) best + 1) % u->n_nodes;
        return best;
}

/* ---- health checks ---- */

static void check_done(HttpcResponse *r, void *userdata) {
        Node *n = userdata;
        pthread_mutex_lock(&n->u->lock);
        n->checking = false;
        n->last_check_usec = now_usec(CLOCK_MONOTONIC);
        if (r->error == 0 && r->status >= 200 && r->status < 300)
                node_succeeded(n);
        else if (r->error != -ECANCELED)
                node_failed(n);
        pthread_mutex_unlock(&n->u->lock);
}

/* Submit a check to every node that has none in flight. */
static int check_round(Upstream *u) {
        uint64_t timeout = MAX(u->cfg.health_interval_usec, UPSTREAM_MIN_HEALTH_TIMEOUT_USEC);
        for (size_t i = 0; i < u->n_nodes; i++) {
                Node *n = &u->nodes[i];
                pthread_mutex_lock(&u->lock);
                bool busy = n->checking;
                n->checking = true;
                pthread_mutex_unlock(&u->lock);
                if (busy)
                        continue;
                HttpcRequest req = {
                        .method = "GET",
                        .url = n->health_url,
                        .headers = u->headers,
                        .n_headers = u->n_headers,
                        .connect_timeout_usec = u->cfg.connect_timeout_usec,
                        .timeout_usec = timeout,
                };
                int r = httpc_submit(u->client, &req, check_done, n);
                if (r < 0) {
                        pthread_mutex_lock(&u->lock);
                        n->checking = false;
                        pthread_mutex_unlock(&u->lock);
                        return r;
                }
        }
        return 0;
}

static void *health_thread(void *arg) {
        Upstream *u = arg;
        uint64_t due = now_usec(CLOCK_MONOTONIC) + u->cfg.health_interval_usec;
        pthread_mutex_lock(&u->lock);
        while (!u->stopping) {
                uint64_t now = now_usec(CLOCK_MONOTONIC);
                if (now < due) {
                        struct timespec ts = {
                                .tv_sec = (time_t) (due / USEC_PER_SEC),
                                .tv_nsec = (long) (due % USEC_PER_SEC * NSEC_PER_USEC),
                        };
                        pthread_cond_timedwait(&u->wake, &u->lock, &ts);
                        continue;
                }
                pthread_mutex_unlock(&u->lock);
                /* A failed submit (out of memory, the client full): the next round tries again. */
                (void) check_round(u);
                due = now + u->cfg.health_interval_usec;
                pthread_mutex_lock(&u->lock);
        }
        pthread_mutex_unlock(&u->lock);
        return NULL;
}

/* ---- forwarding ---- */

static Forward *forward_free(Forward *f) {
        if (!f)
                return NULL;
        headers_free(f->headers, f->n_own); /* the configured ones after them are borrowed */
        free(f->method);
        free(f->path);
        free(f->body);
        free(f);
        return NULL;
}

static void forward_done(HttpcResponse *r, void *userdata);

static int forward_data(const HttpcResponse *head, const char *data, size_t len, void *userdata) {
        Forward *f = userdata;
        f->streamed = true;
        return f->on_data(head, data, len, f->userdata);
}

static bool forward_abandoned(void *userdata) {
        Forward *f = userdata;
        return f->abandoned(f->userdata);
}

/* Send the next try to the best node not tried yet. -EHOSTUNREACH: none is left. */
static int forward_try(Forward *f) {
        Upstream *u = f->u;
        pthread_mutex_lock(&u->lock);
        ssize_t i = pick(u, f->tried);
        if (i < 0) {
                pthread_mutex_unlock(&u->lock);
                return -EHOSTUNREACH;
        }
        Node *n = &u->nodes[i];
        n->outstanding++;
        n->requests++;
        pthread_mutex_unlock(&u->lock);

        f->node = (size_t) i;
        f->tried |= UINT64_C(1) << i;
        f->tries++;
        size_t base = strlen(n->url), path = strlen(f->path);
        _cleanup_free_ char *url = malloc(base + path + 1);
        int r = -ENOMEM;
        if (url) {
                memcpy(url, n->url, base);
                memcpy(url + base, f->path, path + 1);
                HttpcRequest req = {
                        .method = f->method,
                        .url = url,
                        .headers = f->headers,
                        .n_headers = f->n_headers,
                        .body = f->body,
                        .body_len = f->body_len,
                        .connect_timeout_usec = u->cfg.connect_timeout_usec,
                        .timeout_usec = u->cfg.timeout_usec,
                        .on_data = f->on_data ? forward_data : NULL,
                        .abandoned = f->abandoned ? forward_abandoned : NULL,
                };
                r = httpc_submit(u->client, &req, forward_done, f);
        }
        if (r < 0) {
                pthread_mutex_lock(&u->lock);
                n->outstanding--;
                n->requests--;
                pthread_mutex_unlock(&u->lock);
                f->tries--;
        }
        return r;
}

static bool bad_gateway(unsigned status) {
        return status == 502 || status == 503 || status == 504;
}

static bool idempotent(const char *method) {
        return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void forward_done(HttpcResponse *r, void *userdata) {
        Forward *f = userdata;
        Upstream *u = f->u;
        bool failed = r->error < 0 || bad_gateway(r->status);
        pthread_mutex_lock(&u->lock);
        Node *n = &u->nodes[f->node];
        n->outstanding--;
        if (failed && r->error != -ECANCELED)
                n->failures++;
        if (r->error < 0 && !r->sent && r->error != -ECANCELED)
                node_failed(n); /* a connect failure counts as a failed check */
        pthread_mutex_unlock(&u->lock);

        bool again = false;
        if (failed && r->error != -ECANCELED && !f->streamed && f->tries < u->cfg.max_tries) {
                if (r->error < 0 && !r->sent)
                        again = true; /* nothing reached the node: any method */
                else if (idempotent(f->method) && !f->answer_retried)
                        again = f->answer_retried = true;
        }
        /* When no other node is left (or the client stops), this answer is the last. */
        if (again && forward_try(f) == 0)
                return;
        f->done(r, f->userdata);
        forward_free(f);
}

static int forward_start(Upstream *u, const char *method, const char *path_and_query,
        const HttpcHeader *headers, size_t n_headers, const void *body, size_t body_len, HttpcDone done,
        UpstreamData on_data, bool (*abandoned)(void *), void *userdata) {
        if (!u || !method || !path_and_query || path_and_query[0] != '/' || !done ||
                (n_headers > 0 && !headers) || (body_len > 0 && !body))
                return -EINVAL;
        Forward *f = calloc(1, sizeof *f);
        if (!f)
                return -ENOMEM;
        f->u = u;
        f->done = done;
        f->on_data = on_data;
        f->abandoned = abandoned;
        f->userdata = userdata;
        int r = -ENOMEM;
        if (!(f->method = strdup(method)) || !(f->path = strdup(path_and_query)))
                goto fail;
        if (body && !(f->body = malloc(MAX(body_len, 1))))
                goto fail;
        if (body_len > 0)
                memcpy(f->body, body, body_len);
        f->body_len = body_len;
        if (!(f->headers = calloc(MAX(n_headers + u->n_headers, 1), sizeof *f->headers)))
                goto fail;
        for (size_t i = 0; i < n_headers; i++) {
                bool configured = false;
                for (size_t k = 0; k < u->n_headers && headers[i].name; k++)
                        configured = configured || strcasecmp(headers[i].name, u->headers[k].name) == 0;
                if (configured)
                        continue; /* the configured value wins: a client cannot bring its own */
                if ((r = header_copy(&f->headers[f->n_own], &headers[i])) < 0)
                        goto fail;
                f->n_own++;
        }
        if (u->n_headers > 0)
                memcpy(f->headers + f->n_own, u->headers, u->n_headers * sizeof *u->headers);
        f->n_headers = f->n_own + u->n_headers;

        r = forward_try(f);
        if (r == -EHOSTUNREACH) {
                /* No node to try: answered at once, from the caller's thread. */
                HttpcResponse none = {.error = -EHOSTUNREACH};
                f->done(&none, f->userdata);
                forward_free(f);
                return 0;
        }
        if (r < 0)
                goto fail;
        return 0;
fail:
        forward_free(f);
        return r;
}

int upstream_forward(Upstream *u, const char *method, const char *path_and_query, const HttpcHeader *headers,
        size_t n_headers, const void *body, size_t body_len, HttpcDone done, void *userdata) {
        return forward_start(
                u, method, path_and_query, headers, n_headers, body, body_len, done, NULL, NULL, userdata);
}

int upstream_stream(Upstream *u, const char *path_and_query, const HttpcHeader *headers, size_t n_headers,
        UpstreamData on_data, bool (*abandoned)(void *userdata), HttpcDone done, void *userdata) {
        if (!on_data)
                return -EINVAL;
        return forward_start(
                u, "GET", path_and_query, headers, n_headers, NULL, 0, done, on_data, abandoned, userdata);
}

/* ---- connections of the caller's own ---- */

int upstream_acquire(Upstream *u, uint64_t *tried, char **ret_url, size_t *ret_node) {
        pthread_mutex_lock(&u->lock);
        ssize_t i = pick(u, *tried);
        if (i < 0) {
                pthread_mutex_unlock(&u->lock);
                return -EHOSTUNREACH;
        }
        char *url = strdup(u->nodes[i].url);
        if (url) {
                u->nodes[i].outstanding++;
                u->nodes[i].requests++;
        }
        pthread_mutex_unlock(&u->lock);
        if (!url)
                return -ENOMEM;
        *tried |= UINT64_C(1) << i;
        *ret_url = url;
        *ret_node = (size_t) i;
        return 0;
}

void upstream_release(Upstream *u, size_t node, bool connect_failed) {
        pthread_mutex_lock(&u->lock);
        Node *n = &u->nodes[node];
        n->outstanding--;
        if (connect_failed) {
                n->failures++;
                node_failed(n);
        }
        pthread_mutex_unlock(&u->lock);
}

/* ---- the pool ---- */

static bool url_acceptable(const char *url) {
        size_t n = strlen(url);
        return n > 0 && n < UPSTREAM_MAX_URL && url[n - 1] != '/' &&
               (strncmp(url, "http://", 7) == 0 || strncmp(url, "https://", 8) == 0);
}

Upstream *upstream_stop(Upstream *u) {
        if (!u)
                return NULL;
        if (u->health_started) {
                pthread_mutex_lock(&u->lock);
                u->stopping = true;
                pthread_cond_signal(&u->wake);
                pthread_mutex_unlock(&u->lock);
                pthread_join(u->health, NULL);
        }
        /* Every completion (forwards and checks) has run once this returns. */
        httpc_stop(u->client);
        for (size_t i = 0; i < u->n_nodes; i++) {
                free(u->nodes[i].url);
                free(u->nodes[i].health_url);
        }
        free(u->nodes);
        headers_free(u->headers, u->n_headers);
        pthread_cond_destroy(&u->wake);
        pthread_mutex_destroy(&u->lock);
        free(u);
        return NULL;
}

static void upstream_freep(Upstream **u) {
        upstream_stop(*u);
}

int upstream_start(const UpstreamConfig *cfg, Upstream **ret) {
        if (!cfg || cfg->n_urls == 0 || cfg->n_urls > UPSTREAM_MAX_NODES || !cfg->urls ||
                (cfg->n_headers > 0 && !cfg->headers) || cfg->fall > UPSTREAM_MAX_FALL_RISE ||
                cfg->rise > UPSTREAM_MAX_FALL_RISE)
                return -EINVAL;
        for (size_t i = 0; i < cfg->n_urls; i++)
                if (!cfg->urls[i] || !url_acceptable(cfg->urls[i]))
                        return -EINVAL;

        _cleanup_(upstream_freep) Upstream *u = calloc(1, sizeof *u);
        if (!u)
                return -ENOMEM;
        pthread_mutex_init(&u->lock, NULL);
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&u->wake, &attr);
        pthread_condattr_destroy(&attr);

        u->cfg = *cfg;
        u->cfg.urls = NULL;
        u->cfg.headers = NULL;
        if (!u->cfg.health_interval_usec)
                u->cfg.health_interval_usec = UPSTREAM_DEFAULT_HEALTH_INTERVAL_USEC;
        if (!u->cfg.fall)
                u->cfg.fall = UPSTREAM_DEFAULT_FALL;
        if (!u->cfg.rise)
                u->cfg.rise = UPSTREAM_DEFAULT_RISE;
        if (!u->cfg.connect_timeout_usec)
                u->cfg.connect_timeout_usec = UPSTREAM_DEFAULT_CONNECT_TIMEOUT_USEC;
        if (!u->cfg.timeout_usec)
                u->cfg.timeout_usec = UPSTREAM_DEFAULT_TIMEOUT_USEC;
        if (!u->cfg.max_tries)
                u->cfg.max_tries = UPSTREAM_DEFAULT_MAX_TRIES;

        if (cfg->n_headers > 0 && !(u->headers = calloc(cfg->n_headers, sizeof *u->headers)))
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_headers; i++) {
                int r = header_copy(&u->headers[i], &cfg->headers[i]);
                if (r < 0)
                        return r;
                u->n_headers++;
        }
        if (!(u->nodes = calloc(cfg->n_urls, sizeof *u->nodes)))
                return -ENOMEM;
        for (size_t i = 0; i < cfg->n_urls; i++) {
                Node *n = &u->nodes[i];
                size_t len = strlen(cfg->urls[i]);
                n->u = u;
                n->healthy = true;
                n->url = strdup(cfg->urls[i]);
                n->health_url = malloc(len + sizeof UPSTREAM_HEALTH_PATH);
                u->n_nodes++;
                if (!n->url || !n->health_url)
                        return -ENOMEM;
                memcpy(n->health_url, cfg->urls[i], len);
                memcpy(n->health_url + len, UPSTREAM_HEALTH_PATH, sizeof UPSTREAM_HEALTH_PATH);
        }

        int r = httpc_start(&cfg->httpc, &u->client);
        if (r < 0)
                return r;
        /* The first round at once: a bad URL or header is refused here (-EINVAL). */
        r = check_round(u);
        if (r < 0)
                return r;
        r = -pthread_create(&u->health, NULL, health_thread, u);
        if (r < 0)
                return r;
        u->health_started = true;
        *ret = TAKE_PTR(u);
        return 0;
}

size_t upstream_stats(Upstream *u, UpstreamNodeStats *ret, size_t max) {
        pthread_mutex_lock(&u->lock);
        size_t n = MIN(max, u->n_nodes);
        for (size_t i = 0; i < n; i++) {
                const Node *nd = &u->nodes[i];
                ret[i] = (UpstreamNodeStats){
                        .url = nd->url,
                        .healthy = nd->healthy,
                        .outstanding = nd->outstanding,
                        .requests = nd->requests,
                        .failures = nd->failures,
                        .ejections = nd->ejections,
                        .last_check_usec = nd->last_check_usec,
                };
        }
        pthread_mutex_unlock(&u->lock);
        return n;
}

size_t upstream_healthy(Upstream *u) {
        pthread_mutex_lock(&u->lock);
        size_t n = 0;
        for (size_t i = 0; i < u->n_nodes; i++)
                n += u->nodes[i].healthy;
        pthread_mutex_unlock(&u->lock);
        return n;
}
