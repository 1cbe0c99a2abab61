/* SPDX-License-Identifier: MIT */
#pragma once

/* The Piston v2 JSON codec (engineer-man/piston, api/src/api/v2.js): POST /api/v2/execute
 * bodies in, its answers and GET /api/v2/runtimes out. jansson stays in json/; nothing
 * here does HTTP, storage or judging. Functions return 0 or a negative errno; encoders
 * give a malloc'd compact JSON text the caller frees. -ENOMEM is always possible.
 *
 * A request is checked in Piston's order, and each refusal is Piston's 400 {"message"}:
 *   1. piston_request_parse()   the JSON itself
 *   2. piston_request_check()   "language is required as a string", "version is required
 *                               as a string", "files is required as an array",
 *                               "files[i].content is required as a string"
 *   3. (the caller finds the runtime: "<language>-<version> runtime is unknown")
 *   4. piston_request_finish()  "files must include at least one utf8 encoded file", then
 *                               the limits, memory_limit, timeout and cpu_time, compile
 *                               before run: "If specified, <name> must be a number",
 *                               "<name> cannot exceed the configured limit of <max>",
 *                               "<name> must be non-negative"; then what Piston does not
 *                               check and we must (our wording): file names, encodings
 *                               and contents, stdin and args types and sizes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/submission.h"

/* What a gateway tells an API node about a key limited to some languages: their Judge0
 * ids, comma-separated ("71,54"). Only the node's catalogue knows which id a Piston
 * runtime (a name and a version range) is: it refuses the others. A header can only
 * narrow what a request may run, so the node needs to trust no one for it. */
#define PISTON_LANGUAGES_HEADER "X-Coderunner-Languages"

#define PISTON_MAX_FILES 64
#define PISTON_MAX_NAME 255 /* bytes of a file name */
#define PISTON_MAX_ARGS 64

typedef struct PistonRequest PistonRequest;

/* Parse a body. -EBADMSG for malformed JSON, with the reason in errbuf. A JSON value that
 * is not an object parses (it has no fields: step 2 names the first one missing). */
int piston_request_parse(const char *data, size_t len, PistonRequest **ret, char *errbuf, size_t errlen);
PistonRequest *piston_request_free(PistonRequest *r);
static inline void piston_request_freep(PistonRequest **r) {
        piston_request_free(*r);
}
#define _cleanup_piston_request_ __attribute__((cleanup(piston_request_freep)))

/* Step 2: -EINVAL with Piston's message in msg. */
int piston_request_check(const PistonRequest *r, char *msg, size_t msglen);
/* After a successful check: the language and the version asked (pointing into r). */
const char *piston_request_language(const PistonRequest *r);
const char *piston_request_version(const PistonRequest *r);

typedef enum PistonLimit {
        PISTON_COMPILE_MEMORY_LIMIT, /* bytes */
        PISTON_RUN_MEMORY_LIMIT,
        PISTON_COMPILE_TIMEOUT, /* milliseconds of wall time */
        PISTON_RUN_TIMEOUT,
        PISTON_COMPILE_CPU_TIME, /* milliseconds of CPU time */
        PISTON_RUN_CPU_TIME,
        _PISTON_LIMIT_MAX,
} PistonLimit;

/* The request's name of a limit ("run_timeout"), or NULL. */
const char *piston_limit_name(PistonLimit l);

typedef struct PistonFile {
        char *name; /* NULL when not given */
        Bytes content; /* decoded */
        bool utf8; /* encoding utf8 (or none): a code file */
} PistonFile;

/* A checked request, plain data. */
typedef struct PistonJob {
        PistonFile *files;
        size_t n_files;
        Bytes stdin_data; /* with a final "\n" added when missing, as Piston does */
        char **args; /* n_args strings, NUL-free */
        size_t n_args;
        /* -1 = not given (absent, null, 0: Piston's defaults apply), -2 = "no limit"
         * (a memory limit of -1), else the value in the request's unit */
        int64_t limits[_PISTON_LIMIT_MAX];
} PistonJob;

