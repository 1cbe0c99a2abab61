/* SPDX-License-Identifier: MIT */
/* The metadata store's dispatch: pick the backend from the url, check every argument (a
 * string too long for its field is refused, never cut), serialize the calls of a backend
 * with one connection, sweep expired sessions, and page the history with cursors. */

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/time-util.h"
#include "base/utf8.h"
#include "meta/meta-internal.h"

#define META_SCOPES_ALL (META_SCOPE_SUBMIT | META_SCOPE_READ | META_SCOPE_ADMIN)
#define HEX_SHA256_LEN 64
#define SWEEP_INTERVAL_USEC (60 * USEC_PER_SEC)
#define CURSOR_TIME_DIGITS 16

struct Meta {
        const MetaOps *ops;
        MetaBackend *backend;
        pthread_mutex_t lock; /* held around every call when ops->serialize */
        _Atomic uint64_t next_sweep_usec; /* CLOCK_MONOTONIC */
};

/* ---- helpers for the backends ---- */

void meta_set_error(char *errbuf, const char *fmt, ...) {
        if (!errbuf)
                return;
        va_list ap;
        va_start(ap, fmt);
        (void) vsnprintf(errbuf, META_ERROR_MAX, fmt, ap);
        va_end(ap);
        for (char *p = errbuf; *p; p++) /* one line */
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
}

void meta_copy(char *dst, size_t size, const char *src) {
        size_t n = strnlen(src, size - 1);
        memcpy(dst, src, n);
        dst[n] = '\0';
}

int meta_dup_bytes(const void *data, size_t len, char **ret) {
        if (len == SIZE_MAX)
                return -ENOMEM;
        char *d = malloc(len + 1);
        if (!d)
                return -ENOMEM;
        if (len > 0)
                memcpy(d, data, len);
        d[len] = '\0';
        *ret = d;
        return 0;
}

int meta_array_grow(void **array, size_t *n, size_t size, void **ret) {
        /* the capacity is 4, then the next power of two: full at 0 and at powers of two >= 4 */
        if (*n == 0 || (*n >= 4 && (*n & (*n - 1)) == 0)) {
                size_t cap = *n == 0 ? 4 : *n * 2;
                if (cap > SIZE_MAX / size)
                        return -ENOMEM;
                void *a = realloc(*array, cap * size);
                if (!a)
                        return -ENOMEM;
                *array = a;
        }
        void *slot = (char *) *array + *n * size;
        memset(slot, 0, size);
        (*n)++;
        *ret = slot;
        return 0;
}

int meta_config_rows_append(MetaConfigRows *rows, const char *key, const char *value) {
        _cleanup_free_ char *k = NULL, *v = NULL;
        size_t n = rows->n;
        char **slot;
        int r;

        if ((r = meta_dup_bytes(key, strlen(key), &k)) < 0 ||
                (r = meta_dup_bytes(value, strlen(value), &v)) < 0)
                return r;
        r = meta_array_grow((void **) &rows->keys, &n, sizeof(char *), (void **) &slot);
        if (r < 0)
                return r;
        n = rows->n;
        r = meta_array_grow((void **) &rows->values, &n, sizeof(char *), (void **) &slot);
        if (r < 0)
                return r; /* keys has room for one more: nothing to undo */
        rows->keys[rows->n] = TAKE_PTR(k);
        rows->values[rows->n] = TAKE_PTR(v);
        rows->n++;
        return 0;
}

void meta_config_rows_done(MetaConfigRows *rows) {
        meta_config_free(rows->keys, rows->values, rows->n);
        *rows = (MetaConfigRows){};
}

/* ---- validation ---- */

typedef enum TextKind {
        TEXT_ID, /* printable ASCII without spaces: ids, owners, tokens, hashes, config keys */
        TEXT_NAME, /* UTF-8 without control characters: names */
        TEXT_ANY, /* UTF-8: config values */
        TEXT_HEX_SHA256, /* 64 lowercase hex digits */
} TextKind;

/* s (of at most size bytes with its NUL) is well-formed for its kind. A string that does
 * not end within size bytes is too long: refused. */
