/* SPDX-License-Identifier: MIT */
/* The PostgreSQL backend: the only file that includes libpq-fe.h. One connection per
 * Store; every statement is prepared once per connection and run with binary parameters
 * and binary results (blobs travel as raw bytes, never escaped). Status transitions are
 * single conditional UPDATEs: under READ COMMITTED a second writer of the same row waits
 * for the first and then re-checks the WHERE clause on the new row, so exactly one
 * finisher wins and claims never lose an increment. Migrations hold a transaction-level
 * advisory lock, so API nodes and workers starting together apply each one once.
 *
 * A lost connection (server restart, failover, idle timeout) fails the call in progress
 * with -ECONNRESET; the next call reconnects. Reads are retried once at once, since
 * running them twice is harmless; writes are not, since the first may have committed
 * before the connection broke. */

#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include "store/store-internal.h"

/* Type OIDs (fixed since PostgreSQL 7; catalog/pg_type_d.h is a server header). */
#define BOOLOID 16
#define BYTEAOID 17
#define INT8OID 20
#define INT2OID 21
#define INT4OID 23
#define TEXTOID 25
#define FLOAT8OID 701
#define TIMESTAMPTZOID 1184
#define UUIDOID 2950
#define INT8ARRAYOID 1016

/* timestamptz counts microseconds from 2000-01-01 00:00:00 UTC. */
#define PG_EPOCH_UNIX_USEC INT64_C(946684800000000)

/* The advisory lock of migrations: "coderunr". */
#define MIGRATION_LOCK "7165055919044521586"

#define MAX_PARAMS 48

typedef enum Stmt {
        STMT_PING,
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
        STMT_GET_PURGED,
        STMT_DELETE_PURGED,
        STMT_PROBE,
        STMT_WORKER_BEAT,
        STMT_WORKER_REMOVE,
        STMT_WORKERS,
        _STMT_MAX,
} Stmt;

static const char *const stmt_names[_STMT_MAX] = {
        [STMT_PING] = "cr_ping",
        [STMT_INSERT] = "cr_insert",
        [STMT_INSERT_TEST] = "cr_insert_test",
        [STMT_GET] = "cr_get",
        [STMT_GET_TESTS] = "cr_get_tests",
        [STMT_LIST] = "cr_list",
        [STMT_LIST_TESTS] = "cr_list_tests",
        [STMT_COUNT] = "cr_count",
        [STMT_STATUS] = "cr_status",
        [STMT_DELETE] = "cr_delete",
        [STMT_CLAIM] = "cr_claim",
        [STMT_FINISH] = "cr_finish",
        [STMT_FINISH_TEST] = "cr_finish_test",
        [STMT_UNFINISHED] = "cr_unfinished",
        [STMT_COUNT_BY_STATUS] = "cr_count_by_status",
        [STMT_COUNT_BY_LANGUAGE] = "cr_count_by_language",
        [STMT_COUNT_BY_DAY] = "cr_count_by_day",
        [STMT_SIZE] = "cr_size",
        [STMT_LIVE_BYTES] = "cr_live_bytes",
        [STMT_PURGE_CANDIDATES] = "cr_purge_candidates",
        [STMT_PURGE] = "cr_purge",
        [STMT_GET_PURGED] = "cr_get_purged",
        [STMT_DELETE_PURGED] = "cr_delete_purged",
        [STMT_PROBE] = "cr_probe",
        [STMT_WORKER_BEAT] = "cr_worker_beat",
        [STMT_WORKER_REMOVE] = "cr_worker_remove",
        [STMT_WORKERS] = "cr_workers",
};

struct StoreBackend {
        PGconn *conn;
        bool prepared; /* the statements exist on this connection */
};

#define SUBMISSION_HEAD "id, token, created_at, finished_at, attempts"
#define SUBMISSION_HEAD_N 5
/* A tombstone (store_purge()). */
#define PURGED_COLUMNS "token, status_id, language_id, created_at, finished_at, purged_at"
#define TEST_HEAD_N 2
#define NEWEST_FIRST "ORDER BY created_at DESC, id DESC"

/* ---- errors ---- */

/* By SQLSTATE, the first matching prefix wins. */
static const struct {
        const char *sqlstate;
        int error;
} errno_of_sqlstate[] = {
        {"23505", EEXIST}, /* unique_violation */
        {"23", EINVAL}, /* integrity constraints */
        {"22", EINVAL}, /* data exceptions */
        {"40", EAGAIN}, /* serialization failure, deadlock */
        {"53100", ENOSPC}, /* disk_full */
        {"53200", ENOMEM}, /* out_of_memory */
        {"53", EAGAIN}, /* other insufficient resources: too many connections... */
        {"54", E2BIG}, /* program limits */
        {"57014", ECANCELED}, /* query_canceled (statement_timeout) */
        {"57P03", EAGAIN}, /* cannot_connect_now: starting up */
        {"57", ECONNRESET}, /* admin or crash shutdown */
        {"08", ECONNRESET}, /* connection exceptions */
        {"28", EACCES}, /* invalid authorization */
        {"42501", EACCES}, /* insufficient_privilege */
        {"3D", ENOENT}, /* no such database */
        {"25006", EROFS}, /* read_only_sql_transaction: a standby */
};

static int errno_of_result(StoreBackend *b, const PGresult *res) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (state)
                for (size_t i = 0; i < ELEMENTSOF(errno_of_sqlstate); i++)
                        if (strncmp(state, errno_of_sqlstate[i].sqlstate,
                                    strlen(errno_of_sqlstate[i].sqlstate)) == 0)
                                return -errno_of_sqlstate[i].error;
        if (PQstatus(b->conn) != CONNECTION_OK)
                return -ECONNRESET;
        if (!res)
                return -ENOMEM;
        return -EIO;
}

static void resultp(PGresult **res) {
        PQclear(*res);
}
#define _cleanup_result_ _cleanup_(resultp)

/* ---- binary values ---- */

static void put_be(unsigned char *p, uint64_t v, size_t size) {
        for (size_t i = 0; i < size; i++)
                p[i] = (unsigned char) (v >> (8 * (size - 1 - i)));
}

static uint64_t get_be(const unsigned char *p, size_t size) {
        uint64_t v = 0;
        for (size_t i = 0; i < size; i++)
                v = (v << 8) | p[i];
        return v;
}

