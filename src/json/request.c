/* SPDX-License-Identifier: MIT */
/* Create requests: a JSON body into a Submission, validated the way Judge0 CE 1.13.1 does
 * (app/models/submission.rb): defaults for what is null or absent (an explicit 0 or false
 * is kept), then the validations in Judge0's order, with Rails' messages. Rails' errors
 * hash keeps a field where it first failed, so the order of the checks below is the order
 * of the 422 map:
 *   1. source_code       presence, or absence for a project (language 89)
 *   2. additional_files  presence for a project
 *   3. language_id       presence
 *   4. number_of_runs, cpu_time_limit, cpu_extra_time, wall_time_limit, memory_limit,
 *      stack_limit, max_processes_and_or_threads   numericality and range
 *   5. enable_per_process_and_thread_{time,memory}_limit   "this option cannot be enabled"
 *   6. max_file_size     numericality and range
 *   7. compiler_options, command_line_arguments   length (512 characters)
 *   8. language_id       exists, not archived
 *   9. compiler_options, command_line_arguments, callback_url, additional_files,
 *      enable_network    allowed by the configuration
 *  10. stdin, expected_output, redirect_stderr_to_stdout   (types only; Judge0 has no rule)
 *  11. our extensions: tests, compare, tolerance, stop_on_failure, checker, interactor
 * A value of the wrong type is reported where the field's first rule is. An integer field
 * is checked as the integer it becomes (Judge0 checks 2047.5 against its minimum of 2048,
 * then stores 2047). */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base64.h"
#include "json/json-internal.h"
#include "model/limits.h"
#include "json/judge0.h"

#define MAX_OPTIONS_CHARS 512 /* compiler_options and command_line_arguments (Rails: characters) */

struct Judge0Body {
        json_t *root; /* an object */
};

#define USEC UINT64_C(1000000)
void judge0_rules_init(Judge0Rules *r) {
        *r = (Judge0Rules){
                .cpu_time_limit_usec = JUDGE0_CPU_TIME_LIMIT * USEC,
                .max_cpu_time_limit_usec = JUDGE0_MAX_CPU_TIME_LIMIT * USEC,
                .cpu_extra_time_usec = JUDGE0_CPU_EXTRA_TIME * USEC,
                .max_cpu_extra_time_usec = JUDGE0_MAX_CPU_EXTRA_TIME * USEC,
                .wall_time_limit_usec = JUDGE0_WALL_TIME_LIMIT * USEC,
                .max_wall_time_limit_usec = JUDGE0_MAX_WALL_TIME_LIMIT * USEC,
                .memory_limit_kib = JUDGE0_MEMORY_LIMIT,
                .max_memory_limit_kib = JUDGE0_MAX_MEMORY_LIMIT,
                .stack_limit_kib = JUDGE0_STACK_LIMIT,
                .max_stack_limit_kib = JUDGE0_MAX_STACK_LIMIT,
                .max_processes_and_or_threads = JUDGE0_MAX_PROCESSES_AND_OR_THREADS,
                .max_max_processes_and_or_threads = JUDGE0_MAX_MAX_PROCESSES_AND_OR_THREADS,
                .allow_enable_per_process_and_thread_time_limit = true,
                .allow_enable_per_process_and_thread_memory_limit = true,
                .max_file_size_kib = JUDGE0_MAX_FILE_SIZE,
                .max_max_file_size_kib = JUDGE0_MAX_MAX_FILE_SIZE,
                .number_of_runs = JUDGE0_NUMBER_OF_RUNS,
                .max_number_of_runs = JUDGE0_MAX_NUMBER_OF_RUNS,
                .allow_enable_network = true,
                .enable_compiler_options = true,
                .enable_command_line_arguments = true,
                .enable_callbacks = true,
                .enable_additional_files = true,
                .max_tests = JUDGE0_DEFAULT_MAX_TESTS,
        };
}

