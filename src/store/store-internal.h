/* SPDX-License-Identifier: MIT */
#pragma once

/* What the store's dispatch (store.c) shares with its backends (store-sqlite.c,
 * store-pg.c) and with the contract tests. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"
#include "model/submission.h"
#include "store/store.h"

#define STORE_IN_QUEUE 1
#define STORE_PROCESSING 2
#define STORE_FIRST_FINAL 3
#define STORE_LAST_FINAL 14

/* One versioned migration: SQL text compiled in from src/store/migrations/<backend>/. */
typedef struct StoreMigration {
        unsigned version; /* 1, 2, 3... without gaps */
        const char *name; /* the file name without its number and ".sql" */
        const char *sql; /* one or more statements */
} StoreMigration;

/* Generated from the .sql files (store-migrations.c). */
extern const StoreMigration store_sqlite_migrations[];
extern const size_t store_sqlite_n_migrations;
extern const StoreMigration store_pg_migrations[];
extern const size_t store_pg_n_migrations;

/* The columns of the tables, as data: both backends build their statements from these
 * tables, bind values from them and read rows into them. The names are the columns'
 * names in both schemas. */
typedef enum StoreColumnType {
        STORE_COLUMN_BYTES, /* Bytes; NULL data = SQL NULL */
        STORE_COLUMN_INT, /* int */
        STORE_COLUMN_INT_OR_NULL, /* int; negative = SQL NULL, read back as -1 */
        STORE_COLUMN_U32, /* uint32_t, at most INT32_MAX (PostgreSQL integer) */
        STORE_COLUMN_U64, /* uint64_t, at most INT64_MAX (bigint) */
        STORE_COLUMN_I64_OR_NULL, /* int64_t; negative = SQL NULL, read back as -1 */
        STORE_COLUMN_BOOL, /* bool */
        STORE_COLUMN_DOUBLE, /* double, finite */
        STORE_COLUMN_DOUBLE_OR_NULL, /* double, finite; negative = SQL NULL, read back as -1 */
        STORE_COLUMN_COMPARE, /* CompareMode, as an integer */
        _STORE_COLUMN_TYPE_MAX,
} StoreColumnType;

typedef struct StoreColumn {
        const char *name;
        StoreColumnType type;
        size_t offset; /* in Submission or SubmissionTest */
} StoreColumn;

typedef enum StoreColumnSet {
        STORE_SUBMISSION_INPUT, /* written by create */
        STORE_SUBMISSION_RESULT, /* written by finish (status_id first) */
        STORE_TEST_INPUT,
        STORE_TEST_RESULT,
        _STORE_COLUMN_SET_MAX,
} StoreColumnSet;

typedef struct StoreColumns {
        const StoreColumn *columns;
        size_t n;
} StoreColumns;

extern const StoreColumns store_columns[_STORE_COLUMN_SET_MAX];

/* A column's value in a form any backend binds. */
typedef enum StoreValueKind {
        STORE_VALUE_NULL,
        STORE_VALUE_INT, /* ints, bools (0/1) and enums */
        STORE_VALUE_DOUBLE,
        STORE_VALUE_BYTES,
} StoreValueKind;

typedef struct StoreValue {
        StoreValueKind kind;
        int64_t i;
        double d;
        const char *data; /* may be NULL when len is 0 */
        size_t len;
} StoreValue;

/* The value of column c of obj (a Submission or a SubmissionTest, as c's set says).
 * Bytes are borrowed from obj. */
StoreValue store_column_value(const StoreColumn *c, const void *obj);
/* Set column c of obj from a value read from the database (bytes are copied, NUL
 * terminated). -EBADMSG when the value does not fit the field, -ENOMEM. */
int store_column_assign(const StoreColumn *c, void *obj, const StoreValue *v);

/* A growing SQL text, built from the tables above and constants only (never from data:
 * data always goes in parameters). The first failure sticks in .error. */
typedef struct StoreSql {
        char *buf;
        size_t len, cap;
        int error;
} StoreSql;
void store_sql_add(StoreSql *q, const char *fmt, ...) _printf_(2, 3);
/* Append "PREFIXname, PREFIXname..." for a column set. */
void store_sql_add_names(StoreSql *q, StoreColumnSet set, const char *prefix);
/* Hand the text out (the caller frees it), or the error. */
int store_sql_finish(StoreSql *q, char **ret);

/* The same row-building helpers for both backends. */
void store_copy_token(char dst[SUBMISSION_TOKEN_LEN + 1], const char *src);
/* Append one zeroed test to s->tests (n_tests grows); *ret points to it. */
int store_add_test(Submission *s, SubmissionTest **ret);
int64_t store_now_usec(void);
/* The bytes a submission's columns of set (and its tests' of test_set) hold: what its row
 * adds to the payload_bytes the by-size retention policy sums. */
uint64_t store_payload_bytes(const Submission *s, StoreColumnSet set, StoreColumnSet test_set);
/* *ret (overwritten) as the tombstone of a purged submission, from the columns of a
 * purged_submissions row (finished -1 for NULL). -EBADMSG when they do not fit. */
int store_tombstone(const char *token, int64_t status_id, int64_t language_id, int64_t created_usec,
        int64_t finished_usec, int64_t purged_usec, Submission *ret);
/* Append one (key, count) row to a growing array (doubling at powers of two). */
int store_count_append(StoreCount **list, size_t *n, int64_t key, int64_t count);
/* Append one registry row (info copied; the WorkerInfo holds only id and heartbeat) to
 * the growing arrays of a workers() op; store_worker_rows_free() on failure. */
