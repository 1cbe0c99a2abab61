/* SPDX-License-Identifier: MIT */
/* The metadata store on MongoDB (or a server speaking its protocol, such as FerretDB): the
 * only file that includes libmongoc and libbson. A client pool, so that threads call in
 * parallel (each call borrows a client for its duration); the indexes created at open.
 *
 * Collections (in the url's database, "coderunner" when it names none):
 *   keys           _id = the key's id; unique index on hash; index (created_at, _id)
 *   users          _id = the user's id; unique index on name
 *   sessions       _id = id_hash; expires_at (a date, for the TTL index) and
 *                  expires_at_usec (exact, what the queries compare); index on expires_at_usec
 *   history        _id = the token (unique); indexes (owner, created_at, _id) for pages and
 *                  (status_id, created_at, _id) for the pending list
 *   client_config  _id = the key
 *   shares         _id = the share's id; owner, data, created_at
 * A server that refuses TTL indexes (FerretDB 1.x answers NotImplemented) still works:
 * expired sessions are refused by the queries and deleted by session_sweep(). */

#include <errno.h>
#include <limits.h>
#include <mongoc/mongoc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "meta/meta-internal.h"

#define DEFAULT_DATABASE "coderunner"
/* A call waits this long for a server before it answers "down", unless the url says
 * otherwise (libmongoc's own default is 30 s: too long for a request path). */
#define SERVER_SELECTION_TIMEOUT_MSEC 2000
#define CONNECT_TIMEOUT_MSEC 2000
#define SOCKET_TIMEOUT_MSEC 10000

/* Server error codes we tell apart. */
enum {
        CODE_DUPLICATE_KEY = 11000,
        CODE_DUPLICATE_KEY_LEGACY = 11001,
        CODE_NOT_IMPLEMENTED = 238,
        CODE_COMMAND_NOT_SUPPORTED = 115,
        CODE_COMMAND_NOT_FOUND = 59,
        CODE_UNAUTHORIZED = 13,
        CODE_AUTHENTICATION_FAILED = 18,
        CODE_BAD_VALUE = 2,
        CODE_FAILED_TO_PARSE = 9,
        CODE_TYPE_MISMATCH = 14,
        CODE_HOST_UNREACHABLE = 6,
        CODE_HOST_NOT_FOUND = 7,
        CODE_NETWORK_TIMEOUT = 89,
        CODE_SHUTDOWN_IN_PROGRESS = 91,
        CODE_PRIMARY_STEPPED_DOWN = 189,
        CODE_NOT_WRITABLE_PRIMARY = 10107,
        CODE_INTERRUPTED_AT_SHUTDOWN = 11600,
        CODE_NOT_PRIMARY_NO_SECONDARY_OK = 13435,
};

struct MetaBackend {
        mongoc_uri_t *uri;
        mongoc_client_pool_t *pool;
        char *db;
};

/* ---- errors ---- */

static const struct {
        uint32_t code;
        int error;
} errno_of_server_code[] = {
        {CODE_DUPLICATE_KEY, EEXIST},
        {CODE_DUPLICATE_KEY_LEGACY, EEXIST},
        {CODE_NOT_IMPLEMENTED, EOPNOTSUPP},
        {CODE_COMMAND_NOT_SUPPORTED, EOPNOTSUPP},
        {CODE_COMMAND_NOT_FOUND, EOPNOTSUPP},
        {CODE_UNAUTHORIZED, EACCES},
        {CODE_AUTHENTICATION_FAILED, EACCES},
        {CODE_BAD_VALUE, EINVAL},
        {CODE_FAILED_TO_PARSE, EINVAL},
        {CODE_TYPE_MISMATCH, EINVAL},
        /* the server answers, but cannot serve: down as far as we are concerned */
        {CODE_HOST_UNREACHABLE, EHOSTUNREACH},
        {CODE_HOST_NOT_FOUND, EHOSTUNREACH},
        {CODE_NETWORK_TIMEOUT, ETIMEDOUT},
        {CODE_SHUTDOWN_IN_PROGRESS, ECONNRESET},
        {CODE_PRIMARY_STEPPED_DOWN, ECONNRESET},
        {CODE_NOT_WRITABLE_PRIMARY, ECONNRESET},
        {CODE_INTERRUPTED_AT_SHUTDOWN, ECONNRESET},
        {CODE_NOT_PRIMARY_NO_SECONDARY_OK, ECONNRESET},
};

static const struct {
        uint32_t code;
        int error;
} errno_of_stream_code[] = {
        {MONGOC_ERROR_STREAM_NAME_RESOLUTION, EHOSTUNREACH},
        {MONGOC_ERROR_STREAM_CONNECT, ECONNREFUSED},
        {MONGOC_ERROR_STREAM_SOCKET, ECONNRESET},
        {MONGOC_ERROR_STREAM_NOT_ESTABLISHED, ENOTCONN},
};

static int errno_of(const bson_error_t *e) {
        switch (e->domain) {
        case MONGOC_ERROR_SERVER_SELECTION: /* no server answered in time */
                return -ECONNREFUSED;
        case MONGOC_ERROR_STREAM:
                for (size_t i = 0; i < ELEMENTSOF(errno_of_stream_code); i++)
                        if (errno_of_stream_code[i].code == e->code)
                                return -errno_of_stream_code[i].error;
                return -EIO;
        case MONGOC_ERROR_CLIENT:
                if (e->code == MONGOC_ERROR_CLIENT_AUTHENTICATE)
                        return -EACCES;
                if (e->code == MONGOC_ERROR_CLIENT_TOO_BIG)
                        return -E2BIG;
                return -EIO;
        case MONGOC_ERROR_BSON:
                return -EBADMSG;
        case MONGOC_ERROR_SERVER:
        case MONGOC_ERROR_WRITE_CONCERN:
        case MONGOC_ERROR_QUERY:
        case MONGOC_ERROR_COMMAND:
        case MONGOC_ERROR_COLLECTION:
                for (size_t i = 0; i < ELEMENTSOF(errno_of_server_code); i++)
                        if (errno_of_server_code[i].code == e->code)
                                return -errno_of_server_code[i].error;
                return -EIO;
        default:
                return -EIO;
        }
}

