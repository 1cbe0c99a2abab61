/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/utf8.h"
#include "json/json-internal.h"

size_t j0_utf8_len(const unsigned char *p, size_t left) {
        return utf8_sequence_len(p, left);
}

bool j0_utf8_valid(const char *s, size_t len) {
        return utf8_valid(s, len);
}

size_t j0_utf8_chars(const char *s, size_t len) {
        size_t n = 0;
        for (size_t i = 0; i < len; i++)
                n += ((unsigned char) s[i] & 0xc0) != 0x80;
        return n;
}

json_t *j0_text(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        size_t bad = 0;

        if (len == 0)
                return json_stringn_nocheck("", 0);
        for (size_t i = 0; i < len;) {
                size_t n = j0_utf8_len(p + i, len - i);
                if (n == 0) {
                        bad++;
                        n = 1;
                }
                i += n;
        }
        if (bad == 0)
                return json_stringn_nocheck(s, len);

        /* Each invalid byte becomes the 3 bytes of U+FFFD. */
        if (bad > (SIZE_MAX - len) / 2)
                return NULL;
        _cleanup_free_ char *out = malloc(len + 2 * bad);
        if (!out)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < len;) {
                size_t n = j0_utf8_len(p + i, len - i);
                if (n == 0) {
                        memcpy(out + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(out + o, p + i, n);
                        o += n;
                        i += n;
                }
        }
        return json_stringn_nocheck(out, o);
}

json_t *j0_cstring(const char *s) {
        return s ? j0_text(s, strlen(s)) : json_null();
}

int j0_real_precision(double v) {
        char buf[64];
        int first = 0;

        /* Prefer plain notation ("150.0", not "1.5e2") where some precision gives it. */
        for (int p = 1; p <= 17; p++) {
                snprintf(buf, sizeof buf, "%.*g", p, v);
                if (strtod(buf, NULL) != v)
                        continue;
                if (!strchr(buf, 'e'))
                        return p;
                if (first == 0)
                        first = p;
        }
        return first > 0 ? first : 17;
}

int j0_dump(const json_t *v, int real_precision, char **ret) {
        if (real_precision < 1 || real_precision > 17)
                real_precision = 17;
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(real_precision));
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

void j0_format_seconds(uint64_t usec, char buf[static 32]) {
        char frac[8];
        snprintf(frac, sizeof frac, "%06" PRIu64, usec % 1000000);
        size_t n = 6;
        while (n > 1 && frac[n - 1] == '0')
                n--;
        frac[n] = '\0';
        snprintf(buf, 32, "%" PRIu64 ".%s", usec / 1000000, frac);
}

bool j0_format_timestamp(int64_t usec, char buf[static 40]) {
        /* Rails truncates to milliseconds. */
        int64_t sec = usec / 1000000, rem = usec % 1000000;
        if (rem < 0) {
                rem += 1000000;
                sec--;
        }
        time_t t = (time_t) sec;
        struct tm tm;
        if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return false;
        snprintf(buf, 40, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (rem / 1000));
        return true;
}

int j0_set(json_t *obj, const char *key, json_t *v) {
        if (!v)
                return -ENOMEM;
        /* Takes the reference even when it fails. */
        return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

int j0_append(json_t *arr, json_t *v) {
        if (!v)
                return -ENOMEM;
        return json_array_append_new(arr, v) < 0 ? -ENOMEM : 0;
}

int j0_hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

static bool is_json_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Whether the escape at s[i] (a backslash) is \u0000. */
static bool is_nul_escape(const char *s, size_t i, size_t len) {
        return len - i >= 6 && memcmp(s + i, "\\u0000", 6) == 0;
}

/* Turn the \u0000 escapes of every object key of the JSON text s into \u0001, in place
 * (same length, so a parse error keeps its position). A string is a key when a ':' follows
 * it; in a text that is not JSON anyway, what changes does not matter. */
static void rename_nul_keys(char *s, size_t len) {
        size_t start = 0;
        bool in_string = false, has_nul = false;
        for (size_t i = 0; i < len; i++) {
                if (!in_string) {
                        if (s[i] == '"') {
                                in_string = true;
                                has_nul = false;
                                start = i;
                        }
                        continue;
                }
                if (s[i] == '\\') {
                        has_nul = has_nul || is_nul_escape(s, i, len);
                        i++; /* the escaped character; \u's digits are plain characters */
                        continue;
                }
                if (s[i] != '"')
                        continue;
                in_string = false;
                size_t j = i + 1;
                while (j < len && is_json_space(s[j]))
                        j++;
                if (!has_nul || j == len || s[j] != ':')
                        continue;
                for (size_t k = start + 1; k < i; k++)
                        if (s[k] == '\\') {
                                if (is_nul_escape(s, k, len))
                                        s[k + 5] = '1';
                                k++;
                        }
        }
}

int j0_load_body(const char *data, size_t len, json_t **ret, char *errbuf, size_t errlen) {
        _cleanup_free_ char *copy = NULL;
        if (memmem(data, len, "\\u0000", 6)) {
                copy = malloc(len);
                if (!copy)
                        return -ENOMEM;
                memcpy(copy, data, len);
                rename_nul_keys(copy, len);
                data = copy;
        }
        json_error_t err;
        json_t *root = json_loadb(data, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
        if (!root) {
                if (json_error_code(&err) == json_error_out_of_memory)
                        return -ENOMEM;
                if (errbuf && errlen)
                        snprintf(errbuf, errlen, "malformed JSON: %s at line %d, column %d", err.text,
                                err.line, err.column);
                return -EBADMSG;
        }
        *ret = root;
        return 0;
}