_printf_(3, 4) static void set_errbuf(char *errbuf, size_t errlen, const char *fmt, ...) {
        va_list ap;
        if (!errbuf || errlen == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
}

/* ---- the body ---- */

int judge0_body_parse(const char *data, size_t len, Judge0Body **ret, char *errbuf, size_t errlen) {
        _cleanup_json_ json_t *root = NULL;
        bool empty = true;

        for (size_t i = 0; i < len && empty; i++)
                empty = data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r';
        if (empty) {
                root = json_object();
                if (!root)
                        return -ENOMEM;
        } else {
                int r = j0_load_body(data, len, &root, errbuf, errlen);
                if (r < 0)
                        return r;
                if (!json_is_object(root)) {
                        set_errbuf(errbuf, errlen, "the body is not a JSON object");
                        return -EBADMSG;
                }
        }

        return judge0_body_from_json(TAKE_PTR(root), ret);
}

const json_t *judge0_body_json(const Judge0Body *b) {
        return b->root;
}

int judge0_body_from_json(json_t *root, Judge0Body **ret) {
        Judge0Body *b = malloc(sizeof *b);
        if (!b) {
                json_decref(root);
                return -ENOMEM;
        }
        b->root = root;
        *ret = b;
        return 0;
}

Judge0Body *judge0_body_free(Judge0Body *b) {
        if (b) {
                json_decref(b->root);
                free(b);
        }
        return NULL;
}

const char *judge0_body_param(const Judge0Body *b, const char *name) {
        return json_string_value(json_object_get(b->root, name));
}

/* ---- reading values ---- */

typedef enum Read {
        READ_ABSENT, /* absent, null, or (for numbers and booleans) a blank string */
        READ_OK,
        READ_INVALID, /* the message is added (or, for an allocation, d->r set) */
} Read;

typedef struct Decoder {
        const json_t *obj;
        bool base64;
        const Judge0Rules *rules;
        Judge0Errors *errors;
        bool failed;
        int r; /* a failure that is not the request's fault (-ENOMEM) */
        const char *prefix; /* an object's fields are named "<prefix>.<field>" */
} Decoder;

static void nomem(Decoder *d, int r) {
        if (d->r == 0)
                d->r = r;
}

static void fail(Decoder *d, const char *field, const char *message) {
        char name[128];
        d->failed = true;
        if (d->prefix) {
                snprintf(name, sizeof name, "%s.%s", d->prefix, field);
                field = name;
        }
        int r = judge0_errors_add(d->errors, field, message);
        if (r < 0)
                nomem(d, r);
}

_printf_(3, 4) static void failf(Decoder *d, const char *field, const char *fmt, ...) {
        va_list ap;
        char *m;

        va_start(ap, fmt);
        int n = vasprintf(&m, fmt, ap);
        va_end(ap);
        if (n < 0) {
                d->failed = true;
                nomem(d, -ENOMEM);
                return;
        }
        fail(d, field, m);
        free(m);
}

static const json_t *get(const json_t *obj, const char *key) {
        const json_t *v = json_object_get(obj, key);
        return json_is_null(v) ? NULL : v;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Rails' blank?: null, or nothing but whitespace. */
static bool blank(const Bytes *b) {
        if (!b->data)
                return true;
        for (size_t i = 0; i < b->len; i++)
                if (!is_space(b->data[i]))
                        return false;
        return true;
}

/* A text field: a string (or an integer, which Rails turns into its digits), base64-decoded
 * when asked. */
static Read read_text(
        Decoder *d, const json_t *obj, const char *key, const char *field, bool base64, Bytes *ret) {
        const json_t *v = get(obj, key);
        char num[32];
        const char *s;
        size_t len;

        if (!v)
                return READ_ABSENT;
        if (json_is_string(v)) {
                s = json_string_value(v);
                len = json_string_length(v);
        } else if (json_is_integer(v)) {
                int n = snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                s = num;
                len = (size_t) n;
        } else {
                fail(d, field, "is not a string");
                return READ_INVALID;
        }

        if (base64) {
                int r = base64_decode(s, len, &ret->data, &ret->len);
                if (r == -EINVAL) {
                        fail(d, field, "is not valid base64");
                        return READ_INVALID;
                }
                if (r < 0) {
                        nomem(d, r);
                        return READ_INVALID;
                }
                return READ_OK;
        }
        char *copy = malloc(len + 1);
        if (!copy) {
                nomem(d, -ENOMEM);
                return READ_INVALID;
        }
        memcpy(copy, s, len);
        copy[len] = '\0';
        ret->data = copy;
        ret->len = len;
        return READ_OK;
}

/* A number as Rails' numericality takes it: a JSON number, or a string holding one
 * (blanks around it allowed; a blank string is null, as Rails casts it). No hex, no
 * "Infinity", no "NaN". Returns READ_INVALID without a message. */
static Read read_number(const json_t *v, double *ret) {
        if (!v)
                return READ_ABSENT;
        if (json_is_integer(v)) {
                *ret = (double) json_integer_value(v);
                return READ_OK;
        }
        if (json_is_real(v)) {
                *ret = json_real_value(v);
                return READ_OK;
        }
        if (!json_is_string(v))
                return READ_INVALID;

        const char *s = json_string_value(v);
        size_t len = json_string_length(v), i = 0, start, digits = 0;
        while (i < len && is_space(s[i]))
                i++;
        if (i == len)
                return READ_ABSENT;
        start = i;
        if (s[i] == '+' || s[i] == '-')
                i++;
        for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                digits++;
        if (i < len && s[i] == '.') {
                size_t frac = 0;
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                        frac++;
                if (frac == 0)
                        return READ_INVALID; /* "1." is not a Ruby Float */
                digits += frac;
        }
        if (digits == 0)
                return READ_INVALID;
        if (i < len && (s[i] == 'e' || s[i] == 'E')) {
                size_t exp = 0;
                i++;
                if (i < len && (s[i] == '+' || s[i] == '-'))
                        i++;
                for (; i < len && s[i] >= '0' && s[i] <= '9'; i++)
                        exp++;
                if (exp == 0)
                        return READ_INVALID;
        }
        size_t end = i;
        while (i < len && is_space(s[i]))
                i++;
        if (i != len)
                return READ_INVALID;

        /* strtod() reads exactly what was checked: copy it so that it cannot read on. */
        char buf[64];
        _cleanup_free_ char *big = NULL;
        char *p = buf;
        if (end - start >= sizeof buf) {
                p = big = malloc(end - start + 1);
                if (!big)
                        return READ_INVALID;
        }
        memcpy(p, s + start, end - start);
        p[end - start] = '\0';
        *ret = strtod(p, NULL);
        return READ_OK;
}

/* A boolean: JSON true/false, 0/1, or the strings Rails casts ("true", "f", "off"...; a
 * blank string is null). Anything else is READ_INVALID, without a message. */
static Read read_bool(const json_t *v, bool *ret) {
        static const char *const yes[] = {"true", "TRUE", "t", "T", "1", "on", "ON"};
        static const char *const no[] = {"false", "FALSE", "f", "F", "0", "off", "OFF"};

        if (!v)
                return READ_ABSENT;
        if (json_is_boolean(v)) {
                *ret = json_is_true(v);
                return READ_OK;
        }
        if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
                *ret = json_integer_value(v) == 1;
                return READ_OK;
        }
        if (!json_is_string(v))
                return READ_INVALID;
        const char *s = json_string_value(v);
        size_t len = json_string_length(v);
        Bytes b = {.data = (char *) s, .len = len};
        if (blank(&b))
                return READ_ABSENT;
        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strlen(yes[i]) == len && memcmp(yes[i], s, len) == 0) {
                        *ret = true;
                        return READ_OK;
                }
                if (strlen(no[i]) == len && memcmp(no[i], s, len) == 0) {
                        *ret = false;
                        return READ_OK;
                }
        }
        return READ_INVALID;
}

