/* SPDX-License-Identifier: MIT */
/* application/x-www-form-urlencoded bodies, read as Rails reads them (Rack 2's
 * parse_nested_query) into the object a JSON body would give: every value a string, and
 * the bracket keys nested ("submissions[][source_code]=a&submissions[][language_id]=71"
 * is {"submissions":[{"source_code":"a","language_id":"71"}]}). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json/json-internal.h"
#include "json/judge0.h"

/* Rack's param_depth_limit is 100; a deeper key is refused. */
#define FORM_MAX_DEPTH 32

typedef struct FormError {
        char *buf;
        size_t len;
} FormError;

_printf_(2, 3) static int form_fail(FormError *e, const char *fmt, ...) {
        va_list ap;
        if (e->buf && e->len > 0) {
                va_start(ap, fmt);
                vsnprintf(e->buf, e->len, fmt, ap);
                va_end(ap);
        }
        return -EBADMSG;
}

/* Rack's unescape: '+' is a space, %XX a byte. A malloc'd copy, NUL-terminated, its length
 * in *ret_len; -EBADMSG for a bad %-escape. */
static int unescape(const char *s, size_t len, char **ret, size_t *ret_len) {
        char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '+')
                        out[o++] = ' ';
                else if (s[i] == '%') {
                        int h = i + 2 < len ? j0_hex_value(s[i + 1]) : -1,
                            l = h >= 0 ? j0_hex_value(s[i + 2]) : -1;
                        if (l < 0) {
                                free(out);
                                return -EBADMSG;
                        }
                        out[o++] = (char) (h * 16 + l);
                        i += 2;
                } else
                        out[o++] = s[i];
        }
        out[o] = '\0';
        *ret = out;
        *ret_len = o;
        return 0;
}

/* params_hash_has_key?: whether the path of key ("a" or "a[b][c]") is set in obj. */
static bool has_key(const json_t *obj, const char *key) {
        char part[256];
        for (const char *p = key; *p;) {
                p += strspn(p, "[]");
                size_t n = strcspn(p, "[]");
                if (n == 0)
                        break;
                if (n >= sizeof part || !json_is_object(obj))
                        return false;
                memcpy(part, p, n);
                part[n] = '\0';
                obj = json_object_get(obj, part);
                if (!obj)
                        return false;
                p += n;
        }
        return true;
}

static int normalize(json_t *params, const char *name, json_t *v, int depth, FormError *e);

/* Set params[key] = a fresh object normalized with child, or append one to the array. */
static int normalize_child(json_t *arr, const char *child, json_t *v, int depth, FormError *e) {
        json_t *last = json_array_size(arr) > 0 ? json_array_get(arr, json_array_size(arr) - 1) : NULL;
        if (json_is_object(last) && !has_key(last, child))
                return normalize(last, child, v, depth - 1, e);
        json_t *o = json_object();
        if (!o || json_array_append_new(arr, o) < 0)
                return -ENOMEM;
        return normalize(o, child, v, depth - 1, e);
}

/* Rack's normalize_params. Takes a reference to v in every case. */
static int normalize(json_t *params, const char *name, json_t *v, int depth, FormError *e) {
        _cleanup_json_ json_t *value = v;
        if (depth <= 0)
                return form_fail(e, "malformed form: the key is nested too deep");
        const char *p = name + strspn(name, "[]");
        size_t klen = strcspn(p, "[]");
        if (klen == 0)
                return 0; /* no name: Rack drops the pair */
        _cleanup_free_ char *k = strndup(p, klen);
        if (!k)
                return -ENOMEM;
        const char *after = p + klen;
        after += strspn(after, "]");

        if (*after == '\0' || strcmp(after, "[") == 0)
                return json_object_set(params, *after ? name : k, value) < 0 ? -ENOMEM : 0;

        json_t *cur = json_object_get(params, k);
        bool array_form = strncmp(after, "[]", 2) == 0;
        if (!cur) {
                cur = array_form ? json_array() : json_object();
                if (!cur || json_object_set_new(params, k, cur) < 0)
                        return -ENOMEM;
        }
        if (array_form && !json_is_array(cur))
                return form_fail(e, "malformed form: expected an array for '%s'", k);
        if (!array_form && !json_is_object(cur))
                return form_fail(e, "malformed form: expected an object for '%s'", k);
        if (strcmp(after, "[]") == 0)
                return json_array_append(cur, value) < 0 ? -ENOMEM : 0;
        if (array_form) {
                /* "[][x]" gives the child "x", any other "[]rest" the child "rest". */
                const char *rest = after + 2;
                size_t n = strlen(rest);
                _cleanup_free_ char *child = NULL;
                if (n > 2 && rest[0] == '[' && rest[n - 1] == ']' && strcspn(rest + 1, "[]") == n - 2)
                        child = strndup(rest + 1, n - 2);
                else
                        child = strdup(rest);
                if (!child)
                        return -ENOMEM;
                return normalize_child(cur, child, json_incref(value), depth, e);
        }
        return normalize(cur, after, json_incref(value), depth - 1, e);
}

