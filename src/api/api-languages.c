/* SPDX-License-Identifier: MIT */
/* GET /languages, /languages/all, /languages/:id. A language of the catalogue that no live
 * worker serves is "archived": listed by /languages/all only, and a submission for it
 * gets Judge0's 422 for an archived language. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api-internal.h"
#include "base/parse-util.h"

static void reply_languages(HttpRequest *req, Api *a, bool all) {
        if (!api_guard(a, req, false))
                return;
        char *json = NULL;
        const LanguageView *v = api_languages(a);
        int r = judge0_languages_encode(v->langs, v->n, all, &json);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}

void api_languages_list(HttpRequest *req, const char *const *params, void *userdata) {
        reply_languages(req, userdata, false);
}

void api_languages_all(HttpRequest *req, const char *const *params, void *userdata) {
        reply_languages(req, userdata, true);
}

void api_language_get(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        uint64_t id;
        const LanguageView *v = api_languages(a);
        for (size_t i = 0; parse_u64_max(params[0], INT32_MAX, &id) >= 0 && i < v->n; i++) {
                if (v->langs[i].id != (int) id)
                        continue;
                char *json = NULL;
                int r = judge0_language_encode(&v->langs[i], &json);
                if (r < 0)
                        api_reply_internal(req, r);
                else
                        http_reply_json(req, 200, json);
                return;
        }
        http_reply_json(req, 404, strdup("{\"status\":404,\"error\":\"Not Found\"}"));
}
