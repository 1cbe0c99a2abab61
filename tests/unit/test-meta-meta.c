/* SPDX-License-Identifier: MIT */
/* The metadata store's contract: one suite, run against every backend. SQLite always;
 * MongoDB against a FerretDB the test starts (ferretdb.h) when its binary is there (make
 * deps-test builds it with tools/build-ferretdb), else a line says the half is skipped. */

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "base/time-util.h"
#include "ferretdb.h"
#include "loopback.h"
#include "meta/meta-internal.h"
#include "meta/meta.h"
#include "tests.h"

#define URL_MAX 512

/* Assertions that print both sides. */
#define ASSERT_INT(a, b) \
        do { \
                long long _a = (long long) (a), _b = (long long) (b); \
                if (_a != _b) { \
                        fprintf(stderr, "%s:%d: [%s] %s == %s: %lld != %lld (%s)\n", __FILE__, __LINE__, \
                                backend, #a, #b, _a, _b, strerror((int) -(_a < 0 ? _a : _b))); \
                        abort(); \
                } \
        } while (0)
#define ASSERT_OK(expr) ASSERT_INT(expr, 0)
#define ASSERT_STR(a, b) \
        do { \
                const char *_a = (a), *_b = (b); \
                if (strcmp(_a, _b) != 0) { \
                        fprintf(stderr, "%s:%d: [%s] %s == %s: \"%s\" != \"%s\"\n", __FILE__, __LINE__, \
                                backend, #a, #b, _a, _b); \
                        abort(); \
                } \
        } while (0)

static const char *backend = "-";
/* µs: a day from now, so that the store's own sweep of expired sessions (by the wall
 * clock) leaves the sessions of the tests alone */
static int64_t T0;
static char tmpdir[64];
static unsigned n_databases;
static FerretDB ferret;

/* A fresh, empty database of the backend under test. */
static void fresh_url(char url[URL_MAX]) {
        n_databases++;
        if (strcmp(backend, "sqlite") == 0)
                snprintf(url, URL_MAX, "sqlite:%s/meta-%u.db", tmpdir, n_databases);
        else
                snprintf(url, URL_MAX, "mongodb://127.0.0.1:%d/meta_%u?serverSelectionTimeoutMS=3000",
                        ferret.port, n_databases);
}

static Meta *open_fresh(void) {
        char url[URL_MAX], err[META_ERROR_MAX] = "";
        Meta *m = NULL;
        fresh_url(url);
        int r = meta_open(url, err, &m);
        if (r < 0)
                fprintf(stderr, "meta_open(%s): %s\n", url, err);
        ASSERT_OK(r);
        ASSERT_STR(meta_backend(m), strcmp(backend, "sqlite") == 0 ? "sqlite" : "mongodb");
        ASSERT_OK(meta_ping(m));
        return m;
}

/* A hex SHA-256 lookalike from a seed. */
static void hex_hash(unsigned seed, char ret[META_ID_MAX]) {
        for (int i = 0; i < 64; i++)
                ret[i] = "0123456789abcdef"[(seed * 2654435761u + (unsigned) i * 40503u) >> (i % 8) & 15];
        snprintf(ret + 56, 9, "%08x", seed);
}

static MetaKey make_key(unsigned seed, int64_t created_at) {
        MetaKey k = {
                .scopes = META_SCOPE_SUBMIT | META_SCOPE_READ,
                .rate = 12.5,
                .burst = 30,
                .quota_day = 1000,
                .cpu_seconds_day = 3600.25,
                .concurrent = 4,
                .languages = {71, 50, 54},
                .n_languages = 3,
                .max_cpu_time_limit = 5.5,
                .max_wall_time_limit = 10,
                .max_memory_limit = UINT64_C(1) << 40,
                .created_at = created_at,
        };
        snprintf(k.id, sizeof k.id, "k_%u", seed);
        snprintf(k.name, sizeof k.name, "clé %u", seed);
        hex_hash(seed, k.hash);
        return k;
}

static void assert_key_eq(const MetaKey *a, const MetaKey *b) {
        ASSERT_STR(a->id, b->id);
        ASSERT_STR(a->name, b->name);
        ASSERT_STR(a->hash, b->hash);
        ASSERT_INT(a->scopes, b->scopes);
        ASSERT_TRUE(a->rate == b->rate && a->cpu_seconds_day == b->cpu_seconds_day);
        ASSERT_TRUE(a->max_cpu_time_limit == b->max_cpu_time_limit &&
                    a->max_wall_time_limit == b->max_wall_time_limit);
        ASSERT_INT(a->burst, b->burst);
        ASSERT_INT(a->quota_day, b->quota_day);
        ASSERT_INT(a->concurrent, b->concurrent);
        ASSERT_INT(a->n_languages, b->n_languages);
        for (size_t i = 0; i < a->n_languages; i++)
                ASSERT_INT(a->languages[i], b->languages[i]);
        ASSERT_TRUE(a->max_memory_limit == b->max_memory_limit);
        ASSERT_INT(a->created_at, b->created_at);
        ASSERT_INT(a->revoked_at, b->revoked_at);
}

static void test_keys(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        MetaKey k1 = make_key(1, T0 + 30), k2 = make_key(2, T0 + 10), k3 = make_key(3, T0 + 10), got;

        k2.n_languages = 0; /* every language */
        k2.scopes = META_SCOPE_ADMIN;
        k3.max_memory_limit = INT64_MAX;
        ASSERT_OK(meta_key_create(m, &k1));
        ASSERT_OK(meta_key_create(m, &k2));
        ASSERT_OK(meta_key_create(m, &k3));

        ASSERT_OK(meta_key_get(m, "k_1", &got));
        assert_key_eq(&k1, &got);
        ASSERT_OK(meta_key_get_by_hash(m, k2.hash, &got));
        assert_key_eq(&k2, &got);
        ASSERT_OK(meta_key_get(m, "k_3", &got));
        assert_key_eq(&k3, &got);

        /* unique id, unique hash */
        MetaKey dup = make_key(4, T0);
        snprintf(dup.id, sizeof dup.id, "k_1");
        ASSERT_INT(meta_key_create(m, &dup), -EEXIST);
        dup = make_key(4, T0);
        hex_hash(1, dup.hash);
        ASSERT_INT(meta_key_create(m, &dup), -EEXIST);
        ASSERT_INT(meta_key_get(m, "k_4", &got), -ENOENT);
        char missing[META_ID_MAX];
        hex_hash(99, missing);
        ASSERT_INT(meta_key_get_by_hash(m, missing, &got), -ENOENT);

        /* oldest first, ties by id */
        _cleanup_free_ MetaKey *list = NULL;
        size_t n = 0;
        ASSERT_OK(meta_key_list(m, &list, &n));
        ASSERT_INT(n, 3);
        ASSERT_STR(list[0].id, "k_2");
        ASSERT_STR(list[1].id, "k_3");
        ASSERT_STR(list[2].id, "k_1");
        assert_key_eq(&k1, &list[2]);

        /* revoke: the first time counts, twice is 0, unknown is -ENOENT */
        ASSERT_OK(meta_key_revoke(m, "k_1", T0 + 100));
        ASSERT_OK(meta_key_revoke(m, "k_1", T0 + 200));
        ASSERT_INT(meta_key_revoke(m, "k_9", T0 + 100), -ENOENT);
        ASSERT_OK(meta_key_get_by_hash(m, k1.hash, &got)); /* revoked keys are returned */
        ASSERT_INT(got.revoked_at, T0 + 100);
        ASSERT_OK(meta_key_get(m, "k_2", &got));
        ASSERT_INT(got.revoked_at, 0);
        fprintf(stderr, "%s: keys ok\n", backend);
}

static void test_users(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        MetaUser u = {.created_at = T0}, got;
        snprintf(u.id, sizeof u.id, "u_1");
        snprintf(u.name, sizeof u.name, "Zoë");
        snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA");

        ASSERT_OK(meta_user_create(m, &u));
        ASSERT_OK(meta_user_get_by_name(m, "Zoë", &got));
        ASSERT_STR(got.id, "u_1");
        ASSERT_STR(got.password_hash, u.password_hash);
        ASSERT_INT(got.created_at, T0);
        ASSERT_OK(meta_user_get(m, "u_1", &got));
        ASSERT_STR(got.name, "Zoë");

        MetaUser same_name = u, same_id = u;
        snprintf(same_name.id, sizeof same_name.id, "u_2");
        ASSERT_INT(meta_user_create(m, &same_name), -EEXIST);
        snprintf(same_id.name, sizeof same_id.name, "zoë"); /* names are compared bytewise */
        ASSERT_INT(meta_user_create(m, &same_id), -EEXIST);
        snprintf(same_id.id, sizeof same_id.id, "u_3");
        ASSERT_OK(meta_user_create(m, &same_id));

        ASSERT_INT(meta_user_get(m, "u_2", &got), -ENOENT);
        ASSERT_INT(meta_user_get_by_name(m, "nobody", &got), -ENOENT);
        fprintf(stderr, "%s: users ok\n", backend);
}

static MetaSession make_session(unsigned seed, int64_t created_at, int64_t expires_at) {
        MetaSession s = {.created_at = created_at, .expires_at = expires_at};
        hex_hash(seed, s.id_hash);
        return s;
}

static void test_sessions(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        MetaSession s = make_session(1, T0, T0 + 1000), got;

        /* the first session created sweeps the expired ones (by the wall clock), itself too:
         * it can be created again; the next sweep is a minute later */
        int64_t now = (int64_t) now_usec(CLOCK_REALTIME);
        MetaSession old = make_session(500, now - 2000, now - 1000);
        ASSERT_OK(meta_session_create(m, &old));
        ASSERT_OK(meta_session_create(m, &old));
        ASSERT_INT(meta_session_create(m, &old), -EEXIST);
        ASSERT_INT(meta_session_get(m, old.id_hash, now - 1500, &got), 0);
        ASSERT_OK(meta_session_delete(m, old.id_hash));

        ASSERT_OK(meta_session_create(m, &s));
        ASSERT_INT(meta_session_create(m, &s), -EEXIST);
        ASSERT_OK(meta_session_get(m, s.id_hash, T0 + 999, &got));
        ASSERT_STR(got.id_hash, s.id_hash);
        ASSERT_STR(got.user_id, "");
        ASSERT_INT(got.created_at, T0);
        ASSERT_INT(got.expires_at, T0 + 1000);
        /* expired: at expires_at and after */
        ASSERT_INT(meta_session_get(m, s.id_hash, T0 + 1000, &got), -ENOENT);
        ASSERT_INT(meta_session_get(m, s.id_hash, T0 + 5000, &got), -ENOENT);

        /* log in, log out */
        ASSERT_OK(meta_session_set_user(m, s.id_hash, "u_7"));
        ASSERT_OK(meta_session_get(m, s.id_hash, T0, &got));
        ASSERT_STR(got.user_id, "u_7");
        ASSERT_OK(meta_session_set_user(m, s.id_hash, ""));
        ASSERT_OK(meta_session_get(m, s.id_hash, T0, &got));
        ASSERT_STR(got.user_id, "");
        MetaSession other = make_session(2, T0, T0 + 1000);
        ASSERT_INT(meta_session_set_user(m, other.id_hash, "u_7"), -ENOENT);
        ASSERT_INT(meta_session_get(m, other.id_hash, T0, &got), -ENOENT);

        /* delete: 0 even when missing */
        ASSERT_OK(meta_session_delete(m, s.id_hash));
        ASSERT_INT(meta_session_get(m, s.id_hash, T0, &got), -ENOENT);
        ASSERT_OK(meta_session_delete(m, s.id_hash));

        /* the sweep deletes the expired ones only */
        for (unsigned i = 10; i < 15; i++) {
                MetaSession e = make_session(i, T0, T0 + i); /* expire at T0+10..T0+14 */
                ASSERT_OK(meta_session_create(m, &e));
        }
        uint64_t swept = 99;
        ASSERT_OK(meta_session_sweep(m, T0 + 12, &swept));
        ASSERT_INT(swept, 3);
        ASSERT_OK(meta_session_sweep(m, T0 + 12, &swept));
        ASSERT_INT(swept, 0);
        MetaSession e13 = make_session(13, 0, 0);
        ASSERT_OK(meta_session_get(m, e13.id_hash, T0, &got));
        ASSERT_INT(got.expires_at, T0 + 13);
        /* gone, not just hidden: a session of the same id can be created again */
        MetaSession e10 = make_session(10, T0, T0 + 2000);
        ASSERT_OK(meta_session_create(m, &e10));
        fprintf(stderr, "%s: sessions ok\n", backend);
}

static MetaHistory make_history(const char *owner, unsigned i, int64_t created_at, int status_id) {
        MetaHistory h = {
                .language_id = 71,
                .status_id = status_id,
                .time = -1,
                .memory = -1,
                .created_at = created_at,
        };
        snprintf(h.token, sizeof h.token, "tok-%04u", i);
        snprintf(h.owner, sizeof h.owner, "%s", owner);
        return h;
}

static void test_history(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        _cleanup_(meta_history_done) MetaHistory got = {};
        static const char source[] = "print(\"\\0\")\n\0binary\xff\xfe tail";

        /* bytes with NULs survive; NULL (none) and empty stay apart */
        MetaHistory a = make_history("key:k_1", 1, T0, 1);
        a.source_code = (char *) source;
        a.source_len = sizeof source - 1;
        a.stdin_data = (char *) "";
        a.stdin_len = 0;
        ASSERT_OK(meta_history_add(m, &a));
        ASSERT_INT(meta_history_add(m, &a), -EEXIST);
        ASSERT_OK(meta_history_get(m, "tok-0001", &got));
        ASSERT_STR(got.owner, "key:k_1");
        ASSERT_INT(got.language_id, 71);
        ASSERT_INT(got.status_id, 1);
        ASSERT_TRUE(got.time == -1);
        ASSERT_INT(got.memory, -1);
        ASSERT_INT(got.created_at, T0);
        ASSERT_INT(got.finished_at, 0);
        ASSERT_INT(got.source_len, sizeof source - 1);
        ASSERT_TRUE(memcmp(got.source_code, source, sizeof source - 1) == 0);
        ASSERT_TRUE(got.stdin_data != NULL);
        ASSERT_INT(got.stdin_len, 0);
        meta_history_done(&got);
        MetaHistory b = make_history("session:abc", 2, T0 + 1, 2);
        ASSERT_OK(meta_history_add(m, &b));
        ASSERT_OK(meta_history_get(m, "tok-0002", &got));
        ASSERT_TRUE(got.source_code == NULL && got.stdin_data == NULL);
        meta_history_done(&got);
        ASSERT_INT(meta_history_get(m, "tok-0404", &got), -ENOENT);

        /* update while not final, then never again */
        uint64_t n;
        ASSERT_OK(meta_history_count_unfinished(m, "key:k_1", &n));
        ASSERT_INT(n, 1);
        ASSERT_INT(meta_history_update(m, "tok-0001", 2, -1, -1, 0), 1);
        ASSERT_INT(meta_history_update(m, "tok-0001", 3, 0.125, 2048, T0 + 500), 1);
        ASSERT_INT(meta_history_update(m, "tok-0001", 11, 1, 1, T0 + 600), 0); /* final already */
        ASSERT_INT(meta_history_update(m, "tok-0001", 0, 1, 1, T0 + 600), 0);
        ASSERT_INT(meta_history_update(m, "tok-0404", 3, 1, 1, T0), -ENOENT);
        ASSERT_OK(meta_history_get(m, "tok-0001", &got));
        ASSERT_INT(got.status_id, 3);
        ASSERT_TRUE(got.time == 0.125);
        ASSERT_INT(got.memory, 2048);
        ASSERT_INT(got.finished_at, T0 + 500);
        ASSERT_INT(got.source_len, sizeof source - 1); /* the input is untouched */
        meta_history_done(&got);
        ASSERT_OK(meta_history_count_unfinished(m, "key:k_1", &n));
        ASSERT_INT(n, 0);
        ASSERT_OK(meta_history_count_unfinished(m, "session:abc", &n));
        ASSERT_INT(n, 1);
        /* status 0: finished, result unknown (gone from the API nodes) */
        ASSERT_INT(meta_history_update(m, "tok-0002", 0, -1, -1, T0 + 700), 1);
        ASSERT_INT(meta_history_update(m, "tok-0002", 4, 1, 1, T0 + 800), 0);
        ASSERT_OK(meta_history_get(m, "tok-0002", &got));
        ASSERT_INT(got.status_id, 0);
        ASSERT_INT(got.finished_at, T0 + 700);
        meta_history_done(&got);
        ASSERT_OK(meta_history_count_unfinished(m, "session:abc", &n));
        ASSERT_INT(n, 0);
        ASSERT_OK(meta_history_count_unfinished(m, "key:nobody", &n));
        ASSERT_INT(n, 0);

        /* ownership: another owner cannot delete it */
        ASSERT_INT(meta_history_delete(m, "key:k_2", "tok-0001"), -ENOENT);
        ASSERT_OK(meta_history_get(m, "tok-0001", &got));
        meta_history_done(&got);
        ASSERT_OK(meta_history_delete(m, "key:k_1", "tok-0001"));
        ASSERT_INT(meta_history_get(m, "tok-0001", &got), -ENOENT);
        ASSERT_INT(meta_history_delete(m, "key:k_1", "tok-0001"), -ENOENT);
        fprintf(stderr, "%s: history ok\n", backend);
}

static void test_pending(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        /* of any owner, status 1 or 2, oldest first (ties by token) */
        static const struct {
                const char *owner;
                int64_t age; /* created at T0 + age */
                int status_id;
        } rows[] = {
                {"key:a", 5, 1},
                {"key:b", 1, 3},
                {"key:b", 2, 2},
                {"session:x", 2, 1},
                {"key:a", 0, 6},
                {"key:c", 9, 2},
                {"key:a", 3, 14},
        };
        for (unsigned i = 0; i < ELEMENTSOF(rows); i++) {
                MetaHistory h = make_history(rows[i].owner, i, T0 + rows[i].age, rows[i].status_id);
                ASSERT_OK(meta_history_add(m, &h));
        }
        char(*tokens)[META_ID_MAX] = NULL;
        size_t n = 0;
        ASSERT_OK(meta_history_pending(m, 100, &tokens, &n));
        ASSERT_INT(n, 4);
        ASSERT_STR(tokens[0], "tok-0002");
        ASSERT_STR(tokens[1], "tok-0003");
        ASSERT_STR(tokens[2], "tok-0000");
        ASSERT_STR(tokens[3], "tok-0005");
        free(tokens);
        ASSERT_OK(meta_history_pending(m, 2, &tokens, &n));
        ASSERT_INT(n, 2);
        ASSERT_STR(tokens[1], "tok-0003");
        free(tokens);
        fprintf(stderr, "%s: pending ok\n", backend);
}

/* Pages of one owner's history across runs of equal created_at values: every record once,
 * newest first, ties by token descending; other owners never show. */
static void test_history_pages(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        enum { N = 23 };
        for (unsigned i = 0; i < N; i++) {
                /* created_at repeats in runs of 4, inserted out of order */
                unsigned j = (i * 7) % N;
                MetaHistory h = make_history("user:u_1", j, T0 + j / 4, 1);
                ASSERT_OK(meta_history_add(m, &h));
                MetaHistory other = make_history("user:u_2", 100 + j, T0 + j / 4, 1);
                ASSERT_OK(meta_history_add(m, &other));
        }

        for (size_t limit = 1; limit <= N + 1; limit += 3) {
                char cursor[META_CURSOR_MAX] = "";
                unsigned seen = 0;
                for (unsigned page = 0;; page++) {
                        MetaHistory *list = NULL;
                        size_t n = 99;
                        char next[META_CURSOR_MAX];
                        ASSERT_OK(meta_history_list(m, "user:u_1", limit, cursor, &list, &n, next));
                        ASSERT_TRUE(n <= limit);
                        for (size_t i = 0; i < n; i++, seen++) {
                                /* the seen-th newest: token N-1-seen, created_at (N-1-seen)/4 */
                                unsigned want = N - 1 - seen;
                                char token[16];
                                snprintf(token, sizeof token, "tok-%04u", want);
                                ASSERT_STR(list[i].token, token);
                                ASSERT_STR(list[i].owner, "user:u_1");
                                ASSERT_INT(list[i].created_at, T0 + want / 4);
                        }
                        meta_history_list_free(list, n);
                        if (!*next)
                                break;
                        ASSERT_INT(n, limit); /* only the last page is short */
                        memcpy(cursor, next, sizeof cursor);
                        ASSERT_TRUE(page < N);
                }
                ASSERT_INT(seen, N);
        }

        /* a cursor stays good when its record is deleted meanwhile */
        MetaHistory *list = NULL;
        size_t n;
        char next[META_CURSOR_MAX];
        ASSERT_OK(meta_history_list(m, "user:u_1", 5, NULL, &list, &n, next));
        ASSERT_INT(n, 5);
        ASSERT_OK(meta_history_delete(m, "user:u_1", list[4].token));
        meta_history_list_free(list, n);
        ASSERT_OK(meta_history_list(m, "user:u_1", 2, next, &list, &n, next));
        ASSERT_INT(n, 2);
        ASSERT_STR(list[0].token, "tok-0017");
        meta_history_list_free(list, n);

        /* no records: an empty last page */
        ASSERT_OK(meta_history_list(m, "user:nobody", 10, "", &list, &n, next));
        ASSERT_INT(n, 0);
        ASSERT_STR(next, "");
        free(list);
        fprintf(stderr, "%s: history pages ok\n", backend);
}

static void test_config(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        char **keys = NULL, **values = NULL;
        size_t n = 99;

        ASSERT_OK(meta_config_get_all(m, &keys, &values, &n));
        ASSERT_INT(n, 0);
        meta_config_free(keys, values, n);

        ASSERT_OK(meta_config_set(m, "notice", "Maintenance at 18:00 — ünïcode\nline two"));
        ASSERT_OK(meta_config_set(m, "default_language", "71"));
        ASSERT_OK(meta_config_set(m, "Editor.theme", "dark"));
        ASSERT_OK(meta_config_set(m, "enabled_languages", "71,50"));
        ASSERT_OK(meta_config_set(m, "default_language", "50")); /* replaced */
        ASSERT_OK(meta_config_set(m, "empty", ""));
        ASSERT_OK(meta_config_unset(m, "enabled_languages"));
        ASSERT_OK(meta_config_unset(m, "never_set"));

        ASSERT_OK(meta_config_get_all(m, &keys, &values, &n));
        ASSERT_INT(n, 4);
        ASSERT_STR(keys[0], "Editor.theme"); /* bytewise: upper case first */
        ASSERT_STR(values[0], "dark");
        ASSERT_STR(keys[1], "default_language");
        ASSERT_STR(values[1], "50");
        ASSERT_STR(keys[2], "empty");
        ASSERT_STR(values[2], "");
        ASSERT_STR(keys[3], "notice");
        ASSERT_STR(values[3], "Maintenance at 18:00 — ünïcode\nline two");
        meta_config_free(keys, values, n);
        fprintf(stderr, "%s: config ok\n", backend);
}

/* Share links: stored whole (the largest too), read back by id; a taken id, bad text and
 * an over-long link are refused. */
static void test_shares(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        _cleanup_(meta_share_done) MetaShare got = {};
        _cleanup_free_ char *big = malloc(META_SHARE_MAX + 2);
        ASSERT_TRUE(big);
        for (size_t i = 0; i < META_SHARE_MAX; i++)
                big[i] = "abcXYZ019-_."[i % 12];
        big[META_SHARE_MAX] = '\0';

        MetaShare s = {
                .id = "Ab3xY9kQ2m", .owner = "session:0123", .data = (char *) "2.eJyrVg", .created_at = T0};
        ASSERT_INT(meta_share_get(m, "Ab3xY9kQ2m", &got), -ENOENT);
        ASSERT_OK(meta_share_create(m, &s));
        ASSERT_INT(meta_share_create(m, &s), -EEXIST);
        ASSERT_OK(meta_share_get(m, "Ab3xY9kQ2m", &got));
        ASSERT_STR(got.id, "Ab3xY9kQ2m");
        ASSERT_STR(got.owner, "session:0123");
        ASSERT_STR(got.data, "2.eJyrVg");
        ASSERT_TRUE(got.created_at == T0);
        meta_share_done(&got);

        MetaShare large = {.id = "large", .owner = "key:k_1", .data = big, .created_at = T0};
        ASSERT_OK(meta_share_create(m, &large));
        ASSERT_OK(meta_share_get(m, "large", &got));
        ASSERT_TRUE(strlen(got.data) == META_SHARE_MAX && strcmp(got.data, big) == 0);
        meta_share_done(&got);

        big[META_SHARE_MAX] = 'a';
        big[META_SHARE_MAX + 1] = '\0';
        MetaShare too_big = {.id = "too-big", .owner = "key:k_1", .data = big, .created_at = T0};
        ASSERT_INT(meta_share_create(m, &too_big), -EINVAL);
        MetaShare spaces = {.id = "spaces", .owner = "key:k_1", .data = (char *) "a b", .created_at = T0};
        ASSERT_INT(meta_share_create(m, &spaces), -EINVAL);
        MetaShare empty = {.id = "empty", .owner = "key:k_1", .data = (char *) "", .created_at = T0};
        ASSERT_INT(meta_share_create(m, &empty), -EINVAL);
        MetaShare no_id = {.owner = "key:k_1", .data = (char *) "x", .created_at = T0};
        ASSERT_INT(meta_share_create(m, &no_id), -EINVAL);
        ASSERT_INT(meta_share_get(m, "too-big", &got), -ENOENT);
        ASSERT_INT(meta_share_get(m, "", &got), -EINVAL);
        fprintf(stderr, "%s: shares ok\n", backend);
}

/* Every bad argument is refused with a clear error, and nothing is stored cut short. */
static void test_bad_input(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        MetaKey k = make_key(1, T0), kgot;
        MetaUser u = {.created_at = T0}, ugot;
        MetaSession s = make_session(1, T0, T0 + 10), sgot;
        _cleanup_(meta_history_done) MetaHistory hgot = {};
        char cursor[META_CURSOR_MAX], **keys, **values;
        char(*tokens)[META_ID_MAX];
        MetaKey *klist;
        MetaHistory *hlist;
        size_t n;
        uint64_t count;

        snprintf(u.id, sizeof u.id, "u_1");
        snprintf(u.name, sizeof u.name, "ann");
        snprintf(u.password_hash, sizeof u.password_hash, "$argon2id$x");

        /* NULL everywhere */
        ASSERT_INT(meta_ping(NULL), -EINVAL);
        ASSERT_INT(meta_key_create(NULL, &k), -EINVAL);
        ASSERT_INT(meta_key_create(m, NULL), -EINVAL);
        ASSERT_INT(meta_key_get(m, NULL, &kgot), -EINVAL);
        ASSERT_INT(meta_key_get(m, "k_1", NULL), -EINVAL);
        ASSERT_INT(meta_key_get_by_hash(m, NULL, &kgot), -EINVAL);
        ASSERT_INT(meta_key_list(m, NULL, &n), -EINVAL);
        ASSERT_INT(meta_key_list(m, &klist, NULL), -EINVAL);
        ASSERT_INT(meta_key_revoke(m, NULL, T0), -EINVAL);
        ASSERT_INT(meta_user_create(m, NULL), -EINVAL);
        ASSERT_INT(meta_user_get(m, NULL, &ugot), -EINVAL);
        ASSERT_INT(meta_user_get_by_name(m, "ann", NULL), -EINVAL);
        ASSERT_INT(meta_session_create(m, NULL), -EINVAL);
        ASSERT_INT(meta_session_get(m, NULL, T0, &sgot), -EINVAL);
        ASSERT_INT(meta_session_get(m, s.id_hash, T0, NULL), -EINVAL);
        ASSERT_INT(meta_session_set_user(m, s.id_hash, NULL), -EINVAL);
        ASSERT_INT(meta_session_delete(m, NULL), -EINVAL);
        ASSERT_INT(meta_history_add(m, NULL), -EINVAL);
        ASSERT_INT(meta_history_get(m, NULL, &hgot), -EINVAL);
        ASSERT_INT(meta_history_list(m, NULL, 10, NULL, &hlist, &n, cursor), -EINVAL);
        ASSERT_INT(meta_history_list(m, "key:a", 10, NULL, NULL, &n, cursor), -EINVAL);
        ASSERT_INT(meta_history_list(m, "key:a", 10, NULL, &hlist, &n, NULL), -EINVAL);
        ASSERT_INT(meta_history_update(m, NULL, 3, 0, 0, T0), -EINVAL);
        ASSERT_INT(meta_history_pending(m, 10, NULL, &n), -EINVAL);
        ASSERT_INT(meta_history_delete(m, "key:a", NULL), -EINVAL);
        ASSERT_INT(meta_history_count_unfinished(m, "key:a", NULL), -EINVAL);
        ASSERT_INT(meta_config_set(m, "a", NULL), -EINVAL);
        ASSERT_INT(meta_config_unset(m, NULL), -EINVAL);
        ASSERT_INT(meta_config_get_all(m, &keys, NULL, &n), -EINVAL);

        /* over-long strings are refused, not cut: an id of META_ID_MAX - 1 bytes fits... */
        char id[META_ID_MAX + 8];
        memset(id, 'x', sizeof id);
        id[META_ID_MAX - 1] = '\0';
        memcpy(k.id, id, META_ID_MAX);
        ASSERT_OK(meta_key_create(m, &k));
        ASSERT_OK(meta_key_get(m, id, &kgot));
        ASSERT_STR(kgot.id, id);
        /* ... META_ID_MAX bytes do not, in a field nor as an argument */
        k = make_key(2, T0);
        memset(k.id, 'y', sizeof k.id);
        ASSERT_INT(meta_key_create(m, &k), -EINVAL);
        id[META_ID_MAX - 1] = 'x';
        id[META_ID_MAX] = '\0';
        ASSERT_INT(meta_key_get(m, id, &kgot), -EINVAL);
        ASSERT_INT(meta_key_revoke(m, id, T0), -EINVAL);
        ASSERT_INT(meta_history_count_unfinished(m, id, &count), -EINVAL);
        id[META_ID_MAX - 1] = '\0';
        k = make_key(2, T0);
        memset(k.name, 'n', sizeof k.name);
        ASSERT_INT(meta_key_create(m, &k), -EINVAL);
        ASSERT_INT(meta_key_get(m, "k_2", &kgot), -ENOENT); /* nothing stored */

        /* malformed values */
        static const char *const bad_ids[] = {"", "with space", "tab\there", "ctl\x01", "é", "\x7f"};
        for (size_t i = 0; i < ELEMENTSOF(bad_ids); i++) {
                ASSERT_INT(meta_key_get(m, bad_ids[i], &kgot), -EINVAL);
                ASSERT_INT(meta_history_delete(m, bad_ids[i], "t"), -EINVAL);
                ASSERT_INT(meta_config_unset(m, bad_ids[i]), -EINVAL);
        }
        static const char *const bad_hashes[] = {"", "abc",
                "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg",
                "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0"};
        for (size_t i = 0; i < ELEMENTSOF(bad_hashes); i++) {
                ASSERT_INT(meta_key_get_by_hash(m, bad_hashes[i], &kgot), -EINVAL);
                ASSERT_INT(meta_session_get(m, bad_hashes[i], T0, &sgot), -EINVAL);
                ASSERT_INT(meta_session_delete(m, bad_hashes[i]), -EINVAL);
                k = make_key(3, T0);
                snprintf(k.hash, sizeof k.hash, "%s", bad_hashes[i]);
                ASSERT_INT(meta_key_create(m, &k), -EINVAL);
        }
        ASSERT_INT(meta_user_get_by_name(m, "bad\xc3", &ugot), -EINVAL); /* truncated UTF-8 */
        ASSERT_INT(meta_user_get_by_name(m, "\xc0\xaf", &ugot), -EINVAL); /* overlong */
        ASSERT_INT(meta_user_get_by_name(m, "new\nline", &ugot), -EINVAL);
        ASSERT_INT(meta_user_get_by_name(m, "", &ugot), -EINVAL);

        MetaKey bad_keys[9];
        for (size_t i = 0; i < ELEMENTSOF(bad_keys); i++)
                bad_keys[i] = make_key(10 + (unsigned) i, T0);
        bad_keys[0].scopes = 1u << 3;
        bad_keys[1].rate = NAN;
        bad_keys[2].cpu_seconds_day = -1;
        bad_keys[3].max_wall_time_limit = INFINITY;
        bad_keys[4].n_languages = META_MAX_LANGUAGES + 1;
        bad_keys[5].languages[1] = 0;
        bad_keys[6].max_memory_limit = (uint64_t) INT64_MAX + 1;
        bad_keys[7].created_at = -1;
        snprintf(bad_keys[8].name, sizeof bad_keys[8].name, "bell\a");
        for (size_t i = 0; i < ELEMENTSOF(bad_keys); i++)
                ASSERT_INT(meta_key_create(m, &bad_keys[i]), -EINVAL);
        ASSERT_INT(meta_key_revoke(m, "k_1", 0), -EINVAL);

        MetaUser bad_user = u;
        bad_user.name[0] = '\0';
        ASSERT_INT(meta_user_create(m, &bad_user), -EINVAL);
        bad_user = u;
        snprintf(bad_user.password_hash, sizeof bad_user.password_hash, "has space");
        ASSERT_INT(meta_user_create(m, &bad_user), -EINVAL);
        bad_user = u;
        memset(bad_user.password_hash, '$', sizeof bad_user.password_hash);
        ASSERT_INT(meta_user_create(m, &bad_user), -EINVAL);

        MetaSession bad_session = s;
        snprintf(bad_session.user_id, sizeof bad_session.user_id, "u 1");
        ASSERT_INT(meta_session_create(m, &bad_session), -EINVAL);
        bad_session = s;
        bad_session.expires_at = -5;
        ASSERT_INT(meta_session_create(m, &bad_session), -EINVAL);
        ASSERT_INT(meta_session_get(m, s.id_hash, -1, &sgot), -EINVAL);
        ASSERT_INT(meta_session_sweep(m, -1, NULL), -EINVAL);

        MetaHistory h = make_history("key:a", 1, T0, 1);
        h.status_id = 0;
        ASSERT_INT(meta_history_add(m, &h), -EINVAL);
        h.status_id = 15;
        ASSERT_INT(meta_history_add(m, &h), -EINVAL);
        h = make_history("key:a", 1, T0, 1);
        h.language_id = 0;
        ASSERT_INT(meta_history_add(m, &h), -EINVAL);
        h = make_history("key:a", 1, T0, 1);
        h.time = NAN;
        ASSERT_INT(meta_history_add(m, &h), -EINVAL);
        h = make_history("key:a", 1, T0, 1);
        h.source_len = 3; /* and no source */
        ASSERT_INT(meta_history_add(m, &h), -EINVAL);
        h = make_history("key:a", 1, T0, 1);
        h.stdin_data = (char *) "x";
        h.stdin_len = META_BYTES_MAX + 1; /* refused before it is read */
        ASSERT_INT(meta_history_add(m, &h), -E2BIG);
        h = make_history("key:a", 1, T0, 1);
        h.source_code = calloc(1, META_BYTES_MAX);
        ASSERT_TRUE(h.source_code);
        h.source_len = META_BYTES_MAX; /* the ceiling itself fits */
        ASSERT_OK(meta_history_add(m, &h));
        free(h.source_code);
        ASSERT_OK(meta_history_get(m, "tok-0001", &hgot));
        ASSERT_INT(hgot.source_len, META_BYTES_MAX);
        ASSERT_INT(meta_history_update(m, "tok-0001", 15, 0, 0, T0), -EINVAL);
        ASSERT_INT(meta_history_update(m, "tok-0001", -1, 0, 0, T0), -EINVAL);
        ASSERT_INT(meta_history_update(m, "tok-0001", 3, INFINITY, 0, T0), -EINVAL);
        ASSERT_INT(meta_history_update(m, "tok-0001", 3, 0, 0, -1), -EINVAL);

        ASSERT_INT(meta_history_list(m, "key:a", 0, NULL, &hlist, &n, cursor), -EINVAL);
        ASSERT_INT(meta_history_list(m, "key:a", META_LIST_MAX + 1, NULL, &hlist, &n, cursor), -EINVAL);
        static const char *const bad_cursors[] = {"junk", "0000000000000001", "0000000000000001tok",
                "000000000000000g.tok", "8000000000000000.tok", "0000000000000001.", "0000000000000001.a b"};
        for (size_t i = 0; i < ELEMENTSOF(bad_cursors); i++)
                ASSERT_INT(meta_history_list(m, "key:a", 5, bad_cursors[i], &hlist, &n, cursor), -EINVAL);
        ASSERT_INT(meta_history_pending(m, 0, &tokens, &n), -EINVAL);
        ASSERT_INT(meta_history_pending(m, META_LIST_MAX + 1, &tokens, &n), -EINVAL);

        char value[META_CONFIG_VALUE_MAX + 1];
        memset(value, 'v', sizeof value);
        value[META_CONFIG_VALUE_MAX] = '\0';
        ASSERT_INT(meta_config_set(m, "notice", value), -EINVAL);
        value[META_CONFIG_VALUE_MAX - 1] = '\0';
        ASSERT_OK(meta_config_set(m, "notice", value));
        ASSERT_INT(meta_config_set(m, "notice", "\xff"), -EINVAL);
        char name[META_NAME_MAX + 1];
        memset(name, 'a', sizeof name);
        name[META_NAME_MAX] = '\0';
        ASSERT_INT(meta_config_set(m, name, "1"), -EINVAL);
        ASSERT_OK(meta_config_get_all(m, &keys, &values, &n));
        ASSERT_INT(n, 1);
        ASSERT_INT(strlen(values[0]), META_CONFIG_VALUE_MAX - 1);
        meta_config_free(keys, values, n);
        fprintf(stderr, "%s: bad input ok\n", backend);
}

/* Threads share one Meta. */
typedef struct Worker {
        Meta *m;
        unsigned id;
} Worker;

static void *history_writer(void *arg) {
        Worker *w = arg;
        for (unsigned i = 0; i < 25; i++) {
                MetaHistory h = make_history("key:shared", w->id * 1000 + i, T0 + i, 1);
                int r = meta_history_add(w->m, &h);
                if (r < 0) {
                        fprintf(stderr, "[%s] thread %u: meta_history_add: %s\n", backend, w->id,
                                strerror(-r));
                        abort();
                }
        }
        return NULL;
}

static void test_threads(void) {
        _cleanup_meta_close_ Meta *m = open_fresh();
        pthread_t threads[4];
        Worker workers[4];
        for (unsigned i = 0; i < ELEMENTSOF(threads); i++) {
                workers[i] = (Worker){.m = m, .id = i};
                ASSERT_INT(pthread_create(&threads[i], NULL, history_writer, &workers[i]), 0);
        }
        for (unsigned i = 0; i < ELEMENTSOF(threads); i++)
                ASSERT_INT(pthread_join(threads[i], NULL), 0);
        uint64_t n;
        ASSERT_OK(meta_history_count_unfinished(m, "key:shared", &n));
        ASSERT_INT(n, 100);
        fprintf(stderr, "%s: threads ok\n", backend);
}

/* Several processes (gateways started together) open one fresh store at the same moment:
 * each creates the schema or finds it, none is refused "database is locked". */
static void test_opened_together(void) {
        char url[URL_MAX];
        fresh_url(url);
        int go[2];
        ASSERT_INT(pipe(go), 0);
        pid_t pids[12];
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                pids[i] = fork();
                ASSERT_TRUE(pids[i] >= 0);
                if (pids[i] == 0) {
                        close(go[1]);
                        char c;
                        (void) read(go[0], &c, 1); /* all start when the pipe closes */
                        char err[META_ERROR_MAX] = "";
                        Meta *m = NULL;
                        int r = meta_open(url, err, &m);
                        if (r < 0)
                                fprintf(stderr, "meta_open(%s) together: %s\n", url, err);
                        _exit(r < 0 || meta_ping(m) < 0 ? 1 : (meta_close(m), 0));
                }
        }
        close(go[0]);
        close(go[1]);
        for (size_t i = 0; i < ELEMENTSOF(pids); i++) {
                int status;
                ASSERT_INT(waitpid(pids[i], &status, 0), pids[i]);
                ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        }
        fprintf(stderr, "%s: opened together ok\n", backend);
}

static void run_contract(const char *name) {
        backend = name;
        test_keys();
        test_users();
        test_sessions();
        test_history();
        test_pending();
        test_history_pages();
        test_config();
        test_shares();
        test_bad_input();
        test_threads();
        test_opened_together();
}

static void test_urls(void) {
        static const char *const bad[] = {
                "", "mysql://x", "sqlite:", "mongodb://", "/tmp/x.db", "postgres://h/d"};
        char err[META_ERROR_MAX];
        Meta *m = NULL;
        backend = "urls";
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                err[0] = '\0';
                ASSERT_INT(meta_open(bad[i], err, &m), -EINVAL);
                ASSERT_TRUE(strstr(err, "invalid metadata url"));
                ASSERT_TRUE(m == NULL);
        }
        ASSERT_INT(meta_open(NULL, NULL, &m), -EINVAL);
        ASSERT_INT(meta_open("sqlite::memory:", NULL, NULL), -EINVAL);
        /* in memory works; a directory that is missing does not */
        ASSERT_OK(meta_open("sqlite::memory:", err, &m));
        ASSERT_STR(meta_backend(m), "sqlite");
        m = meta_close(m);
        char url[URL_MAX];
        snprintf(url, sizeof url, "sqlite:%s/no/such/dir/meta.db", tmpdir);
        ASSERT_TRUE(meta_open(url, err, &m) < 0);
        ASSERT_TRUE(strstr(err, "cannot open"));
        ASSERT_TRUE(meta_close(NULL) == NULL);
        ASSERT_TRUE(!meta_error_is_outage(-ENOENT) && !meta_error_is_outage(-EEXIST) &&
                    !meta_error_is_outage(-EINVAL) && !meta_error_is_outage(0));
        ASSERT_TRUE(meta_error_is_outage(-ECONNREFUSED) && meta_error_is_outage(-ETIMEDOUT) &&
                    meta_error_is_outage(-EIO));
        /* the sqlite file of one Meta is shared by a second one (another process) */
        snprintf(url, sizeof url, "sqlite:%s/shared.db", tmpdir);
        _cleanup_meta_close_ Meta *a = NULL, *b = NULL;
        ASSERT_OK(meta_open(url, err, &a));
        ASSERT_OK(meta_open(url, err, &b));
        ASSERT_OK(meta_config_set(a, "k", "v"));
        char **keys, **values;
        size_t n;
        ASSERT_OK(meta_config_get_all(b, &keys, &values, &n));
        ASSERT_INT(n, 1);
        meta_config_free(keys, values, n);
        fprintf(stderr, "urls ok\n");
}

