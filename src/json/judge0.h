/* SPDX-License-Identifier: MIT */
#pragma once

/* The Judge0 CE 1.13.1 JSON codec: request bodies in, response bodies out. The only
 * place jansson is used; nothing
 * here does HTTP, storage or judging.
 *
 * Conventions. Functions that can fail return 0 or a negative errno. Encoders return a
 * malloc'd NUL-terminated compact JSON text in *ret that the caller frees; all input stays
 * the caller's. -ENOMEM is always possible.
 *
 * Create requests: judge0_body_parse() reads the body once; judge0_body_param() gives the
 * parameters Rails also reads from a body ("base64_encoded", "wait", "fields", the auth
 * tokens); judge0_body_decode_submission() or judge0_body_decode_batch_item() validate it
 * into a Submission, applying Judge0's defaults and rules (Judge0Rules) and filling a
 * Judge0Errors map with Rails' messages, in the order Judge0 validates.
 *
 * Where we differ from Judge0, on purpose (each is something no working client relies on):
 *   - a value of the wrong JSON type gets a message ("is not a number", "is not a string",
 *     "is not a boolean") where Rails would cast it or drop it silently; a boolean is
 *     true/false, 0/1 or one of Rails' strings ("true", "t", "1", "on", "false", "f",
 *     "0", "off" and their upper case), where Rails takes any other string as true;
 *   - an integer field is checked as the integer it becomes: Judge0 checks 2047.5
 *     against memory_limit's minimum of 2048, then stores 2047 (0.5 runs become 0);
 *   - cpu_time_limit, stack_limit and max_file_size of 0 mean the maximum (max_*),
 *     where Judge0 passes 0 on to isolate as "no limit";
 *   - base64 is decoded as Ruby's decode64 (padding optional, whitespace anywhere), but
 *     what Ruby would silently turn into other bytes than were sent (a character outside
 *     the alphabet, data after the '=' that ends it, a lone last character) gets "is not
 *     valid base64" (base/base64.h);
 *   - malformed JSON is a 400 whose JSON body says why (Rails answers an empty 400);
 *   - a body that is not a JSON object is a 400 like malformed JSON (Rails would wrap it
 *     as "_json" and answer 422 "can't be blank");
 *   - with base64_encoded=false, bytes that are not UTF-8 in a response are written as
 *     U+FFFD (one per invalid byte) instead of failing the request with Judge0's 400
 *     "cannot be converted to UTF-8": the client gets its output, readable, and
 *     base64_encoded=true still gives the exact bytes.
 *
 * Extensions (additive: a Judge0 client sends none of them and sees Judge0's shape):
 *   "tests": [{"stdin": s, "expected_output": s}, ...]
 *           many test cases, one compilation; both strings base64 per base64_encoded, both
 *           optional. At most Judge0Rules.max_tests. [] is the same as absent. With tests,
 *           the top-level stdin and expected_output must be blank (absent, null, or
 *           whitespace).
 *   "compare": "default" | "exact" | "numbers"
 *           how stdout is compared with the expected output: Judge0's whitespace rule
 *           (default), byte for byte, or numbers within "tolerance".
 *   "tolerance": a number >= 0 (absolute or relative difference allowed by "numbers");
 *           a non-zero tolerance needs compare "numbers".
 *   "stop_on_failure": boolean; skip the remaining tests after the first failing one.
 * Their messages:
 *   tests              "is not an array", "is too long (maximum is N test cases)"
 *   tests[i]           "is not an object"
 *   tests[i].stdin, tests[i].expected_output
 *                      "is not a string", "is not valid base64"
 *   stdin, expected_output   "must be blank when tests are given"
 *   compare            "is not included in the list"
 *   tolerance          "is not a number", "must be greater than or equal to 0",
 *                      "is only allowed when compare is numbers"
 *   stop_on_failure    "is not a boolean"
 * In responses: "compare", "tolerance", "stop_on_failure", "memory_limit_exceeded" and
 * "tests" (results: one object per test case) follow Judge0's fields, under the rules of
 * Judge0Fields below. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model/submission.h"

/* ---- errors ---- */

