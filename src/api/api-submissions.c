/* SPDX-License-Identifier: MIT */
/* POST /submissions, GET /submissions/:token, GET /submissions, DELETE /submissions/:token,
 * as Judge0 CE 1.13.1 answers them. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "base/macro.h"

static void reply_not_found(HttpRequest *req) {
        http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
}

void api_submission_create(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        if (a->cfg.maintenance_mode) {
                http_reply_error(req, 503, a->cfg.maintenance_message);
                return;
        }
        _cleanup_judge0_body_ Judge0Body *body = NULL;
        if (api_body(req, &body) < 0)
                return;
        /* Rails merges the query and the body, the query winning; only the string "true". */
        const char *v;
        v = http_request_query(req, "wait");
        bool wait = (v ? v : judge0_body_param(body, "wait")) &&
                    strcmp(v ? v : judge0_body_param(body, "wait"), "true") == 0;
        v = http_request_query(req, "base64_encoded");
        const char *b64 = v ? v : judge0_body_param(body, "base64_encoded");
        bool base64 = b64 && strcmp(b64, "true") == 0;
        v = http_request_query(req, "fields");
        const char *fields_s = v ? v : judge0_body_param(body, "fields");

        if (wait && !a->cfg.enable_wait_result) {
                http_reply_error(req, 400, "wait not allowed");
                return;
        }
        Judge0Fields fields;
        if (!api_fields(req, fields_s, &fields))
                return;

        _cleanup_judge0_errors_ Judge0Errors *errors = NULL;
        int r = judge0_errors_new(&errors);
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        Submission sub;
        r = judge0_body_decode_submission(body, base64, &a->cfg.rules, errors, &sub);
        if (r == -EINVAL) {
                char *json = NULL;
                r = judge0_errors_encode(errors, &json);
                if (r < 0)
                        api_reply_internal(req, r);
                else
                        http_reply_json(req, 422, json);
                return;
        }
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        if (api_refuse_new(a, req)) {
                submission_done(&sub);
                return;
        }
        r = api_store_new(a, &sub);
        if (r < 0) {
                submission_done(&sub);
                api_reply_store(req, r);
                return;
        }
        /* The admission: the push checks the bound and appends in one step. */
        const char *token = sub.token;
        r = api_enqueue(a, req, &token, 1);
        if (r < 0) {
                submission_done(&sub);
                return;
        }
        atomic_fetch_add(&a->created, 1);
        char note[128];
        snprintf(note, sizeof note, "token=%s language_id=%d wait=%s", sub.token, sub.language_id,
                wait ? "true" : "false");
        http_request_set_log_note(req, note);
        if (wait) {
                Judge0EncodeOptions o;
                api_encode_options(a, fields, base64, &o);
                api_wait(a, req, sub.token, &o);
        } else {
                char *json = NULL;
                int k = judge0_token_encode(sub.token, &json);
                if (k < 0)
                        api_reply_internal(req, k);
                else
                        http_reply_json(req, 201, json);
        }
        submission_done(&sub);
}

/* The tombstone of a submission the retention policy purged: gone, not unknown. */
static void reply_purged(Api *a, HttpRequest *req, const Submission *sub) {
        Judge0EncodeOptions o;
        api_encode_options(a, JUDGE0_FIELDS_DEFAULT, false, &o);
        char *json = NULL;
        int r = judge0_purged_encode(sub, &o, &json);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 410, json);
}

/* The stored submission, or an answer (404, 500) and false. */
static bool load_or_reply(Api *a, HttpRequest *req, const char *token, Submission *ret) {
        submission_init(ret);
        int r = store_get(a->store, token, ret);
        if (r == -ENOENT)
                reply_not_found(req);
        else if (r < 0)
                api_reply_internal(req, r);
        return r >= 0;
}

bool api_submission_lookup(
        Api *a, HttpRequest *req, const char *token, Judge0Fields *ret_fields, Submission *ret) {
        if (!api_guard(a, req, false) || !api_fields(req, http_request_query(req, "fields"), ret_fields) ||
                !load_or_reply(a, req, token, ret))
                return false;
        if (ret->purged_at_usec >= 0) {
                reply_purged(a, req, ret);
                submission_done(ret);
                return false;
        }
        return true;
}

