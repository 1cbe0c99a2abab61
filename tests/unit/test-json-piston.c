/* SPDX-License-Identifier: MIT */
/* The Piston v2 codec: every refusal with Piston's words and in its order, the decoded job,
 * and the shapes of the answers. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "json/piston.h"
#include "tests.h"

static const int64_t maxima[_PISTON_LIMIT_MAX] = {
        [PISTON_COMPILE_MEMORY_LIMIT] = 524288000,
        [PISTON_RUN_MEMORY_LIMIT] = 524288000,
        [PISTON_COMPILE_TIMEOUT] = 20000,
        [PISTON_RUN_TIMEOUT] = 20000,
        [PISTON_COMPILE_CPU_TIME] = 15000,
        [PISTON_RUN_CPU_TIME] = 15000,
};

static void expect_str(const char *got, const char *expected) {
        if (!got || strcmp(got, expected) != 0) {
                fprintf(stderr, "got:      %s\nexpected: %s\n", got ? got : "(null)", expected);
                abort();
        }
}

static PistonRequest *parse(const char *json) {
        PistonRequest *r = NULL;
        char err[256];
        ASSERT_EQ(piston_request_parse(json, strlen(json), &r, err, sizeof err), 0);
        return r;
}

/* The message of the first step that refuses json (check, then finish). */
static void expect_refusal(const char *json, const char *message) {
        _cleanup_piston_request_ PistonRequest *r = parse(json);
        char msg[512] = "";
        int k = piston_request_check(r, msg, sizeof msg);
        if (k == 0) {
                PistonJob j = {};
                k = piston_request_finish(r, maxima, &j, msg, sizeof msg);
                if (k == 0)
                        piston_job_done(&j);
        }
        if (k != -EINVAL) {
                fprintf(stderr, "accepted: %s\n", json);
                abort();
        }
        expect_str(msg, message);
}

static void test_malformed(void) {
        PistonRequest *r = NULL;
        char err[256] = "";
        ASSERT_EQ(piston_request_parse("{\"language\":", 12, &r, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(strncmp(err, "malformed JSON: ", 16) == 0);
        ASSERT_TRUE(r == NULL);
}

static void test_check_order(void) {
        expect_refusal("[]", "language is required as a string");
        expect_refusal("{}", "language is required as a string");
        expect_refusal("{\"language\":\"\"}", "language is required as a string");
        expect_refusal("{\"language\":5,\"version\":\"1\"}", "language is required as a string");
        expect_refusal("{\"language\":\"py\"}", "version is required as a string");
        expect_refusal("{\"language\":\"py\",\"version\":3}", "version is required as a string");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\"}", "files is required as an array");
        expect_refusal(
                "{\"language\":\"py\",\"version\":\"3\",\"files\":{}}", "files is required as an array");
        expect_refusal(
                "{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\"},{\"name\":\"x\"}]}",
                "files[1].content is required as a string");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[\"print(1)\"]}",
                "files[0].content is required as a string");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[null]}",
                "files[0].content is required as a string");
}

#define GOOD "\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"print(1)\"}]"

static void test_finish_refusals(void) {
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[]}",
                "files must include at least one utf8 encoded file");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"AA==\","
                       "\"encoding\":\"base64\"}]}",
                "files must include at least one utf8 encoded file");
        /* Piston's order: memory_limit, timeout, cpu_time, compile before run. */
        expect_refusal("{" GOOD ",\"run_timeout\":\"1\",\"compile_memory_limit\":\"x\"}",
                "If specified, compile_memory_limit must be a number");
        expect_refusal("{" GOOD ",\"run_cpu_time\":15001,\"run_timeout\":20001}",
                "run_timeout cannot exceed the configured limit of 20000");
        expect_refusal("{" GOOD ",\"run_cpu_time\":15001}",
                "run_cpu_time cannot exceed the configured limit of 15000");
        expect_refusal("{" GOOD ",\"run_memory_limit\":524288001}",
                "run_memory_limit cannot exceed the configured limit of 524288000");
        expect_refusal("{" GOOD ",\"compile_timeout\":-5}", "compile_timeout must be non-negative");
        expect_refusal("{" GOOD ",\"run_memory_limit\":-2}", "run_memory_limit must be non-negative");
        expect_refusal("{" GOOD ",\"run_timeout\":true}", "If specified, run_timeout must be a number");
        /* ours, after Piston's */
        expect_refusal(
                "{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\",\"name\":\"../x\"}]}",
                "files[0].name must be a file name (no '/', not '.' or '..', at most 255 bytes)");
        expect_refusal(
                "{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\",\"name\":\"..\"}]}",
                "files[0].name must be a file name (no '/', not '.' or '..', at most 255 bytes)");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\",\"name\":7}]}",
                "files[0].name must be a string");
        expect_refusal(
                "{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\",\"name\":\"a\"},"
                "{\"content\":\"b\",\"name\":\"a\"}]}",
                "files[1].name \"a\" is used twice");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\"},"
                       "{\"content\":\"!!\",\"encoding\":\"base64\"}]}",
                "files[1].content is not valid base64");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\"},"
                       "{\"content\":\"abc\",\"encoding\":\"hex\"}]}",
                "files[1].content is not valid hex");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\"},"
                       "{\"content\":\"zz\",\"encoding\":\"hex\"}]}",
                "files[1].content is not valid hex");
        expect_refusal("{\"language\":\"py\",\"version\":\"3\",\"files\":[{\"content\":\"a\"},"
                       "{\"content\":\"a\",\"encoding\":\"utf16\"}]}",
                "files[1].encoding must be one of utf8, base64 or hex");
        expect_refusal("{" GOOD ",\"stdin\":5}", "stdin must be a string");
        expect_refusal("{" GOOD ",\"args\":\"a b\"}", "args must be an array of strings");
        expect_refusal("{" GOOD ",\"args\":[\"a\",1]}", "args[1] must be a string without NUL bytes");
        expect_refusal("{" GOOD ",\"args\":[\"a\\u0000b\"]}", "args[0] must be a string without NUL bytes");
}

