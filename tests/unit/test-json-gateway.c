/* SPDX-License-Identifier: MIT */
/* src/json/gateway.c: what the gateway changes in a request, reads of the API nodes'
 * answers, and writes for its own routes. */

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/gateway.h"
#include "tests.h"

static void expect_str(const char *got, const char *expected) {
        if (!got || strcmp(got, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", got ? got : "(null)", expected);
                abort();
        }
}

static Judge0Body *body(const char *json) {
        Judge0Body *b = NULL;
        char err[128];
        ASSERT_EQ(judge0_body_parse(json, strlen(json), &b, err, sizeof err), 0);
        return b;
}

static void test_default_number(void) {
        Judge0Body *b = body("{\"language_id\":71,\"cpu_time_limit\":null,\"memory_limit\":2048}");
        ASSERT_EQ(gwjson_body_default_number(b, SIZE_MAX, "cpu_time_limit", 1), 0);
        ASSERT_EQ(gwjson_body_default_number(b, SIZE_MAX, "memory_limit", 64000), 0); /* set: kept */
        ASSERT_EQ(gwjson_body_default_number(b, SIZE_MAX, "wall_time_limit", 2.5), 0);
        char *json = NULL;
        ASSERT_EQ(gwjson_body_encode(b, &json), 0);
        expect_str(json,
                "{\"language_id\":71,\"cpu_time_limit\":1,\"memory_limit\":2048,\"wall_time_limit\":2.5}");
        free(json);
        judge0_body_free(b);

        b = body("{\"submissions\":[{\"language_id\":71},5]}");
        ASSERT_EQ(gwjson_body_default_number(b, 0, "cpu_time_limit", 2), 0);
        ASSERT_EQ(gwjson_body_default_number(b, 1, "cpu_time_limit", 2), -ERANGE); /* not an object */
        ASSERT_EQ(gwjson_body_default_number(b, 7, "cpu_time_limit", 2), -ERANGE);
        ASSERT_EQ(gwjson_body_encode(b, &json), 0);
        expect_str(json, "{\"submissions\":[{\"language_id\":71,\"cpu_time_limit\":2},5]}");
        free(json);
        judge0_body_free(b);
}

static void test_credentials(void) {
        char *u = NULL, *p = NULL, err[128];
        const char *ok = "{\"username\":\"ann\",\"password\":\"pw pw pw\"}";
        ASSERT_EQ(gwjson_credentials_parse(ok, strlen(ok), &u, &p, err, sizeof err), 0);
        expect_str(u, "ann");
        expect_str(p, "pw pw pw");
        free(u);
        free(p);
        const struct {
                const char *in, *why;
        } bad[] = {
                {"{", "malformed JSON"},
                {"[]", "the body is not a JSON object"},
                {"{\"password\":\"x\"}", "username is missing"},
                {"{\"username\":1,\"password\":\"x\"}", "username is not a string"},
                {"{\"username\":\"a\\u0000b\",\"password\":\"x\"}",
                        "malformed JSON"}, /* jansson refuses NUL */
                {"{\"username\":\"a\",\"username\":\"b\",\"password\":\"x\"}", "malformed JSON"},
        };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
                ASSERT_EQ(gwjson_credentials_parse(bad[i].in, strlen(bad[i].in), &u, &p, err, sizeof err),
                        -EBADMSG);
                if (strncmp(err, bad[i].why, strlen(bad[i].why)) != 0) {
                        fprintf(stderr, "%s: got \"%s\", expected \"%s\"\n", bad[i].in, err, bad[i].why);
                        abort();
                }
        }
}

#define T1 "11111111-1111-4111-8111-111111111111"
#define T2 "22222222-2222-4222-8222-222222222222"

