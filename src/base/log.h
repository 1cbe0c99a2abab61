/* SPDX-License-Identifier: MIT */
#pragma once

#include "base/macro.h"

typedef enum LogLevel {
        LOG_LEVEL_ERROR,
        LOG_LEVEL_WARNING,
        LOG_LEVEL_INFO,
        LOG_LEVEL_DEBUG,
} LogLevel;

void log_set_max_level(LogLevel level);
void log_set_program(const char *name);

/* One line on stderr: "PROGRAM: message". Returns -abs(error) (or -EIO when error is 0)
 * so that `return log_error(r, "...")` both logs and propagates. */
int log_full(LogLevel level, int error, const char *fmt, ...) _printf_(3, 4);

#define log_error(err, ...) log_full(LOG_LEVEL_ERROR, (err), __VA_ARGS__)
#define log_warning(err, ...) log_full(LOG_LEVEL_WARNING, (err), __VA_ARGS__)
#define log_info(...) log_full(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...) log_full(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
