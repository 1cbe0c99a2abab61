/* SPDX-License-Identifier: MIT */
/* The gateway's core: set-up, who sent a request, rate limits, the outbox of history
 * writes, forwarding to the API nodes, and the reconciler thread. */

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/gateway-internal.h"
#include "model/submission.h"
#include "secure/secure.h"

/* ---- the routes ---- */

static const HttpRoute routes[] = {
        {"GET", "/health", gw_health},
        {"GET", "/metrics", gw_metrics},
        {"POST", "/session", gw_session_create},
        {"GET", "/session", gw_session_get},
        {"POST", "/auth/register", gw_register},
        {"POST", "/auth/login", gw_login},
        {"POST", "/auth/logout", gw_logout},
        {"GET", "/history", gw_history_list},
        {"DELETE", "/history/:token", gw_history_delete},
        {"GET", "/client-config", gw_client_config},
        {"POST", "/shares", gw_share_create},
        {"GET", "/shares/:id", gw_share_get},
        {"POST", "/submissions/batch", gw_batch_create},
        {"GET", "/submissions/batch", gw_batch_get},
        {"POST", "/submissions", gw_submission_create},
        {"GET", "/submissions", gw_submission_list},
        {"GET", "/submissions/:token", gw_submission_get},
        {"GET", "/submissions/:token/events", gw_submission_events},
        {"DELETE", "/submissions/:token", gw_submission_delete},
        {"GET", "/languages", gw_pass_read},
        {"GET", "/languages/all", gw_pass_read},
        {"GET", "/languages/:id", gw_pass_read},
        {"GET", "/statuses", gw_pass_read},
        {"GET", "/about", gw_pass_read},
        {"GET", "/version", gw_pass_read},
        {"GET", "/isolate", gw_pass_read},
        {"GET", "/license", gw_pass_read},
        {"GET", "/config_info", gw_pass_read},
        {"GET", "/openapi.json", gw_pass_read},
        {"GET", "/statistics", gw_pass_admin},
        {"GET", "/workers", gw_pass_admin},
        {"GET", "/system_info", gw_pass_admin},
        {"GET", "/api/v2/runtimes", gw_pass_read},
        {"POST", "/api/v2/execute", gw_piston_execute},
        {"GET", "/api/v2/connect", gw_connect},
};

const HttpRoute *gateway_routes(size_t *ret_n) {
        *ret_n = ELEMENTSOF(routes);
        return routes;
}

/* ---- set-up ---- */

static void *reconciler_main(void *arg);
typedef struct TrustedNet TrustedNet;
static int parse_trusted(const char *list, TrustedNet **ret, size_t *ret_n);

static char *dup_or_empty(const char *s) {
        return strdup(s ? s : "");
}

int gateway_new(
        const GatewayConfig *cfg, Meta *meta, RateLimiter *limiter, Upstream *upstream, Gateway **ret) {
        if (!cfg->internal_secret || !*cfg->internal_secret || !cfg->session_secret || !*cfg->session_secret)
                return -EINVAL;
        Gateway *g = calloc(1, sizeof *g);
        if (!g)
                return -ENOMEM;
        g->cfg = *cfg;
        g->cfg.internal_header = dup_or_empty(cfg->internal_header);
        g->cfg.admin_header = dup_or_empty(cfg->admin_header);
        g->cfg.internal_secret = dup_or_empty(cfg->internal_secret);
        g->cfg.session_secret = dup_or_empty(cfg->session_secret);
        g->cfg.trusted_proxies = dup_or_empty(cfg->trusted_proxies);
        if (g->cfg.outbox_max == 0)
                g->cfg.outbox_max = 10000;
        if (g->cfg.reconcile_interval_usec == 0)
                g->cfg.reconcile_interval_usec = USEC_PER_SEC;
        if (g->cfg.max_streams == 0)
                g->cfg.max_streams = GATEWAY_DEFAULT_MAX_STREAMS;
        g->meta = meta;
        g->limiter = limiter;
        g->up = upstream;
        pthread_mutex_init(&g->lock, NULL);
        pthread_mutex_init(&g->drain_lock, NULL);
        pthread_mutex_init(&g->stop_lock, NULL);
        pthread_cond_init(&g->stop_cond, NULL);
        g->streams_ready = gw_streams_init(g) >= 0;
        g->keys = calloc(GW_CACHE_SLOTS, sizeof *g->keys);
        g->sessions = calloc(GW_CACHE_SLOTS, sizeof *g->sessions);
        g->owners = calloc(GW_CACHE_SLOTS, sizeof *g->owners);
        g->outbox = calloc(g->cfg.outbox_max, sizeof *g->outbox);
        int r = -ENOMEM;
        if (!g->cfg.internal_header || !g->cfg.admin_header || !g->cfg.internal_secret ||
                !g->cfg.session_secret || !g->cfg.trusted_proxies || !g->keys || !g->sessions ||
                !g->owners || !g->outbox || !g->streams_ready)
                goto fail;
        r = parse_trusted(g->cfg.trusted_proxies, &g->trusted, &g->n_trusted);
        if (r < 0)
                goto fail;
        r = ratelimit_new(NULL, 100000, NULL, &g->fallback);
        if (r < 0)
                goto fail;
        r = -pthread_create(&g->reconciler, NULL, reconciler_main, g);
        if (r < 0)
                goto fail;
        g->reconciler_started = true;
        *ret = g;
        return 0;
fail:
        gateway_free(g);
        return r;
}

