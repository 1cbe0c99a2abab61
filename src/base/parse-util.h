/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdint.h>

/* Parse a decimal unsigned integer. Rejects empty strings, signs, leading or trailing
 * junk and overflow. Returns 0 or -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t *ret);

/* Same, bounded to [0, max]. -ERANGE above max. */
int parse_u64_max(const char *s, uint64_t max, uint64_t *ret);

/* Parse decimal seconds ("2", "0.3", "1.250", ".5") into microseconds. At most six
 * fractional digits; rejects negatives, exponents, junk and values above max_usec. */
int parse_seconds_usec(const char *s, uint64_t max_usec, uint64_t *ret);

/* Format microseconds as decimal seconds with millisecond precision ("0.301"). */
void format_seconds(uint64_t usec, char buf[static 32]);
