/* SPDX-License-Identifier: MIT */
/* POST /submissions/batch and GET /submissions/batch. As in Judge0, the batch create
 * ignores wait, fields and maintenance. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "base/macro.h"

/* Judge0's check_batched_submissions, before either batch route's own checks. */
static bool check_batched(Api *a, HttpRequest *req) {
        if (a->cfg.enable_batched_submissions)
                return true;
        http_reply_error(req, 400, "batched submissions are not allowed");
        return false;
}

static bool check_count(Api *a, HttpRequest *req, size_t n) {
        char msg[128];
        if (n > a->cfg.max_submission_batch_size) {
                snprintf(msg, sizeof msg,
                        "number of submissions in a batch should be less than or equal to %u",
                        a->cfg.max_submission_batch_size);
                http_reply_error(req, 400, msg);
                return false;
        }
        if (n == 0) {
                http_reply_error(req, 400, "there should be at least one submission in a batch");
                return false;
        }
        return true;
}

void api_batch_create(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false) || !check_batched(a, req))
                return;
        _cleanup_judge0_body_ Judge0Body *body = NULL;
        if (api_body(req, &body) < 0)
                return;
        size_t n = 0;
        char errbuf[256];
        int r = judge0_body_batch_size(body, &n, errbuf, sizeof errbuf);
        if (r == -EBADMSG) {
                http_reply_error(req, 400, errbuf);
                return;
        }
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        if (!check_count(a, req, n) || api_refuse_new(a, req))
                return;
        const char *v = http_request_query(req, "base64_encoded");
        const char *b64 = v ? v : judge0_body_param(body, "base64_encoded");
        bool base64 = b64 && strcmp(b64, "true") == 0;

        _cleanup_free_ Judge0BatchResult *items = calloc(n, sizeof *items);
        _cleanup_free_ Judge0Errors **errors = calloc(n, sizeof *errors);
        _cleanup_free_ char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = calloc(n, sizeof *tokens);
        _cleanup_free_ const char **stored = calloc(n, sizeof *stored);
        if (!items || !errors || !tokens || !stored) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        size_t valid = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                r = judge0_errors_new(&errors[i]);
                if (r < 0)
                        break;
                Submission sub;
                r = judge0_body_decode_batch_item(body, i, base64, &a->cfg.rules, errors[i], &sub);
                if (r == -EINVAL) {
                        items[i].errors = errors[i];
                        r = 0;
                        continue;
                }
                if (r < 0)
                        break;
                r = api_store_new(a, &sub);
                if (r >= 0) {
                        memcpy(tokens[i], sub.token, sizeof tokens[i]);
                        items[i].token = tokens[i];
                        stored[valid++] = tokens[i];
                }
                submission_done(&sub);
        }
        if (r < 0) {
                /* Nothing of a failed batch is kept: the client learns no token. */
                for (size_t i = 0; i < valid; i++)
                        api_discard(a, stored[i], "the batch could not be stored");
                for (size_t i = 0; i < n; i++)
                        judge0_errors_free(errors[i]);
                api_reply_store(req, r);
                return;
        }
        /* The admission of the whole batch: every valid item, or none. */
        if (valid > 0 && api_enqueue(a, req, stored, valid) < 0) {
                for (size_t i = 0; i < n; i++)
                        judge0_errors_free(errors[i]);
                return;
        }
        atomic_fetch_add(&a->created, valid);
        char *json = NULL;
        r = judge0_batch_created_encode(items, n, &json);
        for (size_t i = 0; i < n; i++)
                judge0_errors_free(errors[i]);
        if (r < 0) {
                api_reply_internal(req, r);
                return;
        }
        char note[64];
        snprintf(note, sizeof note, "batch=%zu valid=%zu", n, valid);
        http_request_set_log_note(req, note);
        http_reply_json(req, valid > 0 ? 201 : 422, json);
}

void api_batch_get(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false) || !check_batched(a, req))
                return;
        const char *t = http_request_query(req, "tokens");
        if (!t)
                t = http_request_header(req, "tokens");
        /* Ruby: tokens.to_s.strip.split(","): empty pieces at the end are dropped. */
        _cleanup_free_ char *copy = strdup(t ? t : "");
        if (!copy) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        char *s = copy + strspn(copy, " \t\r\n");
        size_t l = strlen(s);
        while (l > 0 && strchr(" \t\r\n", s[l - 1]))
                s[--l] = '\0';
        size_t n = 0;
        if (*s) {
                n = 1;
                for (char *p = s; *p; p++)
                        n += *p == ',';
        }
        /* Trailing empty pieces do not count. */
        while (n > 0 && l > 0 && s[l - 1] == ',') {
                s[--l] = '\0';
                n--;
        }
        /* Judge0 checks the fields first (a before_action), then the count. */
        Judge0Fields fields;
        if (!api_fields(req, http_request_query(req, "fields"), &fields) || !check_count(a, req, n))
                return;
        _cleanup_free_ Submission *subs = calloc(n, sizeof *subs);
        _cleanup_free_ const Submission **ptrs = calloc(n, sizeof *ptrs);
        if (!subs || !ptrs) {
                api_reply_internal(req, -ENOMEM);
                return;
        }
        int r = 0;
        char *p = s;
        for (size_t i = 0; i < n; i++) {
                char *comma = strchr(p, ',');
                if (comma)
                        *comma = '\0';
                submission_init(&subs[i]);
                int k = store_get(a->store, p, &subs[i]);
                if (k >= 0)
                        ptrs[i] = &subs[i];
                else if (k != -ENOENT && r >= 0)
                        r = k;
                p = comma ? comma + 1 : p + strlen(p);
        }
        char *json = NULL;
        if (r >= 0) {
                Judge0EncodeOptions o;
                api_encode_options(a, fields, api_query_true(req, "base64_encoded"), &o);
                r = judge0_submission_batch_encode(ptrs, n, &o, &json);
        }
        for (size_t i = 0; i < n; i++)
                submission_done(&subs[i]);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}
