/* SPDX-License-Identifier: MIT */
/* The Piston v2 codec (piston.h): requests checked in Piston's order with its messages,
 * answers in its shapes. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "json/json-internal.h"
#include "json/piston.h"

struct PistonRequest {
        json_t *root; /* any JSON value; only an object has fields */
};

static const char *const limit_names[_PISTON_LIMIT_MAX] = {
        [PISTON_COMPILE_MEMORY_LIMIT] = "compile_memory_limit",
        [PISTON_RUN_MEMORY_LIMIT] = "run_memory_limit",
        [PISTON_COMPILE_TIMEOUT] = "compile_timeout",
        [PISTON_RUN_TIMEOUT] = "run_timeout",
        [PISTON_COMPILE_CPU_TIME] = "compile_cpu_time",
        [PISTON_RUN_CPU_TIME] = "run_cpu_time",
};

const char *piston_limit_name(PistonLimit l) {
        return l >= 0 && l < _PISTON_LIMIT_MAX ? limit_names[l] : NULL;
}

_printf_(3, 4) static int refuse(char *msg, size_t msglen, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        if (msg && msglen)
                vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
        return -EINVAL;
}

int piston_request_parse(const char *data, size_t len, PistonRequest **ret, char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        int k = j0_load_body(data, len, &root, errbuf, errlen);
        if (k < 0)
                return k;
        PistonRequest *r = malloc(sizeof *r);
        if (!r)
                return -ENOMEM;
        r->root = TAKE_PTR(root);
        *ret = r;
        return 0;
}

PistonRequest *piston_request_free(PistonRequest *r) {
        if (r) {
                json_decref(r->root);
                free(r);
        }
        return NULL;
}

/* JavaScript's truthiness of a JSON value: absent, null, false, 0 and "" are falsy. */
static bool truthy(const json_t *v) {
        if (!v || json_is_null(v) || json_is_false(v))
                return false;
        if (json_is_number(v))
                return json_number_value(v) != 0;
        if (json_is_string(v))
                return json_string_length(v) > 0;
        return true;
}

/* A string that C can hold: no NUL inside. */
static bool plain_string(const json_t *v) {
        return json_is_string(v) && strlen(json_string_value(v)) == json_string_length(v);
}

static const json_t *field(const PistonRequest *r, const char *key) {
        return json_is_object(r->root) ? json_object_get(r->root, key) : NULL;
}

int piston_request_check(const PistonRequest *r, char *msg, size_t msglen) {
        const json_t *v = field(r, "language");
        if (!truthy(v) || !plain_string(v))
                return refuse(msg, msglen, "language is required as a string");
        v = field(r, "version");
        if (!truthy(v) || !plain_string(v))
                return refuse(msg, msglen, "version is required as a string");
        const json_t *files = field(r, "files");
        if (!json_is_array(files))
                return refuse(msg, msglen, "files is required as an array");
        for (size_t i = 0; i < json_array_size(files); i++)
                if (!json_is_string(json_object_get(json_array_get(files, i), "content")))
                        return refuse(msg, msglen, "files[%zu].content is required as a string", i);
        return 0;
}

const char *piston_request_language(const PistonRequest *r) {
        return json_string_value(field(r, "language"));
}

const char *piston_request_version(const PistonRequest *r) {
        return json_string_value(field(r, "version"));
}

/* A file's encoding: utf8 (also when absent or null), base64 or hex. */
typedef enum Encoding {
        ENC_UTF8,
        ENC_BASE64,
        ENC_HEX,
        ENC_INVALID,
} Encoding;

static Encoding encoding_of(const json_t *file) {
        const json_t *e = json_object_get(file, "encoding");
        if (!e || json_is_null(e))
                return ENC_UTF8;
        static const char *const names[] = {[ENC_UTF8] = "utf8", [ENC_BASE64] = "base64", [ENC_HEX] = "hex"};
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (plain_string(e) && strcmp(json_string_value(e), names[i]) == 0)
                        return (Encoding) i;
        return ENC_INVALID;
}

static int hex_decode(const char *s, size_t len, Bytes *ret) {
        if (len % 2)
                return -EINVAL;
        char *out = malloc(len / 2 + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < len; i += 2) {
                int hi = j0_hex_value(s[i]), lo = j0_hex_value(s[i + 1]);
                if (hi < 0 || lo < 0) {
                        free(out);
                        return -EINVAL;
                }
                out[i / 2] = (char) (hi << 4 | lo);
        }
        out[len / 2] = '\0';
        *ret = (Bytes){out, len / 2};
        return 0;
}

static int copy_bytes(const char *s, size_t len, Bytes *ret) {
        char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        memcpy(out, s, len);
        out[len] = '\0';
        *ret = (Bytes){out, len};
        return 0;
}

void piston_job_done(PistonJob *j) {
        for (size_t i = 0; i < j->n_files; i++) {
                free(j->files[i].name);
                free(j->files[i].content.data);
        }
        free(j->files);
        for (size_t i = 0; i < j->n_args; i++)
                free(j->args[i]);
        free(j->args);
        free(j->stdin_data.data);
        *j = (PistonJob){};
}

