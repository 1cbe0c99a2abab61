/* SPDX-License-Identifier: MIT */
#pragma once

/* What the metadata store's dispatch (meta.c) shares with its backends (meta-sqlite.c,
 * meta-mongo.c) and with the contract tests. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meta/meta.h"

#define META_UNKNOWN_RESULT 0 /* finished, result unknown (meta_history_update()) */
#define META_IN_QUEUE 1
#define META_PROCESSING 2
#define META_FIRST_FINAL 3
#define META_LAST_FINAL 14

/* Where a history page starts: after the record (created_at, token), in the order newest
 * first (created_at, then token, both descending). */
typedef struct MetaPosition {
        int64_t created_at;
        char token[META_ID_MAX];
} MetaPosition;

/* A backend. Each defines its own struct MetaBackend; meta.c validates every argument
 * before a call gets here (strings are NUL-terminated within their sizes and well-formed,
 * numbers in range, limits within META_LIST_MAX), and holds the Meta's mutex around the
 * call when the backend's ops say serialize. Errors are -errno as meta.h lists them. */
typedef struct MetaBackend MetaBackend;

typedef struct MetaOps {
        const char *name;
        /* true: one connection, calls serialized by meta.c; false: the backend pools. */
        bool serialize;

        /* target: the url without "sqlite:" (SQLite) or the whole url (MongoDB). Creates the
         * schema and indexes. errbuf: NULL or META_ERROR_MAX bytes. */
        int (*connect)(const char *target, char *errbuf, MetaBackend **ret);
        MetaBackend *(*disconnect)(MetaBackend *b);
        int (*ping)(MetaBackend *b);

        int (*key_create)(MetaBackend *b, const MetaKey *k);
        /* by_hash: look value up as the key's hash, else as its id. */
        int (*key_get)(MetaBackend *b, bool by_hash, const char *value, MetaKey *ret);
        int (*key_list)(MetaBackend *b, MetaKey **ret, size_t *ret_n);
        int (*key_revoke)(MetaBackend *b, const char *id, int64_t now);

        int (*user_create)(MetaBackend *b, const MetaUser *u);
        /* by_name: look value up as the user's name, else as its id. */
        int (*user_get)(MetaBackend *b, bool by_name, const char *value, MetaUser *ret);

        int (*session_create)(MetaBackend *b, const MetaSession *s);
        int (*session_get)(MetaBackend *b, const char *id_hash, int64_t now, MetaSession *ret);
        int (*session_set_user)(MetaBackend *b, const char *id_hash, const char *user_id);
        int (*session_delete)(MetaBackend *b, const char *id_hash);
        /* Delete the sessions with expires_at <= now; how many in *ret_n. */
        int (*session_sweep)(MetaBackend *b, int64_t now, uint64_t *ret_n);

        int (*history_add)(MetaBackend *b, const MetaHistory *h);
        int (*history_get)(MetaBackend *b, const char *token, MetaHistory *ret);
        /* Up to limit records of owner, newest first, after *after (NULL: from the newest). */
        int (*history_list)(MetaBackend *b, const char *owner, size_t limit, const MetaPosition *after,
                MetaHistory **ret, size_t *ret_n);
        /* 1: changed, 0: final already, -ENOENT: no such token. */
        int (*history_update)(MetaBackend *b, const char *token, int status_id, double time, int64_t memory,
                int64_t finished_at);
        int (*history_pending)(MetaBackend *b, size_t max, char (**ret_tokens)[META_ID_MAX], size_t *ret_n);
        int (*history_delete)(MetaBackend *b, const char *owner, const char *token);
        int (*history_count_unfinished)(MetaBackend *b, const char *owner, uint64_t *ret);

        int (*share_create)(MetaBackend *b, const MetaShare *s);
        int (*share_get)(MetaBackend *b, const char *id, MetaShare *ret);

        int (*config_set)(MetaBackend *b, const char *key, const char *value);
        int (*config_unset)(MetaBackend *b, const char *key);
        /* Sorted by key (bytewise). */
        int (*config_get_all)(MetaBackend *b, char ***ret_keys, char ***ret_values, size_t *ret_n);
} MetaOps;

extern const MetaOps meta_sqlite_ops;
extern const MetaOps meta_mongo_ops;

/* Write a one-line reason into errbuf (META_ERROR_MAX bytes, or NULL: nothing). */
void meta_set_error(char *errbuf, const char *fmt, ...) _printf_(2, 3);
/* Copy a string that meta.c validated (shorter than size) into a field. */
void meta_copy(char *dst, size_t size, const char *src);
/* A malloc'd, NUL-terminated copy of len bytes of data. */
int meta_dup_bytes(const void *data, size_t len, char **ret);
/* Append one element of size bytes to a growing array (doubling); *ret: the new slot,
 * zeroed. */
int meta_array_grow(void **array, size_t *n, size_t size, void **ret);

/* The rows of config_get_all(), grown one (key, value) at a time (both copied). */
typedef struct MetaConfigRows {
        char **keys, **values;
        size_t n;
} MetaConfigRows;
int meta_config_rows_append(MetaConfigRows *rows, const char *key, const char *value);
void meta_config_rows_done(MetaConfigRows *rows);

/* For the tests: delete the expired sessions now (meta.c also does it on its own, at
 * most once a minute, from meta_session_create()). */
int meta_session_sweep(Meta *m, int64_t now, uint64_t *ret_n);