/* ---- the rules ---- */

/* A numeric field with Judge0's range: a literal lower bound (0, 1, 2048) and a configured
 * maximum. Seconds are decimal, stored in microseconds. */
typedef struct Range {
        const char *key;
        bool seconds;
        bool exclusive_min; /* "greater than" rather than "greater than or equal to" */
        uint64_t min;
        uint64_t def, max; /* microseconds for seconds */
        uint64_t *dst64;
        uint32_t *dst32;
        /* 0 would turn the limit off (Judge0 passes it to isolate as "none"): it means
         * the maximum instead. */
        bool zero_is_max;
} Range;

static void decode_range(Decoder *d, const Range *f) {
        double scale = f->seconds ? 1e6 : 1.0, v;
        Read st = read_number(get(d->obj, f->key), &v);

        if (st == READ_INVALID) {
                fail(d, f->key, "is not a number");
                return;
        }
        if (st == READ_ABSENT)
                v = (double) f->def / scale; /* Rails validates the default too */
        else if (!f->seconds)
                v = trunc(v); /* the integer the column holds: Rails checks 0.5 against "greater
                               * than 0", then stores 0 */

        if (f->exclusive_min ? !(v > (double) f->min) : !(v >= (double) f->min)) {
                failf(d, f->key, "must be greater than %s%" PRIu64, f->exclusive_min ? "" : "or equal to ",
                        f->min);
                return;
        }
        if (!(v <= (double) f->max / scale)) {
                char buf[32];
                /* Judge0's maxima of times are Ruby Floats ("15.0"), the others Integers. */
                if (f->seconds)
                        j0_format_seconds(f->max, buf);
                else
                        snprintf(buf, sizeof buf, "%" PRIu64, f->max);
                failf(d, f->key, "must be less than or equal to %s", buf);
                return;
        }

        uint64_t out = f->def;
        if (st == READ_OK)
                out = f->seconds ? (uint64_t) llround(v * scale) : (uint64_t) v;
        if (out == 0 && f->zero_is_max)
                out = f->max;
        out = MIN(out, f->max);
        if (f->dst64)
                *f->dst64 = out;
        else
                *f->dst32 = (uint32_t) out;
}

