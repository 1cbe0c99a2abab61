/* SPDX-License-Identifier: MIT */
#pragma once

/* The submission store: where submissions and their results live. One interface, two
 * backends:
 *   - SQLite, embedded (the default of `coderunner serve`): one file, WAL journal,
 *     synchronous=NORMAL, busy timeout, prepared statements;
 *   - PostgreSQL, shared by the API nodes and the workers of a cluster: libpq,
 *     parameterized queries with binary parameters and results, bytea blobs.
 * Both keep every Bytes field as plain bytes (NUL and invalid UTF-8 included, NULL apart
 * from empty), never base64. The schema is versioned: store_open() applies the missing
 * migrations, each in a transaction, under a lock that serializes concurrent openers.
 *
 * The state machine of a submission's status_id, as the store enforces it:
 *     create -> 1 In Queue --claim--> 2 Processing --finish--> 3..14 (final, immutable)
 *                  \_____________________finish_________________/
 * Every transition is one conditional UPDATE: no read-modify-write, so many API nodes and
 * workers may share one PostgreSQL database. Delivery of jobs is at least once; claim
 * refuses a final submission and the first final result wins.
 *
 * Thread safety: a Store is one database connection behind a mutex. It may be shared by
 * threads (calls are serialized); open one Store per thread for parallelism. Never use a
 * Store in a child process after fork().
 *
 * Errors are negative errno values. Besides the per-function ones below, any call may
 * return -ENOMEM, -EIO (a database error with no closer errno), -EAGAIN (locked or a
 * serialization failure: retry), -ECONNRESET/-ENOTCONN (PostgreSQL connection lost: the
 * next call reconnects), -ENOSPC, -EROFS, -EACCES, -EBADMSG (a stored value that does
 * not fit its C type: a damaged database). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/macro.h"
#include "model/submission.h"
#include "model/worker-info.h"

typedef struct Store Store;

/* status_id 0..14 index store_count_by_status()'s array (0 stays 0). */
#define STORE_STATUS_SLOTS 15

/* Room for the one-line reason store_open() gives on failure. */
#define STORE_ERROR_MAX 512

/* Open a store and bring its schema up to date.
 * url: "sqlite:PATH", "sqlite://PATH" or a bare PATH (SQLite; the file is created when
 * missing; "sqlite::memory:" is a private in-memory database), or
 * "postgres://user:password@host:port/db?options" ("postgresql://" too; libpq's URI
 * syntax and environment variables apply).
 * errbuf: NULL, or STORE_ERROR_MAX bytes that receive a one-line reason on failure (the
 * backend's own message: "connection refused", "syntax error in migration 2"...).
 * Errors: -EINVAL (malformed url), -EPROTONOSUPPORT (the database's schema is newer than
 * this program: it was written by a newer coderunner), -ECONNREFUSED, -EACCES, -ENOENT,
 * and the general ones above.
 * On success *ret is the caller's, to be released with store_close(). */
int store_open(const char *url, char *errbuf, Store **ret);

/* Close the connection and free everything. Accepts NULL; returns NULL. */
Store *store_close(Store *s);
static inline void store_closep(Store **s) {
        store_close(*s);
}
#define _cleanup_store_close_ _cleanup_(store_closep)

/* "sqlite" or "postgres". */
const char *store_backend(const Store *s);

/* Check that the database answers (PostgreSQL: reconnects when the connection was lost). */
int store_ping(Store *s);

/* Store a new submission: sub's token and input fields (source_code ... enable_network,
 * compare, tolerance, stop_on_failure) and each test's stdin_data and expected_output.
 * Every result field starts as null, status_id as 1 In Queue (the submission's and each
 * test's), attempts as 0, created_at as now (PostgreSQL: the database server's clock).
 * sub stays the caller's.
 * Errors: -EEXIST (the token is taken), -EINVAL (the token is not a lowercase UUID, a
 * Bytes with NULL data and a length, a tolerance that is not finite, tests NULL with
 * n_tests > 0), -ERANGE (a uint32_t above INT32_MAX or a uint64_t above INT64_MAX). */
int store_create(Store *s, const Submission *sub);

/* Read a submission, every field, with its tests in their order. A purged submission
 * (store_purge()) reads as its tombstone: purged_at_usec >= 0, no inputs, outputs nor tests
 * (purged_at_usec is -1 otherwise).
 * On success *ret is overwritten (not freed first) and is the caller's, to be released with
 * submission_done(). Errors: -ENOENT (no such token, or not a token at all). */
