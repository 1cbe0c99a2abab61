/* SPDX-License-Identifier: MIT */
/* Fuzz target for the Piston v2 request decoder (src/json/piston.c): an execute body comes
 * from anyone who can reach the API. Every input is, whatever it holds:
 *   - parsed: a failure is -EBADMSG with a reason;
 *   - checked, then finished: a refusal is -EINVAL with a non-empty message that encodes
 *     as Piston's {"message"} body;
 *   - when accepted, consistent: at least one utf8 file, names that are plain file names
 *     used once, stdin ending in a newline, limits within the maxima or unset/none;
 *   - and, as a WebSocket message (src/json/piston-ws.c), a type with that type's fields
 *     only. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "json/piston.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

static const int64_t maxima[_PISTON_LIMIT_MAX] = {524288000, 524288000, 20000, 20000, 15000, 15000};

static void check_message(int r, const char *msg) {
        CHECK(r == -EINVAL);
        CHECK(msg[0] != '\0');
        char *json = NULL;
        CHECK(piston_message_encode(msg, &json) == 0);
        free(json);
}

static void check_job(const PistonJob *j) {
        bool utf8 = false;
        for (size_t i = 0; i < j->n_files; i++) {
                const char *n = j->files[i].name;
                utf8 |= j->files[i].utf8;
                CHECK(n && n[0] && !strchr(n, '/') && strcmp(n, ".") != 0 && strcmp(n, "..") != 0);
                for (size_t o = 0; o < i; o++)
                        CHECK(strcmp(j->files[o].name, n) != 0);
        }
        CHECK(utf8 && j->n_files <= PISTON_MAX_FILES && j->n_args <= PISTON_MAX_ARGS);
        CHECK(j->stdin_data.len > 0 && j->stdin_data.data[j->stdin_data.len - 1] == '\n');
        for (int l = 0; l < _PISTON_LIMIT_MAX; l++)
                CHECK(j->limits[l] == PISTON_LIMIT_UNSET || j->limits[l] == PISTON_LIMIT_NONE ||
                        (j->limits[l] > 0 && j->limits[l] <= maxima[l]));
}

/* The same bytes as a WebSocket message (/api/v2/connect): malformed JSON said so, else a
 * type, and the fields of that type only, copied whole. */
static void check_ws_message(const uint8_t *data, size_t size) {
        PistonWsMessage m;
        char msg[512] = "";
        int k = piston_ws_message_parse((const char *) data, size, &m, msg, sizeof msg);
        if (k < 0) {
                CHECK(k == -EBADMSG && msg[0]);
                return;
        }
        CHECK(m.type <= PISTON_WS_OTHER);
        CHECK(m.type == PISTON_WS_DATA || (!m.stream && !m.data.data));
        CHECK(m.type == PISTON_WS_SIGNAL || !m.signal);
        CHECK(!m.data.data || m.data.data[m.data.len] == '\0');
        piston_ws_message_done(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        PistonRequest *r = NULL;
        char msg[512] = "";
        check_ws_message(data, size);
        int k = piston_request_parse((const char *) data, size, &r, msg, sizeof msg);
        if (k < 0) {
                CHECK(k == -EBADMSG && msg[0]);
                return 0;
        }
        k = piston_request_check(r, msg, sizeof msg);
        if (k < 0)
                check_message(k, msg);
        else {
                CHECK(piston_request_language(r) && piston_request_version(r));
                PistonJob j = {};
                k = piston_request_finish(r, maxima, &j, msg, sizeof msg);
                if (k < 0)
                        check_message(k, msg);
                else
                        check_job(&j);
                piston_job_done(&j);
        }
        piston_request_free(r);
        return 0;
}
