/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>

#include "base/macro.h"

/* A NULL-terminated vector of malloc'd strings. */
size_t strv_length(char *const *l);
char **strv_free(char **l);
static inline void strv_freep(char ***l) {
        strv_free(*l);
}
#define _cleanup_strv_free_ _cleanup_(strv_freep)

/* Append a copy of s. *l may be NULL. Returns 0 or -ENOMEM. */
int strv_extend(char ***l, const char *s);

/* Find the entry "NAME=..." for the given name (length-delimited). */
char **strv_find_env(char **l, const char *name, size_t name_len);