static int hex_value(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Parameters of one execution, all in binary format. The statements are fixed, so more
 * than MAX_PARAMS is a programming error: it lands in a spare slot and fails the call. */
typedef struct Params {
        int n;
        bool overflow;
        const char *values[MAX_PARAMS + 1];
        int lengths[MAX_PARAMS + 1];
        int formats[MAX_PARAMS + 1];
        unsigned char scratch[MAX_PARAMS + 1][16];
} Params;

static int param_add(Params *p, const char *value, size_t len) {
        int i = p->n < MAX_PARAMS ? p->n++ : MAX_PARAMS;
        p->overflow = p->overflow || i == MAX_PARAMS;
        p->values[i] = value;
        p->lengths[i] = (int) len; /* validated by store.c: at most INT32_MAX */
        p->formats[i] = 1;
        return i;
}

static unsigned char *param_fixed(Params *p, size_t len) {
        int i = p->n < MAX_PARAMS ? p->n : MAX_PARAMS;
        param_add(p, (const char *) p->scratch[i], len);
        return p->scratch[i];
}

static void param_int(Params *p, Oid type, int64_t v) {
        size_t size = type == INT8OID ? 8 : type == INT4OID ? 4 : 1;
        put_be(param_fixed(p, size), (uint64_t) v, size);
}

static void param_bytes(Params *p, const char *data, size_t len) {
        param_add(p, data ? data : "", len); /* not NULL: an empty bytea, not SQL NULL */
}

static void param_null(Params *p) {
        param_add(p, NULL, 0);
}

static void param_uuid(Params *p, const char *token) {
        unsigned char *u = param_fixed(p, 16);
        /* validated by store.c: 36 lowercase hex digits and dashes */
        for (size_t i = 0, o = 0; i < SUBMISSION_TOKEN_LEN && o < 16; i++) {
                if (token[i] == '-')
                        continue;
                u[o++] = (unsigned char) (hex_value(token[i]) << 4 | hex_value(token[i + 1]));
                i++;
        }
}

static Oid oid_of_column(StoreColumnType t) {
        static const Oid oids[_STORE_COLUMN_TYPE_MAX] = {
                [STORE_COLUMN_BYTES] = BYTEAOID,
                [STORE_COLUMN_INT] = INT4OID,
                [STORE_COLUMN_INT_OR_NULL] = INT4OID,
                [STORE_COLUMN_U32] = INT4OID,
                [STORE_COLUMN_U64] = INT8OID,
                [STORE_COLUMN_I64_OR_NULL] = INT8OID,
                [STORE_COLUMN_BOOL] = BOOLOID,
                [STORE_COLUMN_DOUBLE] = FLOAT8OID,
                [STORE_COLUMN_DOUBLE_OR_NULL] = FLOAT8OID,
                [STORE_COLUMN_COMPARE] = INT4OID,
        };
        return oids[t];
}

static void param_columns(Params *p, StoreColumnSet set, const void *obj) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                const StoreColumn *c = &store_columns[set].columns[i];
                StoreValue v = store_column_value(c, obj);
                switch (v.kind) {
                case STORE_VALUE_NULL:
                        param_null(p);
                        break;
                case STORE_VALUE_BYTES:
                        param_bytes(p, v.data, v.len);
                        break;
                case STORE_VALUE_DOUBLE: {
                        uint64_t bits;
                        memcpy(&bits, &v.d, sizeof bits);
                        put_be(param_fixed(p, 8), bits, 8);
                        break;
                }
                case STORE_VALUE_INT:
                        param_int(p, oid_of_column(c->type), v.i);
                        break;
                }
        }
}

/* A binary result field as a value. */
static int field_value(const PGresult *res, int row, int col, StoreValue *ret) {
        if (PQgetisnull(res, row, col)) {
                *ret = (StoreValue){.kind = STORE_VALUE_NULL};
                return 0;
        }
        const unsigned char *p = (const unsigned char *) PQgetvalue(res, row, col);
        int len = PQgetlength(res, row, col);
        Oid type = PQftype(res, col);
        switch (type) {
        case BYTEAOID:
        case TEXTOID:
                *ret = (StoreValue){
                        .kind = STORE_VALUE_BYTES, .data = (const char *) p, .len = (size_t) len};
                return 0;
        case BOOLOID:
                if (len != 1)
                        return -EBADMSG;
                *ret = (StoreValue){.kind = STORE_VALUE_INT, .i = p[0] != 0};
                return 0;
        case INT2OID:
        case INT4OID:
        case INT8OID: {
                size_t size = type == INT8OID ? 8 : type == INT4OID ? 4 : 2;
                if ((size_t) len != size)
                        return -EBADMSG;
                uint64_t u = get_be(p, size);
                int64_t v = size == 8   ? (int64_t) u
                            : size == 4 ? (int32_t) (uint32_t) u
                                        : (int16_t) (uint16_t) u;
                *ret = (StoreValue){.kind = STORE_VALUE_INT, .i = v};
                return 0;
        }
        case TIMESTAMPTZOID: {
                if (len != 8)
                        return -EBADMSG;
                int64_t v = (int64_t) get_be(p, 8);
                if (v > INT64_MAX - PG_EPOCH_UNIX_USEC || v < INT64_MIN + PG_EPOCH_UNIX_USEC)
                        return -EBADMSG; /* infinity */
                *ret = (StoreValue){.kind = STORE_VALUE_INT, .i = v + PG_EPOCH_UNIX_USEC};
                return 0;
        }
        case FLOAT8OID: {
                if (len != 8)
                        return -EBADMSG;
                uint64_t bits = get_be(p, 8);
                double d;
                memcpy(&d, &bits, sizeof d);
                *ret = (StoreValue){.kind = STORE_VALUE_DOUBLE, .d = d};
                return 0;
        }
        default:
                return -EBADMSG;
        }
}

static int field_int(const PGresult *res, int row, int col, int64_t *ret) {
        StoreValue v;
        int r = field_value(res, row, col, &v);
        if (r < 0)
                return r;
        if (v.kind == STORE_VALUE_NULL)
                v = (StoreValue){.kind = STORE_VALUE_INT, .i = 0};
        if (v.kind != STORE_VALUE_INT)
                return -EBADMSG;
        *ret = v.i;
        return 0;
}