/* A validation error map, field -> [messages], in the order the fields first failed
 * (Rails' errors hash): it encodes as {"language_id":["can't be blank", ...], ...}. */
typedef struct Judge0Errors Judge0Errors;

int judge0_errors_new(Judge0Errors **ret);
Judge0Errors *judge0_errors_free(Judge0Errors *e);
static inline void judge0_errors_freep(Judge0Errors **e) {
        judge0_errors_free(*e);
}
#define _cleanup_judge0_errors_ __attribute__((cleanup(judge0_errors_freep)))
/* Append message to field's list (a new field goes last). Both strings are copied. */
int judge0_errors_add(Judge0Errors *e, const char *field, const char *message);
/* Forget everything (to reuse the map for the next item of a batch). */
void judge0_errors_clear(Judge0Errors *e);
bool judge0_errors_empty(const Judge0Errors *e);
/* The messages of one field: how many, and the i-th (NULL when out of range). */
size_t judge0_errors_count(const Judge0Errors *e, const char *field);
const char *judge0_errors_get(const Judge0Errors *e, const char *field, size_t i);
/* The 422 body. */
int judge0_errors_encode(const Judge0Errors *e, char **ret);

/* {"error":"<message>"}, Judge0's body of every application error. */
int judge0_error_body_encode(const char *message, char **ret);

/* ---- languages ---- */

typedef struct Judge0Language {
        int id;
        const char *name; /* e.g. "C (GCC 9.2.0)" */
        const char *source_file; /* NULL = null (89 "Multi-file program") */
        const char *compile_cmd; /* NULL = none: an interpreted language */
        const char *run_cmd; /* NULL = null */
        bool is_archived;
        bool is_project; /* Judge0's 89 "Multi-file program": the scripts come in the zip */
} Judge0Language;

/* Find a language by id, archived ones included: 0 with *ret filled (its strings must stay
 * valid during the call that asked), or -ENOENT. */
typedef int (*Judge0LanguageLookup)(void *userdata, int id, Judge0Language *ret);

/* ---- the rules a create request is validated against ---- */

/* Judge0's configuration that concerns a submission (§2.2, §2.3); times in microseconds,
 * sizes in KiB (Judge0's KB). The max_* bounds are inclusive. */
typedef struct Judge0Rules {
        uint64_t cpu_time_limit_usec, max_cpu_time_limit_usec;
        uint64_t cpu_extra_time_usec, max_cpu_extra_time_usec;
        uint64_t wall_time_limit_usec, max_wall_time_limit_usec;
        uint64_t memory_limit_kib, max_memory_limit_kib;
        uint64_t stack_limit_kib, max_stack_limit_kib;
        uint32_t max_processes_and_or_threads, max_max_processes_and_or_threads;
        bool enable_per_process_and_thread_time_limit;
        bool allow_enable_per_process_and_thread_time_limit;
        bool enable_per_process_and_thread_memory_limit;
        bool allow_enable_per_process_and_thread_memory_limit;
        uint64_t max_file_size_kib, max_max_file_size_kib;
        uint32_t number_of_runs, max_number_of_runs;
        bool redirect_stderr_to_stdout;
        bool enable_network, allow_enable_network;
        bool enable_compiler_options;
        /* ALLOWED_LANGUAGES_FOR_COMPILER_OPTIONS: NULL-terminated; NULL or empty = every
         * compiled language. A language qualifies when its name starts with an entry
         * followed by a space ("C" allows "C (GCC 9.2.0)", not "C++ (GCC 9.2.0)"). */
        const char *const *allowed_languages_for_compiler_options;
        bool enable_command_line_arguments;
        bool enable_callbacks;
        bool enable_additional_files;
        uint32_t max_tests; /* extension: most test cases in one submission */

        Judge0LanguageLookup language_lookup; /* NULL: no language exists */
        void *userdata;
} Judge0Rules;

