/* SPDX-License-Identifier: MIT */
#pragma once

/* The gateway's metadata store: API keys, user accounts, browser sessions, the
 * submission history of each owner, and the client configuration. One interface, two
 * backends, as store/ does it:
 *   - MongoDB ("mongodb://..."; libmongoc, included in this module only): collections
 *     keys, users, sessions, history, client_config; the indexes are created by
 *     meta_open() (unique key hash, unique user name, a TTL index on sessions'
 *     expires_at, history by owner and creation time, unique history token);
 *   - SQLite ("sqlite:PATH", "sqlite::memory:"), for small installs: the same records in
 *     tables created by meta_open().
 * One contract suite (tests/unit/test-meta-meta.c) runs on both.
 *
 * Secrets are never stored: a key is kept as the hex SHA-256 of its text, a session as
 * the hex SHA-256 of its random part, a password as an argon2id string (secure/).
 *
 * Thread safety: a Meta may be shared by threads (calls are serialized or pooled).
 * Errors are negative errno values: -ENOENT (no such record), -EEXIST (a unique value
 * taken), -EINVAL (a bad argument), -ECONNREFUSED/-ETIMEDOUT/-EIO (the server is down or
 * failed: meta_error_is_outage() says which errors mean "down"), -ENOMEM. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"

typedef struct Meta Meta;

#define META_ERROR_MAX 512
/* ids, owners, hashes: at most 79 bytes + NUL (a hex SHA-256 is 64, an owner
 * "session:<hex SHA-256>" 72) */
#define META_ID_MAX 80
#define META_NAME_MAX 128
#define META_HASH_MAX 160 /* argon2id strings */
#define META_MAX_LANGUAGES 64
#define META_CONFIG_VALUE_MAX 4096
#define META_CURSOR_MAX 104 /* a history cursor: the position (created_at, token) + NUL */
#define META_LIST_MAX 1000 /* the most records one history list or pending call returns */
#define META_BYTES_MAX (4u << 20) /* a history record's source_code, and its stdin_data */

/* Scopes of a key (bits). */
enum {
        META_SCOPE_SUBMIT = 1u << 0,
        META_SCOPE_READ = 1u << 1,
        META_SCOPE_ADMIN = 1u << 2,
};

/* An API key. Zero in a ceiling or quota means "none" (no limit of its own). */
typedef struct MetaKey {
        char id[META_ID_MAX]; /* public id, e.g. "k_3f9a..." (shown in lists and logs) */
        char name[META_NAME_MAX];
        char hash[META_ID_MAX]; /* hex SHA-256 of the key's text */
        uint32_t scopes;
        double rate; /* requests per second (GCRA); 0 = the gateway's default */
        uint32_t burst; /* 0 = the gateway's default */
        uint32_t quota_day; /* submissions per UTC day */
        double cpu_seconds_day; /* CPU seconds per UTC day */
        uint32_t concurrent; /* submissions not yet finished */
        /* ceilings: languages allowed (n_languages 0 = all), and maxima of limits */
        int languages[META_MAX_LANGUAGES];
        size_t n_languages;
        double max_cpu_time_limit; /* s */
        double max_wall_time_limit; /* s */
        uint64_t max_memory_limit; /* KB */
        int64_t created_at; /* µs since the epoch */
        int64_t revoked_at; /* 0 = live */
} MetaKey;

typedef struct MetaUser {
        char id[META_ID_MAX];
        char name[META_NAME_MAX];
        char password_hash[META_HASH_MAX];
        int64_t created_at;
} MetaUser;

typedef struct MetaSession {
        char id_hash[META_ID_MAX]; /* hex SHA-256 of the session's random part */
        char user_id[META_ID_MAX]; /* "" = anonymous */
        int64_t created_at;
        int64_t expires_at; /* µs; the store drops it after this (TTL index / sweep) */
} MetaSession;

/* One submission in its owner's history. Byte fields are malloc'd (NULL = none) and owned
 * by the record: meta_history_done() frees them. */
typedef struct MetaHistory {
        char token[META_ID_MAX];
        char owner[META_ID_MAX]; /* "key:<id>", "user:<id>" or "session:<id_hash>" */
        int language_id;
        int status_id; /* 1 In Queue .. 14; updated by meta_history_update() */
        double time; /* s; < 0 = unknown */
        int64_t memory; /* KB; < 0 = unknown */
        int64_t created_at; /* µs */
        int64_t finished_at; /* µs; 0 = not yet */
        char *source_code; /* as sent, decoded from base64 when it was */
        size_t source_len;
        char *stdin_data;
        size_t stdin_len;
} MetaHistory;
void meta_history_done(MetaHistory *h);

/* Open and create the schema/indexes. url as above. errbuf: NULL or META_ERROR_MAX
 * bytes. -EINVAL (url), -ECONNREFUSED, -ETIMEDOUT... *ret: meta_close(). A MongoDB
 * server that is down at start is an error here (the gateway retries). */
