/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/macro.h"
#include "base/parse-util.h"
#include "model/live-record.h"

static const char *const type_names[_LIVE_RECORD_TYPE_MAX] = {
        [LIVE_RECORD_STDIN] = "in",
        [LIVE_RECORD_EOF] = "eof",
        [LIVE_RECORD_SIGNAL] = "sig",
        [LIVE_RECORD_STDOUT] = "out",
        [LIVE_RECORD_STDERR] = "err",
        [LIVE_RECORD_EVENT] = "ev",
        [LIVE_RECORD_ACK] = "ack",
};

/* The fields each type carries after "t", in the order they are written. */
enum { F_D, F_K, F_R, F_X, F_S, F_ST, F_M, _F_MAX };
static const char *const field_names[_F_MAX] = {"d", "k", "r", "x", "s", "st", "m"};
static const unsigned type_fields[_LIVE_RECORD_TYPE_MAX] = {
        [LIVE_RECORD_STDIN] = 1u << F_D,
        [LIVE_RECORD_EOF] = 0,
        [LIVE_RECORD_SIGNAL] = 1u << F_D,
        [LIVE_RECORD_STDOUT] = 1u << F_D,
        [LIVE_RECORD_STDERR] = 1u << F_D,
        [LIVE_RECORD_EVENT] =
                (1u << F_K) | (1u << F_R) | (1u << F_X) | (1u << F_S) | (1u << F_ST) | (1u << F_M),
        [LIVE_RECORD_ACK] = 1u << F_D,
};

#define MAX_SIGNAL 64

static bool has_data(LiveRecordType t) {
        return t == LIVE_RECORD_STDIN || t == LIVE_RECORD_STDOUT || t == LIVE_RECORD_STDERR;
}

static bool event_valid(const LiveEvent *e) {
        return e->kind < _LIVE_EVENT_KIND_MAX && e->run <= 1 && e->signal >= 0 && e->signal <= MAX_SIGNAL &&
               memchr(e->status, '\0', sizeof e->status) && memchr(e->message, '\0', sizeof e->message);
}

static void put(LiveRecordFields *out, const char *s, size_t len) {
        out->f[out->n] = s;
        out->len[out->n++] = len;
}

static void put_str(LiveRecordFields *out, const char *s) {
        put(out, s, strlen(s));
}

static void put_number(LiveRecordFields *out, size_t *slot, const char *name, int64_t v) {
        char *buf = out->numbers[(*slot)++];
        snprintf(buf, sizeof out->numbers[0], "%" PRId64, v);
        put_str(out, name);
        put_str(out, buf);
}

int live_record_fields(const LiveRecord *rec, LiveRecordFields *ret) {
        if ((unsigned) rec->type >= _LIVE_RECORD_TYPE_MAX)
                return -EINVAL;
        if (has_data(rec->type) && (rec->len > LIVE_RECORD_MAX_DATA || (!rec->data && rec->len > 0)))
                return -EINVAL;
        if (rec->type == LIVE_RECORD_SIGNAL && (rec->number < 1 || rec->number > MAX_SIGNAL))
                return -EINVAL;
        if (rec->type == LIVE_RECORD_ACK && rec->number > (uint64_t) INT64_MAX)
                return -EINVAL;
        if (rec->type == LIVE_RECORD_EVENT && !event_valid(&rec->event))
                return -EINVAL;
        /* Valid: written straight into *ret (its numbers are its own). */
        LiveRecordFields *out = ret;
        *out = (LiveRecordFields){};
        size_t slot = 0;
        put_str(out, "t");
        put_str(out, type_names[rec->type]);
        if (has_data(rec->type)) {
                put_str(out, "d");
                put(out, rec->len > 0 ? (const char *) rec->data : "", rec->len);
        } else if (rec->type == LIVE_RECORD_SIGNAL || rec->type == LIVE_RECORD_ACK)
                put_number(out, &slot, "d", (int64_t) rec->number);
        else if (rec->type == LIVE_RECORD_EVENT) {
                const LiveEvent *e = &rec->event;
                put_number(out, &slot, "k", e->kind);
                put_number(out, &slot, "r", e->run);
                put_number(out, &slot, "x", e->exit_code);
                put_number(out, &slot, "s", e->signal);
                put_str(out, "st");
                put_str(out, e->status);
                put_str(out, "m");
                put_str(out, e->message);
        }
        return 0;
}