/* What only a server has: it can be away. */
static void test_mongo_errors(void) {
        char url[URL_MAX], err[META_ERROR_MAX];
        Meta *m = NULL;
        backend = "mongodb";

        ASSERT_INT(meta_open("mongodb://[::1", err, &m), -EINVAL);
        ASSERT_TRUE(strstr(err, "invalid metadata url"));
        ASSERT_INT(meta_open("mongodb://127.0.0.1:notaport/x", err, &m), -EINVAL);
        ASSERT_TRUE(m == NULL);

        /* nobody listens: down at start is an outage, said without the password */
        int port;
        close(listen_loopback(&port)); /* a port nobody listens on now */
        snprintf(url, sizeof url, "mongodb://user:s3cretpw@127.0.0.1:%d/x?serverSelectionTimeoutMS=300",
                port);
        int r = meta_open(url, err, &m);
        ASSERT_TRUE(meta_error_is_outage(r));
        ASSERT_TRUE(m == NULL);
        ASSERT_TRUE(strstr(err, "cannot reach MongoDB at 127.0.0.1:"));
        ASSERT_TRUE(!strstr(err, "s3cretpw"));
        fprintf(stderr, "mongodb: errors ok (%s)\n", err);
}

/* The server goes away and comes back: calls say "down" (never "missing") meanwhile, and
 * work again afterwards on the same Meta. */
