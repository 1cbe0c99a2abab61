/* SPDX-License-Identifier: MIT */
#pragma once

/* What bench-box and bench-judge share: timing, messages, statistics, the interleaved rounds,
 * the result table, the JSON pieces and the command line's common flags. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/macro.h"

#define BENCH_MAX_ROUNDS 100000
#define BENCH_REASON_MAX 256

/* ---- time and messages ---- */

uint64_t bench_now_ns(void);

/* vsnprintf into msg; nothing when msg is NULL or msgsz 0. */
_printf_(3, 4) void bench_set_msg(char *msg, size_t msgsz, const char *fmt, ...);

/* First non-empty line of s (NULL = ""), trimmed, into out. */
void bench_first_line(const char *s, char *out, size_t outsz);

/* "exit status N", "killed by signal N (name)" or "wait status 0x..". */
void bench_describe_wait_status(int st, char *msg, size_t msgsz);

/* ---- statistics ---- */

typedef struct BenchStats {
        bool valid;
        double min_ms, median_ms, p90_ms, mean_ms;
} BenchStats;

/* Of n samples in units of which unit_per_ms make a millisecond (1e6 for ns, 1e3 for us).
 * Median: mean of the two middle values for an even count. p90: nearest rank. Not valid
 * when there is no sample (or no memory). */
BenchStats bench_compute_stats(const uint64_t *samples, size_t n, double unit_per_ms);

/* ---- the rounds ---- */

/* What the recorded runs of one case came to. */
typedef struct BenchTally {
        unsigned runs; /* recorded runs attempted */
        unsigned failures;
        unsigned warmup_failures;
        char first_failure[BENCH_REASON_MAX];
} BenchTally;

/* Count one run that returned r (0: success, else msg says why). True when it succeeded in
 * a recorded round, that is when its sample is to be stored. */
bool bench_tally_add(BenchTally *t, bool recorded, int r, const char *msg);

/* warmup + rounds rounds over the n cases order[]: round r runs every case once, starting at
 * order[r mod n], so that drift and background noise hit every case alike. run_one gets the
 * case's index and whether the round is recorded (false: warm-up). */
typedef void (*BenchRunOneFn)(void *userdata, size_t index, bool recorded);
void bench_interleave(unsigned warmup, unsigned rounds, const size_t *order, size_t n, BenchRunOneFn run_one,
        void *userdata);

/* ---- the table ---- */

/* The widths of the case-title and the ratio columns. */
typedef struct BenchTable {
        int title_width;
        int ratio_width;
} BenchTable;

void bench_table_header(const BenchTable *t, const char *ratio_title);
void bench_table_row_unavailable(const BenchTable *t, const char *title);
void bench_table_row_no_samples(const BenchTable *t, const char *title, const BenchTally *tally);
/* tally NULL: a row without runs and failures (a part of the case above). */
void bench_table_row(
        const BenchTable *t, const char *title, const BenchTally *tally, BenchStats s, const char *ratio);

/* s's median over base's with the given decimals into buf, or "-" when there is none. */
void bench_format_ratio(char *buf, size_t size, BenchStats s, BenchStats base, int decimals);

/* The "unavailable:" (reason non-NULL) and "failures:" lines of a case. */
void bench_print_case_notes(const char *name, const char *reason, const BenchTally *t);

/* ---- JSON ---- */

/* "<prefix>min_ms": .., "<prefix>median_ms": .., "<prefix>p90_ms": .., "<prefix>mean_ms": .. */
void bench_json_stats(FILE *f, const char *prefix, BenchStats s);
/* "runs": .., "failures": .., "warmup_failures": .. */
void bench_json_tally(FILE *f, const BenchTally *t);
/* "samples_us": [..] */
void bench_json_samples_us(FILE *f, const uint64_t *samples_ns, size_t n);
/* Closes f: 0, or -EIO/-errno when anything could not be written. */
int bench_json_close(FILE *f);

/* ---- command line ---- */

/* --warmup=N or --rounds=N (min 0 or 1): 0, or -EINVAL with the complaint on stderr. */
int bench_parse_rounds(const char *prog, const char *flag, const char *arg, unsigned min, unsigned *ret);

/* --cases=LIST against the n names: selected[i] set for each named, cleared for the rest;
 * -EINVAL with the complaint on stderr for an unknown name. */
int bench_select_cases(
        const char *prog, const char *list, const char *const *names, bool *selected, size_t n);