static void decode_flag(
        Decoder *d, const char *key, bool def, bool allowed, const char *refusal, bool *dst) {
        bool v = def;
        Read st = read_bool(get(d->obj, key), &v);
        if (st == READ_INVALID) {
                fail(d, key, "is not a boolean");
                return;
        }
        if (v && !allowed) {
                fail(d, key, refusal);
                return;
        }
        *dst = v;
}

typedef struct LanguageRef {
        Read state;
        bool in_range; /* an int */
        int id;
        double value; /* as given, for the message when not an int */
        bool found;
        Judge0Language lang;
} LanguageRef;

static void read_language(Decoder *d, LanguageRef *ret) {
        const json_t *v = get(d->obj, "language_id");
        double x = 0;

        *ret = (LanguageRef){.state = read_number(v, &x)};
        if (ret->state != READ_OK)
                return;
        if (json_is_integer(v)) {
                json_int_t i = json_integer_value(v);
                ret->in_range = i >= INT32_MIN && i <= INT32_MAX;
                ret->id = ret->in_range ? (int) i : 0;
                ret->value = (double) i;
        } else {
                /* Rails casts 71.9 and "71.9" to 71 */
                x = trunc(x);
                ret->in_range = x >= INT32_MIN && x <= INT32_MAX;
                ret->id = ret->in_range ? (int) x : 0;
                ret->value = x;
        }
        if (!ret->in_range || !d->rules->language_lookup)
                return;
        int r = d->rules->language_lookup(d->rules->userdata, ret->id, &ret->lang);
        if (r >= 0)
                ret->found = true;
        else if (r != -ENOENT)
                nomem(d, r);
}