/* ---- documents ---- */

/* A document built by appends; any failed append (too large) is remembered. */
typedef struct Doc {
        bson_t b;
        bool failed;
} Doc;

static void doc_donep(Doc *d) {
        bson_destroy(&d->b);
}
#define DOC(name) _cleanup_(doc_donep) Doc name = {.b = BSON_INITIALIZER}

static void put_str(Doc *d, const char *key, const char *v) {
        if (!bson_append_utf8(&d->b, key, -1, v, -1))
                d->failed = true;
}

static void put_i64(Doc *d, const char *key, int64_t v) {
        if (!bson_append_int64(&d->b, key, -1, v))
                d->failed = true;
}

static void put_i32(Doc *d, const char *key, int32_t v) {
        if (!bson_append_int32(&d->b, key, -1, v))
                d->failed = true;
}

static void put_double(Doc *d, const char *key, double v) {
        if (!bson_append_double(&d->b, key, -1, v))
                d->failed = true;
}

/* Bytes as BSON binary; NULL data: BSON null (none). */
static void put_bytes(Doc *d, const char *key, const char *data, size_t len) {
        bool ok = data ? len <= UINT32_MAX && bson_append_binary(&d->b, key, -1, BSON_SUBTYPE_BINARY,
                                                      (const uint8_t *) data, (uint32_t) len)
                       : bson_append_null(&d->b, key, -1);
        if (!ok)
                d->failed = true;
}

static void put_doc(Doc *d, const char *key, const Doc *sub) {
        if (sub->failed || !bson_append_document(&d->b, key, -1, &sub->b))
                d->failed = true;
}

static void put_array(Doc *d, const char *key, const Doc *sub) {
        if (sub->failed || !bson_append_array(&d->b, key, -1, &sub->b))
                d->failed = true;
}

/* {key: {op: v}} for an int64 v. */
static void put_compare(Doc *d, const char *key, const char *op, int64_t v) {
        DOC(c);
        put_i64(&c, op, v);
        put_doc(d, key, &c);
}

/* {status_id: {$in: [1, 2]}} */
static void put_unfinished(Doc *d) {
        DOC(in);
        DOC(values);
        put_i32(&values, "0", META_IN_QUEUE);
        put_i32(&values, "1", META_PROCESSING);
        put_array(&in, "$in", &values);
        put_doc(d, "status_id", &in);
}

static int doc_ok(const Doc *d) {
        return d->failed ? -E2BIG : 0;
}

static int get_str(const bson_t *doc, const char *key, char *dst, size_t size) {
        bson_iter_t it;
        uint32_t len;
        if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_UTF8(&it))
                return -EBADMSG;
        const char *s = bson_iter_utf8(&it, &len);
        if (!s || len >= size || memchr(s, '\0', len))
                return -EBADMSG;
        memcpy(dst, s, len);
        dst[len] = '\0';
        return 0;
}

static int get_i64(const bson_t *doc, const char *key, int64_t min, int64_t max, int64_t *ret) {
        bson_iter_t it;
        int64_t v;
        if (!bson_iter_init_find(&it, doc, key))
                return -EBADMSG;
        if (BSON_ITER_HOLDS_INT64(&it))
                v = bson_iter_int64(&it);
        else if (BSON_ITER_HOLDS_INT32(&it))
                v = bson_iter_int32(&it);
        else
                return -EBADMSG;
        if (v < min || v > max)
                return -EBADMSG;
        *ret = v;
        return 0;
}

static int get_u32(const bson_t *doc, const char *key, uint32_t *ret) {
        int64_t v;
        int r = get_i64(doc, key, 0, UINT32_MAX, &v);
        if (r >= 0)
                *ret = (uint32_t) v;
        return r;
}

static int get_int(const bson_t *doc, const char *key, int min, int max, int *ret) {
        int64_t v;
        int r = get_i64(doc, key, min, max, &v);
        if (r >= 0)
                *ret = (int) v;
        return r;
}

static int get_double(const bson_t *doc, const char *key, double *ret) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, doc, key) || !BSON_ITER_HOLDS_DOUBLE(&it))
                return -EBADMSG;
        *ret = bson_iter_double(&it);
        return 0;
}

/* Binary or null (none) into a malloc'd buffer. */
static int get_bytes(const bson_t *doc, const char *key, char **ret, size_t *ret_len) {
        bson_iter_t it;
        bson_subtype_t subtype;
        const uint8_t *data;
        uint32_t len;
        int r;

        if (!bson_iter_init_find(&it, doc, key))
                return -EBADMSG;
        if (BSON_ITER_HOLDS_NULL(&it)) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (!BSON_ITER_HOLDS_BINARY(&it))
                return -EBADMSG;
        bson_iter_binary(&it, &subtype, &len, &data);
        r = meta_dup_bytes(data, len, ret);
        if (r < 0)
                return r;
        *ret_len = len;
        return 0;
}

