/* SPDX-License-Identifier: MIT */
/* The store's dispatch: pick the backend from the url, run the migrations, validate
 * arguments, serialize calls on the Store's mutex. And the column tables both backends
 * build their statements from. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "store/store-internal.h"

struct Store {
        const StoreOps *ops;
        StoreBackend *backend;
        pthread_mutex_t lock;
        StoreHealth health; /* under lock */
};

/* ---- the columns ---- */

#define SUB(field, type) \
        { #field, type, offsetof(Submission, field) }
#define SUB_AS(name, field, type) \
        { name, type, offsetof(Submission, field) }
#define TEST(field, type) \
        { #field, type, offsetof(SubmissionTest, field) }
#define TEST_AS(name, field, type) \
        { name, type, offsetof(SubmissionTest, field) }

static const StoreColumn submission_input_columns[] = {
        SUB(source_code, STORE_COLUMN_BYTES),
        SUB(language_id, STORE_COLUMN_INT),
        SUB_AS("stdin", stdin_data, STORE_COLUMN_BYTES),
        SUB(expected_output, STORE_COLUMN_BYTES),
        SUB(compiler_options, STORE_COLUMN_BYTES),
        SUB(command_line_arguments, STORE_COLUMN_BYTES),
        SUB(additional_files, STORE_COLUMN_BYTES),
        SUB(callback_url, STORE_COLUMN_BYTES),
        SUB(number_of_runs, STORE_COLUMN_U32),
        SUB(cpu_time_limit_usec, STORE_COLUMN_U64),
        SUB(cpu_extra_time_usec, STORE_COLUMN_U64),
        SUB(wall_time_limit_usec, STORE_COLUMN_U64),
        SUB(memory_limit_kib, STORE_COLUMN_U64),
        SUB(stack_limit_kib, STORE_COLUMN_U64),
        SUB(max_processes_and_or_threads, STORE_COLUMN_U32),
        SUB(enable_per_process_and_thread_time_limit, STORE_COLUMN_BOOL),
        SUB(enable_per_process_and_thread_memory_limit, STORE_COLUMN_BOOL),
        SUB(max_file_size_kib, STORE_COLUMN_U64),
        SUB(redirect_stderr_to_stdout, STORE_COLUMN_BOOL),
        SUB(enable_network, STORE_COLUMN_BOOL),
        SUB(compare, STORE_COLUMN_COMPARE),
        SUB(tolerance, STORE_COLUMN_DOUBLE),
        SUB(stop_on_failure, STORE_COLUMN_BOOL),
        SUB_AS("checker_source_code", checker.source_code, STORE_COLUMN_BYTES),
        SUB_AS("checker_language_id", checker.language_id, STORE_COLUMN_INT),
        SUB_AS("checker_cpu_time_limit_usec", checker.cpu_time_limit_usec, STORE_COLUMN_U64),
        SUB_AS("checker_wall_time_limit_usec", checker.wall_time_limit_usec, STORE_COLUMN_U64),
        SUB_AS("checker_memory_limit_kib", checker.memory_limit_kib, STORE_COLUMN_U64),
        SUB_AS("interactor_source_code", interactor.source_code, STORE_COLUMN_BYTES),
        SUB_AS("interactor_language_id", interactor.language_id, STORE_COLUMN_INT),
        SUB_AS("interactor_cpu_time_limit_usec", interactor.cpu_time_limit_usec, STORE_COLUMN_U64),
        SUB_AS("interactor_wall_time_limit_usec", interactor.wall_time_limit_usec, STORE_COLUMN_U64),
        SUB_AS("interactor_memory_limit_kib", interactor.memory_limit_kib, STORE_COLUMN_U64),
};

static const StoreColumn submission_result_columns[] = {
        SUB(status_id, STORE_COLUMN_INT),
        SUB_AS("stdout", stdout_data, STORE_COLUMN_BYTES),
        SUB_AS("stderr", stderr_data, STORE_COLUMN_BYTES),
        SUB(compile_output, STORE_COLUMN_BYTES),
        SUB(message, STORE_COLUMN_BYTES),
        SUB(time_usec, STORE_COLUMN_I64_OR_NULL),
        SUB(wall_time_usec, STORE_COLUMN_I64_OR_NULL),
        SUB(memory_kib, STORE_COLUMN_I64_OR_NULL),
        SUB(exit_code, STORE_COLUMN_INT_OR_NULL),
        SUB(exit_signal, STORE_COLUMN_INT_OR_NULL),
        SUB(memory_limit_exceeded, STORE_COLUMN_BOOL),
        SUB(score, STORE_COLUMN_DOUBLE_OR_NULL),
};

static const StoreColumn test_input_columns[] = {
        TEST_AS("stdin", stdin_data, STORE_COLUMN_BYTES),
        TEST(expected_output, STORE_COLUMN_BYTES),
};

static const StoreColumn test_result_columns[] = {
        TEST(status_id, STORE_COLUMN_INT),
        TEST_AS("stdout", stdout_data, STORE_COLUMN_BYTES),
        TEST_AS("stderr", stderr_data, STORE_COLUMN_BYTES),
        TEST(message, STORE_COLUMN_BYTES),
        TEST(time_usec, STORE_COLUMN_I64_OR_NULL),
        TEST(wall_time_usec, STORE_COLUMN_I64_OR_NULL),
        TEST(memory_kib, STORE_COLUMN_I64_OR_NULL),
        TEST(exit_code, STORE_COLUMN_INT_OR_NULL),
        TEST(exit_signal, STORE_COLUMN_INT_OR_NULL),
        TEST(memory_limit_exceeded, STORE_COLUMN_BOOL),
        TEST(points, STORE_COLUMN_DOUBLE_OR_NULL),
};

const StoreColumns store_columns[_STORE_COLUMN_SET_MAX] = {
        [STORE_SUBMISSION_INPUT] = {submission_input_columns, ELEMENTSOF(submission_input_columns)},
        [STORE_SUBMISSION_RESULT] = {submission_result_columns, ELEMENTSOF(submission_result_columns)},
        [STORE_TEST_INPUT] = {test_input_columns, ELEMENTSOF(test_input_columns)},
        [STORE_TEST_RESULT] = {test_result_columns, ELEMENTSOF(test_result_columns)},
};

#define FIELD(obj, c, type) ((type *) ((char *) (obj) + (c)->offset))
#define CFIELD(obj, c, type) ((const type *) ((const char *) (obj) + (c)->offset))

StoreValue store_column_value(const StoreColumn *c, const void *obj) {
        switch (c->type) {
        case STORE_COLUMN_BYTES: {
                const Bytes *b = CFIELD(obj, c, Bytes);
                if (!b->data)
                        return (StoreValue){.kind = STORE_VALUE_NULL};
                return (StoreValue){.kind = STORE_VALUE_BYTES, .data = b->data, .len = b->len};
        }
        case STORE_COLUMN_INT:
                return (StoreValue){.kind = STORE_VALUE_INT, .i = *CFIELD(obj, c, int)};
        case STORE_COLUMN_INT_OR_NULL: {
                int v = *CFIELD(obj, c, int);
                if (v < 0)
                        return (StoreValue){.kind = STORE_VALUE_NULL};
                return (StoreValue){.kind = STORE_VALUE_INT, .i = v};
        }
        case STORE_COLUMN_U32:
                return (StoreValue){.kind = STORE_VALUE_INT, .i = *CFIELD(obj, c, uint32_t)};
        case STORE_COLUMN_U64:
                /* validated: at most INT64_MAX */
                return (StoreValue){.kind = STORE_VALUE_INT, .i = (int64_t) *CFIELD(obj, c, uint64_t)};
        case STORE_COLUMN_I64_OR_NULL: {
                int64_t v = *CFIELD(obj, c, int64_t);
                if (v < 0)
                        return (StoreValue){.kind = STORE_VALUE_NULL};
                return (StoreValue){.kind = STORE_VALUE_INT, .i = v};
        }
        case STORE_COLUMN_BOOL:
                return (StoreValue){.kind = STORE_VALUE_INT, .i = *CFIELD(obj, c, bool)};
        case STORE_COLUMN_DOUBLE:
                return (StoreValue){.kind = STORE_VALUE_DOUBLE, .d = *CFIELD(obj, c, double)};
        case STORE_COLUMN_DOUBLE_OR_NULL: {
                double d = *CFIELD(obj, c, double);
                if (d < 0)
                        return (StoreValue){.kind = STORE_VALUE_NULL};
                return (StoreValue){.kind = STORE_VALUE_DOUBLE, .d = d};
        }
        case STORE_COLUMN_COMPARE:
                return (StoreValue){.kind = STORE_VALUE_INT, .i = (int64_t) *CFIELD(obj, c, CompareMode)};
        default: /* the tables above are all there is */
                return (StoreValue){.kind = STORE_VALUE_NULL};
        }
}

static int int_of(const StoreValue *v, int64_t min, int64_t max, int64_t *ret) {
        if (v->kind != STORE_VALUE_INT || v->i < min || v->i > max)
                return -EBADMSG;
        *ret = v->i;
        return 0;
}

int store_column_assign(const StoreColumn *c, void *obj, const StoreValue *v) {
        int64_t i;
        int r;

        if (c->type == STORE_COLUMN_BYTES) {
                Bytes *b = FIELD(obj, c, Bytes);
                if (v->kind == STORE_VALUE_NULL) {
                        free(b->data);
                        *b = (Bytes){};
                        return 0;
                }
                if (v->kind != STORE_VALUE_BYTES || v->len == SIZE_MAX)
                        return -EBADMSG;
                char *d = malloc(v->len + 1);
                if (!d)
                        return -ENOMEM;
                if (v->len > 0)
                        memcpy(d, v->data, v->len);
                d[v->len] = '\0';
                free(b->data);
                *b = (Bytes){.data = d, .len = v->len};
                return 0;
        }
        if (c->type == STORE_COLUMN_DOUBLE_OR_NULL && v->kind == STORE_VALUE_NULL) {
                *FIELD(obj, c, double) = -1;
                return 0;
        }
        if (c->type == STORE_COLUMN_DOUBLE || c->type == STORE_COLUMN_DOUBLE_OR_NULL) {
                if (v->kind != STORE_VALUE_DOUBLE)
                        return -EBADMSG;
                *FIELD(obj, c, double) = v->d;
                return 0;
        }
        if (v->kind == STORE_VALUE_NULL) {
                if (c->type == STORE_COLUMN_INT_OR_NULL)
                        *FIELD(obj, c, int) = -1;
                else if (c->type == STORE_COLUMN_I64_OR_NULL)
                        *FIELD(obj, c, int64_t) = -1;
                else
                        return -EBADMSG;
                return 0;
        }
        switch (c->type) {
        case STORE_COLUMN_INT:
        case STORE_COLUMN_INT_OR_NULL:
                r = int_of(v, INT_MIN, INT_MAX, &i);
                if (r >= 0)
                        *FIELD(obj, c, int) = (int) i;
                return r;
        case STORE_COLUMN_U32:
                r = int_of(v, 0, UINT32_MAX, &i);
                if (r >= 0)
                        *FIELD(obj, c, uint32_t) = (uint32_t) i;
                return r;
        case STORE_COLUMN_U64:
                r = int_of(v, 0, INT64_MAX, &i);
                if (r >= 0)
                        *FIELD(obj, c, uint64_t) = (uint64_t) i;
                return r;
        case STORE_COLUMN_I64_OR_NULL:
                r = int_of(v, 0, INT64_MAX, &i);
                if (r >= 0)
                        *FIELD(obj, c, int64_t) = i;
                return r;
        case STORE_COLUMN_BOOL:
                r = int_of(v, 0, 1, &i);
                if (r >= 0)
                        *FIELD(obj, c, bool) = i;
                return r;
        case STORE_COLUMN_COMPARE:
                r = int_of(v, 0, INT_MAX, &i);
                if (r >= 0)
                        *FIELD(obj, c, CompareMode) = (CompareMode) i;
                return r;
        default:
                return -EBADMSG;
        }
}

/* ---- SQL text from the tables ---- */

void store_sql_add(StoreSql *q, const char *fmt, ...) {
        if (q->error < 0)
                return;
        for (;;) {
                va_list ap;
                va_start(ap, fmt);
                int n = vsnprintf(q->buf ? q->buf + q->len : NULL, q->buf ? q->cap - q->len : 0, fmt, ap);
                va_end(ap);
                if (n < 0) {
                        q->error = -EINVAL;
                        return;
                }
                if (q->buf && (size_t) n < q->cap - q->len) {
                        q->len += (size_t) n;
                        return;
                }
                size_t cap = MAX(q->cap * 2, q->len + (size_t) n + 256);
                char *b = realloc(q->buf, cap);
                if (!b) {
                        q->error = -ENOMEM;
                        return;
                }
                q->buf = b;
                q->cap = cap;
        }
}

void store_sql_add_names(StoreSql *q, StoreColumnSet set, const char *prefix) {
        for (size_t i = 0; i < store_columns[set].n; i++)
                store_sql_add(q, "%s%s%s", i > 0 ? ", " : "", prefix, store_columns[set].columns[i].name);
}

int store_sql_finish(StoreSql *q, char **ret) {
        if (q->error < 0 || !q->buf) {
                free(q->buf);
                *q = (StoreSql){};
                return q->error < 0 ? q->error : -ENOMEM;
        }
        *ret = q->buf;
        *q = (StoreSql){};
        return 0;
}

/* ---- helpers for the backends ---- */

void store_copy_token(char dst[SUBMISSION_TOKEN_LEN + 1], const char *src) {
        memcpy(dst, src, SUBMISSION_TOKEN_LEN);
        dst[SUBMISSION_TOKEN_LEN] = '\0';
}

int store_add_test(Submission *s, SubmissionTest **ret) {
        if (s->n_tests >= SIZE_MAX / sizeof(SubmissionTest) / 2)
                return -ENOMEM;
        SubmissionTest *t = realloc(s->tests, (s->n_tests + 1) * sizeof(SubmissionTest));
        if (!t)
                return -ENOMEM;
        s->tests = t;
        t[s->n_tests] = (SubmissionTest){.points = -1};
        *ret = &t[s->n_tests++];
        return 0;
}

int64_t store_now_usec(void) {
        return (int64_t) now_usec(CLOCK_REALTIME);
}

static uint64_t set_bytes(StoreColumnSet set, const void *obj) {
        uint64_t n = 0;
        for (size_t i = 0; i < store_columns[set].n; i++) {
                const StoreColumn *c = &store_columns[set].columns[i];
                if (c->type == STORE_COLUMN_BYTES)
                        n += CFIELD(obj, c, Bytes)->len;
        }
        return n;
}

uint64_t store_payload_bytes(const Submission *s, StoreColumnSet set, StoreColumnSet test_set) {
        /* validated: each Bytes at most INT32_MAX, at most INT32_MAX tests: no overflow */
        uint64_t n = set_bytes(set, s);
        for (size_t i = 0; i < s->n_tests; i++)
                n += set_bytes(test_set, &s->tests[i]);
        return n;
}

int store_tombstone(const char *token, int64_t status_id, int64_t language_id, int64_t created_usec,
        int64_t finished_usec, int64_t purged_usec, Submission *ret) {
        if (status_id < STORE_FIRST_FINAL || status_id > STORE_LAST_FINAL || language_id < INT_MIN ||
                language_id > INT_MAX || purged_usec < 0)
                return -EBADMSG;
        submission_init(ret);
        store_copy_token(ret->token, token);
        ret->status_id = (int) status_id;
        ret->language_id = (int) language_id;
        ret->created_at_usec = created_usec;
        ret->finished_at_usec = finished_usec;
        ret->purged_at_usec = purged_usec;
        return 0;
}

/* ---- validation ---- */

static int validate_columns(StoreColumnSet set, const void *obj) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                const StoreColumn *c = &store_columns[set].columns[i];
                switch (c->type) {
                case STORE_COLUMN_BYTES: {
                        const Bytes *b = CFIELD(obj, c, Bytes);
                        if (!b->data && b->len > 0)
                                return -EINVAL;
                        if (b->len > INT32_MAX) /* PostgreSQL's bytea stops at 1 GiB anyway */
                                return -E2BIG;
                        break;
                }
                case STORE_COLUMN_U32:
                        if (*CFIELD(obj, c, uint32_t) > INT32_MAX)
                                return -ERANGE;
                        break;
                case STORE_COLUMN_U64:
                        if (*CFIELD(obj, c, uint64_t) > INT64_MAX)
                                return -ERANGE;
                        break;
                case STORE_COLUMN_DOUBLE:
                case STORE_COLUMN_DOUBLE_OR_NULL:
                        if (!isfinite(*CFIELD(obj, c, double)))
                                return -EINVAL;
                        break;
                default:
                        break;
                }
        }
        return 0;
}