static bool starts_with_word(const char *name, const char *word) {
        size_t n = strlen(word);
        return strncmp(name, word, n) == 0 && name[n] == ' ';
}

static void compiler_options_allowed(Decoder *d, const LanguageRef *lang) {
        const char *const *allowed = d->rules->allowed_languages_for_compiler_options;

        if (!d->rules->enable_compiler_options) {
                fail(d, "compiler_options", "setting compiler options is not allowed");
                return;
        }
        if (!lang->found)
                return;
        if (!lang->lang.compile_cmd) {
                fail(d, "compiler_options",
                        "setting compiler options is only allowed for compiled languages");
                return;
        }
        if (!allowed || !allowed[0])
                return;
        size_t n = 0, size = 1;
        for (; allowed[n]; n++) {
                if (lang->lang.name && starts_with_word(lang->lang.name, allowed[n]))
                        return;
                size += strlen(allowed[n]) + 5; /* ", " or " and " */
        }
        /* "C, C++ and Java" */
        _cleanup_free_ char *list = malloc(size);
        if (!list) {
                nomem(d, -ENOMEM);
                return;
        }
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
                size_t a = strlen(sep), b = strlen(allowed[i]);
                memcpy(list + o, sep, a);
                memcpy(list + o + a, allowed[i], b);
                o += a + b;
        }
        list[o] = '\0';
        failf(d, "compiler_options", "setting compiler options is only allowed for %s", list);
}

static void check_length(Decoder *d, const char *key, const Bytes *b) {
        if (b->data && j0_utf8_chars(b->data, b->len) > MAX_OPTIONS_CHARS)
                failf(d, key, "is too long (maximum is %d characters)", MAX_OPTIONS_CHARS);
}

static void init_test(SubmissionTest *t) {
        *t = (SubmissionTest){
                .status_id = 1,
                .time_usec = -1,
                .wall_time_usec = -1,
                .memory_kib = -1,
                .exit_code = -1,
                .exit_signal = -1,
                .points = -1,
        };
}

static void decode_tests(Decoder *d, Submission *s) {
        const json_t *v = get(d->obj, "tests");
        char field[64];

        if (!v)
                return;
        if (!json_is_array(v)) {
                fail(d, "tests", "is not an array");
                return;
        }
        size_t n = json_array_size(v);
        if (n == 0)
                return;
        if (n > d->rules->max_tests) {
                failf(d, "tests", "is too long (maximum is %" PRIu32 " test cases)", d->rules->max_tests);
                return;
        }
        s->tests = calloc(n, sizeof *s->tests);
        if (!s->tests) {
                nomem(d, -ENOMEM);
                return;
        }
        s->n_tests = n;
        for (size_t i = 0; i < n; i++) {
                SubmissionTest *t = &s->tests[i];
                const json_t *item = json_array_get(v, i);

                init_test(t);
                if (!json_is_object(item)) {
                        snprintf(field, sizeof field, "tests[%zu]", i);
                        fail(d, field, "is not an object");
                        continue;
                }
                snprintf(field, sizeof field, "tests[%zu].stdin", i);
                read_text(d, item, "stdin", field, d->base64, &t->stdin_data);
                snprintf(field, sizeof field, "tests[%zu].expected_output", i);
                read_text(d, item, "expected_output", field, d->base64, &t->expected_output);
        }
}

