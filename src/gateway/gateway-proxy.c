/* SPDX-License-Identifier: MIT */
/* The Judge0 and Piston routes through the gateway: ownership, key ceilings, quotas, and
 * the history of what each owner submitted. */

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
#include "json/piston.h"
#include "model/limits.h"
#include "model/status.h"
#include "model/submission.h"

#define BATCH_GET_MAX 20 /* tokens per batch GET (Judge0's MAX_SUBMISSION_BATCH_SIZE) */
#define LIST_SCAN_MAX 10000 /* history records a GET /submissions of one owner looks through */

static void reply_not_found(HttpRequest *req) {
        http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
}

bool gw_admit(Gateway *g, HttpRequest *req, Principal *p, uint32_t scope) {
        return gw_authenticate(g, req, p) >= 0 && gw_limit(g, req, p) &&
               (!scope || gw_require(req, p, scope));
}

/* ---- validation against the key's ceilings ---- */

static int any_language(void *userdata, int id, Judge0Language *ret) {
        (void) userdata;
        if (id <= 0)
                return -ENOENT;
        /* The API node knows the catalogue and checks the id; here every id passes as a
         * compiled language so that nothing is refused that the node would accept. */
        *ret = (Judge0Language){.id = id,
                .name = "",
                .source_file = "main",
                .compile_cmd = "",
                .run_cmd = "",
                .is_project = id == 89};
        return 0;
}

#define UNBOUNDED (UINT64_C(1) << 52)

static uint64_t ceiling_usec(double seconds) {
        return seconds > 0 ? (uint64_t) (seconds * 1e6 + 0.5) : UNBOUNDED;
}

/* Judge0's rules opened wide (the API node applies its own), narrowed by the key. */
static void rules_for(const Principal *p, Judge0Rules *r) {
        judge0_rules_init(r);
        r->max_cpu_time_limit_usec = UNBOUNDED;
        r->max_cpu_extra_time_usec = UNBOUNDED;
        r->max_wall_time_limit_usec = UNBOUNDED;
        r->max_memory_limit_kib = UNBOUNDED;
        r->max_stack_limit_kib = UNBOUNDED;
        r->max_max_processes_and_or_threads = UINT32_MAX;
        r->max_max_file_size_kib = UNBOUNDED;
        r->max_number_of_runs = UINT32_MAX;
        r->allow_enable_per_process_and_thread_time_limit = true;
        r->allow_enable_per_process_and_thread_memory_limit = true;
        r->allow_enable_network = true;
        r->enable_compiler_options = true;
        r->allowed_languages_for_compiler_options = NULL;
        r->enable_command_line_arguments = true;
        r->enable_callbacks = true;
        r->enable_additional_files = true;
        r->max_tests = UINT32_MAX;
        r->language_lookup = any_language;
        if (p->kind == PRINCIPAL_KEY) {
                r->max_cpu_time_limit_usec = ceiling_usec(p->key.max_cpu_time_limit);
                r->max_wall_time_limit_usec = ceiling_usec(p->key.max_wall_time_limit);
                if (p->key.max_memory_limit)
                        r->max_memory_limit_kib = p->key.max_memory_limit;
        }
}

/* A key's ceiling below Judge0's default: an item that leaves the limit out gets the
 * ceiling, so that the API node's default cannot exceed it. true when the body changed. */
static int apply_ceilings(const Principal *p, Judge0Body *b, size_t item, bool *changed) {
        if (p->kind != PRINCIPAL_KEY)
                return 0;
        const struct {
                const char *name;
                double ceiling, def;
        } c[] = {
                {"cpu_time_limit", p->key.max_cpu_time_limit, JUDGE0_CPU_TIME_LIMIT},
                {"wall_time_limit", p->key.max_wall_time_limit, JUDGE0_WALL_TIME_LIMIT},
                {"memory_limit", (double) p->key.max_memory_limit, JUDGE0_MEMORY_LIMIT},
        };
        for (size_t i = 0; i < ELEMENTSOF(c); i++) {
                if (c[i].ceiling <= 0 || c[i].ceiling >= c[i].def)
                        continue;
                int r = gwjson_body_default_number(b, item, c[i].name, c[i].ceiling);
                if (r < 0)
                        return r;
                *changed = true;
        }
        return 0;
}

static bool language_allowed(const Principal *p, int id) {
        if (p->kind != PRINCIPAL_KEY || p->key.n_languages == 0)
                return true;
        for (size_t i = 0; i < p->key.n_languages; i++)
                if (p->key.languages[i] == id)
                        return true;
        return false;
}

