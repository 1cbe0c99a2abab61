/* SPDX-License-Identifier: MIT */
/* The 422 map of Rails' validation errors, and the {"error": ...} body. A jansson object
 * keeps its keys in insertion order, which is the order Rails reports. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "json/judge0.h"

struct Judge0Errors {
        json_t *map; /* field -> array of strings */
};

int judge0_errors_new(Judge0Errors **ret) {
        Judge0Errors *e = malloc(sizeof *e);
        if (!e)
                return -ENOMEM;
        e->map = json_object();
        if (!e->map) {
                free(e);
                return -ENOMEM;
        }
        *ret = e;
        return 0;
}

Judge0Errors *judge0_errors_free(Judge0Errors *e) {
        if (e) {
                json_decref(e->map);
                free(e);
        }
        return NULL;
}

int judge0_errors_add(Judge0Errors *e, const char *field, const char *message) {
        if (!j0_utf8_valid(field, strlen(field)))
                return -EINVAL; /* a JSON key must be text */
        json_t *list = json_object_get(e->map, field);
        if (!list) {
                int r = j0_set(e->map, field, json_array());
                if (r < 0)
                        return r;
                list = json_object_get(e->map, field);
                if (!list)
                        return -ENOMEM;
        }
        return j0_append(list, j0_cstring(message));
}

void judge0_errors_clear(Judge0Errors *e) {
        json_object_clear(e->map);
}

bool judge0_errors_empty(const Judge0Errors *e) {
        return json_object_size(e->map) == 0;
}

size_t judge0_errors_count(const Judge0Errors *e, const char *field) {
        return json_array_size(json_object_get(e->map, field));
}

const char *judge0_errors_get(const Judge0Errors *e, const char *field, size_t i) {
        return json_string_value(json_array_get(json_object_get(e->map, field), i));
}

json_t *j0_errors_json(const Judge0Errors *e) {
        return e->map;
}

int judge0_errors_encode(const Judge0Errors *e, char **ret) {
        return j0_dump(e->map, 0, ret);
}

int judge0_error_body_encode(const char *message, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        int r = j0_set(o, "error", j0_cstring(message ? message : ""));
        if (r < 0)
                return r;
        return j0_dump(o, 0, ret);
}