int meta_open(const char *url, char *errbuf, Meta **ret);
Meta *meta_close(Meta *m);
static inline void meta_closep(Meta **m) {
        meta_close(*m);
}
#define _cleanup_meta_close_ _cleanup_(meta_closep)
const char *meta_backend(const Meta *m); /* "mongodb" or "sqlite" */
/* A round trip to the server: 0 when it answers. */
int meta_ping(Meta *m);
/* Whether r means the server is unreachable (as opposed to a missing record). */
bool meta_error_is_outage(int r);

/* Keys. create: -EEXIST when the id or hash exists. get_by_hash: revoked keys are
 * returned too (the caller checks revoked_at). list: every key, oldest first, malloc'd
 * array in *ret (free()). revoke: -ENOENT when no key has this id; revoking twice is 0. */
int meta_key_create(Meta *m, const MetaKey *k);
int meta_key_get_by_hash(Meta *m, const char *hash, MetaKey *ret);
int meta_key_get(Meta *m, const char *id, MetaKey *ret);
int meta_key_list(Meta *m, MetaKey **ret, size_t *ret_n);
int meta_key_revoke(Meta *m, const char *id, int64_t now);

/* Users. create: -EEXIST when the name is taken. */
int meta_user_create(Meta *m, const MetaUser *u);
int meta_user_get_by_name(Meta *m, const char *name, MetaUser *ret);
int meta_user_get(Meta *m, const char *id, MetaUser *ret);

/* Sessions. get: -ENOENT when missing or expired (expires_at <= now). set_user: attach
 * a user to a session (log in) or detach ("" : log out). delete: 0 even when missing. */
int meta_session_create(Meta *m, const MetaSession *s);
int meta_session_get(Meta *m, const char *id_hash, int64_t now, MetaSession *ret);
int meta_session_set_user(Meta *m, const char *id_hash, const char *user_id);
int meta_session_delete(Meta *m, const char *id_hash);

/* History. add: -EEXIST when the token is known. get: the record of a token (any owner;
 * the caller compares owners). list: owner's records, newest first (by created_at, then
 * token), at most limit (1..META_LIST_MAX), starting after the cursor (NULL/"" = from the
 * newest; the cursor is what the previous page's ret_next_cursor gave, opaque to the
 * caller, at most META_CURSOR_MAX bytes; a malformed one is -EINVAL). *ret_next_cursor is
 * "" when this was the last page. The array is malloc'd: meta_history_list_free().
 * update: status and result of a token, only if the stored status is 1 or 2: returns 1
 * when this call changed it, 0 when it was changed already (so that of several gateways
 * exactly one counts a result), -ENOENT for an unknown token; status_id 0 means
 * "finished, result unknown" (the submission is gone from the API nodes). pending: up to
 * max (1..META_LIST_MAX) tokens of any owner whose status is 1 or 2, oldest first (the
 * gateway polls their results). delete: -ENOENT when owner has no such token.
 * count_unfinished: owner's records with status 1 or 2. Over-long strings are refused
 * (-EINVAL), never cut; source_len or stdin_len over META_BYTES_MAX is -E2BIG. */
int meta_history_add(Meta *m, const MetaHistory *h);
int meta_history_get(Meta *m, const char *token, MetaHistory *ret);
int meta_history_list(Meta *m, const char *owner, size_t limit, const char *cursor, MetaHistory **ret,
        size_t *ret_n, char ret_next_cursor[META_CURSOR_MAX]);
MetaHistory *meta_history_list_free(MetaHistory *list, size_t n);
int meta_history_update(
        Meta *m, const char *token, int status_id, double time, int64_t memory, int64_t finished_at);
int meta_history_pending(Meta *m, size_t max, char (**ret_tokens)[META_ID_MAX], size_t *ret_n);
int meta_history_delete(Meta *m, const char *owner, const char *token);
int meta_history_count_unfinished(Meta *m, const char *owner, uint64_t *ret);

/* Share links of the IDE (short links: the gateway keeps the link's text under a short
 * id). data: printable ASCII without spaces (the IDE's compressed fragment), 1 to
 * META_SHARE_MAX bytes; the gateway makes the id. create: -EEXIST when the id is taken.
 * get: -ENOENT when missing; ret->data is malloc'd: meta_share_done(). */
#define META_SHARE_MAX (64u * 1024)
typedef struct MetaShare {
        char id[META_ID_MAX];
        char owner[META_ID_MAX]; /* who made it, as in MetaHistory */
        char *data;
        int64_t created_at; /* µs */
} MetaShare;
void meta_share_done(MetaShare *s);
int meta_share_create(Meta *m, const MetaShare *s);
int meta_share_get(Meta *m, const char *id, MetaShare *ret);

/* Client configuration: string keys and values (the gateway validates keys and values).
 * get_all: malloc'd parallel arrays of malloc'd strings, sorted by key:
 * meta_config_free(). unset: 0 even when missing. */
int meta_config_set(Meta *m, const char *key, const char *value);
int meta_config_unset(Meta *m, const char *key);
int meta_config_get_all(Meta *m, char ***ret_keys, char ***ret_values, size_t *ret_n);
void meta_config_free(char **keys, char **values, size_t n);
