/* SPDX-License-Identifier: MIT */
/* Submissions out, as Judge0's SubmissionSerializer writes them (Rails 5.2 +
 * ActiveModelSerializers, attributes adapter): one encoder per field, in Judge0's order.
 *
 * Values: decimals (times and time limits) are strings with the fewest digits and at
 * least one after the point ("0.001", "5.0"); measured times are rounded to milliseconds
 * as isolate reports them. Integers are numbers; -1 (or any negative value) is null.
 * created_at and finished_at: ISO 8601 UTC with milliseconds, null when 0 or negative
 * (not set yet). exit_code: 0 when a run finished (status 3-5, 7-12, 14) without one, as
 * Judge0 does for a time limit or a signal; else null when unknown. exit_signal: null when
 * not positive. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "json/json-internal.h"
#include "json/judge0.h"

typedef struct Encoder {
        const Judge0EncodeOptions *o;
        int precision; /* significant digits the reals written need */
} Encoder;

/* ---- values ---- */

/* Text: null when NULL (or, for the outputs, empty); base64 when asked. */
static json_t *text(const Bytes *b, bool base64, bool empty_is_null) {
        if (!b->data || (empty_is_null && b->len == 0))
                return json_null();
        if (base64) {
                _cleanup_free_ char *out = NULL;
                size_t n;
                if (base64_encode(b->data, b->len, &out, &n) < 0)
                        return NULL;
                return json_stringn_nocheck(out, n);
        }
        return j0_text(b->data, b->len);
}

static json_t *seconds(uint64_t usec) {
        char buf[32];
        j0_format_seconds(usec, buf);
        return json_string(buf);
}

/* A measured time: milliseconds, as isolate reports it. */
static json_t *measured(int64_t usec) {
        if (usec < 0)
                return json_null();
        return seconds(((uint64_t) usec + 500) / 1000 * 1000);
}

static json_t *integer_or_null(int64_t v) {
        return v < 0 ? json_null() : json_integer(v);
}

static json_t *timestamp(int64_t usec) {
        char buf[40];
        if (usec <= 0 || !j0_format_timestamp(usec, buf))
                return json_null();
        return json_string(buf);
}

static bool run_finished(int status_id) {
        return (status_id >= 3 && status_id <= 5) || (status_id >= 7 && status_id <= 12) || status_id == 14;
}

static json_t *exit_code(int status_id, int code) {
        if (code >= 0)
                return json_integer(code);
        return run_finished(status_id) ? json_integer(0) : json_null();
}

static json_t *exit_signal(int sig) {
        return sig > 0 ? json_integer(sig) : json_null();
}

