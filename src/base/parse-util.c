/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>

#include "base/parse-util.h"
#include "base/time-util.h"

static int is_digit(char c) {
        return c >= '0' && c <= '9';
}

int parse_u64(const char *s, uint64_t *ret) {
        uint64_t v = 0;

        if (!s || !is_digit(*s))
                return -EINVAL;
        for (; *s; s++) {
                if (!is_digit(*s))
                        return -EINVAL;
                unsigned d = (unsigned) (*s - '0');
                if (v > (UINT64_MAX - d) / 10)
                        return -ERANGE;
                v = v * 10 + d;
        }
        *ret = v;
        return 0;
}

int parse_u64_max(const char *s, uint64_t max, uint64_t *ret) {
        uint64_t v;
        int r = parse_u64(s, &v);
        if (r < 0)
                return r;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int parse_seconds_usec(const char *s, uint64_t max_usec, uint64_t *ret) {
        uint64_t whole = 0, frac = 0;
        unsigned frac_digits = 0;
        int any = 0;

        if (!s || !*s)
                return -EINVAL;
        for (; is_digit(*s); s++) {
                if (whole > (UINT64_MAX / USEC_PER_SEC - 9) / 10)
                        return -ERANGE;
                whole = whole * 10 + (uint64_t) (*s - '0');
                any = 1;
        }
        if (*s == '.') {
                s++;
                for (; is_digit(*s); s++) {
                        if (frac_digits == 6)
                                return -EINVAL;
                        frac = frac * 10 + (uint64_t) (*s - '0');
                        frac_digits++;
                        any = 1;
                }
        }
        if (*s != '\0' || !any)
                return -EINVAL;
        for (; frac_digits < 6; frac_digits++)
                frac *= 10;
        uint64_t v = whole * USEC_PER_SEC + frac;
        if (v > max_usec)
                return -ERANGE;
        *ret = v;
        return 0;
}

void format_seconds(uint64_t usec, char buf[static 32]) {
        uint64_t ms = (usec + 500) / 1000;
        snprintf(buf, 32, "%llu.%03llu", (unsigned long long) (ms / 1000), (unsigned long long) (ms % 1000));
}