static int field_token(const PGresult *res, int row, int col, char ret[SUBMISSION_TOKEN_LEN + 1]) {
        static const char hex[] = "0123456789abcdef";
        if (PQgetisnull(res, row, col) || PQftype(res, col) != UUIDOID || PQgetlength(res, row, col) != 16)
                return -EBADMSG;
        const unsigned char *u = (const unsigned char *) PQgetvalue(res, row, col);
        size_t o = 0;
        for (size_t i = 0; i < 16; i++) {
                if (i == 4 || i == 6 || i == 8 || i == 10)
                        ret[o++] = '-';
                ret[o++] = hex[u[i] >> 4];
                ret[o++] = hex[u[i] & 15];
        }
        ret[o] = '\0';
        return 0;
}

static int read_columns(const PGresult *res, int row, int first, StoreColumnSet set, void *obj) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                StoreValue v;
                int r = field_value(res, row, first + (int) i, &v);
                if (r < 0)
                        return r;
                r = store_column_assign(&store_columns[set].columns[i], obj, &v);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* A row of SUBMISSION_HEAD, input, result columns. *ret is overwritten. */
static int read_submission(const PGresult *res, int row, Submission *ret, int64_t *ret_id) {
        _cleanup_(submission_done) Submission s = {};
        int64_t id, created, attempts;
        int r;

        submission_init(&s);
        if ((r = field_int(res, row, 0, &id)) < 0 || (r = field_token(res, row, 1, s.token)) < 0 ||
                (r = field_int(res, row, 2, &created)) < 0 || (r = field_int(res, row, 4, &attempts)) < 0)
                return r;
        if (attempts < 0 || attempts > UINT32_MAX)
                return -EBADMSG;
        if (PQgetisnull(res, row, 3))
                s.finished_at_usec = -1;
        else if ((r = field_int(res, row, 3, &s.finished_at_usec)) < 0)
                return r;
        r = read_columns(res, row, SUBMISSION_HEAD_N, STORE_SUBMISSION_INPUT, &s);
        if (r < 0)
                return r;
        r = read_columns(res, row, SUBMISSION_HEAD_N + (int) store_columns[STORE_SUBMISSION_INPUT].n,
                STORE_SUBMISSION_RESULT, &s);
        if (r < 0)
                return r;
        s.created_at_usec = created;
        s.attempts = (uint32_t) attempts;

        *ret = s;
        submission_init(&s);
        *ret_id = id;
        return 0;
}

static int read_test(const PGresult *res, int row, Submission *sub) {
        int64_t ordinal;
        SubmissionTest *t;
        int r;

        r = field_int(res, row, 1, &ordinal);
        if (r < 0)
                return r;
        if (ordinal < 0 || (uint64_t) ordinal != sub->n_tests)
                return -EBADMSG;
        r = store_add_test(sub, &t);
        if (r < 0)
                return r;
        r = read_columns(res, row, TEST_HEAD_N, STORE_TEST_INPUT, t);
        if (r < 0)
                return r;
        return read_columns(
                res, row, TEST_HEAD_N + (int) store_columns[STORE_TEST_INPUT].n, STORE_TEST_RESULT, t);
}

/* ---- statements ---- */

/* SQL text and the types of its parameters $1, $2... */
typedef struct PgSql {
        StoreSql q;
        Oid types[MAX_PARAMS];
        int n;
} PgSql;

/* Declare the next parameter; returns its number. */
static int param(PgSql *s, Oid type) {
        if (s->n >= MAX_PARAMS) {
                s->q.error = -E2BIG;
                return 0;
        }
        s->types[s->n++] = type;
        return s->n;
}

static void add_params(PgSql *s, StoreColumnSet set) {
        for (size_t i = 0; i < store_columns[set].n; i++)
                store_sql_add(&s->q, ", $%d", param(s, oid_of_column(store_columns[set].columns[i].type)));
}

static void add_assignments(PgSql *s, StoreColumnSet set) {
        for (size_t i = 0; i < store_columns[set].n; i++) {
                const StoreColumn *c = &store_columns[set].columns[i];
                store_sql_add(&s->q, ", %s = $%d", c->name, param(s, oid_of_column(c->type)));
        }
}