static int check_item(const Principal *p, Judge0Body *b, size_t item, bool base64, Judge0Errors *errors,
        bool *changed, Submission *ret) {
        int r = apply_ceilings(p, b, item, changed);
        if (r < 0)
                return r;
        Judge0Rules rules;
        rules_for(p, &rules);
        r = item == SIZE_MAX ? judge0_body_decode_submission(b, base64, &rules, errors, ret)
                             : judge0_body_decode_batch_item(b, item, base64, &rules, errors, ret);
        if (r < 0)
                return r;
        /* The key's languages bound its checker and interactor too: they are programs it
         * runs. */
        const struct {
                const char *field;
                int id;
        } used[] = {
                {"language_id", ret->language_id},
                {"checker.language_id", ret->checker.language_id},
                {"interactor.language_id", ret->interactor.language_id},
        };
        bool refused = false;
        for (size_t i = 0; i < ELEMENTSOF(used); i++) {
                if (used[i].id == 0 || language_allowed(p, used[i].id))
                        continue;
                char msg[96];
                snprintf(msg, sizeof msg, "language with id %d is not allowed for this API key", used[i].id);
                r = judge0_errors_add(errors, used[i].field, msg);
                if (r < 0) {
                        submission_done(ret);
                        return r;
                }
                refused = true;
        }
        if (refused) {
                submission_done(ret);
                return -EINVAL;
        }
        return 0;
}

/* The body of a create request, parsed by its Content-Type; answered 400 when malformed. */
static int parse_body(HttpRequest *req, Judge0Body **ret) {
        size_t len;
        const char *body = http_request_body(req, &len);
        const char *ct = http_request_header(req, "Content-Type");
        char errbuf[256];
        int r;
        if (ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
                r = judge0_body_parse_form(body, len, ret, errbuf, sizeof errbuf);
        else if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0)
                r = judge0_body_parse_multipart(ct, body, len, ret, errbuf, sizeof errbuf);
        else
                r = judge0_body_parse(body, len, ret, errbuf, sizeof errbuf);
        if (r == -EBADMSG)
                http_reply_error(req, 400, errbuf);
        else if (r < 0)
                http_reply_error(req, 500, "out of memory");
        return r;
}

/* ---- quotas ---- */

static int64_t day_end_usec(void) {
        uint64_t now = now_usec(CLOCK_REALTIME);
        uint64_t day = 86400 * USEC_PER_SEC;
        return (int64_t) ((now / day + 1) * day);
}

static int count_get(Gateway *g, const char *key, double *ret) {
        int r = ratelimit_count_get(g->limiter, key, ret);
        if (r < 0 && r != -EINVAL) {
                atomic_fetch_add(&g->m.limiter_fallbacks, 1);
                r = ratelimit_count_get(g->fallback, key, ret);
        }
        return r;
}

static void count_add(Gateway *g, const char *key, double amount) {
        bool allowed;
        double total;
        uint64_t reset;
        int r = ratelimit_count_add(g->limiter, key, amount, 0, &allowed, &total, &reset);
        if (r < 0 && r != -EINVAL) {
                atomic_fetch_add(&g->m.limiter_fallbacks, 1);
                r = ratelimit_count_add(g->fallback, key, amount, 0, &allowed, &total, &reset);
        }
        if (r < 0)
                log_warning(-r, "quota counter %s not updated", key);
}

static bool refuse_quota(Gateway *g, GwRefusal *ret, int which, const char *message, const char *quota,
        double limit, double used, int64_t resets_at) {
        atomic_fetch_add(&g->m.quota_refused[which], 1);
        *ret = (GwRefusal){
                .status = 429, .quota = quota, .limit = limit, .used = used, .resets_at = resets_at};
        snprintf(ret->message, sizeof ret->message, "%s", message);
        return false;
}

void gw_reply_refusal(HttpRequest *req, const GwRefusal *refusal) {
        if (refusal->status == 503) {
                gw_reply_unavailable(req, refusal->message);
                return;
        }
        if (!refusal->quota) {
                char *json = NULL;
                int r = piston_message_encode(refusal->message, &json);
                gw_reply_encoded(req, refusal->status, r, json);
                return;
        }
        char *json = NULL;
        int r = gwjson_quota_error_encode(
                refusal->message, refusal->quota, refusal->limit, refusal->used, refusal->resets_at, &json);
        if (refusal->resets_at > 0) {
                char buf[32];
                int64_t secs =
                        (refusal->resets_at - (int64_t) now_usec(CLOCK_REALTIME)) / (int64_t) USEC_PER_SEC +
                        1;
                snprintf(buf, sizeof buf, "%" PRId64, secs > 0 ? secs : 1);
                http_reply_header(req, "Retry-After", buf);
        }
        gw_reply_encoded(req, refusal->status, r, json);
}

/* Whether n more submissions fit the owner's quotas: true, or false with *ret (429, or
 * 503 when the store cannot count). */
