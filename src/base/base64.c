/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/base64.h"
#include "base/macro.h"

#define LINE_CHARS 60 /* encode64's line length */

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

size_t base64_encoded_size(size_t len) {
        if (len == 0)
                return 0;
        size_t quads = len / 3 + (len % 3 != 0);
        if (quads > (SIZE_MAX - 1) / 4)
                return 0;
        size_t chars = quads * 4;
        size_t lines = chars / LINE_CHARS + (chars % LINE_CHARS != 0);
        if (chars > SIZE_MAX - 1 - lines)
                return 0;
        return chars + lines;
}

int base64_encode(const void *data, size_t len, char **ret, size_t *ret_len) {
        const uint8_t *p = data;
        size_t size = base64_encoded_size(len);

        if (len > 0 && size == 0)
                return -EOVERFLOW;
        char *out = malloc(size + 1);
        if (!out)
                return -ENOMEM;

        size_t o = 0, line = 0;
        for (size_t i = 0; i < len; i += 3) {
                uint32_t v = (uint32_t) p[i] << 16;
                size_t n = MIN(len - i, (size_t) 3);
                if (n > 1)
                        v |= (uint32_t) p[i + 1] << 8;
                if (n > 2)
                        v |= p[i + 2];
                out[o++] = alphabet[(v >> 18) & 63];
                out[o++] = alphabet[(v >> 12) & 63];
                out[o++] = n > 1 ? alphabet[(v >> 6) & 63] : '=';
                out[o++] = n > 2 ? alphabet[v & 63] : '=';
                line += 4;
                if (line == LINE_CHARS) {
                        out[o++] = '\n';
                        line = 0;
                }
        }
        if (line > 0)
                out[o++] = '\n';
        out[o] = '\0';
        *ret = out;
        *ret_len = o;
        return 0;
}

static bool is_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* The 6-bit value of an alphabet character, or -1. */
static int value_of(char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int base64_decode(const char *s, size_t len, char **ret, size_t *ret_len) {
        /* At most 3 bytes for every 4 characters, and 2 for a last group of 3. */
        char *out = malloc(len / 4 * 3 + 2 + 1);
        if (!out)
                return -ENOMEM;

        uint32_t acc = 0;
        size_t o = 0, n = 0; /* n: alphabet characters decoded */
        bool ended = false; /* a '=' in the third or fourth place: Ruby stops there */
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (is_space(c))
                        continue;
                if (c == '=') {
                        /* In the first two places Ruby skips it, as any non-alphabet byte. */
                        if (n % 4 >= 2)
                                ended = true;
                        continue;
                }
                int v = value_of(c);
                if (v < 0 || ended)
                        goto invalid; /* Ruby would skip it, or drop it and all after */
                acc = (acc << 6) | (uint32_t) v;
                n++;
                if (n % 4 == 0) {
                        out[o++] = (char) (acc >> 16);
                        out[o++] = (char) (acc >> 8);
                        out[o++] = (char) acc;
                        acc = 0;
                }
        }
        switch (n % 4) {
        case 1:
                goto invalid; /* 6 bits make no byte: Ruby drops the character */
        case 2: /* 12 bits: one byte */
                out[o++] = (char) (acc >> 4);
                break;
        case 3: /* 18 bits: two bytes */
                out[o++] = (char) (acc >> 10);
                out[o++] = (char) (acc >> 2);
                break;
        }
        out[o] = '\0';
        *ret = out;
        *ret_len = o;
        return 0;

invalid:
        free(out);
        return -EINVAL;
}
