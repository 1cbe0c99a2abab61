/* SPDX-License-Identifier: MIT */
#pragma once

/* The limits of one run or compilation, and Judge0 CE 1.13.1's defaults and maxima
 * (app/helpers/config.rb), stated once: the submission's defaults (submission_init()),
 * the API's validation rules (judge0_rules_init()) and the servers' configuration tables
 * all point here. Times in Judge0's units (seconds, written as it writes them), memory
 * and sizes in KB (KiB). */

#include <stdbool.h>
#include <stdint.h>

typedef struct Limits {
        uint64_t cpu_time_usec;
        uint64_t extra_time_usec;
        uint64_t wall_time_usec;
        uint64_t memory_kib;
        uint64_t stack_kib;
        uint64_t fsize_kib;
        uint64_t output_kib; /* cap on stdout and on stderr (0 = the judge's default) */
        uint32_t processes;
        bool per_process_time; /* Judge0's enable_per_process_and_thread_time_limit */
        bool per_process_memory; /* Judge0's enable_per_process_and_thread_memory_limit */
} Limits;

#define JUDGE0_CPU_TIME_LIMIT 5 /* s */
#define JUDGE0_MAX_CPU_TIME_LIMIT 15
#define JUDGE0_CPU_EXTRA_TIME 1
#define JUDGE0_MAX_CPU_EXTRA_TIME 5
#define JUDGE0_WALL_TIME_LIMIT 10
#define JUDGE0_MAX_WALL_TIME_LIMIT 20
#define JUDGE0_MEMORY_LIMIT 128000 /* KB */
#define JUDGE0_MAX_MEMORY_LIMIT 512000
#define JUDGE0_STACK_LIMIT 64000
#define JUDGE0_MAX_STACK_LIMIT 128000
#define JUDGE0_MAX_PROCESSES_AND_OR_THREADS 60
#define JUDGE0_MAX_MAX_PROCESSES_AND_OR_THREADS 120
#define JUDGE0_MAX_FILE_SIZE 1024 /* KB */
#define JUDGE0_MAX_MAX_FILE_SIZE 4096
#define JUDGE0_NUMBER_OF_RUNS 1
#define JUDGE0_MAX_NUMBER_OF_RUNS 20
#define JUDGE0_MAX_QUEUE_SIZE 100
#define JUDGE0_MAX_SUBMISSION_BATCH_SIZE 20

/* A checker's or an interactor's own limits, unless the request sets them (ours: Judge0 has
 * neither). */
#define HELPER_CPU_TIME_LIMIT 5 /* s */
#define HELPER_WALL_TIME_LIMIT 10
#define HELPER_MEMORY_LIMIT 256000 /* KB */
#define HELPER_STACK_LIMIT 64000
#define HELPER_MAX_PROCESSES 60
#define HELPER_MAX_FILE_SIZE 4096 /* KB: the output.txt an interactor writes */

/* A checker's or an interactor's limits, with the request's CPU, wall time and memory. */
static inline Limits limits_of_helper(uint64_t cpu_time_usec, uint64_t wall_time_usec, uint64_t memory_kib) {
        return (Limits){
                .cpu_time_usec = cpu_time_usec,
                .wall_time_usec = wall_time_usec,
                .memory_kib = memory_kib,
                .stack_kib = HELPER_STACK_LIMIT,
                .fsize_kib = HELPER_MAX_FILE_SIZE,
                .processes = HELPER_MAX_PROCESSES,
        };
}

/* A constant as the text a configuration table's default is ("5"). */
#define LIMITS_TEXT_(x) #x
#define LIMITS_TEXT(x) LIMITS_TEXT_(x)