int store_get(Store *s, const char *token, Submission *ret);

/* One page of all submissions, newest first (created_at, then creation order), with their
 * tests: Judge0's GET /submissions. Page numbers start at 1; page p holds the submissions
 * at offsets [(p-1)*per_page, p*per_page). A page past the end is empty (not an error).
 * per_page 0 gives no submissions, only the total. The page and the total are read from
 * one snapshot. The caller should bound per_page: every submission of the page is held in
 * memory at once.
 * On success *ret (NULL when empty) and *ret_n are the caller's: store_list_free(); and
 * *ret_total is the number of all submissions. Errors: -EINVAL (page 0). */
int store_list(
        Store *s, uint64_t page, uint32_t per_page, Submission **ret, size_t *ret_n, uint64_t *ret_total);
/* Free what store_list() returned. Accepts NULL; returns NULL. */
Submission *store_list_free(Submission *list, size_t n);

/* Delete a submission and its tests, or a purged submission's tombstone. Errors: -ENOENT;
 * -EBUSY while it is In Queue or Processing (Judge0 refuses those). */
int store_delete(Store *s, const char *token);

/* A worker takes the submission: status 1 -> 2, or 2 -> 2 for a job delivered again after
 * a crash, and attempts + 1, in one statement. On success *ret_attempts (may be NULL) is
 * the new attempts count: the caller dead-letters the job when it is too high.
 * Errors: -ENOENT; -EALREADY when it is final (the job was delivered twice: do not judge
 * it again, acknowledge it). */
int store_claim(Store *s, const char *token, uint32_t *ret_attempts);

/* Store the result of result->token, only if it is not final yet (first final result
 * wins): status_id (3..14), stdout_data, stderr_data, compile_output, message, time_usec,
 * wall_time_usec, memory_kib, exit_code, exit_signal, memory_limit_exceeded, finished_at =
 * now, and the results of tests[0..n_tests) (status_id, stdout_data, stderr_data, message,
 * times, memory, exit_code, exit_signal, memory_limit_exceeded; n_tests may be below the
 * stored count, e.g. 0 for an internal error, leaving the others as they were). Input
 * fields and attempts are not touched. result stays the caller's.
 * Returns 0 when written; -EALREADY when the submission was already final (someone else
 * finished it: nothing was written); -ENOENT; -EINVAL (status_id not final, more tests
 * than stored, or a malformed field as for store_create()). */
int store_finish(Store *s, const Submission *result);

/* The tokens of submissions still In Queue or Processing, oldest first: what a restarted
 * embedded service queues again. On success *ret_tokens (NULL when none; free()) and
 * *ret_n are the caller's. */
int store_unfinished(Store *s, char (**ret_tokens)[SUBMISSION_TOKEN_LEN + 1], size_t *ret_n);

/* How many submissions have each status: ret_counts[status_id]. Written only on success. */
int store_count_by_status(Store *s, uint64_t ret_counts[STORE_STATUS_SLOTS]);

/* Retention: what store_purge() removes. Off when both are 0 (Judge0 keeps everything). */
typedef struct StoreRetention {
        uint64_t max_age_usec; /* purge what finished longer ago than this; 0 = no limit by age */
        /* purge the oldest finished until the inputs and outputs of the submissions not purged
         * add up to at most this many bytes; 0 = no limit by size */
        uint64_t max_bytes;
} StoreRetention;

/* One step of the retention policy: purge at most max_rows final submissions (the oldest
 * finished first) that the policy no longer keeps, in one transaction, then give the freed
 * space back (SQLite: incremental vacuum of a database created with auto_vacuum; otherwise
 * the freed pages are reused by later writes). Purging deletes the submission and its
 * tests and keeps a tombstone of a few bytes: store_get() then answers with the token,
 * status_id, language_id, created_at, finished_at and purged_at_usec, and nothing else;
 * store_delete() deletes the tombstone; store_list(), the counts and store_statistics() no
 * longer see it; store_claim() and store_finish() answer -ENOENT. In Queue and Processing
 * are never purged. Call it again while it purges max_rows: the Store's mutex is held for
 * one step only, so requests interleave.
 * On success *ret_purged is how many it purged and *ret_freed_bytes their inputs' and
 * outputs' size. Errors: -EINVAL (max_rows 0 or above INT32_MAX, policy NULL). */