static void outbox_drain(Gateway *g);

Gateway *gateway_free(Gateway *g) {
        if (!g)
                return NULL;
        if (g->reconciler_started) {
                pthread_mutex_lock(&g->stop_lock);
                g->stop = true;
                pthread_cond_signal(&g->stop_cond);
                pthread_mutex_unlock(&g->stop_lock);
                pthread_join(g->reconciler, NULL);
                outbox_drain(g);
        }
        if (g->outbox_len > 0)
                log_warning(0, "gateway stopping with %zu history records not written (metadata store down)",
                        g->outbox_len);
        for (size_t i = 0; g->outbox && i < g->outbox_len; i++)
                meta_history_done(&g->outbox[(g->outbox_head + i) % g->cfg.outbox_max]);
        free(g->outbox);
        free(g->keys);
        free(g->sessions);
        free(g->owners);
        if (g->streams_ready)
                gw_streams_done(g);
        ratelimit_free(g->fallback);
        free(g->trusted);
        free((char *) g->cfg.internal_header);
        free((char *) g->cfg.admin_header);
        free((char *) g->cfg.internal_secret);
        free((char *) g->cfg.session_secret);
        free((char *) g->cfg.trusted_proxies);
        pthread_mutex_destroy(&g->lock);
        pthread_mutex_destroy(&g->drain_lock);
        pthread_mutex_destroy(&g->stop_lock);
        pthread_cond_destroy(&g->stop_cond);
        free(g);
        return NULL;
}

void gateway_set_http(Gateway *g, HttpServer *http) {
        g->http = http;
}

/* ---- the metadata store ---- */

int gw_meta_result(Gateway *g, int r, uint64_t start) {
        atomic_fetch_add(&g->m.meta_calls, 1);
        atomic_fetch_add(&g->m.meta_usec, now_usec(CLOCK_MONOTONIC) - start);
        if (r < 0 && meta_error_is_outage(r)) {
                atomic_fetch_add(&g->m.meta_errors, 1);
                if (!atomic_exchange(&g->meta_down, true))
                        log_warning(-r, "the metadata store (%s) is down: serving from the caches",
                                meta_backend(g->meta));
        } else if (atomic_load(&g->meta_down) && (r >= 0 || r == -ENOENT || r == -EEXIST)) {
                atomic_store(&g->meta_down, false);
                log_info("the metadata store (%s) answers again", meta_backend(g->meta));
        }
        return r;
}

/* ---- answers ---- */

void gw_reply_encoded(HttpRequest *req, unsigned status, int r, char *json) {
        if (r < 0) {
                free(json);
                http_reply_error(req, 500, "the gateway failed to encode its answer");
                return;
        }
        http_reply_json(req, status, json);
}

void gw_reply_unavailable(HttpRequest *req, const char *what) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s: try again shortly", what);
        http_reply_header(req, "Retry-After", "5");
        http_reply_error(req, 503, msg);
}

/* ---- who sent it ---- */

/* A trusted proxy: an address, or a network ("10.0.0.0/8", "fd00::/8"). IPv4 is kept as
 * IPv4-mapped IPv6, so one comparison serves both. */
struct TrustedNet {
        unsigned char addr[16];
        unsigned prefix; /* bits */
};

static bool parse_addr(const char *s, unsigned char ret[16], bool *ret_v4) {
        struct in_addr a4;
        if (inet_pton(AF_INET, s, &a4) == 1) {
                memset(ret, 0, 10);
                ret[10] = ret[11] = 0xff;
                memcpy(ret + 12, &a4, 4);
                *ret_v4 = true;
                return true;
        }
        *ret_v4 = false;
        return inet_pton(AF_INET6, s, ret) == 1;
}

