/* SPDX-License-Identifier: MIT */
/* The gateway's JSON (see gateway.h). */

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/gateway.h"
#include "json/json-internal.h"

static json_t *number(double value) {
        return value == floor(value) && fabs(value) < 9e15 ? json_integer((json_int_t) value)
                                                           : json_real(value);
}

int gwjson_body_default_number(Judge0Body *b, size_t item, const char *name, double value) {
        json_t *obj = (json_t *) judge0_body_json(b);
        if (item != SIZE_MAX) {
                json_t *arr = json_object_get(obj, "submissions");
                obj = json_is_array(arr) ? json_array_get(arr, item) : NULL;
                if (!json_is_object(obj))
                        return -ERANGE;
        }
        json_t *cur = json_object_get(obj, name);
        if (cur && !json_is_null(cur))
                return 0;
        return j0_set(obj, name, number(value));
}

int gwjson_body_set_number(Judge0Body *b, const char *name, double value) {
        json_t *obj = (json_t *) judge0_body_json(b);
        if (!json_is_object(obj))
                return -ERANGE;
        return j0_set(obj, name, number(value));
}

int gwjson_body_encode(const Judge0Body *b, char **ret) {
        return j0_dump(judge0_body_json(b), 17, ret);
}

static int load(const char *body, size_t len, json_t **ret, char *errbuf, size_t errlen) {
        json_error_t e;
        json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
        if (!root) {
                if (errbuf)
                        snprintf(errbuf, errlen, "malformed JSON: %s", e.text);
                return -EBADMSG;
        }
        *ret = root;
        return 0;
}

/* The body as a JSON object: -EBADMSG (the reason in errbuf) when it is not one. */
static int load_object(const char *body, size_t len, json_t **ret, char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        int r = load(body, len, &root, errbuf, errlen);
        if (r < 0)
                return r;
        if (!json_is_object(root)) {
                if (errbuf)
                        snprintf(errbuf, errlen, "the body is not a JSON object");
                return -EBADMSG;
        }
        *ret = TAKE_PTR(root);
        return 0;
}

int gwjson_error_message(const char *body, size_t len, char *ret, size_t size) {
        _cleanup_json_ json_t *root = NULL;
        int r = load_object(body, len, &root, NULL, 0);
        if (r < 0)
                return r;
        const char *m = json_string_value(json_object_get(root, "message"));
        if (!m)
                m = json_string_value(json_object_get(root, "error"));
        if (!m)
                return -ENOENT;
        snprintf(ret, size, "%s", m);
        return 0;
}

int gwjson_credentials_parse(const char *body, size_t len, char **ret_username, char **ret_password,
        char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        int r = load_object(body, len, &root, errbuf, errlen);
        if (r < 0)
                return r;
        const char *names[] = {"username", "password"};
        const char *vals[2];
        for (size_t i = 0; i < 2; i++) {
                json_t *v = json_object_get(root, names[i]);
                if (!json_is_string(v)) {
                        snprintf(errbuf, errlen, "%s %s", names[i], v ? "is not a string" : "is missing");
                        return -EBADMSG;
                }
                vals[i] = json_string_value(v);
        }
        _cleanup_free_ char *u = strdup(vals[0]);
        char *p = strdup(vals[1]);
        if (!u || !p) {
                free(p);
                return -ENOMEM;
        }
        *ret_username = TAKE_PTR(u);
        *ret_password = p;
        return 0;
}

int gwjson_share_parse(const char *body, size_t len, char **ret_data, char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        int r = load_object(body, len, &root, errbuf, errlen);
        if (r < 0)
                return r;
        json_t *v = json_object_get(root, "data");
        if (!json_is_string(v)) {
                snprintf(errbuf, errlen, "data %s", v ? "is not a string" : "is missing");
                return -EBADMSG;
        }
        char *d = strndup(json_string_value(v), json_string_length(v));
        if (!d)
                return -ENOMEM;
        if (strlen(d) != json_string_length(v)) {
                free(d);
                snprintf(errbuf, errlen, "data contains a NUL character");
                return -EBADMSG;
        }
        *ret_data = d;
        return 0;
}

