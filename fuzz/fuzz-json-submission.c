/* SPDX-License-Identifier: MIT */
/* Fuzz target for the Judge0 JSON codec (src/json): a create-submission body comes from
 * anyone who can reach the API. Every input is, whatever it holds:
 *   - parsed as a JSON body, a form body and a multipart body with the boundary "XyZ"
 *     (src/json/form.c), each then checked as below: a failure is -EBADMSG with a reason;
 *   - decoded as one submission (base64_encoded false, then true) and as every item of a
 *     batch (the first few): a failure is -EINVAL with a non-empty error map that encodes
 *     as a JSON object;
 *   - when decoded, encoded back (fields=*, base64) and decoded again, which must give the
 *     same submission: the codec loses nothing it accepted. The response without base64
 *     (bytes that are not UTF-8 replaced) and with the default fields must be JSON too;
 *   - read as a `fields` parameter: a failure is -EINVAL with Judge0's message. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "fuzz.h"
#include "json/judge0.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

#define MAX_BATCH_ITEMS 16
#define MAX_FIELDS_INPUT 4096

static const Judge0Language languages[] = {
        {4, "C (gcc 7.2.0)", "main.c", "gcc %s main.c", "./a.out", true, false},
        {50, "C (GCC 9.2.0)", "main.c", "gcc %s main.c", "./a.out", false, false},
        {62, "Java (OpenJDK 13.0.1)", "Main.java", "javac %s Main.java", "java Main", false, false},
        {71, "Python (3.8.1)", "script.py", NULL, "python3 script.py", false, false},
        {89, "Multi-file program", NULL, NULL, NULL, false, true},
};

static int lookup(void *userdata, int id, Judge0Language *ret) {
        for (size_t i = 0; i < ELEMENTSOF(languages); i++)
                if (languages[i].id == id) {
                        *ret = languages[i];
                        return 0;
                }
        return -ENOENT;
}

static const char *status_description(int id) {
        return id == 1 ? "In Queue" : NULL;
}

static const char *language_name(void *userdata, int id) {
        Judge0Language l;
        return lookup(NULL, id, &l) == 0 ? l.name : NULL;
}

static bool bytes_eq(const Bytes *a, const Bytes *b) {
        if (!a->data || !b->data)
                return !a->data && !b->data;
        return a->len == b->len && memcmp(a->data, b->data, a->len) == 0 && b->data[b->len] == '\0';
}

static void check_same(const Submission *a, const Submission *b) {
        CHECK(bytes_eq(&a->source_code, &b->source_code));
        CHECK(a->language_id == b->language_id);
        CHECK(bytes_eq(&a->stdin_data, &b->stdin_data));
        CHECK(bytes_eq(&a->expected_output, &b->expected_output));
        CHECK(bytes_eq(&a->compiler_options, &b->compiler_options));
        CHECK(bytes_eq(&a->command_line_arguments, &b->command_line_arguments));
        CHECK(bytes_eq(&a->additional_files, &b->additional_files));
        CHECK(bytes_eq(&a->callback_url, &b->callback_url));
        CHECK(a->number_of_runs == b->number_of_runs);
        CHECK(a->cpu_time_limit_usec == b->cpu_time_limit_usec);
        CHECK(a->cpu_extra_time_usec == b->cpu_extra_time_usec);
        CHECK(a->wall_time_limit_usec == b->wall_time_limit_usec);
        CHECK(a->memory_limit_kib == b->memory_limit_kib);
        CHECK(a->stack_limit_kib == b->stack_limit_kib);
        CHECK(a->max_processes_and_or_threads == b->max_processes_and_or_threads);
        CHECK(a->enable_per_process_and_thread_time_limit == b->enable_per_process_and_thread_time_limit);
        CHECK(a->enable_per_process_and_thread_memory_limit ==
                b->enable_per_process_and_thread_memory_limit);
        CHECK(a->max_file_size_kib == b->max_file_size_kib);
        CHECK(a->redirect_stderr_to_stdout == b->redirect_stderr_to_stdout);
        CHECK(a->enable_network == b->enable_network);
        CHECK(a->n_tests == b->n_tests);
        for (size_t i = 0; i < a->n_tests; i++) {
                CHECK(bytes_eq(&a->tests[i].stdin_data, &b->tests[i].stdin_data));
                CHECK(bytes_eq(&a->tests[i].expected_output, &b->tests[i].expected_output));
        }
        CHECK(a->compare == b->compare);
        CHECK(a->tolerance == b->tolerance);
        CHECK(a->stop_on_failure == b->stop_on_failure);
        const SubmissionProgram *pa[] = {&a->checker, &a->interactor}, *pb[] = {&b->checker, &b->interactor};
        for (size_t i = 0; i < 2; i++) {
                CHECK(pa[i]->language_id == pb[i]->language_id);
                if (pa[i]->language_id == 0)
                        continue; /* none: not encoded */
                CHECK(bytes_eq(&pa[i]->source_code, &pb[i]->source_code));
                CHECK(pa[i]->cpu_time_limit_usec == pb[i]->cpu_time_limit_usec);
                CHECK(pa[i]->wall_time_limit_usec == pb[i]->wall_time_limit_usec);
                CHECK(pa[i]->memory_limit_kib == pb[i]->memory_limit_kib);
        }
}

/* Some JSON text, as an object: what the codec writes must parse. */
static void check_object(const char *json) {
        Judge0Body *b = NULL;
        char err[256];
        int r = judge0_body_parse(json, strlen(json), &b, err, sizeof err);
        if (r < 0)
                fprintf(stderr, "not a JSON object (%s): %s\n", err, json);
        CHECK(r == 0);
        judge0_body_free(b);
}