static int parse_trusted(const char *list, TrustedNet **ret, size_t *ret_n) {
        TrustedNet *v = NULL;
        size_t n = 0;
        for (const char *s = list; s && *s;) {
                s += strspn(s, " \t,");
                size_t len = strcspn(s, " \t,");
                if (len == 0)
                        break;
                char word[INET6_ADDRSTRLEN + 8];
                if (len >= sizeof word) {
                        free(v);
                        return -EINVAL;
                }
                memcpy(word, s, len);
                word[len] = '\0';
                s += len;
                char *slash = strchr(word, '/');
                if (slash)
                        *slash++ = '\0';
                TrustedNet t;
                bool v4;
                if (!parse_addr(word, t.addr, &v4)) {
                        free(v);
                        return -EINVAL;
                }
                t.prefix = 128;
                if (slash) {
                        char *end;
                        errno = 0;
                        unsigned long p = strtoul(slash, &end, 10);
                        if (errno || end == slash || *end || p > (v4 ? 32u : 128u)) {
                                free(v);
                                return -EINVAL;
                        }
                        t.prefix = (unsigned) p + (v4 ? 96 : 0);
                }
                TrustedNet *nv = realloc(v, (n + 1) * sizeof *v);
                if (!nv) {
                        free(v);
                        return -ENOMEM;
                }
                v = nv;
                v[n++] = t;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool is_trusted(Gateway *g, const char *ip) {
        unsigned char a[16];
        bool v4;
        if (!parse_addr(ip, a, &v4))
                return false;
        for (size_t i = 0; i < g->n_trusted; i++) {
                const TrustedNet *t = &g->trusted[i];
                unsigned full = t->prefix / 8, rest = t->prefix % 8;
                if (memcmp(a, t->addr, full) != 0)
                        continue;
                if (rest && ((a[full] ^ t->addr[full]) & (unsigned char) (0xff << (8 - rest))))
                        continue;
                return true;
        }
        return false;
}

void gw_client_ip(Gateway *g, HttpRequest *req, char ret[64]) {
        const char *peer = http_request_client_ip(req);
        snprintf(ret, 64, "%s", peer);
        if (!is_trusted(g, peer))
                return;
        const char *xff = http_request_header(req, "X-Forwarded-For");
        if (!xff || strlen(xff) > 4096)
                return;
        /* From the right: each trusted proxy appended the address it saw; the first address
         * that is not a trusted proxy is the client. A malformed entry stops the walk at the
         * last proxy that could be believed. */
        const char *end = xff + strlen(xff);
        while (end > xff) {
                const char *start = end;
                while (start > xff && start[-1] != ',')
                        start--;
                const char *a = start + strspn(start, " \t");
                size_t len = (size_t) (end - a);
                while (len > 0 && (a[len - 1] == ' ' || a[len - 1] == '\t'))
                        len--;
                char addr[64];
                unsigned char buf[16];
                if (len == 0 || len >= sizeof addr)
                        return;
                memcpy(addr, a, len);
                addr[len] = '\0';
                if (inet_pton(AF_INET, addr, buf) != 1 && inet_pton(AF_INET6, addr, buf) != 1)
                        return;
                snprintf(ret, 64, "%s", addr);
                if (!is_trusted(g, addr))
                        return;
                end = start > xff ? start - 1 : xff;
        }
}

static size_t slot_of(const char *hex) {
        size_t h = 0;
        for (size_t i = 0; i < 8 && hex[i]; i++)
                h = h * 31 + (unsigned char) hex[i];
        return h & (GW_CACHE_SLOTS - 1);
}

/* The key of a hash: from the cache when fresh (or, with the store down, not too old). */
static int key_lookup(Gateway *g, const char *hash, MetaKey *ret) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        size_t i = slot_of(hash);
        pthread_mutex_lock(&g->lock);
        KeySlot s = g->keys[i];
        pthread_mutex_unlock(&g->lock);
        bool cached = s.at && strcmp(s.hash, hash) == 0;
        if (cached && now - s.at < g->cfg.key_cache_usec) {
                if (!s.found)
                        return -ENOENT;
                *ret = s.key;
                return 0;
        }
        MetaKey k;
        int r = GW_META(g, meta_key_get_by_hash(g->meta, hash, &k));
        if (r < 0 && r != -ENOENT) {
                if (meta_error_is_outage(r) && cached && now - s.at < g->cfg.outage_cache_usec) {
                        if (!s.found)
                                return -ENOENT;
                        *ret = s.key;
                        return 0;
                }
                return r;
        }
        KeySlot n = {.found = r == 0, .at = now};
        snprintf(n.hash, sizeof n.hash, "%s", hash);
        if (r == 0)
                n.key = k;
        pthread_mutex_lock(&g->lock);
        g->keys[i] = n;
        pthread_mutex_unlock(&g->lock);
        if (r < 0)
                return r;
        *ret = k;
        return 0;
}

void gw_session_forget(Gateway *g, const char *id_hash) {
        size_t i = slot_of(id_hash);
        pthread_mutex_lock(&g->lock);
        if (strcmp(g->sessions[i].id_hash, id_hash) == 0)
                g->sessions[i].at = 0;
        pthread_mutex_unlock(&g->lock);
}

static int session_lookup(Gateway *g, const char *id_hash, MetaSession *ret, char user_name[META_NAME_MAX]) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        int64_t wall = (int64_t) now_usec(CLOCK_REALTIME);
        size_t i = slot_of(id_hash);
        pthread_mutex_lock(&g->lock);
        SessionSlot s = g->sessions[i];
        pthread_mutex_unlock(&g->lock);
        bool cached = s.at && strcmp(s.id_hash, id_hash) == 0 && s.session.expires_at > wall;
        if (cached && now - s.at < g->cfg.key_cache_usec) {
                *ret = s.session;
                memcpy(user_name, s.user_name, META_NAME_MAX);
                return 0;
        }
        MetaSession sess;
        int r = GW_META(g, meta_session_get(g->meta, id_hash, wall, &sess));
        MetaUser u = {};
        if (r == 0 && *sess.user_id) {
                r = GW_META(g, meta_user_get(g->meta, sess.user_id, &u));
                if (r == -ENOENT) { /* the account is gone: the session is anonymous again */
                        *sess.user_id = '\0';
                        r = 0;
                }
        }
        if (r < 0) {
                if (meta_error_is_outage(r) && cached && now - s.at < g->cfg.outage_cache_usec) {
                        *ret = s.session;
                        memcpy(user_name, s.user_name, META_NAME_MAX);
                        return 0;
                }
                return r;
        }
        SessionSlot n = {.session = sess, .at = now};
        snprintf(n.id_hash, sizeof n.id_hash, "%s", id_hash);
        snprintf(n.user_name, sizeof n.user_name, "%s", u.name);
        pthread_mutex_lock(&g->lock);
        g->sessions[i] = n;
        pthread_mutex_unlock(&g->lock);
        *ret = sess;
        memcpy(user_name, n.user_name, META_NAME_MAX);
        return 0;
}