/* A count of a write's reply ("matchedCount", "deletedCount"...). */
static int64_t reply_count(const bson_t *reply, const char *key) {
        bson_iter_t it;
        if (!bson_iter_init_find(&it, reply, key))
                return 0;
        return bson_iter_as_int64(&it);
}

/* ---- clients ---- */

/* A client borrowed from the pool for one call, and a collection of it. */
typedef struct Conn {
        MetaBackend *b;
        mongoc_client_t *client;
        mongoc_collection_t *coll;
} Conn;

static void conn_donep(Conn *c) {
        if (c->coll)
                mongoc_collection_destroy(c->coll);
        if (c->client)
                mongoc_client_pool_push(c->b->pool, c->client);
}

static Conn conn_open(MetaBackend *b, const char *collection) {
        Conn c = {.b = b, .client = mongoc_client_pool_pop(b->pool)};
        if (c.client && collection)
                c.coll = mongoc_client_get_collection(c.client, b->db, collection);
        return c;
}
#define CONN(b, collection) _cleanup_(conn_donep) Conn conn = conn_open(b, collection)
#define CONN_OK(c) ((c).client && (c).coll ? 0 : -ENOMEM)

/* Each document of a query, to row(); stops at row()'s first error. */
typedef int (*RowFn)(const bson_t *doc, void *userdata);

static void cursor_destroyp(mongoc_cursor_t **c) {
        if (*c)
                mongoc_cursor_destroy(*c);
}

