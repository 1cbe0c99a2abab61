/* SPDX-License-Identifier: MIT */
/* The served OpenAPI document: the repository's, with the credentials this server has. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "json/openapi.h"

/* The operations' keys of a path item (OpenAPI 3.0 §4.7.9). */
static const char *const methods[] = {"get", "put", "post", "delete", "options", "head", "patch", "trace"};

/* Drop the unconfigured schemes from a list of security requirements; a requirement that
 * named only those goes. Returns whether anything is left. */
static bool filter_requirements(json_t *list, const OpenApiAuth *auth) {
        for (size_t i = json_array_size(list); i-- > 0;) {
                json_t *req = json_array_get(list, i);
                bool had = json_object_size(req) > 0;
                if (!auth->authn_header)
                        json_object_del(req, "authn");
                if (!auth->authz_header)
                        json_object_del(req, "authz");
                if (had && json_object_size(req) == 0)
                        json_array_remove(list, i);
        }
        return json_array_size(list) > 0;
}

static int name_scheme(json_t *schemes, const char *scheme, const char *header) {
        json_t *s = json_object_get(schemes, scheme);
        if (!header)
                return json_object_del(schemes, scheme), 0;
        if (!json_is_object(s))
                return 0;
        return j0_set(s, "name", json_string(header));
}

int openapi_render(const char *doc, size_t len, const OpenApiAuth *auth, char **ret) {
        json_error_t err;
        _cleanup_json_ json_t *root = json_loadb(doc, len, 0, &err);
        if (!root)
                return json_error_code(&err) == json_error_out_of_memory ? -ENOMEM : -EBADMSG;
        if (!json_is_object(root))
                return -EBADMSG;

        json_t *schemes = json_object_get(json_object_get(root, "components"), "securitySchemes");
        int r = name_scheme(schemes, "authn", auth->authn_header);
        if (r >= 0)
                r = name_scheme(schemes, "authz", auth->authz_header);
        if (r < 0)
                return r;
        json_t *top = json_object_get(root, "security");
        if (json_is_array(top) && !filter_requirements(top, auth))
                json_object_del(root, "security");

        const char *path;
        json_t *item;
        json_object_foreach(json_object_get(root, "paths"), path, item) {
                for (size_t m = 0; m < ELEMENTSOF(methods); m++) {
                        json_t *op = json_object_get(item, methods[m]);
                        json_t *sec = json_object_get(op, "security");
                        /* An operation that asked for a credential and has none left now
                         * takes the document's (none either, then). */
                        if (json_array_size(sec) > 0 && !filter_requirements(sec, auth))
                                json_object_del(op, "security");
                        if (!auth->authn_header)
                                json_object_del(json_object_get(op, "responses"), "401");
                }
        }
        return j0_dump(root, 0, ret);
}