static int check_limits(const PistonRequest *r, const int64_t maxima[_PISTON_LIMIT_MAX], PistonJob *j,
        char *msg, size_t msglen) {
        /* Piston's order: memory_limit, timeout, cpu_time; compile before run. */
        for (PistonLimit l = 0; l < _PISTON_LIMIT_MAX; l++) {
                const char *name = limit_names[l];
                const json_t *v = field(r, name);
                j->limits[l] = PISTON_LIMIT_UNSET;
                if (!truthy(v))
                        continue;
                if (!json_is_number(v))
                        return refuse(msg, msglen, "If specified, %s must be a number", name);
                double x = json_number_value(v);
                if (x > (double) maxima[l])
                        return refuse(msg, msglen, "%s cannot exceed the configured limit of %" PRId64, name,
                                maxima[l]);
                bool memory = l == PISTON_COMPILE_MEMORY_LIMIT || l == PISTON_RUN_MEMORY_LIMIT;
                if (memory && x == -1) {
                        j->limits[l] = PISTON_LIMIT_NONE; /* Piston's "no limit": ours is the maximum */
                        continue;
                }
                if (x < 0)
                        return refuse(msg, msglen, "%s must be non-negative", name);
                j->limits[l] = (int64_t) floor(x);
                if (j->limits[l] == 0)
                        j->limits[l] = PISTON_LIMIT_UNSET; /* 0.5 ms: as if not given */
        }
        return 0;
}

static bool name_ok(const char *s, size_t len) {
        return len > 0 && len <= PISTON_MAX_NAME && strlen(s) == len && !strchr(s, '/') &&
               strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int read_file(const json_t *f, size_t i, PistonFile *ret, char *msg, size_t msglen) {
        const json_t *name = json_object_get(f, "name");
        if (name && !json_is_null(name) && !json_is_string(name))
                return refuse(msg, msglen, "files[%zu].name must be a string", i);
        /* Piston names a file without a name (or with "") file<i>.code. */
        if (json_string_length(name) > 0) {
                if (!name_ok(json_string_value(name), json_string_length(name)))
                        return refuse(msg, msglen,
                                "files[%zu].name must be a file name (no '/', not '.' or '..', at most %d "
                                "bytes)",
                                i, PISTON_MAX_NAME);
                ret->name = strdup(json_string_value(name));
        } else if (asprintf(&ret->name, "file%zu.code", i) < 0)
                ret->name = NULL;
        if (!ret->name)
                return -ENOMEM;

        const json_t *c = json_object_get(f, "content");
        const char *s = json_string_value(c);
        size_t len = json_string_length(c);
        int k;
        switch (encoding_of(f)) {
        case ENC_UTF8:
                ret->utf8 = true;
                return copy_bytes(s, len, &ret->content);
        case ENC_BASE64:
                k = base64_decode(s, len, &ret->content.data, &ret->content.len);
                if (k == -EINVAL)
                        return refuse(msg, msglen, "files[%zu].content is not valid base64", i);
                return k;
        case ENC_HEX:
                k = hex_decode(s, len, &ret->content);
                if (k == -EINVAL)
                        return refuse(msg, msglen, "files[%zu].content is not valid hex", i);
                return k;
        default:
                return refuse(msg, msglen, "files[%zu].encoding must be one of utf8, base64 or hex", i);
        }
}

static int read_files(const PistonRequest *r, PistonJob *j, char *msg, size_t msglen) {
        const json_t *files = field(r, "files");
        size_t n = json_array_size(files);
        if (n > PISTON_MAX_FILES)
                return refuse(msg, msglen, "files can hold at most %d files", PISTON_MAX_FILES);
        j->files = calloc(n ? n : 1, sizeof *j->files);
        if (!j->files)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int k = read_file(json_array_get(files, i), i, &j->files[i], msg, msglen);
                j->n_files++;
                if (k < 0)
                        return k;
                for (size_t o = 0; o < i; o++)
                        if (strcmp(j->files[o].name, j->files[i].name) == 0)
                                return refuse(msg, msglen, "files[%zu].name \"%s\" is used twice", i,
                                        j->files[i].name);
        }
        return 0;
}

static int read_stdin_args(const PistonRequest *r, PistonJob *j, char *msg, size_t msglen) {
        const json_t *v = field(r, "stdin");
        const char *s = "";
        size_t len = 0;
        if (v && !json_is_null(v)) {
                if (!json_is_string(v))
                        return refuse(msg, msglen, "stdin must be a string");
                s = json_string_value(v);
                len = json_string_length(v);
        }
        /* Piston ends stdin with a newline. */
        bool add = len == 0 || s[len - 1] != '\n';
        j->stdin_data.data = malloc(len + 2);
        if (!j->stdin_data.data)
                return -ENOMEM;
        memcpy(j->stdin_data.data, s, len);
        if (add)
                j->stdin_data.data[len++] = '\n';
        j->stdin_data.data[len] = '\0';
        j->stdin_data.len = len;

        v = field(r, "args");
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_array(v))
                return refuse(msg, msglen, "args must be an array of strings");
        size_t n = json_array_size(v);
        if (n > PISTON_MAX_ARGS)
                return refuse(msg, msglen, "args can hold at most %d arguments", PISTON_MAX_ARGS);
        j->args = calloc(n ? n : 1, sizeof *j->args);
        if (!j->args)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const json_t *a = json_array_get(v, i);
                if (!plain_string(a))
                        return refuse(msg, msglen, "args[%zu] must be a string without NUL bytes", i);
                j->args[i] = strdup(json_string_value(a));
                if (!j->args[i])
                        return -ENOMEM;
                j->n_args++;
        }
        return 0;
}

