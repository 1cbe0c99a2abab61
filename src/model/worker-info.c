/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/macro.h"
#include "base/parse-util.h"
#include "model/worker-info.h"

const uint64_t worker_duration_bounds_usec[WORKER_DURATION_BUCKETS] = {
        5000,
        10000,
        25000,
        50000,
        100000,
        250000,
        500000,
        1000000,
        2500000,
        5000000,
        10000000,
        30000000,
};

void worker_stats_add(WorkerStats *a, const WorkerStats *b) {
        a->threads += b->threads;
        a->busy += b->busy;
        a->judged += b->judged;
        a->failed += b->failed;
        a->run_usec_total += b->run_usec_total;
        for (size_t i = 0; i < _STATUS_MAX; i++)
                a->by_status[i] += b->by_status[i];
        for (size_t i = 0; i <= WORKER_DURATION_BUCKETS; i++)
                a->duration_buckets[i] += b->duration_buckets[i];
}

void worker_info_done(WorkerInfo *w) {
        if (!w)
                return;
        for (size_t i = 0; i < w->n_languages; i++)
                free(w->languages[i].name);
        free(w->languages);
        free(w->version);
        free(w->hostname);
        *w = (WorkerInfo){};
}

WorkerInfo *worker_info_list_free(WorkerInfo *list, size_t n) {
        for (size_t i = 0; list && i < n; i++)
                worker_info_done(&list[i]);
        free(list);
        return NULL;
}

static bool one_line(const char *s) {
        return !s || !strchr(s, '\n');
}

int worker_info_format(const WorkerInfo *w, char **ret) {
        if (!one_line(w->version) || !one_line(w->hostname))
                return -EINVAL;
        for (size_t i = 0; i < w->n_languages; i++)
                if (w->languages[i].name && strpbrk(w->languages[i].name, "\t\n"))
                        return -EINVAL;
        _cleanup_free_ char *stats = NULL;
        int r = worker_stats_format(&w->stats, &stats);
        if (r < 0)
                return r;
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "version=%s\nhostname=%s\nstarted_at=%" PRId64 "\nstats=%s\n",
                w->version ? w->version : "", w->hostname ? w->hostname : "", w->started_at_usec, stats);
        for (size_t i = 0; i < w->n_languages; i++)
                fprintf(f, "lang=%d\t%s\n", w->languages[i].id,
                        w->languages[i].name ? w->languages[i].name : "");
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

static int parse_language(const char *v, size_t len, WorkerInfo *w) {
        const char *tab = memchr(v, '\t', len);
        if (!tab)
                return -EBADMSG;
        char id_s[16];
        size_t il = (size_t) (tab - v);
        uint64_t id;
        if (il == 0 || il >= sizeof id_s)
                return -EBADMSG;
        memcpy(id_s, v, il);
        id_s[il] = '\0';
        if (parse_u64_max(id_s, INT32_MAX, &id) < 0)
                return -EBADMSG;
        WorkerLanguage *l = reallocarray(w->languages, w->n_languages + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        w->languages = l;
        char *name = strndup(tab + 1, len - il - 1);
        if (!name)
                return -ENOMEM;
        l[w->n_languages++] = (WorkerLanguage){(int) id, name};
        return 0;
}

static int parse_field(const char *key, size_t kl, const char *v, size_t vl, WorkerInfo *w) {
#define IS(k) (kl == strlen(k) && memcmp(key, k, kl) == 0)
        if (IS("lang"))
                return parse_language(v, vl, w);
        _cleanup_free_ char *val = strndup(v, vl);
        if (!val)
                return -ENOMEM;
        if (IS("version") || IS("hostname")) {
                char **dst = IS("version") ? &w->version : &w->hostname;
                free(*dst);
                *dst = TAKE_PTR(val);
                return 0;
        }
        if (IS("started_at")) {
                uint64_t t;
                if (parse_u64_max(val, INT64_MAX, &t) < 0)
                        return -EBADMSG;
                w->started_at_usec = (int64_t) t;
                return 0;
        }
        if (IS("stats"))
                return worker_stats_parse(val, &w->stats);
        return 0;
#undef IS
}

int worker_info_parse(const char *text, WorkerInfo *ret) {
        WorkerInfo w = {};
        int r = 0;
        for (const char *p = text ? text : ""; *p && r >= 0;) {
                size_t ll = strcspn(p, "\n");
                const char *eq = memchr(p, '=', ll);
                if (!eq)
                        r = -EBADMSG;
                else
                        r = parse_field(p, (size_t) (eq - p), eq + 1, ll - (size_t) (eq + 1 - p), &w);
                p += ll + (p[ll] == '\n');
        }
        if (r < 0) {
                worker_info_done(&w);
                return r;
        }
        memcpy(w.id, ret->id, sizeof w.id);
        w.heartbeat_at_usec = ret->heartbeat_at_usec;
        worker_info_done(ret);
        *ret = w;
        return 0;
}

int worker_stats_format(const WorkerStats *s, char **ret) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return -ENOMEM;
        fprintf(f, "threads=%u busy=%u judged=%" PRIu64 " failed=%" PRIu64 " run_usec=%" PRIu64, s->threads,
                s->busy, s->judged, s->failed, s->run_usec_total);
        for (size_t i = 0; i < _STATUS_MAX; i++)
                if (s->by_status[i])
                        fprintf(f, " s%zu=%" PRIu64, i, s->by_status[i]);
        for (size_t i = 0; i <= WORKER_DURATION_BUCKETS; i++)
                fprintf(f, " b%zu=%" PRIu64, i, s->duration_buckets[i]);
        if (fclose(f) != 0) {
                free(buf);
                return -ENOMEM;
        }
        *ret = buf;
        return 0;
}