static bool quota_check(Gateway *g, const Principal *p, size_t n, GwRefusal *ret) {
        bool key = p->kind == PRINCIPAL_KEY;
        uint32_t per_day = key ? p->key.quota_day : g->cfg.session_quota_day;
        double cpu_day = key ? p->key.cpu_seconds_day : 0;
        uint32_t concurrent = key ? p->key.concurrent : g->cfg.session_concurrent;
        char k[128];
        double used;
        if (per_day) {
                snprintf(k, sizeof k, "qs:%s", p->owner);
                if (count_get(g, k, &used) >= 0 && used + (double) n > per_day)
                        return refuse_quota(g, ret, QUOTA_SUBMISSIONS, "daily submission quota exceeded",
                                "submissions_per_day", per_day, used, day_end_usec());
        }
        if (cpu_day > 0) {
                snprintf(k, sizeof k, "qc:%s", p->owner);
                if (count_get(g, k, &used) >= 0 && used >= cpu_day)
                        return refuse_quota(g, ret, QUOTA_CPU, "daily CPU time quota exceeded",
                                "cpu_seconds_per_day", cpu_day, used, day_end_usec());
        }
        if (concurrent) {
                uint64_t busy = 0;
                gw_outbox_flush(g);
                int r = GW_META(g, meta_history_count_unfinished(g->meta, p->owner, &busy));
                if (r < 0) {
                        *ret = (GwRefusal){.status = 503, .message = "the metadata store is unavailable"};
                        return false;
                }
                if (busy + n > concurrent)
                        return refuse_quota(g, ret, QUOTA_CONCURRENT,
                                "too many submissions not finished yet", "concurrent_submissions",
                                concurrent, (double) busy, 0);
        }
        return true;
}

/* Whether n more submissions fit the owner's quotas; answered 429 (or 503) if not. */
static bool quota_admits(Gateway *g, HttpRequest *req, const Principal *p, size_t n) {
        GwRefusal refusal;
        if (quota_check(g, p, n, &refusal))
                return true;
        gw_reply_refusal(req, &refusal);
        return false;
}

/* ---- creating submissions ---- */

typedef struct Created {
        char owner[META_ID_MAX];
        Submission *subs; /* what each item asked, for the history */
        size_t n;
} Created;

static void created_free(void *p) {
        Created *c = p;
        for (size_t i = 0; c && i < c->n; i++)
                submission_done(&c->subs[i]);
        if (c)
                free(c->subs);
        free(c);
}

/* A copy for the history; none past what the store keeps (the run itself is not cut). */
static char *dup_bytes(const Bytes *b, size_t *ret_len) {
        *ret_len = 0;
        if (!b->data || b->len > META_BYTES_MAX)
                return NULL;
        char *s = malloc(b->len + 1);
        if (s) {
                memcpy(s, b->data, b->len);
                s[b->len] = '\0';
                *ret_len = b->len;
        }
        return s;
}

static void record(Gateway *g, const char *owner, const Submission *sub, const GwResult *res) {
        MetaHistory h = {
                .language_id = sub->language_id,
                .status_id = res->status_id ? res->status_id : STATUS_IN_QUEUE,
                .time = status_is_final(res->status_id) ? res->time : -1,
                .memory = status_is_final(res->status_id) ? res->memory : -1,
                .created_at = (int64_t) now_usec(CLOCK_REALTIME),
        };
        if (status_is_final(res->status_id))
                h.finished_at = h.created_at;
        snprintf(h.token, sizeof h.token, "%s", res->token);
        snprintf(h.owner, sizeof h.owner, "%s", owner);
        h.source_code = dup_bytes(&sub->source_code, &h.source_len);
        h.stdin_data = dup_bytes(&sub->stdin_data, &h.stdin_len);
        /* Written by the reconciler thread, never on the upstream client's: a slow store
         * must not hold up every proxied answer. */
        if (gw_outbox_push(g, &h)) {
                pthread_mutex_lock(&g->stop_lock);
                pthread_cond_signal(&g->stop_cond);
                pthread_mutex_unlock(&g->stop_lock);
        }
}

static void created_after(Gateway *g, HttpRequest *req, HttpcResponse *resp, void *ctx) {
        Created *c = ctx;
        if (resp->error == 0 && (resp->status == 201 || resp->status == 200)) {
                _cleanup_free_ GwResult *res = NULL;
                size_t n = 0;
                if (gwjson_results_parse(resp->body, resp->body_len, &res, &n) == 0) {
                        size_t made = 0;
                        double cpu = 0;
                        for (size_t i = 0; i < n && i < c->n; i++)
                                if (res[i].token[0]) {
                                        record(g, c->owner, &c->subs[i], &res[i]);
                                        made++;
                                        /* A result already here (wait=true) is recorded as
                                         * final: the reconciler never sees it, so it counts
                                         * here, once. */
                                        if (status_is_final(res[i].status_id) && res[i].time > 0)
                                                cpu += res[i].time;
                                }
                        char k[128];
                        if (cpu > 0) {
                                snprintf(k, sizeof k, "qc:%s", c->owner);
                                count_add(g, k, cpu);
                        }
                        snprintf(k, sizeof k, "qs:%s", c->owner);
                        if (made)
                                count_add(g, k, (double) made);
                } else {
                        log_warning(
                                0, "an API node answered a create with something that is not JSON tokens");
                        http_reply_error(
                                req, 502, "the API node answered with something that is not a submission");
                        return;
                }
        }
        gw_relay(req, resp);
}

