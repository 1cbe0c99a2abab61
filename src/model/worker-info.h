/* SPDX-License-Identifier: MIT */
#pragma once

/* What a worker says about itself: its counters (WorkerStats) and the record it keeps in
 * the store's worker registry (WorkerInfo), from which API nodes learn which workers are
 * alive, how busy they are and which languages the cluster serves. Plain data. */

#include <stddef.h>
#include <stdint.h>

#include "model/status.h"
#include "model/submission.h"

/* Upper bounds (microseconds) of the judge-duration histogram's buckets; +Inf is extra. */
#define WORKER_DURATION_BUCKETS 12
extern const uint64_t worker_duration_bounds_usec[WORKER_DURATION_BUCKETS];

typedef struct WorkerStats {
        unsigned threads;
        unsigned busy;
        uint64_t judged; /* final results written */
        uint64_t by_status[_STATUS_MAX]; /* results written, by status */
        uint64_t failed; /* jobs that could not be judged at all */
        uint64_t run_usec_total; /* wall time spent judging */
        /* judge durations of the results written: [i] counts those <= bound i (cumulative,
         * as Prometheus has it); [WORKER_DURATION_BUCKETS] counts them all */
        uint64_t duration_buckets[WORKER_DURATION_BUCKETS + 1];
} WorkerStats;

/* Add b's counters into a (threads and busy too). */
void worker_stats_add(WorkerStats *a, const WorkerStats *b);

#define WORKER_ID_MAX 128

/* One language a worker serves: its catalogue id and its name with the installed
 * version ("C (GCC 12.2.0)"). */
typedef struct WorkerLanguage {
        int id;
        char *name;
} WorkerLanguage;

typedef struct WorkerInfo {
        char id[WORKER_ID_MAX]; /* unique in the cluster: "host:pid" unless configured */
        char *version; /* coderunner's */
        char *hostname;
        WorkerStats stats;
        WorkerLanguage *languages;
        size_t n_languages;
        int64_t started_at_usec; /* since the epoch */
        int64_t heartbeat_at_usec; /* since the epoch, by the store's clock */
} WorkerInfo;

void worker_info_done(WorkerInfo *w);
WorkerInfo *worker_info_list_free(WorkerInfo *list, size_t n);

/* The registry's text form of a WorkerInfo but its id and heartbeat (which the store
 * keeps in columns of their own): "key=value" lines, so that a new field needs no
 * migration; the languages as "lang=ID<TAB>NAME" lines, the counters as one
 * "stats=k=v k=v..." line. Unknown keys are skipped (a newer worker may say more).
 * worker_info_format(): *ret is the caller's (free()); -EINVAL when a string holds a
 * newline or a language name a tab. worker_info_parse(): fills *ret (id and heartbeat
 * untouched) only on success; -EBADMSG for malformed text. */
int worker_info_format(const WorkerInfo *w, char **ret);
int worker_info_parse(const char *text, WorkerInfo *ret);
int worker_stats_format(const WorkerStats *s, char **ret);
int worker_stats_parse(const char *text, WorkerStats *ret);
