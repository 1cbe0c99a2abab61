/* SPDX-License-Identifier: MIT */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>

/* The limit options shared by `coderunner box run` and `coderunner run`: one table, so the
 * two commands spell and check them the same way. */
typedef struct CliLimits {
        uint64_t cpu_time_usec;
        uint64_t extra_time_usec;
        uint64_t wall_time_usec;
        uint64_t memory_kib;
        uint64_t stack_kib;
        uint64_t fsize_kib;
        uint64_t output_kib;
        uint64_t processes;
        bool per_process_time;
        bool per_process_memory;
} CliLimits;

/* getopt values of the shared options start here; commands use values below it. */
#define CLI_LIMIT_OPT_BASE 1000

/* Build a getopt_long table: the command's own options (terminated by a zero entry), then
 * the shared limit options, into out (room for n entries). Returns out, or NULL if n is
 * too small. */
struct option *cli_options_with_limits(const struct option *own, struct option *out, size_t n);

/* When c is a shared limit option, parse arg into *l: 1 when done, -1 on a bad value (one
 * line on stderr naming the option); 0 when c is not one of them. */
int cli_limits_parse(int c, const char *arg, CliLimits *l);

/* The long name of option val in opts ("?" when unknown). */
const char *cli_option_name(const struct option *opts, int val);