void api_submission_get(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        Judge0Fields fields;
        Submission sub;
        if (!api_submission_lookup(a, req, params[0], &fields, &sub))
                return;
        Judge0EncodeOptions o;
        api_encode_options(a, fields, api_query_true(req, "base64_encoded"), &o);
        char *json = NULL;
        int r = judge0_submission_encode(&sub, &o, &json);
        submission_done(&sub);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

/* Ruby's String#to_i: optional blanks and sign, then digits; anything else is 0. */
static long long ruby_to_i(const char *s) {
        if (!s)
                return 0;
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        bool neg = *s == '-';
        if (*s == '-' || *s == '+')
                s++;
        long long v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
                if (v > (LLONG_MAX - 9) / 10)
                        return neg ? LLONG_MIN : LLONG_MAX;
                v = v * 10 + (*s - '0');
                while (s[1] == '_' && s[2] >= '0' && s[2] <= '9')
                        s++;
        }
        return neg ? -v : v;
}

void api_submission_list(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, true))
                return;
        const char *ps = http_request_query(req, "page"), *pps = http_request_query(req, "per_page");
        long long page = ps ? ruby_to_i(ps) : 1, per_page = pps ? ruby_to_i(pps) : 20;
        char msg[96];
        if (page <= 0) {
                snprintf(msg, sizeof msg, "invalid page: %lld", page);
                http_reply_error(req, 400, msg);
                return;
        }
        if (per_page < 0 || per_page > a->cfg.max_per_page) {
                snprintf(msg, sizeof msg, "invalid per_page: %lld", per_page);
                http_reply_error(req, 400, msg);
                return;
        }
        Judge0Fields fields;
        if (!api_fields(req, http_request_query(req, "fields"), &fields))
                return;
        Submission *list = NULL;
        size_t n = 0;
        uint64_t total = 0;
        int r = store_list(a->store, (uint64_t) page, (uint32_t) per_page, &list, &n, &total);
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        _cleanup_free_ const Submission **ptrs = calloc(n ? n : 1, sizeof *ptrs);
        if (!ptrs) {
                store_list_free(list, n);
                api_reply_internal(req, -ENOMEM);
                return;
        }
        for (size_t i = 0; i < n; i++)
                ptrs[i] = &list[i];
        uint64_t total_pages = per_page > 0 ? (total + (uint64_t) per_page - 1) / (uint64_t) per_page : 0;
        Judge0Page meta = {
                .current_page = (uint64_t) page,
                .next_page = (uint64_t) page < total_pages ? (uint64_t) page + 1 : 0,
                .prev_page = page > 1 ? (uint64_t) page - 1 : 0,
                .total_pages = total_pages,
                .total_count = total,
        };
        Judge0EncodeOptions o;
        api_encode_options(a, fields, api_query_true(req, "base64_encoded"), &o);
        char *json = NULL;
        r = judge0_submission_list_encode(ptrs, n, &meta, &o, &json);
        store_list_free(list, n);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

void api_submission_delete(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, true))
                return;
        if (a->cfg.maintenance_mode) {
                http_reply_error(req, 503, a->cfg.maintenance_message);
                return;
        }
        if (!a->cfg.enable_submission_delete) {
                http_reply_error(req, 400, "delete not allowed");
                return;
        }
        Judge0Fields fields;
        if (!api_fields(req, http_request_query(req, "fields"), &fields))
                return;
        Submission sub;
        if (!load_or_reply(a, req, params[0], &sub))
                return;
        int r = store_delete(a->store, params[0]);
        if (r == -EBUSY) {
                char msg[128];
                int st = sub.status_id == 2 ? 2 : 1;
                snprintf(msg, sizeof msg, "submission cannot be deleted because its status is %d (%s)", st,
                        st == 1 ? "In Queue" : "Processing");
                http_reply_error(req, 400, msg);
                submission_done(&sub);
                return;
        }
        if (r == -ENOENT) {
                submission_done(&sub);
                reply_not_found(req);
                return;
        }
        if (r < 0) {
                submission_done(&sub);
                api_reply_internal(req, r);
                return;
        }
        /* Judge0 answers with the deleted submission, always base64. */
        Judge0EncodeOptions o;
        api_encode_options(a, fields, true, &o);
        char *json = NULL;
        r = judge0_submission_encode(&sub, &o, &json);
        submission_done(&sub);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}