/* "0.01" (Judge0 writes decimals as strings), 0.01, or null. */
static double seconds_of(const json_t *v) {
        if (json_is_number(v))
                return json_number_value(v);
        if (json_is_string(v)) {
                char *end;
                errno = 0;
                double d = strtod(json_string_value(v), &end);
                if (errno == 0 && end != json_string_value(v) && *end == '\0' && d >= 0)
                        return d;
        }
        return -1;
}

static void result_of(const json_t *o, GwResult *ret) {
        *ret = (GwResult){.time = -1, .memory = -1};
        const json_t *t = json_object_get(o, "token");
        if (json_is_string(t) && json_string_length(t) <= SUBMISSION_TOKEN_LEN)
                memcpy(ret->token, json_string_value(t), json_string_length(t) + 1);
        const json_t *st = json_object_get(o, "status");
        const json_t *id = json_is_object(st) ? json_object_get(st, "id") : json_object_get(o, "status_id");
        if (json_is_integer(id) && json_integer_value(id) > 0 && json_integer_value(id) < 100)
                ret->status_id = (int) json_integer_value(id);
        ret->time = seconds_of(json_object_get(o, "time"));
        const json_t *m = json_object_get(o, "memory");
        if (json_is_integer(m) && json_integer_value(m) >= 0)
                ret->memory = json_integer_value(m);
}

static int results_of_array(const json_t *arr, GwResult **ret, size_t *ret_n) {
        size_t n = json_array_size(arr);
        GwResult *res = calloc(n ? n : 1, sizeof *res);
        if (!res)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *o = json_array_get(arr, i);
                if (json_is_object(o))
                        result_of(o, &res[i]);
                else
                        res[i] = (GwResult){.time = -1, .memory = -1};
        }
        *ret = res;
        *ret_n = n;
        return 0;
}

int gwjson_results_parse(const char *body, size_t len, GwResult **ret, size_t *ret_n) {
        _cleanup_json_ json_t *root = NULL;
        int r = load(body, len, &root, NULL, 0);
        if (r < 0)
                return r;
        if (json_is_array(root))
                return results_of_array(root, ret, ret_n);
        if (!json_is_object(root))
                return -EBADMSG;
        GwResult *res = calloc(1, sizeof *res);
        if (!res)
                return -ENOMEM;
        result_of(root, res);
        *ret = res;
        *ret_n = 1;
        return 0;
}

int gwjson_batch_results_parse(const char *body, size_t len, GwResult **ret, size_t *ret_n) {
        _cleanup_json_ json_t *root = NULL;
        int r = load(body, len, &root, NULL, 0);
        if (r < 0)
                return r;
        const json_t *arr = json_is_object(root) ? json_object_get(root, "submissions") : NULL;
        if (!json_is_array(arr))
                return -EBADMSG;
        return results_of_array(arr, ret, ret_n);
}

int gwjson_batch_spread(const char *body, size_t len, const bool *keep, size_t n, char **ret) {
        _cleanup_json_ json_t *root = NULL;
        int r = load(body, len, &root, NULL, 0);
        if (r < 0)
                return r;
        const json_t *arr = json_is_object(root) ? json_object_get(root, "submissions") : NULL;
        size_t kept = 0;
        for (size_t i = 0; i < n; i++)
                kept += keep[i];
        if (!json_is_array(arr) || json_array_size(arr) != kept)
                return -EBADMSG;
        _cleanup_json_ json_t *out = json_array();
        if (!out)
                return -ENOMEM;
        for (size_t i = 0, k = 0; i < n; i++) {
                r = j0_append(out, keep[i] ? json_incref(json_array_get(arr, k++)) : json_null());
                if (r < 0)
                        return r;
        }
        _cleanup_json_ json_t *obj = json_object();
        if (!obj)
                return -ENOMEM;
        r = j0_set(obj, "submissions", json_incref(out));
        if (r < 0)
                return r;
        return j0_dump(obj, 17, ret);
}

