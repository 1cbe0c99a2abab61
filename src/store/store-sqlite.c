/* SPDX-License-Identifier: MIT */
/* The SQLite backend: the only file that includes sqlite3.h. One connection per Store, in
 * WAL mode (readers never wait for the writer), synchronous=NORMAL (a committed
 * transaction survives a crash of the process; a power cut may lose the last ones), a
 * busy timeout for the other connections' writes, foreign keys on (tests are deleted with
 * their submission), every statement prepared once. Writes that touch several rows run
 * in BEGIN IMMEDIATE transactions: they take the write lock up front, so two connections
 * never deadlock upgrading a read. */

#include <errno.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "store/store-internal.h"

#define BUSY_TIMEOUT_MSEC 10000

typedef enum Stmt {
        STMT_PING,
        STMT_BEGIN,
        STMT_BEGIN_IMMEDIATE,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_INSERT,
        STMT_INSERT_TEST,
        STMT_GET,
        STMT_GET_TESTS,
        STMT_LIST,
        STMT_LIST_TESTS,
        STMT_COUNT,
        STMT_STATUS,
        STMT_DELETE,
        STMT_CLAIM,
        STMT_FINISH,
        STMT_FINISH_TEST,
        STMT_UNFINISHED,
        STMT_COUNT_BY_STATUS,
        STMT_COUNT_BY_LANGUAGE,
        STMT_COUNT_BY_DAY,
        STMT_SIZE,
        STMT_LIVE_BYTES,
        STMT_PURGE_CANDIDATES,
        STMT_PURGE,
        STMT_PURGE_DELETE,
        STMT_RECLAIM,
        STMT_GET_PURGED,
        STMT_DELETE_PURGED,
        STMT_PROBE,
        STMT_WORKER_BEAT,
        STMT_WORKER_REMOVE,
        STMT_WORKERS,
        _STMT_MAX,
} Stmt;

struct StoreBackend {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];
        char *path; /* the database file; NULL for an in-memory one */
};

/* The first columns of a submission row, before the input and result columns. */
#define SUBMISSION_HEAD "id, token, created_at_usec, finished_at_usec, attempts"
#define SUBMISSION_HEAD_N 5
/* ... and of a test row. */
#define TEST_HEAD_N 2
#define NEWEST_FIRST "ORDER BY created_at_usec DESC, id DESC"
/* A tombstone (store_purge()). */
#define PURGED_COLUMNS "token, status_id, language_id, created_at_usec, finished_at_usec, purged_at_usec"

/* ---- errors ---- */

static const struct {
        int code; /* an extended result code, or a primary one */
        int error;
} errno_of_code[] = {
        {SQLITE_CONSTRAINT_UNIQUE, EEXIST},
        {SQLITE_CONSTRAINT_PRIMARYKEY, EEXIST},
        {SQLITE_CONSTRAINT, EINVAL},
        {SQLITE_NOMEM, ENOMEM},
        {SQLITE_BUSY, EAGAIN},
        {SQLITE_LOCKED, EAGAIN},
        {SQLITE_READONLY, EROFS},
        {SQLITE_FULL, ENOSPC},
        {SQLITE_PERM, EACCES},
        {SQLITE_AUTH, EACCES},
        {SQLITE_CANTOPEN, ENOENT},
        {SQLITE_IOERR, EIO},
        {SQLITE_CORRUPT, EBADMSG},
        {SQLITE_NOTADB, EBADMSG},
        {SQLITE_FORMAT, EBADMSG},
        {SQLITE_TOOBIG, E2BIG},
        {SQLITE_INTERRUPT, EINTR},
        {SQLITE_MISMATCH, EINVAL},
        {SQLITE_RANGE, EINVAL},
};

static int errno_of(sqlite3 *db, int rc) {
        /* The operating system's own reason when there is one (ENOENT, EACCES, ENOSPC...). */
        if (db && ((rc & 0xff) == SQLITE_CANTOPEN || (rc & 0xff) == SQLITE_IOERR)) {
                int e = sqlite3_system_errno(db);
                if (e > 0)
                        return -e;
        }
        for (size_t i = 0; i < ELEMENTSOF(errno_of_code); i++)
                if (errno_of_code[i].code == rc)
                        return -errno_of_code[i].error;
        for (size_t i = 0; i < ELEMENTSOF(errno_of_code); i++)
                if (errno_of_code[i].code == (rc & 0xff))
                        return -errno_of_code[i].error;
        return -EIO;
}

/* ---- statements ---- */

static void stmt_resetp(sqlite3_stmt **st) {
        if (*st) {
                (void) sqlite3_reset(*st);
                (void) sqlite3_clear_bindings(*st);
        }
}
/* A prepared statement borrowed for one call: reset when it goes out of scope, which also
 * ends the implicit read transaction of a SELECT. */
#define _cleanup_reset_ _cleanup_(stmt_resetp)

/* 1 on a row, 0 when done. */
static int step(StoreBackend *b, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return errno_of(b->db, rc);
}

static int run(StoreBackend *b, Stmt which) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[which];
        int r = step(b, st);
        return r > 0 ? 0 : r;
}

/* An open transaction, rolled back when it goes out of scope uncommitted. */
static void rollbackp(StoreBackend **b) {
        if (*b)
                (void) run(*b, STMT_ROLLBACK);
}
#define _cleanup_rollback_ _cleanup_(rollbackp)

