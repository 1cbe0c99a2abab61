/* SPDX-License-Identifier: MIT */
/* Fuzz target for the records of interactive runs in Redis (src/model/live-record.c): a
 * stream entry's fields come from a Redis that other programs share. The input is the
 * entry's fields separated by '\n' (a field of a real entry may hold any byte; this only
 * keeps the corpus readable):
 *   - parsing gives a record or -EBADMSG, and never reads past a field;
 *   - a record parsed is one the encoder accepts, and encoding it then parsing that gives
 *     the same record. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "model/live-record.h"

#define CHECK(expr) \
        do { \
                if (!(expr)) { \
                        fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #expr); \
                        abort(); \
                } \
        } while (0)

/* More fields than a record has, so that the count is checked too. */
#define MAX_FIELDS (LIVE_RECORD_MAX_FIELDS + 4)

static bool same(const LiveRecord *a, const LiveRecord *b) {
        if (a->type != b->type || a->number != b->number || a->len != b->len ||
                (a->len > 0 && memcmp(a->data, b->data, a->len) != 0))
                return false;
        if (a->type != LIVE_RECORD_EVENT)
                return true;
        const LiveEvent *x = &a->event, *y = &b->event;
        return x->kind == y->kind && x->run == y->run && x->exit_code == y->exit_code &&
               x->signal == y->signal && strcmp(x->status, y->status) == 0 &&
               strcmp(x->message, y->message) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        char *f[MAX_FIELDS];
        size_t len[MAX_FIELDS], n = 0;
        for (size_t off = 0; n < MAX_FIELDS && off <= size; n++) {
                const uint8_t *nl = memchr(data + off, '\n', size - off);
                size_t l = nl ? (size_t) (nl - (data + off)) : size - off;
                f[n] = malloc(l + 1); /* exactly its bytes and a NUL: ASan sees an overread */
                CHECK(f[n]);
                memcpy(f[n], data + off, l);
                f[n][l] = '\0';
                len[n] = l;
                off += l + 1;
        }
        LiveRecord rec;
        int r = live_record_parse(n, (const char *const *) f, len, &rec);
        CHECK(r == 0 || r == -EBADMSG);
        if (r == 0) {
                LiveRecordFields out;
                CHECK(live_record_fields(&rec, &out) == 0);
                LiveRecord again;
                CHECK(live_record_parse(out.n, out.f, out.len, &again) == 0);
                CHECK(same(&rec, &again));
        }
        for (size_t i = 0; i < n; i++)
                free(f[i]);
        return 0;
}