static bool text_ok(const char *s, size_t size, TextKind kind, bool may_be_empty) {
        if (!s)
                return false;
        size_t n = strnlen(s, size);
        if (n == size || (n == 0 && !may_be_empty))
                return false;
        switch (kind) {
        case TEXT_ID:
                for (size_t i = 0; i < n; i++)
                        if (s[i] <= ' ' || s[i] > '~')
                                return false;
                return true;
        case TEXT_NAME:
                for (size_t i = 0; i < n; i++)
                        if ((unsigned char) s[i] < ' ' || s[i] == 0x7f)
                                return false;
                return utf8_valid(s, n);
        case TEXT_ANY:
                return utf8_valid(s, n);
        case TEXT_HEX_SHA256:
                if (n != HEX_SHA256_LEN)
                        return false;
                for (size_t i = 0; i < n; i++)
                        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                                return false;
                return true;
        default:
                return false;
        }
}
#define FIELD_OK(field, kind, may_be_empty) text_ok(field, sizeof(field), kind, may_be_empty)

static bool nonneg(double d) {
        return isfinite(d) && d >= 0;
}

static int key_valid(const MetaKey *k) {
        if (!k || !FIELD_OK(k->id, TEXT_ID, false) || !FIELD_OK(k->name, TEXT_NAME, true) ||
                !FIELD_OK(k->hash, TEXT_HEX_SHA256, false))
                return -EINVAL;
        if ((k->scopes & ~(uint32_t) META_SCOPES_ALL) != 0 || !nonneg(k->rate) ||
                !nonneg(k->cpu_seconds_day) || !nonneg(k->max_cpu_time_limit) ||
                !nonneg(k->max_wall_time_limit) || k->max_memory_limit > INT64_MAX || k->created_at < 0 ||
                k->revoked_at < 0)
                return -EINVAL;
        if (k->n_languages > META_MAX_LANGUAGES)
                return -EINVAL;
        for (size_t i = 0; i < k->n_languages; i++)
                if (k->languages[i] <= 0)
                        return -EINVAL;
        return 0;
}

static int user_valid(const MetaUser *u) {
        if (!u || !FIELD_OK(u->id, TEXT_ID, false) || !FIELD_OK(u->name, TEXT_NAME, false) ||
                !FIELD_OK(u->password_hash, TEXT_ID, false) || u->created_at < 0)
                return -EINVAL;
        return 0;
}

static int session_valid(const MetaSession *s) {
        if (!s || !FIELD_OK(s->id_hash, TEXT_HEX_SHA256, false) || !FIELD_OK(s->user_id, TEXT_ID, true) ||
                s->created_at < 0 || s->expires_at < 0)
                return -EINVAL;
        return 0;
}

static bool status_ok(int status_id) {
        return status_id >= META_IN_QUEUE && status_id <= META_LAST_FINAL;
}

static int bytes_valid(const char *data, size_t len) {
        if (!data && len > 0)
                return -EINVAL;
        if (len > META_BYTES_MAX)
                return -E2BIG;
        return 0;
}

static int history_valid(const MetaHistory *h) {
        int r;

        if (!h || !FIELD_OK(h->token, TEXT_ID, false) || !FIELD_OK(h->owner, TEXT_ID, false) ||
                h->language_id <= 0 || !status_ok(h->status_id) || !isfinite(h->time) || h->created_at < 0 ||
                h->finished_at < 0)
                return -EINVAL;
        r = bytes_valid(h->source_code, h->source_len);
        if (r < 0)
                return r;
        return bytes_valid(h->stdin_data, h->stdin_len);
}

#define ARG_OK(s, kind, size, may_be_empty) text_ok(s, size, kind, may_be_empty)

/* ---- opening ---- */

static int parse_url(const char *url, const MetaOps **ret_ops, const char **ret_target) {
        static const struct {
                const char *prefix;
                const MetaOps *ops;
                bool keep_prefix;
        } schemes[] = {
                {"mongodb://", &meta_mongo_ops, true},
                {"mongodb+srv://", &meta_mongo_ops, true},
                {"sqlite:", &meta_sqlite_ops, false},
        };

        if (!url)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(schemes); i++) {
                size_t l = strlen(schemes[i].prefix);
                if (strncmp(url, schemes[i].prefix, l) == 0) {
                        if (!url[l])
                                return -EINVAL;
                        *ret_ops = schemes[i].ops;
                        *ret_target = schemes[i].keep_prefix ? url : url + l;
                        return 0;
                }
        }
        return -EINVAL;
}