static const char *const create_query[] = {"base64_encoded", "wait", "fields", NULL};

static void create(Gateway *g, HttpRequest *req, bool batch) {
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_SUBMIT))
                return;
        if (atomic_load(&g->meta_down) && gw_outbox_full(g)) {
                gw_reply_unavailable(
                        req, "the metadata store is unavailable and the gateway's outbox is full");
                return;
        }
        _cleanup_judge0_body_ Judge0Body *body = NULL;
        if (parse_body(req, &body) < 0)
                return;
        const char *v = http_request_query(req, "base64_encoded");
        const char *b64 = v ? v : judge0_body_param(body, "base64_encoded");
        bool base64 = b64 && strcmp(b64, "true") == 0;

        size_t n = 1;
        if (batch) {
                char errbuf[256];
                int r = judge0_body_batch_size(body, &n, errbuf, sizeof errbuf);
                if (r < 0) {
                        http_reply_error(req, 400, errbuf);
                        return;
                }
        }
        Created *c = calloc(1, sizeof *c);
        if (c)
                c->subs = calloc(n ? n : 1, sizeof *c->subs);
        _cleanup_judge0_errors_ Judge0Errors *errors = NULL;
        if (!c || !c->subs || judge0_errors_new(&errors) < 0) {
                created_free(c);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        snprintf(c->owner, sizeof c->owner, "%s", p.owner);
        bool changed = false, refused = false;
        /* A batch: each item is checked; one refused item refuses the batch, with each
         * item's errors in its place ({} for an item without any). */
        char *items_json = NULL;
        size_t items_len = 0;
        FILE *items = batch ? open_memstream(&items_json, &items_len) : NULL;
        if (batch && items)
                fputc('[', items);
        for (size_t i = 0; i < n; i++) {
                judge0_errors_clear(errors);
                int r = check_item(&p, body, batch ? i : SIZE_MAX, base64, errors, &changed, &c->subs[c->n]);
                if (r == 0)
                        c->n++;
                else if (r != -EINVAL) {
                        if (items)
                                fclose(items);
                        free(items_json);
                        created_free(c);
                        http_reply_error(req, 500, "the gateway failed to check the request");
                        return;
                } else
                        refused = true;
                if (batch && items) {
                        _cleanup_free_ char *e = NULL;
                        if (judge0_errors_encode(errors, &e) >= 0)
                                fprintf(items, "%s%s", i ? "," : "", e);
                } else if (!batch && r == -EINVAL) {
                        char *e = NULL;
                        r = judge0_errors_encode(errors, &e);
                        created_free(c);
                        gw_reply_encoded(req, 422, r, e);
                        return;
                }
        }
        if (batch) {
                if (!items) {
                        created_free(c);
                        http_reply_error(req, 500, "out of memory");
                        return;
                }
                fputc(']', items);
                bool ok = fclose(items) == 0;
                if (refused || !ok) {
                        created_free(c);
                        if (ok)
                                http_reply_json(req, 422, items_json);
                        else {
                                free(items_json);
                                http_reply_error(req, 500, "out of memory");
                        }
                        return;
                }
                free(items_json);
        }
        if (!quota_admits(g, req, &p, batch ? n : 1)) {
                created_free(c);
                return;
        }
        _cleanup_free_ char *path =
                gw_path_with_query(req, batch ? "/submissions/batch" : "/submissions", create_query);
        _cleanup_free_ char *json = NULL;
        size_t len;
        const char *data = http_request_body(req, &len);
        const char *ct = http_request_header(req, "Content-Type");
        if (changed) {
                if (gwjson_body_encode(body, &json) < 0) {
                        created_free(c);
                        http_reply_error(req, 500, "out of memory");
                        return;
                }
                data = json;
                len = strlen(json);
                ct = "application/json";
        }
        if (!path) {
                created_free(c);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        gw_forward(g, req, &p, "POST", path, ct ? ct : "application/json", data, len, created_after, c,
                created_free);
}

void gw_submission_create(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        create(userdata, req, false);
}

void gw_batch_create(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        create(userdata, req, true);
}

/* ---- reading ---- */

bool gw_owns(Gateway *g, HttpRequest *req, const Principal *p, const char *token) {
        if (!submission_token_valid(token)) {
                reply_not_found(req);
                return false;
        }
        if (gw_is_admin(p))
                return true;
        char owner[META_ID_MAX];
        int r = gw_token_owner(g, token, owner);
        if (r < 0 && r != -ENOENT) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return false;
        }
        bool mine = r == 0 && strcmp(owner, p->owner) == 0;
        if (!mine)
                reply_not_found(req);
        return mine;
}

