/* SPDX-License-Identifier: MIT */
/* Piston's WebSocket messages (engineer-man/piston, api/src/api/v2.js, router.ws('/connect')). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "json/piston.h"

static const struct {
        const char *name;
        PistonWsType type;
} ws_types[] = {
        {"init", PISTON_WS_INIT},
        {"data", PISTON_WS_DATA},
        {"signal", PISTON_WS_SIGNAL},
};

static char *string_copy(const json_t *v) {
        return json_is_string(v) ? strndup(json_string_value(v), json_string_length(v)) : NULL;
}

int piston_ws_message_parse(
        const char *text, size_t len, PistonWsMessage *ret, char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        int r = j0_load_body(text, len, &root, errbuf, errlen);
        if (r < 0)
                return r;
        PistonWsMessage m = {.type = PISTON_WS_OTHER};
        const json_t *type = json_object_get(root, "type");
        for (size_t i = 0; json_is_string(type) && i < sizeof ws_types / sizeof *ws_types; i++)
                if (strcmp(json_string_value(type), ws_types[i].name) == 0)
                        m.type = ws_types[i].type;
        const json_t *v;
        if (m.type == PISTON_WS_DATA) {
                m.stream = string_copy(json_object_get(root, "stream"));
                v = json_object_get(root, "data");
                if (json_is_string(v)) {
                        size_t n = json_string_length(v);
                        m.data.data = malloc(n + 1);
                        if (!m.data.data) {
                                piston_ws_message_done(&m);
                                return -ENOMEM;
                        }
                        memcpy(m.data.data, json_string_value(v), n + 1);
                        m.data.len = n;
                }
                m.eof = json_is_true(json_object_get(root, "eof"));
        } else if (m.type == PISTON_WS_SIGNAL)
                m.signal = string_copy(json_object_get(root, "signal"));
        *ret = m;
        return 0;
}

void piston_ws_message_done(PistonWsMessage *m) {
        free(m->stream);
        free(m->data.data);
        free(m->signal);
        *m = (PistonWsMessage){};
}

/* {"type": type, key1: v1, ...}: the values are taken over. */
static int encode(char **ret, const char *type, size_t n, const char *const *keys, json_t **values) {
        _cleanup_json_ json_t *o = json_object();
        int r = o ? j0_set(o, "type", json_string(type)) : -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                if (r >= 0)
                        r = j0_set(o, keys[i], values[i]);
                else
                        json_decref(values[i]);
        }
        if (r < 0)
                return r;
        return j0_dump(o, 0, ret);
}

int piston_ws_runtime_encode(const char *language, const char *version, char **ret) {
        return encode(ret, "runtime", 2, (const char *const[]){"language", "version"},
                (json_t *[]){j0_cstring(language), j0_cstring(version)});
}

int piston_ws_stage_encode(const char *stage, char **ret) {
        return encode(ret, "stage", 1, (const char *const[]){"stage"}, (json_t *[]){j0_cstring(stage)});
}

int piston_ws_data_encode(const char *stream, const char *data, size_t len, char **ret) {
        return encode(ret, "data", 2, (const char *const[]){"stream", "data"},
                (json_t *[]){j0_cstring(stream), j0_text(data, len)});
}

int piston_ws_exit_encode(const char *stage, int code, const char *signal, const char *status,
        const char *message, char **ret) {
        return encode(ret, "exit", 5, (const char *const[]){"stage", "code", "signal", "status", "message"},
                (json_t *[]){j0_cstring(stage), code < 0 ? json_null() : json_integer(code),
                        j0_cstring(signal), j0_cstring(status), j0_cstring(message)});
}

int piston_ws_error_encode(const char *message, char **ret) {
        return encode(ret, "error", 1, (const char *const[]){"message"}, (json_t *[]){j0_cstring(message)});
}
