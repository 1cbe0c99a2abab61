/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Length (1-4) of the well-formed UTF-8 sequence at p, or 0 when it is not one
 * (overlong forms, surrogates, code points past U+10FFFF, truncated sequences). */
size_t utf8_sequence_len(const unsigned char *p, size_t left);

/* Whether all len bytes of s are well-formed UTF-8. */
bool utf8_valid(const char *s, size_t len);
