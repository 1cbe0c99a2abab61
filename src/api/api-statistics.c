/* SPDX-License-Identifier: MIT */
/* GET /statistics: Judge0's usage statistics (submissions in total, today and on each of
 * the last 30 days, by language, by status, and the size of the database), computed by
 * the store and kept for API_STATISTICS_CACHE_USEC; invalidate_cache=true computes them
 * again. Like Judge0, it needs authentication only. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/api-internal.h"
#include "base/json-writer.h"
#include "base/macro.h"
#include "base/time-util.h"

#define API_STATISTICS_CACHE_USEC (UINT64_C(10) * 60 * 1000000)

/* As Judge0 renders times: ISO-8601, UTC, milliseconds, "Z". */
static void write_time(FILE *f, int64_t usec) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;
        if (!gmtime_r(&t, &tm)) {
                fputs("null", f);
                return;
        }
        fprintf(f, "\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                tm.tm_hour, tm.tm_min, tm.tm_sec, (int) (usec % 1000000 / 1000));
}

/* PostgreSQL's pg_size_pretty(): "123 bytes", "15 kB", "8 MB"... rounded half up, a unit
 * while the number stays below 10240. */
static void write_size_pretty(FILE *f, uint64_t size) {
        static const char *const units[] = {"kB", "MB", "GB", "TB", "PB"};
        const uint64_t limit = 10 * 1024, limit2 = limit * 2 - 1;
        if (size < limit) {
                fprintf(f, "\"%" PRIu64 " bytes\"", size);
                return;
        }
        size >>= 9; /* one more bit, for the rounding */
        size_t u = 0;
        while (size >= limit2 && u + 1 < ELEMENTSOF(units)) {
                size >>= 10;
                u++;
        }
        fprintf(f, "\"%" PRIu64 " %s\"", (size + 1) / 2, units[u]);
}

static const char *language_name(Api *a, int64_t id) {
        const LanguageView *v = api_languages(a);
        for (size_t i = 0; i < v->n; i++)
                if (v->langs[i].id == id)
                        return v->langs[i].name;
        return NULL;
}

/* The JSON of the statistics at now_usec (CLOCK_REALTIME). */
static int statistics_encode(Api *a, int64_t now_usec, char **ret) {
        _cleanup_(store_statistics_done) StoreStatistics st = {};
        int64_t today = now_usec - now_usec % STORE_DAY_USEC;
        int64_t since = today - (STORE_STATISTICS_DAYS - 1) * STORE_DAY_USEC;
        int r;

        r = store_statistics(a->store, since, &st);
        if (r < 0)
                return r;

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fputs("{\"created_at\":", f);
        write_time(f, now_usec);
        fputs(",\"cached_until\":", f);
        write_time(f, now_usec + (int64_t) API_STATISTICS_CACHE_USEC);
        fprintf(f, ",\"submissions\":{\"total\":%" PRIu64 ",\"today\":%" PRIu64 ",\"last_30_days\":{",
                st.total, st.by_day[STORE_STATISTICS_DAYS - 1]);
        /* The 30 days before today, newest first: Judge0 iterates (today-30...today), a
         * range that leaves today out (its count is "today" only). */
        const size_t last = STORE_STATISTICS_DAYS - 1;
        for (size_t i = last; i-- > 0;) {
                time_t t = (time_t) ((since + (int64_t) i * STORE_DAY_USEC) / 1000000);
                struct tm tm;
                if (!gmtime_r(&t, &tm))
                        continue;
                fprintf(f, "%s\"%04d-%02d-%02d\":%" PRIu64, i + 1 < last ? "," : "", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, st.by_day[i]);
        }
        fputs("}},\"languages\":[", f);
        for (size_t i = 0; i < st.n_by_language; i++) {
                fprintf(f, "%s{\"language\":{\"id\":%" PRId64 ",\"name\":", i > 0 ? "," : "",
                        st.by_language[i].key);
                json_write_cstring(f, language_name(a, st.by_language[i].key));
                fprintf(f, "},\"count\":%" PRIu64 "}", st.by_language[i].count);
        }
        fputs("],\"statuses\":[", f);
        /* most counted first, then by id */
        bool done[STORE_STATUS_SLOTS] = {};
        for (bool first = true;;) {
                size_t best = 0;
                for (size_t id = 1; id < STORE_STATUS_SLOTS; id++)
                        if (!done[id] && st.by_status[id] > 0 &&
                                (best == 0 || st.by_status[id] > st.by_status[best]))
                                best = id;
                if (best == 0)
                        break;
                done[best] = true;
                fprintf(f, "%s{\"status\":{\"id\":%zu,\"name\":", first ? "" : ",", best);
                json_write_cstring(f, status_description((int) best));
                fprintf(f, "},\"count\":%" PRIu64 "}", st.by_status[best]);
                first = false;
        }
        fprintf(f, "],\"database\":{\"size_pretty\":");
        write_size_pretty(f, st.size_bytes);
        fprintf(f, ",\"size_in_bytes\":%" PRIu64 "}}", st.size_bytes);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

void api_statistics(HttpRequest *req, const char *const *params, void *userdata) {
        Api *a = userdata;
        if (!api_guard(a, req, false))
                return;
        int64_t now = (int64_t) now_usec(CLOCK_REALTIME);
        bool invalidate = api_query_true(req, "invalidate_cache");
        char *json = NULL;
        int r = 0;

        pthread_mutex_lock(&a->stats_lock);
        if (invalidate || !a->stats_json || now >= a->stats_until_usec || now < a->stats_created_usec) {
                char *fresh = NULL;
                r = statistics_encode(a, now, &fresh);
                if (r >= 0) {
                        free(a->stats_json);
                        a->stats_json = fresh;
                        a->stats_created_usec = now;
                        a->stats_until_usec = now + (int64_t) API_STATISTICS_CACHE_USEC;
                }
        }
        if (r >= 0) {
                json = strdup(a->stats_json);
                if (!json)
                        r = -ENOMEM;
        }
        pthread_mutex_unlock(&a->stats_lock);
        if (r < 0)
                api_reply_internal(req, r);
        else
                http_reply_json(req, 200, json);
}
