/* SPDX-License-Identifier: MIT */
/* The records of interactive runs in Redis: each type survives its trip through the fields,
 * and every malformed entry (a shared Redis is not trusted) is refused. */
#include <errno.h>
#include <string.h>

#include "model/live-record.h"
#include "tests.h"

/* Decode what live_record_fields() made. */
static int roundtrip(const LiveRecord *in, LiveRecord *out) {
        LiveRecordFields f;
        int r = live_record_fields(in, &f);
        if (r < 0)
                return r;
        return live_record_parse(f.n, f.f, f.len, out);
}

static void test_roundtrip(void) {
        LiveRecord out;
        const uint8_t bin[] = {'a', 0, 0xff, '\n'};
        for (LiveRecordType t = LIVE_RECORD_STDIN; t <= LIVE_RECORD_STDERR; t++) {
                if (t == LIVE_RECORD_EOF || t == LIVE_RECORD_SIGNAL)
                        continue;
                ASSERT_EQ(roundtrip(&(LiveRecord){.type = t, .data = bin, .len = sizeof bin}, &out), 0);
                ASSERT_TRUE(
                        out.type == t && out.len == sizeof bin && memcmp(out.data, bin, sizeof bin) == 0);
        }
        ASSERT_EQ(roundtrip(&(LiveRecord){.type = LIVE_RECORD_STDOUT, .len = 0}, &out), 0);
        ASSERT_EQ(out.len, 0u);
        ASSERT_EQ(roundtrip(&(LiveRecord){.type = LIVE_RECORD_EOF}, &out), 0);
        ASSERT_EQ(out.type, LIVE_RECORD_EOF);
        ASSERT_EQ(roundtrip(&(LiveRecord){.type = LIVE_RECORD_SIGNAL, .number = 9}, &out), 0);
        ASSERT_TRUE(out.type == LIVE_RECORD_SIGNAL && out.number == 9);
        ASSERT_EQ(roundtrip(&(LiveRecord){.type = LIVE_RECORD_ACK, .number = 1234567890123}, &out), 0);
        ASSERT_TRUE(out.type == LIVE_RECORD_ACK && out.number == 1234567890123);
        LiveRecord ev = {.type = LIVE_RECORD_EVENT,
                .event = {.kind = LIVE_EXIT, .run = 1, .exit_code = -1, .signal = 9}};
        memcpy(ev.event.status, "SG", 3);
        memcpy(ev.event.message, "killed by a signal", 19);
        ASSERT_EQ(roundtrip(&ev, &out), 0);
        ASSERT_TRUE(out.type == LIVE_RECORD_EVENT && out.event.kind == LIVE_EXIT && out.event.run == 1 &&
                    out.event.exit_code == -1 && out.event.signal == 9 &&
                    strcmp(out.event.status, "SG") == 0 &&
                    strcmp(out.event.message, "killed by a signal") == 0);
        /* Records that are not to be sent. */
        LiveRecordFields f;
        ASSERT_EQ(live_record_fields(&(LiveRecord){.type = LIVE_RECORD_SIGNAL, .number = 0}, &f), -EINVAL);
        ASSERT_EQ(live_record_fields(&(LiveRecord){.type = LIVE_RECORD_SIGNAL, .number = 65}, &f), -EINVAL);
        ASSERT_EQ(live_record_fields(&(LiveRecord){.type = _LIVE_RECORD_TYPE_MAX}, &f), -EINVAL);
        ASSERT_EQ(live_record_fields(
                          &(LiveRecord){
                                  .type = LIVE_RECORD_STDIN, .data = bin, .len = LIVE_RECORD_MAX_DATA + 1},
                          &f),
                -EINVAL);
        ev.event.kind = _LIVE_EVENT_KIND_MAX;
        ASSERT_EQ(live_record_fields(&ev, &f), -EINVAL);
}