static int begin(StoreBackend *b, Stmt which, StoreBackend **ret_txn) {
        int r = run(b, which);
        if (r < 0)
                return r;
        *ret_txn = b;
        return 0;
}

static int commit(StoreBackend **txn) {
        int r = run(*txn, STMT_COMMIT);
        if (r < 0)
                return r; /* still open: rolled back by the cleanup */
        *txn = NULL;
        return 0;
}

static int bind_value(StoreBackend *b, sqlite3_stmt *st, int i, const StoreValue *v) {
        int rc;
        switch (v->kind) {
        case STORE_VALUE_NULL:
                rc = sqlite3_bind_null(st, i);
                break;
        case STORE_VALUE_INT:
                rc = sqlite3_bind_int64(st, i, v->i);
                break;
        case STORE_VALUE_DOUBLE:
                rc = sqlite3_bind_double(st, i, v->d);
                break;
        case STORE_VALUE_BYTES:
                /* a non-NULL pointer: an empty blob, not NULL */
                rc = sqlite3_bind_blob64(st, i, v->data ? v->data : "", v->len, SQLITE_STATIC);
                break;
        default:
                return -EINVAL;
        }
        return rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
}

/* Bind the columns of a set from obj to parameters first, first + 1... */
static int bind_columns(StoreBackend *b, sqlite3_stmt *st, int first, StoreColumnSet set, const void *obj) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                StoreValue v = store_column_value(&store_columns[set].columns[i], obj);
                int r = bind_value(b, st, first + (int) i, &v);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int bind_token(StoreBackend *b, sqlite3_stmt *st, int i, const char *token) {
        int rc = sqlite3_bind_text(st, i, token, SUBMISSION_TOKEN_LEN, SQLITE_STATIC);
        return rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
}

static int bind_int(StoreBackend *b, sqlite3_stmt *st, int i, int64_t v) {
        int rc = sqlite3_bind_int64(st, i, v);
        return rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
}

static int column_value(StoreBackend *b, sqlite3_stmt *st, int i, StoreValue *ret) {
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_NULL:
                *ret = (StoreValue){.kind = STORE_VALUE_NULL};
                return 0;
        case SQLITE_INTEGER:
                *ret = (StoreValue){.kind = STORE_VALUE_INT, .i = sqlite3_column_int64(st, i)};
                return 0;
        case SQLITE_FLOAT:
                *ret = (StoreValue){.kind = STORE_VALUE_DOUBLE, .d = sqlite3_column_double(st, i)};
                return 0;
        default: {
                const void *data = sqlite3_column_blob(st, i); /* NULL for an empty blob */
                int len = sqlite3_column_bytes(st, i);
                if (!data && len > 0)
                        return errno_of(b->db, sqlite3_errcode(b->db));
                *ret = (StoreValue){.kind = STORE_VALUE_BYTES, .data = data, .len = (size_t) len};
                return 0;
        }
        }
}

static int column_int(StoreBackend *b, sqlite3_stmt *st, int i, int64_t *ret) {
        StoreValue v;
        int r = column_value(b, st, i, &v);
        if (r < 0)
                return r;
        if (v.kind == STORE_VALUE_NULL)
                v = (StoreValue){.kind = STORE_VALUE_INT, .i = 0};
        if (v.kind != STORE_VALUE_INT)
                return -EBADMSG;
        *ret = v.i;
        return 0;
}