/* The job of a body of count files (named f0, f1...) or of count args ("0", "1"...): 0
 * with *ret filled, or -EINVAL with the message in msg. */
static int finish_with_items(bool files, int count, PistonJob *ret, char msg[static 256]) {
        char *json = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&json, &len);
        ASSERT_TRUE(f);
        fputs(files ? "{\"language\":\"py\",\"version\":\"3\",\"files\":[" : "{" GOOD ",\"args\":[", f);
        for (int i = 0; i < count; i++) {
                fputs(i ? "," : "", f);
                if (files)
                        fprintf(f, "{\"content\":\"x\",\"name\":\"f%d\"}", i);
                else
                        fprintf(f, "\"%d\"", i);
        }
        fputs("]}", f);
        fclose(f);
        _cleanup_piston_request_ PistonRequest *r = parse(json);
        free(json);
        ASSERT_EQ(piston_request_check(r, msg, 256), 0);
        return piston_request_finish(r, maxima, ret, msg, 256);
}

/* The bounds on counts: the bound itself passes, one more is refused. */
static void test_count_bounds(void) {
        char msg[256] = "";
        PistonJob j = {};
        ASSERT_EQ(finish_with_items(true, PISTON_MAX_FILES, &j, msg), 0);
        ASSERT_EQ(j.n_files, (size_t) PISTON_MAX_FILES);
        piston_job_done(&j);
        ASSERT_EQ(finish_with_items(true, PISTON_MAX_FILES + 1, &j, msg), -EINVAL);
        expect_str(msg, "files can hold at most 64 files");

        ASSERT_EQ(finish_with_items(false, PISTON_MAX_ARGS, &j, msg), 0);
        ASSERT_EQ(j.n_args, (size_t) PISTON_MAX_ARGS);
        expect_str(j.args[PISTON_MAX_ARGS - 1], "63");
        piston_job_done(&j);
        ASSERT_EQ(finish_with_items(false, PISTON_MAX_ARGS + 1, &j, msg), -EINVAL);
        expect_str(msg, "args can hold at most 64 arguments");
}