int gwjson_list_wrap(const char *batch_body, size_t len, const Judge0Page *page, char **ret) {
        _cleanup_json_ json_t *root = NULL;
        int r = load(batch_body, len, &root, NULL, 0);
        if (r < 0)
                return r;
        const json_t *arr = json_is_object(root) ? json_object_get(root, "submissions") : NULL;
        if (!json_is_array(arr))
                return -EBADMSG;
        _cleanup_json_ json_t *meta = json_pack("{s:I,s:o,s:o,s:I,s:I}", "current_page",
                (json_int_t) page->current_page, "next_page",
                page->next_page ? json_integer((json_int_t) page->next_page) : json_null(), "prev_page",
                page->prev_page ? json_integer((json_int_t) page->prev_page) : json_null(), "total_pages",
                (json_int_t) page->total_pages, "total_count", (json_int_t) page->total_count);
        if (!meta)
                return -ENOMEM;
        _cleanup_json_ json_t *obj = json_pack("{s:O,s:O}", "submissions", arr, "meta", meta);
        if (!obj)
                return -ENOMEM;
        return j0_dump(obj, 17, ret);
}

static json_t *timestamp_or_null(int64_t usec) {
        char buf[40];
        if (usec <= 0 || !j0_format_timestamp(usec, buf))
                return json_null();
        return json_string(buf);
}

int gwjson_user_encode(const char *name, char **ret) {
        _cleanup_json_ json_t *o = json_pack("{s:{s:o}}", "user", "name", j0_cstring(name));
        if (!o)
                return -ENOMEM;
        return j0_dump(o, 17, ret);
}

int gwjson_share_encode(const char *id, const char *data, int64_t created_at_usec, char **ret) {
        _cleanup_json_ json_t *o = json_pack("{s:o,s:o,s:o}", "id", j0_cstring(id), "data", j0_cstring(data),
                "created_at", timestamp_or_null(created_at_usec));
        if (!o)
                return -ENOMEM;
        return j0_dump(o, 17, ret);
}

int gwjson_session_encode(const char *user_name, int64_t expires_at_usec, bool accounts, char **ret) {
        json_t *user = user_name ? json_pack("{s:o}", "name", j0_cstring(user_name)) : json_null();
        _cleanup_json_ json_t *o = json_pack("{s:{s:o,s:o},s:b}", "session", "user", user, "expires_at",
                timestamp_or_null(expires_at_usec), "accounts", accounts);
        if (!o)
                return -ENOMEM;
        return j0_dump(o, 17, ret);
}

int gwjson_history_encode(const GwHistoryItem *items, size_t n, const char *next_cursor, char **ret) {
        _cleanup_json_ json_t *arr = json_array();
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const GwHistoryItem *h = &items[i];
                char tbuf[32];
                json_t *time = json_null();
                if (h->time >= 0) {
                        j0_format_seconds((uint64_t) (h->time * 1e6 + 0.5), tbuf);
                        time = json_string(tbuf);
                }
                json_t *o = json_pack("{s:o,s:i,s:{s:i,s:o},s:o,s:o,s:o,s:o,s:o,s:o}", "token",
                        j0_cstring(h->token), "language_id", h->language_id, "status", "id", h->status_id,
                        "description", j0_cstring(h->status_description), "time", time, "memory",
                        h->memory >= 0 ? json_integer(h->memory) : json_null(), "created_at",
                        timestamp_or_null(h->created_at_usec), "finished_at",
                        timestamp_or_null(h->finished_at_usec), "source_code",
                        h->source_code ? j0_text(h->source_code, h->source_len) : json_string(""), "stdin",
                        h->stdin_data ? j0_text(h->stdin_data, h->stdin_len) : json_null());
                int r = j0_append(arr, o);
                if (r < 0)
                        return r;
        }
        _cleanup_json_ json_t *root = json_pack("{s:O,s:o}", "items", arr, "next_cursor",
                next_cursor && *next_cursor ? json_string(next_cursor) : json_null());
        if (!root)
                return -ENOMEM;
        return j0_dump(root, 17, ret);
}