/* Read the columns of a set into obj from result columns first, first + 1... */
static int read_columns(StoreBackend *b, sqlite3_stmt *st, int first, StoreColumnSet set, void *obj) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                const StoreColumn *c = &store_columns[set].columns[i];
                StoreValue v;
                int r = column_value(b, st, first + (int) i, &v);
                if (r < 0)
                        return r;
                if ((c->type == STORE_COLUMN_DOUBLE || c->type == STORE_COLUMN_DOUBLE_OR_NULL) &&
                        v.kind == STORE_VALUE_INT)
                        v = (StoreValue){.kind = STORE_VALUE_DOUBLE, .d = (double) v.i};
                r = store_column_assign(c, obj, &v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A row of SUBMISSION_HEAD, input, result columns. *ret is overwritten. */
static int read_submission(StoreBackend *b, sqlite3_stmt *st, Submission *ret, int64_t *ret_id) {
        _cleanup_(submission_done) Submission s = {};
        int64_t id, created, finished, attempts;
        int r;

        submission_init(&s);
        const unsigned char *token = sqlite3_column_text(st, 1);
        if (!token || sqlite3_column_bytes(st, 1) != SUBMISSION_TOKEN_LEN)
                return -EBADMSG;
        store_copy_token(s.token, (const char *) token);

        if ((r = column_int(b, st, 0, &id)) < 0 || (r = column_int(b, st, 2, &created)) < 0 ||
                (r = column_int(b, st, 4, &attempts)) < 0)
                return r;
        if (attempts < 0 || attempts > UINT32_MAX)
                return -EBADMSG;
        if (sqlite3_column_type(st, 3) == SQLITE_NULL)
                finished = -1;
        else if ((r = column_int(b, st, 3, &finished)) < 0)
                return r;

        r = read_columns(b, st, SUBMISSION_HEAD_N, STORE_SUBMISSION_INPUT, &s);
        if (r < 0)
                return r;
        r = read_columns(b, st, SUBMISSION_HEAD_N + (int) store_columns[STORE_SUBMISSION_INPUT].n,
                STORE_SUBMISSION_RESULT, &s);
        if (r < 0)
                return r;
        s.created_at_usec = created;
        s.finished_at_usec = finished;
        s.attempts = (uint32_t) attempts;

        *ret = s;
        submission_init(&s);
        *ret_id = id;
        return 0;
}

/* A row of submission_id, ordinal, input, result columns: appended to sub's tests, which
 * must come in order. */
static int read_test(StoreBackend *b, sqlite3_stmt *st, Submission *sub) {
        int64_t ordinal;
        SubmissionTest *t;
        int r;

        r = column_int(b, st, 1, &ordinal);
        if (r < 0)
                return r;
        if (ordinal < 0 || (uint64_t) ordinal != sub->n_tests)
                return -EBADMSG;
        r = store_add_test(sub, &t);
        if (r < 0)
                return r;
        r = read_columns(b, st, TEST_HEAD_N, STORE_TEST_INPUT, t);
        if (r < 0)
                return r;
        return read_columns(
                b, st, TEST_HEAD_N + (int) store_columns[STORE_TEST_INPUT].n, STORE_TEST_RESULT, t);
}

static int build_sql(Stmt which, char **ret) {
        StoreSql q = {};
        size_t n_in = store_columns[STORE_SUBMISSION_INPUT].n;
        size_t n_tin = store_columns[STORE_TEST_INPUT].n;
        size_t n_tres = store_columns[STORE_TEST_RESULT].n;

        switch (which) {
        case STMT_PING:
                store_sql_add(&q, "SELECT 1");
                break;
        case STMT_BEGIN:
                store_sql_add(&q, "BEGIN");
                break;
        case STMT_BEGIN_IMMEDIATE:
                store_sql_add(&q, "BEGIN IMMEDIATE");
                break;
        case STMT_COMMIT:
                store_sql_add(&q, "COMMIT");
                break;
        case STMT_ROLLBACK:
                store_sql_add(&q, "ROLLBACK");
                break;
        case STMT_INSERT:
                store_sql_add(&q, "INSERT INTO submissions (token, created_at_usec, payload_bytes, ");
                store_sql_add_names(&q, STORE_SUBMISSION_INPUT, "");
                store_sql_add(&q, ") VALUES (?1, ?2, ?3");
                for (size_t i = 0; i < n_in; i++)
                        store_sql_add(&q, ", ?%zu", i + 4);
                store_sql_add(&q, ")");
                break;
        case STMT_INSERT_TEST:
                store_sql_add(&q, "INSERT INTO submission_tests (submission_id, ordinal, ");
                store_sql_add_names(&q, STORE_TEST_INPUT, "");
                store_sql_add(&q, ") VALUES (?1, ?2");
                for (size_t i = 0; i < n_tin; i++)
                        store_sql_add(&q, ", ?%zu", i + 3);
                store_sql_add(&q, ")");
                break;
        case STMT_GET:
        case STMT_LIST:
                store_sql_add(&q, "SELECT " SUBMISSION_HEAD ", ");
                store_sql_add_names(&q, STORE_SUBMISSION_INPUT, "");
                store_sql_add(&q, ", ");
                store_sql_add_names(&q, STORE_SUBMISSION_RESULT, "");
                if (which == STMT_GET)
                        store_sql_add(&q, " FROM submissions WHERE token = ?1");
                else
                        store_sql_add(&q, " FROM submissions " NEWEST_FIRST " LIMIT ?1 OFFSET ?2");
                break;
        case STMT_GET_TESTS:
        case STMT_LIST_TESTS:
                store_sql_add(&q, "SELECT submission_id, ordinal, ");
                store_sql_add_names(&q, STORE_TEST_INPUT, "");
                store_sql_add(&q, ", ");
                store_sql_add_names(&q, STORE_TEST_RESULT, "");
                if (which == STMT_GET_TESTS)
                        store_sql_add(
                                &q, " FROM submission_tests WHERE submission_id = ?1 ORDER BY ordinal");
                else
                        store_sql_add(&q, " FROM submission_tests WHERE submission_id IN "
                                          "(SELECT id FROM submissions " NEWEST_FIRST " LIMIT ?1 OFFSET ?2) "
                                          "ORDER BY submission_id, ordinal");
                break;
        case STMT_COUNT:
                store_sql_add(&q, "SELECT count(*) FROM submissions");
                break;
        case STMT_STATUS:
                store_sql_add(&q, "SELECT status_id FROM submissions WHERE token = ?1");
                break;
        case STMT_DELETE:
                store_sql_add(&q, "DELETE FROM submissions WHERE token = ?1 AND status_id NOT IN (1, 2)");
                break;
        case STMT_CLAIM:
                store_sql_add(&q, "UPDATE submissions SET status_id = 2, attempts = attempts + 1 "
                                  "WHERE token = ?1 AND status_id IN (1, 2) RETURNING attempts");
                break;
        case STMT_FINISH: {
                const StoreColumns *cols = &store_columns[STORE_SUBMISSION_RESULT];
                store_sql_add(&q, "UPDATE submissions SET finished_at_usec = ?2, "
                                  "payload_bytes = payload_bytes + ?3");
                for (size_t i = 0; i < cols->n; i++)
                        store_sql_add(&q, ", %s = ?%zu", cols->columns[i].name, i + 4);
                store_sql_add(&q, " WHERE token = ?1 AND status_id IN (1, 2) RETURNING id");
                break;
        }
        case STMT_FINISH_TEST: {
                const StoreColumns *cols = &store_columns[STORE_TEST_RESULT];
                store_sql_add(&q, "UPDATE submission_tests SET ");
                for (size_t i = 0; i < n_tres; i++)
                        store_sql_add(&q, "%s%s = ?%zu", i > 0 ? ", " : "", cols->columns[i].name, i + 3);
                store_sql_add(&q, " WHERE submission_id = ?1 AND ordinal = ?2");
                break;
        }
        case STMT_UNFINISHED:
                store_sql_add(&q, "SELECT token FROM submissions WHERE status_id IN (1, 2) "
                                  "ORDER BY created_at_usec, id");
                break;
        case STMT_COUNT_BY_STATUS:
                store_sql_add(&q, "SELECT status_id, count(*) FROM submissions GROUP BY status_id");
                break;
        case STMT_COUNT_BY_LANGUAGE:
                store_sql_add(&q, "SELECT language_id, count(*) FROM submissions GROUP BY language_id");
                break;
        case STMT_COUNT_BY_DAY:
                store_sql_add(&q,
                        "SELECT (created_at_usec - ?1) / %" PRId64 ", count(*) FROM submissions "
                        "WHERE created_at_usec >= ?1 GROUP BY 1",
                        STORE_DAY_USEC);
                break;
        case STMT_SIZE:
                store_sql_add(
                        &q, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()");
                break;
        case STMT_LIVE_BYTES:
                store_sql_add(&q, "SELECT sum(payload_bytes) FROM submissions");
                break;
        case STMT_PURGE_CANDIDATES:
                store_sql_add(&q, "SELECT id, finished_at_usec, payload_bytes FROM submissions "
                                  "WHERE status_id >= 3 ORDER BY finished_at_usec, id LIMIT ?1");
                break;
        case STMT_PURGE:
                store_sql_add(&q,
                        "INSERT OR IGNORE INTO purged_submissions (" PURGED_COLUMNS ") "
                        "SELECT token, status_id, language_id, created_at_usec, finished_at_usec, ?2 "
                        "FROM submissions WHERE id = ?1 AND status_id >= 3");
                break;
        case STMT_PURGE_DELETE: /* the tests go with it (ON DELETE CASCADE) */
                store_sql_add(&q, "DELETE FROM submissions WHERE id = ?1 AND status_id >= 3");
                break;
        case STMT_GET_PURGED:
                store_sql_add(&q, "SELECT " PURGED_COLUMNS " FROM purged_submissions WHERE token = ?1");
                break;
        case STMT_DELETE_PURGED:
                store_sql_add(&q, "DELETE FROM purged_submissions WHERE token = ?1");
                break;
        case STMT_PROBE:
                store_sql_add(&q,
                        "INSERT INTO store_probe (id, at_usec, pad) VALUES (1, ?1, zeroblob(%u)) "
                        "ON CONFLICT (id) DO UPDATE SET at_usec = excluded.at_usec, pad = excluded.pad",
                        STORE_PROBE_BYTES);
                break;
        case STMT_RECLAIM:
                /* every free page; a no-op unless the file was created with auto_vacuum */
                store_sql_add(&q, "PRAGMA incremental_vacuum");
                break;
        case STMT_WORKER_BEAT:
                store_sql_add(&q, "INSERT INTO workers (id, info, heartbeat_at_usec) VALUES (?1, ?2, ?3) "
                                  "ON CONFLICT (id) DO UPDATE SET info = ?2, heartbeat_at_usec = ?3");
                break;
        case STMT_WORKER_REMOVE:
                store_sql_add(&q, "DELETE FROM workers WHERE id = ?1");
                break;
        case STMT_WORKERS:
                store_sql_add(&q,
                        "SELECT id, info, heartbeat_at_usec FROM workers WHERE heartbeat_at_usec >= ?1 "
                        "ORDER BY id");
                break;
        default:
                return -EINVAL;
        }
        return store_sql_finish(&q, ret);
}

/* ---- connection, migrations ---- */

static StoreBackend *sq_disconnect(StoreBackend *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(b->stmts[i]);
        sqlite3_close_v2(b->db);
        free(b->path);
        free(b);
        return NULL;
}

static void disconnectp(StoreBackend **b) {
        sq_disconnect(*b);
}

static const char *sq_error_message(StoreBackend *b) {
        return sqlite3_errmsg(b->db);
}

static int sq_exec(StoreBackend *b, const char *sql) {
        int rc = sqlite3_exec(b->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
}

static int sq_connect(const char *target, char *errbuf, StoreBackend **ret) {
        _cleanup_(disconnectp) StoreBackend *b = NULL;
        int rc, r;

        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        /* No SQLite mutexes: the Store's mutex serializes every use of the connection. */
        rc = sqlite3_open_v2(target, &b->db,
                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                NULL);
        if (rc != SQLITE_OK) {
                r = errno_of(b->db, rc);
                store_set_error(errbuf, "cannot open the SQLite database %s: %s", target,
                        b->db ? sqlite3_errmsg(b->db) : sqlite3_errstr(rc));
                return r;
        }
        (void) sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MSEC);
        const char *file = sqlite3_db_filename(b->db, "main");
        if (file && *file && !(b->path = strdup(file)))
                return -ENOMEM;
        /* auto_vacuum and WAL are properties of the file (auto_vacuum takes only on a new,
         * empty one: before the first table); the others are per connection. Incremental
         * auto_vacuum lets store_purge() give freed pages back to the file system; the WAL is
         * truncated back to journal_size_limit after each checkpoint. */
        r = sq_exec(b, "PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; "
                       "PRAGMA journal_size_limit = 67108864; PRAGMA synchronous = NORMAL; "
                       "PRAGMA foreign_keys = ON");
        if (r < 0) {
                store_set_error(
                        errbuf, "cannot set up the SQLite database %s: %s", target, sqlite3_errmsg(b->db));
                return r;
        }
        *ret = TAKE_PTR(b);
        return 0;
}

static int sq_query_int(StoreBackend *b, const char *sql, int64_t *ret) {
        sqlite3_stmt *st = NULL;
        int64_t v = 0;
        int r;

        int rc = sqlite3_prepare_v2(b->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return errno_of(b->db, rc);
        r = step(b, st);
        if (r > 0)
                r = column_int(b, st, 0, &v);
        else if (r == 0)
                r = -ENODATA;
        sqlite3_finalize(st);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int sq_record_migration(StoreBackend *b, const StoreMigration *m) {
        sqlite3_stmt *st = NULL;
        int r;

        int rc = sqlite3_prepare_v2(
                b->db, "INSERT INTO schema_version (version, name) VALUES (?1, ?2)", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return errno_of(b->db, rc);
        r = bind_int(b, st, 1, m->version);
        if (r >= 0) {
                rc = sqlite3_bind_text(st, 2, m->name, -1, SQLITE_STATIC);
                r = rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
        }
        if (r >= 0)
                r = step(b, st);
        sqlite3_finalize(st);
        return r < 0 ? r : 0;
}

static int sq_prepare(StoreBackend *b) {
        for (size_t i = 0; i < _STMT_MAX; i++) {
                _cleanup_free_ char *sql = NULL;
                int r = build_sql((Stmt) i, &sql);
                if (r < 0)
                        return r;
                int rc = sqlite3_prepare_v3(b->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &b->stmts[i], NULL);
                if (rc != SQLITE_OK)
                        return errno_of(b->db, rc);
        }
        return 0;
}

/* ---- the calls ---- */

static int sq_ping(StoreBackend *b) {
        return run(b, STMT_PING);
}

/* ENOENT when the token is unknown, else the status. */
static int status_of(StoreBackend *b, const char *token, int *ret) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_STATUS];
        int64_t status;
        int r;

        r = bind_token(b, st, 1, token);
        if (r < 0)
                return r;
        r = step(b, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        r = column_int(b, st, 0, &status);
        if (r < 0)
                return r;
        *ret = (int) status;
        return 0;
}

static int sq_create(StoreBackend *b, const Submission *sub) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        int64_t id;
        int r;

        if (sub->n_tests > 0) {
                r = begin(b, STMT_BEGIN_IMMEDIATE, &txn);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_INSERT];
                uint64_t payload = store_payload_bytes(sub, STORE_SUBMISSION_INPUT, STORE_TEST_INPUT);
                if ((r = bind_token(b, st, 1, sub->token)) < 0 ||
                        (r = bind_int(b, st, 2, store_now_usec())) < 0 ||
                        (r = bind_int(b, st, 3, (int64_t) payload)) < 0 ||
                        (r = bind_columns(b, st, 4, STORE_SUBMISSION_INPUT, sub)) < 0 ||
                        (r = step(b, st)) < 0)
                        return r;
                id = sqlite3_last_insert_rowid(b->db);
        }
        for (size_t i = 0; i < sub->n_tests; i++) {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_INSERT_TEST];
                if ((r = bind_int(b, st, 1, id)) < 0 || (r = bind_int(b, st, 2, (int64_t) i)) < 0 ||
                        (r = bind_columns(b, st, 3, STORE_TEST_INPUT, &sub->tests[i])) < 0 ||
                        (r = step(b, st)) < 0)
                        return r;
        }
        return txn ? commit(&txn) : 0;
}

/* The tombstone of a purged submission, or -ENOENT. */
static int get_purged(StoreBackend *b, const char *token, Submission *ret) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_GET_PURGED];
        int64_t v[6] = {[4] = -1}; /* PURGED_COLUMNS after the token; a NULL finished_at stays -1 */
        int r;

        if ((r = bind_token(b, st, 1, token)) < 0 || (r = step(b, st)) < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        for (int i = 1; i < 6; i++)
                if (sqlite3_column_type(st, i) != SQLITE_NULL && (r = column_int(b, st, i, &v[i])) < 0)
                        return r;
        return store_tombstone(token, v[1], v[2], v[3], v[4], v[5], ret);
}