static void build_sql(Stmt which, PgSql *s) {
        StoreSql *q = &s->q;

        switch (which) {
        case STMT_PING:
                store_sql_add(q, "SELECT 1");
                break;
        case STMT_INSERT:
                store_sql_add(q, "INSERT INTO submissions (token, payload_bytes, ");
                store_sql_add_names(q, STORE_SUBMISSION_INPUT, "");
                store_sql_add(q, ") VALUES ($%d", param(s, UUIDOID));
                store_sql_add(q, ", $%d", param(s, INT8OID));
                add_params(s, STORE_SUBMISSION_INPUT);
                store_sql_add(q, ") RETURNING id");
                break;
        case STMT_INSERT_TEST: {
                int id = param(s, INT8OID), ordinal = param(s, INT4OID); /* in this order */
                store_sql_add(q, "INSERT INTO submission_tests (submission_id, ordinal, ");
                store_sql_add_names(q, STORE_TEST_INPUT, "");
                store_sql_add(q, ") VALUES ($%d, $%d", id, ordinal);
                add_params(s, STORE_TEST_INPUT);
                store_sql_add(q, ")");
                break;
        }
        case STMT_GET:
        case STMT_LIST:
                if (which == STMT_LIST) {
                        param(s, INT8OID); /* LIMIT $1 */
                        param(s, INT8OID); /* OFFSET $2 */
                }
                store_sql_add(q, "SELECT " SUBMISSION_HEAD ", ");
                store_sql_add_names(q, STORE_SUBMISSION_INPUT, "");
                store_sql_add(q, ", ");
                store_sql_add_names(q, STORE_SUBMISSION_RESULT, "");
                if (which == STMT_GET)
                        store_sql_add(q, " FROM submissions WHERE token = $%d", param(s, UUIDOID));
                else
                        store_sql_add(q, " FROM submissions " NEWEST_FIRST " LIMIT $1 OFFSET $2");
                break;
        case STMT_GET_TESTS:
        case STMT_LIST_TESTS:
                if (which == STMT_LIST_TESTS) {
                        param(s, INT8OID); /* LIMIT $1 */
                        param(s, INT8OID); /* OFFSET $2 */
                }
                store_sql_add(q, "SELECT submission_id, ordinal, ");
                store_sql_add_names(q, STORE_TEST_INPUT, "");
                store_sql_add(q, ", ");
                store_sql_add_names(q, STORE_TEST_RESULT, "");
                if (which == STMT_GET_TESTS)
                        store_sql_add(q, " FROM submission_tests WHERE submission_id = $%d ORDER BY ordinal",
                                param(s, INT8OID));
                else
                        store_sql_add(q, " FROM submission_tests WHERE submission_id IN "
                                         "(SELECT id FROM submissions " NEWEST_FIRST " LIMIT $1 OFFSET $2) "
                                         "ORDER BY submission_id, ordinal");
                break;
        case STMT_COUNT:
                store_sql_add(q, "SELECT count(*) FROM submissions");
                break;
        case STMT_STATUS:
                store_sql_add(q, "SELECT status_id FROM submissions WHERE token = $%d", param(s, UUIDOID));
                break;
        case STMT_DELETE:
                store_sql_add(q, "DELETE FROM submissions WHERE token = $%d AND status_id NOT IN (1, 2)",
                        param(s, UUIDOID));
                break;
        case STMT_CLAIM:
                store_sql_add(q,
                        "UPDATE submissions SET status_id = 2, attempts = attempts + 1 "
                        "WHERE token = $%d AND status_id IN (1, 2) RETURNING attempts",
                        param(s, UUIDOID));
                break;
        case STMT_FINISH: {
                int token = param(s, UUIDOID);
                store_sql_add(q,
                        "UPDATE submissions SET finished_at = clock_timestamp(), "
                        "payload_bytes = payload_bytes + $%d",
                        param(s, INT8OID));
                add_assignments(s, STORE_SUBMISSION_RESULT);
                store_sql_add(q, " WHERE token = $%d AND status_id IN (1, 2) RETURNING id", token);
                break;
        }
        case STMT_FINISH_TEST: {
                int id = param(s, INT8OID), ordinal = param(s, INT4OID);
                /* "ordinal = ordinal" only gives add_assignments() a first item to follow */
                store_sql_add(q, "UPDATE submission_tests SET ordinal = ordinal");
                add_assignments(s, STORE_TEST_RESULT);
                store_sql_add(q, " WHERE submission_id = $%d AND ordinal = $%d", id, ordinal);
                break;
        }
        case STMT_UNFINISHED:
                store_sql_add(q,
                        "SELECT token FROM submissions WHERE status_id IN (1, 2) ORDER BY created_at, id");
                break;
        case STMT_COUNT_BY_STATUS:
                store_sql_add(q, "SELECT status_id, count(*) FROM submissions GROUP BY status_id");
                break;
        case STMT_COUNT_BY_LANGUAGE:
                store_sql_add(q, "SELECT language_id, count(*) FROM submissions GROUP BY language_id");
                break;
        case STMT_COUNT_BY_DAY: {
                /* microseconds since the Unix epoch, exactly (extract() may be a double) */
                int since = param(s, INT8OID);
                store_sql_add(q,
                        "SELECT (((extract(epoch FROM date_trunc('second', created_at)))::bigint * 1000000 "
                        "+ extract(microseconds FROM created_at)::bigint %% 1000000) - $%d) / %" PRId64
                        ", count(*) FROM submissions "
                        "WHERE created_at >= timestamptz 'epoch' + $%d * interval '1 microsecond' GROUP BY "
                        "1",
                        since, STORE_DAY_USEC, since);
                break;
        }
        case STMT_SIZE:
                store_sql_add(q, "SELECT pg_database_size(current_database())");
                break;
        case STMT_LIVE_BYTES:
                store_sql_add(q, "SELECT sum(payload_bytes)::bigint FROM submissions");
                break;
        case STMT_PURGE_CANDIDATES:
                store_sql_add(q,
                        "SELECT id, finished_at, payload_bytes FROM submissions "
                        "WHERE status_id >= 3 ORDER BY finished_at, id LIMIT $%d",
                        param(s, INT8OID));
                break;
        case STMT_PURGE:
                /* the tests go with the rows (ON DELETE CASCADE) */
                store_sql_add(q,
                        "WITH gone AS (DELETE FROM submissions WHERE id = ANY($%d) AND status_id >= 3 "
                        "RETURNING token, status_id, language_id, created_at, finished_at) "
                        "INSERT INTO purged_submissions (" PURGED_COLUMNS ") "
                        "SELECT *, clock_timestamp() FROM gone ON CONFLICT DO NOTHING",
                        param(s, INT8ARRAYOID));
                break;
        case STMT_GET_PURGED:
                store_sql_add(q, "SELECT " PURGED_COLUMNS " FROM purged_submissions WHERE token = $%d",
                        param(s, UUIDOID));
                break;
        case STMT_DELETE_PURGED:
                store_sql_add(q, "DELETE FROM purged_submissions WHERE token = $%d", param(s, UUIDOID));
                break;
        case STMT_PROBE:
                store_sql_add(q,
                        "INSERT INTO store_probe (id, at, pad) VALUES (1, clock_timestamp(), $%d) "
                        "ON CONFLICT (id) DO UPDATE SET at = excluded.at, pad = excluded.pad",
                        param(s, BYTEAOID));
                break;
        case STMT_WORKER_BEAT: {
                int id = param(s, TEXTOID), info = param(s, TEXTOID);
                store_sql_add(q,
                        "INSERT INTO workers (id, info, heartbeat_at) VALUES ($%d, $%d, clock_timestamp()) "
                        "ON CONFLICT (id) DO UPDATE SET info = EXCLUDED.info, heartbeat_at = "
                        "EXCLUDED.heartbeat_at",
                        id, info);
                break;
        }
        case STMT_WORKER_REMOVE: {
                int id = param(s, TEXTOID);
                store_sql_add(q, "DELETE FROM workers WHERE id = $%d", id);
                break;
        }
        case STMT_WORKERS: {
                int age = param(s, INT8OID);
                store_sql_add(q,
                        "SELECT id, info, (extract(epoch FROM heartbeat_at) * 1000000)::bigint FROM workers "
                        "WHERE heartbeat_at >= clock_timestamp() - $%d * interval '1 microsecond' ORDER BY "
                        "id",
                        age);
                break;
        }
        default:
                s->q.error = -EINVAL;
        }
}

static int prepare_all(StoreBackend *b) {
        for (size_t i = 0; i < _STMT_MAX; i++) {
                PgSql s = {};
                _cleanup_free_ char *sql = NULL;
                build_sql((Stmt) i, &s);
                int r = store_sql_finish(&s.q, &sql);
                if (r < 0)
                        return r;
                _cleanup_result_ PGresult *res = PQprepare(b->conn, stmt_names[i], sql, s.n, s.types);
                if (PQresultStatus(res) != PGRES_COMMAND_OK)
                        return errno_of_result(b, res);
        }
        b->prepared = true;
        return 0;
}

