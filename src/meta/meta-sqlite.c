/* SPDX-License-Identifier: MIT */
/* The metadata store on SQLite, for small installs: one connection (meta.c serializes the
 * calls), WAL, a busy timeout for other processes' writes, the tables created at open,
 * every statement prepared once. Expired sessions are refused by the queries and deleted
 * by session_sweep(). */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "meta/meta-internal.h"

#define BUSY_TIMEOUT_MSEC 10000
#define LANGUAGES_TEXT_MAX (META_MAX_LANGUAGES * 12)

static const char schema[] =
        "CREATE TABLE IF NOT EXISTS meta_keys ("
        " id TEXT PRIMARY KEY, name TEXT NOT NULL, hash TEXT NOT NULL UNIQUE,"
        " scopes INTEGER NOT NULL, rate REAL NOT NULL, burst INTEGER NOT NULL,"
        " quota_day INTEGER NOT NULL, cpu_seconds_day REAL NOT NULL, concurrent INTEGER NOT NULL,"
        " languages TEXT NOT NULL, max_cpu_time_limit REAL NOT NULL, max_wall_time_limit REAL NOT NULL,"
        " max_memory_limit INTEGER NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER NOT NULL"
        ") STRICT;"
        "CREATE INDEX IF NOT EXISTS meta_keys_created ON meta_keys (created_at, id);"
        "CREATE TABLE IF NOT EXISTS meta_users ("
        " id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,"
        " created_at INTEGER NOT NULL"
        ") STRICT;"
        "CREATE TABLE IF NOT EXISTS meta_sessions ("
        " id_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL,"
        " expires_at INTEGER NOT NULL"
        ") STRICT;"
        "CREATE INDEX IF NOT EXISTS meta_sessions_expires ON meta_sessions (expires_at);"
        "CREATE TABLE IF NOT EXISTS meta_history ("
        " token TEXT PRIMARY KEY, owner TEXT NOT NULL, language_id INTEGER NOT NULL,"
        " status_id INTEGER NOT NULL, time REAL NOT NULL, memory INTEGER NOT NULL,"
        " created_at INTEGER NOT NULL, finished_at INTEGER NOT NULL, source_code BLOB, stdin BLOB"
        ") STRICT;"
        "CREATE INDEX IF NOT EXISTS meta_history_owner ON meta_history (owner, created_at DESC, token DESC);"
        "CREATE INDEX IF NOT EXISTS meta_history_pending ON meta_history (created_at, token)"
        " WHERE status_id IN (1, 2);"
        "CREATE TABLE IF NOT EXISTS meta_client_config (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
        "CREATE TABLE IF NOT EXISTS meta_shares ("
        " id TEXT PRIMARY KEY, owner TEXT NOT NULL, data TEXT NOT NULL, created_at INTEGER NOT NULL"
        ") STRICT;";

#define KEY_COLUMNS \
        "id, name, hash, scopes, rate, burst, quota_day, cpu_seconds_day, concurrent, languages, " \
        "max_cpu_time_limit, max_wall_time_limit, max_memory_limit, created_at, revoked_at"
#define USER_COLUMNS "id, name, password_hash, created_at"
#define SESSION_COLUMNS "id_hash, user_id, created_at, expires_at"
#define HISTORY_COLUMNS \
        "token, owner, language_id, status_id, time, memory, created_at, finished_at, source_code, stdin"
#define NEWEST_FIRST "ORDER BY created_at DESC, token DESC"

typedef enum Stmt {
        STMT_PING,
        STMT_KEY_INSERT,
        STMT_KEY_BY_HASH,
        STMT_KEY_BY_ID,
        STMT_KEY_LIST,
        STMT_KEY_REVOKE,
        STMT_KEY_EXISTS,
        STMT_USER_INSERT,
        STMT_USER_BY_NAME,
        STMT_USER_BY_ID,
        STMT_SESSION_INSERT,
        STMT_SESSION_GET,
        STMT_SESSION_SET_USER,
        STMT_SESSION_DELETE,
        STMT_SESSION_SWEEP,
        STMT_HISTORY_INSERT,
        STMT_HISTORY_GET,
        STMT_HISTORY_LIST,
        STMT_HISTORY_LIST_AFTER,
        STMT_HISTORY_UPDATE,
        STMT_HISTORY_EXISTS,
        STMT_HISTORY_PENDING,
        STMT_HISTORY_DELETE,
        STMT_HISTORY_COUNT_UNFINISHED,
        STMT_SHARE_INSERT,
        STMT_SHARE_GET,
        STMT_CONFIG_SET,
        STMT_CONFIG_UNSET,
        STMT_CONFIG_ALL,
        _STMT_MAX,
} Stmt;