static int sq_get(StoreBackend *b, const char *token, Submission *ret) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        _cleanup_(submission_done) Submission s = {};
        int64_t id;
        int r;

        /* One snapshot for the submission and its tests. */
        r = begin(b, STMT_BEGIN, &txn);
        if (r < 0)
                return r;
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_GET];
                if ((r = bind_token(b, st, 1, token)) < 0 || (r = step(b, st)) < 0)
                        return r;
                if (r == 0)
                        return get_purged(b, token, ret);
                r = read_submission(b, st, &s, &id);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_GET_TESTS];
                if ((r = bind_int(b, st, 1, id)) < 0)
                        return r;
                while ((r = step(b, st)) > 0)
                        if ((r = read_test(b, st, &s)) < 0)
                                return r;
                if (r < 0)
                        return r;
        }
        r = commit(&txn);
        if (r < 0)
                return r;
        *ret = s;
        submission_init(&s);
        return 0;
}

typedef struct IdIndex {
        int64_t id;
        size_t index;
} IdIndex;

static int id_index_compare(const void *a, const void *b) {
        int64_t x = ((const IdIndex *) a)->id, y = ((const IdIndex *) b)->id;
        return (x > y) - (x < y);
}

static int sq_list(StoreBackend *b, int64_t offset, uint32_t limit, Submission **ret, size_t *ret_n,
        uint64_t *ret_total) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        Submission *list = NULL;
        _cleanup_free_ IdIndex *ids = NULL;
        size_t n = 0;
        int64_t total = 0;
        int r;

        r = begin(b, STMT_BEGIN, &txn);
        if (r < 0)
                return r;
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_LIST];
                if ((r = bind_int(b, st, 1, limit)) < 0 || (r = bind_int(b, st, 2, offset)) < 0)
                        goto fail;
                while ((r = step(b, st)) > 0) {
                        if ((n & (n - 1)) == 0) { /* 0, 1, 2, 4... grow */
                                size_t cap = n ? n * 2 : 1;
                                Submission *l = reallocarray(list, cap, sizeof *l);
                                IdIndex *d = reallocarray(ids, cap, sizeof *d);
                                if (l)
                                        list = l;
                                if (d)
                                        ids = d;
                                if (!l || !d) {
                                        r = -ENOMEM;
                                        goto fail;
                                }
                        }
                        r = read_submission(b, st, &list[n], &ids[n].id);
                        if (r < 0)
                                goto fail;
                        ids[n].index = n;
                        n++;
                }
                if (r < 0)
                        goto fail;
        }
        if (n > 0) {
                qsort(ids, n, sizeof *ids, id_index_compare);
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_LIST_TESTS];
                if ((r = bind_int(b, st, 1, limit)) < 0 || (r = bind_int(b, st, 2, offset)) < 0)
                        goto fail;
                while ((r = step(b, st)) > 0) {
                        IdIndex key;
                        if ((r = column_int(b, st, 0, &key.id)) < 0)
                                goto fail;
                        const IdIndex *found = bsearch(&key, ids, n, sizeof *ids, id_index_compare);
                        if (!found) { /* cannot happen within one snapshot */
                                r = -EBADMSG;
                                goto fail;
                        }
                        if ((r = read_test(b, st, &list[found->index])) < 0)
                                goto fail;
                }
                if (r < 0)
                        goto fail;
        }
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_COUNT];
                if ((r = step(b, st)) < 0 || (r = column_int(b, st, 0, &total)) < 0)
                        goto fail;
        }
        r = commit(&txn);
        if (r < 0)
                goto fail;
        *ret = n > 0 ? list : (free(list), NULL);
        *ret_n = n;
        *ret_total = (uint64_t) total;
        return 0;
