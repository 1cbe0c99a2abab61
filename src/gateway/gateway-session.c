/* SPDX-License-Identifier: MIT */
/* The gateway's own routes: browser sessions and accounts, the history of one's
 * submissions, the client configuration, health and metrics. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/time-util.h"
#include "gateway/gateway-internal.h"
#include "model/status.h"
#include "secure/secure.h"

#define USERNAME_MIN 3
#define USERNAME_MAX 64
#define PASSWORD_MIN 8
#define PASSWORD_MAX 1024
#define HISTORY_PAGE_MAX 100

/* ---- sessions ---- */

static void set_cookie(Gateway *g, HttpRequest *req, const char *value, uint64_t max_age_usec) {
        char buf[512];
        snprintf(buf, sizeof buf, "%s=%s; Path=/; Max-Age=%" PRIu64 "; HttpOnly; SameSite=Lax%s", GW_COOKIE,
                value, max_age_usec / USEC_PER_SEC, g->cfg.cookie_secure ? "; Secure" : "");
        http_reply_header(req, "Set-Cookie", buf);
}

static void reply_session(Gateway *g, HttpRequest *req, unsigned status, const Principal *p) {
        char *json = NULL;
        int r = gwjson_session_encode(
                *p->user_name ? p->user_name : NULL, p->session.expires_at, g->cfg.accounts, &json);
        http_reply_header(req, "Cache-Control", "no-store");
        gw_reply_encoded(req, status, r, json);
}

void gw_session_create(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        if (!gw_limit(g, req, NULL))
                return;
        Principal p;
        int r = gw_session_of_cookie(g, req, &p);
        if (r == 0) {
                reply_session(g, req, 200, &p);
                return;
        }
        if (r != -ENOENT) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        char id[64];
        r = secure_random_token("", id, sizeof id);
        if (r < 0) {
                http_reply_error(req, 500, "the gateway could not make a session");
                return;
        }
        int64_t now = (int64_t) now_usec(CLOCK_REALTIME);
        MetaSession s = {.created_at = now, .expires_at = now + (int64_t) g->cfg.session_ttl_usec};
        secure_sha256_hex(id, strlen(id), s.id_hash);
        r = GW_META(g, meta_session_create(g->meta, &s));
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        char sig[SECURE_HEX_SHA256], value[160];
        secure_hmac_sha256_hex(g->cfg.session_secret, strlen(g->cfg.session_secret), id, strlen(id), sig);
        snprintf(value, sizeof value, "%s.%s", id, sig);
        set_cookie(g, req, value, g->cfg.session_ttl_usec);
        p = (Principal){.kind = PRINCIPAL_SESSION, .session = s};
        reply_session(g, req, 201, &p);
}

/* The session of the request's cookie, or answered 401/503. */
static bool need_session(Gateway *g, HttpRequest *req, Principal *p) {
        int r = gw_session_of_cookie(g, req, p);
        if (r == -ENOENT) {
                http_reply_error(req, 401, "no valid session: POST /session first");
                return false;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return false;
        }
        return true;
}

void gw_session_get(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!gw_limit(g, req, NULL) || !need_session(g, req, &p))
                return;
        reply_session(g, req, 200, &p);
}

/* ---- accounts ---- */

static bool username_valid(const char *u) {
        size_t l = strlen(u);
        if (l < USERNAME_MIN || l > USERNAME_MAX)
                return false;
        for (const char *c = u; *c; c++)
                if (!isalnum((unsigned char) *c) && *c != '_' && *c != '-' && *c != '.')
                        return false;
        return true;
}