#define JUDGE0_DEFAULT_MAX_TESTS 1024
/* Judge0 CE 1.13.1's defaults (app/helpers/config.rb); no language lookup. */
void judge0_rules_init(Judge0Rules *r);

/* ---- create requests ---- */

/* A parsed request body: a JSON object. */
typedef struct Judge0Body Judge0Body;

/* Parse a request body. An empty or all-blank body is an empty object (Rails' parser skips
 * it). -EBADMSG for malformed JSON (Judge0's 400, with the reason here) or a JSON value
 * that is not an object, with the reason in errbuf (e.g. "malformed JSON: '[' or '{'
 * expected near 'x' at line 1, column 1"); -ENOMEM. */
int judge0_body_parse(const char *data, size_t len, Judge0Body **ret, char *errbuf, size_t errlen);
/* Parse an application/x-www-form-urlencoded body as Rails does (Rack 2's
 * parse_nested_query) into the object a JSON body would give: pairs split at '&' or ';',
 * '+' and %XX unescaped, a later key wins, a key without '=' is null, values are strings
 * (the decoder takes "71" for a number, as Rails casts it), and bracket keys nest as in
 * Rack: "a[b]=1" is {"a":{"b":"1"}}, "a[]=1" appends to an array, "s[][k]=1" starts a new
 * object in the array s when the last one has k already. -EBADMSG with the reason in
 * errbuf ("malformed form: ...") for a bad %-escape, text that is not UTF-8, a key nested
 * deeper than 32 or used both as an array and not; -ENOMEM. */
int judge0_body_parse_form(const char *data, size_t len, Judge0Body **ret, char *errbuf, size_t errlen);
/* Parse a multipart/form-data body (RFC 7578) with the boundary of content_type (its
 * "boundary=" parameter, 1-70 characters, quoted or not): each part with a
 * Content-Disposition name is a pair, its content the value (a file part's too, where Rails
 * would give an upload object), nested and checked as judge0_body_parse_form() does;
 * parts without a name, the preamble and the epilogue are skipped. -EBADMSG with the
 * reason in errbuf ("malformed multipart body: ..." or "malformed form: ...") for a
 * missing boundary, a part that does not end, or what the form parser refuses; -ENOMEM. */
int judge0_body_parse_multipart(const char *content_type, const char *data, size_t len, Judge0Body **ret,
        char *errbuf, size_t errlen);
Judge0Body *judge0_body_free(Judge0Body *b);
static inline void judge0_body_freep(Judge0Body **b) {
        judge0_body_free(*b);
}
#define _cleanup_judge0_body_ __attribute__((cleanup(judge0_body_freep)))

/* A top-level parameter of the body when it is a JSON string, else NULL; points into the
 * body. Rails merges the query string and the body into one set of parameters, the query
 * string winning, and Judge0 compares base64_encoded and wait with the *string* "true":
 * so base64_encoded is query's "base64_encoded" if present, else this. */
const char *judge0_body_param(const Judge0Body *b, const char *name);

/* Validate the body as one submission (POST /submissions). base64_encoded: source_code,
 * stdin, expected_output (and the tests' strings) are base64; additional_files always is.
 * Returns 0 with *ret initialised and filled (the caller owns it: submission_done()),
 * defaults applied to what is null or absent, status In Queue, no token nor created_at;
 * or -EINVAL with the reasons added to errors (422); or -ENOMEM. */
int judge0_body_decode_submission(const Judge0Body *b, bool base64_encoded, const Judge0Rules *rules,
        Judge0Errors *errors, Submission *ret);

/* POST /submissions/batch: how many items "submissions" holds (0 when it is absent or
 * null), or -EBADMSG with the reason in errbuf when it is not an array. */
