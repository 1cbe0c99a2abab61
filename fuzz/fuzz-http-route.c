/* SPDX-License-Identifier: MIT */
/* Fuzz target for the request router (src/http): the method and the url of a request come
 * from anyone who can reach the API. An input is "METHOD\nURL": the method is cut to 15
 * bytes as the server keeps it, the url's query (from the first '?') is split off as
 * libmicrohttpd does before the router sees it. Then, for the real route table of the API
 * (api_routes()) and for a table with more parameters than HTTP_MAX_PARAMS:
 *   - http_path_normalize() keeps a prefix of the path, shorter than HTTP_MAX_PATH, without
 *     a ".json" suffix only when the path had one;
 *   - http_route_match() gives what a plain reference matcher written here gives: the same
 *     route, or -ENOENT / -EOPNOTSUPP / -ENAMETOOLONG for the same reasons;
 *   - a match's parameters are the path's segments at the pattern's ":name" places
 *     (non-empty, no '/'), at most HTTP_MAX_PARAMS of them, then NULL;
 *   - a second call answers the same.
 * The query is libmicrohttpd's to parse: the router never sees it. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/macro.h"
#include "fuzz.h"
#include "http/http.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

#define MAX_INPUT (4 * HTTP_MAX_PATH)
#define MAX_SEGMENTS 16 /* as the router */
#define METHOD_MAX 15

static void handler(HttpRequest *req, const char *const *params, void *userdata) {
}

/* More ":name" segments than HTTP_MAX_PARAMS, and routes that differ only by method. */
static const HttpRoute many_params[] = {
        {"GET", "/:a/:b/:c/:d/:e/:f", handler},
        {"PUT", "/x/:a", handler},
        {"GET", "/x/y", handler},
        {"GET", "/x/:a", handler},
};

typedef struct Segments {
        size_t n;
        const char *at[MAX_SEGMENTS + 1];
        size_t len[MAX_SEGMENTS + 1];
} Segments;

/* The non-empty '/'-separated segments of s; false when more than MAX_SEGMENTS. */
static bool segments(const char *s, Segments *ret) {
        ret->n = 0;
        for (const char *p = s; *p;) {
                if (*p == '/') {
                        p++;
                        continue;
                }
                size_t len = strcspn(p, "/");
                if (ret->n == MAX_SEGMENTS)
                        return false;
                ret->at[ret->n] = p;
                ret->len[ret->n++] = len;
                p += len;
        }
        return true;
}

static bool reference_path_matches(const char *pattern, const Segments *path) {
        Segments pat;
        CHECK(segments(pattern, &pat));
        if (pat.n != path->n)
                return false;
        for (size_t i = 0; i < pat.n; i++)
                if (pat.at[i][0] != ':' &&
                        (pat.len[i] != path->len[i] || memcmp(pat.at[i], path->at[i], pat.len[i]) != 0))
                        return false;
        return true;
}

static int reference_match(const HttpRoute *routes, size_t n, const char *method, const char *path) {
        Segments seg;
        if (strlen(path) >= HTTP_MAX_PATH)
                return -ENAMETOOLONG;
        if (!segments(path, &seg))
                return -ENOENT;
        bool known = false;
        for (size_t i = 0; i < n; i++) {
                if (!reference_path_matches(routes[i].pattern, &seg))
                        continue;
                known = true;
                if (strcmp(routes[i].method, method) == 0)
                        return (int) i;
        }
        return known ? -EOPNOTSUPP : -ENOENT;
}

static void check_route(const HttpRoute *routes, size_t n, const char *method, const char *path) {
        char buf[HTTP_MAX_PATH], buf2[HTTP_MAX_PATH];
        const char *params[HTTP_MAX_PARAMS + 1], *params2[HTTP_MAX_PARAMS + 1];

        int r = http_route_match(routes, n, method, path, buf, params);
        int want = reference_match(routes, n, method, path);
        if (r != want)
                fprintf(stderr, "route of %s '%s': %d, the reference says %d\n", method, path, r, want);
        CHECK(r == want);
        CHECK(http_route_match(routes, n, method, path, buf2, params2) == r);
        if (r < 0)
                return;

        /* The parameters: the path's segments where the pattern has ":name". */
        Segments pat, seg;
        CHECK(segments(routes[r].pattern, &pat) && segments(path, &seg) && pat.n == seg.n);
        size_t k = 0;
        for (size_t i = 0; i < pat.n; i++) {
                if (pat.at[i][0] != ':' || k == HTTP_MAX_PARAMS)
                        continue;
                CHECK(params[k] && params2[k]);
                CHECK(strlen(params[k]) == seg.len[i] && seg.len[i] > 0);
                CHECK(memcmp(params[k], seg.at[i], seg.len[i]) == 0 && !strchr(params[k], '/'));
                CHECK(strcmp(params[k], params2[k]) == 0);
                k++;
        }
        CHECK(params[k] == NULL && k <= HTTP_MAX_PARAMS);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char method[METHOD_MAX + 1], normalized[HTTP_MAX_PATH];
        size_t n_api = 0;
        const HttpRoute *api = api_routes(&n_api);

        if (size > MAX_INPUT)
                return 0;
        const uint8_t *nl = memchr(data, '\n', size);
        size_t mlen = nl ? (size_t) (nl - data) : 0;
        snprintf(method, sizeof method, "%.*s", (int) MIN(mlen, (size_t) METHOD_MAX), (const char *) data);
        size_t off = nl ? mlen + 1 : 0;
        char *url = malloc(size - off + 1);
        CHECK(url);
        memcpy(url, data + off, size - off);
        url[size - off] = '\0'; /* a NUL inside ends the url, as in a C string from MHD */
        char *q = strchr(url, '?');
        if (q)
                *q = '\0';

        /* Normalizing: a prefix, cut below HTTP_MAX_PATH, ".json" taken off a long enough path. */
        http_path_normalize(url, normalized);
        size_t ulen = strlen(url), nlen = strlen(normalized);
        CHECK(nlen < HTTP_MAX_PATH && nlen <= ulen && memcmp(normalized, url, nlen) == 0);
        size_t cut = MIN(ulen, (size_t) HTTP_MAX_PATH - 1);
        bool suffix = cut > 5 && memcmp(url + cut - 5, ".json", 5) == 0;
        CHECK(nlen == (suffix ? cut - 5 : cut));

        check_route(api, n_api, method, normalized);
        check_route(api, n_api, method, url);
        check_route(many_params, ELEMENTSOF(many_params), method, url);

        free(url);
        return 0;
}