static const char *const show_query[] = {"base64_encoded", "fields", NULL};

void gw_submission_get(HttpRequest *req, const char *const *params, void *userdata) {
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_READ) || !gw_owns(g, req, &p, params[0]))
                return;
        char base[64];
        snprintf(base, sizeof base, "/submissions/%s", params[0]);
        _cleanup_free_ char *path = gw_path_with_query(req, base, show_query);
        if (!path) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        gw_forward(g, req, &p, "GET", path, NULL, NULL, 0, NULL, NULL, NULL);
}

void gw_submission_delete(HttpRequest *req, const char *const *params, void *userdata) {
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_ADMIN))
                return;
        if (!submission_token_valid(params[0])) {
                reply_not_found(req);
                return;
        }
        char base[64];
        snprintf(base, sizeof base, "/submissions/%s", params[0]);
        _cleanup_free_ char *path = gw_path_with_query(req, base, show_query);
        if (!path) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        gw_forward(g, req, &p, "DELETE", path, NULL, NULL, 0, NULL, NULL, NULL);
}

/* GET /submissions/batch of the tokens in list ("a,b,c"), with the request's
 * base64_encoded and fields, answered by after; ctx goes to ctx_free whatever happens. */
static void forward_batch(Gateway *g, HttpRequest *req, const Principal *p, const char *list, GwAfter after,
        void *ctx, void (*ctx_free)(void *)) {
        const char *const names[] = {"base64_encoded", "fields", NULL};
        _cleanup_free_ char *q = gw_path_with_query(req, "/submissions/batch", names);
        _cleanup_free_ char *path = NULL;
        if (q && asprintf(&path, "%s%ctokens=%s", q, strchr(q, '?') ? '&' : '?', list) < 0)
                path = NULL;
        if (!path) {
                ctx_free(ctx);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        gw_forward(g, req, p, "GET", path, NULL, NULL, 0, after, ctx, ctx_free);
}

typedef struct Spread {
        bool *keep;
        size_t n;
} Spread;

static void spread_free(void *p) {
        Spread *s = p;
        if (s)
                free(s->keep);
        free(s);
}

static void spread_after(Gateway *g, HttpRequest *req, HttpcResponse *resp, void *ctx) {
        (void) g;
        Spread *s = ctx;
        if (resp->error < 0 || resp->status != 200) {
                gw_relay(req, resp);
                return;
        }
        char *json = NULL;
        int r = gwjson_batch_spread(resp->body, resp->body_len, s->keep, s->n, &json);
        if (r == -EBADMSG) {
                http_reply_error(req, 502, "the API node answered a batch with something else");
                return;
        }
        gw_reply_encoded(req, 200, r, json);
}

/* "a,b,c" -> pieces (as Judge0 splits them): malloc'd array of pointers into s. */
static size_t split_tokens(char *s, char ***ret) {
        s += strspn(s, " \t\r\n");
        size_t l = strlen(s);
        while (l > 0 && strchr(" \t\r\n,", s[l - 1]))
                s[--l] = '\0';
        size_t n = *s ? 1 : 0;
        for (char *p = s; *p; p++)
                n += *p == ',';
        char **v = calloc(n ? n : 1, sizeof *v);
        if (!v)
                return SIZE_MAX;
        char *p = s;
        for (size_t i = 0; i < n; i++) {
                v[i] = p;
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                p = comma ? comma + 1 : p + strlen(p);
        }
        *ret = v;
        return n;
}

void gw_batch_get(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_READ))
                return;
        const char *t = http_request_query(req, "tokens");
        _cleanup_free_ char *copy = strdup(t ? t : "");
        _cleanup_free_ char **tokens = NULL;
        size_t n = copy ? split_tokens(copy, &tokens) : SIZE_MAX;
        if (n == SIZE_MAX) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        if (n > BATCH_GET_MAX) {
                char msg[96];
                snprintf(msg, sizeof msg,
                        "number of submissions in a batch should be less than or equal to %d",
                        BATCH_GET_MAX);
                http_reply_error(req, 400, msg);
                return;
        }
        Spread *s = calloc(1, sizeof *s);
        if (s)
                s->keep = calloc(n ? n : 1, sizeof *s->keep);
        if (!s || !s->keep) {
                spread_free(s);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        s->n = n;
        char *list = NULL;
        size_t list_len = 0, kept = 0;
        FILE *f = open_memstream(&list, &list_len);
        for (size_t i = 0; f && i < n; i++) {
                if (!submission_token_valid(tokens[i]))
                        continue;
                char owner[META_ID_MAX];
                bool mine = gw_is_admin(&p);
                if (!mine) {
                        int r = gw_token_owner(g, tokens[i], owner);
                        if (r < 0 && r != -ENOENT) {
                                fclose(f);
                                free(list);
                                spread_free(s);
                                gw_reply_unavailable(req, "the metadata store is unavailable");
                                return;
                        }
                        mine = r == 0 && strcmp(owner, p.owner) == 0;
                }
                if (mine) {
                        fprintf(f, "%s%s", kept ? "," : "", tokens[i]);
                        s->keep[i] = true;
                        kept++;
                }
        }
        if (!f || fclose(f) != 0) {
                free(list);
                spread_free(s);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        _cleanup_free_ char *owned_list = list;
        if (kept == 0) { /* nothing to ask: every place is null */
                char *json = NULL;
                int r = gwjson_batch_spread("{\"submissions\":[]}", 18, s->keep, n, &json);
                spread_free(s);
                gw_reply_encoded(req, 200, r, json);
                return;
        }
        forward_batch(g, req, &p, owned_list, spread_after, s, spread_free);
}

static void list_after(Gateway *g, HttpRequest *req, HttpcResponse *resp, void *ctx) {
        (void) g;
        const Judge0Page *page = ctx;
        if (resp->error < 0 || resp->status != 200) {
                gw_relay(req, resp);
                return;
        }
        char *json = NULL;
        int r = gwjson_list_wrap(resp->body, resp->body_len, page, &json);
        if (r == -EBADMSG) {
                http_reply_error(req, 502, "the API node answered a batch with something else");
                return;
        }
        gw_reply_encoded(req, 200, r, json);
}

static bool query_u64(
        HttpRequest *req, const char *name, uint64_t def, uint64_t min, uint64_t max, uint64_t *ret) {
        const char *v = http_request_query(req, name);
        if (!v) {
                *ret = def;
                return true;
        }
        char *end;
        errno = 0;
        unsigned long long x = strtoull(v, &end, 10);
        if (errno || end == v || *end || *v == '-' || x < min || x > max) {
                char msg[128];
                snprintf(msg, sizeof msg, "%s must be an integer from %" PRIu64 " to %" PRIu64, name, min,
                        max);
                http_reply_error(req, 400, msg);
                return false;
        }
        *ret = x;
        return true;
}

/* GET /submissions: an admin sees every submission (the API node's list); anyone else
 * their own, newest first, from the history. */
void gw_submission_list(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_READ))
                return;
        if (gw_is_admin(&p)) {
                const char *const names[] = {"base64_encoded", "fields", "page", "per_page", NULL};
                _cleanup_free_ char *path = gw_path_with_query(req, "/submissions", names);
                if (!path) {
                        http_reply_error(req, 500, "out of memory");
                        return;
                }
                gw_forward(g, req, &p, "GET", path, NULL, NULL, 0, NULL, NULL, NULL);
                return;
        }
        uint64_t page, per_page;
        if (!query_u64(req, "page", 1, 1, 1000000, &page) ||
                !query_u64(req, "per_page", BATCH_GET_MAX, 1, BATCH_GET_MAX, &per_page))
                return;
        gw_outbox_flush(g);
        /* Walk the owner's history up to the page (and count it all, up to a bound). */
        char cursor[META_CURSOR_MAX] = "", next[META_CURSOR_MAX];
        uint64_t seen = 0;
        char *list = NULL;
        size_t list_len = 0, kept = 0;
        FILE *f = open_memstream(&list, &list_len);
        if (!f) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        for (;;) {
                MetaHistory *items = NULL;
                size_t n = 0;
                int r = GW_META(g, meta_history_list(g->meta, p.owner, 100, cursor, &items, &n, next));
                if (r < 0) {
                        fclose(f);
                        free(list);
                        gw_reply_unavailable(req, "the metadata store is unavailable");
                        return;
                }
                for (size_t i = 0; i < n; i++, seen++)
                        if (seen >= (page - 1) * per_page && seen < page * per_page)
                                fprintf(f, "%s%s", kept++ ? "," : "", items[i].token);
                meta_history_list_free(items, n);
                if (!*next || seen >= LIST_SCAN_MAX)
                        break;
                memcpy(cursor, next, sizeof cursor);
        }
        if (fclose(f) != 0) {
                free(list);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        _cleanup_free_ char *owned_list = list;
        Judge0Page *pg = malloc(sizeof *pg);
        if (!pg) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        uint64_t pages = (seen + per_page - 1) / per_page;
        *pg = (Judge0Page){.current_page = page,
                .next_page = page < pages ? page + 1 : 0,
                .prev_page = page > 1 ? page - 1 : 0,
                .total_pages = pages,
                .total_count = seen};
        if (kept == 0) {
                char *json = NULL;
                int r = gwjson_list_wrap("{\"submissions\":[]}", 18, pg, &json);
                free(pg);
                gw_reply_encoded(req, 200, r, json);
                return;
        }
        forward_batch(g, req, &p, owned_list, list_after, pg, free);
}

