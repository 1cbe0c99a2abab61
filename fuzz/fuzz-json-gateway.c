/* SPDX-License-Identifier: MIT */
/* Fuzz target for what the gateway decodes (src/json/gateway.c): the account routes'
 * bodies come from anyone, and the API nodes' answers are trusted no more than that. Every
 * input, whatever it holds:
 *   - as credentials: parsed into two NUL-terminated strings, or -EBADMSG with a reason;
 *   - as a create answer and as a batch answer: -EBADMSG, or results whose tokens are
 *     NUL-terminated and at most 36 bytes, statuses 0..99, memory -1 or more;
 *   - spread over places: as many places as asked, or -EBADMSG;
 *   - as an API node's refusal: its message, NUL-terminated within the buffer, or
 *     -EBADMSG / -ENOENT. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/gateway.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

static void check_results(int r, GwResult *res, size_t n) {
        CHECK(r == 0 || r == -EBADMSG);
        if (r < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                CHECK(memchr(res[i].token, '\0', sizeof res[i].token) != NULL);
                CHECK(strlen(res[i].token) <= SUBMISSION_TOKEN_LEN);
                CHECK(res[i].status_id >= 0 && res[i].status_id < 100);
                CHECK(res[i].memory >= -1);
        }
        free(res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        const char *s = (const char *) data;
        char *u = NULL, *p = NULL, err[256] = "";
        int r = gwjson_credentials_parse(s, size, &u, &p, err, sizeof err);
        CHECK(r == 0 || r == -EBADMSG);
        if (r == 0)
                CHECK(u && p && strlen(u) < size && strlen(p) < size);
        else
                CHECK(err[0] != '\0');
        free(u);
        free(p);

        GwResult *res = NULL;
        size_t n = 0;
        r = gwjson_results_parse(s, size, &res, &n);
        check_results(r, res, n);
        res = NULL;
        r = gwjson_batch_results_parse(s, size, &res, &n);
        check_results(r, res, n);

        bool keep[8];
        for (size_t i = 0; i < 8; i++)
                keep[i] = size > i && (data[i] & 1);
        char *json = NULL;
        r = gwjson_batch_spread(s, size, keep, 8, &json);
        CHECK(r == 0 || r == -EBADMSG);
        if (r == 0) {
                GwResult *out = NULL;
                size_t m = 0;
                CHECK(gwjson_batch_results_parse(json, strlen(json), &out, &m) == 0 && m == 8);
                free(out);
        }
        free(json);
        char why[32];
        memset(why, 'x', sizeof why);
        r = gwjson_error_message(s, size, why, sizeof why);
        CHECK(r == 0 || r == -EBADMSG || r == -ENOENT);
        if (r == 0)
                CHECK(memchr(why, '\0', sizeof why) != NULL);
        return 0;
}