/* One pair, unescaped already: checked as text, then nested into root. A NUL in the key
 * (%00) becomes U+0001, as in a JSON key (j0_load_body()): Rack keeps it, so the key
 * names no parameter and is ignored. */
static int add_pair(json_t *root, char *key, size_t klen, const char *val, size_t vlen, FormError *e) {
        for (size_t i = 0; i < klen; i++)
                if (key[i] == '\0')
                        key[i] = '\x01';
        if (!j0_utf8_valid(key, klen))
                return form_fail(e, "malformed form: a key is not UTF-8 text");
        if (val && !j0_utf8_valid(val, vlen))
                return form_fail(e, "malformed form: the value of '%s' is not UTF-8", key);
        json_t *v = val ? json_stringn(val, vlen) : json_null();
        if (!v)
                return -ENOMEM;
        return normalize(root, key, v, FORM_MAX_DEPTH, e);
}

int judge0_body_parse_form(const char *data, size_t len, Judge0Body **ret, char *errbuf, size_t errlen) {
        FormError e = {errbuf, errlen};
        _cleanup_json_ json_t *root = json_object();
        if (!root)
                return -ENOMEM;
        for (size_t i = 0; i < len;) {
                size_t n = 0;
                while (i + n < len && data[i + n] != '&' && data[i + n] != ';')
                        n++;
                const char *pair = data + i, *eq = memchr(pair, '=', n);
                i += n + 1;
                /* Rack skips the blanks after a separator. */
                while (i < len && data[i] == ' ')
                        i++;
                if (n == 0)
                        continue;
                _cleanup_free_ char *key = NULL, *val = NULL;
                size_t klen, vlen = 0;
                int r = unescape(pair, eq ? (size_t) (eq - pair) : n, &key, &klen);
                if (r >= 0 && eq)
                        r = unescape(eq + 1, n - (size_t) (eq + 1 - pair), &val, &vlen);
                if (r == -EBADMSG)
                        return form_fail(&e, "malformed form: invalid %%-encoding");
                if (r < 0)
                        return r;
                r = add_pair(root, key, klen, val, vlen, &e);
                if (r < 0)
                        return r;
        }
        return judge0_body_from_json(TAKE_PTR(root), ret);
}

/* ---- multipart/form-data ---- */

/* RFC 2046: a boundary has 1 to 70 characters. */
#define MULTIPART_MAX_BOUNDARY 70

/* The value of parameter name (case-insensitive) in a header value's "; a=b; c=\"d\""
 * list, into buf (size bytes): its length, or -ENOENT, or -ENOBUFS. */