/* The value of cookie name in a Cookie header: copied into ret (size bytes), or false. */
static bool cookie_value(const char *header, const char *name, char *ret, size_t size) {
        size_t nl = strlen(name);
        for (const char *p = header; p && *p;) {
                p += strspn(p, " \t;");
                const char *end = p + strcspn(p, ";");
                if ((size_t) (end - p) > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
                        size_t vl = (size_t) (end - p) - nl - 1;
                        if (vl >= size)
                                return false;
                        memcpy(ret, p + nl + 1, vl);
                        ret[vl] = '\0';
                        return true;
                }
                p = end;
        }
        return false;
}

int gw_session_of_cookie(Gateway *g, HttpRequest *req, Principal *ret) {
        char value[256];
        if (!cookie_value(http_request_header(req, "Cookie"), GW_COOKIE, value, sizeof value))
                return -ENOENT;
        char *dot = strchr(value, '.');
        if (!dot)
                return -ENOENT;
        *dot = '\0';
        char sig[SECURE_HEX_SHA256];
        secure_hmac_sha256_hex(
                g->cfg.session_secret, strlen(g->cfg.session_secret), value, strlen(value), sig);
        if (!secure_streq(sig, dot + 1))
                return -ENOENT;
        char id_hash[SECURE_HEX_SHA256];
        secure_sha256_hex(value, strlen(value), id_hash);
        Principal p = {.kind = PRINCIPAL_SESSION, .scopes = META_SCOPE_SUBMIT | META_SCOPE_READ};
        int r = session_lookup(g, id_hash, &p.session, p.user_name);
        if (r < 0)
                return r;
        if (*p.session.user_id)
                snprintf(p.owner, sizeof p.owner, "user:%.*s", META_ID_MAX - 6, p.session.user_id);
        else
                snprintf(p.owner, sizeof p.owner, "session:%.32s", id_hash);
        gw_client_ip(g, req, p.client_ip);
        *ret = p;
        return 0;
}

static const char *key_text(HttpRequest *req) {
        const char *k = http_request_header(req, "X-Auth-Token");
        if (k && *k)
                return k;
        const char *a = http_request_header(req, "Authorization");
        if (a && strncasecmp(a, "Bearer ", 7) == 0) {
                a += 7;
                a += strspn(a, " ");
                return *a ? a : NULL;
        }
        return NULL;
}

static void auth_failed(Gateway *g, HttpRequest *req, const char *message) {
        atomic_fetch_add(&g->m.auth_failed, 1);
        http_reply_header(req, "WWW-Authenticate", "Bearer realm=\"coderunner\"");
        http_reply_error(req, 401, message);
}

int gw_authenticate(Gateway *g, HttpRequest *req, Principal *ret) {
        const char *text = key_text(req);
        if (text) {
                char hash[SECURE_HEX_SHA256];
                secure_sha256_hex(text, strlen(text), hash);
                Principal p = {.kind = PRINCIPAL_KEY};
                int r = key_lookup(g, hash, &p.key);
                if (r == -ENOENT) {
                        auth_failed(g, req, "invalid API key");
                        return r;
                }
                if (r < 0) {
                        gw_reply_unavailable(req, "the metadata store is unavailable");
                        return r;
                }
                if (p.key.revoked_at) {
                        auth_failed(g, req, "the API key has been revoked");
                        return -EACCES;
                }
                p.scopes = p.key.scopes;
                snprintf(p.owner, sizeof p.owner, "key:%.*s", META_ID_MAX - 5, p.key.id);
                for (size_t i = 0, at = 0; i < p.key.n_languages && i < META_MAX_LANGUAGES; i++)
                        at += (size_t) snprintf(p.languages + at, sizeof p.languages - at, "%s%d",
                                i ? "," : "", p.key.languages[i]);
                gw_client_ip(g, req, p.client_ip);
                char note[96];
                snprintf(note, sizeof note, "key=%s", p.key.id);
                http_request_set_log_note(req, note);
                *ret = p;
                return 0;
        }
        int r = gw_session_of_cookie(g, req, ret);
        if (r == 0) {
                char note[96];
                snprintf(note, sizeof note, "owner=%s", ret->owner);
                http_request_set_log_note(req, note);
                return 0;
        }
        if (r != -ENOENT) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return r;
        }
        if (http_request_header(req, "Cookie") && strstr(http_request_header(req, "Cookie"), GW_COOKIE "="))
                auth_failed(g, req,
                        "the session has expired or its cookie is not valid: POST /session for a new one");
        else
                auth_failed(g, req,
                        "missing credentials: send an API key in X-Auth-Token or Authorization: Bearer, or "
                        "a session "
                        "cookie (POST /session)");
        return -EACCES;
}