/* The typed keys of the client configuration. */
typedef enum ClientKeyType {
        CK_INT,
        CK_INT_LIST,
        CK_STRING,
} ClientKeyType;

static const struct {
        const char *key;
        const char *group; /* NULL = top level */
        const char *name;
        ClientKeyType type;
} client_keys[] = {
        {"default_language_id", NULL, "default_language_id", CK_INT},
        {"languages", NULL, "languages", CK_INT_LIST},
        {"editor.tab_size", "editor", "tab_size", CK_INT},
        {"editor.keymap", "editor", "keymap", CK_STRING},
        {"editor.theme", "editor", "theme", CK_STRING},
        {"notice", NULL, "notice", CK_STRING},
};

static json_t *typed(const char *v, ClientKeyType t) {
        if (!v)
                return json_null();
        if (t == CK_STRING)
                return j0_cstring(v);
        if (t == CK_INT) {
                char *end;
                errno = 0;
                long long x = strtoll(v, &end, 10);
                return errno == 0 && end != v && *end == '\0' ? json_integer(x) : json_null();
        }
        json_t *arr = json_array();
        for (const char *p = v; arr && *p;) {
                char *end;
                errno = 0;
                long long x = strtoll(p, &end, 10);
                if (errno != 0 || end == p) {
                        json_decref(arr);
                        return json_null();
                }
                if (j0_append(arr, json_integer(x)) < 0) {
                        json_decref(arr);
                        return NULL;
                }
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',') {
                        json_decref(arr);
                        return json_null();
                }
        }
        return arr;
}

int gwjson_client_config_encode(const char *const *keys, const char *const *values, size_t n, char **ret) {
        _cleanup_json_ json_t *root = json_object();
        _cleanup_json_ json_t *editor = json_object();
        if (!root || !editor)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(client_keys); i++) {
                const char *v = NULL;
                for (size_t j = 0; j < n; j++)
                        if (strcmp(keys[j], client_keys[i].key) == 0)
                                v = values[j];
                int r = j0_set(client_keys[i].group ? editor : root, client_keys[i].name,
                        typed(v, client_keys[i].type));
                if (r < 0)
                        return r;
        }
        int r = j0_set(root, "editor", json_incref(editor));
        if (r < 0)
                return r;
        return j0_dump(root, 17, ret);
}

int gwjson_quota_error_encode(const char *message, const char *quota, double limit, double used,
        int64_t resets_at_usec, char **ret) {
        _cleanup_json_ json_t *o =
                json_pack("{s:o,s:o,s:f,s:f,s:o}", "error", j0_cstring(message), "quota", j0_cstring(quota),
                        "limit", limit, "used", used, "resets_at", timestamp_or_null(resets_at_usec));
        if (!o)
                return -ENOMEM;
        return j0_dump(o, 17, ret);
}

int gwjson_health_encode(const char *status, const char *meta, const char *limiter,
        const GwUpstreamHealth *ups, size_t n, uint64_t outbox, char **ret) {
        _cleanup_json_ json_t *arr = json_array();
        if (!arr)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int r = j0_append(
                        arr, json_pack("{s:o,s:b,s:I}", "url", j0_cstring(ups[i].url), "healthy",
                                     ups[i].healthy, "outstanding", (json_int_t) ups[i].outstanding));
                if (r < 0)
                        return r;
        }
        _cleanup_json_ json_t *o =
                json_pack("{s:o,s:o,s:o,s:O,s:I}", "status", j0_cstring(status), "meta", j0_cstring(meta),
                        "limiter", j0_cstring(limiter), "upstreams", arr, "outbox", (json_int_t) outbox);
        if (!o)
                return -ENOMEM;
        return j0_dump(o, 17, ret);
}