static json_t *status(const Encoder *e, int id) {
        _cleanup_json_ json_t *o = json_object();
        const char *d = e->o->status_description ? e->o->status_description(id) : NULL;
        if (!o || j0_set(o, "id", json_integer(id)) < 0 || j0_set(o, "description", j0_cstring(d)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static const char *compare_name(CompareMode m) {
        switch (m) {
        case COMPARE_EXACT:
                return "exact";
        case COMPARE_NUMBERS:
                return "numbers";
        default:
                return "default";
        }
}

/* ---- which fields ---- */

static bool uses_extensions(const Submission *s) {
        return s->n_tests > 0 || s->compare != COMPARE_DEFAULT || s->tolerance != 0 || s->stop_on_failure ||
               s->checker.language_id != 0 || s->interactor.language_id != 0;
}

static bool selected(const Judge0Fields *f, const Submission *s, Judge0Field i) {
        if (i < _JUDGE0_FIELD_JUDGE0_MAX)
                return f->all || (f->mask & JUDGE0_FIELD_BIT(i));
        if (!f->all && (f->mask & JUDGE0_FIELD_BIT(i)))
                return true; /* named */
        if (!(f->all || f->defaults) || !uses_extensions(s))
                return false;
        switch (i) {
        case JUDGE0_FIELD_MEMORY_LIMIT_EXCEEDED:
        case JUDGE0_FIELD_SCORE:
                return true;
        case JUDGE0_FIELD_TESTS:
                return s->n_tests > 0;
        default:
                return f->all; /* compare, tolerance, stop_on_failure, checker, interactor: inputs, shown by "*" */
        }
}

/* ---- the test cases' results ---- */

/* Points and scores: null when not judged. */
static json_t *points(Encoder *e, double v) {
        if (v < 0)
                return json_null();
        e->precision = MAX(e->precision, j0_real_precision(v));
        return json_real(v);
}

static json_t *test_result(Encoder *e, const Submission *s, const SubmissionTest *t) {
        bool b64 = e->o->base64_encoded;
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return NULL;
        /* Judge0's order for the fields a test has. */
        if ((selected(&e->o->fields, s, JUDGE0_FIELD_STDIN) &&
                    j0_set(o, "stdin", text(&t->stdin_data, b64, false)) < 0) ||
                (selected(&e->o->fields, s, JUDGE0_FIELD_EXPECTED_OUTPUT) &&
                        j0_set(o, "expected_output", text(&t->expected_output, b64, false)) < 0) ||
                j0_set(o, "stdout", text(&t->stdout_data, b64, true)) < 0 ||
                j0_set(o, "time", measured(t->time_usec)) < 0 ||
                j0_set(o, "memory", integer_or_null(t->memory_kib)) < 0 ||
                j0_set(o, "stderr", text(&t->stderr_data, b64, true)) < 0 ||
                j0_set(o, "exit_code", exit_code(t->status_id, t->exit_code)) < 0 ||
                j0_set(o, "exit_signal", exit_signal(t->exit_signal)) < 0 ||
                j0_set(o, "message", text(&t->message, b64, true)) < 0 ||
                j0_set(o, "wall_time", measured(t->wall_time_usec)) < 0 ||
                j0_set(o, "status", status(e, t->status_id)) < 0 ||
                j0_set(o, "memory_limit_exceeded", json_boolean(t->memory_limit_exceeded)) < 0 ||
                j0_set(o, "points", points(e, t->points)) < 0)
                return NULL;
        return TAKE_PTR(o);
}

/* ---- one encoder per field ---- */

typedef json_t *(*FieldEncoder)(Encoder *e, const Submission *s);

static json_t *f_source_code(Encoder *e, const Submission *s) {
        return text(&s->source_code, e->o->base64_encoded, false);
}
static json_t *f_language_id(Encoder *e, const Submission *s) {
        return json_integer(s->language_id);
}
static json_t *f_stdin(Encoder *e, const Submission *s) {
        return text(&s->stdin_data, e->o->base64_encoded, false);
}
static json_t *f_expected_output(Encoder *e, const Submission *s) {
        return text(&s->expected_output, e->o->base64_encoded, false);
}
static json_t *f_stdout(Encoder *e, const Submission *s) {
        return text(&s->stdout_data, e->o->base64_encoded, true);
}
static json_t *f_status_id(Encoder *e, const Submission *s) {
        return json_integer(s->status_id);
}
static json_t *f_created_at(Encoder *e, const Submission *s) {
        return timestamp(s->created_at_usec);
}
static json_t *f_finished_at(Encoder *e, const Submission *s) {
        return timestamp(s->finished_at_usec);
}
static json_t *f_time(Encoder *e, const Submission *s) {
        return measured(s->time_usec);
}
static json_t *f_memory(Encoder *e, const Submission *s) {
        return integer_or_null(s->memory_kib);
}
static json_t *f_stderr(Encoder *e, const Submission *s) {
        return text(&s->stderr_data, e->o->base64_encoded, true);
}
static json_t *f_token(Encoder *e, const Submission *s) {
        return s->token[0] ? j0_cstring(s->token) : json_null();
}
static json_t *f_number_of_runs(Encoder *e, const Submission *s) {
        return json_integer(s->number_of_runs);
}
static json_t *f_cpu_time_limit(Encoder *e, const Submission *s) {
        return seconds(s->cpu_time_limit_usec);
}
static json_t *f_cpu_extra_time(Encoder *e, const Submission *s) {
        return seconds(s->cpu_extra_time_usec);
}
static json_t *f_wall_time_limit(Encoder *e, const Submission *s) {
        return seconds(s->wall_time_limit_usec);
}
static json_t *f_memory_limit(Encoder *e, const Submission *s) {
        return json_integer((json_int_t) s->memory_limit_kib);
}
static json_t *f_stack_limit(Encoder *e, const Submission *s) {
        return json_integer((json_int_t) s->stack_limit_kib);
}
static json_t *f_max_processes_and_or_threads(Encoder *e, const Submission *s) {
        return json_integer(s->max_processes_and_or_threads);
}
static json_t *f_enable_per_process_and_thread_time_limit(Encoder *e, const Submission *s) {
        return json_boolean(s->enable_per_process_and_thread_time_limit);
}
static json_t *f_enable_per_process_and_thread_memory_limit(Encoder *e, const Submission *s) {
        return json_boolean(s->enable_per_process_and_thread_memory_limit);
}
static json_t *f_max_file_size(Encoder *e, const Submission *s) {
        return json_integer((json_int_t) s->max_file_size_kib);
}
static json_t *f_compile_output(Encoder *e, const Submission *s) {
        return text(&s->compile_output, e->o->base64_encoded, true);
}
static json_t *f_exit_code(Encoder *e, const Submission *s) {
        return exit_code(s->status_id, s->exit_code);
}
static json_t *f_exit_signal(Encoder *e, const Submission *s) {
        return exit_signal(s->exit_signal);
}
static json_t *f_message(Encoder *e, const Submission *s) {
        return text(&s->message, e->o->base64_encoded, true);
}
static json_t *f_wall_time(Encoder *e, const Submission *s) {
        return measured(s->wall_time_usec);
}
static json_t *f_compiler_options(Encoder *e, const Submission *s) {
        return text(&s->compiler_options, false, false);
}
static json_t *f_command_line_arguments(Encoder *e, const Submission *s) {
        return text(&s->command_line_arguments, false, false);
}
static json_t *f_redirect_stderr_to_stdout(Encoder *e, const Submission *s) {
        return json_boolean(s->redirect_stderr_to_stdout);
}
static json_t *f_callback_url(Encoder *e, const Submission *s) {
        return text(&s->callback_url, false, false);
}
static json_t *f_additional_files(Encoder *e, const Submission *s) {
        return text(&s->additional_files, true, true); /* always base64 */
}
static json_t *f_enable_network(Encoder *e, const Submission *s) {
        return json_boolean(s->enable_network);
}
static json_t *f_status(Encoder *e, const Submission *s) {
        return status(e, s->status_id);
}
static json_t *f_language(Encoder *e, const Submission *s) {
        _cleanup_json_ json_t *o = json_object();
        const char *name = e->o->language_name ? e->o->language_name(e->o->userdata, s->language_id) : NULL;
        if (!o || j0_set(o, "id", json_integer(s->language_id)) < 0 ||
                j0_set(o, "name", j0_cstring(name)) < 0)
                return NULL;
        return TAKE_PTR(o);
}
static json_t *f_compare(Encoder *e, const Submission *s) {
        return json_string(compare_name(s->compare));
}
static json_t *f_tolerance(Encoder *e, const Submission *s) {
        e->precision = MAX(e->precision, j0_real_precision(s->tolerance));
        return json_real(s->tolerance);
}
static json_t *f_stop_on_failure(Encoder *e, const Submission *s) {
        return json_boolean(s->stop_on_failure);
}
static json_t *f_memory_limit_exceeded(Encoder *e, const Submission *s) {
        return json_boolean(s->memory_limit_exceeded);
}
static json_t *program(Encoder *e, const SubmissionProgram *p) {
        if (p->language_id == 0)
                return json_null();
        _cleanup_json_ json_t *o = json_object();
        if (!o || j0_set(o, "source_code", text(&p->source_code, e->o->base64_encoded, false)) < 0 ||
                j0_set(o, "language_id", json_integer(p->language_id)) < 0 ||
                j0_set(o, "cpu_time_limit", seconds(p->cpu_time_limit_usec)) < 0 ||
                j0_set(o, "wall_time_limit", seconds(p->wall_time_limit_usec)) < 0 ||
                j0_set(o, "memory_limit", json_integer((json_int_t) p->memory_limit_kib)) < 0)
                return NULL;
        return TAKE_PTR(o);
}
static json_t *f_checker(Encoder *e, const Submission *s) {
        return program(e, &s->checker);
}
static json_t *f_interactor(Encoder *e, const Submission *s) {
        return program(e, &s->interactor);
}
static json_t *f_score(Encoder *e, const Submission *s) {
        return points(e, s->score);
}
static json_t *f_tests(Encoder *e, const Submission *s) {
        if (s->n_tests == 0)
                return json_null();
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; i < s->n_tests; i++)
                if (j0_append(a, test_result(e, s, &s->tests[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

static const FieldEncoder encoders[_JUDGE0_FIELD_MAX] = {
        [JUDGE0_FIELD_SOURCE_CODE] = f_source_code,
        [JUDGE0_FIELD_LANGUAGE_ID] = f_language_id,
        [JUDGE0_FIELD_STDIN] = f_stdin,
        [JUDGE0_FIELD_EXPECTED_OUTPUT] = f_expected_output,
        [JUDGE0_FIELD_STDOUT] = f_stdout,
        [JUDGE0_FIELD_STATUS_ID] = f_status_id,
        [JUDGE0_FIELD_CREATED_AT] = f_created_at,
        [JUDGE0_FIELD_FINISHED_AT] = f_finished_at,
        [JUDGE0_FIELD_TIME] = f_time,
        [JUDGE0_FIELD_MEMORY] = f_memory,
        [JUDGE0_FIELD_STDERR] = f_stderr,
        [JUDGE0_FIELD_TOKEN] = f_token,
        [JUDGE0_FIELD_NUMBER_OF_RUNS] = f_number_of_runs,
        [JUDGE0_FIELD_CPU_TIME_LIMIT] = f_cpu_time_limit,
        [JUDGE0_FIELD_CPU_EXTRA_TIME] = f_cpu_extra_time,
        [JUDGE0_FIELD_WALL_TIME_LIMIT] = f_wall_time_limit,
        [JUDGE0_FIELD_MEMORY_LIMIT] = f_memory_limit,
        [JUDGE0_FIELD_STACK_LIMIT] = f_stack_limit,
        [JUDGE0_FIELD_MAX_PROCESSES_AND_OR_THREADS] = f_max_processes_and_or_threads,
        [JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_TIME_LIMIT] = f_enable_per_process_and_thread_time_limit,
        [JUDGE0_FIELD_ENABLE_PER_PROCESS_AND_THREAD_MEMORY_LIMIT] =
                f_enable_per_process_and_thread_memory_limit,
        [JUDGE0_FIELD_MAX_FILE_SIZE] = f_max_file_size,
        [JUDGE0_FIELD_COMPILE_OUTPUT] = f_compile_output,
        [JUDGE0_FIELD_EXIT_CODE] = f_exit_code,
        [JUDGE0_FIELD_EXIT_SIGNAL] = f_exit_signal,
        [JUDGE0_FIELD_MESSAGE] = f_message,
        [JUDGE0_FIELD_WALL_TIME] = f_wall_time,
        [JUDGE0_FIELD_COMPILER_OPTIONS] = f_compiler_options,
        [JUDGE0_FIELD_COMMAND_LINE_ARGUMENTS] = f_command_line_arguments,
        [JUDGE0_FIELD_REDIRECT_STDERR_TO_STDOUT] = f_redirect_stderr_to_stdout,
        [JUDGE0_FIELD_CALLBACK_URL] = f_callback_url,
        [JUDGE0_FIELD_ADDITIONAL_FILES] = f_additional_files,
        [JUDGE0_FIELD_ENABLE_NETWORK] = f_enable_network,
        [JUDGE0_FIELD_STATUS] = f_status,
        [JUDGE0_FIELD_LANGUAGE] = f_language,
        [JUDGE0_FIELD_COMPARE] = f_compare,
        [JUDGE0_FIELD_TOLERANCE] = f_tolerance,
        [JUDGE0_FIELD_STOP_ON_FAILURE] = f_stop_on_failure,
        [JUDGE0_FIELD_MEMORY_LIMIT_EXCEEDED] = f_memory_limit_exceeded,
        [JUDGE0_FIELD_TESTS] = f_tests,
        [JUDGE0_FIELD_CHECKER] = f_checker,
        [JUDGE0_FIELD_INTERACTOR] = f_interactor,
        [JUDGE0_FIELD_SCORE] = f_score,
};

static json_t *build(Encoder *e, const Submission *s) {
        if (!s)
                return json_null();
        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return NULL;
        for (int f = 0; f < _JUDGE0_FIELD_MAX; f++)
                if (selected(&e->o->fields, s, (Judge0Field) f) &&
                        j0_set(o, judge0_field_name((Judge0Field) f), encoders[f](e, s)) < 0)
                        return NULL;
        return TAKE_PTR(o);
}

int judge0_submission_encode(const Submission *s, const Judge0EncodeOptions *o, char **ret) {
        Encoder e = {.o = o, .precision = 1};
        _cleanup_json_ json_t *v = build(&e, s);
        if (!v)
                return -ENOMEM;
        return j0_dump(v, e.precision, ret);
}

static json_t *build_array(Encoder *e, const Submission *const *subs, size_t n) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return NULL;
        for (size_t i = 0; i < n; i++)
                if (j0_append(a, build(e, subs[i])) < 0)
                        return NULL;
        return TAKE_PTR(a);
}

int judge0_submission_batch_encode(
        const Submission *const *subs, size_t n, const Judge0EncodeOptions *o, char **ret) {
        Encoder e = {.o = o, .precision = 1};
        _cleanup_json_ json_t *v = json_object();
        if (!v || j0_set(v, "submissions", build_array(&e, subs, n)) < 0)
                return -ENOMEM;
        return j0_dump(v, e.precision, ret);
}

static json_t *page_number(uint64_t p) {
        return p == 0 ? json_null() : json_integer((json_int_t) p);
}

int judge0_submission_list_encode(const Submission *const *subs, size_t n, const Judge0Page *page,
        const Judge0EncodeOptions *o, char **ret) {
        Encoder e = {.o = o, .precision = 1};
        _cleanup_json_ json_t *v = json_object(), *meta = json_object();
        if (!v || !meta)
                return -ENOMEM;
        if (j0_set(meta, "current_page", json_integer((json_int_t) page->current_page)) < 0 ||
                j0_set(meta, "next_page", page_number(page->next_page)) < 0 ||
                j0_set(meta, "prev_page", page_number(page->prev_page)) < 0 ||
                j0_set(meta, "total_pages", json_integer((json_int_t) page->total_pages)) < 0 ||
                j0_set(meta, "total_count", json_integer((json_int_t) page->total_count)) < 0 ||
                j0_set(v, "submissions", build_array(&e, subs, n)) < 0 ||
                j0_set(v, "meta", TAKE_PTR(meta)) < 0)
                return -ENOMEM;
        return j0_dump(v, e.precision, ret);
}

int judge0_purged_encode(const Submission *s, const Judge0EncodeOptions *o, char **ret) {
        const Encoder e = {.o = o};
        _cleanup_json_ json_t *v = json_object();
        if (!v || j0_set(v, "error", j0_cstring("submission purged by the retention policy")) < 0 ||
                j0_set(v, "token", j0_cstring(s->token)) < 0 ||
                j0_set(v, "status", status(&e, s->status_id)) < 0 ||
                j0_set(v, "finished_at", timestamp(s->finished_at_usec)) < 0 ||
                j0_set(v, "purged_at", timestamp(s->purged_at_usec)) < 0)
                return -ENOMEM;
        return j0_dump(v, 0, ret);
}

int judge0_token_encode(const char *token, char **ret) {
        _cleanup_json_ json_t *v = json_object();
        if (!v || j0_set(v, "token", j0_cstring(token)) < 0)
                return -ENOMEM;
        return j0_dump(v, 0, ret);
}

int judge0_batch_created_encode(const Judge0BatchResult *items, size_t n, char **ret) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *item;
                if (items[i].token) {
                        item = json_object();
                        if (!item || j0_set(item, "token", j0_cstring(items[i].token)) < 0) {
                                json_decref(item);
                                return -ENOMEM;
                        }
                } else if (items[i].errors)
                        item = json_incref(j0_errors_json(items[i].errors));
                else
                        item = json_object();
                if (j0_append(a, item) < 0)
                        return -ENOMEM;
        }
        return j0_dump(a, 0, ret);
}

/* ---- live events ---- */

int judge0_event_status_encode(const char *token, int status_id, const Judge0EncodeOptions *o, char **ret) {
        Encoder e = {.o = o, .precision = 1};
        _cleanup_json_ json_t *v = json_object();
        if (!v || j0_set(v, "token", j0_cstring(token)) < 0 ||
                j0_set(v, "status", status(&e, status_id)) < 0)
                return -ENOMEM;
        return j0_dump(v, 0, ret);
}

int judge0_event_test_encode(
        const char *token, size_t index, const SubmissionTest *t, const Judge0EncodeOptions *o, char **ret) {
        Encoder e = {.o = o, .precision = 1};
        _cleanup_json_ json_t *v = json_object();
        if (!v || j0_set(v, "token", j0_cstring(token)) < 0 ||
                j0_set(v, "index", json_integer((json_int_t) index)) < 0 ||
                j0_set(v, "status", status(&e, t->status_id)) < 0 ||
                j0_set(v, "time", measured(t->time_usec)) < 0 ||
                j0_set(v, "wall_time", measured(t->wall_time_usec)) < 0 ||
                j0_set(v, "memory", integer_or_null(t->memory_kib)) < 0 ||
                j0_set(v, "exit_code", exit_code(t->status_id, t->exit_code)) < 0 ||
                j0_set(v, "exit_signal", exit_signal(t->exit_signal)) < 0 ||
                j0_set(v, "memory_limit_exceeded", json_boolean(t->memory_limit_exceeded)) < 0)
                return -ENOMEM;
        return j0_dump(v, e.precision, ret);
}