static void test_results(void) {
        GwResult *r = NULL;
        size_t n = 0;
        const char *one = "{\"token\":\"" T1 "\"}";
        ASSERT_EQ(gwjson_results_parse(one, strlen(one), &r, &n), 0);
        ASSERT_EQ(n, 1u);
        expect_str(r[0].token, T1);
        ASSERT_EQ(r[0].status_id, 0);
        ASSERT_TRUE(r[0].time < 0 && r[0].memory < 0);
        free(r);

        const char *waited = "{\"token\":\"" T1 "\",\"time\":\"0.012\",\"memory\":3000,\"status\":{\"id\":3,"
                             "\"description\":\"Accepted\"}}";
        ASSERT_EQ(gwjson_results_parse(waited, strlen(waited), &r, &n), 0);
        ASSERT_TRUE(n == 1 && r[0].status_id == 3 && r[0].memory == 3000);
        ASSERT_TRUE(r[0].time > 0.0119 && r[0].time < 0.0121);
        free(r);

        const char *batch =
                "[{\"token\":\"" T1 "\"},{\"source_code\":[\"can't be blank\"]},{\"token\":\"" T2 "\"}]";
        ASSERT_EQ(gwjson_results_parse(batch, strlen(batch), &r, &n), 0);
        ASSERT_EQ(n, 3u);
        expect_str(r[0].token, T1);
        expect_str(r[1].token, "");
        expect_str(r[2].token, T2);
        free(r);

        /* a token too long to be one is not taken */
        const char *longer = "{\"token\":\"" T1 "x\"}";
        ASSERT_EQ(gwjson_results_parse(longer, strlen(longer), &r, &n), 0);
        expect_str(r[0].token, "");
        free(r);

        ASSERT_EQ(gwjson_results_parse("nope", 4, &r, &n), -EBADMSG);
        ASSERT_EQ(gwjson_results_parse("42", 2, &r, &n), -EBADMSG);

        const char *got = "{\"submissions\":[{\"token\":\"" T1 "\",\"status_id\":4,\"time\":0.5},null]}";
        ASSERT_EQ(gwjson_batch_results_parse(got, strlen(got), &r, &n), 0);
        ASSERT_TRUE(n == 2 && r[0].status_id == 4 && r[0].time == 0.5 && r[1].token[0] == '\0');
        free(r);
        ASSERT_EQ(gwjson_batch_results_parse("{}", 2, &r, &n), -EBADMSG);
}

static void test_spread_and_list(void) {
        const char *answer = "{\"submissions\":[{\"token\":\"" T1 "\"},{\"token\":\"" T2 "\"}]}";
        bool keep[] = {true, false, true, false};
        char *json = NULL;
        ASSERT_EQ(gwjson_batch_spread(answer, strlen(answer), keep, 4, &json), 0);
        expect_str(json, "{\"submissions\":[{\"token\":\"" T1 "\"},null,{\"token\":\"" T2 "\"},null]}");
        free(json);
        bool wrong[] = {true, false, false, false};
        ASSERT_EQ(gwjson_batch_spread(answer, strlen(answer), wrong, 4, &json), -EBADMSG);

        Judge0Page page = {.current_page = 2, .prev_page = 1, .total_pages = 2, .total_count = 3};
        ASSERT_EQ(gwjson_list_wrap(answer, strlen(answer), &page, &json), 0);
        expect_str(json, "{\"submissions\":[{\"token\":\"" T1 "\"},{\"token\":\"" T2
                         "\"}],\"meta\":{\"current_page\":2,"
                         "\"next_page\":null,\"prev_page\":1,\"total_pages\":2,\"total_count\":3}}");
        free(json);
}