/* Before each call: reconnect if the connection was lost, leave nothing of an earlier
 * failed call behind. */
static int ensure_ready(StoreBackend *b) {
        if (PQstatus(b->conn) != CONNECTION_OK) {
                b->prepared = false;
                PQreset(b->conn);
                if (PQstatus(b->conn) != CONNECTION_OK)
                        return -ENOTCONN;
        }
        if (PQtransactionStatus(b->conn) != PQTRANS_IDLE) {
                _cleanup_result_ PGresult *res = PQexec(b->conn, "ROLLBACK");
                if (PQresultStatus(res) != PGRES_COMMAND_OK)
                        return errno_of_result(b, res);
        }
        if (!b->prepared)
                return prepare_all(b);
        return 0;
}

/* Run a prepared statement; on success *ret is the result (rows or none). */
static int run(StoreBackend *b, Stmt which, const Params *p, PGresult **ret) {
        if (p && p->overflow)
                return -E2BIG;
        PGresult *res = PQexecPrepared(b->conn, stmt_names[which], p ? p->n : 0, p ? p->values : NULL,
                p ? p->lengths : NULL, p ? p->formats : NULL, 1);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
                int r = errno_of_result(b, res);
                PQclear(res);
                return r;
        }
        *ret = res;
        return 0;
}

static int exec_simple(StoreBackend *b, const char *sql) {
        _cleanup_result_ PGresult *res = PQexec(b->conn, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                return errno_of_result(b, res);
        return 0;
}

/* An open transaction, rolled back when it goes out of scope uncommitted. */
static void rollbackp(StoreBackend **b) {
        if (*b)
                (void) exec_simple(*b, "ROLLBACK");
}
#define _cleanup_rollback_ _cleanup_(rollbackp)

static int begin(StoreBackend *b, const char *sql, StoreBackend **ret_txn) {
        int r = exec_simple(b, sql);
        if (r < 0)
                return r;
        *ret_txn = b;
        return 0;
}

static int commit(StoreBackend **txn) {
        int r = exec_simple(*txn, "COMMIT");
        if (r < 0)
                return r;
        *txn = NULL;
        return 0;
}

/* The only reads that may be retried: a connection lost before or during the first try is
 * re-established by ensure_ready() on the second. */
#define RETRY_READ(call) \
        ({ \
                int _r = (call); \
                if (_r == -ECONNRESET) \
                        _r = (call); \
                _r; \
        })

/* ---- connection, migrations ---- */

static void ignore_notice(void *userdata, const char *message) {
}

static StoreBackend *pg_disconnect(StoreBackend *b) {
        if (!b)
                return NULL;
        PQfinish(b->conn);
        free(b);
        return NULL;
}

static void disconnectp(StoreBackend **b) {
        pg_disconnect(*b);
}

static const char *pg_error_message(StoreBackend *b) {
        return PQerrorMessage(b->conn);
}

static int pg_connect(const char *target, char *errbuf, StoreBackend **ret) {
        _cleanup_(disconnectp) StoreBackend *b = NULL;
        char *parse_error = NULL;

        PQconninfoOption *opts = PQconninfoParse(target, &parse_error);
        if (!opts) {
                store_set_error(
                        errbuf, "invalid PostgreSQL url: %s", parse_error ? parse_error : "out of memory");
                int r = parse_error ? -EINVAL : -ENOMEM;
                PQfreemem(parse_error);
                return r;
        }
        PQconninfoFree(opts);

        b = calloc(1, sizeof *b);
        if (!b)
                return -ENOMEM;
        /* Later keywords win: the url overrides these defaults. */
        const char *const keys[] = {"connect_timeout", "application_name", "dbname", NULL};
        const char *const values[] = {"10", "coderunner", target, NULL};
        b->conn = PQconnectdbParams(keys, values, 1);
        if (!b->conn)
                return -ENOMEM;
        if (PQstatus(b->conn) != CONNECTION_OK) {
                store_set_error(errbuf, "cannot connect to PostgreSQL: %s", PQerrorMessage(b->conn));
                return PQconnectionNeedsPassword(b->conn) ? -EACCES : -ECONNREFUSED;
        }
        /* "relation already exists, skipping" and the like are not for stderr. */
        PQsetNoticeProcessor(b->conn, ignore_notice, NULL);
        *ret = TAKE_PTR(b);
        return 0;
}

static int pg_exec(StoreBackend *b, const char *sql) {
        return exec_simple(b, sql);
}

static int pg_query_int(StoreBackend *b, const char *sql, int64_t *ret) {
        _cleanup_result_ PGresult *res = PQexecParams(b->conn, sql, 0, NULL, NULL, NULL, NULL, 1);
        int64_t v;
        int r;

        if (PQresultStatus(res) != PGRES_TUPLES_OK)
                return errno_of_result(b, res);
        if (PQntuples(res) < 1 || PQnfields(res) < 1)
                return -ENODATA;
        r = field_int(res, 0, 0, &v);
        if (r < 0)
                return r;
        *ret = v;
        return 0;
}

static int pg_record_migration(StoreBackend *b, const StoreMigration *m) {
        char version[16];
        (void) snprintf(version, sizeof version, "%u", m->version);
        const char *const values[] = {version, m->name};
        _cleanup_result_ PGresult *res = PQexecParams(b->conn,
                "INSERT INTO schema_version (version, name) VALUES ($1::integer, $2::text)", 2, NULL, values,
                NULL, NULL, 1);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return errno_of_result(b, res);
        return 0;
}

static int pg_prepare(StoreBackend *b) {
        return prepare_all(b);
}

/* ---- the calls ---- */

static int ping_once(StoreBackend *b) {
        _cleanup_result_ PGresult *res = NULL;
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        return run(b, STMT_PING, NULL, &res);
}

static int pg_ping(StoreBackend *b) {
        return RETRY_READ(ping_once(b));
}

/* -ENOENT when the token is unknown, else 0. */
static int exists(StoreBackend *b, const char *token) {
        _cleanup_result_ PGresult *res = NULL;
        Params p = {};
        param_uuid(&p, token);
        int r = run(b, STMT_STATUS, &p, &res);
        if (r < 0)
                return r;
        return PQntuples(res) > 0 ? 0 : -ENOENT;
}

static int pg_create(StoreBackend *b, const Submission *sub) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        int64_t id;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if (sub->n_tests > 0) {
                r = begin(b, "BEGIN", &txn);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_uuid(&p, sub->token);
                param_int(&p, INT8OID,
                        (int64_t) store_payload_bytes(sub, STORE_SUBMISSION_INPUT, STORE_TEST_INPUT));
                param_columns(&p, STORE_SUBMISSION_INPUT, sub);
                if ((r = run(b, STMT_INSERT, &p, &res)) < 0)
                        return r;
                if (PQntuples(res) != 1)
                        return -EIO;
                if ((r = field_int(res, 0, 0, &id)) < 0)
                        return r;
        }
        for (size_t i = 0; i < sub->n_tests; i++) {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_int(&p, INT8OID, id);
                param_int(&p, INT4OID, (int64_t) i);
                param_columns(&p, STORE_TEST_INPUT, &sub->tests[i]);
                if ((r = run(b, STMT_INSERT_TEST, &p, &res)) < 0)
                        return r;
        }
        return txn ? commit(&txn) : 0;
}