/* ---- the rest ---- */

static void pass(Gateway *g, HttpRequest *req, uint32_t scope) {
        Principal p;
        if (!gw_admit(g, req, &p, scope))
                return;
        const char *path = http_request_path(req);
        /* The router saw the path without its ".json"; the API node's route has it. */
        if (strcmp(path, "/openapi") == 0)
                path = "/openapi.json";
        const char *const names[] = {"base64_encoded", "fields", NULL};
        _cleanup_free_ char *full = gw_path_with_query(req, path, names);
        if (!full) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        gw_forward(g, req, &p, "GET", full, NULL, NULL, 0, NULL, NULL, NULL);
}

void gw_pass_read(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        pass(userdata, req, 0);
}

void gw_pass_admin(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        pass(userdata, req, META_SCOPE_ADMIN);
}

/* ---- Piston runs ---- */

/* No bound of the gateway's own on a Piston limit (the API node has its own). */
#define PISTON_UNBOUNDED (INT64_C(1) << 50)

/* A Piston run's limits against the key's ceilings, in the request's units: the request
 * checked (Piston's 400 message in msg: the API node would refuse it in the same words),
 * and a run limit left out set to the ceiling when the ceiling is below the API node's
 * default (Judge0's, which a Piston run gets), as a Judge0 submission gets it. -EINVAL
 * refused; -EBADMSG a body the API node must answer itself (malformed); 0 with *changed. */