static void test_job(void) {
        _cleanup_piston_request_ PistonRequest *r = parse(
                "{\"language\":\"python\",\"version\":\"3.x\",\"files\":["
                "{\"content\":\"AAE=\",\"encoding\":\"base64\",\"name\":\"data.bin\"},"
                "{\"content\":\"import x\"},"
                "{\"content\":\"ff00\",\"encoding\":\"hex\",\"name\":\"h\"},"
                "{\"content\":\"\",\"name\":\"\"}],"
                "\"stdin\":\"abc\",\"args\":[\"1\",\"it's\"],\"run_timeout\":1500.7,\"compile_timeout\":0,"
                "\"run_memory_limit\":-1,\"compile_cpu_time\":null}");
        char msg[256] = "";
        ASSERT_EQ(piston_request_check(r, msg, sizeof msg), 0);
        expect_str(piston_request_language(r), "python");
        expect_str(piston_request_version(r), "3.x");
        PistonJob j = {};
        ASSERT_EQ(piston_request_finish(r, maxima, &j, msg, sizeof msg), 0);
        ASSERT_EQ(j.n_files, 4u);
        expect_str(j.files[0].name, "data.bin");
        ASSERT_TRUE(!j.files[0].utf8 && j.files[0].content.len == 2);
        ASSERT_TRUE(memcmp(j.files[0].content.data, "\x00\x01", 2) == 0);
        expect_str(j.files[1].name, "file1.code"); /* Piston's name for a file without one */
        ASSERT_TRUE(j.files[1].utf8);
        expect_str(j.files[1].content.data, "import x");
        ASSERT_TRUE(j.files[2].content.len == 2 && memcmp(j.files[2].content.data, "\xff\x00", 2) == 0);
        expect_str(j.files[3].name, "file3.code");
        ASSERT_EQ(j.files[3].content.len, 0u);
        expect_str(j.stdin_data.data, "abc\n"); /* Piston ends stdin with a newline */
        ASSERT_EQ(j.n_args, 2u);
        expect_str(j.args[1], "it's");
        ASSERT_EQ(j.limits[PISTON_RUN_TIMEOUT], 1500);
        ASSERT_EQ(j.limits[PISTON_COMPILE_TIMEOUT], PISTON_LIMIT_UNSET);
        ASSERT_EQ(j.limits[PISTON_RUN_MEMORY_LIMIT], PISTON_LIMIT_NONE);
        ASSERT_EQ(j.limits[PISTON_COMPILE_CPU_TIME], PISTON_LIMIT_UNSET);
        ASSERT_EQ(j.limits[PISTON_RUN_CPU_TIME], PISTON_LIMIT_UNSET);
        piston_job_done(&j);

        /* stdin already ending in a newline is kept as it is; absent stdin is "\n" */
        _cleanup_piston_request_ PistonRequest *r2 = parse("{" GOOD ",\"stdin\":\"x\\n\"}");
        ASSERT_EQ(piston_request_finish(r2, maxima, &j, msg, sizeof msg), 0);
        expect_str(j.stdin_data.data, "x\n");
        piston_job_done(&j);
        _cleanup_piston_request_ PistonRequest *r3 = parse("{" GOOD "}");
        ASSERT_EQ(piston_request_finish(r3, maxima, &j, msg, sizeof msg), 0);
        expect_str(j.stdin_data.data, "\n");
        ASSERT_EQ(j.n_args, 0u);
        piston_job_done(&j);
}

static void test_encode(void) {
        char *json = NULL;
        ASSERT_EQ(piston_message_encode("x-1 runtime is unknown", &json), 0);
        expect_str(json, "{\"message\":\"x-1 runtime is unknown\"}");
        free(json);

        static const char *const aliases[] = {"py", "py3", NULL};
        const PistonRuntime rts[] = {
                {"python", "3.11.2", aliases, NULL},
                {"c", "12.2.0", NULL, "gcc"},
        };
        ASSERT_EQ(piston_runtimes_encode(rts, 2, &json), 0);
        expect_str(json, "[{\"language\":\"python\",\"version\":\"3.11.2\",\"aliases\":[\"py\",\"py3\"]},"
                         "{\"language\":\"c\",\"version\":\"12.2.0\",\"aliases\":[],\"runtime\":\"gcc\"}]");
        free(json);

        PistonStage compile = {.code = 0, .cpu_time_ms = -1, .wall_time_ms = -1, .memory_bytes = -1};
        PistonStage run = {
                .stdout_data = {(char *) "out\xff", 4},
                .stderr_data = {(char *) "err", 3},
                .code = -1,
                .signal = "SIGKILL",
                .message = "Time limit exceeded",
                .status = "TO",
                .cpu_time_ms = 12,
                .wall_time_ms = 1001,
                .memory_bytes = 4096,
        };
        PistonResult res = {"c", "12.2.0", &compile, &run};
        ASSERT_EQ(piston_result_encode(&res, &json), 0);
        expect_str(json,
                "{\"language\":\"c\",\"version\":\"12.2.0\","
                "\"compile\":{\"stdout\":\"\",\"stderr\":\"\",\"output\":\"\",\"code\":0,\"signal\":null,"
                "\"message\":null,\"status\":null,\"cpu_time\":null,\"wall_time\":null,\"memory\":null},"
                "\"run\":{\"stdout\":\"out\xef\xbf\xbd\",\"stderr\":\"err\",\"output\":\"out\xef\xbf\xbd"
                "err\",\"code\":null,\"signal\":\"SIGKILL\",\"message\":\"Time limit exceeded\","
                "\"status\":\"TO\",\"cpu_time\":12,\"wall_time\":1001,\"memory\":4096}}");
        free(json);
        res.compile = NULL; /* an interpreted language: no compile key */
        ASSERT_EQ(piston_result_encode(&res, &json), 0);
        ASSERT_TRUE(strstr(json, "\"compile\"") == NULL);
        ASSERT_TRUE(strstr(json, "\"run\":{") != NULL);
        free(json);
}