/* The tombstone of a purged submission, or -ENOENT. */
static int get_purged(StoreBackend *b, const char *token, Submission *ret) {
        _cleanup_result_ PGresult *res = NULL;
        int64_t v[6] = {[4] = -1}; /* PURGED_COLUMNS after the token; a NULL finished_at stays -1 */
        Params p = {};
        int r;

        param_uuid(&p, token);
        if ((r = run(b, STMT_GET_PURGED, &p, &res)) < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        for (int i = 1; i < 6; i++)
                if (!PQgetisnull(res, 0, i) && (r = field_int(res, 0, i, &v[i])) < 0)
                        return r;
        return store_tombstone(token, v[1], v[2], v[3], v[4], v[5], ret);
}

static int get_once(StoreBackend *b, const char *token, Submission *ret) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        _cleanup_(submission_done) Submission s = {};
        int64_t id;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        /* One snapshot for the submission and its tests. */
        r = begin(b, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", &txn);
        if (r < 0)
                return r;
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_uuid(&p, token);
                if ((r = run(b, STMT_GET, &p, &res)) < 0)
                        return r;
                if (PQntuples(res) == 0)
                        return get_purged(b, token, ret); /* same snapshot */
                if ((r = read_submission(res, 0, &s, &id)) < 0)
                        return r;
        }
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_int(&p, INT8OID, id);
                if ((r = run(b, STMT_GET_TESTS, &p, &res)) < 0)
                        return r;
                for (int row = 0; row < PQntuples(res); row++)
                        if ((r = read_test(res, row, &s)) < 0)
                                return r;
        }
        r = commit(&txn);
        if (r < 0)
                return r;
        *ret = s;
        submission_init(&s);
        return 0;
}

static int pg_get(StoreBackend *b, const char *token, Submission *ret) {
        return RETRY_READ(get_once(b, token, ret));
}

typedef struct IdIndex {
        int64_t id;
        size_t index;
} IdIndex;

static int id_index_compare(const void *a, const void *b) {
        int64_t x = ((const IdIndex *) a)->id, y = ((const IdIndex *) b)->id;
        return (x > y) - (x < y);
}

static int list_once(StoreBackend *b, int64_t offset, uint32_t limit, Submission **ret, size_t *ret_n,
        uint64_t *ret_total) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        _cleanup_result_ PGresult *page = NULL, *tests = NULL, *count = NULL;
        _cleanup_free_ IdIndex *ids = NULL;
        Submission *list = NULL;
        size_t n = 0;
        int64_t total;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        /* The page, its tests and the total from one snapshot. */
        r = begin(b, "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", &txn);
        if (r < 0)
                return r;
        Params p = {};
        param_int(&p, INT8OID, limit);
        param_int(&p, INT8OID, offset);
        if ((r = run(b, STMT_LIST, &p, &page)) < 0)
                return r;
        if (PQntuples(page) > 0 && (r = run(b, STMT_LIST_TESTS, &p, &tests)) < 0)
                return r;
        if ((r = run(b, STMT_COUNT, NULL, &count)) < 0)
                return r;
        if ((r = commit(&txn)) < 0)
                return r;
        if (PQntuples(count) != 1 || (r = field_int(count, 0, 0, &total)) < 0)
                return r < 0 ? r : -EBADMSG;

        size_t rows = (size_t) PQntuples(page);
        if (rows > 0) {
                list = calloc(rows, sizeof *list);
                ids = calloc(rows, sizeof *ids);
                if (!list || !ids) {
                        free(list);
                        return -ENOMEM;
                }
        }
        for (; n < rows; n++) {
                r = read_submission(page, (int) n, &list[n], &ids[n].id);
                if (r < 0)
                        goto fail;
                ids[n].index = n;
        }
        if (n > 0) {
                qsort(ids, n, sizeof *ids, id_index_compare);
                for (int row = 0; row < PQntuples(tests); row++) {
                        IdIndex key;
                        if ((r = field_int(tests, row, 0, &key.id)) < 0)
                                goto fail;
                        const IdIndex *found = bsearch(&key, ids, n, sizeof *ids, id_index_compare);
                        if (!found) {
                                r = -EBADMSG;
                                goto fail;
                        }
                        if ((r = read_test(tests, row, &list[found->index])) < 0)
                                goto fail;
                }
        }
        *ret = list;
        *ret_n = n;
        *ret_total = (uint64_t) total;
        return 0;
fail:
        store_list_free(list, n);
        return r;
}

static int pg_list(StoreBackend *b, int64_t offset, uint32_t limit, Submission **ret, size_t *ret_n,
        uint64_t *ret_total) {
        return RETRY_READ(list_once(b, offset, limit, ret, ret_n, ret_total));
}

static int pg_delete(StoreBackend *b, const char *token) {
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_uuid(&p, token);
                if ((r = run(b, STMT_DELETE, &p, &res)) < 0)
                        return r;
                if (strcmp(PQcmdTuples(res), "0") != 0)
                        return 0;
        }
        r = exists(b, token);
        if (r != -ENOENT)
                return r < 0 ? r : -EBUSY;
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_uuid(&p, token);
                if ((r = run(b, STMT_DELETE_PURGED, &p, &res)) < 0)
                        return r;
                return strcmp(PQcmdTuples(res), "0") != 0 ? 0 : -ENOENT;
        }
}