static int validate_tests(const Submission *sub, StoreColumnSet set) {
        if (sub->n_tests > 0 && !sub->tests)
                return -EINVAL;
        if (sub->n_tests > INT32_MAX)
                return -ERANGE;
        for (size_t i = 0; i < sub->n_tests; i++) {
                int r = validate_columns(set, &sub->tests[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- opening, migrations ---- */

void store_set_error(char *errbuf, const char *fmt, ...) {
        if (!errbuf)
                return;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(errbuf, STORE_ERROR_MAX, fmt, ap);
        va_end(ap);
        /* one line: libpq's messages end with a newline and may hold several */
        for (char *p = errbuf; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = (p[1] ? ' ' : '\0');
}

/* One migration step per transaction, under the backend's migration lock, until the
 * schema is current. Re-reading the version inside each transaction makes concurrent
 * openers and restarts idempotent. */
static int migrate(
        const StoreOps *ops, StoreBackend *b, const StoreMigration *migrations, size_t n, char *errbuf) {
        for (;;) {
                int64_t version;
                int r;

                r = ops->exec(b, ops->migration_begin);
                if (r < 0) {
                        store_set_error(errbuf, "cannot begin a migration: %s", ops->error_message(b));
                        return r;
                }
                r = ops->exec(b, ops->schema_version_table);
                if (r >= 0)
                        r = ops->query_int(b, "SELECT max(version) FROM schema_version", &version);
                if (r < 0) {
                        store_set_error(errbuf, "cannot read the schema version: %s", ops->error_message(b));
                        goto rollback;
                }
                if (version < 0 || (uint64_t) version > n) {
                        store_set_error(errbuf,
                                "the database's schema version %" PRIi64 " is newer than this coderunner "
                                "knows (%zu): it was written by a newer coderunner",
                                version, n);
                        r = -EPROTONOSUPPORT;
                        goto rollback;
                }
                if ((uint64_t) version == n) {
                        r = ops->exec(b, "COMMIT");
                        if (r < 0)
                                store_set_error(errbuf, "cannot commit: %s", ops->error_message(b));
                        return r;
                }

                const StoreMigration *m = &migrations[version];
                if (m->version != (uint64_t) version + 1) {
                        store_set_error(errbuf, "migration %u is out of order", m->version);
                        r = -EINVAL;
                        goto rollback;
                }
                r = ops->exec(b, m->sql);
                if (r < 0) {
                        store_set_error(errbuf, "migration %u (%s) failed: %s", m->version, m->name,
                                ops->error_message(b));
                        goto rollback;
                }
                r = ops->record_migration(b, m);
                if (r >= 0)
                        r = ops->exec(b, "COMMIT");
                if (r < 0) {
                        store_set_error(errbuf, "cannot record migration %u (%s): %s", m->version, m->name,
                                ops->error_message(b));
                        goto rollback;
                }
                continue;
rollback:
                (void) ops->exec(b, "ROLLBACK");
                return r;
        }
}

static int parse_url(const char *url, const StoreOps **ret_ops, const char **ret_target) {
        static const struct {
                const char *prefix;
                const StoreOps *ops;
                bool keep_prefix;
        } schemes[] = {
                {"postgres://", &store_pg_ops, true},
                {"postgresql://", &store_pg_ops, true},
                {"sqlite://", &store_sqlite_ops, false},
                {"sqlite:", &store_sqlite_ops, false},
        };

        if (!url || !*url)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                size_t l = strlen(schemes[i].prefix);
                if (strncmp(url, schemes[i].prefix, l) == 0) {
                        const char *target = schemes[i].keep_prefix ? url : url + l;
                        if (!*target)
                                return -EINVAL;
                        *ret_ops = schemes[i].ops;
                        *ret_target = target;
                        return 0;
                }
        }
        /* Anything else with a scheme is a mistake, not a file name. */
        const char *colon = strstr(url, "://");
        if (colon)
                return -EINVAL;
        *ret_ops = &store_sqlite_ops;
        *ret_target = url;
        return 0;
}

int store_open_with_migrations(
        const char *url, const StoreMigration *migrations, size_t n_migrations, char *errbuf, Store **ret) {
        const StoreOps *ops;
        const char *target;
        StoreBackend *b = NULL;
        int r;

        r = parse_url(url, &ops, &target);
        if (r < 0) {
                store_set_error(errbuf, "invalid store url (expected sqlite:PATH or postgres://...)");
                return r;
        }
        if (!migrations) {
                migrations = ops->migrations;
                n_migrations = *ops->n_migrations;
        }

        r = ops->connect(target, errbuf, &b);
        if (r < 0)
                return r;
        r = migrate(ops, b, migrations, n_migrations, errbuf);
        if (r < 0)
                goto fail;
        r = ops->prepare(b);
        if (r < 0) {
                store_set_error(errbuf, "cannot prepare statements: %s", ops->error_message(b));
                goto fail;
        }

        Store *s = malloc(sizeof *s);
        if (!s) {
                r = -ENOMEM;
                store_set_error(errbuf, "out of memory");
                goto fail;
        }
        *s = (Store){.ops = ops, .backend = b};
        r = -pthread_mutex_init(&s->lock, NULL);
        if (r < 0) {
                free(s);
                store_set_error(errbuf, "cannot create a mutex");
                goto fail;
        }
        *ret = s;
        return 0;
fail:
        ops->disconnect(b);
        return r;
}

int store_open(const char *url, char *errbuf, Store **ret) {
        return store_open_with_migrations(url, NULL, 0, errbuf, ret);
}

Store *store_close(Store *s) {
        if (!s)
                return NULL;
        s->ops->disconnect(s->backend);
        pthread_mutex_destroy(&s->lock);
        free(s);
        return NULL;
}

const char *store_backend(const Store *s) {
        return s->ops->name;
}

/* ---- the calls, serialized ---- */

static void unlockp(pthread_mutex_t **m) {
        if (*m)
                pthread_mutex_unlock(*m);
}
#define LOCKED(s) \
        _cleanup_(unlockp) _unused_ pthread_mutex_t *_locked = ({ \
                pthread_mutex_lock(&(s)->lock); \
                &(s)->lock; \
        })

bool store_error_is_failure(int r) {
        static const int failures[] = {
                ENOSPC, EDQUOT, EROFS, EIO, EBADMSG, EACCES, ECONNRESET, ENOTCONN, ECONNREFUSED};
        for (size_t i = 0; i < ELEMENTSOF(failures); i++)
                if (r == -failures[i])
                        return true;
        return false;
}

/* After a write, with the lock held: what it says about the store. Returns r. */
static int track(Store *s, int r) {
        if (store_error_is_failure(r)) {
                if (s->health.error == 0)
                        s->health.since_usec = now_usec(CLOCK_MONOTONIC);
                s->health.error = r;
                s->health.failed_writes++;
        } else if (r >= 0 || r == -EEXIST || r == -EALREADY || r == -EBUSY) {
                /* written, or refused by the database for the data's sake: it answers */
                s->health.error = 0;
                s->health.since_usec = 0;
        }
        return r;
}

int store_health(Store *s, bool probe, StoreHealth *ret) {
        LOCKED(s);
        if (s->health.error < 0 && probe)
                (void) track(s, s->ops->probe(s->backend));
        *ret = s->health;
        return 0;
}

int store_ping(Store *s) {
        LOCKED(s);
        return s->ops->ping(s->backend);
}

int store_create(Store *s, const Submission *sub) {
        int r;

        if (!submission_token_valid(sub->token))
                return -EINVAL;
        r = validate_columns(STORE_SUBMISSION_INPUT, sub);
        if (r < 0)
                return r;
        r = validate_tests(sub, STORE_TEST_INPUT);
        if (r < 0)
                return r;
        LOCKED(s);
        return track(s, s->ops->create(s->backend, sub));
}

int store_get(Store *s, const char *token, Submission *ret) {
        if (!submission_token_valid(token))
                return -ENOENT;
        LOCKED(s);
        return s->ops->get(s->backend, token, ret);
}

int store_list(
        Store *s, uint64_t page, uint32_t per_page, Submission **ret, size_t *ret_n, uint64_t *ret_total) {
        if (page == 0)
                return -EINVAL;
        /* Past INT64_MAX is past the end of any table: the page is empty, the total real. */
        uint64_t offset = INT64_MAX;
        if (per_page == 0 || page - 1 <= (uint64_t) INT64_MAX / per_page)
                offset = (page - 1) * per_page;
        LOCKED(s);
        return s->ops->list(s->backend, (int64_t) offset, per_page, ret, ret_n, ret_total);
}

Submission *store_list_free(Submission *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                submission_done(&list[i]);
        free(list);
        return NULL;
}

int store_delete(Store *s, const char *token) {
        if (!submission_token_valid(token))
                return -ENOENT;
        LOCKED(s);
        return track(s, s->ops->delete (s->backend, token));
}

int store_claim(Store *s, const char *token, uint32_t *ret_attempts) {
        uint32_t attempts;
        int r;

        if (!submission_token_valid(token))
                return -ENOENT;
        LOCKED(s);
        r = track(s, s->ops->claim(s->backend, token, &attempts));
        if (r < 0)
                return r;
        if (ret_attempts)
                *ret_attempts = attempts;
        return 0;
}

int store_finish(Store *s, const Submission *result) {
        int r;

        if (!submission_token_valid(result->token))
                return -EINVAL;
        if (result->status_id < STORE_FIRST_FINAL || result->status_id > STORE_LAST_FINAL)
                return -EINVAL;
        r = validate_columns(STORE_SUBMISSION_RESULT, result);
        if (r < 0)
                return r;
        r = validate_tests(result, STORE_TEST_RESULT);
        if (r < 0)
                return r;
        LOCKED(s);
        return track(s, s->ops->finish(s->backend, result));
}

int store_unfinished(Store *s, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n) {
        LOCKED(s);
        return s->ops->unfinished(s->backend, ret_tokens, ret_n);
}

int store_count_by_status(Store *s, uint64_t ret_counts[STORE_STATUS_SLOTS]) {
        LOCKED(s);
        return s->ops->count_by_status(s->backend, ret_counts);
}

int store_live_bytes(Store *s, uint64_t *ret_bytes) {
        LOCKED(s);
        return s->ops->live_bytes(s->backend, ret_bytes);
}

int store_purge(Store *s, const StoreRetention *policy, size_t max_rows, uint64_t *ret_purged,
        uint64_t *ret_freed_bytes) {
        _cleanup_free_ StorePurgeCandidate *c = NULL;
        uint64_t live = 0, excess = 0, freed = 0;
        size_t n = 0, take = 0;
        int r;

        if (!policy || max_rows == 0 || max_rows > INT32_MAX)
                return -EINVAL;
        /* Finished before the cutoff: too old. No limit by age: nothing is too old. */
        int64_t now = store_now_usec(), cutoff = INT64_MIN;
        if (policy->max_age_usec > 0)
                cutoff = policy->max_age_usec < (uint64_t) now ? now - (int64_t) policy->max_age_usec
                                                               : INT64_MIN;
        LOCKED(s);
        if (policy->max_bytes > 0) {
                r = s->ops->live_bytes(s->backend, &live);
                if (r < 0)
                        return r;
                excess = live > policy->max_bytes ? live - policy->max_bytes : 0;
        }
        if (cutoff != INT64_MIN || excess > 0) {
                r = s->ops->purge_candidates(s->backend, (uint32_t) max_rows, &c, &n);
                if (r < 0)
                        return r;
        }
        /* Oldest finished first: stop at the first the policy keeps. */
        while (take < n && (c[take].finished_at_usec < cutoff || freed < excess))
                freed += c[take++].payload_bytes;
        if (take > 0) {
                r = track(s, s->ops->purge(s->backend, c, take));
                if (r < 0)
                        return r;
                r = s->ops->reclaim(s->backend);
                if (r < 0)
                        return r;
        }
        *ret_purged = take;
        *ret_freed_bytes = freed;
        return 0;
}

int store_count_append(StoreCount **list, size_t *n, int64_t key, int64_t count) {
        if (count < 0)
                return -EBADMSG;
        if ((*n & (*n - 1)) == 0) { /* 0, 1, 2, 4... grow */
                StoreCount *l = reallocarray(*list, *n ? *n * 2 : 1, sizeof *l);
                if (!l)
                        return -ENOMEM;
                *list = l;
        }
        (*list)[(*n)++] = (StoreCount){.key = key, .count = (uint64_t) count};
        return 0;
}

static int count_compare(const void *x, const void *y) {
        const StoreCount *a = x, *b = y;
        if (a->count != b->count)
                return a->count < b->count ? 1 : -1;
        return (a->key > b->key) - (a->key < b->key);
}

int store_statistics(Store *s, int64_t since_usec, StoreStatistics *ret) {
        _cleanup_(store_statistics_done) StoreStatistics st = {};
        _cleanup_free_ StoreCount *days = NULL;
        size_t n_days = 0;
        int r;

        if (since_usec < 0)
                return -EINVAL;
        LOCKED(s);
        if ((r = s->ops->count_by_status(s->backend, st.by_status)) < 0)
                return r;
        for (size_t i = 0; i < STORE_STATUS_SLOTS; i++)
                st.total += st.by_status[i];
        if ((r = s->ops->count_by_language(s->backend, &st.by_language, &st.n_by_language)) < 0)
                return r;
        if (st.n_by_language > 1)
                qsort(st.by_language, st.n_by_language, sizeof *st.by_language, count_compare);
        if ((r = s->ops->count_by_day(s->backend, since_usec, &days, &n_days)) < 0)
                return r;
        for (size_t i = 0; i < n_days; i++)
                if (days[i].key >= 0 && days[i].key < STORE_STATISTICS_DAYS)
                        st.by_day[days[i].key] += days[i].count; /* later days: a clock ahead */
        if ((r = s->ops->size(s->backend, &st.size_bytes)) < 0)
                return r;
        *ret = st;
        st = (StoreStatistics){};
        return 0;
}

void store_statistics_done(StoreStatistics *st) {
        if (!st)
                return;
        free(st->by_language);
        *st = (StoreStatistics){};
}

int store_exec_sql(Store *s, const char *sql) {
        LOCKED(s);
        return s->ops->exec(s->backend, sql);
}

int store_query_int(Store *s, const char *sql, int64_t *ret) {
        LOCKED(s);
        return s->ops->query_int(s->backend, sql, ret);
}

/* ---- the worker registry ---- */

static bool worker_id_valid(const char *id) {
        return id && *id && strlen(id) < WORKER_ID_MAX;
}

int store_worker_beat(Store *s, const char *id, const char *info) {
        if (!worker_id_valid(id) || !info)
                return -EINVAL;
        LOCKED(s);
        return s->ops->worker_beat(s->backend, id, info);
}

int store_worker_remove(Store *s, const char *id) {
        if (!worker_id_valid(id))
                return -ENOENT;
        LOCKED(s);
        return s->ops->worker_remove(s->backend, id);
}

int store_workers(Store *s, uint64_t max_age_usec, WorkerInfo **ret, size_t *ret_n) {
        WorkerInfo *list = NULL;
        char **infos = NULL;
        size_t n = 0;
        if (max_age_usec > INT64_MAX)
                max_age_usec = INT64_MAX;
        {
                LOCKED(s);
                int r = s->ops->workers(s->backend, max_age_usec, &list, &infos, &n);
                if (r < 0)
                        return r;
        }
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                WorkerInfo w = list[i];
                if (worker_info_parse(infos[i], &w) >= 0)
                        list[k++] = w;
                else
                        worker_info_done(&w);
                free(infos[i]);
        }
        free(infos);
        if (k == 0)
                list = worker_info_list_free(list, 0);
        *ret = list;
        *ret_n = k;
        return 0;
}

int store_worker_row_append(WorkerInfo **list, char ***infos, size_t *n, const char *id, const char *info,
        int64_t heartbeat_at_usec) {
        if (!id || strlen(id) >= WORKER_ID_MAX || !info)
                return -EBADMSG;
        WorkerInfo *l = reallocarray(*list, *n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        *list = l;
        char **in = reallocarray(*infos, *n + 1, sizeof *in);
        if (!in)
                return -ENOMEM;
        *infos = in;
        char *copy = strdup(info);
        if (!copy)
                return -ENOMEM;
        l[*n] = (WorkerInfo){.heartbeat_at_usec = heartbeat_at_usec};
        memcpy(l[*n].id, id, strlen(id) + 1);
        in[*n] = copy;
        (*n)++;
        return 0;
}

void store_worker_rows_free(WorkerInfo *list, char **infos, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(infos[i]);
        free(infos);
        free(list);
}