int judge0_body_batch_size(const Judge0Body *b, size_t *ret, char *errbuf, size_t errlen);
/* Item i, like judge0_body_decode_submission(). An item that is not an object gets
 * {"base": ["is not a JSON object"]}. -ERANGE when i is out of range. */
int judge0_body_decode_batch_item(const Judge0Body *b, size_t i, bool base64_encoded,
        const Judge0Rules *rules, Judge0Errors *errors, Submission *ret);

/* ---- response fields ---- */

/* The response fields in the order Judge0 writes them (fields=*), then ours. */
typedef enum Judge0Field {
        JUDGE0_FIELD_SOURCE_CODE,
        JUDGE0_FIELD_LANGUAGE_ID,
        JUDGE0_FIELD_STDIN,
        JUDGE0_FIELD_EXPECTED_OUTPUT,
        JUDGE0_FIELD_STDOUT,
        JUDGE0_FIELD_STATUS_ID,
        JUDGE0_FIELD_CREATED_AT,
        JUDGE0_FIELD_FINISHED_AT,
        JUDGE0_FIELD_TIME,
        JUDGE0_FIELD_MEMORY,
        JUDGE0_FIELD_STDERR,
        JUDGE0_FIELD_TOKEN,
        JUDGE0_FIELD_NUMBER_OF_RUNS,
        JUDGE0_FIELD_CPU_TIME_LIMIT,
        JUDGE0_FIELD_CPU_EXTRA_TIME,
        JUDGE0_FIELD_WALL_TIME_LIMIT,
        JUDGE0_FIELD_MEMORY_LIMIT,
        JUDGE0_FIELD_STACK_LIMIT,
        JUDGE0_FIELD_MAX_PROCESSES_AND_OR_THREADS,
        JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT,
        JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT,
        JUDGE0_FIELD_MAX_FILE_SIZE,
        JUDGE0_FIELD_COMPILE_OUTPUT,
        JUDGE0_FIELD_EXIT_CODE,
        JUDGE0_FIELD_EXIT_SIGNAL,
        JUDGE0_FIELD_MESSAGE,
        JUDGE0_FIELD_WALL_TIME,
        JUDGE0_FIELD_COMPILER_OPTIONS,
        JUDGE0_FIELD_COMMAND_LINE_ARGUMENTS,
        JUDGE0_FIELD_REDIRECT_STDERR_TO_STDOUT,
        JUDGE0_FIELD_CALLBACK_URL,
        JUDGE0_FIELD_ADDITIONAL_FILES,
        JUDGE0_FIELD_ENABLE_NETWORK,
        JUDGE0_FIELD_STATUS,
        JUDGE0_FIELD_LANGUAGE,
        _JUDGE0_FIELD_JUDGE0_MAX, /* 35: Judge0's own */
        JUDGE0_FIELD_COMPARE = _JUDGE0_FIELD_JUDGE0_MAX,
        JUDGE0_FIELD_TOLERANCE,
        JUDGE0_FIELD_STOP_ON_FAILURE,
        JUDGE0_FIELD_MEMORY_LIMIT_EXCEEDED,
        JUDGE0_FIELD_TESTS,
        JUDGE0_FIELD_CHECKER,
        JUDGE0_FIELD_INTERACTOR,
        JUDGE0_FIELD_SCORE,
        _JUDGE0_FIELD_MAX,
} Judge0Field;

/* A `fields` selection. Fields come out in the order above whatever the order asked.
 * Extension fields named explicitly always come out (null when unused); with the default
 * selection or "*", a submission that used an extension (tests, compare, tolerance or
 * stop_on_failure) also gets "memory_limit_exceeded" and, when it has test cases,
 * "tests"; with "*", "compare", "tolerance" and "stop_on_failure" too. A submission that
 * used none gets exactly Judge0's fields. */