/* The account routes' common start: limits, accounts on, a session, the credentials. */
static bool account_request(Gateway *g, HttpRequest *req, Principal *p, char **ret_user, char **ret_pass) {
        if (!gw_limit(g, req, NULL))
                return false;
        if (!g->cfg.accounts) {
                http_reply_error(req, 404, "accounts are disabled");
                return false;
        }
        if (!need_session(g, req, p))
                return false;
        if (!ret_user)
                return true;
        size_t len;
        const char *body = http_request_body(req, &len);
        char err[256];
        int r = gwjson_credentials_parse(body, len, ret_user, ret_pass, err, sizeof err);
        if (r == -EBADMSG) {
                http_reply_error(req, 400, err);
                return false;
        }
        if (r < 0) {
                http_reply_error(req, 500, "out of memory");
                return false;
        }
        return true;
}

static void log_in(Gateway *g, HttpRequest *req, const Principal *p, const MetaUser *u, unsigned status) {
        int r = GW_META(g, meta_session_set_user(g->meta, p->session.id_hash, u ? u->id : ""));
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        gw_session_forget(g, p->session.id_hash);
        if (!u) {
                http_reply(req, 204, NULL, NULL, 0);
                return;
        }
        char *json = NULL;
        r = gwjson_user_encode(u->name, &json);
        gw_reply_encoded(req, status, r, json);
}

