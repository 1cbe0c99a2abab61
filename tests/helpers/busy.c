/* SPDX-License-Identifier: MIT */
/* CPU burner for the time-limit tests.
 *
 *   busy [-p PROCS] [-t THREADS] [-r DIR] [SECONDS]
 *
 * Spins in PROCS processes (default 1) of THREADS threads each (default 1). Without SECONDS
 * it spins forever; with SECONDS each process exits 0 once it (all its threads together) has
 * used that much CPU time, the first process after waiting for the others.
 *
 * With -r, each process keeps DIR/cpu.<pid> up to date (every 5 ms of its CPU time) with the
 * CPU seconds it has used, so that the tree's total is known after it is killed. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double budget = -1; /* CPU seconds per process; < 0 = forever */
static const char *report_dir; /* -r */
static int report_fd = -1; /* this process's DIR/cpu.<pid> */
static pthread_mutex_t report_lock = PTHREAD_MUTEX_INITIALIZER;
static double reported;

static double process_cpu_seconds(void) {
        struct timespec ts;

        if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts) < 0)
                return 0;
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void report_open(void) {
        char path[PATH_MAX];

        if (!report_dir)
                return;
        snprintf(path, sizeof path, "%s/cpu.%d", report_dir, (int) getpid());
        report_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (report_fd < 0) {
                perror("busy: report file");
                exit(1);
        }
}

static void report(double cpu) {
        char buf[32];
        int len;

        if (report_fd < 0 || cpu - reported < 0.005 || pthread_mutex_trylock(&report_lock) != 0)
                return;
        len = snprintf(buf, sizeof buf, "%.4f\n", cpu);
        (void) !pwrite(report_fd, buf, (size_t) len, 0);
        reported = cpu;
        pthread_mutex_unlock(&report_lock);
}

/* Spin until the budget is used; return (only then) to the caller. */
static void spin(void) {
        volatile uint64_t x = 0;

        for (;;) {
                double cpu;

                for (int i = 0; i < 200000; i++)
                        x++;
                cpu = process_cpu_seconds();
                report(cpu);
                if (budget >= 0 && cpu >= budget)
                        return;
        }
}

static void *spin_thread(void *arg) {
        spin();
        return arg;
}

static long parse_count(const char *s) {
        char *end;
        long v;

        errno = 0;
        v = strtol(s, &end, 10);
        if (errno != 0 || end == s || *end != '\0' || v < 1 || v > 4096) {
                fprintf(stderr, "busy: bad count '%s'\n", s);
                exit(2);
        }
        return v;
}

/* One process: THREADS-1 extra threads plus this one. Exits when the budget is used. */
static void burn_process(long threads) {
        report_open();
        for (long i = 1; i < threads; i++) {
                pthread_t t;
                int r = pthread_create(&t, NULL, spin_thread, NULL);

                if (r != 0) {
                        fprintf(stderr, "busy: pthread_create: %s\n", strerror(r));
                        exit(1);
                }
        }
        spin();
}

int main(int argc, char **argv) {
        long procs = 1, threads = 1;
        int opt;

        while ((opt = getopt(argc, argv, "p:t:r:")) != -1) {
                switch (opt) {
                case 'p':
                        procs = parse_count(optarg);
                        break;
                case 't':
                        threads = parse_count(optarg);
                        break;
                case 'r':
                        report_dir = optarg;
                        break;
                default:
                        fprintf(stderr, "usage: busy [-p PROCS] [-t THREADS] [-r DIR] [SECONDS]\n");
                        return 2;
                }
        }
        if (optind < argc) {
                char *end;

                errno = 0;
                budget = strtod(argv[optind], &end);
                if (errno != 0 || end == argv[optind] || *end != '\0' || budget < 0) {
                        fprintf(stderr, "busy: bad seconds '%s'\n", argv[optind]);
                        return 2;
                }
        }

        for (long i = 1; i < procs; i++) {
                pid_t pid = fork();

                if (pid < 0) {
                        perror("busy: fork");
                        return 1;
                }
                if (pid == 0) {
                        burn_process(threads);
                        _exit(0);
                }
        }
        burn_process(threads);
        while (wait(NULL) > 0 || errno == EINTR)
                ;
        printf("busy done cpu=%.3f\n", process_cpu_seconds());
        return 0;
}