int meta_open(const char *url, char *errbuf, Meta **ret) {
        const MetaOps *ops;
        const char *target;
        MetaBackend *b = NULL;
        int r;

        if (!ret) {
                meta_set_error(errbuf, "no place for the result");
                return -EINVAL;
        }
        r = parse_url(url, &ops, &target);
        if (r < 0) {
                meta_set_error(errbuf,
                        "invalid metadata url (expected mongodb://..., sqlite:PATH or sqlite::memory:)");
                return r;
        }
        r = ops->connect(target, errbuf, &b);
        if (r < 0)
                return r;
        Meta *m = malloc(sizeof *m);
        if (!m) {
                meta_set_error(errbuf, "out of memory");
                ops->disconnect(b);
                return -ENOMEM;
        }
        *m = (Meta){.ops = ops, .backend = b};
        r = -pthread_mutex_init(&m->lock, NULL);
        if (r < 0) {
                meta_set_error(errbuf, "cannot create a mutex");
                ops->disconnect(b);
                free(m);
                return r;
        }
        atomic_store(&m->next_sweep_usec, 0);
        *ret = m;
        return 0;
}

Meta *meta_close(Meta *m) {
        if (!m)
                return NULL;
        m->ops->disconnect(m->backend);
        pthread_mutex_destroy(&m->lock);
        free(m);
        return NULL;
}

const char *meta_backend(const Meta *m) {
        return m ? m->ops->name : NULL;
}

bool meta_error_is_outage(int r) {
        static const int outages[] = {ECONNREFUSED, ETIMEDOUT, EIO, ECONNRESET, ECONNABORTED, ENOTCONN,
                EHOSTUNREACH, ENETUNREACH, EPIPE, EHOSTDOWN, ENETDOWN};
        for (size_t i = 0; i < ELEMENTSOF(outages); i++)
                if (r == -outages[i])
                        return true;
        return false;
}

/* ---- the calls ---- */

static void unlockp(pthread_mutex_t **l) {
        if (*l)
                pthread_mutex_unlock(*l);
}

static pthread_mutex_t *lock_if_serialized(Meta *m) {
        if (!m->ops->serialize)
                return NULL;
        pthread_mutex_lock(&m->lock);
        return &m->lock;
}