fail:
        store_list_free(list, n);
        return r;
}

static int sq_delete(StoreBackend *b, const char *token) {
        int status, r;
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_DELETE];
                if ((r = bind_token(b, st, 1, token)) < 0 || (r = step(b, st)) < 0)
                        return r;
                if (sqlite3_changes(b->db) > 0)
                        return 0;
        }
        r = status_of(b, token, &status);
        if (r != -ENOENT)
                return r < 0 ? r : -EBUSY;
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_DELETE_PURGED];
                if ((r = bind_token(b, st, 1, token)) < 0 || (r = step(b, st)) < 0)
                        return r;
                return sqlite3_changes(b->db) > 0 ? 0 : -ENOENT;
        }
}

static int sq_claim(StoreBackend *b, const char *token, uint32_t *ret_attempts) {
        int64_t attempts;
        int status, r;
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_CLAIM];
                if ((r = bind_token(b, st, 1, token)) < 0 || (r = step(b, st)) < 0)
                        return r;
                if (r > 0) {
                        if ((r = column_int(b, st, 0, &attempts)) < 0)
                                return r;
                        /* step to the end: the change is complete only then */
                        if ((r = step(b, st)) < 0)
                                return r;
                        if (attempts < 0 || attempts > UINT32_MAX)
                                return -EBADMSG;
                        *ret_attempts = (uint32_t) attempts;
                        return 0;
                }
        }
        r = status_of(b, token, &status);
        return r < 0 ? r : -EALREADY;
}