/* One "key=value" word: the counter it names, or NULL for a key this version does not
 * know (skipped: a newer worker may report more). */
static uint64_t *stat_slot(WorkerStats *s, const char *key, size_t klen, uint64_t *scratch) {
        static const struct {
                const char *key;
                size_t offset;
        } plain[] = {
                {"judged", offsetof(WorkerStats, judged)},
                {"failed", offsetof(WorkerStats, failed)},
                {"run_usec", offsetof(WorkerStats, run_usec_total)},
        };
        for (size_t i = 0; i < ELEMENTSOF(plain); i++)
                if (strlen(plain[i].key) == klen && memcmp(plain[i].key, key, klen) == 0)
                        return (uint64_t *) ((char *) s + plain[i].offset);
        if (klen >= 2 && (key[0] == 's' || key[0] == 'b')) {
                char idx[8];
                uint64_t k;
                if (klen - 1 >= sizeof idx)
                        return NULL;
                memcpy(idx, key + 1, klen - 1);
                idx[klen - 1] = '\0';
                if (parse_u64(idx, &k) < 0)
                        return NULL;
                if (key[0] == 's' && k < _STATUS_MAX)
                        return &s->by_status[k];
                if (key[0] == 'b' && k <= WORKER_DURATION_BUCKETS)
                        return &s->duration_buckets[k];
                return NULL;
        }
        return scratch; /* threads, busy and unknown keys: parsed below or ignored */
}

int worker_stats_parse(const char *text, WorkerStats *ret) {
        WorkerStats s = {};
        for (const char *p = text ? text : ""; *p;) {
                p += strspn(p, " ");
                size_t wl = strcspn(p, " ");
                if (wl == 0)
                        break;
                const char *eq = memchr(p, '=', wl);
                if (!eq)
                        return -EBADMSG;
                char val[24];
                size_t vl = wl - (size_t) (eq + 1 - p), kl = (size_t) (eq - p);
                uint64_t v, scratch = 0;
                if (vl == 0 || vl >= sizeof val)
                        return -EBADMSG;
                memcpy(val, eq + 1, vl);
                val[vl] = '\0';
                if (parse_u64(val, &v) < 0)
                        return -EBADMSG;
                if (kl == 7 && memcmp(p, "threads", 7) == 0)
                        s.threads = v > UINT32_MAX ? UINT32_MAX : (unsigned) v;
                else if (kl == 4 && memcmp(p, "busy", 4) == 0)
                        s.busy = v > UINT32_MAX ? UINT32_MAX : (unsigned) v;
                else {
                        uint64_t *slot = stat_slot(&s, p, kl, &scratch);
                        if (slot)
                                *slot = v;
                }
                p += wl;
        }
        *ret = s;
        return 0;
}