static int find_each(MetaBackend *b, const char *collection, const Doc *filter, const Doc *opts, RowFn row,
        void *userdata, size_t *ret_n) {
        const bson_t *doc;
        bson_error_t e;
        size_t n = 0;
        int r;

        if ((r = doc_ok(filter)) < 0 || (opts && (r = doc_ok(opts)) < 0))
                return r;
        CONN(b, collection);
        if ((r = CONN_OK(conn)) < 0)
                return r;
        _cleanup_(cursor_destroyp) mongoc_cursor_t *cursor =
                mongoc_collection_find_with_opts(conn.coll, &filter->b, opts ? &opts->b : NULL, NULL);
        if (!cursor)
                return -ENOMEM;
        while (mongoc_cursor_next(cursor, &doc)) {
                r = row(doc, userdata);
                if (r < 0)
                        return r;
                n++;
        }
        if (mongoc_cursor_error(cursor, &e))
                return errno_of(&e);
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* The one document of {_id: id} (or of another filter), to row(): -ENOENT when none. */
static int find_one(MetaBackend *b, const char *collection, const Doc *filter, RowFn row, void *userdata) {
        DOC(opts);
        size_t n;
        put_i64(&opts, "limit", 1);
        int r = find_each(b, collection, filter, &opts, row, userdata, &n);
        if (r < 0)
                return r;
        return n > 0 ? 0 : -ENOENT;
}

static int insert(MetaBackend *b, const char *collection, const Doc *doc) {
        bson_error_t e;
        int r;

        if ((r = doc_ok(doc)) < 0)
                return r;
        CONN(b, collection);
        if ((r = CONN_OK(conn)) < 0)
                return r;
        if (!mongoc_collection_insert_one(conn.coll, &doc->b, NULL, NULL, &e))
                return errno_of(&e);
        return 0;
}

typedef enum Write {
        WRITE_UPDATE_ONE, /* count: matched */
        WRITE_UPSERT_ONE,
        WRITE_DELETE_ONE, /* count: deleted */
        WRITE_DELETE_MANY,
} Write;

/* One write; how many documents it matched or deleted in *ret_count. */
static int write_op(MetaBackend *b, const char *collection, Write op, const Doc *filter, const Doc *update,
        int64_t *ret_count) {
        bson_error_t e;
        bson_t reply;
        bool ok;
        int r;

        if ((r = doc_ok(filter)) < 0 || (update && (r = doc_ok(update)) < 0))
                return r;
        CONN(b, collection);
        if ((r = CONN_OK(conn)) < 0)
                return r;
        switch (op) {
        case WRITE_UPDATE_ONE:
        case WRITE_UPSERT_ONE: {
                DOC(opts);
                if (op == WRITE_UPSERT_ONE && !bson_append_bool(&opts.b, "upsert", -1, true))
                        return -ENOMEM;
                ok = mongoc_collection_update_one(conn.coll, &filter->b, &update->b, &opts.b, &reply, &e);
                break;
        }
        case WRITE_DELETE_ONE:
                ok = mongoc_collection_delete_one(conn.coll, &filter->b, NULL, &reply, &e);
                break;
        case WRITE_DELETE_MANY:
                ok = mongoc_collection_delete_many(conn.coll, &filter->b, NULL, &reply, &e);
                break;
        default:
                return -EINVAL;
        }
        /* the reply is initialized either way */
        int64_t count = reply_count(
                &reply, op == WRITE_DELETE_ONE || op == WRITE_DELETE_MANY ? "deletedCount" : "matchedCount");
        bson_destroy(&reply);
        if (!ok)
                return errno_of(&e);
        if (ret_count)
                *ret_count = count;
        return 0;
}

/* {_id: id} */
static void put_id(Doc *d, const char *id) {
        put_str(d, "_id", id);
}

/* ---- opening ---- */

static void init_once(void) {
        mongoc_init();
        /* libmongoc's own log lines (a monitor's retries, FerretDB's missing endSessions...)
         * go nowhere: this module returns errors, its caller logs them once. */
        mongoc_log_set_handler(NULL, NULL);
}

static int run_command(mongoc_client_t *client, const char *db, const Doc *cmd, bson_error_t *e) {
        bson_t reply;
        int r = doc_ok(cmd);
        if (r < 0)
                return r;
        bool ok = mongoc_client_write_command_with_opts(client, db, &cmd->b, NULL, &reply, e);
        bson_destroy(&reply);
        return ok ? 0 : errno_of(e);
}

static int create_index(mongoc_client_t *client, const char *db, const char *collection, const char *name,
        const Doc *keys, bool unique, int64_t expire_seconds, bson_error_t *e) {
        DOC(cmd);
        DOC(indexes);
        DOC(index);
        put_doc(&index, "key", keys);
        put_str(&index, "name", name);
        if (unique && !bson_append_bool(&index.b, "unique", -1, true))
                index.failed = true;
        if (expire_seconds >= 0)
                put_i64(&index, "expireAfterSeconds", expire_seconds);
        put_doc(&indexes, "0", &index);
        put_str(&cmd, "createIndexes", collection);
        put_array(&cmd, "indexes", &indexes);
        return run_command(client, db, &cmd, e);
}

/* The indexes, created if missing (createIndexes is idempotent for the same specs). */
static int create_indexes(MetaBackend *b, char *errbuf) {
        static const struct {
                const char *collection, *name;
                const char *fields[3];
                int directions[3];
                bool unique;
                int64_t expire_seconds; /* TTL; -1: none */
                bool optional; /* a server may refuse it (EOPNOTSUPP) */
        } indexes[] = {
                {"keys", "hash_unique", {"hash"}, {1}, true, -1, false},
                {"keys", "created_at_id", {"created_at", "_id"}, {1, 1}, false, -1, false},
                {"users", "name_unique", {"name"}, {1}, true, -1, false},
                {"sessions", "expires_at_ttl", {"expires_at"}, {1}, false, 0, true},
                {"sessions", "expires_at_usec", {"expires_at_usec"}, {1}, false, -1, false},
                {"history", "owner_created_at_id", {"owner", "created_at", "_id"}, {1, -1, -1}, false, -1,
                        false},
                {"history", "status_created_at_id", {"status_id", "created_at", "_id"}, {1, 1, 1}, false, -1,
                        false},
        };
        bson_error_t e;
        int r;

        CONN(b, NULL);
        if (!conn.client) {
                meta_set_error(errbuf, "out of memory");
                return -ENOMEM;
        }
        for (size_t i = 0; i < ELEMENTSOF(indexes); i++) {
                DOC(keys);
                for (size_t f = 0; f < ELEMENTSOF(indexes[i].fields) && indexes[i].fields[f]; f++)
                        put_i32(&keys, indexes[i].fields[f], indexes[i].directions[f]);
                r = create_index(conn.client, b->db, indexes[i].collection, indexes[i].name, &keys,
                        indexes[i].unique, indexes[i].expire_seconds, &e);
                if (r == -EOPNOTSUPP && indexes[i].optional)
                        continue;
                if (r < 0) {
                        meta_set_error(errbuf, "cannot create the index %s of %s.%s: %s", indexes[i].name,
                                b->db, indexes[i].collection, e.message);
                        return r;
                }
        }
        return 0;
}

static MetaBackend *mongo_disconnect(MetaBackend *b) {
        if (!b)
                return NULL;
        if (b->pool)
                mongoc_client_pool_destroy(b->pool);
        if (b->uri)
                mongoc_uri_destroy(b->uri);
        free(b->db);
        free(b);
        return NULL;
}

static void mongo_disconnectp(MetaBackend **b) {
        mongo_disconnect(*b);
}

static int mongo_ping_client(mongoc_client_t *client, bson_error_t *e) {
        DOC(cmd);
        bson_t reply;
        put_i32(&cmd, "ping", 1);
        bool ok = mongoc_client_command_simple(client, "admin", &cmd.b, NULL, &reply, e);
        bson_destroy(&reply);
        return ok ? 0 : errno_of(e);
}

static void set_default(mongoc_uri_t *uri, const char *option, int32_t value) {
        if (!mongoc_uri_has_option(uri, option))
                (void) mongoc_uri_set_option_as_int32(uri, option, value);
}

static int mongo_connect(const char *target, char *errbuf, MetaBackend **ret) {
        static pthread_once_t once = PTHREAD_ONCE_INIT;
        _cleanup_(mongo_disconnectp) MetaBackend *b = NULL;
        bson_error_t e;
        int r;

        (void) pthread_once(&once, init_once);
        b = calloc(1, sizeof *b);
        if (!b) {
                meta_set_error(errbuf, "out of memory");
                return -ENOMEM;
        }
        b->uri = mongoc_uri_new_with_error(target, &e);
        if (!b->uri) {
                /* e.message names what is wrong, without the password */
                meta_set_error(errbuf, "invalid metadata url: %s", e.message);
                return -EINVAL;
        }
        set_default(b->uri, MONGOC_URI_SERVERSELECTIONTIMEOUTMS, SERVER_SELECTION_TIMEOUT_MSEC);
        set_default(b->uri, MONGOC_URI_CONNECTTIMEOUTMS, CONNECT_TIMEOUT_MSEC);
        set_default(b->uri, MONGOC_URI_SOCKETTIMEOUTMS, SOCKET_TIMEOUT_MSEC);
        if (!mongoc_uri_get_option_as_utf8(b->uri, MONGOC_URI_APPNAME, NULL))
                (void) mongoc_uri_set_appname(b->uri, "coderunner-gateway");
        const char *db = mongoc_uri_get_database(b->uri);
        b->db = strdup(db && *db ? db : DEFAULT_DATABASE);
        b->pool = mongoc_client_pool_new(b->uri);
        if (!b->db || !b->pool) {
                meta_set_error(errbuf, "cannot create a MongoDB client pool");
                return b->db ? -EINVAL : -ENOMEM;
        }
        if (!mongoc_client_pool_set_error_api(b->pool, MONGOC_ERROR_API_VERSION_2)) {
                meta_set_error(errbuf, "cannot select libmongoc's error API");
                return -EINVAL;
        }

        /* Down at start is an error (the gateway retries), said with the host, never the
         * url (it may hold a password). */
        const mongoc_host_list_t *host = mongoc_uri_get_hosts(b->uri);
        {
                CONN(b, NULL);
                if (!conn.client) {
                        meta_set_error(errbuf, "out of memory");
                        return -ENOMEM;
                }
                r = mongo_ping_client(conn.client, &e);
        }
        if (r < 0) {
                meta_set_error(errbuf, "cannot reach MongoDB at %s: %s", host ? host->host_and_port : "?",
                        e.message);
                return r;
        }
        r = create_indexes(b, errbuf);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b);
        return 0;
}

