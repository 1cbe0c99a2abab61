/* SPDX-License-Identifier: MIT */
#pragma once

/* The OpenAPI document as this server answers: the document in the repository
 * (src/api/openapi/openapi.json) is written with both credentials configured; what is
 * served declares a credential only when it is configured. */

#include <stddef.h>

typedef struct OpenApiAuth {
        const char *authn_header; /* NULL: authentication is not configured */
        const char *authz_header; /* NULL: authorization is not configured */
} OpenApiAuth;

/* Render doc (len bytes of JSON, the caller's) for auth: each configured scheme named by
 * its header; an unconfigured one removed from the schemes and from every security
 * requirement (a requirement left empty goes), and without authentication no operation
 * answers 401, so those responses go too. On success *ret is a malloc'd compact JSON text
 * the caller frees. -EBADMSG when doc is not a JSON object, -ENOMEM. */
int openapi_render(const char *doc, size_t len, const OpenApiAuth *auth, char **ret);