static int pg_claim(StoreBackend *b, const char *token, uint32_t *ret_attempts) {
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                int64_t attempts;
                param_uuid(&p, token);
                if ((r = run(b, STMT_CLAIM, &p, &res)) < 0)
                        return r;
                if (PQntuples(res) > 0) {
                        if ((r = field_int(res, 0, 0, &attempts)) < 0)
                                return r;
                        if (attempts < 0 || attempts > UINT32_MAX)
                                return -EBADMSG;
                        *ret_attempts = (uint32_t) attempts;
                        return 0;
                }
        }
        r = exists(b, token);
        return r < 0 ? r : -EALREADY;
}

static int pg_finish(StoreBackend *b, const Submission *result) {
        _cleanup_rollback_ StoreBackend *txn = NULL;
        int64_t id;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if (result->n_tests > 0) {
                r = begin(b, "BEGIN", &txn);
                if (r < 0)
                        return r;
        }
        {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_uuid(&p, result->token);
                param_int(&p, INT8OID,
                        (int64_t) store_payload_bytes(result, STORE_SUBMISSION_RESULT, STORE_TEST_RESULT));
                param_columns(&p, STORE_SUBMISSION_RESULT, result);
                if ((r = run(b, STMT_FINISH, &p, &res)) < 0)
                        return r;
                if (PQntuples(res) == 0) {
                        if (txn) {
                                rollbackp(&txn);
                                txn = NULL;
                        }
                        r = exists(b, result->token);
                        return r < 0 ? r : -EALREADY;
                }
                if ((r = field_int(res, 0, 0, &id)) < 0)
                        return r;
        }
        for (size_t i = 0; i < result->n_tests; i++) {
                _cleanup_result_ PGresult *res = NULL;
                Params p = {};
                param_int(&p, INT8OID, id);
                param_int(&p, INT4OID, (int64_t) i);
                param_columns(&p, STORE_TEST_RESULT, &result->tests[i]);
                if ((r = run(b, STMT_FINISH_TEST, &p, &res)) < 0)
                        return r;
                if (strcmp(PQcmdTuples(res), "0") == 0)
                        return -EINVAL; /* more results than tests: nothing is written */
        }
        return txn ? commit(&txn) : 0;
}

static int unfinished_once(StoreBackend *b, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_free_ char(*tokens)[SUBMISSION_TOKEN_LEN + 1] = NULL;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if ((r = run(b, STMT_UNFINISHED, NULL, &res)) < 0)
                return r;
        size_t n = (size_t) PQntuples(res);
        if (n > 0) {
                tokens = calloc(n, sizeof *tokens);
                if (!tokens)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < n; i++)
                if ((r = field_token(res, (int) i, 0, tokens[i])) < 0)
                        return r;
        *ret_tokens = TAKE_PTR(tokens);
        *ret_n = n;
        return 0;
}

static int pg_unfinished(StoreBackend *b, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n) {
        return RETRY_READ(unfinished_once(b, ret_tokens, ret_n));
}

static int count_by_status_once(StoreBackend *b, uint64_t ret_counts[STORE_STATUS_SLOTS]) {
        _cleanup_result_ PGresult *res = NULL;
        uint64_t counts[STORE_STATUS_SLOTS] = {};
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if ((r = run(b, STMT_COUNT_BY_STATUS, NULL, &res)) < 0)
                return r;
        for (int row = 0; row < PQntuples(res); row++) {
                int64_t status, count;
                if ((r = field_int(res, row, 0, &status)) < 0 || (r = field_int(res, row, 1, &count)) < 0)
                        return r;
                if (status < 0 || status >= STORE_STATUS_SLOTS || count < 0)
                        return -EBADMSG;
                counts[status] = (uint64_t) count;
        }
        memcpy(ret_counts, counts, sizeof counts);
        return 0;
}

static int pg_count_by_status(StoreBackend *b, uint64_t ret_counts[STORE_STATUS_SLOTS]) {
        return RETRY_READ(count_by_status_once(b, ret_counts));
}

/* (key, count) rows of a prepared statement whose parameter $1, if any, is since. */
static int count_rows_once(StoreBackend *b, Stmt which, const Params *p, StoreCount **ret, size_t *ret_n) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_free_ StoreCount *list = NULL;
        size_t n = 0;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if ((r = run(b, which, p, &res)) < 0)
                return r;
        for (int row = 0; row < PQntuples(res); row++) {
                int64_t key, count;
                if ((r = field_int(res, row, 0, &key)) < 0 || (r = field_int(res, row, 1, &count)) < 0)
                        return r;
                if ((r = store_count_append(&list, &n, key, count)) < 0)
                        return r;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int pg_count_by_language(StoreBackend *b, StoreCount **ret, size_t *ret_n) {
        return RETRY_READ(count_rows_once(b, STMT_COUNT_BY_LANGUAGE, NULL, ret, ret_n));
}

static int pg_count_by_day(StoreBackend *b, int64_t since_usec, StoreCount **ret, size_t *ret_n) {
        Params p = {};
        param_int(&p, INT8OID, since_usec);
        return RETRY_READ(count_rows_once(b, STMT_COUNT_BY_DAY, &p, ret, ret_n));
}

/* A statement without parameters answering one non-negative integer (NULL reads as 0). */
static int count_once(StoreBackend *b, Stmt which, uint64_t *ret) {
        _cleanup_result_ PGresult *res = NULL;
        int64_t v;
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        if ((r = run(b, which, NULL, &res)) < 0)
                return r;
        if (PQntuples(res) < 1)
                return -ENODATA;
        if ((r = field_int(res, 0, 0, &v)) < 0)
                return r;
        if (v < 0)
                return -EBADMSG;
        *ret = (uint64_t) v;
        return 0;
}

static int pg_size(StoreBackend *b, uint64_t *ret_bytes) {
        return RETRY_READ(count_once(b, STMT_SIZE, ret_bytes));
}

static int pg_live_bytes(StoreBackend *b, uint64_t *ret_bytes) {
        return RETRY_READ(count_once(b, STMT_LIVE_BYTES, ret_bytes));
}

static int purge_candidates_once(StoreBackend *b, uint32_t limit, StorePurgeCandidate **ret, size_t *ret_n) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_free_ StorePurgeCandidate *list = NULL;
        Params p = {};
        int r;

        r = ensure_ready(b);
        if (r < 0)
                return r;
        param_int(&p, INT8OID, limit);
        if ((r = run(b, STMT_PURGE_CANDIDATES, &p, &res)) < 0)
                return r;
        size_t n = (size_t) PQntuples(res);
        if (n > limit)
                return -EBADMSG;
        list = calloc(MAX(n, 1u), sizeof *list);
        if (!list)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                int64_t bytes;
                if ((r = field_int(res, (int) i, 0, &list[i].id)) < 0 ||
                        (r = field_int(res, (int) i, 1, &list[i].finished_at_usec)) < 0 ||
                        (r = field_int(res, (int) i, 2, &bytes)) < 0)
                        return r;
                if (bytes < 0)
                        return -EBADMSG;
                list[i].payload_bytes = (uint64_t) bytes;
        }
        *ret = TAKE_PTR(list);
        *ret_n = n;
        return 0;
}

