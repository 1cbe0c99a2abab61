/* SPDX-License-Identifier: MIT */
#include "bench-util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "base/parse-util.h"

/* ---- time and messages ---- */

uint64_t bench_now_ns(void) {
        struct timespec ts;

        (void) clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * UINT64_C(1000000000) + (uint64_t) ts.tv_nsec;
}

void bench_set_msg(char *msg, size_t msgsz, const char *fmt, ...) {
        va_list ap;

        if (!msg || msgsz == 0)
                return;
        va_start(ap, fmt);
        (void) vsnprintf(msg, msgsz, fmt, ap);
        va_end(ap);
}

void bench_first_line(const char *s, char *out, size_t outsz) {
        size_t n;

        if (!s)
                s = "";
        while (*s == '\n' || *s == ' ' || *s == '\t' || *s == '\r')
                s++;
        n = strcspn(s, "\r\n");
        if (n >= outsz)
                n = outsz - 1;
        memcpy(out, s, n);
        out[n] = '\0';
}

void bench_describe_wait_status(int st, char *msg, size_t msgsz) {
        if (WIFEXITED(st))
                bench_set_msg(msg, msgsz, "exit status %d", WEXITSTATUS(st));
        else if (WIFSIGNALED(st))
                bench_set_msg(msg, msgsz, "killed by signal %d (%s)", WTERMSIG(st), strsignal(WTERMSIG(st)));
        else
                bench_set_msg(msg, msgsz, "wait status 0x%x", (unsigned) st);
}

/* ---- statistics ---- */

static int cmp_u64(const void *a, const void *b) {
        uint64_t x = *(const uint64_t *) a, y = *(const uint64_t *) b;

        return x < y ? -1 : x > y;
}

BenchStats bench_compute_stats(const uint64_t *samples, size_t n, double unit_per_ms) {
        BenchStats s = {.valid = false};
        _cleanup_free_ uint64_t *sorted = NULL;
        double sum = 0;

        if (n == 0 || !samples)
                return s;
        sorted = malloc(n * sizeof(uint64_t));
        if (!sorted)
                return s;
        memcpy(sorted, samples, n * sizeof(uint64_t));
        qsort(sorted, n, sizeof(uint64_t), cmp_u64);
        for (size_t i = 0; i < n; i++)
                sum += (double) sorted[i];

        size_t p90 = (n * 9 + 9) / 10; /* ceil(0.9 n), 1-based */
        s.valid = true;
        s.min_ms = (double) sorted[0] / unit_per_ms;
        s.median_ms = (n % 2 ? (double) sorted[n / 2]
                             : ((double) sorted[n / 2 - 1] + (double) sorted[n / 2]) / 2) /
                      unit_per_ms;
        s.p90_ms = (double) sorted[p90 - 1] / unit_per_ms;
        s.mean_ms = sum / (double) n / unit_per_ms;
        return s;
}

/* ---- the rounds ---- */

bool bench_tally_add(BenchTally *t, bool recorded, int r, const char *msg) {
        if (!recorded) {
                if (r != 0)
                        t->warmup_failures++;
                return false;
        }
        t->runs++;
        if (r != 0) {
                if (t->failures++ == 0)
                        (void) snprintf(t->first_failure, sizeof(t->first_failure), "%s", msg);
                return false;
        }
        return true;
}

void bench_interleave(unsigned warmup, unsigned rounds, const size_t *order, size_t n, BenchRunOneFn run_one,
        void *userdata) {
        if (n == 0)
                return;
        for (unsigned round = 0; round < warmup + rounds; round++) {
                bool recorded = round >= warmup;

                for (size_t k = 0; k < n; k++)
                        run_one(userdata, order[(round + k) % n], recorded);
        }
}

/* ---- the table ---- */

void bench_table_header(const BenchTable *t, const char *ratio_title) {
        printf("| %-*s | %5s | %8s | %8s | %9s | %8s | %*s |\n", t->title_width, "case", "runs", "failures",
                "min ms", "median ms", "p90 ms", t->ratio_width, ratio_title);
        printf("|");
        for (int i = 0; i < t->title_width + 2; i++)
                putchar('-');
        printf("|------:|---------:|---------:|----------:|---------:|");
        for (int i = 0; i < t->ratio_width + 1; i++)
                putchar('-');
        printf(":|\n");
}

void bench_table_row_unavailable(const BenchTable *t, const char *title) {
        printf("| %-*s | %5s | %8s | %8s | %9s | %8s | %*s |\n", t->title_width, title, "-", "-", "-",
                "unavail.", "-", t->ratio_width, "-");
}

