/* SPDX-License-Identifier: MIT */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/log.h"

static LogLevel max_level = LOG_LEVEL_INFO;
static const char *program = "coderunner";

void log_set_max_level(LogLevel level) {
        max_level = level;
}

void log_set_program(const char *name) {
        program = name;
}

int log_full(LogLevel level, int error, const char *fmt, ...) {
        int ret = error == 0 || error == INT_MIN ? -EIO : error > 0 ? -error : error;
        char line[1024];
        va_list ap;

        if (level > max_level)
                return ret;
        va_start(ap, fmt);
        vsnprintf(line, sizeof line, fmt, ap);
        va_end(ap);
        fprintf(stderr, "%s: %s\n", program, line);
        return ret;
}
