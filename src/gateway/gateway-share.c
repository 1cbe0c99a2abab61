/* SPDX-License-Identifier: MIT */
/* The IDE's short share links: POST /shares keeps a share link's text (the IDE's
 * compressed fragment: the program, its inputs and options) under a short random id in
 * the metadata store; GET /shares/:id gives it back. Any key or session may read one (a
 * link is meant to be passed on); making one takes the scope submit and counts against
 * the caller's rate like any request. The text is opaque here: printable ASCII without
 * spaces (what the IDE's links are made of), at most META_SHARE_MAX bytes. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "gateway/gateway-internal.h"
#include "json/gateway.h"
#include "secure/secure.h"

/* 12 characters of URL-safe base64: 72 random bits. */
#define SHARE_ID_LEN 12

static bool share_text_ok(const char *s, char *why, size_t whylen) {
        size_t n = strlen(s);
        if (n == 0) {
                snprintf(why, whylen, "data is empty");
                return false;
        }
        if (n > META_SHARE_MAX) {
                snprintf(why, whylen, "data is longer than %u bytes", META_SHARE_MAX);
                return false;
        }
        for (size_t i = 0; i < n; i++)
                if (s[i] <= ' ' || s[i] > '~') {
                        snprintf(why, whylen,
                                "data must be printable ASCII without spaces (a share link's text)");
                        return false;
                }
        return true;
}

static bool share_id_ok(const char *id) {
        size_t n = strlen(id);
        if (n != SHARE_ID_LEN)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((id[i] >= 'a' && id[i] <= 'z') || (id[i] >= 'A' && id[i] <= 'Z') ||
                            (id[i] >= '0' && id[i] <= '9') || id[i] == '-' || id[i] == '_'))
                        return false;
        return true;
}

static void reply_share(HttpRequest *req, unsigned status, const MetaShare *s) {
        char *json = NULL;
        int r = gwjson_share_encode(s->id, s->data, s->created_at, &json);
        gw_reply_encoded(req, status, r, json);
}

void gw_share_create(HttpRequest *req, const char *const *params, void *userdata) {
        (void) params;
        Gateway *g = userdata;
        Principal p;
        if (gw_authenticate(g, req, &p) < 0 || !gw_limit(g, req, &p) ||
                !gw_require(req, &p, META_SCOPE_SUBMIT))
                return;
        size_t len;
        const char *body = http_request_body(req, &len);
        _cleanup_free_ char *data = NULL;
        char why[256];
        int r = gwjson_share_parse(body, len, &data, why, sizeof why);
        if (r == -EBADMSG) {
                http_reply_error(req, 400, why);
                return;
        }
        if (r < 0) {
                http_reply_error(req, 500, "out of memory");
                return;
        }
        if (!share_text_ok(data, why, sizeof why)) {
                http_reply_error(req, 422, why);
                return;
        }
        MetaShare s = {.data = data, .created_at = (int64_t) now_usec(CLOCK_REALTIME)};
        snprintf(s.owner, sizeof s.owner, "%s", p.owner);
        /* A taken id (72 random bits: never in practice) gets a fresh one. */
        for (unsigned attempt = 0; attempt < 3; attempt++) {
                char rnd[64];
                if (secure_random_token("", rnd, sizeof rnd) < 0) {
                        http_reply_error(req, 500, "the gateway could not make an id");
                        return;
                }
                snprintf(s.id, sizeof s.id, "%.*s", SHARE_ID_LEN, rnd);
                r = GW_META(g, meta_share_create(g->meta, &s));
                if (r != -EEXIST)
                        break;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        reply_share(req, 201, &s);
}

void gw_share_get(HttpRequest *req, const char *const *params, void *userdata) {
        Gateway *g = userdata;
        Principal p;
        if (gw_authenticate(g, req, &p) < 0 || !gw_limit(g, req, &p))
                return; /* any key or session: a link is meant to be passed on */
        if (!share_id_ok(params[0])) {
                http_reply_error(req, 404, "no such share link");
                return;
        }
        _cleanup_(meta_share_done) MetaShare s = {};
        int r = GW_META(g, meta_share_get(g->meta, params[0], &s));
        if (r == -ENOENT) {
                http_reply_error(req, 404, "no such share link");
                return;
        }
        if (r < 0) {
                gw_reply_unavailable(req, "the metadata store is unavailable");
                return;
        }
        /* A link never changes: caches may keep it. */
        http_reply_header(req, "Cache-Control", "private, max-age=86400, immutable");
        reply_share(req, 200, &s);
}