static void test_mongo_outage(void) {
        char url[URL_MAX], err[META_ERROR_MAX];
        _cleanup_meta_close_ Meta *m = NULL;
        backend = "mongodb";

        n_databases++;
        snprintf(url, sizeof url,
                "mongodb://127.0.0.1:%d/outage_%u?serverSelectionTimeoutMS=1000&connectTimeoutMS=1000",
                ferret.port, n_databases);
        ASSERT_OK(meta_open(url, err, &m));
        MetaKey k = make_key(1, T0), got;
        ASSERT_OK(meta_key_create(m, &k));
        MetaSession s = make_session(1, T0, T0 + 1000), sgot;
        ASSERT_OK(meta_session_create(m, &s));

        ferretdb_kill(&ferret, SIGKILL); /* a crash: what it committed stays */
        int r = meta_key_get(m, k.id, &got);
        ASSERT_TRUE(meta_error_is_outage(r));
        r = meta_session_get(m, s.id_hash, T0, &sgot);
        ASSERT_TRUE(meta_error_is_outage(r));
        MetaHistory h = make_history("key:k_1", 1, T0, 1);
        r = meta_history_add(m, &h);
        ASSERT_TRUE(meta_error_is_outage(r));
        r = meta_ping(m);
        ASSERT_TRUE(meta_error_is_outage(r));
        fprintf(stderr, "mongodb: down: %d (%s)\n", r, strerror(-r));

        ferretdb_start(&ferret);
        uint64_t deadline = now_usec(CLOCK_MONOTONIC) + 30 * USEC_PER_SEC;
        while ((r = meta_ping(m)) < 0) {
                ASSERT_TRUE(meta_error_is_outage(r));
                ASSERT_TRUE(now_usec(CLOCK_MONOTONIC) < deadline);
        }
        ASSERT_OK(meta_key_get(m, k.id, &got));
        assert_key_eq(&k, &got);
        ASSERT_OK(meta_session_get(m, s.id_hash, T0, &sgot));
        ASSERT_OK(meta_history_add(m, &h));
        fprintf(stderr, "mongodb: outage ok\n");
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) remove(path);
        return 0;
}

int main(void) {
        T0 = (int64_t) (now_usec(CLOCK_REALTIME) + 24 * 3600 * USEC_PER_SEC);
        snprintf(tmpdir, sizeof tmpdir, "/tmp/test-meta-XXXXXX");
        ASSERT_TRUE(mkdtemp(tmpdir));

        test_urls();
        run_contract("sqlite");

        char reason[PATH_MAX + 128];
        if (ferretdb_find(&ferret, reason, sizeof reason)) {
                ferretdb_start(&ferret);
                uint64_t t0 = now_usec(CLOCK_MONOTONIC);
                run_contract("mongodb");
                fprintf(stderr, "mongodb: contract on FerretDB %s: %.0f ms\n", FERRETDB_VERSION,
                        (double) (now_usec(CLOCK_MONOTONIC) - t0) / 1000.0);
                test_mongo_errors();
                test_mongo_outage();
                ferretdb_stop(&ferret);
        } else if (getenv("CODERUNNER_FERRETDB")) {
                fprintf(stderr, "%s\n", reason); /* asked for, and broken: a failure */
                abort();
        } else
                fprintf(stderr, "SKIP: the MongoDB backend (FerretDB): %s\n", reason);

        ASSERT_EQ(nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS), 0);
        return 0;
}