static int mongo_ping(MetaBackend *b) {
        bson_error_t e;
        CONN(b, NULL);
        if (!conn.client)
                return -ENOMEM;
        return mongo_ping_client(conn.client, &e);
}

/* ---- keys ---- */

static int mongo_key_create(MetaBackend *b, const MetaKey *k) {
        DOC(doc);
        DOC(languages);
        for (size_t i = 0; i < k->n_languages; i++) {
                char index[16];
                const char *key;
                (void) bson_uint32_to_string((uint32_t) i, &key, index, sizeof index);
                put_i32(&languages, key, k->languages[i]);
        }
        put_id(&doc, k->id);
        put_str(&doc, "name", k->name);
        put_str(&doc, "hash", k->hash);
        put_i64(&doc, "scopes", k->scopes);
        put_double(&doc, "rate", k->rate);
        put_i64(&doc, "burst", k->burst);
        put_i64(&doc, "quota_day", k->quota_day);
        put_double(&doc, "cpu_seconds_day", k->cpu_seconds_day);
        put_i64(&doc, "concurrent", k->concurrent);
        put_array(&doc, "languages", &languages);
        put_double(&doc, "max_cpu_time_limit", k->max_cpu_time_limit);
        put_double(&doc, "max_wall_time_limit", k->max_wall_time_limit);
        put_i64(&doc, "max_memory_limit", (int64_t) k->max_memory_limit);
        put_i64(&doc, "created_at", k->created_at);
        put_i64(&doc, "revoked_at", k->revoked_at);
        return insert(b, "keys", &doc);
}

static int key_languages(const bson_t *doc, MetaKey *k) {
        bson_iter_t it, sub;
        size_t n = 0;

        if (!bson_iter_init_find(&it, doc, "languages") || !BSON_ITER_HOLDS_ARRAY(&it) ||
                !bson_iter_recurse(&it, &sub))
                return -EBADMSG;
        while (bson_iter_next(&sub)) {
                if (n == META_MAX_LANGUAGES || !BSON_ITER_HOLDS_INT32(&sub) || bson_iter_int32(&sub) <= 0)
                        return -EBADMSG;
                k->languages[n++] = bson_iter_int32(&sub);
        }
        k->n_languages = n;
        return 0;
}

static int key_row(const bson_t *doc, void *userdata) {
        MetaKey k = {};
        int64_t memory;
        int r;

        if ((r = get_str(doc, "_id", k.id, sizeof k.id)) < 0 ||
                (r = get_str(doc, "name", k.name, sizeof k.name)) < 0 ||
                (r = get_str(doc, "hash", k.hash, sizeof k.hash)) < 0 ||
                (r = get_u32(doc, "scopes", &k.scopes)) < 0 || (r = get_double(doc, "rate", &k.rate)) < 0 ||
                (r = get_u32(doc, "burst", &k.burst)) < 0 ||
                (r = get_u32(doc, "quota_day", &k.quota_day)) < 0 ||
                (r = get_double(doc, "cpu_seconds_day", &k.cpu_seconds_day)) < 0 ||
                (r = get_u32(doc, "concurrent", &k.concurrent)) < 0 || (r = key_languages(doc, &k)) < 0 ||
                (r = get_double(doc, "max_cpu_time_limit", &k.max_cpu_time_limit)) < 0 ||
                (r = get_double(doc, "max_wall_time_limit", &k.max_wall_time_limit)) < 0 ||
                (r = get_i64(doc, "max_memory_limit", 0, INT64_MAX, &memory)) < 0 ||
                (r = get_i64(doc, "created_at", 0, INT64_MAX, &k.created_at)) < 0 ||
                (r = get_i64(doc, "revoked_at", 0, INT64_MAX, &k.revoked_at)) < 0)
                return r;
        k.max_memory_limit = (uint64_t) memory;
        *(MetaKey *) userdata = k;
        return 0;
}

static int mongo_key_get(MetaBackend *b, bool by_hash, const char *value, MetaKey *ret) {
        DOC(filter);
        put_str(&filter, by_hash ? "hash" : "_id", value);
        return find_one(b, "keys", &filter, key_row, ret);
}

typedef struct KeyList {
        MetaKey *list;
        size_t n;
} KeyList;

static int key_list_row(const bson_t *doc, void *userdata) {
        KeyList *l = userdata;
        MetaKey *k;
        int r = meta_array_grow((void **) &l->list, &l->n, sizeof *l->list, (void **) &k);
        if (r < 0)
                return r;
        return key_row(doc, k);
}