bool gw_require(HttpRequest *req, const Principal *p, uint32_t scope) {
        if (p->scopes & scope)
                return true;
        const char *name = scope == META_SCOPE_ADMIN    ? "admin"
                           : scope == META_SCOPE_SUBMIT ? "submit"
                                                        : "read";
        char msg[128];
        snprintf(msg, sizeof msg, "%s lacks the %s scope",
                p->kind == PRINCIPAL_KEY ? "this API key" : "a browser session", name);
        http_reply_error(req, 403, msg);
        return false;
}

bool gw_is_admin(const Principal *p) {
        return p->scopes & META_SCOPE_ADMIN;
}

/* ---- rate limits ---- */

static int take(Gateway *g, const char *key, double rate, uint32_t burst, RateDecision *d) {
        int r = ratelimit_take(g->limiter, key, rate, burst, d);
        if (r >= 0 || r == -EINVAL)
                return r;
        /* The shared limiter is down: this gateway limits on its own meanwhile. */
        atomic_fetch_add(&g->m.limiter_fallbacks, 1);
        return ratelimit_take(g->fallback, key, rate, burst, d);
}

static void add_limit_headers(HttpRequest *req, const RateDecision *d) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRIu32, d->limit);
        http_reply_header(req, "RateLimit-Limit", buf);
        snprintf(buf, sizeof buf, "%" PRIu32, d->remaining);
        http_reply_header(req, "RateLimit-Remaining", buf);
        snprintf(buf, sizeof buf, "%" PRIu64, (d->reset_usec + USEC_PER_SEC - 1) / USEC_PER_SEC);
        http_reply_header(req, "RateLimit-Reset", buf);
}

static bool refuse(Gateway *g, HttpRequest *req, const RateDecision *d, const char *who) {
        atomic_fetch_add(&g->m.limited, 1);
        uint64_t secs = (d->retry_after_usec + USEC_PER_SEC - 1) / USEC_PER_SEC;
        if (secs == 0)
                secs = 1;
        char buf[32], msg[160];
        snprintf(buf, sizeof buf, "%" PRIu64, secs);
        http_reply_header(req, "Retry-After", buf);
        add_limit_headers(req, d);
        snprintf(msg, sizeof msg, "rate limit exceeded for %s: retry in %" PRIu64 " s", who, secs);
        http_reply_error(req, 429, msg);
        return false;
}

bool gw_limit(Gateway *g, HttpRequest *req, const Principal *p) {
        char ip[64], key[256];
        if (p)
                memcpy(ip, p->client_ip, sizeof ip);
        else
                gw_client_ip(g, req, ip);
        RateDecision d;
        snprintf(key, sizeof key, "ip:%s", ip);
        int r = take(g, key, g->cfg.ip_rate, g->cfg.ip_burst, &d);
        if (r < 0) {
                http_reply_error(req, 500, "the rate limiter failed");
                return false;
        }
        if (!d.allowed)
                return refuse(g, req, &d, "this address");
        if (p) {
                double rate = p->kind == PRINCIPAL_KEY ? (p->key.rate > 0 ? p->key.rate : g->cfg.key_rate)
                                                       : g->cfg.session_rate;
                uint32_t burst = p->kind == PRINCIPAL_KEY ? (p->key.burst ? p->key.burst : g->cfg.key_burst)
                                                          : g->cfg.session_burst;
                snprintf(key, sizeof key, "p:%s", p->owner);
                r = take(g, key, rate, burst, &d);
                if (r < 0) {
                        http_reply_error(req, 500, "the rate limiter failed");
                        return false;
                }
                if (!d.allowed)
                        return refuse(
                                g, req, &d, p->kind == PRINCIPAL_KEY ? "this API key" : "this session");
        }
        atomic_fetch_add(&g->m.allowed, 1);
        add_limit_headers(req, &d);
        return true;
}

/* ---- the outbox ---- */

bool gw_outbox_full(Gateway *g) {
        pthread_mutex_lock(&g->lock);
        bool full = g->outbox_len >= g->cfg.outbox_max;
        pthread_mutex_unlock(&g->lock);
        return full;
}