typedef struct Judge0Fields {
        uint64_t mask; /* 1 << Judge0Field for each field named (or default) */
        bool all; /* "*": every field, mask unused */
        bool defaults; /* nothing named: mask holds the default fields */
} Judge0Fields;

#define JUDGE0_FIELD_BIT(f) (UINT64_C(1) << (f))
/* Judge0's 8 default fields: token, time, memory, stdout, stderr, compile_output, message,
 * status (written in the order above: stdout, time, memory, stderr, token, ...). */
#define JUDGE0_FIELDS_DEFAULT_MASK \
        (JUDGE0_FIELD_BIT(JUDGE0_FIELD_TOKEN) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_TIME) | \
                JUDGE0_FIELD_BIT(JUDGE0_FIELD_MEMORY) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_STDOUT) | \
                JUDGE0_FIELD_BIT(JUDGE0_FIELD_STDERR) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_COMPILE_OUTPUT) | \
                JUDGE0_FIELD_BIT(JUDGE0_FIELD_MESSAGE) | JUDGE0_FIELD_BIT(JUDGE0_FIELD_STATUS))
#define JUDGE0_FIELDS_DEFAULT ((Judge0Fields){.mask = JUDGE0_FIELDS_DEFAULT_MASK, .defaults = true})
#define JUDGE0_FIELDS_ALL ((Judge0Fields){.all = true})

/* A field's name, or NULL. */
const char *judge0_field_name(Judge0Field f);

/* Parse a `fields` parameter as Judge0 does: split on ',' with no trimming (" stderr" is
 * not a field), empty pieces at the end dropped (Ruby's split), "*" anywhere = all fields,
 * NULL or nothing named = the default fields. Any other unknown name (an empty piece
 * included) is -EINVAL, next to "*" too ("*,bogus", as Judge0), and then *error (not written otherwise) gets Judge0's message as
 * a malloc'd string the caller frees: "invalid fields: [a, b]" (the names joined with
 * ", "); the HTTP layer answers 400 {"error": that}. */
int judge0_fields_parse(const char *s, Judge0Fields *ret, char **error);

/* ---- submission responses ---- */

typedef struct Judge0EncodeOptions {
        Judge0Fields fields;
        bool base64_encoded; /* stdout, stderr, compile_output, source_code, stdin,
                              * expected_output and message in base64 (additional_files
                              * always is) */
        /* status {id, description}: the description of a status id, NULL = null (e.g.
         * status_description) */
        const char *(*status_description)(int status_id);
        /* language {id, name}: the name of a language id, NULL = null */
        const char *(*language_name)(void *userdata, int language_id);
        void *userdata;
} Judge0EncodeOptions;

/* One submission (GET /submissions/:token, POST with wait=true, DELETE, callbacks).
 * Judge0's shapes: decimals as strings ("0.001", "5.0"), integers as numbers, timestamps
 * as "2024-04-03T05:40:51.306Z", null for an empty stdout, stderr, compile_output or
 * message, and exit_code 0 when a run finished (status 3-5, 7-12, 14) without one. */
int judge0_submission_encode(const Submission *s, const Judge0EncodeOptions *o, char **ret);

/* GET /submissions/batch: {"submissions":[...]}, null for a NULL entry (unknown token). */
int judge0_submission_batch_encode(
        const Submission *const *subs, size_t n, const Judge0EncodeOptions *o, char **ret);

typedef struct Judge0Page {
        uint64_t current_page;
        uint64_t next_page; /* 0 = null */
        uint64_t prev_page; /* 0 = null */
        uint64_t total_pages;
        uint64_t total_count;
} Judge0Page;
/* GET /submissions: {"submissions":[...],"meta":{"current_page",...}}. */
int judge0_submission_list_encode(const Submission *const *subs, size_t n, const Judge0Page *page,
        const Judge0EncodeOptions *o, char **ret);

/* GET /submissions/:token of a submission purged by the retention policy (410 Gone):
 * {"error":"...","token":"...","status":{"id":..,"description":".."},"finished_at":"...",
 * "purged_at":"..."}. Only o->status_description and o->userdata are used. */
