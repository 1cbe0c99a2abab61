/* SPDX-License-Identifier: MIT */
/* The Api: configuration, the route table, guards (IP filter, authentication,
 * authorization), and the requests waiting for a result (wait=true). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api-internal.h"
#include "base/log.h"
#include "base/macro.h"
#include "base/strv.h"
#include "base/time-util.h"
#include "judge/judge.h"

#define API_WAIT_TICK_USEC UINT64_C(50000)

struct Waiter {
        Waiter *next;
        char token[SUBMISSION_TOKEN_LEN + 1];
        HttpRequest *req;
        Judge0EncodeOptions options;
        uint64_t deadline_usec; /* CLOCK_MONOTONIC */
};

static const HttpRoute routes[] = {
        {"GET", "/", api_root}, {"POST", "/submissions/batch", api_batch_create},
        {"GET", "/submissions/batch", api_batch_get}, {"POST", "/submissions", api_submission_create},
        {"GET", "/submissions", api_submission_list}, {"GET", "/submissions/:token", api_submission_get},
        {"DELETE", "/submissions/:token", api_submission_delete},
        {"GET", "/languages/all", api_languages_all}, {"GET", "/languages", api_languages_list},
        {"GET", "/languages/:id", api_language_get}, {"GET", "/statuses", api_statuses},
        {"GET", "/about", api_about}, {"GET", "/version", api_version}, {"GET", "/isolate", api_isolate},
        {"GET", "/license", api_license}, {"GET", "/config_info", api_config_info},
        {"GET", "/system_info", api_system_info}, {"GET", "/workers", api_workers},
        {"GET", "/statistics", api_statistics}, {"POST", "/authenticate", api_authenticate},
        {"POST", "/authorize", api_authorize}, {"GET", "/health", api_health},
        {"GET", "/metrics", api_metrics},
        {"GET", "/openapi", api_openapi}, /* /openapi.json: the suffix is taken off */
};

const HttpRoute *api_routes(size_t *ret_n) {
        *ret_n = sizeof routes / sizeof routes[0];
        return routes;
}

static int split_words(const char *s, char ***ret) {
        char **l = NULL;
        for (const char *p = s; p && *p;) {
                p += strspn(p, " \t\r\n");
                size_t n = strcspn(p, " \t\r\n");
                if (n == 0)
                        break;
                char *w = strndup(p, n);
                if (!w) {
                        strv_free(l);
                        return -ENOMEM;
                }
                int r = strv_extend(&l, w);
                free(w);
                if (r < 0) {
                        strv_free(l);
                        return r;
                }
                p += n;
        }
        *ret = l;
        return 0;
}

static const Judge0Language *find_language(const Api *a, int id) {
        for (size_t i = 0; i < a->n_languages; i++)
                if (a->languages[i].id == id)
                        return &a->languages[i];
        return NULL;
}

static int lookup_language(void *userdata, int id, Judge0Language *ret) {
        const Judge0Language *l = find_language(userdata, id);
        if (!l)
                return -ENOENT;
        *ret = *l;
        return 0;
}

static const char *language_name(void *userdata, int id) {
        const Judge0Language *l = find_language(userdata, id);
        return l ? l->name : NULL;
}

void api_encode_options(Api *a, Judge0Fields fields, bool base64, Judge0EncodeOptions *ret) {
        *ret = (Judge0EncodeOptions){
                .fields = fields,
                .base64_encoded = base64,
                .status_description = status_description,
                .language_name = language_name,
                .userdata = a,
        };
}

static void *wait_timer(void *arg);

int api_new(const ApiConfig *cfg, Store *store, Queue *queue, const Catalogue *catalogue, Api **ret) {
        Api *a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->cfg = *cfg;
        a->store = store;
        a->queue = queue;
        a->catalogue = catalogue;
        pthread_mutex_init(&a->wait_lock, NULL);
        pthread_mutex_init(&a->stats_lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->wait_cond, &ca);
        pthread_condattr_destroy(&ca);
        int r = 0;
        a->languages = calloc(catalogue->n ? catalogue->n : 1, sizeof *a->languages);
        if (!a->languages)
                r = -ENOMEM;
        for (size_t i = 0; r >= 0 && i < catalogue->n; i++) {
                const Language *l = &catalogue->langs[i];
                a->languages[a->n_languages++] = (Judge0Language){
                        .id = l->id,
                        .name = l->name ? l->name : l->name_template,
                        .source_file = l->source_file,
                        .compile_cmd = l->compile_cmd,
                        .run_cmd = l->run_cmd,
                        .is_archived = !l->installed,
                        .is_project = l->is_project,
                };
        }
        a->cfg.rules.language_lookup = lookup_language;
        a->cfg.rules.userdata = a;
        a->cfg.config_info.rules = &a->cfg.rules;
        /* The strings are copied: only the lists are used after this. */
        a->cfg.authn_header = a->cfg.authz_header = a->cfg.authn_token = a->cfg.authz_token = NULL;
        a->cfg.allow_ip = a->cfg.disallow_ip = NULL;
        if (r >= 0)
                r = split_words(cfg->authn_token, &a->authn_tokens);
        if (r >= 0)
                r = split_words(cfg->authz_token, &a->authz_tokens);
        if (r >= 0)
                r = split_words(cfg->allow_ip, &a->allow_ips);
        if (r >= 0)
                r = split_words(cfg->disallow_ip, &a->disallow_ips);
        if (r >= 0) {
                a->cfg.authn_header = strdup(cfg->authn_header ? cfg->authn_header : "X-Auth-Token");
                a->cfg.authz_header = strdup(cfg->authz_header ? cfg->authz_header : "X-Auth-User");
                a->cfg.maintenance_message =
                        strdup(cfg->maintenance_message ? cfg->maintenance_message : "");
                if (!a->cfg.authn_header || !a->cfg.authz_header || !a->cfg.maintenance_message)
                        r = -ENOMEM;
        }
        if (r >= 0) {
                r = -pthread_create(&a->timer, NULL, wait_timer, a);
                a->timer_started = r == 0;
        }
        if (r < 0) {
                api_free(a);
                return r;
        }
        *ret = a;
        return 0;
}