int piston_request_finish(const PistonRequest *r, const int64_t maxima[_PISTON_LIMIT_MAX], PistonJob *ret,
        char *msg, size_t msglen) {
        const json_t *files = field(r, "files");
        bool utf8 = false;
        for (size_t i = 0; i < json_array_size(files); i++) {
                const json_t *e = json_object_get(json_array_get(files, i), "encoding");
                utf8 |= !truthy(e) || (json_is_string(e) && strcmp(json_string_value(e), "utf8") == 0);
        }
        if (!utf8)
                return refuse(msg, msglen, "files must include at least one utf8 encoded file");

        _cleanup_(piston_job_done) PistonJob j = {};
        int k = check_limits(r, maxima, &j, msg, msglen);
        if (k >= 0)
                k = read_files(r, &j, msg, msglen);
        if (k >= 0)
                k = read_stdin_args(r, &j, msg, msglen);
        if (k < 0)
                return k;
        *ret = j;
        j = (PistonJob){};
        return 0;
}

/* ---- answers ---- */

int piston_message_encode(const char *message, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        int r = j0_set(o, "message", j0_cstring(message ? message : ""));
        return r < 0 ? r : j0_dump(o, 0, ret);
}

int piston_runtimes_encode(const PistonRuntime *rts, size_t n, char **ret) {
        _cleanup_json_ json_t *list = json_array();
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_object();
                int r = j0_append(list, o);
                if (r < 0)
                        return r;
                json_t *aliases = json_array();
                r = j0_set(o, "language", j0_cstring(rts[i].language));
                if (r >= 0)
                        r = j0_set(o, "version", j0_cstring(rts[i].version));
                if (r >= 0)
                        r = j0_set(o, "aliases", aliases);
                for (const char *const *a = rts[i].aliases; r >= 0 && a && *a; a++)
                        r = j0_append(aliases, j0_cstring(*a));
                if (r >= 0 && rts[i].runtime)
                        r = j0_set(o, "runtime", j0_cstring(rts[i].runtime));
                if (r < 0)
                        return r;
        }
        return j0_dump(list, 0, ret);
}

static json_t *nullable_int(int64_t v) {
        return v < 0 ? json_null() : json_integer(v);
}

static int stage_json(const PistonStage *s, json_t **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        size_t lo = s->stdout_data.data ? s->stdout_data.len : 0;
        size_t le = s->stderr_data.data ? s->stderr_data.len : 0;
        if (lo > SIZE_MAX / 2 || le > SIZE_MAX / 2)
                return -ENOMEM;
        _cleanup_free_ char *output = malloc(lo + le + 1);
        if (!output)
                return -ENOMEM;
        if (lo)
                memcpy(output, s->stdout_data.data, lo);
        if (le)
                memcpy(output + lo, s->stderr_data.data, le);
        int r = j0_set(o, "stdout", j0_text(lo ? s->stdout_data.data : "", lo));
        if (r >= 0)
                r = j0_set(o, "stderr", j0_text(le ? s->stderr_data.data : "", le));
        if (r >= 0)
                r = j0_set(o, "output", j0_text(output, lo + le));
        if (r >= 0)
                r = j0_set(o, "code", s->code < 0 ? json_null() : json_integer(s->code));
        if (r >= 0)
                r = j0_set(o, "signal", j0_cstring(s->signal));
        if (r >= 0)
                r = j0_set(o, "message", j0_cstring(s->message));
        if (r >= 0)
                r = j0_set(o, "status", j0_cstring(s->status));
        if (r >= 0)
                r = j0_set(o, "cpu_time", nullable_int(s->cpu_time_ms));
        if (r >= 0)
                r = j0_set(o, "wall_time", nullable_int(s->wall_time_ms));
        if (r >= 0)
                r = j0_set(o, "memory", nullable_int(s->memory_bytes));
        if (r < 0)
                return r;
        *ret = TAKE_PTR(o);
        return 0;
}

int piston_result_encode(const PistonResult *res, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        int r = j0_set(o, "language", j0_cstring(res->language));
        if (r >= 0)
                r = j0_set(o, "version", j0_cstring(res->version));
        json_t *stage = NULL;
        if (r >= 0 && res->compile) {
                r = stage_json(res->compile, &stage);
                if (r >= 0)
                        r = j0_set(o, "compile", stage);
        }
        if (r >= 0)
                r = stage_json(res->run, &stage);
        if (r >= 0)
                r = j0_set(o, "run", stage);
        return r < 0 ? r : j0_dump(o, 0, ret);
}
