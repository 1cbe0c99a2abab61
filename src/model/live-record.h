/* SPDX-License-Identifier: MIT */
#pragma once

/* The records of an interactive run's streams in Redis (live/live-redis.h): what the API
 * side and the worker side of a live channel send each other, as a stream entry's fields
 * ("t" the type, then the type's own fields). Decoding treats every byte as hostile:
 * Redis is shared, and a record is parsed before anything acts on it. */

#include <stddef.h>
#include <stdint.h>

#include "model/live.h"

typedef enum LiveRecordType {
        /* the API side to the worker side */
        LIVE_RECORD_STDIN, /* "in": d = bytes for the program's stdin */
        LIVE_RECORD_EOF, /* "eof": the program's stdin ends */
        LIVE_RECORD_SIGNAL, /* "sig": d = a signal number (1..64) for the sandbox */
        /* the worker side to the API side */
        LIVE_RECORD_STDOUT, /* "out": d = bytes the program wrote */
        LIVE_RECORD_STDERR, /* "err": d = bytes */
        LIVE_RECORD_EVENT, /* "ev": k, r, x, s, st, m = a LiveEvent's fields */
        LIVE_RECORD_ACK, /* "ack": d = how much of the API's records the worker side used */
        _LIVE_RECORD_TYPE_MAX,
} LiveRecordType;

/* The most data bytes one record carries. */
#define LIVE_RECORD_MAX_DATA 65536
/* The most fields (names and values) of one record. */
#define LIVE_RECORD_MAX_FIELDS 14

typedef struct LiveRecord {
        LiveRecordType type;
        const uint8_t *data; /* STDIN, STDOUT, STDERR: borrowed; len <= LIVE_RECORD_MAX_DATA */
        size_t len;
        uint64_t number; /* SIGNAL: the signal; ACK: the units used so far */
        LiveEvent event; /* EVENT */
} LiveRecord;

/* A record as an XADD's field arguments: f[i] (len[i] bytes) for i < n, pointing into the
 * record (it must outlive them) and into numbers. */
typedef struct LiveRecordFields {
        size_t n;
        const char *f[LIVE_RECORD_MAX_FIELDS];
        size_t len[LIVE_RECORD_MAX_FIELDS];
        char numbers[4][24];
} LiveRecordFields;

/* Encode rec: 0, or -EINVAL when it is not a valid record (an unknown type, too much data,
 * a signal out of range, an event live_event_recv() would refuse). */
int live_record_fields(const LiveRecord *rec, LiveRecordFields *ret);
/* Decode a stream entry's fields (n names and values; each f[i] has len[i] bytes and a NUL
 * after them): 0, or -EBADMSG for anything but a record live_record_fields() makes (an
 * unknown type or field, a field twice or missing, a bad number, too much data). ret->data
 * points into f. */
int live_record_parse(size_t n, const char *const *f, const size_t *len, LiveRecord *ret);