Api *api_free(Api *a) {
        if (!a)
                return NULL;
        api_release_waiters(a);
        pthread_mutex_lock(&a->wait_lock);
        a->stopping = true;
        pthread_cond_broadcast(&a->wait_cond);
        pthread_mutex_unlock(&a->wait_lock);
        if (a->timer_started)
                pthread_join(a->timer, NULL);
        pthread_mutex_destroy(&a->wait_lock);
        pthread_cond_destroy(&a->wait_cond);
        pthread_mutex_destroy(&a->stats_lock);
        free(a->stats_json);
        free(a->languages);
        strv_free(a->authn_tokens);
        strv_free(a->authz_tokens);
        strv_free(a->allow_ips);
        strv_free(a->disallow_ips);
        free((char *) a->cfg.authn_header);
        free((char *) a->cfg.authz_header);
        free((char *) a->cfg.maintenance_message);
        free(a);
        return NULL;
}

void api_set_workers(Api *a, WorkerPool *workers) {
        a->workers = workers;
}

void api_set_http(Api *a, HttpServer *http) {
        a->http = http;
}

/* ---- guards ---- */

static bool in_list(char **l, const char *s) {
        for (char **p = l; p && *p; p++)
                if (strcmp(*p, s) == 0)
                        return true;
        return false;
}

/* Constant-time in the token's content (the length may leak, as in Rails). */
static bool token_matches(char **tokens, const char *given) {
        bool ok = false;
        size_t gl = strlen(given);
        for (char **p = tokens; p && *p; p++) {
                size_t l = strlen(*p);
                unsigned char diff = l != gl;
                for (size_t i = 0; i < l; i++)
                        diff |= (unsigned char) ((*p)[i] ^ (i < gl ? given[i] : 0));
                ok |= diff == 0;
        }
        return ok;
}

static const char *credential(HttpRequest *req, const char *name) {
        const char *v = http_request_header(req, name);
        return v ? v : http_request_query(req, name);
}

bool api_guard(Api *a, HttpRequest *req, bool authz) {
        const char *ip = http_request_client_ip(req);
        if ((a->allow_ips && !in_list(a->allow_ips, ip)) || in_list(a->disallow_ips, ip)) {
                http_reply(req, 403, NULL, NULL, 0);
                return false;
        }
        if (a->authn_tokens) {
                const char *t = credential(req, a->cfg.authn_header);
                if (!t || !token_matches(a->authn_tokens, t)) {
                        http_reply(req, 401, NULL, NULL, 0);
                        return false;
                }
        }
        if (authz) {
                const char *t = credential(req, a->cfg.authz_header);
                if (!a->authz_tokens || !t || !token_matches(a->authz_tokens, t)) {
                        http_reply(req, 403, NULL, NULL, 0);
                        return false;
                }
        }
        return true;
}

/* ---- helpers ---- */

bool api_query_true(HttpRequest *req, const char *name) {
        const char *v = http_request_query(req, name);
        return v && strcmp(v, "true") == 0;
}

bool api_fields(HttpRequest *req, const char *fields, Judge0Fields *ret) {
        char *err = NULL;
        int r = judge0_fields_parse(fields, ret, &err);
        if (r == -EINVAL) {
                http_reply_error(req, 400, err ? err : "invalid fields");
                free(err);
                return false;
        }
        if (r < 0) {
                api_reply_internal(req, r);
                return false;
        }
        return true;
}

int api_body(HttpRequest *req, Judge0Body **ret) {
        const char *ct = http_request_header(req, "Content-Type");
        size_t len;
        const char *body = http_request_body(req, &len);
        bool json = ct && strncasecmp(ct, "application/json", 16) == 0;
        char errbuf[256];
        int r = judge0_body_parse(json ? body : "", json ? len : 0, ret, errbuf, sizeof errbuf);
        if (r == -EBADMSG) {
                http_request_set_log_note(req, "error=malformed_json");
                http_reply(req, 400, NULL, NULL, 0);
                return r;
        }
        if (r < 0)
                api_reply_internal(req, r);
        return r;
}