static void test_own_routes(void) {
        char *json = NULL;
        /* 2026-12-04T00:00:00Z */
        ASSERT_EQ(gwjson_session_encode(NULL, INT64_C(1796342400) * 1000000, true, &json), 0);
        expect_str(json, "{\"session\":{\"user\":null,\"expires_at\":\"2026-12-04T00:00:00.000Z\"},"
                         "\"accounts\":true}");
        free(json);
        ASSERT_EQ(gwjson_session_encode("ann", INT64_C(1796342400) * 1000000, false, &json), 0);
        expect_str(json,
                "{\"session\":{\"user\":{\"name\":\"ann\"},\"expires_at\":\"2026-12-04T00:00:00.000Z\"},"
                "\"accounts\":false}");
        free(json);

        GwHistoryItem items[] = {
                {.token = T1,
                        .language_id = 71,
                        .status_id = 3,
                        .status_description = "Accepted",
                        .time = 0.01,
                        .memory = 3000,
                        .created_at_usec = INT64_C(1796342400) * 1000000,
                        .finished_at_usec = INT64_C(1796342401) * 1000000,
                        .source_code = "print(1)\n",
                        .source_len = 9,
                        .stdin_data = "x\xff",
                        .stdin_len = 2},
                {.token = T2,
                        .language_id = 50,
                        .status_id = 1,
                        .status_description = "In Queue",
                        .time = -1,
                        .memory = -1,
                        .created_at_usec = INT64_C(1796342400) * 1000000,
                        .source_code = "int",
                        .source_len = 3},
        };
        ASSERT_EQ(gwjson_history_encode(items, 2, "c1", &json), 0);
        expect_str(json,
                "{\"items\":[{\"token\":\"" T1
                "\",\"language_id\":71,\"status\":{\"id\":3,\"description\":\"Accepted\"},"
                "\"time\":\"0.01\",\"memory\":3000,\"created_at\":\"2026-12-04T00:00:00.000Z\",\"finished_"
                "at\":"
                "\"2026-12-04T00:00:01.000Z\",\"source_code\":\"print(1)\\n\",\"stdin\":\"x\xef\xbf\xbd\"},"
                "{\"token\":\"" T2
                "\",\"language_id\":50,\"status\":{\"id\":1,\"description\":\"In Queue\"},\"time\":null,"
                "\"memory\":null,\"created_at\":\"2026-12-04T00:00:00.000Z\",\"finished_at\":null,\"source_"
                "code\":\"int\","
                "\"stdin\":null}],\"next_cursor\":\"c1\"}");
        free(json);
        ASSERT_EQ(gwjson_history_encode(NULL, 0, "", &json), 0);
        expect_str(json, "{\"items\":[],\"next_cursor\":null}");
        free(json);

        const char *keys[] = {"editor.theme", "languages", "notice", "whatever", "default_language_id"};
        const char *values[] = {"dark", "71,54", "hi", "x", "notanumber"};
        ASSERT_EQ(gwjson_client_config_encode(keys, values, 5, &json), 0);
        expect_str(json, "{\"default_language_id\":null,\"languages\":[71,54],\"notice\":\"hi\",\"editor\":{"
                         "\"tab_size\":"
                         "null,\"keymap\":null,\"theme\":\"dark\"}}");
        free(json);

        ASSERT_EQ(gwjson_quota_error_encode(
                          "over", "submissions_per_day", 2, 2, INT64_C(1796342400) * 1000000, &json),
                0);
        expect_str(json, "{\"error\":\"over\",\"quota\":\"submissions_per_day\",\"limit\":2.0,\"used\":2.0,"
                         "\"resets_at\":"
                         "\"2026-12-04T00:00:00.000Z\"}");
        free(json);
}

static void test_error_message(void) {
        char m[16];
        const char *piston = "{\"message\":\"too many sessions\"}", *ours = "{\"error\":\"busy\"}";
        ASSERT_EQ(gwjson_error_message(piston, strlen(piston), m, sizeof m), 0);
        expect_str(m, "too many sessio"); /* cut to the buffer */
        ASSERT_EQ(gwjson_error_message(ours, strlen(ours), m, sizeof m), 0);
        expect_str(m, "busy");
        ASSERT_EQ(gwjson_error_message("{\"message\":3}", 13, m, sizeof m), -ENOENT);
        ASSERT_EQ(gwjson_error_message("[1]", 3, m, sizeof m), -EBADMSG);
        ASSERT_EQ(gwjson_error_message("{\"mess", 7, m, sizeof m), -EBADMSG);
}

int main(void) {
        test_default_number();
        test_error_message();
        test_credentials();
        test_results();
        test_spread_and_list();
        test_own_routes();
        return 0;
}
