/* SPDX-License-Identifier: MIT */
/* The queue's cost per job: one push, one claim and one ack, on the in-process queue and on
 * Redis Streams (a redis-server given by url), in interleaved rounds; medians and the ratio.
 * Not a test: it prints numbers.
 *
 *     bench-queue redis://127.0.0.1:6379 [--rounds=N] [--warmup=N]
 *
 * It uses the stream "bench-queue" (and its :leases and :dead keys) of that server. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "queue/queue.h"

#define TOKEN "11111111-1111-4111-8111-111111111111"
#define LEASE_USEC (30 * UINT64_C(1000000))

typedef struct Case {
        const char *title;
        Queue *q;
        BenchTally tally;
        uint64_t *samples;
        size_t n;
} Case;

static void run_one(void *userdata, size_t index, bool recorded) {
        Case *c = &((Case *) userdata)[index];
        const char *const tokens[] = {TOKEN};
        QueueJob job;
        char msg[BENCH_REASON_MAX] = "";
        uint64_t t0 = bench_now_ns();
        int r = queue_push(c->q, tokens, 1, false);
        if (r == 0)
                r = queue_claim(c->q, LEASE_USEC, 0, &job);
        if (r == 0)
                r = queue_ack(c->q, &job);
        uint64_t t1 = bench_now_ns();
        if (r < 0)
                bench_set_msg(msg, sizeof msg, "%s", strerror(-r));
        if (bench_tally_add(&c->tally, recorded, r, msg))
                c->samples[c->n++] = t1 - t0;
}

int main(int argc, char **argv) {
        unsigned rounds = 2000, warmup = 200;
        const char *url = NULL;
        for (int i = 1; i < argc; i++) {
                if (strncmp(argv[i], "--rounds=", 9) == 0) {
                        if (bench_parse_rounds("bench-queue", "--rounds", argv[i] + 9, 1, &rounds) < 0)
                                return 1;
                } else if (strncmp(argv[i], "--warmup=", 9) == 0) {
                        if (bench_parse_rounds("bench-queue", "--warmup", argv[i] + 9, 0, &warmup) < 0)
                                return 1;
                } else if (!url && strncmp(argv[i], "redis://", 8) == 0)
                        url = argv[i];
                else {
                        fprintf(stderr, "usage: bench-queue redis://HOST:PORT [--rounds=N] [--warmup=N]\n");
                        return 1;
                }
        }
        if (!url) {
                fprintf(stderr, "usage: bench-queue redis://HOST:PORT [--rounds=N] [--warmup=N]\n");
                return 1;
        }
        char redis_url[512], err[QUEUE_ERROR_MAX];
        snprintf(redis_url, sizeof redis_url, "%s%sstream=bench-queue", url, strchr(url, '?') ? "&" : "?");
        Case cases[2] = {{.title = "memory: push+claim+ack"}, {.title = "redis: push+claim+ack"}};
        const char *urls[2] = {"memory:", redis_url};
        for (size_t i = 0; i < 2; i++) {
                int r = queue_open(urls[i], 1000, "bench", err, &cases[i].q);
                if (r < 0) {
                        fprintf(stderr, "bench-queue: %s: %s\n", urls[i], err);
                        return 2;
                }
                cases[i].samples = calloc(rounds, sizeof *cases[i].samples);
                if (!cases[i].samples)
                        return 2;
        }
        size_t order[] = {0, 1};
        bench_interleave(warmup, rounds, order, 2, run_one, cases);

        BenchTable t = {.title_width = 26, .ratio_width = 12};
        bench_table_header(&t, "vs memory");
        BenchStats base = bench_compute_stats(cases[0].samples, cases[0].n, 1e6);
        for (size_t i = 0; i < 2; i++) {
                BenchStats s = bench_compute_stats(cases[i].samples, cases[i].n, 1e6);
                char ratio[32];
                bench_format_ratio(ratio, sizeof ratio, s, base, 1);
                bench_table_row(&t, cases[i].title, &cases[i].tally, s, ratio);
                bench_print_case_notes(cases[i].title, NULL, &cases[i].tally);
                queue_close(cases[i].q);
                queue_free(cases[i].q);
                free(cases[i].samples);
        }
        return 0;
}