static void decode_extensions(Decoder *d, Submission *s) {
        decode_tests(d, s);
        if (s->n_tests > 0) {
                if (!blank(&s->stdin_data))
                        fail(d, "stdin", "must be blank when tests are given");
                if (!blank(&s->expected_output))
                        fail(d, "expected_output", "must be blank when tests are given");
        }

        const json_t *v = get(d->obj, "compare");
        if (v) {
                static const struct {
                        const char *name;
                        CompareMode mode;
                } modes[] = {
                        {"default", COMPARE_DEFAULT},
                        {"exact", COMPARE_EXACT},
                        {"numbers", COMPARE_NUMBERS},
                };
                size_t i = 0;
                for (; i < ELEMENTSOF(modes); i++)
                        if (json_is_string(v) && strcmp(json_string_value(v), modes[i].name) == 0 &&
                                json_string_length(v) == strlen(modes[i].name))
                                break;
                if (i < ELEMENTSOF(modes))
                        s->compare = modes[i].mode;
                else
                        fail(d, "compare", "is not included in the list");
        }

        double tol;
        Read st = read_number(get(d->obj, "tolerance"), &tol);
        if (st == READ_INVALID || (st == READ_OK && !isfinite(tol)))
                fail(d, "tolerance", "is not a number");
        else if (st == READ_OK && tol < 0)
                fail(d, "tolerance", "must be greater than or equal to 0");
        else if (st == READ_OK && tol > 0 && s->compare != COMPARE_NUMBERS)
                fail(d, "tolerance", "is only allowed when compare is numbers");
        else if (st == READ_OK)
                s->tolerance = tol;

        bool stop = false;
        if (read_bool(get(d->obj, "stop_on_failure"), &stop) == READ_INVALID)
                fail(d, "stop_on_failure", "is not a boolean");
        else
                s->stop_on_failure = stop;
}

/* "checker" or "interactor": {"source_code", "language_id", and optionally its own
 * "cpu_time_limit", "wall_time_limit", "memory_limit"}. */
static void decode_program(Decoder *d, const char *key, SubmissionProgram *p) {
        const json_t *v = get(d->obj, key);
        LanguageRef lang;

        if (!v)
                return;
        if (!json_is_object(v)) {
                fail(d, key, "is not an object");
                return;
        }
        Decoder sub = {.obj = v, .base64 = d->base64, .rules = d->rules, .errors = d->errors, .prefix = key};
        read_language(&sub, &lang);
        if (read_text(&sub, v, "source_code", "source_code", sub.base64, &p->source_code) != READ_INVALID &&
                blank(&p->source_code))
                fail(&sub, "source_code", "can't be blank");
        if (lang.state == READ_INVALID)
                fail(&sub, "language_id", "is not a number");
        else if (lang.state == READ_ABSENT)
                fail(&sub, "language_id", "can't be blank");
        else if (!lang.found) {
                if (lang.in_range)
                        failf(&sub, "language_id", "language with id %d doesn't exist", lang.id);
                else
                        failf(&sub, "language_id", "language with id %.0f doesn't exist", lang.value);
        } else if (lang.lang.is_archived)
                failf(&sub, "language_id", "language with id %d is archived and cannot be used anymore",
                        lang.id);
        else if (lang.lang.is_project)
                fail(&sub, "language_id", "must be a single-file language");
        else
                p->language_id = lang.id;
        const Range ranges[] = {
                /* the defaults (submission_init()) within the configured maxima */
                {"cpu_time_limit", true, true, 0,
                        MIN(p->cpu_time_limit_usec, d->rules->max_cpu_time_limit_usec),
                        d->rules->max_cpu_time_limit_usec, &p->cpu_time_limit_usec, NULL, false},
                {"wall_time_limit", true, false, 1,
                        MIN(p->wall_time_limit_usec, d->rules->max_wall_time_limit_usec),
                        d->rules->max_wall_time_limit_usec, &p->wall_time_limit_usec, NULL, false},
                {"memory_limit", false, false, 2048,
                        MIN(p->memory_limit_kib, d->rules->max_memory_limit_kib),
                        d->rules->max_memory_limit_kib, &p->memory_limit_kib, NULL, false},
        };
        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                decode_range(&sub, &ranges[i]);
        if (sub.r < 0)
                nomem(d, sub.r);
        if (sub.failed)
                d->failed = true;
}

