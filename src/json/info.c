/* SPDX-License-Identifier: MIT */
/* The bodies of Judge0's information endpoints: /languages, /languages/all,
 * /languages/:id, /statuses, /config_info, /about, /workers. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "json/json-internal.h"
#include "json/judge0.h"

/* ---- languages ---- */

/* The weight of a byte at the first level of the collation, -1 where that level ignores
 * it: digits, then letters without case; bytes beyond ASCII after them, by value. */
static int primary_weight(unsigned char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'z')
                return 10 + c - 'a';
        if (c >= 'A' && c <= 'Z')
                return 10 + c - 'A';
        if (c >= 0x80)
                return 36 + c;
        return -1;
}

/* Compare the bytes the first level keeps: by weight (level 1), or by case, lower first
 * (level 2). */
static int compare_level(const unsigned char *a, const unsigned char *b, int level) {
        for (;;) {
                while (*a && primary_weight(*a) < 0)
                        a++;
                while (*b && primary_weight(*b) < 0)
                        b++;
                if (!*a || !*b)
                        return (*a != 0) - (*b != 0);
                int wa = level == 1 ? primary_weight(*a) : (*a >= 'A' && *a <= 'Z');
                int wb = level == 1 ? primary_weight(*b) : (*b >= 'A' && *b <= 'Z');
                if (wa != wb)
                        return wa < wb ? -1 : 1;
                a++;
                b++;
        }
}

/* An approximation of glibc's en_US.UTF-8 collation, which Judge0's PostgreSQL sorts
 * names by: letters and digits first, then case, then everything (bytes). */
static int collate(const char *a, const char *b) {
        int r = compare_level((const unsigned char *) a, (const unsigned char *) b, 1);
        if (r == 0)
                r = compare_level((const unsigned char *) a, (const unsigned char *) b, 2);
        if (r == 0)
                r = strcmp(a, b);
        return r;
}

static int compare_languages(const void *x, const void *y) {
        const Judge0Language *a = *(const Judge0Language *const *) x,
                             *b = *(const Judge0Language *const *) y;
        int r = collate(a->name ? a->name : "", b->name ? b->name : "");
        if (r == 0)
                r = (a->id > b->id) - (a->id < b->id);
        return r;
}

int judge0_languages_encode(const Judge0Language *langs, size_t n, bool with_archived, char **ret) {
        _cleanup_free_ const Judge0Language **sorted = NULL;
        size_t m = 0;

        if (n > 0) {
                sorted = calloc(n, sizeof *sorted);
                if (!sorted)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if (with_archived || !langs[i].is_archived)
                        sorted[m++] = &langs[i];
        if (m > 1)
                qsort(sorted, m, sizeof *sorted, compare_languages);

        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < m; i++) {
                json_t *o = json_object();
                if (j0_append(a, o) < 0 || j0_set(o, "id", json_integer(sorted[i]->id)) < 0 ||
                        j0_set(o, "name", j0_cstring(sorted[i]->name)) < 0 ||
                        (with_archived &&
                                j0_set(o, "is_archived", json_boolean(sorted[i]->is_archived)) < 0))
                        return -ENOMEM;
        }
        return j0_dump(a, 0, ret);
}

int judge0_language_encode(const Judge0Language *l, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o || j0_set(o, "id", json_integer(l->id)) < 0 || j0_set(o, "name", j0_cstring(l->name)) < 0 ||
                j0_set(o, "is_archived", json_boolean(l->is_archived)) < 0 ||
                j0_set(o, "source_file", j0_cstring(l->source_file)) < 0 ||
                j0_set(o, "compile_cmd", j0_cstring(l->compile_cmd)) < 0 ||
                j0_set(o, "run_cmd", j0_cstring(l->run_cmd)) < 0)
                return -ENOMEM;
        return j0_dump(o, 0, ret);
}

/* ---- statuses ---- */

int judge0_statuses_encode(const Judge0Status *statuses, size_t n, char **ret) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                json_t *o = json_object();
                if (j0_append(a, o) < 0 || j0_set(o, "id", json_integer(statuses[i].id)) < 0 ||
                        j0_set(o, "description", j0_cstring(statuses[i].description)) < 0)
                        return -ENOMEM;
        }
        return j0_dump(a, 0, ret);
}

/* ---- config_info ---- */

void judge0_config_info_init(Judge0ConfigInfo *c) {
        *c = (Judge0ConfigInfo){
                .enable_wait_result = true,
                .callbacks_max_tries = 3,
                .callbacks_timeout_usec = 5000000,
                .max_queue_size = 100,
                .max_extract_size_kib = 10240,
                .enable_batched_submissions = true,
                .max_submission_batch_size = 20,
                .submission_cache_duration_usec = 1000000,
        };
}

typedef enum KeyType {
        KEY_BOOL,
        KEY_INT,
        KEY_SECONDS, /* a JSON real, in seconds */
        KEY_STRINGS, /* an array of strings */
} KeyType;

typedef struct Key {
        const char *name;
        KeyType type;
        uint64_t value; /* bool, integer, or microseconds */
        const char *const *strings;
} Key;

#define BOOL(n, v) \
        { .name = n, .type = KEY_BOOL, .value = (v) }
#define INT(n, v) \
        { .name = n, .type = KEY_INT, .value = (v) }
#define SECONDS(n, v) \
        { .name = n, .type = KEY_SECONDS, .value = (v) }