static int piston_ceilings(const Principal *p, Judge0Body *b, const char *body, size_t len, bool *changed,
        char *msg, size_t msglen) {
        _cleanup_piston_request_ PistonRequest *pr = NULL;
        char errbuf[256];
        if (piston_request_parse(body, len, &pr, errbuf, sizeof errbuf) < 0 ||
                piston_request_check(pr, errbuf, sizeof errbuf) < 0)
                return -EBADMSG;
        bool key = p->kind == PRINCIPAL_KEY;
        const struct {
                PistonLimit limit;
                double ceiling; /* in the request's unit; <= 0: none */
                double def;
        } c[] = {
                {PISTON_RUN_TIMEOUT, key ? floor(p->key.max_wall_time_limit * 1000) : 0,
                        JUDGE0_WALL_TIME_LIMIT * 1000.0},
                {PISTON_RUN_CPU_TIME, key ? floor(p->key.max_cpu_time_limit * 1000) : 0,
                        JUDGE0_CPU_TIME_LIMIT * 1000.0},
                {PISTON_RUN_MEMORY_LIMIT, key ? (double) p->key.max_memory_limit * 1024 : 0,
                        JUDGE0_MEMORY_LIMIT * 1024.0},
        };
        int64_t maxima[_PISTON_LIMIT_MAX];
        for (size_t i = 0; i < _PISTON_LIMIT_MAX; i++)
                maxima[i] = PISTON_UNBOUNDED;
        for (size_t i = 0; i < ELEMENTSOF(c); i++)
                if (c[i].ceiling > 0)
                        maxima[c[i].limit] = (int64_t) MAX(c[i].ceiling, 1);
        PistonJob job;
        int r = piston_request_finish(pr, maxima, &job, msg, msglen);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(c) && r >= 0; i++) {
                int64_t v = job.limits[c[i].limit];
                if (c[i].ceiling <= 0)
                        continue;
                if (v == PISTON_LIMIT_NONE) { /* "no limit" is past any ceiling */
                        snprintf(msg, msglen, "%s cannot exceed the configured limit of %" PRId64,
                                piston_limit_name(c[i].limit), maxima[c[i].limit]);
                        r = -EINVAL;
                } else if (v == PISTON_LIMIT_UNSET && c[i].ceiling < c[i].def) {
                        r = gwjson_body_set_number(
                                b, piston_limit_name(c[i].limit), (double) maxima[c[i].limit]);
                        *changed = r >= 0;
                }
        }
        piston_job_done(&job);
        return r;
}

int gw_piston_check(
        Gateway *g, const Principal *p, const char *body, size_t len, char **ret_body, GwRefusal *refusal) {
        *ret_body = NULL;
        /* A key's languages are Judge0 ids: the API node, whose catalogue knows which id a
         * runtime (a name and a version range) is, refuses the others (the header
         * gw_upstream_headers() adds). */
        _cleanup_judge0_body_ Judge0Body *b = NULL;
        char errbuf[256];
        bool changed = false;
        bool ceilings = p->kind == PRINCIPAL_KEY &&
                        (p->key.max_cpu_time_limit > 0 || p->key.max_wall_time_limit > 0 ||
                                p->key.max_memory_limit > 0);
        /* Without ceilings the body is the API node's to check, as it always was. */
        int r = ceilings ? judge0_body_parse(body, len, &b, errbuf, sizeof errbuf) : -EBADMSG;
        if (r >= 0)
                r = piston_ceilings(p, b, body, len, &changed, refusal->message, sizeof refusal->message);
        if (r == -EINVAL) {
                refusal->status = 400;
                refusal->quota = NULL;
                return -EACCES;
        }
        if (r < 0 && r != -EBADMSG)
                return r;
        if (!quota_check(g, p, 1, refusal))
                return -EACCES;
        if (changed)
                return gwjson_body_encode(b, ret_body);
        return 0;
}