static void check_errors(Judge0Errors *e) {
        char *json = NULL;
        CHECK(!judge0_errors_empty(e));
        CHECK(judge0_errors_encode(e, &json) == 0);
        check_object(json);
        free(json);
}

/* Encode s back as Judge0 would answer with fields=* and base64, decode that as a request:
 * the same submission. */
static void round_trip(const Submission *s, const Judge0Rules *rules) {
        Judge0EncodeOptions o = {
                .fields = JUDGE0_FIELDS_ALL,
                .base64_encoded = true,
                .status_description = status_description,
                .language_name = language_name,
        };
        char *json = NULL, err[256];
        Judge0Body *b = NULL;
        Judge0Errors *e = NULL;
        Submission again;

        CHECK(judge0_submission_encode(s, &o, &json) == 0);
        CHECK(judge0_body_parse(json, strlen(json), &b, err, sizeof err) == 0);
        CHECK(judge0_errors_new(&e) == 0);
        int r = judge0_body_decode_submission(b, true, rules, e, &again);
        if (r < 0) {
                char *m = NULL;
                judge0_errors_encode(e, &m);
                fprintf(stderr, "round trip refused (%d): %s\n%s\n", r, m ? m : "", json);
                abort();
        }
        check_same(s, &again);
        submission_done(&again);
        judge0_errors_free(e);
        judge0_body_free(b);
        free(json);

        /* Without base64 (invalid UTF-8 replaced) and with the default fields: JSON too. */
        o.base64_encoded = false;
        CHECK(judge0_submission_encode(s, &o, &json) == 0);
        check_object(json);
        free(json);
        o.fields = JUDGE0_FIELDS_DEFAULT;
        CHECK(judge0_submission_encode(s, &o, &json) == 0);
        check_object(json);
        free(json);
}

static void decode_one(const Judge0Body *b, int item, bool base64, const Judge0Rules *rules) {
        Judge0Errors *e = NULL;
        Submission s;
        CHECK(judge0_errors_new(&e) == 0);
        int r = item < 0 ? judge0_body_decode_submission(b, base64, rules, e, &s)
                         : judge0_body_decode_batch_item(b, (size_t) item, base64, rules, e, &s);
        if (r == 0) {
                CHECK(judge0_errors_empty(e));
                CHECK(s.status_id == 1 && s.language_id > 0);
                round_trip(&s, rules);
                submission_done(&s);
        } else {
                CHECK(r == -EINVAL);
                check_errors(e);
        }
        judge0_errors_free(e);
}

static void fuzz_fields(const uint8_t *data, size_t size) {
        if (size > MAX_FIELDS_INPUT)
                return;
        char *s = malloc(size + 1);
        CHECK(s);
        memcpy(s, data, size);
        s[size] = '\0';
        Judge0Fields f;
        char *error = NULL;
        int r = judge0_fields_parse(s, &f, &error);
        if (r < 0) {
                CHECK(r == -EINVAL && error && strncmp(error, "invalid fields: [", 17) == 0);
                CHECK(error[strlen(error) - 1] == ']');
                free(error);
        } else
                CHECK(error == NULL && (f.all || f.mask != 0));
        free(s);
}

static void check_body(Judge0Body *b, const Judge0Rules *rules);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        Judge0Rules rules;
        Judge0Body *b = NULL;
        char err[256] = "";

        fuzz_fields(data, size);

        judge0_rules_init(&rules);
        rules.language_lookup = lookup;
        rules.max_tests = 8;
        int r = judge0_body_parse((const char *) data, size, &b, err, sizeof err);
        if (r < 0) {
                CHECK(r == -EBADMSG && err[0] != '\0');
                CHECK(b == NULL);
        } else
                check_body(b, &rules);

        /* The same bytes as a form body (application/x-www-form-urlencoded). */
        b = NULL;
        r = judge0_body_parse_form((const char *) data, size, &b, err, sizeof err);
        if (r < 0) {
                CHECK(r == -EBADMSG && strncmp(err, "malformed form: ", 16) == 0);
                CHECK(b == NULL);
        } else
                check_body(b, &rules);

        /* And as a multipart/form-data body whose boundary is "XyZ". */
        b = NULL;
        r = judge0_body_parse_multipart(
                "multipart/form-data; boundary=XyZ", (const char *) data, size, &b, err, sizeof err);
        if (r < 0) {
                CHECK(r == -EBADMSG && strncmp(err, "malformed ", 10) == 0);
                CHECK(b == NULL);
        } else
                check_body(b, &rules);
        return 0;
}

/* What the API does with a parsed body: its parameters, the submission, the batch. */
static void check_body(Judge0Body *b, const Judge0Rules *rules) {
        char err[256] = "";
        int r;
        static const char *const params[] = {"base64_encoded", "wait", "fields", "X-Auth-Token"};
        for (size_t i = 0; i < ELEMENTSOF(params); i++)
                (void) judge0_body_param(b, params[i]);

        decode_one(b, -1, false, rules);
        decode_one(b, -1, true, rules);

        size_t n = 0;
        r = judge0_body_batch_size(b, &n, err, sizeof err);
        if (r == 0) {
                for (size_t i = 0; i < n && i < MAX_BATCH_ITEMS; i++)
                        decode_one(b, (int) i, true, rules);
        } else
                CHECK(r == -EBADMSG && err[0] != '\0');

        judge0_body_free(b);
}