#define PISTON_LIMIT_UNSET INT64_C(-1)
#define PISTON_LIMIT_NONE INT64_C(-2)

/* Step 4. maxima: the configured limit of each, in the request's units (> 0). On success
 * *ret is filled (piston_job_done()); -EINVAL with the message in msg. */
int piston_request_finish(const PistonRequest *r, const int64_t maxima[_PISTON_LIMIT_MAX], PistonJob *ret,
        char *msg, size_t msglen);
void piston_job_done(PistonJob *j);

/* {"message": message}: every Piston error body. */
int piston_message_encode(const char *message, char **ret);

/* GET /api/v2/runtimes: [{language, version, aliases, runtime?}, ...]. */
typedef struct PistonRuntime {
        const char *language;
        const char *version;
        const char *const *aliases; /* NULL-terminated; NULL = none */
        const char *runtime; /* NULL: the key is left out, as Piston does */
} PistonRuntime;
int piston_runtimes_encode(const PistonRuntime *rts, size_t n, char **ret);

/* One stage of an execution. */
typedef struct PistonStage {
        Bytes stdout_data, stderr_data; /* NULL data = "" */
        int code; /* -1 = null */
        const char *signal; /* "SIGKILL"; NULL = null */
        const char *message; /* NULL = null */
        const char *status; /* "RE", "SG", "TO", "XX"...; NULL = null */
        int64_t cpu_time_ms, wall_time_ms, memory_bytes; /* -1 = null */
} PistonStage;

typedef struct PistonResult {
        const char *language, *version;
        const PistonStage *compile; /* NULL: left out (an interpreted language) */
        const PistonStage *run;
} PistonResult;
/* POST /api/v2/execute's 200: {"language","version",("compile",)"run"}, each stage
 * {stdout, stderr, output (stdout then stderr), code, signal, message, status, cpu_time,
 * wall_time, memory}. Bytes that are not UTF-8 become U+FFFD. */
int piston_result_encode(const PistonResult *res, char **ret);

/* ---- the WebSocket protocol (/api/v2/connect) ---- */

/* A client's message: {"type":"init", ...the execute body...}, {"type":"data",
 * "stream":"stdin","data":"..."(,"eof":true)} or {"type":"signal","signal":"SIGKILL"}. */
typedef enum PistonWsType {
        PISTON_WS_INIT,
        PISTON_WS_DATA,
        PISTON_WS_SIGNAL,
        PISTON_WS_OTHER, /* any other type, or none: Piston ignores it */
} PistonWsType;

typedef struct PistonWsMessage {
        PistonWsType type;
        char *stream; /* data: NULL when not a string */
        Bytes data; /* data: NULL data when not a string */
        char *signal; /* signal: NULL when not a string */
        bool eof; /* data: "eof": true (our extension), the end of input after data */
} PistonWsMessage;

/* -EBADMSG for malformed JSON (reason in errbuf). For init, parse the same text with
 * piston_request_parse(). */
int piston_ws_message_parse(const char *text, size_t len, PistonWsMessage *ret, char *errbuf, size_t errlen);
void piston_ws_message_done(PistonWsMessage *m);

/* The server's messages. Bytes that are not UTF-8 become U+FFFD. */
int piston_ws_runtime_encode(const char *language, const char *version, char **ret);
int piston_ws_stage_encode(const char *stage, char **ret);
int piston_ws_data_encode(const char *stream, const char *data, size_t len, char **ret);
/* {"type":"exit","stage":...,"code":N|null,"signal":"SIG..."|null,"status":...,"message":...}
 * (status and message: ours, null when none). */
int piston_ws_exit_encode(const char *stage, int code, const char *signal, const char *status,
        const char *message, char **ret);
int piston_ws_error_encode(const char *message, char **ret);