void gw_register(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        _cleanup_free_ char *user = NULL, *pass = NULL;
        if (!account_request(g, req, &p, &user, &pass))
                return;
        if (!username_valid(user)) {
                http_reply_json(req, 422,
                        strdup("{\"username\":[\"must be 3 to 64 characters: letters, digits, '_', '-' or "
                               "'.'\"]}"));
                return;
        }
        size_t pl = strlen(pass);
        if (pl < PASSWORD_MIN || pl > PASSWORD_MAX) {
                http_reply_json(req, 422, strdup("{\"password\":[\"must be 8 to 1024 bytes long\"]}"));
                return;
        }
        MetaUser u = {.created_at = (int64_t) now_usec(CLOCK_REALTIME)};
        snprintf(u.name, sizeof u.name, "%s", user);
        char rnd[64];
        if (secure_random_token("u_", rnd, sizeof rnd) < 0) {
                http_reply_error(req, 500, "the gateway could not make an account");
                return;
        }
        snprintf(u.id, sizeof u.id, "%.24s", rnd);
        int r = secure_password_hash(pass, u.password_hash);
        explicit_bzero(pass, pl);
        if (r < 0) {
                http_reply_error(req, 500, "the gateway could not hash the password");
                return;
        }
        r = GW_META(g, meta_user_create(g->meta, &u));
        if (r == -EEXIST) {
                http_reply_error(req, 409, "the username is taken");
                return;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        log_in(g, req, &p, &u, 201);
}

void gw_login(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        _cleanup_free_ char *user = NULL, *pass = NULL;
        if (!account_request(g, req, &p, &user, &pass))
                return;
        MetaUser u;
        int r = GW_META(g, meta_user_get_by_name(g->meta, user, &u));
        if (r < 0 && r != -ENOENT) {
                explicit_bzero(pass, strlen(pass));
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        /* The same work and answer for an unknown name as for a wrong password. */
        static const char dummy[] = "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$"
                                    "9sTbSlTio3Biev89thdrlKKiCaYsjjYVJxGAL3swxpQ";
        bool ok = secure_password_verify(r == 0 ? u.password_hash : dummy, pass) && r == 0;
        explicit_bzero(pass, strlen(pass));
        if (!ok) {
                http_reply_error(req, 401, "wrong username or password");
                return;
        }
        log_in(g, req, &p, &u, 200);
}

void gw_logout(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!account_request(g, req, &p, NULL, NULL))
                return;
        log_in(g, req, &p, NULL, 204);
}

/* ---- history ---- */

void gw_history_list(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (gw_authenticate(g, req, &p) < 0 || !gw_limit(g, req, &p) ||
                !gw_require(req, &p, META_SCOPE_READ))
                return;
        uint64_t limit = 20;
        const char *v = http_request_query(req, "limit");
        if (v) {
                char *end;
                errno = 0;
                unsigned long long x = strtoull(v, &end, 10);
                if (errno || end == v || *end || *v == '-' || x < 1 || x > HISTORY_PAGE_MAX) {
                        http_reply_error(req, 400, "limit must be an integer from 1 to 100");
                        return;
                }
                limit = x;
        }
        const char *cursor = http_request_query(req, "cursor");
        if (cursor && strlen(cursor) >= META_CURSOR_MAX) {
                http_reply_error(req, 400, "cursor is not one this gateway gave");
                return;
        }
        gw_outbox_flush(g);
        MetaHistory *items = NULL;
        size_t n = 0;
        char next[META_CURSOR_MAX] = "";
        int r = GW_META(g, meta_history_list(g->meta, p.owner, limit, cursor, &items, &n, next));
        if (r == -EINVAL) {
                http_reply_error(req, 400, "cursor is not one this gateway gave");
                return;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        _cleanup_free_ GwHistoryItem *view = calloc(n ? n : 1, sizeof *view);
        if (!view) {
                meta_history_list_free(items, n);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        for (size_t i = 0; i < n; i++)
                view[i] = (GwHistoryItem){
                        .token = items[i].token,
                        .language_id = items[i].language_id,
                        .status_id = items[i].status_id,
                        .status_description = status_description(items[i].status_id),
                        .time = items[i].time,
                        .memory = items[i].memory,
                        .created_at_usec = items[i].created_at,
                        .finished_at_usec = items[i].finished_at,
                        .source_code = items[i].source_code,
                        .source_len = items[i].source_len,
                        .stdin_data = items[i].stdin_data,
                        .stdin_len = items[i].stdin_len,
                };
        char *json = NULL;
        r = gwjson_history_encode(view, n, next, &json);
        meta_history_list_free(items, n);
        http_reply_header(req, "Cache-Control", "no-store");
        gw_reply_encoded(req, 200, r, json);
}

void gw_history_delete(HttpRequest *req, const char *const *params, void *userdata) {
        Gateway *g = userdata;
        Principal p;
        if (gw_authenticate(g, req, &p) < 0 || !gw_limit(g, req, &p) ||
                !gw_require(req, &p, META_SCOPE_READ))
                return;
        if (strlen(params[0]) >= META_ID_MAX) {
                http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
                return;
        }
        gw_outbox_flush(g);
        int r = GW_META(g, meta_history_delete(g->meta, p.owner, params[0]));
        if (r == 0)
                gw_owner_forget(g, params[0]);
        if (r == -ENOENT || r == -EINVAL) {
                http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
                return;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        http_reply(req, 204, NULL, NULL, 0);
}

/* ---- client configuration ---- */

void gw_client_config(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        if (!gw_limit(g, req, NULL))
                return;
        char **keys = NULL, **values = NULL;
        size_t n = 0;
        int r = GW_META(g, meta_config_get_all(g->meta, &keys, &values, &n));
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        char *json = NULL;
        r = gwjson_client_config_encode((const char *const *) keys, (const char *const *) values, n, &json);
        meta_config_free(keys, values, n);
        http_reply_header(req, "Cache-Control", "no-cache");
        gw_reply_encoded(req, 200, r, json);
}

/* ---- health and metrics ---- */

#define MAX_NODES 64

void gw_health(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        UpstreamNodeStats st[MAX_NODES];
        size_t n = upstream_stats(g->up, st, MAX_NODES);
        GwUpstreamHealth h[MAX_NODES];
        size_t healthy = 0;
        for (size_t i = 0; i < n && i < MAX_NODES; i++) {
                h[i] = (GwUpstreamHealth){st[i].url, st[i].healthy, st[i].outstanding};
                healthy += st[i].healthy;
        }
        bool meta_up = !atomic_load(&g->meta_down);
        pthread_mutex_lock(&g->lock);
        size_t outbox = g->outbox_len;
        pthread_mutex_unlock(&g->lock);
        /* No API node: the gateway can do nothing (503). The store down: it still serves
         * from its caches and the outbox ("degraded", 200). */
        const char *status = healthy == 0 ? "unavailable" : meta_up ? "ok" : "degraded";
        char *json = NULL;
        int r = gwjson_health_encode(status, meta_up ? "up" : "down", ratelimit_backend(g->limiter), h,
                n < MAX_NODES ? n : MAX_NODES, outbox, &json);
        http_reply_header(req, "Cache-Control", "no-store");
        gw_reply_encoded(req, healthy == 0 ? 503 : 200, r, json);
}

void gw_metrics(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        HttpStats hs = {};
        if (g->http)
                http_server_stats(g->http, &hs);
        fputs("# HELP coderunner_gateway_requests_total Requests answered, by status class.\n"
              "# TYPE coderunner_gateway_requests_total counter\n",
                f);
        for (int c = 1; c <= 5; c++)
                fprintf(f, "coderunner_gateway_requests_total{class=\"%dxx\"} %" PRIu64 "\n", c,
                        hs.by_class[c]);
        fprintf(f,
                "# HELP coderunner_gateway_requests_refused_total Requests refused past the connection "
                "limits.\n"
                "# TYPE coderunner_gateway_requests_refused_total counter\n"
                "coderunner_gateway_requests_refused_total %" PRIu64 "\n",
                hs.refused);
        UpstreamNodeStats st[MAX_NODES];
        size_t n = upstream_stats(g->up, st, MAX_NODES);
        if (n > MAX_NODES)
                n = MAX_NODES;
        const struct {
                const char *name, *type, *help;
        } per_node[] = {
                {"coderunner_gateway_upstream_healthy", "gauge",
                        "1 when the API node passes its health checks."},
                {"coderunner_gateway_upstream_outstanding", "gauge", "Requests in flight to the API node."},
                {"coderunner_gateway_upstream_requests_total", "counter", "Requests sent to the API node."},
                {"coderunner_gateway_upstream_failures_total", "counter",
                        "Failed requests and health checks."},
                {"coderunner_gateway_upstream_ejections_total", "counter",
                        "Times the API node was taken out."},
        };
        for (size_t k = 0; k < ELEMENTSOF(per_node); k++) {
                fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", per_node[k].name, per_node[k].help,
                        per_node[k].name, per_node[k].type);
                for (size_t i = 0; i < n; i++) {
                        uint64_t v = k == 0   ? st[i].healthy
                                     : k == 1 ? st[i].outstanding
                                     : k == 2 ? st[i].requests
                                     : k == 3 ? st[i].failures
                                              : st[i].ejections;
                        fprintf(f, "%s{upstream=\"%s\"} %" PRIu64 "\n", per_node[k].name, st[i].url, v);
                }
        }
        fprintf(f,
                "# HELP coderunner_gateway_ratelimit_decisions_total Rate limiter decisions.\n"
                "# TYPE coderunner_gateway_ratelimit_decisions_total counter\n"
                "coderunner_gateway_ratelimit_decisions_total{decision=\"allowed\"} %" PRIu64 "\n"
                "coderunner_gateway_ratelimit_decisions_total{decision=\"limited\"} %" PRIu64 "\n"
                "# HELP coderunner_gateway_ratelimit_fallbacks_total Decisions taken in memory because the "
                "shared limiter failed.\n"
                "# TYPE coderunner_gateway_ratelimit_fallbacks_total counter\n"
                "coderunner_gateway_ratelimit_fallbacks_total %" PRIu64 "\n"
                "# HELP coderunner_gateway_quota_refusals_total Submissions refused by a quota.\n"
                "# TYPE coderunner_gateway_quota_refusals_total counter\n"
                "coderunner_gateway_quota_refusals_total{quota=\"submissions_per_day\"} %" PRIu64 "\n"
                "coderunner_gateway_quota_refusals_total{quota=\"cpu_seconds_per_day\"} %" PRIu64 "\n"
                "coderunner_gateway_quota_refusals_total{quota=\"concurrent_submissions\"} %" PRIu64 "\n"
                "# HELP coderunner_gateway_auth_failures_total Requests refused for missing or bad "
                "credentials.\n"
                "# TYPE coderunner_gateway_auth_failures_total counter\n"
                "coderunner_gateway_auth_failures_total %" PRIu64 "\n"
                "# HELP coderunner_gateway_meta_up 1 when the metadata store answers.\n"
                "# TYPE coderunner_gateway_meta_up gauge\n"
                "coderunner_gateway_meta_up %d\n"
                "# HELP coderunner_gateway_meta_seconds Time spent in metadata store calls.\n"
                "# TYPE coderunner_gateway_meta_seconds summary\n"
                "coderunner_gateway_meta_seconds_sum %.6f\n"
                "coderunner_gateway_meta_seconds_count %" PRIu64 "\n"
                "# HELP coderunner_gateway_meta_errors_total Metadata store calls that failed for an "
                "outage.\n"
                "# TYPE coderunner_gateway_meta_errors_total counter\n"
                "coderunner_gateway_meta_errors_total %" PRIu64 "\n"
                "# HELP coderunner_gateway_outbox_entries History records waiting to be written.\n"
                "# TYPE coderunner_gateway_outbox_entries gauge\n"
                "coderunner_gateway_outbox_entries %zu\n"
                "# HELP coderunner_gateway_history_lost_total History records dropped with the outbox "
                "full.\n"
                "# TYPE coderunner_gateway_history_lost_total counter\n"
                "coderunner_gateway_history_lost_total %" PRIu64 "\n"
                "# HELP coderunner_gateway_upstream_errors_total Forwarded requests that got no HTTP "
                "answer.\n"
                "# TYPE coderunner_gateway_upstream_errors_total counter\n"
                "coderunner_gateway_upstream_errors_total %" PRIu64 "\n",
                (uint64_t) atomic_load(&g->m.allowed), (uint64_t) atomic_load(&g->m.limited),
                (uint64_t) atomic_load(&g->m.limiter_fallbacks),
                (uint64_t) atomic_load(&g->m.quota_refused[0]),
                (uint64_t) atomic_load(&g->m.quota_refused[1]),
                (uint64_t) atomic_load(&g->m.quota_refused[2]), (uint64_t) atomic_load(&g->m.auth_failed),
                atomic_load(&g->meta_down) ? 0 : 1, (double) atomic_load(&g->m.meta_usec) / 1e6,
                (uint64_t) atomic_load(&g->m.meta_calls), (uint64_t) atomic_load(&g->m.meta_errors),
                g->outbox_len, (uint64_t) atomic_load(&g->m.history_lost),
                (uint64_t) atomic_load(&g->m.upstream_errors));
        fprintf(f,
                "# HELP coderunner_gateway_live_streams Event streams and interactive runs open.\n"
                "# TYPE coderunner_gateway_live_streams gauge\n"
                "coderunner_gateway_live_streams %" PRIu64 "\n"
                "# HELP coderunner_gateway_live_stream_refusals_total Live streams refused: past "
                "max_streams, or past the owner's concurrency quota.\n"
                "# TYPE coderunner_gateway_live_stream_refusals_total counter\n"
                "coderunner_gateway_live_stream_refusals_total{reason=\"max_streams\"} %" PRIu64 "\n"
                "coderunner_gateway_live_stream_refusals_total{reason=\"concurrent_streams\"} %" PRIu64 "\n",
                gw_streams_open(g), (uint64_t) atomic_load(&g->m.stream_refused[0]),
                (uint64_t) atomic_load(&g->m.stream_refused[1]));
        if (fclose(f) != 0) {
                free(buf);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        http_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", buf, len);
}