static int header_param(const char *h, size_t hlen, const char *name, char *buf, size_t size) {
        size_t nlen = strlen(name);
        for (size_t i = 0; i < hlen;) {
                const char *semi = memchr(h + i, ';', hlen - i);
                if (!semi)
                        break;
                i = (size_t) (semi - h) + 1;
                while (i < hlen && (h[i] == ' ' || h[i] == '\t'))
                        i++;
                if (hlen - i <= nlen || strncasecmp(h + i, name, nlen) != 0 || h[i + nlen] != '=')
                        continue;
                i += nlen + 1;
                size_t o = 0;
                if (i < hlen && h[i] == '"') {
                        for (i++; i < hlen && h[i] != '"'; i++) {
                                if (h[i] == '\\' && i + 1 < hlen)
                                        i++;
                                if (o + 1 >= size)
                                        return -ENOBUFS;
                                buf[o++] = h[i];
                        }
                } else
                        for (; i < hlen && h[i] != ';' && h[i] != ' ' && h[i] != '\t'; i++) {
                                if (o + 1 >= size)
                                        return -ENOBUFS;
                                buf[o++] = h[i];
                        }
                buf[o] = '\0';
                return (int) o;
        }
        return -ENOENT;
}

/* The name of a part, from its headers (the block before the blank line): 1 with *ret
 * malloc'd, 0 for a part without a name (Rack skips it). */
static int part_name(const char *h, size_t hlen, char **ret, FormError *e) {
        static const char cd[] = "content-disposition:";
        for (size_t i = 0; i < hlen;) {
                const char *eol = memmem(h + i, hlen - i, "\r\n", 2);
                size_t n = eol ? (size_t) (eol - (h + i)) : hlen - i;
                if (n >= sizeof cd - 1 && strncasecmp(h + i, cd, sizeof cd - 1) == 0) {
                        char name[1024];
                        int r = header_param(h + i, n, "name", name, sizeof name);
                        if (r == -ENOBUFS)
                                return form_fail(e, "malformed multipart body: a part's name is too long");
                        if (r < 0)
                                return 0;
                        *ret = strndup(name, (size_t) r);
                        return *ret ? 1 : -ENOMEM;
                }
                i += n + 2;
        }
        return 0;
}

int judge0_body_parse_multipart(const char *content_type, const char *data, size_t len, Judge0Body **ret,
        char *errbuf, size_t errlen) {
        FormError e = {errbuf, errlen};
        char delim[MULTIPART_MAX_BOUNDARY + 5] = "\r\n--";
        int blen = header_param(content_type, strlen(content_type), "boundary", delim + 4, sizeof delim - 4);
        if (blen <= 0)
                return form_fail(&e, "malformed multipart body: the Content-Type has no boundary");
        size_t dlen = 4 + (size_t) blen;

        _cleanup_json_ json_t *root = json_object();
        if (!root)
                return -ENOMEM;
        /* The first delimiter may open the body (no CRLF before it) or follow a preamble. */
        const char *p;
        if (len >= dlen - 2 && memcmp(data, delim + 2, dlen - 2) == 0)
                p = data + dlen - 2;
        else {
                p = memmem(data, len, delim, dlen);
                if (!p)
                        return form_fail(&e, "malformed multipart body: no boundary in the body");
                p += dlen;
        }
        const char *end = data + len;
        for (;;) {
                if (end - p >= 2 && memcmp(p, "--", 2) == 0)
                        break; /* the close delimiter; what follows is the epilogue */
                while (p < end && (*p == ' ' || *p == '\t'))
                        p++;
                if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
                        return form_fail(
                                &e, "malformed multipart body: a boundary is not followed by a line end");
                p += 2;
                const char *hend = memmem(p, (size_t) (end - p), "\r\n\r\n", 4);
                const char *content = hend ? hend + 4 : NULL;
                if (!hend && end - p >= 2 && memcmp(p, "\r\n", 2) == 0)
                        hend = p, content = p + 2; /* a part without headers */
                if (!hend)
                        return form_fail(&e, "malformed multipart body: a part's headers do not end");
                const char *next = memmem(content, (size_t) (end - content), delim, dlen);
                if (!next)
                        return form_fail(&e, "malformed multipart body: a part does not end");
                _cleanup_free_ char *name = NULL;
                int r = part_name(p, (size_t) (hend - p), &name, &e);
                if (r < 0)
                        return r;
                if (r > 0) {
                        /* A file part's value is its content (Rails gives an upload object). */
                        r = add_pair(root, name, strlen(name), content, (size_t) (next - content), &e);
                        if (r < 0)
                                return r;
                }
                p = next + dlen;
        }
        return judge0_body_from_json(TAKE_PTR(root), ret);
}