int judge0_config_info_encode(const Judge0ConfigInfo *c, char **ret) {
        const Judge0Rules *r = c->rules;
        if (!r)
                return -EINVAL;

        /* §4.5's order; "compile_options" (sic) is Judge0's spelling. */
        const Key keys[] = {
                BOOL("maintenance_mode", c->maintenance_mode),
                BOOL("enable_wait_result", c->enable_wait_result),
                BOOL("enable_compiler_options", r->enable_compiler_options),
                {.name = "allowed_languages_for_compile_options",
                        .type = KEY_STRINGS,
                        .strings = r->allowed_languages_for_compiler_options},
                BOOL("enable_command_line_arguments", r->enable_command_line_arguments),
                BOOL("enable_submission_delete", c->enable_submission_delete),
                BOOL("enable_callbacks", r->enable_callbacks),
                INT("callbacks_max_tries", c->callbacks_max_tries),
                SECONDS("callbacks_timeout", c->callbacks_timeout_usec),
                BOOL("enable_additional_files", r->enable_additional_files),
                INT("max_queue_size", c->max_queue_size),
                SECONDS("cpu_time_limit", r->cpu_time_limit_usec),
                SECONDS("max_cpu_time_limit", r->max_cpu_time_limit_usec),
                SECONDS("cpu_extra_time", r->cpu_extra_time_usec),
                SECONDS("max_cpu_extra_time", r->max_cpu_extra_time_usec),
                SECONDS("wall_time_limit", r->wall_time_limit_usec),
                SECONDS("max_wall_time_limit", r->max_wall_time_limit_usec),
                INT("memory_limit", r->memory_limit_kib),
                INT("max_memory_limit", r->max_memory_limit_kib),
                INT("stack_limit", r->stack_limit_kib),
                INT("max_stack_limit", r->max_stack_limit_kib),
                INT("max_processes_and_or_threads", r->max_processes_and_or_threads),
                INT("max_max_processes_and_or_threads", r->max_max_processes_and_or_threads),
                BOOL("enable_per_process_and_thread_time_limit",
                        r->enable_per_process_and_thread_time_limit),
                BOOL("allow_enable_per_process_and_thread_time_limit",
                        r->allow_enable_per_process_and_thread_time_limit),
                BOOL("enable_per_process_and_thread_memory_limit",
                        r->enable_per_process_and_thread_memory_limit),
                BOOL("allow_enable_per_process_and_thread_memory_limit",
                        r->allow_enable_per_process_and_thread_memory_limit),
                INT("max_file_size", r->max_file_size_kib),
                INT("max_max_file_size", r->max_max_file_size_kib),
                INT("number_of_runs", r->number_of_runs),
                INT("max_number_of_runs", r->max_number_of_runs),
                BOOL("redirect_stderr_to_stdout", r->redirect_stderr_to_stdout),
                INT("max_extract_size", c->max_extract_size_kib),
                BOOL("enable_batched_submissions", c->enable_batched_submissions),
                INT("max_submission_batch_size", c->max_submission_batch_size),
                SECONDS("submission_cache_duration", c->submission_cache_duration_usec),
                BOOL("use_docs_as_homepage", c->use_docs_as_homepage),
                BOOL("allow_enable_network", r->allow_enable_network),
                BOOL("enable_network", r->enable_network),
        };
        _Static_assert(ELEMENTSOF(keys) == 39, "Judge0's config_info has 39 keys");

        _cleanup_json_ json_t *o = json_object();
        if (!o)
                return -ENOMEM;
        int precision = 1;
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                const Key *k = &keys[i];
                json_t *v = NULL;
                switch (k->type) {
                case KEY_BOOL:
                        v = json_boolean(k->value);
                        break;
                case KEY_INT:
                        v = json_integer((json_int_t) k->value);
                        break;
                case KEY_SECONDS: {
                        double s = (double) k->value / 1e6;
                        precision = MAX(precision, j0_real_precision(s));
                        v = json_real(s);
                        break;
                }
                case KEY_STRINGS:
                        v = json_array();
                        for (size_t j = 0; v && k->strings && k->strings[j]; j++)
                                if (j0_append(v, j0_cstring(k->strings[j])) < 0) {
                                        json_decref(v);
                                        v = NULL;
                                }
                        break;
                }
                if (j0_set(o, k->name, v) < 0)
                        return -ENOMEM;
        }
        return j0_dump(o, precision, ret);
}

/* ---- about, workers ---- */

int judge0_about_encode(const char *version, const char *homepage, const char *source_code,
        const char *maintainer, char **ret) {
        _cleanup_json_ json_t *o = json_object();
        if (!o || j0_set(o, "version", j0_cstring(version)) < 0 ||
                j0_set(o, "homepage", j0_cstring(homepage)) < 0 ||
                j0_set(o, "source_code", j0_cstring(source_code)) < 0 ||
                j0_set(o, "maintainer", j0_cstring(maintainer)) < 0)
                return -ENOMEM;
        return j0_dump(o, 0, ret);
}

int judge0_workers_encode(const Judge0WorkerQueue *queues, size_t n, char **ret) {
        _cleanup_json_ json_t *a = json_array();
        if (!a)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const Judge0WorkerQueue *q = &queues[i];
                json_t *o = json_object();
                if (j0_append(a, o) < 0 || j0_set(o, "queue", j0_cstring(q->queue)) < 0 ||
                        j0_set(o, "size", json_integer((json_int_t) q->size)) < 0 ||
                        j0_set(o, "available", json_integer((json_int_t) q->available)) < 0 ||
                        j0_set(o, "idle", json_integer((json_int_t) q->idle)) < 0 ||
                        j0_set(o, "working", json_integer((json_int_t) q->working)) < 0 ||
                        j0_set(o, "paused", json_integer((json_int_t) q->paused)) < 0 ||
                        j0_set(o, "failed", json_integer((json_int_t) q->failed)) < 0)
                        return -ENOMEM;
        }
        return j0_dump(a, 0, ret);
}
