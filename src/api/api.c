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
#include "lang/judge0-ce.h"

#define API_WAIT_TICK_USEC UINT64_C(50000)
#define API_VIEW_REFRESH_USEC (1 * USEC_PER_SEC)
#define API_DEFAULT_WORKER_TIMEOUT_USEC (10 * USEC_PER_SEC)
#define API_DEFAULT_MAX_EVENT_STREAMS 1000
#define API_DEFAULT_EVENT_HEARTBEAT_USEC (15 * USEC_PER_SEC)
#define API_MAX_READY \
        100000 /* published tokens not looked at yet; more are dropped (the timer catches up) */

struct Waiter {
        Waiter *next;
        char token[SUBMISSION_TOKEN_LEN + 1];
        HttpRequest *req;
        ApiWaitReply reply;
        void *reply_data; /* owned: freed after the answer */
        uint64_t deadline_usec; /* CLOCK_MONOTONIC */
};

static const HttpRoute routes[] = {
        {"GET", "/", api_root},
        {"POST", "/submissions/batch", api_batch_create},
        {"GET", "/submissions/batch", api_batch_get},
        {"POST", "/submissions", api_submission_create},
        {"GET", "/submissions", api_submission_list},
        {"GET", "/submissions/:token", api_submission_get},
        {"GET", "/submissions/:token/events", api_submission_events},
        {"DELETE", "/submissions/:token", api_submission_delete},
        {"GET", "/languages/all", api_languages_all},
        {"GET", "/languages", api_languages_list},
        {"GET", "/languages/:id", api_language_get},
        {"GET", "/statuses", api_statuses},
        {"GET", "/about", api_about},
        {"GET", "/version", api_version},
        {"GET", "/isolate", api_isolate},
        {"GET", "/license", api_license},
        {"GET", "/config_info", api_config_info},
        {"GET", "/system_info", api_system_info},
        {"GET", "/workers", api_workers},
        {"GET", "/statistics", api_statistics},
        {"POST", "/authenticate", api_authenticate},
        {"POST", "/authorize", api_authorize},
        {"GET", "/health", api_health},
        {"GET", "/metrics", api_metrics},
        {"GET", "/openapi", api_openapi}, /* /openapi.json: the suffix is taken off */
        {"GET", "/api/v2/runtimes", api_piston_runtimes},
        {"POST", "/api/v2/execute", api_piston_execute},
        {"GET", "/api/v2/connect", api_piston_connect},
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

/* ---- the languages the workers serve ---- */

static LanguageView *view_free(LanguageView *v) {
        while (v) {
                LanguageView *older = v->older;
                for (size_t i = 0; i < v->n_names; i++)
                        free(v->names[i]);
                free(v->names);
                free(v->langs);
                free(v->signature);
                free(v);
                v = older;
        }
        return NULL;
}

/* What the live workers advertise, as one text: "id\tname\n" lines in id order, the first
 * worker's name winning for an id. */
static int advertised(WorkerInfo *workers, size_t n, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        /* Ids are small: a catalogue has a few hundred; walk them in order. */
        int last = -1;
        for (;;) {
                int next = INT32_MAX;
                const char *name = NULL;
                for (size_t w = 0; w < n; w++)
                        for (size_t i = 0; i < workers[w].n_languages; i++) {
                                const WorkerLanguage *l = &workers[w].languages[i];
                                if (l->id > last && l->id < next) {
                                        next = l->id;
                                        name = l->name;
                                }
                        }
                if (!name)
                        break;
                fprintf(f, "%d\t%s\n", next, name);
                last = next;
        }
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static int view_build(const Catalogue *cat, char *signature, LanguageView **ret) {
        LanguageView *v = calloc(1, sizeof *v);
        if (!v)
                return -ENOMEM;
        v->signature = signature;
        v->langs = calloc(cat->n + judge0_ce_n_languages, sizeof *v->langs);
        v->names = calloc(cat->n ? cat->n : 1, sizeof *v->names);
        if (!v->langs || !v->names) {
                view_free(v);
                return -ENOMEM;
        }
        for (size_t i = 0; i < cat->n; i++) {
                const Language *l = &cat->langs[i];
                char key[32];
                int kl = snprintf(key, sizeof key, "%d\t", l->id);
                const char *name = l->name ? l->name : l->name_template;
                bool served = false;
                for (const char *p = signature; p && *p; p = strchr(p, '\n') + 1) {
                        if (strncmp(p, key, (size_t) kl) == 0) {
                                const char *nm = p + kl;
                                char *copy = strndup(nm, strcspn(nm, "\n"));
                                if (!copy) {
                                        view_free(v);
                                        return -ENOMEM;
                                }
                                v->names[v->n_names++] = copy;
                                name = copy;
                                served = true;
                                break;
                        }
                }
                v->langs[v->n++] = (Judge0Language){
                        .id = l->id,
                        .name = name,
                        .source_file = l->source_file,
                        .compile_cmd = l->compile_cmd,
                        .run_cmd = l->run_cmd,
                        .is_archived = !served,
                        .is_project = l->is_project,
                };
        }
        /* Judge0 CE's ids that the catalogue does not have: archived, as Judge0 shows them
         * (its archived ones, and the toolchains this project does not build). */
        for (size_t i = 0; i < judge0_ce_n_languages; i++) {
                const Judge0CeLanguage *j = &judge0_ce_languages[i];
                bool known = false;
                for (size_t k = 0; k < cat->n && !known; k++)
                        known = cat->langs[k].id == j->id;
                if (known)
                        continue;
                /* An alias is served when its target is, under the target's (true) name. */
                const Judge0Language *target = NULL;
                for (size_t k = 0; k < v->n && judge0_ce_alias_of(j->id) > 0 && !target; k++)
                        if (v->langs[k].id == judge0_ce_alias_of(j->id) && !v->langs[k].is_archived)
                                target = &v->langs[k];
                if (target) {
                        Judge0Language alias = *target;
                        alias.id = j->id;
                        v->langs[v->n++] = alias;
                        continue;
                }
                v->langs[v->n++] = (Judge0Language){
                        .id = j->id,
                        .name = j->name,
                        .source_file = j->source_file,
                        .is_archived = true, /* no commands: Judge0's name its own container */
                };
        }
        *ret = v;
        return 0;
}

static void view_refresh(Api *a) {
        WorkerInfo *workers = NULL;
        size_t n = 0;
        int r = store_workers(a->store, a->cfg.worker_timeout_usec, &workers, &n);
        if (r < 0) {
                if (!a->view_failing) /* once per outage, not once a second */
                        log_warning(r,
                                "cannot read the worker registry: %s (serving the last known languages)",
                                strerror(-r));
                a->view_failing = true;
                return; /* keep what we had */
        }
        if (a->view_failing)
                log_info("the worker registry answers again");
        a->view_failing = false;
        char *sig = NULL;
        r = advertised(workers, n, &sig);
        worker_info_list_free(workers, n);
        if (r < 0)
                return;
        LanguageView *cur = atomic_load(&a->view);
        if (cur && strcmp(cur->signature, sig) == 0) {
                free(sig);
                return;
        }
        LanguageView *v = NULL;
        if (view_build(a->catalogue, sig, &v) < 0) {
                free(sig);
                return;
        }
        v->older = cur;
        atomic_store(&a->view, v);
}

const LanguageView *api_languages(Api *a) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        if (now - atomic_load(&a->view_at_usec) >= API_VIEW_REFRESH_USEC) {
                pthread_mutex_lock(&a->view_lock);
                if (now - atomic_load(&a->view_at_usec) >= API_VIEW_REFRESH_USEC) {
                        view_refresh(a);
                        atomic_store(&a->view_at_usec, now_usec(CLOCK_MONOTONIC));
                }
                pthread_mutex_unlock(&a->view_lock);
        }
        return atomic_load(&a->view);
}

int api_worker_stats(Api *a, WorkerStats *ret, size_t *ret_live) {
        if (a->local_stats) {
                a->local_stats(a->local_stats_userdata, ret);
                *ret_live = 1;
                return 0;
        }
        WorkerInfo *workers = NULL;
        size_t n = 0;
        int r = store_workers(a->store, a->cfg.worker_timeout_usec, &workers, &n);
        if (r < 0)
                return r;
        WorkerStats sum = {};
        for (size_t i = 0; i < n; i++)
                worker_stats_add(&sum, &workers[i].stats);
        worker_info_list_free(workers, n);
        *ret = sum;
        *ret_live = n;
        return 0;
}

static const Judge0Language *find_language(Api *a, int id) {
        const LanguageView *v = api_languages(a);
        for (size_t i = 0; i < v->n; i++)
                if (v->langs[i].id == id)
                        return &v->langs[i];
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

static void on_published(void *userdata, const char *token, int status_id);

int api_new(const ApiConfig *cfg, Store *store, Queue *queue, Notify *notify, const Catalogue *catalogue,
        Api **ret) {
        Api *a = calloc(1, sizeof *a);
        if (!a)
                return -ENOMEM;
        a->cfg = *cfg;
        if (!a->cfg.worker_timeout_usec)
                a->cfg.worker_timeout_usec = API_DEFAULT_WORKER_TIMEOUT_USEC;
        if (!a->cfg.max_event_streams)
                a->cfg.max_event_streams = API_DEFAULT_MAX_EVENT_STREAMS;
        if (!a->cfg.event_heartbeat_usec)
                a->cfg.event_heartbeat_usec = API_DEFAULT_EVENT_HEARTBEAT_USEC;
        a->store = store;
        a->queue = queue;
        a->notify = notify;
        a->catalogue = catalogue;
        pthread_mutex_init(&a->view_lock, NULL);
        pthread_mutex_init(&a->wait_lock, NULL);
        pthread_mutex_init(&a->stats_lock, NULL);
        pthread_mutex_init(&a->stream_lock, NULL);
        pthread_mutex_init(&a->live_lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&a->wait_cond, &ca);
        pthread_cond_init(&a->live_cond, NULL);
        pthread_condattr_destroy(&ca);
        /* The first view: nothing served until the registry says otherwise. */
        LanguageView *v = NULL;
        char *empty = strdup("");
        int r = empty ? view_build(catalogue, empty, &v) : -ENOMEM;
        if (r < 0)
                free(empty);
        else
                atomic_store(&a->view, v);
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
        if (r >= 0)
                r = notify_subscribe(notify, on_published, a);
        if (r >= 0)
                r = notify_subscribe_progress(notify, api_events_progress, a);
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
        atomic_store(&a->shutting_down, true); /* the WebSocket sessions end */
        api_live_wait_sessions(a);
        pthread_mutex_lock(&a->wait_lock);
        a->stopping = true;
        pthread_cond_broadcast(&a->wait_cond);
        pthread_mutex_unlock(&a->wait_lock);
        if (a->timer_started)
                pthread_join(a->timer, NULL);
        api_events_end_all(a);
        while (a->ready) {
                Ready *next = a->ready->next;
                free(a->ready);
                a->ready = next;
        }
        pthread_mutex_destroy(&a->wait_lock);
        pthread_cond_destroy(&a->wait_cond);
        pthread_mutex_destroy(&a->stats_lock);
        pthread_mutex_destroy(&a->stream_lock);
        pthread_mutex_destroy(&a->live_lock);
        pthread_cond_destroy(&a->live_cond);
        pthread_mutex_destroy(&a->view_lock);
        view_free(atomic_load(&a->view));
        free(a->stats_json);
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

void api_set_local_workers(Api *a, ApiLocalStats fn, void *userdata) {
        a->local_stats = fn;
        a->local_stats_userdata = userdata;
}

void api_set_http(Api *a, HttpServer *http) {
        a->http = http;
}

void api_set_live(Api *a, LiveRegistry *live) {
        a->live = live;
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
        bool form = ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
        bool multipart = ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
        char errbuf[256];
        int r = form ? judge0_body_parse_form(body, len, ret, errbuf, sizeof errbuf)
                : multipart
                        ? judge0_body_parse_multipart(ct, body, len, ret, errbuf, sizeof errbuf)
                        : judge0_body_parse(json ? body : "", json ? len : 0, ret, errbuf, sizeof errbuf);
        if (r == -EBADMSG) {
                http_request_set_log_note(req, json ? "error=malformed_json" : "error=malformed_form");
                http_reply_error(req, 400, errbuf);
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

#define STORE_PROBE_EVERY_USEC USEC_PER_SEC

void api_store_health(Api *a, StoreHealth *ret) {
        uint64_t now = now_usec(CLOCK_MONOTONIC), last = atomic_load(&a->store_probe_usec);
        bool probe = now - last >= STORE_PROBE_EVERY_USEC &&
                     atomic_compare_exchange_strong(&a->store_probe_usec, &last, now);
        (void) store_health(a->store, probe, ret);
}

bool api_refuse_new(Api *a, HttpRequest *req) {
        if (atomic_load(&a->shutting_down)) {
                http_reply_error(req, 503, "the server is shutting down: retry later");
                return true;
        }
        StoreHealth h;
        api_store_health(a, &h);
        if (h.error == 0)
                return false;
        api_reply_store(req, h.error);
        return true;
}

void api_reply_store(HttpRequest *req, int r) {
        if (!store_error_is_failure(r)) {
                api_reply_internal(req, r);
                return;
        }
        char buf[160];
        snprintf(buf, sizeof buf, "the store cannot take writes: %s; retry later", strerror(-r));
        http_request_set_log_note(req, "error=store_failing");
        http_reply_error(req, 503, buf);
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
                if (r == -ECONNRESET) {
                        /* The connection was lost (a database restart): once more with the same
                         * token, on a new connection. EEXIST then means the first try was
                         * committed before its answer was lost. */
                        r = store_create(a->store, sub);
                        if (r == -EEXIST)
                                r = 0;
                }
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

/* A wait answered before its result (timed out, shutdown): while the store cannot take
 * writes, the result may be judged and kept by its worker; say so in the message (null
 * until the result), so that the client knows why and that polling will get it. */
static void explain_unfinished(Api *a, Submission *sub) {
        StoreHealth h;
        if (status_is_final(sub->status_id) || sub->message.data)
                return;
        (void) store_health(a->store, false, &h);
        if (h.error == 0)
                return;
        char *m = NULL;
        int n = asprintf(&m,
                "the store cannot take writes (%s): the result is kept and stored once it can; "
                "GET /submissions/%s gets it",
                strerror(-h.error), sub->token);
        if (n >= 0)
                sub->message = (Bytes){.data = m, .len = (size_t) n};
}

/* Judge0's answer: the submission in its encoding, 201. */
static void reply_judge0(Api *a, HttpRequest *req, int r, const Submission *sub, void *data) {
        const Judge0EncodeOptions *o = data;
        if (r == -ENOENT) {
                http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
                return;
        }
        char *json = NULL;
        if (r >= 0)
                r = judge0_submission_encode(sub, o, &json);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 201, json);
}

static void answer_waiter(Api *a, Waiter *w) {
        Submission sub;
        submission_init(&sub);
        int r = store_get(a->store, w->token, &sub);
        if (r >= 0)
                explain_unfinished(a, &sub);
        w->reply(a, w->req, r, &sub, w->reply_data);
        submission_done(&sub);
        free(w->reply_data);
        free(w);
}

/* Take the waiters that match (token, or expired when token is NULL, or all). */
static Waiter *take_waiters(Api *a, const char *token, bool all);
static void answer_all(Api *a, Waiter *list);

void api_wait(Api *a, HttpRequest *req, const char *token, const Judge0EncodeOptions *o) {
        Judge0EncodeOptions *copy = malloc(sizeof *copy);
        if (!copy) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        *copy = *o;
        api_wait_reply(a, req, token, reply_judge0, copy);
}

void api_wait_reply(Api *a, HttpRequest *req, const char *token, ApiWaitReply reply, void *data) {
        Waiter *w = calloc(1, sizeof *w);
        if (!w) {
                free(data);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        memcpy(w->token, token, sizeof w->token);
        w->req = req;
        w->reply = reply;
        w->reply_data = data;
        w->deadline_usec = now_usec(CLOCK_MONOTONIC) + a->cfg.wait_timeout_usec;
        http_request_suspend(req);
        pthread_mutex_lock(&a->wait_lock);
        w->next = a->waiters;
        a->waiters = w;
        pthread_mutex_unlock(&a->wait_lock);
        /* Registered first, then looked at: a result published before the registration
         * is in the store already. */
        Submission sub;
        submission_init(&sub);
        int r = store_get(a->store, token, &sub);
        bool final = r >= 0 && status_is_final(sub.status_id);
        submission_done(&sub);
        if (final || atomic_load(&a->shutting_down))
                answer_all(a, take_waiters(a, token, false));
}

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

/* The notifier's callback, on its thread (in serve: the worker's): hand the token to the
 * wait thread, which answers on the API's side. */
static void on_published(void *userdata, const char *token, int status_id) {
        Api *a = userdata;
        Ready *r = malloc(sizeof *r);
        if (!r)
                return; /* the wait timer answers it at its deadline */
        memcpy(r->token, token, sizeof r->token);
        pthread_mutex_lock(&a->wait_lock);
        if (a->n_ready < API_MAX_READY && (a->waiters || atomic_load(&a->n_streams) > 0)) {
                r->next = a->ready;
                a->ready = r;
                a->n_ready++;
                r = NULL;
                pthread_cond_broadcast(&a->wait_cond);
        }
        pthread_mutex_unlock(&a->wait_lock);
        free(r);
}

static Ready *take_ready(Api *a) {
        Ready *list = a->ready;
        a->ready = NULL;
        a->n_ready = 0;
        return list;
}

void api_release_waiters(Api *a) {
        answer_all(a, take_waiters(a, NULL, true));
        api_events_end_all(a);
}

void api_shutdown(Api *a) {
        /* The flag first: a waiter registered after the release below sees it (api_wait). */
        atomic_store(&a->shutting_down, true);
        api_release_waiters(a);
        api_live_wait_sessions(a); /* they see the flag within a tick and close */
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
                if (!a->ready)
                        pthread_cond_timedwait(&a->wait_cond, &a->wait_lock, &ts);
                if (a->stopping)
                        break;
                Ready *ready = take_ready(a);
                pthread_mutex_unlock(&a->wait_lock);
                while (ready) {
                        Ready *next = ready->next;
                        answer_all(a, take_waiters(a, ready->token, false));
                        api_events_published(a, ready->token);
                        free(ready);
                        ready = next;
                }
                Waiter *expired = take_waiters(a, NULL, false);
                for (Waiter *w = expired; w; w = w->next)
                        atomic_fetch_add(&a->wait_timeouts, 1);
                answer_all(a, expired);
                api_events_tick(a);
                pthread_mutex_lock(&a->wait_lock);
        }
        pthread_mutex_unlock(&a->wait_lock);
        return NULL;
}