/* The backend's call, under the lock when the backend has a single connection. */
#define CALL(m, op, ...) \
        ({ \
                _cleanup_(unlockp) _unused_ pthread_mutex_t *_locked = lock_if_serialized(m); \
                (m)->ops->op((m)->backend, ##__VA_ARGS__); \
        })

int meta_ping(Meta *m) {
        if (!m)
                return -EINVAL;
        return CALL(m, ping);
}

int meta_key_create(Meta *m, const MetaKey *k) {
        int r;

        if (!m)
                return -EINVAL;
        r = key_valid(k);
        if (r < 0)
                return r;
        return CALL(m, key_create, k);
}

int meta_key_get_by_hash(Meta *m, const char *hash, MetaKey *ret) {
        if (!m || !ret || !ARG_OK(hash, TEXT_HEX_SHA256, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, key_get, true, hash, ret);
}

int meta_key_get(Meta *m, const char *id, MetaKey *ret) {
        if (!m || !ret || !ARG_OK(id, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, key_get, false, id, ret);
}

int meta_key_list(Meta *m, MetaKey **ret, size_t *ret_n) {
        if (!m || !ret || !ret_n)
                return -EINVAL;
        return CALL(m, key_list, ret, ret_n);
}

int meta_key_revoke(Meta *m, const char *id, int64_t now) {
        if (!m || !ARG_OK(id, TEXT_ID, META_ID_MAX, false) || now <= 0)
                return -EINVAL;
        return CALL(m, key_revoke, id, now);
}

int meta_user_create(Meta *m, const MetaUser *u) {
        int r;

        if (!m)
                return -EINVAL;
        r = user_valid(u);
        if (r < 0)
                return r;
        return CALL(m, user_create, u);
}

int meta_user_get_by_name(Meta *m, const char *name, MetaUser *ret) {
        if (!m || !ret || !ARG_OK(name, TEXT_NAME, META_NAME_MAX, false))
                return -EINVAL;
        return CALL(m, user_get, true, name, ret);
}

int meta_user_get(Meta *m, const char *id, MetaUser *ret) {
        if (!m || !ret || !ARG_OK(id, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, user_get, false, id, ret);
}

int meta_session_sweep(Meta *m, int64_t now, uint64_t *ret_n) {
        uint64_t n;
        int r;

        if (!m || now < 0)
                return -EINVAL;
        r = CALL(m, session_sweep, now, &n);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return 0;
}

/* At most once a minute (per Meta), after a session is created: the expired ones go, on
 * servers without a TTL index too (SQLite; FerretDB, which ignores none but refuses it). */
static void sweep_if_due(Meta *m) {
        uint64_t now = now_usec(CLOCK_MONOTONIC);
        uint64_t due = atomic_load(&m->next_sweep_usec);
        if (now < due ||
                !atomic_compare_exchange_strong(&m->next_sweep_usec, &due, now + SWEEP_INTERVAL_USEC))
                return;
        /* a failure is retried at the next sweep; the expired sessions are refused meanwhile */
        (void) meta_session_sweep(m, (int64_t) now_usec(CLOCK_REALTIME), NULL);
}

int meta_session_create(Meta *m, const MetaSession *s) {
        int r;

        if (!m)
                return -EINVAL;
        r = session_valid(s);
        if (r < 0)
                return r;
        r = CALL(m, session_create, s);
        if (r < 0)
                return r;
        sweep_if_due(m);
        return 0;
}

int meta_session_get(Meta *m, const char *id_hash, int64_t now, MetaSession *ret) {
        if (!m || !ret || !ARG_OK(id_hash, TEXT_HEX_SHA256, META_ID_MAX, false) || now < 0)
                return -EINVAL;
        return CALL(m, session_get, id_hash, now, ret);
}

int meta_session_set_user(Meta *m, const char *id_hash, const char *user_id) {
        if (!m || !ARG_OK(id_hash, TEXT_HEX_SHA256, META_ID_MAX, false) ||
                !ARG_OK(user_id, TEXT_ID, META_ID_MAX, true))
                return -EINVAL;
        return CALL(m, session_set_user, id_hash, user_id);
}

int meta_session_delete(Meta *m, const char *id_hash) {
        if (!m || !ARG_OK(id_hash, TEXT_HEX_SHA256, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, session_delete, id_hash);
}

void meta_history_done(MetaHistory *h) {
        if (!h)
                return;
        free(h->source_code);
        free(h->stdin_data);
        *h = (MetaHistory){};
}

int meta_history_add(Meta *m, const MetaHistory *h) {
        int r;

        if (!m)
                return -EINVAL;
        r = history_valid(h);
        if (r < 0)
                return r;
        return CALL(m, history_add, h);
}

int meta_history_get(Meta *m, const char *token, MetaHistory *ret) {
        if (!m || !ret || !ARG_OK(token, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, history_get, token, ret);
}

/* A cursor is "<created_at: 16 lowercase hex digits>.<token>": the last record of the
 * page before. */
static int cursor_format(const MetaHistory *last, char ret[META_CURSOR_MAX]) {
        int n = snprintf(ret, META_CURSOR_MAX, "%0*" PRIx64 ".%s", CURSOR_TIME_DIGITS,
                (uint64_t) last->created_at, last->token);
        return n > 0 && n < META_CURSOR_MAX ? 0 : -EOVERFLOW;
}

static int cursor_parse(const char *cursor, MetaPosition *ret) {
        uint64_t t = 0;

        if (strnlen(cursor, META_CURSOR_MAX) == META_CURSOR_MAX)
                return -EINVAL;
        for (size_t i = 0; i < CURSOR_TIME_DIGITS; i++) {
                char c = cursor[i];
                int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
                if (d < 0)
                        return -EINVAL;
                t = t * 16 + (uint64_t) d;
        }
        const char *token = cursor + CURSOR_TIME_DIGITS;
        if (*token++ != '.' || t > INT64_MAX || !ARG_OK(token, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        ret->created_at = (int64_t) t;
        meta_copy(ret->token, sizeof ret->token, token);
        return 0;
}

int meta_history_list(Meta *m, const char *owner, size_t limit, const char *cursor, MetaHistory **ret,
        size_t *ret_n, char ret_next_cursor[META_CURSOR_MAX]) {
        MetaPosition after;
        bool from_newest = !cursor || !*cursor;
        MetaHistory *list = NULL;
        size_t n = 0;
        int r;

        if (!m || !ret || !ret_n || !ret_next_cursor || !ARG_OK(owner, TEXT_ID, META_ID_MAX, false) ||
                limit == 0 || limit > META_LIST_MAX)
                return -EINVAL;
        if (!from_newest) {
                r = cursor_parse(cursor, &after);
                if (r < 0)
                        return r;
        }
        /* one more than asked: whether there is a next page */
        r = CALL(m, history_list, owner, limit + 1, from_newest ? NULL : &after, &list, &n);
        if (r < 0)
                return r;
        char next[META_CURSOR_MAX] = "";
        if (n > limit) {
                for (size_t i = limit; i < n; i++)
                        meta_history_done(&list[i]);
                n = limit;
                r = cursor_format(&list[n - 1], next);
                if (r < 0) {
                        meta_history_list_free(list, n);
                        return r;
                }
        }
        *ret = list;
        *ret_n = n;
        memcpy(ret_next_cursor, next, sizeof next);
        return 0;
}

MetaHistory *meta_history_list_free(MetaHistory *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                meta_history_done(&list[i]);
        free(list);
        return NULL;
}

int meta_history_update(
        Meta *m, const char *token, int status_id, double time, int64_t memory, int64_t finished_at) {
        /* status 0: finished, result unknown */
        if (!m || !ARG_OK(token, TEXT_ID, META_ID_MAX, false) || (status_id != 0 && !status_ok(status_id)) ||
                !isfinite(time) || finished_at < 0)
                return -EINVAL;
        return CALL(m, history_update, token, status_id, time, memory, finished_at);
}

int meta_history_pending(Meta *m, size_t max, char (**ret_tokens)[META_ID_MAX], size_t *ret_n) {
        if (!m || !ret_tokens || !ret_n || max == 0 || max > META_LIST_MAX)
                return -EINVAL;
        return CALL(m, history_pending, max, ret_tokens, ret_n);
}

int meta_history_delete(Meta *m, const char *owner, const char *token) {
        if (!m || !ARG_OK(owner, TEXT_ID, META_ID_MAX, false) || !ARG_OK(token, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, history_delete, owner, token);
}

int meta_history_count_unfinished(Meta *m, const char *owner, uint64_t *ret) {
        if (!m || !ret || !ARG_OK(owner, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, history_count_unfinished, owner, ret);
}

void meta_share_done(MetaShare *s) {
        if (!s)
                return;
        free(s->data);
        s->data = NULL;
}

int meta_share_create(Meta *m, const MetaShare *s) {
        if (!m || !s || !FIELD_OK(s->id, TEXT_ID, false) || !FIELD_OK(s->owner, TEXT_ID, false) ||
                !text_ok(s->data, META_SHARE_MAX + 1, TEXT_ID, false) || s->created_at < 0)
                return -EINVAL;
        return CALL(m, share_create, s);
}

int meta_share_get(Meta *m, const char *id, MetaShare *ret) {
        if (!m || !ret || !ARG_OK(id, TEXT_ID, META_ID_MAX, false))
                return -EINVAL;
        return CALL(m, share_get, id, ret);
}

int meta_config_set(Meta *m, const char *key, const char *value) {
        if (!m || !ARG_OK(key, TEXT_ID, META_NAME_MAX, false) ||
                !ARG_OK(value, TEXT_ANY, META_CONFIG_VALUE_MAX, true))
                return -EINVAL;
        return CALL(m, config_set, key, value);
}

int meta_config_unset(Meta *m, const char *key) {
        if (!m || !ARG_OK(key, TEXT_ID, META_NAME_MAX, false))
                return -EINVAL;
        return CALL(m, config_unset, key);
}

int meta_config_get_all(Meta *m, char ***ret_keys, char ***ret_values, size_t *ret_n) {
        if (!m || !ret_keys || !ret_values || !ret_n)
                return -EINVAL;
        return CALL(m, config_get_all, ret_keys, ret_values, ret_n);
}

void meta_config_free(char **keys, char **values, size_t n) {
        for (size_t i = 0; i < n; i++) {
                if (keys)
                        free(keys[i]);
                if (values)
                        free(values[i]);
        }
        free(keys);
        free(values);
}