static int decode(const json_t *obj, bool base64_encoded, const Judge0Rules *rules, Judge0Errors *errors,
        Submission *ret) {
        _cleanup_(submission_done) Submission s;
        Decoder d = {.obj = obj, .base64 = base64_encoded, .rules = rules, .errors = errors};
        LanguageRef lang;

        submission_init(&s);
        read_language(&d, &lang);
        if (d.r < 0)
                return d.r; /* the lookup failed: no verdict on the language */
        bool project = lang.found && lang.lang.is_project;

        /* 1, 2: the source, or for a project the zip (always base64) */
        if (read_text(&d, obj, "source_code", "source_code", base64_encoded, &s.source_code) !=
                READ_INVALID) {
                if (project && !blank(&s.source_code))
                        fail(&d, "source_code", "must be blank");
                else if (!project && blank(&s.source_code))
                        fail(&d, "source_code", "can't be blank");
        }
        Read files = read_text(&d, obj, "additional_files", "additional_files", true, &s.additional_files);
        if (files != READ_INVALID && project && blank(&s.additional_files))
                fail(&d, "additional_files", "can't be blank");
        if (s.additional_files.data && s.additional_files.len == 0) {
                free(s.additional_files.data); /* no zip at all */
                s.additional_files = (Bytes){};
        }

        /* 3 */
        if (lang.state == READ_INVALID)
                fail(&d, "language_id", "is not a number");
        else if (lang.state == READ_ABSENT)
                fail(&d, "language_id", "can't be blank");
        else if (lang.in_range)
                s.language_id = lang.id;

        /* 4, 5, 6 */
        const Range ranges[] = {
                {"number_of_runs", false, true, 0, rules->number_of_runs, rules->max_number_of_runs, NULL,
                        &s.number_of_runs, false},
                {"cpu_time_limit", true, false, 0, rules->cpu_time_limit_usec,
                        rules->max_cpu_time_limit_usec, &s.cpu_time_limit_usec, NULL, true},
                {"cpu_extra_time", true, false, 0, rules->cpu_extra_time_usec,
                        rules->max_cpu_extra_time_usec, &s.cpu_extra_time_usec, NULL, false},
                {"wall_time_limit", true, false, 1, rules->wall_time_limit_usec,
                        rules->max_wall_time_limit_usec, &s.wall_time_limit_usec, NULL, false},
                {"memory_limit", false, false, 2048, rules->memory_limit_kib, rules->max_memory_limit_kib,
                        &s.memory_limit_kib, NULL, false},
                {"stack_limit", false, false, 0, rules->stack_limit_kib, rules->max_stack_limit_kib,
                        &s.stack_limit_kib, NULL, true},
                {"max_processes_and_or_threads", false, true, 0, rules->max_processes_and_or_threads,
                        rules->max_max_processes_and_or_threads, NULL, &s.max_processes_and_or_threads,
                        false},
        };
        for (size_t i = 0; i < ELEMENTSOF(ranges); i++)
                decode_range(&d, &ranges[i]);
        decode_flag(&d, "enable_per_process_and_thread_time_limit",
                rules->enable_per_process_and_thread_time_limit,
                rules->allow_enable_per_process_and_thread_time_limit, "this option cannot be enabled",
                &s.enable_per_process_and_thread_time_limit);
        decode_flag(&d, "enable_per_process_and_thread_memory_limit",
                rules->enable_per_process_and_thread_memory_limit,
                rules->allow_enable_per_process_and_thread_memory_limit, "this option cannot be enabled",
                &s.enable_per_process_and_thread_memory_limit);
        decode_range(&d, &(const Range){"max_file_size", false, false, 0, rules->max_file_size_kib,
                                 rules->max_max_file_size_kib, &s.max_file_size_kib, NULL, true});

        /* 7 */
        Read copts = read_text(&d, obj, "compiler_options", "compiler_options", false, &s.compiler_options);
        check_length(&d, "compiler_options", &s.compiler_options);
        Read args = read_text(&d, obj, "command_line_arguments", "command_line_arguments", false,
                &s.command_line_arguments);
        check_length(&d, "command_line_arguments", &s.command_line_arguments);

        /* 8: Judge0 prints the id as Ruby has it: nothing for nil */
        if (lang.state == READ_ABSENT)
                fail(&d, "language_id", "language with id  doesn't exist");
        else if (lang.state == READ_OK && !lang.found) {
                if (lang.in_range)
                        failf(&d, "language_id", "language with id %d doesn't exist", lang.id);
                else
                        failf(&d, "language_id", "language with id %.0f doesn't exist", lang.value);
        } else if (lang.found && lang.lang.is_archived)
                failf(&d, "language_id", "language with id %d is archived and cannot be used anymore",
                        lang.id);

        /* 9 */
        if (copts == READ_OK && !blank(&s.compiler_options))
                compiler_options_allowed(&d, &lang);
        if (args == READ_OK && !blank(&s.command_line_arguments) && !rules->enable_command_line_arguments)
                fail(&d, "command_line_arguments", "setting command line arguments is not allowed");
        if (read_text(&d, obj, "callback_url", "callback_url", false, &s.callback_url) == READ_OK &&
                !blank(&s.callback_url) && !rules->enable_callbacks)
                fail(&d, "callback_url", "setting callback is not allowed");
        if (files == READ_OK && !blank(&s.additional_files) && !rules->enable_additional_files)
                fail(&d, "additional_files", "setting additional files is not allowed");
        decode_flag(&d, "enable_network", rules->enable_network, rules->allow_enable_network,
                "enabling network is not allowed", &s.enable_network);

        /* 10 */
        read_text(&d, obj, "stdin", "stdin", base64_encoded, &s.stdin_data);
        read_text(&d, obj, "expected_output", "expected_output", base64_encoded, &s.expected_output);
        decode_flag(&d, "redirect_stderr_to_stdout", rules->redirect_stderr_to_stdout, true, NULL,
                &s.redirect_stderr_to_stdout);

        /* 11 */
        decode_extensions(&d, &s);
        decode_program(&d, "checker", &s.checker);
        decode_program(&d, "interactor", &s.interactor);

        if (d.r < 0)
                return d.r;
        if (d.failed)
                return -EINVAL;
        *ret = s;
        submission_init(&s); /* ownership moved: nothing left to free */
        return 0;
}

int judge0_body_decode_submission(const Judge0Body *b, bool base64_encoded, const Judge0Rules *rules,
        Judge0Errors *errors, Submission *ret) {
        return decode(b->root, base64_encoded, rules, errors, ret);
}

int judge0_body_batch_size(const Judge0Body *b, size_t *ret, char *errbuf, size_t errlen) {
        const json_t *v = get(b->root, "submissions");
        if (!v) {
                *ret = 0;
                return 0;
        }
        if (!json_is_array(v)) {
                set_errbuf(errbuf, errlen, "submissions is not an array");
                return -EBADMSG;
        }
        *ret = json_array_size(v);
        return 0;
}

int judge0_body_decode_batch_item(const Judge0Body *b, size_t i, bool base64_encoded,
        const Judge0Rules *rules, Judge0Errors *errors, Submission *ret) {
        const json_t *list = get(b->root, "submissions");
        if (!json_is_array(list) || i >= json_array_size(list))
                return -ERANGE;
        const json_t *item = json_array_get(list, i);
        if (!json_is_object(item)) {
                int r = judge0_errors_add(errors, "base", "is not a JSON object");
                return r < 0 ? r : -EINVAL;
        }
        return decode(item, base64_encoded, rules, errors, ret);
}