void bench_table_row_no_samples(const BenchTable *t, const char *title, const BenchTally *tally) {
        printf("| %-*s | %5u | %8u | %8s | %9s | %8s | %*s |\n", t->title_width, title, tally->runs,
                tally->failures, "-", "-", "-", t->ratio_width, "-");
}

void bench_table_row(
        const BenchTable *t, const char *title, const BenchTally *tally, BenchStats s, const char *ratio) {
        if (tally)
                printf("| %-*s | %5u | %8u | %8.2f | %9.2f | %8.2f | %*s |\n", t->title_width, title,
                        tally->runs, tally->failures, s.min_ms, s.median_ms, s.p90_ms, t->ratio_width,
                        ratio);
        else
                printf("| %-*s | %5s | %8s | %8.2f | %9.2f | %8.2f | %*s |\n", t->title_width, title, "", "",
                        s.min_ms, s.median_ms, s.p90_ms, t->ratio_width, ratio);
}

void bench_format_ratio(char *buf, size_t size, BenchStats s, BenchStats base, int decimals) {
        if (s.valid && base.valid && base.median_ms > 0)
                (void) snprintf(buf, size, "%.*f", decimals, s.median_ms / base.median_ms);
        else
                (void) snprintf(buf, size, "-");
}

void bench_print_case_notes(const char *name, const char *reason, const BenchTally *t) {
        if (reason) {
                printf("unavailable: %s: %s\n", name, reason);
                return;
        }
        if (t->failures > 0)
                printf("failures: %s: %u of %u, first: %s\n", name, t->failures, t->runs, t->first_failure);
        if (t->warmup_failures > 0)
                printf("failures: %s: %u in warm-up\n", name, t->warmup_failures);
}

/* ---- JSON ---- */

void bench_json_stats(FILE *f, const char *prefix, BenchStats s) {
        if (!s.valid) {
                fprintf(f,
                        "\"%smin_ms\": null, \"%smedian_ms\": null, \"%sp90_ms\": null, \"%smean_ms\": null",
                        prefix, prefix, prefix, prefix);
                return;
        }
        fprintf(f, "\"%smin_ms\": %.4f, \"%smedian_ms\": %.4f, \"%sp90_ms\": %.4f, \"%smean_ms\": %.4f",
                prefix, s.min_ms, prefix, s.median_ms, prefix, s.p90_ms, prefix, s.mean_ms);
}

void bench_json_tally(FILE *f, const BenchTally *t) {
        fprintf(f, "\"runs\": %u, \"failures\": %u, \"warmup_failures\": %u", t->runs, t->failures,
                t->warmup_failures);
}

void bench_json_samples_us(FILE *f, const uint64_t *samples_ns, size_t n) {
        fputs("\"samples_us\": [", f);
        for (size_t k = 0; k < n; k++)
                fprintf(f, "%s%.1f", k ? ", " : "", (double) samples_ns[k] / 1e3);
        fputs("]", f);
}

int bench_json_close(FILE *f) {
        if (ferror(f)) {
                (void) fclose(f);
                return -EIO;
        }
        if (fclose(f) != 0)
                return -errno;
        return 0;
}

/* ---- command line ---- */

int bench_parse_rounds(const char *prog, const char *flag, const char *arg, unsigned min, unsigned *ret) {
        uint64_t v;
        int r;

        r = parse_u64_max(arg, BENCH_MAX_ROUNDS, &v);
        if (r < 0 || v < min) {
                fprintf(stderr, "%s: --%s: expected a number in [%u, %d], got '%s'\n", prog, flag, min,
                        BENCH_MAX_ROUNDS, arg);
                return -EINVAL;
        }
        *ret = (unsigned) v;
        return 0;
}

int bench_select_cases(
        const char *prog, const char *list, const char *const *names, bool *selected, size_t n) {
        for (size_t i = 0; i < n; i++)
                selected[i] = false;

        while (*list) {
                size_t len = strcspn(list, ",");
                bool found = false;

                for (size_t i = 0; i < n; i++)
                        if (strlen(names[i]) == len && strncmp(names[i], list, len) == 0) {
                                selected[i] = true;
                                found = true;
                        }
                if (!found) {
                        fprintf(stderr, "%s: unknown case '%.*s'\n", prog, (int) len, list);
                        return -EINVAL;
                }
                list += len;
                if (*list == ',')
                        list++;
        }
        return 0;
}