void api_reply_internal(HttpRequest *req, int r) {
        char buf[128];
        snprintf(buf, sizeof buf, "internal error: %s", strerror(r < 0 ? -r : r));
        http_reply_error(req, 500, buf);
}

QueueStats api_queue_stats(Api *a) {
        QueueStats st = {};
        (void) queue_stats(a->queue, &st);
        return st;
}

int api_store_new(Api *a, Submission *sub) {
        for (int attempt = 0;; attempt++) {
                int r = submission_new_token(sub->token);
                if (r < 0)
                        return r;
                r = store_create(a->store, sub);
                if (r != -EEXIST || attempt >= 3)
                        return r;
        }
}

void api_discard(Api *a, const char *token, const char *reason) {
        Submission sub;
        submission_init(&sub);
        memcpy(sub.token, token, sizeof sub.token);
        sub.status_id = STATUS_INTERNAL_ERROR;
        sub.message = (Bytes){(char *) reason, strlen(reason)};
        int r = store_finish(a->store, &sub);
        if (r >= 0)
                r = store_delete(a->store, token);
        if (r < 0)
                log_warning(r, "token=%s discard failed: %s", token, strerror(-r));
}

int api_enqueue(Api *a, HttpRequest *req, const char *const *tokens, size_t n) {
        int r = queue_push(a->queue, tokens, n, false);
        if (r >= 0)
                return 0;
        for (size_t i = 0; i < n; i++)
                api_discard(a, tokens[i], "the queue refused the submission");
        if (r == -EAGAIN)
                http_reply_error(req, 503, "queue is full");
        else if (r == -ESHUTDOWN)
                http_reply_error(req, 503, "the server is shutting down");
        else {
                char buf[160];
                snprintf(buf, sizeof buf, "the queue is unavailable: %s", strerror(-r));
                http_reply_error(req, 503, buf);
        }
        return r;
}

/* ---- waiting requests ---- */

static void answer_waiter(Api *a, Waiter *w) {
        Submission sub;
        submission_init(&sub);
        int r = store_get(a->store, w->token, &sub);
        if (r < 0) {
                if (r == -ENOENT)
                        http_reply_json(w->req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
                else
                        api_reply_internal(w->req, r);
        } else {
                char *json = NULL;
                r = judge0_submission_encode(&sub, &w->options, &json);
                if (r < 0)
                        api_reply_internal(w->req, r);
                else
                        http_reply_json(w->req, 201, json);
        }
        submission_done(&sub);
        free(w);
}

void api_wait(Api *a, HttpRequest *req, const char *token, const Judge0EncodeOptions *o) {
        Waiter *w = calloc(1, sizeof *w);
        if (!w) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        memcpy(w->token, token, sizeof w->token);
        w->req = req;
        w->options = *o;
        w->deadline_usec = now_usec(CLOCK_MONOTONIC) + a->cfg.wait_timeout_usec;
        http_request_suspend(req);
        pthread_mutex_lock(&a->wait_lock);
        w->next = a->waiters;
        a->waiters = w;
        pthread_mutex_unlock(&a->wait_lock);
}

/* Take the waiters that match (token, or expired when token is NULL, or all). */
static Waiter *take_waiters(Api *a, const char *token, bool all) {
        Waiter *taken = NULL;
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        pthread_mutex_lock(&a->wait_lock);
        for (Waiter **p = &a->waiters; *p;) {
                Waiter *w = *p;
                bool take = all || (token ? strcmp(w->token, token) == 0 : w->deadline_usec <= now);
                if (take) {
                        *p = w->next;
                        w->next = taken;
                        taken = w;
                } else
                        p = &w->next;
        }
        pthread_mutex_unlock(&a->wait_lock);
        return taken;
}

static void answer_all(Api *a, Waiter *list) {
        while (list) {
                Waiter *next = list->next;
                answer_waiter(a, list);
                list = next;
        }
}

void api_notify(void *userdata, const char *token, int status_id) {
        Api *a = userdata;
        answer_all(a, take_waiters(a, token, false));
}

void api_release_waiters(Api *a) {
        answer_all(a, take_waiters(a, NULL, true));
}

static void *wait_timer(void *arg) {
        Api *a = arg;
        pthread_mutex_lock(&a->wait_lock);
        while (!a->stopping) {
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                ts.tv_nsec += (long) API_WAIT_TICK_USEC * 1000;
                if (ts.tv_nsec >= 1000000000L) {
                        ts.tv_sec++;
                        ts.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&a->wait_cond, &a->wait_lock, &ts);
                if (a->stopping)
                        break;
                pthread_mutex_unlock(&a->wait_lock);
                Waiter *expired = take_waiters(a, NULL, false);
                for (Waiter *w = expired; w; w = w->next)
                        atomic_fetch_add(&a->wait_timeouts, 1);
                answer_all(a, expired);
                pthread_mutex_lock(&a->wait_lock);
        }
        pthread_mutex_unlock(&a->wait_lock);
        return NULL;
}
