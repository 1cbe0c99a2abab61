/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/openapi.h"
#include "tests.h"

/* A document with both credentials, as the repository's is written. */
static const char doc[] = "{\"components\":{\"securitySchemes\":{"
                          "\"authn\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"X-Auth-Token\"},"
                          "\"authz\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"X-Auth-User\"}}},"
                          "\"security\":[{\"authn\":[]}],\"paths\":{"
                          "\"/a\":{\"get\":{\"responses\":{\"200\":{},\"401\":{}}},"
                          "\"delete\":{\"security\":[{\"authn\":[],\"authz\":[]}],"
                          "\"responses\":{\"200\":{},\"401\":{},\"403\":{}}}},"
                          "\"/health\":{\"get\":{\"security\":[],\"responses\":{\"200\":{}}}}}}";

static void expect_render(const OpenApiAuth *auth, const char *expected) {
        char *out = NULL;
        ASSERT_EQ(openapi_render(doc, strlen(doc), auth, &out), 0);
        if (strcmp(out, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", out, expected);
                abort();
        }
        free(out);
}

int main(void) {
        /* Nothing configured: no scheme, no requirement, no 401. */
        expect_render(&(OpenApiAuth){},
                "{\"components\":{\"securitySchemes\":{}},\"paths\":{"
                "\"/"
                "a\":{\"get\":{\"responses\":{\"200\":{}}},\"delete\":{\"responses\":{\"200\":{},\"403\":{}}"
                "}},"
                "\"/health\":{\"get\":{\"security\":[],\"responses\":{\"200\":{}}}}}}");
        /* Authentication only: its header named; authorization gone from the requirement. */
        expect_render(&(OpenApiAuth){.authn_header = "X-Key"},
                "{\"components\":{\"securitySchemes\":{"
                "\"authn\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"X-Key\"}}},"
                "\"security\":[{\"authn\":[]}],\"paths\":{"
                "\"/a\":{\"get\":{\"responses\":{\"200\":{},\"401\":{}}},"
                "\"delete\":{\"security\":[{\"authn\":[]}],\"responses\":{\"200\":{},\"401\":{},\"403\":{}}}"
                "},"
                "\"/health\":{\"get\":{\"security\":[],\"responses\":{\"200\":{}}}}}}");
        /* Authorization only: the top requirement goes, the operation keeps its own. */
        expect_render(&(OpenApiAuth){.authz_header = "X-Admin"},
                "{\"components\":{\"securitySchemes\":{"
                "\"authz\":{\"type\":\"apiKey\",\"in\":\"header\",\"name\":\"X-Admin\"}}},\"paths\":{"
                "\"/a\":{\"get\":{\"responses\":{\"200\":{}}},"
                "\"delete\":{\"security\":[{\"authz\":[]}],\"responses\":{\"200\":{},\"403\":{}}}},"
                "\"/health\":{\"get\":{\"security\":[],\"responses\":{\"200\":{}}}}}}");

        char *out = NULL;
        ASSERT_EQ(openapi_render("[1]", 3, &(OpenApiAuth){}, &out), -EBADMSG);
        ASSERT_EQ(openapi_render("{", 1, &(OpenApiAuth){}, &out), -EBADMSG);
        ASSERT_TRUE(out == NULL);
        return 0;
}
