/* SPDX-License-Identifier: MIT */
#pragma once

#include <stddef.h>
#include <stdio.h>

/* Writing JSON by hand where no JSON library is linked (the command-line programs): a
 * string, escaped. Bytes that are not valid UTF-8 are written as U+FFFD. */
void json_write_string(FILE *f, const char *s, size_t len);
static inline void json_write_cstring(FILE *f, const char *s) {
        if (s)
                json_write_string(f, s, __builtin_strlen(s));
        else
                fputs("null", f);
}