void gw_count_run(Gateway *g, const char *owner) {
        char k[128];
        snprintf(k, sizeof k, "qs:%s", owner);
        count_add(g, k, 1);
}

static void execute_after(Gateway *g, HttpRequest *req, HttpcResponse *resp, void *ctx) {
        if (resp->error == 0 && resp->status == 200)
                gw_count_run(g, ctx);
        gw_relay(req, resp);
}

/* Piston's execute: a run answered in one request; it counts against the daily quota
 * and is not kept in the history (it has no token). */
void gw_piston_execute(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (!gw_admit(g, req, &p, META_SCOPE_SUBMIT))
                return;
        size_t len;
        const char *body = http_request_body(req, &len);
        _cleanup_free_ char *rewritten = NULL;
        GwRefusal refusal;
        int r = gw_piston_check(g, &p, body, len, &rewritten, &refusal);
        if (r == -EACCES) {
                gw_reply_refusal(req, &refusal);
                return;
        }
        char *owner = strdup(p.owner);
        if (r < 0 || !owner) {
                free(owner);
                http_reply_error(req, 500, "out of memory");
                return;
        }
        if (rewritten) {
                body = rewritten;
                len = strlen(rewritten);
        }
        gw_forward(g, req, &p, "POST", "/api/v2/execute", "application/json", body, len, execute_after,
                owner, free);
}

/* ---- the reconciler ---- */

typedef struct Wait {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool done;
        unsigned status;
        int error;
        char *body;
        size_t len;
} Wait;

static void wait_done(HttpcResponse *resp, void *userdata) {
        Wait *w = userdata;
        pthread_mutex_lock(&w->lock);
        w->error = resp->error;
        w->status = resp->status;
        w->body = resp->body;
        w->len = resp->body_len;
        resp->body = NULL;
        w->done = true;
        pthread_cond_signal(&w->cond);
        pthread_mutex_unlock(&w->lock);
}

void gw_reconcile(Gateway *g) {
        char(*tokens)[META_ID_MAX] = NULL;
        size_t n = 0;
        int r = GW_META(g, meta_history_pending(g->meta, BATCH_GET_MAX, &tokens, &n));
        if (r < 0 || n == 0) {
                free(tokens);
                return;
        }
        _cleanup_free_ char(*owned)[META_ID_MAX] = tokens;
        char *path = NULL;
        size_t plen = 0;
        FILE *f = open_memstream(&path, &plen);
        if (!f)
                return;
        fputs("/submissions/batch?fields=token,status,time,memory&tokens=", f);
        for (size_t i = 0; i < n; i++)
                fprintf(f, "%s%s", i ? "," : "", tokens[i]);
        if (fclose(f) != 0) {
                free(path);
                return;
        }
        _cleanup_free_ char *owned_path = path;
        Wait w = {.lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER};
        HttpcHeader h[] = {{g->cfg.internal_header, g->cfg.internal_secret}, {"Accept", "application/json"}};
        r = upstream_forward(g->up, "GET", path, h, ELEMENTSOF(h), NULL, 0, wait_done, &w);
        if (r < 0)
                return;
        pthread_mutex_lock(&w.lock);
        while (!w.done)
                pthread_cond_wait(&w.cond, &w.lock);
        pthread_mutex_unlock(&w.lock);
        _cleanup_free_ char *body = w.body;
        if (w.error < 0 || w.status != 200)
                return;
        _cleanup_free_ GwResult *res = NULL;
        size_t m = 0;
        if (gwjson_batch_results_parse(body, w.len, &res, &m) < 0 || m != n)
                return;
        int64_t now = (int64_t) now_usec(CLOCK_REALTIME);
        for (size_t i = 0; i < n; i++) {
                if (!res[i].token[0]) {
                        /* Gone from the API nodes (deleted, or purged by retention): it will
                         * never finish; it leaves the pending list as status 0, unknown. */
                        GW_META(g, meta_history_update(g->meta, tokens[i], 0, -1, -1, now));
                        continue;
                }
                if (!status_is_final(res[i].status_id))
                        continue;
                r = GW_META(g, meta_history_update(g->meta, tokens[i], res[i].status_id, res[i].time,
                                       res[i].memory, now));
                if (r <= 0 || res[i].time <= 0)
                        continue; /* r == 0: another gateway finished it first and counted it */
                MetaHistory hist = {};
                if (GW_META(g, meta_history_get(g->meta, tokens[i], &hist)) == 0) {
                        char k[128];
                        snprintf(k, sizeof k, "qc:%s", hist.owner);
                        count_add(g, k, res[i].time);
                }
                meta_history_done(&hist);
        }
}