/* Parse n NUL-terminated strings as an entry's fields. */
static int parse(size_t n, const char *const *f) {
        size_t len[LIVE_RECORD_MAX_FIELDS + 2];
        for (size_t i = 0; i < n; i++)
                len[i] = strlen(f[i]);
        LiveRecord out;
        return live_record_parse(n, f, len, &out);
}

#define ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))
#define P(...) \
        parse(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *), (const char *[]){__VA_ARGS__})
#define EV(k, r, x, s, st, m) P("t", "ev", "k", k, "r", r, "x", x, "s", s, "st", st, "m", m)

static void test_hostile(void) {
        ASSERT_EQ(P("t", "in", "d", "x"), 0);
        ASSERT_EQ(P("t", "nope", "d", "x"), -EBADMSG); /* unknown type */
        ASSERT_EQ(P("d", "x", "t", "in"), -EBADMSG); /* the type first */
        ASSERT_EQ(P("t", "in"), -EBADMSG); /* its data missing */
        ASSERT_EQ(P("t", "in", "d", "x", "d", "y"), -EBADMSG); /* twice */
        ASSERT_EQ(P("t", "eof", "d", "x"), -EBADMSG); /* a field it does not have */
        ASSERT_EQ(P("t", "in", "d"), -EBADMSG); /* a name without a value */
        ASSERT_EQ(parse(0, NULL), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", "9"), 0);
        ASSERT_EQ(P("t", "sig", "d", "0"), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", "65"), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", "9x"), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", ""), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", "-"), -EBADMSG);
        ASSERT_EQ(P("t", "sig", "d", "--9"), -EBADMSG);
        ASSERT_EQ(P("t", "ack", "d", "-1"), -EBADMSG);
        ASSERT_EQ(P("t", "ack", "d", "99999999999999999999"), -EBADMSG); /* overflow */
        ASSERT_EQ(EV("1", "1", "-1", "0", "", ""), 0);
        ASSERT_EQ(EV("3", "1", "-1", "0", "", ""), -EBADMSG); /* kind */
        ASSERT_EQ(EV("1", "2", "-1", "0", "", ""), -EBADMSG); /* run */
        ASSERT_EQ(EV("1", "1", "2147483648", "0", "", ""), -EBADMSG); /* exit code */
        ASSERT_EQ(EV("1", "1", "-2147483648", "0", "", ""), 0);
        ASSERT_EQ(EV("1", "1", "0", "-1", "", ""), -EBADMSG); /* signal */
        ASSERT_EQ(EV("1", "1", "0", "0", "RUNS", ""), -EBADMSG); /* status longer than 3 */
        ASSERT_EQ(EV("1", "1", "0", "0", "RUN", ""), 0);
        char longm[sizeof(((LiveEvent *) 0)->message) + 1];
        memset(longm, 'm', sizeof longm - 1);
        longm[sizeof longm - 1] = '\0';
        ASSERT_EQ(EV("1", "1", "0", "0", "", longm), -EBADMSG);
        longm[sizeof longm - 2] = '\0';
        ASSERT_EQ(EV("1", "1", "0", "0", "", longm), 0);
        /* A NUL inside a string field (as Redis's binary-safe strings allow). */
        const char *f[] = {"t", "ev", "k", "1", "r", "1", "x", "0", "s", "0", "st", "", "m", "a\0b"};
        size_t len[ELEMENTS(f)];
        for (size_t i = 0; i < ELEMENTS(f); i++)
                len[i] = strlen(f[i]);
        len[13] = 3;
        LiveRecord out;
        ASSERT_EQ(live_record_parse(ELEMENTS(f), f, len, &out), -EBADMSG);
        /* More data than a record carries. */
        static char big[LIVE_RECORD_MAX_DATA + 2];
        memset(big, 'x', sizeof big - 1);
        ASSERT_EQ(P("t", "out", "d", big), -EBADMSG);
        big[LIVE_RECORD_MAX_DATA] = '\0';
        ASSERT_EQ(P("t", "out", "d", big), 0);
}

int main(void) {
        test_roundtrip();
        test_hostile();
        return 0;
}
