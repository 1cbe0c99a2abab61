/* SPDX-License-Identifier: MIT */
#pragma once

/* Helpers shared by the files of src/json (jansson stays inside this module). */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"

static inline void j0_decrefp(json_t **v) {
        json_decref(*v);
}
#define _cleanup_json_ _cleanup_(j0_decrefp)

/* Length of the valid UTF-8 sequence at p (1-4 bytes; overlong forms, surrogates and
 * code points above U+10FFFF are invalid), or 0. */
size_t j0_utf8_len(const unsigned char *p, size_t left);
bool j0_utf8_valid(const char *s, size_t len);
/* How many characters (code points) Rails would count in valid UTF-8 text. */
size_t j0_utf8_chars(const char *s, size_t len);

typedef struct Judge0Body Judge0Body;
/* A body of the object root, whose reference it takes (dropped on -ENOMEM). */
int judge0_body_from_json(json_t *root, Judge0Body **ret);
/* The object of a body (borrowed). */
const json_t *judge0_body_json(const Judge0Body *b);

/* Parse a request body as JSON, any value at the top (Rails' and Express's JSON.parse):
 * NUL inside strings allowed. A key holding U+0000 ("a\u0000b") is parsed, as Ruby's and
 * JavaScript's JSON do, into a key that names no parameter, so it is ignored as Rails
 * ignores a parameter it does not permit (jansson cannot hold it: such a key gets U+0001
 * instead, which names no parameter either). On success *ret owns the value; -ENOMEM, or
 * -EBADMSG with "malformed JSON: <why> at line L, column C" in errbuf. */
int j0_load_body(const char *data, size_t len, json_t **ret, char *errbuf, size_t errlen);

/* The value of a hexadecimal digit (either case), or -1. */
int j0_hex_value(char c);

/* A JSON string of any bytes: every byte that does not start a valid UTF-8 sequence is
 * written as U+FFFD. NULL when out of memory. */
json_t *j0_text(const char *s, size_t len);
/* j0_text of a C string, or JSON null for NULL. */
json_t *j0_cstring(const char *s);

/* The fewest significant digits (1-17) with which "%.*g" gives v back exactly, in plain
 * notation when one does. */
int j0_real_precision(double v);

/* Dump compactly (no spaces, as Rails writes), reals with real_precision significant
 * digits. -ENOMEM. */
int j0_dump(const json_t *v, int real_precision, char **ret);

/* Seconds the way Rails prints a BigDecimal or a Float: the fewest digits after the point,
 * at least one ("5.0", "0.001", "1.25", "0.000001"). */
void j0_format_seconds(uint64_t usec, char buf[static 32]);
/* ISO 8601 UTC with milliseconds, as Rails writes a datetime: "2024-04-03T05:40:51.306Z".
 * False when the time cannot be represented. */
bool j0_format_timestamp(int64_t usec, char buf[static 40]);

/* Add a value to an object or an array, taking the reference; a NULL value (a failed
 * allocation) or a failed insertion is -ENOMEM. */
int j0_set(json_t *obj, const char *key, json_t *v);
int j0_append(json_t *arr, json_t *v);

/* The map of a Judge0Errors (errors.c), borrowed. */
struct Judge0Errors;
json_t *j0_errors_json(const struct Judge0Errors *e);