int store_worker_row_append(WorkerInfo **list, char ***infos, size_t *n, const char *id, const char *info,
        int64_t heartbeat_at_usec);
void store_worker_rows_free(WorkerInfo *list, char **infos, size_t n);
/* Write a one-line reason into errbuf (STORE_ERROR_MAX bytes, or NULL: nothing). */
void store_set_error(char *errbuf, const char *fmt, ...) _printf_(2, 3);

typedef struct StorePurgeCandidate {
        int64_t id;
        int64_t finished_at_usec;
        uint64_t payload_bytes;
} StorePurgeCandidate;

/* A backend. Each defines its own struct StoreBackend; store.c only passes it along, with
 * the Store's mutex held: backends need no locking of their own. Arguments are validated
 * by store.c before they get here (tokens are well-formed lowercase UUIDs, numbers fit
 * their columns, offsets are at most INT64_MAX). */
typedef struct StoreBackend StoreBackend;

typedef struct StoreOps {
        const char *name;
        const StoreMigration *migrations;
        const size_t *n_migrations;
        /* SQL that begins the transaction of one migration step, holding a lock that
         * serializes concurrent openers of the same database. */
        const char *migration_begin;
        /* CREATE TABLE IF NOT EXISTS schema_version (version, name, applied_at). */
        const char *schema_version_table;

        /* target: the url without "sqlite:" (SQLite) or the whole url (PostgreSQL). */
        int (*connect)(const char *target, char *errbuf, StoreBackend **ret);
        StoreBackend *(*disconnect)(StoreBackend *b);
        /* The last error's message, for errbuf (never NULL). */
        const char *(*error_message)(StoreBackend *b);
        /* Statements without parameters nor results (BEGIN, a migration). */
        int (*exec)(StoreBackend *b, const char *sql);
        /* A query whose answer is one integer (NULL reads as 0). */
        int (*query_int)(StoreBackend *b, const char *sql, int64_t *ret);
        int (*record_migration)(StoreBackend *b, const StoreMigration *m);
        /* Once the schema is current: prepare the statements. */
        int (*prepare)(StoreBackend *b);

        int (*ping)(StoreBackend *b);
        int (*create)(StoreBackend *b, const Submission *sub);
        int (*get)(StoreBackend *b, const char *token, Submission *ret);
        int (*list)(StoreBackend *b, int64_t offset, uint32_t limit, Submission **ret, size_t *ret_n,
                uint64_t *ret_total);
        int (*delete)(StoreBackend *b, const char *token);
        int (*claim)(StoreBackend *b, const char *token, uint32_t *ret_attempts);
        int (*finish)(StoreBackend *b, const Submission *result);
        int (*unfinished)(StoreBackend *b, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n);
        int (*count_by_status)(StoreBackend *b, uint64_t ret_counts[STORE_STATUS_SLOTS]);
        /* (language_id, count) rows in any order. */
        int (*count_by_language)(StoreBackend *b, StoreCount **ret, size_t *ret_n);
        /* (day, count) rows, in any order, of the submissions created at or after
         * since_usec; day = (created_at - since_usec) / STORE_DAY_USEC. */
        int (*count_by_day)(StoreBackend *b, int64_t since_usec, StoreCount **ret, size_t *ret_n);
        int (*size)(StoreBackend *b, uint64_t *ret_bytes);
        int (*worker_beat)(StoreBackend *b, const char *id, const char *info);
        int (*worker_remove)(StoreBackend *b, const char *id);
        /* (id, info, heartbeat) rows of the workers seen at most max_age_usec ago, by id;
         * the caller parses info. */
        int (*workers)(
                StoreBackend *b, uint64_t max_age_usec, WorkerInfo **ret, char ***ret_infos, size_t *ret_n);

        /* Retention. The sum of payload_bytes of the submissions (not purged). */
        int (*live_bytes)(StoreBackend *b, uint64_t *ret_bytes);
        /* Up to limit final submissions, oldest finished first. */
        int (*purge_candidates)(StoreBackend *b, uint32_t limit, StorePurgeCandidate **ret, size_t *ret_n);
        /* Purge these (from purge_candidates()) in one transaction: a tombstone (token,
         * status_id, language_id, created_at, finished_at, purged_at = now) in
         * purged_submissions, the row and its tests deleted. Rows gone meanwhile are skipped.
         * get() answers a tombstone's token with it; delete() deletes it. */
        int (*purge)(StoreBackend *b, const StorePurgeCandidate *c, size_t n);
        /* Give the space freed by purge() back (SQLite: incremental vacuum). */
        int (*reclaim)(StoreBackend *b);
        /* store_health()'s probe: rewrite the store_probe row with STORE_PROBE_BYTES of
         * padding (SQLite: first check the free space of the file system). */
        int (*probe)(StoreBackend *b);
} StoreOps;

extern const StoreOps store_sqlite_ops;
extern const StoreOps store_pg_ops;

/* store_open() with a given list of migrations instead of the backend's own (NULL = the
 * backend's), for the tests of the migration runner. */
int store_open_with_migrations(
        const char *url, const StoreMigration *migrations, size_t n_migrations, char *errbuf, Store **ret);

/* For tests: run SQL without parameters, or a query answering one integer. */
int store_exec_sql(Store *s, const char *sql);
int store_query_int(Store *s, const char *sql, int64_t *ret);