static const char *const statements[_STMT_MAX] = {
        [STMT_PING] = "SELECT 1",
        [STMT_KEY_INSERT] = "INSERT INTO meta_keys (" KEY_COLUMNS
                            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        [STMT_KEY_BY_HASH] = "SELECT " KEY_COLUMNS " FROM meta_keys WHERE hash = ?1",
        [STMT_KEY_BY_ID] = "SELECT " KEY_COLUMNS " FROM meta_keys WHERE id = ?1",
        [STMT_KEY_LIST] = "SELECT " KEY_COLUMNS " FROM meta_keys ORDER BY created_at, id",
        [STMT_KEY_REVOKE] = "UPDATE meta_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at = 0",
        [STMT_KEY_EXISTS] = "SELECT count(*) FROM meta_keys WHERE id = ?1",
        [STMT_USER_INSERT] = "INSERT INTO meta_users (" USER_COLUMNS ") VALUES (?1, ?2, ?3, ?4)",
        [STMT_USER_BY_NAME] = "SELECT " USER_COLUMNS " FROM meta_users WHERE name = ?1",
        [STMT_USER_BY_ID] = "SELECT " USER_COLUMNS " FROM meta_users WHERE id = ?1",
        [STMT_SESSION_INSERT] = "INSERT INTO meta_sessions (" SESSION_COLUMNS ") VALUES (?1, ?2, ?3, ?4)",
        [STMT_SESSION_GET] =
                "SELECT " SESSION_COLUMNS " FROM meta_sessions WHERE id_hash = ?1 AND expires_at > ?2",
        [STMT_SESSION_SET_USER] = "UPDATE meta_sessions SET user_id = ?2 WHERE id_hash = ?1",
        [STMT_SESSION_DELETE] = "DELETE FROM meta_sessions WHERE id_hash = ?1",
        [STMT_SESSION_SWEEP] = "DELETE FROM meta_sessions WHERE expires_at <= ?1",
        [STMT_HISTORY_INSERT] = "INSERT INTO meta_history (" HISTORY_COLUMNS
                                ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [STMT_HISTORY_GET] = "SELECT " HISTORY_COLUMNS " FROM meta_history WHERE token = ?1",
        [STMT_HISTORY_LIST] =
                "SELECT " HISTORY_COLUMNS " FROM meta_history WHERE owner = ?1 " NEWEST_FIRST " LIMIT ?2",
        [STMT_HISTORY_LIST_AFTER] = "SELECT " HISTORY_COLUMNS " FROM meta_history WHERE owner = ?1 AND "
                                    "(created_at, token) < (?3, ?4) " NEWEST_FIRST " LIMIT ?2",
        [STMT_HISTORY_UPDATE] =
                "UPDATE meta_history SET status_id = ?2, time = ?3, memory = ?4, finished_at = ?5 "
                "WHERE token = ?1 AND status_id IN (1, 2)",
        [STMT_HISTORY_EXISTS] = "SELECT count(*) FROM meta_history WHERE token = ?1",
        [STMT_HISTORY_PENDING] = "SELECT token FROM meta_history WHERE status_id IN (1, 2) "
                                 "ORDER BY created_at, token LIMIT ?1",
        [STMT_HISTORY_DELETE] = "DELETE FROM meta_history WHERE owner = ?1 AND token = ?2",
        [STMT_HISTORY_COUNT_UNFINISHED] = "SELECT count(*) FROM meta_history WHERE owner = ?1 AND "
                                          "status_id IN (1, 2)",
        [STMT_SHARE_INSERT] =
                "INSERT INTO meta_shares (id, owner, data, created_at) VALUES (?1, ?2, ?3, ?4)",
        [STMT_SHARE_GET] = "SELECT id, owner, data, created_at FROM meta_shares WHERE id = ?1",
        [STMT_CONFIG_SET] = "INSERT INTO meta_client_config (key, value) VALUES (?1, ?2) "
                            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [STMT_CONFIG_UNSET] = "DELETE FROM meta_client_config WHERE key = ?1",
        [STMT_CONFIG_ALL] = "SELECT key, value FROM meta_client_config ORDER BY key",
};

