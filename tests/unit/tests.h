/* SPDX-License-Identifier: MIT */
#pragma once

#include <stdio.h>
#include <stdlib.h>

/* Minimal assertions: print where and abort, so that the test binary fails. */
#define ASSERT_TRUE(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)
#define ASSERT_EQ(a, b) ASSERT_TRUE((a) == (b))