int store_purge(Store *s, const StoreRetention *policy, size_t max_rows, uint64_t *ret_purged,
        uint64_t *ret_freed_bytes);

/* The size of the inputs and outputs of the submissions (not purged): what
 * StoreRetention.max_bytes bounds. */
int store_live_bytes(Store *s, uint64_t *ret_bytes);

/* Whether the store takes writes: what the last write (create, claim, finish, delete,
 * purge, or the probe below) reported. A failure of the database or its disk (ENOSPC,
 * EDQUOT, EROFS, EIO, EBADMSG, EACCES, ECONNRESET, ENOTCONN, ECONNREFUSED) marks the store
 * failing; the next write that succeeds clears it. A bad request (EINVAL, EEXIST, ENOENT,
 * EALREADY, EBUSY...) or a busy database (EAGAIN) says nothing about it. */
typedef struct StoreHealth {
        int error; /* 0: taking writes; else the -errno of the write that failed */
        uint64_t since_usec; /* CLOCK_MONOTONIC: when it started failing (0 when not) */
        uint64_t failed_writes; /* writes failed for such a reason since store_open() */
} StoreHealth;

/* Room the probe wants free on the SQLite database's file system. */
#define STORE_PROBE_MIN_FREE (4u << 20)
/* The size of the probe's write. */
#define STORE_PROBE_BYTES (16u << 10)

/* Is the store failing? When it is and probe is true, first try a write of
 * STORE_PROBE_BYTES (and, SQLite, check that STORE_PROBE_MIN_FREE bytes are free on its file
 * system: a disk with a few pages left takes the probe but not the next result), so that
 * the state recovers by itself when space returns, with no other write to clear it. A
 * caller polling this (GET /health) should probe at most every second or so.
 * Returns 0 with *ret written; never fails otherwise. */
int store_health(Store *s, bool probe, StoreHealth *ret);

/* Whether r, returned by a store call, says the store is failing (see StoreHealth). */
bool store_error_is_failure(int r);

/* GET /statistics: the counts of all submissions. */
#define STORE_STATISTICS_DAYS 31
#define STORE_DAY_USEC INT64_C(86400000000)

/* A count of the submissions that share a key (a language_id). */
typedef struct StoreCount {
        int64_t key;
        uint64_t count;
} StoreCount;

typedef struct StoreStatistics {
        uint64_t total;
        uint64_t by_status[STORE_STATUS_SLOTS]; /* by status_id, as store_count_by_status() */
        /* by_day[i]: created in [since + i days, since + i + 1 days) */
        uint64_t by_day[STORE_STATISTICS_DAYS];
        StoreCount *by_language; /* key = language_id; most counted first, then by id */
        size_t n_by_language;
        uint64_t size_bytes; /* of the database (SQLite: the main file; PostgreSQL: the database) */
} StoreStatistics;

/* Count all submissions: in total, by status, by language, by day of creation for the
 * STORE_STATISTICS_DAYS days from since_usec (microseconds since the Unix epoch, >= 0;
 * usually the start of a UTC day), and the size of the database. The counts are read one
 * after the other, not from one snapshot: a submission created meanwhile may show in some
 * and not others.
 * On success *ret is overwritten and is the caller's: store_statistics_done().
 * Errors: -EINVAL (since_usec negative). */
int store_statistics(Store *s, int64_t since_usec, StoreStatistics *ret);
/* Free the contents of st (and zero it). Accepts NULL. */
void store_statistics_done(StoreStatistics *st);

/* ---- the worker registry ---- */

/* Write (or replace) worker id's record, with heartbeat = now (PostgreSQL: the database
 * server's clock). info: worker_info_format()'s text. Errors: -EINVAL (an empty id or one
 * longer than WORKER_ID_MAX - 1). */
int store_worker_beat(Store *s, const char *id, const char *info);
/* Remove worker id's record (it stopped). Errors: -ENOENT. */
int store_worker_remove(Store *s, const char *id);
/* The workers whose heartbeat is at most max_age_usec old, by id; records that do not
 * parse are skipped. On success *ret (NULL when none) and *ret_n are the caller's:
 * worker_info_list_free(). */
int store_workers(Store *s, uint64_t max_age_usec, WorkerInfo **ret, size_t *ret_n);