struct MetaBackend {
        sqlite3 *db;
        sqlite3_stmt *stmts[_STMT_MAX];
};

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
        {SQLITE_TOOBIG, E2BIG},
        {SQLITE_MISMATCH, EINVAL},
        {SQLITE_RANGE, EINVAL},
};

static int errno_of(int rc) {
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
/* A prepared statement borrowed for one call, reset when it goes out of scope. */
#define STMT(b, which) _cleanup_(stmt_resetp) sqlite3_stmt *st = (b)->stmts[which]

/* 1 on a row, 0 when done. */
static int step(sqlite3_stmt *st) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return errno_of(sqlite3_extended_errcode(sqlite3_db_handle(st)));
}

/* Bind each of the first n values; stop at the first error. */
typedef struct Bind {
        enum { BIND_TEXT, BIND_INT, BIND_DOUBLE, BIND_BLOB } kind;
        const char *text; /* BIND_TEXT; BIND_BLOB: NULL = SQL NULL */
        int64_t i;
        double d;
        size_t len; /* BIND_BLOB */
} Bind;
#define TEXT(s) ((Bind){.kind = BIND_TEXT, .text = (s)})
#define INT(v) ((Bind){.kind = BIND_INT, .i = (int64_t) (v)})
#define DOUBLE(v) ((Bind){.kind = BIND_DOUBLE, .d = (v)})
#define BLOB(p, l) ((Bind){.kind = BIND_BLOB, .text = (p), .len = (l)})

static int bind_all(sqlite3_stmt *st, const Bind *binds, size_t n) {
        for (size_t i = 0; i < n; i++) {
                const Bind *v = &binds[i];
                int col = (int) i + 1, rc;
                switch (v->kind) {
                case BIND_TEXT:
                        rc = sqlite3_bind_text(st, col, v->text, -1, SQLITE_STATIC);
                        break;
                case BIND_INT:
                        rc = sqlite3_bind_int64(st, col, v->i);
                        break;
                case BIND_DOUBLE:
                        rc = sqlite3_bind_double(st, col, v->d);
                        break;
                case BIND_BLOB:
                        /* a non-NULL pointer for an empty blob: empty, not NULL */
                        rc = v->text ? sqlite3_bind_blob64(st, col, v->text, v->len, SQLITE_STATIC)
                                     : sqlite3_bind_null(st, col);
                        break;
                default:
                        return -EINVAL;
                }
                if (rc != SQLITE_OK)
                        return errno_of(rc);
        }
        return 0;
}
#define BIND(st, ...) bind_all(st, (const Bind[]){__VA_ARGS__}, ELEMENTSOF(((const Bind[]){__VA_ARGS__})))

/* Run a statement that returns no row; the number of rows it changed in *ret_changes. */
static int exec_changes(MetaBackend *b, sqlite3_stmt *st, uint64_t *ret_changes) {
        int r = step(st);
        if (r < 0)
                return r;
        if (ret_changes)
                *ret_changes = (uint64_t) sqlite3_changes64(b->db);
        return 0;
}