int judge0_purged_encode(const Submission *s, const Judge0EncodeOptions *o, char **ret);

/* POST /submissions without wait: {"token":"..."}. */
int judge0_token_encode(const char *token, char **ret);

/* POST /submissions/batch: one entry per item, in order: {"token":"..."} when token is
 * set, else the item's error map. */
typedef struct Judge0BatchResult {
        const char *token;
        const Judge0Errors *errors;
} Judge0BatchResult;
int judge0_batch_created_encode(const Judge0BatchResult *items, size_t n, char **ret);

/* ---- information endpoints ---- */

/* GET /languages ([{id, name}]) or, with_archived, GET /languages/all ([{id, name,
 * is_archived}]): sorted by name the way Judge0's PostgreSQL (en_US collation) does, which
 * compares letters and digits first, ignoring case, spaces and punctuation ("C (GCC
 * 7.4.0)" and "C++ (GCC 7.4.0)" side by side), then breaks ties by case (lower first) and
 * by bytes. Archived languages are skipped unless with_archived. */
int judge0_languages_encode(const Judge0Language *langs, size_t n, bool with_archived, char **ret);
/* GET /languages/:id: {id, name, is_archived, source_file, compile_cmd, run_cmd}. */
int judge0_language_encode(const Judge0Language *l, char **ret);

typedef struct Judge0Status {
        int id;
        const char *description;
} Judge0Status;
/* GET /statuses: [{id, description}] in the order given. */
int judge0_statuses_encode(const Judge0Status *statuses, size_t n, char **ret);

/* GET /config_info: the 39 keys of §4.5, in order, with Judge0's types: the times and the
 * two durations as JSON reals in seconds (5.0), sizes and counts as integers. */
typedef struct Judge0ConfigInfo {
        const Judge0Rules *rules;
        bool maintenance_mode;
        bool enable_wait_result;
        bool enable_submission_delete;
        uint32_t callbacks_max_tries;
        uint64_t callbacks_timeout_usec;
        uint64_t max_queue_size;
        uint64_t max_extract_size_kib;
        bool enable_batched_submissions;
        uint32_t max_submission_batch_size;
        uint64_t submission_cache_duration_usec;
        bool use_docs_as_homepage;
} Judge0ConfigInfo;
/* Judge0 CE 1.13.1's defaults for what is not in Judge0Rules; rules left NULL. */
void judge0_config_info_init(Judge0ConfigInfo *c);
int judge0_config_info_encode(const Judge0ConfigInfo *c, char **ret);

/* GET /about: {version, homepage, source_code, maintainer}; NULL = null. */
int judge0_about_encode(const char *version, const char *homepage, const char *source_code,
        const char *maintainer, char **ret);

/* GET /workers: [{queue, size, available, idle, working, paused, failed}]. */
typedef struct Judge0WorkerQueue {
        const char *queue; /* Judge0 names the queue after its version, "1.13.1" */
        uint64_t size, available, idle, working, paused, failed;
} Judge0WorkerQueue;
int judge0_workers_encode(const Judge0WorkerQueue *queues, size_t n, char **ret);

/* ---- live events (GET /submissions/:token/events, an extension) ---- */

/* A status change: {"token":"...","status":{"id":2,"description":"Processing"}}. */
int judge0_event_status_encode(const char *token, int status_id, const Judge0EncodeOptions *o, char **ret);
/* A test case's verdict as it finishes, without its outputs (they come with the result):
 * {"token":"...","index":0,"status":{...},"time":"0.002","wall_time":"0.004","memory":1234,
 * "exit_code":0,"exit_signal":null,"memory_limit_exceeded":false}. t's texts are not read. */
int judge0_event_test_encode(
        const char *token, size_t index, const SubmissionTest *t, const Judge0EncodeOptions *o, char **ret);
