/* SPDX-License-Identifier: MIT */
#include <stdint.h>

#include "base/json-writer.h"

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p, size_t left) {
        if (p[0] < 0x80)
                return 1;
        size_t n;
        uint32_t cp;
        if ((p[0] & 0xe0) == 0xc0) {
                n = 2;
                cp = p[0] & 0x1f;
        } else if ((p[0] & 0xf0) == 0xe0) {
                n = 3;
                cp = p[0] & 0x0f;
        } else if ((p[0] & 0xf8) == 0xf0) {
                n = 4;
                cp = p[0] & 0x07;
        } else
                return 0;
        if (n > left)
                return 0;
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                cp = (cp << 6) | (p[i] & 0x3f);
        }
        /* overlong forms, surrogates, beyond U+10FFFF */
        if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
                (cp >= 0xd800 && cp <= 0xdfff))
                return 0;
        return n;
}

void json_write_string(FILE *f, const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        fputc('"', f);
        for (size_t i = 0; i < len;) {
                unsigned char c = p[i];
                if (c == '"' || c == '\\') {
                        fputc('\\', f);
                        fputc(c, f);
                        i++;
                } else if (c == '\n') {
                        fputs("\\n", f);
                        i++;
                } else if (c == '\t') {
                        fputs("\\t", f);
                        i++;
                } else if (c == '\r') {
                        fputs("\\r", f);
                        i++;
                } else if (c < 0x20 || c == 0x7f) {
                        fprintf(f, "\\u%04x", c);
                        i++;
                } else {
                        size_t n = utf8_len(p + i, len - i);
                        if (n == 0) {
                                fputs("\\ufffd", f);
                                i++;
                        } else {
                                fwrite(p + i, 1, n, f);
                                i += n;
                        }
                }
        }
        fputc('"', f);
}