/* A query answering one count. */
static int query_count(sqlite3_stmt *st, uint64_t *ret) {
        int r = step(st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EBADMSG;
        int64_t v = sqlite3_column_int64(st, 0);
        if (v < 0)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

/* Run a statement of one or two text parameters (t2 NULL: one) that returns no row. */
static int exec_texts(MetaBackend *b, Stmt which, const char *t1, const char *t2, uint64_t *ret_changes) {
        STMT(b, which);
        int r = t2 ? BIND(st, TEXT(t1), TEXT(t2)) : BIND(st, TEXT(t1));
        if (r < 0)
                return r;
        return exec_changes(b, st, ret_changes);
}

/* The same for a statement that must change a row: -ENOENT when it changed none. */
static int exec_texts_one(MetaBackend *b, Stmt which, const char *t1, const char *t2) {
        uint64_t changed;
        int r = exec_texts(b, which, t1, t2, &changed);
        if (r < 0)
                return r;
        return changed > 0 ? 0 : -ENOENT;
}

/* 0 when the count query which finds a row for t, -ENOENT when not. */
static int exists(MetaBackend *b, Stmt which, const char *t) {
        uint64_t n;
        STMT(b, which);
        int r = BIND(st, TEXT(t));
        if (r >= 0)
                r = query_count(st, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

/* Column col (TEXT) into a field of size bytes; -EBADMSG when it does not fit. */
static int column_text(sqlite3_stmt *st, int col, char *dst, size_t size) {
        if (sqlite3_column_type(st, col) != SQLITE_TEXT)
                return -EBADMSG;
        const unsigned char *t = sqlite3_column_text(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (!t)
                return -ENOMEM;
        if (n < 0 || (size_t) n >= size || memchr(t, '\0', (size_t) n))
                return -EBADMSG;
        memcpy(dst, t, (size_t) n);
        dst[n] = '\0';
        return 0;
}

static int column_int(sqlite3_stmt *st, int col, int64_t min, int64_t max, int64_t *ret) {
        if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
                return -EBADMSG;
        int64_t v = sqlite3_column_int64(st, col);
        if (v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int column_double(sqlite3_stmt *st, int col, double *ret) {
        if (sqlite3_column_type(st, col) != SQLITE_FLOAT)
                return -EBADMSG;
        *ret = sqlite3_column_double(st, col);
        return 0;
}

/* A BLOB column (NULL: none) into a malloc'd buffer. */
static int column_blob(sqlite3_stmt *st, int col, char **ret, size_t *ret_len) {
        int type = sqlite3_column_type(st, col);
        if (type == SQLITE_NULL) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (type != SQLITE_BLOB)
                return -EBADMSG;
        const void *p = sqlite3_column_blob(st, col);
        int n = sqlite3_column_bytes(st, col);
        if (n < 0 || (n > 0 && !p))
                return -ENOMEM;
        int r = meta_dup_bytes(p, (size_t) n, ret);
        if (r < 0)
                return r;
        *ret_len = (size_t) n;
        return 0;
}

/* ---- opening ---- */

static MetaBackend *sqlite_disconnect(MetaBackend *b) {
        if (!b)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                sqlite3_finalize(b->stmts[i]);
        sqlite3_close_v2(b->db);
        free(b);
        return NULL;
}

/* WAL, and the tables, in one write transaction taken at its start: several processes
 * opening a fresh file at once (gateways started together) would otherwise each read the
 * schema and then want to write it, a lock upgrade SQLite answers "busy" at once, without
 * waiting. A "busy" that still comes (the switch to WAL takes the file alone) is tried
 * again until the busy timeout. */
static int make_schema(sqlite3 *db) {
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + (uint64_t) BUSY_TIMEOUT_MSEC * 1000;
        for (;;) {
                /* WAL does not apply to an in-memory database: it stays "memory" there, fine. */
                int rc = sqlite3_exec(
                        db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", NULL, NULL, NULL);
                if (rc == SQLITE_OK)
                        rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
                if (rc == SQLITE_OK) {
                        rc = sqlite3_exec(db, schema, NULL, NULL, NULL);
                        rc = rc == SQLITE_OK ? sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) : rc;
                        if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
                                (void) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
                }
                if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
                        return rc;
                if (now_usec(CLOCK_MONOTONIC) >= deadline)
                        return rc;
                sqlite3_sleep(10);
        }
}

static int sqlite_connect(const char *target, char *errbuf, MetaBackend **ret) {
        _cleanup_(freep) MetaBackend *b = calloc(1, sizeof *b);
        int rc;

        if (!b) {
                meta_set_error(errbuf, "out of memory");
                return -ENOMEM;
        }
        rc = sqlite3_open_v2(target, &b->db,
                SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE,
                NULL);
        if (rc != SQLITE_OK) {
                meta_set_error(errbuf, "cannot open %s: %s", target,
                        b->db ? sqlite3_errmsg(b->db) : "out of memory");
                int r = errno_of(rc);
                sqlite3_close_v2(b->db);
                return r;
        }
        (void) sqlite3_busy_timeout(b->db, BUSY_TIMEOUT_MSEC);
        rc = make_schema(b->db);
        /* (a rolled-back schema leaves no message of its own: say the code's) */
        const char *why = rc != SQLITE_OK ? sqlite3_errstr(rc) : NULL;
        for (size_t i = 0; rc == SQLITE_OK && i < _STMT_MAX; i++)
                rc = sqlite3_prepare_v3(
                        b->db, statements[i], -1, SQLITE_PREPARE_PERSISTENT, &b->stmts[i], NULL);
        if (rc != SQLITE_OK) {
                meta_set_error(errbuf, "cannot create the tables in %s: %s", target,
                        why ? why : sqlite3_errmsg(b->db));
                int r = errno_of(why ? rc : sqlite3_extended_errcode(b->db));
                sqlite_disconnect(TAKE_PTR(b));
                return r;
        }
        *ret = TAKE_PTR(b);
        return 0;
}

static int sqlite_ping(MetaBackend *b) {
        STMT(b, STMT_PING);
        int r = step(st);
        return r < 0 ? r : 0;
}

/* ---- keys ---- */

static int languages_format(const MetaKey *k, char buf[LANGUAGES_TEXT_MAX]) {
        size_t len = 0;
        buf[0] = '\0';
        for (size_t i = 0; i < k->n_languages; i++) {
                int n = snprintf(
                        buf + len, LANGUAGES_TEXT_MAX - len, "%s%d", i > 0 ? "," : "", k->languages[i]);
                if (n < 0 || (size_t) n >= LANGUAGES_TEXT_MAX - len)
                        return -EOVERFLOW;
                len += (size_t) n;
        }
        return 0;
}

/* "71,50" back into k->languages; -EBADMSG for anything else. */
static int languages_parse(const char *text, MetaKey *k) {
        size_t n = 0;
        const char *p = text;

        while (*p) {
                int64_t v = 0;
                if (n == META_MAX_LANGUAGES || *p < '1' || *p > '9')
                        return -EBADMSG;
                for (; *p >= '0' && *p <= '9'; p++) {
                        v = v * 10 + (*p - '0');
                        if (v > INT_MAX)
                                return -EBADMSG;
                }
                k->languages[n++] = (int) v;
                if (*p == ',' && p[1])
                        p++;
                else if (*p)
                        return -EBADMSG;
        }
        k->n_languages = n;
        return 0;
}

static int sqlite_key_create(MetaBackend *b, const MetaKey *k) {
        char languages[LANGUAGES_TEXT_MAX];
        int r;

        r = languages_format(k, languages);
        if (r < 0)
                return r;
        STMT(b, STMT_KEY_INSERT);
        r = BIND(st, TEXT(k->id), TEXT(k->name), TEXT(k->hash), INT(k->scopes), DOUBLE(k->rate),
                INT(k->burst), INT(k->quota_day), DOUBLE(k->cpu_seconds_day), INT(k->concurrent),
                TEXT(languages), DOUBLE(k->max_cpu_time_limit), DOUBLE(k->max_wall_time_limit),
                INT(k->max_memory_limit), INT(k->created_at), INT(k->revoked_at));
        if (r < 0)
                return r;
        return exec_changes(b, st, NULL);
}

static int key_read(sqlite3_stmt *st, MetaKey *ret) {
        MetaKey k = {};
        char languages[LANGUAGES_TEXT_MAX];
        int64_t scopes, burst, quota, concurrent, memory;
        int r;

        if ((r = column_text(st, 0, k.id, sizeof k.id)) < 0 ||
                (r = column_text(st, 1, k.name, sizeof k.name)) < 0 ||
                (r = column_text(st, 2, k.hash, sizeof k.hash)) < 0 ||
                (r = column_int(st, 3, 0, UINT32_MAX, &scopes)) < 0 ||
                (r = column_double(st, 4, &k.rate)) < 0 ||
                (r = column_int(st, 5, 0, UINT32_MAX, &burst)) < 0 ||
                (r = column_int(st, 6, 0, UINT32_MAX, &quota)) < 0 ||
                (r = column_double(st, 7, &k.cpu_seconds_day)) < 0 ||
                (r = column_int(st, 8, 0, UINT32_MAX, &concurrent)) < 0 ||
                (r = column_text(st, 9, languages, sizeof languages)) < 0 ||
                (r = languages_parse(languages, &k)) < 0 ||
                (r = column_double(st, 10, &k.max_cpu_time_limit)) < 0 ||
                (r = column_double(st, 11, &k.max_wall_time_limit)) < 0 ||
                (r = column_int(st, 12, 0, INT64_MAX, &memory)) < 0 ||
                (r = column_int(st, 13, 0, INT64_MAX, &k.created_at)) < 0 ||
                (r = column_int(st, 14, 0, INT64_MAX, &k.revoked_at)) < 0)
                return r;
        k.scopes = (uint32_t) scopes;
        k.burst = (uint32_t) burst;
        k.quota_day = (uint32_t) quota;
        k.concurrent = (uint32_t) concurrent;
        k.max_memory_limit = (uint64_t) memory;
        *ret = k;
        return 0;
}

static int sqlite_key_get(MetaBackend *b, bool by_hash, const char *value, MetaKey *ret) {
        STMT(b, by_hash ? STMT_KEY_BY_HASH : STMT_KEY_BY_ID);
        int r = BIND(st, TEXT(value));
        if (r < 0)
                return r;
        r = step(st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        return key_read(st, ret);
}

static int sqlite_key_list(MetaBackend *b, MetaKey **ret, size_t *ret_n) {
        _cleanup_free_ MetaKey *list = NULL;
        size_t n = 0;
        int r;

        STMT(b, STMT_KEY_LIST);
        while ((r = step(st)) > 0) {
                MetaKey *k;
                r = meta_array_grow((void **) &list, &n, sizeof *list, (void **) &k);
                if (r < 0)
                        return r;
                r = key_read(st, k);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int sqlite_key_revoke(MetaBackend *b, const char *id, int64_t now) {
        uint64_t changed;
        int r;

        {
                STMT(b, STMT_KEY_REVOKE);
                r = BIND(st, TEXT(id), INT(now));
                if (r >= 0)
                        r = exec_changes(b, st, &changed);
                if (r < 0)
                        return r;
        }
        if (changed > 0)
                return 0;
        r = exists(b, STMT_KEY_EXISTS, id);
        return r < 0 ? r : 0; /* revoked before: 0 */
}

/* ---- users ---- */

static int sqlite_user_create(MetaBackend *b, const MetaUser *u) {
        STMT(b, STMT_USER_INSERT);
        int r = BIND(st, TEXT(u->id), TEXT(u->name), TEXT(u->password_hash), INT(u->created_at));
        if (r < 0)
                return r;
        return exec_changes(b, st, NULL);
}

static int sqlite_user_get(MetaBackend *b, bool by_name, const char *value, MetaUser *ret) {
        MetaUser u = {};
        STMT(b, by_name ? STMT_USER_BY_NAME : STMT_USER_BY_ID);
        int r = BIND(st, TEXT(value));
        if (r < 0)
                return r;
        r = step(st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if ((r = column_text(st, 0, u.id, sizeof u.id)) < 0 ||
                (r = column_text(st, 1, u.name, sizeof u.name)) < 0 ||
                (r = column_text(st, 2, u.password_hash, sizeof u.password_hash)) < 0 ||
                (r = column_int(st, 3, 0, INT64_MAX, &u.created_at)) < 0)
                return r;
        *ret = u;
        return 0;
}

/* ---- sessions ---- */

static int sqlite_session_create(MetaBackend *b, const MetaSession *s) {
        STMT(b, STMT_SESSION_INSERT);
        int r = BIND(st, TEXT(s->id_hash), TEXT(s->user_id), INT(s->created_at), INT(s->expires_at));
        if (r < 0)
                return r;
        return exec_changes(b, st, NULL);
}

static int sqlite_session_get(MetaBackend *b, const char *id_hash, int64_t now, MetaSession *ret) {
        MetaSession s = {};
        STMT(b, STMT_SESSION_GET);
        int r = BIND(st, TEXT(id_hash), INT(now));
        if (r < 0)
                return r;
        r = step(st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        if ((r = column_text(st, 0, s.id_hash, sizeof s.id_hash)) < 0 ||
                (r = column_text(st, 1, s.user_id, sizeof s.user_id)) < 0 ||
                (r = column_int(st, 2, 0, INT64_MAX, &s.created_at)) < 0 ||
                (r = column_int(st, 3, 0, INT64_MAX, &s.expires_at)) < 0)
                return r;
        *ret = s;
        return 0;
}

static int sqlite_session_set_user(MetaBackend *b, const char *id_hash, const char *user_id) {
        return exec_texts_one(b, STMT_SESSION_SET_USER, id_hash, user_id);
}

static int sqlite_session_delete(MetaBackend *b, const char *id_hash) {
        return exec_texts(b, STMT_SESSION_DELETE, id_hash, NULL, NULL);
}

static int sqlite_session_sweep(MetaBackend *b, int64_t now, uint64_t *ret_n) {
        STMT(b, STMT_SESSION_SWEEP);
        int r = BIND(st, INT(now));
        if (r < 0)
                return r;
        return exec_changes(b, st, ret_n);
}

/* ---- history ---- */

static int sqlite_history_add(MetaBackend *b, const MetaHistory *h) {
        STMT(b, STMT_HISTORY_INSERT);
        int r = BIND(st, TEXT(h->token), TEXT(h->owner), INT(h->language_id), INT(h->status_id),
                DOUBLE(h->time), INT(h->memory), INT(h->created_at), INT(h->finished_at),
                BLOB(h->source_code ? h->source_code : NULL, h->source_len),
                BLOB(h->stdin_data ? h->stdin_data : NULL, h->stdin_len));
        if (r < 0)
                return r;
        return exec_changes(b, st, NULL);
}

static int history_read(sqlite3_stmt *st, MetaHistory *ret) {
        _cleanup_(meta_history_done) MetaHistory h = {};
        int64_t language, status;
        int r;

        if ((r = column_text(st, 0, h.token, sizeof h.token)) < 0 ||
                (r = column_text(st, 1, h.owner, sizeof h.owner)) < 0 ||
                (r = column_int(st, 2, 1, INT_MAX, &language)) < 0 ||
                (r = column_int(st, 3, META_UNKNOWN_RESULT, META_LAST_FINAL, &status)) < 0 ||
                (r = column_double(st, 4, &h.time)) < 0 ||
                (r = column_int(st, 5, INT64_MIN, INT64_MAX, &h.memory)) < 0 ||
                (r = column_int(st, 6, 0, INT64_MAX, &h.created_at)) < 0 ||
                (r = column_int(st, 7, 0, INT64_MAX, &h.finished_at)) < 0 ||
                (r = column_blob(st, 8, &h.source_code, &h.source_len)) < 0 ||
                (r = column_blob(st, 9, &h.stdin_data, &h.stdin_len)) < 0)
                return r;
        h.language_id = (int) language;
        h.status_id = (int) status;
        *ret = h;
        h = (MetaHistory){};
        return 0;
}

static int sqlite_history_get(MetaBackend *b, const char *token, MetaHistory *ret) {
        STMT(b, STMT_HISTORY_GET);
        int r = BIND(st, TEXT(token));
        if (r < 0)
                return r;
        r = step(st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        return history_read(st, ret);
}

static int sqlite_history_list(MetaBackend *b, const char *owner, size_t limit, const MetaPosition *after,
        MetaHistory **ret, size_t *ret_n) {
        MetaHistory *list = NULL;
        size_t n = 0;
        int r;

        STMT(b, after ? STMT_HISTORY_LIST_AFTER : STMT_HISTORY_LIST);
        if (after)
                r = BIND(st, TEXT(owner), INT(limit), INT(after->created_at), TEXT(after->token));
        else
                r = BIND(st, TEXT(owner), INT(limit));
        if (r < 0)
                return r;
        while ((r = step(st)) > 0) {
                MetaHistory *h;
                r = meta_array_grow((void **) &list, &n, sizeof *list, (void **) &h);
                if (r >= 0)
                        r = history_read(st, h);
                if (r < 0)
                        break;
        }
        if (r < 0) {
                meta_history_list_free(list, n);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

static int sqlite_history_update(
        MetaBackend *b, const char *token, int status_id, double time, int64_t memory, int64_t finished_at) {
        uint64_t changed;
        int r;

        {
                STMT(b, STMT_HISTORY_UPDATE);
                r = BIND(st, TEXT(token), INT(status_id), DOUBLE(time), INT(memory), INT(finished_at));
                if (r >= 0)
                        r = exec_changes(b, st, &changed);
                if (r < 0)
                        return r;
        }
        if (changed > 0)
                return 1;
        r = exists(b, STMT_HISTORY_EXISTS, token);
        return r < 0 ? r : 0; /* final already */
}

static int sqlite_history_pending(
        MetaBackend *b, size_t max, char (**ret_tokens)[META_ID_MAX], size_t *ret_n) {
        _cleanup_free_ char(*tokens)[META_ID_MAX] = NULL;
        size_t n = 0;
        int r;

        STMT(b, STMT_HISTORY_PENDING);
        r = BIND(st, INT(max));
        if (r < 0)
                return r;
        while ((r = step(st)) > 0) {
                char(*t)[META_ID_MAX];
                r = meta_array_grow((void **) &tokens, &n, sizeof *tokens, (void **) &t);
                if (r >= 0)
                        r = column_text(st, 0, *t, sizeof *t);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        *ret_tokens = TAKE_PTR(tokens);
        *ret_n = n;
        return 0;
}

static int sqlite_history_delete(MetaBackend *b, const char *owner, const char *token) {
        return exec_texts_one(b, STMT_HISTORY_DELETE, owner, token);
}

static int sqlite_history_count_unfinished(MetaBackend *b, const char *owner, uint64_t *ret) {
        STMT(b, STMT_HISTORY_COUNT_UNFINISHED);
        int r = BIND(st, TEXT(owner));
        if (r < 0)
                return r;
        return query_count(st, ret);
}

/* ---- share links ---- */

static int sqlite_share_create(MetaBackend *b, const MetaShare *s) {
        STMT(b, STMT_SHARE_INSERT);
        int r = BIND(st, TEXT(s->id), TEXT(s->owner), TEXT(s->data), INT(s->created_at));
        if (r < 0)
                return r;
        return exec_changes(b, st, NULL);
}

static int sqlite_share_get(MetaBackend *b, const char *id, MetaShare *ret) {
        MetaShare s = {};
        STMT(b, STMT_SHARE_GET);
        int r = BIND(st, TEXT(id));
        if (r < 0)
                return r;
        r = step(st);
        if (r <= 0)
                return r < 0 ? r : -ENOENT;
        const char *data = (const char *) sqlite3_column_text(st, 2);
        if ((r = column_text(st, 0, s.id, sizeof s.id)) < 0 ||
                (r = column_text(st, 1, s.owner, sizeof s.owner)) < 0 ||
                (r = column_int(st, 3, 0, INT64_MAX, &s.created_at)) < 0)
                return r;
        if (!data)
                return -ENOMEM;
        r = meta_dup_bytes(data, strlen(data), &s.data);
        if (r < 0)
                return r;
        *ret = s;
        return 0;
}

/* ---- client configuration ---- */

static int sqlite_config_set(MetaBackend *b, const char *key, const char *value) {
        return exec_texts(b, STMT_CONFIG_SET, key, value, NULL);
}

static int sqlite_config_unset(MetaBackend *b, const char *key) {
        return exec_texts(b, STMT_CONFIG_UNSET, key, NULL, NULL);
}

static int sqlite_config_get_all(MetaBackend *b, char ***ret_keys, char ***ret_values, size_t *ret_n) {
        MetaConfigRows rows = {};
        int r;

        STMT(b, STMT_CONFIG_ALL);
        while ((r = step(st)) > 0) {
                const char *k = (const char *) sqlite3_column_text(st, 0);
                const char *v = (const char *) sqlite3_column_text(st, 1);
                r = k && v ? meta_config_rows_append(&rows, k, v) : -ENOMEM;
                if (r < 0)
                        break;
        }
        if (r < 0) {
                meta_config_rows_done(&rows);
                return r;
        }
        *ret_keys = rows.keys;
        *ret_values = rows.values;
        *ret_n = rows.n;
        return 0;
}

const MetaOps meta_sqlite_ops = {
        .name = "sqlite",
        .serialize = true,
        .connect = sqlite_connect,
        .disconnect = sqlite_disconnect,
        .ping = sqlite_ping,
        .key_create = sqlite_key_create,
        .key_get = sqlite_key_get,
        .key_list = sqlite_key_list,
        .key_revoke = sqlite_key_revoke,
        .user_create = sqlite_user_create,
        .user_get = sqlite_user_get,
        .session_create = sqlite_session_create,
        .session_get = sqlite_session_get,
        .session_set_user = sqlite_session_set_user,
        .session_delete = sqlite_session_delete,
        .session_sweep = sqlite_session_sweep,
        .history_add = sqlite_history_add,
        .history_get = sqlite_history_get,
        .history_list = sqlite_history_list,
        .history_update = sqlite_history_update,
        .history_pending = sqlite_history_pending,
        .history_delete = sqlite_history_delete,
        .history_count_unfinished = sqlite_history_count_unfinished,
        .share_create = sqlite_share_create,
        .share_get = sqlite_share_get,
        .config_set = sqlite_config_set,
        .config_unset = sqlite_config_unset,
        .config_get_all = sqlite_config_get_all,
};