static int sq_finish(StoreBackend *b, const Submission *result) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        int64_t id;
        int status, r;

        if (result->n_tests > 0) {
                r = begin(b, STMT_BEGIN_IMMEDIATE, &txn);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_FINISH];
                uint64_t payload = store_payload_bytes(result, STORE_SUBMISSION_RESULT, STORE_TEST_RESULT);
                if ((r = bind_token(b, st, 1, result->token)) < 0 ||
                        (r = bind_int(b, st, 2, store_now_usec())) < 0 ||
                        (r = bind_int(b, st, 3, (int64_t) payload)) < 0 ||
                        (r = bind_columns(b, st, 4, STORE_SUBMISSION_RESULT, result)) < 0 ||
                        (r = step(b, st)) < 0)
                        return r;
                if (r == 0)
                        goto not_written;
                if ((r = column_int(b, st, 0, &id)) < 0 || (r = step(b, st)) < 0)
                        return r;
        }
        for (size_t i = 0; i < result->n_tests; i++) {
                _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_FINISH_TEST];
                if ((r = bind_int(b, st, 1, id)) < 0 || (r = bind_int(b, st, 2, (int64_t) i)) < 0 ||
                        (r = bind_columns(b, st, 3, STORE_TEST_RESULT, &result->tests[i])) < 0 ||
                        (r = step(b, st)) < 0)
                        return r;
                if (sqlite3_changes(b->db) == 0)
                        return -EINVAL; /* more results than tests: nothing is written */
        }
        return txn ? commit(&txn) : 0;