bool gw_outbox_push(Gateway *g, MetaHistory *h) {
        pthread_mutex_lock(&g->lock);
        bool ok = g->outbox_len < g->cfg.outbox_max;
        if (ok) {
                g->outbox[(g->outbox_head + g->outbox_len) % g->cfg.outbox_max] = *h;
                g->outbox_len++;
        }
        pthread_mutex_unlock(&g->lock);
        if (!ok) {
                atomic_fetch_add(&g->m.history_lost, 1);
                log_error(0, "history record of %s lost: the metadata store is down and the outbox is full",
                        h->token);
                meta_history_done(h);
        }
        *h = (MetaHistory){};
        return ok;
}

bool gw_outbox_owner(Gateway *g, const char *token, char ret[META_ID_MAX]) {
        bool found = false;
        pthread_mutex_lock(&g->lock);
        for (size_t i = 0; i < g->outbox_len && !found; i++) {
                const MetaHistory *h = &g->outbox[(g->outbox_head + i) % g->cfg.outbox_max];
                if (strcmp(h->token, token) == 0) {
                        memcpy(ret, h->owner, META_ID_MAX);
                        found = true;
                }
        }
        pthread_mutex_unlock(&g->lock);
        return found;
}

static void owner_remember(Gateway *g, const char *token, const char *owner) {
        if (strlen(token) > SUBMISSION_TOKEN_LEN)
                return;
        size_t i = slot_of(token);
        pthread_mutex_lock(&g->lock);
        snprintf(g->owners[i].token, sizeof g->owners[i].token, "%s", token);
        snprintf(g->owners[i].owner, sizeof g->owners[i].owner, "%s", owner);
        pthread_mutex_unlock(&g->lock);
}

void gw_owner_forget(Gateway *g, const char *token) {
        size_t i = slot_of(token);
        pthread_mutex_lock(&g->lock);
        if (strcmp(g->owners[i].token, token) == 0)
                g->owners[i].token[0] = '\0';
        pthread_mutex_unlock(&g->lock);
}

int gw_token_owner(Gateway *g, const char *token, char ret[META_ID_MAX]) {
        if (gw_outbox_owner(g, token, ret))
                return 0;
        size_t i = slot_of(token);
        pthread_mutex_lock(&g->lock);
        bool hit = strcmp(g->owners[i].token, token) == 0;
        if (hit)
                memcpy(ret, g->owners[i].owner, META_ID_MAX);
        pthread_mutex_unlock(&g->lock);
        if (hit)
                return 0;
        MetaHistory h = {};
        int r = GW_META(g, meta_history_get(g->meta, token, &h));
        if (r == 0) {
                memcpy(ret, h.owner, META_ID_MAX);
                owner_remember(g, token, h.owner);
        }
        meta_history_done(&h);
        return r;
}

/* Write what the outbox holds, oldest first, until the store fails. */
static void outbox_drain(Gateway *g) {
        pthread_mutex_lock(&g->drain_lock);
        for (;;) {
                pthread_mutex_lock(&g->lock);
                if (g->outbox_len == 0) {
                        pthread_mutex_unlock(&g->lock);
                        break;
                }
                MetaHistory h = g->outbox[g->outbox_head];
                pthread_mutex_unlock(&g->lock);
                int r = GW_META(g, meta_history_add(g->meta, &h));
                if (r < 0 && meta_error_is_outage(r))
                        break; /* kept for the next try */
                if (r < 0 && r != -EEXIST) {
                        atomic_fetch_add(&g->m.history_lost, 1);
                        log_error(r, "history record of %s refused by the metadata store: %s", h.token,
                                strerror(-r));
                }
                if (r >= 0 || r == -EEXIST)
                        owner_remember(g, h.token, h.owner);
                pthread_mutex_lock(&g->lock);
                g->outbox[g->outbox_head] = (MetaHistory){};
                g->outbox_head = (g->outbox_head + 1) % g->cfg.outbox_max;
                g->outbox_len--;
                pthread_mutex_unlock(&g->lock);
                meta_history_done(&h);
        }
        pthread_mutex_unlock(&g->drain_lock);
}

void gw_outbox_flush(Gateway *g) {
        if (!atomic_load(&g->meta_down))
                outbox_drain(g);
}

static void *reconciler_main(void *arg) {
        Gateway *g = arg;
        pthread_mutex_lock(&g->stop_lock);
        while (!g->stop) {
                pthread_mutex_unlock(&g->stop_lock);
                if (atomic_load(&g->meta_down))
                        gw_meta_result(g, meta_ping(g->meta), now_usec(CLOCK_MONOTONIC));
                outbox_drain(g);
                if (!atomic_load(&g->meta_down))
                        gw_reconcile(g);
                pthread_mutex_lock(&g->stop_lock);
                if (g->stop)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t until = (uint64_t) ts.tv_sec * USEC_PER_SEC + (uint64_t) ts.tv_nsec / 1000 +
                                 g->cfg.reconcile_interval_usec;
                ts.tv_sec = (time_t) (until / USEC_PER_SEC);
                ts.tv_nsec = (long) (until % USEC_PER_SEC) * 1000;
                pthread_cond_timedwait(&g->stop_cond, &g->stop_lock, &ts);
        }
        pthread_mutex_unlock(&g->stop_lock);
        return NULL;
}