/* The WebSocket messages: what a client sends, decoded by type; what the server sends. */
static void test_ws(void) {
        PistonWsMessage m;
        char err[256] = "";
        const char *in = "{\"type\":\"data\",\"stream\":\"stdin\",\"data\":\"a\\u0000b\\n\"}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_TRUE(m.type == PISTON_WS_DATA && strcmp(m.stream, "stdin") == 0 && m.data.len == 4 &&
                    memcmp(m.data.data, "a\0b\n", 4) == 0 && !m.signal && !m.eof);
        piston_ws_message_done(&m);
        /* Our extension: the end of input, with or without data; only a JSON true. */
        in = "{\"type\":\"data\",\"stream\":\"stdin\",\"data\":\"\",\"eof\":true}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_TRUE(m.type == PISTON_WS_DATA && m.eof && m.data.data && m.data.len == 0);
        piston_ws_message_done(&m);
        in = "{\"type\":\"data\",\"stream\":\"stdin\",\"eof\":1}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_TRUE(m.type == PISTON_WS_DATA && !m.eof && !m.data.data);
        piston_ws_message_done(&m);
        in = "{\"type\":\"signal\",\"signal\":\"SIGINT\",\"data\":\"x\"}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_TRUE(m.type == PISTON_WS_SIGNAL && strcmp(m.signal, "SIGINT") == 0 && !m.data.data);
        piston_ws_message_done(&m);
        in = "{\"type\":\"data\",\"stream\":1,\"data\":[]}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_TRUE(m.type == PISTON_WS_DATA && !m.stream && !m.data.data);
        piston_ws_message_done(&m);
        static const char *const others[] = {"{}", "[1]", "\"init\"", "{\"type\":\"INIT\"}", "{\"type\":3}"};
        for (size_t i = 0; i < sizeof others / sizeof *others; i++) {
                ASSERT_EQ(piston_ws_message_parse(others[i], strlen(others[i]), &m, err, sizeof err), 0);
                ASSERT_EQ(m.type, PISTON_WS_OTHER);
                piston_ws_message_done(&m);
        }
        in = "{\"type\":\"init\"}";
        ASSERT_EQ(piston_ws_message_parse(in, strlen(in), &m, err, sizeof err), 0);
        ASSERT_EQ(m.type, PISTON_WS_INIT);
        piston_ws_message_done(&m);
        ASSERT_EQ(piston_ws_message_parse("{", 1, &m, err, sizeof err), -EBADMSG);
        ASSERT_TRUE(strncmp(err, "malformed JSON", 14) == 0);

        char *j = NULL;
        ASSERT_EQ(piston_ws_data_encode("stdout", "h\xffi\n", 4, &j), 0);
        ASSERT_TRUE(
                strcmp(j, "{\"type\":\"data\",\"stream\":\"stdout\",\"data\":\"h\xef\xbf\xbdi\\n\"}") == 0);
        free(j);
        ASSERT_EQ(piston_ws_exit_encode("run", -1, "SIGKILL", "TO", "Time limit exceeded", &j), 0);
        ASSERT_TRUE(strcmp(j, "{\"type\":\"exit\",\"stage\":\"run\",\"code\":null,\"signal\":\"SIGKILL\","
                              "\"status\":\"TO\",\"message\":\"Time limit exceeded\"}") == 0);
        free(j);
        ASSERT_EQ(piston_ws_exit_encode("compile", 0, NULL, NULL, NULL, &j), 0);
        ASSERT_TRUE(strcmp(j, "{\"type\":\"exit\",\"stage\":\"compile\",\"code\":0,\"signal\":null,"
                              "\"status\":null,\"message\":null}") == 0);
        free(j);
        ASSERT_EQ(piston_ws_runtime_encode("python", "3.11.2", &j), 0);
        ASSERT_TRUE(strcmp(j, "{\"type\":\"runtime\",\"language\":\"python\",\"version\":\"3.11.2\"}") == 0);
        free(j);
        ASSERT_EQ(piston_ws_stage_encode("run", &j), 0);
        ASSERT_TRUE(strcmp(j, "{\"type\":\"stage\",\"stage\":\"run\"}") == 0);
        free(j);
        ASSERT_EQ(piston_ws_error_encode("queue is full", &j), 0);
        ASSERT_TRUE(strcmp(j, "{\"type\":\"error\",\"message\":\"queue is full\"}") == 0);
        free(j);
}

int main(void) {
        test_ws();
        test_malformed();
        test_check_order();
        test_finish_refusals();
        test_count_bounds();
        test_job();
        test_encode();
        ASSERT_EQ(piston_limit_name(PISTON_RUN_CPU_TIME) != NULL, 1);
        ASSERT_TRUE(piston_limit_name(_PISTON_LIMIT_MAX) == NULL);
        return 0;
}