not_written:
        if (txn) {
                rollbackp(&txn);
                txn = NULL;
        }
        r = status_of(b, result->token, &status);
        return r < 0 ? r : -EALREADY;
}

static int sq_unfinished(StoreBackend *b, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_UNFINISHED];
        _cleanup_free_ char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = NULL;
        size_t n = 0;
        int r;

        while ((r = step(b, st)) > 0) {
                const unsigned char *t = sqlite3_column_text(st, 0);
                if (!t || sqlite3_column_bytes(st, 0) != SUBMISSION_TOKEN_LEN)
                        return -EBADMSG;
                if ((n & (n - 1)) == 0) {
                        void *p = reallocarray(tokens, n ? n * 2 : 1, sizeof *tokens);
                        if (!p)
                                return -ENOMEM;
                        tokens = p;
                }
                store_copy_token(tokens[n++], (const char *) t);
        }
        if (r < 0)
                return r;
        *ret_tokens = TAKE_PTR(tokens);
        *ret_n = n;
        return 0;
}

static int sq_count_by_status(StoreBackend *b, uint64_t ret_counts[STORE_STATUS_SLOTS]) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_COUNT_BY_STATUS];
        uint64_t counts[STORE_STATUS_SLOTS] = {};
        int r;

        while ((r = step(b, st)) > 0) {
                int64_t status, count;
                if ((r = column_int(b, st, 0, &status)) < 0 || (r = column_int(b, st, 1, &count)) < 0)
                        return r;
                if (status < 0 || status >= STORE_STATUS_SLOTS || count < 0)
                        return -EBADMSG;
                counts[status] = (uint64_t) count;
        }
        if (r < 0)
                return r;
        memcpy(ret_counts, counts, sizeof counts);
        return 0;
}

/* (key, count) rows of a prepared statement whose parameter ?1, if any, is since. */
static int count_rows(StoreBackend *b, Stmt which, int64_t since, StoreCount **ret, size_t *ret_n) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[which];
        _cleanup_free_ StoreCount *list = NULL;
        size_t n = 0;
        int r;

        if (sqlite3_bind_parameter_count(st) > 0 && (r = bind_int(b, st, 1, since)) < 0)
                return r;
        while ((r = step(b, st)) > 0) {
                int64_t key, count;
                if ((r = column_int(b, st, 0, &key)) < 0 || (r = column_int(b, st, 1, &count)) < 0)
                        return r;
                if ((r = store_count_append(&list, &n, key, count)) < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int sq_count_by_language(StoreBackend *b, StoreCount **ret, size_t *ret_n) {
        return count_rows(b, STMT_COUNT_BY_LANGUAGE, 0, ret, ret_n);
}

static int sq_count_by_day(StoreBackend *b, int64_t since_usec, StoreCount **ret, size_t *ret_n) {
        return count_rows(b, STMT_COUNT_BY_DAY, since_usec, ret, ret_n);
}

/* A statement without parameters answering one non-negative integer. */
static int count_of(StoreBackend *b, Stmt which, uint64_t *ret) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[which];
        int64_t v = 0;
        int r = step(b, st);
        if (r == 0)
                return -ENODATA;
        if (r < 0 || (r = column_int(b, st, 0, &v)) < 0)
                return r;
        if (v < 0)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

static int sq_size(StoreBackend *b, uint64_t *ret_bytes) {
        return count_of(b, STMT_SIZE, ret_bytes);
}

static int sq_live_bytes(StoreBackend *b, uint64_t *ret_bytes) {
        return count_of(b, STMT_LIVE_BYTES, ret_bytes);
}

static int sq_purge_candidates(StoreBackend *b, uint32_t limit, StorePurgeCandidate **ret, size_t *ret_n) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_PURGE_CANDIDATES];
        _cleanup_free_ StorePurgeCandidate *list = calloc(limit, sizeof *list);
        size_t n = 0;
        int r;

        if (!list)
                return -ENOMEM;
        if ((r = bind_int(b, st, 1, limit)) < 0)
                return r;
        while (n < limit && (r = step(b, st)) > 0) {
                StorePurgeCandidate *c = &list[n++];
                int64_t bytes;
                if ((r = column_int(b, st, 0, &c->id)) < 0 ||
                        (r = column_int(b, st, 1, &c->finished_at_usec)) < 0 ||
                        (r = column_int(b, st, 2, &bytes)) < 0)
                        return r;
                if (bytes < 0)
                        return -EBADMSG;
                c->payload_bytes = (uint64_t) bytes;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int sq_purge(StoreBackend *b, const StorePurgeCandidate *c, size_t n) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        int64_t now = store_now_usec();
        int r;

        r = begin(b, STMT_BEGIN_IMMEDIATE, &txn);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                static const Stmt steps[] = {STMT_PURGE, STMT_PURGE_DELETE};
                for (size_t k = 0; k < ELEMENTSOF(steps); k++) {
                        _cleanup_reset_ sqlite3_stmt *st = b->stmts[steps[k]];
                        if ((r = bind_int(b, st, 1, c[i].id)) < 0 ||
                                (steps[k] == STMT_PURGE && (r = bind_int(b, st, 2, now)) < 0) ||
                                (r = step(b, st)) < 0)
                                return r;
                }
        }
        return commit(&txn);
}