/* ---- forwarding ---- */

typedef struct Forward {
        Gateway *g;
        HttpRequest *req;
        GwAfter after;
        void *ctx;
        void (*ctx_free)(void *);
} Forward;

void gw_relay(HttpRequest *req, HttpcResponse *resp) {
        if (resp->error == -EHOSTUNREACH) {
                gw_reply_unavailable(req, "no API node is available");
                return;
        }
        if (resp->error == -ETIMEDOUT) {
                http_reply_error(req, 504, "the API node did not answer in time");
                return;
        }
        if (resp->error < 0 || resp->status < 100 || resp->status > 599) {
                char msg[160];
                snprintf(msg, sizeof msg, "the API node failed: %s",
                        resp->error < 0 ? strerror(-resp->error) : "an answer that is not HTTP");
                http_reply_error(req, 502, msg);
                return;
        }
        const char *ra = httpc_response_header(resp, "retry-after");
        if (ra)
                http_reply_header(req, "Retry-After", ra);
        const char *ct = httpc_response_header(resp, "content-type");
        char *body = resp->body;
        resp->body = NULL;
        http_reply(req, resp->status, ct, body, resp->body_len);
}

static void forward_done(HttpcResponse *resp, void *userdata) {
        Forward *f = userdata;
        if (resp->error < 0)
                atomic_fetch_add(&f->g->m.upstream_errors, 1);
        if (f->after)
                f->after(f->g, f->req, resp, f->ctx);
        else
                gw_relay(f->req, resp);
        if (f->ctx_free)
                f->ctx_free(f->ctx);
        free(f);
}

size_t gw_upstream_headers(Gateway *g, HttpRequest *req, const Principal *p, const char *accept,
        const char *content_type, char rid[static 32], HttpcHeader h[static GW_UPSTREAM_HEADERS_MAX]) {
        snprintf(rid, 32, "gw-%" PRIu64, http_request_id(req));
        size_t n = 0;
        h[n++] = (HttpcHeader){g->cfg.internal_header, g->cfg.internal_secret};
        if (p && gw_is_admin(p))
                h[n++] = (HttpcHeader){g->cfg.admin_header, g->cfg.internal_secret};
        h[n++] = (HttpcHeader){"Accept", accept};
        h[n++] = (HttpcHeader){"X-Request-Id", rid};
        if (p)
                h[n++] = (HttpcHeader){"X-Forwarded-For", p->client_ip};
        if (content_type)
                h[n++] = (HttpcHeader){"Content-Type", content_type};
        if (p && p->languages[0])
                h[n++] = (HttpcHeader){PISTON_LANGUAGES_HEADER, p->languages};
        return n;
}