static int mongo_key_list(MetaBackend *b, MetaKey **ret, size_t *ret_n) {
        DOC(filter);
        DOC(opts);
        DOC(sort);
        KeyList l = {};
        put_i32(&sort, "created_at", 1);
        put_i32(&sort, "_id", 1);
        put_doc(&opts, "sort", &sort);
        int r = find_each(b, "keys", &filter, &opts, key_list_row, &l, NULL);
        if (r < 0) {
                free(l.list);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

static int no_row(const bson_t *doc, void *userdata) {
        return 0;
}

static int mongo_key_revoke(MetaBackend *b, const char *id, int64_t now) {
        DOC(filter);
        DOC(update);
        DOC(set);
        int64_t matched;
        put_id(&filter, id);
        put_i64(&filter, "revoked_at", 0);
        put_i64(&set, "revoked_at", now);
        put_doc(&update, "$set", &set);
        int r = write_op(b, "keys", WRITE_UPDATE_ONE, &filter, &update, &matched);
        if (r < 0 || matched > 0)
                return r;
        DOC(by_id);
        put_id(&by_id, id);
        return find_one(b, "keys", &by_id, no_row, NULL); /* revoked before: 0 */
}

/* ---- users ---- */

static int mongo_user_create(MetaBackend *b, const MetaUser *u) {
        DOC(doc);
        put_id(&doc, u->id);
        put_str(&doc, "name", u->name);
        put_str(&doc, "password_hash", u->password_hash);
        put_i64(&doc, "created_at", u->created_at);
        return insert(b, "users", &doc);
}

static int user_row(const bson_t *doc, void *userdata) {
        MetaUser u = {};
        int r;
        if ((r = get_str(doc, "_id", u.id, sizeof u.id)) < 0 ||
                (r = get_str(doc, "name", u.name, sizeof u.name)) < 0 ||
                (r = get_str(doc, "password_hash", u.password_hash, sizeof u.password_hash)) < 0 ||
                (r = get_i64(doc, "created_at", 0, INT64_MAX, &u.created_at)) < 0)
                return r;
        *(MetaUser *) userdata = u;
        return 0;
}

static int mongo_user_get(MetaBackend *b, bool by_name, const char *value, MetaUser *ret) {
        DOC(filter);
        put_str(&filter, by_name ? "name" : "_id", value);
        return find_one(b, "users", &filter, user_row, ret);
}

/* ---- share links ---- */

static int mongo_share_create(MetaBackend *b, const MetaShare *s) {
        DOC(doc);
        put_id(&doc, s->id);
        put_str(&doc, "owner", s->owner);
        put_str(&doc, "data", s->data);
        put_i64(&doc, "created_at", s->created_at);
        return insert(b, "shares", &doc);
}

static int share_row(const bson_t *doc, void *userdata) {
        MetaShare s = {};
        bson_iter_t it;
        uint32_t len = 0;
        int r;
        if ((r = get_str(doc, "_id", s.id, sizeof s.id)) < 0 ||
                (r = get_str(doc, "owner", s.owner, sizeof s.owner)) < 0 ||
                (r = get_i64(doc, "created_at", 0, INT64_MAX, &s.created_at)) < 0)
                return r;
        if (!bson_iter_init_find(&it, doc, "data") || !BSON_ITER_HOLDS_UTF8(&it))
                return -EBADMSG;
        const char *data = bson_iter_utf8(&it, &len);
        if (!data || len > META_SHARE_MAX || memchr(data, '\0', len))
                return -EBADMSG;
        r = meta_dup_bytes(data, len, &s.data);
        if (r < 0)
                return r;
        *(MetaShare *) userdata = s;
        return 0;
}

static int mongo_share_get(MetaBackend *b, const char *id, MetaShare *ret) {
        DOC(filter);
        put_id(&filter, id);
        return find_one(b, "shares", &filter, share_row, ret);
}

/* ---- sessions ---- */

static int mongo_session_create(MetaBackend *b, const MetaSession *s) {
        DOC(doc);
        put_id(&doc, s->id_hash);
        put_str(&doc, "user_id", s->user_id);
        put_i64(&doc, "created_at", s->created_at);
        /* the TTL index's date, in ms, rounded up: never gone before its time */
        int64_t ms = s->expires_at / 1000 + (s->expires_at % 1000 != 0);
        if (!bson_append_date_time(&doc.b, "expires_at", -1, ms))
                doc.failed = true;
        put_i64(&doc, "expires_at_usec", s->expires_at);
        return insert(b, "sessions", &doc);
}

static int session_row(const bson_t *doc, void *userdata) {
        MetaSession s = {};
        int r;
        if ((r = get_str(doc, "_id", s.id_hash, sizeof s.id_hash)) < 0 ||
                (r = get_str(doc, "user_id", s.user_id, sizeof s.user_id)) < 0 ||
                (r = get_i64(doc, "created_at", 0, INT64_MAX, &s.created_at)) < 0 ||
                (r = get_i64(doc, "expires_at_usec", 0, INT64_MAX, &s.expires_at)) < 0)
                return r;
        *(MetaSession *) userdata = s;
        return 0;
}

static int mongo_session_get(MetaBackend *b, const char *id_hash, int64_t now, MetaSession *ret) {
        DOC(filter);
        put_id(&filter, id_hash);
        put_compare(&filter, "expires_at_usec", "$gt", now);
        return find_one(b, "sessions", &filter, session_row, ret);
}

static int mongo_session_set_user(MetaBackend *b, const char *id_hash, const char *user_id) {
        DOC(filter);
        DOC(update);
        DOC(set);
        int64_t matched;
        put_id(&filter, id_hash);
        put_str(&set, "user_id", user_id);
        put_doc(&update, "$set", &set);
        int r = write_op(b, "sessions", WRITE_UPDATE_ONE, &filter, &update, &matched);
        if (r < 0)
                return r;
        return matched > 0 ? 0 : -ENOENT;
}

static int mongo_session_delete(MetaBackend *b, const char *id_hash) {
        DOC(filter);
        put_id(&filter, id_hash);
        return write_op(b, "sessions", WRITE_DELETE_ONE, &filter, NULL, NULL);
}

static int mongo_session_sweep(MetaBackend *b, int64_t now, uint64_t *ret_n) {
        DOC(filter);
        int64_t deleted;
        put_compare(&filter, "expires_at_usec", "$lte", now);
        int r = write_op(b, "sessions", WRITE_DELETE_MANY, &filter, NULL, &deleted);
        if (r < 0)
                return r;
        *ret_n = deleted > 0 ? (uint64_t) deleted : 0;
        return 0;
}

/* ---- history ---- */

static int mongo_history_add(MetaBackend *b, const MetaHistory *h) {
        DOC(doc);
        put_id(&doc, h->token);
        put_str(&doc, "owner", h->owner);
        put_i32(&doc, "language_id", h->language_id);
        put_i32(&doc, "status_id", h->status_id);
        put_double(&doc, "time", h->time);
        put_i64(&doc, "memory", h->memory);
        put_i64(&doc, "created_at", h->created_at);
        put_i64(&doc, "finished_at", h->finished_at);
        put_bytes(&doc, "source_code", h->source_code, h->source_len);
        put_bytes(&doc, "stdin", h->stdin_data, h->stdin_len);
        return insert(b, "history", &doc);
}

static int history_row(const bson_t *doc, void *userdata) {
        _cleanup_(meta_history_done) MetaHistory h = {};
        int r;

        if ((r = get_str(doc, "_id", h.token, sizeof h.token)) < 0 ||
                (r = get_str(doc, "owner", h.owner, sizeof h.owner)) < 0 ||
                (r = get_int(doc, "language_id", 1, INT_MAX, &h.language_id)) < 0 ||
                (r = get_int(doc, "status_id", META_UNKNOWN_RESULT, META_LAST_FINAL, &h.status_id)) < 0 ||
                (r = get_double(doc, "time", &h.time)) < 0 ||
                (r = get_i64(doc, "memory", INT64_MIN, INT64_MAX, &h.memory)) < 0 ||
                (r = get_i64(doc, "created_at", 0, INT64_MAX, &h.created_at)) < 0 ||
                (r = get_i64(doc, "finished_at", 0, INT64_MAX, &h.finished_at)) < 0 ||
                (r = get_bytes(doc, "source_code", &h.source_code, &h.source_len)) < 0 ||
                (r = get_bytes(doc, "stdin", &h.stdin_data, &h.stdin_len)) < 0)
                return r;
        *(MetaHistory *) userdata = h;
        h = (MetaHistory){};
        return 0;
}

static int mongo_history_get(MetaBackend *b, const char *token, MetaHistory *ret) {
        DOC(filter);
        put_id(&filter, token);
        return find_one(b, "history", &filter, history_row, ret);
}

typedef struct HistoryList {
        MetaHistory *list;
        size_t n;
} HistoryList;

static int history_list_row(const bson_t *doc, void *userdata) {
        HistoryList *l = userdata;
        MetaHistory *h;
        int r = meta_array_grow((void **) &l->list, &l->n, sizeof *l->list, (void **) &h);
        if (r < 0)
                return r;
        return history_row(doc, h);
}

/* find() with a sort of (created_at, _id) both in direction, at most limit documents,
 * each to row(). */
static int find_sorted(MetaBackend *b, const char *collection, const Doc *filter, int direction,
        size_t limit, bool ids_only, RowFn row, void *userdata) {
        DOC(opts);
        DOC(sort);
        put_i32(&sort, "created_at", direction);
        put_i32(&sort, "_id", direction);
        put_doc(&opts, "sort", &sort);
        put_i64(&opts, "limit", (int64_t) limit);
        if (ids_only) {
                DOC(projection);
                put_i32(&projection, "_id", 1);
                put_doc(&opts, "projection", &projection);
        }
        return find_each(b, collection, filter, &opts, row, userdata, NULL);
}

static int mongo_history_list(MetaBackend *b, const char *owner, size_t limit, const MetaPosition *after,
        MetaHistory **ret, size_t *ret_n) {
        DOC(filter);
        HistoryList l = {};

        put_str(&filter, "owner", owner);
        if (after) {
                /* $or: [{created_at: {$lt: c}}, {created_at: c, _id: {$lt: token}}] */
                DOC(or);
                DOC(older);
                DOC(same_time);
                DOC(lower_token);
                put_compare(&older, "created_at", "$lt", after->created_at);
                put_i64(&same_time, "created_at", after->created_at);
                put_str(&lower_token, "$lt", after->token);
                put_doc(&same_time, "_id", &lower_token);
                put_doc(& or, "0", &older);
                put_doc(& or, "1", &same_time);
                put_array(&filter, "$or", & or);
        }
        int r = find_sorted(b, "history", &filter, -1, limit, false, history_list_row, &l);
        if (r < 0) {
                meta_history_list_free(l.list, l.n);
                return r;
        }
        *ret = l.list;
        *ret_n = l.n;
        return 0;
}

static int mongo_history_update(
        MetaBackend *b, const char *token, int status_id, double time, int64_t memory, int64_t finished_at) {
        DOC(filter);
        DOC(update);
        DOC(set);
        int64_t matched;

        put_id(&filter, token);
        put_unfinished(&filter);
        put_i32(&set, "status_id", status_id);
        put_double(&set, "time", time);
        put_i64(&set, "memory", memory);
        put_i64(&set, "finished_at", finished_at);
        put_doc(&update, "$set", &set);
        int r = write_op(b, "history", WRITE_UPDATE_ONE, &filter, &update, &matched);
        if (r < 0)
                return r;
        if (matched > 0)
                return 1;
        DOC(by_id);
        put_id(&by_id, token);
        r = find_one(b, "history", &by_id, no_row, NULL);
        return r < 0 ? r : 0; /* final already */
}

typedef struct TokenList {
        char (*tokens)[META_ID_MAX];
        size_t n;
} TokenList;

static int token_row(const bson_t *doc, void *userdata) {
        TokenList *l = userdata;
        char(*t)[META_ID_MAX];
        int r = meta_array_grow((void **) &l->tokens, &l->n, sizeof *l->tokens, (void **) &t);
        if (r < 0)
                return r;
        return get_str(doc, "_id", *t, sizeof *t);
}

static int mongo_history_pending(
        MetaBackend *b, size_t max, char (**ret_tokens)[META_ID_MAX], size_t *ret_n) {
        DOC(filter);
        TokenList l = {};
        put_unfinished(&filter);
        int r = find_sorted(b, "history", &filter, 1, max, true, token_row, &l);
        if (r < 0) {
                free(l.tokens);
                return r;
        }
        *ret_tokens = l.tokens;
        *ret_n = l.n;
        return 0;
}

static int mongo_history_delete(MetaBackend *b, const char *owner, const char *token) {
        DOC(filter);
        int64_t deleted;
        put_id(&filter, token);
        put_str(&filter, "owner", owner);
        int r = write_op(b, "history", WRITE_DELETE_ONE, &filter, NULL, &deleted);
        if (r < 0)
                return r;
        return deleted > 0 ? 0 : -ENOENT;
}

static int mongo_history_count_unfinished(MetaBackend *b, const char *owner, uint64_t *ret) {
        DOC(filter);
        bson_error_t e;
        int r;

        put_str(&filter, "owner", owner);
        put_unfinished(&filter);
        if ((r = doc_ok(&filter)) < 0)
                return r;
        CONN(b, "history");
        if ((r = CONN_OK(conn)) < 0)
                return r;
        int64_t n = mongoc_collection_count_documents(conn.coll, &filter.b, NULL, NULL, NULL, &e);
        if (n < 0)
                return errno_of(&e);
        *ret = (uint64_t) n;
        return 0;
}

/* ---- client configuration ---- */

static int mongo_config_set(MetaBackend *b, const char *key, const char *value) {
        DOC(filter);
        DOC(update);
        DOC(set);
        put_id(&filter, key);
        put_str(&set, "value", value);
        put_doc(&update, "$set", &set);
        return write_op(b, "client_config", WRITE_UPSERT_ONE, &filter, &update, NULL);
}

static int mongo_config_unset(MetaBackend *b, const char *key) {
        DOC(filter);
        put_id(&filter, key);
        return write_op(b, "client_config", WRITE_DELETE_ONE, &filter, NULL, NULL);
}

static int config_row(const bson_t *doc, void *userdata) {
        char key[META_NAME_MAX], value[META_CONFIG_VALUE_MAX];
        int r;
        if ((r = get_str(doc, "_id", key, sizeof key)) < 0 ||
                (r = get_str(doc, "value", value, sizeof value)) < 0)
                return r;
        return meta_config_rows_append(userdata, key, value);
}

static int mongo_config_get_all(MetaBackend *b, char ***ret_keys, char ***ret_values, size_t *ret_n) {
        DOC(filter);
        DOC(opts);
        DOC(sort);
        MetaConfigRows rows = {};
        put_i32(&sort, "_id", 1);
        put_doc(&opts, "sort", &sort);
        int r = find_each(b, "client_config", &filter, &opts, config_row, &rows, NULL);
        if (r < 0) {
                meta_config_rows_done(&rows);
                return r;
        }
        *ret_keys = rows.keys;
        *ret_values = rows.values;
        *ret_n = rows.n;
        return 0;
}

const MetaOps meta_mongo_ops = {
        .name = "mongodb",
        .serialize = false,
        .connect = mongo_connect,
        .disconnect = mongo_disconnect,
        .ping = mongo_ping,
        .key_create = mongo_key_create,
        .key_get = mongo_key_get,
        .key_list = mongo_key_list,
        .key_revoke = mongo_key_revoke,
        .user_create = mongo_user_create,
        .user_get = mongo_user_get,
        .session_create = mongo_session_create,
        .session_get = mongo_session_get,
        .session_set_user = mongo_session_set_user,
        .session_delete = mongo_session_delete,
        .session_sweep = mongo_session_sweep,
        .history_add = mongo_history_add,
        .history_get = mongo_history_get,
        .history_list = mongo_history_list,
        .history_update = mongo_history_update,
        .history_pending = mongo_history_pending,
        .history_delete = mongo_history_delete,
        .history_count_unfinished = mongo_history_count_unfinished,
        .share_create = mongo_share_create,
        .share_get = mongo_share_get,
        .config_set = mongo_config_set,
        .config_unset = mongo_config_unset,
        .config_get_all = mongo_config_get_all,
};
