/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "base/log.h"
#include "base/macro.h"
#include "base/parse-util.h"
#include "base/time-util.h"
#include "programs/cli-limits.h"

#define MAX_SECONDS_USEC (UINT64_C(86400) * USEC_PER_SEC)
#define MAX_KIB (UINT64_C(1) << 40)
#define MAX_COUNT UINT64_C(1048576)

typedef enum LimitKind {
        LIMIT_SECONDS,
        LIMIT_NUMBER,
        LIMIT_FLAG,
} LimitKind;

static const struct {
        const char *name;
        LimitKind kind;
        uint64_t max;
        size_t offset;
} limit_table[] = {
        {"time", LIMIT_SECONDS, MAX_SECONDS_USEC, offsetof(CliLimits, cpu_time_usec)},
        {"extra-time", LIMIT_SECONDS, MAX_SECONDS_USEC, offsetof(CliLimits, extra_time_usec)},
        {"wall-time", LIMIT_SECONDS, MAX_SECONDS_USEC, offsetof(CliLimits, wall_time_usec)},
        {"mem", LIMIT_NUMBER, MAX_KIB, offsetof(CliLimits, memory_kib)},
        {"stack", LIMIT_NUMBER, MAX_KIB, offsetof(CliLimits, stack_kib)},
        {"processes", LIMIT_NUMBER, MAX_COUNT, offsetof(CliLimits, processes)},
        {"fsize", LIMIT_NUMBER, MAX_KIB, offsetof(CliLimits, fsize_kib)},
        {"output-limit", LIMIT_NUMBER, MAX_KIB, offsetof(CliLimits, output_kib)},
        {"per-process-time", LIMIT_FLAG, 0, offsetof(CliLimits, per_process_time)},
        {"per-process-memory", LIMIT_FLAG, 0, offsetof(CliLimits, per_process_memory)},
};

struct option *cli_options_with_limits(const struct option *own, struct option *out, size_t n) {
        size_t k = 0;
        for (; own[k].name; k++) {
                if (k >= n)
                        return NULL;
                out[k] = own[k];
        }
        if (k + ELEMENTSOF(limit_table) + 1 > n)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(limit_table); i++)
                out[k++] = (struct option){
                        .name = limit_table[i].name,
                        .has_arg = limit_table[i].kind == LIMIT_FLAG ? no_argument : required_argument,
                        .val = CLI_LIMIT_OPT_BASE + (int) i,
                };
        out[k] = (struct option){};
        return out;
}

int cli_limits_parse(int c, const char *arg, CliLimits *l) {
        if (c < CLI_LIMIT_OPT_BASE || c >= CLI_LIMIT_OPT_BASE + (int) ELEMENTSOF(limit_table))
                return 0;
        size_t i = (size_t) (c - CLI_LIMIT_OPT_BASE);
        void *field = (char *) l + limit_table[i].offset;
        uint64_t v;
        int r;
        switch (limit_table[i].kind) {
        case LIMIT_FLAG:
                *(bool *) field = true;
                return 1;
        case LIMIT_SECONDS:
                r = parse_seconds_usec(arg, limit_table[i].max, &v);
                if (r < 0) {
                        log_error(0, "--%s=%s: %s", limit_table[i].name, arg,
                                r == -ERANGE ? "out of range" : "not a valid number of seconds");
                        return -1;
                }
                break;
        case LIMIT_NUMBER:
        default:
                r = parse_u64_max(arg, limit_table[i].max, &v);
                if (r < 0) {
                        log_error(0, "--%s=%s: %s", limit_table[i].name, arg,
                                r == -ERANGE ? "out of range" : "not a valid number");
                        return -1;
                }
                break;
        }
        *(uint64_t *) field = v;
        return 1;
}

const char *cli_option_name(const struct option *opts, int val) {
        for (const struct option *o = opts; o->name; o++)
                if (o->val == val)
                        return o->name;
        return "?";
}