void gw_forward(Gateway *g, HttpRequest *req, const Principal *p, const char *method,
        const char *path_and_query, const char *content_type, const void *body, size_t len, GwAfter after,
        void *ctx, void (*ctx_free)(void *)) {
        char rid[32];
        HttpcHeader h[GW_UPSTREAM_HEADERS_MAX];
        size_t n = gw_upstream_headers(g, req, p, "application/json", content_type, rid, h);
        Forward *f = malloc(sizeof *f);
        if (!f) {
                if (ctx_free)
                        ctx_free(ctx);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        *f = (Forward){g, req, after, ctx, ctx_free};
        http_request_suspend(req);
        int r = upstream_forward(g->up, method, path_and_query, h, n, body, len, forward_done, f);
        if (r < 0) {
                free(f);
                if (ctx_free)
                        ctx_free(ctx);
                if (r == -EAGAIN)
                        gw_reply_unavailable(req, "the gateway has too many requests in flight");
                else
                        http_reply_error(req, 502, "the gateway could not forward the request");
        }
}

static bool unreserved(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
               c == '.' || c == '_' || c == '~' || c == ',' || c == '*';
}

char *gw_path_with_query(HttpRequest *req, const char *path, const char *const *names) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        fputs(path, f);
        char sep = '?';
        for (const char *const *n = names; n && *n; n++) {
                const char *v = http_request_query(req, *n);
                if (!v)
                        continue;
                fprintf(f, "%c%s=", sep, *n);
                sep = '&';
                for (const unsigned char *c = (const unsigned char *) v; *c; c++)
                        if (unreserved((char) *c))
                                fputc(*c, f);
                        else
                                fprintf(f, "%%%02X", *c);
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* ---- keys ---- */

static const char *const scope_names[] = {"submit", "read", "admin"};

int gateway_scopes_parse(const char *s, uint32_t *ret) {
        uint32_t bits = 0;
        for (const char *p = s; p && *p;) {
                p += strspn(p, " ,");
                size_t len = strcspn(p, " ,");
                if (len == 0)
                        break;
                bool known = false;
                for (size_t i = 0; i < ELEMENTSOF(scope_names); i++)
                        if (strlen(scope_names[i]) == len && strncmp(p, scope_names[i], len) == 0) {
                                bits |= 1u << i;
                                known = true;
                        }
                if (!known)
                        return -EINVAL;
                p += len;
        }
        if (!bits)
                return -EINVAL;
        *ret = bits;
        return 0;
}

void gateway_scopes_format(uint32_t scopes, char *buf, size_t size) {
        size_t off = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < ELEMENTSOF(scope_names); i++)
                if (scopes & (1u << i) && off < size)
                        off += (size_t) snprintf(
                                buf + off, size - off, "%s%s", off ? "," : "", scope_names[i]);
}

int gateway_key_create(
        Meta *meta, const GatewayKeySpec *spec, char ret_text[GATEWAY_KEY_TEXT_MAX], MetaKey *ret) {
        if (!spec->name || !*spec->name || strlen(spec->name) >= META_NAME_MAX ||
                spec->n_languages > META_MAX_LANGUAGES || spec->rate < 0 || !isfinite(spec->rate) ||
                spec->cpu_seconds_day < 0 || spec->max_cpu_time_limit < 0 || spec->max_wall_time_limit < 0)
                return -EINVAL;
        MetaKey k = {
                .scopes = spec->scopes ? spec->scopes : META_SCOPE_SUBMIT | META_SCOPE_READ,
                .rate = spec->rate,
                .burst = spec->burst,
                .quota_day = spec->quota_day,
                .cpu_seconds_day = spec->cpu_seconds_day,
                .concurrent = spec->concurrent,
                .n_languages = spec->n_languages,
                .max_cpu_time_limit = spec->max_cpu_time_limit,
                .max_wall_time_limit = spec->max_wall_time_limit,
                .max_memory_limit = spec->max_memory_limit,
                .created_at = (int64_t) now_usec(CLOCK_REALTIME),
        };
        snprintf(k.name, sizeof k.name, "%s", spec->name);
        for (size_t i = 0; i < spec->n_languages; i++)
                k.languages[i] = spec->languages[i];
        unsigned char raw[8];
        secure_random(raw, sizeof raw);
        int off = snprintf(k.id, sizeof k.id, "k_");
        for (size_t i = 0; i < sizeof raw; i++)
                off += snprintf(k.id + off, sizeof k.id - (size_t) off, "%02x", raw[i]);
        char text[GATEWAY_KEY_TEXT_MAX];
        int r = secure_random_token("cr_", text, sizeof text);
        if (r < 0)
                return r;
        secure_sha256_hex(text, strlen(text), k.hash);
        r = meta_key_create(meta, &k);
        if (r < 0)
                return r;
        memcpy(ret_text, text, GATEWAY_KEY_TEXT_MAX);
        if (ret)
                *ret = k;
        return 0;
}

bool gateway_client_config_valid(const char *key, const char *value, char *errbuf, size_t errlen) {
        if (strlen(value) >= META_CONFIG_VALUE_MAX) {
                snprintf(errbuf, errlen, "the value of %s is longer than %d bytes", key,
                        META_CONFIG_VALUE_MAX - 1);
                return false;
        }
        if (strcmp(key, "default_language_id") == 0 || strcmp(key, "editor.tab_size") == 0) {
                char *end;
                errno = 0;
                long v = strtol(value, &end, 10);
                long max = *key == 'd' ? 1000000 : 16;
                if (errno || end == value || *end || v < 1 || v > max) {
                        snprintf(errbuf, errlen, "%s must be an integer from 1 to %ld", key, max);
                        return false;
                }
                return true;
        }
        if (strcmp(key, "languages") == 0) {
                for (const char *p = value; *p;) {
                        char *end;
                        errno = 0;
                        long v = strtol(p, &end, 10);
                        if (errno || end == p || v < 1 || (*end && *end != ',')) {
                                snprintf(errbuf, errlen,
                                        "languages must be language ids separated by commas (\"71,54\")");
                                return false;
                        }
                        p = *end ? end + 1 : end;
                }
                return true;
        }
        if (strcmp(key, "editor.keymap") == 0) {
                if (strcmp(value, "default") != 0 && strcmp(value, "vim") != 0) {
                        snprintf(errbuf, errlen, "editor.keymap must be default or vim");
                        return false;
                }
                return true;
        }
        if (strcmp(key, "editor.theme") == 0) {
                if (strcmp(value, "light") != 0 && strcmp(value, "dark") != 0) {
                        snprintf(errbuf, errlen, "editor.theme must be light or dark");
                        return false;
                }
                return true;
        }
        if (strcmp(key, "notice") == 0)
                return true;
        snprintf(errbuf, errlen,
                "unknown key %s (known: default_language_id, languages, editor.tab_size, editor.keymap, "
                "editor.theme, notice)",
                key);
        return false;
}