static int pg_purge_candidates(StoreBackend *b, uint32_t limit, StorePurgeCandidate **ret, size_t *ret_n) {
        return RETRY_READ(purge_candidates_once(b, limit, ret, ret_n));
}

static int pg_purge(StoreBackend *b, const StorePurgeCandidate *c, size_t n) {
        _cleanup_result_ PGresult *res = NULL;
        _cleanup_free_ unsigned char *array = NULL;
        Params p = {};
        int r;

        /* A one-dimensional bigint[] in binary: ndim, has-null, element type, length, lower
         * bound, then (length, value) per element. n is at most INT32_MAX (store.c). */
        if (n > (INT32_MAX - 20) / 12)
                return -E2BIG;
        size_t len = 20 + 12 * n;
        array = malloc(len);
        if (!array)
                return -ENOMEM;
        put_be(array, 1, 4);
        put_be(array + 4, 0, 4);
        put_be(array + 8, INT8OID, 4);
        put_be(array + 12, n, 4);
        put_be(array + 16, 1, 4);
        for (size_t i = 0; i < n; i++) {
                put_be(array + 20 + 12 * i, 8, 4);
                put_be(array + 24 + 12 * i, (uint64_t) c[i].id, 8);
        }
        r = ensure_ready(b);
        if (r < 0)
                return r;
        param_add(&p, (const char *) array, len);
        return run(b, STMT_PURGE, &p, &res);
}

/* The probe's padding: bytes that do not compress (a TOASTed run of zeros would write
 * next to nothing). */
static unsigned char probe_pad[STORE_PROBE_BYTES];

static void fill_pad(void) {
        uint64_t x = UINT64_C(0x9e3779b97f4a7c15);
        for (size_t i = 0; i < sizeof probe_pad; i++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                probe_pad[i] = (unsigned char) x;
        }
}

static int pg_probe(StoreBackend *b) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        _cleanup_result_ PGresult *res = NULL;
        Params p = {};

        int r = ensure_ready(b);
        if (r < 0)
                return r;
        (void) pthread_once(&once, fill_pad);
        param_bytes(&p, (const char *) probe_pad, sizeof probe_pad);
        return run(b, STMT_PROBE, &p, &res);
}

/* Space freed by purge() is reused by later writes once autovacuum has seen it. */
static int pg_reclaim(StoreBackend *b) {
        return 0;
}

/* ---- the worker registry ---- */

static int pg_worker_beat(StoreBackend *b, const char *id, const char *info) {
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        _cleanup_result_ PGresult *res = NULL;
        Params p = {};
        param_bytes(&p, id, strlen(id));
        param_bytes(&p, info, strlen(info));
        return run(b, STMT_WORKER_BEAT, &p, &res);
}

static int pg_worker_remove(StoreBackend *b, const char *id) {
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        _cleanup_result_ PGresult *res = NULL;
        Params p = {};
        param_bytes(&p, id, strlen(id));
        if ((r = run(b, STMT_WORKER_REMOVE, &p, &res)) < 0)
                return r;
        return strcmp(PQcmdTuples(res), "0") != 0 ? 0 : -ENOENT;
}

static int workers_once(
        StoreBackend *b, uint64_t max_age_usec, WorkerInfo **ret, char ***ret_infos, size_t *ret_n) {
        int r = ensure_ready(b);
        if (r < 0)
                return r;
        _cleanup_result_ PGresult *res = NULL;
        Params p = {};
        param_int(&p, INT8OID, (int64_t) max_age_usec);
        if ((r = run(b, STMT_WORKERS, &p, &res)) < 0)
                return r;
        WorkerInfo *list = NULL;
        char **infos = NULL;
        size_t n = 0;
        for (int row = 0; r >= 0 && row < PQntuples(res); row++) {
                int64_t at;
                if ((r = field_int(res, row, 2, &at)) < 0)
                        break;
                r = store_worker_row_append(
                        &list, &infos, &n, PQgetvalue(res, row, 0), PQgetvalue(res, row, 1), at);
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

static int pg_workers(
        StoreBackend *b, uint64_t max_age_usec, WorkerInfo **ret, char ***ret_infos, size_t *ret_n) {
        return RETRY_READ(workers_once(b, max_age_usec, ret, ret_infos, ret_n));
}

const StoreOps store_pg_ops = {
        .name = "postgres",
        .migrations = store_pg_migrations,
        .n_migrations = &store_pg_n_migrations,
        .migration_begin = "BEGIN; SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")",
        .schema_version_table = "CREATE TABLE IF NOT EXISTS schema_version ("
                                "version integer PRIMARY KEY, "
                                "name text NOT NULL DEFAULT '', "
                                "applied_at timestamptz NOT NULL DEFAULT now())",
        .connect = pg_connect,
        .disconnect = pg_disconnect,
        .error_message = pg_error_message,
        .exec = pg_exec,
        .query_int = pg_query_int,
        .record_migration = pg_record_migration,
        .prepare = pg_prepare,
        .ping = pg_ping,
        .create = pg_create,
        .get = pg_get,
        .list = pg_list,
        .delete = pg_delete,
        .claim = pg_claim,
        .finish = pg_finish,
        .unfinished = pg_unfinished,
        .count_by_status = pg_count_by_status,
        .count_by_language = pg_count_by_language,
        .count_by_day = pg_count_by_day,
        .size = pg_size,
        .live_bytes = pg_live_bytes,
        .purge_candidates = pg_purge_candidates,
        .purge = pg_purge,
        .reclaim = pg_reclaim,
        .probe = pg_probe,
        .worker_beat = pg_worker_beat,
        .worker_remove = pg_worker_remove,
        .workers = pg_workers,
};