/* A decimal in [min, max] (an optional '-' first), exactly len bytes. */
static int parse_number(const char *s, size_t len, int64_t min, int64_t max, int64_t *ret) {
        char buf[24];
        bool neg = len > 0 && s[0] == '-';
        if (len - neg == 0 || len >= sizeof buf || memchr(s, '\0', len))
                return -EBADMSG;
        memcpy(buf, s + neg, len - neg);
        buf[len - neg] = '\0';
        uint64_t v;
        if (parse_u64(buf, &v) < 0 || v > (uint64_t) INT64_MAX)
                return -EBADMSG;
        int64_t x = neg ? -(int64_t) v : (int64_t) v;
        if (x < min || x > max)
                return -EBADMSG;
        *ret = x;
        return 0;
}

/* A string field into buf (size bytes with its NUL), without NULs of its own. */
static int parse_string(const char *s, size_t len, char *buf, size_t size) {
        if (len >= size || memchr(s, '\0', len))
                return -EBADMSG;
        memcpy(buf, s, len);
        buf[len] = '\0';
        return 0;
}

int live_record_parse(size_t n, const char *const *f, const size_t *len, LiveRecord *ret) {
        if (n < 2 || n % 2 != 0 || n > LIVE_RECORD_MAX_FIELDS || len[0] != 1 || f[0][0] != 't')
                return -EBADMSG;
        LiveRecord rec = {.type = _LIVE_RECORD_TYPE_MAX};
        for (size_t t = 0; t < _LIVE_RECORD_TYPE_MAX; t++)
                if (len[1] == strlen(type_names[t]) && memcmp(f[1], type_names[t], len[1]) == 0)
                        rec.type = (LiveRecordType) t;
        if (rec.type == _LIVE_RECORD_TYPE_MAX)
                return -EBADMSG;
        const char *val[_F_MAX] = {};
        size_t vlen[_F_MAX] = {};
        unsigned seen = 0;
        for (size_t i = 2; i < n; i += 2) {
                size_t k = 0;
                while (k < _F_MAX &&
                        !(len[i] == strlen(field_names[k]) && memcmp(f[i], field_names[k], len[i]) == 0))
                        k++;
                if (k == _F_MAX || (seen & (1u << k)) || !(type_fields[rec.type] & (1u << k)))
                        return -EBADMSG;
                seen |= 1u << k;
                val[k] = f[i + 1];
                vlen[k] = len[i + 1];
        }
        if (seen != type_fields[rec.type])
                return -EBADMSG;
        int64_t v;
        LiveEvent *e = &rec.event;
        switch (rec.type) {
        case LIVE_RECORD_STDIN:
        case LIVE_RECORD_STDOUT:
        case LIVE_RECORD_STDERR:
                if (vlen[F_D] > LIVE_RECORD_MAX_DATA)
                        return -EBADMSG;
                rec.data = (const uint8_t *) val[F_D];
                rec.len = vlen[F_D];
                break;
        case LIVE_RECORD_SIGNAL:
        case LIVE_RECORD_ACK:
                if (parse_number(val[F_D], vlen[F_D], rec.type == LIVE_RECORD_SIGNAL ? 1 : 0,
                            rec.type == LIVE_RECORD_SIGNAL ? MAX_SIGNAL : INT64_MAX, &v) < 0)
                        return -EBADMSG;
                rec.number = (uint64_t) v;
                break;
        case LIVE_RECORD_EVENT:
                if (parse_number(val[F_K], vlen[F_K], 0, _LIVE_EVENT_KIND_MAX - 1, &v) < 0)
                        return -EBADMSG;
                e->kind = (uint32_t) v;
                if (parse_number(val[F_R], vlen[F_R], 0, 1, &v) < 0)
                        return -EBADMSG;
                e->run = (uint32_t) v;
                if (parse_number(val[F_X], vlen[F_X], INT32_MIN, INT32_MAX, &v) < 0)
                        return -EBADMSG;
                e->exit_code = (int32_t) v;
                if (parse_number(val[F_S], vlen[F_S], 0, MAX_SIGNAL, &v) < 0)
                        return -EBADMSG;
                e->signal = (int32_t) v;
                if (parse_string(val[F_ST], vlen[F_ST], e->status, sizeof e->status) < 0 ||
                        parse_string(val[F_M], vlen[F_M], e->message, sizeof e->message) < 0)
                        return -EBADMSG;
                break;
        default:
                break;
        }
        *ret = rec;
        return 0;
}