static int sq_reclaim(StoreBackend *b) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_RECLAIM];
        int r;
        while ((r = step(b, st)) > 0) /* one row per page freed */
                ;
        return r;
}

static int sq_probe(StoreBackend *b) {
        struct statvfs fs;
        if (b->path) {
                if (statvfs(b->path, &fs) < 0)
                        return -errno;
                if ((uint64_t) fs.f_bavail * fs.f_frsize < STORE_PROBE_MIN_FREE)
                        return -ENOSPC;
        }
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_PROBE];
        int r = bind_int(b, st, 1, store_now_usec());
        if (r >= 0)
                r = step(b, st);
        return r < 0 ? r : 0;
}

/* ---- the worker registry ---- */

static int bind_text(StoreBackend *b, sqlite3_stmt *st, int i, const char *text) {
        int rc = sqlite3_bind_text(st, i, text, -1, SQLITE_STATIC);
        return rc == SQLITE_OK ? 0 : errno_of(b->db, rc);
}

static int sq_worker_beat(StoreBackend *b, const char *id, const char *info) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_WORKER_BEAT];
        int r;
        if ((r = bind_text(b, st, 1, id)) < 0 || (r = bind_text(b, st, 2, info)) < 0 ||
                (r = bind_int(b, st, 3, store_now_usec())) < 0)
                return r;
        r = step(b, st);
        return r < 0 ? r : 0;
}

static int sq_worker_remove(StoreBackend *b, const char *id) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_WORKER_REMOVE];
        int r;
        if ((r = bind_text(b, st, 1, id)) < 0 || (r = step(b, st)) < 0)
                return r;
        return sqlite3_changes(b->db) > 0 ? 0 : -ENOENT;
}

static int sq_workers(
        StoreBackend *b, uint64_t max_age_usec, WorkerInfo **ret, char ***ret_infos, size_t *ret_n) {
        _cleanup_reset_ sqlite3_stmt *st = b->stmts[STMT_WORKERS];
        WorkerInfo *list = NULL;
        char **infos = NULL;
        size_t n = 0;
        int r = bind_int(b, st, 1, store_now_usec() - (int64_t) max_age_usec);
        while (r >= 0 && (r = step(b, st)) > 0) {
                int64_t at;
                if ((r = column_int(b, st, 2, &at)) < 0)
                        break;
                r = store_worker_row_append(&list, &infos, &n, (const char *) sqlite3_column_text(st, 0),
                        (const char *) sqlite3_column_text(st, 1), at);
        }
        if (r < 0) {
                store_worker_rows_free(list, infos, n);
                return r;
        }
        *ret = list;
        *ret_infos = infos;
        *ret_n = n;
        return 0;
}

const StoreOps store_sqlite_ops = {
        .name = "sqlite",
        .migrations = store_sqlite_migrations,
        .n_migrations = &store_sqlite_n_migrations,
        .migration_begin = "BEGIN IMMEDIATE",
        .schema_version_table = "CREATE TABLE IF NOT EXISTS schema_version ("
                                "version INTEGER PRIMARY KEY, "
                                "name TEXT NOT NULL DEFAULT '', "
                                "applied_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP)",
        .connect = sq_connect,
        .disconnect = sq_disconnect,
        .error_message = sq_error_message,
        .exec = sq_exec,
        .query_int = sq_query_int,
        .record_migration = sq_record_migration,
        .prepare = sq_prepare,
        .ping = sq_ping,
        .create = sq_create,
        .get = sq_get,
        .list = sq_list,
        .delete = sq_delete,
        .claim = sq_claim,
        .finish = sq_finish,
        .unfinished = sq_unfinished,
        .count_by_status = sq_count_by_status,
        .count_by_language = sq_count_by_language,
        .count_by_day = sq_count_by_day,
        .size = sq_size,
        .live_bytes = sq_live_bytes,
        .purge_candidates = sq_purge_candidates,
        .purge = sq_purge,
        .reclaim = sq_reclaim,
        .probe = sq_probe,
        .worker_beat = sq_worker_beat,
        .worker_remove = sq_worker_remove,
        .workers = sq_workers,
};
