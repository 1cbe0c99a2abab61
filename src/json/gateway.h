/* SPDX-License-Identifier: MIT */
#pragma once

/* The gateway's JSON: what it changes in a request before forwarding it, what it reads of
 * the API nodes' answers (tokens and results), and the bodies of its own routes (session,
 * accounts, history, client configuration). Same conventions as judge0.h: 0 or -errno,
 * encoders give a malloc'd compact text in *ret. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "json/judge0.h"
#include "model/submission.h"

/* ---- requests ---- */

/* Set name to value (a number) in the body's object, or in item `item` of its
 * "submissions" array when item != SIZE_MAX, when it is absent or null. -ERANGE when the
 * item is not there or not an object. */
int gwjson_body_default_number(Judge0Body *b, size_t item, const char *name, double value);
/* Set name to value (a number) in the body's object, whatever was there. */
int gwjson_body_set_number(Judge0Body *b, const char *name, double value);
/* The body as compact JSON. */
int gwjson_body_encode(const Judge0Body *b, char **ret);

/* {"username": s, "password": s}: both strings, malloc'd into *ret_*. -EBADMSG with the
 * reason ("malformed JSON: ...", "username is not a string"...) in errbuf. */
int gwjson_credentials_parse(
        const char *body, size_t len, char **ret_username, char **ret_password, char *errbuf, size_t errlen);

/* {"data": s}: a string, malloc'd into *ret_data. -EBADMSG with the reason in errbuf. */
int gwjson_share_parse(const char *body, size_t len, char **ret_data, char *errbuf, size_t errlen);

/* ---- the API nodes' answers ---- */

typedef struct GwResult {
        char token[SUBMISSION_TOKEN_LEN + 1]; /* "" = none (a batch item that failed) */
        int status_id; /* 0 = absent */
        double time; /* s; -1 = null or absent */
        int64_t memory; /* KB; -1 = null or absent */
} GwResult;

/* A create answer: {"token": ...} or a submission (wait=true), or a batch create answer:
 * [{"token": ...} | {errors...}, ...]. *ret: malloc'd, *ret_n entries, in order. -EBADMSG
 * when the text is not one of these shapes. */
int gwjson_results_parse(const char *body, size_t len, GwResult **ret, size_t *ret_n);
/* {"submissions": [submission | null, ...]} (batch GET): one entry per element, "" token for
 * null. */
int gwjson_batch_results_parse(const char *body, size_t len, GwResult **ret, size_t *ret_n);
/* A batch GET answer for the kept tokens only, spread back over n places: place i is the
 * next element of the answer when keep[i], else null. -EBADMSG when the answer does not have
 * as many elements as keep has true. */
int gwjson_batch_spread(const char *body, size_t len, const bool *keep, size_t n, char **ret);
/* GET /submissions for one owner: {"submissions": <the batch answer's array>, "meta": page}. */
int gwjson_list_wrap(const char *batch_body, size_t len, const Judge0Page *page, char **ret);

/* ---- the gateway's own routes ---- */

/* {"session":{"user":null|{"name":..},"expires_at":ISO},"accounts":bool} */
int gwjson_session_encode(const char *user_name, int64_t expires_at_usec, bool accounts, char **ret);
/* {"id": id, "data": data, "created_at": ISO} */
int gwjson_share_encode(const char *id, const char *data, int64_t created_at_usec, char **ret);
/* {"user":{"name":..}} */
int gwjson_user_encode(const char *name, char **ret);

typedef struct GwHistoryItem {
        const char *token;
        int language_id;
        int status_id;
        const char *status_description; /* NULL = null */
        double time; /* < 0 = null */
        int64_t memory; /* < 0 = null */
        int64_t created_at_usec;
        int64_t finished_at_usec; /* 0 = null */
        const char *source_code;
        size_t source_len;
        const char *stdin_data; /* NULL = null */
        size_t stdin_len;
} GwHistoryItem;
/* {"items":[...],"next_cursor":null|".."} */
int gwjson_history_encode(const GwHistoryItem *items, size_t n, const char *next_cursor, char **ret);

/* The client configuration from its stored keys and values (strings): typed as the
 * gateway's documentation says; unknown keys are left out. */
int gwjson_client_config_encode(const char *const *keys, const char *const *values, size_t n, char **ret);

/* The text of an error answer: its "message" (Piston's) or "error" (ours, Judge0's), cut to
 * size bytes. -EBADMSG: not a JSON object; -ENOENT: neither is a string. */
int gwjson_error_message(const char *body, size_t len, char *ret, size_t size);
/* {"error": message, "quota": name, "limit": x, "used": y, "resets_at": ISO} */
int gwjson_quota_error_encode(const char *message, const char *quota, double limit, double used,
        int64_t resets_at_usec, char **ret);
/* {"status": s, "meta": m, "limiter": l, "upstreams": [{"url","healthy","outstanding"}...], "outbox": n} */
typedef struct GwUpstreamHealth {
        const char *url;
        bool healthy;
        uint64_t outstanding;
} GwUpstreamHealth;
int gwjson_health_encode(const char *status, const char *meta, const char *limiter,
        const GwUpstreamHealth *ups, size_t n, uint64_t outbox, char **ret);
